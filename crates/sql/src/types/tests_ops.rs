//! Tests of the operators in [`super::ops`], against PostgreSQL 15 (`psql -At`, time zone UTC);
//! the query is quoted above each group.

use std::cmp::Ordering;

use zizhu_types::Value;

use super::ops::{add, compare, concat, div, modulo, mul, neg, sub};
use super::{parse_text, to_text, DataType as T};
use crate::{ErrorCode, Result};

type BinOp = fn(&Value, &Value) -> Result<Value>;

fn v(text: &str, ty: &T) -> Value {
    parse_text(text, ty).unwrap_or_else(|e| panic!("{text}::{ty}: {e}"))
}

fn num(text: &str) -> Value {
    v(text, &T::Numeric(None))
}

/// Applies `op` and renders the result with its type: `"2.50 numeric"`.
fn eval(op: BinOp, a: &Value, b: &Value) -> String {
    match op(a, b) {
        Ok(r) => format!("{} {}", to_text(&r), T::of(&r)),
        Err(e) => panic!("{a:?} op {b:?}: {e}"),
    }
}

fn eval_err(op: BinOp, a: &Value, b: &Value) -> (ErrorCode, String) {
    match op(a, b) {
        Ok(r) => panic!("{a:?} op {b:?} = {r:?}, expected an error"),
        Err(e) => (e.code().expect("code"), e.to_string()),
    }
}

// select 1::numeric/3, 10::numeric/4, 1.0/3.0, 123456789::numeric/7, 1::numeric/123456789,
//   0.000001::numeric/3, 0::numeric/5, 10000::numeric/3, 9999::numeric/3,
//   2::numeric/3.00000000000000000001
#[test]
fn numeric_division_scale() {
    for (a, b, expected) in [
        ("1", "3", "0.33333333333333333333"),
        ("10", "4", "2.5000000000000000"),
        ("1.0", "3.0", "0.33333333333333333333"),
        ("123456789", "7", "17636684.142857142857"),
        ("1", "123456789", "0.0000000081000000737100006708"),
        ("0.000001", "3", "0.000000333333333333333333"),
        ("0", "5", "0.00000000000000000000"),
        ("10000", "3", "3333.3333333333333333"),
        ("9999", "3", "3333.0000000000000000"),
        ("2", "3.00000000000000000001", "0.66666666666666666666"),
    ] {
        assert_eq!(
            eval(div, &num(a), &num(b)),
            format!("{expected} numeric"),
            "{a} / {b}"
        );
    }
}

// select 1.5::numeric * 2.0, 1.50::numeric + 1, 1.5::numeric - 2.25, -5.5::numeric % 2,
//   7::numeric % -3, 2::int4 * 1.25  →  3.00 | 2.50 | -0.75 | -1.5 | 1 | 2.50
// select 'Infinity'::numeric % 3, 3 % 'Infinity'::numeric, 'Infinity'::numeric/'Infinity'::numeric,
//   5::numeric/'Infinity'::numeric, 'Infinity'::numeric * 0, 'Infinity'::numeric - 'Infinity'::numeric,
//   'NaN'::numeric / 0  →  NaN | 3 | NaN | 0 | NaN | NaN | NaN
#[test]
fn numeric_arithmetic() {
    assert_eq!(eval(mul, &num("1.5"), &num("2.0")), "3.00 numeric");
    assert_eq!(eval(add, &num("1.50"), &Value::Int32(1)), "2.50 numeric");
    assert_eq!(eval(sub, &num("1.5"), &num("2.25")), "-0.75 numeric");
    assert_eq!(eval(modulo, &num("-5.5"), &num("2")), "-1.5 numeric");
    assert_eq!(eval(modulo, &num("7"), &num("-3")), "1 numeric");
    assert_eq!(eval(mul, &Value::Int32(2), &num("1.25")), "2.50 numeric");
    let inf = num("Infinity");
    assert_eq!(eval(modulo, &inf, &num("3")), "NaN numeric");
    assert_eq!(eval(modulo, &num("3"), &inf), "3 numeric");
    assert_eq!(eval(div, &inf, &inf), "NaN numeric");
    assert_eq!(eval(div, &num("5"), &inf), "0 numeric");
    assert_eq!(eval(mul, &inf, &num("0")), "NaN numeric");
    assert_eq!(eval(sub, &inf, &inf), "NaN numeric");
    assert_eq!(eval(div, &num("NaN"), &num("0")), "NaN numeric");
    assert_eq!(to_text(&neg(&num("1.50")).expect("neg")), "-1.50");
}

// select 1::int2 + 1::int4, pg_typeof(1::int2 * 2::int2), 7::int2 / 2::int2, -7 / 2,
//   (-2147483648) % (-1), 7 % -3, -7 % 3, (-7)::int8 % 3, pg_typeof(1::int2 + 1::int8)
//   →  2 | smallint | 3 | -3 | 0 | 1 | -1 | -1 | bigint
#[test]
fn integer_arithmetic() {
    assert_eq!(eval(add, &Value::Int16(1), &Value::Int32(1)), "2 integer");
    assert_eq!(eval(mul, &Value::Int16(1), &Value::Int16(2)), "2 smallint");
    assert_eq!(eval(div, &Value::Int16(7), &Value::Int16(2)), "3 smallint");
    assert_eq!(eval(div, &Value::Int32(-7), &Value::Int32(2)), "-3 integer");
    assert_eq!(
        eval(modulo, &Value::Int32(i32::MIN), &Value::Int32(-1)),
        "0 integer"
    );
    assert_eq!(
        eval(modulo, &Value::Int32(7), &Value::Int32(-3)),
        "1 integer"
    );
    assert_eq!(
        eval(modulo, &Value::Int32(-7), &Value::Int32(3)),
        "-1 integer"
    );
    assert_eq!(
        eval(modulo, &Value::Int64(-7), &Value::Int32(3)),
        "-1 bigint"
    );
    assert_eq!(eval(add, &Value::Int16(1), &Value::Int64(1)), "2 bigint");
}

// select 2147483647 + 1; select 32767::int2 + 1::int2; select 9223372036854775807::int8 * 2;
// select (-32768)::int2 / (-1)::int2; select -(-32768)::int2; select -(-9223372036854775808)::int8
#[test]
fn integer_overflow() {
    let out = |msg: &str| (ErrorCode::NumericValueOutOfRange, msg.to_string());
    assert_eq!(
        eval_err(add, &Value::Int32(i32::MAX), &Value::Int32(1)),
        out("integer out of range")
    );
    assert_eq!(
        eval_err(add, &Value::Int16(i16::MAX), &Value::Int16(1)),
        out("smallint out of range")
    );
    assert_eq!(
        eval_err(mul, &Value::Int64(i64::MAX), &Value::Int32(2)),
        out("bigint out of range")
    );
    assert_eq!(
        eval_err(div, &Value::Int16(i16::MIN), &Value::Int16(-1)),
        out("smallint out of range")
    );
    assert_eq!(
        eval_err(sub, &Value::Int32(i32::MIN), &Value::Int32(1)),
        out("integer out of range")
    );
    let neg_err = |v: Value| neg(&v).expect_err("overflow").to_string();
    assert_eq!(neg_err(Value::Int16(i16::MIN)), "smallint out of range");
    assert_eq!(neg_err(Value::Int32(i32::MIN)), "integer out of range");
    assert_eq!(neg_err(Value::Int64(i64::MIN)), "bigint out of range");
}

// select 1/0; select 1::numeric/0; select 1::numeric % 0; select 1.0::float8/0;
// select 1::float4/0::float4; select 5 % 0; select interval '1 day' / 0;
// select 'Infinity'::numeric/0
#[test]
fn division_by_zero() {
    let dz = (ErrorCode::DivisionByZero, "division by zero".to_string());
    assert_eq!(eval_err(div, &Value::Int32(1), &Value::Int32(0)), dz);
    assert_eq!(eval_err(div, &num("1"), &Value::Int32(0)), dz);
    assert_eq!(eval_err(modulo, &num("1"), &num("0")), dz);
    assert_eq!(eval_err(div, &Value::Float64(1.0), &Value::Int32(0)), dz);
    assert_eq!(
        eval_err(div, &Value::Float32(1.0), &Value::Float32(0.0)),
        dz
    );
    assert_eq!(eval_err(modulo, &Value::Int32(5), &Value::Int32(0)), dz);
    assert_eq!(
        eval_err(div, &v("1 day", &T::Interval), &Value::Int32(0)),
        dz
    );
    assert_eq!(eval_err(div, &num("Infinity"), &num("0")), dz);
}

// select 0.1::float8 + 0.2, pg_typeof(1::int4 + 1::float4), 1.1::float4 * 3::float4,
//   0.1::float4 + 0.2::float8, pg_typeof(1::numeric + 1::float8), 2::float8 / 3
//   →  0.30000000000000004 | double precision | 3.3000002 | 0.30000000149011613 | double precision | 0.6666666666666666
// select 1e308::float8 * 10; select 1e-300::float8 / 1e300::float8;
// select 3e38::float4 * 10::float4; select 5.5::float8 % 2
#[test]
fn float_arithmetic() {
    let f8 = |x: f64| Value::Float64(x);
    assert_eq!(
        eval(add, &f8(0.1), &Value::Int32(0)),
        "0.1 double precision"
    );
    assert_eq!(
        eval(add, &f8(0.1), &f8(0.2)),
        "0.30000000000000004 double precision"
    );
    assert_eq!(
        eval(add, &Value::Int32(1), &Value::Float32(1.0)),
        "2 double precision"
    );
    assert_eq!(
        eval(mul, &Value::Float32(1.1), &Value::Float32(3.0)),
        "3.3000002 real"
    );
    assert_eq!(
        eval(add, &Value::Float32(0.1), &f8(0.2)),
        "0.30000000149011613 double precision"
    );
    assert_eq!(eval(add, &num("1"), &f8(1.0)), "2 double precision");
    assert_eq!(
        eval(div, &f8(2.0), &Value::Int32(3)),
        "0.6666666666666666 double precision"
    );
    let out = |msg: &str| (ErrorCode::NumericValueOutOfRange, msg.to_string());
    assert_eq!(
        eval_err(mul, &f8(1e308), &Value::Int32(10)),
        out("value out of range: overflow")
    );
    assert_eq!(
        eval_err(div, &f8(1e-300), &f8(1e300)),
        out("value out of range: underflow")
    );
    assert_eq!(
        eval_err(mul, &Value::Float32(3e38), &Value::Float32(10.0)),
        out("value out of range: overflow")
    );
    assert_eq!(
        eval_err(modulo, &f8(5.5), &Value::Int32(2)),
        (
            ErrorCode::UndefinedFunction,
            "operator does not exist: double precision % integer".into()
        )
    );
    // Infinity is not an overflow: select 'Infinity'::float8 + 1  →  Infinity
    assert_eq!(
        eval(add, &f8(f64::INFINITY), &Value::Int32(1)),
        "Infinity double precision"
    );
}

// select date '2024-01-31' + 1, date '2024-03-01' - date '2024-01-01',
//   date '2024-01-31' + interval '1 month', timestamp '2024-01-31 10:00' + interval '1 month 1 day 1 hour',
//   time '23:00' + interval '2 hours', time '10:00' - time '12:30', date '2024-01-01' + time '10:00',
//   '2024-03-01'::timestamp - '2024-01-01 12:00'::timestamp,
//   '2024-01-01'::timestamp - '2024-03-01 12:00'::timestamp
// select timestamp '2024-01-31' + interval '1 mon', timestamp '2023-03-31' - interval '1 mon',
//   date '2024-02-29' + interval '1 year', timestamptz '2024-01-01 00:00+00' - interval '1 day 1 us',
//   date '0001-01-01' - 1, timestamp '2024-01-01' - date '2023-12-31',
//   date '2024-01-01' - timestamp '2023-12-31 12:00', timestamp 'infinity' + interval '1 day'
#[test]
fn datetime_arithmetic() {
    let d = |s: &str| v(s, &T::Date);
    let ts = |s: &str| v(s, &T::Timestamp);
    let iv = |s: &str| v(s, &T::Interval);
    let t = |s: &str| v(s, &T::Time);
    assert_eq!(
        eval(add, &d("2024-01-31"), &Value::Int32(1)),
        "2024-02-01 date"
    );
    assert_eq!(eval(sub, &d("2024-03-01"), &d("2024-01-01")), "60 integer");
    assert_eq!(
        eval(add, &d("2024-01-31"), &iv("1 month")),
        "2024-02-29 00:00:00 timestamp without time zone"
    );
    assert_eq!(
        eval(add, &ts("2024-01-31 10:00"), &iv("1 month 1 day 1 hour")),
        "2024-03-01 11:00:00 timestamp without time zone"
    );
    assert_eq!(
        eval(add, &t("23:00"), &iv("2 hours")),
        "01:00:00 time without time zone"
    );
    assert_eq!(eval(sub, &t("10:00"), &t("12:30")), "-02:30:00 interval");
    assert_eq!(
        eval(add, &d("2024-01-01"), &t("10:00")),
        "2024-01-01 10:00:00 timestamp without time zone"
    );
    assert_eq!(
        eval(sub, &ts("2024-03-01"), &ts("2024-01-01 12:00")),
        "59 days 12:00:00 interval"
    );
    assert_eq!(
        eval(sub, &ts("2024-01-01"), &ts("2024-03-01 12:00")),
        "-60 days -12:00:00 interval"
    );
    assert_eq!(
        eval(add, &ts("2024-01-31"), &iv("1 mon")),
        "2024-02-29 00:00:00 timestamp without time zone"
    );
    assert_eq!(
        eval(sub, &ts("2023-03-31"), &iv("1 mon")),
        "2023-02-28 00:00:00 timestamp without time zone"
    );
    assert_eq!(
        eval(add, &d("2024-02-29"), &iv("1 year")),
        "2025-02-28 00:00:00 timestamp without time zone"
    );
    assert_eq!(
        eval(
            sub,
            &v("2024-01-01 00:00+00", &T::TimestampTz),
            &iv("1 day 1 us")
        ),
        "2023-12-30 23:59:59.999999+00 timestamp with time zone"
    );
    assert_eq!(
        eval(sub, &d("0001-01-01"), &Value::Int32(1)),
        "0001-12-31 BC date"
    );
    assert_eq!(
        eval(sub, &ts("2024-01-01"), &d("2023-12-31")),
        "1 day interval"
    );
    assert_eq!(
        eval(sub, &d("2024-01-01"), &ts("2023-12-31 12:00")),
        "12:00:00 interval"
    );
    assert_eq!(
        eval(add, &ts("infinity"), &iv("1 day")),
        "infinity timestamp without time zone"
    );
    // select timestamp '294276-12-31' + interval '1 day'  →  ERROR: timestamp out of range
    assert_eq!(
        eval_err(add, &ts("294276-12-31"), &iv("1 day")),
        (
            ErrorCode::DatetimeFieldOverflow,
            "timestamp out of range".into()
        )
    );
}

// select interval '1 day' * 1.5, interval '1 month' * 0.5, interval '1 mon' / 3,
//   interval '1 hour' * 2.5, interval '1 year' * -1
//   →  1 day 12:00:00 | 15 days | 10 days | 02:30:00 | -1 years
// select interval '1 mon' * 0.3, interval '1 day 3 hours' / 7, interval '-1 mon 2 days' * 1.5,
//   interval '1 year' / 7, interval '2 hours' * 1e-7
//   →  9 days | 03:51:25.714286 | -1 mons -12 days | 1 mon 21 days 10:17:08.5344 | 00:00:00.00072
// select -interval '1 year 1 mon -1 day 00:00:01', interval '1 mon 1 day' - interval '2 days 1 hour',
//   '-1 year'::interval + '2 mons'::interval
//   →  -1 years -1 mons +1 day -00:00:01 | 1 mon -1 days -01:00:00 | -10 mons
#[test]
fn interval_arithmetic() {
    let iv = |s: &str| v(s, &T::Interval);
    let f = Value::Float64;
    for (a, op, factor, expected) in [
        ("1 day", mul as BinOp, 1.5, "1 day 12:00:00"),
        ("1 month", mul, 0.5, "15 days"),
        ("1 mon", div, 3.0, "10 days"),
        ("1 hour", mul, 2.5, "02:30:00"),
        ("1 year", mul, -1.0, "-1 years"),
        ("1 mon", mul, 0.3, "9 days"),
        ("1 day 3 hours", div, 7.0, "03:51:25.714286"),
        ("-1 mon 2 days", mul, 1.5, "-1 mons -12 days"),
        ("1 year", div, 7.0, "1 mon 21 days 10:17:08.5344"),
        ("2 hours", mul, 1e-7, "00:00:00.00072"),
    ] {
        assert_eq!(
            eval(op, &iv(a), &f(factor)),
            format!("{expected} interval"),
            "{a} op {factor}"
        );
    }
    assert_eq!(
        eval(mul, &num("1.5"), &iv("1 day")),
        "1 day 12:00:00 interval"
    );
    assert_eq!(
        to_text(&neg(&iv("1 year 1 mon -1 day 00:00:01")).expect("neg")),
        "-1 years -1 mons +1 day -00:00:01"
    );
    assert_eq!(
        eval(sub, &iv("1 mon 1 day"), &iv("2 days 1 hour")),
        "1 mon -1 days -01:00:00 interval"
    );
    assert_eq!(
        eval(add, &iv("-1 year"), &iv("2 mons")),
        "-10 mons interval"
    );
}

// select 1::int2 < 2::int8, 2::int4 = 2.0::numeric, 1::int4 < 1.5::float4,
//   'NaN'::float8 > 1e308::float8, 'NaN'::numeric > 'Infinity'::numeric,
//   date '2024-01-01' = timestamp '2024-01-01', 'a'::text < 'b', 'B' < 'a'::text,
//   0.1::float8 = 0.1::numeric, interval '1 mon' = interval '30 days'  →  all t
#[test]
fn comparisons() {
    let cmp = |a: &Value, b: &Value| compare(a, b).expect("comparable");
    assert_eq!(
        cmp(&Value::Int16(1), &Value::Int64(2)),
        Some(Ordering::Less)
    );
    assert_eq!(cmp(&Value::Int32(2), &num("2.0")), Some(Ordering::Equal));
    assert_eq!(
        cmp(&Value::Int32(1), &Value::Float32(1.5)),
        Some(Ordering::Less)
    );
    assert_eq!(
        cmp(&Value::Float64(f64::NAN), &Value::Float64(1e308)),
        Some(Ordering::Greater)
    );
    assert_eq!(cmp(&num("NaN"), &num("Infinity")), Some(Ordering::Greater));
    assert_eq!(
        cmp(&v("2024-01-01", &T::Date), &v("2024-01-01", &T::Timestamp)),
        Some(Ordering::Equal)
    );
    assert_eq!(
        cmp(&Value::Text("a".into()), &Value::Text("b".into())),
        Some(Ordering::Less)
    );
    assert_eq!(
        cmp(&Value::Text("B".into()), &Value::Text("a".into())),
        Some(Ordering::Less)
    );
    assert_eq!(
        cmp(&Value::Float64(0.1), &num("0.1")),
        Some(Ordering::Equal)
    );
    assert_eq!(
        cmp(&v("1 mon", &T::Interval), &v("30 days", &T::Interval)),
        Some(Ordering::Equal)
    );
    assert_eq!(cmp(&Value::Null, &Value::Int32(1)), None);
    assert_eq!(
        compare(&Value::Int32(1), &Value::Text("1".into()))
            .expect_err("incomparable")
            .code(),
        Some(ErrorCode::DatatypeMismatch)
    );
}

// select 'a' || 1, 1 || 'a'::text, '\x01'::bytea || '\x02'::bytea, 'a' || null, 'x' || 1.50,
//   'x' || true  →  a1 | 1a | \x0102 | (null) | x1.50 | xtrue
#[test]
fn concatenation() {
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(eval(concat, &text("a"), &Value::Int32(1)), "a1 text");
    assert_eq!(eval(concat, &Value::Int32(1), &text("a")), "1a text");
    assert_eq!(
        eval(concat, &Value::Bytes(vec![1]), &Value::Bytes(vec![2])),
        "\\x0102 bytea"
    );
    assert!(concat(&text("a"), &Value::Null).expect("null").is_null());
    assert_eq!(eval(concat, &text("x"), &num("1.50")), "x1.50 text");
    assert_eq!(eval(concat, &text("x"), &Value::Bool(true)), "xtrue text");
    assert_eq!(
        eval_err(concat, &Value::Int32(1), &Value::Int32(2)).0,
        ErrorCode::UndefinedFunction
    );
}

#[test]
fn null_propagates() {
    for op in [add, sub, mul, div, modulo] {
        assert!(op(&Value::Null, &Value::Int32(1)).expect("null").is_null());
        assert!(op(&Value::Int32(1), &Value::Null).expect("null").is_null());
    }
    assert!(neg(&Value::Null).expect("null").is_null());
}
