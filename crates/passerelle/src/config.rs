//! The node's configuration: one TOML file of sections (`[node]`, `[server]`,
//! `[store]`, `[log]`), defaults for everything, `PASSERELLE__SECTION__KEY`
//! environment overrides, and validation whose errors name the section and field.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use federation::agreement::{Agreement, NodeSharing, PartnerConfig};
use serde::{Deserialize, Serialize};

/// The commented example configuration printed by `passerelle config default`.
pub const EXAMPLE: &str = include_str!("../passerelle.example.toml");

/// The name of the config file that `passerelle init` writes in the data folder.
pub const FILE_NAME: &str = "passerelle.toml";

const ENV_PREFIX: &str = "PASSERELLE__";

/// Settings whose values are paths: relative ones in a file are taken from the file's folder.
const PATH_KEYS: [(&str, &str); 4] = [
    ("node", "data"),
    ("server", "tls_cert"),
    ("server", "tls_key"),
    ("store", "sqlite_path"),
];

/// The whole configuration of a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Who the node is and where it keeps its data.
    pub node: NodeConfig,
    /// The HTTP(S) listener and the TAXII API root.
    pub server: ServerConfig,
    /// The database.
    pub store: StoreConfig,
    /// Logging.
    pub log: LogConfig,
    /// The sync workers that pull from and push to partners.
    pub sync: SyncConfig,
    /// `[[partners]]`: the partner nodes and the agreements with each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<PartnerConfig>,
}

/// `[node]`: identity and data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// The data folder: the database and, when `init` wrote one, the config file.
    pub data: PathBuf,
    /// The node's name, shown to TAXII clients as the title of server discovery
    /// and written in the node's STIX identity.
    pub name: String,
    /// The TLP that egress gives objects carrying no TLP marking.
    pub default_tlp: String,
    /// The communities (for TLP:GREEN) this node belongs to.
    pub communities: Vec<String>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        let sharing = NodeSharing::default();
        NodeConfig {
            data: PathBuf::from("passerelle-data"),
            name: "Passerelle".to_owned(),
            default_tlp: sharing.default_tlp,
            communities: sharing.communities,
        }
    }
}

/// `[server]`: where and how the node listens, and the TAXII API root's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The IP address and port to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// PEM file of the TLS certificate chain, leaf first; with `tls_key`, the node serves HTTPS only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the private key of `tls_cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address that is not loopback (only behind a TLS-terminating proxy).
    pub allow_plain_http_on_non_loopback: bool,
    /// The name of the TAXII API root, the first segment of its URL.
    pub api_root: String,
    /// The largest request body accepted, in bytes (advertised; larger ones get 413).
    pub max_content_length: u64,
    /// Objects per page when the client gives no `limit`.
    pub page_size_default: u64,
    /// The most objects a page holds, whatever `limit` the client asks for.
    pub page_size_max: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls_cert: None,
            tls_key: None,
            allow_plain_http_on_non_loopback: false,
            api_root: "api".to_owned(),
            max_content_length: 10 * 1024 * 1024,
            page_size_default: 1000,
            page_size_max: 10_000,
        }
    }
}

impl ServerConfig {
    /// The TLS certificate and key files, when both are configured.
    pub fn tls_files(&self) -> Option<(&Path, &Path)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            _ => None,
        }
    }
}

/// `[store]`: the database.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite database file; default `passerelle.db` in the data folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite_path: Option<PathBuf>,
    /// A PostgreSQL database (`postgres://user:password@host:port/name` or
    /// `postgresql://…`) instead of the SQLite file. It may hold a password: it is
    /// never printed or logged whole (see [`mask_password`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("sqlite_path", &self.sqlite_path)
            .field("url", &self.url.as_deref().map(mask_password))
            .finish()
    }
}

/// `url` with the password of its user part (`user:password@`) and any `password=`
/// option replaced by `***`: what `config show` prints.
pub fn mask_password(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let mut masked = url[..authority_start].to_owned();
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    masked.push_str(&userinfo[..colon]);
                    masked.push_str(":***");
                }
                None => masked.push_str(userinfo),
            }
            masked.push_str(&rest[at..authority_end]);
        }
        None => masked.push_str(&rest[..authority_end]),
    }
    let tail = &rest[authority_end..];
    match tail.split_once('?') {
        Some((path, options)) => {
            masked.push_str(path);
            masked.push('?');
            let options: Vec<String> = options
                .split('&')
                .map(|option| match option.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => option.to_owned(),
                })
                .collect();
            masked.push_str(&options.join("&"));
        }
        None => masked.push_str(tail),
    }
    masked
}

/// Where a node keeps its store: `[store] url` when set, else the SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// The SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL (which may hold a password).
    Postgres(String),
}

impl fmt::Display for Database {
    /// The file, or the PostgreSQL database as `postgres://user@host:port/name`:
    /// never a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&store::postgres::redacted_url(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

/// `[log]`: what is logged and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` for people, `json` (one object per line) for log collectors.
    pub format: LogFormat,
    /// A level or `tracing` filter directives; `RUST_LOG`, when set, wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[sync]`: the workers inside `serve` that pull from and push to partners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// Whether `serve` runs the workers (`passerelle sync` works either way).
    pub enabled: bool,
    /// Seconds between two cycles with a partner that answers.
    pub interval_seconds: u64,
    /// The longest wait, in seconds, between cycles while a partner is down.
    pub max_backoff_seconds: u64,
    /// Objects per page pulled or pushed.
    pub page_size: u64,
    /// Seconds one request to a partner may take, connecting included.
    pub request_timeout_seconds: u64,
    /// Seconds a partner's sync lease lasts unless renewed: how soon another
    /// process sharing the database takes over from one that died while syncing.
    pub lease_seconds: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            enabled: true,
            interval_seconds: 30,
            max_backoff_seconds: 300,
            page_size: 1000,
            request_timeout_seconds: 60,
            lease_seconds: 15,
        }
    }
}

impl SyncConfig {
    /// The workers' settings.
    pub fn settings(&self) -> federation::sync::SyncSettings {
        use std::time::Duration;
        let defaults = federation::sync::SyncSettings::default();
        federation::sync::SyncSettings {
            interval: Duration::from_secs(self.interval_seconds),
            max_backoff: Duration::from_secs(self.max_backoff_seconds),
            page_size: usize::try_from(self.page_size).unwrap_or(usize::MAX),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            status_timeout: Duration::from_secs(self.request_timeout_seconds)
                .max(defaults.status_timeout),
            lease_ttl: Duration::from_secs(self.lease_seconds),
            ..defaults
        }
    }
}

/// Where a setting's value came from, to point the operator at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default (or a command-line option).
    Default,
    /// A config file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => Ok(()),
            Origin::File(path) => write!(f, " (in {})", path.display()),
            Origin::Env(name) => write!(f, " (from {name})"),
        }
    }
}

/// A configuration that cannot be used; the message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {} is not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// An environment variable named like a setting is malformed.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A setting has a wrong type or value, or is unknown.
    #[error("config [{section}]{}: {message}{origin}", field_suffix(field))]
    Field {
        /// The section, such as `server`.
        section: String,
        /// The setting within it, such as `listen`; empty for the section itself.
        field: String,
        /// What is wrong.
        message: String,
        /// Where the value came from.
        origin: Origin,
    },
}

fn field_suffix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(" {field}")
    }
}

impl ConfigError {
    fn field(section: &str, field: &str, message: impl Into<String>) -> Self {
        ConfigError::Field {
            section: section.to_owned(),
            field: field.to_owned(),
            message: message.into(),
            origin: Origin::Default,
        }
    }
}

/// A TOML table with the origin of each `section.key`, before it becomes a [`Config`].
struct Layered {
    table: toml::Table,
    origins: BTreeMap<(String, String), Origin>,
}

impl Config {
    /// Loads the configuration: defaults, then `file` if given, then the
    /// `PASSERELLE__SECTION__KEY` variables of `env`; then validates it.
    /// Reading has no side effect.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<Config, ConfigError> {
        let mut layered = Layered {
            table: toml::Table::new(),
            origins: BTreeMap::new(),
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            layered.add_file(&text, path)?;
        }
        layered.add_env(env)?;
        let origins = layered.origins.clone();
        let config = layered.into_config()?;
        config.validate().map_err(|error| match error {
            ConfigError::Field {
                section,
                field,
                message,
                origin: _,
            } => ConfigError::Field {
                origin: origins
                    .get(&(section.clone(), field.clone()))
                    .cloned()
                    .unwrap_or(Origin::Default),
                section,
                field,
                message,
            },
            other => other,
        })?;
        Ok(config)
    }

    /// Checks the values that types alone do not constrain.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if self.node.name.trim().is_empty() {
            return Err(ConfigError::field("node", "name", "must not be empty"));
        }
        if self.node.data.as_os_str().is_empty() {
            return Err(ConfigError::field("node", "data", "must not be empty"));
        }
        match (&server.tls_cert, &server.tls_key) {
            (Some(_), None) => {
                return Err(ConfigError::field(
                    "server",
                    "tls_key",
                    "missing: tls_cert is set, so the private key file is needed too",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::field(
                    "server",
                    "tls_cert",
                    "missing: tls_key is set, so the certificate file is needed too",
                ));
            }
            _ => {}
        }
        if server.tls_files().is_none()
            && !server.listen.ip().is_loopback()
            && !server.allow_plain_http_on_non_loopback
        {
            return Err(ConfigError::field(
                "server",
                "listen",
                format!(
                    "{} is not a loopback address and no TLS certificate is configured: \
                     set [server] tls_cert and tls_key to serve HTTPS, or listen on 127.0.0.1, \
                     or set [server] allow_plain_http_on_non_loopback = true behind a TLS proxy",
                    server.listen
                ),
            ));
        }
        let api_root_ok = taxii::server::is_valid_api_root(&server.api_root);
        if !api_root_ok {
            return Err(ConfigError::field(
                "server",
                "api_root",
                "must be 1 to 64 letters, digits, '-', '_' or '.', not start with '.', and not be \"taxii2\" (the discovery path)",
            ));
        }
        if server.max_content_length < 1024 {
            return Err(ConfigError::field(
                "server",
                "max_content_length",
                "must be at least 1024 bytes",
            ));
        }
        if server.page_size_max == 0 {
            return Err(ConfigError::field(
                "server",
                "page_size_max",
                "must be at least 1",
            ));
        }
        if server.page_size_default == 0 || server.page_size_default > server.page_size_max {
            return Err(ConfigError::field(
                "server",
                "page_size_default",
                format!(
                    "must be between 1 and page_size_max ({})",
                    server.page_size_max
                ),
            ));
        }
        let sync = &self.sync;
        for (field, value) in [
            ("interval_seconds", sync.interval_seconds),
            ("request_timeout_seconds", sync.request_timeout_seconds),
        ] {
            if value == 0 {
                return Err(ConfigError::field("sync", field, "must be at least 1"));
            }
        }
        if sync.max_backoff_seconds < sync.interval_seconds {
            return Err(ConfigError::field(
                "sync",
                "max_backoff_seconds",
                format!(
                    "must be at least interval_seconds ({})",
                    sync.interval_seconds
                ),
            ));
        }
        if sync.lease_seconds < 3 {
            // Renewed every third of it: shorter, a busy moment loses it.
            return Err(ConfigError::field(
                "sync",
                "lease_seconds",
                "must be at least 3",
            ));
        }
        if !(1..=10_000).contains(&sync.page_size) {
            return Err(ConfigError::field(
                "sync",
                "page_size",
                "must be between 1 and 10000",
            ));
        }
        if let Some(url) = &self.store.url {
            if self.store.sqlite_path.is_some() {
                return Err(ConfigError::field(
                    "store",
                    "url",
                    "a node uses either sqlite_path or url, not both",
                ));
            }
            if let Err(error) = store::postgres::parse_url(url) {
                let message = match error {
                    store::StoreError::Invalid(message) => message,
                    other => other.to_string(),
                };
                return Err(ConfigError::field("store", "url", message));
            }
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::field(
                "log",
                "level",
                format!("not a level or filter directive: {error}"),
            ));
        }
        self.agreement().validate().map_err(|error| match error {
            federation::ConfigError::Node { field, message } => {
                ConfigError::field("node", &field, message)
            }
            federation::ConfigError::Partner {
                partner,
                field,
                message,
            } => ConfigError::field("partners", &format!("{partner}: {field}"), message),
            federation::ConfigError::Toml(message) => ConfigError::field("partners", "", message),
        })?;
        Ok(())
    }

    /// The SQLite database file.
    pub fn sqlite_path(&self) -> PathBuf {
        match &self.store.sqlite_path {
            Some(path) => path.clone(),
            None => self.node.data.join(store::sqlite::FILE_NAME),
        }
    }

    /// The node's store: the PostgreSQL database of `[store] url`, else the SQLite file.
    pub fn database(&self) -> Database {
        match &self.store.url {
            Some(url) => Database::Postgres(url.clone()),
            None => Database::Sqlite(self.sqlite_path()),
        }
    }
}

impl Config {
    /// The federation part: `[node]`'s sharing keys and `[[partners]]`.
    pub fn agreement(&self) -> Agreement {
        Agreement {
            node: NodeSharing {
                default_tlp: self.node.default_tlp.clone(),
                communities: self.node.communities.clone(),
            },
            partners: self.partners.clone(),
        }
    }
}

impl Layered {
    fn add_file(&mut self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            path: path.to_owned(),
            message: error.message().to_owned() + &line_of(text, error.span()),
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        for (section, key) in PATH_KEYS {
            let value = table
                .get_mut(section)
                .and_then(|s| s.as_table_mut())
                .and_then(|s| s.get_mut(key));
            if let Some(toml::Value::String(text)) = value {
                let relative = PathBuf::from(&*text);
                if relative.is_relative() {
                    *text = base.join(relative).to_string_lossy().into_owned();
                }
            }
        }
        // A partner's token and CA files, like the other paths, are relative to the
        // config file.
        if let Some(toml::Value::Array(partners)) = table.get_mut("partners") {
            for partner in partners.iter_mut() {
                for key in ["token_file", "ca_file"] {
                    if let Some(toml::Value::String(text)) =
                        partner.as_table_mut().and_then(|p| p.get_mut(key))
                    {
                        let relative = PathBuf::from(&*text);
                        if relative.is_relative() {
                            *text = base.join(relative).to_string_lossy().into_owned();
                        }
                    }
                }
            }
        }
        for (section, value) in &table {
            if value.is_array() {
                self.origins.insert(
                    (section.clone(), String::new()),
                    Origin::File(path.to_owned()),
                );
            }
            if let Some(keys) = value.as_table() {
                for key in keys.keys() {
                    self.origins.insert(
                        (section.clone(), key.clone()),
                        Origin::File(path.to_owned()),
                    );
                }
            }
        }
        self.table = table;
        Ok(())
    }

    fn add_env(
        &mut self,
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<(), ConfigError> {
        for (name, value) in env {
            let Some(name) = name.to_str() else { continue };
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let Some((section, key)) = rest.split_once("__") else {
                return Err(ConfigError::Env {
                    name: name.to_owned(),
                    message: "expected PASSERELLE__<SECTION>__<KEY>".to_owned(),
                });
            };
            let Some(value) = value.to_str() else {
                return Err(ConfigError::Env {
                    name: name.to_owned(),
                    message: "value is not valid UTF-8".to_owned(),
                });
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let entry = self
                .table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(entry) = entry else {
                return Err(ConfigError::field(
                    &section,
                    "",
                    "must be a table ([section])",
                ));
            };
            entry.insert(key.clone(), env_value(value));
            self.origins
                .insert((section, key), Origin::Env(name.to_owned()));
        }
        Ok(())
    }

    /// Deserialises section by section so that an error can name the field:
    /// when a section fails, each of its keys is tried alone to find the culprit.
    fn into_config(self) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        for (section, value) in self.table {
            let origin_of = |key: &str| {
                self.origins
                    .get(&(section.clone(), key.to_owned()))
                    .cloned()
                    .unwrap_or(Origin::Default)
            };
            if section == "partners" {
                config.partners = partners_from(value, &origin_of(""))?;
                continue;
            }
            let toml::Value::Table(keys) = value else {
                return Err(ConfigError::Field {
                    section: section.clone(),
                    field: String::new(),
                    message: "must be a table ([section]), not a value".to_owned(),
                    origin: Origin::Default,
                });
            };
            let result = match section.as_str() {
                "node" => section_from(&keys).map(|s| config.node = s),
                "server" => section_from(&keys).map(|s| config.server = s),
                "store" => section_from(&keys).map(|s| config.store = s),
                "log" => section_from(&keys).map(|s| config.log = s),
                "sync" => section_from(&keys).map(|s| config.sync = s),
                _ => {
                    let origin = keys.keys().next().map(|k| origin_of(k));
                    return Err(ConfigError::Field {
                        section: section.clone(),
                        field: String::new(),
                        message: "unknown section; the sections are node, server, store, log, \
                                  sync and [[partners]]"
                            .to_owned(),
                        origin: origin.unwrap_or(Origin::Default),
                    });
                }
            };
            if let Err(whole) = result {
                let culprit = keys.iter().find_map(|(key, value)| {
                    let mut alone = toml::Table::new();
                    alone.insert(key.clone(), value.clone());
                    let error = match section.as_str() {
                        "node" => section_from::<NodeConfig>(&alone).err(),
                        "server" => section_from::<ServerConfig>(&alone).err(),
                        "store" => section_from::<StoreConfig>(&alone).err(),
                        "sync" => section_from::<SyncConfig>(&alone).err(),
                        _ => section_from::<LogConfig>(&alone).err(),
                    };
                    error.map(|error| (key.clone(), error))
                });
                let (field, message) = culprit.unwrap_or((String::new(), whole));
                return Err(ConfigError::Field {
                    origin: origin_of(&field),
                    section,
                    field,
                    message,
                });
            }
        }
        Ok(config)
    }
}

/// `[[partners]]`, each entry on its own so that an error names the partner.
fn partners_from(value: toml::Value, origin: &Origin) -> Result<Vec<PartnerConfig>, ConfigError> {
    let error = |field: String, message: String| ConfigError::Field {
        section: "partners".to_owned(),
        field,
        message,
        origin: origin.clone(),
    };
    let toml::Value::Array(entries) = value else {
        return Err(error(
            String::new(),
            "must be an array of tables ([[partners]])".to_owned(),
        ));
    };
    let mut partners = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let name = entry
            .get("name")
            .and_then(toml::Value::as_str)
            .map_or_else(|| format!("#{}", i + 1), str::to_owned);
        let partner: PartnerConfig = entry
            .try_into()
            .map_err(|e: toml::de::Error| error(name, e.message().to_owned()))?;
        partners.push(partner);
    }
    Ok(partners)
}

fn section_from<T: serde::de::DeserializeOwned>(keys: &toml::Table) -> Result<T, String> {
    toml::Value::Table(keys.clone())
        .try_into()
        .map_err(|error: toml::de::Error| error.message().to_owned())
}

/// An environment value is read as a TOML value when it is one (`true`, `8080`,
/// `["a"]`, `"quoted"`), and as a plain string otherwise (`0.0.0.0:8443`, `json`).
fn env_value(text: &str) -> toml::Value {
    let parsed: Result<toml::Table, _> = toml::from_str(&format!("v = {text}"));
    match parsed.ok().and_then(|mut t| t.remove("v")) {
        Some(value) if !value.is_table() => value,
        _ => toml::Value::String(text.to_owned()),
    }
}

fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!(" (line {line}, column {column})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passerelle.toml");
        std::fs::write(&path, text).unwrap();
        let env = env
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        Config::load(Some(&path), env).map(|mut c| {
            // Make paths comparable across temporary folders.
            c.node.data = c
                .node
                .data
                .strip_prefix(dir.path())
                .map(Path::to_owned)
                .unwrap_or(c.node.data);
            c
        })
    }

    fn message(result: Result<Config, ConfigError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn defaults_need_no_file() {
        let config = Config::load(None, []).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.sqlite_path(),
            Path::new("passerelle-data/passerelle.db")
        );
    }

    #[test]
    fn example_shows_every_setting_with_its_default() {
        // Uncommenting every `# key = value` line of the example must give the
        // defaults, except the settings whose default is "unset".
        let optional = ["tls_cert", "tls_key", "sqlite_path", "url"];
        let uncommented: String = EXAMPLE
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(setting)
                    if setting.contains(" = ")
                        && !optional.iter().any(|k| setting.starts_with(k)) =>
                {
                    setting.to_owned()
                }
                _ => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = load_text(&uncommented, &[]).unwrap();
        assert_eq!(config, Config::default());
        // And every setting of the defaults is described in the example.
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        for (section, keys) in defaults {
            assert!(EXAMPLE.contains(&format!("[{section}]")), "{section}");
            for key in keys.as_table().unwrap().keys() {
                assert!(EXAMPLE.contains(&format!("# {key} = ")), "{section}.{key}");
            }
        }
        for key in optional {
            assert!(EXAMPLE.contains(&format!("# {key} = ")), "{key}");
        }
    }

    #[test]
    fn a_postgres_url_chooses_the_store_and_its_password_is_never_shown() {
        let url = "postgres://node:s3cret@db.example:5432/passerelle";
        let config = load_text(&format!("[store]\nurl = \"{url}\"\n"), &[]).unwrap();
        assert_eq!(config.database(), Database::Postgres(url.to_owned()));
        assert_eq!(
            config.database().to_string(),
            "postgres://node@db.example:5432/passerelle"
        );
        let debug = format!("{config:?} {:?}", config.database());
        assert!(!debug.contains("s3cret"), "{debug}");
        assert_eq!(
            Config::default().database(),
            Database::Sqlite(PathBuf::from("passerelle-data/passerelle.db"))
        );
        for (url, masked) in [
            (
                "postgres://node:s3cret@db.example:5432/passerelle",
                "postgres://node:***@db.example:5432/passerelle",
            ),
            (
                "postgresql://node@db/p?password=s3cret&sslmode=disable",
                "postgresql://node@db/p?password=***&sslmode=disable",
            ),
            ("postgres://db/p", "postgres://db/p"),
            ("postgres://a:b:c@db", "postgres://a:***@db"),
        ] {
            assert_eq!(mask_password(url), masked);
        }
    }

    #[test]
    fn a_bad_store_url_names_the_setting() {
        for (text, expected) in [
            ("[store]\nurl = \"mysql://db/x\"\n", "postgres://"),
            ("[store]\nurl = \"postgres://db\"\n", "names no database"),
            (
                "[store]\nurl = \"postgres://db/x\"\nsqlite_path = \"x.db\"\n",
                "not both",
            ),
        ] {
            let message = message(load_text(text, &[]));
            assert!(
                message.contains("[store] url") && message.contains(expected),
                "{message}"
            );
        }
        let message = message(load_text(
            "",
            &[(
                "PASSERELLE__STORE__URL",
                "postgres://u:s3cret@db:notaport/x",
            )],
        ));
        assert!(message.contains("[store] url"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[test]
    fn file_values_and_relative_paths() {
        let text = r#"
[node]
data = "data"
name = "CERT-X"
[server]
listen = "127.0.0.1:0"
tls_cert = "tls/cert.pem"
tls_key = "/etc/key.pem"
[store]
sqlite_path = "db/node.db"
[log]
format = "json"
level = "debug,taxii=trace"
"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        let config = Config::load(Some(&path), []).unwrap();
        assert_eq!(config.node.name, "CERT-X");
        assert_eq!(config.node.data, dir.path().join("data"));
        assert_eq!(config.server.listen.port(), 0);
        assert_eq!(
            config.server.tls_files(),
            Some((
                dir.path().join("tls/cert.pem").as_path(),
                Path::new("/etc/key.pem")
            ))
        );
        assert_eq!(config.sqlite_path(), dir.path().join("db/node.db"));
        assert_eq!(config.log.format, LogFormat::Json);
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load_text(
            "[server]\nlisten = \"127.0.0.1:1\"\npage_size_max = 50\n",
            &[
                ("PASSERELLE__SERVER__LISTEN", "127.0.0.1:9000"),
                ("PASSERELLE__SERVER__PAGE_SIZE_DEFAULT", "20"),
                ("PASSERELLE__LOG__FORMAT", "json"),
                ("PASSERELLE__NODE__NAME", "\"123\""),
                (
                    "PASSERELLE__SERVER__ALLOW_PLAIN_HTTP_ON_NON_LOOPBACK",
                    "true",
                ),
                ("OTHER__SERVER__LISTEN", "x"),
            ],
        )
        .unwrap();
        assert_eq!(config.server.listen.port(), 9000);
        assert_eq!(config.server.page_size_default, 20);
        assert_eq!(config.server.page_size_max, 50);
        assert_eq!(config.log.format, LogFormat::Json);
        assert_eq!(config.node.name, "123");
        assert!(config.server.allow_plain_http_on_non_loopback);
    }

    #[test]
    fn errors_name_the_section_field_and_origin() {
        let m = message(load_text("[server]\npage_size_max = \"many\"\n", &[]));
        assert!(m.starts_with("config [server] page_size_max: "), "{m}");
        assert!(m.contains("passerelle.toml"), "{m}");

        let m = message(load_text(
            "[server]\nlisten = \"nowhere\"\napi_root = \"x\"\n",
            &[],
        ));
        assert!(m.starts_with("config [server] listen: "), "{m}");

        let m = message(load_text("[server]\nlistn = \"127.0.0.1:1\"\n", &[]));
        assert!(m.starts_with("config [server] listn: unknown field"), "{m}");

        let m = message(load_text("[srv]\nlisten = 1\n", &[]));
        assert!(m.starts_with("config [srv]: unknown section"), "{m}");

        let m = message(load_text("", &[("PASSERELLE__LOG__FORMAT", "xml")]));
        assert!(m.starts_with("config [log] format: "), "{m}");
        assert!(m.ends_with("(from PASSERELLE__LOG__FORMAT)"), "{m}");

        let m = message(load_text("", &[("PASSERELLE__LISTEN", "x")]));
        assert!(
            m.starts_with("environment variable PASSERELLE__LISTEN"),
            "{m}"
        );

        let m = message(load_text("[server\n", &[]));
        assert!(m.contains("not valid TOML") && m.contains("line 1"), "{m}");
    }

    #[test]
    fn validation_errors_name_the_field() {
        let cases = [
            ("[node]\nname = \" \"\n", "[node] name"),
            ("[server]\ntls_cert = \"c.pem\"\n", "[server] tls_key"),
            ("[server]\ntls_key = \"k.pem\"\n", "[server] tls_cert"),
            ("[server]\napi_root = \"a/b\"\n", "[server] api_root"),
            ("[server]\napi_root = \"taxii2\"\n", "[server] api_root"),
            (
                "[server]\nmax_content_length = 10\n",
                "[server] max_content_length",
            ),
            ("[server]\npage_size_max = 0\n", "[server] page_size_max"),
            (
                "[server]\npage_size_max = 10\npage_size_default = 11\n",
                "[server] page_size_default",
            ),
            ("[log]\nlevel = \"info,=[\"\n", "[log] level"),
        ];
        for (text, expected) in cases {
            let m = message(load_text(text, &[]));
            assert!(
                m.starts_with(&format!("config {expected}: ")),
                "{text}: {m}"
            );
        }
    }

    #[test]
    fn plain_http_only_on_loopback_unless_allowed() {
        let m = message(load_text("[server]\nlisten = \"0.0.0.0:8080\"\n", &[]));
        assert!(
            m.starts_with("config [server] listen: 0.0.0.0:8080 is not a loopback"),
            "{m}"
        );
        assert!(m.ends_with("passerelle.toml)"), "{m}");
        assert!(load_text("[server]\nlisten = \"[::1]:8080\"\n", &[]).is_ok());
        assert!(
            load_text(
                "[server]\nlisten = \"0.0.0.0:8080\"\nallow_plain_http_on_non_loopback = true\n",
                &[]
            )
            .is_ok()
        );
        assert!(
            load_text(
                "[server]\nlisten = \"0.0.0.0:8080\"\ntls_cert = \"c\"\ntls_key = \"k\"\n",
                &[]
            )
            .is_ok()
        );
    }

    const PARTNER: &str = r#"
[node]
communities = ["wc2030"]

[[partners]]
name = "paris"
identity = "identity--2f0f4a1c-5d7e-4b8a-9c3d-1e2f3a4b5c6d"
public_key = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
url = "http://127.0.0.1:9001/"
token_file = "secrets/paris.token"
ca_file = "tls/paris-ca.pem"
communities = ["wc2030"]
account = "paris"
[partners.outbound]
collections = ["default"]
max_tlp = "amber"
"#;

    #[test]
    fn partners_are_read_with_their_token_file_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passerelle.toml");
        std::fs::write(&path, PARTNER).unwrap();
        let config = Config::load(Some(&path), []).unwrap();
        assert_eq!(config.node.communities, ["wc2030"]);
        assert_eq!(config.node.default_tlp, "amber");
        let paris = &config.partners[0];
        assert_eq!(paris.name, "paris");
        assert_eq!(
            paris.token_file.as_deref(),
            Some(dir.path().join("secrets/paris.token").as_path())
        );
        assert_eq!(
            paris.ca_file.as_deref(),
            Some(dir.path().join("tls/paris-ca.pem").as_path())
        );
        assert_eq!(config.agreement().partners.len(), 1);
    }

    #[test]
    fn partner_errors_name_the_partner_and_the_field() {
        let bad_tlp = PARTNER.replace(r#"max_tlp = "amber""#, r#"max_tlp = "red""#);
        let m = message(load_text(&bad_tlp, &[]));
        assert!(m.contains("[partners] paris: outbound.max_tlp"), "{m}");
        let unknown_key = PARTNER.replace("account = ", "acount = ");
        let m = message(load_text(&unknown_key, &[]));
        assert!(
            m.contains("[partners] paris") && m.contains("acount"),
            "{m}"
        );
        let bad_default = PARTNER.replace(
            "communities = [\"wc2030\"]\n\n",
            "communities = [\"wc2030\"]\ndefault_tlp = \"purple\"\n\n",
        );
        let m = message(load_text(&bad_default, &[]));
        assert!(m.contains("[node] default_tlp"), "{m}");
    }

    #[test]
    fn sync_settings() {
        let config = load_text(
            "[sync]\ninterval_seconds = 5\nmax_backoff_seconds = 40\npage_size = 2000\n\
             lease_seconds = 30\n",
            &[("PASSERELLE__SYNC__ENABLED", "false")],
        )
        .unwrap();
        assert!(!config.sync.enabled);
        let settings = config.sync.settings();
        assert_eq!(settings.interval.as_secs(), 5);
        assert_eq!(settings.max_backoff.as_secs(), 40);
        assert_eq!(settings.page_size, 2000);
        assert_eq!(settings.request_timeout.as_secs(), 60);
        assert_eq!(settings.lease_ttl.as_secs(), 30);
        assert_eq!(SyncConfig::default().settings().lease_ttl.as_secs(), 15);
        let cases = [
            (
                "[sync]\ninterval_seconds = 0\n",
                "[sync] interval_seconds: must be at least 1",
            ),
            (
                "[sync]\ninterval_seconds = 60\nmax_backoff_seconds = 30\n",
                "[sync] max_backoff_seconds: must be at least interval_seconds (60)",
            ),
            ("[sync]\npage_size = 0\n", "[sync] page_size"),
            (
                "[sync]\nlease_seconds = 2\n",
                "[sync] lease_seconds: must be at least 3",
            ),
            ("[sync]\npage_size = 20000\n", "[sync] page_size"),
            (
                "[sync]\nrequest_timeout_seconds = 0\n",
                "[sync] request_timeout_seconds",
            ),
            ("[sync]\nenabled = \"yes\"\n", "[sync] enabled"),
            ("[sync]\ninterval = 3\n", "[sync] interval: unknown field"),
        ];
        for (text, expected) in cases {
            let m = message(load_text(text, &[]));
            assert!(m.contains(expected), "{text:?}: {m}");
        }
    }

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let m = message(Config::load(Some(Path::new("/nonexistent/p.toml")), []));
        assert!(m.contains("/nonexistent/p.toml"), "{m}");
    }
}
