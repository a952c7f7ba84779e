//! A typed, async TAXII 2.1 client: [`TaxiiClient`] speaks to one API root of
//! any TAXII 2.1 server (discovery, API root, collections, objects, manifest,
//! versions, add objects, status, delete), with Bearer or Basic credentials,
//! HTTPS through rustls (ring provider, Mozilla roots plus an optional extra
//! CA), a timeout and a response size limit.
//!
//! Objects come back as their exact bytes ([`ObjectsPage`]), split out of the
//! envelope by `stix::bundle::ObjectReader`, so signatures can be checked on
//! what the server sent. [`ObjectPages`] walks a collection page by page from
//! a saved [`Position`]. Every failure is a [`ClientError`] naming the request
//! and its [`ErrorKind`]; no answer from a server can make the client panic.
//!
//! Redirects are not followed (a TAXII server has no reason to send one, and
//! following it would send the credentials elsewhere); they are HTTP errors.

mod error;
mod http;
mod options;
mod pages;
mod query;

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

pub use error::{ClientError, ConfigError, ErrorKind};
pub use options::{
    ClientOptions, Credentials, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Secret,
};
pub use pages::{ObjectPages, ObjectsPage, Position};
pub use query::Filters;

use crate::resources::{ApiRoot, Collection, Collections, Discovery, Manifest, Status, Versions};
use http::{Answer, Exchange};

/// A client of one TAXII 2.1 API root. Cheap to clone (clones share
/// connections).
#[derive(Clone)]
pub struct TaxiiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_root: Url,
    auth: Option<HeaderValue>,
    timeout: std::time::Duration,
    max_response_bytes: u64,
}

impl fmt::Debug for TaxiiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaxiiClient")
            .field("api_root", &self.inner.api_root.as_str())
            .field("credentials", &self.inner.auth.as_ref().map(|_| "***"))
            .field("timeout", &self.inner.timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .finish()
    }
}

impl TaxiiClient {
    /// A client for the API root in `options`.
    pub fn new(options: ClientOptions) -> Result<TaxiiClient, ConfigError> {
        let api_root = options::api_root_url(&options.api_root, options.allow_plain_http)?;
        let auth = options
            .credentials
            .as_ref()
            .map(Credentials::header)
            .transpose()?;
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("passerelle/", env!("CARGO_PKG_VERSION")))
            .tls_built_in_root_certs(options.builtin_roots);
        if let Some(pem) = &options.extra_ca_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ConfigError::Certificate(error::with_causes(&e)))?;
            if certificates.is_empty() {
                return Err(ConfigError::Certificate(
                    "no PEM certificate found (expected -----BEGIN CERTIFICATE-----)".into(),
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        // reqwest uses rustls with the ring provider unless the process
        // installed another default provider.
        let http = builder
            .build()
            .map_err(|e| ConfigError::Http(error::with_causes(&e)))?;
        Ok(TaxiiClient {
            inner: Arc::new(Inner {
                http,
                api_root,
                auth,
                timeout: options.timeout,
                max_response_bytes: options.max_response_bytes,
            }),
        })
    }

    /// The API root URL (ending in `/`).
    pub fn api_root_url(&self) -> &Url {
        &self.inner.api_root
    }

    /// Server Discovery (§4.1), at `/taxii2/` on the API root's server.
    pub async fn discovery(&self) -> Result<Discovery, ClientError> {
        let mut url = self.inner.api_root.clone();
        url.set_path("/taxii2/");
        self.get_json(url, "discovery").await
    }

    /// Get API Root Information (§4.2).
    pub async fn api_root(&self) -> Result<ApiRoot, ClientError> {
        self.get_json(self.inner.api_root.clone(), "api-root").await
    }

    /// Get Collections (§5.1): the collections this account may use.
    pub async fn collections(&self) -> Result<Vec<Collection>, ClientError> {
        let url = self.url(&["collections"], None)?;
        let collections: Collections = self.get_json(url, "collections").await?;
        Ok(collections.collections)
    }

    /// Get A Collection (§5.2), by id (or alias, on servers that take one).
    pub async fn collection(&self, id: &str) -> Result<Collection, ClientError> {
        let url = self.url(&["collections", id], None)?;
        self.get_json(url, "collection").await
    }

    /// Get Objects (§5.4): one page.
    pub async fn get_objects(
        &self,
        collection: &str,
        filters: &Filters,
    ) -> Result<ObjectsPage, ClientError> {
        let url = self.objects_url(collection, filters)?;
        self.objects_page(url).await
    }

    /// Get An Object (§5.6): the versions of one object the filters select
    /// (the latest by default), as a page.
    pub async fn get_object(
        &self,
        collection: &str,
        object_id: &str,
        filters: &Filters,
    ) -> Result<ObjectsPage, ClientError> {
        let url = self.url(
            &["collections", collection, "objects", object_id],
            Some(filters),
        )?;
        self.objects_page(url).await
    }

    /// Get Object Manifests (§5.3): one page.
    pub async fn manifest(
        &self,
        collection: &str,
        filters: &Filters,
    ) -> Result<Manifest, ClientError> {
        let url = self.url(&["collections", collection, "manifest"], Some(filters))?;
        self.get_json(url, "manifest").await
    }

    /// Get Object Versions (§5.8): one page.
    pub async fn versions(
        &self,
        collection: &str,
        object_id: &str,
        filters: &Filters,
    ) -> Result<Versions, ClientError> {
        let url = self.url(
            &["collections", collection, "objects", object_id, "versions"],
            Some(filters),
        )?;
        self.get_json(url, "versions").await
    }

    /// Add Objects (§5.5): posts an envelope (its exact bytes) and returns the
    /// status the server answered with.
    pub async fn add_objects(
        &self,
        collection: &str,
        envelope: Vec<u8>,
    ) -> Result<Status, ClientError> {
        let url = self.url(&["collections", collection, "objects"], None)?;
        let answer = self
            .exchange()
            .run(Method::POST, url.clone(), Some(envelope), true)
            .await?;
        decode(Method::POST, &url, &answer, "status")
    }

    /// Get Status (§4.3).
    pub async fn status(&self, id: &str) -> Result<Status, ClientError> {
        let url = self.url(&["status", id], None)?;
        self.get_json(url, "status").await
    }

    /// Delete An Object (§5.7): the versions `match[version]` selects (the
    /// latest by default).
    pub async fn delete_object(
        &self,
        collection: &str,
        object_id: &str,
        filters: &Filters,
    ) -> Result<(), ClientError> {
        let url = self.url(
            &["collections", collection, "objects", object_id],
            Some(filters),
        )?;
        self.exchange()
            .run(Method::DELETE, url, None, false)
            .await?;
        Ok(())
    }

    /// A walk through a collection's objects from `from` (or from the
    /// filters' own `added_after`/`next` when `from` leaves them out).
    pub fn object_pages(&self, collection: &str, filters: Filters, from: Position) -> ObjectPages {
        ObjectPages::new(self.clone(), collection, filters, from)
    }

    fn exchange(&self) -> Exchange<'_> {
        Exchange {
            http: &self.inner.http,
            auth: self.inner.auth.as_ref(),
            timeout: self.inner.timeout,
            max_response_bytes: self.inner.max_response_bytes,
        }
    }

    pub(crate) fn objects_url(
        &self,
        collection: &str,
        filters: &Filters,
    ) -> Result<Url, ClientError> {
        self.url(&["collections", collection, "objects"], Some(filters))
    }

    /// `{api_root}/a/b/.../` with each segment percent-encoded. A segment
    /// that is empty or a dot segment would name another resource: refused.
    fn url(&self, segments: &[&str], filters: Option<&Filters>) -> Result<Url, ClientError> {
        let mut url = self.inner.api_root.clone();
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(ClientError::new(
                &format!("request under {url}"),
                ErrorKind::Argument(format!("'{bad}' cannot be an identifier in a URL path")),
            ));
        }
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments).push("");
        }
        if let Some(filters) = filters {
            filters.write_to(&mut url);
        }
        Ok(url)
    }

    async fn get_json<T: DeserializeOwned>(&self, url: Url, what: &str) -> Result<T, ClientError> {
        let answer = self
            .exchange()
            .run(Method::GET, url.clone(), None, true)
            .await?;
        decode(Method::GET, &url, &answer, what)
    }

    async fn objects_page(&self, url: Url) -> Result<ObjectsPage, ClientError> {
        let answer = self
            .exchange()
            .run(Method::GET, url.clone(), None, true)
            .await?;
        let malformed =
            |what: String| ClientError::new(&format!("GET {url}"), ErrorKind::Malformed(what));
        let date = |name: &str| -> Result<Option<String>, ClientError> {
            let Some(value) = answer.headers.get(name) else {
                return Ok(None);
            };
            let text = value
                .to_str()
                .map_err(|_| malformed(format!("the {name} header is not text")))?;
            // stix's message reads "is not of the form ...".
            stix::Timestamp::parse(text).map_err(|e| {
                malformed(format!(
                    "the {name} header '{}' {e}",
                    error::excerpt(text, 60)
                ))
            })?;
            Ok(Some(text.to_owned()))
        };
        let date_added_first = date("X-TAXII-Date-Added-First")?;
        let date_added_last = date("X-TAXII-Date-Added-Last")?;
        // Splitting parses every object: off the async threads, like the server does.
        let body = answer.body;
        let split = tokio::task::spawn_blocking(move || pages::split_envelope(&body))
            .await
            .map_err(|e| {
                ClientError::new(
                    &format!("GET {url}"),
                    ErrorKind::Transport(format!("reading the envelope was interrupted: {e}")),
                )
            })?;
        let page = split.map_err(malformed)?;
        Ok(ObjectsPage {
            date_added_first,
            date_added_last,
            ..page
        })
    }
}

/// A TAXII resource from an answer's body.
fn decode<T: DeserializeOwned>(
    method: Method,
    url: &Url,
    answer: &Answer,
    what: &str,
) -> Result<T, ClientError> {
    serde_json::from_slice(&answer.body).map_err(|e| {
        ClientError::new(
            &format!("{method} {url}"),
            ErrorKind::Malformed(format!("not a TAXII {what} resource: {e}")),
        )
    })
}
