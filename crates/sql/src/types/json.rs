//! `json` and `jsonb`: parsing, PostgreSQL's output forms, and the operations on documents.
//!
//! Both types are stored as text. A `json` value is its input text, validated, as
//! PostgreSQL keeps it (whitespace, key order and duplicate keys included); parts extracted
//! from it (`->`) are the exact slices of that text. A `jsonb` value is the canonical text of
//! the parsed document, as PostgreSQL prints `jsonb`: object keys sorted by length and then
//! bytewise, the last of duplicate keys kept, numbers as `numeric` prints them, `", "` and
//! `": "` between items. Equal `jsonb` documents therefore have equal text, which is what
//! comparisons and indexes see (their order is the text's, not PostgreSQL's jsonb order).

use std::ops::Range;

use crate::types::DataType;
use crate::{errinput, Result};

/// A parsed document: a value and, when parsed from text, where it lies in that text.
#[derive(Clone, Debug, PartialEq)]
pub struct Json {
    /// The value.
    pub kind: Kind,
    /// Its bytes in the source text (empty for built values).
    pub span: Range<usize>,
}

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written (validated by the JSON grammar).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object's members in source order (duplicates kept, as `json` keeps them).
    Object(Vec<(String, Json)>),
}

/// PostgreSQL reports `jsonb` input errors as `json` ones too.
fn invalid(detail: impl Into<String>) -> crate::Error {
    errinput!(
        InvalidTextRepresentation,
        "invalid input syntax for type json"
    )
    .with_detail(detail.into())
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

/// Deepest nesting accepted (PostgreSQL stops at its stack depth limit).
const MAX_DEPTH: usize = 1000;

impl<'a> Parser<'a> {
    fn skip_space(&mut self) {
        let rest = &self.text[self.at..];
        let trimmed = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        self.at += rest.len() - trimmed.len();
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// The token at the current position, as PostgreSQL's lexer cuts it, and whether it
    /// is a valid JSON token; `None` at the end.
    fn token(&self) -> Option<(&'a str, bool)> {
        let rest = &self.text[self.at..];
        let first = rest.chars().next()?;
        Some(match first {
            '{' | '}' | '[' | ']' | ',' | ':' => (&rest[..1], true),
            '"' => {
                let mut escaped = false;
                for (i, c) in rest.char_indices().skip(1) {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => return Some((&rest[..=i], true)),
                        _ => {}
                    }
                }
                (rest, false)
            }
            _ => {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '+' | '.' | '_')))
                    .unwrap_or(rest.len())
                    .max(first.len_utf8());
                let word = &rest[..end];
                let number = number_len(word.as_bytes()) == Some(word.len());
                (word, number || matches!(word, "true" | "false" | "null"))
            }
        })
    }

    /// PostgreSQL's error for finding something other than `what` here.
    fn expected(&self, what: &str) -> crate::Error {
        match self.token() {
            None => invalid("The input string ended unexpectedly."),
            Some((token, false)) => invalid(format!("Token \"{token}\" is invalid.")),
            Some((token, true)) => invalid(format!("Expected {what}, but found \"{token}\".")),
        }
    }

    fn value(&mut self) -> Result<Json> {
        self.skip_space();
        let start = self.at;
        let kind = match self.peek() {
            Some(b'{') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(errinput!(StatementTooComplex, "stack depth limit exceeded"));
                }
                self.at += 1;
                let mut members = Vec::new();
                self.skip_space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    let mut first = true;
                    loop {
                        self.skip_space();
                        if self.peek() != Some(b'"') {
                            return Err(self.expected(if first {
                                "string or \"}\""
                            } else {
                                "string"
                            }));
                        }
                        first = false;
                        let key = self.string()?;
                        self.skip_space();
                        if self.peek() != Some(b':') {
                            return Err(self.expected("\":\""));
                        }
                        self.at += 1;
                        let value = self.value()?;
                        members.push((key, value));
                        self.skip_space();
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.expected("\",\" or \"}\"")),
                        }
                    }
                }
                self.depth -= 1;
                Kind::Object(members)
            }
            Some(b'[') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(errinput!(StatementTooComplex, "stack depth limit exceeded"));
                }
                self.at += 1;
                let mut items = Vec::new();
                self.skip_space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.skip_space();
                        match self.peek() {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                break;
                            }
                            _ => return Err(self.expected("\",\" or \"]\"")),
                        }
                    }
                }
                self.depth -= 1;
                Kind::Array(items)
            }
            Some(b'"') => Kind::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            Some(_) => {
                let rest = &self.text[self.at..];
                let word = rest
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(rest, |end| &rest[..end]);
                let kind = match word {
                    "null" => Kind::Null,
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    _ => return Err(self.expected("JSON value")),
                };
                self.at += word.len();
                kind
            }
            None => return Err(self.expected("JSON value")),
        };
        Ok(Json {
            kind,
            span: start..self.at,
        })
    }

    fn number(&mut self) -> Result<String> {
        match number_len(&self.text.as_bytes()[self.at..]) {
            Some(n) => {
                let start = self.at;
                self.at += n;
                Ok(self.text[start..self.at].to_string())
            }
            None => Err(self.expected("JSON value")),
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let hex = self.text.get(self.at..self.at + 4).unwrap_or("");
        match u32::from_str_radix(hex, 16) {
            Ok(v) if hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.at += 4;
                Ok(v)
            }
            _ => Err(invalid(
                "\"\\u\" must be followed by four hexadecimal digits.",
            )),
        }
    }

    fn string(&mut self) -> Result<String> {
        let start = self.at;
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            let rest = &self.text[self.at..];
            let Some(c) = rest.chars().next() else {
                let token = &self.text[start..];
                return Err(invalid(format!("Token \"{token}\" is invalid.")));
            };
            self.at += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.text[self.at..].chars().next() else {
                        return Err(invalid("The input string ended unexpectedly."));
                    };
                    self.at += e.len_utf8();
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) {
                                if !self.text[self.at..].starts_with("\\u") {
                                    return Err(invalid(
                                        "Unicode high surrogate must not be followed by another high surrogate.",
                                    ));
                                }
                                self.at += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(invalid(
                                        "Unicode low surrogate must follow a high surrogate.",
                                    ));
                                }
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            } else if (0xDC00..0xE000).contains(&code) {
                                return Err(invalid(
                                    "Unicode low surrogate must follow a high surrogate.",
                                ));
                            }
                            if code == 0 {
                                return Err(errinput!(
                                    UntranslatableCharacter,
                                    "unsupported Unicode escape sequence"
                                )
                                .with_detail("\\u0000 cannot be converted to text."));
                            }
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                        other => {
                            return Err(invalid(format!(
                                "Escape sequence \"\\{other}\" is invalid."
                            )))
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(invalid(format!(
                        "Character with value 0x{:02x} must be escaped.",
                        c as u32
                    )))
                }
                c => out.push(c),
            }
        }
    }
}

/// The length of the JSON number at the start of `bytes`, if one is there and is not
/// followed by more letters or digits.
fn number_len(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if bytes.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    if !digits(&mut i) || (bytes[int_start] == b'0' && i - int_start > 1) {
        return None;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(i)
}

/// Parses a document.
pub fn parse(text: &str) -> Result<Json> {
    let mut parser = Parser {
        text,
        at: 0,
        depth: 0,
    };
    let value = parser.value()?;
    parser.skip_space();
    if parser.at != text.len() {
        return Err(parser.expected("end of input"));
    }
    Ok(value)
}

/// `jsonb`'s order of object keys: shorter first, then bytewise.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Json {
    /// A value without a source.
    pub fn new(kind: Kind) -> Json {
        Json { kind, span: 0..0 }
    }

    /// The `jsonb` form: keys sorted and deduplicated (the last wins), numbers normalized.
    pub fn into_jsonb(self) -> Result<Json> {
        Ok(Json::new(match self.kind {
            Kind::Number(n) => Kind::Number(normalize_number(&n)?),
            Kind::Array(items) => Kind::Array(
                items
                    .into_iter()
                    .map(Json::into_jsonb)
                    .collect::<Result<_>>()?,
            ),
            Kind::Object(members) => {
                let mut sorted: Vec<(String, Json)> = Vec::with_capacity(members.len());
                for (key, value) in members {
                    let value = value.into_jsonb()?;
                    match sorted.binary_search_by(|(k, _)| key_order(k, &key)) {
                        Ok(i) => sorted[i].1 = value,
                        Err(i) => sorted.insert(i, (key, value)),
                    }
                }
                Kind::Object(sorted)
            }
            other => other,
        }))
    }

    /// The text `jsonb` prints (for a document already in `jsonb` form).
    pub fn to_jsonb_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match &self.kind {
            Kind::Null => out.push_str("null"),
            Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Kind::Number(n) => out.push_str(n),
            Kind::String(s) => quote_into(s, out),
            Kind::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Kind::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    quote_into(key, out);
                    out.push_str(": ");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// `json_typeof`
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "boolean",
            Kind::Number(_) => "number",
            Kind::String(_) => "string",
            Kind::Array(_) => "array",
            Kind::Object(_) => "object",
        }
    }

    /// The member `key` of an object (the last of duplicates, as PostgreSQL's `json ->`
    /// finds it... the first, for `json`: see [`Json::field`]).
    pub fn field(&self, key: &str) -> Option<&Json> {
        match &self.kind {
            // json keeps duplicates; `->` finds the last one, as PostgreSQL's does.
            Kind::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Element `index` of an array; a negative index counts from the end.
    pub fn element(&self, index: i64) -> Option<&Json> {
        match &self.kind {
            Kind::Array(items) => {
                let i = if index < 0 {
                    items.len() as i64 + index
                } else {
                    index
                };
                usize::try_from(i).ok().and_then(|i| items.get(i))
            }
            _ => None,
        }
    }

    /// Follows a path of keys (and, in arrays, indexes).
    pub fn path(&self, path: &[String]) -> Option<&Json> {
        let mut at = self;
        for step in path {
            at = match &at.kind {
                Kind::Object(_) => at.field(step)?,
                Kind::Array(_) => at.element(step.trim().parse().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// `jsonb @>`: whether `other` is contained in this document (both in `jsonb` form).
    pub fn contains(&self, other: &Json) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Object(mine), Kind::Object(theirs)) => theirs.iter().all(|(k, v)| {
                mine.iter()
                    .find(|(key, _)| key == k)
                    .is_some_and(|(_, value)| value.contains(v))
            }),
            (Kind::Array(mine), Kind::Array(theirs)) => theirs.iter().all(|t| match &t.kind {
                Kind::Array(_) | Kind::Object(_) => mine.iter().any(|m| m.contains(t)),
                _ => mine.iter().any(|m| m.kind == t.kind),
            }),
            // A scalar array contains a lone scalar.
            (Kind::Array(mine), scalar) if !matches!(scalar, Kind::Object(_)) => {
                mine.iter().any(|m| &m.kind == scalar)
            }
            (a, b) => a == b,
        }
    }

    /// `jsonb ?`: whether `key` is a top-level key, or a string element of a top-level array.
    pub fn has_key(&self, key: &str) -> bool {
        match &self.kind {
            Kind::Object(members) => members.iter().any(|(k, _)| k == key),
            Kind::Array(items) => items
                .iter()
                .any(|i| i.kind == Kind::String(key.to_string())),
            Kind::String(s) => s == key,
            _ => false,
        }
    }
}

/// A number as `numeric` prints it (`1.50` stays, `1e3` is `1000`).
fn normalize_number(text: &str) -> Result<String> {
    match crate::types::parse_text(text, &DataType::Numeric(None))? {
        zizhu_types::Value::Numeric(n) => Ok(n.to_string()),
        other => Ok(crate::types::to_text(&other)),
    }
}

/// A string as a JSON string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(s, &mut out);
    out
}

fn quote_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json` input: the text, validated.
pub fn json_in(text: &str) -> Result<String> {
    parse(text)?;
    Ok(text.to_string())
}

/// `jsonb` input: the canonical text.
pub fn jsonb_in(text: &str) -> Result<String> {
    Ok(parse(text)?.into_jsonb()?.to_jsonb_text())
}

/// The text of a part of a document as its type prints it: the source slice for `json`, the
/// canonical text for `jsonb`.
pub fn part_text(source: &str, part: &Json, jsonb: bool) -> String {
    if jsonb || part.span.is_empty() {
        part.to_jsonb_text()
    } else {
        source[part.span.clone()].to_string()
    }
}

/// `->>`: a string's contents, another value's text, NULL for `null`.
pub fn part_as_text(source: &str, part: &Json, jsonb: bool) -> Option<String> {
    match &part.kind {
        Kind::Null => None,
        Kind::String(s) => Some(s.clone()),
        _ => Some(part_text(source, part, jsonb)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_text_is_postgresqls() {
        // SELECT '{"b": 1, "aa": [1.50, 1e3, true, null], "a": "x\"y", "b": 2}'::jsonb
        assert_eq!(
            jsonb_in(r#"{"b": 1, "aa": [1.50, 1e3, true, null], "a": "x\"y", "b": 2}"#).unwrap(),
            r#"{"a": "x\"y", "b": 2, "aa": [1.50, 1000, true, null]}"#
        );
        assert_eq!(jsonb_in(" [ ] ").unwrap(), "[]");
        assert_eq!(jsonb_in(r#""\u00e9\ud83d\ude00""#).unwrap(), "\"é😀\"");
        assert_eq!(json_in(r#"{"a" :1,"a":2}"#).unwrap(), r#"{"a" :1,"a":2}"#);
    }

    #[test]
    fn bad_documents_are_refused_with_postgresqls_details() {
        // Each DETAIL is PostgreSQL 15's for the same input.
        for (text, detail) in [
            (r#"{"a" 1}"#, r#"Expected ":", but found "1"."#),
            ("[1,]", r#"Expected JSON value, but found "]"."#),
            (r#"{"a":1 "b"}"#, r#"Expected "," or "}", but found ""b""."#),
            ("{1:2}", r#"Expected string or "}", but found "1"."#),
            (r#""abc"#, r#"Token ""abc" is invalid."#),
            ("01", r#"Token "01" is invalid."#),
            (r#"{"a":1} x"#, r#"Token "x" is invalid."#),
            ("{", "The input string ended unexpectedly."),
            ("tru", r#"Token "tru" is invalid."#),
            (r#""a\x""#, r#"Escape sequence "\x" is invalid."#),
        ] {
            match parse(text) {
                Err(crate::Error::Input {
                    code,
                    detail: Some(d),
                    ..
                }) => {
                    assert_eq!(code.sqlstate(), "22P02", "{text}");
                    assert_eq!(d, detail, "{text}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(jsonb_in("\"\\u0000\"").unwrap_err().sqlstate(), "22P05");
    }

    #[test]
    fn containment_follows_postgresql() {
        let doc = |t: &str| parse(t).unwrap().into_jsonb().unwrap();
        let d = doc(r#"{"a": 1, "b": [1, 2, {"c": 3}], "d": {"e": "f"}}"#);
        assert!(d.contains(&doc(r#"{"b": [2]}"#)));
        assert!(d.contains(&doc(r#"{"b": [{"c": 3}], "d": {}}"#)));
        assert!(!d.contains(&doc(r#"{"a": "1"}"#)));
        assert!(doc("[1, 2, 3]").contains(&doc("2")));
        assert!(!doc(r#"{"a": 1}"#).contains(&doc("[]")));
        assert!(d.has_key("d") && !d.has_key("e"));
    }
}
