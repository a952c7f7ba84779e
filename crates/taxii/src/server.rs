//! The HTTP server: [`router`] maps every TAXII 2.1 endpoint to its handler
//! and wraps them in request ids, tracing and TAXII error bodies; [`serve`]
//! runs it on a listener until a shutdown future completes.

use std::future::Future;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::TaxiiError;
use crate::request_id::{self, MakeUuid, X_REQUEST_ID};
use crate::resources::TAXII_MEDIA_TYPE;
use crate::state::AppState;
use crate::{api_root, collections, discovery, manifest, objects, status, versions};

/// Whether an API root name can be a URL path segment of ours: 1 to 64
/// letters, digits, `-`, `_` or `.`, not starting with `.`, and not `taxii2`.
pub fn is_valid_api_root(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name != "taxii2"
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Every TAXII 2.1 endpoint (§3.1) under `/taxii2/` and `/{api_root}/`, with
/// request ids (`X-Request-Id`), a tracing span per request (method, path,
/// status, latency; never headers or bodies) and a TAXII error message for
/// every error, including unknown paths (404) and methods (405).
pub fn router(state: AppState) -> Router {
    let api = state.settings.api_root.clone();
    let routes = if is_valid_api_root(&api) {
        let at = |suffix: &str| format!("/{api}/{suffix}");
        Router::new()
            .route("/taxii2/", get(discovery::get))
            .route(&at(""), get(api_root::get))
            .route(&at("status/{status_id}/"), get(status::get))
            .route(&at("collections/"), get(collections::list))
            .route(&at("collections/{id}/"), get(collections::get))
            .route(&at("collections/{id}/manifest/"), get(manifest::list))
            .route(
                &at("collections/{id}/objects/"),
                get(objects::list).post(objects::add),
            )
            .route(
                &at("collections/{id}/objects/{object_id}/"),
                get(objects::get).delete(objects::delete),
            )
            .route(
                &at("collections/{id}/objects/{object_id}/versions/"),
                get(versions::list),
            )
            .fallback(not_found)
    } else {
        tracing::error!(api_root = %api, "the configured API root name cannot be a URL path segment");
        Router::new().fallback(misconfigured)
    };
    let layers = ServiceBuilder::new()
        .layer(middleware::from_fn(request_id::sanitize))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get(X_REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %id,
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Micros),
                )
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(middleware::from_fn(request_id::scope))
        .layer(middleware::from_fn(taxii_errors));
    routes.with_state(state).layer(layers)
}

/// Serves [`router`] on `listener` until `shutdown` completes; requests in
/// flight then finish before this returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn not_found(request: Request) -> TaxiiError {
    let path = request.uri().path();
    let hint = if path.ends_with('/') {
        ""
    } else {
        "; TAXII URLs end with '/'"
    };
    TaxiiError::NotFound(format!(
        "no TAXII endpoint at {}{hint}",
        crate::filters::quoted(path)
    ))
}

async fn misconfigured() -> TaxiiError {
    TaxiiError::Internal("the configured API root name is not a valid path segment".into())
}

/// Turns any error response that is not already a TAXII error message (a
/// 405 from routing, a rejected path parameter) into one, keeping its status
/// and headers such as `Allow`.
async fn taxii_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_taxii = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == TAXII_MEDIA_TYPE);
    if !(status.is_client_error() || status.is_server_error()) || is_taxii {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => TaxiiError::MethodNotAllowed(
            "this method is not defined for this TAXII endpoint".into(),
        ),
        StatusCode::NOT_FOUND => TaxiiError::NotFound("not found".into()),
        StatusCode::PAYLOAD_TOO_LARGE => TaxiiError::PayloadTooLarge { limit: 0 },
        s if s.is_server_error() => TaxiiError::Internal(format!("{s} from a lower layer")),
        _ => TaxiiError::BadRequest(
            "the request path or parameters are malformed (check percent-encoding)".into(),
        ),
    };
    let (mut parts, _) = response.into_parts();
    let mut replacement = error.into_response();
    // Keep the status and informative headers of the original.
    *replacement.status_mut() = status;
    if let Some(allow) = parts.headers.remove(header::ALLOW) {
        replacement.headers_mut().insert(header::ALLOW, allow);
    }
    replacement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_names() {
        assert!(is_valid_api_root("api"));
        assert!(is_valid_api_root("trust-group_1.v2"));
        for bad in [
            "",
            "taxii2",
            ".hidden",
            "a/b",
            "a{b}",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(!is_valid_api_root(bad), "{bad}");
        }
    }
}
