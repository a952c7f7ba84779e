//! One node served by two `passerelle serve` processes on one PostgreSQL database
//! (issue 5): a client alternating between them sees one node — a write through
//! one is readable through the other at once, `next` cursors and status ids work
//! across them, a delete through one is gone from the other, and the ledger stays
//! one chain; a partner's sync runs in exactly one of them, and when that process
//! is killed with SIGKILL the other takes the sync over and ends with exactly the
//! partner's objects.
//!
//! Always on PostgreSQL, whatever `PASSERELLE_TEST_BACKEND` says: several processes
//! on one node is what the PostgreSQL backend is for.

// Test support: a failed setup step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Response, Server, TAXII, request, run, token_in, wait_for};
use serde_json::{Value, json};
use store::postgres::testing::TempDatabase;

const ANY_PORT: (&str, &str) = ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:0");
const STORE_URL: &str = "PASSERELLE__STORE__URL";
const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

/// Runs `passerelle ARGS` with `env`; its stdout, or a panic with its stderr.
fn ok_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = run(args, env, b"");
    assert!(
        output.status.success(),
        "passerelle {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A request to one server with the admin token.
fn call(server: &Server, method: &str, path: &str, token: &str, body: &[u8]) -> Response {
    let mut headers = vec![
        ("Accept", TAXII.to_owned()),
        ("Authorization", format!("Bearer {token}")),
    ];
    if method == "POST" {
        headers.push(("Content-Type", TAXII.to_owned()));
    }
    request(
        TcpStream::connect(&server.addr).unwrap(),
        method,
        path,
        &headers,
        body,
    )
}

fn indicator(n: usize) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{}", uuid::Uuid::from_u128(0x5e7e_0000_0000_4000_8000_0000_0000_0000 + n as u128)),
        "created": "2024-05-01T10:00:00.000Z",
        "modified": "2024-05-01T10:00:00.000Z",
        "name": format!("indicateur n° {n}"),
        "pattern": format!("[ipv4-addr:value = '10.1.{}.{}']", n / 256, n % 256),
        "pattern_type": "stix",
        "valid_from": "2024-05-01T10:00:00Z",
        "object_marking_refs": [CLEAR],
    })
}

#[test]
fn two_processes_on_one_database_serve_as_one_node() {
    let db = TempDatabase::new();
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("node");
    let data = data.to_str().unwrap();
    let env = [(STORE_URL, db.url()), ANY_PORT];
    let token = token_in(&ok_with(&["init", "--data", data], &env));
    let servers = [
        Server::start(&["--data", data], &env),
        Server::start(&["--data", data], &env),
    ];
    assert_ne!(servers[0].addr, servers[1].addr);
    let objects = "/api/collections/default/objects/";

    // Writes through one, read back at once through the other: the object and the
    // status resource.
    let mut ids = Vec::new();
    for envelope in 0..6 {
        let (through, other) = (&servers[envelope % 2], &servers[1 - envelope % 2]);
        let batch: Vec<Value> = (envelope * 5..envelope * 5 + 5).map(indicator).collect();
        ids.extend(batch.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        let posted = call(
            through,
            "POST",
            objects,
            &token,
            json!({ "objects": batch }).to_string().as_bytes(),
        );
        assert_eq!(
            posted.status,
            202,
            "{:?}",
            String::from_utf8_lossy(&posted.body)
        );
        let status = posted.json();
        assert_eq!(status["success_count"], 5, "{status}");
        let id = status["id"].as_str().unwrap();
        let again = call(other, "GET", &format!("/api/status/{id}/"), &token, b"");
        assert_eq!(again.status, 200);
        assert_eq!(
            again.json(),
            status,
            "the status reads the same on the other process"
        );
        for object in &batch {
            let path = format!("{objects}{}/", object["id"].as_str().unwrap());
            let read = call(other, "GET", &path, &token, b"");
            assert_eq!(read.status, 200, "{path} through the other process");
            assert_eq!(read.json()["objects"][0], *object);
        }
    }

    // Paging with `next` handed from one process to the other, page after page.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    for page in 0.. {
        let server = &servers[page % 2];
        let path = match &next {
            None => format!("{objects}?limit=4"),
            Some(next) => format!("{objects}?limit=4&next={next}"),
        };
        let response = call(server, "GET", &path, &token, b"");
        assert_eq!(response.status, 200, "page {page}");
        let envelope = response.json();
        for object in envelope["objects"].as_array().unwrap() {
            seen.push(object["id"].as_str().unwrap().to_owned());
        }
        match envelope["next"].as_str() {
            Some(n) if envelope["more"] == true => next = Some(n.to_owned()),
            _ => break,
        }
        assert!(page < 100, "paging does not end");
    }
    // The node's own published objects (identity, definitions) come first or not at
    // all; ours are all there once, in the order they were added.
    let ours: Vec<&String> = seen.iter().filter(|id| ids.contains(id)).collect();
    assert_eq!(ours, ids.iter().collect::<Vec<_>>());
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        seen.len(),
        "no object twice"
    );

    // A delete through one is gone from the other.
    let gone = format!("{objects}{}/", ids[7]);
    assert_eq!(call(&servers[0], "DELETE", &gone, &token, b"").status, 200);
    assert_eq!(call(&servers[1], "GET", &gone, &token, b"").status, 404);

    // Two processes, one ledger: the delete is in it and the chain verifies.
    for server in servers {
        let (status, logs) = server.terminate();
        assert!(status.success(), "{logs}");
    }
    let verified = ok_with(&["audit", "verify", "--data", data], &env);
    assert!(verified.starts_with("ledger OK"), "{verified}");
}

/// A node made by `passerelle init` with `env`: folder, identity, public key.
struct Node {
    dir: PathBuf,
    identity: String,
    public_key: String,
}

impl Node {
    fn init(root: &Path, name: &str, env: &[(&str, &str)]) -> Node {
        let dir = root.join(name.to_lowercase());
        let out = ok_with(
            &["init", "--data", dir.to_str().unwrap(), "--name", name],
            env,
        );
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("identity "))
            .unwrap_or_else(|| panic!("no identity line in:\n{out}"));
        Node {
            identity: line.split_whitespace().nth(1).unwrap().to_owned(),
            public_key: line
                .split("public key ")
                .nth(1)
                .and_then(|rest| rest.split(';').next())
                .unwrap()
                .to_owned(),
            dir,
        }
    }

    fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut full = args.to_vec();
        full.extend(["--data", self.dir.to_str().unwrap()]);
        ok_with(&full, env)
    }

    fn configure(&self, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join("passerelle.toml"))
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    /// (objects, versions) of a collection, from `passerelle collection list`.
    fn count(&self, alias: &str, env: &[(&str, &str)]) -> (u64, u64) {
        let list = self.cli(&["collection", "list"], env);
        let row = list
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(alias))
            .unwrap_or_else(|| panic!("no collection {alias} in:\n{list}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        (cells[2].parse().unwrap(), cells[3].parse().unwrap())
    }
}

#[test]
fn a_partner_sync_runs_in_one_process_and_the_other_takes_it_over_when_it_dies() {
    const N: usize = 20_000;
    let root = tempfile::tempdir().unwrap();

    // Rabat, the partner, on the test backend, with N CLEAR indicators to share.
    let rabat = Node::init(root.path(), "Rabat", &[]);
    let shared = rabat.cli(&["collection", "add", "Shared", "--alias", "shared"], &[]);
    let shared = shared.trim();
    rabat.cli(&["account", "add", "paris"], &[]);
    rabat.cli(&["account", "grant", "paris", "shared", "--read"], &[]);
    let token = rabat.cli(&["token", "create", "paris"], &[]);
    let token = token.trim();
    let file = root.path().join("many.json");
    let objects: Vec<String> = (0..N).map(|n| indicator(n).to_string()).collect();
    std::fs::write(
        &file,
        format!(
            "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[{}]}}",
            uuid::Uuid::new_v4(),
            objects.join(",")
        ),
    )
    .unwrap();
    rabat.cli(
        &["import", file.to_str().unwrap(), "--collection", "shared"],
        &[],
    );
    let db = TempDatabase::new();
    let env = [(STORE_URL, db.url()), ANY_PORT];
    let paris = Node::init(root.path(), "Paris", &env);
    rabat.configure(&format!(
        "\n[[partners]]\nname = \"paris\"\nidentity = \"{}\"\npublic_key = \"{}\"\n\
         account = \"paris\"\n[partners.outbound]\ncollections = [\"shared\"]\n",
        paris.identity, paris.public_key
    ));
    let rabat_server = Server::start(&["--data", rabat.dir.to_str().unwrap()], &[ANY_PORT]);
    // Everything Rabat shares: the indicators and what it publishes at start.
    let total = rabat.count("shared", &[]).0;
    assert!(total >= N as u64);

    // Paris: two processes on one database, both with sync workers.
    paris.cli(
        &["collection", "add", "From Rabat", "--alias", "from-rabat"],
        &env,
    );
    paris.configure(&format!(
        "\n[sync]\ninterval_seconds = 1\npage_size = 500\nlease_seconds = 3\n\n\
         [[partners]]\nname = \"rabat\"\nidentity = \"{}\"\npublic_key = \"{}\"\n\
         url = \"{}/\"\ntoken_env = \"PASSERELLE_TOKEN_RABAT\"\n\
         pull = [{{ remote = \"{shared}\", into = \"from-rabat\" }}]\n\
         [partners.outbound]\n[partners.inbound]\naccept_unsigned = true\n",
        rabat.identity, rabat.public_key, rabat_server.base_url
    ));
    let mut env = env.to_vec();
    env.push(("PASSERELLE_TOKEN_RABAT", token));
    let data = paris.dir.to_str().unwrap();
    let mut servers = vec![
        Server::start(&["--data", data], &env),
        Server::start(&["--data", data], &env),
    ];

    // Exactly one of them holds Rabat's sync lease while the pull runs.
    let holder = wait_for(Duration::from_secs(60), "the pull to begin", || {
        let status = paris.cli(&["sync", "--status", "--format", "json"], &env);
        let record: Value = serde_json::from_str(status.lines().next()?).unwrap();
        let holder = record["sync_lease"]["holder"].as_str()?.to_owned();
        let (objects, _) = paris.count("from-rabat", &env);
        (objects >= 1_000).then_some(holder)
    });
    let pid: u32 = holder.split(':').nth(1).unwrap().parse().unwrap();
    let index = servers
        .iter()
        .position(|s| s.pid() == pid)
        .unwrap_or_else(|| panic!("the lease holder {holder} is neither serve process"));

    // Killed with SIGKILL in the middle of the pull; the other takes it over once
    // the lease expires, and ends with exactly Rabat's objects.
    drop(servers.remove(index));
    let (at_kill, _) = paris.count("from-rabat", &env);
    assert!(
        at_kill < total,
        "killed before the end ({at_kill} of {total})"
    );
    let survivor = servers.pop().unwrap();
    wait_for(
        Duration::from_secs(120),
        "the other process to finish",
        || (paris.count("from-rabat", &env).0 >= total).then_some(()),
    );
    assert_eq!(
        paris.count("from-rabat", &env),
        (total, total),
        "every object once"
    );
    let (status, logs) = survivor.terminate();
    assert!(status.success(), "{logs}");
    let verified = paris.cli(&["audit", "verify"], &env);
    assert!(verified.starts_with("ledger OK"), "{verified}");
    let received = paris.cli(&["audit", "log", "--partner", "rabat", "--received"], &env);
    assert_eq!(
        received
            .lines()
            .filter(|l| l.contains("indicator--"))
            .count(),
        N,
        "one received entry per indicator"
    );
    drop(rabat_server);
}
