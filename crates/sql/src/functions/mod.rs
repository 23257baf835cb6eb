//! PostgreSQL's everyday scalar functions: strings, math, date/time.
//!
//! The binder asks [`exists`] and [`return_type`], the planner asks [`is_volatile`] before
//! constant folding, and the evaluator calls [`call`] with the argument values. Semantics are
//! PostgreSQL 15's, checked against a PostgreSQL 15 server (the unit tests quote the `psql`
//! queries their expectations come from):
//!
//! - **NULL**: every function is strict (NULL in, NULL out) except `concat`, `concat_ws` (only a
//!   NULL separator gives NULL), `greatest` and `least`, which skip NULL arguments.
//! - **Argument types** are taken from the values, leniently: a function that wants `text`
//!   casts other values to text, one that wants an integer casts numerics, one that wants
//!   `double precision` casts any number. Result types follow PostgreSQL's overload
//!   resolution (`round(int)` is `double precision`, `round(numeric, int)` is `numeric`,
//!   `power(int, int)` is `double precision`, `log(b, x)` is `numeric`, ...).
//! - **Numeric** transcendental functions (`sqrt`, `exp`, `ln`, `log`, `power` with a
//!   fractional exponent) compute in big fixed-point arithmetic and choose their result scale
//!   as `numeric.c` does, so results agree digit for digit.
//! - **Clock**: `now()` and friends read the system clock (the session time zone is UTC);
//!   they are not pinned to the transaction start, which is the caller's job if it wants
//!   PostgreSQL's "same value within a transaction" rule.
//!
//! Layout: `string.rs`, `math.rs`, `datetime.rs` (with `to_char`), `array.rs`, `tests.rs`.

mod array;
mod datetime;
mod json;
mod math;
mod regex;
mod string;
#[cfg(test)]
mod tests;

use zizhu_types::{Numeric, Value};

use crate::errinput;
use crate::error::Result;
use crate::types::{cast, DataType};

/// Unbounded arity (variadic functions).
const MANY: usize = usize::MAX;

/// Name, minimum and maximum number of arguments of every function here.
const FUNCTIONS: &[(&str, usize, usize)] = &[
    // Strings.
    ("substr", 2, 3),
    ("substring", 2, 3),
    ("strpos", 2, 2),
    ("position", 2, 2),
    ("replace", 3, 3),
    ("btrim", 1, 2),
    ("ltrim", 1, 2),
    ("rtrim", 1, 2),
    ("lpad", 2, 3),
    ("rpad", 2, 3),
    ("split_part", 3, 3),
    ("concat", 1, MANY),
    ("concat_ws", 2, MANY),
    ("left", 2, 2),
    ("right", 2, 2),
    ("reverse", 1, 1),
    ("repeat", 2, 2),
    ("initcap", 1, 1),
    ("ascii", 1, 1),
    ("octet_length", 1, 1),
    ("chr", 1, 1),
    ("starts_with", 2, 2),
    ("md5", 1, 1),
    ("upper", 1, 1),
    ("lower", 1, 1),
    ("translate", 3, 3),
    ("regexp_replace", 3, 4),
    ("regexp_like", 2, 3),
    ("regexp_count", 2, 2),
    ("textregexeq", 2, 2),
    ("texticregexeq", 2, 2),
    // Sizes: `pg_size_pretty`, and relation sizes, which are not tracked per relation (the
    // data of every database shares one file): NULL, as for an unknown relation.
    ("pg_size_pretty", 1, 1),
    ("pg_table_size", 1, 1),
    ("pg_relation_size", 1, 2),
    ("pg_total_relation_size", 1, 1),
    ("pg_indexes_size", 1, 1),
    ("pg_database_size", 1, 1),
    // Arrays.
    ("array", 0, MANY),
    ("array_element", 2, 2),
    ("array_to_string", 2, 3),
    ("array_upper", 2, 2),
    ("array_lower", 2, 2),
    ("array_length", 2, 2),
    ("cardinality", 1, 1),
    ("quote_ident", 1, 1),
    ("like_escape", 2, 2),
    ("row", 0, MANY),
    ("record_field", 2, 2),
    // Math.
    ("int_and", 2, 2),
    ("int_or", 2, 2),
    ("int_xor", 2, 2),
    ("int_shl", 2, 2),
    ("int_shr", 2, 2),
    ("round", 1, 2),
    ("trunc", 1, 2),
    ("ceil", 1, 1),
    ("ceiling", 1, 1),
    ("floor", 1, 1),
    ("mod", 2, 2),
    ("power", 2, 2),
    ("pow", 2, 2),
    ("sqrt", 1, 1),
    ("cbrt", 1, 1),
    ("exp", 1, 1),
    ("ln", 1, 1),
    ("log", 1, 2),
    ("log10", 1, 1),
    ("sign", 1, 1),
    ("abs", 1, 1),
    ("pi", 0, 0),
    ("degrees", 1, 1),
    ("radians", 1, 1),
    ("random", 0, 0),
    ("greatest", 1, MANY),
    ("least", 1, MANY),
    // Date and time.
    ("now", 0, 0),
    ("current_timestamp", 0, 0),
    ("transaction_timestamp", 0, 0),
    ("statement_timestamp", 0, 0),
    ("clock_timestamp", 0, 0),
    ("current_date", 0, 0),
    ("date_part", 2, 2),
    ("extract", 2, 2),
    ("date_trunc", 2, 2),
    ("age", 1, 2),
    ("to_char", 2, 2),
    ("make_date", 3, 3),
];

pub(crate) use array::is_vector;
pub use datetime::now_micros;
pub use json::takes_json_arguments;

/// The clock functions PostgreSQL pins to the start of the transaction (`now()`,
/// `current_timestamp`, `transaction_timestamp()`, `current_date`) or of the statement
/// (`statement_timestamp()`), given those instants; `None` for other functions, including
/// `clock_timestamp()`, which reads the clock at each call.
pub fn pinned_clock(name: &str, transaction: i64, statement: i64) -> Option<Value> {
    use zizhu_types::{Date, Timestamp};
    Some(match name {
        "now" | "current_timestamp" | "transaction_timestamp" => {
            Value::TimestampTz(Timestamp(transaction))
        }
        "statement_timestamp" => Value::TimestampTz(Timestamp(statement)),
        "current_date" => {
            Value::Date(Date(transaction.div_euclid(24 * 60 * 60 * 1_000_000) as i32))
        }
        _ => return None,
    })
}

/// Whether a scalar function `name` (lower-case) accepts `arity` arguments.
pub fn exists(name: &str, arity: usize) -> bool {
    lookup(name, arity).is_some()
}

/// The function's name as stored in plans, if a function `name` (lower-case) accepts `arity`
/// arguments.
pub fn lookup(name: &str, arity: usize) -> Option<&'static str> {
    FUNCTIONS
        .iter()
        .chain(json::FUNCTIONS)
        .find(|(n, min, max)| *n == name && (*min..=*max).contains(&arity))
        .map(|(n, _, _)| *n)
}

/// Whether some function is called `name`, with whatever arguments.
pub fn is_known(name: &str) -> bool {
    FUNCTIONS
        .iter()
        .chain(json::FUNCTIONS)
        .any(|(n, _, _)| *n == name)
}

/// Whether the function's result can change between calls with the same arguments: such calls
/// must not be constant-folded. (`now()` is only *stable* in PostgreSQL, but it must not be
/// folded at plan time either.)
pub fn is_volatile(name: &str) -> bool {
    matches!(
        name,
        "random"
            | "now"
            | "current_timestamp"
            | "transaction_timestamp"
            | "statement_timestamp"
            | "clock_timestamp"
            | "current_date"
    )
}

/// The result type for the argument types, as PostgreSQL resolves it (`DataType::Unknown` if
/// it cannot be told from the types).
pub fn return_type(name: &str, args: &[DataType]) -> DataType {
    if let Some(ty) = json::return_type(name) {
        return ty;
    }
    let first = args.first().cloned().unwrap_or(DataType::Unknown);
    let any_numeric = args.iter().any(|t| matches!(t, DataType::Numeric(_)));
    let any_float = args
        .iter()
        .any(|t| matches!(t, DataType::Float32 | DataType::Float64));
    match name {
        "strpos" | "position" | "ascii" | "octet_length" | "regexp_count" => DataType::Int32,
        "array_upper" | "array_lower" | "array_length" | "cardinality" => DataType::Int32,
        "array_to_string" | "quote_ident" | "array_element" | "record_field" | "like_escape" => {
            DataType::Text
        }
        "row" => DataType::Record(vec![]),
        "int_and" | "int_or" | "int_xor" => match (&first, args.get(1)) {
            (DataType::Int64, _) | (_, Some(DataType::Int64)) => DataType::Int64,
            (DataType::Int32, _) | (_, Some(DataType::Int32)) => DataType::Int32,
            _ => first,
        },
        "int_shl" | "int_shr" => first,
        "array" => DataType::Array(Box::new(match first {
            DataType::Unknown => DataType::Text,
            t => t,
        })),
        "starts_with" | "regexp_like" | "textregexeq" | "texticregexeq" => DataType::Bool,
        "regexp_replace" => DataType::Text,
        "substr" | "substring" | "replace" | "btrim" | "ltrim" | "rtrim" | "lpad" | "rpad"
        | "split_part" | "concat" | "concat_ws" | "left" | "right" | "reverse" | "repeat"
        | "initcap" | "chr" | "md5" | "upper" | "lower" | "translate" | "to_char" => DataType::Text,
        // `round(numeric, int)`/`trunc(numeric, int)` only exist for numeric.
        "round" | "trunc" if args.len() == 2 => DataType::Numeric(None),
        "round" | "trunc" | "ceil" | "ceiling" | "floor" | "sign" | "sqrt" | "exp" | "ln"
        | "log" | "log10"
            if args.len() == 1 =>
        {
            match first {
                DataType::Numeric(_) => DataType::Numeric(None),
                _ => DataType::Float64,
            }
        }
        "log" => DataType::Numeric(None),
        "abs" => match first {
            DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Float32 => first,
            DataType::Numeric(_) => DataType::Numeric(None),
            _ => DataType::Float64,
        },
        "mod" => {
            if any_numeric || any_float {
                DataType::Numeric(None)
            } else {
                common_type(args)
            }
        }
        "power" | "pow" => {
            if any_numeric && !any_float {
                DataType::Numeric(None)
            } else {
                DataType::Float64
            }
        }
        "cbrt" | "pi" | "degrees" | "radians" | "random" | "date_part" => DataType::Float64,
        "pg_size_pretty" => DataType::Text,
        "pg_table_size"
        | "pg_relation_size"
        | "pg_total_relation_size"
        | "pg_indexes_size"
        | "pg_database_size" => DataType::Int64,
        "greatest" | "least" => common_type(args),
        "now"
        | "current_timestamp"
        | "transaction_timestamp"
        | "statement_timestamp"
        | "clock_timestamp" => DataType::TimestampTz,
        "current_date" | "make_date" => DataType::Date,
        "extract" => DataType::Numeric(None),
        "date_trunc" => match args.get(1) {
            Some(DataType::Timestamp) => DataType::Timestamp,
            Some(DataType::Interval) => DataType::Interval,
            _ => DataType::TimestampTz,
        },
        "age" => DataType::Interval,
        _ => DataType::Unknown,
    }
}

/// The common type of `greatest`/`least`/`mod` arguments ([`DataType::common`]); `Unknown`
/// where they have none.
fn common_type(args: &[DataType]) -> DataType {
    DataType::common(args).unwrap_or(DataType::Unknown)
}

/// Calls the function `name` (lower-case) on the argument values.
pub fn call(name: &str, args: &[Value]) -> Result<Value> {
    if !exists(name, args.len()) {
        let types: Vec<String> = args.iter().map(|a| DataType::of(a).to_string()).collect();
        return Err(errinput!(
            UndefinedFunction,
            "function {name}({}) does not exist",
            types.join(", ")
        ));
    }
    let strict = !matches!(
        name,
        "concat" | "concat_ws" | "greatest" | "least" | "array" | "array_to_string" | "row"
    ) && json::is_strict(name);
    if name == "array_to_string" && args[..2].iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    if strict && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    match name {
        "pg_size_pretty" => return Ok(Value::Text(size_pretty(int_arg(&args[0])?))),
        "pg_table_size"
        | "pg_relation_size"
        | "pg_total_relation_size"
        | "pg_indexes_size"
        | "pg_database_size" => return Ok(Value::Null),
        _ => {}
    }
    if let Some(v) = json::call(name, args)? {
        return Ok(v);
    }
    if let Some(v) = array::call(name, args)? {
        return Ok(v);
    }
    if let Some(v) = regex::call(name, args)? {
        return Ok(v);
    }
    if let Some(v) = string::call(name, args)? {
        return Ok(v);
    }
    if let Some(v) = math::call(name, args)? {
        return Ok(v);
    }
    if let Some(v) = datetime::call(name, args)? {
        return Ok(v);
    }
    Err(crate::errinternal!("function {name} has no implementation"))
}

/// `pg_size_pretty(bigint)`, as PostgreSQL 15 rounds and names the units.
fn size_pretty(size: i64) -> String {
    let limit = 10 * 1024;
    let limit2 = limit * 2 - 1;
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    if size.abs() < limit {
        return format!("{size} bytes");
    }
    // One extra bit is kept for rounding.
    let mut size = size / (1 << 9);
    for unit in ["kB", "MB", "GB", "TB"] {
        if size.abs() < limit2 {
            return format!("{} {unit}", half_rounded(size));
        }
        size /= 1 << 10;
    }
    format!("{} PB", half_rounded(size))
}

/// A `text` argument (other values are cast to text, as PostgreSQL's `anynonarray::text`).
fn text_arg(v: &Value) -> Result<String> {
    Ok(match v {
        Value::Text(s) => s.clone(),
        other => match cast(other.clone(), &DataType::Text)? {
            Value::Text(s) => s,
            other => crate::types::to_text(&other),
        },
    })
}

/// An `integer` argument.
fn int_arg(v: &Value) -> Result<i64> {
    Ok(match v {
        Value::Int16(i) => *i as i64,
        Value::Int32(i) => *i as i64,
        Value::Int64(i) => *i,
        other => match cast(other.clone(), &DataType::Int32)? {
            Value::Int32(i) => i as i64,
            _ => return Err(crate::errinternal!("integer cast")),
        },
    })
}

/// A `double precision` argument.
fn float_arg(v: &Value) -> Result<f64> {
    Ok(match v {
        Value::Float64(x) => *x,
        other => match cast(other.clone(), &DataType::Float64)? {
            Value::Float64(x) => x,
            _ => return Err(crate::errinternal!("float cast")),
        },
    })
}

/// A `numeric` argument.
fn numeric_arg(v: &Value) -> Result<Numeric> {
    Ok(match v {
        Value::Numeric(n) => n.clone(),
        other => match cast(other.clone(), &DataType::Numeric(None))? {
            Value::Numeric(n) => n,
            _ => return Err(crate::errinternal!("numeric cast")),
        },
    })
}
