//! Enumerations and open vocabularies of STIX 2.1 §10.
