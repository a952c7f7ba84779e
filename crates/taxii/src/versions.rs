//! Get Object Versions (`.../objects/{object-id}/versions/`, §5.8): the
//! versions of one object, oldest added first. A partner's account sees only the
//! versions its agreement lets it read.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use store::{ObjectQuery, VersionMatch};

use crate::auth::{self, Need};
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint, quoted};
use crate::media::{self, Accepts};
use crate::pages;
use crate::partner::{self, Reach, Use};
use crate::resources::Versions;
use crate::state::AppState;

/// `GET {api-root}/collections/{id}/objects/{object-id}/versions/`.
pub async fn list(
    State(state): State<AppState>,
    Path((collection, object_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    let who = auth::authenticate(&state, &headers).await?;
    let filters = filters::parse(uri.query(), Endpoint::Versions)?;
    filters::check_object_id("object id", &object_id)?;
    let (collection, _) = auth::collection_for(&state, &who, &collection, Need::Read).await?;
    let query = pages::object_query(&state, &filters)?;
    let page = match partner::view(&state, &who)? {
        None => {
            let page = state
                .store
                .object_versions(collection.id, &object_id, &query)
                .await?;
            if page.records.is_empty() {
                // An object that exists but has no version after `added_after` is an
                // empty list; one that does not exist is a 404.
                let probe = ObjectQuery {
                    limit: 1,
                    ..ObjectQuery::default()
                };
                let exists = !state
                    .store
                    .object_versions(collection.id, &object_id, &probe)
                    .await?
                    .records
                    .is_empty();
                if !exists {
                    return Err(unknown(&object_id));
                }
            }
            page
        }
        // The versions the partner may see; an object none of whose versions it
        // may see is a 404, as if unknown.
        Some(view) => {
            let query = ObjectQuery {
                ids: vec![object_id.clone()],
                versions: vec![VersionMatch::All],
                ..query
            };
            let limit = query.limit;
            let store = state.store.as_ref();
            let page = view
                .page(store, collection.id, query, Use::List, Reach::Object)
                .await?;
            if page.records.is_empty()
                && !view
                    .sees_object(store, collection.id, &object_id, limit)
                    .await?
            {
                return Err(unknown(&object_id));
            }
            partner::manifest_page(page)
        }
    };
    let versions = Versions {
        more: page.more,
        next: page.next.map(|c| c.encode()),
        versions: page
            .records
            .iter()
            .map(|r| r.version.as_str().to_owned())
            .collect(),
    };
    let body = serde_json::to_vec(&versions)
        .map_err(|e| TaxiiError::Internal(format!("cannot serialise versions: {e}")))?;
    Ok(pages::page_response(
        body,
        page.first_added,
        page.last_added,
    ))
}

fn unknown(object_id: &str) -> TaxiiError {
    TaxiiError::NotFound(format!(
        "no object {} in this collection",
        quoted(object_id)
    ))
}
