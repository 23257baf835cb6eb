//! Order-preserving, self-describing key encoding for SQL values.
//!
//! The storage engines below ZizhuDB are ordered byte-string maps: they know nothing about SQL
//! types and compare keys with `memcmp`. This crate turns a row of [`Value`]s (an index key, a
//! primary key, an MVCC key component) into bytes such that **comparing the bytes compares the
//! values** as PostgreSQL's default btree operator classes would, column by column, honouring
//! each column's `ASC`/`DESC` and `NULLS FIRST`/`NULLS LAST`. The encoding is also
//! **self-describing** (every value starts with a type tag, so a key decodes without a schema)
//! and **canonical** (values that are equal encode to identical bytes, and decoding accepts only
//! bytes the encoder could have produced, so `encode(decode(b)) == b` whenever decoding
//! succeeds).
//!
//! # Composite keys
//!
//! A key is the concatenation of its column encodings. Every column encoding is *prefix-free*
//! (its length is implied by its own bytes), so the first differing column decides the byte
//! comparison, exactly as a lexicographic comparison of the rows would. It follows that
//! encoding the first `k` values of a key yields a byte prefix of the full key, which is what
//! makes prefix range scans work.
//!
//! # One value, byte by byte
//!
//! A NULL is a single byte: `0x00` for `NULLS FIRST` (below every other first byte) or `0xFF`
//! for `NULLS LAST` (above every other first byte). A non-NULL value is a tag byte followed by a
//! body. Tags lie in `0x02..=0x35`, so no tag collides with either NULL byte, in either
//! direction (see *Descending columns* below):
//!
//! | tag    | type                | body                                                     |
//! |--------|---------------------|----------------------------------------------------------|
//! | `0x02` | `boolean`           | `0x00` false, `0x01` true                                |
//! | `0x03` | `smallint`          | 2 bytes, big-endian, sign bit flipped                    |
//! | `0x04` | `integer`           | 4 bytes, big-endian, sign bit flipped                    |
//! | `0x05` | `bigint`            | 8 bytes, big-endian, sign bit flipped                    |
//! | `0x06` | `real`              | 4 bytes, IEEE bits transformed (below)                   |
//! | `0x07` | `double precision`  | 8 bytes, IEEE bits transformed (below)                   |
//! | `0x10` | `numeric` -Infinity | none                                                     |
//! | `0x11` | `numeric` < 0       | complemented exponent and digits (below)                 |
//! | `0x12` | `numeric` 0         | none                                                     |
//! | `0x13` | `numeric` > 0       | exponent and digits (below)                              |
//! | `0x14` | `numeric` Infinity  | none                                                     |
//! | `0x15` | `numeric` NaN       | none                                                     |
//! | `0x20` | `text`              | escaped UTF-8 bytes, terminated (below)                  |
//! | `0x21` | `bytea`             | escaped bytes, terminated (below)                        |
//! | `0x30` | `date`              | 4 bytes (days), big-endian, sign bit flipped             |
//! | `0x31` | `time`              | 8 bytes (µs), big-endian, sign bit flipped               |
//! | `0x32` | `timestamp`         | 8 bytes (µs), big-endian, sign bit flipped               |
//! | `0x33` | `timestamptz`       | 8 bytes (µs UTC), big-endian, sign bit flipped           |
//! | `0x34` | `interval`          | span (16), months (4), days (4), µs (8), all sign-flipped |
//! | `0x35` | `uuid`              | the 16 raw bytes                                         |
//!
//! A column holds one type, so tags only ever compare against the same tag, except for the
//! numeric classes whose tags are ordered on purpose: -Infinity < negative < zero < positive <
//! Infinity < NaN, which is PostgreSQL's order.
//!
//! **Integers** (and dates, times, timestamps): two's complement big-endian orders negative
//! numbers above positive ones; flipping the sign bit maps `MIN..=MAX` monotonically onto
//! `0..=u::MAX`. Each width has its own tag so that decoding returns the same variant.
//!
//! **Floats**: `-0` is first rewritten to `0` and every NaN to the one canonical quiet NaN, so
//! values equal under PostgreSQL's rules encode identically. Then the IEEE bits of a number with
//! the sign bit clear get the sign bit set, and the bits of a negative number are complemented:
//! this orders `-inf < negatives < 0 < positives < +inf < NaN` (the positive canonical NaN has
//! the largest exponent and a nonzero mantissa, so it lands above `+inf`, as in PostgreSQL).
//!
//! **Numeric**: a finite nonzero value is written as `±0.d₁d₂…dₙ × 10^E` with `d₁ ≠ 0` and
//! `dₙ ≠ 0` (trailing zeros removed, so `1.50` and `1.5` encode the same). The body is `E`,
//! then the digits:
//!
//! * `E` uses an order-preserving variable-length signed integer: for `E ≥ 0`, a byte
//!   `0x80 + len` followed by the `len` big-endian bytes of `E` without leading zero bytes
//!   (`E = 0` is just `0x80`); for `E < 0`, let `m = -E - 1`, a byte `0x7F - len` followed by the
//!   complements of the `len` minimal big-endian bytes of `m`. More bytes means a larger
//!   magnitude, so the length byte already orders exponents of different sizes, and the
//!   payload orders exponents of the same size.
//! * Digits are packed two per byte, one per nibble, as `digit + 1` (so `1..=10`), and ended by
//!   a zero nibble (padded with a zero nibble to a whole byte; a zero byte if the digit count is
//!   even). Because the terminator is below every digit, `0.12 < 0.123`, and the digits of
//!   equal-exponent values compare as decimal fractions.
//!
//! For positive values a larger `E` means a larger value (`d₁ ≠ 0`), and for equal `E` the
//! digits decide. For negative values the order must be reversed, so the whole body (exponent
//! and digits) is complemented; both parts stay self-delimiting under complement because their
//! lengths are determined by bytes the decoder reads first. So `-0.5 < -0.05 < 0 < 0.001 < 1`,
//! and exponents are unbounded in practice (`1e-50`, `1e+1000` and 40-digit values all work).
//!
//! **Text and bytea**: the bytes, with each `0x00` escaped as `0x00 0xFF`, followed by the
//! terminator `0x00 0x00`. The terminator sorts below any content byte and below an escaped
//! `0x00`, so a string sorts before every longer string it is a prefix of (`"a" < "a\0" <
//! "ab"`), and the terminator cannot occur inside the escaped content, so the end of the value
//! is unambiguous. Text is compared by bytes, i.e. PostgreSQL's `C` collation.
//!
//! **Interval**: PostgreSQL orders intervals by their span with a month counted as 30 days, but
//! keeps the three fields apart because `'1 month'` and `'30 days'` add differently to a date.
//! The key therefore holds the span (as a sign-flipped 128-bit integer) first, so that keys order
//! as PostgreSQL does, then months, days and microseconds so that decoding is exact. *Known
//! difference:* intervals with equal spans but different fields (`'1 month'`, `'30 days'`) get
//! distinct keys, ordered by span and then by (months, days, µs). PostgreSQL's btree treats them
//! as equal; here they are adjacent but distinct, so a unique index would admit both, and an
//! equality lookup must scan the (contiguous) range of keys with that span.
//!
//! **UUID**: the 16 bytes, which is PostgreSQL's `uuid` order.
//!
//! # Descending columns
//!
//! A `DESC` column's value encoding (tag and body) has **every byte complemented**
//! (`b ↦ !b`). Complementing reverses byte order, and because every encoding is prefix-free no
//! complemented value is a prefix of another one, so the reversed order is exact even for
//! variable-length values: after the tag, text `"a"` becomes `!'a' 0xFF 0xFF` and `"ab"` becomes
//! `!'a' !'b' 0xFF 0xFF`, and `!'b' < 0xFF`, so `"ab"` sorts before `"a"`, as it should
//! descending. Complemented tags lie in `0xCA..=0xFD`, so they still never collide with the NULL
//! bytes. NULL is not complemented: its placement is chosen by [`NullsOrder`] alone, so
//! `DESC NULLS FIRST` (PostgreSQL's default for `DESC`) writes `0x00`.
//!
//! # Primitives
//!
//! [`encode_u64`] and [`encode_bytes`] are the untagged building blocks, for callers (the MVCC
//! layer) that define their own key layouts: a fixed 8-byte big-endian integer and the escaped,
//! terminated byte string described above.

mod numeric;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use zizhu_types::{Date, Interval, Time, Timestamp, Value};

/// Key encoding errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are not a valid key encoding (truncated, corrupt, or not canonical).
    #[error("invalid key encoding: {0}")]
    Decode(String),
    /// An invariant was broken: this is a bug.
    #[error("internal error (this is a bug): {0}")]
    Internal(String),
}

/// Key encoding result.
pub type Result<T> = std::result::Result<T, Error>;

fn decode_err(msg: impl Into<String>) -> Error {
    Error::Decode(msg.into())
}

/// The direction of a key column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Ascending: smaller values first.
    Asc,
    /// Descending: larger values first.
    Desc,
}

/// Where NULLs sort in a key column, independent of its direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NullsOrder {
    /// NULL sorts before every value.
    First,
    /// NULL sorts after every value.
    Last,
}

/// How one column of a key is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyColumn {
    /// Ascending or descending.
    pub order: SortOrder,
    /// NULLs first or last.
    pub nulls: NullsOrder,
}

impl KeyColumn {
    /// `ASC NULLS LAST`, PostgreSQL's default.
    pub const ASC: KeyColumn = KeyColumn {
        order: SortOrder::Asc,
        nulls: NullsOrder::Last,
    };
    /// `DESC NULLS FIRST`, PostgreSQL's default for `DESC`.
    pub const DESC: KeyColumn = KeyColumn {
        order: SortOrder::Desc,
        nulls: NullsOrder::First,
    };

    fn null_byte(self) -> u8 {
        match self.nulls {
            NullsOrder::First => NULL_FIRST,
            NullsOrder::Last => NULL_LAST,
        }
    }
}

impl Default for KeyColumn {
    fn default() -> Self {
        KeyColumn::ASC
    }
}

const NULL_FIRST: u8 = 0x00;
const NULL_LAST: u8 = 0xFF;

pub(crate) mod tag {
    pub const BOOL: u8 = 0x02;
    pub const INT16: u8 = 0x03;
    pub const INT32: u8 = 0x04;
    pub const INT64: u8 = 0x05;
    pub const FLOAT32: u8 = 0x06;
    pub const FLOAT64: u8 = 0x07;
    pub const NUMERIC_NEG_INF: u8 = 0x10;
    pub const NUMERIC_NEG: u8 = 0x11;
    pub const NUMERIC_ZERO: u8 = 0x12;
    pub const NUMERIC_POS: u8 = 0x13;
    pub const NUMERIC_INF: u8 = 0x14;
    pub const NUMERIC_NAN: u8 = 0x15;
    pub const TEXT: u8 = 0x20;
    pub const BYTES: u8 = 0x21;
    pub const DATE: u8 = 0x30;
    pub const TIME: u8 = 0x31;
    pub const TIMESTAMP: u8 = 0x32;
    pub const TIMESTAMPTZ: u8 = 0x33;
    pub const INTERVAL: u8 = 0x34;
    pub const UUID: u8 = 0x35;
}

/// The canonical NaN bit patterns the encoder writes (positive quiet NaNs).
const F64_NAN_BITS: u64 = 0x7FF8_0000_0000_0000;
const F32_NAN_BITS: u32 = 0x7FC0_0000;

/// Appends the encoding of one value, ordered as `column` says.
pub fn encode_value(out: &mut Vec<u8>, value: &Value, column: KeyColumn) {
    if value.is_null() {
        out.push(column.null_byte());
        return;
    }
    let start = out.len();
    encode_asc(out, value);
    if column.order == SortOrder::Desc {
        out[start..].iter_mut().for_each(|b| *b = !*b);
    }
}

/// Encodes a composite key: `values[i]` ordered as `columns[i]`.
///
/// `values` may be shorter than `columns`: the result is then the byte prefix shared by every
/// full key starting with those values, for prefix scans.
///
/// # Panics
///
/// If there are more values than columns (a caller bug).
pub fn encode_key(values: &[Value], columns: &[KeyColumn]) -> Vec<u8> {
    assert!(
        values.len() <= columns.len(),
        "encode_key: {} values for {} key columns",
        values.len(),
        columns.len()
    );
    let mut out = Vec::with_capacity(TYPICAL_VALUE_LEN * values.len());
    for (value, column) in values.iter().zip(columns) {
        encode_value(&mut out, value, *column);
    }
    out
}

/// Decodes a composite key of exactly `columns.len()` values that spans all of `bytes`.
pub fn decode_key(bytes: &[u8], columns: &[KeyColumn]) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(columns.len());
    let mut pos = 0;
    for column in columns {
        let rest = bytes.get(pos..).unwrap_or_default();
        let (value, used) = decode_value(rest, *column)?;
        values.push(value);
        pos += used;
    }
    if pos != bytes.len() {
        return Err(decode_err(format!(
            "{} trailing bytes after key",
            bytes.len() - pos
        )));
    }
    Ok(values)
}

/// Encodes values as an all-ascending key (`ASC NULLS LAST` for every column).
pub fn encode_tuple(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TYPICAL_VALUE_LEN * values.len());
    for value in values {
        encode_value(&mut out, value, KeyColumn::ASC);
    }
    out
}

/// Room reserved per value when encoding: a type tag and eight bytes, a `bigint`'s size, so
/// that keys of numbers and short strings are built without growing.
const TYPICAL_VALUE_LEN: usize = 10;

/// Decodes an all-ascending key of any number of values, consuming all of `bytes`.
pub fn decode_tuple(bytes: &[u8]) -> Result<Vec<Value>> {
    let mut values = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or_default();
        let (value, used) = decode_value(rest, KeyColumn::ASC)?;
        values.push(value);
        pos += used;
    }
    Ok(values)
}

/// Decodes the value at the start of `bytes`, returning it and how many bytes it used.
pub fn decode_value(bytes: &[u8], column: KeyColumn) -> Result<(Value, usize)> {
    let first = *bytes
        .first()
        .ok_or_else(|| decode_err("empty input, expected a value"))?;
    if first == column.null_byte() {
        return Ok((Value::Null, 1));
    }
    let mut reader = Reader {
        bytes,
        pos: 0,
        invert: column.order == SortOrder::Desc,
    };
    let tag = reader.byte()?;
    let value = decode_body(tag, &mut reader)?;
    Ok((value, reader.pos))
}

/// Appends `v` as 8 big-endian bytes (so byte order is numeric order).
pub fn encode_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Decodes an [`encode_u64`] integer at the start of `bytes`; returns it and the bytes used (8).
pub fn decode_u64(bytes: &[u8]) -> Result<(u64, usize)> {
    let mut reader = Reader::new(bytes);
    Ok((u64::from_be_bytes(reader.array()?), reader.pos))
}

/// Appends `b` escaped (`0x00` ↦ `0x00 0xFF`) and terminated (`0x00 0x00`).
///
/// The result orders as `b` does byte-wise, a shorter string before its extensions, and no
/// encoding is a prefix of another, so it can be followed by further key components.
pub fn encode_bytes(out: &mut Vec<u8>, b: &[u8]) {
    for &byte in b {
        out.push(byte);
        if byte == 0x00 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x00]);
}

/// Decodes, in place, the [`encode_bytes`] string that fills `buf[start..end]` (its terminator
/// included): `buf` then holds the string alone, and nothing is allocated.
pub fn decode_bytes_in_place(buf: &mut Vec<u8>, start: usize, end: usize) -> Result<()> {
    let end = end.min(buf.len());
    // A byte at a time: stored keys are short and full of escaped zeros (every small integer
    // has some), so copying the runs between them with `copy_within` cost a call per zero.
    let (mut read, mut write) = (start, 0);
    while read < end {
        let byte = buf[read];
        if byte != 0x00 {
            buf[write] = byte;
            write += 1;
            read += 1;
            continue;
        }
        match buf[..end].get(read + 1) {
            Some(0xFF) => {
                buf[write] = 0x00;
                write += 1;
                read += 2;
            }
            Some(0x00) if read + 2 == end => {
                buf.truncate(write);
                return Ok(());
            }
            Some(0x00) => return Err(decode_err("trailing bytes after key string")),
            Some(b) => return Err(decode_err(format!("invalid escape 0x00 {b:#04x}"))),
            None => return Err(decode_err("unexpected end of key")),
        }
    }
    Err(decode_err("unexpected end of key"))
}

/// Decodes an [`encode_bytes`] string at the start of `bytes`; returns it and the bytes used.
pub fn decode_bytes(bytes: &[u8]) -> Result<(Vec<u8>, usize)> {
    let mut reader = Reader::new(bytes);
    // Mostly the string is all of `bytes` (a stored user key): its length bounds the result.
    let b = reader.escaped_into(Vec::with_capacity(bytes.len()))?;
    Ok((b, reader.pos))
}

/// Renders an all-ascending key (an [`encode_tuple`] result) as `(accounts, 42)`, for logs and
/// test output. Bytes that do not decode are rendered as hex: `0x6a00`.
pub fn format_tuple(bytes: &[u8]) -> String {
    match decode_tuple(bytes) {
        Ok(values) => {
            let mut s = String::from("(");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "{value}");
            }
            s.push(')');
            s
        }
        Err(_) => {
            let mut s = String::from("0x");
            for b in bytes {
                let _ = write!(s, "{b:02x}");
            }
            s
        }
    }
}

/// Appends the ascending encoding (tag and body) of a non-NULL value.
fn encode_asc(out: &mut Vec<u8>, value: &Value) {
    match value {
        // Callers handle NULL; write the NULLS LAST byte rather than panic.
        Value::Null => out.push(NULL_LAST),
        Value::Bool(b) => out.extend_from_slice(&[tag::BOOL, u8::from(*b)]),
        Value::Int16(v) => {
            out.push(tag::INT16);
            out.extend_from_slice(&((*v as u16) ^ (1 << 15)).to_be_bytes());
        }
        Value::Int32(v) => put_i32(out, tag::INT32, *v),
        Value::Int64(v) => put_i64(out, tag::INT64, *v),
        Value::Float32(x) => {
            out.push(tag::FLOAT32);
            out.extend_from_slice(&f32_key(*x).to_be_bytes());
        }
        Value::Float64(x) => {
            out.push(tag::FLOAT64);
            out.extend_from_slice(&f64_key(*x).to_be_bytes());
        }
        Value::Numeric(n) => numeric::encode(out, n),
        Value::Text(s) => {
            out.push(tag::TEXT);
            encode_bytes(out, s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(tag::BYTES);
            encode_bytes(out, b);
        }
        Value::Date(d) => put_i32(out, tag::DATE, d.0),
        Value::Time(t) => put_i64(out, tag::TIME, t.0),
        Value::Timestamp(t) => put_i64(out, tag::TIMESTAMP, t.0),
        Value::TimestampTz(t) => put_i64(out, tag::TIMESTAMPTZ, t.0),
        Value::Interval(i) => {
            out.push(tag::INTERVAL);
            out.extend_from_slice(&((i.span() as u128) ^ (1 << 127)).to_be_bytes());
            out.extend_from_slice(&((i.months as u32) ^ (1 << 31)).to_be_bytes());
            out.extend_from_slice(&((i.days as u32) ^ (1 << 31)).to_be_bytes());
            out.extend_from_slice(&((i.micros as u64) ^ (1 << 63)).to_be_bytes());
        }
        Value::Uuid(u) => {
            out.push(tag::UUID);
            out.extend_from_slice(u);
        }
    }
}

fn put_i32(out: &mut Vec<u8>, tag: u8, v: i32) {
    out.push(tag);
    out.extend_from_slice(&((v as u32) ^ (1 << 31)).to_be_bytes());
}

fn put_i64(out: &mut Vec<u8>, tag: u8, v: i64) {
    out.push(tag);
    out.extend_from_slice(&((v as u64) ^ (1 << 63)).to_be_bytes());
}

/// Order-preserving bits of a canonicalised `f64`.
fn f64_key(x: f64) -> u64 {
    let bits = if x.is_nan() {
        F64_NAN_BITS
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    };
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// Inverse of [`f64_key`], rejecting keys the encoder never writes (`-0`, other NaNs).
fn f64_from_key(key: u64) -> Result<f64> {
    let bits = if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    };
    let x = f64::from_bits(bits);
    if (x.is_nan() && bits != F64_NAN_BITS) || bits == 1 << 63 {
        return Err(decode_err("non-canonical double precision value"));
    }
    Ok(x)
}

/// Order-preserving bits of a canonicalised `f32`.
fn f32_key(x: f32) -> u32 {
    let bits = if x.is_nan() {
        F32_NAN_BITS
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    };
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// Inverse of [`f32_key`], rejecting keys the encoder never writes (`-0`, other NaNs).
fn f32_from_key(key: u32) -> Result<f32> {
    let bits = if key >> 31 == 1 {
        key & !(1 << 31)
    } else {
        !key
    };
    let x = f32::from_bits(bits);
    if (x.is_nan() && bits != F32_NAN_BITS) || bits == 1 << 31 {
        return Err(decode_err("non-canonical real value"));
    }
    Ok(x)
}

/// Decodes the body of a value whose (already un-complemented) tag is `tag`.
fn decode_body(tag: u8, r: &mut Reader<'_>) -> Result<Value> {
    Ok(match tag {
        tag::BOOL => match r.byte()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            b => return Err(decode_err(format!("invalid boolean byte {b:#04x}"))),
        },
        tag::INT16 => Value::Int16((u16::from_be_bytes(r.array()?) ^ (1 << 15)) as i16),
        tag::INT32 => Value::Int32(r.i32()?),
        tag::INT64 => Value::Int64(r.i64()?),
        tag::FLOAT32 => Value::Float32(f32_from_key(u32::from_be_bytes(r.array()?))?),
        tag::FLOAT64 => Value::Float64(f64_from_key(u64::from_be_bytes(r.array()?))?),
        tag::NUMERIC_NEG_INF..=tag::NUMERIC_NAN => Value::Numeric(numeric::decode(tag, r)?),
        tag::TEXT => {
            let bytes = r.escaped()?;
            Value::Text(String::from_utf8(bytes).map_err(|_| decode_err("text is not UTF-8"))?)
        }
        tag::BYTES => Value::Bytes(r.escaped()?),
        tag::DATE => Value::Date(Date(r.i32()?)),
        tag::TIME => Value::Time(Time(r.i64()?)),
        tag::TIMESTAMP => Value::Timestamp(Timestamp(r.i64()?)),
        tag::TIMESTAMPTZ => Value::TimestampTz(Timestamp(r.i64()?)),
        tag::INTERVAL => {
            let span = (u128::from_be_bytes(r.array()?) ^ (1 << 127)) as i128;
            let interval = Interval {
                months: r.i32()?,
                days: r.i32()?,
                micros: r.i64()?,
            };
            if interval.span() != span {
                return Err(decode_err("interval span does not match its fields"));
            }
            Value::Interval(interval)
        }
        tag::UUID => Value::Uuid(r.array()?),
        t => return Err(decode_err(format!("unknown type tag {t:#04x}"))),
    })
}

/// A cursor over encoded bytes that complements them on the fly for descending columns.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    /// Bytes consumed so far.
    pos: usize,
    /// Whether to complement each byte read.
    pub(crate) invert: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            invert: false,
        }
    }

    pub(crate) fn byte(&mut self) -> Result<u8> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| decode_err("unexpected end of key"))?;
        self.pos += 1;
        Ok(if self.invert { !b } else { b })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        for x in a.iter_mut() {
            *x = self.byte()?;
        }
        Ok(a)
    }

    fn i32(&mut self) -> Result<i32> {
        Ok((u32::from_be_bytes(self.array()?) ^ (1 << 31)) as i32)
    }

    fn i64(&mut self) -> Result<i64> {
        Ok((u64::from_be_bytes(self.array()?) ^ (1 << 63)) as i64)
    }

    /// Reads an [`encode_bytes`] string.
    fn escaped(&mut self) -> Result<Vec<u8>> {
        self.escaped_into(Vec::new())
    }

    /// Reads an [`encode_bytes`] string, appending it to `out`.
    fn escaped_into(&mut self, mut out: Vec<u8>) -> Result<Vec<u8>> {
        if !self.invert {
            // Ascending: copy the runs between zero bytes whole.
            loop {
                let rest = self.bytes.get(self.pos..).unwrap_or_default();
                let zero = rest
                    .iter()
                    .position(|&b| b == 0x00)
                    .ok_or_else(|| decode_err("unexpected end of key"))?;
                out.extend_from_slice(&rest[..zero]);
                self.pos += zero + 1;
                match self.byte()? {
                    0x00 => return Ok(out),
                    0xFF => out.push(0x00),
                    b => return Err(decode_err(format!("invalid escape 0x00 {b:#04x}"))),
                }
            }
        }
        loop {
            match self.byte()? {
                0x00 => match self.byte()? {
                    0x00 => return Ok(out),
                    0xFF => out.push(0x00),
                    b => return Err(decode_err(format!("invalid escape 0x00 {b:#04x}"))),
                },
                b => out.push(b),
            }
        }
    }
}
