//! TAXII 2.1 for Passerelle: the resources, the HTTP routes and handlers,
//! authentication and permissions, errors as TAXII error messages.
