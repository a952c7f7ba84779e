//! The tokens of the STIX patterning grammar, with character offsets.
//!
//! The rules follow the OASIS ANTLR grammar for STIX 2.1 (the one
//! stix2-patterns is generated from): case-sensitive keywords, `'…'` strings
//! with only `\'` and `\\` escapes, `t'…'`/`b'…'`/`h'…'` typed constants,
//! `/* */` and `//` comments, and the Unicode whitespace set of that grammar.
//! Lexing stops at the first bad token, which becomes an [`TokenKind::Error`].

use super::ast::Span;
use crate::timestamp::{Timestamp, TimestampError};

/// A keyword of the grammar (exact upper case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

impl Keyword {
    const ALL: &'static [(&'static str, Keyword)] = &[
        ("AND", Keyword::And),
        ("OR", Keyword::Or),
        ("NOT", Keyword::Not),
        ("FOLLOWEDBY", Keyword::FollowedBy),
        ("LIKE", Keyword::Like),
        ("MATCHES", Keyword::Matches),
        ("ISSUPERSET", Keyword::IsSuperset),
        ("ISSUBSET", Keyword::IsSubset),
        ("EXISTS", Keyword::Exists),
        ("LAST", Keyword::Last),
        ("IN", Keyword::In),
        ("START", Keyword::Start),
        ("STOP", Keyword::Stop),
        ("SECONDS", Keyword::Seconds),
        ("WITHIN", Keyword::Within),
        ("REPEATS", Keyword::Repeats),
        ("TIMES", Keyword::Times),
    ];

    fn from_word(word: &str) -> Option<Keyword> {
        Self::ALL.iter().find(|(w, _)| *w == word).map(|&(_, k)| k)
    }

    /// The keyword written in upper case when `word` is one in another case.
    pub fn upper_case_of(word: &str) -> Option<&'static str> {
        Self::ALL
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|&(w, _)| w)
    }

    /// How it is written.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|&&(_, k)| k == self)
            .map_or("", |&(w, _)| w)
    }
}

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// `[`
    LBrack,
    /// `]`
    RBrack,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `:`
    Colon,
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `*`
    Star,
    /// `=`, `!=`, `<`… ; the text as written (`==` and `<>` included).
    Op(&'static str),
    /// A keyword.
    Keyword(Keyword),
    /// `true` or `false`.
    Bool(bool),
    /// A bare identifier; `hyphen` tells whether it contains `-` (allowed in type names only).
    Ident {
        /// Its text.
        text: String,
        /// Whether it contains a hyphen.
        hyphen: bool,
    },
    /// A string constant, unescaped.
    Str(String),
    /// An integer: canonical text (no `+`).
    Int(String),
    /// A float: canonical text (no `+`).
    Float(String),
    /// `t'…'`.
    Timestamp(String, Timestamp),
    /// `t'…'` whose text is not a STIX timestamp: the text and why.
    BadTimestamp(String, TimestampError),
    /// `b'…'`.
    Binary(String),
    /// `h'…'`.
    Hex(String),
    /// Any other single character the grammar knows but never accepts here (`+`, `-`, `^`, `/`).
    Punct(char),
    /// A lexical error; the message says what is wrong.
    Error(String),
    /// The end of the pattern.
    Eof,
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

impl TokenKind {
    /// How the token reads in a message ("']'", "the end of the pattern", "'foo'").
    pub fn describe(&self) -> String {
        match self {
            TokenKind::LBrack => "'['".into(),
            TokenKind::RBrack => "']'".into(),
            TokenKind::LParen => "'('".into(),
            TokenKind::RParen => "')'".into(),
            TokenKind::Colon => "':'".into(),
            TokenKind::Dot => "'.'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::Star => "'*'".into(),
            TokenKind::Op(o) => format!("'{o}'"),
            TokenKind::Keyword(k) => k.as_str().to_string(),
            TokenKind::Bool(b) => b.to_string(),
            TokenKind::Ident { text, .. } => format!("'{text}'"),
            TokenKind::Str(s) => format!("the string '{s}'"),
            TokenKind::Int(t) | TokenKind::Float(t) => format!("the number {t}"),
            TokenKind::Timestamp(t, _) | TokenKind::BadTimestamp(t, _) => {
                format!("the timestamp t'{t}'")
            }
            TokenKind::Binary(t) => format!("the binary constant b'{t}'"),
            TokenKind::Hex(t) => format!("the hex constant h'{t}'"),
            TokenKind::Punct(c) => format!("'{c}'"),
            TokenKind::Error(m) => m.clone(),
            TokenKind::Eof => "the end of the pattern".into(),
        }
    }
}

/// Whitespace as the grammar's WS rule defines it.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\r' | '\n' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn skip_trivia(&mut self) {
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(c), _) if is_space(c) => self.pos += 1,
                (Some('/'), Some('*')) => {
                    // An unterminated comment is left for the '/' token to report.
                    let body = self.pos + 2;
                    let close = (body..self.chars.len().saturating_sub(1))
                        .find(|&i| self.chars[i] == '*' && self.chars[i + 1] == '/');
                    match close {
                        Some(i) => self.pos = i + 2,
                        None => return,
                    }
                }
                (Some('/'), Some('/')) => {
                    while let Some(c) = self.peek(0) {
                        if c == '\r' || c == '\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => return,
            }
        }
    }

    /// Reads `'…'` starting at the quote; returns the raw text between the quotes
    /// (no escapes: typed constants have none) or `None` if it never closes.
    fn raw_quoted(&mut self) -> Option<String> {
        let body = self.pos + 1;
        let close = (body..self.chars.len()).find(|&i| self.chars[i] == '\'')?;
        self.pos = close + 1;
        Some(self.chars[body..close].iter().collect())
    }

    /// A string token, and where an error in it is (the bad escape, or the opening quote).
    fn string(&mut self, start: usize) -> (TokenKind, usize) {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return (
                        TokenKind::Error(format!(
                            "the string opened at character {} is never closed with '",
                            start + 1
                        )),
                        start,
                    );
                }
                Some('\'') => {
                    self.pos += 1;
                    return (TokenKind::Str(out), start);
                }
                Some('\\') => match self.peek(1) {
                    Some(c @ ('\'' | '\\')) => {
                        out.push(c);
                        self.pos += 2;
                    }
                    Some(c) => {
                        let at = self.pos;
                        self.pos += 2;
                        return (
                            TokenKind::Error(format!(
                                "'\\{c}' is not an escape a string may contain; only \\' and \\\\ are"
                            )),
                            at,
                        );
                    }
                    None => {
                        return (
                            TokenKind::Error(format!(
                                "the string opened at character {} is never closed with '",
                                start + 1
                            )),
                            start,
                        );
                    }
                },
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn typed(&mut self, prefix: char, start: usize) -> TokenKind {
        self.pos += 1;
        let Some(text) = self.raw_quoted() else {
            return TokenKind::Error(format!(
                "the {prefix}'…' constant opened at character {} is never closed with '",
                start + 1
            ));
        };
        match prefix {
            't' => match Timestamp::parse(&text) {
                Ok(ts) => TokenKind::Timestamp(text, ts),
                Err(e) => TokenKind::BadTimestamp(text, e),
            },
            'b' => {
                if crate::validate::is_base64(&text) {
                    TokenKind::Binary(text)
                } else {
                    TokenKind::Error(format!(
                        "b'{text}' is not valid base64 (groups of four characters of A-Z a-z 0-9 + /, '=' padding only at the end)"
                    ))
                }
            }
            _ => {
                if !text.chars().all(|c| c.is_ascii_hexdigit()) {
                    TokenKind::Error(format!(
                        "h'{text}' may contain only hexadecimal digits 0-9 a-f A-F"
                    ))
                } else if !text.len().is_multiple_of(2) {
                    TokenKind::Error(format!(
                        "h'{text}' must have an even number of hexadecimal digits (two per byte)"
                    ))
                } else {
                    TokenKind::Hex(text)
                }
            }
        }
    }

    fn number(&mut self) -> TokenKind {
        let start = self.pos;
        let negative = self.peek(0) == Some('-');
        if matches!(self.peek(0), Some('+' | '-')) {
            self.pos += 1;
        }
        let int_start = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let int_digits: String = self.chars[int_start..self.pos].iter().collect();
        let sign = if negative { "-" } else { "" };
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            while self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let frac: String = self.chars[int_start..self.pos].iter().collect();
            return TokenKind::Float(format!("{sign}{frac}"));
        }
        if int_digits.is_empty() {
            self.pos = start + 1;
            return TokenKind::Punct(self.chars[start]);
        }
        if int_digits.len() > 1 && int_digits.starts_with('0') {
            return TokenKind::Error(format!(
                "{int_digits} is not a number the grammar allows: integers have no leading zeros"
            ));
        }
        if self.peek(0) == Some('.') {
            return TokenKind::Error(format!(
                "{int_digits}. is not a number: a float needs digits after the '.'"
            ));
        }
        // The grammar needs no space between tokens ("5SECONDS" lexes as two),
        // but a number glued to anything other than a keyword is a typo.
        let glued: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '-')
            .collect();
        if !glued.is_empty() && Keyword::from_word(&glued).is_none() {
            return TokenKind::Error(format!(
                "a number cannot be followed directly by '{}' (no exponents or suffixes)",
                self.peek(0).unwrap_or('_')
            ));
        }
        TokenKind::Int(format!("{sign}{int_digits}"))
    }

    fn next(&mut self) -> Token {
        self.skip_trivia();
        let start = self.pos;
        let Some(c) = self.peek(0) else {
            return Token {
                kind: TokenKind::Eof,
                span: Span::new(start, start),
            };
        };
        let single = |kind| (kind, 1usize);
        let (kind, len) = match (c, self.peek(1)) {
            ('[', _) => single(TokenKind::LBrack),
            (']', _) => single(TokenKind::RBrack),
            ('(', _) => single(TokenKind::LParen),
            (')', _) => single(TokenKind::RParen),
            (':', _) => single(TokenKind::Colon),
            (',', _) => single(TokenKind::Comma),
            ('*', _) => single(TokenKind::Star),
            ('=', Some('=')) => (TokenKind::Op("=="), 2),
            ('=', _) => single(TokenKind::Op("=")),
            ('!', Some('=')) => (TokenKind::Op("!="), 2),
            ('<', Some('>')) => (TokenKind::Op("<>"), 2),
            ('<', Some('=')) => (TokenKind::Op("<="), 2),
            ('<', _) => single(TokenKind::Op("<")),
            ('>', Some('=')) => (TokenKind::Op(">="), 2),
            ('>', _) => single(TokenKind::Op(">")),
            ('.', Some(d)) if d.is_ascii_digit() => {
                let kind = self.number();
                return self.finish(kind, start);
            }
            ('.', _) => single(TokenKind::Dot),
            ('\'', _) => {
                let (kind, at) = self.string(start);
                return self.finish(kind, at);
            }
            ('+' | '-' | '0'..='9', _) => {
                let kind = self.number();
                return self.finish(kind, start);
            }
            ('t' | 'b' | 'h', Some('\'')) => {
                let kind = self.typed(c, start);
                return self.finish(kind, start);
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let kind = self.word();
                return self.finish(kind, start);
            }
            ('^' | '/', _) => single(TokenKind::Punct(c)),
            (c, _) => single(TokenKind::Error(format!(
                "'{}' is not a character the pattern grammar uses here",
                c.escape_debug()
            ))),
        };
        self.pos += len;
        self.finish(kind, start)
    }

    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if let Some(k) = Keyword::from_word(&text) {
            return TokenKind::Keyword(k);
        }
        match text.as_str() {
            "true" => TokenKind::Bool(true),
            "false" => TokenKind::Bool(false),
            _ => TokenKind::Ident {
                hyphen: text.contains('-'),
                text,
            },
        }
    }

    fn finish(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            span: Span::new(start, self.pos.max(start)),
        }
    }
}

/// Splits a pattern into tokens, ending with [`TokenKind::Eof`] or, at the first
/// lexical error, with a [`TokenKind::Error`].
pub fn tokenize(pattern: &str) -> Vec<Token> {
    // Sized up front: `collect` would grow from a quarter of the byte length, and a
    // typical indicator's pattern has about ten tokens.
    let mut chars = Vec::with_capacity(pattern.len());
    chars.extend(pattern.chars());
    let mut lexer = Lexer { chars, pos: 0 };
    let mut out = Vec::with_capacity(16);
    loop {
        let token = lexer.next();
        let stop = matches!(token.kind, TokenKind::Eof | TokenKind::Error(_));
        out.push(token);
        if stop {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        tokenize(s).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("1 +2 -3 .5 -0.25 +1.5"),
            vec![
                TokenKind::Int("1".into()),
                TokenKind::Int("2".into()),
                TokenKind::Int("-3".into()),
                TokenKind::Float(".5".into()),
                TokenKind::Float("-0.25".into()),
                TokenKind::Float("1.5".into()),
                TokenKind::Eof
            ]
        );
        assert!(matches!(kinds("01")[0], TokenKind::Error(_)));
        assert!(matches!(kinds("1.")[0], TokenKind::Error(_)));
        assert!(matches!(kinds("1e5")[0], TokenKind::Error(_)));
        assert_eq!(
            kinds("5SECONDS"),
            vec![
                TokenKind::Int("5".into()),
                TokenKind::Keyword(Keyword::Seconds),
                TokenKind::Eof
            ]
        );
        assert_eq!(kinds("- 1")[0], TokenKind::Punct('-'));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            kinds(r"'it\'s \\ ok'")[0],
            TokenKind::Str(r"it's \ ok".into())
        );
        let TokenKind::Error(m) = &kinds(r"'a\nb'")[0] else {
            panic!()
        };
        assert_eq!(
            m,
            r"'\n' is not an escape a string may contain; only \' and \\ are"
        );
        let TokenKind::Error(m) = &kinds("'abc")[0] else {
            panic!()
        };
        assert_eq!(m, "the string opened at character 1 is never closed with '");
    }

    #[test]
    fn typed_constants() {
        assert!(matches!(
            &kinds("t'2020-01-01T00:00:00Z'")[0],
            TokenKind::Timestamp(t, _) if t == "2020-01-01T00:00:00Z"
        ));
        assert_eq!(
            kinds("t'2020-02-30T00:00:00Z'")[0],
            TokenKind::BadTimestamp("2020-02-30T00:00:00Z".into(), TimestampError::Range("day"))
        );
        assert!(matches!(
            &kinds("t'2020-01-01T00:00:00.Z'")[0],
            TokenKind::BadTimestamp(..)
        ));
        assert_eq!(kinds("b'AAAA'")[0], TokenKind::Binary("AAAA".into()));
        assert_eq!(kinds("b'AA=='")[0], TokenKind::Binary("AA==".into()));
        assert!(matches!(&kinds("b'AAA'")[0], TokenKind::Error(_)));
        assert!(matches!(&kinds("b''")[0], TokenKind::Error(_)));
        assert!(matches!(&kinds("b'A==='")[0], TokenKind::Error(_)));
        assert_eq!(kinds("h''")[0], TokenKind::Hex(String::new()));
        assert_eq!(kinds("h'0aFF'")[0], TokenKind::Hex("0aFF".into()));
        assert!(matches!(&kinds("h'0'")[0], TokenKind::Error(_)));
        assert!(matches!(&kinds("h'zz'")[0], TokenKind::Error(_)));
    }

    #[test]
    fn words_keywords_and_comments() {
        assert_eq!(
            kinds("AND and true TRUE x-foo /* c */ name // rest"),
            vec![
                TokenKind::Keyword(Keyword::And),
                TokenKind::Ident {
                    text: "and".into(),
                    hyphen: false
                },
                TokenKind::Bool(true),
                TokenKind::Ident {
                    text: "TRUE".into(),
                    hyphen: false
                },
                TokenKind::Ident {
                    text: "x-foo".into(),
                    hyphen: true
                },
                TokenKind::Ident {
                    text: "name".into(),
                    hyphen: false
                },
                TokenKind::Eof
            ]
        );
        assert_eq!(Keyword::upper_case_of("within"), Some("WITHIN"));
    }

    #[test]
    fn operators_and_offsets_in_chars() {
        let toks = tokenize("é = == != <> < <= > >=");
        assert!(matches!(toks[0].kind, TokenKind::Error(_)));
        let toks = tokenize("'é' = == != <> < <= > >=");
        let ops: Vec<_> = toks
            .iter()
            .filter_map(|t| match t.kind {
                TokenKind::Op(o) => Some(o),
                _ => None,
            })
            .collect();
        assert_eq!(ops, ["=", "==", "!=", "<>", "<", "<=", ">", ">="]);
        assert_eq!(toks[1].span, Span::new(4, 5));
    }
}
