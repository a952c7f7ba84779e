//! The syntax tree of a STIX pattern (STIX 2.1 §9), with the character
//! offsets of every node, and its canonical printing.
//!
//! AND/OR chains are n-ary (`operands.len() >= 2`) rather than nested binary
//! nodes, so a pattern of ten thousand comparisons is a flat list and nothing
//! recurses deeper than its parentheses.

use std::fmt::{self, Display, Write};

use crate::timestamp::Timestamp;

/// A range of the pattern text, in characters (not bytes), 0-based, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first character.
    pub start: usize,
    /// Offset just past the last character.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A whole pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The top-level observation expression.
    pub expr: ObservationExpr,
}

/// An observation expression, possibly qualified.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationExpr {
    /// What it is.
    pub kind: ObservationKind,
    /// Qualifiers applied to it, innermost first. The parser only attaches
    /// them to [`ObservationKind::Observation`] and [`ObservationKind::Group`].
    pub qualifiers: Vec<Qualifier>,
    /// From the opening bracket or parenthesis through the last qualifier.
    pub span: Span,
}

/// The forms of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationKind {
    /// `[ comparison-expression ]`.
    Observation(ComparisonExpr),
    /// `( observation-expression )`.
    Group(Box<ObservationExpr>),
    /// Two or more operands joined by the same observation operator.
    Binary {
        /// AND, OR or FOLLOWEDBY.
        op: ObservationOp,
        /// The operands, in order (at least two).
        operands: Vec<ObservationExpr>,
    },
}

/// An observation operator. Precedence, loosest first: FOLLOWEDBY, OR, AND.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObservationOp {
    /// Both observations match.
    And,
    /// Either observation matches.
    Or,
    /// The left observation matches before the right one.
    FollowedBy,
}

impl ObservationOp {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservationOp::And => "AND",
            ObservationOp::Or => "OR",
            ObservationOp::FollowedBy => "FOLLOWEDBY",
        }
    }
}

/// A qualifier after an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Qualifier {
    /// Which qualifier.
    pub kind: QualifierKind,
    /// From the keyword through its last token.
    pub span: Span,
}

/// The qualifiers of STIX 2.1 §9.7.3.
#[derive(Debug, Clone, PartialEq)]
pub enum QualifierKind {
    /// `WITHIN n SECONDS`; `n` is a positive integer or float constant.
    Within(Literal),
    /// `REPEATS n TIMES`; `n` is a positive integer constant.
    Repeats(Literal),
    /// `START t'…' STOP t'…'`; both are timestamp constants.
    StartStop {
        /// The START timestamp.
        start: Literal,
        /// The STOP timestamp.
        stop: Literal,
    },
}

impl QualifierKind {
    /// The qualifier's keyword (`START` for START/STOP).
    pub fn keyword(&self) -> &'static str {
        match self {
            QualifierKind::Within(_) => "WITHIN",
            QualifierKind::Repeats(_) => "REPEATS",
            QualifierKind::StartStop { .. } => "START",
        }
    }
}

/// A comparison expression inside `[ ]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonExpr {
    /// What it is.
    pub kind: ComparisonKind,
    /// Its text.
    pub span: Span,
}

/// The forms of a comparison expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonKind {
    /// One property test.
    Test(Box<Comparison>),
    /// `( comparison-expression )`.
    Group(Box<ComparisonExpr>),
    /// Two or more operands joined by the same boolean operator (AND binds tighter than OR).
    Binary {
        /// AND or OR.
        op: BoolOp,
        /// The operands, in order (at least two).
        operands: Vec<ComparisonExpr>,
    },
}

/// A boolean operator between comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoolOp {
    /// Both hold.
    And,
    /// Either holds.
    Or,
}

impl BoolOp {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            BoolOp::And => "AND",
            BoolOp::Or => "OR",
        }
    }
}

/// One property test: `path [NOT] op value`, or `[NOT] EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The object path tested.
    pub path: ObjectPath,
    /// Whether `NOT` precedes the operator.
    pub negated: bool,
    /// The operator.
    pub op: Operator,
    /// Where the operator (with its `NOT`) is.
    pub op_span: Span,
    /// The right-hand side; `None` only for EXISTS.
    pub value: Option<Operand>,
    /// The whole test.
    pub span: Span,
}

/// A comparison operator (STIX 2.1 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `=` (also written `==`).
    Eq,
    /// `!=` (also written `<>`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN` a set constant.
    In,
    /// `LIKE` an SQL-style pattern.
    Like,
    /// `MATCHES` a regular expression.
    Matches,
    /// `ISSUBSET` of an address range.
    IsSubset,
    /// `ISSUPERSET` of an address range.
    IsSuperset,
    /// `EXISTS` (written before the path).
    Exists,
}

impl Operator {
    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }

    /// `<`, `<=`, `>` or `>=`.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge
        )
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A single constant.
    Constant(Literal),
    /// A set constant `(a, b, …)` for IN (possibly empty).
    Set {
        /// The members.
        items: Vec<Literal>,
        /// From `(` to `)`.
        span: Span,
    },
}

impl Operand {
    /// Where it is.
    pub fn span(&self) -> Span {
        match self {
            Operand::Constant(l) => l.span,
            Operand::Set { span, .. } => *span,
        }
    }
}

/// A constant and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: Constant,
    /// Its text.
    pub span: Span,
}

/// A constant (STIX 2.1 §9.4).
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    /// A string, unescaped.
    String(String),
    /// An integer, as canonical decimal text (`-` sign kept, `+` dropped):
    /// the grammar puts no bound on its size.
    Integer(String),
    /// A float, as canonical decimal text (`-` sign kept, `+` dropped).
    Float(String),
    /// `true` or `false`.
    Boolean(bool),
    /// `t'…'`: the text between the quotes and its parsed value.
    Timestamp(String, Timestamp),
    /// `b'…'`: base64 text.
    Binary(String),
    /// `h'…'`: hexadecimal text.
    Hex(String),
}

impl Constant {
    /// What kind of constant it is, for messages ("a string", "an integer"…).
    pub fn describe(&self) -> &'static str {
        match self {
            Constant::String(_) => "a string",
            Constant::Integer(_) => "an integer",
            Constant::Float(_) => "a float",
            Constant::Boolean(_) => "a boolean",
            Constant::Timestamp(..) => "a timestamp",
            Constant::Binary(_) => "a binary constant",
            Constant::Hex(_) => "a hex constant",
        }
    }

    /// The value of an integer constant that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Constant::Integer(t) => t.parse().ok(),
            _ => None,
        }
    }

    /// The value of an integer or float constant.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Constant::Integer(t) | Constant::Float(t) => t.parse().ok(),
            _ => None,
        }
    }
}

/// An object path `type:prop.sub[*].'quoted key'[0]` (STIX 2.1 §9.5).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    /// The object type before the colon.
    pub object_type: String,
    /// Where the object type is.
    pub type_span: Span,
    /// The first property and every step after it (never empty; the first is a key).
    pub steps: Vec<PathStep>,
    /// The whole path.
    pub span: Span,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathStep {
    /// What it selects.
    pub kind: StepKind,
    /// Its text (for a key, the name itself, without the dot).
    pub span: Span,
}

/// What a path step selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// A property or dictionary key, quoted or not in the text.
    Key(String),
    /// `[n]`.
    Index(u64),
    /// `[*]`.
    AnyIndex,
}

const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "LAST",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "true",
    "false",
    "WITHIN",
    "REPEATS",
    "TIMES",
];

/// Whether `word` is reserved by the grammar (so it cannot be a bare name).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Whether a key can be written without quotes after a dot.
fn is_bare_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_keyword(key)
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('\'')
}

impl Display for Pattern {
    /// The canonical text: single spaces, `=`/`!=`, keys quoted only where needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ObservationKind::Observation(c) => write!(f, "[{c}]")?,
            ObservationKind::Group(inner) => write!(f, "({inner})")?,
            ObservationKind::Binary { op, operands } => {
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        write!(f, " {} ", op.as_str())?;
                    }
                    operand.fmt(f)?;
                }
            }
        }
        for q in &self.qualifiers {
            write!(f, " {q}")?;
        }
        Ok(())
    }
}

impl Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            QualifierKind::Within(n) => write!(f, "WITHIN {} SECONDS", n.value),
            QualifierKind::Repeats(n) => write!(f, "REPEATS {} TIMES", n.value),
            QualifierKind::StartStop { start, stop } => {
                write!(f, "START {} STOP {}", start.value, stop.value)
            }
        }
    }
}

impl Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ComparisonKind::Test(t) => t.fmt(f),
            ComparisonKind::Group(inner) => write!(f, "({inner})"),
            ComparisonKind::Binary { op, operands } => {
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        write!(f, " {} ", op.as_str())?;
                    }
                    operand.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Operator::Exists {
            if self.negated {
                f.write_str("NOT ")?;
            }
            return write!(f, "EXISTS {}", self.path);
        }
        write!(f, "{} ", self.path)?;
        if self.negated {
            f.write_str("NOT ")?;
        }
        f.write_str(self.op.as_str())?;
        if let Some(value) = &self.value {
            write!(f, " {value}")?;
        }
        Ok(())
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Constant(l) => l.value.fmt(f),
            Operand::Set { items, .. } => {
                f.write_char('(')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.value.fmt(f)?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => write_quoted(f, s),
            Constant::Integer(t) | Constant::Float(t) => f.write_str(t),
            Constant::Boolean(b) => write!(f, "{b}"),
            Constant::Timestamp(text, _) => write!(f, "t'{text}'"),
            Constant::Binary(t) => write!(f, "b'{t}'"),
            Constant::Hex(t) => write!(f, "h'{t}'"),
        }
    }
}

impl Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match &step.kind {
                StepKind::Key(k) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    if is_bare_key(k) {
                        f.write_str(k)?;
                    } else {
                        write_quoted(f, k)?;
                    }
                }
                StepKind::Index(n) => write!(f, "[{n}]")?,
                StepKind::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl ObjectPath {
    /// The path text up to and including step `last` (for messages).
    pub fn prefix(&self, last: usize) -> String {
        let mut cut = self.clone();
        cut.steps.truncate(last + 1);
        cut.to_string()
    }
}
