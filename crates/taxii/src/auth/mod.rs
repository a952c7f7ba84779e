//! Who is asking and what they may do: credentials from the `Authorization`
//! header (Bearer API tokens, HTTP Basic with argon2 passwords), and the
//! per-collection rights that decide 403 and 404 (§1.6.9, §5).
//!
//! Rules: no or bad credentials → 401 with a `WWW-Authenticate` challenge;
//! a collection the account has no right on → 404, as if it did not exist; a
//! collection it may see but not use that way → 403. Admins may do everything.

pub mod basic_cache;
pub mod secrets;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use store::{Account, Collection, Rights, StoreError};

use crate::error::TaxiiError;
use crate::filters::quoted;
use crate::state::AppState;

pub use secrets::{TOKEN_PREFIX, generate_token, hash_password, token_hash, verify_password};

/// The authenticated account of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account.
    pub account: Account,
}

impl Principal {
    /// The account's name.
    pub fn name(&self) -> &str {
        &self.account.name
    }
}

/// The credentials a request presents.
#[derive(PartialEq, Eq)]
enum Credentials {
    Bearer(String),
    Basic { user: String, password: String },
}

// Never print a secret, even in a debug log.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer(..)"),
            Credentials::Basic { user, .. } => write!(f, "Basic({user:?}, ..)"),
        }
    }
}

fn unauthorized(message: &str) -> TaxiiError {
    TaxiiError::Unauthorized(message.to_owned())
}

/// Reads the `Authorization` header (RFC 7235: the scheme is case-insensitive).
fn credentials(headers: &HeaderMap) -> Result<Credentials, TaxiiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(unauthorized(
            "this server needs credentials: an API token as 'Authorization: Bearer <token>' or HTTP Basic",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not readable text"))?;
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err(unauthorized("the Bearer credentials have no token"));
        }
        Ok(Credentials::Bearer(rest.to_owned()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                unauthorized("the Basic credentials are not base64 of UTF-8 'user:password'")
            })?;
        let (user, password) = decoded.split_once(':').ok_or_else(|| {
            unauthorized("the Basic credentials have no ':' between user and password")
        })?;
        Ok(Credentials::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    } else {
        Err(unauthorized(
            "unsupported authorization scheme; use Bearer (API token) or Basic",
        ))
    }
}

/// Authenticates a request, or fails with 401.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, TaxiiError> {
    match credentials(headers)? {
        Credentials::Bearer(token) => {
            let hash = token_hash(&token);
            match state.store.account_by_token(&hash).await {
                Ok(account) => Ok(Principal { account }),
                Err(StoreError::NotFound { .. }) => {
                    tracing::info!("rejected an unknown API token");
                    Err(unauthorized("the API token is not valid"))
                }
                Err(e) => Err(e.into()),
            }
        }
        Credentials::Basic { user, password } => {
            let stored = match state.store.password_hash(&user).await {
                Ok(hash) => hash,
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            let known = stored.is_some();
            let phc = stored.unwrap_or_else(|| secrets::decoy_hash().to_owned());
            let now = state.clock.now();
            let matches = if known && state.basic_cache.is_verified(&user, &password, &phc, now) {
                true
            } else {
                // argon2 is deliberately slow: keep it off the async workers.
                let (password_copy, phc_copy) = (password.clone(), phc.clone());
                let matches =
                    tokio::task::spawn_blocking(move || verify_password(&password_copy, &phc_copy))
                        .await
                        .map_err(|e| TaxiiError::Internal(format!("password check failed: {e}")))?;
                if known && matches {
                    state.basic_cache.remember(&user, &password, &phc, now);
                }
                matches
            };
            if !(known && matches) {
                tracing::info!(user = %user, "rejected HTTP Basic credentials");
                return Err(unauthorized("the user name or password is not valid"));
            }
            let account = match state.store.get_account(&user).await {
                Ok(account) => account,
                // Deleted between the two reads.
                Err(StoreError::NotFound { .. }) => {
                    return Err(unauthorized("the user name or password is not valid"));
                }
                Err(e) => return Err(e.into()),
            };
            Ok(Principal { account })
        }
    }
}

/// An account's rights on a collection; admins have every right.
pub async fn rights_on(
    state: &AppState,
    who: &Principal,
    collection: &Collection,
) -> Result<Rights, TaxiiError> {
    if who.account.admin {
        return Ok(Rights {
            read: true,
            write: true,
        });
    }
    Ok(state.store.rights(who.name(), collection.id).await?)
}

/// What a request wants to do in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// See the collection resource: any right will do.
    See,
    /// Read objects, manifests and versions.
    Read,
    /// Add objects.
    Write,
    /// Delete objects: both rights (§5.7).
    ReadWrite,
}

fn not_found(id_or_alias: &str) -> TaxiiError {
    TaxiiError::NotFound(format!(
        "no collection {} in this API root",
        quoted(id_or_alias)
    ))
}

/// Finds a collection by id or alias and checks the account may do `need`
/// there: 404 if it has no right at all (or no such collection), 403 if it
/// may see the collection but not do this.
pub async fn collection_for(
    state: &AppState,
    who: &Principal,
    id_or_alias: &str,
    need: Need,
) -> Result<(Collection, Rights), TaxiiError> {
    let collection = match state.store.find_collection(id_or_alias).await {
        Ok(c) => c,
        Err(StoreError::NotFound { .. }) => return Err(not_found(id_or_alias)),
        Err(e) => return Err(e.into()),
    };
    let rights = rights_on(state, who, &collection).await?;
    if !rights.read && !rights.write {
        return Err(not_found(id_or_alias));
    }
    let allowed = match need {
        Need::See => true,
        Need::Read => rights.read,
        Need::Write => rights.write,
        Need::ReadWrite => rights.read && rights.write,
    };
    if !allowed {
        let what = match need {
            Need::Read => "read from",
            Need::Write => "add objects to",
            _ => "delete objects from",
        };
        return Err(TaxiiError::Forbidden(format!(
            "account {} may not {what} collection {}",
            quoted(who.name()),
            quoted(id_or_alias)
        )));
    }
    Ok((collection, rights))
}

/// The collections an account may use, each with its rights, in the store's
/// (stable) order.
pub async fn visible_collections(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<(Collection, Rights)>, TaxiiError> {
    let collections = state.store.list_collections().await?;
    if who.account.admin {
        let all = Rights {
            read: true,
            write: true,
        };
        return Ok(collections.into_iter().map(|c| (c, all)).collect());
    }
    let grants = state.store.grants_of_account(who.name()).await?;
    Ok(collections
        .into_iter()
        .filter_map(|c| {
            let rights = grants
                .iter()
                .find(|g| g.collection == c.id)
                .map(|g| g.rights)
                .unwrap_or_default();
            (rights.read || rights.write).then_some((c, rights))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn reads_bearer_and_basic() {
        assert_eq!(
            credentials(&with("Bearer psl_abc")).unwrap(),
            Credentials::Bearer("psl_abc".into())
        );
        assert_eq!(
            credentials(&with("bearer   psl_abc ")).unwrap(),
            Credentials::Bearer("psl_abc".into())
        );
        // "alice:s3cr:et" — the password may contain colons.
        assert_eq!(
            credentials(&with("BASIC YWxpY2U6czNjcjpldA==")).unwrap(),
            Credentials::Basic {
                user: "alice".into(),
                password: "s3cr:et".into()
            }
        );
    }

    #[test]
    fn refuses_what_is_not_credentials() {
        for value in [
            "",
            "Bearer",
            "Bearer ",
            "Digest x",
            "Basic !!!",
            "Basic YWxpY2U=",
        ] {
            let e = credentials(&with(value)).unwrap_err();
            assert_eq!(e.status().as_u16(), 401, "{value}");
        }
        assert_eq!(
            credentials(&HeaderMap::new())
                .unwrap_err()
                .status()
                .as_u16(),
            401
        );
        let mut two = with("Bearer a");
        two.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(credentials(&two).unwrap_err().status().as_u16(), 401);
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::Basic {
            user: "alice".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credentials::Bearer("psl_x".into())).contains("psl_x"));
    }
}
