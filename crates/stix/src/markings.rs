//! TLP and marking helpers: TLP 2.0 levels, the standard marking-definition
//! objects, an object's TLP level, and granular-marking resolution.
