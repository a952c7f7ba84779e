//! TAXII 2.1 over real HTTP: a node started in-process on SQLite, driven with
//! reqwest. One test binary, one module per area.

mod common;

mod auth;
mod bad_input;
mod endpoints;
mod objects;
mod paging;
mod partner;
mod realistic;
