//! TAXII 2.1 for Passerelle: the resources, the HTTP routes and handlers,
//! authentication and permissions, errors as TAXII error messages.
//!
//! [`server::router`] builds the axum router over an [`AppState`] (a store, a
//! clock, [`Settings`] and, with partners, a [`partner::PartnerGate`]);
//! [`server::serve`] runs it until shutdown. Each endpoint's handlers live in
//! the module named after its resource.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod api_root;
pub mod auth;
pub mod client;
pub mod collections;
pub mod discovery;
pub mod error;
pub mod filters;
pub mod manifest;
pub mod media;
pub mod objects;
pub mod pages;
pub mod partner;
pub mod request_id;
pub mod resources;
pub mod server;
pub mod state;
pub mod status;
pub mod versions;

pub use error::TaxiiError;
pub use server::{router, serve};
pub use state::{AppState, Settings};
