//! A JSON tree that remembers where each node was written.
//!
//! Policies reach the engine from many places: a `.json` file, the `policyText` string of
//! `aws ecr get-repository-policy`, a Terraform `jsonencode(...)`, a CloudFormation map. Each
//! source builds this tree (with spans into its own text, or none), so the grammar and the
//! analysis are written once. `serde_json` drops positions, hence this small parser.
//!
//! The parser is strict JSON (RFC 8259) with two safety limits: nesting depth and input size
//! are bounded so that hostile input yields an error instead of a stack overflow.

use std::fmt;

/// Byte range `start..end` in the text the tree was parsed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }
    /// The smallest span covering both.
    #[must_use]
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A JSON value with an optional source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it was written, when it came from text.
    pub span: Option<Span>,
}

/// One `"key": value` pair of an object, in source order (duplicates kept).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Where the key was written.
    pub key_span: Option<Span>,
    /// The value.
    pub value: Node,
}

/// JSON values, plus `Unknown` for parts a source could not resolve (a Terraform variable
/// without a value, a CloudFormation `Fn::GetAtt`...). Analysis never treats `Unknown` as
/// absent: it makes the verdict incomplete instead.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as written (`10`, `1.5e3`).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Node>),
    /// An object with members in source order.
    Object(Vec<Member>),
    /// A value the source could not resolve; the text says why.
    Unknown(String),
    /// A string the source knows only in part.
    Partial(crate::partial::Partial),
}

impl Node {
    /// A node without a span (for values built by sources, not parsed).
    #[must_use]
    pub fn new(value: Value) -> Self {
        Self { value, span: None }
    }

    /// A string node without a span.
    #[must_use]
    pub fn string(s: impl Into<String>) -> Self {
        Self::new(Value::String(s.into()))
    }

    /// The members when this is an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The string when this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The last member named exactly `key` (JSON parsers keep the last duplicate).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_object()?
            .iter()
            .rev()
            .find(|m| m.key == key)
            .map(|m| &m.value)
    }

    /// Drops every position in the tree (for a tree parsed from text embedded elsewhere, whose
    /// offsets are not the embedding file's). Iterative: the tree may be deep.
    pub fn strip_spans(&mut self) {
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            n.span = None;
            match &mut n.value {
                Value::Array(items) => stack.extend(items.iter_mut()),
                Value::Object(members) => {
                    for m in members {
                        m.key_span = None;
                        stack.push(&mut m.value);
                    }
                }
                _ => {}
            }
        }
    }

    /// Replaces every string `f` gives a new value for (iteratively: the tree may be deep).
    pub fn map_strings(&mut self, f: impl Fn(&str) -> Option<Value>) {
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            if let Value::String(s) = &n.value {
                if let Some(v) = f(s) {
                    n.value = v;
                }
                continue;
            }
            match &mut n.value {
                Value::Array(items) => stack.extend(items.iter_mut()),
                Value::Object(members) => stack.extend(members.iter_mut().map(|m| &mut m.value)),
                _ => {}
            }
        }
    }

    /// Serializes back to compact JSON (used for sizes and for showing values).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        write_json(self, &mut out);
        out
    }

    /// A short name of the kind of value, for messages.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
            Value::Unknown(_) => "an unresolved value",
            Value::Partial(_) => "a partly unresolved string",
        }
    }
}

fn write_json(node: &Node, out: &mut String) {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(n),
        Value::String(s) => write_json_string(s, out),
        Value::Partial(p) => write_json_string(&p.shown(), out),
        Value::Unknown(why) => {
            out.push_str("\"${unknown: ");
            out.push_str(&why.replace('"', "'"));
            out.push_str("}\"");
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(&m.key, out);
                out.push(':');
                write_json(&m.value, out);
            }
            out.push('}');
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_string(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// Byte offset of the problem.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Deepest nesting accepted. Real policies nest 5 levels; 128 matches `serde_json`.
pub const MAX_DEPTH: usize = 128;

/// Parses JSON text into a spanned tree.
///
/// # Errors
/// When the text is not a single valid JSON value, or nests deeper than [`MAX_DEPTH`].
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        pos: 0,
    };
    // A UTF-8 byte order mark is tolerated: files saved by Windows editors carry one.
    if text.starts_with('\u{feff}') {
        p.pos = 3;
    }
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos != p.src.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(node)
}

struct Parser<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> JsonError {
        JsonError {
            message: message.into(),
            offset: self.pos,
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("JSON nests deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        let value = match self.src.get(self.pos) {
            None => return Err(self.err("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => {
                let c = self.text[self.pos..].chars().next().unwrap_or('?');
                return Err(self.err(format!("unexpected character `{c}`, expected a value")));
            }
        };
        Ok(Node {
            value,
            span: Some(Span::new(start, self.pos)),
        })
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal, expected `true`, `false` or `null`"))
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.src.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.src.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        if self.src.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !matches!(self.src.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number: expected digits after `.`"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.src.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.src.get(self.pos) {
                self.pos += 1;
            }
            if !matches!(self.src.get(self.pos), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number: expected digits in the exponent"));
            }
            self.digits();
        }
        Ok(Value::Number(self.text[start..self.pos].to_string()))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        debug_assert_eq!(self.src[self.pos], b'"');
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.src.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.src.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("control character inside a string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(&b) = self.src.get(self.pos) else {
            return Err(self.err("unterminated escape"));
        };
        self.pos += 1;
        match b {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = self.hex4()?;
                let c = if (0xD800..0xDC00).contains(&hi) {
                    if self.src[self.pos..].starts_with(b"\\u") {
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(self.err("invalid low surrogate in \\u escape"));
                        }
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    } else {
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                // A lone surrogate is not a character; keep going with U+FFFD like most
                // decoders do rather than refusing an otherwise fine document.
                out.push(c.unwrap_or('\u{fffd}'));
            }
            _ => return Err(self.err("invalid escape sequence")),
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .src
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("truncated \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid hex digit in \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.src.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.src.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.src.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.src.get(self.pos) != Some(&b'"') {
                return Err(self.err("expected a string key in object"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.src.get(self.pos) != Some(&b':') {
                return Err(self.err("expected `:` after object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                key_span: Some(key_span),
                value,
            });
            self.skip_ws();
            match self.src.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.err("expected `,` or `}` in object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_with_spans() {
        let text = r#" {"a": [1, -2.5e3, true, null], "b": "x\"\u00e9\ud83d\ude00"} "#;
        let n = parse(text).unwrap();
        assert_eq!(n.span, Some(Span::new(1, text.len() - 1)));
        let a = n.get("a").unwrap();
        assert_eq!(
            &text[a.span.unwrap().start as usize..a.span.unwrap().end as usize],
            "[1, -2.5e3, true, null]"
        );
        assert_eq!(n.get("b").unwrap().as_str(), Some("x\"é😀"));
    }

    #[test]
    fn rejects_bad_json_with_offsets() {
        for (text, offset) in [
            ("{", 1),
            ("{\"a\" 1}", 5),
            ("[1,]", 3),
            ("01", 1),
            ("\"\\x\"", 3),
            ("{} x", 3),
            ("", 0),
            ("tru", 0),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.offset, offset, "{text:?}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("deeper"), "{e}");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn last_duplicate_key_wins_like_other_parsers() {
        let n = parse(r#"{"Effect":"Deny","Effect":"Allow"}"#).unwrap();
        assert_eq!(n.get("Effect").unwrap().as_str(), Some("Allow"));
        assert_eq!(n.as_object().unwrap().len(), 2);
    }

    #[test]
    fn round_trips_compactly() {
        let n = parse("{ \"a\" : [ 1 , \"\\n\" ] }").unwrap();
        assert_eq!(n.to_json(), r#"{"a":[1,"\n"]}"#);
    }
}
