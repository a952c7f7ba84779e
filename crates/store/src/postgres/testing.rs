//! (feature `testsuite`) [`TempDatabase`]: a PostgreSQL database of its own for one
//! test, created on a server given by `PASSERELLE_TEST_POSTGRES` and dropped after.
// Test support compiled into the library behind a feature: a failed setup stops the
// test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::server;

/// The environment variable naming the server tests use, as a `postgres://` URL of a
/// database the user may connect to and a user who may create databases.
pub const SERVER_ENV: &str = "PASSERELLE_TEST_POSTGRES";

/// The server when [`SERVER_ENV`] is not set.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The environment variable naming a test run (lower-case letters and digits, at most
/// 12): its databases are `passerelle_test_<run>_<random>`, so the test command can
/// drop what its run left behind (the binary tests' per-folder databases live until
/// their process exits) without touching another run's on the same server.
pub const RUN_ENV: &str = "PASSERELLE_TEST_RUN";

/// The server tests use: [`SERVER_ENV`], else [`DEFAULT_SERVER`].
pub fn test_server() -> String {
    std::env::var(SERVER_ENV).unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// A fresh, empty database named `passerelle_test_<random>` (or
/// `passerelle_test_<run>_<random>`, see [`RUN_ENV`]), dropped (with any
/// connection still open to it) when this is dropped.
///
/// Creating one panics when the server cannot be reached: the tests that use it need
/// PostgreSQL, and are never skipped silently.
#[derive(Debug)]
pub struct TempDatabase {
    server: String,
    name: String,
    url: String,
}

impl TempDatabase {
    /// Creates the database. Blocks (on a thread of its own, so it may be called from
    /// async tests too).
    pub fn new() -> TempDatabase {
        let server = test_server();
        let random = uuid::Uuid::new_v4().simple();
        let name = match std::env::var(RUN_ENV).ok().filter(|run| !run.is_empty()) {
            Some(run) => {
                assert!(
                    run.len() <= 12
                        && run
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                    "{RUN_ENV}={run:?}: expected at most 12 lower-case letters and digits"
                );
                format!("passerelle_test_{run}_{random}")
            }
            None => format!("passerelle_test_{random}"),
        };
        let url = server::database_url(&server, &name);
        if let Err(error) = on_server(&server, &name, async |server, name| {
            server::create_database(&server, &name).await
        }) {
            panic!(
                "cannot create a test database on the PostgreSQL server {} ({error}): \
                 these tests need PostgreSQL; start one or point {SERVER_ENV} at one \
                 (a postgres:// URL whose user may create databases)",
                super::redacted_url(&server)
            );
        }
        TempDatabase { server, name, url }
    }

    /// The existing database `name` on the test server, dropped when this is dropped:
    /// for a database the test had a program create (`passerelle demo --postgres`).
    pub fn adopt(name: &str) -> TempDatabase {
        let server = test_server();
        TempDatabase {
            url: server::database_url(&server, name),
            name: name.to_owned(),
            server,
        }
    }

    /// The database's URL, for [`PostgresStore::connect`](super::PostgresStore::connect)
    /// or a node's `[store] url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Default for TempDatabase {
    fn default() -> TempDatabase {
        TempDatabase::new()
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a store or a child process still holds.
        if let Err(error) = on_server(&self.server, &self.name, async |server, name| {
            server::drop_database(&server, &name).await
        }) {
            eprintln!("could not drop the test database {}: {error}", self.name);
        }
    }
}

/// Runs `work` (a create or a drop of [`super::server`]) on a thread with its own
/// runtime: callable from `Drop` and from inside another runtime alike. Never panics;
/// the error names the server's reason.
fn on_server<F, Fut>(server: &str, name: &str, work: F) -> Result<(), String>
where
    F: FnOnce(String, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = crate::error::Result<()>>,
{
    let (server, name) = (server.to_owned(), name.to_owned());
    let thread = std::thread::spawn(move || -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime
            .block_on(work(server, name))
            .map_err(|e| error_chain(&e))
    });
    thread
        .join()
        .unwrap_or_else(|_| Err("the database thread stopped".into()))
}

/// An error with its sources, as `a: b: c`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
