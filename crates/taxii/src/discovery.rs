//! Server Discovery (`/taxii2/`, §4.1): the server's name and its one API root.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use crate::auth;
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint};
use crate::media::{self, Accepts};
use crate::pages;
use crate::resources::Discovery;
use crate::state::AppState;

/// `GET /taxii2/`.
pub async fn get(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    auth::authenticate(&state, &headers).await?;
    filters::parse(uri.query(), Endpoint::Plain)?;
    let settings = &state.settings;
    // A relative URL (§4.1.1): right behind any proxy or host name.
    let root = format!("/{}/", settings.api_root);
    let discovery = Discovery {
        title: settings.title.clone(),
        description: settings.description.clone(),
        contact: settings.contact.clone(),
        default: Some(root.clone()),
        api_roots: vec![root],
    };
    Ok(pages::taxii_json(StatusCode::OK, &discovery))
}
