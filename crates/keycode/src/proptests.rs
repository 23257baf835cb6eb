//! Property tests: round trips, order preservation, canonical forms, prefixes, and robustness
//! against arbitrary bytes.

use std::cmp::Ordering;

use bigdecimal::num_bigint::BigInt;
use proptest::prelude::*;
use zizhu_types::{BigDecimal, Numeric};

use super::*;

/// The column types, one per [`Value`] variant except NULL.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Numeric,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
}

const TYPES: [Ty; 15] = [
    Ty::Bool,
    Ty::Int16,
    Ty::Int32,
    Ty::Int64,
    Ty::Float32,
    Ty::Float64,
    Ty::Numeric,
    Ty::Text,
    Ty::Bytes,
    Ty::Date,
    Ty::Time,
    Ty::Timestamp,
    Ty::TimestampTz,
    Ty::Interval,
    Ty::Uuid,
];

fn ty() -> impl Strategy<Value = Ty> {
    prop::sample::select(TYPES.to_vec())
}

fn column() -> impl Strategy<Value = KeyColumn> {
    (any::<bool>(), any::<bool>()).prop_map(|(desc, first)| KeyColumn {
        order: if desc {
            SortOrder::Desc
        } else {
            SortOrder::Asc
        },
        nulls: if first {
            NullsOrder::First
        } else {
            NullsOrder::Last
        },
    })
}

/// A small range (to make ties likely, so later key columns get compared), the extremes, and
/// anything at all.
macro_rules! int {
    ($t:ty) => {
        prop_oneof![
            3 => -3 as $t..3,
            1 => Just(<$t>::MIN),
            1 => Just(<$t>::MAX),
            3 => any::<$t>(),
        ]
    };
}

/// NaNs with arbitrary sign and payload.
fn nan64() -> impl Strategy<Value = f64> {
    any::<u64>().prop_map(|p| f64::from_bits(0x7FF0_0000_0000_0001 | (p & 0x800F_FFFF_FFFF_FFFF)))
}

fn nan32() -> impl Strategy<Value = f32> {
    any::<u32>().prop_map(|p| f32::from_bits(0x7F80_0001 | (p & 0x807F_FFFF)))
}

fn f64s() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            f64::NEG_INFINITY,
            f64::MIN,
            -1.0,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            1.0,
            f64::MAX,
            f64::INFINITY,
        ]),
        nan64(),
        (-3i32..3).prop_map(f64::from),
        any::<u64>().prop_map(f64::from_bits),
    ]
}

fn f32s() -> impl Strategy<Value = f32> {
    prop_oneof![
        prop::sample::select(vec![f32::NEG_INFINITY, -1.0, -0.0, 0.0, 1.0, f32::INFINITY]),
        nan32(),
        (-3i16..3).prop_map(f32::from),
        any::<u32>().prop_map(f32::from_bits),
    ]
}

fn decimals() -> impl Strategy<Value = BigDecimal> {
    prop_oneof![
        // Small mantissas and scales: -0.5 vs -0.05, 1.50 vs 1.5, 0 with a scale.
        (-1000i64..1000, -4i64..6).prop_map(|(m, s)| BigDecimal::new(m.into(), s)),
        // Long digit strings, including trailing zeros, with tiny to huge exponents.
        ("[0-9]{1,40}", any::<bool>(), -400i64..400).prop_map(|(digits, neg, s)| {
            let m = BigInt::parse_bytes(digits.as_bytes(), 10).unwrap();
            BigDecimal::new(if neg { -m } else { m }, s)
        }),
    ]
}

fn numerics() -> impl Strategy<Value = Numeric> {
    prop_oneof![
        1 => Just(Numeric::NegInfinity),
        1 => Just(Numeric::Infinity),
        1 => Just(Numeric::NaN),
        8 => decimals().prop_map(Numeric::finite),
    ]
}

fn byte_strings() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        Just(0x00u8),
        Just(0xFF),
        Just(0x01),
        Just(0xFE),
        Just(b'a'),
        any::<u8>()
    ];
    prop::collection::vec(byte, 0..6)
}

fn strings() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        Just('\0'),
        Just('a'),
        Just('b'),
        Just('\u{FF}'),
        Just('\u{10FFFF}'),
        any::<char>()
    ];
    prop::collection::vec(ch, 0..6).prop_map(|chars| chars.into_iter().collect())
}

fn intervals() -> impl Strategy<Value = Interval> {
    // Small fields make equal spans with different fields likely (1 month vs 30 days).
    let small = (
        -2i32..3,
        prop::sample::select(vec![-30, -1, 0, 1, 29, 30, 31]),
        -1i64..2,
    )
        .prop_map(|(months, days, micros)| Interval {
            months,
            days,
            micros,
        });
    let any_iv =
        (any::<i32>(), any::<i32>(), any::<i64>()).prop_map(|(months, days, micros)| Interval {
            months,
            days,
            micros,
        });
    prop_oneof![small, any_iv]
}

fn value_of(ty: Ty) -> BoxedStrategy<Value> {
    match ty {
        Ty::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Ty::Int16 => int!(i16).prop_map(Value::Int16).boxed(),
        Ty::Int32 => int!(i32).prop_map(Value::Int32).boxed(),
        Ty::Int64 => int!(i64).prop_map(Value::Int64).boxed(),
        Ty::Float32 => f32s().prop_map(Value::Float32).boxed(),
        Ty::Float64 => f64s().prop_map(Value::Float64).boxed(),
        Ty::Numeric => numerics().prop_map(Value::Numeric).boxed(),
        Ty::Text => strings().prop_map(Value::Text).boxed(),
        Ty::Bytes => byte_strings().prop_map(Value::Bytes).boxed(),
        Ty::Date => int!(i32).prop_map(|d| Value::Date(Date(d))).boxed(),
        Ty::Time => int!(i64).prop_map(|t| Value::Time(Time(t))).boxed(),
        Ty::Timestamp => int!(i64)
            .prop_map(|t| Value::Timestamp(Timestamp(t)))
            .boxed(),
        Ty::TimestampTz => int!(i64)
            .prop_map(|t| Value::TimestampTz(Timestamp(t)))
            .boxed(),
        Ty::Interval => intervals().prop_map(Value::Interval).boxed(),
        Ty::Uuid => prop_oneof![Just([0u8; 16]), Just([0xFF; 16]), any::<[u8; 16]>()]
            .prop_map(Value::Uuid)
            .boxed(),
    }
}

fn nullable(ty: Ty) -> BoxedStrategy<Value> {
    prop_oneof![1 => Just(Value::Null), 6 => value_of(ty)].boxed()
}

/// Column settings and two rows of the same column types. Column by column, the second row
/// holds a fresh value, a clone of the first row's value, or a variant of it (see
/// [`variant_of`]), so that ties in early columns are common and equal values with different
/// representations get compared.
fn key_pair() -> impl Strategy<Value = (Vec<KeyColumn>, Vec<Value>, Vec<Value>)> {
    prop::collection::vec((ty(), column()), 1..5).prop_flat_map(|cols| {
        let pairs: Vec<_> = cols
            .iter()
            .map(|(t, _)| {
                (nullable(*t), nullable(*t), 0u8..3, variant()).prop_map(|(a, b, mode, var)| {
                    match mode {
                        0 => (a, b),
                        1 => (a.clone(), a),
                        _ => (variant_of(&a, var), a),
                    }
                })
            })
            .collect();
        let columns: Vec<KeyColumn> = cols.iter().map(|(_, c)| *c).collect();
        (Just(columns), pairs).prop_map(|(columns, pairs)| {
            let (a, b) = pairs.into_iter().unzip();
            (columns, a, b)
        })
    })
}

/// The order the keys must have: per column NULL placement, the value order (reversed for
/// DESC), with intervals of equal span ordered by their fields (the documented difference).
fn expected_cmp(a: &[Value], b: &[Value], columns: &[KeyColumn]) -> Ordering {
    for ((x, y), c) in a.iter().zip(b).zip(columns) {
        let null_first = if c.nulls == NullsOrder::First {
            Ordering::Less
        } else {
            Ordering::Greater
        };
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => null_first,
            (false, true) => null_first.reverse(),
            (false, false) => {
                let mut o = x.cmp_same_type(y).expect("same type");
                if let (Value::Interval(p), Value::Interval(q)) = (x, y) {
                    o = o.then((p.months, p.days, p.micros).cmp(&(q.months, q.days, q.micros)));
                }
                if c.order == SortOrder::Desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Parameters for [`variant_of`]: extra numeric trailing zeros, replacement NaNs, and whether
/// to move a month of an interval into 30 days.
type Variant = (u32, f64, f32, bool);

fn variant() -> impl Strategy<Value = Variant> {
    (0u32..5, nan64(), nan32(), any::<bool>())
}

/// A different representation of a value equal to `v` under PostgreSQL's rules (a numeric with
/// more trailing zeros, -0 for 0, another NaN), or a clone. With `shift`, an interval becomes
/// one with the same span and different fields, which PostgreSQL calls equal but which has a
/// distinct key here (the documented difference).
fn variant_of(v: &Value, (k, n64, n32, shift): Variant) -> Value {
    match v {
        Value::Numeric(Numeric::Finite(d)) => {
            let (m, s) = d.as_bigint_and_exponent();
            let rescaled = BigDecimal::new(m * BigInt::from(10u32).pow(k), s + i64::from(k));
            Value::Numeric(Numeric::finite(rescaled))
        }
        Value::Float64(x) if x.is_nan() => Value::Float64(n64),
        Value::Float64(x) if *x == 0.0 => Value::Float64(-*x),
        Value::Float32(x) if x.is_nan() => Value::Float32(n32),
        Value::Float32(x) if *x == 0.0 => Value::Float32(-*x),
        Value::Interval(i) if shift => match (i.months.checked_sub(1), i.days.checked_add(30)) {
            (Some(months), Some(days)) => Value::Interval(Interval { months, days, ..*i }),
            _ => v.clone(),
        },
        other => other.clone(),
    }
}

/// A value and a different representation of an equal value that must encode identically.
fn equal_pair() -> impl Strategy<Value = (Value, Value)> {
    (ty().prop_flat_map(value_of), variant())
        .prop_map(|(v, (k, n64, n32, _))| (variant_of(&v, (k, n64, n32, false)), v))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// (1) Keys decode to the values they encode, and to nothing else.
    #[test]
    fn round_trip((columns, a, _b) in key_pair()) {
        let key = encode_key(&a, &columns);
        prop_assert_eq!(&decode_key(&key, &columns).unwrap(), &a);
        let mut pos = 0;
        for (v, c) in a.iter().zip(&columns) {
            let (decoded, used) = decode_value(&key[pos..], *c).unwrap();
            prop_assert_eq!(&decoded, v);
            pos += used;
        }
        prop_assert_eq!(pos, key.len());
        let tuple = encode_tuple(&a);
        prop_assert_eq!(&decode_tuple(&tuple).unwrap(), &a);
    }

    /// (2) Byte order of keys is the order of the rows; (3) equal rows give equal bytes.
    #[test]
    fn order_preserved((columns, a, b) in key_pair()) {
        let (ka, kb) = (encode_key(&a, &columns), encode_key(&b, &columns));
        prop_assert_eq!(ka.cmp(&kb), expected_cmp(&a, &b, &columns), "{:02x?} vs {:02x?}", ka, kb);
    }

    /// (3) Equal values with different representations encode identically, in every column
    /// setting.
    #[test]
    fn equal_values_equal_bytes((v, alt) in equal_pair(), column in column()) {
        prop_assert_eq!(&v, &alt);
        let mut x = Vec::new();
        let mut y = Vec::new();
        encode_value(&mut x, &v, column);
        encode_value(&mut y, &alt, column);
        prop_assert_eq!(x, y);
    }

    /// (4) A key of the first k values is a byte prefix of the full key.
    #[test]
    fn prefixes((columns, a, _b) in key_pair(), k in 0usize..5) {
        let k = k.min(a.len());
        let full = encode_key(&a, &columns);
        prop_assert!(full.starts_with(&encode_key(&a[..k], &columns)));
        prop_assert!(full.starts_with(&encode_key(&a[..k], &columns[..k])));
    }

    /// Arbitrary bytes never panic the decoder, and whatever decodes re-encodes to the same
    /// bytes (the decoder only accepts canonical encodings).
    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..48), columns in prop::collection::vec(column(), 0..4)) {
        if let Ok(values) = decode_tuple(&bytes) {
            prop_assert_eq!(encode_tuple(&values), bytes.clone());
        }
        if let Ok(values) = decode_key(&bytes, &columns) {
            prop_assert_eq!(encode_key(&values, &columns), bytes.clone());
        }
        let _ = format_tuple(&bytes);
        let _ = decode_bytes(&bytes);
        let _ = decode_u64(&bytes);
    }

    /// Corrupted valid keys (one byte changed, or truncated) never panic the decoder and stay
    /// canonical when they decode.
    #[test]
    fn corrupted_keys((columns, a, _b) in key_pair(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut key = encode_key(&a, &columns);
        let i = at.index(key.len());
        key[i] = byte;
        if let Ok(values) = decode_key(&key, &columns) {
            prop_assert_eq!(encode_key(&values, &columns), key.clone());
        }
        let tuple = encode_tuple(&a);
        let truncated = &tuple[..cut.index(tuple.len())];
        if let Ok(values) = decode_tuple(truncated) {
            prop_assert_eq!(encode_tuple(&values), truncated.to_vec());
        }
    }

    /// The untagged primitives preserve composite order.
    #[test]
    fn primitives_order(a in byte_strings(), n in any::<u64>(), b in byte_strings(), m in any::<u64>()) {
        let key = |s: &[u8], x: u64| {
            let mut out = Vec::new();
            encode_bytes(&mut out, s);
            encode_u64(&mut out, x);
            out
        };
        let (ka, kb) = (key(&a, n), key(&b, m));
        prop_assert_eq!(ka.cmp(&kb), (&a, n).cmp(&(&b, m)));
        let (s, used) = decode_bytes(&ka).unwrap();
        prop_assert_eq!(&s, &a);
        prop_assert_eq!(decode_u64(&ka[used..]).unwrap(), (n, 8));
    }
}
