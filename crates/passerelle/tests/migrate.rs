//! `passerelle migrate` as an operator runs it: a node with real data, accounts, tokens,
//! a password and a ledger entry moved to another store (SQLite to SQLite, SQLite to
//! PostgreSQL and back), then served from there with the same tokens and the same pages
//! byte for byte, its ledger verified; a target that holds a node refused.
//!
//! The PostgreSQL test needs a server: `PASSERELLE_TEST_POSTGRES`, by default
//! `postgres://postgres@127.0.0.1:5432/test`.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::net::TcpStream;
use std::path::Path;

use common::{Response, Server, TAXII, basic, ok, request, run, token_in, url_with_password};
use store::postgres::testing::TempDatabase;

const LOOPBACK_ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");

const ICS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/attack/ics-attack-18.1.json.gz"
);

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A node in `dir/name` with the ICS ATT&CK data in `default`, and an account `siem`
/// that may read it with a token and a password. Returns the data folder, the admin's
/// token and siem's.
fn node_with_data(dir: &Path, name: &str) -> (String, String, String) {
    let data = path(dir, name);
    let admin = token_in(&ok(&["init", "--data", &data]));
    ok(&["import", ICS, "--collection", "default", "--data", &data]);
    ok(&["account", "add", "siem", "--data", &data]);
    ok(&[
        "account", "grant", "siem", "default", "--read", "--data", &data,
    ]);
    let siem = ok(&["token", "create", "siem", "--data", &data])
        .trim()
        .to_owned();
    let set = run(
        &["account", "set-password", "siem", "--data", &data],
        &[],
        b"correct horse battery\n",
    );
    assert!(set.status.success(), "{set:?}");
    (data, admin, siem)
}

fn send(server: &Server, method: &str, path: &str, authorization: &str) -> Response {
    let headers = [
        ("Accept", TAXII.to_owned()),
        ("Authorization", authorization.to_owned()),
    ];
    request(
        TcpStream::connect(&server.addr).unwrap(),
        method,
        path,
        &headers,
        b"",
    )
}

/// One page as a client sees it: status, date-added headers, exact body.
type Page = (u16, String, String, Vec<u8>);

/// The default collection's objects page by page (every version), each page's status,
/// date-added headers and exact body.
fn every_page(server: &Server, authorization: &str) -> Vec<Page> {
    let collections = send(server, "GET", "/api/collections/", authorization).json();
    let id = collections["collections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut pages = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut url = format!("/api/collections/{id}/objects/?limit=400&match[version]=all");
        if let Some(next) = &next {
            url.push_str(&format!("&next={next}"));
        }
        let page = send(server, "GET", &url, authorization);
        assert_eq!(page.status, 200, "{page:?}");
        let body = page.json();
        pages.push((
            page.status,
            page.header("X-TAXII-Date-Added-First").unwrap().to_owned(),
            page.header("X-TAXII-Date-Added-Last").unwrap().to_owned(),
            page.body.clone(),
        ));
        match body["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    pages
}

/// Deletes one object over TAXII (a ledger entry the copies must keep), then reads the
/// node as the copies must read: every page for `siem`, and `audit verify`'s verdict.
fn delete_one_and_read(old: &str, admin: &str, siem: &str) -> (Vec<Page>, String) {
    let server = Server::start(&["--data", old], &[LOOPBACK_ANY_PORT]);
    let collections = send(&server, "GET", "/api/collections/", &bearer(admin)).json();
    let id = collections["collections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = &every_page(&server, &bearer(siem))[0].3;
    let first: serde_json::Value = serde_json::from_slice(first).unwrap();
    let deleted = first["objects"][0]["id"].as_str().unwrap().to_owned();
    let gone = send(
        &server,
        "DELETE",
        &format!("/api/collections/{id}/objects/{deleted}/"),
        &bearer(admin),
    );
    assert_eq!(gone.status, 200, "{gone:?}");
    let before = every_page(&server, &bearer(siem));
    assert!(before.len() > 2, "several pages");
    let (status, _) = server.terminate();
    assert!(status.success());
    let audit = ok(&["audit", "verify", "--data", old]);
    assert!(audit.starts_with("ledger OK: 1 entries"), "{audit}");
    (before, audit)
}

/// Copies what the migrate summary says to copy (fs::copy keeps node.key's mode).
fn copy_folder_files(from: &str, to: &str) {
    std::fs::create_dir_all(to).unwrap();
    for file in ["identity.json", "node.key", "passerelle.toml"] {
        std::fs::copy(Path::new(from).join(file), Path::new(to).join(file)).unwrap();
    }
}

/// Serves a copy and checks it reads as the source did: the same pages byte for byte
/// with siem's token and password, the admin's token, and an unknown token refused.
fn serve_and_compare(
    data: &str,
    env: &[(&str, &str)],
    (admin, siem): (&str, &str),
    before: &[Page],
) -> String {
    let mut env = env.to_vec();
    env.push(LOOPBACK_ANY_PORT);
    let server = Server::start(&["--data", data], &env);
    assert!(
        !server.stdout.contains("API token"),
        "the copy is not a new node: {}",
        server.stdout
    );
    assert_eq!(every_page(&server, &bearer(siem)), before);
    assert_eq!(
        every_page(&server, &basic("siem", "correct horse battery")),
        before
    );
    assert_eq!(
        send(&server, "GET", "/api/collections/", &bearer(admin)).status,
        200
    );
    assert_eq!(
        send(&server, "GET", "/api/", &bearer("psl_not-a-token")).status,
        401
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    stderr
}

#[test]
fn a_migrated_node_serves_the_same_tokens_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (old, admin, siem) = node_with_data(dir.path(), "old");
    let (before, audit_before) = delete_one_and_read(&old, &admin, &siem);

    let new = path(dir.path(), "new");
    let migrated = ok(&[
        "migrate",
        "--from",
        &old,
        "--to",
        &format!("{new}/passerelle.db"),
    ]);
    let versions = 1826 - 1;
    for expected in [
        format!("migrated sqlite:{old}/passerelle.db to sqlite:{new}/passerelle.db"),
        format!("    default: {versions} versions of {versions} objects"),
        "  accounts      2 (2 tokens, 1 rights)".to_owned(),
        "  ledger        1 entries, head entry 1".to_owned(),
        "verified: ".to_owned(),
        format!("identity.json, node.key, passerelle.toml of {old}; copy them to {new}"),
    ] {
        assert!(migrated.contains(&expected), "{expected:?} in:\n{migrated}");
    }
    copy_folder_files(&old, &new);
    serve_and_compare(&new, &[], (&admin, &siem), &before);
    assert_eq!(ok(&["audit", "verify", "--data", &new]), audit_before);
    assert_eq!(
        ok(&["identity", "show", "--data", &new]),
        ok(&["identity", "show", "--data", &old])
    );
}

#[test]
fn migrating_onto_a_node_is_refused_and_names_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (old, _, _) = node_with_data(dir.path(), "old");
    let other = path(dir.path(), "other");
    ok(&["init", "--data", &other]);

    let refused = run(&["migrate", "--from", &old, "--to", &other], &[], b"");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot migrate into sqlite:{other}/passerelle.db: the target already holds a \
             node (1 collection: default; 1 account: admin)"
        )),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
    let listed = ok(&["collection", "list", "--data", &other]);
    assert!(
        listed.lines().nth(1).unwrap().split_whitespace().nth(2) == Some("0"),
        "nothing was copied: {listed}"
    );

    for (to, message) in [
        (old.clone(), "--from and --to are the same store"),
        (
            // Port 1 on loopback: nothing listens there.
            "postgres://node:s3cret@127.0.0.1:1/test".to_owned(),
            "cannot open the target postgres://node:***@127.0.0.1:1/test",
        ),
        ("mysql://db/x".to_owned(), "is not a store URL"),
    ] {
        let output = run(&["migrate", "--from", &old, "--to", &to], &[], b"");
        assert_eq!(output.status.code(), Some(2), "{to}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{to}: {stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    let missing = run(
        &[
            "migrate",
            "--from",
            &path(dir.path(), "nowhere"),
            "--to",
            &path(dir.path(), "x"),
        ],
        &[],
        b"",
    );
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("no database at"), "{stderr}");
    assert!(
        !dir.path().join("x").exists(),
        "no target made for a missing source"
    );
}

/// SQLite → PostgreSQL → a new SQLite file: the PostgreSQL copy, served with `[store]
/// url` from the environment, and the copy of the copy read as the source did, with its
/// ledger verified; the password in the URL is never printed; a database without a
/// node is no source, and one holding a node no target.
#[test]
fn a_node_migrated_to_postgres_and_back_serves_the_same_pages_and_ledger() {
    const URL_VAR: &str = "PASSERELLE__STORE__URL";
    let dir = tempfile::tempdir().unwrap();
    let (old, admin, siem) = node_with_data(dir.path(), "old");
    let (before, audit_before) = delete_one_and_read(&old, &admin, &siem);
    let db = TempDatabase::new();
    let (url, password) = url_with_password(&db);
    let shown = url.replace(&format!(":{password}@"), ":***@");
    let secret_free = |output: &std::process::Output| {
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(
            !stdout.contains(&password) && !stderr.contains(&password),
            "the password was printed:\n{stdout}\n{stderr}"
        );
        (stdout.into_owned(), stderr.into_owned())
    };

    // A database without a node is no source, and is left as it was.
    let empty = run(
        &["migrate", "--from", &url, "--to", &path(dir.path(), "x")],
        &[],
        b"",
    );
    assert_eq!(empty.status.code(), Some(2));
    let (_, stderr) = secret_free(&empty);
    assert!(stderr.contains("holds no Passerelle node"), "{stderr}");
    assert!(!dir.path().join("x").exists());

    let migrated = run(&["migrate", "--from", &old, "--to", &url], &[], b"");
    let (stdout, stderr) = secret_free(&migrated);
    assert!(migrated.status.success(), "{stderr}\n{stdout}");
    let versions = 1826 - 1;
    for expected in [
        format!("migrated sqlite:{old}/passerelle.db to {shown}"),
        format!("    default: {versions} versions of {versions} objects"),
        "  accounts      2 (2 tokens, 1 rights)".to_owned(),
        "  ledger        1 entries, head entry 1".to_owned(),
        "verified: ".to_owned(),
        "not copied (not in the store): ".to_owned(),
    ] {
        assert!(stdout.contains(&expected), "{expected:?} in:\n{stdout}");
    }

    // The PostgreSQL copy, served: the node's files in a folder, the store by URL.
    let on_postgres = path(dir.path(), "on-postgres");
    copy_folder_files(&old, &on_postgres);
    let env = [(URL_VAR, url.as_str())];
    let logs = serve_and_compare(&on_postgres, &env, (&admin, &siem), &before);
    assert!(!logs.contains(&password), "the password reached the logs");
    assert!(
        !Path::new(&on_postgres).join("passerelle.db").exists(),
        "served from PostgreSQL, not a new SQLite file"
    );
    let audit = run(&["audit", "verify", "--data", &on_postgres], &env, b"");
    let (stdout, stderr) = secret_free(&audit);
    assert!(audit.status.success(), "{stderr}");
    assert_eq!(stdout, audit_before);

    // A database holding a node is no target.
    let again = run(&["migrate", "--from", &old, "--to", &url], &[], b"");
    assert_eq!(again.status.code(), Some(2));
    let (_, stderr) = secret_free(&again);
    assert!(
        stderr.contains(&format!(
            "cannot migrate into {shown}: the target already holds a node"
        )),
        "{stderr}"
    );

    // And back, into a new SQLite file.
    let back = path(dir.path(), "back");
    let returned = run(
        &[
            "migrate",
            "--from",
            &url,
            "--to",
            &format!("{back}/passerelle.db"),
        ],
        &[],
        b"",
    );
    let (stdout, stderr) = secret_free(&returned);
    assert!(returned.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains(&format!("migrated {shown} to sqlite:{back}/passerelle.db")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "    default: {versions} versions of {versions} objects"
        )),
        "{stdout}"
    );
    copy_folder_files(&old, &back);
    serve_and_compare(&back, &[], (&admin, &siem), &before);
    assert_eq!(ok(&["audit", "verify", "--data", &back]), audit_before);
}
