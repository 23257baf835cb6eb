//! Comparison and arithmetic operators with PostgreSQL's operand promotion and result types.
//!
//! Numeric operands are promoted along PostgreSQL's implicit-cast ladder: integers widen to the
//! wider integer (`int2 + int4` is `int4`), integers and `numeric` meet in `numeric`, and any
//! float operand makes the operation `double precision` (except `real op real`, which stays
//! `real`; PostgreSQL resolves `integer + real` to `double precision`). Every function returns
//! NULL when an operand is NULL.

use std::cmp::Ordering;

use zizhu_types::{float_cmp, Interval, Numeric, Time, Timestamp, Value};

use super::datatype::DataType;
use super::datetime::{check_date, date_is_infinite, date_to_timestamp, USECS_PER_DAY};
use super::interval::{
    interval_add, interval_neg, interval_scale, timestamp_add_interval, timestamp_diff,
};
use super::numeric::{float_op, numeric_neg, numeric_op, numeric_to_f64, Op};
use super::text::to_text;
use crate::errinput;
use crate::error::Result;

/// The integer types by rank, for [`Num::Int`] without building a type per operation.
static INT_TYPES: [DataType; 3] = [DataType::Int16, DataType::Int32, DataType::Int64];

/// A numeric operand after promotion.
enum Num {
    Int(i64, &'static DataType),
    Exact(Numeric),
    Float(f64, bool),
}

/// The rank of a numeric value: 0-2 integers by width, 3 numeric, 4 real, 5 double.
fn rank(v: &Value) -> Option<u8> {
    Some(match v {
        Value::Int16(_) => 0,
        Value::Int32(_) => 1,
        Value::Int64(_) => 2,
        Value::Numeric(_) => 3,
        Value::Float32(_) => 4,
        Value::Float64(_) => 5,
        _ => return None,
    })
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int16(i) => Some(*i as i64),
        Value::Int32(i) => Some(*i as i64),
        Value::Int64(i) => Some(*i),
        _ => None,
    }
}

fn as_numeric(v: &Value) -> Numeric {
    match v {
        Value::Numeric(n) => n.clone(),
        other => Numeric::finite(as_i64(other).unwrap_or(0).into()),
    }
}

fn as_f64(v: &Value) -> Result<f64> {
    Ok(match v {
        Value::Float32(x) => *x as f64,
        Value::Float64(x) => *x,
        Value::Numeric(n) => numeric_to_f64(n)?,
        other => as_i64(other).unwrap_or(0) as f64,
    })
}

/// Promotes two numeric operands to a common kind; `None` if either is not numeric.
fn promote(a: &Value, b: &Value) -> Result<Option<(Num, Num)>> {
    let (Some(ra), Some(rb)) = (rank(a), rank(b)) else {
        return Ok(None);
    };
    let top = ra.max(rb);
    Ok(Some(match top {
        0..=2 => {
            let ty = &INT_TYPES[top as usize];
            (
                Num::Int(as_i64(a).unwrap_or(0), ty),
                Num::Int(as_i64(b).unwrap_or(0), ty),
            )
        }
        3 => (Num::Exact(as_numeric(a)), Num::Exact(as_numeric(b))),
        _ => {
            let narrow = ra == 4 && rb == 4;
            (
                Num::Float(as_f64(a)?, narrow),
                Num::Float(as_f64(b)?, narrow),
            )
        }
    }))
}

/// The timestamp a date/timestamp operand denotes, for mixed comparisons and subtraction.
fn as_timestamp(v: &Value) -> Result<Option<Timestamp>> {
    Ok(match v {
        Value::Date(d) => Some(date_to_timestamp(*d)?),
        Value::Timestamp(t) | Value::TimestampTz(t) => Some(*t),
        _ => None,
    })
}

/// Compares two values as PostgreSQL's comparison operators do: numbers across widths and
/// kinds (integers and `numeric` exactly, anything with a float as `double precision`), dates
/// with timestamps, text by bytes (C collation). `None` if either operand is NULL.
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>> {
    if a.is_null() || b.is_null() {
        return Ok(None);
    }
    if let Some(ord) = a.cmp_same_type(b) {
        return Ok(Some(ord));
    }
    if let Some(pair) = promote(a, b)? {
        return Ok(Some(match pair {
            (Num::Int(x, _), Num::Int(y, _)) => x.cmp(&y),
            (Num::Exact(x), Num::Exact(y)) => x.cmp(&y),
            (Num::Float(x, _), Num::Float(y, _)) => float_cmp(x, y),
            _ => return Err(crate::errinternal!("mixed numeric promotion")),
        }));
    }
    if let (Some(x), Some(y)) = (as_timestamp(a)?, as_timestamp(b)?) {
        return Ok(Some(x.cmp(&y)));
    }
    Err(errinput!(
        DatatypeMismatch,
        "cannot compare values of type {} and {}",
        DataType::of(a),
        DataType::of(b)
    ))
}

fn no_operator(op: &str, a: &Value, b: &Value) -> crate::Error {
    errinput!(
        UndefinedFunction,
        "operator does not exist: {} {op} {}",
        DataType::of(a),
        DataType::of(b)
    )
}

fn int_result(v: Option<i64>, ty: &DataType) -> Result<Value> {
    let out_of_range = || errinput!(NumericValueOutOfRange, "{ty} out of range");
    let v = v.ok_or_else(out_of_range)?;
    Ok(match ty {
        DataType::Int16 => Value::Int16(i16::try_from(v).map_err(|_| out_of_range())?),
        DataType::Int32 => Value::Int32(i32::try_from(v).map_err(|_| out_of_range())?),
        _ => Value::Int64(v),
    })
}

/// Applies an arithmetic operator to two numeric operands; `None` if they are not numeric.
fn arith(op: Op, a: &Value, b: &Value) -> Result<Option<Value>> {
    let Some(pair) = promote(a, b)? else {
        return Ok(None);
    };
    Ok(Some(match pair {
        (Num::Int(x, ty), Num::Int(y, _)) => {
            let r = match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                Op::Mul => x.checked_mul(y),
                Op::Div | Op::Mod if y == 0 => {
                    return Err(errinput!(DivisionByZero, "division by zero"))
                }
                // x % -1 is 0 even for the most negative x.
                Op::Mod if y == -1 => Some(0),
                Op::Div => x.checked_div(y),
                Op::Mod => x.checked_rem(y),
            };
            // Check the width of the promoted type (int2 + int2 overflows at 32767).
            int_result(r, ty)?
        }
        (Num::Exact(x), Num::Exact(y)) => Value::Numeric(numeric_op(op, &x, &y)?),
        (Num::Float(x, narrow), Num::Float(y, _)) => {
            if op == Op::Mod {
                return Err(no_operator("%", a, b));
            }
            let r = float_op(op, x, y, narrow)?;
            if narrow {
                Value::Float32(r as f32)
            } else {
                Value::Float64(r)
            }
        }
        _ => return Err(crate::errinternal!("mixed numeric promotion")),
    }))
}

/// An `int2`/`int4` day count (PostgreSQL's `date + integer` takes `integer`).
fn day_count(v: &Value) -> Option<i64> {
    match v {
        Value::Int16(i) => Some(*i as i64),
        Value::Int32(i) => Some(*i as i64),
        _ => None,
    }
}

fn date_plus_days(d: zizhu_types::Date, days: i64) -> Result<Value> {
    if date_is_infinite(d) {
        return Ok(Value::Date(d));
    }
    Ok(Value::Date(check_date(Some(d.0 as i64 + days))?))
}

fn time_plus(t: Time, micros: i64) -> Value {
    Value::Time(Time(
        (t.0 + micros % USECS_PER_DAY).rem_euclid(USECS_PER_DAY),
    ))
}

fn date_plus_time(d: zizhu_types::Date, t: Time) -> Result<Value> {
    let ts = date_to_timestamp(d)?;
    if date_is_infinite(d) {
        return Ok(Value::Timestamp(ts));
    }
    Ok(Value::Timestamp(super::datetime::check_timestamp(
        ts.0.checked_add(t.0),
    )?))
}

/// `a + b`.
pub fn add(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if let Some(v) = arith(Op::Add, a, b)? {
        return Ok(v);
    }
    Ok(match (a, b) {
        (Value::Date(d), n) | (n, Value::Date(d)) if day_count(n).is_some() => {
            date_plus_days(*d, day_count(n).unwrap_or(0))?
        }
        (Value::Date(d), Value::Interval(i)) | (Value::Interval(i), Value::Date(d)) => {
            Value::Timestamp(timestamp_add_interval(date_to_timestamp(*d)?, i)?)
        }
        (Value::Date(d), Value::Time(t)) | (Value::Time(t), Value::Date(d)) => {
            date_plus_time(*d, *t)?
        }
        (Value::Timestamp(t), Value::Interval(i)) | (Value::Interval(i), Value::Timestamp(t)) => {
            Value::Timestamp(timestamp_add_interval(*t, i)?)
        }
        (Value::TimestampTz(t), Value::Interval(i))
        | (Value::Interval(i), Value::TimestampTz(t)) => {
            Value::TimestampTz(timestamp_add_interval(*t, i)?)
        }
        (Value::Time(t), Value::Interval(i)) | (Value::Interval(i), Value::Time(t)) => {
            time_plus(*t, i.micros)
        }
        (Value::Interval(x), Value::Interval(y)) => Value::Interval(interval_add(x, y, 1)?),
        _ => return Err(no_operator("+", a, b)),
    })
}

/// `a - b`.
pub fn sub(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if let Some(v) = arith(Op::Sub, a, b)? {
        return Ok(v);
    }
    Ok(match (a, b) {
        (Value::Date(d), n) if day_count(n).is_some() => {
            date_plus_days(*d, -day_count(n).unwrap_or(0))?
        }
        (Value::Date(x), Value::Date(y)) => {
            if date_is_infinite(*x) || date_is_infinite(*y) {
                return Err(errinput!(
                    DatetimeFieldOverflow,
                    "cannot subtract infinite dates"
                ));
            }
            Value::Int32(x.0 - y.0)
        }
        (Value::Date(d), Value::Interval(i)) => Value::Timestamp(timestamp_add_interval(
            date_to_timestamp(*d)?,
            &interval_neg(i)?,
        )?),
        (Value::Timestamp(t), Value::Interval(i)) => {
            Value::Timestamp(timestamp_add_interval(*t, &interval_neg(i)?)?)
        }
        (Value::TimestampTz(t), Value::Interval(i)) => {
            Value::TimestampTz(timestamp_add_interval(*t, &interval_neg(i)?)?)
        }
        (Value::Time(x), Value::Time(y)) => Value::Interval(Interval {
            months: 0,
            days: 0,
            micros: x.0 - y.0,
        }),
        (Value::Time(t), Value::Interval(i)) => time_plus(*t, -(i.micros % USECS_PER_DAY)),
        (Value::Interval(x), Value::Interval(y)) => Value::Interval(interval_add(x, y, -1)?),
        (Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_), _) => {
            match (as_timestamp(a)?, as_timestamp(b)?) {
                (Some(x), Some(y)) => Value::Interval(timestamp_diff(x, y)?),
                _ => return Err(no_operator("-", a, b)),
            }
        }
        _ => return Err(no_operator("-", a, b)),
    })
}

/// A numeric operand of `interval * n` as a float.
fn factor(v: &Value) -> Result<Option<f64>> {
    Ok(match rank(v) {
        Some(_) => Some(as_f64(v)?),
        None => None,
    })
}

/// `a * b`.
pub fn mul(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if let Some(v) = arith(Op::Mul, a, b)? {
        return Ok(v);
    }
    match (a, b) {
        (Value::Interval(i), n) | (n, Value::Interval(i)) => match factor(n)? {
            Some(f) => Ok(Value::Interval(interval_scale(i, f, false)?)),
            None => Err(no_operator("*", a, b)),
        },
        _ => Err(no_operator("*", a, b)),
    }
}

/// `a / b`: integer division truncates toward zero; numeric division uses PostgreSQL's result
/// scale; division by zero is an error for every numeric type.
pub fn div(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if let Some(v) = arith(Op::Div, a, b)? {
        return Ok(v);
    }
    match (a, b) {
        (Value::Interval(i), n) => match factor(n)? {
            Some(f) => Ok(Value::Interval(interval_scale(i, f, true)?)),
            None => Err(no_operator("/", a, b)),
        },
        _ => Err(no_operator("/", a, b)),
    }
}

/// `a % b` (integers and numeric; the sign follows the dividend).
pub fn modulo(a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    arith(Op::Mod, a, b)?.ok_or_else(|| no_operator("%", a, b))
}

/// Unary minus.
pub fn neg(a: &Value) -> Result<Value> {
    Ok(match a {
        Value::Null => Value::Null,
        Value::Int16(i) => int_result(Some(-(*i as i64)), &DataType::Int16)?,
        Value::Int32(i) => int_result(Some(-(*i as i64)), &DataType::Int32)?,
        Value::Int64(i) => int_result(i.checked_neg(), &DataType::Int64)?,
        Value::Float32(x) => Value::Float32(-x),
        Value::Float64(x) => Value::Float64(-x),
        Value::Numeric(n) => Value::Numeric(numeric_neg(n)),
        Value::Interval(i) => Value::Interval(interval_neg(i)?),
        other => {
            return Err(errinput!(
                UndefinedFunction,
                "operator does not exist: - {}",
                DataType::of(other)
            ))
        }
    })
}

/// `a || b`: text with anything non-NULL gives text (the other operand cast to text);
/// `bytea || bytea` gives bytea; NULL gives NULL.
pub fn concat(a: &Value, b: &Value) -> Result<Value> {
    Ok(match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Value::Null,
        (Value::Bytes(x), Value::Bytes(y)) => Value::Bytes([x.as_slice(), y.as_slice()].concat()),
        // PostgreSQL defines `anynonarray || text` as `$1::text || $2`: the cast, so booleans
        // give `true`, not the output function's `t`.
        (Value::Text(_), _) | (_, Value::Text(_)) => {
            let text = |v: &Value| -> Result<String> {
                Ok(match super::cast(v.clone(), &DataType::Text)? {
                    Value::Text(s) => s,
                    other => to_text(&other),
                })
            };
            Value::Text(text(a)? + &text(b)?)
        }
        _ => return Err(no_operator("||", a, b)),
    })
}
