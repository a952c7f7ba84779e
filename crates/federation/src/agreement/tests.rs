use super::*;
use crate::identity::NodeIdentity;

fn key(seed: u8) -> String {
    NodeIdentity::from_seed(
        "identity--7f4c4a4e-9a4b-4a4f-8d1e-2b4b8f0e6c11",
        "x",
        stix::Timestamp::parse("2026-11-02T09:00:00Z").unwrap(),
        &[seed; 32],
    )
    .public_key()
    .to_string()
}

/// A complete, valid configuration: three partners, one community.
fn example() -> String {
    format!(
        r#"
[node]
name = "DGSN Rabat"
data = "passerelle-data"
default_tlp = "amber"
communities = ["wc2030"]

[server]
listen = "127.0.0.1:8080"

[[partners]]
name = "paris"
identity = "identity--0b7e1d3c-5f7a-4c2e-9d1b-6a8f0c4e2b13"
public_key = "{paris}"
url = "https://paris.example:8443/"
api_root = "api"
token_env = "PASSERELLE_TOKEN_PARIS"
communities = ["wc2030"]
account = "paris"
pull = [{{ remote = "91a7b528-80eb-42ed-a74d-c6fbd5a26116", into = "from-paris" }}]
push = [{{ local = "shared", remote = "a2b3c4d5-80eb-42ed-a74d-c6fbd5a26116" }}]
[partners.outbound]
collections = ["shared"]
types = []
max_tlp = "amber"
labels_required = []
labels_excluded = ["internal"]
consents = [{{ originator = "madrid", tlp = "amber", reference = "letter 2026-11-02" }}]
[partners.inbound]
accept_unsigned = false
accept_unknown_signer = false
on_invalid_signature = "quarantine"
quarantine = "quarantine"
collection = "from-paris"

[[partners]]
name = "madrid"
identity = "identity--1c8f2e4d-6a8b-4d3f-8e2c-7b9a1d5f3c24"
public_key = "{madrid}"
url = "http://127.0.0.1:9443/"
token_file = "secrets/madrid.token"
communities = ["wc2030"]
[partners.outbound]
collections = ["shared", "wc2030"]
max_tlp = "amber+strict"

[[partners]]
name = "rabat-ops"
identity = "identity--2d9a3f5e-7b9c-4e4a-9f3d-8cab2e6a4d35"
public_key = "{rabat}"
"#,
        paris = key(1),
        madrid = key(2),
        rabat = key(3)
    )
}

fn valid() -> Agreement {
    Agreement::from_toml(&example()).unwrap()
}

#[test]
fn the_example_reads_and_validates() {
    let a = valid();
    assert_eq!(a.default_tlp(), Ok(Tlp::Amber));
    assert_eq!(a.node.communities, ["wc2030"]);
    assert_eq!(a.partners.len(), 3);
    let paris = a.partner("paris").unwrap();
    assert_eq!(paris.pull[0].into, "from-paris");
    assert_eq!(paris.push[0].local, "shared");
    assert_eq!(paris.outbound.consents[0].originator, "madrid");
    assert_eq!(paris.inbound.on_invalid(), OnInvalidSignature::Quarantine);
    assert_eq!(paris.account.as_deref(), Some("paris"));
    // Defaults: nothing goes, signatures required, invalid ones rejected.
    let rabat = a.partner("rabat-ops").unwrap();
    assert_eq!(rabat.api_root, "api");
    assert_eq!(rabat.url, None);
    assert!(rabat.outbound.collections.is_empty());
    assert_eq!(rabat.outbound.max_tlp, "clear");
    assert!(!rabat.inbound.accept_unsigned);
    assert!(!rabat.inbound.accept_unknown_signer);
    assert_eq!(rabat.inbound.on_invalid(), OnInvalidSignature::Reject);
    assert_eq!(rabat.inbound.quarantine, "quarantine");
    // Offline files from a partner go to the collection it names, else `default`.
    assert_eq!(paris.inbound.collection(), "from-paris");
    assert_eq!(rabat.inbound.collection, None);
    assert_eq!(rabat.inbound.collection(), "default");
}

#[test]
fn no_federation_settings_is_valid() {
    let a = Agreement::from_toml("[node]\nname = \"x\"\n").unwrap();
    assert_eq!(a.default_tlp(), Ok(Tlp::Amber));
    assert!(a.partners.is_empty());
}

#[test]
fn tlp_words() {
    for (word, level) in [
        ("clear", Tlp::Clear),
        ("white", Tlp::Clear),
        ("green", Tlp::Green),
        ("amber", Tlp::Amber),
        ("amber+strict", Tlp::AmberStrict),
        ("red", Tlp::Red),
        ("TLP:AMBER+STRICT", Tlp::AmberStrict),
    ] {
        assert_eq!(parse_tlp(word), Ok(level), "{word}");
    }
    for bad in ["purple", "amber strict", ""] {
        assert!(parse_tlp(bad).unwrap_err().contains("is not a TLP level"));
    }
}

#[test]
fn unknown_partner_keys_are_refused_by_the_reader() {
    let text = example().replace(
        "max_tlp = \"amber\"",
        "max_tlp = \"amber\"\nmax_tpl = \"red\"",
    );
    let err = Agreement::from_toml(&text).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Toml(m) if m.contains("max_tpl")),
        "{err}"
    );
}

/// Applies `change` to the valid example and expects an error about `partner` and `field`.
fn partner_error(change: impl FnOnce(&mut Agreement), partner: &str, field: &str, says: &str) {
    let mut a = valid();
    change(&mut a);
    let err = a.validate().unwrap_err();
    match &err {
        ConfigError::Partner {
            partner: p,
            field: f,
            message,
        } => {
            assert_eq!((p.as_str(), f.as_str()), (partner, field), "{err}");
            assert!(message.contains(says), "{err} / expected {says:?}");
        }
        other => panic!("expected a partner error, got {other}"),
    }
    let text = err.to_string();
    assert!(text.contains(partner) && text.contains(field), "{text}");
}

fn node_error(change: impl FnOnce(&mut Agreement), field: &str, says: &str) {
    let mut a = valid();
    change(&mut a);
    let err = a.validate().unwrap_err();
    match &err {
        ConfigError::Node { field: f, message } => {
            assert_eq!(f, field, "{err}");
            assert!(message.contains(says), "{err} / expected {says:?}");
        }
        other => panic!("expected a node error, got {other}"),
    }
    assert!(err.to_string().starts_with("config [node] "), "{err}");
}

fn paris(a: &mut Agreement) -> &mut PartnerConfig {
    &mut a.partners[0]
}

#[test]
fn node_errors() {
    node_error(
        |a| a.node.default_tlp = "purple".into(),
        "default_tlp",
        "\"purple\" is not a TLP level",
    );
    node_error(
        |a| a.node.communities.push("World Cup".into()),
        "communities[1]",
        "not a community name",
    );
    node_error(
        |a| a.node.communities.push("wc2030".into()),
        "communities[1]",
        "listed twice",
    );
    // A cautious node may keep unmarked objects at home.
    let mut a = valid();
    a.node.default_tlp = "red".into();
    a.validate().unwrap();
}

#[test]
fn names() {
    partner_error(
        |a| paris(a).name = "Paris".into(),
        "Paris",
        "name",
        "not a partner name",
    );
    partner_error(
        |a| paris(a).name = "a".repeat(65),
        &"a".repeat(65),
        "name",
        "not a partner name",
    );
    partner_error(
        |a| paris(a).name = String::new(),
        "partners[0]",
        "name",
        "not a partner name",
    );
    partner_error(
        |a| a.partners[1].name = "paris".into(),
        "paris",
        "name",
        "same name",
    );
}

#[test]
fn identities_and_keys() {
    partner_error(
        |a| paris(a).identity = "indicator--0b7e1d3c-5f7a-4c2e-9d1b-6a8f0c4e2b13".into(),
        "paris",
        "identity",
        "not a STIX identity id",
    );
    partner_error(
        |a| paris(a).identity = "paris".into(),
        "paris",
        "identity",
        "not a STIX identity id",
    );
    partner_error(
        |a| a.partners[1].identity = a.partners[0].identity.clone(),
        "madrid",
        "identity",
        "partner \"paris\" has the same identity",
    );
    partner_error(
        |a| paris(a).public_key = "ed25519:AAAA".into(),
        "paris",
        "public_key",
        "holds 3 bytes",
    );
    partner_error(
        |a| paris(a).public_key = "ssh-ed25519 AAAA".into(),
        "paris",
        "public_key",
        "must start with \"ed25519:\"",
    );
    partner_error(
        |a| paris(a).public_key = "ed25519:!!".into(),
        "paris",
        "public_key",
        "not standard base64",
    );
    partner_error(
        |a| a.partners[2].public_key = a.partners[0].public_key.clone(),
        "rabat-ops",
        "public_key",
        "partner \"paris\" has the same key",
    );
}

#[test]
fn connection() {
    partner_error(
        |a| paris(a).url = Some("paris.example".into()),
        "paris",
        "url",
        "not a URL",
    );
    partner_error(
        |a| paris(a).url = Some("ftp://paris.example/".into()),
        "paris",
        "url",
        "not http or https",
    );
    partner_error(
        |a| paris(a).url = Some("https:///api".into()),
        "paris",
        "url",
        "no host",
    );
    partner_error(
        |a| paris(a).url = Some("https://user:pw@paris.example/".into()),
        "paris",
        "url",
        "credentials",
    );
    partner_error(
        |a| paris(a).url = Some("http://paris.example/".into()),
        "paris",
        "url",
        "plain http",
    );
    for ok in [
        "http://localhost:8080/",
        "http://[::1]:8080/",
        "http://127.0.0.2/",
        "https://[2001:db8::1]:8443",
    ] {
        let mut a = valid();
        paris(&mut a).url = Some(ok.into());
        a.validate().unwrap();
    }
    partner_error(
        |a| paris(a).api_root = " ".into(),
        "paris",
        "api_root",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).api_root = "a/b".into(),
        "paris",
        "api_root",
        "one path segment",
    );
    partner_error(
        |a| paris(a).token_file = Some("secrets/paris.token".into()),
        "paris",
        "token_env",
        "both set",
    );
    partner_error(
        |a| paris(a).token_env = None,
        "paris",
        "token_env",
        "no credentials",
    );
    partner_error(
        |a| paris(a).token_env = Some("MY-TOKEN".into()),
        "paris",
        "token_env",
        "not an environment variable name",
    );
    partner_error(
        |a| paris(a).token_env = Some("1TOKEN".into()),
        "paris",
        "token_env",
        "not an environment variable name",
    );
    partner_error(
        |a| {
            a.partners[1].token_file = Some(PathBuf::new());
        },
        "madrid",
        "token_file",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).pull[0].remote = String::new(),
        "paris",
        "pull[0].remote",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).pull[0].into = String::new(),
        "paris",
        "pull[0].into",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).push[0].local = String::new(),
        "paris",
        "push[0].local",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).push[0].remote = String::new(),
        "paris",
        "push[0].remote",
        "must not be empty",
    );
    partner_error(
        |a| {
            paris(a).url = None;
            paris(a).token_env = None;
        },
        "paris",
        "pull",
        "need the partner's url",
    );
    partner_error(
        |a| {
            a.partners[2].push.push(PushConfig {
                local: "shared".into(),
                remote: "x".into(),
            });
        },
        "rabat-ops",
        "push",
        "need the partner's url",
    );
}

#[test]
fn accounts() {
    partner_error(
        |a| paris(a).account = Some("paris:1".into()),
        "paris",
        "account",
        "not an account name",
    );
    partner_error(
        |a| a.partners[1].account = Some("paris".into()),
        "madrid",
        "account",
        "already tied to partner \"paris\"",
    );
}

#[test]
fn communities() {
    partner_error(
        |a| paris(a).communities.push("euro2032".into()),
        "paris",
        "communities[1]",
        "not one of this node's communities ([node] communities: wc2030)",
    );
    partner_error(
        |a| paris(a).communities.push("Euro 2032".into()),
        "paris",
        "communities[1]",
        "not a community name",
    );
    // When the node lists none, partners' communities are taken as written.
    let mut a = valid();
    a.node.communities.clear();
    paris(&mut a).communities.push("euro2032".into());
    a.validate().unwrap();
}

#[test]
fn outbound() {
    partner_error(
        |a| paris(a).outbound.collections.push(" ".into()),
        "paris",
        "outbound.collections[1]",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).outbound.types.push("Indicator".into()),
        "paris",
        "outbound.types[0]",
        "not a STIX object type name",
    );
    partner_error(
        |a| paris(a).outbound.max_tlp = "red".into(),
        "paris",
        "outbound.max_tlp",
        "TLP:RED never leaves",
    );
    partner_error(
        |a| paris(a).outbound.max_tlp = "TLP:RED".into(),
        "paris",
        "outbound.max_tlp",
        "TLP:RED never leaves",
    );
    partner_error(
        |a| paris(a).outbound.max_tlp = "amber-strict".into(),
        "paris",
        "outbound.max_tlp",
        "is not a TLP level",
    );
    partner_error(
        |a| paris(a).outbound.labels_required.push(String::new()),
        "paris",
        "outbound.labels_required[0]",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).outbound.labels_excluded.push(String::new()),
        "paris",
        "outbound.labels_excluded[1]",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).outbound.labels_required.push("internal".into()),
        "paris",
        "outbound.labels_excluded",
        "both required and excluded",
    );
    // White is TLP 1.0's clear.
    let mut a = valid();
    paris(&mut a).outbound.max_tlp = "white".into();
    a.validate().unwrap();
}

#[test]
fn consents() {
    fn consent(a: &mut Agreement) -> &mut Consent {
        &mut paris(a).outbound.consents[0]
    }
    partner_error(
        |a| consent(a).originator = "lisbon".into(),
        "paris",
        "outbound.consents[0].originator",
        "\"lisbon\" is not a configured partner",
    );
    partner_error(
        |a| consent(a).originator = "paris".into(),
        "paris",
        "outbound.consents[0].originator",
        "consent from itself",
    );
    partner_error(
        |a| consent(a).tlp = "red".into(),
        "paris",
        "outbound.consents[0].tlp",
        "TLP:RED never leaves",
    );
    partner_error(
        |a| consent(a).tlp = "orange".into(),
        "paris",
        "outbound.consents[0].tlp",
        "not a TLP level",
    );
    partner_error(
        |a| consent(a).reference = " ".into(),
        "paris",
        "outbound.consents[0].reference",
        "must not be empty",
    );
}

#[test]
fn inbound() {
    partner_error(
        |a| paris(a).inbound.on_invalid_signature = "drop".into(),
        "paris",
        "inbound.on_invalid_signature",
        "\"drop\" is not one of: reject, quarantine",
    );
    partner_error(
        |a| paris(a).inbound.quarantine = String::new(),
        "paris",
        "inbound.quarantine",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).inbound.collection = Some(" ".into()),
        "paris",
        "inbound.collection",
        "must not be empty",
    );
    partner_error(
        |a| paris(a).inbound.collection = Some("quarantine".into()),
        "paris",
        "inbound.collection",
        "also inbound.quarantine",
    );
}

#[test]
fn from_toml_validates() {
    let text = example().replace("max_tlp = \"amber+strict\"", "max_tlp = \"red\"");
    let err = Agreement::from_toml(&text).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Partner { partner, field, .. } if partner == "madrid" && field == "outbound.max_tlp"),
        "{err}"
    );
    assert!(matches!(
        Agreement::from_toml("[[partners]]\nname = 1"),
        Err(ConfigError::Toml(_))
    ));
}
