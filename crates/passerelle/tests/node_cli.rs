//! The node as an operator runs it, with real processes and sockets: `init`,
//! `serve` (plain and TLS) with a real HTTP request and a clean exit on
//! SIGTERM, configuration errors, and the account, token and collection commands.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(unix)]

mod common;

use std::sync::Arc;

use common::{Server, basic, ok, run, token_in, write};

const LOOPBACK_ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");

fn data_dir(dir: &tempfile::TempDir) -> String {
    dir.path().join("node").to_str().unwrap().to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn basic_credentials_helper_is_base64() {
    assert_eq!(
        basic("Aladdin", "open sesame"),
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(basic("a", "b"), "Basic YTpi");
}

#[test]
fn init_then_serve_answers_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let init = ok(&["init", "--data", &data, "--name", "CERT-Test"]);
    let token = token_in(&init);
    assert!(token.starts_with("psl_"), "{token}");
    assert!(init.contains("passerelle serve --data"), "{init}");
    assert!(
        init.contains("curl -H 'Authorization: Bearer psl_"),
        "{init}"
    );
    assert!(dir.path().join("node/passerelle.toml").is_file());
    assert!(dir.path().join("node/passerelle.db").is_file());

    let server = Server::start(&["--data", &data], &[LOOPBACK_ANY_PORT]);
    assert!(server.base_url.starts_with("http://127.0.0.1:"));
    // Already initialised: no new token is printed.
    assert!(!server.stdout.contains("API token"), "{}", server.stdout);

    let discovery = server.get("/taxii2/", Some(&bearer(&token)));
    assert_eq!(discovery.status, 200, "{discovery:?}");
    let body = discovery.json();
    assert_eq!(body["title"], "CERT-Test");
    assert!(
        body["api_roots"][0].as_str().unwrap().ends_with("/api/"),
        "{body}"
    );

    let collections = server.get("/api/collections/", Some(&bearer(&token)));
    assert_eq!(collections.status, 200, "{collections:?}");
    assert_eq!(collections.json()["collections"][0]["alias"], "default");

    let anonymous = server.get("/taxii2/", None);
    assert_eq!(anonymous.status, 401);
    let forged = server.get("/taxii2/", Some("Bearer psl_not-a-token"));
    assert_eq!(forged.status, 401);

    let (status, stderr) = server.terminate();
    assert!(status.success(), "exit {status}; stderr:\n{stderr}");
    assert!(
        !stderr.contains(&token),
        "a token reached the logs:\n{stderr}"
    );
    assert!(!stderr.contains("psl_not-a-token"), "{stderr}");
    // Logs written to a pipe or file carry no terminal colour codes.
    assert!(
        !stderr.is_empty() && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
}

#[test]
fn init_refuses_an_initialised_node() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    ok(&["init", "--data", &data]);
    let before = std::fs::read(dir.path().join("node/passerelle.toml")).unwrap();
    let again = run(&["init", "--data", &data], &[], b"");
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already initialised"), "{stderr}");
    assert!(!String::from_utf8_lossy(&again.stdout).contains("psl_"));
    assert_eq!(
        std::fs::read(dir.path().join("node/passerelle.toml")).unwrap(),
        before
    );
}

#[test]
fn serve_initialises_a_new_node_on_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let server = Server::start(&["--data", &data], &[LOOPBACK_ANY_PORT]);
    let token = token_in(&server.stdout);
    assert!(server.stdout.contains("Try:  curl"), "{}", server.stdout);
    assert!(dir.path().join("node/passerelle.toml").is_file());
    let root = server.get("/api/", Some(&bearer(&token)));
    assert_eq!(root.status, 200, "{root:?}");
    assert_eq!(root.json()["max_content_length"], 10 * 1024 * 1024);
    let (status, _) = server.terminate();
    assert!(status.success());

    // The second run finds the node and prints no token; Ctrl-C stops it cleanly.
    let server = Server::start(&["--data", &data], &[LOOPBACK_ANY_PORT]);
    assert!(!server.stdout.contains("API token"), "{}", server.stdout);
    assert_eq!(server.get("/taxii2/", Some(&bearer(&token))).status, 200);
    let (status, stderr) = server.interrupt();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("SIGINT"), "{stderr}");
}

#[test]
fn config_errors_name_the_section_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        "[server]\nlisten = \"127.0.0.1:0\"\npage_size_max = \"lots\"\n",
    );
    let output = run(&["serve", "--config", &file], &[], b"");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("config [server] page_size_max: invalid type"),
        "{stderr}"
    );
    assert!(stderr.contains("bad.toml"), "{stderr}");

    let output = run(
        &["serve", "--data", &data_dir(&dir)],
        &[("PASSERELLE__LOG__FORMAT", "xml")],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config [log] format: "), "{stderr}");
    assert!(stderr.contains("PASSERELLE__LOG__FORMAT"), "{stderr}");
    // Nothing was created for a configuration that cannot start.
    assert!(!dir.path().join("node").exists());
}

#[test]
fn plain_http_on_a_non_loopback_address_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let output = run(
        &["serve", "--data", &data],
        &[("PASSERELLE__SERVER__LISTEN", "0.0.0.0:0")],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("config [server] listen: 0.0.0.0:0 is not a loopback address"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allow_plain_http_on_non_loopback"),
        "{stderr}"
    );

    let server = Server::start(
        &["--data", &data],
        &[
            ("PASSERELLE__SERVER__LISTEN", "0.0.0.0:0"),
            (
                "PASSERELLE__SERVER__ALLOW_PLAIN_HTTP_ON_NON_LOOPBACK",
                "true",
            ),
        ],
    );
    let port = server.addr.rsplit(':').next().unwrap().to_owned();
    let token = token_in(&server.stdout);
    let stream = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    let response = common::request(
        stream,
        "GET",
        "/taxii2/",
        &[
            ("Accept", common::TAXII.to_owned()),
            ("Authorization", bearer(&token)),
        ],
        b"",
    );
    assert_eq!(response.status, 200);
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[test]
fn serves_https_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    write(dir.path(), "cert.pem", &certified.cert.pem());
    write(
        dir.path(),
        "key.pem",
        &certified.signing_key.serialize_pem(),
    );
    // Relative paths are taken from the config file's folder.
    let config = write(
        dir.path(),
        "passerelle.toml",
        "[node]\ndata = \"node\"\n[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n[log]\nformat = \"json\"\n",
    );
    let server = Server::start(&["--config", &config], &[]);
    assert!(
        server.base_url.starts_with("https://127.0.0.1:"),
        "{}",
        server.base_url
    );
    let token = token_in(&server.stdout);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
    let tcp = std::net::TcpStream::connect(&server.addr).unwrap();
    let tls = rustls::StreamOwned::new(connection, tcp);
    let response = common::request(
        tls,
        "GET",
        "/taxii2/",
        &[
            ("Accept", common::TAXII.to_owned()),
            ("Authorization", bearer(&token)),
        ],
        b"",
    );
    assert_eq!(response.status, 200, "{response:?}");
    assert!(
        response.json()["api_roots"][0]
            .as_str()
            .unwrap()
            .ends_with("/api/")
    );

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = std::net::TcpStream::connect(&server.addr).unwrap();
    use std::io::{Read, Write};
    plain
        .write_all(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/1.1 200"));

    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    // JSON logs: every line is one JSON object, and none holds the token.
    for line in stderr.lines() {
        let record: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
        assert!(record.get("level").is_some(), "{line}");
    }
    assert!(!stderr.contains(&token));
}

#[test]
fn a_bad_certificate_path_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "passerelle.toml",
        "[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"missing-cert.pem\"\ntls_key = \"missing-key.pem\"\n",
    );
    let output = run(&["serve", "--config", &config], &[], b"");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("[server] tls_cert: "), "{stderr}");
    assert!(stderr.contains("missing-cert.pem"), "{stderr}");
}

#[test]
fn accounts_tokens_rights_and_collections() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir(&dir);
    let d = ["--data", data.as_str()];
    let with = |args: &[&str]| -> String {
        let mut all = args.to_vec();
        all.extend_from_slice(&d);
        ok(&all)
    };
    ok(&["init", "--data", &data]);

    let incidents = with(&["collection", "add", "Incidents", "--alias", "incidents"]);
    let incidents_id = incidents.trim().to_owned();
    assert_eq!(incidents_id.len(), 36, "{incidents}");
    let list = with(&["collection", "list"]);
    assert!(
        list.contains("incidents") && list.contains("default"),
        "{list}"
    );

    assert!(with(&["account", "add", "siem"]).contains("created account siem"));
    assert!(with(&["account", "grant", "siem", "default"]).contains("may now read"));
    assert!(
        with(&["account", "grant", "siem", "incidents", "--read", "--write"])
            .contains("may now read and write")
    );
    let token = with(&["token", "create", "siem", "--name", "splunk"])
        .trim()
        .to_owned();
    assert!(token.starts_with("psl_"), "{token}");
    let accounts = with(&["account", "list"]);
    let siem_line = accounts.lines().find(|l| l.starts_with("siem")).unwrap();
    assert!(
        siem_line.contains("default:r") && siem_line.contains("incidents:rw"),
        "{accounts}"
    );
    let tokens = with(&["token", "list", "siem"]);
    assert!(
        tokens.contains("splunk") && !tokens.contains("psl_"),
        "{tokens}"
    );

    // Duplicates and unknown names are refused with a reason.
    let duplicate = run(&["account", "add", "siem", "--data", &data], &[], b"");
    assert_eq!(duplicate.status.code(), Some(2));
    let bad_name = run(&["account", "add", "a:b", "--data", &data], &[], b"");
    assert!(String::from_utf8_lossy(&bad_name.stderr).contains("account name"));
    let unknown = run(
        &["account", "grant", "siem", "nope", "--data", &data],
        &[],
        b"",
    );
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no collection \"nope\"") && stderr.contains("incidents"),
        "{stderr}"
    );

    // A password read from stdin enables HTTP Basic.
    let set = run(
        &["account", "set-password", "siem", "--data", &data],
        &[],
        b"correct horse battery\n",
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    let server = Server::start(&d, &[LOOPBACK_ANY_PORT]);
    let visible = server.get("/api/collections/", Some(&bearer(&token)));
    assert_eq!(visible.status, 200);
    assert_eq!(visible.json()["collections"].as_array().unwrap().len(), 2);
    let with_password = server.get(
        "/api/collections/",
        Some(&basic("siem", "correct horse battery")),
    );
    assert_eq!(with_password.status, 200);
    assert_eq!(
        server
            .get("/api/collections/", Some(&basic("siem", "wrong")))
            .status,
        401
    );
    let (status, _) = server.terminate();
    assert!(status.success());

    // Revoking rights hides the collection; revoking the token locks it out.
    with(&["account", "revoke", "siem", "incidents"]);
    with(&["token", "revoke", "siem", "splunk"]);
    with(&["collection", "remove", "incidents", "--yes"]);
    let refused = run(
        &["collection", "remove", "default", "--data", &data],
        &[],
        b"",
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    let server = Server::start(&d, &[LOOPBACK_ANY_PORT]);
    assert_eq!(
        server
            .get("/api/collections/", Some(&bearer(&token)))
            .status,
        401
    );
    let by_password = server.get(
        "/api/collections/",
        Some(&basic("siem", "correct horse battery")),
    );
    let collections = by_password.json();
    assert_eq!(
        collections["collections"].as_array().unwrap().len(),
        1,
        "{collections}"
    );
    assert_eq!(
        server
            .get(
                &format!("/api/collections/{incidents_id}/"),
                Some(&basic("siem", "correct horse battery"))
            )
            .status,
        404
    );
    let (status, _) = server.terminate();
    assert!(status.success());

    with(&["account", "remove", "siem"]);
    assert!(!with(&["account", "list"]).contains("siem"));
}

#[test]
fn every_command_has_help_with_examples() {
    for command in [
        "init",
        "serve",
        "account",
        "token",
        "collection",
        "import",
        "export",
        "validate",
        "config",
    ] {
        let help = ok(&[command, "--help"]);
        assert!(help.contains("Examples:"), "{command} --help:\n{help}");
        assert!(
            help.contains(&format!("passerelle {command}")),
            "{command}:\n{help}"
        );
    }
}

#[test]
fn config_default_is_the_commented_example() {
    let text = ok(&["config", "default"]);
    assert!(
        text.contains("[server]") && text.contains("# allow_plain_http_on_non_loopback = false")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "p.toml", &text);
    let shown = ok(&["config", "show", "--config", &file]);
    assert!(shown.contains("listen = \"127.0.0.1:8080\""), "{shown}");
}
