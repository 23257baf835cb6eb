//! Explicit casts (`CAST(x AS t)`, `x::t`) and assignment coercion (INSERT/UPDATE targets).

use zizhu_types::{Interval, Numeric, Time, Value};

use super::datatype::DataType;
use super::datetime::{date_to_timestamp, timestamp_to_date, timestamp_to_time, USECS_PER_DAY};
use super::numeric::{apply_typmod, check_float, float_to_numeric, numeric_to_f64, numeric_to_i64};
use super::text::{fit_owned, fit_string, parse_text, to_text};
use crate::errinput;
use crate::error::Result;

/// Casts a value to `to` with explicit-cast semantics (PostgreSQL's `pg_cast` entries plus I/O
/// conversion to and from text): integer overflow errors, float→integer rounds half to even,
/// numeric→integer rounds half away from zero, `numeric(p,s)` rounds and checks precision,
/// `varchar(n)`/`char(n)` truncate, text is parsed with the target's input function.
/// NULL stays NULL.
pub fn cast(value: Value, to: &DataType) -> Result<Value> {
    convert(value, to, true)
}

/// Coerces a value for storing into a column of type `to` (assignment context): like [`cast`],
/// except that `varchar(n)`/`char(n)` reject over-long values (unless the excess is blanks) and
/// the explicit-only casts (`integer` ↔ `boolean`) are refused.
///
/// Text values are parsed with the column type's input function: a `Value` does not say whether
/// it came from an untyped literal (`INSERT … VALUES ('2024-01-01')`, which PostgreSQL accepts)
/// or from a `text` expression (which it rejects); telling the two apart is the binder's job.
pub fn assign(value: Value, to: &DataType) -> Result<Value> {
    convert(value, to, false)
}

fn cannot_cast(from: &DataType, to: &DataType, explicit: bool) -> crate::Error {
    if explicit {
        errinput!(CannotCoerce, "cannot cast type {from} to {to}")
    } else {
        errinput!(
            DatatypeMismatch,
            "column is of type {to} but expression is of type {from}"
        )
    }
}

fn int_out_of_range(to: &DataType) -> crate::Error {
    errinput!(NumericValueOutOfRange, "{to} out of range")
}

/// An integer value in the range of the target integer type.
fn to_int(v: i64, to: &DataType) -> Result<Value> {
    Ok(match to {
        DataType::Int16 => Value::Int16(i16::try_from(v).map_err(|_| int_out_of_range(to))?),
        DataType::Int32 => Value::Int32(i32::try_from(v).map_err(|_| int_out_of_range(to))?),
        _ => Value::Int64(v),
    })
}

/// A float rounded half to even (`rint`) into the target integer type.
fn float_to_int(x: f64, to: &DataType) -> Result<Value> {
    let r = x.round_ties_even();
    let (min, end) = match to {
        DataType::Int16 => (i16::MIN as f64, -(i16::MIN as f64)),
        DataType::Int32 => (i32::MIN as f64, -(i32::MIN as f64)),
        _ => (i64::MIN as f64, -(i64::MIN as f64)),
    };
    if r.is_nan() || r < min || r >= end {
        return Err(int_out_of_range(to));
    }
    to_int(r as i64, to)
}

fn convert(value: Value, to: &DataType, explicit: bool) -> Result<Value> {
    use DataType as T;
    let from = DataType::of(&value);
    Ok(match (value, to) {
        (Value::Null, _) => Value::Null,
        (v, T::Unknown) => v,
        // To strings: the source's output function, then the length rule.
        (Value::Bool(b), T::Text | T::Varchar(_) | T::Char(_)) => {
            let s = if b { "true" } else { "false" };
            Value::Text(fit_string(s, to, explicit)?)
        }
        (Value::Text(s), T::Text | T::Varchar(_) | T::Char(_)) => {
            Value::Text(fit_owned(s, to, explicit)?)
        }
        (v, T::Text | T::Varchar(_) | T::Char(_)) => {
            Value::Text(fit_string(&to_text(&v), to, explicit)?)
        }
        // From strings: the target's input function.
        (Value::Text(s), _) => parse_text(&s, to)?,

        // Integers.
        (Value::Int16(i), T::Int16 | T::Int32 | T::Int64) => to_int(i as i64, to)?,
        (Value::Int32(i), T::Int16 | T::Int32 | T::Int64) => to_int(i as i64, to)?,
        (Value::Int64(i), T::Int16 | T::Int32 | T::Int64) => to_int(i, to)?,
        (Value::Float32(x), T::Int16 | T::Int32 | T::Int64) => float_to_int(x as f64, to)?,
        (Value::Float64(x), T::Int16 | T::Int32 | T::Int64) => float_to_int(x, to)?,
        (Value::Numeric(n), T::Int16 | T::Int32 | T::Int64) => match numeric_to_i64(&n)? {
            Some(v) => to_int(v, to)?,
            None => return Err(int_out_of_range(to)),
        },
        (Value::Int16(i), T::Oid(_)) => oid(i as i64, to)?,
        (Value::Int32(i), T::Oid(_)) => oid(i as i64, to)?,
        (Value::Int64(i), T::Oid(_)) => oid(i, to)?,
        (Value::Bool(b), T::Int32) if explicit => Value::Int32(b as i32),
        (Value::Int32(i), T::Bool) if explicit => Value::Bool(i != 0),

        // Floats.
        (Value::Int16(i), T::Float32) => Value::Float32(i as f32),
        (Value::Int32(i), T::Float32) => Value::Float32(i as f32),
        (Value::Int64(i), T::Float32) => Value::Float32(i as f32),
        (Value::Int16(i), T::Float64) => Value::Float64(i as f64),
        (Value::Int32(i), T::Float64) => Value::Float64(i as f64),
        (Value::Int64(i), T::Float64) => Value::Float64(i as f64),
        (Value::Float32(x), T::Float32) => Value::Float32(x),
        (Value::Float32(x), T::Float64) => Value::Float64(x as f64),
        (Value::Float64(x), T::Float64) => Value::Float64(x),
        (Value::Float64(x), T::Float32) => {
            let narrow = x as f32;
            check_float(narrow as f64, x.is_infinite(), x == 0.0)?;
            Value::Float32(narrow)
        }
        (Value::Numeric(n), T::Float64) => Value::Float64(numeric_to_f64(&n)?),
        (Value::Numeric(n), T::Float32) => {
            let x = numeric_to_f64(&n)?;
            let narrow = x as f32;
            check_float(narrow as f64, x.is_infinite(), x == 0.0)?;
            Value::Float32(narrow)
        }

        // Numerics.
        (v @ (Value::Int16(_) | Value::Int32(_) | Value::Int64(_)), T::Numeric(typmod)) => {
            let i = match v {
                Value::Int16(i) => i as i64,
                Value::Int32(i) => i as i64,
                Value::Int64(i) => i,
                _ => 0,
            };
            numeric_typmod(Numeric::finite(i.into()), typmod)?
        }
        (Value::Float32(x), T::Numeric(typmod)) => {
            numeric_typmod(float_to_numeric(x as f64, 6), typmod)?
        }
        (Value::Float64(x), T::Numeric(typmod)) => numeric_typmod(float_to_numeric(x, 15), typmod)?,
        (Value::Numeric(n), T::Numeric(typmod)) => numeric_typmod(n, typmod)?,

        // Date and time.
        (Value::Date(d), T::Date) => Value::Date(d),
        (Value::Date(d), T::Timestamp) => Value::Timestamp(date_to_timestamp(d)?),
        (Value::Date(d), T::TimestampTz) => Value::TimestampTz(date_to_timestamp(d)?),
        (Value::Timestamp(t) | Value::TimestampTz(t), T::Date) => Value::Date(timestamp_to_date(t)),
        (Value::Timestamp(t) | Value::TimestampTz(t), T::Time) => Value::Time(timestamp_to_time(t)),
        (Value::Timestamp(t) | Value::TimestampTz(t), T::Timestamp) => Value::Timestamp(t),
        (Value::Timestamp(t) | Value::TimestampTz(t), T::TimestampTz) => Value::TimestampTz(t),
        (Value::Time(t), T::Time) => Value::Time(t),
        (Value::Time(t), T::Interval) => Value::Interval(Interval {
            months: 0,
            days: 0,
            micros: t.0,
        }),
        (Value::Interval(i), T::Time) => Value::Time(Time(i.micros.rem_euclid(USECS_PER_DAY))),
        (Value::Interval(i), T::Interval) => Value::Interval(i),

        (v @ (Value::Bool(_) | Value::Bytes(_) | Value::Uuid(_)), _) if DataType::of(&v) == *to => {
            v
        }
        _ => return Err(cannot_cast(&from, to, explicit)),
    })
}

/// An integer as an object identifier (negative 32-bit numbers wrap, as in PostgreSQL).
fn oid(v: i64, to: &DataType) -> Result<Value> {
    super::pg_type::wrap_oid(v)
        .map(Value::Int64)
        .ok_or_else(|| int_out_of_range(to))
}

fn numeric_typmod(n: Numeric, typmod: &Option<(u32, u32)>) -> Result<Value> {
    Ok(Value::Numeric(match typmod {
        Some((p, s)) => apply_typmod(n, *p, *s)?,
        None => n,
    }))
}
