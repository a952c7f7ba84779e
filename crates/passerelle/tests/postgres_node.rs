//! A node on PostgreSQL (`[store] url`), with real processes and sockets: `init` creates
//! the schema, `serve` stores an object posted over TAXII and serves it back, the
//! commands open the same database, and the URL's password never reaches the output;
//! `demo --postgres` makes a database per node and drops them, unless kept.
//!
//! Needs a PostgreSQL server: `PASSERELLE_TEST_POSTGRES`, by default
//! `postgres://postgres@127.0.0.1:5432/test`.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::net::TcpStream;

use common::{Server, TAXII, request, run, token_in, url_with_password};
use store::postgres::testing::{self, TempDatabase};

const LOOPBACK_ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");
const URL_VAR: &str = "PASSERELLE__STORE__URL";

fn passerelle(args: &[&str], url: &str) -> std::process::Output {
    run(args, &[(URL_VAR, url)], b"")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn init_and_serve_on_postgres_store_and_serve_an_object() {
    let db = TempDatabase::new();
    let (url, password) = url_with_password(&db);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node").to_str().unwrap().to_owned();

    let init = passerelle(&["init", "--data", &data], &url);
    let (stdout, stderr) = (text(&init.stdout), text(&init.stderr));
    assert!(init.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("database       postgres://") && stdout.contains(db.name()),
        "{stdout}"
    );
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    assert!(
        !dir.path().join("node/passerelle.db").exists(),
        "no SQLite file beside a PostgreSQL store"
    );
    let token = token_in(&stdout);

    // The database now holds a node: init refuses to make another in it.
    let again = passerelle(&["init", "--data", &data], &url);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stdout));
    let message = text(&again.stderr);
    assert!(message.contains("already initialised"), "{message}");
    assert!(!message.contains(&password), "{message}");

    let server = Server::start(&["--data", &data], &[LOOPBACK_ANY_PORT, (URL_VAR, &url)]);
    assert!(!server.stdout.contains("API token"), "{}", server.stdout);
    let bearer = format!("Bearer {token}");
    let collections = server.get("/api/collections/", Some(&bearer));
    assert_eq!(collections.status, 200, "{collections:?}");
    let collection = collections.json()["collections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let object = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z","name":"Postgres-backed indicator","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2024-03-01T10:00:00Z"}"#;
    let envelope = format!(r#"{{"objects":[{object}]}}"#);
    let path = format!("/api/collections/{collection}/objects/");
    let posted = request(
        TcpStream::connect(&server.addr).unwrap(),
        "POST",
        &path,
        &[
            ("Accept", TAXII.to_owned()),
            ("Content-Type", TAXII.to_owned()),
            ("Authorization", bearer.clone()),
        ],
        envelope.as_bytes(),
    );
    assert_eq!(posted.status, 202, "{}", text(&posted.body));
    assert_eq!(posted.json()["success_count"], 1, "{}", text(&posted.body));
    let read = server.get(&path, Some(&bearer));
    assert_eq!(read.status, 200, "{read:?}");
    let body = text(&read.body);
    assert!(body.contains(object), "the stored bytes come back: {body}");

    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    assert!(
        !stderr.contains(&password),
        "the password reached the logs:\n{stderr}"
    );

    // Another process (a CLI command) reads what the server stored.
    let listed = passerelle(&["collection", "list", "--data", &data], &url);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(text(&listed.stdout).contains(&collection));
    let exported = passerelle(
        &["export", "--collection", "default", "--data", &data],
        &url,
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(text(&exported.stdout).contains(object));
}

#[test]
fn commands_on_a_database_without_a_node_say_to_run_init() {
    let db = TempDatabase::new();
    let (url, password) = url_with_password(&db);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node").to_str().unwrap().to_owned();
    let listed = passerelle(&["collection", "list", "--data", &data], &url);
    assert!(!listed.status.success());
    let message = text(&listed.stderr);
    assert!(
        message.contains("passerelle init") && message.contains(db.name()),
        "{message}"
    );
    assert!(!message.contains(&password), "{message}");
    // Nothing was created in it.
    assert_eq!(
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(store::postgres::schema_version(db.url()))
            .unwrap(),
        0
    );
}

#[test]
fn the_database_password_is_masked_and_a_bad_url_named() {
    let shown = run(
        &["config", "show"],
        &[(
            URL_VAR,
            "postgres://node:s3cret-pw@db.example:5432/passerelle",
        )],
        b"",
    );
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let stdout = text(&shown.stdout);
    assert!(
        stdout.contains(r#"url = "postgres://node:***@db.example:5432/passerelle""#),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret-pw"), "{stdout}");

    let bad = run(
        &["config", "show"],
        &[(URL_VAR, "mysql://node:s3cret-pw@db.example/passerelle")],
        b"",
    );
    assert!(!bad.status.success());
    let message = text(&bad.stderr);
    assert!(message.contains("[store] url"), "{message}");
    assert!(!message.contains("s3cret-pw"), "{message}");
}

/// Whether the test server has a database `name`.
fn database_exists(name: &str) -> bool {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&testing::test_server(), tokio_postgres::NoTls)
                .await
                .unwrap();
        let connection = tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap();
        drop(client);
        connection.await.unwrap().unwrap();
        row.get::<_, i64>(0) == 1
    })
}

/// The databases the demo says it made, from its `Stores:` line.
fn demo_databases(stdout: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Stores: the PostgreSQL databases "))
        .unwrap_or_else(|| panic!("no Stores line in:\n{stdout}"));
    let (names, _server) = line.split_once(" on ").unwrap();
    names.split(", ").map(str::to_owned).collect()
}

#[test]
fn the_demo_gives_each_node_a_database_and_drops_them_unless_kept() {
    let (server, password) = common::with_password(&testing::test_server());

    let once = run(&["demo", "--once", "--postgres", &server], &[], b"");
    let (stdout, stderr) = (text(&once.stdout), text(&once.stderr));
    assert!(once.status.success(), "{stderr}\n{stdout}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    assert!(stdout.contains("== DGST Rabat"), "{stdout}");
    let names = demo_databases(&stdout);
    assert_eq!(names.len(), 3, "{stdout}");
    for (name, node) in names.iter().zip(["rabat", "paris", "madrid"]) {
        assert!(
            name.starts_with(&format!("passerelle_demo_{node}_")),
            "{name}"
        );
        assert!(!database_exists(name), "{name} is left after the demo");
    }

    // Kept: the databases stay, the output says how to drop them, and the nodes'
    // folders name them, so commands on a kept folder find its node.
    let dir = tempfile::tempdir().unwrap();
    let _databases = common::DemoDatabases::of(dir.path());
    let keep = dir.path().to_str().unwrap();
    let kept = run(
        &["demo", "--once", "--keep", keep, "--postgres", &server],
        &[],
        b"",
    );
    let (stdout, stderr) = (text(&kept.stdout), text(&kept.stderr));
    assert!(kept.status.success(), "{stderr}\n{stdout}");
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    let names = demo_databases(&stdout);
    assert_eq!(names.len(), 3, "{stdout}");
    assert!(
        stdout.contains("The nodes' PostgreSQL databases are kept"),
        "{stdout}"
    );
    for (name, node) in names.iter().zip(["rabat", "paris", "madrid"]) {
        assert!(database_exists(name), "{name} was not kept");
        assert!(
            stdout.contains(&format!("-c 'DROP DATABASE {name}'")),
            "{stdout}"
        );
        let folder = dir.path().join(node);
        let config = std::fs::read_to_string(folder.join("passerelle.toml")).unwrap();
        assert!(config.contains(&format!("/{name}\"")), "{config}");
        assert!(!folder.join("passerelle.db").exists());
        let list = run(
            &["collection", "list", "--data", folder.to_str().unwrap()],
            &[],
            b"",
        );
        assert!(list.status.success(), "{}", text(&list.stderr));
        assert!(
            text(&list.stdout).contains("partners"),
            "{}",
            text(&list.stdout)
        );
    }
}
