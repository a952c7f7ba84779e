//! [`TaxiiError`]: every way a request can fail, with its HTTP status, and its
//! rendering as a TAXII error message (§3.6.1) in the TAXII media type.
//!
//! The `error_id` of each error message is the request id (`X-Request-Id`),
//! so an operator can find the request in the logs from what a client reports.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::resources::{ErrorMessage, TAXII_MEDIA_TYPE};

/// The challenge sent with every 401 (RFC 7235 §4.1): both schemes we take.
pub const WWW_AUTHENTICATE: &str = r#"Bearer realm="passerelle", Basic realm="passerelle""#;

/// Why a TAXII request failed.
#[derive(Debug, thiserror::Error)]
pub enum TaxiiError {
    /// A query parameter, path segment or header is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// Credentials are missing or not valid (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The account may see the resource but not do this to it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The resource does not exist, or the account may not know it does (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with what is stored (409).
    #[error("{0}")]
    Conflict(String),
    /// The method is not defined for this URL (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The `Accept` header excludes the TAXII 2.1 media type (406).
    #[error("{0}")]
    NotAcceptable(String),
    /// The request body is larger than `max_content_length` (413).
    #[error(
        "the request body is larger than the max_content_length of this API root, {limit} bytes"
    )]
    PayloadTooLarge {
        /// The advertised limit, in bytes.
        limit: u64,
    },
    /// The `Content-Type` of the body is not the TAXII 2.1 media type (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is not a TAXII envelope that can be processed (422, §5.5).
    #[error("{0}")]
    Unprocessable(String),
    /// Something failed inside the server (500); the details are logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl TaxiiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            TaxiiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            TaxiiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            TaxiiError::Forbidden(_) => StatusCode::FORBIDDEN,
            TaxiiError::NotFound(_) => StatusCode::NOT_FOUND,
            TaxiiError::Conflict(_) => StatusCode::CONFLICT,
            TaxiiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            TaxiiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            TaxiiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            TaxiiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            TaxiiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            TaxiiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable code for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            TaxiiError::BadRequest(_) => "bad-request",
            TaxiiError::Unauthorized(_) => "unauthorized",
            TaxiiError::Forbidden(_) => "forbidden",
            TaxiiError::NotFound(_) => "not-found",
            TaxiiError::Conflict(_) => "conflict",
            TaxiiError::MethodNotAllowed(_) => "method-not-allowed",
            TaxiiError::NotAcceptable(_) => "not-acceptable",
            TaxiiError::PayloadTooLarge { .. } => "payload-too-large",
            TaxiiError::UnsupportedMediaType(_) => "unsupported-media-type",
            TaxiiError::Unprocessable(_) => "unprocessable",
            TaxiiError::Internal(_) => "internal",
        }
    }

    /// The error message resource for this error.
    pub fn to_message(&self) -> ErrorMessage {
        let status = self.status();
        let description = match self {
            // Internal details stay in the logs.
            TaxiiError::Internal(_) => {
                "the server could not complete the request; the error is logged under this error_id"
                    .to_owned()
            }
            other => other.to_string(),
        };
        ErrorMessage {
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            description: Some(description),
            error_id: crate::request_id::current(),
            error_code: Some(self.code().to_owned()),
            http_status: Some(status.as_u16().to_string()),
            external_details: None,
            details: None,
        }
    }
}

/// The one mapping from store errors to HTTP: `NotFound` → 404, `Conflict` →
/// 409, `Invalid` → 400, anything else → 500 (logged with its cause, not sent).
impl From<store::StoreError> for TaxiiError {
    fn from(e: store::StoreError) -> TaxiiError {
        match e {
            store::StoreError::NotFound { what, key } => {
                TaxiiError::NotFound(format!("{what} {} not found", crate::filters::quoted(&key)))
            }
            store::StoreError::Conflict(m) => TaxiiError::Conflict(m),
            store::StoreError::Invalid(m) => TaxiiError::BadRequest(m),
            other => {
                let mut detail = other.to_string();
                let mut source = std::error::Error::source(&other);
                while let Some(cause) = source {
                    detail.push_str(": ");
                    detail.push_str(&cause.to_string());
                    source = cause.source();
                }
                TaxiiError::Internal(detail)
            }
        }
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        if let TaxiiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.to_message()).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn renders_a_taxii_error_message() {
        let response = TaxiiError::BadRequest("limit must be positive".into()).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/taxii+json;version=2.1"
        );
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let message: ErrorMessage = serde_json::from_slice(&body).unwrap();
        assert_eq!(message.title, "Bad Request");
        assert_eq!(message.http_status.as_deref(), Some("400"));
        assert_eq!(
            message.description.as_deref(),
            Some("limit must be positive")
        );
        assert_eq!(message.error_code.as_deref(), Some("bad-request"));
    }

    #[tokio::test]
    async fn unauthorized_carries_the_challenge() {
        let response = TaxiiError::Unauthorized("no credentials".into()).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer realm="passerelle", Basic realm="passerelle""#
        );
    }

    #[test]
    fn store_errors_map_once() {
        use store::StoreError;
        let e: TaxiiError = StoreError::not_found("collection", "abc").into();
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        let e: TaxiiError = StoreError::Conflict("alias taken".into()).into();
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let e: TaxiiError = StoreError::Invalid("limit".into()).into();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e: TaxiiError = StoreError::backend("disk full").into();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(e.to_string().contains("disk full"));
    }

    #[test]
    fn internal_details_are_not_sent() {
        let message = TaxiiError::Internal("disk I/O error at /var/x".into()).to_message();
        assert!(!message.description.unwrap().contains("/var/x"));
        assert_eq!(message.http_status.as_deref(), Some("500"));
    }
}
