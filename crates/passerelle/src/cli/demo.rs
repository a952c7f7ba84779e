//! `passerelle demo`: three partner nodes on this machine (Rabat, Paris, Madrid, two
//! communities around a major event), each in its own temporary folder and its own
//! `passerelle serve` process, with example agreements and sample intelligence in
//! five languages. They sync, then the demo prints, for each node, what it received
//! and from whom and what it withheld from each partner and why, and keeps serving
//! until Ctrl-C (`--once`: exits after the summary).
//!
//! Every step is a real command of this binary run as a child process (`init`,
//! `collection`, `account`, `token`, `import`, `serve`, `sync`), so the demo shows
//! exactly what an operator would do by hand.
//!
//! Each node stores in its folder's SQLite file, or, with `--postgres URL`, in a
//! PostgreSQL database of its own created on that server for the demo
//! (`passerelle_demo_<node>_<random>`, its `[store] url` written in the node's
//! config so later commands on a kept folder find it), dropped when the demo ends
//! unless `--keep` is given.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use federation::Rule;
use store::{Direction, LedgerQuery};

use super::output;
use crate::config::{Config, Database};
use crate::{node, shutdown};

const EXAMPLES: &str = "\
Examples:
  passerelle demo                 three nodes, synced, then serving until Ctrl-C
  passerelle demo --once          print the summary and stop
  passerelle demo --keep ./demo   keep the nodes' folders in ./demo (to explore them after)
  passerelle demo --once --postgres postgres://postgres@127.0.0.1:5432/postgres
                                  each node in a new database on that PostgreSQL server
                                  (dropped at the end; kept, and listed, with --keep)";

/// Start three partner nodes with example agreements and sample data, sync them and
/// show who received what, and what was withheld and why.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Exit after printing the summary instead of serving until Ctrl-C.
    #[arg(long)]
    once: bool,
    /// Create the nodes in this folder and keep it (default: a temporary folder, removed at exit).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Store each node in a new database on this PostgreSQL server (a postgres:// URL
    /// of a database its user may connect to; the user must be allowed to create
    /// databases) instead of a SQLite file in its folder. The databases are dropped at
    /// exit unless --keep is given.
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
}

/// One demo node: who it is and what it starts with.
struct Spec {
    name: &'static str,
    title: &'static str,
    communities: &'static [&'static str],
    sample: &'static str,
}

const NODES: [Spec; 3] = [
    Spec {
        name: "rabat",
        title: "DGST Rabat",
        communities: &["wc2030"],
        sample: include_str!("../../../../testdata/federation/rabat.json"),
    },
    Spec {
        name: "paris",
        title: "DGSI Paris",
        communities: &["euro-ct"],
        sample: include_str!("../../../../testdata/federation/paris.json"),
    },
    Spec {
        name: "madrid",
        title: "CNI Madrid",
        communities: &["wc2030", "euro-ct"],
        sample: include_str!("../../../../testdata/federation/madrid.json"),
    },
];

/// What `from` lets `to` receive: (max TLP, labels excluded, consents `originator:tlp`).
fn outbound(
    from: &str,
    to: &str,
) -> (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
) {
    match (from, to) {
        // Rabat shares up to GREEN with Paris and up to AMBER+STRICT with Madrid, its
        // co-host; Paris agreed that Rabat passes its data up to AMBER on to Madrid.
        ("rabat", "paris") => ("green", &["internal"], &[]),
        ("rabat", "madrid") => ("amber+strict", &["internal"], &[("paris", "amber")]),
        ("paris", "rabat") => ("amber", &[], &[]),
        ("paris", "madrid") => ("green", &[], &[]),
        ("madrid", "rabat") => ("amber", &["internal"], &[]),
        ("madrid", "paris") => ("green", &["internal"], &[]),
        _ => ("clear", &[], &[]),
    }
}

/// The object types `from` sends `to` (empty: every type). Madrid sends Paris only
/// indicators and relationships: its campaign stays, and so does the relationship
/// that points at it.
fn types(from: &str, to: &str) -> &'static [&'static str] {
    match (from, to) {
        ("madrid", "paris") => &["indicator", "relationship"],
        _ => &[],
    }
}

/// A node as the demo built it.
struct Node {
    spec: &'static Spec,
    dir: PathBuf,
    /// The URL of its PostgreSQL database (`--postgres`); `None`: its SQLite file.
    database: Option<String>,
    port: u16,
    identity: String,
    public_key: String,
    default_collection: String,
    partners_collection: String,
    admin_token: String,
}

/// Runs `passerelle demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (root, _temporary) = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            (dir.clone(), None)
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("passerelle-demo-")
                .tempdir()
                .context("cannot create a temporary folder")?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    let mut out = io::stdout().lock();
    output::line(
        &mut out,
        &format!("Passerelle demo: three nodes in {}", root.display()),
    )?;
    // Declared before the servers, so dropped after them.
    let databases = match &args.postgres {
        Some(server) => Some(Databases::create(server, args.keep.is_some())?),
        None => None,
    };
    if let Some(databases) = &databases {
        output::line(
            &mut out,
            &format!(
                "Stores: the PostgreSQL databases {} on {}",
                databases.names().join(", "),
                databases.server_shown()
            ),
        )?;
    }
    let mut nodes = Vec::new();
    for spec in &NODES {
        let database = databases.as_ref().map(|d| d.url(spec.name));
        nodes.push(create(spec, &root, database)?);
    }
    connect(&nodes)?;
    let mut servers = Servers(Vec::new());
    for node in &nodes {
        servers.0.push(start(node)?);
    }
    output::line(
        &mut out,
        "Syncing (two rounds, so that forwarded data travels on)…",
    )?;
    for _round in 0..2 {
        for node in &nodes {
            passerelle(node.place(), &["sync"])
                .with_context(|| format!("sync on {}", node.spec.name))?;
        }
    }
    node::runtime()?.block_on(summary(&mut out, &nodes))?;
    output::line(&mut out, "")?;
    for node in &nodes {
        output::line(
            &mut out,
            &format!(
                "{:7} http://127.0.0.1:{}/taxii2/   admin token {}",
                node.spec.name, node.port, node.admin_token
            ),
        )?;
    }
    if let Some(databases) = databases.as_ref().filter(|d| d.keep) {
        output::line(&mut out, "")?;
        output::line(
            &mut out,
            &format!(
                "The nodes' PostgreSQL databases are kept: {} on {}. Drop them when done with:",
                databases.names().join(", "),
                databases.server_shown()
            ),
        )?;
        for name in databases.names() {
            output::line(
                &mut out,
                &format!(
                    "  psql '{}' -c 'DROP DATABASE {name}'",
                    databases.server_shown()
                ),
            )?;
        }
    }
    out.flush()?;
    if args.once {
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&mut out, "Serving until Ctrl-C.")?;
    out.flush()?;
    drop(out);
    node::runtime()?.block_on(shutdown::signal());
    Ok(ExitCode::SUCCESS)
}

/// `init`, a collection for partners' data, the sample intelligence.
fn create(spec: &'static Spec, root: &Path, database: Option<String>) -> anyhow::Result<Node> {
    let dir = root.join(spec.name);
    let port = free_port()?;
    let place = Place {
        dir: &dir,
        database: database.as_deref(),
    };
    let init = passerelle(place, &["init", "--name", spec.title])?;
    let admin_token = init
        .lines()
        .find_map(|l| l.trim().strip_prefix("API token"))
        .map(|t| t.trim().to_owned())
        .context("init printed no token")?;
    let identity = federation::NodeIdentity::load(&dir)?;
    passerelle(
        place,
        &[
            "collection",
            "add",
            "Partner intelligence",
            "--alias",
            "partners",
        ],
    )?;
    let sample = dir.join("sample.json");
    std::fs::write(&sample, spec.sample)?;
    passerelle(
        place,
        &[
            "import",
            &sample.to_string_lossy(),
            "--collection",
            "default",
        ],
    )?;
    let (default_collection, partners_collection) = node::runtime()?.block_on(async {
        let store = node::open_store(&match &database {
            Some(url) => Database::Postgres(url.clone()),
            None => Database::Sqlite(dir.join(store::sqlite::FILE_NAME)),
        })
        .await?;
        let default = store.find_collection("default").await?.id.to_string();
        let partners = store.find_collection("partners").await?.id.to_string();
        anyhow::Ok((default, partners))
    })?;
    Ok(Node {
        spec,
        dir,
        database,
        port,
        identity: identity.identity.clone(),
        public_key: identity.public_key().to_string(),
        default_collection,
        partners_collection,
        admin_token,
    })
}

/// An account and token for every partner on every node, and each node's config
/// naming the other two.
fn connect(nodes: &[Node]) -> anyhow::Result<()> {
    for node in nodes {
        for partner in nodes.iter().filter(|p| p.spec.name != node.spec.name) {
            let name = partner.spec.name;
            passerelle(node.place(), &["account", "add", name])?;
            for collection in ["default", "partners"] {
                passerelle(
                    node.place(),
                    &["account", "grant", name, collection, "--read"],
                )?;
            }
            let token = passerelle(node.place(), &["token", "create", name])?;
            let secrets = partner.dir.join("secrets");
            std::fs::create_dir_all(&secrets)?;
            std::fs::write(
                secrets.join(format!("{}.token", node.spec.name)),
                token.trim(),
            )?;
        }
    }
    for node in nodes {
        std::fs::write(
            node.dir.join(crate::config::FILE_NAME),
            config_text(node, nodes),
        )?;
    }
    Ok(())
}

fn config_text(node: &Node, nodes: &[Node]) -> String {
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "# Written by `passerelle demo`.\n[node]\ndata = \".\"\nname = {:?}\ncommunities = [{}]\n\n\
         [server]\nlisten = \"127.0.0.1:{}\"\n",
        node.spec.title,
        list(node.spec.communities),
        node.port
    );
    if let Some(url) = &node.database {
        text.push_str(&format!("\n[store]\nurl = {url:?}\n"));
    }
    for partner in nodes.iter().filter(|p| p.spec.name != node.spec.name) {
        let name = partner.spec.name;
        let (max_tlp, excluded, consents) = outbound(node.spec.name, name);
        // A node knows a partner's membership only of the communities it is in itself.
        let shared: Vec<&str> = partner
            .spec
            .communities
            .iter()
            .copied()
            .filter(|c| node.spec.communities.contains(c))
            .collect();
        let consents = consents
            .iter()
            .map(|(originator, tlp)| {
                format!("{{ originator = {originator:?}, tlp = {tlp:?}, reference = \"demo\" }}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        text.push_str(&format!(
            "\n[[partners]]\nname = {name:?}\nidentity = {:?}\npublic_key = {:?}\n\
             url = \"http://127.0.0.1:{}/\"\ntoken_file = \"secrets/{name}.token\"\n\
             communities = [{}]\naccount = {name:?}\n\
             pull = [{{ remote = {:?}, into = \"partners\" }}, {{ remote = {:?}, into = \"partners\" }}]\n\
             [partners.outbound]\ncollections = [\"default\", \"partners\"]\nmax_tlp = {max_tlp:?}\n\
             types = [{}]\nlabels_excluded = [{}]\nconsents = [{consents}]\n",
            partner.identity,
            partner.public_key,
            partner.port,
            list(&shared),
            partner.default_collection,
            partner.partners_collection,
            list(types(node.spec.name, name)),
            list(excluded),
        ));
    }
    text
}

/// Starts `passerelle serve` for a node and waits until it listens.
fn start(node: &Node) -> anyhow::Result<Child> {
    let mut child = child_command(node.place(), &["serve"])?
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start passerelle serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    for line in BufReader::new(stdout).lines() {
        if line?.starts_with("Passerelle is serving") {
            return Ok(child);
        }
        if Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    bail!("{} did not start", node.spec.name)
}

/// The serve processes, stopped when the demo ends however it ends.
struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The nodes' PostgreSQL databases (`--postgres`), one per node, created on the server
/// for this demo and dropped when it ends, however it ends, unless kept.
struct Databases {
    /// The server's URL as given (it may hold a password: never printed).
    server: String,
    /// (node, database) of each database created so far.
    created: Vec<(&'static str, String)>,
    keep: bool,
}

impl Databases {
    /// A new database per node on `server`: `passerelle_demo_<node>_<random>`.
    fn create(server: &str, keep: bool) -> anyhow::Result<Databases> {
        store::postgres::parse_url(server).context("--postgres")?;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let mut databases = Databases {
            server: server.to_owned(),
            created: Vec::new(),
            keep,
        };
        let runtime = node::runtime()?;
        for spec in &NODES {
            let name = format!("passerelle_demo_{}_{}", spec.name, &suffix[..12]);
            if let Err(error) =
                runtime.block_on(store::postgres::server::create_database(server, &name))
            {
                // A demo that could not start keeps nothing: what was created is dropped.
                databases.keep = false;
                return Err(anyhow::Error::new(error).context(format!(
                    "cannot create the database {name} on {} (the user of --postgres \
                     must be allowed to create databases)",
                    databases.server_shown()
                )));
            }
            databases.created.push((spec.name, name));
        }
        Ok(databases)
    }

    /// The server, without password or options, for messages.
    fn server_shown(&self) -> String {
        store::postgres::redacted_url(&self.server)
    }

    fn names(&self) -> Vec<&str> {
        self.created.iter().map(|(_, name)| name.as_str()).collect()
    }

    /// The URL of `node`'s database (with the server URL's credentials).
    fn url(&self, node: &str) -> String {
        let name = self
            .created
            .iter()
            .find(|(n, _)| *n == node)
            .map_or("", |(_, name)| name.as_str());
        store::postgres::server::database_url(&self.server, name)
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        if self.keep || self.created.is_empty() {
            return;
        }
        let dropped = node::runtime().map(|runtime| {
            runtime.block_on(async {
                let mut failed = Vec::new();
                for (_, name) in &self.created {
                    if let Err(error) =
                        store::postgres::server::drop_database(&self.server, name).await
                    {
                        failed.push(format!("{name} ({:#})", anyhow::Error::new(error)));
                    }
                }
                failed
            })
        });
        let failed = match dropped {
            Ok(failed) => failed,
            Err(error) => vec![format!("{error:#}")],
        };
        if !failed.is_empty() {
            output::error(&format!(
                "could not drop the demo's databases on {}: {}",
                self.server_shown(),
                failed.join(", ")
            ));
        }
    }
}

/// For each node: what it received and from whom; what it withheld from each partner and why.
async fn summary(out: &mut impl Write, nodes: &[Node]) -> anyhow::Result<()> {
    for node in nodes {
        let config = Config::load(Some(&node.dir.join(crate::config::FILE_NAME)), [])?;
        let store = node::open_store(&config.database()).await?;
        output::line(out, "")?;
        output::line(out, &format!("== {} ({})", node.spec.title, node.spec.name))?;
        let received = store
            .ledger(&LedgerQuery {
                direction: Some(Direction::Received),
                ..LedgerQuery::default()
            })
            .await?;
        let mut by_partner: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in received {
            by_partner
                .entry(entry.partner.unwrap_or_default())
                .or_default()
                .push(entry.object_id);
        }
        for (partner, ids) in &by_partner {
            output::line(
                out,
                &format!("  received from {partner}: {} object versions", ids.len()),
            )?;
        }
        if by_partner.is_empty() {
            output::line(out, "  received nothing")?;
        }
        for partner in &config.partners {
            // The preview an operator would run: the same decision as every way out.
            let preview = passerelle(
                node.place(),
                &["agreement", "preview", &partner.name, "--format", "json"],
            )?;
            let summary: serde_json::Value = preview
                .lines()
                .last()
                .and_then(|line| serde_json::from_str(line).ok())
                .context("agreement preview printed no summary")?;
            let summary = &summary["summary"];
            let sent = summary["disclosed"].as_u64().unwrap_or(0);
            let reasons = summary["rules"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(rule, _)| rule.parse::<Rule>().is_ok_and(|r| !r.allows()))
                .map(|(rule, count)| format!("{count} by {rule}"))
                .collect::<Vec<_>>()
                .join(", ");
            output::line(
                out,
                &format!(
                    "  to {}: {sent} may go; withheld {}",
                    partner.name,
                    if reasons.is_empty() {
                        "nothing".to_owned()
                    } else {
                        reasons
                    }
                ),
            )?;
        }
    }
    Ok(())
}

/// Where a node is: its folder, and its PostgreSQL database if it has one.
#[derive(Clone, Copy)]
struct Place<'a> {
    dir: &'a Path,
    database: Option<&'a str>,
}

impl Node {
    fn place(&self) -> Place<'_> {
        Place {
            dir: &self.dir,
            database: self.database.as_deref(),
        }
    }
}

/// This binary with `args` on the node at `place`.
fn child_command(place: Place<'_>, args: &[&str]) -> anyhow::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(args)
        .arg("--data")
        .arg(place.dir)
        .env("RUST_LOG", "warn");
    // Each node has a store of its own: a store setting in the demo's own environment
    // would put all three in one.
    command.env_remove("PASSERELLE__STORE__SQLITE_PATH");
    match place.database {
        Some(url) => command.env("PASSERELLE__STORE__URL", url),
        None => command.env_remove("PASSERELLE__STORE__URL"),
    };
    Ok(command)
}

/// Runs this binary with `args` on the node at `place`; its standard output, or an
/// error with its standard error.
fn passerelle(place: Place<'_>, args: &[&str]) -> anyhow::Result<String> {
    let output = child_command(place, args)?
        .output()
        .with_context(|| format!("cannot run passerelle {}", args.join(" ")))?;
    if !output.status.success() {
        bail!(
            "passerelle {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A port free now on 127.0.0.1 (released at once: the demo's nodes need to know
/// each other's ports before any of them starts).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
