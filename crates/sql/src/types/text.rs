//! Text input and output functions (PostgreSQL's `typinput`/`typoutput`).

use zizhu_types::Value;

use super::datatype::{DataType, OidAlias};
use super::datetime::{
    format_date, format_time, format_timestamp, parse_date, parse_time, parse_timestamp,
};
use super::interval::{format_interval, parse_interval};
use super::numeric::{
    apply_typmod, format_float4, format_float8, format_numeric, parse_float4, parse_float8,
    parse_numeric, pg_trim,
};
use crate::errinput;
use crate::error::Result;

/// Parses text as a value of `ty`, as PostgreSQL's input function for the type does (with the
/// type modifier applied as the input function applies it: `varchar(n)` and `char(n)` reject
/// over-long values unless the excess is blanks, `numeric(p,s)` rounds and checks precision).
///
/// `DataType::Unknown` yields text.
pub fn parse_text(text: &str, ty: &DataType) -> Result<Value> {
    Ok(match ty {
        DataType::Bool => Value::Bool(parse_bool(text)?),
        DataType::Int16 => Value::Int16(parse_int(text, "smallint")? as i16),
        DataType::Int32 => Value::Int32(parse_int(text, "integer")? as i32),
        DataType::Int64 => Value::Int64(parse_int(text, "bigint")?),
        DataType::Float32 => Value::Float32(parse_float4(text)?),
        DataType::Float64 => Value::Float64(parse_float8(text)?),
        DataType::Numeric(typmod) => {
            let n = parse_numeric(text)?;
            Value::Numeric(match typmod {
                Some((p, s)) => apply_typmod(n, *p, *s)?,
                None => n,
            })
        }
        DataType::Text | DataType::Unknown | DataType::Varchar(None) => {
            Value::Text(text.to_string())
        }
        DataType::Varchar(Some(_)) | DataType::Char(_) => Value::Text(fit_string(text, ty, false)?),
        DataType::Bytea => Value::Bytes(parse_bytea(text)?),
        DataType::Date => Value::Date(parse_date(text)?),
        DataType::Time => Value::Time(parse_time(text)?),
        DataType::Timestamp => Value::Timestamp(parse_timestamp(text, false)?),
        DataType::TimestampTz => Value::TimestampTz(parse_timestamp(text, true)?),
        DataType::Interval => Value::Interval(parse_interval(text)?),
        DataType::Uuid => Value::Uuid(parse_uuid(text)?),
        DataType::Oid(alias) => Value::Int64(parse_oid(text, *alias)?),
        DataType::Array(element) => Value::Text(super::array::parse(text, element)?),
        DataType::Vector(element) => Value::Text(super::array::format_vector(
            &super::array::items(text, element)?,
        )),
        DataType::Record(_) => Value::Text(text.to_string()),
        DataType::Json => Value::Text(super::json::json_in(text)?),
        DataType::Jsonb => Value::Text(super::json::jsonb_in(text)?),
    })
}

/// `oidin`: an unsigned 32-bit number (negative 32-bit numbers wrap, as in PostgreSQL). The
/// `reg*` aliases accept a number here; names need the catalog, which the binder and the
/// evaluator consult before coming here.
fn parse_oid(text: &str, alias: OidAlias) -> Result<i64> {
    let bad = || {
        errinput!(
            InvalidTextRepresentation,
            "invalid input syntax for type {}: \"{text}\"",
            alias.name()
        )
    };
    let n: i64 = pg_trim(text).parse().map_err(|_| bad())?;
    super::pg_type::wrap_oid(n).ok_or_else(|| {
        errinput!(
            NumericValueOutOfRange,
            "value \"{text}\" is out of range for type {}",
            alias.name()
        )
    })
}

/// Formats a value as PostgreSQL's output function for its type does.
///
/// NULL has no text form; it yields the empty string, and callers that must tell NULL from
/// `''` (the wire protocol, `COPY`) check [`Value::is_null`] first.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "t" } else { "f" }.to_string(),
        Value::Int16(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float32(x) => format_float4(*x),
        Value::Float64(x) => format_float8(*x),
        Value::Numeric(n) => format_numeric(n),
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => {
            let mut out = String::with_capacity(2 + b.len() * 2);
            out.push_str("\\x");
            for byte in b {
                out.push_str(&format!("{byte:02x}"));
            }
            out
        }
        Value::Date(d) => format_date(*d),
        Value::Time(t) => format_time(*t),
        Value::Timestamp(t) => format_timestamp(*t, false),
        Value::TimestampTz(t) => format_timestamp(*t, true),
        Value::Interval(i) => format_interval(i),
        Value::Uuid(u) => {
            let mut out = String::with_capacity(36);
            for (i, byte) in u.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push('-');
                }
                out.push_str(&format!("{byte:02x}"));
            }
            out
        }
    }
}

/// `boolin`: `t`/`true`/`yes`/`on`/`1` and their negatives, any unique prefix of the words,
/// case-insensitive, surrounding whitespace ignored.
fn parse_bool(text: &str) -> Result<bool> {
    let s = pg_trim(text).to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| s.len() >= min && word.starts_with(s.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || s == "1" {
        Ok(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || s == "0" {
        Ok(false)
    } else {
        Err(errinput!(
            InvalidTextRepresentation,
            "invalid input syntax for type boolean: \"{text}\""
        ))
    }
}

/// `int2in`/`int4in`/`int8in` (PostgreSQL 15: optional sign, decimal digits, whitespace
/// around). The value is range-checked for the named type.
fn parse_int(text: &str, type_name: &str) -> Result<i64> {
    let s = pg_trim(text);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(errinput!(
            InvalidTextRepresentation,
            "invalid input syntax for type {type_name}: \"{text}\""
        ));
    }
    let (min, max) = match type_name {
        "smallint" => (i16::MIN as i64, i16::MAX as i64),
        "integer" => (i32::MIN as i64, i32::MAX as i64),
        _ => (i64::MIN, i64::MAX),
    };
    match s.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(errinput!(
            NumericValueOutOfRange,
            "value \"{text}\" is out of range for type {type_name}"
        )),
    }
}

/// `byteain`: the hex format (`\x0102`, whitespace allowed between digit pairs) or the escape
/// format (`\\` for a backslash, `\ooo` octal).
fn parse_bytea(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    if let Some(hex) = text.strip_prefix("\\x") {
        let mut out = Vec::with_capacity(hex.len() / 2);
        let mut chars = hex
            .chars()
            .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'));
        let digit = |c: char| {
            c.to_digit(16).map(|d| d as u8).ok_or_else(|| {
                errinput!(
                    InvalidTextRepresentation,
                    "invalid hexadecimal digit: \"{c}\""
                )
            })
        };
        while let Some(hi) = chars.next() {
            let hi = digit(hi)?;
            let Some(lo) = chars.next() else {
                return Err(errinput!(
                    InvalidTextRepresentation,
                    "invalid hexadecimal data: odd number of digits"
                ));
            };
            out.push(hi << 4 | digit(lo)?);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if i + 3 < bytes.len()
            && matches!(bytes[i + 1], b'0'..=b'3')
            && matches!(bytes[i + 2], b'0'..=b'7')
            && matches!(bytes[i + 3], b'0'..=b'7')
        {
            out.push(
                (bytes[i + 1] - b'0') << 6 | (bytes[i + 2] - b'0') << 3 | (bytes[i + 3] - b'0'),
            );
            i += 4;
        } else {
            return Err(errinput!(
                InvalidTextRepresentation,
                "invalid input syntax for type bytea"
            ));
        }
    }
    Ok(out)
}

/// `uuid_in`: 32 hex digits, optionally hyphenated after any group of four and optionally in
/// braces.
fn parse_uuid(text: &str) -> Result<[u8; 16]> {
    let bad = || {
        errinput!(
            InvalidTextRepresentation,
            "invalid input syntax for type uuid: \"{text}\""
        )
    };
    let mut s = text.as_bytes();
    let braces = s.first() == Some(&b'{');
    if braces {
        s = &s[1..];
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        let (Some(hi), Some(lo)) = (s.first(), s.get(1)) else {
            return Err(bad());
        };
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        *byte = hex(*hi)
            .zip(hex(*lo))
            .map(|(h, l)| h << 4 | l)
            .ok_or_else(bad)?;
        s = &s[2..];
        if s.first() == Some(&b'-') && i % 2 == 1 && i < 15 {
            s = &s[1..];
        }
    }
    if braces {
        if s.first() != Some(&b'}') {
            return Err(bad());
        }
        s = &s[1..];
    }
    if !s.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// [`fit_string`] of an owned string, which is returned as it is when it fits.
pub(crate) fn fit_owned(s: String, ty: &DataType, explicit: bool) -> Result<String> {
    match ty {
        // At most n bytes is at most n characters.
        DataType::Varchar(Some(n)) if s.len() <= *n as usize => Ok(s),
        DataType::Varchar(Some(_)) | DataType::Char(_) => fit_string(&s, ty, explicit),
        _ => Ok(s),
    }
}

/// Fits a string to `varchar(n)` or `char(n)`. Explicit casts truncate; input and assignment
/// reject values whose excess characters are not all blanks. `char(n)` pads with blanks.
/// Lengths count characters, not bytes.
pub(crate) fn fit_string(s: &str, ty: &DataType, explicit: bool) -> Result<String> {
    let (limit, pad) = match ty {
        DataType::Varchar(Some(n)) => (*n as usize, false),
        DataType::Char(n) => (*n as usize, true),
        _ => return Ok(s.to_string()),
    };
    let mut out: String = match s.char_indices().nth(limit) {
        None => s.to_string(),
        Some((cut, _)) => {
            if !explicit && !s[cut..].chars().all(|c| c == ' ') {
                return Err(errinput!(
                    StringDataRightTruncation,
                    "value too long for type {ty}"
                ));
            }
            s[..cut].to_string()
        }
    };
    if pad {
        let len = out.chars().count();
        out.extend(std::iter::repeat_n(' ', limit.saturating_sub(len)));
    }
    Ok(out)
}
