//! A partner's TAXII client: the API root URL from its `url` and `api_root`, and
//! our token for its server from `token_env` or `token_file`.
//!
//! The token is read when a cycle starts (so a rotated file or variable is picked
//! up without a restart) and only ever handed to [`Credentials::bearer`], whose
//! value never prints. Errors name the partner and the variable or file, never
//! the token.

use std::path::{Path, PathBuf};
use std::time::Duration;

use taxii::client::{ClientOptions, Credentials, TaxiiClient};
use zeroize::Zeroize as _;

use crate::agreement::PartnerConfig;

/// Where a partner's token could not be found, or why its client cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// `token_env` names a variable that is not set (or not UTF-8).
    #[error(
        "partner {partner}: the environment variable {variable} (token_env) is not set in the \
         node's environment"
    )]
    MissingVariable {
        /// The partner.
        partner: String,
        /// The variable.
        variable: String,
    },
    /// `token_file` cannot be read.
    #[error("partner {partner}: cannot read the token file {} (token_file): {reason}", file.display())]
    UnreadableFile {
        /// The partner.
        partner: String,
        /// The file.
        file: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The variable or file holds nothing but white space.
    #[error("partner {partner}: {origin} holds an empty token")]
    Empty {
        /// The partner.
        partner: String,
        /// `the environment variable X` or `the token file F`.
        origin: String,
    },
    /// Neither `token_env` nor `token_file` is set.
    #[error("partner {partner}: no token_env or token_file, so its server cannot be reached")]
    NoCredentials {
        /// The partner.
        partner: String,
    },
    /// The partner has no `url`: it is reached by files only.
    #[error("partner {partner}: no url, so it cannot be pulled from or pushed to")]
    NoUrl {
        /// The partner.
        partner: String,
    },
    /// The URL, API root or token cannot make a client.
    #[error("partner {partner}: {reason}")]
    Client {
        /// The partner.
        partner: String,
        /// The client's message (it never holds the token).
        reason: String,
    },
}

/// Reads a partner's token: `token_env` through `env` (the process environment in
/// the node, a map in tests), or `token_file` (surrounding white space removed).
pub fn token(
    partner: &PartnerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, CredentialError> {
    let name = || partner.name.clone();
    let (mut text, origin) = match (&partner.token_env, &partner.token_file) {
        (Some(variable), _) => {
            let text = env(variable).ok_or_else(|| CredentialError::MissingVariable {
                partner: name(),
                variable: variable.clone(),
            })?;
            (text, format!("the environment variable {variable}"))
        }
        (None, Some(file)) => (
            read_file(&partner.name, file)?,
            format!("the token file {}", file.display()),
        ),
        (None, None) => return Err(CredentialError::NoCredentials { partner: name() }),
    };
    let token = text.trim().to_owned();
    text.zeroize();
    if token.is_empty() {
        return Err(CredentialError::Empty {
            partner: name(),
            origin,
        });
    }
    Ok(Credentials::bearer(token))
}

fn read_file(partner: &str, file: &Path) -> Result<String, CredentialError> {
    std::fs::read_to_string(file).map_err(|e| CredentialError::UnreadableFile {
        partner: partner.to_owned(),
        file: file.to_owned(),
        reason: e.to_string(),
    })
}

/// The partner's API root URL: `url` with `api_root` as one more path segment,
/// ending in `/` (`https://paris.example:8443/` + `api` → `…/api/`).
pub fn api_root_url(partner: &PartnerConfig) -> Result<String, CredentialError> {
    let Some(url) = &partner.url else {
        return Err(CredentialError::NoUrl {
            partner: partner.name.clone(),
        });
    };
    Ok(format!(
        "{}/{}/",
        url.trim_end_matches('/'),
        partner.api_root.trim_matches('/')
    ))
}

/// A client of the partner's API root with our token, the given request timeout,
/// the partner's `ca_file` trusted besides the built-in roots, and otherwise the
/// client's defaults (plain HTTP to loopback only).
pub fn client(
    partner: &PartnerConfig,
    env: &dyn Fn(&str) -> Option<String>,
    timeout: Duration,
) -> Result<TaxiiClient, CredentialError> {
    let mut options = ClientOptions::new(api_root_url(partner)?)
        .credentials(token(partner, env)?)
        .timeout(timeout);
    if let Some(file) = &partner.ca_file {
        let pem = std::fs::read(file).map_err(|e| CredentialError::Client {
            partner: partner.name.clone(),
            reason: format!("cannot read the CA file {} (ca_file): {e}", file.display()),
        })?;
        options = options.trust_ca_pem(pem);
    }
    TaxiiClient::new(options).map_err(|e| CredentialError::Client {
        partner: partner.name.clone(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    use std::collections::HashMap;

    const SECRET: &str = "psl_do-not-print-me";

    fn partner() -> PartnerConfig {
        let text = r#"
            name = "paris"
            identity = "identity--8a3c39f5-b7d5-4b05-8a7e-21a1d7d2e3a1"
            public_key = "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
            url = "http://127.0.0.1:8443/"
        "#;
        toml::from_str(text).unwrap()
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_partners_ca_file_is_read_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut paris = partner();
        paris.token_env = Some("T".into());
        paris.ca_file = Some(dir.path().join("missing-ca.pem"));
        let env = env(&[("T", SECRET)]);
        let error = client(&paris, &env, Duration::from_secs(5))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.contains("paris")
                && error.contains("ca_file")
                && error.contains("missing-ca.pem"),
            "{error}"
        );
        assert!(!error.contains(SECRET));
        // Not a certificate: the client refuses it, naming the partner.
        let bad = dir.path().join("bad.pem");
        std::fs::write(&bad, "not a certificate").unwrap();
        paris.ca_file = Some(bad);
        let error = client(&paris, &env, Duration::from_secs(5))
            .err()
            .unwrap()
            .to_string();
        assert!(error.starts_with("partner paris:"), "{error}");
    }

    #[test]
    fn token_from_the_environment() {
        let mut p = partner();
        p.token_env = Some("PASSERELLE_TOKEN_PARIS".into());
        let credentials = token(
            &p,
            &env(&[("PASSERELLE_TOKEN_PARIS", &format!(" {SECRET}\n"))]),
        )
        .unwrap();
        assert_eq!(credentials, Credentials::bearer(SECRET));
        let e = token(&p, &env(&[])).unwrap_err().to_string();
        assert_eq!(
            e,
            "partner paris: the environment variable PASSERELLE_TOKEN_PARIS (token_env) is not set \
             in the node's environment"
        );
        let e = token(&p, &env(&[("PASSERELLE_TOKEN_PARIS", "  \n")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "partner paris: the environment variable PASSERELLE_TOKEN_PARIS holds an empty token"
        );
    }

    #[test]
    fn token_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("paris.token");
        std::fs::write(&file, format!("{SECRET}\n")).unwrap();
        let mut p = partner();
        p.token_file = Some(file.clone());
        assert_eq!(token(&p, &env(&[])).unwrap(), Credentials::bearer(SECRET));

        p.token_file = Some(dir.path().join("missing.token"));
        let e = token(&p, &env(&[])).unwrap_err().to_string();
        assert!(
            e.starts_with("partner paris: cannot read the token file "),
            "{e}"
        );
        assert!(e.contains("missing.token (token_file)"), "{e}");

        std::fs::write(&file, "\n").unwrap();
        p.token_file = Some(file);
        let e = token(&p, &env(&[])).unwrap_err().to_string();
        assert!(e.contains("paris.token holds an empty token"), "{e}");
    }

    #[test]
    fn errors_and_debug_output_never_hold_the_token() {
        let mut p = partner();
        p.token_env = Some("T".into());
        let credentials = token(&p, &env(&[("T", SECRET)])).unwrap();
        assert!(!format!("{credentials:?}").contains(SECRET));
        let client = client(&p, &env(&[("T", SECRET)]), Duration::from_secs(1)).unwrap();
        assert!(!format!("{client:?}").contains(SECRET));
        // A token a header cannot carry: the error says why, not what.
        let e = super::client(&p, &env(&[("T", "psl_a\u{7}b")]), Duration::from_secs(1))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("partner paris: credentials: "), "{e}");
        assert!(!e.contains("psl_a"), "{e}");
    }

    #[test]
    fn no_credentials_or_url() {
        let p = partner();
        assert_eq!(
            token(&p, &env(&[])).unwrap_err(),
            CredentialError::NoCredentials {
                partner: "paris".into()
            }
        );
        let mut p = partner();
        p.url = None;
        p.token_env = Some("T".into());
        let e = client(&p, &env(&[("T", SECRET)]), Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "partner paris: no url, so it cannot be pulled from or pushed to"
        );
    }

    #[test]
    fn api_root_urls() {
        let mut p = partner();
        assert_eq!(api_root_url(&p).unwrap(), "http://127.0.0.1:8443/api/");
        p.url = Some("https://paris.example:8443".into());
        p.api_root = "/taxii/".into();
        assert_eq!(
            api_root_url(&p).unwrap(),
            "https://paris.example:8443/taxii/"
        );
        p.url = Some("https://paris.example/base/".into());
        p.api_root = "api".into();
        assert_eq!(api_root_url(&p).unwrap(), "https://paris.example/base/api/");
    }
}
