//! Federation between Passerelle nodes: the node's identity and signing key
//! ([`identity`]), signatures carried in a STIX property extension
//! ([`signature`]), the partners and sharing agreements of the configuration
//! ([`agreement`]) and the one egress decision every outgoing object goes
//! through ([`egress`]).
//!
//! Sync workers, offline files, the ledger glue and the preview are built on
//! top of these.

pub mod agreement;
pub mod egress;
pub mod identity;
pub mod origin;
pub mod signature;

pub use agreement::{Agreement, ConfigError};
pub use egress::{Decision, EgressContext, EgressItem, EndsLookup, Rule, decide};
pub use identity::{NodeIdentity, PublicKey};
pub use origin::{Channel, Origin, SignatureCheck};
