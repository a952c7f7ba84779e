//! Granular-marking selectors (STIX 2.1 §7.2.3.1): parsing, resolution against
//! an object, and removal of the selected content with the object's remaining
//! selectors kept pointing at the same content.

use std::cmp::Ordering;
use std::fmt;

use crate::json::{Kind, Map, Value};

/// One step of a selector: a property (or dictionary key) or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A property name or dictionary key.
    Prop(String),
    /// A list index, written `[n]`.
    Index(usize),
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Prop(name) => f.write_str(name),
            Segment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A parsed selector: the steps from the object's root to the selected content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectorPath(pub Vec<Segment>);

impl SelectorPath {
    /// The steps.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether `self` selects `other` or something that contains it.
    pub fn contains(&self, other: &SelectorPath) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl fmt::Display for SelectorPath {
    /// The selector syntax: segments joined by dots, such as `external_references.[0].url`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}

/// Orders paths so that, among paths into the same list, higher indices come
/// first, and a path comes before the paths that contain it: removing in this
/// order never invalidates a path still to be removed.
fn removal_order(a: &SelectorPath, b: &SelectorPath) -> Ordering {
    for (x, y) in a.0.iter().zip(&b.0) {
        let o = match (x, y) {
            (Segment::Index(i), Segment::Index(j)) => j.cmp(i),
            (Segment::Prop(p), Segment::Prop(q)) => q.cmp(p),
            (Segment::Index(_), Segment::Prop(_)) => Ordering::Less,
            (Segment::Prop(_), Segment::Index(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    b.0.len().cmp(&a.0.len())
}

/// Why a selector is not usable on an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The selector does not follow the syntax.
    #[error("{reason}")]
    Syntax {
        /// What is wrong.
        reason: String,
    },
    /// A property named by the selector does not exist.
    #[error("{}", no_property(at, name))]
    NoSuchProperty {
        /// The part of the selector that resolved (empty for the object itself).
        at: String,
        /// The missing property.
        name: String,
    },
    /// The selector names a property of something that is not an object.
    #[error("{at} is {found}, not an object, so it has no property '{name}'")]
    NotAnObject {
        /// The part of the selector that resolved.
        at: String,
        /// What it is.
        found: Kind,
        /// The property asked for.
        name: String,
    },
    /// The selector indexes something that is not a list.
    #[error("{}", not_a_list(at, *found, *index))]
    NotAList {
        /// The part of the selector that resolved.
        at: String,
        /// What it is.
        found: Kind,
        /// The index asked for.
        index: usize,
    },
    /// The index is past the end of the list.
    #[error("{at} has {len} item{}, so [{index}] is out of range", if *len == 1 { "" } else { "s" })]
    OutOfRange {
        /// The list's selector.
        at: String,
        /// The index asked for.
        index: usize,
        /// The list's length.
        len: usize,
    },
}

fn no_property(at: &str, name: &str) -> String {
    if at.is_empty() {
        format!("the object has no property '{name}'")
    } else {
        format!("{at} has no property '{name}'")
    }
}

fn not_a_list(at: &str, found: Kind, index: usize) -> String {
    match found {
        Kind::String => {
            format!("{at} is a string, not a list: selectors cannot select characters ([{index}])")
        }
        _ => format!("{at} is {found}, not a list, so it has no item [{index}]"),
    }
}

fn syntax(reason: impl Into<String>) -> SelectorError {
    SelectorError::Syntax {
        reason: reason.into(),
    }
}

/// Parses a selector.
///
/// The first segment is a property name (3 to 250 characters of a-z, 0-9, `_`,
/// `-`, as the STIX JSON schemas allow) or `id`; later segments are list
/// indices `[n]` or property names and dictionary keys. Dictionary keys may
/// hold capitals (§2.7: `hashes.SHA-256`), so later segments accept A-Z too.
pub fn parse_selector(selector: &str) -> Result<SelectorPath, SelectorError> {
    if selector.is_empty() {
        return Err(syntax("the selector is empty"));
    }
    let mut segments = Vec::new();
    for (position, part) in selector.split('.').enumerate() {
        if part.is_empty() {
            return Err(syntax(
                "a segment is empty: segments are separated by single dots",
            ));
        }
        if let Some(inner) = part.strip_prefix('[') {
            let digits = inner.strip_suffix(']').unwrap_or("");
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(syntax(format!("'{part}' is not a list index such as [0]")));
            }
            let index = digits
                .parse()
                .map_err(|_| syntax(format!("the index in '{part}' is too large")))?;
            if position == 0 {
                return Err(syntax(
                    "a selector starts with a property name, not a list index",
                ));
            }
            segments.push(Segment::Index(index));
            continue;
        }
        if let Some(bracket) = part.find('[') {
            let (name, index) = part.split_at(bracket);
            return Err(syntax(format!(
                "'{part}': a list index is a segment of its own, as in '{name}.{index}'"
            )));
        }
        let charset_ok = part.bytes().all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == b'_'
                || c == b'-'
                || (position > 0 && c.is_ascii_uppercase())
        });
        if !charset_ok {
            let allowed = if position == 0 {
                "a-z, 0-9, _ and -"
            } else {
                "a-z, A-Z, 0-9, _ and -"
            };
            return Err(syntax(format!(
                "'{part}' is not a property name (it may only use {allowed})"
            )));
        }
        if position == 0 && part != "id" && !(3..=250).contains(&part.len()) {
            return Err(syntax(format!(
                "'{part}' is not a property name (3 to 250 characters)"
            )));
        }
        if part.len() > 250 {
            return Err(syntax(format!("'{part}' is longer than 250 characters")));
        }
        segments.push(Segment::Prop(part.to_owned()));
    }
    Ok(SelectorPath(segments))
}

/// Follows a parsed selector from the object's root.
pub fn resolve_path<'v, 'a>(
    obj: &'v Map<'a>,
    path: &SelectorPath,
) -> Result<&'v Value<'a>, SelectorError> {
    let mut at = SelectorPath(Vec::with_capacity(path.0.len()));
    let mut current: Option<&'v Value<'a>> = None;
    for segment in &path.0 {
        let next = match (segment, current) {
            (Segment::Prop(name), None) => {
                obj.get(name).ok_or_else(|| SelectorError::NoSuchProperty {
                    at: String::new(),
                    name: name.clone(),
                })?
            }
            (Segment::Prop(name), Some(Value::Object(map))) => {
                map.get(name).ok_or_else(|| SelectorError::NoSuchProperty {
                    at: at.to_string(),
                    name: name.clone(),
                })?
            }
            (Segment::Prop(name), Some(other)) => {
                return Err(SelectorError::NotAnObject {
                    at: at.to_string(),
                    found: other.kind(),
                    name: name.clone(),
                });
            }
            (Segment::Index(index), Some(Value::Array(items))) => {
                items.get(*index).ok_or_else(|| SelectorError::OutOfRange {
                    at: at.to_string(),
                    index: *index,
                    len: items.len(),
                })?
            }
            (Segment::Index(index), other) => {
                return Err(SelectorError::NotAList {
                    at: at.to_string(),
                    found: other.map_or(Kind::Object, Value::kind),
                    index: *index,
                });
            }
        };
        at.0.push(segment.clone());
        current = Some(next);
    }
    current.ok_or_else(|| syntax("the selector is empty"))
}

/// Parses a selector and returns the content it selects in `obj`.
pub fn resolve_selector<'v, 'a>(
    obj: &'v Map<'a>,
    selector: &str,
) -> Result<&'v Value<'a>, SelectorError> {
    resolve_path(obj, &parse_selector(selector)?)
}

/// The data marking a granular marking applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marking<'v> {
    /// A marking-definition, by id.
    Ref(&'v str),
    /// A language (RFC 5646 tag) the selected text is written in.
    Lang(&'v str),
}

/// One entry of `granular_markings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GranularMarking<'v> {
    /// What is applied.
    pub marking: Marking<'v>,
    /// Where, as written.
    pub selectors: Vec<&'v str>,
}

/// The object's well-formed granular markings, in order. Entries without
/// selectors or with neither (or both) `marking_ref` and `lang` are skipped:
/// validation reports those.
pub fn granular_markings<'v>(obj: &'v Map<'_>) -> Vec<GranularMarking<'v>> {
    let Some(entries) = obj.get("granular_markings").and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let entry = entry.as_object()?;
            let marking_ref = entry.get("marking_ref").and_then(Value::as_str);
            let lang = entry.get("lang").and_then(Value::as_str);
            let marking = match (marking_ref, lang) {
                (Some(r), None) => Marking::Ref(r),
                (None, Some(l)) => Marking::Lang(l),
                _ => return None,
            };
            let selectors: Vec<&str> = entry
                .get("selectors")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (!selectors.is_empty()).then_some(GranularMarking { marking, selectors })
        })
        .collect()
}

/// The selectors of every granular marking that applies `marking_ref`.
pub fn properties_marked_by<'v>(obj: &'v Map<'_>, marking_ref: &str) -> Vec<&'v str> {
    granular_markings(obj)
        .into_iter()
        .filter(|g| matches!(g.marking, Marking::Ref(r) if r.eq_ignore_ascii_case(marking_ref)))
        .flat_map(|g| g.selectors)
        .collect()
}

/// Removes the value at `path` (a property or a list item); `false` if absent.
fn remove_at(obj: &mut Map<'_>, path: &[Segment]) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    if parent_path.is_empty() {
        return match last {
            Segment::Prop(name) => obj.remove(name).is_some(),
            Segment::Index(_) => false,
        };
    }
    let Some(parent) = value_at_mut(obj, parent_path) else {
        return false;
    };
    match (last, parent) {
        (Segment::Prop(name), Value::Object(map)) => map.remove(name).is_some(),
        (Segment::Index(i), Value::Array(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

fn value_at_mut<'v, 'a>(obj: &'v mut Map<'a>, path: &[Segment]) -> Option<&'v mut Value<'a>> {
    let (first, rest) = path.split_first()?;
    let Segment::Prop(name) = first else {
        return None;
    };
    let mut current = obj.get_mut(name)?;
    for segment in rest {
        current = match (segment, current) {
            (Segment::Prop(name), Value::Object(map)) => map.get_mut(name)?,
            (Segment::Index(i), Value::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn is_empty_container(value: Option<&mut Value<'_>>) -> bool {
    match value {
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        _ => false,
    }
}

/// How `selector` reads once the content at `removed` is gone: `None` if it
/// selected that content or something inside it, shifted down if it selected
/// a later item of the same list.
fn after_removal(selector: &SelectorPath, removed: &SelectorPath) -> Option<SelectorPath> {
    if removed.contains(selector) {
        return None;
    }
    let mut out = selector.clone();
    if let Some((Segment::Index(gone), parent)) = removed.0.split_last()
        && out.0.starts_with(parent)
        && let Some(Segment::Index(i)) = out.0.get_mut(parent.len())
        && *i > *gone
    {
        *i -= 1;
    }
    Some(out)
}

/// What [`remove_selected`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    /// The paths removed, as selectors written against the object before removal,
    /// including lists and objects removed because they were left empty.
    pub removed: Vec<String>,
}

/// Removes the content each selector selects, then the lists and nested
/// objects this leaves empty (STIX forbids empty lists). The object's own
/// `granular_markings` are rewritten to match: selectors into removed content
/// are dropped, indices into shortened lists are shifted, and markings left
/// without selectors are dropped.
///
/// Every selector is resolved before anything changes, so on error the object
/// is untouched.
pub fn remove_selected(obj: &mut Map<'_>, selectors: &[&str]) -> Result<Removal, SelectorError> {
    let mut paths = Vec::with_capacity(selectors.len());
    for selector in selectors {
        let path = parse_selector(selector)?;
        resolve_path(obj, &path)?;
        paths.push(path);
    }
    paths.sort_by(removal_order);
    paths.dedup();
    // Content inside something else being removed goes with it.
    let outer: Vec<SelectorPath> = paths.clone();
    paths.retain(|p| !outer.iter().any(|o| o != p && o.contains(p)));

    let mut removed: Vec<SelectorPath> = Vec::new();
    for path in paths {
        let mut target = path;
        while remove_at(obj, &target.0) {
            removed.push(target.clone());
            target.0.pop();
            if target.0.is_empty() || !is_empty_container(value_at_mut(obj, &target.0)) {
                break;
            }
        }
    }
    rewrite_granular_markings(obj, &removed);
    Ok(Removal {
        removed: original_selectors(&removed),
    })
}

/// Removals are recorded against the object as it was when each happened;
/// earlier removals only shift later items of a list, and paths are removed
/// from the highest index down, so each recorded path is also valid against
/// the original object.
fn original_selectors(removed: &[SelectorPath]) -> Vec<String> {
    removed.iter().map(ToString::to_string).collect()
}

fn rewrite_granular_markings(obj: &mut Map<'_>, removed: &[SelectorPath]) {
    if removed.is_empty() {
        return;
    }
    let Some(Value::Array(entries)) = obj.get_mut("granular_markings") else {
        return;
    };
    entries.retain_mut(|entry| {
        let Some(Value::Array(selectors)) =
            entry.as_object_mut().and_then(|m| m.get_mut("selectors"))
        else {
            return true;
        };
        selectors.retain_mut(|selector| {
            let Some(text) = selector.as_str() else {
                return true;
            };
            let Ok(mut path) = parse_selector(text) else {
                return true;
            };
            for gone in removed {
                match after_removal(&path, gone) {
                    Some(p) => path = p,
                    None => return false,
                }
            }
            let rewritten = path.to_string();
            if rewritten != text {
                *selector = Value::from(rewritten);
            }
            true
        });
        !selectors.is_empty()
    });
    if entries.is_empty() {
        obj.remove("granular_markings");
    }
}

/// Removes every property and list item that a granular marking with a TLP
/// level above `level` covers, so the object can go to a partner cleared for
/// `level`. Object-level markings are not considered: see [`super::object_tlp`].
pub fn redact_above(obj: &mut Map<'_>, level: super::Tlp) -> Result<Removal, SelectorError> {
    let selectors: Vec<String> = granular_markings(obj)
        .into_iter()
        .filter(|g| {
            matches!(g.marking, Marking::Ref(r) if super::tlp_of_marking_id(r).is_some_and(|t| t > level))
        })
        .flat_map(|g| g.selectors)
        .map(str::to_owned)
        .collect();
    let refs: Vec<&str> = selectors.iter().map(String::as_str).collect();
    remove_selected(obj, &refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::markings::{TLP1_AMBER, TLP1_GREEN, TLP1_RED, Tlp};

    fn sample() -> Value<'static> {
        json::parse(
            br#"{"type": "indicator", "id": "indicator--1ed8caa7-a708-4706-b651-f1186ede6ca1",
                "name": "n", "description": "d",
                "indicator_types": ["malicious-activity", "attribution", "anomalous-activity"],
                "external_references": [{"source_name": "a", "url": "http://a.example", "hashes": {"SHA-256": "00"}}],
                "granular_markings": [
                  {"marking_ref": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "selectors": ["description", "indicator_types.[1]"]},
                  {"marking_ref": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "selectors": ["indicator_types.[2]", "external_references.[0].url"]},
                  {"lang": "fr", "selectors": ["name"]}
                ]}"#,
        )
        .unwrap()
        .into_owned()
    }

    #[test]
    fn parses_and_prints_selectors() {
        for s in [
            "description",
            "id",
            "external_references.[0].url",
            "labels.[1]",
            "hashes.SHA-256",
            "x_foo-bar.[10]",
        ] {
            assert_eq!(parse_selector(s).unwrap().to_string(), s);
        }
        for bad in [
            "",
            "ab",
            "Name",
            "labels..[0]",
            "labels.",
            "[0]",
            "external_references[0]",
            "labels.[a]",
            "labels.[]",
            "labels.[-1]",
            "labels.[1",
            "labels.[99999999999999999999999]",
            "la bels",
        ] {
            assert!(
                matches!(parse_selector(bad), Err(SelectorError::Syntax { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn resolves_or_says_where_it_stops() {
        let v = sample();
        let obj = v.as_object().unwrap();
        assert_eq!(
            resolve_selector(obj, "indicator_types.[1]")
                .unwrap()
                .as_str(),
            Some("attribution")
        );
        assert_eq!(
            resolve_selector(obj, "external_references.[0].hashes.SHA-256")
                .unwrap()
                .as_str(),
            Some("00")
        );
        let err = |s| resolve_selector(obj, s).unwrap_err().to_string();
        assert_eq!(err("labels"), "the object has no property 'labels'");
        assert_eq!(
            err("indicator_types.[5]"),
            "indicator_types has 3 items, so [5] is out of range"
        );
        assert_eq!(
            err("external_references.[0].nope"),
            "external_references.[0] has no property 'nope'"
        );
        assert_eq!(
            err("external_references.[0].[0]"),
            "external_references.[0] is an object, not a list, so it has no item [0]"
        );
        assert_eq!(
            err("indicator_types.foo"),
            "indicator_types is an array, not an object, so it has no property 'foo'"
        );
        assert_eq!(
            err("description.[0]"),
            "description is a string, not a list: selectors cannot select characters ([0])"
        );
    }

    #[test]
    fn lists_granular_markings_and_what_a_marking_covers() {
        let v = sample();
        let obj = v.as_object().unwrap();
        let all = granular_markings(obj);
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].marking, Marking::Lang("fr"));
        assert_eq!(
            properties_marked_by(obj, TLP1_RED.id),
            ["description", "indicator_types.[1]"]
        );
        assert!(properties_marked_by(obj, TLP1_GREEN.id).is_empty());
    }

    #[test]
    fn removing_shifts_the_remaining_selectors() {
        let mut v = sample();
        let obj = v.as_object_mut().unwrap();
        let removal = remove_selected(obj, &["indicator_types.[1]", "description"]).unwrap();
        assert_eq!(removal.removed, ["indicator_types.[1]", "description"]);
        assert!(obj.get("description").is_none());
        assert_eq!(
            json::to_string(obj.get("indicator_types").unwrap()),
            r#"["malicious-activity","anomalous-activity"]"#
        );
        // The red marking lost all its selectors and is gone; amber's [2] is now [1].
        assert_eq!(
            json::to_string(obj.get("granular_markings").unwrap()),
            r#"[{"marking_ref":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","selectors":["indicator_types.[1]","external_references.[0].url"]},{"lang":"fr","selectors":["name"]}]"#
        );
        assert_eq!(
            resolve_selector(obj, "indicator_types.[1]")
                .unwrap()
                .as_str(),
            Some("anomalous-activity")
        );
    }

    #[test]
    fn removal_cascades_to_emptied_containers_and_is_atomic() {
        let mut v = json::parse(
            br#"{"labels": ["a", "b"], "name": "n",
                 "granular_markings": [{"marking_ref": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "selectors": ["labels.[0]", "labels.[1]"]}]}"#,
        )
        .unwrap();
        let before = v.clone();
        let obj = v.as_object_mut().unwrap();
        assert!(remove_selected(obj, &["labels.[0]", "nope"]).is_err());
        assert_eq!(Value::Object(obj.clone()), before);
        let removal = remove_selected(obj, &["labels.[0]", "labels.[1]"]).unwrap();
        assert_eq!(removal.removed, ["labels.[1]", "labels.[0]", "labels"]);
        assert_eq!(
            json::to_string(&Value::Object(obj.clone())),
            r#"{"name":"n"}"#
        );
    }

    #[test]
    fn nested_and_overlapping_selectors() {
        let mut v = sample();
        let obj = v.as_object_mut().unwrap();
        let removal =
            remove_selected(obj, &["external_references", "external_references.[0].url"]).unwrap();
        assert_eq!(removal.removed, ["external_references"]);
        assert!(obj.get("external_references").is_none());
        let amber = properties_marked_by(obj, TLP1_AMBER.id);
        assert_eq!(amber, ["indicator_types.[2]"]);
    }

    #[test]
    fn redaction_by_tlp_level() {
        let mut v = sample();
        let obj = v.as_object_mut().unwrap();
        let removal = redact_above(obj, Tlp::Amber).unwrap();
        assert_eq!(removal.removed, ["indicator_types.[1]", "description"]);
        let mut v = sample();
        let obj = v.as_object_mut().unwrap();
        let removal = redact_above(obj, Tlp::Green).unwrap();
        assert_eq!(
            removal.removed,
            [
                "indicator_types.[2]",
                "indicator_types.[1]",
                "external_references.[0].url",
                "description"
            ]
        );
        assert_eq!(
            json::to_string(obj.get("granular_markings").unwrap()),
            r#"[{"lang":"fr","selectors":["name"]}]"#
        );
        let mut v = sample();
        let obj = v.as_object_mut().unwrap();
        assert!(redact_above(obj, Tlp::Red).unwrap().removed.is_empty());
    }
}
