//! STIX 2.1 Cyber-observable Objects (§6): the 18 SCO types, their predefined
//! extensions, their id-contributing properties (§2.9) and their own rules.
//!
//! Property kinds follow the specification's property tables and the
//! stix2-validator 3.3.2 JSON schemas; where the two disagree the
//! specification wins (see the notes on the rules below).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::json::{Map, Value};
use crate::sco_id;
use crate::timestamp::Timestamp;
use crate::validate::{Ctx, MAX_INTEGER, Path};

use super::sco_vocab as vocab;
use super::spec::{Category, ExtensionSpec, Prop, PropKind, Rules, Targets, TypeSpec, opt, req};

const INT: PropKind = PropKind::Integer {
    min: -MAX_INTEGER,
    max: MAX_INTEGER,
};
const UINT: PropKind = PropKind::Integer {
    min: 0,
    max: MAX_INTEGER,
};
const PORT: PropKind = PropKind::Integer { min: 0, max: 65535 };
const S: PropKind = PropKind::String;
const B: PropKind = PropKind::Boolean;
const T: PropKind = PropKind::Timestamp;
const HEX: PropKind = PropKind::Hex;

const fn refs(types: &'static [&'static str]) -> PropKind {
    PropKind::RefList(Targets::only(types))
}
const fn one_ref(types: &'static [&'static str]) -> PropKind {
    PropKind::Ref(Targets::only(types))
}

/// Any SCO, including custom ones.
const ANY_SCO: Targets = Targets::classes(Targets::SCO | Targets::CUSTOM);

// ---------------------------------------------------------------- properties

const ARTIFACT: &[Prop] = &[
    opt("mime_type", S),
    opt("payload_bin", PropKind::Binary),
    opt("url", PropKind::Url),
    opt("hashes", PropKind::Hashes),
    opt(
        "encryption_algorithm",
        PropKind::Enum(vocab::ENCRYPTION_ALGORITHM),
    ),
    opt("decryption_key", S),
];

const AUTONOMOUS_SYSTEM: &[Prop] = &[req("number", INT), opt("name", S), opt("rir", S)];

const DIRECTORY: &[Prop] = &[
    req("path", S),
    opt("path_enc", S),
    opt("ctime", T),
    opt("mtime", T),
    opt("atime", T),
    opt("contains_refs", refs(&["file", "directory"])),
];

const DOMAIN_NAME: &[Prop] = &[
    req("value", S),
    opt(
        "resolves_to_refs",
        refs(&["ipv4-addr", "ipv6-addr", "domain-name"]),
    ),
];

const EMAIL_ADDR: &[Prop] = &[
    req("value", S),
    opt("display_name", S),
    opt("belongs_to_ref", one_ref(&["user-account"])),
];

const MIME_PART: &[Prop] = &[
    opt("body", S),
    opt("body_raw_ref", one_ref(&["artifact", "file"])),
    opt("content_type", S),
    opt("content_disposition", S),
];

const EMAIL_MESSAGE: &[Prop] = &[
    req("is_multipart", B),
    opt("date", T),
    opt("content_type", S),
    opt("from_ref", one_ref(&["email-addr"])),
    opt("sender_ref", one_ref(&["email-addr"])),
    opt("to_refs", refs(&["email-addr"])),
    opt("cc_refs", refs(&["email-addr"])),
    opt("bcc_refs", refs(&["email-addr"])),
    opt("message_id", S),
    opt("subject", S),
    opt("received_lines", PropKind::StringList),
    opt("additional_header_fields", PropKind::Dictionary),
    opt("body", S),
    opt("body_multipart", PropKind::ObjectList(MIME_PART)),
    opt("raw_email_ref", one_ref(&["artifact"])),
];

const FILE: &[Prop] = &[
    opt("hashes", PropKind::Hashes),
    opt("size", UINT),
    opt("name", S),
    opt("name_enc", S),
    opt("magic_number_hex", HEX),
    opt("mime_type", S),
    opt("ctime", T),
    opt("mtime", T),
    opt("atime", T),
    opt("parent_directory_ref", one_ref(&["directory"])),
    opt("contains_refs", PropKind::RefList(ANY_SCO)),
    opt("content_ref", one_ref(&["artifact"])),
];

const IPV4_ADDR: &[Prop] = &[
    req("value", S),
    opt("resolves_to_refs", refs(&["mac-addr"])),
    opt("belongs_to_refs", refs(&["autonomous-system"])),
];

const IPV6_ADDR: &[Prop] = IPV4_ADDR;

const MAC_ADDR: &[Prop] = &[req("value", S)];

const MUTEX: &[Prop] = &[req("name", S)];

const NETWORK_TRAFFIC: &[Prop] = &[
    opt("start", T),
    opt("end", T),
    opt("is_active", B),
    opt(
        "src_ref",
        one_ref(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]),
    ),
    opt(
        "dst_ref",
        one_ref(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]),
    ),
    opt("src_port", PORT),
    opt("dst_port", PORT),
    req("protocols", PropKind::StringList),
    opt("src_byte_count", UINT),
    opt("dst_byte_count", UINT),
    opt("src_packets", UINT),
    opt("dst_packets", UINT),
    opt("ipfix", PropKind::Dictionary),
    opt("src_payload_ref", one_ref(&["artifact"])),
    opt("dst_payload_ref", one_ref(&["artifact"])),
    opt("encapsulates_refs", refs(&["network-traffic"])),
    opt("encapsulated_by_ref", one_ref(&["network-traffic"])),
];

const PROCESS: &[Prop] = &[
    opt("is_hidden", B),
    opt("pid", INT),
    opt("created_time", T),
    opt("cwd", S),
    opt("command_line", S),
    opt("environment_variables", PropKind::Dictionary),
    opt("opened_connection_refs", refs(&["network-traffic"])),
    opt("creator_user_ref", one_ref(&["user-account"])),
    opt("image_ref", one_ref(&["file"])),
    opt("parent_ref", one_ref(&["process"])),
    opt("child_refs", refs(&["process"])),
];

const SOFTWARE: &[Prop] = &[
    req("name", S),
    opt("cpe", S),
    opt("swid", S),
    opt("languages", PropKind::StringList),
    opt("vendor", S),
    opt("version", S),
];

const URL: &[Prop] = &[req("value", PropKind::Url)];

const USER_ACCOUNT: &[Prop] = &[
    opt("user_id", S),
    opt("credential", S),
    opt("account_login", S),
    opt("account_type", PropKind::OpenVocab(vocab::ACCOUNT_TYPE)),
    opt("display_name", S),
    opt("is_service_account", B),
    opt("is_privileged", B),
    opt("can_escalate_privs", B),
    opt("is_disabled", B),
    opt("account_created", T),
    opt("account_expires", T),
    opt("credential_last_changed", T),
    opt("account_first_login", T),
    opt("account_last_login", T),
];

const REGISTRY_VALUE: &[Prop] = &[
    opt("name", S),
    opt("data", S),
    opt(
        "data_type",
        PropKind::Enum(vocab::WINDOWS_REGISTRY_DATATYPE),
    ),
];

const WINDOWS_REGISTRY_KEY: &[Prop] = &[
    opt("key", S),
    opt("values", PropKind::ObjectList(REGISTRY_VALUE)),
    opt("modified_time", T),
    opt("creator_user_ref", one_ref(&["user-account"])),
    opt("number_of_subkeys", UINT),
];

const X509_V3_EXTENSIONS: &[Prop] = &[
    opt("basic_constraints", S),
    opt("name_constraints", S),
    opt("policy_constraints", S),
    opt("key_usage", S),
    opt("extended_key_usage", S),
    opt("subject_key_identifier", S),
    opt("authority_key_identifier", S),
    opt("subject_alternative_name", S),
    opt("issuer_alternative_name", S),
    opt("subject_directory_attributes", S),
    opt("crl_distribution_points", S),
    opt("inhibit_any_policy", S),
    opt("private_key_usage_period_not_before", T),
    opt("private_key_usage_period_not_after", T),
    opt("certificate_policies", S),
    opt("policy_mappings", S),
];

const X509_CERTIFICATE: &[Prop] = &[
    opt("is_self_signed", B),
    opt("hashes", PropKind::Hashes),
    opt("version", S),
    opt("serial_number", S),
    opt("signature_algorithm", S),
    opt("issuer", S),
    opt("validity_not_before", T),
    opt("validity_not_after", T),
    opt("subject", S),
    opt("subject_public_key_algorithm", S),
    opt("subject_public_key_modulus", S),
    opt("subject_public_key_exponent", INT),
    opt("x509_v3_extensions", PropKind::Object(X509_V3_EXTENSIONS)),
];

// ---------------------------------------------------------------- extensions

const ARCHIVE_EXT: &[Prop] = &[
    req("contains_refs", refs(&["file", "directory"])),
    opt("comment", S),
];

const ALTERNATE_DATA_STREAM: &[Prop] = &[
    req("name", S),
    opt("hashes", PropKind::Hashes),
    opt("size", UINT),
];

const NTFS_EXT: &[Prop] = &[
    opt("sid", S),
    opt(
        "alternate_data_streams",
        PropKind::ObjectList(ALTERNATE_DATA_STREAM),
    ),
];

const PDF_EXT: &[Prop] = &[
    opt("version", S),
    opt("is_optimized", B),
    opt("document_info_dict", PropKind::Dictionary),
    opt("pdfid0", S),
    opt("pdfid1", S),
];

const RASTER_IMAGE_EXT: &[Prop] = &[
    opt("image_height", INT),
    opt("image_width", INT),
    opt("bits_per_pixel", INT),
    opt("exif_tags", PropKind::Dictionary),
];

const PE_OPTIONAL_HEADER: &[Prop] = &[
    opt("magic_hex", HEX),
    opt("major_linker_version", INT),
    opt("minor_linker_version", INT),
    opt("size_of_code", UINT),
    opt("size_of_initialized_data", UINT),
    opt("size_of_uninitialized_data", UINT),
    opt("address_of_entry_point", INT),
    opt("base_of_code", INT),
    opt("base_of_data", INT),
    opt("image_base", INT),
    opt("section_alignment", INT),
    opt("file_alignment", INT),
    opt("major_os_version", INT),
    opt("minor_os_version", INT),
    opt("major_image_version", INT),
    opt("minor_image_version", INT),
    opt("major_subsystem_version", INT),
    opt("minor_subsystem_version", INT),
    opt("win32_version_value_hex", HEX),
    opt("size_of_image", UINT),
    opt("size_of_headers", UINT),
    opt("checksum_hex", HEX),
    opt("subsystem_hex", HEX),
    opt("dll_characteristics_hex", HEX),
    opt("size_of_stack_reserve", UINT),
    opt("size_of_stack_commit", UINT),
    opt("size_of_heap_reserve", UINT),
    opt("size_of_heap_commit", UINT),
    opt("loader_flags_hex", HEX),
    opt("number_of_rva_and_sizes", INT),
    opt("hashes", PropKind::Hashes),
];

const PE_SECTION: &[Prop] = &[
    req("name", S),
    opt("size", UINT),
    opt(
        "entropy",
        PropKind::Float {
            min: f64::MIN,
            max: f64::MAX,
        },
    ),
    opt("hashes", PropKind::Hashes),
];

const WINDOWS_PEBINARY_EXT: &[Prop] = &[
    req("pe_type", PropKind::OpenVocab(vocab::WINDOWS_PEBINARY_TYPE)),
    opt("imphash", S),
    opt("machine_hex", HEX),
    opt("number_of_sections", UINT),
    opt("time_date_stamp", T),
    opt("pointer_to_symbol_table_hex", HEX),
    opt("number_of_symbols", UINT),
    opt("size_of_optional_header", UINT),
    opt("characteristics_hex", HEX),
    opt("file_header_hashes", PropKind::Hashes),
    opt("optional_header", PropKind::Object(PE_OPTIONAL_HEADER)),
    opt("sections", PropKind::ObjectList(PE_SECTION)),
];

const HTTP_REQUEST_EXT: &[Prop] = &[
    req("request_method", S),
    req("request_value", S),
    opt("request_version", S),
    opt("request_header", PropKind::Dictionary),
    opt("message_body_length", UINT),
    opt("message_body_data_ref", one_ref(&["artifact"])),
];

const ICMP_EXT: &[Prop] = &[req("icmp_type_hex", HEX), req("icmp_code_hex", HEX)];

const SOCKET_EXT: &[Prop] = &[
    req(
        "address_family",
        PropKind::Enum(vocab::SOCKET_ADDRESS_FAMILY),
    ),
    opt("is_blocking", B),
    opt("is_listening", B),
    opt("options", PropKind::Dictionary),
    opt("socket_type", PropKind::Enum(vocab::SOCKET_TYPE)),
    opt("socket_descriptor", UINT),
    opt("socket_handle", INT),
];

const TCP_EXT: &[Prop] = &[opt("src_flags_hex", HEX), opt("dst_flags_hex", HEX)];

const WINDOWS_PROCESS_EXT: &[Prop] = &[
    opt("aslr_enabled", B),
    opt("dep_enabled", B),
    opt("priority", S),
    opt("owner_sid", S),
    opt("window_title", S),
    opt("startup_info", PropKind::Dictionary),
    opt(
        "integrity_level",
        PropKind::Enum(vocab::WINDOWS_INTEGRITY_LEVEL),
    ),
];

const WINDOWS_SERVICE_EXT: &[Prop] = &[
    opt("service_name", S),
    opt("descriptions", PropKind::StringList),
    opt("display_name", S),
    opt("group_name", S),
    opt(
        "start_type",
        PropKind::Enum(vocab::WINDOWS_SERVICE_START_TYPE),
    ),
    opt("service_dll_refs", refs(&["file"])),
    opt("service_type", PropKind::Enum(vocab::WINDOWS_SERVICE_TYPE)),
    opt(
        "service_status",
        PropKind::Enum(vocab::WINDOWS_SERVICE_STATUS),
    ),
];

const UNIX_ACCOUNT_EXT: &[Prop] = &[
    opt("gid", INT),
    opt("groups", PropKind::StringList),
    opt("home_dir", S),
    opt("shell", S),
];

const fn ext(name: &'static str, properties: &'static [Prop], rules: Rules) -> ExtensionSpec {
    ExtensionSpec {
        name,
        properties,
        rules: Some(rules),
    }
}

const FILE_EXTENSIONS: &[ExtensionSpec] = &[
    ExtensionSpec {
        name: "archive-ext",
        properties: ARCHIVE_EXT,
        rules: None,
    },
    ext("ntfs-ext", NTFS_EXT, ntfs_ext_rules),
    ext("pdf-ext", PDF_EXT, pdf_ext_rules),
    ext("raster-image-ext", RASTER_IMAGE_EXT, raster_image_ext_rules),
    ext(
        "windows-pebinary-ext",
        WINDOWS_PEBINARY_EXT,
        windows_pebinary_ext_rules,
    ),
];

const NETWORK_TRAFFIC_EXTENSIONS: &[ExtensionSpec] = &[
    ExtensionSpec {
        name: "http-request-ext",
        properties: HTTP_REQUEST_EXT,
        rules: None,
    },
    ExtensionSpec {
        name: "icmp-ext",
        properties: ICMP_EXT,
        rules: None,
    },
    ext("socket-ext", SOCKET_EXT, socket_ext_rules),
    ext("tcp-ext", TCP_EXT, tcp_ext_rules),
];

const PROCESS_EXTENSIONS: &[ExtensionSpec] = &[
    ext(
        "windows-process-ext",
        WINDOWS_PROCESS_EXT,
        windows_process_ext_rules,
    ),
    ext(
        "windows-service-ext",
        WINDOWS_SERVICE_EXT,
        windows_service_ext_rules,
    ),
];

const USER_ACCOUNT_EXTENSIONS: &[ExtensionSpec] = &[ext(
    "unix-account-ext",
    UNIX_ACCOUNT_EXT,
    unix_account_ext_rules,
)];

// ---------------------------------------------------------------- the types

const fn sco(
    name: &'static str,
    properties: &'static [Prop],
    id_contributing: &'static [&'static str],
    extensions: &'static [ExtensionSpec],
    rules: Rules,
) -> TypeSpec {
    TypeSpec {
        name,
        category: Category::Sco,
        properties,
        id_contributing,
        extensions,
        rules: Some(rules),
    }
}

/// Every SCO type.
pub static TYPES: &[TypeSpec] = &[
    sco(
        "artifact",
        ARTIFACT,
        &["hashes", "payload_bin"],
        &[],
        artifact_rules,
    ),
    sco(
        "autonomous-system",
        AUTONOMOUS_SYSTEM,
        &["number"],
        &[],
        common,
    ),
    sco("directory", DIRECTORY, &["path"], &[], directory_rules),
    sco(
        "domain-name",
        DOMAIN_NAME,
        &["value"],
        &[],
        domain_name_rules,
    ),
    sco("email-addr", EMAIL_ADDR, &["value"], &[], email_addr_rules),
    sco(
        "email-message",
        EMAIL_MESSAGE,
        &["from_ref", "subject", "body"],
        &[],
        email_message_rules,
    ),
    sco(
        "file",
        FILE,
        &["hashes", "name", "extensions", "parent_directory_ref"],
        FILE_EXTENSIONS,
        file_rules,
    ),
    sco("ipv4-addr", IPV4_ADDR, &["value"], &[], ipv4_addr_rules),
    sco("ipv6-addr", IPV6_ADDR, &["value"], &[], ipv6_addr_rules),
    sco("mac-addr", MAC_ADDR, &["value"], &[], mac_addr_rules),
    sco("mutex", MUTEX, &["name"], &[], common),
    sco(
        "network-traffic",
        NETWORK_TRAFFIC,
        &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        NETWORK_TRAFFIC_EXTENSIONS,
        network_traffic_rules,
    ),
    sco("process", PROCESS, &[], PROCESS_EXTENSIONS, process_rules),
    sco(
        "software",
        SOFTWARE,
        &["name", "cpe", "swid", "vendor", "version"],
        &[],
        software_rules,
    ),
    sco("url", URL, &["value"], &[], common),
    sco(
        "user-account",
        USER_ACCOUNT,
        &["account_type", "user_id", "account_login"],
        USER_ACCOUNT_EXTENSIONS,
        user_account_rules,
    ),
    sco(
        "windows-registry-key",
        WINDOWS_REGISTRY_KEY,
        &["key", "values"],
        &[],
        windows_registry_key_rules,
    ),
    sco(
        "x509-certificate",
        X509_CERTIFICATE,
        &["hashes", "serial_number"],
        &[],
        x509_certificate_rules,
    ),
];

// ---------------------------------------------------------------- helpers

fn timestamp_of(map: &Map<'_>, name: &str) -> Option<Timestamp> {
    map.get(name)
        .and_then(Value::as_str)
        .and_then(|s| Timestamp::parse(s).ok())
}

fn names(props: &[Prop]) -> String {
    props.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

/// Reports a structure none of whose own properties is present.
fn at_least_one(
    ctx: &mut Ctx<'_>,
    path: Path<'_>,
    map: &Map<'_>,
    props: &[Prop],
    or_extension: bool,
) {
    if props.iter().any(|p| map.contains_key(p.name))
        || (or_extension && map.contains_key("extensions"))
    {
        return;
    }
    let also = if or_extension { ", or extensions" } else { "" };
    ctx.error(
        path,
        "at-least-one",
        format!(
            "must have at least one of its own properties ({}{also})",
            names(props)
        ),
    );
}

/// The path `extensions.<name>`, where extension rules report.
fn ext_path<'p>(extensions: &'p Path<'p>, name: &'p str) -> Path<'p> {
    extensions.prop(name)
}

/// Checks a `*_enc` property against the IANA Character Sets registry (§6.3, §6.7).
fn charset(ctx: &mut Ctx<'_>, obj: &Map<'_>, name: &str) {
    if let Some(s) = obj.get(name).and_then(Value::as_str)
        && !vocab::is_iana_charset(s)
    {
        let root = Path::Root;
        ctx.error(
            root.prop(name),
            "charset",
            format!("{s:?} is not a character set name of the IANA Character Sets registry (such as UTF-8 or ISO-8859-1)"),
        );
    }
}

// ---------------------------------------------------------------- rules

/// Rules of every SCO: the id (§2.9) and the property names STIX reserves
/// (the cyber-observable-core schema forbids them).
fn common(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    sco_id::check(ctx, obj);
    let root = Path::Root;
    for name in ["severity", "action", "username", "phone_numbers"] {
        if obj.contains_key(name) {
            ctx.error(
                root.prop(name),
                "reserved-property",
                format!("{name:?} is a reserved property name and must not be used"),
            );
        }
    }
}

/// §6.1: `payload_bin` or `url` (not both); `url` needs `hashes`;
/// `decryption_key` needs `encryption_algorithm`; `mime_type` from IANA.
fn artifact_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    match (obj.contains_key("payload_bin"), obj.contains_key("url")) {
        (true, true) => ctx.error(
            root.prop("url"),
            "artifact-content",
            "must not be present together with payload_bin: an artifact has exactly one of them",
        ),
        (false, false) => ctx.error(
            root,
            "artifact-content",
            "must have exactly one of payload_bin or url",
        ),
        (false, true) if !obj.contains_key("hashes") => ctx.error(
            root.prop("hashes"),
            "artifact-content",
            "is required when url is present",
        ),
        _ => {}
    }
    if obj.contains_key("decryption_key") && !obj.contains_key("encryption_algorithm") {
        ctx.error(
            root.prop("decryption_key"),
            "artifact-decryption-key",
            "must not be present without encryption_algorithm",
        );
    }
    if let Some(s) = obj.get("mime_type").and_then(Value::as_str)
        && !vocab::is_iana_media_type(s)
    {
        ctx.error(
            root.prop("mime_type"),
            "mime-type",
            format!("{s:?} is not a media type of the IANA Media Types registry (type/subtype, such as application/zip)"),
        );
    }
}

fn directory_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    charset(ctx, obj, "path_enc");
}

/// Whether `s` is a domain name (RFC 1034 labels, internationalized labels allowed).
pub fn is_domain_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    s.split('.').all(|label| {
        let len = label.chars().count();
        let b = label.as_bytes();
        (1..=63).contains(&len)
            && !label.starts_with('-')
            && !label.ends_with('-')
            // IDNA 2008: "--" in the third and fourth places is reserved for A-labels.
            && (b.len() < 4 || &b[2..4] != b"--" || label[..2].eq_ignore_ascii_case("xn"))
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric()))
    })
}

/// §6.4: `value` is a domain name.
fn domain_name_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    if let Some(s) = obj.get("value").and_then(Value::as_str)
        && !is_domain_name(s)
    {
        let root = Path::Root;
        ctx.error(
            root.prop("value"),
            "domain-name",
            format!("{s:?} is not a domain name (labels of 1 to 63 letters, digits or hyphens, separated by dots)"),
        );
    }
}

/// §6.5: `value` is an addr-spec; like stix2-validator, only the `@` is required.
fn email_addr_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    if let Some(s) = obj.get("value").and_then(Value::as_str)
        && !s.contains('@')
    {
        let root = Path::Root;
        ctx.error(
            root.prop("value"),
            "email-address",
            format!("{s:?} is not an email address (RFC 5322 addr-spec, local-part@domain)"),
        );
    }
}

/// §6.6: `body` only when not multipart, `body_multipart` only when it is;
/// each MIME part has exactly one of `body` or `body_raw_ref`.
fn email_message_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    match obj.get("is_multipart").and_then(Value::as_bool) {
        Some(true) if obj.contains_key("body") => ctx.error(
            root.prop("body"),
            "email-multipart",
            "must not be present when is_multipart is true (use body_multipart)",
        ),
        Some(false) if obj.contains_key("body_multipart") => ctx.error(
            root.prop("body_multipart"),
            "email-multipart",
            "must not be present when is_multipart is false (use body)",
        ),
        _ => {}
    }
    let parts_path = root.prop("body_multipart");
    for (i, part) in obj
        .get("body_multipart")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(part) = part.as_object() else {
            continue;
        };
        if part.contains_key("body") == part.contains_key("body_raw_ref") {
            ctx.error(
                parts_path.index(i),
                "mime-part",
                "must have exactly one of body or body_raw_ref",
            );
        }
    }
}

/// §6.7: `hashes` or `name`; `name_enc` from IANA; `mime_type` should be from IANA.
fn file_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    if !obj.contains_key("hashes") && !obj.contains_key("name") {
        ctx.error(
            root,
            "file-hashes-or-name",
            "must have hashes or name (or both)",
        );
    }
    charset(ctx, obj, "name_enc");
    if let Some(s) = obj.get("mime_type").and_then(Value::as_str)
        && !vocab::is_iana_media_type(s)
    {
        ctx.warning(
            root.prop("mime_type"),
            "mime-type",
            format!("{s:?} should be a media type of the IANA Media Types registry (type/subtype, such as application/pdf)"),
        );
    }
}

/// A CIDR prefix length: decimal without leading zeros, at most `max`.
fn is_prefix(p: &str, max: u8) -> bool {
    !p.is_empty()
        && p.len() <= 3
        && p.bytes().all(|c| c.is_ascii_digit())
        && (p == "0" || !p.starts_with('0'))
        && p.parse::<u8>().is_ok_and(|n| n <= max)
}

/// Whether `s` is an IPv4 address, optionally in CIDR notation.
pub fn is_ipv4_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    addr.parse::<Ipv4Addr>().is_ok() && prefix.is_none_or(|p| is_prefix(p, 32))
}

/// Whether `s` is an IPv6 address, optionally in CIDR notation.
pub fn is_ipv6_cidr(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    addr.parse::<Ipv6Addr>().is_ok() && prefix.is_none_or(|p| is_prefix(p, 128))
}

fn ip_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>, valid: fn(&str) -> bool, what: &str) {
    common(ctx, obj);
    if let Some(s) = obj.get("value").and_then(Value::as_str)
        && !valid(s)
    {
        let root = Path::Root;
        ctx.error(
            root.prop("value"),
            "ip-address",
            format!("{s:?} is not {what}"),
        );
    }
}

/// §6.8: one IPv4 address or CIDR block.
fn ipv4_addr_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    ip_rules(
        ctx,
        obj,
        is_ipv4_cidr,
        "an IPv4 address or CIDR block (such as 198.51.100.3 or 198.51.100.0/24)",
    );
}

/// §6.9: one IPv6 address or CIDR block.
fn ipv6_addr_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    ip_rules(
        ctx,
        obj,
        is_ipv6_cidr,
        "an IPv6 address or CIDR block (such as 2001:db8::1 or 2001:db8::/32)",
    );
}

/// §6.10: a colon-separated, lowercase, zero-padded EUI-48 address.
fn mac_addr_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    if let Some(s) = obj.get("value").and_then(Value::as_str) {
        let b = s.as_bytes();
        let valid = b.len() == 17
            && b.iter().enumerate().all(|(i, &c)| {
                if i % 3 == 2 {
                    c == b':'
                } else {
                    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
                }
            });
        if !valid {
            let root = Path::Root;
            ctx.error(
                root.prop("value"),
                "mac-address",
                format!("{s:?} is not a MAC address in lowercase, colon-separated, zero-padded form (such as d2:fb:49:24:37:18)"),
            );
        }
    }
}

/// §6.12: `src_ref` or `dst_ref`; `end` not before `start`; no `end` while active.
fn network_traffic_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    if !obj.contains_key("src_ref") && !obj.contains_key("dst_ref") {
        ctx.error(
            root,
            "network-traffic-endpoint",
            "must have src_ref or dst_ref (or both)",
        );
    }
    if obj.get("is_active").and_then(Value::as_bool) == Some(true) && obj.contains_key("end") {
        ctx.error(
            root.prop("end"),
            "network-traffic-end",
            "must not be present when is_active is true",
        );
    }
    if let (Some(start), Some(end)) = (timestamp_of(obj, "start"), timestamp_of(obj, "end"))
        && end < start
    {
        ctx.error(
            root.prop("end"),
            "network-traffic-end",
            "must be later than or equal to start",
        );
    }
}

/// §6.11: at least one property besides `type`, or an extension.
fn process_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    at_least_one(ctx, Path::Root, obj, PROCESS, true);
}

/// One CPE 2.3 formatted-string component (CPE Naming 2.3 §6.2): `*`, `-`,
/// or characters with optional wildcards at either end and `\` escapes.
fn is_cpe_component(c: &str) -> bool {
    if c == "*" || c == "-" {
        return true;
    }
    let c = c
        .strip_prefix('*')
        .unwrap_or_else(|| c.trim_start_matches('?'));
    let c = match c.strip_suffix('*') {
        Some(rest) if !rest.ends_with('\\') => rest,
        _ => {
            let trimmed = c.trim_end_matches('?');
            // An escaped trailing '?' is part of the value.
            if trimmed.ends_with('\\') && trimmed.len() < c.len() {
                &c[..trimmed.len() + 1]
            } else {
                trimmed
            }
        }
    };
    if c.is_empty() {
        return false;
    }
    let mut bytes = c.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                if !bytes.next().is_some_and(|e| e.is_ascii_punctuation()) {
                    return false;
                }
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') => {}
            _ => return false,
        }
    }
    true
}

fn is_cpe_language(c: &str) -> bool {
    if c == "*" || c == "-" {
        return true;
    }
    let (lang, region) = match c.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (c, None),
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_alphabetic())
        && region.is_none_or(|r| {
            (r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()))
                || (r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Whether `s` is a CPE 2.3 formatted string (`cpe:2.3:part:vendor:…:other`).
pub fn is_cpe23(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("cpe:2.3:") else {
        return false;
    };
    let mut parts = Vec::with_capacity(11);
    let mut start = 0;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b':' => {
                parts.push(&rest[start..i]);
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    parts.push(rest.get(start..).unwrap_or(""));
    parts.len() == 11
        && matches!(parts[0], "a" | "h" | "o" | "*" | "-")
        && parts.iter().enumerate().skip(1).all(|(i, c)| {
            if i == 6 {
                is_cpe_language(c)
            } else {
                is_cpe_component(c)
            }
        })
}

/// A language code as the software `languages` schema accepts it: a
/// three-letter ISO 639-2 code, or a two-letter code with RFC 5646 subtags.
fn is_software_language(s: &str) -> bool {
    let mut subtags = s.split('-');
    let Some(primary) = subtags.next() else {
        return false;
    };
    if primary.len() == 3 && primary.bytes().all(|b| b.is_ascii_lowercase()) {
        return s.len() == 3;
    }
    primary.len() == 2
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && subtags.all(|t| {
            (t.len() == 2 && t.bytes().all(|b| b.is_ascii_uppercase()))
                || (t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit()))
                || ((1..=8).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        })
}

/// §6.13: `cpe` is a CPE 2.3 name; `languages` are language codes.
fn software_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    if let Some(s) = obj.get("cpe").and_then(Value::as_str)
        && !is_cpe23(s)
    {
        ctx.error(
            root.prop("cpe"),
            "cpe",
            format!("{s:?} is not a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other)"),
        );
    }
    let languages = root.prop("languages");
    for (i, lang) in obj
        .get("languages")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if let Some(s) = lang.as_str()
            && !is_software_language(s)
        {
            ctx.error(
                languages.index(i),
                "language-code",
                format!("{s:?} is not a language code (RFC 5646, such as 'en' or 'pt-BR', or ISO 639-2, such as 'eng')"),
            );
        }
    }
}

/// §6.15: at least one property besides `type`.
fn user_account_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    at_least_one(ctx, Path::Root, obj, USER_ACCOUNT, true);
}

/// §6.16: at least one property; `key` starts with a full hive name; each value has content.
fn windows_registry_key_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    at_least_one(ctx, root, obj, WINDOWS_REGISTRY_KEY, false);
    if let Some(key) = obj.get("key").and_then(Value::as_str) {
        let hive = key.split('\\').next().unwrap_or_default();
        if ["HKLM", "HKCC", "HKCR", "HKCU", "HKU"]
            .iter()
            .any(|abbr| hive.eq_ignore_ascii_case(abbr))
        {
            ctx.error(
                root.prop("key"),
                "registry-key-hive",
                format!("must name the hive in full (such as HKEY_LOCAL_MACHINE), not abbreviated as {hive:?}"),
            );
        }
    }
    let values_path = root.prop("values");
    for (i, value) in obj
        .get("values")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if let Some(value) = value.as_object() {
            at_least_one(ctx, values_path.index(i), value, REGISTRY_VALUE, false);
        }
    }
}

/// §6.17: at least one property; the validity period in order (advice: the
/// specification states no requirement on it).
fn x509_certificate_rules(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    common(ctx, obj);
    let root = Path::Root;
    at_least_one(ctx, root, obj, X509_CERTIFICATE, false);
    if let (Some(before), Some(after)) = (
        timestamp_of(obj, "validity_not_before"),
        timestamp_of(obj, "validity_not_after"),
    ) && after < before
    {
        ctx.warning(
            root.prop("validity_not_after"),
            "x509-validity",
            "should be later than or equal to validity_not_before",
        );
    }
    if let Some(exts) = obj.get("x509_v3_extensions").and_then(Value::as_object) {
        let at = root.prop("x509_v3_extensions");
        at_least_one(ctx, at, exts, X509_V3_EXTENSIONS, false);
        if let (Some(before), Some(after)) = (
            timestamp_of(exts, "private_key_usage_period_not_before"),
            timestamp_of(exts, "private_key_usage_period_not_after"),
        ) && after < before
        {
            ctx.warning(
                at.prop("private_key_usage_period_not_after"),
                "x509-validity",
                "should be later than or equal to private_key_usage_period_not_before",
            );
        }
    }
}

// ---------------------------------------------------------------- extension rules

fn ntfs_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    at_least_one(ctx, ext_path(&exts, "ntfs-ext"), ext, NTFS_EXT, false);
}

fn pdf_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    let at = ext_path(&exts, "pdf-ext");
    at_least_one(ctx, at, ext, PDF_EXT, false);
    if let Some(info) = ext.get("document_info_dict").and_then(Value::as_object) {
        let info_path = at.prop("document_info_dict");
        for (key, value) in info.iter() {
            if value.as_str().is_none() {
                ctx.error(
                    info_path.prop(key),
                    "json-type",
                    format!("must be a string, found {}", value.kind()),
                );
            }
        }
    }
}

fn raster_image_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    let at = ext_path(&exts, "raster-image-ext");
    at_least_one(ctx, at, ext, RASTER_IMAGE_EXT, false);
    if let Some(tags) = ext.get("exif_tags").and_then(Value::as_object) {
        let tags_path = at.prop("exif_tags");
        for (key, value) in tags.iter() {
            let valid_key = key.len() >= 2
                && key.as_bytes()[0].is_ascii_uppercase()
                && key
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
            if !valid_key {
                ctx.error(
                    tags_path.prop(key),
                    "exif-tag",
                    format!("{key:?} is not an EXIF tag name (starting with an uppercase letter, such as Make or XResolution)"),
                );
            }
            let integer = value.as_number().is_some_and(|n| n.as_i64().is_some());
            if value.as_str().is_none() && !integer {
                ctx.error(
                    tags_path.prop(key),
                    "json-type",
                    format!("must be a string or an integer, found {}", value.kind()),
                );
            }
        }
    }
}

fn windows_pebinary_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    let at = ext_path(&exts, "windows-pebinary-ext");
    // stix2-validator's schema asks for a property besides pe_type.
    at_least_one(ctx, at, ext, &WINDOWS_PEBINARY_EXT[1..], false);
    if let Some(s) = ext.get("time_date_stamp").and_then(Value::as_str)
        && Timestamp::parse(s).is_ok_and(|t| t.fraction_digits > 0)
    {
        ctx.error(
            at.prop("time_date_stamp"),
            "timestamp-precision",
            format!("{s} must be precise to the second (no fractional seconds)"),
        );
    }
    if let Some(header) = ext.get("optional_header").and_then(Value::as_object) {
        at_least_one(
            ctx,
            at.prop("optional_header"),
            header,
            PE_OPTIONAL_HEADER,
            false,
        );
    }
}

/// Socket options are named `SO_*`, `IP_*`… with integer values (§6.12.4).
fn socket_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    let at = ext_path(&exts, "socket-ext");
    let Some(options) = ext.get("options").and_then(Value::as_object) else {
        return;
    };
    let options_path = at.prop("options");
    for (key, value) in options.iter() {
        let valid_key = key.split_once('_').is_some_and(|(prefix, rest)| {
            ["SO", "ICMP", "ICMP6", "IP", "IPV6", "MCAST", "TCP", "IRLMP"].contains(&prefix)
                && rest
                    .split('_')
                    .all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_uppercase()))
        });
        if !valid_key {
            ctx.error(
                options_path.prop(key),
                "socket-option",
                format!("{key:?} is not a socket option name (SO_*, ICMP_*, ICMP6_*, IP_*, IPV6_*, MCAST_*, TCP_* or IRLMP_*, in uppercase)"),
            );
        }
        if value.as_number().and_then(|n| n.as_i64()).is_none() {
            ctx.error(
                options_path.prop(key),
                "json-type",
                format!("must be an integer, found {}", value.kind()),
            );
        }
    }
}

fn tcp_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    at_least_one(ctx, ext_path(&exts, "tcp-ext"), ext, TCP_EXT, false);
}

fn windows_process_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    let at = ext_path(&exts, "windows-process-ext");
    at_least_one(ctx, at, ext, WINDOWS_PROCESS_EXT, false);
    if let Some(p) = ext.get("priority").and_then(Value::as_str)
        && !p.ends_with("_CLASS")
    {
        ctx.warning(
            at.prop("priority"),
            "windows-process-priority",
            format!("{p:?} should be a Windows priority class name ending in _CLASS (such as HIGH_PRIORITY_CLASS)"),
        );
    }
}

fn windows_service_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    at_least_one(
        ctx,
        ext_path(&exts, "windows-service-ext"),
        ext,
        WINDOWS_SERVICE_EXT,
        false,
    );
}

fn unix_account_ext_rules(ctx: &mut Ctx<'_>, ext: &Map<'_>) {
    let root = Path::Root;
    let exts = root.prop("extensions");
    at_least_one(
        ctx,
        ext_path(&exts, "unix-account-ext"),
        ext,
        UNIX_ACCOUNT_EXT,
        false,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::json::parse;

    fn run(rules: Rules, src: &str) -> Vec<Diagnostic> {
        let v = parse(src.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut ctx = Ctx::new(None, &mut out);
        rules(&mut ctx, v.as_object().unwrap());
        out
    }

    fn rules_of(diags: &[Diagnostic]) -> Vec<(String, &'static str)> {
        diags.iter().map(|d| (d.property.clone(), d.rule)).collect()
    }

    #[test]
    fn every_sco_is_defined_with_its_id_properties() {
        assert_eq!(TYPES.len(), 18);
        for t in TYPES {
            for p in t.id_contributing {
                assert!(
                    t.property(p).is_some() || *p == "extensions",
                    "{}: {p} is not a property",
                    t.name
                );
            }
            for e in t.extensions {
                assert!(e.name.ends_with("-ext"));
            }
        }
    }

    #[test]
    fn domain_names() {
        for ok in [
            "example.com",
            "Example.COM.",
            "bücher.example",
            "xn--bcher-kva.example",
            "1.2.3.4",
            "localhost",
        ] {
            assert!(is_domain_name(ok), "{ok}");
        }
        for bad in [
            "a_b.com",
            "exa mple.com",
            "-a.com",
            "a-.com",
            "a..b",
            "",
            ".com",
            "*.example.com",
            "ab--cd.com",
        ] {
            assert!(!is_domain_name(bad), "{bad}");
        }
        assert!(!is_domain_name(&format!("{}.com", "x".repeat(64))));
    }

    #[test]
    fn ip_addresses() {
        for ok in [
            "198.51.100.3",
            "0.0.0.0/0",
            "10.0.0.0/8",
            "255.255.255.255/32",
        ] {
            assert!(is_ipv4_cidr(ok), "{ok}");
        }
        for bad in [
            "256.1.1.1",
            "1.2.3",
            "01.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/08",
            "107.183.86",
            "1.2.3.4/",
        ] {
            assert!(!is_ipv4_cidr(bad), "{bad}");
        }
        for ok in [
            "2001:db8::1",
            "::",
            "::1/128",
            "2001:db8::/32",
            "::ffff:1.2.3.4",
        ] {
            assert!(is_ipv6_cidr(ok), "{ok}");
        }
        for bad in ["2001:db8:::1", "1.2.3.4", "::1/129", "g::1"] {
            assert!(!is_ipv6_cidr(bad), "{bad}");
        }
    }

    #[test]
    fn cpe_names() {
        for ok in [
            "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*",
            "cpe:2.3:o:linux:linux_kernel:2.6.0:-:*:en-us:*:*:x86:*",
            "cpe:2.3:a:foo\\:bar:baz:1.0:*:*:*:*:*:*:*",
            "cpe:2.3:a:vendor:prod*:1.?:*:*:*:*:*:*:*",
        ] {
            assert!(is_cpe23(ok), "{ok}");
        }
        for bad in [
            "cpe:/a:microsoft:word:2000",
            "cpe:2.3:x:microsoft:word:2000:*:*:*:*:*:*:*",
            "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*",
            "cpe:2.3:a:micro soft:word:2000:*:*:*:*:*:*:*",
            "cpe:2.3:a:microsoft:word:2000:*:*:english:*:*:*:*",
        ] {
            assert!(!is_cpe23(bad), "{bad}");
        }
    }

    #[test]
    fn software_languages() {
        for ok in ["en", "eng", "pt-BR", "zh-hant"] {
            assert!(is_software_language(ok), "{ok}");
        }
        for bad in ["EN", "english", "e", "en_US"] {
            assert!(!is_software_language(bad), "{bad}");
        }
    }

    #[test]
    fn extension_rules_report_under_the_extension() {
        let d = run(ntfs_ext_rules, r#"{}"#);
        assert_eq!(
            rules_of(&d),
            [("extensions.ntfs-ext".into(), "at-least-one")]
        );
        let d = run(
            windows_pebinary_ext_rules,
            r#"{"pe_type":"exe","time_date_stamp":"2016-01-20T14:11:02.5Z","optional_header":{}}"#,
        );
        assert_eq!(
            rules_of(&d),
            [
                (
                    "extensions.windows-pebinary-ext.time_date_stamp".into(),
                    "timestamp-precision"
                ),
                (
                    "extensions.windows-pebinary-ext.optional_header".into(),
                    "at-least-one"
                ),
            ]
        );
        let d = run(windows_pebinary_ext_rules, r#"{"pe_type":"exe"}"#);
        assert_eq!(
            rules_of(&d),
            [("extensions.windows-pebinary-ext".into(), "at-least-one")]
        );
        let d = run(
            socket_ext_rules,
            r#"{"address_family":"AF_INET","options":{"SO_RCVBUF":1024,"so_sndbuf":1,"TCP_NODELAY":"1"}}"#,
        );
        assert_eq!(
            rules_of(&d),
            [
                (
                    "extensions.socket-ext.options.so_sndbuf".into(),
                    "socket-option"
                ),
                (
                    "extensions.socket-ext.options.TCP_NODELAY".into(),
                    "json-type"
                ),
            ]
        );
        let d = run(
            raster_image_ext_rules,
            r#"{"exif_tags":{"Make":"Nikon","XResolution":4928,"model":"D7000","Flash":[1]}}"#,
        );
        assert_eq!(
            rules_of(&d),
            [
                (
                    "extensions.raster-image-ext.exif_tags.model".into(),
                    "exif-tag"
                ),
                (
                    "extensions.raster-image-ext.exif_tags.Flash".into(),
                    "json-type"
                ),
            ]
        );
        let d = run(
            pdf_ext_rules,
            r#"{"document_info_dict":{"Title":"x","Pages":3}}"#,
        );
        assert_eq!(
            rules_of(&d),
            [(
                "extensions.pdf-ext.document_info_dict.Pages".into(),
                "json-type"
            )]
        );
        let d = run(windows_process_ext_rules, r#"{"priority":"HIGH"}"#);
        assert_eq!(
            rules_of(&d),
            [(
                "extensions.windows-process-ext.priority".into(),
                "windows-process-priority"
            )]
        );
        assert!(run(windows_process_ext_rules, r#"{"integrity_level":"low"}"#).is_empty());
        assert_eq!(run(tcp_ext_rules, "{}").len(), 1);
        assert_eq!(run(windows_service_ext_rules, "{}").len(), 1);
        assert_eq!(run(unix_account_ext_rules, "{}").len(), 1);
        assert!(run(unix_account_ext_rules, r#"{"gid":1001}"#).is_empty());
    }

    /// Objects after the specification's examples (§6), one per SCO type: no errors.
    const SPEC_EXAMPLES: &str = r#"[
{"type": "artifact", "spec_version": "2.1", "id": "artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641", "mime_type": "application/zip", "payload_bin": "aGVsbG8gd29ybGQ=", "encryption_algorithm": "mime-type-indicated", "decryption_key": "My voice is my passport"},
{"type": "autonomous-system", "spec_version": "2.1", "id": "autonomous-system--f720c34b-98ae-597f-ade5-27dc241e8c74", "number": 15139, "name": "Slime Industries", "rir": "ARIN"},
{"type": "directory", "spec_version": "2.1", "id": "directory--93c0a9b0-520d-545d-9094-1a08ddf46b05", "path": "C:\\Windows\\System32", "path_enc": "UTF-8", "ctime": "2018-11-23T08:17:27.000Z"},
{"type": "domain-name", "spec_version": "2.1", "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "example.com", "resolves_to_refs": ["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]},
{"type": "email-message", "spec_version": "2.1", "id": "email-message--cf9b4b7f-14c8-5955-8065-020e0316b559", "is_multipart": true, "received_lines": ["from mail.example.com ([198.51.100.3]) by smtp.gmail.com with ESMTPSA id q23sm23309939wme.17.2016.07.19.07.20.32 (version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128); Tue, 19 Jul 2016 07:20:40 -0700 (PDT)"], "content_type": "multipart/mixed", "date": "2016-06-19T14:20:40.000Z", "from_ref": "email-addr--89f52ea8-d6ef-51e9-8fce-6a29236436ed", "to_refs": ["email-addr--d1b3bf0c-f02a-51a1-8102-11aba7959868"], "cc_refs": ["email-addr--e4ee5301-b52d-59cd-a8fa-8036738c7194"], "subject": "Check out this picture of a cat!", "additional_header_fields": {"Content-Disposition": "inline", "X-Mailer": "Mutt/1.5.23", "X-Originating-IP": "198.51.100.3"}, "body_multipart": [{"content_type": "text/plain; charset=utf-8", "content_disposition": "inline", "body": "Cats are funny!"}, {"content_type": "image/png", "content_disposition": "attachment; filename=\"tabby.png\"", "body_raw_ref": "artifact--4cce66f8-6eaa-53cb-85d5-3a85fca3a6c5"}]},
{"type": "file", "spec_version": "2.1", "id": "file--c7d1e135-8b34-549a-bb47-302f5cf998ed", "hashes": {"SHA-256": "ceafbfd424be2ca4a5f0402cae090dda2fb0526cf521b60b60077c0f622b285a"}, "size": 25536, "name": "qwerty.dll", "mime_type": "application/pdf", "extensions": {"windows-pebinary-ext": {"pe_type": "dll", "number_of_sections": 4, "time_date_stamp": "2016-01-22T12:31:12Z", "sections": [{"name": "CODE", "entropy": 0.061089}]}, "ntfs-ext": {"alternate_data_streams": [{"name": "second.stream", "size": 25536}]}}},
{"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.0/24"},
{"type": "ipv6-addr", "spec_version": "2.1", "id": "ipv6-addr--1e61d36c-a16c-53b7-a80f-2a00161c96b1", "value": "2001:0db8::/96"},
{"type": "mac-addr", "spec_version": "2.1", "id": "mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00", "value": "d2:fb:49:24:37:18"},
{"type": "mutex", "spec_version": "2.1", "id": "mutex--eba44954-d4e4-5d3b-814c-2b17dd8de300", "name": "__CLEANSWEEP__"},
{"type": "network-traffic", "spec_version": "2.1", "id": "network-traffic--f8ae967a-3dc3-5cdf-8f94-8505abff00c2", "src_ref": "ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53", "dst_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "protocols": ["ipv4", "tcp", "http"], "start": "2016-06-19T14:20:40.000Z", "is_active": false, "end": "2016-06-19T14:21:40.000Z", "extensions": {"http-request-ext": {"request_method": "get", "request_value": "/download.html", "request_version": "http/1.1", "request_header": {"Accept-Encoding": "gzip,deflate", "User-Agent": "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.6) Gecko/20040113", "Host": "www.example.com"}}, "socket-ext": {"address_family": "AF_INET", "socket_type": "SOCK_STREAM", "options": {"SO_RCVBUF": 1024}}}},
{"type": "process", "spec_version": "2.1", "id": "process--07bc30ad-e7a1-4b36-8d4d-7a1c1e0a8f1b", "pid": 1221, "created_time": "2016-01-20T14:11:25.55Z", "command_line": "./gedit-bin --new-window", "image_ref": "file--e04f22d1-be2c-59de-add8-10f61d15fe20", "extensions": {"windows-process-ext": {"aslr_enabled": true, "dep_enabled": true, "priority": "HIGH_PRIORITY_CLASS", "owner_sid": "S-1-5-21-186985262-1144665072-74031268-1309"}}},
{"type": "software", "spec_version": "2.1", "id": "software--a1827f6d-ca53-5605-9e93-4316cd22a00a", "name": "Word", "cpe": "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*", "languages": ["en"], "vendor": "Microsoft", "version": "2002"},
{"type": "url", "spec_version": "2.1", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://example.com/research/index.html"},
{"type": "user-account", "spec_version": "2.1", "id": "user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c", "user_id": "1001", "account_login": "jdoe", "account_type": "unix", "display_name": "John Doe", "is_service_account": false, "is_privileged": false, "can_escalate_privs": true, "account_created": "2016-01-20T12:31:12Z", "credential_last_changed": "2016-01-20T14:27:43Z", "account_first_login": "2016-01-20T14:26:07Z", "account_last_login": "2016-07-22T16:08:28Z", "extensions": {"unix-account-ext": {"gid": 1001, "groups": ["wheel"], "home_dir": "/home/jdoe", "shell": "/bin/bash"}}},
{"type": "windows-registry-key", "spec_version": "2.1", "id": "windows-registry-key--2ba37ae7-2745-5082-9dfd-9486dad41016", "key": "hkey_local_machine\\system\\bar\\foo", "values": [{"name": "Foo", "data": "qwerty", "data_type": "REG_SZ"}, {"name": "Bar", "data": "42", "data_type": "REG_DWORD"}]},
{"type": "x509-certificate", "spec_version": "2.1", "id": "x509-certificate--b595eaf0-0b28-5dad-9e8e-0fab9c1facc9", "issuer": "C=ZA, ST=Western Cape, L=Cape Town, O=Thawte Consulting cc, OU=Certification Services Division, CN=Thawte Server CA/emailAddress=server-certs@thawte.com", "validity_not_before": "2016-03-12T12:00:00Z", "validity_not_after": "2016-08-21T12:00:00Z", "subject": "C=US, ST=Maryland, L=Baltimore, O=John Doe, OU=ExampleCorp, CN=www.example.com/emailAddress=john@example.com", "serial_number": "36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06", "x509_v3_extensions": {"basic_constraints": "critical,CA:TRUE, pathlen:0", "name_constraints": "permitted;IP:192.168.0.0/255.255.0.0", "policy_constraints": "requireExplicitPolicy:3", "key_usage": "critical, keyCertSign", "extended_key_usage": "critical,codeSigning,1.2.3.4", "subject_key_identifier": "hash", "authority_key_identifier": "keyid,issuer", "subject_alternative_name": "email:my@other.address,RID:1.2.3.4", "issuer_alternative_name": "issuer:copy", "crl_distribution_points": "URI:http://myhost.com/myca.crl", "inhibit_any_policy": "2", "private_key_usage_period_not_before": "2016-03-12T12:00:00Z", "private_key_usage_period_not_after": "2018-03-12T12:00:00Z", "certificate_policies": "1.2.4.5, 1.1.3.4"}},
{"type": "email-addr", "spec_version": "2.1", "id": "email-addr--2d77a846-6264-5d51-b586-e43822ea1ea3", "value": "john@example.com", "display_name": "John Doe", "belongs_to_ref": "user-account--0d5b424b-93b8-5cd8-ac36-306e1789d63c"}
]"#;

    #[test]
    fn specification_examples_have_no_errors() {
        let all = parse(SPEC_EXAMPLES.as_bytes()).unwrap();
        let objects = all.as_array().unwrap();
        let mut seen: Vec<&str> = objects
            .iter()
            .map(|o| o.get("type").and_then(Value::as_str).unwrap())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 18, "one example per SCO type");
        for o in objects {
            let errors: Vec<_> = crate::validate_object(o)
                .into_iter()
                .filter(|d| d.severity == crate::Severity::Error)
                .collect();
            assert!(errors.is_empty(), "{errors:#?}");
        }
    }
}
