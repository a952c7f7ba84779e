//! Store URLs: how an operator names a node's store on the command line
//! (`passerelle migrate --from URL --to URL`), and opening one ([`open`]).
//!
//! A URL is `sqlite:PATH`, a path to a database file (`….db`), a data folder (its
//! `passerelle.db`), or `postgres://…` / `postgresql://…`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use store::Store;

use crate::config::Database;
use crate::node;

/// A store named on the command line.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, as given (it may hold a password: see `Display`).
    Postgres(String),
}

/// Whether opening may create the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The store must exist (a source).
    Existing,
    /// An absent store is created empty, with its folder (a target).
    CreateIfAbsent,
}

impl StoreUrl {
    /// Parses a store URL; a bare path is SQLite.
    pub fn parse(text: &str) -> anyhow::Result<StoreUrl> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(text.to_owned()));
        }
        let path = match text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            Some(path) => path,
            None if text.contains("://") => anyhow::bail!(
                "{text:?} is not a store URL: use sqlite:PATH, a .db file, a data folder, \
                 or postgres://USER@HOST/DATABASE"
            ),
            None => text,
        };
        if path.is_empty() {
            anyhow::bail!("{text:?} names no path");
        }
        Ok(StoreUrl::Sqlite(sqlite_file(Path::new(path))))
    }

    /// The node database this URL names, opened as a node's `[store]` would be.
    pub fn database(&self) -> Database {
        match self {
            StoreUrl::Sqlite(file) => Database::Sqlite(file.clone()),
            StoreUrl::Postgres(url) => Database::Postgres(url.clone()),
        }
    }

    /// The data folder of a SQLite store (where a node keeps its identity and config).
    pub fn sqlite_folder(&self) -> Option<&Path> {
        match self {
            StoreUrl::Sqlite(file) => file.parent(),
            StoreUrl::Postgres(_) => None,
        }
    }

    /// Whether two URLs name the same store (SQLite: the same file, however written).
    pub fn same_store(&self, other: &StoreUrl) -> bool {
        match (self, other) {
            (StoreUrl::Sqlite(a), StoreUrl::Sqlite(b)) => {
                match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => a == b,
                }
            }
            (StoreUrl::Postgres(a), StoreUrl::Postgres(b)) => a == b,
            _ => false,
        }
    }
}

/// The database file a SQLite path names: a folder's `passerelle.db`; a file as it is;
/// a path that does not exist is a file if it ends in `.db`, else a folder to be.
fn sqlite_file(path: &Path) -> PathBuf {
    let is_file_name = path
        .extension()
        .is_some_and(|e| e == "db" || e == "sqlite" || e == "sqlite3");
    if path.is_dir() || (!path.exists() && !is_file_name) {
        path.join(store::sqlite::FILE_NAME)
    } else {
        path.to_owned()
    }
}

impl fmt::Display for StoreUrl {
    /// SQLite as `sqlite:PATH`; PostgreSQL with any password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreUrl::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens the store a URL names, as every command opens a node's store
/// ([`node::open_existing`], [`node::open_store`]): a source must hold a node (SQLite:
/// the file exists; PostgreSQL: the database has a Passerelle schema, migrated if
/// older); a target is created if absent (SQLite: the file and its folder; PostgreSQL:
/// the schema, in a database that must exist on the server).
pub async fn open(url: &StoreUrl, access: Access) -> anyhow::Result<Arc<dyn Store>> {
    let database = url.database();
    match access {
        Access::Existing => match node::open_existing(&database).await? {
            Some(store) => Ok(store),
            None => match url {
                StoreUrl::Sqlite(file) => anyhow::bail!("no database at {}", file.display()),
                // The caller names the URL; this says what is wrong with it.
                StoreUrl::Postgres(_) => anyhow::bail!("the database holds no Passerelle node"),
            },
        },
        Access::CreateIfAbsent => {
            if let StoreUrl::Sqlite(file) = url
                && !file.exists()
                && let Some(folder) = file.parent()
            {
                std::fs::create_dir_all(folder)
                    .with_context(|| format!("cannot create the folder {}", folder.display()))?;
            }
            node::open_store(&database).await
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_files_folders_and_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().to_str().unwrap();
        let db = dir.path().join("passerelle.db");
        assert_eq!(
            StoreUrl::parse(folder).unwrap(),
            StoreUrl::Sqlite(db.clone())
        );
        assert_eq!(
            StoreUrl::parse(&format!("sqlite:{folder}")).unwrap(),
            StoreUrl::Sqlite(db.clone())
        );
        let other = dir.path().join("other.db");
        for text in [
            other.to_str().unwrap().to_owned(),
            format!("sqlite:{}", other.display()),
            format!("sqlite://{}", other.display()),
        ] {
            assert_eq!(
                StoreUrl::parse(&text).unwrap(),
                StoreUrl::Sqlite(other.clone())
            );
        }
        let new_folder = dir.path().join("new-node");
        assert_eq!(
            StoreUrl::parse(new_folder.to_str().unwrap()).unwrap(),
            StoreUrl::Sqlite(new_folder.join("passerelle.db"))
        );
        assert_eq!(
            StoreUrl::parse(new_folder.to_str().unwrap())
                .unwrap()
                .sqlite_folder(),
            Some(new_folder.as_path())
        );
        assert_eq!(
            StoreUrl::parse("postgresql://passerelle@db.internal/passerelle").unwrap(),
            StoreUrl::Postgres("postgresql://passerelle@db.internal/passerelle".into())
        );
        for bad in ["mysql://x/y", "sqlite:", ""] {
            assert!(StoreUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_postgres_password_never_prints() {
        let url =
            StoreUrl::parse("postgres://node:s3cret@db:5432/passerelle?sslmode=require").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://node:***@db:5432/passerelle?sslmode=require"
        );
        assert_eq!(format!("{url:?}"), url.to_string());
        assert_eq!(
            StoreUrl::parse("postgres://node@db/p").unwrap().to_string(),
            "postgres://node@db/p"
        );
    }

    #[test]
    fn the_same_file_written_two_ways_is_the_same_store() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("passerelle.db"), b"").unwrap();
        let a = StoreUrl::parse(dir.path().to_str().unwrap()).unwrap();
        let b = StoreUrl::parse(&format!("{}/./passerelle.db", dir.path().display())).unwrap();
        assert!(a.same_store(&b));
        let c = StoreUrl::parse(&format!("{}/other.db", dir.path().display())).unwrap();
        assert!(!a.same_store(&c));
    }
}
