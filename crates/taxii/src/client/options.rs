//! How a [`super::TaxiiClient`] is set up: [`ClientOptions`] (API root URL,
//! credentials, extra trusted CA, timeout, response size limit) and
//! [`Credentials`], whose secrets never appear in `Debug` output or logs.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Url;
use reqwest::header::HeaderValue;

use super::error::ConfigError;

/// Default request timeout: a whole request, connection to last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default largest answer accepted, in bytes.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// A secret string (token, password). Its `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How the client authenticates (§1.6.10: HTTP Basic, or a Bearer token).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Credentials {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user name (not secret).
        user: String,
        /// The password.
        password: Secret,
    },
}

impl Credentials {
    /// Bearer token credentials.
    pub fn bearer(token: impl Into<String>) -> Credentials {
        Credentials::Bearer(Secret::new(token))
    }

    /// Basic credentials.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::Basic {
            user: user.into(),
            password: Secret::new(password),
        }
    }

    /// The `Authorization` header value, marked sensitive so the HTTP stack
    /// never prints it.
    pub(crate) fn header(&self) -> Result<HeaderValue, ConfigError> {
        let text = match self {
            Credentials::Bearer(token) => {
                if token.expose().is_empty() {
                    return Err(ConfigError::Credentials("the Bearer token is empty".into()));
                }
                format!("Bearer {}", token.expose())
            }
            Credentials::Basic { user, password } => {
                if user.contains(':') {
                    return Err(ConfigError::Credentials(format!(
                        "the Basic user name '{user}' contains ':', which Basic credentials cannot carry"
                    )));
                }
                format!(
                    "Basic {}",
                    STANDARD.encode(format!("{user}:{}", password.expose()))
                )
            }
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            ConfigError::Credentials(
                "the token holds characters an HTTP header cannot carry (control characters or non-ASCII)"
                    .into(),
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// Everything a client needs to reach one TAXII API root.
#[derive(Clone)]
pub struct ClientOptions {
    /// The API root, for example `https://paris.example:8443/api/`. Discovery
    /// is read at `/taxii2/` on the same server (§4.1).
    pub api_root: String,
    /// The credentials sent with every request, if any.
    pub credentials: Option<Credentials>,
    /// PEM certificates (one or more) to trust besides the built-in roots:
    /// a partner's own CA, or its self-signed certificate.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Whether the built-in (Mozilla, webpki-roots) CA certificates are
    /// trusted; turn off to trust only `extra_ca_pem`.
    pub builtin_roots: bool,
    /// How long a whole request may take, connecting included.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes; a larger one is refused with
    /// [`super::ErrorKind::TooLarge`] without being read whole.
    pub max_response_bytes: u64,
    /// Whether an `http://` API root on another machine than this one is
    /// accepted. Off by default: credentials and data would cross the
    /// network in clear. Plain HTTP to a loopback address is always accepted.
    pub allow_plain_http: bool,
}

impl ClientOptions {
    /// Options for an API root with the defaults: no credentials, built-in
    /// roots only, [`DEFAULT_TIMEOUT`], [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn new(api_root: impl Into<String>) -> ClientOptions {
        ClientOptions {
            api_root: api_root.into(),
            credentials: None,
            extra_ca_pem: None,
            builtin_roots: true,
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_plain_http: false,
        }
    }

    /// With these credentials.
    pub fn credentials(mut self, credentials: Credentials) -> ClientOptions {
        self.credentials = Some(credentials);
        self
    }

    /// Also trusting the CA certificate(s) in this PEM text.
    pub fn trust_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> ClientOptions {
        self.extra_ca_pem = Some(pem.into());
        self
    }

    /// Trusting the built-in roots or not.
    pub fn builtin_roots(mut self, trusted: bool) -> ClientOptions {
        self.builtin_roots = trusted;
        self
    }

    /// With this request timeout.
    pub fn timeout(mut self, timeout: Duration) -> ClientOptions {
        self.timeout = timeout;
        self
    }

    /// Accepting plain HTTP to other machines or not.
    pub fn allow_plain_http(mut self, allowed: bool) -> ClientOptions {
        self.allow_plain_http = allowed;
        self
    }

    /// With this response size limit.
    pub fn max_response_bytes(mut self, limit: u64) -> ClientOptions {
        self.max_response_bytes = limit;
        self
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_root", &self.api_root)
            .field("credentials", &self.credentials)
            .field(
                "extra_ca_pem",
                &self
                    .extra_ca_pem
                    .as_ref()
                    .map(|pem| format!("{} bytes of PEM", pem.len())),
            )
            .field("builtin_roots", &self.builtin_roots)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("allow_plain_http", &self.allow_plain_http)
            .finish()
    }
}

/// The API root as a URL ending in `/`, checked: HTTPS (or plain HTTP to a
/// loopback address, or anywhere if `allow_plain_http`), a host, no
/// credentials, query or fragment (credentials go in [`Credentials`], so no
/// URL in a message or a log can hold one).
pub(crate) fn api_root_url(text: &str, allow_plain_http: bool) -> Result<Url, ConfigError> {
    let shown = |url: &str| match Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => url.to_owned(),
    };
    let error = |reason: &str| ConfigError::Url {
        url: shown(text),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(text).map_err(|e| error(&e.to_string()))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(error("the scheme must be https (or http)"));
    }
    let Some(host) = url.host_str() else {
        return Err(error("there is no host"));
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if url.scheme() == "http" && !loopback && !allow_plain_http {
        return Err(error(
            "plain HTTP to another machine would send credentials and data in clear; use https (or allow plain HTTP explicitly)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(error(
            "it holds credentials; give them as Bearer or Basic credentials instead",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(error("an API root has no query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let options = ClientOptions::new("https://x.example/api/")
            .credentials(Credentials::basic("alice", "wonderland"))
            .trust_ca_pem("-----BEGIN CERTIFICATE-----");
        let shown = format!("{options:?}");
        assert!(!shown.contains("wonderland"), "{shown}");
        assert!(shown.contains("alice"), "{shown}");
        assert!(shown.contains("27 bytes of PEM"), "{shown}");
        let bearer = Credentials::bearer("psl_secret-token");
        assert!(!format!("{bearer:?}").contains("psl_secret"));
        assert_eq!(Secret::new("x").to_string(), "***");
        let header = bearer.header().unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("psl_secret"));
    }

    #[test]
    fn header_values() {
        assert_eq!(
            Credentials::basic("alice", "wonderland").header().unwrap(),
            "Basic YWxpY2U6d29uZGVybGFuZA=="
        );
        assert_eq!(
            Credentials::bearer("psl_abc").header().unwrap(),
            "Bearer psl_abc"
        );
        for bad in [
            Credentials::bearer(""),
            Credentials::bearer("a\nb"),
            Credentials::basic("a:b", "c"),
        ] {
            let e = bad.header().unwrap_err().to_string();
            assert!(e.starts_with("credentials: "), "{e}");
        }
    }

    #[test]
    fn api_root_urls() {
        assert_eq!(
            api_root_url("https://x.example:8443/api", false)
                .unwrap()
                .as_str(),
            "https://x.example:8443/api/"
        );
        assert_eq!(
            api_root_url("http://127.0.0.1:1/api/", false)
                .unwrap()
                .as_str(),
            "http://127.0.0.1:1/api/"
        );
        assert!(api_root_url("http://localhost:1/api/", false).is_ok());
        assert!(api_root_url("http://[::1]:1/api/", false).is_ok());
        let e = api_root_url("http://x.example/api/", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("in clear"), "{e}");
        assert!(api_root_url("http://x.example/api/", true).is_ok());
        let e = api_root_url("https://bob:hunter2@x.example/api/", false)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("holds credentials"), "{e}");
        for bad in [
            "ftp://x.example/",
            "x.example/api",
            "https://x.example/api/?a=1",
            "https://x.example/api/#f",
        ] {
            assert!(api_root_url(bad, true).is_err(), "{bad}");
        }
    }
}
