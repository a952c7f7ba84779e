//! Air-gapped exchange: the signed transfer file one node writes for one partner
//! (`passerelle export --partner`) and the partner imports (`passerelle import --from`).
//!
//! This module owns the file format: [`TransferWriter`] and [`TransferReader`], both
//! streaming (memory stays at the size of the largest object, whatever the size of the
//! file). [`export`] and [`import`] are the node's side: what goes into a file, and what
//! a received file does to the store.
//!
//! # The format (version 1.0)
//!
//! A transfer file is a STIX 2.1 bundle, so any STIX tool reads its objects; what makes
//! it a transfer is one custom top-level property, `x_passerelle_transfer`:
//!
//! ```json
//! {"type":"bundle","id":"bundle--…","objects":[
//! {…object as disclosed, with its own signature…},
//! …
//! ],"x_passerelle_transfer":{
//!   "version":"1.0",
//!   "sender":"identity--…",            the node that wrote the file
//!   "recipient":"identity--…",         the partner it is for
//!   "sequence":3,                      1, 2, 3, … per recipient
//!   "created":"2026-11-30T10:00:00.000000Z",
//!   "objects":12,                      how many objects the file holds
//!   "collections":[{"collection":"<sender's collection id>",
//!                   "after":"…","through":"…","objects":12}],
//!   "algorithm":"ed25519ph",
//!   "signature":"<standard base64 of 64 bytes>"}}
//! ```
//!
//! - `collections` says what the file covers: per collection of the sender, the versions
//!   it added after `after` (absent: from the start) up to `through` (absent: it had none).
//!   The next file for the same recipient starts where this one ends.
//! - The signature is Ed25519ph (RFC 8032 §5.1: Ed25519 over the SHA-512 of the
//!   message), with the context string [`SIGNATURE_CONTEXT`], by the sender's node key,
//!   over the RFC 8785 canonical JSON ([`stix::canonical`]) of the whole file without
//!   `x_passerelle_transfer.signature`. Ed25519ph rather than plain Ed25519 because
//!   the message (the whole file) must be hashed as it streams by, once, on both sides;
//!   the context keeps a file signature from ever being taken for an object signature.
//!   Any tool with RFC 8785 and Ed25519ph can check a file; whitespace and property
//!   order do not matter.
//! - Each object keeps its own signature ([`crate::signature`]), so who originated it
//!   stays checkable after import; the file signature says who sent the file, to whom,
//!   and that nothing was added, removed or changed.
//! - The file has no other top-level property. Its `id` comes before `objects` (the
//!   reader hashes the canonical form as it reads, and `id` sorts first); a bundle
//!   without objects has no `objects` property.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Digest as _, Sha512, Signature};
use stix::bundle::{ObjectReader, ReadError, ReaderLimits, Shape};
use stix::canonical::write_canonical;
use stix::json::{self, Map, Number, Value, write_string};
use store::Micros;
use uuid::Uuid;

use crate::identity::{NodeIdentity, PublicKey};
use crate::node::FederationError;

pub mod export;
pub mod import;
mod state;

pub use export::ExportSummary;
pub use import::{ImportOptions, ImportSummary, Rejected};
pub use state::{INBOUND_STATE, InboundState, OUTBOUND_STATE, OutboundState, ranges_text};

/// The top-level property holding the transfer header.
pub const TRANSFER_PROPERTY: &str = "x_passerelle_transfer";

/// The version of the format this module writes and reads.
pub const FORMAT_VERSION: &str = "1.0";

/// The file signature's algorithm: Ed25519ph (RFC 8032 §5.1).
pub const SIGNATURE_ALGORITHM: &str = "ed25519ph";

/// The Ed25519ph context of file signatures (RFC 8032 §5.1).
pub const SIGNATURE_CONTEXT: &[u8] = b"passerelle-transfer-1.0";

/// What one file covers of one collection of its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// The sender's collection.
    pub collection: Uuid,
    /// The file holds versions added after this instant (`None`: from the start).
    pub after: Option<Micros>,
    /// … up to this one, included (`None`: the collection had no version yet).
    pub through: Option<Micros>,
    /// How many objects of this collection the file holds.
    pub objects: u64,
}

/// The transfer header of a file, as written and as read back (without the signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferHeader {
    /// The STIX identity of the node that wrote the file.
    pub sender: String,
    /// The STIX identity of the partner it is for.
    pub recipient: String,
    /// Its number in the sender's series of files for that recipient, from 1.
    pub sequence: u64,
    /// When it was written.
    pub created: Micros,
    /// How many objects it holds.
    pub objects: u64,
    /// What it covers, per collection of the sender.
    pub collections: Vec<Coverage>,
}

/// Why a transfer file cannot be written or is refused. Each names what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading or writing failed.
    #[error("cannot read or write the file: {0}")]
    Io(#[from] io::Error),
    /// The file ends before its document does.
    #[error(
        "the file ends at byte {offset} in the middle of {context}: it is truncated (copy it again)"
    )]
    Truncated {
        /// Where it ends.
        offset: u64,
        /// What was being read.
        context: &'static str,
    },
    /// The document is not well-formed JSON, or not shaped as a transfer file.
    #[error("not a valid transfer file: {0}")]
    Malformed(String),
    /// The document is JSON but not a transfer file (a plain bundle, an array).
    #[error("not a Passerelle transfer file: {0}")]
    NotATransfer(String),
    /// One object of the file is not acceptable (not JSON, not an object, too large).
    #[error("object #{index} of the file: {message}")]
    Object {
        /// Its position in `objects`.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A field of `x_passerelle_transfer` is missing or wrong.
    #[error("transfer header, {field}: {message}")]
    Header {
        /// The field, such as `sequence` or `collections[0].through`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The sender is not an identity this node holds a key for.
    #[error(
        "the file is signed by {sender}, which is not a partner of this node (no key for that identity)"
    )]
    UnknownSender {
        /// The identity the header names.
        sender: String,
    },
    /// The file signature does not hold.
    #[error(
        "the file signature of {sender} does not verify: the file was changed after it was signed \
         (or was not signed with that partner's key)"
    )]
    BadSignature {
        /// The identity the header names.
        sender: String,
    },
    /// The file is for another node.
    #[error("the file is for {recipient}, not for this node ({expected})")]
    WrongRecipient {
        /// The identity the header names.
        recipient: String,
        /// Ours.
        expected: String,
    },
}

/// Why an export or an import did not complete. Each names the file, the partner or
/// the setting concerned.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The partner, an agreement setting or the store.
    #[error(transparent)]
    Federation(#[from] FederationError),
    /// The file is refused, or cannot be written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: FileError,
    },
    /// A file could not be opened, created, synced or removed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The output file exists: it may be a file not yet carried to the partner.
    #[error(
        "{} already exists (it may be an earlier file not yet carried across): move it away or choose another name",
        path.display()
    )]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// An earlier export stopped before renaming its file.
    #[error("{}: {message}", path.display())]
    Leftover {
        /// The `.partial` file it left.
        path: PathBuf,
        /// What it is and what to do.
        message: String,
    },
    /// The file was recorded as sent, but could not be given its name.
    #[error(
        "the file for {partner} is complete and recorded as sent, but cannot be renamed from {} to {} ({source}): rename it yourself, then carry it",
        partial.display(), path.display()
    )]
    Rename {
        /// The partner.
        partner: String,
        /// Where the complete file is.
        partial: PathBuf,
        /// The name asked for.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The saved state of a partner's file exchanges is unreadable.
    #[error(
        "the saved state of file exchanges with {partner} ({state}) cannot be read ({text:?}): {message}"
    )]
    State {
        /// The partner.
        partner: String,
        /// `outbound` or `inbound`.
        state: &'static str,
        /// The stored text.
        text: String,
        /// What is wrong.
        message: String,
    },
    /// The file verifies, but comes from another node than `--from` names.
    #[error("{}: the file comes from {found}, not from partner {partner} ({expected})", path.display())]
    WrongSender {
        /// The file.
        path: PathBuf,
        /// The partner named.
        partner: String,
        /// Its identity.
        expected: String,
        /// Who signed the file (a partner's name, or this node).
        found: String,
    },
    /// The file signature fails; `changed` lists the objects whose own signature fails too.
    #[error(
        "{}: the file signature of {partner} does not verify: the file was changed after it was signed; {}",
        path.display(),
        if changed.is_empty() {
            "every object's own signature holds, so the change is in the transfer header, in an unsigned object or in which objects the file holds".to_owned()
        } else {
            format!("changed objects (their own signature fails too): {}", changed.join(", "))
        }
    )]
    Tampered {
        /// The file.
        path: PathBuf,
        /// The partner that signed it.
        partner: String,
        /// `<id> (objects[N])` of each object whose own signature fails.
        changed: Vec<String>,
    },
    /// The file changed between the check and the import.
    #[error(
        "{} changed while it was being imported (from object #{index}): what was stored before had been checked; import it again",
        path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// The first object of the batch that differs.
        index: u64,
    },
}

impl From<store::StoreError> for ExchangeError {
    fn from(error: store::StoreError) -> Self {
        ExchangeError::Federation(FederationError::Store(error))
    }
}

impl FileError {
    fn header(field: &str, message: impl Into<String>) -> FileError {
        FileError::Header {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Writes a transfer file as a stream: objects first, then the signed header.
///
/// The canonical message is hashed as the file is written, so nothing is held but
/// the object being written.
pub struct TransferWriter<W: Write> {
    out: W,
    message: Sha512,
    bundle_id: String,
    objects: u64,
    scratch: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for TransferWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferWriter")
            .field("bundle_id", &self.bundle_id)
            .field("objects", &self.objects)
            .finish_non_exhaustive()
    }
}

impl<W: Write> TransferWriter<W> {
    /// Starts a file with a new random bundle id.
    pub fn new(out: W) -> Result<TransferWriter<W>, FileError> {
        Self::with_bundle_id(out, Uuid::new_v4())
    }

    /// Starts a file whose bundle id is `bundle--<id>`.
    pub fn with_bundle_id(mut out: W, id: Uuid) -> Result<TransferWriter<W>, FileError> {
        let bundle_id = format!("bundle--{id}");
        let mut start = Vec::with_capacity(64);
        start.extend_from_slice(b"{\"type\":\"bundle\",\"id\":");
        write_string(&bundle_id, &mut start);
        out.write_all(&start)?;
        let mut message = Sha512::new();
        let mut canonical = Vec::with_capacity(64);
        canonical.extend_from_slice(b"{\"id\":");
        write_string(&bundle_id, &mut canonical);
        message.update(&canonical);
        Ok(TransferWriter {
            out,
            message,
            bundle_id,
            objects: 0,
            scratch: Vec::new(),
        })
    }

    /// The bundle's id.
    pub fn bundle_id(&self) -> &str {
        &self.bundle_id
    }

    /// How many objects have been written.
    pub fn objects(&self) -> u64 {
        self.objects
    }

    /// Appends one object, exactly as `bytes` (which must be a JSON object; whitespace
    /// around it is left out, so a reader hands back exactly what was written).
    pub fn write_object(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        let bytes = trim_whitespace(bytes);
        let index = usize::try_from(self.objects).unwrap_or(usize::MAX);
        let object_error = |message: String| FileError::Object { index, message };
        let value = json::parse(bytes).map_err(|e| object_error(format!("invalid JSON: {e}")))?;
        if value.as_object().is_none() {
            return Err(object_error("is not a JSON object".to_owned()));
        }
        self.scratch.clear();
        write_canonical(&value, &mut self.scratch).map_err(|e| object_error(e.to_string()))?;
        let separator: &[u8] = if self.objects == 0 {
            b",\"objects\":[\n"
        } else {
            b",\n"
        };
        self.out.write_all(separator)?;
        self.out.write_all(bytes)?;
        self.message.update(if self.objects == 0 {
            &b",\"objects\":["[..]
        } else {
            &b","[..]
        });
        self.message.update(&self.scratch);
        self.objects += 1;
        Ok(())
    }

    /// Ends the file: writes the header, signed by `identity`, and returns the writer
    /// (not flushed to disk: the caller syncs) and the header as written. The header's
    /// `sender` and `objects` are set here, from `identity` and what was written.
    pub fn finish(
        mut self,
        mut header: TransferHeader,
        identity: &NodeIdentity,
    ) -> Result<(W, TransferHeader), FileError> {
        header.sender.clone_from(&identity.identity);
        header.objects = self.objects;
        let unsigned = header_value(&header, None);
        let mut tail = Vec::with_capacity(512);
        if self.objects > 0 {
            tail.push(b']');
        }
        tail.extend_from_slice(b",\"type\":\"bundle\",\"");
        tail.extend_from_slice(TRANSFER_PROPERTY.as_bytes());
        tail.extend_from_slice(b"\":");
        write_canonical(&unsigned, &mut tail)
            .map_err(|e| FileError::header("x_passerelle_transfer", e.to_string()))?;
        tail.push(b'}');
        self.message.update(&tail);
        let signature = identity
            .signing_key
            .sign_prehashed(self.message, Some(SIGNATURE_CONTEXT))
            .map_err(|e| FileError::header("signature", e.to_string()))?;
        let signed = header_value(&header, Some(&STANDARD.encode(signature.to_bytes())));
        let mut end = Vec::with_capacity(512);
        if self.objects > 0 {
            end.extend_from_slice(b"\n]");
        }
        end.extend_from_slice(b",\"");
        end.extend_from_slice(TRANSFER_PROPERTY.as_bytes());
        end.extend_from_slice(b"\":");
        json::write_compact(&signed, &mut end);
        end.extend_from_slice(b"}\n");
        self.out.write_all(&end)?;
        self.out.flush()?;
        Ok((self.out, header))
    }
}

/// `bytes` without the JSON whitespace around it.
fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b' ' | b'\n' | b'\r' | b'\t');
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// The header as JSON, with its signature if given (the signed message has none).
fn header_value(header: &TransferHeader, signature: Option<&str>) -> Value<'static> {
    let mut map = Map::with_capacity(9);
    map.insert("version", Value::from(FORMAT_VERSION));
    map.insert("sender", Value::from(header.sender.clone()));
    map.insert("recipient", Value::from(header.recipient.clone()));
    map.insert("sequence", number(header.sequence));
    map.insert("created", Value::from(header.created.to_string()));
    map.insert("objects", number(header.objects));
    let collections = header
        .collections
        .iter()
        .map(|c| {
            let mut entry = Map::with_capacity(4);
            entry.insert("collection", Value::from(c.collection.to_string()));
            if let Some(after) = c.after {
                entry.insert("after", Value::from(after.to_string()));
            }
            if let Some(through) = c.through {
                entry.insert("through", Value::from(through.to_string()));
            }
            entry.insert("objects", number(c.objects));
            Value::Object(entry)
        })
        .collect();
    map.insert("collections", Value::Array(collections));
    map.insert("algorithm", Value::from(SIGNATURE_ALGORITHM));
    if let Some(signature) = signature {
        map.insert("signature", Value::from(signature.to_owned()));
    }
    Value::Object(map)
}

fn number(n: u64) -> Value<'static> {
    Value::Number(Number::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// Who the reader trusts, and who it is.
pub struct Trust<'a> {
    /// Our STIX identity: the file must be for it.
    pub recipient: &'a str,
    /// The keys of the identities we know (partners, ourselves).
    pub keys: &'a dyn Fn(&str) -> Option<PublicKey>,
}

impl std::fmt::Debug for Trust<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

/// One object of a file being read: its exact bytes and their parsed value.
#[derive(Debug)]
pub struct TransferObject<'a> {
    /// Its position in `objects`.
    pub index: usize,
    /// Its exact bytes in the file.
    pub bytes: &'a [u8],
    /// Its value, parsed from those bytes.
    pub value: Value<'a>,
}

/// Reads a transfer file as a stream.
///
/// Call [`TransferReader::next_object`] until it returns `None`, then
/// [`TransferReader::finish`], which checks the header and the signature. **Nothing
/// read is trustworthy before `finish` succeeds**: a caller that acts on objects reads
/// the file twice (see [`import`]).
pub struct TransferReader<R: Read> {
    objects: ObjectReader<R>,
    message: Sha512,
    started: bool,
    count: u64,
    /// The whole document, when it has no `objects` list (an empty transfer).
    single: Option<Map<'static>>,
    ended: bool,
    scratch: Vec<u8>,
    /// The bytes of the object last handed out.
    current: Vec<u8>,
}

impl<R: Read> std::fmt::Debug for TransferReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferReader")
            .field("objects", &self.count)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<R: Read> TransferReader<R> {
    /// A reader with the default limits (64 MiB per object).
    pub fn new(reader: R) -> TransferReader<R> {
        Self::with_limits(reader, ReaderLimits::default())
    }

    /// A reader with the given limits.
    pub fn with_limits(reader: R, limits: ReaderLimits) -> TransferReader<R> {
        TransferReader {
            objects: ObjectReader::with_limits(reader, limits),
            message: Sha512::new(),
            started: false,
            count: 0,
            single: None,
            ended: false,
            scratch: Vec::new(),
            current: Vec::new(),
        }
    }

    /// How many objects have been read.
    pub fn objects_read(&self) -> u64 {
        self.count
    }

    /// The next object, `None` at the end of the list. Any error is final: the file
    /// is refused.
    pub fn next_object(&mut self) -> Result<Option<TransferObject<'_>>, FileError> {
        if self.ended {
            return Ok(None);
        }
        // The object's bytes are copied out of the reader's buffer (one memcpy, small
        // beside parsing and canonicalizing them) so the reader can be asked more.
        let index = match self.objects.next_object() {
            Ok(Some(raw)) => {
                self.current.clear();
                self.current.extend_from_slice(raw.bytes);
                raw.index
            }
            Ok(None) => {
                self.ended = true;
                return Ok(None);
            }
            Err(e) => {
                self.ended = true;
                return Err(read_error(e));
            }
        };
        match self.objects.shape() {
            Some(Shape::Container) => {}
            Some(Shape::Single) => {
                // No `objects` list: the whole document is the header part.
                let value = json::parse(&self.current)
                    .map_err(|e| FileError::Malformed(format!("invalid JSON: {e}")))?;
                let Value::Object(map) = value else {
                    return Err(FileError::NotATransfer("not a JSON object".to_owned()));
                };
                self.single = Some(map.into_owned());
                self.ended = true;
                return Ok(None);
            }
            Some(Shape::Array) | None => {
                self.ended = true;
                return Err(FileError::NotATransfer(
                    "a JSON array of objects, not a bundle".to_owned(),
                ));
            }
        }
        let bytes = &self.current[..];
        let object_error = |message: String| FileError::Object { index, message };
        let value = json::parse(bytes).map_err(|e| object_error(format!("invalid JSON: {e}")))?;
        if value.as_object().is_none() {
            return Err(object_error("is not a JSON object".to_owned()));
        }
        self.scratch.clear();
        if !self.started {
            // Canonical order puts `id` before `objects`: it must have been read already.
            let Some(id) = self.objects.header().get("id") else {
                return Err(FileError::Malformed(
                    "the bundle's id must come before its objects".to_owned(),
                ));
            };
            self.scratch.extend_from_slice(b"{\"id\":");
            write_canonical(id, &mut self.scratch)
                .map_err(|e| FileError::Malformed(format!("id: {e}")))?;
            self.scratch.extend_from_slice(b",\"objects\":[");
            self.started = true;
        } else {
            self.scratch.push(b',');
        }
        write_canonical(&value, &mut self.scratch).map_err(|e| object_error(e.to_string()))?;
        self.message.update(&self.scratch);
        self.count += 1;
        Ok(Some(TransferObject {
            index,
            bytes,
            value,
        }))
    }

    /// Reads what is left, then checks the file: its shape, its header, that its
    /// sender is an identity `trust` holds a key for, its signature, and that it is
    /// for `trust.recipient`, in that order. Returns the header.
    pub fn finish(mut self, trust: &Trust<'_>) -> Result<TransferHeader, FileError> {
        while self.next_object()?.is_some() {}
        let container = self.single.is_none();
        let top = match self.single.take() {
            Some(map) => map,
            None => self.objects.header().clone(),
        };
        for key in top.keys() {
            if !matches!(key, "type" | "id" | TRANSFER_PROPERTY) {
                return Err(FileError::Malformed(format!(
                    "unexpected top-level property {key:?} (a transfer file has type, id, objects and {TRANSFER_PROPERTY})"
                )));
            }
        }
        let Some(Value::Object(transfer)) = top.get(TRANSFER_PROPERTY) else {
            return Err(FileError::NotATransfer(format!(
                "it has no {TRANSFER_PROPERTY} object: a plain bundle, which `passerelle import --collection` takes"
            )));
        };
        match top.get("type").and_then(Value::as_str) {
            Some("bundle") => {}
            _ => {
                return Err(FileError::Malformed("type must be \"bundle\"".to_owned()));
            }
        }
        let id = top.get("id").and_then(Value::as_str).unwrap_or_default();
        match stix::Identifier::parse(id) {
            Ok(parsed) if parsed.object_type == "bundle" => {}
            _ => {
                return Err(FileError::Malformed(format!(
                    "id {id:?} is not a bundle id (bundle--<UUID>)"
                )));
            }
        }
        let (header, signature) = parse_header(transfer)?;
        if header.objects != self.count {
            return Err(FileError::header(
                "objects",
                format!(
                    "says {} objects, the file holds {}",
                    header.objects, self.count
                ),
            ));
        }
        let covered: u64 = header.collections.iter().map(|c| c.objects).sum();
        if covered != header.objects {
            return Err(FileError::header(
                "collections",
                format!(
                    "the collections add up to {covered} objects, the file holds {}",
                    header.objects
                ),
            ));
        }

        let mut unsigned = transfer.clone();
        unsigned.remove("signature");
        let mut tail = Vec::with_capacity(512);
        if container && !self.started {
            // `"objects":[]`: written by no Passerelle node, but the same document.
            tail.extend_from_slice(b"{\"id\":");
            write_string(id, &mut tail);
            tail.extend_from_slice(b",\"objects\":[");
        } else if !container {
            tail.extend_from_slice(b"{\"id\":");
            write_string(id, &mut tail);
        }
        if container {
            tail.push(b']');
        }
        tail.extend_from_slice(b",\"type\":\"bundle\",\"");
        tail.extend_from_slice(TRANSFER_PROPERTY.as_bytes());
        tail.extend_from_slice(b"\":");
        write_canonical(&Value::Object(unsigned), &mut tail)
            .map_err(|e| FileError::header("x_passerelle_transfer", e.to_string()))?;
        tail.push(b'}');
        self.message.update(&tail);

        let Some(key) = (trust.keys)(&header.sender) else {
            return Err(FileError::UnknownSender {
                sender: header.sender,
            });
        };
        if key
            .verifying_key()
            .verify_prehashed_strict(self.message, Some(SIGNATURE_CONTEXT), &signature)
            .is_err()
        {
            return Err(FileError::BadSignature {
                sender: header.sender,
            });
        }
        if header.recipient != trust.recipient {
            return Err(FileError::WrongRecipient {
                recipient: header.recipient,
                expected: trust.recipient.to_owned(),
            });
        }
        Ok(header)
    }
}

fn read_error(error: ReadError) -> FileError {
    match error {
        ReadError::Io(e) => FileError::Io(e),
        ReadError::Truncated { offset, context } => FileError::Truncated { offset, context },
        ReadError::Syntax { offset, message } => {
            FileError::Malformed(format!("invalid JSON at byte {offset}: {message}"))
        }
        e @ (ReadError::InvalidUtf8 { .. } | ReadError::TooLarge { .. }) => FileError::Object {
            index: e.object_index().unwrap_or_default(),
            message: e.to_string(),
        },
    }
}

/// Reads `x_passerelle_transfer`, strictly: every field present, no other.
fn parse_header(map: &Map<'_>) -> Result<(TransferHeader, Signature), FileError> {
    const FIELDS: [&str; 9] = [
        "version",
        "sender",
        "recipient",
        "sequence",
        "created",
        "objects",
        "collections",
        "algorithm",
        "signature",
    ];
    for key in map.keys() {
        if !FIELDS.contains(&key) {
            return Err(FileError::header(key, "is not a field of format 1.0"));
        }
    }
    let text = |field: &str| -> Result<&str, FileError> {
        match map.get(field) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(FileError::header(
                field,
                format!("must be a string, found {}", other.kind()),
            )),
            None => Err(FileError::header(field, "is missing")),
        }
    };
    let version = text("version")?;
    if version != FORMAT_VERSION {
        return Err(FileError::header(
            "version",
            format!("{version:?} is not supported (this node reads {FORMAT_VERSION})"),
        ));
    }
    let algorithm = text("algorithm")?;
    if algorithm != SIGNATURE_ALGORITHM {
        return Err(FileError::header(
            "algorithm",
            format!("{algorithm:?} is not {SIGNATURE_ALGORITHM:?}"),
        ));
    }
    let identity = |field: &str| -> Result<String, FileError> {
        let value = text(field)?;
        match stix::Identifier::parse(value) {
            Ok(id) if id.object_type == "identity" => Ok(value.to_owned()),
            _ => Err(FileError::header(
                field,
                format!("{value:?} is not an identity id (identity--<UUID>)"),
            )),
        }
    };
    let sender = identity("sender")?;
    let recipient = identity("recipient")?;
    let sequence = count(map.get("sequence"), "sequence")?;
    if sequence == 0 {
        return Err(FileError::header("sequence", "must be 1 or more"));
    }
    let created = timestamp(text("created")?, "created")?;
    let objects = count(map.get("objects"), "objects")?;
    let signature_text = text("signature")?;
    let signature = STANDARD
        .decode(signature_text)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes.as_slice()).ok())
        .map(|bytes| Signature::from_bytes(&bytes))
        .ok_or_else(|| {
            FileError::header(
                "signature",
                "is not the standard base64 of a 64-byte signature",
            )
        })?;
    let Some(Value::Array(entries)) = map.get("collections") else {
        return Err(FileError::header("collections", "must be an array"));
    };
    let mut collections = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("collections[{i}].{name}");
        let Some(entry) = entry.as_object() else {
            return Err(FileError::header(
                &format!("collections[{i}]"),
                "must be an object",
            ));
        };
        for key in entry.keys() {
            if !matches!(key, "collection" | "after" | "through" | "objects") {
                return Err(FileError::header(
                    &field(key),
                    "is not a field of format 1.0",
                ));
            }
        }
        let collection = entry
            .get("collection")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| FileError::header(&field("collection"), "must be a collection id"))?;
        let instant = |name: &str| -> Result<Option<Micros>, FileError> {
            match entry.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => timestamp(s, &field(name)).map(Some),
                Some(_) => Err(FileError::header(&field(name), "must be a timestamp")),
            }
        };
        let after = instant("after")?;
        let through = instant("through")?;
        if let (Some(after), Some(through)) = (after, through)
            && through < after
        {
            return Err(FileError::header(&field("through"), "is before after"));
        }
        collections.push(Coverage {
            collection,
            after,
            through,
            objects: count(entry.get("objects"), &field("objects"))?,
        });
    }
    Ok((
        TransferHeader {
            sender,
            recipient,
            sequence,
            created,
            objects,
            collections,
        },
        signature,
    ))
}

fn count(value: Option<&Value<'_>>, field: &str) -> Result<u64, FileError> {
    let number = match value {
        Some(Value::Number(n)) => n,
        Some(other) => {
            return Err(FileError::header(
                field,
                format!("must be a whole number, found {}", other.kind()),
            ));
        }
        None => return Err(FileError::header(field, "is missing")),
    };
    number
        .is_integer_literal()
        .then(|| number.as_i64())
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| {
            FileError::header(
                field,
                format!("{} is not a whole number of 0 or more", number.as_text()),
            )
        })
}

fn timestamp(text: &str, field: &str) -> Result<Micros, FileError> {
    Micros::parse(text).map_err(|e| FileError::header(field, e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
