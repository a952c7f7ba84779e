//! One HTTP exchange with a TAXII server: sending with the TAXII media type
//! and credentials, mapping transport failures to [`ErrorKind`]s, turning an
//! error status into [`ErrorKind::Http`] with the server's TAXII error
//! message, checking the answer's media type, and reading the body within the
//! size limit.

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Response, Url};

use super::error::{ClientError, ErrorKind, excerpt, with_causes};
use crate::resources::{ErrorMessage, TAXII_MEDIA_TYPE};

/// How much of an error answer is read to find its TAXII error message.
const ERROR_BODY_LIMIT: u64 = 64 << 10;
/// How much of a non-TAXII error body goes into a message.
const EXCERPT_CHARS: usize = 200;

/// What a request needs besides its URL.
pub(crate) struct Exchange<'a> {
    pub http: &'a reqwest::Client,
    pub auth: Option<&'a HeaderValue>,
    pub timeout: std::time::Duration,
    pub max_response_bytes: u64,
}

/// A successful answer: its headers and, if one was read, its body.
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Exchange<'_> {
    /// Sends a request and returns the answer if its status is 2xx. With
    /// `read_body`, the answer must be TAXII JSON and its body is read.
    pub async fn run(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        read_body: bool,
    ) -> Result<Answer, ClientError> {
        let label = format!("{method} {url}");
        let fail = |kind| ClientError::new(&label, kind);
        let mut request = self
            .http
            .request(method, url)
            .header(header::ACCEPT, TAXII_MEDIA_TYPE);
        if let Some(auth) = self.auth {
            request = request.header(header::AUTHORIZATION, auth.clone());
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, TAXII_MEDIA_TYPE)
                .body(body);
        }
        let started = std::time::Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| fail(self.transport_kind(&e)))?;
        let status = response.status();
        tracing::debug!(request = %label, status = status.as_u16(), elapsed = ?started.elapsed(), "TAXII answer");
        if !status.is_success() {
            return Err(fail(error_status(response).await));
        }
        let headers = response.headers().clone();
        if !read_body {
            return Ok(Answer {
                headers,
                body: Vec::new(),
            });
        }
        let content_type = headers.get(header::CONTENT_TYPE);
        if crate::media::check_content_type(content_type.map(HeaderValue::as_bytes)).is_err() {
            return Err(fail(ErrorKind::MediaType {
                found: content_type.map(|v| excerpt(&String::from_utf8_lossy(v.as_bytes()), 100)),
            }));
        }
        let body = self.read(response, self.max_response_bytes).await;
        Ok(Answer {
            headers,
            body: body.map_err(fail)?,
        })
    }

    fn transport_kind(&self, e: &reqwest::Error) -> ErrorKind {
        if e.is_timeout() {
            ErrorKind::Timeout(self.timeout)
        } else if e.is_connect() {
            ErrorKind::Connect(causes(e))
        } else {
            ErrorKind::Transport(causes(e))
        }
    }

    /// Reads a body of at most `limit` bytes, refusing a longer one as soon as
    /// it is announced or seen.
    async fn read(&self, mut response: Response, limit: u64) -> Result<Vec<u8>, ErrorKind> {
        let too_large = ErrorKind::TooLarge { limit };
        let announced = response.content_length();
        if announced.is_some_and(|n| n > limit) {
            return Err(too_large);
        }
        let capacity = announced.unwrap_or(0).min(limit).min(16 << 20);
        let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_kind(&e))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The reqwest error's causes without its own message, which repeats the URL.
fn causes(e: &reqwest::Error) -> String {
    match std::error::Error::source(e) {
        Some(source) => with_causes(source),
        None => e.to_string(),
    }
}

/// An answer with an error status: the status and the TAXII error message
/// (or the start of the body). Reading the body is best effort.
async fn error_status(mut response: Response) -> ErrorKind {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = (ERROR_BODY_LIMIT as usize).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    let error = serde_json::from_slice::<ErrorMessage>(&body)
        .ok()
        .map(|mut message| {
            message.title = excerpt(&message.title, EXCERPT_CHARS);
            message.description = message.description.map(|d| excerpt(&d, 4 * EXCERPT_CHARS));
            Box::new(message)
        });
    let text = String::from_utf8_lossy(&body);
    let excerpt =
        (error.is_none() && !text.trim().is_empty()).then(|| excerpt(text.trim(), EXCERPT_CHARS));
    ErrorKind::Http {
        status,
        error,
        excerpt,
    }
}
