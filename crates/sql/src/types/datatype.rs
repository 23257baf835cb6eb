//! SQL data types as PostgreSQL names and constrains them.

use std::fmt;

use zizhu_types::Value;

/// A column or expression type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `boolean`
    Bool,
    /// `smallint`
    Int16,
    /// `integer`
    Int32,
    /// `bigint`
    Int64,
    /// `real`
    Float32,
    /// `double precision`
    Float64,
    /// `numeric(p, s)`; `None` is unconstrained.
    Numeric(Option<(u32, u32)>),
    /// `text`
    Text,
    /// `character varying(n)`
    Varchar(Option<u32>),
    /// `character(n)` (blank-padded)
    Char(u32),
    /// `bytea`
    Bytea,
    /// `date`
    Date,
    /// `time without time zone`
    Time,
    /// `timestamp without time zone`
    Timestamp,
    /// `timestamp with time zone`
    TimestampTz,
    /// `interval`
    Interval,
    /// `uuid`
    Uuid,
    /// `oid` and its aliases that print as names (`regclass`, ...), carried as `Int64`.
    Oid(OidAlias),
    /// A one-dimensional array, carried as its canonical text form (`{1,2}`); see
    /// [`super::array`]. Arrays appear in expressions and the system catalogs, not yet in
    /// user tables.
    Array(Box<DataType>),
    /// `int2vector` (of `smallint`) or `oidvector` (of `oid`): arrays of the system catalogs
    /// that print space-separated (`1 2`) and subscript from 0.
    Vector(Box<DataType>),
    /// An anonymous record with these fields, carried as its text form (`(1,2)`); see
    /// [`super::array`]. Only set-returning functions make them so far.
    Record(Vec<(String, DataType)>),
    /// `json` as `json_build_object` makes it, carried as its text. Values of it are built
    /// by the engine only: there is no `json` input, operator or column type yet.
    Json,
    /// `jsonb`: stored as its canonical text ([`crate::types::json`]).
    Jsonb,
    /// The type of an untyped literal or NULL before context decides (PostgreSQL's `unknown`).
    Unknown,
}

/// Which spelling of an object identifier: `oid` prints as a number, the `reg*` aliases as
/// the name of the object with that identifier (PostgreSQL's `regclass` and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OidAlias {
    /// `oid`
    Oid,
    /// `regclass`: a relation (table, index, view, sequence).
    RegClass,
    /// `regtype`: a type.
    RegType,
    /// `regnamespace`: a schema.
    RegNamespace,
    /// `regproc`: a function.
    RegProc,
    /// `regrole`: a role.
    RegRole,
}

impl OidAlias {
    /// Its SQL name.
    pub fn name(self) -> &'static str {
        match self {
            OidAlias::Oid => "oid",
            OidAlias::RegClass => "regclass",
            OidAlias::RegType => "regtype",
            OidAlias::RegNamespace => "regnamespace",
            OidAlias::RegProc => "regproc",
            OidAlias::RegRole => "regrole",
        }
    }
}

impl DataType {
    /// The element type of an array or vector type.
    pub fn element(&self) -> Option<&DataType> {
        match self {
            DataType::Array(element) | DataType::Vector(element) => Some(element),
            _ => None,
        }
    }

    /// Whether values of this type are integers, exact or floating numbers.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Float32
                | DataType::Float64
                | DataType::Numeric(_)
        )
    }

    /// Whether this is a character string type.
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_)
        )
    }

    /// Whether this is a scalar type with no implicit cast to another kind: numbers,
    /// strings, dates and timestamps, booleans, `bytea`, `uuid`. Two of these that
    /// [`common`](Self::common) cannot join cannot meet in PostgreSQL either.
    pub fn is_plain(&self) -> bool {
        matches!(
            self,
            DataType::Bool
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Numeric(_)
                | DataType::Float32
                | DataType::Float64
                | DataType::Text
                | DataType::Varchar(_)
                | DataType::Char(_)
                | DataType::Date
                | DataType::Timestamp
                | DataType::TimestampTz
                | DataType::Bytea
                | DataType::Uuid
        )
    }

    /// The type without its modifier (length, precision): what a value is converted to when
    /// a column takes values of several types, as PostgreSQL's common type without typmod.
    pub fn unmodified(self) -> DataType {
        match self {
            DataType::Varchar(_) => DataType::Varchar(None),
            DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Char(_) => DataType::Text,
            t => t,
        }
    }

    /// A value of this type, for the numbers, dates, times and intervals, whose operators'
    /// result types are found by applying them ([`crate::planner::ArithOp::result_type`]).
    /// Each is 1 or a day, so that no operator between them divides by zero or overflows.
    pub fn sample(&self) -> Option<Value> {
        use zizhu_types::{Date, Interval, Numeric, Time, Timestamp};
        const DAY: i64 = 86_400_000_000;
        Some(match self {
            DataType::Int16 => Value::Int16(1),
            DataType::Int32 => Value::Int32(1),
            DataType::Int64 => Value::Int64(1),
            DataType::Numeric(_) => Value::Numeric(Numeric::finite(1.into())),
            DataType::Float32 => Value::Float32(1.0),
            DataType::Float64 => Value::Float64(1.0),
            DataType::Date => Value::Date(Date(1)),
            DataType::Time => Value::Time(Time(DAY / 2)),
            DataType::Timestamp => Value::Timestamp(Timestamp(DAY)),
            DataType::TimestampTz => Value::TimestampTz(Timestamp(DAY)),
            DataType::Interval => Value::Interval(Interval {
                months: 0,
                days: 1,
                micros: 0,
            }),
            _ => return None,
        })
    }

    /// The type that values of `types` meet in where one column or result takes them all
    /// (VALUES rows, the sides of UNION, `greatest`): PostgreSQL's `select_common_type` for
    /// the types there are. `Unknown` (a NULL, an untyped literal) takes any type, and alone
    /// gives `text`. Numbers widen (integers, then `numeric`, `real`, `double precision`);
    /// strings meet in `text` and dates and times in the widest of them. Types of different
    /// kinds do not meet: the error holds the first pair found.
    pub fn common(types: &[DataType]) -> std::result::Result<DataType, (DataType, DataType)> {
        let known: Vec<&DataType> = types.iter().filter(|t| **t != DataType::Unknown).collect();
        let Some(first) = known.first() else {
            return Ok(DataType::Text);
        };
        if known.iter().all(|t| t == first) {
            return Ok((*first).clone());
        }
        let rank = |t: &DataType| -> Option<(u8, u8)> {
            Some(match t {
                DataType::Int16 => (0, 0),
                DataType::Int32 => (0, 1),
                DataType::Int64 => (0, 2),
                DataType::Numeric(_) => (0, 3),
                DataType::Float32 => (0, 4),
                DataType::Float64 => (0, 5),
                DataType::Char(_) | DataType::Varchar(_) => (1, 0),
                DataType::Text => (1, 1),
                DataType::Date => (2, 0),
                DataType::Timestamp => (2, 1),
                DataType::TimestampTz => (2, 2),
                _ => return None,
            })
        };
        let mut best: Option<(&DataType, (u8, u8))> = None;
        // Not all the same: some type differs from the first.
        let other = known.iter().find(|t| *t != first).unwrap_or(first);
        for t in &known {
            let mismatch = || {
                let t = if t == first { other } else { t };
                ((*first).clone(), (*t).clone())
            };
            let r = rank(t).ok_or_else(mismatch)?;
            match best {
                Some((_, b)) if b.0 != r.0 => return Err(mismatch()),
                Some((_, b)) if b.1 >= r.1 => {}
                _ => best = Some((t, r)),
            }
        }
        Ok(match best {
            Some((DataType::Numeric(_), _)) => DataType::Numeric(None),
            Some((_, (1, _))) if known.iter().all(|t| matches!(t, DataType::Varchar(_))) => {
                DataType::Varchar(None)
            }
            Some((_, (1, _))) => DataType::Text,
            Some((t, _)) => t.clone(),
            None => DataType::Unknown,
        })
    }

    /// The type of a value, as far as the value tells (strings are `text`, numerics
    /// unconstrained).
    pub fn of(value: &Value) -> DataType {
        match value {
            Value::Null => DataType::Unknown,
            Value::Bool(_) => DataType::Bool,
            Value::Int16(_) => DataType::Int16,
            Value::Int32(_) => DataType::Int32,
            Value::Int64(_) => DataType::Int64,
            Value::Float32(_) => DataType::Float32,
            Value::Float64(_) => DataType::Float64,
            Value::Numeric(_) => DataType::Numeric(None),
            Value::Text(_) => DataType::Text,
            Value::Bytes(_) => DataType::Bytea,
            Value::Date(_) => DataType::Date,
            Value::Time(_) => DataType::Time,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::TimestampTz(_) => DataType::TimestampTz,
            Value::Interval(_) => DataType::Interval,
            Value::Uuid(_) => DataType::Uuid,
        }
    }
}

impl fmt::Display for DataType {
    /// PostgreSQL's `format_type` spelling (what `\d` and error messages show).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Bool => f.write_str("boolean"),
            DataType::Int16 => f.write_str("smallint"),
            DataType::Int32 => f.write_str("integer"),
            DataType::Int64 => f.write_str("bigint"),
            DataType::Float32 => f.write_str("real"),
            DataType::Float64 => f.write_str("double precision"),
            DataType::Numeric(None) => f.write_str("numeric"),
            DataType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            DataType::Text => f.write_str("text"),
            DataType::Varchar(None) => f.write_str("character varying"),
            DataType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            DataType::Char(n) => write!(f, "character({n})"),
            DataType::Bytea => f.write_str("bytea"),
            DataType::Date => f.write_str("date"),
            DataType::Time => f.write_str("time without time zone"),
            DataType::Timestamp => f.write_str("timestamp without time zone"),
            DataType::TimestampTz => f.write_str("timestamp with time zone"),
            DataType::Interval => f.write_str("interval"),
            DataType::Uuid => f.write_str("uuid"),
            DataType::Oid(alias) => f.write_str(alias.name()),
            DataType::Array(element) => write!(f, "{element}[]"),
            DataType::Vector(element) if **element == DataType::Int16 => f.write_str("int2vector"),
            DataType::Vector(_) => f.write_str("oidvector"),
            DataType::Record(_) => f.write_str("record"),
            DataType::Json => f.write_str("json"),
            DataType::Jsonb => f.write_str("jsonb"),
            DataType::Unknown => f.write_str("unknown"),
        }
    }
}
