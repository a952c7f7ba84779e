//! A recursive-descent parser for the STIX 2.1 patterning grammar (§9).
//!
//! It accepts what the OASIS ANTLR grammar accepts, with the constants held to
//! the specification (real calendar timestamps, positive WITHIN and REPEATS
//! counts, non-negative list indexes), and stops at the first error with a
//! message that says where and why. Spellings the grammar allows but the
//! specification does not write (`==`, `<>`) parse, and are noted as warnings.

use super::ast::*;
use super::lexer::{Keyword, Token, TokenKind, is_space, tokenize};

/// Why a pattern does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {}: {message}", offset + 1)]
pub struct PatternError {
    /// Character offset (0-based) where the problem is.
    pub offset: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Something the parser accepted but a reader should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub offset: usize,
    pub message: String,
}

/// How deep brackets and parentheses may nest; deeper patterns are refused
/// rather than risk the stack.
const MAX_DEPTH: usize = 100;

type Result<T> = std::result::Result<T, PatternError>;

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T> {
    Err(PatternError {
        offset,
        message: message.into(),
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    notes: Vec<Note>,
}

/// Parses a pattern, returning the tree and the warnings met on the way.
pub(crate) fn parse_with_notes(pattern: &str) -> Result<(Pattern, Vec<Note>)> {
    let mut leading = pattern
        .chars()
        .enumerate()
        .skip_while(|&(_, c)| is_space(c));
    let Some(_) = leading.clone().next() else {
        return err(0, "the pattern is empty");
    };
    // stix2-patterns refuses a pattern whose first character after any '('
    // is not '[' (even a comment), so we do too.
    if let Some((at, c)) = leading.find(|&(_, c)| c != '(' && !is_space(c))
        && c != '['
    {
        return err(
            at,
            "a pattern must start with an observation expression in square brackets, such as [file:name = 'x']",
        );
    }
    let mut parser = Parser {
        tokens: tokenize(pattern),
        pos: 0,
        depth: 0,
        notes: Vec::new(),
    };
    let expr = parser.observation_expressions(None)?;
    let tok = parser.peek().clone();
    if tok.kind != TokenKind::Eof {
        let message = match lower_keyword(&tok.kind) {
            Some(m) => m,
            None if matches!(tok.kind, TokenKind::Keyword(Keyword::Stop)) => {
                "STOP must follow START t'…'".to_string()
            }
            None => format!(
                "expected AND, OR, FOLLOWEDBY or a qualifier after the observation expression, found {}",
                tok.kind.describe()
            ),
        };
        return err(tok.span.start, message);
    }
    Ok((Pattern { expr }, parser.notes))
}

/// The message for an identifier that is a keyword in the wrong case.
fn lower_keyword(kind: &TokenKind) -> Option<String> {
    match kind {
        TokenKind::Ident { text, .. } => {
            if let Some(k) = Keyword::upper_case_of(text) {
                return Some(format!(
                    "'{text}' is not a keyword: keywords are upper case ({k})"
                ));
            }
            matches!(text.to_ascii_lowercase().as_str(), "true" | "false").then(|| {
                format!(
                    "'{text}' is not a boolean: booleans are lower case ({})",
                    text.to_ascii_lowercase()
                )
            })
        }
        _ => None,
    }
}

fn describe_found(tok: &Token) -> String {
    tok.kind.describe()
}

fn is_positive(text: &str) -> bool {
    !text.starts_with('-') && text.chars().any(|c| ('1'..='9').contains(&c))
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof or Error, and the parser never
        // advances past either.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    /// Moves past the current token and returns where it was.
    fn bump(&mut self) -> Span {
        let tok = self.peek();
        let span = tok.span;
        if !matches!(tok.kind, TokenKind::Eof | TokenKind::Error(_)) {
            self.pos += 1;
        }
        span
    }

    fn prev_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.span.end)
    }

    fn at_keyword(&self, k: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(k)
    }

    /// An error at the current token: a lexical error speaks for itself,
    /// otherwise `expected …, found …`.
    fn unexpected<T>(&self, expected: &str) -> Result<T> {
        let tok = self.peek();
        let message = match &tok.kind {
            TokenKind::Error(m) => m.clone(),
            TokenKind::BadTimestamp(text, e) => {
                format!("t'{text}' is not a valid timestamp: it {e}")
            }
            kind => lower_keyword(kind)
                .unwrap_or_else(|| format!("expected {expected}, found {}", describe_found(tok))),
        };
        err(tok.span.start, message)
    }

    fn enter(&mut self, at: usize) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                at,
                format!("brackets and parentheses are nested deeper than {MAX_DEPTH} levels"),
            );
        }
        Ok(())
    }

    fn observation_expressions(&mut self, after: Option<&str>) -> Result<ObservationExpr> {
        self.observation_chain(ObservationOp::FollowedBy, after)
    }

    /// One precedence level of observation operators: FOLLOWEDBY, then OR, then AND.
    fn observation_chain(
        &mut self,
        op: ObservationOp,
        after: Option<&str>,
    ) -> Result<ObservationExpr> {
        let (keyword, tighter) = match op {
            ObservationOp::FollowedBy => (Keyword::FollowedBy, Some(ObservationOp::Or)),
            ObservationOp::Or => (Keyword::Or, Some(ObservationOp::And)),
            ObservationOp::And => (Keyword::And, None),
        };
        let operand = |p: &mut Parser, after: Option<&str>| match tighter {
            Some(t) => p.observation_chain(t, after),
            None => p.qualified_observation(after),
        };
        let first = operand(self, after)?;
        if !self.at_keyword(keyword) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at_keyword(keyword) {
            self.bump();
            operands.push(operand(self, Some(op.as_str()))?);
        }
        let span = Span::new(
            operands[0].span.start,
            operands.last().map_or(0, |o| o.span.end),
        );
        Ok(ObservationExpr {
            kind: ObservationKind::Binary { op, operands },
            qualifiers: Vec::new(),
            span,
        })
    }

    fn qualified_observation(&mut self, after: Option<&str>) -> Result<ObservationExpr> {
        let mut expr = self.observation_atom(after)?;
        loop {
            let tok = self.peek().clone();
            let kind = match tok.kind {
                TokenKind::Keyword(Keyword::Within) => self.within()?,
                TokenKind::Keyword(Keyword::Repeats) => self.repeats()?,
                TokenKind::Keyword(Keyword::Start) => self.start_stop()?,
                TokenKind::Keyword(Keyword::Stop) => {
                    return err(tok.span.start, "STOP must follow START t'…'");
                }
                _ => return Ok(expr),
            };
            let span = Span::new(tok.span.start, self.prev_end());
            expr.span.end = span.end;
            expr.qualifiers.push(Qualifier { kind, span });
        }
    }

    fn observation_atom(&mut self, after: Option<&str>) -> Result<ObservationExpr> {
        let open = self.peek().clone();
        match open.kind {
            TokenKind::LBrack => {
                self.enter(open.span.start)?;
                self.bump();
                let comparison = self.comparison_chain(BoolOp::Or, None)?;
                if self.peek().kind != TokenKind::RBrack {
                    return self.unexpected(&format!(
                        "']' to close the observation expression opened at character {}",
                        open.span.start + 1
                    ));
                }
                self.bump();
                self.depth -= 1;
                Ok(ObservationExpr {
                    kind: ObservationKind::Observation(comparison),
                    qualifiers: Vec::new(),
                    span: Span::new(open.span.start, self.prev_end()),
                })
            }
            TokenKind::LParen => {
                self.enter(open.span.start)?;
                self.bump();
                let inner = self.observation_expressions(None)?;
                if self.peek().kind != TokenKind::RParen {
                    return self.unexpected(&format!(
                        "')' to close the parenthesis opened at character {}",
                        open.span.start + 1
                    ));
                }
                self.bump();
                self.depth -= 1;
                Ok(ObservationExpr {
                    kind: ObservationKind::Group(Box::new(inner)),
                    qualifiers: Vec::new(),
                    span: Span::new(open.span.start, self.prev_end()),
                })
            }
            _ => self.unexpected(&match after {
                Some(op) => format!("an observation expression ('[' or '(') after {op}"),
                None => "an observation expression ('[' or '(')".to_string(),
            }),
        }
    }

    fn within(&mut self) -> Result<QualifierKind> {
        self.bump();
        let tok = self.peek().clone();
        let n = match &tok.kind {
            TokenKind::Int(t) | TokenKind::Float(t) if is_positive(t) => {
                let value = if matches!(tok.kind, TokenKind::Int(_)) {
                    Constant::Integer(t.clone())
                } else {
                    Constant::Float(t.clone())
                };
                Literal {
                    value,
                    span: tok.span,
                }
            }
            TokenKind::Int(t) | TokenKind::Float(t) => {
                return err(
                    tok.span.start,
                    format!("WITHIN needs a positive number of SECONDS, not {t}"),
                );
            }
            TokenKind::Error(_) => return self.unexpected(""),
            _ => {
                return err(
                    tok.span.start,
                    format!(
                        "WITHIN needs a positive number of SECONDS, found {}",
                        describe_found(&tok)
                    ),
                );
            }
        };
        self.bump();
        if !self.at_keyword(Keyword::Seconds) {
            return self.unexpected(&format!(
                "SECONDS after WITHIN {} (the only unit is SECONDS)",
                n.value
            ));
        }
        self.bump();
        Ok(QualifierKind::Within(n))
    }

    fn repeats(&mut self) -> Result<QualifierKind> {
        self.bump();
        let tok = self.peek().clone();
        let n = match &tok.kind {
            TokenKind::Int(t) if is_positive(t) => Literal {
                value: Constant::Integer(t.clone()),
                span: tok.span,
            },
            TokenKind::Int(t) | TokenKind::Float(t) => {
                return err(
                    tok.span.start,
                    format!("REPEATS needs a positive whole number of TIMES, not {t}"),
                );
            }
            TokenKind::Error(_) => return self.unexpected(""),
            _ => {
                return err(
                    tok.span.start,
                    format!(
                        "REPEATS needs a positive whole number of TIMES, found {}",
                        describe_found(&tok)
                    ),
                );
            }
        };
        self.bump();
        if !self.at_keyword(Keyword::Times) {
            return self.unexpected(&format!("TIMES after REPEATS {}", n.value));
        }
        self.bump();
        Ok(QualifierKind::Repeats(n))
    }

    fn start_stop(&mut self) -> Result<QualifierKind> {
        self.bump();
        let start = self.qualifier_timestamp("START")?;
        if !self.at_keyword(Keyword::Stop) {
            let tok = self.peek();
            return err(
                tok.span.start,
                format!(
                    "START must come with STOP: expected STOP t'…' after START {}, found {}",
                    start.value,
                    describe_found(tok)
                ),
            );
        }
        self.bump();
        let stop = self.qualifier_timestamp("STOP")?;
        Ok(QualifierKind::StartStop { start, stop })
    }

    fn qualifier_timestamp(&mut self, keyword: &str) -> Result<Literal> {
        let tok = self.peek().clone();
        match tok.kind {
            TokenKind::Timestamp(text, ts) => {
                self.bump();
                Ok(Literal {
                    value: Constant::Timestamp(text, ts),
                    span: tok.span,
                })
            }
            TokenKind::BadTimestamp(text, e) => err(
                tok.span.start,
                format!("the timestamp in {keyword} is invalid: t'{text}' {e}"),
            ),
            TokenKind::Str(s) => err(
                tok.span.start,
                format!(
                    "the timestamp in {keyword} must be a timestamp constant: write t'{s}', not '{s}'"
                ),
            ),
            TokenKind::Error(_) => self.unexpected(""),
            _ => err(
                tok.span.start,
                format!(
                    "{keyword} needs a timestamp constant t'YYYY-MM-DDTHH:mm:ss[.s+]Z', found {}",
                    describe_found(&tok)
                ),
            ),
        }
    }

    /// One precedence level of comparison operators: OR, then AND.
    fn comparison_chain(&mut self, op: BoolOp, after: Option<&str>) -> Result<ComparisonExpr> {
        let keyword = match op {
            BoolOp::Or => Keyword::Or,
            BoolOp::And => Keyword::And,
        };
        let operand = |p: &mut Parser, after: Option<&str>| match op {
            BoolOp::Or => p.comparison_chain(BoolOp::And, after),
            BoolOp::And => p.property_test(after),
        };
        let first = operand(self, after)?;
        if !self.at_keyword(keyword) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at_keyword(keyword) {
            self.bump();
            operands.push(operand(self, Some(op.as_str()))?);
        }
        let span = Span::new(
            operands[0].span.start,
            operands.last().map_or(0, |o| o.span.end),
        );
        Ok(ComparisonExpr {
            kind: ComparisonKind::Binary { op, operands },
            span,
        })
    }

    fn property_test(&mut self, after: Option<&str>) -> Result<ComparisonExpr> {
        let first = self.peek().span;
        match self.peek().kind {
            TokenKind::LParen => {
                self.enter(first.start)?;
                self.bump();
                let inner = self.comparison_chain(BoolOp::Or, None)?;
                if self.peek().kind != TokenKind::RParen {
                    return self.unexpected(&format!(
                        "')' to close the parenthesis opened at character {}",
                        first.start + 1
                    ));
                }
                self.bump();
                self.depth -= 1;
                Ok(ComparisonExpr {
                    kind: ComparisonKind::Group(Box::new(inner)),
                    span: Span::new(first.start, self.prev_end()),
                })
            }
            TokenKind::Keyword(keyword @ (Keyword::Exists | Keyword::Not)) => {
                let negated = keyword == Keyword::Not;
                if negated {
                    self.bump();
                    if !self.at_keyword(Keyword::Exists) {
                        return self.unexpected(
                            "EXISTS after a leading NOT (elsewhere NOT goes between the object path and the operator)",
                        );
                    }
                }
                let exists = self.bump();
                let path = self.object_path()?;
                let span = Span::new(first.start, path.span.end);
                Ok(ComparisonExpr {
                    kind: ComparisonKind::Test(Box::new(Comparison {
                        path,
                        negated,
                        op: Operator::Exists,
                        op_span: Span::new(first.start, exists.end),
                        value: None,
                        span,
                    })),
                    span,
                })
            }
            TokenKind::Ident { .. } => {
                let path = self.object_path()?;
                let (negated, op, op_span) = self.operator(&path)?;
                let value = self.operand(op)?;
                let span = Span::new(path.span.start, value.span().end);
                Ok(ComparisonExpr {
                    kind: ComparisonKind::Test(Box::new(Comparison {
                        path,
                        negated,
                        op,
                        op_span,
                        value: Some(value),
                        span,
                    })),
                    span,
                })
            }
            _ => self.unexpected(&match after {
                Some(op) => format!("a comparison after {op}"),
                None => "a comparison such as file:name = 'x'".to_string(),
            }),
        }
    }

    fn operator(&mut self, path: &ObjectPath) -> Result<(bool, Operator, Span)> {
        let start = self.peek().span.start;
        let negated = self.at_keyword(Keyword::Not);
        if negated {
            self.bump();
        }
        let tok = self.peek().clone();
        let op = match &tok.kind {
            TokenKind::Op(o) => {
                let op = match *o {
                    "=" | "==" => Operator::Eq,
                    "!=" | "<>" => Operator::Ne,
                    "<" => Operator::Lt,
                    "<=" => Operator::Le,
                    ">" => Operator::Gt,
                    _ => Operator::Ge,
                };
                if *o == "==" || *o == "<>" {
                    self.notes.push(Note {
                        offset: tok.span.start,
                        message: format!(
                            "'{o}' is accepted by the STIX grammar but the specification writes '{}'",
                            op.as_str()
                        ),
                    });
                }
                // A stray character glued to the operator ('=?', '=~') makes an unknown operator.
                if let Some(next) = self.tokens.get(self.pos + 1)
                    && next.span.start == tok.span.end
                    && let TokenKind::Error(_) | TokenKind::Punct('^' | '/') = next.kind
                {
                    return err(
                        tok.span.start,
                        format!("unknown operator '{o}{}'", glued_text(&next.kind)),
                    );
                }
                op
            }
            TokenKind::Keyword(Keyword::In) => Operator::In,
            TokenKind::Keyword(Keyword::Like) => Operator::Like,
            TokenKind::Keyword(Keyword::Matches) => Operator::Matches,
            TokenKind::Keyword(Keyword::IsSubset) => Operator::IsSubset,
            TokenKind::Keyword(Keyword::IsSuperset) => Operator::IsSuperset,
            TokenKind::Keyword(Keyword::Exists) => {
                return err(
                    tok.span.start,
                    format!("EXISTS goes before the object path: write EXISTS {path}"),
                );
            }
            TokenKind::Ident { text, .. } => {
                let message = match Keyword::upper_case_of(text) {
                    Some(k) => format!("unknown operator '{text}': operators are upper case ({k})"),
                    None => format!(
                        "unknown operator '{text}': expected =, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET or ISSUPERSET"
                    ),
                };
                return err(tok.span.start, message);
            }
            TokenKind::Error(_) if tok.span.end == tok.span.start + 1 => {
                return err(
                    tok.span.start,
                    format!("unknown operator '{}'", glued_text(&tok.kind)),
                );
            }
            TokenKind::Punct(c) => {
                return err(tok.span.start, format!("unknown operator '{c}'"));
            }
            _ => {
                return self.unexpected(&format!(
                    "a comparison operator after {path} (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)"
                ));
            }
        };
        self.bump();
        Ok((negated, op, Span::new(start, tok.span.end)))
    }

    fn operand(&mut self, op: Operator) -> Result<Operand> {
        let tok = self.peek().clone();
        match op {
            Operator::In => {
                if tok.kind != TokenKind::LParen {
                    if let Some(c) = self.constant() {
                        return err(
                            tok.span.start,
                            format!(
                                "IN needs a set constant in parentheses, such as ({}), not {}",
                                c.value,
                                c.value.describe()
                            ),
                        );
                    }
                    return self
                        .unexpected("a set constant in parentheses after IN, such as ('a', 'b')");
                }
                self.set(tok.span.start)
            }
            Operator::Like | Operator::Matches | Operator::IsSubset | Operator::IsSuperset => {
                let what = match op {
                    Operator::Like => "LIKE needs a string (an SQL LIKE pattern in quotes)",
                    Operator::Matches => "MATCHES needs a string (a regular expression in quotes)",
                    Operator::IsSubset => {
                        "ISSUBSET needs a string (an address or CIDR range in quotes)"
                    }
                    _ => "ISSUPERSET needs a string (an address or CIDR range in quotes)",
                };
                match self.constant() {
                    Some(l) if matches!(l.value, Constant::String(_)) => Ok(Operand::Constant(l)),
                    Some(l) => err(l.span.start, format!("{what}, not {}", l.value.describe())),
                    None => match self.peek().kind {
                        TokenKind::Error(_) | TokenKind::BadTimestamp(..) => self.unexpected(""),
                        _ => err(
                            tok.span.start,
                            format!("{what}, found {}", describe_found(&tok)),
                        ),
                    },
                }
            }
            _ => match self.constant() {
                Some(l) if op.is_ordering() && matches!(l.value, Constant::Boolean(_)) => err(
                    l.span.start,
                    format!(
                        "'{}' cannot compare with a boolean: only = and != apply to true and false",
                        op.as_str()
                    ),
                ),
                Some(l) => Ok(Operand::Constant(l)),
                None if tok.kind == TokenKind::LParen => err(
                    tok.span.start,
                    format!("a set constant needs IN, not '{}'", op.as_str()),
                ),
                None => self.unexpected(&format!("a constant after '{}'", op.as_str())),
            },
        }
    }

    /// The current token as a constant, consumed; `None` (nothing consumed) otherwise.
    fn constant(&mut self) -> Option<Literal> {
        let value = match &self.peek().kind {
            TokenKind::Str(s) => Constant::String(s.clone()),
            TokenKind::Int(t) => Constant::Integer(t.clone()),
            TokenKind::Float(t) => Constant::Float(t.clone()),
            TokenKind::Bool(b) => Constant::Boolean(*b),
            TokenKind::Timestamp(t, ts) => Constant::Timestamp(t.clone(), *ts),
            TokenKind::Binary(t) => Constant::Binary(t.clone()),
            TokenKind::Hex(t) => Constant::Hex(t.clone()),
            _ => return None,
        };
        let span = self.bump();
        Some(Literal { value, span })
    }

    fn set(&mut self, open: usize) -> Result<Operand> {
        self.bump();
        let mut items = Vec::new();
        if self.peek().kind != TokenKind::RParen {
            loop {
                match self.constant() {
                    Some(l) => items.push(l),
                    None if items.is_empty() => {
                        return self.unexpected(&format!(
                            "a constant or ')' in the set opened at character {}",
                            open + 1
                        ));
                    }
                    None => return self.unexpected("a constant after ',' in the set"),
                }
                if self.peek().kind != TokenKind::Comma {
                    break;
                }
                self.bump();
            }
        }
        if self.peek().kind != TokenKind::RParen {
            return self.unexpected(&format!(
                "',' or ')' to close the set opened at character {}",
                open + 1
            ));
        }
        self.bump();
        Ok(Operand::Set {
            items,
            span: Span::new(open, self.prev_end()),
        })
    }

    fn object_path(&mut self) -> Result<ObjectPath> {
        let TokenKind::Ident {
            text: object_type, ..
        } = &self.peek().kind
        else {
            return self.unexpected("an object path such as file:name");
        };
        let object_type = object_type.clone();
        let type_span = self.bump();
        if self.peek().kind != TokenKind::Colon {
            return self.unexpected(&format!(
                "':' between the object type and the property, as in {object_type}:name"
            ));
        }
        self.bump();
        let mut steps = vec![self.path_key(|| format!("a property name after '{object_type}:'"))?];
        loop {
            match self.peek().kind {
                TokenKind::Dot => {
                    self.bump();
                    steps.push(
                        self.path_key(|| "a property name or quoted key after '.'".to_owned())?,
                    );
                }
                TokenKind::LBrack => {
                    let open = self.bump();
                    let idx = self.peek().clone();
                    let kind = match &idx.kind {
                        TokenKind::Star => StepKind::AnyIndex,
                        TokenKind::Int(t) if t.starts_with('-') => {
                            return err(
                                idx.span.start,
                                format!("list index {t} must not be negative"),
                            );
                        }
                        TokenKind::Int(t) => match t.parse::<u64>() {
                            Ok(n) => StepKind::Index(n),
                            Err(_) => {
                                return err(idx.span.start, format!("list index {t} is too large"));
                            }
                        },
                        _ => return self.unexpected("a list index or '*' inside '[ ]'"),
                    };
                    self.bump();
                    if self.peek().kind != TokenKind::RBrack {
                        return self.unexpected(&format!(
                            "']' to close the list index opened at character {}",
                            open.start + 1
                        ));
                    }
                    self.bump();
                    steps.push(PathStep {
                        kind,
                        span: Span::new(open.start, self.prev_end()),
                    });
                }
                _ => break,
            }
        }
        Ok(ObjectPath {
            object_type,
            type_span,
            steps,
            span: Span::new(type_span.start, self.prev_end()),
        })
    }

    /// A property name or quoted key; `expected` says what was expected when it is neither
    /// (built only then: this runs for every step of every path).
    fn path_key(&mut self, expected: impl FnOnce() -> String) -> Result<PathStep> {
        let tok = self.peek();
        let key = match &tok.kind {
            TokenKind::Ident {
                text,
                hyphen: false,
            } => text.clone(),
            TokenKind::Str(s) => s.clone(),
            TokenKind::Ident { text, hyphen: true } => {
                return err(
                    tok.span.start,
                    format!("a property name cannot contain '-' unless quoted: write '{text}'"),
                );
            }
            TokenKind::Keyword(k) => {
                return err(
                    tok.span.start,
                    format!(
                        "{} is a keyword and cannot be a property name unless quoted: write '{}'",
                        k.as_str(),
                        k.as_str()
                    ),
                );
            }
            TokenKind::Bool(b) => {
                return err(
                    tok.span.start,
                    format!(
                        "{b} is a keyword and cannot be a property name unless quoted: write '{b}'"
                    ),
                );
            }
            _ => return self.unexpected(&expected()),
        };
        let span = self.bump();
        Ok(PathStep {
            kind: StepKind::Key(key),
            span,
        })
    }
}

/// The text of a token glued after an operator, for "unknown operator" messages.
fn glued_text(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Punct(c) => c.to_string(),
        TokenKind::Error(m) => m
            .strip_prefix('\'')
            .and_then(|r| r.split('\'').next())
            .unwrap_or("?")
            .to_string(),
        _ => String::new(),
    }
}
