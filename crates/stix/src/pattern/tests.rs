//! Tests of the whole pattern module: parsing, messages, checks and printing.

use super::*;

#[test]
fn parses_simple() {
    assert!(parse("[file:name = 'x']").is_ok());
}
