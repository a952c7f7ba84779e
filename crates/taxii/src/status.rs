//! Get Status (`{api-root}/status/{status-id}/`, §4.3): the outcome of an Add
//! Objects request, readable afterwards by the account that posted it (and
//! admins); to anyone else it does not exist.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use store::StoreError;

use crate::auth;
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint, quoted};
use crate::media::{self, Accepts};
use crate::pages;
use crate::resources::{self, StatusKind};
use crate::state::AppState;

/// The TAXII resource for a stored status.
pub fn to_resource(status: &store::Status) -> resources::Status {
    let details = |list: &[store::StatusDetail]| {
        list.iter()
            .map(|d| resources::StatusDetails {
                id: d.id.clone(),
                version: d.version.clone(),
                message: d.message.clone(),
            })
            .collect::<Vec<_>>()
    };
    resources::Status {
        id: status.id.to_string(),
        status: if status.is_complete() {
            StatusKind::Complete
        } else {
            StatusKind::Pending
        },
        request_timestamp: Some(status.request_timestamp.to_string()),
        total_count: status.total_count,
        success_count: status.successes.len() as u64,
        successes: details(&status.successes),
        failure_count: status.failures.len() as u64,
        failures: details(&status.failures),
        pending_count: status.pendings.len() as u64,
        pendings: details(&status.pendings),
    }
}

/// `GET {api-root}/status/{status-id}/`.
pub async fn get(
    State(state): State<AppState>,
    Path(status_id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    let who = auth::authenticate(&state, &headers).await?;
    filters::parse(uri.query(), Endpoint::Plain)?;
    let not_found = || TaxiiError::NotFound(format!("no status {}", quoted(&status_id)));
    let id = uuid::Uuid::parse_str(&status_id).map_err(|_| {
        TaxiiError::BadRequest(format!(
            "{} is not a status identifier (a UUID)",
            quoted(&status_id)
        ))
    })?;
    let status = match state.store.get_status(id).await {
        Ok(status) => status,
        Err(StoreError::NotFound { .. }) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if status.account != who.name() && !who.account.admin {
        return Err(not_found());
    }
    Ok(pages::taxii_json(StatusCode::OK, &to_resource(&status)))
}
