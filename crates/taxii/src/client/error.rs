//! What can go wrong when talking to a TAXII server: [`ClientError`] (one
//! request, named by method and URL, and an [`ErrorKind`]) and [`ConfigError`]
//! (options that cannot make a client).
//!
//! The kinds are the decisions a caller makes: wait and try again
//! ([`ClientError::is_transient`]), fix credentials or rights (401/403), or
//! report a partner whose server answers something that is not TAXII.

use std::time::Duration;

use crate::resources::ErrorMessage;

/// A request that failed.
#[derive(Debug, thiserror::Error)]
#[error("{request}: {kind}")]
pub struct ClientError {
    /// The request, as `METHOD URL` (the URL never holds credentials).
    pub request: String,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// No connection could be made: refused, unreachable, name not found, TLS
    /// handshake or certificate refused.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// No complete answer arrived within the request timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The connection failed after it was made (reset, closed mid-answer).
    #[error("the connection failed: {0}")]
    Transport(String),
    /// The server answered with an HTTP status other than the one expected.
    #[error("{}", http_message(*status, error.as_deref(), excerpt.as_deref()))]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The TAXII error message (§3.6.1), when the server sent one.
        error: Option<Box<ErrorMessage>>,
        /// The start of the body, when it was not a TAXII error message.
        excerpt: Option<String>,
    },
    /// The answer's `Content-Type` is not the TAXII 2.1 media type.
    #[error("{}", media_type_message(found.as_deref()))]
    MediaType {
        /// The `Content-Type` received, if any.
        found: Option<String>,
    },
    /// The answer is not the TAXII resource expected; says what is wrong.
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The caller gave an identifier that cannot be put in a URL (empty, `.`
    /// or `..`); nothing was sent.
    #[error("invalid argument: {0}")]
    Argument(String),
    /// The answer is larger than the client's `max_response_bytes`.
    #[error("the answer is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

fn http_message(status: u16, error: Option<&ErrorMessage>, excerpt: Option<&str>) -> String {
    let reason = http_reason(status);
    let mut out = format!(
        "HTTP {status}{}{reason}",
        if reason.is_empty() { "" } else { " " }
    );
    if let Some(error) = error {
        out.push_str(": ");
        out.push_str(&error.title);
        if let Some(description) = &error.description {
            out.push_str(": ");
            out.push_str(description);
        }
    } else if let Some(excerpt) = excerpt {
        out.push_str(": ");
        out.push_str(excerpt);
    }
    out
}

fn media_type_message(found: Option<&str>) -> String {
    let expected = crate::resources::TAXII_MEDIA_TYPE;
    match found {
        Some(found) => format!("the answer is '{found}', not {expected}"),
        None => format!("the answer has no Content-Type; expected {expected}"),
    }
}

fn http_reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl ClientError {
    pub(crate) fn new(request: &str, kind: ErrorKind) -> ClientError {
        ClientError {
            request: request.to_owned(),
            kind,
        }
    }

    /// Whether trying the same request later may succeed: no connection, a
    /// timeout, a broken connection, or HTTP 408, 429, 502, 503 or 504. A sync
    /// worker backs off on these; anything else needs someone to look.
    pub fn is_transient(&self) -> bool {
        match &self.kind {
            ErrorKind::Connect(_) | ErrorKind::Timeout(_) | ErrorKind::Transport(_) => true,
            ErrorKind::Http { status, .. } => matches!(status, 408 | 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The HTTP status, when the server answered with an unexpected one.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ErrorKind::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The TAXII error message the server sent with its status, if any.
    pub fn taxii_error(&self) -> Option<&ErrorMessage> {
        match &self.kind {
            ErrorKind::Http { error, .. } => error.as_deref(),
            _ => None,
        }
    }
}

/// Client options that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The API root URL is not usable.
    #[error("API root URL '{url}': {reason}")]
    Url {
        /// The URL as given (without any credentials it held).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A credential cannot be sent in an HTTP header.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The extra CA certificate is not usable.
    #[error("trusted CA certificate: {0}")]
    Certificate(String),
    /// The HTTP client could not be built with these options.
    #[error("HTTP client: {0}")]
    Http(String),
    /// A saved paging position is not one [`super::Position`] wrote.
    #[error("saved paging position: {0}")]
    Position(String),
}

/// A reqwest error with its causes, which its own `Display` leaves out (the
/// refused connection or the certificate problem is in the causes).
pub(crate) fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper and reqwest repeat their inner error in their own message.
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// Server text for an error message: at most `max` characters, controls escaped.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn http(status: u16, error: Option<ErrorMessage>, excerpt: Option<&str>) -> ClientError {
        ClientError::new(
            "GET https://x.example/api/",
            ErrorKind::Http {
                status,
                error: error.map(Box::new),
                excerpt: excerpt.map(str::to_owned),
            },
        )
    }

    #[test]
    fn messages_name_the_request_and_the_taxii_error() {
        let e = http(
            404,
            Some(ErrorMessage {
                title: "Not Found".into(),
                description: Some("no collection 'x'".into()),
                ..Default::default()
            }),
            None,
        );
        assert_eq!(
            e.to_string(),
            "GET https://x.example/api/: HTTP 404 Not Found: Not Found: no collection 'x'"
        );
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.taxii_error().unwrap().title, "Not Found");
        assert!(!e.is_transient());
        let e = http(502, None, Some("<html>bad gateway</html>"));
        assert_eq!(
            e.to_string(),
            "GET https://x.example/api/: HTTP 502 Bad Gateway: <html>bad gateway</html>"
        );
        assert!(e.is_transient());
        assert!(http(599, None, None).to_string().ends_with("HTTP 599"));
    }

    #[test]
    fn transient_kinds() {
        let e = |kind| ClientError::new("GET u", kind);
        assert!(e(ErrorKind::Connect("refused".into())).is_transient());
        assert!(e(ErrorKind::Timeout(Duration::from_secs(1))).is_transient());
        assert!(e(ErrorKind::Transport("reset".into())).is_transient());
        assert!(!e(ErrorKind::Malformed("x".into())).is_transient());
        assert!(!e(ErrorKind::TooLarge { limit: 1 }).is_transient());
        assert!(!e(ErrorKind::MediaType { found: None }).is_transient());
        assert_eq!(
            e(ErrorKind::MediaType {
                found: Some("text/html".into())
            })
            .to_string(),
            "GET u: the answer is 'text/html', not application/taxii+json;version=2.1"
        );
    }

    #[test]
    fn excerpts_are_bounded_and_escaped() {
        assert_eq!(excerpt("a\nb", 10), "a\\nb");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
