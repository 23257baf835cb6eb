//! Values on the wire: type OIDs, text and binary formats, and errors as ErrorResponse fields.
//!
//! Text format is the SQL layer's own text output ([`types::to_text`]) and input
//! ([`types::parse_text`]), so a value reads back the same through psql as through the
//! embedded API. Binary format follows PostgreSQL's `send`/`recv` functions: big-endian
//! integers and floats, dates as days and timestamps as microseconds since 2000-01-01, and
//! `numeric` as base-10000 digits with a weight, sign and display scale.

use bytes::{BufMut, BytesMut};
use pgwire::api::Type;
use pgwire::error::ErrorInfo;
use zizhu_sql::types::{self, DataType};
use zizhu_sql::Error;
use zizhu_types::{BigDecimal, Date, Interval, Numeric, Time, Timestamp, Value};

/// The PostgreSQL type of a column or parameter of this type.
pub fn pg_type(ty: &DataType) -> Type {
    Type::from_oid(ty.oid()).unwrap_or(Type::TEXT)
}

/// The SQL type a client's parameter type OID asks for; `None` leaves it to the statement
/// (OID 0, or a type the engine does not have, which then arrives as text).
pub fn data_type(ty: &Type) -> Option<DataType> {
    match *ty {
        // A client's bpchar parameter is any length of text; `unknown` is left to the
        // statement, as OID 0 is.
        Type::BPCHAR => Some(DataType::Text),
        Type::UNKNOWN => None,
        ref ty => DataType::from_oid(ty.oid(), -1),
    }
}

/// Appends one DataRow field (length, then bytes; length -1 for NULL).
pub fn put_field(buf: &mut BytesMut, value: &Value, binary: bool) {
    if matches!(value, Value::Null) {
        buf.put_i32(-1);
        return;
    }
    let at = buf.len();
    buf.put_i32(0);
    if binary {
        put_binary(buf, value);
    } else {
        buf.put_slice(types::to_text(value).as_bytes());
    }
    let len = (buf.len() - at - 4) as i32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends one DataRow field in the binary format of `ty`, the column's announced type: the
/// value is converted to it first (the planner's type for an expression can be narrower than
/// the value computed), and a column of unknown type is announced as text, so it is sent as
/// text.
pub fn put_binary_as(buf: &mut BytesMut, value: &Value, ty: &DataType) {
    match (ty, value) {
        (_, Value::Null) => {}
        (DataType::Oid(_), Value::Int64(oid)) => {
            buf.put_i32(4);
            buf.put_u32(*oid as u32);
            return;
        }
        (DataType::Jsonb, Value::Text(text)) => {
            buf.put_i32(text.len() as i32 + 1);
            buf.put_u8(1);
            buf.put_slice(text.as_bytes());
            return;
        }
        (DataType::Array(element) | DataType::Vector(element), Value::Text(text)) => {
            if let Ok(elements) = types::array::items(text, element) {
                put_binary_array(buf, &elements, element);
                return;
            }
        }
        _ => {}
    }
    let converted = match ty {
        DataType::Unknown => Value::Text(types::to_text(value)),
        ty => types::cast(value.clone(), ty).unwrap_or_else(|_| Value::Text(types::to_text(value))),
    };
    let converted = match converted {
        Value::Null if !matches!(value, Value::Null) => Value::Text(types::to_text(value)),
        v => v,
    };
    put_field(buf, &converted, true);
}

/// An array field in `array_send`'s layout: dimensions, a has-NULL flag, the element type,
/// each dimension's length and lower bound, then the elements as fields.
fn put_binary_array(buf: &mut BytesMut, elements: &[Value], element: &DataType) {
    let at = buf.len();
    buf.put_i32(0);
    buf.put_i32(i32::from(!elements.is_empty()));
    buf.put_i32(i32::from(elements.iter().any(Value::is_null)));
    buf.put_u32(pg_type(element).oid());
    if !elements.is_empty() {
        buf.put_i32(elements.len() as i32);
        buf.put_i32(1);
    }
    for e in elements {
        match e {
            Value::Null => buf.put_i32(-1),
            e => put_binary_as(buf, e, element),
        }
    }
    let len = (buf.len() - at - 4) as i32;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

fn put_binary(buf: &mut BytesMut, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(b) => buf.put_u8(u8::from(*b)),
        Value::Int16(i) => buf.put_i16(*i),
        Value::Int32(i) => buf.put_i32(*i),
        Value::Int64(i) => buf.put_i64(*i),
        Value::Float32(f) => buf.put_f32(*f),
        Value::Float64(f) => buf.put_f64(*f),
        Value::Numeric(n) => put_numeric(buf, n),
        Value::Text(s) => buf.put_slice(s.as_bytes()),
        Value::Bytes(b) => buf.put_slice(b),
        Value::Date(Date(d)) => buf.put_i32(*d),
        Value::Time(Time(t)) => buf.put_i64(*t),
        Value::Timestamp(Timestamp(t)) | Value::TimestampTz(Timestamp(t)) => buf.put_i64(*t),
        Value::Interval(i) => {
            buf.put_i64(i.micros);
            buf.put_i32(i.days);
            buf.put_i32(i.months);
        }
        Value::Uuid(u) => buf.put_slice(u),
    }
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// PostgreSQL's binary `numeric`: ndigits, weight, sign, dscale, then base-10000 digits, the
/// first of which is worth 10000^weight.
fn put_numeric(buf: &mut BytesMut, n: &Numeric) {
    let special = |buf: &mut BytesMut, sign: u16| {
        buf.put_i16(0);
        buf.put_i16(0);
        buf.put_u16(sign);
        buf.put_u16(0);
    };
    let d = match n {
        Numeric::NaN => return special(buf, NUMERIC_NAN),
        Numeric::Infinity => return special(buf, NUMERIC_PINF),
        Numeric::NegInfinity => return special(buf, NUMERIC_NINF),
        Numeric::Finite(d) => d,
    };
    let (int, scale) = d.as_bigint_and_exponent();
    let text = int.to_string();
    let negative = text.starts_with('-');
    let mut digits = text.trim_start_matches('-').to_string();
    let dscale = scale.max(0) as usize;
    if scale < 0 {
        digits.extend(std::iter::repeat_n('0', (-scale) as usize));
    }
    // Split into integer and fraction parts, each padded to whole groups of four.
    if digits.len() <= dscale {
        digits = "0".repeat(dscale - digits.len() + 1) + &digits;
    }
    let (int_part, frac_part) = digits.split_at(digits.len() - dscale);
    let int_pad = (4 - int_part.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let padded: String = "0".repeat(int_pad) + int_part + frac_part + &"0".repeat(frac_pad);
    let mut groups: Vec<i16> = padded
        .as_bytes()
        .chunks(4)
        .map(|c| {
            c.iter()
                .fold(0i16, |acc, &b| acc * 10 + i16::from(b - b'0'))
        })
        .collect();
    let mut weight = ((int_part.len() + int_pad) / 4) as i16 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    buf.put_i16(groups.len() as i16);
    buf.put_i16(weight);
    buf.put_u16(if negative { NUMERIC_NEG } else { NUMERIC_POS });
    buf.put_u16(dscale as u16);
    for g in groups {
        buf.put_i16(g);
    }
}

fn bad_binary(ty: &DataType) -> Error {
    zizhu_sql::errinput!(
        InvalidBinaryRepresentation,
        "incorrect binary data format in bind parameter of type {ty}"
    )
}

/// Bytes that must be UTF-8 text.
fn utf8(bytes: &[u8]) -> zizhu_sql::Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        zizhu_sql::errinput!(
            CharacterNotInRepertoire,
            "invalid byte sequence for encoding \"UTF8\""
        )
    })
}

/// A parameter value sent in text (`binary` false) or binary format, as a value of `ty`.
pub fn parse_param(bytes: Option<&[u8]>, ty: &DataType, binary: bool) -> zizhu_sql::Result<Value> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    if !binary {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            zizhu_sql::errinput!(
                CharacterNotInRepertoire,
                "invalid byte sequence for encoding \"UTF8\""
            )
        })?;
        return types::parse_text(text, ty);
    }
    let fixed = |n: usize| -> zizhu_sql::Result<&[u8]> {
        (bytes.len() == n)
            .then_some(bytes)
            .ok_or_else(|| bad_binary(ty))
    };
    let be8 = |b: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        a
    };
    let be4 = |b: &[u8]| {
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        a
    };
    Ok(match ty {
        DataType::Bool => Value::Bool(fixed(1)?[0] != 0),
        DataType::Int16 => Value::Int16(i16::from_be_bytes([fixed(2)?[0], bytes[1]])),
        DataType::Int32 => Value::Int32(i32::from_be_bytes(be4(fixed(4)?))),
        DataType::Int64 => Value::Int64(i64::from_be_bytes(be8(fixed(8)?))),
        DataType::Float32 => Value::Float32(f32::from_be_bytes(be4(fixed(4)?))),
        DataType::Float64 => Value::Float64(f64::from_be_bytes(be8(fixed(8)?))),
        DataType::Numeric(_) => {
            types::cast(parse_numeric(bytes).ok_or_else(|| bad_binary(ty))?, ty)?
        }
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) | DataType::Unknown => {
            let text = std::str::from_utf8(bytes).map_err(|_| bad_binary(ty))?;
            types::cast(Value::Text(text.to_string()), ty)?
        }
        DataType::Bytea => Value::Bytes(bytes.to_vec()),
        DataType::Date => Value::Date(Date(i32::from_be_bytes(be4(fixed(4)?)))),
        DataType::Time => Value::Time(Time(i64::from_be_bytes(be8(fixed(8)?)))),
        DataType::Timestamp => Value::Timestamp(Timestamp(i64::from_be_bytes(be8(fixed(8)?)))),
        DataType::TimestampTz => Value::TimestampTz(Timestamp(i64::from_be_bytes(be8(fixed(8)?)))),
        DataType::Interval => {
            let b = fixed(16)?;
            Value::Interval(Interval {
                micros: i64::from_be_bytes(be8(&b[0..8])),
                days: i32::from_be_bytes(be4(&b[8..12])),
                months: i32::from_be_bytes(be4(&b[12..16])),
            })
        }
        DataType::Uuid => {
            let mut u = [0u8; 16];
            u.copy_from_slice(fixed(16)?);
            Value::Uuid(u)
        }
        DataType::Oid(_) => Value::Int64(u32::from_be_bytes(be4(fixed(4)?)) as i64),
        DataType::Json => types::parse_text(&utf8(bytes)?, ty)?,
        // jsonb_send: a version byte (1), then the text.
        DataType::Jsonb => match bytes.split_first() {
            Some((1, text)) => types::parse_text(&utf8(text)?, ty)?,
            _ => return Err(bad_binary(ty)),
        },
        DataType::Array(_) | DataType::Vector(_) | DataType::Record(_) => {
            return Err(zizhu_sql::errinput!(
                FeatureNotSupported,
                "{ty} parameters in binary format are not supported yet"
            ))
        }
    })
}

fn parse_numeric(b: &[u8]) -> Option<Value> {
    let word = |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])) };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i16 as i64;
    let sign = word(4)?;
    let dscale = word(6)? as i64;
    if b.len() != 8 + 2 * ndigits {
        return None;
    }
    match sign {
        NUMERIC_NAN => return Some(Value::Numeric(Numeric::NaN)),
        NUMERIC_PINF => return Some(Value::Numeric(Numeric::Infinity)),
        NUMERIC_NINF => return Some(Value::Numeric(Numeric::NegInfinity)),
        NUMERIC_POS | NUMERIC_NEG => {}
        _ => return None,
    }
    let mut digits = String::with_capacity(ndigits * 4);
    for i in 0..ndigits {
        let g = word(8 + 2 * i)?;
        if g >= 10000 {
            return None;
        }
        digits.push_str(&format!("{g:04}"));
    }
    if digits.is_empty() {
        digits.push('0');
    }
    // The digits are worth 10000^(weight - ndigits + 1) each.
    let exponent = 4 * (weight - ndigits as i64 + 1);
    let text = if sign == NUMERIC_NEG {
        format!("-{digits}e{exponent}")
    } else {
        format!("{digits}e{exponent}")
    };
    let d: BigDecimal = text.parse().ok()?;
    Some(Value::Numeric(Numeric::finite(d.with_scale(dscale))))
}

/// An error as ErrorResponse fields: SQLSTATE, message, detail, hint and position.
pub fn error_info(err: &Error) -> ErrorInfo {
    let mut info = ErrorInfo::new("ERROR".into(), err.sqlstate().into(), err.to_string());
    if let Error::Input { detail, hint, .. } = err {
        info.detail = detail.clone();
        info.hint = hint.clone();
    }
    if let Error::Syntax { detail, .. } = err {
        info.detail = detail.clone();
    }
    info.position = err.position().map(|p| p.to_string());
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(text: &str) -> Value {
        Value::Numeric(Numeric::finite(text.parse().expect("a number")))
    }

    /// Binary numerics read back as what was sent, scale included.
    #[test]
    fn binary_numeric_round_trips() {
        for text in [
            "0",
            "1",
            "-1",
            "12345.678",
            "0.0001",
            "-0.00012",
            "10000",
            "123456789012345678901234567890.5",
            "1.10",
            "100.00",
            "0.00",
        ] {
            let mut buf = BytesMut::new();
            put_binary(&mut buf, &numeric(text));
            let back = parse_numeric(&buf).expect("decodes");
            assert_eq!(
                types::to_text(&back),
                types::to_text(&numeric(text)),
                "{text}"
            );
        }
    }

    /// The layout PostgreSQL's numeric_send gives for 12345.678: digits 1, 2345, 6780, weight 1,
    /// dscale 3.
    #[test]
    fn binary_numeric_matches_postgresql_layout() {
        let mut buf = BytesMut::new();
        put_binary(&mut buf, &numeric("12345.678"));
        assert_eq!(
            &buf[..],
            &[0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C][..]
        );
    }

    #[test]
    fn params_decode_in_both_formats() {
        let int = parse_param(Some(b"42"), &DataType::Int32, false).expect("text");
        assert_eq!(int, Value::Int32(42));
        let int = parse_param(Some(&42i64.to_be_bytes()), &DataType::Int64, true).expect("binary");
        assert_eq!(int, Value::Int64(42));
        assert!(parse_param(Some(&[0, 1]), &DataType::Int32, true).is_err());
        assert_eq!(
            parse_param(None, &DataType::Int32, true).expect("null"),
            Value::Null
        );
    }
}
