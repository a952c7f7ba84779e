//! TAXII 2.1 for Passerelle: the resources, the HTTP routes and handlers,
//! authentication and permissions, errors as TAXII error messages.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod error;
pub mod filters;
pub mod media;
pub mod request_id;
pub mod resources;

pub use error::TaxiiError;
