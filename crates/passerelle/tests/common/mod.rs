//! Helpers for tests that run the real `passerelle` binary: commands with
//! their output, a `serve` process waited on until it prints its URL, and a
//! minimal HTTP/1.1 client (plain or TLS) so requests cross a real socket.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::JoinHandle;

use store::postgres::testing::{self, TempDatabase};
use store::test_backend::{TestBackend, test_backend};
use store::{Clock, PostgresStore, SqliteStore, Store, SystemClock};

pub const TAXII: &str = "application/taxii+json;version=2.1";

/// Polls `check` every 100 ms until it returns `Some`, for at most `limit`: how a
/// test waits for another process to reach a state.
pub fn wait_for<T>(
    limit: std::time::Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "gave up waiting for {what} after {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A `passerelle` command with a clean environment for its settings, on the test
/// backend: with `PASSERELLE_TEST_BACKEND=postgres`, the node of its `--data` folder
/// is given that folder's PostgreSQL database (`PASSERELLE__STORE__URL`), and `demo`
/// is given `--postgres` with the test server (each demo node a database of its own,
/// named in its config), so the same test runs on either backend. A test that runs
/// `demo --keep` drops the kept databases with a [`DemoDatabases`].
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_passerelle"));
    command.args(args);
    if args.first() == Some(&"demo")
        && test_backend() == TestBackend::Postgres
        && !args.contains(&"--postgres")
    {
        command.args(["--postgres", &testing::test_server()]);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PASSERELLE__") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    if let Some(url) = data_arg(args).and_then(|data| postgres_url_for(&data)) {
        command.env("PASSERELLE__STORE__URL", url);
    }
    command
}

/// The value of `--data DIR` (or `--data=DIR`) in `args`.
fn data_arg(args: &[&str]) -> Option<PathBuf> {
    args.iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix("--data") {
            Some("") => args.get(i + 1).map(PathBuf::from),
            Some(rest) => rest.strip_prefix('=').map(PathBuf::from),
            None => None,
        })
}

/// The databases of the data folders this test process named, by folder. Never
/// dropped (a static): the test command drops what is left of `passerelle_test_*`
/// after the PostgreSQL pass (`scripts/test.sh`).
static DATABASES: LazyLock<Mutex<HashMap<PathBuf, TempDatabase>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// With `PASSERELLE_TEST_BACKEND=postgres`, the URL of `data`'s PostgreSQL database:
/// the one its `passerelle.toml` names (`[store] url`, as the demo writes), else
/// one created for this folder on first use. `None` on SQLite.
pub fn postgres_url_for(data: &Path) -> Option<String> {
    if test_backend() != TestBackend::Postgres {
        return None;
    }
    if let Some(url) = configured_url(data) {
        return Some(url);
    }
    let mut databases = DATABASES.lock().unwrap();
    let database = databases.entry(data.to_path_buf()).or_default();
    Some(database.url().to_owned())
}

/// A `url = "postgres…"` line of `data`'s config file.
fn configured_url(data: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data.join("passerelle.toml")).ok()?;
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix("url")?.trim().strip_prefix('=')?;
        let value = value.trim().trim_matches('"');
        value.starts_with("postgres").then(|| value.to_owned())
    })
}

/// The store of the node in `data` on the test backend (its `passerelle.db`, or its
/// PostgreSQL database), for tests that read a node's state directly.
pub async fn open_store(data: &Path) -> Arc<dyn Store> {
    open_store_with_clock(data, Arc::new(SystemClock)).await
}

/// [`open_store`] with the store's clock.
pub async fn open_store_with_clock(data: &Path, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
    match postgres_url_for(data) {
        Some(url) => Arc::new(
            PostgresStore::connect_existing(&url, clock)
                .await
                .unwrap_or_else(|e| panic!("open the database of {}: {e}", data.display())),
        ),
        None => Arc::new(
            SqliteStore::open(data, clock)
                .unwrap_or_else(|e| panic!("open the database of {}: {e}", data.display())),
        ),
    }
}

/// The databases `passerelle demo --keep DIR` made on the test server (one per node,
/// named in `DIR/<node>/passerelle.toml`), dropped when this is dropped, also when
/// the test fails. Nothing for a demo on SQLite files.
pub struct DemoDatabases(PathBuf);

impl DemoDatabases {
    /// For the demo kept in `dir`; create it before the demo runs, after `dir`.
    pub fn of(dir: &Path) -> DemoDatabases {
        DemoDatabases(dir.to_path_buf())
    }
}

impl Drop for DemoDatabases {
    fn drop(&mut self) {
        let Ok(folders) = std::fs::read_dir(&self.0) else {
            return;
        };
        for folder in folders.flatten() {
            if let Some(url) = configured_url(&folder.path()) {
                let name = url.rsplit('/').next().unwrap_or("");
                let name = name.split('?').next().unwrap_or("");
                drop(TempDatabase::adopt(name));
            }
        }
    }
}

/// A copy of the node in `from` at `to`: every file of its folder (its SQLite
/// database with them) and, on PostgreSQL, its database into a new one of `to`'s
/// (through `store::copy_node`, which keeps every row as it is, ledger included).
pub fn copy_node(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    let Some(url) = postgres_url_for(to) else {
        return;
    };
    assert!(
        configured_url(from).is_none(),
        "{} names its database in its config: the copy would share it",
        from.display()
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let source = open_store(from).await;
        let target = PostgresStore::connect(&url, Arc::new(SystemClock))
            .await
            .unwrap();
        store::copy_node(source.as_ref(), &target, &|_| {})
            .await
            .unwrap_or_else(|e| panic!("copy the node of {}: {e}", from.display()));
    });
}

/// Runs SQL on the store of the node in `data`, behind Passerelle's back (to tamper
/// with it): `sqlite` on its `passerelle.db`, or `postgres` on its PostgreSQL
/// database, each a batch of statements for that backend's schema.
pub fn execute_sql(data: &Path, sqlite: &str, postgres: &str) {
    match postgres_url_for(data) {
        None => {
            let connection = rusqlite::Connection::open(data.join(store::sqlite::FILE_NAME))
                .unwrap_or_else(|e| panic!("open the database of {}: {e}", data.display()));
            connection
                .execute_batch(sqlite)
                .unwrap_or_else(|e| panic!("{sqlite}: {e}"));
        }
        Some(url) => tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connect to the database of {}: {e}", data.display()));
            let connection = tokio::spawn(connection);
            client
                .batch_execute(postgres)
                .await
                .unwrap_or_else(|e| panic!("{postgres}: {e:?}"));
            drop(client);
            connection.await.unwrap().unwrap();
        }),
    }
}

/// Runs `passerelle` to completion, with `stdin` as its input.
pub fn run(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = command(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start passerelle");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for passerelle")
}

/// Runs `passerelle` and asserts it succeeded; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let output = run(args, &[], b"");
    assert!(
        output.status.success(),
        "passerelle {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).expect("UTF-8 stdout")
}

/// The API token in the output of `init` or a first `serve`.
pub fn token_in(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("API token"))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("no API token in:\n{stdout}"))
}

/// A running `passerelle serve`.
pub struct Server {
    child: Child,
    /// The base URL it printed, such as `http://127.0.0.1:41234`.
    pub base_url: String,
    /// The address to connect to.
    pub addr: String,
    /// What it printed on stdout up to and including the URL line.
    pub stdout: String,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts `passerelle serve ARGS` with `env` and waits until it prints its URL.
    /// Panics with its stderr if it exits first.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut full = vec!["serve"];
        full.extend_from_slice(args);
        let mut child = command(&full)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start passerelle serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stderr);
        // Drained continuously so that logging never blocks on a full pipe.
        let stderr_reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut stdout = String::new();
        let base_url = loop {
            let mut line = String::new();
            let n = lines.read_line(&mut line).expect("read serve stdout");
            if n == 0 {
                let status = child.wait().expect("wait");
                let _ = stderr_reader.join();
                panic!(
                    "serve exited ({status}) before printing its URL\nstdout:\n{stdout}\nstderr:\n{}",
                    String::from_utf8_lossy(&stderr.lock().unwrap())
                );
            }
            stdout.push_str(&line);
            if let Some(url) = line
                .trim()
                .strip_prefix("Passerelle is serving TAXII 2.1 at ")
            {
                break url.trim_end_matches("/taxii2/").to_owned();
            }
        };
        // The rest of stdout is not needed; keep the pipe open by holding the reader.
        std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = lines.read_to_end(&mut rest);
        });
        let addr = base_url
            .split_once("://")
            .map(|(_, addr)| addr.to_owned())
            .expect("URL with scheme");
        Server {
            child,
            base_url,
            addr,
            stdout,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status and all of stderr.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.stop_with("-TERM")
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for the process to exit.
    pub fn interrupt(self) -> (ExitStatus, String) {
        self.stop_with("-INT")
    }

    fn stop_with(mut self, signal: &str) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
        let status = self.child.wait().expect("wait for serve");
        if let Some(reader) = self.stderr_reader.take() {
            reader.join().expect("stderr reader");
        }
        let stderr = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        (status, stderr)
    }

    /// A GET with optional credentials (the value of `Authorization`).
    pub fn get(&self, path: &str, authorization: Option<&str>) -> Response {
        let mut headers = vec![("Accept", TAXII.to_owned())];
        if let Some(value) = authorization {
            headers.push(("Authorization", value.to_owned()));
        }
        let stream = TcpStream::connect(&self.addr).expect("connect");
        request(stream, "GET", path, &headers, b"")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that failed before terminating must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole response.
pub fn request(
    mut stream: impl Read + Write,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Response {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(body).expect("send body");
    stream.flush().expect("flush");
    let mut raw = Vec::new();
    // A TLS peer may close without close_notify after Connection: close; what was read counts.
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).expect("UTF-8 head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).expect("chunk size");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("hex chunk size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// `Basic` credentials for `user` and `password`.
pub fn basic(user: &str, password: &str) -> String {
    // Tiny base64 encoder, to keep tests free of one more dependency.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.to_str().expect("UTF-8 path").to_owned()
}

/// The test database's URL with a password in it, and that password: a server that
/// trusts local connections ignores it, and it must never be printed.
pub fn url_with_password(db: &store::postgres::testing::TempDatabase) -> (String, String) {
    with_password(db.url())
}

/// `url` with a password in it, and that password (see [`url_with_password`]).
pub fn with_password(url: &str) -> (String, String) {
    let url = url.to_owned();
    let start = url.find("://").unwrap() + 3;
    let authority_end = start + url[start..].find('/').unwrap();
    match url[start..authority_end].rfind('@') {
        Some(at) if url[start..start + at].contains(':') => {
            let userinfo = &url[start..start + at];
            let password = userinfo.split_once(':').unwrap().1.to_owned();
            (url, password)
        }
        Some(at) => {
            let password = "not-a-real-password-7f3a".to_owned();
            let with = format!("{}:{password}{}", &url[..start + at], &url[start + at..]);
            (with, password)
        }
        None => {
            let password = "not-a-real-password-7f3a".to_owned();
            let with = format!("{}postgres:{password}@{}", &url[..start], &url[start..]);
            (with, password)
        }
    }
}
