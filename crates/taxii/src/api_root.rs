//! Get API Root Information (`{api-root}/`, §4.2): title, versions and the
//! `max_content_length` that Add Objects enforces.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use crate::auth;
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint};
use crate::media::{self, Accepts};
use crate::pages;
use crate::resources::{ApiRoot, TAXII_MEDIA_TYPE};
use crate::state::AppState;

/// `GET {api-root}/`.
pub async fn get(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    auth::authenticate(&state, &headers).await?;
    filters::parse(uri.query(), Endpoint::Plain)?;
    let settings = &state.settings;
    let root = ApiRoot {
        title: settings.api_root_title.clone(),
        description: settings.api_root_description.clone(),
        versions: vec![TAXII_MEDIA_TYPE.to_owned()],
        max_content_length: settings.max_content_length,
    };
    Ok(pages::taxii_json(StatusCode::OK, &root))
}
