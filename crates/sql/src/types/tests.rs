//! Tests of text input/output and casts. Every expectation comes from PostgreSQL 15, queried
//! with `psql -At -c "<query>"` (session time zone UTC); the query is quoted above each group.

use zizhu_types::Value;

use super::{assign, cast, parse_text, to_text, DataType};
use crate::ErrorCode;

use DataType as T;

/// `to_text(parse_text(input, ty))`.
pub(super) fn io(input: &str, ty: &DataType) -> String {
    match parse_text(input, ty) {
        Ok(v) => to_text(&v),
        Err(e) => panic!("parse_text({input:?}, {ty}) failed: {e}"),
    }
}

/// The code and message of a failing `parse_text`.
pub(super) fn io_err(input: &str, ty: &DataType) -> (ErrorCode, String) {
    match parse_text(input, ty) {
        Ok(v) => panic!("parse_text({input:?}, {ty}) = {v:?}, expected an error"),
        Err(e) => (e.code().expect("code"), e.to_string()),
    }
}

/// `to_text(cast(parse_text(input, from), to))`.
pub(super) fn cast_io(input: &str, from: &DataType, to: &DataType) -> String {
    let v = parse_text(input, from).expect("input");
    to_text(&cast(v, to).unwrap_or_else(|e| panic!("cast {input} to {to}: {e}")))
}

pub(super) fn cast_err(input: &str, from: &DataType, to: &DataType) -> (ErrorCode, String) {
    let v = parse_text(input, from).expect("input");
    match cast(v, to) {
        Ok(v) => panic!("cast {input} to {to} = {v:?}, expected an error"),
        Err(e) => (e.code().expect("code"), e.to_string()),
    }
}

fn round_trip(ty: &DataType, cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        assert_eq!(io(input, ty), *expected, "{input:?}::{ty}");
        // Output is valid input and reproduces itself.
        assert_eq!(
            io(expected, ty),
            *expected,
            "{expected:?}::{ty} (round trip)"
        );
    }
}

// select ' TRUE '::bool, 'of'::bool, 'y'::bool, '1'::bool, 'off'::bool, 'no'::bool
#[test]
fn bool_io() {
    round_trip(
        &T::Bool,
        &[
            (" TRUE ", "t"),
            ("of", "f"),
            ("y", "t"),
            ("1", "t"),
            ("off", "f"),
            ("no", "f"),
        ],
    );
    // select 'o'::bool  →  ERROR: invalid input syntax for type boolean: "o"
    assert_eq!(
        io_err("o", &T::Bool),
        (
            ErrorCode::InvalidTextRepresentation,
            "invalid input syntax for type boolean: \"o\"".into()
        )
    );
}

// select ' 12 '::int, '+5'::int, '-32768'::int2, '9223372036854775807'::int8
#[test]
fn int_io() {
    round_trip(&T::Int32, &[(" 12 ", "12"), ("+5", "5")]);
    round_trip(&T::Int16, &[("-32768", "-32768")]);
    round_trip(&T::Int64, &[("9223372036854775807", "9223372036854775807")]);
    // select '99999999999'::int; select '40000'::int2; select '1.5'::int; select ''::int
    assert_eq!(
        io_err("99999999999", &T::Int32),
        (
            ErrorCode::NumericValueOutOfRange,
            "value \"99999999999\" is out of range for type integer".into()
        )
    );
    assert_eq!(
        io_err("40000", &T::Int16),
        (
            ErrorCode::NumericValueOutOfRange,
            "value \"40000\" is out of range for type smallint".into()
        )
    );
    assert_eq!(
        io_err("1.5", &T::Int32),
        (
            ErrorCode::InvalidTextRepresentation,
            "invalid input syntax for type integer: \"1.5\"".into()
        )
    );
    assert_eq!(
        io_err("", &T::Int32).0,
        ErrorCode::InvalidTextRepresentation
    );
}

// select 1e16::float8, 1e-5::float8, 0.1::float8+0.2, 1e15::float8, 123456789012345678::float8,
//   1e-4::float8, '-0'::float8, 1e100::float8, 1.5e-310::float8, 'inf'::float8,
//   '-Infinity'::float8, 100::float8, 2::float8/3, 1.2345678901234567e-7::float8
#[test]
fn float8_output() {
    for (input, expected) in [
        ("1e16", "1e+16"),
        ("1e-5", "1e-05"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("1e15", "1e+15"),
        ("123456789012345678", "1.2345678901234568e+17"),
        ("1e-4", "0.0001"),
        ("-0", "-0"),
        ("1e100", "1e+100"),
        ("1.5e-310", "1.5e-310"),
        ("inf", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("NaN", "NaN"),
        ("100", "100"),
        ("0.6666666666666666", "0.6666666666666666"),
        ("1.2345678901234567e-7", "1.2345678901234566e-07"),
        ("123456789012345", "123456789012345"),
    ] {
        assert_eq!(io(input, &T::Float64), expected, "{input}::float8");
    }
    // select '1e309'::float8; select '1e-400'::float8; select 'abc'::float8
    assert_eq!(
        io_err("1e309", &T::Float64),
        (
            ErrorCode::NumericValueOutOfRange,
            "\"1e309\" is out of range for type double precision".into()
        )
    );
    assert_eq!(
        io_err("1e-400", &T::Float64).0,
        ErrorCode::NumericValueOutOfRange
    );
    assert_eq!(
        io_err("abc", &T::Float64),
        (
            ErrorCode::InvalidTextRepresentation,
            "invalid input syntax for type double precision: \"abc\"".into()
        )
    );
}

// select 'nan'::float4, 1e16::float4, 1.1::float4, 123456789::float4, 1234567.5::float4,
//   3.4028235e38::float4, 1.17549435e-38::float4, '100000'::float4, '1000000'::float4,
//   0.000123::float4
#[test]
fn float4_output() {
    for (input, expected) in [
        ("nan", "NaN"),
        ("1e16", "1e+16"),
        ("1.1", "1.1"),
        ("123456789", "1.2345679e+08"),
        ("1234567.5", "1.2345675e+06"),
        ("3.4028235e38", "3.4028235e+38"),
        ("1.17549435e-38", "1.1754944e-38"),
        ("100000", "100000"),
        ("1000000", "1e+06"),
        ("0.000123", "0.000123"),
        // Shortest candidates exactly halfway to a neighbour, and digit ties (round half even):
        // select '4.08994896e7'::float4, '-37002713e-2'::float4  →  4.0899488e+07 | -370027.12
        ("4.08994896e7", "4.0899488e+07"),
        ("-37002713e-2", "-370027.12"),
    ] {
        assert_eq!(io(input, &T::Float32), expected, "{input}::float4");
    }
    // select '1e39'::float4  →  ERROR: "1e39" is out of range for type real
    assert_eq!(
        io_err("1e39", &T::Float32),
        (
            ErrorCode::NumericValueOutOfRange,
            "\"1e39\" is out of range for type real".into()
        )
    );
}

// select 'NaN'::numeric(5,2), 1e3::numeric, '1.50e1'::numeric, '  -0.00 '::numeric,
//   '.5'::numeric, '5.'::numeric, 'inf'::numeric, '-inf'::numeric, '+Infinity'::numeric,
//   'nan'::numeric, '1.50'::numeric
#[test]
fn numeric_io() {
    let n = T::Numeric(None);
    round_trip(
        &n,
        &[
            ("1e3", "1000"),
            ("1.50e1", "15.0"),
            ("  -0.00 ", "0.00"),
            (".5", "0.5"),
            ("5.", "5"),
            ("inf", "Infinity"),
            ("-inf", "-Infinity"),
            ("+Infinity", "Infinity"),
            ("nan", "NaN"),
            ("1.50", "1.50"),
            (
                "-123456789012345678901234567890.000001",
                "-123456789012345678901234567890.000001",
            ),
        ],
    );
    assert_eq!(io("NaN", &T::Numeric(Some((5, 2)))), "NaN");
    assert_eq!(
        io_err("1.2.3", &n),
        (
            ErrorCode::InvalidTextRepresentation,
            "invalid input syntax for type numeric: \"1.2.3\"".into()
        )
    );
    assert_eq!(io_err("1e", &n).0, ErrorCode::InvalidTextRepresentation);
}

fn detail(e: &crate::Error) -> Option<String> {
    match e {
        crate::Error::Input { detail, .. } => detail.clone(),
        _ => None,
    }
}

// select 0.5::numeric(2,2), 0.995::numeric(3,2), 1.5::numeric(2,1)::numeric(3,0),
//   12.5::numeric(2,0)  →  0.50 | 1.00 | 2 | 13
// select 12345.678::numeric(5,2); select 1::numeric(2,2); select 'Infinity'::numeric(5,2);
// select 9.5::numeric(1,0)
#[test]
fn numeric_typmod() {
    let num = |p, s| T::Numeric(Some((p, s)));
    assert_eq!(cast_io("0.5", &T::Numeric(None), &num(2, 2)), "0.50");
    assert_eq!(cast_io("0.995", &T::Numeric(None), &num(3, 2)), "1.00");
    assert_eq!(cast_io("1.5", &T::Numeric(None), &num(3, 0)), "2");
    assert_eq!(cast_io("12.5", &T::Numeric(None), &num(2, 0)), "13");
    assert_eq!(cast_io("-12.5", &T::Numeric(None), &num(2, 0)), "-13");
    for (input, p, s, expected_detail) in [
        (
            "12345.678",
            5,
            2,
            "A field with precision 5, scale 2 must round to an absolute value less than 10^3.",
        ),
        (
            "1",
            2,
            2,
            "A field with precision 2, scale 2 must round to an absolute value less than 1.",
        ),
        (
            "9.5",
            1,
            0,
            "A field with precision 1, scale 0 must round to an absolute value less than 10^1.",
        ),
        (
            "Infinity",
            5,
            2,
            "A field with precision 5, scale 2 cannot hold an infinite value.",
        ),
    ] {
        let err = parse_text(input, &num(p, s)).expect_err("overflow");
        assert_eq!(err.code(), Some(ErrorCode::NumericValueOutOfRange));
        assert_eq!(err.to_string(), "numeric field overflow");
        assert_eq!(detail(&err).as_deref(), Some(expected_detail));
    }
}

// select 'abc'::varchar(5), 'abcdef'::varchar(3), 'abc'::char(5) || '|', 'abcdef'::char(3)
#[test]
fn string_io() {
    round_trip(&T::Text, &[("héllo ", "héllo "), ("", "")]);
    assert_eq!(io("abc  ", &T::Varchar(Some(3))), "abc");
    assert_eq!(io("ab", &T::Char(4)), "ab  ");
    assert_eq!(cast_io("abcdef", &T::Text, &T::Varchar(Some(3))), "abc");
    assert_eq!(cast_io("abcdef", &T::Text, &T::Char(3)), "abc");
    assert_eq!(cast_io("abc", &T::Text, &T::Char(5)), "abc  ");
    assert_eq!(cast_io("ééé", &T::Text, &T::Varchar(Some(2))), "éé");
    // create table t(v varchar(3)); insert into t values ('abcd')
    //   →  ERROR: value too long for type character varying(3)
    let too_long = assign(Value::Text("abcd".into()), &T::Varchar(Some(3))).expect_err("too long");
    assert_eq!(too_long.code(), Some(ErrorCode::StringDataRightTruncation));
    assert_eq!(
        too_long.to_string(),
        "value too long for type character varying(3)"
    );
    // insert into t values ('abc   ')  →  stored as 'abc'
    let fits = assign(Value::Text("abc   ".into()), &T::Varchar(Some(3))).expect("blanks");
    assert_eq!(to_text(&fits), "abc");
    let err = assign(Value::Text("abcd".into()), &T::Char(3)).expect_err("too long");
    assert_eq!(err.to_string(), "value too long for type character(3)");
}

// select 'ab\\c\001'::bytea, '\x 01 02'::bytea, '\xDEADbeef'::bytea, ''::bytea
#[test]
fn bytea_io() {
    round_trip(
        &T::Bytea,
        &[
            ("ab\\\\c\\001", "\\x61625c6301"),
            ("\\x 01 02", "\\x0102"),
            ("\\xDEADbeef", "\\xdeadbeef"),
            ("", "\\x"),
        ],
    );
    // select '\xzz'::bytea; select '\x123'::bytea; select 'a\b'::bytea
    assert_eq!(
        io_err("\\xzz", &T::Bytea),
        (
            ErrorCode::InvalidTextRepresentation,
            "invalid hexadecimal digit: \"z\"".into()
        )
    );
    assert_eq!(
        io_err("\\x123", &T::Bytea).1,
        "invalid hexadecimal data: odd number of digits"
    );
    assert_eq!(
        io_err("a\\b", &T::Bytea).1,
        "invalid input syntax for type bytea"
    );
}

// select 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{A0EEBC999C0B4EF8BB6D6BB9BD380A11}'::uuid,
//   'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11'::uuid
#[test]
fn uuid_io() {
    let expected = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    round_trip(
        &T::Uuid,
        &[
            ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", expected),
            ("{A0EEBC999C0B4EF8BB6D6BB9BD380A11}", expected),
            ("a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11", expected),
        ],
    );
    // select 'x'::uuid  →  ERROR: invalid input syntax for type uuid: "x"
    assert_eq!(
        io_err("x", &T::Uuid),
        (
            ErrorCode::InvalidTextRepresentation,
            "invalid input syntax for type uuid: \"x\"".into()
        )
    );
    assert_eq!(
        io_err("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", &T::Uuid).0,
        ErrorCode::InvalidTextRepresentation
    );
}

// select 2.5::float8::int, 3.5::float8::int, -2.5::float8::int, 2.5::numeric::int,
//   -2.5::numeric::int, 2.5::float4::int2  →  2 | 4 | -2 | 3 | -3 | 2
#[test]
fn cast_rounding() {
    let f8 = T::Float64;
    let n = T::Numeric(None);
    assert_eq!(cast_io("2.5", &f8, &T::Int32), "2");
    assert_eq!(cast_io("3.5", &f8, &T::Int32), "4");
    assert_eq!(cast_io("-2.5", &f8, &T::Int32), "-2");
    assert_eq!(cast_io("2.5", &n, &T::Int32), "3");
    assert_eq!(cast_io("-2.5", &n, &T::Int32), "-3");
    assert_eq!(cast_io("2.5", &T::Float32, &T::Int16), "2");
    // select 'NaN'::float8::int; select 'NaN'::numeric::int; select 'Infinity'::numeric::int;
    // select 40000::int2; select 3000000000::int8::int; select 1e19::numeric::int8
    assert_eq!(
        cast_err("NaN", &f8, &T::Int32),
        (
            ErrorCode::NumericValueOutOfRange,
            "integer out of range".into()
        )
    );
    assert_eq!(
        cast_err("NaN", &n, &T::Int32),
        (
            ErrorCode::FeatureNotSupported,
            "cannot convert NaN to integer".into()
        )
    );
    assert_eq!(
        cast_err("Infinity", &n, &T::Int32).1,
        "cannot convert infinity to integer"
    );
    assert_eq!(
        cast_err("40000", &T::Int32, &T::Int16).1,
        "smallint out of range"
    );
    assert_eq!(
        cast_err("3000000000", &T::Int64, &T::Int32).1,
        "integer out of range"
    );
    assert_eq!(cast_err("1e19", &n, &T::Int64).1, "bigint out of range");
}

// select true::text, 1::int4::bool, 0::int4::bool, true::int, 1.5::float4::text,
//   0.1::float8::numeric, (1.0/3)::float8::numeric, 1e20::float8::numeric,
//   1.5e-5::float8::numeric, 0.1::float4::numeric, 'infinity'::float8::numeric
//   →  true | t | f | 1 | 1.5 | 0.1 | 0.333333333333333 | 100000000000000000000 | 0.000015 | 0.1 | Infinity
#[test]
fn cast_between_types() {
    assert_eq!(cast_io("t", &T::Bool, &T::Text), "true");
    assert_eq!(cast_io("1", &T::Int32, &T::Bool), "t");
    assert_eq!(cast_io("0", &T::Int32, &T::Bool), "f");
    assert_eq!(cast_io("t", &T::Bool, &T::Int32), "1");
    assert_eq!(cast_io("1.5", &T::Float32, &T::Text), "1.5");
    assert_eq!(cast_io("0.1", &T::Float64, &T::Numeric(None)), "0.1");
    assert_eq!(
        cast_io("0.3333333333333333", &T::Float64, &T::Numeric(None)),
        "0.333333333333333"
    );
    assert_eq!(
        cast_io("1e20", &T::Float64, &T::Numeric(None)),
        "100000000000000000000"
    );
    assert_eq!(
        cast_io("1.5e-5", &T::Float64, &T::Numeric(None)),
        "0.000015"
    );
    assert_eq!(cast_io("0.1", &T::Float32, &T::Numeric(None)), "0.1");
    assert_eq!(
        cast_io("infinity", &T::Float64, &T::Numeric(None)),
        "Infinity"
    );
    // select 1::int8::bool  →  ERROR: cannot cast type bigint to boolean
    assert_eq!(
        cast_err("1", &T::Int64, &T::Bool),
        (
            ErrorCode::CannotCoerce,
            "cannot cast type bigint to boolean".into()
        )
    );
    // Assignment refuses the explicit-only integer → boolean cast.
    assert_eq!(
        assign(Value::Int32(1), &T::Bool)
            .expect_err("explicit only")
            .code(),
        Some(ErrorCode::DatatypeMismatch)
    );
    // select 1e40::float8::float4; select 1e-50::float8::float4
    assert_eq!(
        cast_err("1e40", &T::Float64, &T::Float32).1,
        "value out of range: overflow"
    );
    assert_eq!(
        cast_err("1e-50", &T::Float64, &T::Float32).1,
        "value out of range: underflow"
    );
    // select '2024-01-31 12:00'::timestamp::date, '2024-01-31 12:34'::timestamp::time,
    //   interval '1 day 02:00'::time, time '10:00'::interval, '-infinity'::date::timestamp
    assert_eq!(
        cast_io("2024-01-31 12:00", &T::Timestamp, &T::Date),
        "2024-01-31"
    );
    assert_eq!(
        cast_io("2024-01-31 12:34", &T::Timestamp, &T::Time),
        "12:34:00"
    );
    assert_eq!(cast_io("1 day 02:00", &T::Interval, &T::Time), "02:00:00");
    assert_eq!(cast_io("10:00", &T::Time, &T::Interval), "10:00:00");
    assert_eq!(cast_io("-infinity", &T::Date, &T::Timestamp), "-infinity");
    assert_eq!(
        cast_io("2024-01-31", &T::Date, &T::TimestampTz),
        "2024-01-31 00:00:00+00"
    );
    // NULL stays NULL.
    assert!(cast(Value::Null, &T::Int32).expect("null").is_null());
    assert!(assign(Value::Null, &T::Varchar(Some(1)))
        .expect("null")
        .is_null());
    // Text casts parse.
    assert_eq!(cast_io(" 42 ", &T::Text, &T::Int64), "42");
}

// insert into t(n numeric(5,2)) values (1.005), (123456)  →  1.01 | ERROR: numeric field overflow
// insert into t(i int2) values (40000)  →  ERROR: smallint out of range
#[test]
fn assignment() {
    let n = parse_text("1.005", &T::Numeric(None)).expect("numeric");
    assert_eq!(
        to_text(&assign(n, &T::Numeric(Some((5, 2)))).expect("fits")),
        "1.01"
    );
    let big = Value::Int32(123456);
    assert_eq!(
        assign(big, &T::Numeric(Some((5, 2))))
            .expect_err("overflow")
            .to_string(),
        "numeric field overflow"
    );
    assert_eq!(
        assign(Value::Int32(40000), &T::Int16)
            .expect_err("overflow")
            .to_string(),
        "smallint out of range"
    );
    assert_eq!(
        to_text(&assign(Value::Int32(7), &T::Text).expect("text")),
        "7"
    );
    assert_eq!(
        to_text(&assign(Value::Float64(2.5), &T::Int32).expect("int")),
        "2"
    );
}

#[test]
fn common_types_are_postgresqls_select_common_type() {
    use DataType as T;
    let common = |types: &[DataType]| DataType::common(types);
    assert_eq!(common(&[]), Ok(T::Text));
    assert_eq!(common(&[T::Unknown, T::Unknown]), Ok(T::Text));
    assert_eq!(common(&[T::Unknown, T::Int32]), Ok(T::Int32));
    assert_eq!(common(&[T::Int16, T::Int64, T::Int32]), Ok(T::Int64));
    assert_eq!(
        common(&[T::Int32, T::Numeric(Some((5, 2)))]),
        Ok(T::Numeric(None))
    );
    assert_eq!(common(&[T::Numeric(None), T::Float32]), Ok(T::Float32));
    assert_eq!(common(&[T::Float64, T::Int32, T::Float32]), Ok(T::Float64));
    assert_eq!(
        common(&[T::Varchar(Some(3)), T::Varchar(Some(5))]),
        Ok(T::Varchar(None))
    );
    assert_eq!(common(&[T::Varchar(Some(3)), T::Text]), Ok(T::Text));
    assert_eq!(
        common(&[T::Date, T::TimestampTz, T::Timestamp]),
        Ok(T::TimestampTz)
    );
    assert_eq!(common(&[T::Bool, T::Unknown, T::Bool]), Ok(T::Bool));
    assert_eq!(common(&[T::Bool, T::Int32]), Err((T::Bool, T::Int32)));
    assert_eq!(common(&[T::Int32, T::Text]), Err((T::Int32, T::Text)));
    assert_eq!(
        common(&[T::Int32, T::Numeric(None), T::Date]),
        Err((T::Int32, T::Date))
    );
}
