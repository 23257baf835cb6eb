//! Tests of the scalar functions. Every expectation comes from PostgreSQL 15.18, queried with
//! `psql -X -At -c "<query>"` (session time zone UTC); the query is quoted above each group.
//! In the tables, arguments are written `type:text` (`int`, `int2`, `int8`, `num`, `f8`, `f4`,
//! `text`, `date`, `ts`, `tstz`, `iv`) or `null`; results are the PostgreSQL text output, with
//! `NULL` for NULL.

use zizhu_types::Value;

use super::{call, exists, is_volatile, return_type};
use crate::types::{parse_text, to_text, DataType};
use crate::ErrorCode;

fn arg(spec: &str) -> Value {
    if spec == "null" {
        return Value::Null;
    }
    let (ty, text) = spec.split_once(':').expect("type:text");
    let ty = match ty {
        "int" => DataType::Int32,
        "int2" => DataType::Int16,
        "int8" => DataType::Int64,
        "num" => DataType::Numeric(None),
        "f8" => DataType::Float64,
        "f4" => DataType::Float32,
        "text" => DataType::Text,
        "date" => DataType::Date,
        "ts" => DataType::Timestamp,
        "tstz" => DataType::TimestampTz,
        "iv" => DataType::Interval,
        other => panic!("unknown type {other}"),
    };
    parse_text(text, &ty).unwrap_or_else(|e| panic!("bad argument {spec}: {e}"))
}

fn eval(name: &str, args: &[&str]) -> crate::Result<Value> {
    let values: Vec<Value> = args.iter().map(|a| arg(a)).collect();
    call(name, &values)
}

/// Checks `name(args) = expected` for each row.
fn check(rows: &[(&str, &[&str], &str)]) {
    for (name, args, expected) in rows {
        let got = match eval(name, args) {
            Ok(Value::Null) => "NULL".to_string(),
            Ok(v) => to_text(&v),
            Err(e) => panic!("{name}({args:?}) failed: {e}"),
        };
        assert_eq!(got, *expected, "{name}({args:?})");
    }
}

/// Checks that `name(args)` fails with the code and message.
fn check_err(rows: &[(&str, &[&str], ErrorCode, &str)]) {
    for (name, args, code, message) in rows {
        match eval(name, args) {
            Ok(v) => panic!("{name}({args:?}) = {v:?}, expected an error"),
            Err(e) => {
                assert_eq!(e.code(), Some(*code), "{name}({args:?}): {e}");
                assert_eq!(e.to_string(), *message, "{name}({args:?})");
            }
        }
    }
}

use ErrorCode as E;

#[test]
fn catalog() {
    assert!(exists("substr", 2) && exists("substr", 3) && !exists("substr", 4));
    assert!(exists("concat", 5) && !exists("concat", 0));
    assert!(!exists("concat_ws", 1) && exists("concat_ws", 2));
    assert!(exists("pi", 0) && !exists("pi", 1));
    assert!(!exists("length", 1) && !exists("nosuch", 1));
    assert!(is_volatile("random") && is_volatile("now") && is_volatile("clock_timestamp"));
    assert!(!is_volatile("round") && !is_volatile("date_part"));
    // select pg_typeof(round(5)), pg_typeof(round(5::int8)), pg_typeof(trunc(5)),
    //   pg_typeof(ceil(5)), pg_typeof(floor(5::int2)), pg_typeof(mod(5::int2, 3)),
    //   pg_typeof(mod(5::int2,3::int2)), pg_typeof(mod(5, 2.5)), pg_typeof(power(2,3)),
    //   pg_typeof(power(2,3.0)), pg_typeof(sqrt(4)), pg_typeof(exp(1)), pg_typeof(ln(2)),
    //   pg_typeof(log(100)), pg_typeof(log(2,8)), pg_typeof(sign(5)), pg_typeof(sign(5.5)),
    //   pg_typeof(abs(5::int2)), pg_typeof(degrees(1)), pg_typeof(cbrt(27));
    // double precision|double precision|double precision|double precision|double precision|
    //   integer|smallint|numeric|double precision|numeric|double precision|double precision|
    //   double precision|double precision|numeric|double precision|numeric|smallint|
    //   double precision|double precision
    use DataType as T;
    let num = T::Numeric(None);
    let cases: &[(&str, &[T], T)] = &[
        ("round", &[T::Int32], T::Float64),
        ("round", &[T::Int64], T::Float64),
        ("trunc", &[T::Int32], T::Float64),
        ("ceil", &[T::Int32], T::Float64),
        ("floor", &[T::Int16], T::Float64),
        ("mod", &[T::Int16, T::Int32], T::Int32),
        ("mod", &[T::Int16, T::Int16], T::Int16),
        ("mod", &[T::Int32, num.clone()], num.clone()),
        ("power", &[T::Int32, T::Int32], T::Float64),
        ("power", &[T::Int32, num.clone()], num.clone()),
        ("sqrt", &[T::Int32], T::Float64),
        ("exp", &[T::Int32], T::Float64),
        ("ln", &[T::Int32], T::Float64),
        ("log", &[T::Int32], T::Float64),
        ("log", &[T::Int32, T::Int32], num.clone()),
        ("sign", &[T::Int32], T::Float64),
        ("sign", &[T::Numeric(None)], num.clone()),
        ("abs", &[T::Int16], T::Int16),
        ("degrees", &[T::Int32], T::Float64),
        ("cbrt", &[T::Int32], T::Float64),
        ("round", &[num.clone(), T::Int32], num.clone()),
        ("round", &[T::Float32], T::Float64),
        // select pg_typeof(least(3, 1.5, 2)); → numeric
        ("least", &[T::Int32, num.clone(), T::Int32], num.clone()),
        // select pg_typeof(now()), pg_typeof(current_date), pg_typeof(clock_timestamp()),
        //   pg_typeof(age(timestamp '2020-01-01')), pg_typeof(date_part('year', now())),
        //   pg_typeof(extract(year from now()));
        // timestamp with time zone|date|timestamp with time zone|interval|double precision|numeric
        ("now", &[], T::TimestampTz),
        ("current_date", &[], T::Date),
        ("clock_timestamp", &[], T::TimestampTz),
        ("age", &[T::Timestamp], T::Interval),
        ("date_part", &[T::Text, T::TimestampTz], T::Float64),
        ("extract", &[T::Text, T::TimestampTz], num.clone()),
        // select pg_typeof(date_trunc('day', date '2024-08-17')); → timestamp with time zone
        ("date_trunc", &[T::Text, T::Date], T::TimestampTz),
        ("date_trunc", &[T::Text, T::Timestamp], T::Timestamp),
        ("strpos", &[T::Text, T::Text], T::Int32),
        ("starts_with", &[T::Text, T::Text], T::Bool),
        ("lpad", &[T::Text, T::Int32], T::Text),
        ("to_char", &[T::Timestamp, T::Text], T::Text),
        ("make_date", &[T::Int32, T::Int32, T::Int32], T::Date),
    ];
    for (name, args, expected) in cases {
        assert_eq!(&return_type(name, args), expected, "{name}{args:?}");
    }
}

#[test]
fn strict_null() {
    for (name, args) in [
        ("substr", &["null", "int:1"][..]),
        ("replace", &["text:a", "null", "text:b"]),
        ("lpad", &["text:a", "null"]),
        ("round", &["null"]),
        ("round", &["num:1.5", "null"]),
        ("power", &["null", "int:2"]),
        ("sqrt", &["null"]),
        ("date_part", &["text:year", "null"]),
        ("date_trunc", &["null", "ts:2024-01-01"]),
        ("to_char", &["ts:2024-01-01", "null"]),
        ("make_date", &["int:2024", "null", "int:1"]),
        ("chr", &["null"]),
        ("md5", &["null"]),
    ] {
        assert_eq!(
            eval(name, args).expect("call"),
            Value::Null,
            "{name}{args:?}"
        );
    }
}

#[test]
fn substr_strpos_replace() {
    // select substr('hello', 2), substr('hello', 2, 3), substr('hello', 0, 3),
    //   substr('hello', -1, 3), substr('hello', -5, 3), substr('hello', 10),
    //   substr('hello', 3, 0), substr('héllo', 2, 2), substring('hello', 2, 2);
    // ello|ell|he|h||||él|el
    check(&[
        ("substr", &["text:hello", "int:2"], "ello"),
        ("substr", &["text:hello", "int:2", "int:3"], "ell"),
        ("substr", &["text:hello", "int:0", "int:3"], "he"),
        ("substr", &["text:hello", "int:-1", "int:3"], "h"),
        ("substr", &["text:hello", "int:-5", "int:3"], ""),
        ("substr", &["text:hello", "int:10"], ""),
        ("substr", &["text:hello", "int:3", "int:0"], ""),
        ("substr", &["text:héllo", "int:2", "int:2"], "él"),
        ("substring", &["text:hello", "int:2", "int:2"], "el"),
    ]);
    // select substr('hello', 1, -1);  → ERROR 22011 (reported here as 22023, see module docs)
    check_err(&[(
        "substr",
        &["text:hello", "int:1", "int:-1"],
        E::InvalidParameterValue,
        "negative substring length not allowed",
    )]);
    // select strpos('hello', 'll'), strpos('hello', ''), strpos('hello', 'z'),
    //   strpos('héllo', 'l'), position('ll' in 'hello'), replace('abcabc', 'b', 'XY'),
    //   replace('abc', '', 'X'), replace('aaa','aa','b');
    // 3|1|0|3|3|aXYcaXYc|abc|ba
    check(&[
        ("strpos", &["text:hello", "text:ll"], "3"),
        ("strpos", &["text:hello", "text:"], "1"),
        ("strpos", &["text:hello", "text:z"], "0"),
        ("strpos", &["text:héllo", "text:l"], "3"),
        ("position", &["text:hello", "text:ll"], "3"),
        ("replace", &["text:abcabc", "text:b", "text:XY"], "aXYcaXYc"),
        ("replace", &["text:abc", "text:", "text:X"], "abc"),
        ("replace", &["text:aaa", "text:aa", "text:b"], "ba"),
    ]);
}

#[test]
fn trim_pad_split() {
    // select '[' || btrim('  xx  ') || ']', '[' || ltrim('  xx  ') || ']',
    //   '[' || rtrim('  xx  ') || ']', btrim('xyxhixy', 'xy'), ltrim('zzzytest', 'xyz'),
    //   rtrim('testxxzx', 'xyz'), btrim('abc', '');
    // [xx]|[xx  ]|[  xx]|hi|test|test|abc
    check(&[
        ("btrim", &["text:  xx  "], "xx"),
        ("ltrim", &["text:  xx  "], "xx  "),
        ("rtrim", &["text:  xx  "], "  xx"),
        ("btrim", &["text:xyxhixy", "text:xy"], "hi"),
        ("ltrim", &["text:zzzytest", "text:xyz"], "test"),
        ("rtrim", &["text:testxxzx", "text:xyz"], "test"),
        ("btrim", &["text:abc", "text:"], "abc"),
    ]);
    // select lpad('hi', 5), lpad('hi', 5, 'xy'), lpad('hello', 3), rpad('hi', 5, 'xy'),
    //   rpad('hi', 5), lpad('hi', -1), lpad('hi', 5, ''), rpad('héllo', 7, 'é');
    //    hi|xyxhi|hel|hixyx|hi   ||hi|hélloéé
    check(&[
        ("lpad", &["text:hi", "int:5"], "   hi"),
        ("lpad", &["text:hi", "int:5", "text:xy"], "xyxhi"),
        ("lpad", &["text:hello", "int:3"], "hel"),
        ("rpad", &["text:hi", "int:5", "text:xy"], "hixyx"),
        ("rpad", &["text:hi", "int:5"], "hi   "),
        ("lpad", &["text:hi", "int:-1"], ""),
        ("lpad", &["text:hi", "int:5", "text:"], "hi"),
        ("rpad", &["text:héllo", "int:7", "text:é"], "hélloéé"),
    ]);
    // select lpad('hi', 2147483647, 'x');  → ERROR 54000 requested length too large
    //   (reported here as 22023, see module docs)
    check_err(&[(
        "lpad",
        &["text:hi", "int:2147483647", "text:x"],
        E::InvalidParameterValue,
        "requested length too large",
    )]);
    // select split_part('a,b,c', ',', 2), split_part('a,b,c', ',', -1),
    //   split_part('a,b,c', ',', 4), split_part('a,b,c', ',', -4), split_part('abc', '', 1),
    //   split_part('abc', '', 2), split_part('', ',', 1), split_part('a,,b', ',,', 2);
    // b|c|||abc|||b
    check(&[
        ("split_part", &["text:a,b,c", "text:,", "int:2"], "b"),
        ("split_part", &["text:a,b,c", "text:,", "int:-1"], "c"),
        ("split_part", &["text:a,b,c", "text:,", "int:4"], ""),
        ("split_part", &["text:a,b,c", "text:,", "int:-4"], ""),
        ("split_part", &["text:abc", "text:", "int:1"], "abc"),
        ("split_part", &["text:abc", "text:", "int:2"], ""),
        ("split_part", &["text:", "text:,", "int:1"], ""),
        ("split_part", &["text:a,,b", "text:,,", "int:2"], "b"),
    ]);
    // select split_part('a,b', ',', 0);  → ERROR 22023 field position must not be zero
    check_err(&[(
        "split_part",
        &["text:a,b", "text:,", "int:0"],
        E::InvalidParameterValue,
        "field position must not be zero",
    )]);
}

#[test]
fn concat_and_friends() {
    // select concat('a', null, 1, true, 2.50, 1.5::float8, date '2024-01-02',
    //   interval '1 day');  → a1t2.501.52024-01-021 day
    // select concat_ws('-', true, null, 1.50);  → t-1.50
    // select concat_ws(',', null) is null, concat(null) is null;  → f|f
    // select concat_ws(null, 'a', 'b') is null;  → t
    check(&[
        (
            "concat",
            &[
                "text:a",
                "null",
                "int:1",
                "text:t",
                "num:2.50",
                "f8:1.5",
                "date:2024-01-02",
                "iv:1 day",
            ],
            "a1t2.501.52024-01-021 day",
        ),
        (
            "concat_ws",
            &["text:-", "text:t", "null", "num:1.50"],
            "t-1.50",
        ),
        ("concat_ws", &["text:,", "null"], ""),
        ("concat", &["null"], ""),
        ("concat_ws", &["null", "text:a", "text:b"], "NULL"),
    ]);
    assert_eq!(
        to_text(&call("concat", &[Value::Bool(true)]).expect("concat")),
        "t"
    );
    // select left('hello', 2), left('hello', -2), left('hello', 0), right('hello', 2),
    //   right('hello', -2), right('hello', 10), left('hello', -10);
    // he|hel||lo|llo|hello|
    check(&[
        ("left", &["text:hello", "int:2"], "he"),
        ("left", &["text:hello", "int:-2"], "hel"),
        ("left", &["text:hello", "int:0"], ""),
        ("right", &["text:hello", "int:2"], "lo"),
        ("right", &["text:hello", "int:-2"], "llo"),
        ("right", &["text:hello", "int:10"], "hello"),
        ("left", &["text:hello", "int:-10"], ""),
    ]);
    // select reverse('héllo'), repeat('ab', 3), repeat('ab', 0), repeat('ab', -1),
    //   initcap('hello wORLD foo_bar 3abc x-y'), ascii('A'), ascii(''), ascii('é'), chr(65),
    //   chr(233), starts_with('hello', 'he'), starts_with('hello', ''),
    //   starts_with('hello', 'lo');
    // olléh|ababab|||Hello World Foo_Bar 3abc X-Y|65|0|233|A|é|t|t|f
    check(&[
        ("reverse", &["text:héllo"], "olléh"),
        ("repeat", &["text:ab", "int:3"], "ababab"),
        ("repeat", &["text:ab", "int:0"], ""),
        ("repeat", &["text:ab", "int:-1"], ""),
        (
            "initcap",
            &["text:hello wORLD foo_bar 3abc x-y"],
            "Hello World Foo_Bar 3abc X-Y",
        ),
        ("ascii", &["text:A"], "65"),
        ("octet_length", &["text:é"], "2"),
        ("octet_length", &["text:"], "0"),
        ("ascii", &["text:"], "0"),
        ("ascii", &["text:é"], "233"),
        ("chr", &["int:65"], "A"),
        ("chr", &["int:233"], "é"),
        ("starts_with", &["text:hello", "text:he"], "t"),
        ("starts_with", &["text:hello", "text:"], "t"),
        ("starts_with", &["text:hello", "text:lo"], "f"),
    ]);
    // select initcap('élan ÉCOLE d''été x1y'), upper('ß');  → Élan École D'Été X1y|ß
    // select upper('héllo'), lower('HÉLLO'), translate('12345', '143', 'ax');
    // HÉLLO|héllo|a2x5
    check(&[
        (
            "initcap",
            &["text:élan ÉCOLE d'été x1y"],
            "Élan École D'Été X1y",
        ),
        ("upper", &["text:ß"], "ß"),
        ("upper", &["text:héllo"], "HÉLLO"),
        ("lower", &["text:HÉLLO"], "héllo"),
        ("translate", &["text:12345", "text:143", "text:ax"], "a2x5"),
    ]);
    // select chr(0); chr(-1); chr(1114112); chr(55296); repeat('x', 2000000000);
    // 54000 null character not permitted | 22023 character number must be positive |
    // 54000 requested character too large for encoding: 1114112 |
    // 54000 requested character not valid for encoding: 55296 | 54000 requested length too large
    // (54000 is reported here as 22023, see module docs)
    check_err(&[
        (
            "chr",
            &["int:0"],
            E::InvalidParameterValue,
            "null character not permitted",
        ),
        (
            "chr",
            &["int:-1"],
            E::InvalidParameterValue,
            "character number must be positive",
        ),
        (
            "chr",
            &["int:1114112"],
            E::InvalidParameterValue,
            "requested character too large for encoding: 1114112",
        ),
        (
            "chr",
            &["int:55296"],
            E::InvalidParameterValue,
            "requested character not valid for encoding: 55296",
        ),
        (
            "repeat",
            &["text:x", "int:2000000000"],
            E::InvalidParameterValue,
            "requested length too large",
        ),
    ]);
}

#[test]
fn md5_digests() {
    // select md5(''), md5('abc'), md5('The quick brown fox jumps over the lazy dog'),
    //   md5(repeat('a', 100));
    // d41d8cd98f00b204e9800998ecf8427e|900150983cd24fb0d6963f7d28e17f72|
    //   9e107d9d372bb6826bd81d3542a419d6|36a92cc94a9e0fa21f625f8bfb007adf
    let a100 = format!("text:{}", "a".repeat(100));
    check(&[
        ("md5", &["text:"], "d41d8cd98f00b204e9800998ecf8427e"),
        ("md5", &["text:abc"], "900150983cd24fb0d6963f7d28e17f72"),
        (
            "md5",
            &["text:The quick brown fox jumps over the lazy dog"],
            "9e107d9d372bb6826bd81d3542a419d6",
        ),
        ("md5", &[a100.as_str()], "36a92cc94a9e0fa21f625f8bfb007adf"),
    ]);
}

#[test]
fn rounding() {
    // select round(2.5::float8), round(3.5::float8), round(-2.5::float8), round(2.5),
    //   round(-2.5), round(2.345, 2), round(-2.345, 2), round(1234.5, -2), round(1250, -2),
    //   round(1.5::real);
    // 2|4|-2|3|-3|2.35|-2.35|1200|1300|2
    check(&[
        ("round", &["f8:2.5"], "2"),
        ("round", &["f8:3.5"], "4"),
        ("round", &["f8:-2.5"], "-2"),
        ("round", &["num:2.5"], "3"),
        ("round", &["num:-2.5"], "-3"),
        ("round", &["num:2.345", "int:2"], "2.35"),
        ("round", &["num:-2.345", "int:2"], "-2.35"),
        ("round", &["num:1234.5", "int:-2"], "1200"),
        ("round", &["int:1250", "int:-2"], "1300"),
        ("round", &["f4:1.5"], "2"),
    ]);
    // select trunc(2.7::float8), trunc(-2.7::float8), trunc(2.789, 2), trunc(-2.789, 1),
    //   trunc(1234.5, -2), trunc(5.00), round(5.00), round(5.00, 1), trunc(5.123, 5),
    //   round(5.123, 5);
    // 2|-2|2.78|-2.7|1200|5|5|5.0|5.12300|5.12300
    check(&[
        ("trunc", &["f8:2.7"], "2"),
        ("trunc", &["f8:-2.7"], "-2"),
        ("trunc", &["num:2.789", "int:2"], "2.78"),
        ("trunc", &["num:-2.789", "int:1"], "-2.7"),
        ("trunc", &["num:1234.5", "int:-2"], "1200"),
        ("trunc", &["num:5.00"], "5"),
        ("round", &["num:5.00"], "5"),
        ("round", &["num:5.00", "int:1"], "5.0"),
        ("trunc", &["num:5.123", "int:5"], "5.12300"),
        ("round", &["num:5.123", "int:5"], "5.12300"),
    ]);
    // select ceil(2.1), ceil(-2.1), ceil(2.1::float8), floor(-2.1), floor(2.9::float8),
    //   ceiling(1.0001), ceil(2.50), floor(2.50);
    // 3|-2|3|-3|2|2|3|2
    check(&[
        ("ceil", &["num:2.1"], "3"),
        ("ceil", &["num:-2.1"], "-2"),
        ("ceil", &["f8:2.1"], "3"),
        ("floor", &["num:-2.1"], "-3"),
        ("floor", &["f8:2.9"], "2"),
        ("ceiling", &["num:1.0001"], "2"),
        ("ceil", &["num:2.50"], "3"),
        ("floor", &["num:2.50"], "2"),
    ]);
    // select sign(-5), sign(0), sign(-2.5), sign(0.0), sign(3::float8), pi(), degrees(1),
    //   radians(180), degrees(pi());
    // -1|0|-1|0|1|3.141592653589793|57.29577951308232|3.141592653589793|180
    check(&[
        ("sign", &["int:-5"], "-1"),
        ("sign", &["int:0"], "0"),
        ("sign", &["num:-2.5"], "-1"),
        ("sign", &["num:0.0"], "0"),
        ("sign", &["f8:3"], "1"),
        ("pi", &[], "3.141592653589793"),
        ("degrees", &["int:1"], "57.29577951308232"),
        ("radians", &["int:180"], "3.141592653589793"),
        ("degrees", &["f8:3.141592653589793"], "180"),
        ("abs", &["int:-5"], "5"),
        ("abs", &["num:-2.50"], "2.50"),
    ]);
    // select abs(-32768::int2);  → ERROR 22003 smallint out of range
    check_err(&[(
        "abs",
        &["int2:-32768"],
        E::NumericValueOutOfRange,
        "smallint out of range",
    )]);
}

#[test]
fn modulo_power() {
    // select mod(7,3), mod(-7,3), mod(7,-3), mod(7.5, 2), mod(-7.5, 2.25), mod(9::int8, 4);
    // 1|-1|1|1.5|-0.75|1
    check(&[
        ("mod", &["int:7", "int:3"], "1"),
        ("mod", &["int:-7", "int:3"], "-1"),
        ("mod", &["int:7", "int:-3"], "1"),
        ("mod", &["num:7.5", "int:2"], "1.5"),
        ("mod", &["num:-7.5", "num:2.25"], "-0.75"),
        ("mod", &["int8:9", "int:4"], "1"),
    ]);
    // select mod(5, 0); select mod(5.0, 0);  → ERROR 22012 division by zero (both)
    check_err(&[
        (
            "mod",
            &["int:5", "int:0"],
            E::DivisionByZero,
            "division by zero",
        ),
        (
            "mod",
            &["num:5.0", "int:0"],
            E::DivisionByZero,
            "division by zero",
        ),
    ]);
    // select power(2,10), power(2.0,10), power(2::numeric,10::numeric), power(2::numeric, -2),
    //   power(2.5, 2), power(4::numeric, 0.5), power(2::numeric, 0.5), power(1.5, 3),
    //   power(10::numeric, 20), power(0::numeric, 0), power(0::float8, 0),
    //   power(2::float8, 0.5), power(-2::numeric, 3), power(2::numeric,100);
    // 1024|1024.0000000000000000|1024.0000000000000000|0.2500000000000000|6.2500000000000000|
    //   2.0000000000000000|1.4142135623730950|3.3750000000000000|
    //   100000000000000000000.0000000000000000|1.0000000000000000|1|1.4142135623730951|
    //   -8.0000000000000000|1267650600228229401496703205376.0000000000000000
    check(&[
        ("power", &["int:2", "int:10"], "1024"),
        ("power", &["num:2.0", "int:10"], "1024.0000000000000000"),
        ("power", &["num:2", "num:10"], "1024.0000000000000000"),
        ("power", &["num:2", "int:-2"], "0.2500000000000000"),
        ("power", &["num:2.5", "int:2"], "6.2500000000000000"),
        ("power", &["num:4", "num:0.5"], "2.0000000000000000"),
        ("power", &["num:2", "num:0.5"], "1.4142135623730950"),
        ("pow", &["num:1.5", "int:3"], "3.3750000000000000"),
        (
            "power",
            &["num:10", "int:20"],
            "100000000000000000000.0000000000000000",
        ),
        ("power", &["num:0", "int:0"], "1.0000000000000000"),
        ("power", &["f8:0", "int:0"], "1"),
        ("power", &["f8:2", "num:0.5"], "1.4142135623730951"),
        ("power", &["num:-2", "int:3"], "-8.0000000000000000"),
        (
            "power",
            &["num:2", "int:100"],
            "1267650600228229401496703205376.0000000000000000",
        ),
    ]);
    // select 0::float8 ^ -1; select 0::numeric ^ -1; select power(-8::float8, 1.0/3);
    // select power(-8::numeric, 0.5); select exp(10000);
    // 2201F zero raised to a negative power is undefined (float and numeric) |
    // 2201F a negative number raised to a non-integer power yields a complex result (both) |
    // 22003 value out of range: overflow
    let complex = "a negative number raised to a non-integer power yields a complex result";
    check_err(&[
        (
            "power",
            &["f8:0", "int:-1"],
            E::InvalidArgumentForPowerFunction,
            "zero raised to a negative power is undefined",
        ),
        (
            "power",
            &["num:0", "int:-1"],
            E::InvalidArgumentForPowerFunction,
            "zero raised to a negative power is undefined",
        ),
        (
            "power",
            &["f8:-8", "f8:0.3333333333333333"],
            E::InvalidArgumentForPowerFunction,
            complex,
        ),
        (
            "power",
            &["num:-8", "num:0.5"],
            E::InvalidArgumentForPowerFunction,
            complex,
        ),
        (
            "exp",
            &["int:10000"],
            E::NumericValueOutOfRange,
            "value out of range: overflow",
        ),
    ]);
}

#[test]
fn roots_logs() {
    // select sqrt(2), sqrt(2::numeric), sqrt(16::numeric), sqrt(0.25), sqrt(100.00), cbrt(27),
    //   cbrt(-8), exp(1), exp(1::numeric), exp(0::numeric), ln(2), ln(2::numeric), ln(10.0),
    //   log(100), log(100::numeric), log(1000::float8), log(2, 8), log(2.0, 8), log(10,1000);
    // 1.4142135623730951|1.414213562373095|4.000000000000000|0.50000000000000000|
    //   10.000000000000000|3.0000000000000004|-2|2.718281828459045|2.7182818284590452|
    //   1.0000000000000000|0.6931471805599453|0.6931471805599453|2.3025850929940457|2|
    //   2.0000000000000000|3|3.0000000000000000|3.0000000000000000|3.0000000000000000
    check(&[
        ("sqrt", &["int:2"], "1.4142135623730951"),
        ("sqrt", &["num:2"], "1.414213562373095"),
        ("sqrt", &["num:16"], "4.000000000000000"),
        ("sqrt", &["num:0.25"], "0.50000000000000000"),
        ("sqrt", &["num:100.00"], "10.000000000000000"),
        ("cbrt", &["int:27"], "3.0000000000000004"),
        ("cbrt", &["int:-8"], "-2"),
        // select cbrt(2), cbrt(1e300::float8), cbrt(0.001), cbrt(64), cbrt(1e-310::float8),
        //   cbrt(10), cbrt(-1e-5::float8), cbrt(0), cbrt('-0'::float8), cbrt('inf'::float8),
        //   cbrt(125), cbrt(3.375);
        // 1.2599210498948734|1e+100|0.1|4|4.641588833612775e-104|2.1544346900318834|
        //   -0.021544346900318832|0|-0|Infinity|5|1.5000000000000002
        ("cbrt", &["int:2"], "1.2599210498948734"),
        ("cbrt", &["f8:1e300"], "1e+100"),
        ("cbrt", &["num:0.001"], "0.1"),
        ("cbrt", &["int:64"], "4"),
        ("cbrt", &["f8:1e-310"], "4.641588833612775e-104"),
        ("cbrt", &["int:10"], "2.1544346900318834"),
        ("cbrt", &["f8:-1e-5"], "-0.021544346900318832"),
        ("cbrt", &["int:0"], "0"),
        ("cbrt", &["f8:-0"], "-0"),
        ("cbrt", &["f8:inf"], "Infinity"),
        ("cbrt", &["int:125"], "5"),
        ("cbrt", &["num:3.375"], "1.5000000000000002"),
        ("exp", &["int:1"], "2.718281828459045"),
        ("exp", &["num:1"], "2.7182818284590452"),
        ("exp", &["num:0"], "1.0000000000000000"),
        ("ln", &["int:2"], "0.6931471805599453"),
        ("ln", &["num:2"], "0.6931471805599453"),
        ("ln", &["num:10.0"], "2.3025850929940457"),
        ("log", &["int:100"], "2"),
        ("log", &["num:100"], "2.0000000000000000"),
        ("log", &["f8:1000"], "3"),
        ("log", &["int:2", "int:8"], "3.0000000000000000"),
        ("log", &["num:2.0", "int:8"], "3.0000000000000000"),
        ("log", &["int:10", "int:1000"], "3.0000000000000000"),
    ]);
    // select exp(2.5::numeric), exp(-1::numeric), ln(1234.5678), log(2.0), log(0.001),
    //   exp(100::numeric), ln(1::numeric), log(1.5, 100);
    // 12.182493960703473|0.3678794411714423|7.1184762282977863|0.3010299956639812|
    //   -3.0000000000000000|26881171418161354484126255515800135873611119|0.0000000000000000|
    //   11.3577471745351456
    check(&[
        ("exp", &["num:2.5"], "12.182493960703473"),
        ("exp", &["num:-1"], "0.3678794411714423"),
        ("ln", &["num:1234.5678"], "7.1184762282977863"),
        ("log", &["num:2.0"], "0.3010299956639812"),
        ("log", &["num:0.001"], "-3.0000000000000000"),
        (
            "exp",
            &["num:100"],
            "26881171418161354484126255515800135873611119",
        ),
        ("ln", &["num:1"], "0.0000000000000000"),
        ("log", &["num:1.5", "int:100"], "11.3577471745351456"),
    ]);
    // select sqrt(123456789012345678901234567890::numeric), sqrt(0.000000000001234::numeric),
    //   sqrt(0::numeric), exp(-100::numeric), exp(0.001::numeric), ln(0.000001::numeric),
    //   ln(1.0001::numeric), ln(1e100::numeric), log(1.0000001, 2), power(2.5::numeric, 3.7),
    //   power(1.0001::numeric, 10000.5), power(10::numeric, -20), power(3::numeric, -3),
    //   power(0::numeric, 0.5), log(1e-50::numeric), power(1.5::numeric, 100),
    //   ln(9999.99999::numeric), ln(0.95::numeric);
    // 351364182882014.4|0.000001110855526159905|0.000000000000000|
    //   0.00000000000000000000000000000000000000000003720075976020836|1.0010005001667083|
    //   -13.815510557964274|0.00009999500033330834|230.25850929940457|6931472.152173038|
    //   29.674132536420854|2.7182818307240536|0.0000000000000000|0.0370370370370370|
    //   0.0000000000000000|-50.00000000000000000000000000000000000000000000000000|
    //   406561177535215237.3972797075670417|9.2103403709761827|-0.051293294387550533
    check(&[
        (
            "sqrt",
            &["num:123456789012345678901234567890"],
            "351364182882014.4",
        ),
        (
            "sqrt",
            &["num:0.000000000001234"],
            "0.000001110855526159905",
        ),
        ("sqrt", &["num:0"], "0.000000000000000"),
        (
            "exp",
            &["num:-100"],
            "0.00000000000000000000000000000000000000000003720075976020836",
        ),
        ("exp", &["num:0.001"], "1.0010005001667083"),
        ("ln", &["num:0.000001"], "-13.815510557964274"),
        ("ln", &["num:1.0001"], "0.00009999500033330834"),
        ("ln", &["num:1e100"], "230.25850929940457"),
        ("log", &["num:1.0000001", "int:2"], "6931472.152173038"),
        ("power", &["num:2.5", "num:3.7"], "29.674132536420854"),
        (
            "power",
            &["num:1.0001", "num:10000.5"],
            "2.7182818307240536",
        ),
        ("power", &["num:10", "int:-20"], "0.0000000000000000"),
        ("power", &["num:3", "int:-3"], "0.0370370370370370"),
        ("power", &["num:0", "num:0.5"], "0.0000000000000000"),
        (
            "log",
            &["num:1e-50"],
            "-50.00000000000000000000000000000000000000000000000000",
        ),
        (
            "power",
            &["num:1.5", "int:100"],
            "406561177535215237.3972797075670417",
        ),
        ("ln", &["num:9999.99999"], "9.2103403709761827"),
        ("ln", &["num:0.95"], "-0.051293294387550533"),
    ]);
    // select sqrt(-1); select sqrt(-1::numeric); select ln(0); select ln(-1::numeric);
    // select log(0); select log(-1, 5); select log(1, 5);
    // 2201F cannot take square root of a negative number (both) | 2201E cannot take logarithm
    // of zero | 2201E ... of a negative number | 2201E ... of zero | 2201E ... of a negative
    // number | 22012 division by zero
    check_err(&[
        (
            "sqrt",
            &["int:-1"],
            E::InvalidArgumentForPowerFunction,
            "cannot take square root of a negative number",
        ),
        (
            "sqrt",
            &["num:-1"],
            E::InvalidArgumentForPowerFunction,
            "cannot take square root of a negative number",
        ),
        (
            "ln",
            &["int:0"],
            E::InvalidArgumentForLogarithm,
            "cannot take logarithm of zero",
        ),
        (
            "ln",
            &["num:-1"],
            E::InvalidArgumentForLogarithm,
            "cannot take logarithm of a negative number",
        ),
        (
            "log",
            &["int:0"],
            E::InvalidArgumentForLogarithm,
            "cannot take logarithm of zero",
        ),
        (
            "log",
            &["int:-1", "int:5"],
            E::InvalidArgumentForLogarithm,
            "cannot take logarithm of a negative number",
        ),
        (
            "log",
            &["int:1", "int:5"],
            E::DivisionByZero,
            "division by zero",
        ),
    ]);
}

#[test]
fn greatest_least_random() {
    // select greatest(1, 2, 3), greatest(1, null, 3), greatest(null, null),
    //   least(3, 1.5, 2), greatest('a','b'), least(null::int, 2);
    // 3|3||1.5|b|2
    check(&[
        ("greatest", &["int:1", "int:2", "int:3"], "3"),
        ("greatest", &["int:1", "null", "int:3"], "3"),
        ("greatest", &["null", "null"], "NULL"),
        ("least", &["int:3", "num:1.5", "int:2"], "1.5"),
        ("greatest", &["text:a", "text:b"], "b"),
        ("least", &["null", "int:2"], "2"),
    ]);
    for _ in 0..100 {
        match call("random", &[]).expect("random") {
            Value::Float64(x) => assert!((0.0..1.0).contains(&x)),
            other => panic!("random() = {other:?}"),
        }
    }
    assert_ne!(
        call("random", &[]).expect("random"),
        call("random", &[]).expect("random")
    );
}

#[test]
fn date_part_timestamp() {
    // select f, date_part(f, timestamp '2024-03-10 13:45:30.123456'),
    //   date_part(f, date '2024-03-10'), date_part(f, timestamptz '2024-03-10 13:45:30.5+00')
    //   from unnest(array['year','month','day','hour','minute','second','dow','isodow','doy',
    //   'epoch','quarter','week','decade','century','millennium','microseconds',
    //   'milliseconds','isoyear','julian']) f;
    let rows = [
        ("year", "2024", "2024", "2024"),
        ("month", "3", "3", "3"),
        ("day", "10", "10", "10"),
        ("hour", "13", "0", "13"),
        ("minute", "45", "0", "45"),
        ("second", "30.123456", "0", "30.5"),
        ("dow", "0", "0", "0"),
        ("isodow", "7", "7", "7"),
        ("doy", "70", "70", "70"),
        ("epoch", "1710078330.123456", "1710028800", "1710078330.5"),
        ("quarter", "1", "1", "1"),
        ("week", "10", "10", "10"),
        ("decade", "202", "202", "202"),
        ("century", "21", "21", "21"),
        ("millennium", "3", "3", "3"),
        ("microseconds", "30123456", "0", "30500000"),
        ("milliseconds", "30123.456", "0", "30500"),
        ("isoyear", "2024", "2024", "2024"),
        (
            "julian",
            "2460380.573265318",
            "2460380",
            "2460380.573269676",
        ),
    ];
    for (field, ts, date, tstz) in rows {
        let f = format!("text:{field}");
        check(&[
            (
                "date_part",
                &[f.as_str(), "ts:2024-03-10 13:45:30.123456"],
                ts,
            ),
            ("date_part", &[f.as_str(), "date:2024-03-10"], date),
            (
                "date_part",
                &[f.as_str(), "tstz:2024-03-10 13:45:30.5+00"],
                tstz,
            ),
        ]);
    }
    // select date_part('year', timestamp '0044-03-15 BC'),
    //   date_part('century', timestamp '2000-12-31'), date_part('century', timestamp '2001-01-01'),
    //   date_part('decade', timestamp '1999-01-01'),
    //   date_part('millennium', timestamp '1000-12-31 BC'), date_part('dow', timestamp '2024-03-09'),
    //   date_part('isodow', timestamp '2024-03-10'), date_part('week', timestamp '2024-12-30'),
    //   date_part('isoyear', timestamp '2024-12-30'), date_part('week', timestamp '2027-01-01'),
    //   date_part('doy', timestamp '2024-12-31');
    // -44|20|21|199|-1|6|7|1|2025|53|366
    check(&[
        ("date_part", &["text:year", "ts:0044-03-15 BC"], "-44"),
        ("date_part", &["text:century", "ts:2000-12-31"], "20"),
        ("date_part", &["text:century", "ts:2001-01-01"], "21"),
        ("date_part", &["text:decade", "ts:1999-01-01"], "199"),
        ("date_part", &["text:millennium", "ts:1000-12-31 BC"], "-1"),
        ("date_part", &["text:dow", "ts:2024-03-09"], "6"),
        ("date_part", &["text:isodow", "ts:2024-03-10"], "7"),
        ("date_part", &["text:week", "ts:2024-12-30"], "1"),
        ("date_part", &["text:isoyear", "ts:2024-12-30"], "2025"),
        ("date_part", &["text:week", "ts:2027-01-01"], "53"),
        ("date_part", &["text:DOY", "ts:2024-12-31"], "366"),
    ]);
    // select date_part('epoch', timestamp 'infinity'), date_part('month', timestamp '-infinity');
    // Infinity|(null)
    check(&[
        ("date_part", &["text:epoch", "ts:infinity"], "Infinity"),
        ("date_part", &["text:month", "ts:-infinity"], "NULL"),
    ]);
    // select date_part('foo', now()); select date_part('timezone', now()::timestamp);
    // select date_part('hour', date '2024-01-01');  → 22023 | 0A000 | 0
    check_err(&[
        (
            "date_part",
            &["text:foo", "tstz:2024-01-01 00:00+00"],
            E::InvalidParameterValue,
            "unit \"foo\" not recognized for type timestamp with time zone",
        ),
        (
            "date_part",
            &["text:timezone", "ts:2024-01-01"],
            E::FeatureNotSupported,
            "unit \"timezone\" not supported for type timestamp without time zone",
        ),
    ]);
}

#[test]
fn extract_numeric() {
    // select extract(year from timestamp '2024-03-10 13:45:30.123456'),
    //   extract(second from timestamp '2024-03-10 13:45:30.123456'),
    //   extract(epoch from timestamp '2024-03-10 13:45:30.123456'),
    //   extract(milliseconds from timestamp '2024-03-10 13:45:30.123456'),
    //   extract(microseconds from timestamp '2024-03-10 13:45:30.123456'),
    //   extract(julian from timestamp '2024-03-10 13:45:30.123456'),
    //   extract(epoch from date '2024-03-10'), extract(year from date '2024-03-10'),
    //   extract(dow from date '2024-03-10'), extract(century from date '0001-01-01 BC'),
    //   extract(millennium from date '2001-01-01'), extract(decade from date '0005-01-01 BC'),
    //   extract(year from date '0005-01-01 BC'), extract(week from date '2021-01-01'),
    //   extract(epoch from date '1960-01-01'),
    //   extract(second from timestamp '2024-03-10 13:45:30');
    // 2024|30.123456|1710078330.123456|30123.456|30123456|2460380.57326531777777777778|
    //   1710028800|2024|0|-1|3|-1|-5|53|-315619200|30.000000
    let ts = "ts:2024-03-10 13:45:30.123456";
    check(&[
        ("extract", &["text:year", ts], "2024"),
        ("extract", &["text:second", ts], "30.123456"),
        ("extract", &["text:epoch", ts], "1710078330.123456"),
        ("extract", &["text:milliseconds", ts], "30123.456"),
        ("extract", &["text:microseconds", ts], "30123456"),
        (
            "extract",
            &["text:julian", ts],
            "2460380.57326531777777777778",
        ),
        ("extract", &["text:epoch", "date:2024-03-10"], "1710028800"),
        ("extract", &["text:year", "date:2024-03-10"], "2024"),
        ("extract", &["text:dow", "date:2024-03-10"], "0"),
        ("extract", &["text:century", "date:0001-01-01 BC"], "-1"),
        ("extract", &["text:millennium", "date:2001-01-01"], "3"),
        ("extract", &["text:decade", "date:0005-01-01 BC"], "-1"),
        ("extract", &["text:year", "date:0005-01-01 BC"], "-5"),
        ("extract", &["text:week", "date:2021-01-01"], "53"),
        ("extract", &["text:epoch", "date:1960-01-01"], "-315619200"),
        (
            "extract",
            &["text:second", "ts:2024-03-10 13:45:30"],
            "30.000000",
        ),
    ]);
    // select extract(epoch from interval '1 year 2 mons 3 days 04:05:06.789'),
    //   extract(second from interval '6.789 sec'),
    //   extract(epoch from timestamptz '2024-03-10 13:45:30.5+00'),
    //   extract(year from timestamp 'infinity'), extract(epoch from date 'infinity');
    // 37015506.789000|6.789000|1710078330.500000|Infinity|Infinity
    check(&[
        (
            "extract",
            &["text:epoch", "iv:1 year 2 mons 3 days 04:05:06.789"],
            "37015506.789000",
        ),
        ("extract", &["text:second", "iv:6.789 sec"], "6.789000"),
        (
            "extract",
            &["text:epoch", "tstz:2024-03-10 13:45:30.5+00"],
            "1710078330.500000",
        ),
        ("extract", &["text:year", "ts:infinity"], "Infinity"),
        ("extract", &["text:epoch", "date:infinity"], "Infinity"),
    ]);
    // select extract(foo from date '2024-01-01'); select extract(hour from date '2024-01-01');
    // 22023 unit "foo" not recognized for type date | 0A000 unit "hour" not supported for type date
    check_err(&[
        (
            "extract",
            &["text:foo", "date:2024-01-01"],
            E::InvalidParameterValue,
            "unit \"foo\" not recognized for type date",
        ),
        (
            "extract",
            &["text:hour", "date:2024-01-01"],
            E::FeatureNotSupported,
            "unit \"hour\" not supported for type date",
        ),
    ]);
}

#[test]
fn date_part_interval() {
    // select date_part('year', i), date_part('month', i), date_part('day', i),
    //   date_part('hour', i), date_part('minute', i), date_part('second', i),
    //   date_part('epoch', i) from (select interval '1 year 2 mons 3 days 04:05:06.789' i) s;
    // select date_part('quarter', interval '1 year 2 mons'), date_part('decade',
    //   interval '25 years'), date_part('century', interval '250 years'),
    //   date_part('millennium', interval '2500 years'), date_part('milliseconds',
    //   interval '6.789 sec'), date_part('microseconds', interval '6.789 sec'),
    //   date_part('month', interval '-14 mons'), date_part('hour', interval '-25 hours');
    // 1|2|3|4|5|6.789|37015506.789000005 ; 1|2|2|2|6789|6789000|-2|-25
    let iv = "iv:1 year 2 mons 3 days 04:05:06.789";
    check(&[
        ("date_part", &["text:year", iv], "1"),
        ("date_part", &["text:month", iv], "2"),
        ("date_part", &["text:day", iv], "3"),
        ("date_part", &["text:hour", iv], "4"),
        ("date_part", &["text:minute", iv], "5"),
        ("date_part", &["text:second", iv], "6.789"),
        ("date_part", &["text:epoch", iv], "37015506.789000005"),
        ("date_part", &["text:quarter", "iv:1 year 2 mons"], "1"),
        ("date_part", &["text:decade", "iv:25 years"], "2"),
        ("date_part", &["text:century", "iv:250 years"], "2"),
        ("date_part", &["text:millennium", "iv:2500 years"], "2"),
        ("date_part", &["text:milliseconds", "iv:6.789 sec"], "6789"),
        (
            "date_part",
            &["text:microseconds", "iv:6.789 sec"],
            "6789000",
        ),
        ("date_part", &["text:month", "iv:-14 mons"], "-2"),
        ("date_part", &["text:hour", "iv:-25 hours"], "-25"),
    ]);
    // select date_part('dow', '1 day'::interval); select date_part('foo', interval '1 day');
    // 0A000 unit "dow" not supported for type interval |
    // 22023 unit "foo" not recognized for type interval
    check_err(&[
        (
            "date_part",
            &["text:dow", "iv:1 day"],
            E::FeatureNotSupported,
            "unit \"dow\" not supported for type interval",
        ),
        (
            "date_part",
            &["text:foo", "iv:1 day"],
            E::InvalidParameterValue,
            "unit \"foo\" not recognized for type interval",
        ),
    ]);
}

#[test]
fn date_trunc_units() {
    // select f, date_trunc(f, timestamp '2024-08-17 13:45:30.123456'),
    //   date_trunc(f, timestamp '0044-03-15 13:00 BC') from unnest(array['microseconds',
    //   'milliseconds','second','minute','hour','day','week','month','quarter','year',
    //   'decade','century','millennium']) f;
    let rows = [
        (
            "microseconds",
            "2024-08-17 13:45:30.123456",
            "0044-03-15 13:00:00 BC",
        ),
        (
            "milliseconds",
            "2024-08-17 13:45:30.123",
            "0044-03-15 13:00:00 BC",
        ),
        ("second", "2024-08-17 13:45:30", "0044-03-15 13:00:00 BC"),
        ("minute", "2024-08-17 13:45:00", "0044-03-15 13:00:00 BC"),
        ("hour", "2024-08-17 13:00:00", "0044-03-15 13:00:00 BC"),
        ("day", "2024-08-17 00:00:00", "0044-03-15 00:00:00 BC"),
        ("week", "2024-08-12 00:00:00", "0044-03-11 00:00:00 BC"),
        ("month", "2024-08-01 00:00:00", "0044-03-01 00:00:00 BC"),
        ("quarter", "2024-07-01 00:00:00", "0044-01-01 00:00:00 BC"),
        ("year", "2024-01-01 00:00:00", "0044-01-01 00:00:00 BC"),
        ("decade", "2020-01-01 00:00:00", "0051-01-01 00:00:00 BC"),
        ("century", "2001-01-01 00:00:00", "0100-01-01 00:00:00 BC"),
        (
            "millennium",
            "2001-01-01 00:00:00",
            "1000-01-01 00:00:00 BC",
        ),
    ];
    for (field, ad, bc) in rows {
        let f = format!("text:{field}");
        check(&[
            (
                "date_trunc",
                &[f.as_str(), "ts:2024-08-17 13:45:30.123456"],
                ad,
            ),
            ("date_trunc", &[f.as_str(), "ts:0044-03-15 13:00 BC"], bc),
        ]);
    }
    // select date_trunc('month', timestamptz '2024-08-17 13:45:30+00'),
    //   date_trunc('day', date '2024-08-17'), date_trunc('year', timestamp 'infinity'),
    //   date_trunc('MONTH', timestamp '2024-08-17'), date_trunc('decade', timestamp '2000-01-01'),
    //   date_trunc('century', timestamp '2000-06-01'),
    //   date_trunc('millennium', timestamp '2000-06-01'),
    //   date_trunc('decade', timestamp '0001-01-01 BC'),
    //   date_trunc('decade', timestamp '0010-01-01 BC');
    // 2024-08-01 00:00:00+00|2024-08-17 00:00:00+00|infinity|2024-08-01 00:00:00|
    //   2000-01-01 00:00:00|1901-01-01 00:00:00|1001-01-01 00:00:00|0001-01-01 00:00:00 BC|
    //   0011-01-01 00:00:00 BC
    check(&[
        (
            "date_trunc",
            &["text:month", "tstz:2024-08-17 13:45:30+00"],
            "2024-08-01 00:00:00+00",
        ),
        (
            "date_trunc",
            &["text:day", "date:2024-08-17"],
            "2024-08-17 00:00:00+00",
        ),
        ("date_trunc", &["text:year", "ts:infinity"], "infinity"),
        (
            "date_trunc",
            &["text:MONTH", "ts:2024-08-17"],
            "2024-08-01 00:00:00",
        ),
        (
            "date_trunc",
            &["text:decade", "ts:2000-01-01"],
            "2000-01-01 00:00:00",
        ),
        (
            "date_trunc",
            &["text:century", "ts:2000-06-01"],
            "1901-01-01 00:00:00",
        ),
        (
            "date_trunc",
            &["text:millennium", "ts:2000-06-01"],
            "1001-01-01 00:00:00",
        ),
        (
            "date_trunc",
            &["text:decade", "ts:0001-01-01 BC"],
            "0001-01-01 00:00:00 BC",
        ),
        (
            "date_trunc",
            &["text:decade", "ts:0010-01-01 BC"],
            "0011-01-01 00:00:00 BC",
        ),
    ]);
    // select date_trunc('foo', now());  → 22023 unit "foo" not recognized for type
    //   timestamp with time zone
    // select date_trunc('dow', timestamp '2024-01-01');  → 0A000 unit "dow" not supported for
    //   type timestamp without time zone
    check_err(&[
        (
            "date_trunc",
            &["text:foo", "tstz:2024-01-01 00:00+00"],
            E::InvalidParameterValue,
            "unit \"foo\" not recognized for type timestamp with time zone",
        ),
        (
            "date_trunc",
            &["text:dow", "ts:2024-01-01"],
            E::FeatureNotSupported,
            "unit \"dow\" not supported for type timestamp without time zone",
        ),
    ]);
}

#[test]
fn age_make_date_clock() {
    // select age(timestamp '2024-03-15 10:00', timestamp '2023-01-31 12:30'),
    //   age(timestamp '2023-01-31 12:30', timestamp '2024-03-15 10:00'),
    //   age(timestamp '2024-03-01', timestamp '2024-01-31'),
    //   age(timestamp '2024-01-31', timestamp '2024-03-01'),
    //   age(timestamp '2024-01-01', timestamp '2024-01-01'),
    //   age(timestamptz '2024-03-15 10:00+00', timestamptz '2020-02-29 00:00:00.5+00'),
    //   age(date '2024-03-15', date '2023-03-16'),
    //   age(timestamp '2024-03-15 00:00', timestamp '2024-03-14 00:00:00.000001');
    // 1 year 1 mon 14 days 21:30:00|-1 years -1 mons -14 days -21:30:00|1 mon 1 day|
    //   -1 mons -1 days|00:00:00|4 years 15 days 09:59:59.5|11 mons 30 days|23:59:59.999999
    check(&[
        (
            "age",
            &["ts:2024-03-15 10:00", "ts:2023-01-31 12:30"],
            "1 year 1 mon 14 days 21:30:00",
        ),
        (
            "age",
            &["ts:2023-01-31 12:30", "ts:2024-03-15 10:00"],
            "-1 years -1 mons -14 days -21:30:00",
        ),
        ("age", &["ts:2024-03-01", "ts:2024-01-31"], "1 mon 1 day"),
        (
            "age",
            &["ts:2024-01-31", "ts:2024-03-01"],
            "-1 mons -1 days",
        ),
        ("age", &["ts:2024-01-01", "ts:2024-01-01"], "00:00:00"),
        (
            "age",
            &["tstz:2024-03-15 10:00+00", "tstz:2020-02-29 00:00:00.5+00"],
            "4 years 15 days 09:59:59.5",
        ),
        (
            "age",
            &["date:2024-03-15", "date:2023-03-16"],
            "11 mons 30 days",
        ),
        (
            "age",
            &["ts:2024-03-15 00:00", "ts:2024-03-14 00:00:00.000001"],
            "23:59:59.999999",
        ),
    ]);
    // age(timestamp) is age(current_date, timestamp): a day before today is '1 day'.
    let now = match call("now", &[]).expect("now") {
        Value::TimestampTz(t) => t.0,
        other => panic!("now() = {other:?}"),
    };
    let today = now.div_euclid(86_400_000_000) * 86_400_000_000;
    let yesterday = Value::Timestamp(zizhu_types::Timestamp(today - 86_400_000_000));
    assert_eq!(
        to_text(&call("age", &[yesterday]).expect("age")),
        "1 day",
        "age(yesterday)"
    );
    match call("current_date", &[]).expect("current_date") {
        Value::Date(d) => assert_eq!(d.0 as i64, today / 86_400_000_000),
        other => panic!("current_date = {other:?}"),
    }
    assert!(matches!(
        call("clock_timestamp", &[]).expect("clock"),
        Value::TimestampTz(t) if t.0 >= now
    ));
    // select make_date(2024, 2, 29), make_date(-44, 3, 15);  → 2024-02-29|0044-03-15 BC
    check(&[
        ("make_date", &["int:2024", "int:2", "int:29"], "2024-02-29"),
        (
            "make_date",
            &["int:-44", "int:3", "int:15"],
            "0044-03-15 BC",
        ),
    ]);
    // select make_date(2024, 2, 30); select make_date(0, 1, 1);
    // 22008 date field value out of range: 2024-02-30 | 22008 ... 0-01-01
    // select age(timestamp 'infinity', timestamp '2020-01-01');  → PostgreSQL 15 returns
    //   garbage ('292257 years ...'); this reports 22008 instead.
    check_err(&[
        (
            "make_date",
            &["int:2024", "int:2", "int:30"],
            E::DatetimeFieldOverflow,
            "date field value out of range: 2024-02-30",
        ),
        (
            "make_date",
            &["int:0", "int:1", "int:1"],
            E::DatetimeFieldOverflow,
            "date field value out of range: 0-01-01",
        ),
        (
            "age",
            &["ts:infinity", "ts:2020-01-01"],
            E::DatetimeFieldOverflow,
            "timestamp out of range",
        ),
    ]);
}

#[test]
fn to_char_datetime() {
    // select to_char(timestamp '2024-03-05 08:07:09.123456', 'YYYY-MM-DD HH24:MI:SS.MS US');
    // 2024-03-05 08:07:09.123 123456
    // select to_char(timestamp '2024-03-05 20:07:09', 'HH12 HH am AM pm PM a.m. P.M. Q DDD D Dy
    //   DY dy Day DAY day Mon MON mon Month MONTH month');
    // 08 08 pm PM pm PM p.m. P.M. 1 065 3 Tue TUE tue Tuesday   TUESDAY   tuesday   Mar MAR mar
    //   March     MARCH     march␣␣␣␣
    // select to_char(timestamp '2024-03-05 00:07:09', 'HH12:MI AM FMMonth FMDD FMHH12
    //   "Year: "YYYY YY Y YYY "quoted \" text"');
    // 12:07 AM March 5 12 Year: 2024 24 4 024 quoted " text
    check(&[
        (
            "to_char",
            &[
                "ts:2024-03-05 08:07:09.123456",
                "text:YYYY-MM-DD HH24:MI:SS.MS US",
            ],
            "2024-03-05 08:07:09.123 123456",
        ),
        (
            "to_char",
            &[
                "ts:2024-03-05 20:07:09",
                "text:HH12 HH am AM pm PM a.m. P.M. Q DDD D Dy DY dy Day DAY day Mon MON mon Month MONTH month",
            ],
            "08 08 pm PM pm PM p.m. P.M. 1 065 3 Tue TUE tue Tuesday   TUESDAY   tuesday   Mar MAR mar March     MARCH     march    ",
        ),
        (
            "to_char",
            &[
                "ts:2024-03-05 00:07:09",
                r#"text:HH12:MI AM FMMonth FMDD FMHH12 "Year: "YYYY YY Y YYY "quoted \" text""#,
            ],
            "12:07 AM March 5 12 Year: 2024 24 4 024 quoted \" text",
        ),
    ]);
    // select to_char(date '2024-03-05', 'YYYY/MM/DD Dy HH24:MI'),
    //   to_char(timestamptz '2024-03-05 12:00+00', 'YYYY-MM-DD HH24 TZ'),
    //   to_char(timestamp '0044-03-15 BC', 'YYYY-MM-DD BC'),
    //   to_char(timestamp '2024-03-05', 'IYYY-IW WW J CC'),
    //   to_char(timestamp '2024-12-05', 'FMMM/FMDD/YYYY'),
    //   to_char(timestamp '2024-03-05 12:00', 'HH12 PM'),
    //   to_char(timestamp '2024-03-05', 'dd-mon-yyyy');
    // 2024/03/05 Tue 00:00|2024-03-05 12 UTC|0044-03-15 BC|2024-10 10 2460375 21|12/5/2024|
    //   12 PM|05-mar-2024
    check(&[
        (
            "to_char",
            &["date:2024-03-05", "text:YYYY/MM/DD Dy HH24:MI"],
            "2024/03/05 Tue 00:00",
        ),
        (
            "to_char",
            &["tstz:2024-03-05 12:00+00", "text:YYYY-MM-DD HH24 TZ"],
            "2024-03-05 12 UTC",
        ),
        (
            "to_char",
            &["ts:0044-03-15 BC", "text:YYYY-MM-DD BC"],
            "0044-03-15 BC",
        ),
        (
            "to_char",
            &["ts:2024-03-05", "text:IYYY-IW WW J CC"],
            "2024-10 10 2460375 21",
        ),
        (
            "to_char",
            &["ts:2024-12-05", "text:FMMM/FMDD/YYYY"],
            "12/5/2024",
        ),
        ("to_char", &["ts:2024-03-05 12:00", "text:HH12 PM"], "12 PM"),
        (
            "to_char",
            &["ts:2024-03-05", "text:dd-mon-yyyy"],
            "05-mar-2024",
        ),
    ]);
    // select to_char(timestamp '2024-03-05', 'Month|Day|'),
    //   to_char(timestamp '2024-03-05', 'FMMonth|FMDay|'),
    //   to_char(timestamp '2024-03-05', 'xyz \YYYY'),
    //   to_char(timestamp '2024-03-05 10:11:12.5', 'SSSS MS'), to_char(null::timestamp, 'YYYY'),
    //   to_char(timestamp '2024-03-05', ''), to_char(timestamp 'infinity', 'YYYY');
    // March    |Tuesday  ||March|Tuesday||x4z \2024|36672 500|||
    check(&[
        (
            "to_char",
            &["ts:2024-03-05", "text:Month|Day|"],
            "March    |Tuesday  |",
        ),
        (
            "to_char",
            &["ts:2024-03-05", "text:FMMonth|FMDay|"],
            "March|Tuesday|",
        ),
        (
            "to_char",
            &["ts:2024-03-05", r"text:xyz \YYYY"],
            r"x4z \2024",
        ),
        (
            "to_char",
            &["ts:2024-03-05 10:11:12.5", "text:SSSS MS"],
            "36672 500",
        ),
        ("to_char", &["null", "text:YYYY"], "NULL"),
        ("to_char", &["ts:2024-03-05", "text:"], "NULL"),
        ("to_char", &["ts:infinity", "text:YYYY"], "NULL"),
    ]);
}

#[test]
fn to_char_numbers() {
    // select to_char(123.456, '999D99'), to_char(123.456, 'FM9999.99'), to_char(-123.4, '999D99'),
    //   to_char(1234, '999'), to_char(5, '000'), to_char(0.5, '9D99'), to_char(0.5, '0D99'),
    //   to_char(1234567, '9,999,999'), to_char(1234567, 'FM9G999G999'), to_char(42, 'FM9999'),
    //   to_char(-42, 'FM9999'), to_char(3.14159::float8, '9.999'), to_char(12, '9999'),
    //   to_char(1.005, 'FM990.00'), to_char(-0.5, 'FM990.00'), to_char(100, 'FM999.'),
    //   to_char(100, 'FM999.99'), to_char(2.5, 'FM9'), to_char(-2.5, '9'),
    //   to_char(12345::int8, '99,999');
    //  123.46|123.46|-123.40| ###| 005|  .50| 0.50| 1,234,567|1,234,567|42|-42| 3.142|   12|
    //   1.01|-0.50|100|100.|3|-3| 12,345
    check(&[
        ("to_char", &["num:123.456", "text:999D99"], " 123.46"),
        ("to_char", &["num:123.456", "text:FM9999.99"], "123.46"),
        ("to_char", &["num:-123.4", "text:999D99"], "-123.40"),
        ("to_char", &["int:1234", "text:999"], " ###"),
        ("to_char", &["int:5", "text:000"], " 005"),
        ("to_char", &["num:0.5", "text:9D99"], "  .50"),
        ("to_char", &["num:0.5", "text:0D99"], " 0.50"),
        ("to_char", &["int:1234567", "text:9,999,999"], " 1,234,567"),
        ("to_char", &["int:1234567", "text:FM9G999G999"], "1,234,567"),
        ("to_char", &["int:42", "text:FM9999"], "42"),
        ("to_char", &["int:-42", "text:FM9999"], "-42"),
        ("to_char", &["f8:3.14159", "text:9.999"], " 3.142"),
        ("to_char", &["int:12", "text:9999"], "   12"),
        ("to_char", &["num:1.005", "text:FM990.00"], "1.01"),
        ("to_char", &["num:-0.5", "text:FM990.00"], "-0.50"),
        ("to_char", &["int:100", "text:FM999."], "100"),
        ("to_char", &["int:100", "text:FM999.99"], "100."),
        ("to_char", &["num:2.5", "text:FM9"], "3"),
        ("to_char", &["num:-2.5", "text:9"], "-3"),
        ("to_char", &["int8:12345", "text:99,999"], " 12,345"),
    ]);
    // select '[' || to_char(0, '9999') || '|' || to_char(0, 'FM9999') || '|' ||
    //   to_char(-12, '9999') || '|' || to_char(1234, '9,999,999') || '|' ||
    //   to_char(-1234, '09,999') || '|' || to_char(0.5, 'FM9.99') || '|' || to_char(0, '9.99')
    //   || '|' || to_char(0, 'FM9.99') || '|' || to_char(-0.004, '9.99') || '|' ||
    //   to_char(1234, '999.99') || '|' || to_char(-1234, 'FM999') || '|' || to_char(100, '999.')
    //   || '|' || to_char(5, '9990') || '|' || to_char(5, '0999') || '|' ||
    //   to_char(5.5, 'FM09.90') || '|' || to_char(12.5, '9 9') || '|' ||
    //   to_char(1.5::real, '9.9') || '|' || to_char(2.5::float8, '9') || '|' ||
    //   to_char(12::int2, 'FM00') || '|' || to_char(0.0, 'FM0.9') || ']';
    // [    0|0|  -12|     1,234|-01,234|.5|  .00|0.|  .00| ###.##|-###| 100|    5| 0005|05.50|
    //   1 3| 1.5| 2|12|0.]
    check(&[
        ("to_char", &["int:0", "text:9999"], "    0"),
        ("to_char", &["int:0", "text:FM9999"], "0"),
        ("to_char", &["int:-12", "text:9999"], "  -12"),
        ("to_char", &["int:1234", "text:9,999,999"], "     1,234"),
        ("to_char", &["int:-1234", "text:09,999"], "-01,234"),
        ("to_char", &["num:0.5", "text:FM9.99"], ".5"),
        ("to_char", &["int:0", "text:9.99"], "  .00"),
        ("to_char", &["int:0", "text:FM9.99"], "0."),
        ("to_char", &["num:-0.004", "text:9.99"], "  .00"),
        ("to_char", &["int:1234", "text:999.99"], " ###.##"),
        ("to_char", &["int:-1234", "text:FM999"], "-###"),
        ("to_char", &["int:100", "text:999."], " 100"),
        ("to_char", &["int:5", "text:9990"], "    5"),
        ("to_char", &["int:5", "text:0999"], " 0005"),
        ("to_char", &["num:5.5", "text:FM09.90"], "05.50"),
        ("to_char", &["num:12.5", "text:9 9"], " 1 3"),
        ("to_char", &["f4:1.5", "text:9.9"], " 1.5"),
        ("to_char", &["f8:2.5", "text:9"], " 2"),
        ("to_char", &["int2:12", "text:FM00"], "12"),
        ("to_char", &["num:0.0", "text:FM0.9"], "0."),
    ]);
    // Patterns beyond the simple ones are refused rather than misformatted.
    check_err(&[(
        "to_char",
        &["int:5", "text:S999"],
        E::FeatureNotSupported,
        "number format pattern \"S999\" is not supported yet",
    )]);
}
