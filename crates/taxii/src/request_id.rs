//! The request id: one per request, from the client's `X-Request-Id` when it
//! is a short token, otherwise a new UUID; echoed in the response, recorded in
//! the request's log span and written as the `error_id` of error messages.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The header that carries the request id.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, if called while handling one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// New request ids: random UUIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeUuid;

impl MakeRequestId for MakeUuid {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Whether a client-supplied id is safe to keep and log as it is.
fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Drops a client-supplied id that is too long or has unusual characters, so
/// the id layer that follows makes a new one.
pub async fn sanitize(mut request: Request, next: Next) -> Response {
    let drop = request
        .headers()
        .get_all(X_REQUEST_ID)
        .iter()
        .enumerate()
        .any(|(i, v)| i > 0 || !acceptable(v));
    if drop {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    next.run(request).await
}

/// Makes the request id available to [`current`] while the request is handled.
pub async fn scope(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    REQUEST_ID.scope(id, next.run(request)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_tokens_are_kept() {
        assert!(acceptable(&HeaderValue::from_static("abc-123_x.y")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        assert!(!acceptable(&HeaderValue::from_static("a b")));
        assert!(!acceptable(&HeaderValue::from_static("a\"b")));
        let long = "a".repeat(65);
        assert!(!acceptable(&HeaderValue::from_str(&long).unwrap()));
    }

    #[tokio::test]
    async fn current_is_none_outside_a_request() {
        assert_eq!(current(), None);
        let inside = REQUEST_ID.scope("r1".into(), async { current() }).await;
        assert_eq!(inside.as_deref(), Some("r1"));
    }
}
