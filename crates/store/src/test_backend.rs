//! (feature `testsuite`) The backend other crates' tests run on, chosen by
//! `PASSERELLE_TEST_BACKEND` (`sqlite`, the default, or `postgres`), so the test command
//! can run the TAXII and federation tests once per backend from one build.
// Test support compiled into the library behind a feature: a failed setup stops the
// test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use crate::postgres::testing::TempDatabase;
use crate::{Clock, PostgresStore, SqliteStore, Store};

/// The environment variable that names the backend.
pub const BACKEND_ENV: &str = "PASSERELLE_TEST_BACKEND";

/// A backend tests can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A SQLite file in the test's temporary folder.
    Sqlite,
    /// A database of its own on the PostgreSQL server of [`TempDatabase`].
    Postgres,
}

/// The backend [`BACKEND_ENV`] names; panics on anything else, so a typo never
/// quietly runs the default.
pub fn test_backend() -> TestBackend {
    match std::env::var(BACKEND_ENV).as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => TestBackend::Sqlite,
        Ok("postgres") => TestBackend::Postgres,
        Ok(other) => panic!("{BACKEND_ENV}={other:?}: expected sqlite or postgres"),
    }
}

/// A fresh store on the test backend and what keeps it alive: the SQLite file goes
/// in `dir`; a PostgreSQL database is dropped with the returned [`TempDatabase`].
pub async fn fresh_store(
    dir: &Path,
    clock: Arc<dyn Clock>,
) -> (Arc<dyn Store>, Option<TempDatabase>) {
    match test_backend() {
        TestBackend::Sqlite => (Arc::new(SqliteStore::open(dir, clock).unwrap()), None),
        TestBackend::Postgres => {
            let database = TempDatabase::new();
            let store = PostgresStore::connect(database.url(), clock).await.unwrap();
            (Arc::new(store), Some(database))
        }
    }
}
