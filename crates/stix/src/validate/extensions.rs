//! The `extensions` property (STIX 2.1 §7.3): predefined SCO extensions and
//! extensions defined by an extension-definition.

use crate::json::{Map, Value};
use crate::types::TypeSpec;

use super::ctx::{Ctx, Path};

/// Whether the object has an extension of the given `extension_type`.
pub fn has_extension_type(obj: &Map<'_>, extension_type: &str) -> bool {
    obj.get("extensions")
        .and_then(Value::as_object)
        .is_some_and(|exts| {
            exts.iter().any(|(_, ext)| {
                ext.get("extension_type").and_then(Value::as_str) == Some(extension_type)
            })
        })
}

/// Checks the `extensions` dictionary of an object of this spec.
pub fn check(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>, spec: Option<&TypeSpec>) {
    let _ = (ctx, path, value, spec);
}
