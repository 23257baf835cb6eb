//! One-dimensional arrays and anonymous records, carried as their canonical text forms.
//!
//! Arrays reach ZizhuDB through the system catalogs (`pg_index.indkey`, `pg_roles`,
//! `ARRAY(SELECT ...)` in psql's queries) and through expressions, not yet through user
//! tables. A value of type `t[]` is a [`Value::Text`] holding PostgreSQL's output form,
//! `{1,2,NULL,"a b"}`: every array value is built by [`format`](fn@format) (directly or through
//! [`parse`](fn@parse), which re-formats what it reads), so equal arrays have equal text and comparing
//! the text compares the arrays for equality. Elements are parsed with their type's input
//! function, so `'{1,x}'::int[]` fails as PostgreSQL's does.

use zizhu_types::Value;

use super::datatype::DataType;
use super::text::{parse_text, to_text};
use crate::errinput;
use crate::error::Result;

/// The elements of an array or vector value (`{a,b}` or `1 2`): what functions and operators
/// over either read.
pub fn items(text: &str, element: &DataType) -> Result<Vec<Value>> {
    if text.trim_start().starts_with('{') {
        return elements(text, element);
    }
    text.split_whitespace()
        .map(|item| parse_text(item, element))
        .collect()
}

/// Parses array input text (`{a,b}`, elements quoted with `"` and escaped with `\`, unquoted
/// `NULL` for NULL) into element values of `element`.
pub fn elements(text: &str, element: &DataType) -> Result<Vec<Value>> {
    let malformed = |why: &str| {
        errinput!(
            InvalidTextRepresentation,
            "malformed array literal: \"{text}\"; {why}"
        )
    };
    let body = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| malformed("array value must start with \"{\" and end with \"}\""))?;
    let mut values = Vec::new();
    if body.trim().is_empty() {
        return Ok(values);
    }
    let mut chars = body.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        let (mut quoted, mut any_quote) = (false, false);
        while let Some(&c) = chars.peek() {
            match c {
                ',' if !quoted => break,
                '"' => {
                    quoted = !quoted;
                    any_quote = true;
                    chars.next();
                }
                '\\' => {
                    chars.next();
                    item.push(
                        chars
                            .next()
                            .ok_or_else(|| malformed("unexpected end of input"))?,
                    );
                }
                '{' | '}' if !quoted => {
                    return Err(errinput!(
                        FeatureNotSupported,
                        "multidimensional arrays are not supported yet"
                    ))
                }
                c => {
                    item.push(c);
                    chars.next();
                }
            }
        }
        if quoted {
            return Err(malformed("unterminated quoted element"));
        }
        let item = if any_quote {
            item
        } else {
            item.trim_end().to_string()
        };
        values.push(if !any_quote && item.eq_ignore_ascii_case("null") {
            Value::Null
        } else {
            parse_text(&item, element)?
        });
        match chars.next() {
            Some(',') => continue,
            None => break,
            Some(c) => return Err(malformed(&format!("unexpected character \"{c}\""))),
        }
    }
    Ok(values)
}

/// A vector's text form (`int2vectorout`): the values separated by spaces.
pub fn format_vector(values: &[Value]) -> String {
    values.iter().map(to_text).collect::<Vec<_>>().join(" ")
}

/// The canonical text form of an array of `values` (PostgreSQL's `array_out`).
pub fn format(values: &[Value]) -> String {
    let mut out = String::from("{");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if v.is_null() {
            out.push_str("NULL");
            continue;
        }
        let text = to_text(v);
        if text.eq_ignore_ascii_case("null") {
            out.push_str(&format!("\"{text}\""));
        } else {
            out.push_str(&quoted(&text, &['{', '}', ','], false));
        }
    }
    out.push('}');
    out
}

/// An element's or field's text, quoted if PostgreSQL would quote it (`special` are the
/// characters that force quotes besides blanks, quotes and backslashes). Inside quotes an
/// array escapes `"` and `\\` with a backslash (`array_out`); a record doubles them
/// (`record_out`).
fn quoted(text: &str, special: &[char], double: bool) -> String {
    let needs = text.is_empty()
        || text
            .chars()
            .any(|c| special.contains(&c) || matches!(c, '"' | '\\') || c.is_whitespace());
    if !needs {
        return text.to_string();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push(if double { c } else { '\\' });
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A record's text form (`record_out`): `(1,"a b",)`, NULL fields empty.
pub fn format_record(values: &[Value]) -> String {
    let fields: Vec<String> = values
        .iter()
        .map(|v| match v {
            Value::Null => String::new(),
            v => quoted(&to_text(v), &['(', ')', ','], true),
        })
        .collect();
    format!("({})", fields.join(","))
}

/// The text of field `index` (0-based) of a record's text form; `None` for NULL.
pub fn record_field(text: &str, index: usize) -> Result<Option<String>> {
    let malformed = || {
        errinput!(
            InvalidTextRepresentation,
            "malformed record literal: \"{text}\""
        )
    };
    let body = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(malformed)?;
    let mut fields = Vec::new();
    let (mut current, mut quoted, mut any_quote) = (String::new(), false, false);
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted => match chars.clone().next() {
                Some('"') => {
                    chars.next();
                    current.push('"');
                }
                _ => quoted = false,
            },
            '"' => {
                quoted = true;
                any_quote = true;
            }
            '\\' => current.push(chars.next().ok_or_else(malformed)?),
            ',' if !quoted => {
                fields.push((std::mem::take(&mut current), any_quote));
                any_quote = false;
            }
            c => current.push(c),
        }
    }
    fields.push((current, any_quote));
    let (field, was_quoted) = fields.into_iter().nth(index).ok_or_else(malformed)?;
    Ok((was_quoted || !field.is_empty()).then_some(field))
}

/// Parses and re-formats: the canonical form of array input `text`.
pub fn parse(text: &str, element: &DataType) -> Result<String> {
    Ok(format(&elements(text, element)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_round_trip() {
        let cases = [
            ("{1, 2 ,3}", DataType::Int32, "{1,2,3}"),
            ("{}", DataType::Int32, "{}"),
            ("{NULL,1}", DataType::Int64, "{NULL,1}"),
            (
                "{a,\"b c\",\"\",\"NULL\",\"q\\\"\"}",
                DataType::Text,
                "{a,\"b c\",\"\",\"NULL\",\"q\\\"\"}",
            ),
        ];
        for (input, ty, want) in cases {
            assert_eq!(parse(input, &ty).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn records_double_quotes_as_record_out_does() {
        // SELECT ROW('a"b', 'c\\d')  →  ("a""b","c\\d")
        let text = format_record(&[Value::Text("a\"b".into()), Value::Text("c\\d".into())]);
        assert_eq!(text, "(\"a\"\"b\",\"c\\\\d\")");
        assert_eq!(record_field(&text, 0).unwrap().as_deref(), Some("a\"b"));
    }

    #[test]
    fn records_format_and_split_like_postgresql() {
        let text = format_record(&[Value::Int32(3), Value::Null, Value::Text("a,b".into())]);
        assert_eq!(text, "(3,,\"a,b\")");
        assert_eq!(record_field(&text, 0).unwrap().as_deref(), Some("3"));
        assert_eq!(record_field(&text, 1).unwrap(), None);
        assert_eq!(record_field(&text, 2).unwrap().as_deref(), Some("a,b"));
        assert!(record_field(&text, 3).is_err());
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(parse("1,2", &DataType::Int32).is_err());
        assert!(parse("{1,x}", &DataType::Int32).is_err());
        assert!(parse("{\"a}", &DataType::Text).is_err());
        assert!(parse("{{1}}", &DataType::Int32).is_err());
    }
}
