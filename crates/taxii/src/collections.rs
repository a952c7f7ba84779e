//! Get Collections and Get a Collection (`{api-root}/collections/`, §5.1,
//! §5.2): only the collections the account may use, with its rights.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use store::Rights;

use crate::auth::{self, Need};
use crate::error::TaxiiError;
use crate::filters::{self, Endpoint};
use crate::media::{self, Accepts};
use crate::pages;
use crate::resources::{Collection, Collections, STIX_MEDIA_TYPE};
use crate::state::AppState;

/// The collection resource as one account sees it.
pub fn to_resource(collection: &store::Collection, rights: Rights) -> Collection {
    Collection {
        id: collection.id.to_string(),
        title: collection.title.clone(),
        description: collection.description.clone(),
        alias: collection.alias.clone(),
        can_read: rights.read,
        can_write: rights.write,
        media_types: vec![STIX_MEDIA_TYPE.to_owned()],
    }
}

/// `GET {api-root}/collections/`.
pub async fn list(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    let who = auth::authenticate(&state, &headers).await?;
    filters::parse(uri.query(), Endpoint::Plain)?;
    let collections = auth::visible_collections(&state, &who)
        .await?
        .iter()
        .map(|(c, rights)| to_resource(c, *rights))
        .collect();
    Ok(pages::taxii_json(
        StatusCode::OK,
        &Collections { collections },
    ))
}

/// `GET {api-root}/collections/{id}/`.
pub async fn get(
    State(state): State<AppState>,
    Path(collection): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    media::check_accept_headers(&headers, Accepts::Taxii)?;
    let who = auth::authenticate(&state, &headers).await?;
    filters::parse(uri.query(), Endpoint::Plain)?;
    let (collection, rights) = auth::collection_for(&state, &who, &collection, Need::See).await?;
    Ok(pages::taxii_json(
        StatusCode::OK,
        &to_resource(&collection, rights),
    ))
}
