//! Federation between Passerelle nodes: the node's identity and signing key
//! ([`identity`]), signatures carried in a STIX property extension
//! ([`signature`]), the partners and sharing agreements of the configuration
//! ([`agreement`]) and the one egress decision every outgoing object goes
//! through ([`egress`]).
//!
//! [`Federation`] ([`node`]) ties them to the store: the one path by which objects
//! leave ([`disclosure`], which writes the ledger) and the checks on what arrives
//! ([`receipt`]). [`gate`] puts both behind the TAXII server's partner accounts;
//! air-gapped partners exchange signed files ([`offline`]); [`sync`] runs the pull
//! and push exchanges with partners over TAXII; [`publish`] stores what every
//! partner needs to read our signatures (the signature extension-definition and the
//! identities it names) where partners receive from us.

pub mod agreement;
pub mod disclosure;
pub mod egress;
pub mod gate;
pub mod identity;
pub mod node;
pub mod offline;
pub mod origin;
pub mod parallel;
pub mod publish;
pub mod receipt;
pub mod signature;
pub mod sync;

pub use agreement::{Agreement, ConfigError};
pub use disclosure::Outcome;
pub use egress::{Decision, EgressContext, EgressItem, EndsLookup, Rule, decide};
pub use identity::{NodeIdentity, PublicKey};
pub use node::{Federation, FederationError};
pub use origin::{Channel, Origin, SignatureCheck};
pub use receipt::Verdict;
