//! What every handler shares: the store, the clock, the [`Settings`] of the
//! server (discovery information, the API root and its limits) and, on a node
//! with partners, the [`PartnerGate`] that enforces their agreements.

use std::sync::Arc;

use store::{Clock, Store};

use crate::partner::PartnerGate;

/// How the TAXII server presents itself and what it accepts. The binary fills
/// this from its configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The server's name in discovery (§4.1.1 `title`).
    pub title: String,
    /// Its description in discovery.
    pub description: Option<String>,
    /// Who to contact, in discovery.
    pub contact: Option<String>,
    /// The name of the single API root: its URL is `/{api_root}/`.
    pub api_root: String,
    /// The API root's title (§4.2.1).
    pub api_root_title: String,
    /// The API root's description.
    pub api_root_description: Option<String>,
    /// The largest request body accepted, in bytes; advertised and enforced with 413.
    pub max_content_length: u64,
    /// Records per page when the client gives no `limit`.
    pub page_size_default: u64,
    /// The most records a page holds, whatever `limit` the client asks for.
    pub page_size_max: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            title: "Passerelle".to_owned(),
            description: None,
            contact: None,
            api_root: "api".to_owned(),
            api_root_title: "Passerelle".to_owned(),
            api_root_description: None,
            max_content_length: 10 * 1024 * 1024,
            page_size_default: 1000,
            page_size_max: 10_000,
        }
    }
}

/// The state handed to every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The source of "now" (status request timestamps).
    pub clock: Arc<dyn Clock>,
    /// How the server presents itself.
    pub settings: Arc<Settings>,
    /// HTTP Basic credentials verified recently (see [`crate::auth::basic_cache`]).
    pub basic_cache: Arc<crate::auth::basic_cache::BasicCache>,
    /// The sharing agreements, for accounts tied to a partner; without it such
    /// accounts are served nothing.
    pub partner_gate: Option<Arc<dyn PartnerGate>>,
}

impl AppState {
    /// State over a store, a clock and settings.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: Settings) -> AppState {
        AppState {
            store,
            clock,
            settings: Arc::new(settings),
            basic_cache: Arc::default(),
            partner_gate: None,
        }
    }

    /// The same state with `gate` deciding for partner accounts.
    pub fn with_partner_gate(mut self, gate: Arc<dyn PartnerGate>) -> AppState {
        self.partner_gate = Some(gate);
        self
    }

    /// The page size for a request: the client's `limit` (if any) or the
    /// default, never more than the maximum.
    pub fn page_size(&self, limit: Option<u64>) -> usize {
        let max = self.settings.page_size_max.max(1);
        let size = limit
            .unwrap_or(self.settings.page_size_default)
            .clamp(1, max);
        usize::try_from(size).unwrap_or(usize::MAX)
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .field("partner_gate", &self.partner_gate.is_some())
            .finish_non_exhaustive()
    }
}
