//! The stored form of a row: a compact, value-preserving encoding of its values.
//!
//! Unlike key encoding, row encoding needn't preserve order, but it must preserve every value
//! exactly (a `numeric` keeps its display scale: `1.50` stays `1.50`). Each value is a tag byte
//! and a payload; variable-length payloads carry a LEB128 length.

use zizhu_types::{BigDecimal, Date, Interval, Numeric, Time, Timestamp, Value};

use crate::{errinternal, Result};

/// Encodes a row.
pub fn encode(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * values.len() + 4);
    encode_into(values, &mut out);
    out
}

/// Appends a row's encoding to `out`.
pub fn encode_into(values: &[Value], out: &mut Vec<u8>) {
    put_len(out, values.len());
    for value in values {
        match value {
            Value::Null => out.push(0),
            Value::Bool(b) => out.extend([1, *b as u8]),
            Value::Int16(i) => put(out, 2, &i.to_le_bytes()),
            Value::Int32(i) => put(out, 3, &i.to_le_bytes()),
            Value::Int64(i) => put(out, 4, &i.to_le_bytes()),
            Value::Float32(x) => put(out, 5, &x.to_bits().to_le_bytes()),
            Value::Float64(x) => put(out, 6, &x.to_bits().to_le_bytes()),
            Value::Numeric(n) => match n {
                Numeric::NegInfinity => out.push(7),
                Numeric::Infinity => out.push(8),
                Numeric::NaN => out.push(9),
                Numeric::Finite(d) => {
                    out.push(10);
                    // Unscaled digits and exponent: exact, and keeps the scale of a zero
                    // (`0.00`), which the decimal's display form drops.
                    let (int, scale) = d.as_bigint_and_exponent();
                    put_bytes(out, format!("{int}e{}", -scale).as_bytes());
                }
            },
            Value::Text(s) => {
                out.push(11);
                put_bytes(out, s.as_bytes());
            }
            Value::Bytes(b) => {
                out.push(12);
                put_bytes(out, b);
            }
            Value::Date(d) => put(out, 13, &d.0.to_le_bytes()),
            Value::Time(t) => put(out, 14, &t.0.to_le_bytes()),
            Value::Timestamp(t) => put(out, 15, &t.0.to_le_bytes()),
            Value::TimestampTz(t) => put(out, 16, &t.0.to_le_bytes()),
            Value::Interval(i) => {
                out.push(17);
                out.extend(i.months.to_le_bytes());
                out.extend(i.days.to_le_bytes());
                out.extend(i.micros.to_le_bytes());
            }
            Value::Uuid(u) => put(out, 18, u),
        }
    }
}

/// Decodes a row.
pub fn decode(bytes: &[u8]) -> Result<Vec<Value>> {
    decode_only(bytes, None)
}

/// Decodes a row, but only the columns `columns` marks (all if `None`, and any past its end);
/// the others are skipped and read as NULL.
pub fn decode_only(bytes: &[u8], columns: Option<&[bool]>) -> Result<Vec<Value>> {
    let mut values = Vec::new();
    decode_into(bytes, columns, &mut values)?;
    Ok(values)
}

/// [`decode_only`], appending the values to `values`.
pub fn decode_into(bytes: &[u8], columns: Option<&[bool]>, values: &mut Vec<Value>) -> Result<()> {
    let mut r = Reader { bytes, pos: 0 };
    let n = r.len()?;
    values.reserve(n);
    // Past the last column wanted nothing is parsed: the rest read as NULL (`count(*)` parses
    // nothing at all).
    let wanted = match columns {
        Some(c) if c.len() >= n => c.iter().rposition(|&w| w).map_or(0, |last| last + 1),
        _ => n,
    };
    // Every column starts NULL (not `resize`, which clones its fill value once per column);
    // past the last one wanted nothing is parsed.
    let start = values.len();
    values.extend(std::iter::repeat_with(|| Value::Null).take(n));
    let row = &mut values[start..];
    for (i, slot) in row.iter_mut().enumerate().take(wanted) {
        let tag = r.take(1)?[0];
        if columns.is_some_and(|c| c.get(i) == Some(&false)) {
            r.skip(tag)?;
            continue;
        }
        // The fixed-width kinds are written where they are built: a value built elsewhere
        // and moved in costs a stalled load (a store-forwarding miss) per value.
        match tag {
            0 => {}
            1 => *slot = Value::Bool(r.take(1)?[0] != 0),
            2 => *slot = Value::Int16(i16::from_le_bytes(r.array()?)),
            3 => *slot = Value::Int32(i32::from_le_bytes(r.array()?)),
            4 => *slot = Value::Int64(i64::from_le_bytes(r.array()?)),
            5 => *slot = Value::Float32(f32::from_bits(u32::from_le_bytes(r.array()?))),
            6 => *slot = Value::Float64(f64::from_bits(u64::from_le_bytes(r.array()?))),
            13 => *slot = Value::Date(Date(i32::from_le_bytes(r.array()?))),
            15 => *slot = Value::Timestamp(Timestamp(i64::from_le_bytes(r.array()?))),
            16 => *slot = Value::TimestampTz(Timestamp(i64::from_le_bytes(r.array()?))),
            tag => *slot = decode_other(tag, &mut r)?,
        }
    }
    if wanted < n {
        return Ok(());
    }
    if r.pos != bytes.len() {
        return Err(errinternal!(
            "{} trailing bytes after stored row",
            bytes.len() - r.pos
        ));
    }
    Ok(())
}

/// The variable-width and rarer kinds of [`decode_into`].
fn decode_other(tag: u8, r: &mut Reader<'_>) -> Result<Value> {
    Ok(match tag {
        7 => Value::Numeric(Numeric::NegInfinity),
        8 => Value::Numeric(Numeric::Infinity),
        9 => Value::Numeric(Numeric::NaN),
        10 => {
            let text = r.string()?;
            let d: BigDecimal = text
                .parse()
                .map_err(|_| errinternal!("stored numeric {text:?}"))?;
            Value::Numeric(Numeric::finite(d))
        }
        11 => Value::Text(r.string()?),
        12 => {
            let n = r.len()?;
            Value::Bytes(r.take(n)?.to_vec())
        }
        14 => Value::Time(Time(i64::from_le_bytes(r.array()?))),
        17 => Value::Interval(Interval {
            months: i32::from_le_bytes(r.array()?),
            days: i32::from_le_bytes(r.array()?),
            micros: i64::from_le_bytes(r.array()?),
        }),
        18 => Value::Uuid(r.array()?),
        tag => return Err(errinternal!("unknown value tag {tag} in stored row")),
    })
}

fn put(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    out.extend_from_slice(payload);
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| errinternal!("stored row ends early"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let slice = self.take(N)?;
        slice
            .try_into()
            .map_err(|_| errinternal!("stored row ends early"))
    }

    fn len(&mut self) -> Result<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            n |= ((byte & 0x7f) as usize) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(errinternal!("bad length in stored row"))
    }

    /// Skips the payload of a value with this tag.
    fn skip(&mut self, tag: u8) -> Result<()> {
        let n = match tag {
            0 | 7..=9 => 0,
            1 => 1,
            2 => 2,
            3 | 5 | 13 => 4,
            4 | 6 | 14..=16 => 8,
            17 | 18 => 16,
            10..=12 => self.len()?,
            tag => return Err(errinternal!("unknown value tag {tag} in stored row")),
        };
        self.take(n).map(|_| ())
    }

    fn string(&mut self) -> Result<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| errinternal!("stored text is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Bool(true),
            Value::Int16(-3),
            Value::Int32(i32::MIN),
            Value::Int64(i64::MAX),
            Value::Float32(1.5),
            Value::Float64(f64::NAN),
            Value::Numeric(Numeric::finite("1.50".parse().unwrap())),
            Value::Numeric(Numeric::finite("0.00".parse().unwrap())),
            Value::Numeric(Numeric::finite("-12e5".parse().unwrap())),
            Value::Numeric(Numeric::NaN),
            Value::Text("é\0x".repeat(100)),
            Value::Bytes(vec![0, 255]),
            Value::Date(Date(-1)),
            Value::Time(Time(1)),
            Value::Timestamp(Timestamp(-5)),
            Value::TimestampTz(Timestamp(5)),
            Value::Interval(Interval {
                months: 1,
                days: -2,
                micros: 3,
            }),
            Value::Uuid([7; 16]),
        ]
    }

    #[test]
    fn rows_round_trip_exactly() {
        let row = every_kind();
        let decoded = decode(&encode(&row)).unwrap();
        assert_eq!(decoded, row);
        // Display scale survives (equality alone would not show it).
        assert_eq!(decoded[7].to_string(), "1.50");
        let Value::Numeric(Numeric::Finite(zero)) = &decoded[8] else {
            panic!("not a numeric")
        };
        assert_eq!(zero.as_bigint_and_exponent().1, 2, "0.00 keeps its scale");
    }

    #[test]
    fn skipped_columns_read_as_null_and_the_rest_decode_exactly() {
        let row = every_kind();
        let bytes = encode(&row);
        for i in 0..row.len() {
            // Every column but `i`, then `i` alone: each kind is skipped by its exact size.
            for keep_only in [false, true] {
                let mask: Vec<bool> = (0..row.len()).map(|c| (c == i) == keep_only).collect();
                let decoded = decode_only(&bytes, Some(&mask)).unwrap();
                let expected: Vec<Value> = row
                    .iter()
                    .zip(&mask)
                    .map(|(v, keep)| if *keep { v.clone() } else { Value::Null })
                    .collect();
                assert_eq!(decoded, expected, "column {i}, keep only: {keep_only}");
            }
        }
        // Nothing wanted: nothing parsed, every column NULL.
        let none = decode_only(&bytes, Some(&vec![false; row.len()])).unwrap();
        assert_eq!(none, vec![Value::Null; row.len()]);
        // A row stored before a column was added is shorter than the mask, and longer ones
        // decode the columns past its end.
        assert_eq!(decode_only(&bytes, Some(&[false])).unwrap()[1..], row[1..]);
        let mut cut = encode(&[Value::Text("xyz".into()), Value::Int32(1)]);
        cut.truncate(cut.len() - 6);
        assert!(
            decode_only(&cut, Some(&[false, true])).is_err(),
            "a skip past the end, on the way to a wanted column, is an error"
        );
    }

    #[test]
    fn damaged_rows_are_errors_not_panics() {
        let bytes = encode(&[Value::Text("hello".into()), Value::Int64(1)]);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
        assert!(decode(&[1, 99]).is_err());
    }
}
