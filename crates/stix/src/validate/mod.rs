//! Validation of STIX 2.1 objects, section by section of the specification.
//!
//! [`validate_object`] checks one parsed object and returns its diagnostics.
//! Type tables in [`crate::types`] drive the property checks; each type's own
//! rules and the shared structures (markings, extensions, hashes) have their
//! own module here.

mod common;
mod ctx;
mod encoding;
mod extensions;
mod granular;
mod hashes;
mod props;

pub use common::{is_valid_property_name, is_valid_type_name};
pub use ctx::{Ctx, Path};
pub use encoding::{is_base64, is_hex, is_uri};
pub use props::{MAX_INTEGER, allowed_target, check as check_property};

/// Helpers for type rules in [`crate::types`]: the same checks the driver uses.
pub mod check {
    pub use super::common::{custom_property, dictionary_keys, identifier, language_tag};
    pub use super::props::{
        float, integer, list, object, reference, string, timestamp, wrong_kind,
    };
}

use crate::diagnostic::Diagnostic;
use crate::json::{Map, Value};
use crate::types::{self, Category, PropertyIndex, TypeSpec};

/// Validates one object, returning every problem found.
pub fn validate_object(value: &Value<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    validate_object_into(value, &mut out);
    out
}

/// Validates one object, appending its problems to `out`.
pub fn validate_object_into(value: &Value<'_>, out: &mut Vec<Diagnostic>) {
    let Value::Object(obj) = value else {
        Ctx::new(None, out).error(
            Path::Root,
            "json-type",
            format!(
                "a STIX object must be a JSON object, found {}",
                value.kind()
            ),
        );
        return;
    };
    let id = obj.get("id").and_then(Value::as_str);
    let mut ctx = Ctx::new(id, out);
    match obj
        .get("type")
        .and_then(Value::as_str)
        .and_then(types::lookup_indexed)
    {
        Some((spec, index)) => validate_known(&mut ctx, obj, spec, index),
        None => validate_custom(&mut ctx, obj),
    }
}

fn validate_known(ctx: &mut Ctx<'_>, obj: &Map<'_>, spec: &TypeSpec, index: &PropertyIndex) {
    let root = Path::Root;
    common::identity(ctx, obj, Some(spec));
    if spec.category != Category::Sco {
        common::created_modified(ctx, obj, Some(spec));
    }
    let toplevel_extension = extensions::has_extension_type(obj, "toplevel-property-extension");
    // One pass over the object's own keys: each is looked up once, and the
    // required ones are ticked off in a bitset (indexes have at most 128 entries).
    let mut present: u128 = 0;
    for (key, value) in obj.iter() {
        match index.get(key) {
            Some((position, prop)) => {
                present |= 1 << position;
                props::check(ctx, root.prop(key), prop.kind, value);
            }
            None if types::IDENTITY_PROPERTIES.contains(&key) => {}
            None if toplevel_extension && is_valid_property_name(key) => {}
            None => common::custom_property(ctx, root.prop(key), key),
        }
    }
    for (position, prop) in index.iter().enumerate() {
        if prop.required && present & (1 << position) == 0 {
            ctx.error(root.prop(prop.name), "required", "is required but missing");
        }
    }
    shared_structures(ctx, obj, Some(spec));
    if let Some(rules) = spec.rules {
        rules(ctx, obj);
    }
}

fn validate_custom(ctx: &mut Ctx<'_>, obj: &Map<'_>) {
    let root = Path::Root;
    let Some(object_type) = common::identity(ctx, obj, None) else {
        return;
    };
    if object_type == "bundle" {
        ctx.error(
            root.prop("type"),
            "nested-bundle",
            "a bundle cannot be an object inside a bundle",
        );
        return;
    }
    let category = if extensions::has_extension_type(obj, "new-sco") {
        Category::Sco
    } else if extensions::has_extension_type(obj, "new-sro") {
        Category::Sro
    } else if extensions::has_extension_type(obj, "new-sdo") {
        Category::Sdo
    } else {
        ctx.warning(
            root.prop("type"),
            "custom-object",
            format!("custom object type '{object_type}' should be defined by an extension-definition (new-sdo, new-sco or new-sro)"),
        );
        Category::Sdo
    };
    let shape = TypeSpec {
        name: "",
        category,
        properties: &[],
        id_contributing: &[],
        extensions: &[],
        rules: None,
    };
    if category != Category::Sco {
        common::created_modified(ctx, obj, Some(&shape));
    }
    props::check_properties(ctx, root, obj, types::common_properties(&shape));
    shared_structures(ctx, obj, Some(&shape));
    for key in obj.keys() {
        if !is_valid_property_name(key) && !types::is_common_property(&shape, key) {
            common::custom_property(ctx, root.prop(key), key);
        }
    }
}

/// Structures whose checks need the whole object: `lang`, granular markings, extensions.
fn shared_structures(ctx: &mut Ctx<'_>, obj: &Map<'_>, spec: Option<&TypeSpec>) {
    let root = Path::Root;
    if let Some(lang) = obj.get("lang") {
        common::language_tag(ctx, root.prop("lang"), lang);
    }
    granular::object_marking_circular(ctx, obj);
    if let Some(markings) = obj.get("granular_markings") {
        granular::check(ctx, root.prop("granular_markings"), markings, obj);
    }
    if let Some(value) = obj.get("extensions") {
        extensions::check(ctx, root.prop("extensions"), value, spec);
    }
}
