//! SQL data values shared by every ZizhuDB layer.
//!
//! [`Value`] is the datum the SQL engine computes with and the key encoder
//! ([`zizhu-keycode`](../zizhu_keycode/index.html)) orders. It lives in its own crate, below
//! storage, so that the storage layer can encode index keys without knowing anything else about
//! SQL. Representations follow PostgreSQL's, so that conversions at the protocol edge are exact:
//! dates count days from 2000-01-01, times and timestamps count microseconds, intervals keep
//! months, days and microseconds apart.

use std::cmp::Ordering;
use std::fmt;

pub use bigdecimal::BigDecimal;

/// An exact numeric value (PostgreSQL `numeric`), including its special values.
///
/// Ordering follows PostgreSQL: `-Infinity` < every finite value < `Infinity` < `NaN`, and `NaN`
/// equals itself. Finite values compare by value, so `1.50 = 1.5`.
#[derive(Clone, Debug)]
pub enum Numeric {
    /// Negative infinity.
    NegInfinity,
    /// A finite, exact value of arbitrary precision. Boxed: a `BigDecimal` is 40 bytes, and
    /// unboxed it made every [`Value`] 40 bytes (32 boxed), which every row, sort and hash
    /// table paid for.
    Finite(Box<BigDecimal>),
    /// Positive infinity.
    Infinity,
    /// Not a number; sorts above everything, as in PostgreSQL.
    NaN,
}

impl Numeric {
    /// A finite value.
    pub fn finite(d: BigDecimal) -> Numeric {
        Numeric::Finite(Box::new(d))
    }

    fn rank(&self) -> u8 {
        match self {
            Numeric::NegInfinity => 0,
            Numeric::Finite(_) => 1,
            Numeric::Infinity => 2,
            Numeric::NaN => 3,
        }
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Numeric {}
impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Numeric {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Numeric::Finite(a), Numeric::Finite(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Numeric::NegInfinity => f.write_str("-Infinity"),
            Numeric::Finite(d) => write!(f, "{}", d.to_plain_string()),
            Numeric::Infinity => f.write_str("Infinity"),
            Numeric::NaN => f.write_str("NaN"),
        }
    }
}

/// A calendar date: days since 2000-01-01 (PostgreSQL's epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// A time of day without time zone: microseconds since midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

/// A point in time: microseconds since 2000-01-01 00:00:00 (UTC for `timestamptz`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A time span with PostgreSQL's three separate fields.
///
/// Equality and ordering are PostgreSQL's: the span is compared as if a month were 30 days and a
/// day 24 hours, so `'1 month' = '30 days'`. The fields are kept apart because adding a month to
/// a date is not adding 30 days.
#[derive(Clone, Copy, Debug)]
pub struct Interval {
    /// Whole months.
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}

impl Interval {
    /// Microseconds per day, as PostgreSQL counts them for comparison.
    pub const MICROS_PER_DAY: i128 = 86_400_000_000;

    /// The span in microseconds, with a month as 30 days: the key PostgreSQL compares by.
    pub fn span(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * Self::MICROS_PER_DAY + self.micros as i128
    }
}

impl PartialEq for Interval {
    fn eq(&self, other: &Self) -> bool {
        self.span() == other.span()
    }
}
impl Eq for Interval {}
impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Interval {
    fn cmp(&self, other: &Self) -> Ordering {
        self.span().cmp(&other.span())
    }
}

/// One SQL datum.
///
/// Integer widths and float widths are distinct variants because PostgreSQL's overflow rules
/// depend on the declared type. `Null` is a value here; three-valued logic is the evaluator's job.
#[derive(Clone, Debug)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// `boolean`.
    Bool(bool),
    /// `smallint`.
    Int16(i16),
    /// `integer`.
    Int32(i32),
    /// `bigint`.
    Int64(i64),
    /// `real`.
    Float32(f32),
    /// `double precision`.
    Float64(f64),
    /// `numeric`.
    Numeric(Numeric),
    /// `text`, `varchar(n)`, `char(n)`.
    Text(String),
    /// `bytea`.
    Bytes(Vec<u8>),
    /// `date`.
    Date(Date),
    /// `time`.
    Time(Time),
    /// `timestamp` (without time zone).
    Timestamp(Timestamp),
    /// `timestamptz`, stored as UTC.
    TimestampTz(Timestamp),
    /// `interval`.
    Interval(Interval),
    /// `uuid`.
    Uuid([u8; 16]),
}

impl Value {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Compares floats as PostgreSQL does: `NaN` equals itself and sorts above every number, and
/// `-0 = 0`.
pub fn float_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

impl PartialEq for Value {
    /// Equality of values of the same type, with PostgreSQL's rules for floats, numerics and
    /// intervals. NULL equals NULL here (this is identity, as in a key, not SQL's `=`). Values of
    /// different types are unequal.
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int16(a), Int16(b)) => a == b,
            (Int32(a), Int32(b)) => a == b,
            (Int64(a), Int64(b)) => a == b,
            (Float32(a), Float32(b)) => float_cmp(*a as f64, *b as f64).is_eq(),
            (Float64(a), Float64(b)) => float_cmp(*a, *b).is_eq(),
            (Numeric(a), Numeric(b)) => a == b,
            (Text(a), Text(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            (Timestamp(a), Timestamp(b)) => a == b,
            (TimestampTz(a), TimestampTz(b)) => a == b,
            (Interval(a), Interval(b)) => a == b,
            (Uuid(a), Uuid(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    /// Orders two values of the same type as PostgreSQL's default btree operator class does
    /// (text by bytes, as in the C collation). Returns `None` for values of different types.
    /// NULL is not ordered here: where NULLs sort is a property of the sort or index, not the
    /// value.
    pub fn cmp_same_type(&self, other: &Self) -> Option<Ordering> {
        use Value::*;
        Some(match (self, other) {
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int16(a), Int16(b)) => a.cmp(b),
            (Int32(a), Int32(b)) => a.cmp(b),
            (Int64(a), Int64(b)) => a.cmp(b),
            (Float32(a), Float32(b)) => float_cmp(*a as f64, *b as f64),
            (Float64(a), Float64(b)) => float_cmp(*a, *b),
            (Numeric(a), Numeric(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (TimestampTz(a), TimestampTz(b)) => a.cmp(b),
            (Interval(a), Interval(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

impl fmt::Display for Value {
    /// A compact rendering for keys in test output and debugging (`Row(accounts, 42)@17`); the
    /// PostgreSQL text output format belongs to the SQL layer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int16(i) => write!(f, "{i}"),
            Value::Int32(i) => write!(f, "{i}"),
            Value::Int64(i) => write!(f, "{i}"),
            Value::Float32(x) => write!(f, "{x}"),
            Value::Float64(x) => write!(f, "{x}"),
            Value::Numeric(n) => write!(f, "{n}"),
            Value::Text(s) => write!(f, "{s}"),
            Value::Bytes(b) => {
                f.write_str("\\x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            Value::Date(d) => write!(f, "date:{}", d.0),
            Value::Time(t) => write!(f, "time:{}", t.0),
            Value::Timestamp(t) => write!(f, "ts:{}", t.0),
            Value::TimestampTz(t) => write!(f, "tstz:{}", t.0),
            Value::Interval(i) => write!(f, "interval:{}m{}d{}us", i.months, i.days, i.micros),
            Value::Uuid(u) => u.iter().enumerate().try_for_each(|(i, byte)| {
                if matches!(i, 4 | 6 | 8 | 10) {
                    f.write_str("-")?;
                }
                write!(f, "{byte:02x}")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row, sort and hash table holds values by the million: a variant that outgrows a
    /// string's 24 bytes (plus the tag) makes them all bigger.
    #[test]
    fn a_value_is_a_string_and_a_tag() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn numeric_orders_like_postgres() {
        let one: BigDecimal = "1.50".parse().unwrap();
        let one_b: BigDecimal = "1.5".parse().unwrap();
        assert_eq!(Numeric::finite(one.clone()), Numeric::finite(one_b));
        assert!(Numeric::NegInfinity < Numeric::finite(one.clone()));
        assert!(Numeric::finite(one) < Numeric::Infinity);
        assert!(Numeric::Infinity < Numeric::NaN);
        assert_eq!(Numeric::NaN, Numeric::NaN);
    }

    #[test]
    fn floats_order_like_postgres() {
        assert_eq!(float_cmp(f64::NAN, f64::NAN), Ordering::Equal);
        assert_eq!(float_cmp(f64::NAN, f64::INFINITY), Ordering::Greater);
        assert_eq!(float_cmp(-0.0, 0.0), Ordering::Equal);
    }

    #[test]
    fn interval_month_equals_thirty_days() {
        let month = Interval {
            months: 1,
            days: 0,
            micros: 0,
        };
        let days = Interval {
            months: 0,
            days: 30,
            micros: 0,
        };
        assert_eq!(month, days);
    }
}
