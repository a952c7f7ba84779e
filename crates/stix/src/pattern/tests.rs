//! Tests of the whole pattern module: the tree each construct parses to, the
//! positions, every error message, the checks against a small test-only type
//! table (and the real one), and printing that re-parses to the same tree.

use super::*;
use crate::diagnostic::Severity;
use crate::types::{Category, ExtensionSpec, PropKind, Targets, TypeSpec, opt, req};

// ---------------------------------------------------------------- test types

const ANY_INT: PropKind = PropKind::Integer {
    min: 0,
    max: i64::MAX,
};

static EMAIL_ADDR: TypeSpec = TypeSpec {
    name: "email-addr",
    category: Category::Sco,
    properties: &[
        req("value", PropKind::String),
        opt("display_name", PropKind::String),
    ],
    id_contributing: &["value"],
    extensions: &[],
    rules: None,
};

static IPV4_ADDR: TypeSpec = TypeSpec {
    name: "ipv4-addr",
    category: Category::Sco,
    properties: &[
        req("value", PropKind::String),
        opt(
            "resolves_to_refs",
            PropKind::RefList(Targets::only(&["mac-addr"])),
        ),
    ],
    id_contributing: &["value"],
    extensions: &[],
    rules: None,
};

static MAC_ADDR: TypeSpec = TypeSpec {
    name: "mac-addr",
    category: Category::Sco,
    properties: &[req("value", PropKind::String)],
    id_contributing: &["value"],
    extensions: &[],
    rules: None,
};

static ARTIFACT: TypeSpec = TypeSpec {
    name: "artifact",
    category: Category::Sco,
    properties: &[
        opt("payload_bin", PropKind::Binary),
        opt("mime_type", PropKind::String),
        opt("hashes", PropKind::Hashes),
    ],
    id_contributing: &["hashes", "payload_bin"],
    extensions: &[],
    rules: None,
};

const SECTION: &[crate::types::Prop] = &[
    opt("name", PropKind::String),
    opt("entropy", PropKind::Float { min: 0.0, max: 8.0 }),
    opt("hashes", PropKind::Hashes),
];

static FILE: TypeSpec = TypeSpec {
    name: "file",
    category: Category::Sco,
    properties: &[
        opt("hashes", PropKind::Hashes),
        opt("size", ANY_INT),
        opt("name", PropKind::String),
        opt("magic_number_hex", PropKind::Hex),
        opt("ctime", PropKind::Timestamp),
        opt(
            "parent_directory_ref",
            PropKind::Ref(Targets::only(&["directory"])),
        ),
        opt(
            "contains_refs",
            PropKind::RefList(Targets::classes(Targets::SCO)),
        ),
        opt("content_ref", PropKind::Ref(Targets::only(&["artifact"]))),
    ],
    id_contributing: &["hashes", "name"],
    extensions: &[ExtensionSpec {
        name: "windows-pebinary-ext",
        properties: &[
            req("pe_type", PropKind::OpenVocab(&["exe", "dll"])),
            opt("sections", PropKind::ObjectList(SECTION)),
            opt("number_of_sections", ANY_INT),
        ],
        rules: None,
    }],
    rules: None,
};

static EMAIL_MESSAGE: TypeSpec = TypeSpec {
    name: "email-message",
    category: Category::Sco,
    properties: &[
        req("is_multipart", PropKind::Boolean),
        opt("date", PropKind::Timestamp),
        opt("from_ref", PropKind::Ref(Targets::only(&["email-addr"]))),
        opt("to_refs", PropKind::RefList(Targets::only(&["email-addr"]))),
        opt("subject", PropKind::String),
        opt("received_lines", PropKind::StringList),
        opt("additional_header_fields", PropKind::Dictionary),
        opt(
            "body_multipart",
            PropKind::ObjectList(&[
                opt("body", PropKind::String),
                opt(
                    "body_raw_ref",
                    PropKind::Ref(Targets::only(&["artifact", "file"])),
                ),
            ]),
        ),
    ],
    id_contributing: &[],
    extensions: &[],
    rules: None,
};

static NETWORK_TRAFFIC: TypeSpec = TypeSpec {
    name: "network-traffic",
    category: Category::Sco,
    properties: &[
        opt(
            "src_ref",
            PropKind::Ref(Targets::only(&["ipv4-addr", "mac-addr"])),
        ),
        opt("dst_port", PropKind::Integer { min: 0, max: 65535 }),
        opt("protocols", PropKind::StringList),
        opt("is_active", PropKind::Boolean),
    ],
    id_contributing: &[],
    extensions: &[],
    rules: None,
};

static INDICATOR: TypeSpec = TypeSpec {
    name: "indicator",
    category: Category::Sdo,
    properties: &[req("pattern", PropKind::String)],
    id_contributing: &[],
    extensions: &[],
    rules: None,
};

fn test_lookup(name: &str) -> Option<&'static TypeSpec> {
    [
        &EMAIL_ADDR,
        &IPV4_ADDR,
        &MAC_ADDR,
        &ARTIFACT,
        &FILE,
        &EMAIL_MESSAGE,
        &NETWORK_TRAFFIC,
        &INDICATOR,
    ]
    .into_iter()
    .find(|t| t.name == name)
}

/// Every problem of a pattern against the test table, as (severity, offset, message).
fn problems(pattern: &str) -> Vec<(Severity, usize, String)> {
    check_with(pattern, &test_lookup)
        .into_iter()
        .map(|p| (p.severity, p.offset, p.message))
        .collect()
}

fn warnings(pattern: &str) -> Vec<(usize, String)> {
    problems(pattern)
        .into_iter()
        .filter(|p| p.0 == Severity::Warning)
        .map(|p| (p.1, p.2))
        .collect()
}

fn errors(pattern: &str) -> Vec<(usize, String)> {
    problems(pattern)
        .into_iter()
        .filter(|p| p.0 == Severity::Error)
        .map(|p| (p.1, p.2))
        .collect()
}

fn assert_clean(pattern: &str) {
    assert_eq!(problems(pattern), vec![], "{pattern}");
}

/// The single comparison of `[ … ]`.
fn only_test(pattern: &str) -> Comparison {
    let p = parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    let ObservationKind::Observation(c) = p.expr.kind else {
        panic!("not a single observation: {pattern}")
    };
    let ComparisonKind::Test(t) = c.kind else {
        panic!("not a single test: {pattern}")
    };
    *t
}

fn parse_error(pattern: &str) -> (usize, String) {
    match parse(pattern) {
        Ok(p) => panic!("{pattern} parsed as {p:?}"),
        Err(e) => (e.offset, e.message),
    }
}

// ------------------------------------------------------------------ grammar

#[test]
fn every_comparison_operator() {
    let cases = [
        ("[file:size = 1]", Operator::Eq, false),
        ("[file:size == 1]", Operator::Eq, false),
        ("[file:size != 1]", Operator::Ne, false),
        ("[file:size <> 1]", Operator::Ne, false),
        ("[file:size < 1]", Operator::Lt, false),
        ("[file:size <= 1]", Operator::Le, false),
        ("[file:size > 1]", Operator::Gt, false),
        ("[file:size >= 1]", Operator::Ge, false),
        ("[file:size IN (1, 2)]", Operator::In, false),
        ("[file:name LIKE 'a%']", Operator::Like, false),
        ("[file:name MATCHES '^a']", Operator::Matches, false),
        (
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
            Operator::IsSubset,
            false,
        ),
        (
            "[ipv4-addr:value ISSUPERSET '10.0.0.1']",
            Operator::IsSuperset,
            false,
        ),
        ("[file:size NOT = 1]", Operator::Eq, true),
        ("[file:size NOT >= 1]", Operator::Ge, true),
        ("[file:size NOT IN (1)]", Operator::In, true),
        ("[file:name NOT LIKE 'a%']", Operator::Like, true),
        ("[file:name NOT MATCHES 'a']", Operator::Matches, true),
        (
            "[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']",
            Operator::IsSubset,
            true,
        ),
        (
            "[ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']",
            Operator::IsSuperset,
            true,
        ),
        ("[EXISTS file:name]", Operator::Exists, false),
        ("[NOT EXISTS file:name]", Operator::Exists, true),
    ];
    for (pattern, op, negated) in cases {
        let t = only_test(pattern);
        assert_eq!((t.op, t.negated), (op, negated), "{pattern}");
        assert_eq!(t.value.is_none(), op == Operator::Exists, "{pattern}");
    }
}

#[test]
fn alternative_spellings_warn() {
    assert_eq!(
        warnings("[file:size == 1]"),
        vec![(
            11,
            "'==' is accepted by the STIX grammar but the specification writes '='".to_string()
        )]
    );
    assert_eq!(
        warnings("[file:size <> 1]"),
        vec![(
            11,
            "'<>' is accepted by the STIX grammar but the specification writes '!='".to_string()
        )]
    );
}

fn shape(e: &ObservationExpr) -> String {
    let q: String = e.qualifiers.iter().map(|q| format!(" {q}")).collect();
    match &e.kind {
        ObservationKind::Observation(c) => format!("{c}{q}"),
        ObservationKind::Group(inner) => format!("G({}){q}", shape(inner)),
        ObservationKind::Binary { op, operands } => format!(
            "{}({})",
            op.as_str(),
            operands.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn cmp_shape(e: &ComparisonExpr) -> String {
    match &e.kind {
        ComparisonKind::Test(t) => t.path.steps.len().to_string() + &t.path.object_type,
        ComparisonKind::Group(inner) => format!("G({})", cmp_shape(inner)),
        ComparisonKind::Binary { op, operands } => format!(
            "{}({})",
            op.as_str(),
            operands
                .iter()
                .map(cmp_shape)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[test]
fn observation_operator_precedence() {
    let p = |s: &str| shape(&parse(s).unwrap().expr);
    assert_eq!(
        p("[a:b=1] OR [a:b=2] AND [a:b=3]"),
        "OR(a:b = 1, AND(a:b = 2, a:b = 3))"
    );
    assert_eq!(
        p("[a:b=1] AND [a:b=2] OR [a:b=3]"),
        "OR(AND(a:b = 1, a:b = 2), a:b = 3)"
    );
    assert_eq!(
        p("[a:b=1] FOLLOWEDBY [a:b=2] OR [a:b=3] AND [a:b=4]"),
        "FOLLOWEDBY(a:b = 1, OR(a:b = 2, AND(a:b = 3, a:b = 4)))"
    );
    assert_eq!(
        p("[a:b=1] AND [a:b=2] AND [a:b=3]"),
        "AND(a:b = 1, a:b = 2, a:b = 3)"
    );
    assert_eq!(
        p("([a:b=1] FOLLOWEDBY [a:b=2]) AND [a:b=3]"),
        "AND(G(FOLLOWEDBY(a:b = 1, a:b = 2)), a:b = 3)"
    );
    // A qualifier binds to the observation just before it.
    assert_eq!(
        p("[a:b=1] AND [a:b=2] WITHIN 5 SECONDS"),
        "AND(a:b = 1, a:b = 2 WITHIN 5 SECONDS)"
    );
    assert_eq!(
        p("([a:b=1] AND [a:b=2]) WITHIN 5 SECONDS"),
        "G(AND(a:b = 1, a:b = 2)) WITHIN 5 SECONDS"
    );
}

#[test]
fn comparison_operator_precedence() {
    let p = |s: &str| {
        let ObservationKind::Observation(c) = parse(s).unwrap().expr.kind else {
            panic!()
        };
        cmp_shape(&c)
    };
    assert_eq!(p("[a:b=1 OR c:d=1 AND e:f=1]"), "OR(1a, AND(1c, 1e))");
    assert_eq!(p("[(a:b=1 OR c:d=1) AND e:f=1]"), "AND(G(OR(1a, 1c)), 1e)");
    assert_eq!(p("[a:b=1 AND c:d=1 AND e:f.g[0]=1]"), "AND(1a, 1c, 3e)");
}

#[test]
fn qualifiers() {
    let p = parse(
        "[file:name = 'x'] REPEATS 5 TIMES WITHIN 1.5 SECONDS START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00.123Z'",
    )
    .unwrap();
    let kinds: Vec<_> = p.expr.qualifiers.iter().map(|q| q.kind.clone()).collect();
    assert_eq!(kinds.len(), 3);
    let QualifierKind::Repeats(n) = &kinds[0] else {
        panic!()
    };
    assert_eq!(n.value.as_i64(), Some(5));
    let QualifierKind::Within(n) = &kinds[1] else {
        panic!()
    };
    assert_eq!(n.value, Constant::Float("1.5".into()));
    let QualifierKind::StartStop { start, stop } = &kinds[2] else {
        panic!()
    };
    assert!(
        matches!((&start.value, &stop.value), (Constant::Timestamp(a, x), Constant::Timestamp(_, y)) if a == "2016-06-01T01:30:00Z" && x < y)
    );
    assert_eq!(p.expr.qualifiers[0].span, Span::new(18, 33));
    assert_eq!(p.expr.span.start, 0);
    assert_eq!(p.expr.span.end, 115);
    assert!(parse("[file:name = 'x'] WITHIN +5 SECONDS").is_ok());
}

#[test]
fn constants_of_every_type() {
    let value = |s: &str| match only_test(s).value {
        Some(Operand::Constant(l)) => l.value,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        value(r"[a:bcd = 'it\'s a \\ b']"),
        Constant::String(r"it's a \ b".into())
    );
    assert_eq!(
        value("[a:bcd = 'multi\nline']"),
        Constant::String("multi\nline".into())
    );
    assert_eq!(value("[a:bcd = 42]"), Constant::Integer("42".into()));
    assert_eq!(value("[a:bcd = +42]"), Constant::Integer("42".into()));
    assert_eq!(value("[a:bcd = -42]"), Constant::Integer("-42".into()));
    assert_eq!(
        value("[a:bcd = 123456789012345678901234567890]"),
        Constant::Integer("123456789012345678901234567890".into())
    );
    assert_eq!(value("[a:bcd = -4.25]"), Constant::Float("-4.25".into()));
    assert_eq!(value("[a:bcd = .5]"), Constant::Float(".5".into()));
    assert_eq!(value("[a:bcd = true]"), Constant::Boolean(true));
    assert_eq!(value("[a:bcd = false]"), Constant::Boolean(false));
    assert!(matches!(
        value("[a:bcd = t'2020-02-29T10:00:00.5Z']"),
        Constant::Timestamp(t, ts) if t == "2020-02-29T10:00:00.5Z" && ts.nanos == 500_000_000
    ));
    assert_eq!(
        value("[a:bcd = b'AAECAw==']"),
        Constant::Binary("AAECAw==".into())
    );
    assert_eq!(value("[a:bcd = h'00ff']"), Constant::Hex("00ff".into()));
    assert_eq!(value("[a:bcd = h'']"), Constant::Hex(String::new()));
    assert_eq!(Constant::Float("-4.25".into()).as_f64(), Some(-4.25));
    let Some(Operand::Set { items, span }) = only_test("[a:bcd IN ('x', 1, 2.5, true)]").value
    else {
        panic!()
    };
    assert_eq!(items.len(), 4);
    assert_eq!(span, Span::new(10, 29));
    assert!(matches!(
        only_test("[a:bcd IN ()]").value,
        Some(Operand::Set { items, .. }) if items.is_empty()
    ));
}

#[test]
fn object_paths() {
    let steps = |s: &str| {
        only_test(s)
            .path
            .steps
            .into_iter()
            .map(|s| s.kind)
            .collect::<Vec<_>>()
    };
    let key = |k: &str| StepKind::Key(k.into());
    assert_eq!(
        steps("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]"),
        vec![
            key("extensions"),
            key("windows-pebinary-ext"),
            key("sections"),
            StepKind::AnyIndex,
            key("entropy")
        ]
    );
    assert_eq!(
        steps("[file:hashes.'SHA-256' = 'x']"),
        vec![key("hashes"), key("SHA-256")]
    );
    assert_eq!(
        steps("[email-message:from_ref.value = 'x']"),
        vec![key("from_ref"), key("value")]
    );
    assert_eq!(
        steps("[x-thing:'quoted key'[0][12].'it\\'s' = 'x']"),
        vec![
            key("quoted key"),
            StepKind::Index(0),
            StepKind::Index(12),
            key("it's")
        ]
    );
    let path = only_test("[email-message:body_multipart[*].body_raw_ref.name = 'x']").path;
    assert_eq!(path.object_type, "email-message");
    assert_eq!(path.type_span, Span::new(1, 14));
    assert_eq!(path.span, Span::new(1, 50));
    assert_eq!(path.steps[1].span, Span::new(29, 32));
    assert_eq!(
        path.to_string(),
        "email-message:body_multipart[*].body_raw_ref.name"
    );
    assert_eq!(path.prefix(1), "email-message:body_multipart[*]");
}

#[test]
fn positions_are_characters_not_bytes() {
    let t = only_test("[file:'ünï' = 'ßß']");
    assert_eq!(t.path.steps[0].span, Span::new(6, 11));
    let Some(Operand::Constant(l)) = t.value else {
        panic!()
    };
    assert_eq!(l.span, Span::new(14, 18));
    assert_eq!(t.span, Span::new(1, 18));
    assert_eq!(t.op_span, Span::new(12, 13));
    let (offset, _) = parse_error("[file:name = 'ßß'] ANDX");
    assert_eq!(offset, 19);
}

// ------------------------------------------------------------------ errors

#[test]
fn syntax_error_messages() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "the pattern is empty"),
        ("  \n", 0, "the pattern is empty"),
        (
            "file:name = 'x'",
            0,
            "a pattern must start with an observation expression in square brackets, such as [file:name = 'x']",
        ),
        (
            "/* c */ [file:name = 'x']",
            0,
            "a pattern must start with an observation expression in square brackets, such as [file:name = 'x']",
        ),
        (
            "[file:name = 'x'",
            16,
            "expected ']' to close the observation expression opened at character 1, found the end of the pattern",
        ),
        (
            "(([file:name = 'x'])",
            20,
            "expected ')' to close the parenthesis opened at character 1, found the end of the pattern",
        ),
        (
            "[(file:name = 'x']",
            17,
            "expected ')' to close the parenthesis opened at character 2, found ']'",
        ),
        (
            "[file:name = 'x']]",
            17,
            "expected AND, OR, FOLLOWEDBY or a qualifier after the observation expression, found ']'",
        ),
        (
            "[]",
            1,
            "expected a comparison such as file:name = 'x', found ']'",
        ),
        (
            "[file:name = 'x' AND]",
            20,
            "expected a comparison after AND, found ']'",
        ),
        (
            "[file:name = 'x'] AND",
            21,
            "expected an observation expression ('[' or '(') after AND, found the end of the pattern",
        ),
        (
            "[file:name = 'x'] FOLLOWEDBY file:name = 'y'",
            29,
            "expected an observation expression ('[' or '(') after FOLLOWEDBY, found 'file'",
        ),
        (
            "[file:name = 'x'] and [file:name = 'y']",
            18,
            "'and' is not a keyword: keywords are upper case (AND)",
        ),
        (
            "[file:size = TRUE]",
            13,
            "'TRUE' is not a boolean: booleans are lower case (true)",
        ),
        (
            "[file:name like 'x']",
            11,
            "unknown operator 'like': operators are upper case (LIKE)",
        ),
        ("[file:name =? 'x']", 11, "unknown operator '=?'"),
        ("[file:name ~ 'x']", 11, "unknown operator '~'"),
        (
            "[file:name CONTAINS 'x']",
            11,
            "unknown operator 'CONTAINS': expected =, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET or ISSUPERSET",
        ),
        (
            "[file:name EXISTS]",
            11,
            "EXISTS goes before the object path: write EXISTS file:name",
        ),
        (
            "[NOT file:name = 'x']",
            5,
            "expected EXISTS after a leading NOT (elsewhere NOT goes between the object path and the operator), found 'file'",
        ),
        (
            "[file:name]",
            10,
            "expected a comparison operator after file:name (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET), found ']'",
        ),
        (
            "[file:name = ]",
            13,
            "expected a constant after '=', found ']'",
        ),
        (
            "[file:name = ('x')]",
            13,
            "a set constant needs IN, not '='",
        ),
        (
            "[file:name IN 'x']",
            14,
            "IN needs a set constant in parentheses, such as ('x'), not a string",
        ),
        (
            "[file:name IN x]",
            14,
            "expected a set constant in parentheses after IN, such as ('a', 'b'), found 'x'",
        ),
        (
            "[file:name IN ('a',)]",
            19,
            "expected a constant after ',' in the set, found ')'",
        ),
        (
            "[file:name IN ('a' 'b')]",
            19,
            "expected ',' or ')' to close the set opened at character 15, found the string 'b'",
        ),
        (
            "[file:name IN (]",
            15,
            "expected a constant or ')' in the set opened at character 15, found ']'",
        ),
        (
            "[file:name LIKE 5]",
            16,
            "LIKE needs a string (an SQL LIKE pattern in quotes), not an integer",
        ),
        (
            "[file:name MATCHES b'AAAA']",
            19,
            "MATCHES needs a string (a regular expression in quotes), not a binary constant",
        ),
        (
            "[file:name MATCHES /x/]",
            19,
            "MATCHES needs a string (a regular expression in quotes), found '/'",
        ),
        (
            "[file:name ISSUBSET 5]",
            20,
            "ISSUBSET needs a string (an address or CIDR range in quotes), not an integer",
        ),
        (
            "[file:name ISSUPERSET true]",
            22,
            "ISSUPERSET needs a string (an address or CIDR range in quotes), not a boolean",
        ),
        (
            "[file:size > true]",
            13,
            "'>' cannot compare with a boolean: only = and != apply to true and false",
        ),
        (
            "[file:size <= false]",
            14,
            "'<=' cannot compare with a boolean: only = and != apply to true and false",
        ),
        (
            "[file:name = 'x'] WITHIN 0 SECONDS",
            25,
            "WITHIN needs a positive number of SECONDS, not 0",
        ),
        (
            "[file:name = 'x'] WITHIN 0.0 SECONDS",
            25,
            "WITHIN needs a positive number of SECONDS, not 0.0",
        ),
        (
            "[file:name = 'x'] WITHIN -5 SECONDS",
            25,
            "WITHIN needs a positive number of SECONDS, not -5",
        ),
        (
            "[file:name = 'x'] WITHIN SECONDS",
            25,
            "WITHIN needs a positive number of SECONDS, found SECONDS",
        ),
        (
            "[file:name = 'x'] WITHIN 5 MINUTES",
            27,
            "expected SECONDS after WITHIN 5 (the only unit is SECONDS), found 'MINUTES'",
        ),
        (
            "[file:name = 'x'] REPEATS 0 TIMES",
            26,
            "REPEATS needs a positive whole number of TIMES, not 0",
        ),
        (
            "[file:name = 'x'] REPEATS 2.5 TIMES",
            26,
            "REPEATS needs a positive whole number of TIMES, not 2.5",
        ),
        (
            "[file:name = 'x'] REPEATS 'x' TIMES",
            26,
            "REPEATS needs a positive whole number of TIMES, found the string 'x'",
        ),
        (
            "[file:name = 'x'] REPEATS 2",
            27,
            "expected TIMES after REPEATS 2, found the end of the pattern",
        ),
        (
            "[file:name = 'x'] START t'2020-01-01T00:00:00Z'",
            47,
            "START must come with STOP: expected STOP t'…' after START t'2020-01-01T00:00:00Z', found the end of the pattern",
        ),
        (
            "[file:name = 'x'] STOP t'2020-01-01T00:00:00Z'",
            18,
            "STOP must follow START t'…'",
        ),
        (
            "[file:name = 'x'] START '2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'",
            24,
            "the timestamp in START must be a timestamp constant: write t'2020-01-01T00:00:00Z', not '2020-01-01T00:00:00Z'",
        ),
        (
            "[file:name = 'x'] START t'2020-02-30T00:00:00Z' STOP t'2020-03-02T00:00:00Z'",
            24,
            "the timestamp in START is invalid: t'2020-02-30T00:00:00Z' is not a real date and time (day out of range)",
        ),
        (
            "[file:name = 'x'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00+01:00'",
            53,
            "the timestamp in STOP is invalid: t'2020-01-02T00:00:00+01:00' must be in UTC with the 'Z' designator, not an offset",
        ),
        (
            "[file:name = 'x'] START 5 STOP 6",
            24,
            "START needs a timestamp constant t'YYYY-MM-DDTHH:mm:ss[.s+]Z', found the number 5",
        ),
        (
            "[file:ctime = t'2020-01-01']",
            14,
            "t'2020-01-01' is not a valid timestamp: it is not of the form YYYY-MM-DDTHH:mm:ss[.s+]Z",
        ),
        (
            "[file:ctime = t'2019-02-29T00:00:00Z']",
            14,
            "t'2019-02-29T00:00:00Z' is not a valid timestamp: it is not a real date and time (day out of range)",
        ),
        (
            "[file:name = 'a\\nb']",
            15,
            "'\\n' is not an escape a string may contain; only \\' and \\\\ are",
        ),
        (
            "[file:name = 'abc]",
            13,
            "the string opened at character 14 is never closed with '",
        ),
        (
            "[file:name = b'AAA']",
            13,
            "b'AAA' is not valid base64 (groups of four characters of A-Z a-z 0-9 + /, '=' padding only at the end)",
        ),
        (
            "[file:name = h'abc']",
            13,
            "h'abc' must have an even number of hexadecimal digits (two per byte)",
        ),
        (
            "[file:name = h'zz']",
            13,
            "h'zz' may contain only hexadecimal digits 0-9 a-f A-F",
        ),
        (
            "[file:name = t'2020]",
            13,
            "the t'…' constant opened at character 14 is never closed with '",
        ),
        (
            "[file:size = 1.]",
            13,
            "1. is not a number: a float needs digits after the '.'",
        ),
        (
            "[file:size = 007]",
            13,
            "007 is not a number the grammar allows: integers have no leading zeros",
        ),
        (
            "[file:size = 1e5]",
            13,
            "a number cannot be followed directly by 'e' (no exponents or suffixes)",
        ),
        (
            "[file:name = 'x' ? ]",
            17,
            "'?' is not a character the pattern grammar uses here",
        ),
        (
            "[file.name = 'x']",
            5,
            "expected ':' between the object type and the property, as in file:name, found '.'",
        ),
        (
            "[file: = 'x']",
            7,
            "expected a property name after 'file:', found '='",
        ),
        (
            "[file:name-x = 'x']",
            6,
            "a property name cannot contain '-' unless quoted: write 'name-x'",
        ),
        (
            "[file:name.IN = 'x']",
            11,
            "IN is a keyword and cannot be a property name unless quoted: write 'IN'",
        ),
        (
            "[file:true = 'x']",
            6,
            "true is a keyword and cannot be a property name unless quoted: write 'true'",
        ),
        (
            "[file:a. = 'x']",
            9,
            "expected a property name or quoted key after '.', found '='",
        ),
        (
            "[file:a[-1] = 'x']",
            8,
            "list index -1 must not be negative",
        ),
        (
            "[file:a[x] = 'x']",
            8,
            "expected a list index or '*' inside '[ ]', found 'x'",
        ),
        (
            "[file:a[0 = 'x']",
            10,
            "expected ']' to close the list index opened at character 8, found '='",
        ),
        (
            "[file:a[99999999999999999999] = 'x']",
            8,
            "list index 99999999999999999999 is too large",
        ),
        (
            "[file:name = 'x'] LAST 5 SECONDS",
            18,
            "expected AND, OR, FOLLOWEDBY or a qualifier after the observation expression, found LAST",
        ),
    ];
    for &(pattern, offset, message) in cases {
        assert_eq!(
            parse_error(pattern),
            (offset, message.to_string()),
            "{pattern}"
        );
        // check() reports the same single error.
        assert_eq!(
            problems(pattern),
            vec![(Severity::Error, offset, message.to_string())]
        );
    }
}

#[test]
fn pattern_error_displays_its_position() {
    let e = parse("[file:name = 'x'").unwrap_err();
    assert_eq!(
        e.to_string(),
        "at character 17: expected ']' to close the observation expression opened at character 1, found the end of the pattern"
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}[file:name = 'x']{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        parse_error(&deep),
        (
            100,
            "brackets and parentheses are nested deeper than 100 levels".to_string()
        )
    );
    let ok = format!("{}[file:name = 'x']{}", "(".repeat(90), ")".repeat(90));
    assert!(parse(&ok).is_ok());
    // Long flat chains are lists, not deep trees.
    let long = vec!["[file:name = 'x']"; 20_000].join(" AND ");
    assert!(parse(&long).is_ok());
}

#[test]
fn comments_and_whitespace_are_skipped() {
    assert_clean("[file:name = 'x'] /* a comment */");
    assert_clean("[file:name = 'x'] // to the end");
    assert_clean("\u{a0}[file:name\t=\n'x' /* inside */]\u{3000}");
    assert_eq!(parse_error("[file:name = 'x'] /* never closed").0, 18);
}

// ------------------------------------------------------------------- checks

#[test]
fn valid_paths_through_the_tables_are_clean() {
    for p in [
        "[file:name = 'x']",
        "[file:size > 1000 AND file:size <= 2000]",
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
        "[file:hashes[*] = 'cead3f77f6cda6ec00f57d76c9a6879f']",
        "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
        "[file:extensions.'windows-pebinary-ext'.sections[0].hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
        "[file:extensions.'windows-pebinary-ext'.pe_type = 'dll']",
        "[file:extensions.'extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e'.anything = 1]",
        "[file:magic_number_hex = h'ffd8']",
        "[file:ctime > t'2020-01-01T00:00:00Z']",
        "[file:content_ref.payload_bin MATCHES '^MZ']",
        "[file:parent_directory_ref.path = 'C:\\\\Windows']",
        "[file:contains_refs[*].anything = 'x']",
        "[file:id = 'file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' AND file:type = 'file']",
        "[file:defanged = true]",
        "[email-message:from_ref.value = 'a@example.com']",
        "[email-message:to_refs[*].value = 'a@example.com']",
        "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
        "[email-message:body_multipart[*].body_raw_ref.payload_bin = b'AAAA']",
        "[email-message:additional_header_fields.'X-Mailer' = 'x']",
        "[email-message:received_lines[0] LIKE '%from%']",
        "[email-message:is_multipart = false AND email-message:date < t'2020-01-01T00:00:00.000Z']",
        "[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8']",
        "[network-traffic:src_ref.resolves_to_refs[*].value = '00:00:00:00:00:00']",
        "[network-traffic:dst_port IN (80, 443) AND network-traffic:protocols[*] = 'tcp']",
        "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [mac-addr:value = '00:00:00:00:00:00'] WITHIN 60 SECONDS",
        "[EXISTS network-traffic:is_active]",
    ] {
        assert_clean(p);
    }
}

#[test]
fn unknown_and_custom_properties_warn() {
    let w = |p: &str| warnings(p);
    assert_eq!(
        w("[file:created = t'2020-01-01T00:00:00Z']"),
        vec![(
            6,
            "'created' is not a property of 'file' objects".to_string()
        )]
    );
    assert_eq!(
        w("[file:x_acme_score = 5]"),
        vec![(
            6,
            "'x_acme_score' is a custom property, not one STIX 2.1 defines for 'file' objects"
                .to_string()
        )]
    );
    assert_eq!(
        w("[email-message:from_ref.name = 'x']"),
        vec![(
            24,
            "'name' is not a property of 'email-addr' objects".to_string()
        )]
    );
    assert_eq!(
        w("[network-traffic:src_ref.port = 1]"),
        vec![(
            25,
            "'port' is not a property of 'ipv4-addr' or 'mac-addr' objects".to_string()
        )]
    );
    assert_eq!(
        w("[file:extensions.'windows-pebinary-ext'.sections[*].size = 1]"),
        vec![(
            52,
            "'size' is not a property of file:extensions.'windows-pebinary-ext'.sections[*]"
                .to_string()
        )]
    );
    assert_eq!(
        w("[file:extensions.'windows-pebinary-ext'.imphash = 'x']"),
        vec![(
            40,
            "'imphash' is not a property of the 'windows-pebinary-ext' extension".to_string()
        )]
    );
    assert_eq!(
        w("[file:extensions.'ntfs-ext'.sid = 'x']"),
        vec![(
            17,
            "'ntfs-ext' is not an extension STIX 2.1 defines for 'file' objects".to_string()
        )]
    );
    assert_eq!(
        w("[file:extensions.'x-acme-ext'.score = 1]"),
        vec![(
            17,
            "'x-acme-ext' is a custom extension, not one STIX 2.1 defines for 'file' objects"
                .to_string()
        )]
    );
}

#[test]
fn steps_that_select_nothing_warn() {
    let w = |p: &str| warnings(p);
    assert_eq!(
        w("[email-message:to_refs.value = 'x']"),
        vec![(
            23,
            "email-message:to_refs is a list: index it with [*] or [n] before '.value'".to_string()
        )]
    );
    assert_eq!(
        w("[file:name.first = 'x']"),
        vec![(
            11,
            "file:name holds a string, so '.first' selects nothing".to_string()
        )]
    );
    assert_eq!(
        w("[file:size[0] = 1]"),
        vec![(
            10,
            "file:size holds an integer, not a list, so an index selects nothing".to_string()
        )]
    );
    assert_eq!(
        w("[file:extensions.'windows-pebinary-ext'.sections[0].hashes[0].x = 'x']"),
        vec![(
            58,
            "file:extensions.'windows-pebinary-ext'.sections[0].hashes holds a dictionary, not a list, so an index selects nothing".to_string()
        )]
    );
    assert_eq!(
        w("[email-message:from_ref[0] = 'x']"),
        vec![(
            23,
            "email-message:from_ref holds a string, not a list, so an index selects nothing"
                .to_string()
        )]
    );
    assert_eq!(
        w("[file:extensions[0] = 'x']"),
        vec![(
            16,
            "file:extensions is not a list, so an index selects nothing".to_string()
        )]
    );
}

#[test]
fn operand_types_are_checked_against_the_property() {
    let w = |p: &str| warnings(p);
    assert_eq!(
        w("[file:size = '371712']"),
        vec![(
            13,
            "file:size holds an integer but is compared with a string".to_string()
        )]
    );
    assert_eq!(
        w("[file:size IN (1, '2')]"),
        vec![(
            18,
            "file:size holds an integer but is compared with a string".to_string()
        )]
    );
    assert_eq!(
        w("[file:ctime = '2020-01-01T00:00:00Z']"),
        vec![(
            14,
            "file:ctime holds a timestamp but is compared with a string (write t'2020-01-01T00:00:00Z')"
                .to_string()
        )]
    );
    assert_eq!(
        w("[email-message:is_multipart = 1]"),
        vec![(
            30,
            "email-message:is_multipart holds a boolean but is compared with an integer"
                .to_string()
        )]
    );
    assert_eq!(
        w("[file:name = 5]"),
        vec![(
            13,
            "file:name holds a string but is compared with an integer".to_string()
        )]
    );
    assert_eq!(
        w("[file:magic_number_hex = 'ffd8']"),
        vec![(
            25,
            "file:magic_number_hex holds hex data but is compared with a string".to_string()
        )]
    );
    assert_eq!(
        w("[artifact:payload_bin = 'x']"),
        vec![(
            24,
            "artifact:payload_bin holds binary data but is compared with a string".to_string()
        )]
    );
    assert_eq!(
        w("[file:size LIKE '1%']"),
        vec![(
            11,
            "LIKE applies to strings, but file:size holds an integer".to_string()
        )]
    );
    assert_eq!(
        w("[file:ctime MATCHES '^2020']"),
        vec![(
            12,
            "MATCHES applies to strings, but file:ctime holds a timestamp".to_string()
        )]
    );
    // MATCHES may test binary data (§9.6); floats compare with integers.
    assert_clean("[artifact:payload_bin MATCHES '^MZ']");
    assert_clean("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7]");
}

#[test]
fn hash_values_must_fit_their_algorithm() {
    let e = |p: &str| errors(p);
    assert_eq!(
        e("[file:hashes.'SHA-256' = 'f00']"),
        vec![(
            25,
            "'f00' is not a valid SHA-256 hash: expected 64 hexadecimal digits".to_string()
        )]
    );
    assert_eq!(
        e("[file:hashes.md5 != 'zz']"),
        vec![(
            20,
            "'zz' is not a valid md5 hash: expected 32 hexadecimal digits".to_string()
        )]
    );
    assert_eq!(
        e("[file:hashes.SHA1 = 'zz']"),
        vec![(
            20,
            "'zz' is not a valid SHA1 hash: expected 40 hexadecimal digits".to_string()
        )]
    );
    assert_eq!(
        e("[file:hashes.SSDEEP = 'a b']"),
        vec![(
            22,
            "'a b' is not a valid SSDEEP hash: expected 1 to 128 characters of A-Z a-z 0-9 / + : ."
                .to_string()
        )]
    );
    assert_eq!(
        e("[file:hashes.MD5 = 5]"),
        vec![(
            19,
            "MD5 hash values are strings, not an integer".to_string()
        )]
    );
    assert_eq!(
        e("[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', 'x')]"),
        vec![(
            57,
            "'x' is not a valid MD5 hash: expected 32 hexadecimal digits".to_string()
        )]
    );
    // Nested hashes and custom types are checked too, as stix2-patterns does.
    assert_eq!(
        e("[file:extensions.'windows-pebinary-ext'.sections[0].hashes.MD5 = 'x']")[0].0,
        65
    );
    assert_eq!(e("[x-thing:hashes.MD5 = 'x']").len(), 1);
    // Unknown algorithms, patterns and existence tests are not hash values.
    assert_eq!(e("[file:hashes.TLSH = 'x']"), vec![]);
    assert_eq!(e("[file:hashes.MD5 LIKE 'cead%']"), vec![]);
    assert_eq!(e("[file:hashes.MD5 MATCHES '^cead']"), vec![]);
    assert_eq!(e("[EXISTS file:hashes.MD5]"), vec![]);
    // A numeric index after hashes selects nothing (stix2-patterns fails on it).
    assert_eq!(
        problems("[file:hashes[0] LIKE 'x']"),
        vec![(
            Severity::Error,
            12,
            "hashes are keyed by algorithm name, so [0] selects nothing: write hashes.'SHA-256' or hashes[*]"
                .to_string()
        )]
    );
    assert_eq!(e("[x-thing:hashes[1] = 'x']").len(), 1);
    assert_eq!(e("[EXISTS file:hashes[0]]"), vec![]);
}

#[test]
fn type_and_property_names() {
    assert_eq!(
        errors("[File:name = 'x']"),
        vec![(
            1,
            "'File' is not a valid object type name: use 3 to 250 characters of a-z, 0-9 and '-'"
                .to_string()
        )]
    );
    assert_eq!(errors("[ab:name = 'x']").len(), 1);
    assert_eq!(errors("[foo_bar:name = 'x']").len(), 1);
    assert_eq!(
        errors("[file:Name = 'x']"),
        vec![(
            6,
            "'Name' is not a valid property name: use 3 to 250 characters of a-z, 0-9 and '_'"
                .to_string()
        )]
    );
    assert_eq!(errors("[x-thing:ab = 'x']").len(), 1);
    assert_eq!(errors("[file:'has space' = 'x']").len(), 1);
    assert_eq!(
        warnings("[x-acme-widget:color = 'red' AND x-acme-widget:size = 1]"),
        vec![(
            1,
            "'x-acme-widget' is a custom observable type, not one STIX 2.1 defines".to_string()
        )]
    );
    assert_eq!(
        problems("[widget:color = 'red']"),
        vec![(
            Severity::Warning,
            1,
            "'widget' is not an observable type STIX 2.1 defines (custom types should start with 'x-')"
                .to_string()
        )]
    );
    assert_eq!(
        problems("[indicator:pattern = 'x']"),
        vec![(
            Severity::Warning,
            1,
            "'indicator' is not a cyber-observable (SCO) type; patterns match SCOs".to_string()
        )]
    );
}

#[test]
fn qualifier_checks() {
    assert_eq!(
        errors("[file:name = 'x'] WITHIN 5 SECONDS WITHIN 6 SECONDS"),
        vec![(
            35,
            "the observation expression already has a WITHIN qualifier; to apply another, put the qualified expression in parentheses first"
                .to_string()
        )]
    );
    assert_eq!(
        errors("[file:name = 'x'] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES")[0].0,
        51
    );
    assert_eq!(
        errors(
            "[file:name = 'x'] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z' START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'"
        )[0]
        .1,
        "the observation expression already has a START/STOP qualifier; to apply another, put the qualified expression in parentheses first"
    );
    assert_clean("([file:name = 'x'] WITHIN 5 SECONDS) WITHIN 6 SECONDS");
    assert_clean("([file:name = 'x']) REPEATS 2 TIMES REPEATS 3 TIMES");
    assert_clean(
        "[file:name = 'x'] REPEATS 2 TIMES WITHIN 5 SECONDS START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
    );
    assert_eq!(
        warnings("[file:name = 'x'] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'"),
        vec![(
            53,
            "STOP t'2020-01-01T00:00:00Z' is not later than START t'2020-01-02T00:00:00Z', so nothing can match in that window"
                .to_string()
        )]
    );
}

#[test]
fn check_uses_the_real_type_tables() {
    let p = "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' AND file:name = 'x'] \
             AND [ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = 443] \
             AND [email-message:from_ref.value = 'a@example.com'] \
             AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo']";
    let found = check(p);
    assert!(
        found.iter().all(|f| f.severity == Severity::Warning),
        "{found:?}"
    );
    if crate::types::lookup("file").is_some() {
        assert_eq!(
            found,
            vec![],
            "the SCO tables should describe every path here"
        );
    } else {
        // Before the SCO tables exist every type is unknown: one warning per type.
        assert_eq!(found.len(), 5, "{found:?}");
    }
    assert_eq!(check("[file:name = 'x'").len(), 1);
}

// ----------------------------------------------------------------- printing

#[test]
fn display_is_canonical() {
    let cases = [
        ("[file:name=='x']", "[file:name = 'x']"),
        ("[file:size<>+1]", "[file:size != 1]"),
        ("[ file:'name' = 'it\\'s' ]", "[file:name = 'it\\'s']"),
        (
            "[file:hashes.'SHA-256' = 'x']",
            "[file:hashes.'SHA-256' = 'x']",
        ),
        (
            "[file:a.'IN'[0].'x y'[*] NOT IN ( 1 ,2.5,true )]",
            "[file:a.'IN'[0].'x y'[*] NOT IN (1, 2.5, true)]",
        ),
        ("[NOT EXISTS file:name]", "[NOT EXISTS file:name]"),
        (
            "([a:bcd=1]AND[a:bcd=2])WITHIN +5 SECONDS REPEATS 2 TIMES",
            "([a:bcd = 1] AND [a:bcd = 2]) WITHIN 5 SECONDS REPEATS 2 TIMES",
        ),
        (
            "[a:bcd = t'2020-01-01T00:00:00Z'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:01.5Z'",
            "[a:bcd = t'2020-01-01T00:00:00Z'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:01.5Z'",
        ),
        (
            "[a:bcd = b'AAAA' OR (a:bcd = h'ff' AND a:bcd = -.5)]",
            "[a:bcd = b'AAAA' OR (a:bcd = h'ff' AND a:bcd = -.5)]",
        ),
    ];
    for (input, printed) in cases {
        let p = parse(input).unwrap();
        assert_eq!(p.to_string(), printed);
        assert_eq!(parse(printed).unwrap().to_string(), printed);
    }
}

/// Sets every span to the default, so trees parsed from different text compare by structure.
fn erase(e: &mut ObservationExpr) {
    e.span = Span::default();
    for q in &mut e.qualifiers {
        q.span = Span::default();
        match &mut q.kind {
            QualifierKind::Within(l) | QualifierKind::Repeats(l) => l.span = Span::default(),
            QualifierKind::StartStop { start, stop } => {
                start.span = Span::default();
                stop.span = Span::default();
            }
        }
    }
    match &mut e.kind {
        ObservationKind::Observation(c) => erase_cmp(c),
        ObservationKind::Group(inner) => erase(inner),
        ObservationKind::Binary { operands, .. } => operands.iter_mut().for_each(erase),
    }
}

fn erase_cmp(e: &mut ComparisonExpr) {
    e.span = Span::default();
    match &mut e.kind {
        ComparisonKind::Test(t) => {
            t.span = Span::default();
            t.op_span = Span::default();
            t.path.span = Span::default();
            t.path.type_span = Span::default();
            t.path
                .steps
                .iter_mut()
                .for_each(|s| s.span = Span::default());
            match &mut t.value {
                Some(Operand::Constant(l)) => l.span = Span::default(),
                Some(Operand::Set { items, span }) => {
                    *span = Span::default();
                    items.iter_mut().for_each(|l| l.span = Span::default());
                }
                None => {}
            }
        }
        ComparisonKind::Group(inner) => erase_cmp(inner),
        ComparisonKind::Binary { operands, .. } => operands.iter_mut().for_each(erase_cmp),
    }
}

mod roundtrip {
    use super::*;
    use crate::timestamp::Timestamp;
    use proptest::prelude::*;

    fn lit(value: Constant) -> Literal {
        Literal {
            value,
            span: Span::default(),
        }
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-z_][a-z0-9_]{0,6}".prop_filter("keyword", |s| !is_keyword(s))
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![name(), "[ -~]{0,6}", "\\PC{0,4}"]
    }

    fn type_name() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,4}(-[a-z0-9]{1,4}){0,2}".prop_filter("keyword", |s| !is_keyword(s))
    }

    fn step() -> impl Strategy<Value = PathStep> {
        prop_oneof![
            key().prop_map(StepKind::Key),
            (0u64..100_000).prop_map(StepKind::Index),
            Just(StepKind::AnyIndex),
        ]
        .prop_map(|kind| PathStep {
            kind,
            span: Span::default(),
        })
    }

    fn path() -> impl Strategy<Value = ObjectPath> {
        (type_name(), key(), prop::collection::vec(step(), 0..4)).prop_map(|(t, first, rest)| {
            let mut steps = vec![PathStep {
                kind: StepKind::Key(first),
                span: Span::default(),
            }];
            steps.extend(rest);
            ObjectPath {
                object_type: t,
                type_span: Span::default(),
                steps,
                span: Span::default(),
            }
        })
    }

    fn timestamp() -> impl Strategy<Value = Constant> {
        (
            1900u32..2200,
            1u32..=12,
            1u32..=28,
            0u32..24,
            0u32..60,
            0u32..60,
            prop::option::of("[0-9]{1,9}"),
        )
            .prop_map(|(y, mo, d, h, mi, s, frac)| {
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z");
                let ts = Timestamp::parse(&text).unwrap();
                Constant::Timestamp(text, ts)
            })
    }

    fn constant() -> impl Strategy<Value = Constant> {
        prop_oneof![
            "\\PC{0,8}".prop_map(Constant::String),
            "['\\\\a-z ]{0,6}".prop_map(Constant::String),
            any::<i64>().prop_map(|i| Constant::Integer(i.to_string())),
            ("-?", "(0|[1-9][0-9]{0,3})?", "[0-9]{1,4}")
                .prop_map(|(s, i, f)| Constant::Float(format!("{s}{i}.{f}"))),
            any::<bool>().prop_map(Constant::Boolean),
            timestamp(),
            "([A-Za-z0-9+/]{4}){0,2}([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
                .prop_map(Constant::Binary),
            "([0-9a-fA-F]{2}){0,4}".prop_map(Constant::Hex),
        ]
    }

    fn comparison() -> impl Strategy<Value = ComparisonExpr> {
        let op = prop_oneof![
            Just(Operator::Eq),
            Just(Operator::Ne),
            Just(Operator::Lt),
            Just(Operator::Le),
            Just(Operator::Gt),
            Just(Operator::Ge),
            Just(Operator::In),
            Just(Operator::Like),
            Just(Operator::Matches),
            Just(Operator::IsSubset),
            Just(Operator::IsSuperset),
            Just(Operator::Exists),
        ];
        (
            path(),
            any::<bool>(),
            op,
            constant(),
            prop::collection::vec(constant(), 0..4),
            "\\PC{0,6}",
        )
            .prop_map(|(path, negated, op, c, set, s)| {
                let value = match op {
                    Operator::Exists => None,
                    Operator::In => Some(Operand::Set {
                        items: set.into_iter().map(lit).collect(),
                        span: Span::default(),
                    }),
                    Operator::Like
                    | Operator::Matches
                    | Operator::IsSubset
                    | Operator::IsSuperset => Some(Operand::Constant(lit(Constant::String(s)))),
                    _ if op.is_ordering() && matches!(c, Constant::Boolean(_)) => {
                        Some(Operand::Constant(lit(Constant::Integer("1".into()))))
                    }
                    _ => Some(Operand::Constant(lit(c))),
                };
                ComparisonExpr {
                    kind: ComparisonKind::Test(Box::new(Comparison {
                        path,
                        negated,
                        op,
                        op_span: Span::default(),
                        value,
                        span: Span::default(),
                    })),
                    span: Span::default(),
                }
            })
    }

    fn group_cmp(e: ComparisonExpr) -> ComparisonExpr {
        ComparisonExpr {
            kind: ComparisonKind::Group(Box::new(e)),
            span: Span::default(),
        }
    }

    fn comparison_expr() -> impl Strategy<Value = ComparisonExpr> {
        comparison().prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                inner.clone().prop_map(group_cmp),
                (
                    prop_oneof![Just(BoolOp::And), Just(BoolOp::Or)],
                    prop::collection::vec(inner, 2..4)
                )
                    .prop_map(|(op, operands)| {
                        // Parenthesise operands that would otherwise re-associate.
                        let operands = operands
                            .into_iter()
                            .map(|o| match &o.kind {
                                ComparisonKind::Binary { op: inner_op, .. }
                                    if *inner_op == op || op == BoolOp::And =>
                                {
                                    group_cmp(o)
                                }
                                _ => o,
                            })
                            .collect();
                        ComparisonExpr {
                            kind: ComparisonKind::Binary { op, operands },
                            span: Span::default(),
                        }
                    }),
            ]
        })
    }

    fn qualifier() -> impl Strategy<Value = Qualifier> {
        prop_oneof![
            (1u64..1_000_000)
                .prop_map(|n| QualifierKind::Within(lit(Constant::Integer(n.to_string())))),
            ("[0-9]{0,3}", "[1-9]")
                .prop_map(|(i, f)| QualifierKind::Within(lit(Constant::Float(format!("{i}.{f}"))))),
            (1u64..1000)
                .prop_map(|n| QualifierKind::Repeats(lit(Constant::Integer(n.to_string())))),
            (timestamp(), timestamp()).prop_map(|(a, b)| QualifierKind::StartStop {
                start: lit(a),
                stop: lit(b),
            }),
        ]
        .prop_map(|kind| Qualifier {
            kind,
            span: Span::default(),
        })
    }

    fn precedence(op: ObservationOp) -> u8 {
        match op {
            ObservationOp::FollowedBy => 0,
            ObservationOp::Or => 1,
            ObservationOp::And => 2,
        }
    }

    fn observation_expr() -> impl Strategy<Value = ObservationExpr> {
        let leaf = (comparison_expr(), prop::collection::vec(qualifier(), 0..3)).prop_map(
            |(c, qualifiers)| ObservationExpr {
                kind: ObservationKind::Observation(c),
                qualifiers,
                span: Span::default(),
            },
        );
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), prop::collection::vec(qualifier(), 0..2)).prop_map(
                    |(e, qualifiers)| ObservationExpr {
                        kind: ObservationKind::Group(Box::new(e)),
                        qualifiers,
                        span: Span::default(),
                    }
                ),
                (
                    prop_oneof![
                        Just(ObservationOp::And),
                        Just(ObservationOp::Or),
                        Just(ObservationOp::FollowedBy)
                    ],
                    prop::collection::vec(inner, 2..4)
                )
                    .prop_map(|(op, operands)| {
                        let operands = operands
                            .into_iter()
                            .map(|o| match &o.kind {
                                ObservationKind::Binary { op: inner_op, .. }
                                    if precedence(*inner_op) <= precedence(op) =>
                                {
                                    ObservationExpr {
                                        kind: ObservationKind::Group(Box::new(o)),
                                        qualifiers: Vec::new(),
                                        span: Span::default(),
                                    }
                                }
                                _ => o,
                            })
                            .collect();
                        ObservationExpr {
                            kind: ObservationKind::Binary { op, operands },
                            qualifiers: Vec::new(),
                            span: Span::default(),
                        }
                    }),
            ]
        })
    }

    proptest! {
        #[test]
        fn printed_pattern_reparses_to_the_same_tree(expr in observation_expr()) {
            let pattern = Pattern { expr };
            let text = pattern.to_string();
            let mut reparsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(reparsed.to_string(), text.clone());
            erase(&mut reparsed.expr);
            prop_assert_eq!(reparsed, pattern, "{}", text);
        }

        #[test]
        fn check_never_panics(s in "\\PC{0,40}") {
            let _ = check(&s);
        }

        #[test]
        fn check_never_panics_on_near_patterns(s in "[\\[\\]()a-z:.'=!<>*0-9 ,\\\\-]{0,40}") {
            let found = check(&format!("[{s}"));
            for p in found {
                prop_assert!(p.offset <= s.chars().count() + 1);
            }
        }
    }
}
