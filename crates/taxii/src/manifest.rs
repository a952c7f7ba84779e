//! Get Object Manifests (`{api-root}/collections/{id}/manifest/`, §5.3): one
//! record per object version, with the same filters as Get Objects. A partner's
//! account sees only the versions its agreement lets it read.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::auth::{self, Need};
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint};
use crate::media::{self, Accepts};
use crate::pages;
use crate::partner::{self, Reach, Use};
use crate::resources::{Manifest, ManifestRecord};
use crate::state::AppState;

/// `GET {api-root}/collections/{id}/manifest/`.
pub async fn list(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::TaxiiOrStix)?;
    let who = auth::authenticate(&state, &headers).await?;
    let filters = filters::parse(uri.query(), Endpoint::Manifest)?;
    let (collection, _) = auth::collection_for(&state, &who, &collection, Need::Read).await?;
    let query = pages::object_query(&state, &filters)?;
    let page = match partner::view(&state, &who)? {
        None => state.store.manifest(collection.id, &query).await?,
        // The versions the partner may see, decided from their bytes as Get
        // Objects decides them: a withheld version is not listed.
        Some(view) => partner::manifest_page(
            view.page(
                state.store.as_ref(),
                collection.id,
                query,
                Use::List,
                Reach::List,
            )
            .await?,
        ),
    };
    let manifest = Manifest {
        more: page.more,
        next: page.next.map(|c| c.encode()),
        objects: page
            .records
            .into_iter()
            .map(|r| ManifestRecord {
                id: r.id,
                date_added: r.date_added.to_string(),
                version: r.version.as_str().to_owned(),
                media_type: Some(r.media_type),
            })
            .collect(),
    };
    let body = serde_json::to_vec(&manifest)
        .map_err(|e| TaxiiError::Internal(format!("cannot serialise a manifest: {e}")))?;
    Ok(pages::page_response(
        body,
        page.first_added,
        page.last_added,
    ))
}
