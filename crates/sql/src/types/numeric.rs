//! `numeric` and floating-point arithmetic, input and output.
//!
//! Exact numerics are computed on `(BigInt, scale)` pairs rather than with `BigDecimal`'s own
//! operators, so that every result scale is the one PostgreSQL's `numeric.c` chooses (sum of the
//! scales for `*`, larger scale for `+ - %`, `select_div_scale` for `/`), and rounding is
//! PostgreSQL's round-half-away-from-zero. Floats print as PostgreSQL 15 does: the shortest
//! digits that round-trip (Rust's `{:e}` gives the same digits as PostgreSQL's Ryu), in
//! exponential form when the decimal exponent is below -4 or at least 15 (6 for `real`).

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{Signed, ToPrimitive, Zero};
use bigdecimal::RoundingMode;
use zizhu_types::{BigDecimal, Numeric};

use crate::errinput;
use crate::error::Result;

/// Characters PostgreSQL's input functions skip around a value (C `isspace`).
pub(crate) fn is_pg_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Trims C whitespace from both ends.
pub(crate) fn pg_trim(s: &str) -> &str {
    s.trim_matches(is_pg_space)
}

/// `10^n` as a big integer.
pub(crate) fn pow10(n: u64) -> BigInt {
    bigdecimal::num_traits::pow(BigInt::from(10u8), n as usize)
}

/// The unscaled integer and a non-negative scale of a decimal.
pub(crate) fn parts(d: &BigDecimal) -> (BigInt, i64) {
    let (int, scale) = d.as_bigint_and_exponent();
    if scale < 0 {
        (int * pow10(scale.unsigned_abs()), 0)
    } else {
        (int, scale)
    }
}

/// Builds a decimal from an unscaled integer and a scale.
pub(crate) fn make(int: BigInt, scale: i64) -> BigDecimal {
    BigDecimal::new(int, scale)
}

/// A finite numeric value.
pub(crate) fn finite(int: BigInt, scale: i64) -> Numeric {
    Numeric::finite(make(int, scale))
}

/// Rescales an unscaled integer from `from` to `to` decimal places (`to >= from`).
fn upscale(int: &BigInt, from: i64, to: i64) -> BigInt {
    if to > from {
        int * pow10((to - from) as u64)
    } else {
        int.clone()
    }
}

/// Divides and rounds half away from zero.
fn div_round(num: &BigInt, den: &BigInt) -> BigInt {
    let q = num / den;
    let r = num - &q * den;
    if (r.abs() * 2u8) >= den.abs() {
        if (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus) {
            q - 1u8
        } else {
            q + 1u8
        }
    } else {
        q
    }
}

/// Parses `numeric` input text (PostgreSQL `numeric_in`, without the typmod).
pub(crate) fn parse_numeric(text: &str) -> Result<Numeric> {
    let bad = || {
        errinput!(
            InvalidTextRepresentation,
            "invalid input syntax for type numeric: \"{text}\""
        )
    };
    let s = pg_trim(text);
    match s.to_ascii_lowercase().as_str() {
        "nan" => return Ok(Numeric::NaN),
        "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Numeric::Infinity),
        "-infinity" | "-inf" => return Ok(Numeric::NegInfinity),
        _ => {}
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut digits = String::new();
    let mut frac = 0i64;
    let mut seen_point = false;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' => {
                digits.push(bytes[i] as char);
                if seen_point {
                    frac += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits.is_empty() {
        return Err(bad());
    }
    let mut exp = 0i64;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let rest = &s[i + 1..];
        let digits_part = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        if digits_part.is_empty() || !digits_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        exp = match rest.parse::<i64>() {
            Ok(e) if e.abs() <= 1000 => e,
            _ => {
                return Err(errinput!(
                    InvalidTextRepresentation,
                    "invalid input syntax for type numeric: \"{text}\""
                ))
            }
        };
        i = bytes.len();
    }
    if i != bytes.len() {
        return Err(bad());
    }
    let mut int: BigInt = digits.parse().map_err(|_| bad())?;
    if negative {
        int = -int;
    }
    let scale = frac - exp;
    Ok(if scale < 0 {
        finite(int * pow10(scale.unsigned_abs()), 0)
    } else {
        finite(int, scale)
    })
}

/// Applies a `numeric(p, s)` type modifier: rounds to `s` places and checks the precision.
pub(crate) fn apply_typmod(n: Numeric, precision: u32, scale: u32) -> Result<Numeric> {
    let maxdigits = precision as i64 - scale as i64;
    let overflow = || errinput!(NumericValueOutOfRange, "numeric field overflow");
    match n {
        Numeric::NaN => Ok(Numeric::NaN),
        Numeric::Infinity | Numeric::NegInfinity => Err(overflow().with_detail(format!(
            "A field with precision {precision}, scale {scale} cannot hold an infinite value."
        ))),
        Numeric::Finite(d) => {
            let rounded = d.with_scale_round(scale as i64, RoundingMode::HalfUp);
            let (int, _) = parts(&rounded);
            if !int.is_zero() {
                // Digits before the decimal point: number of digits minus the scale.
                let ndigits = int.abs().to_string().len() as i64 - scale as i64;
                if ndigits > maxdigits {
                    let limit = if maxdigits == 0 {
                        "1".to_string()
                    } else {
                        format!("10^{maxdigits}")
                    };
                    return Err(overflow().with_detail(format!(
                        "A field with precision {precision}, scale {scale} must round to an absolute value less than {limit}."
                    )));
                }
            }
            Ok(Numeric::finite(rounded))
        }
    }
}

/// Rounds a finite numeric to an integer (half away from zero) and converts it to `i64`;
/// `None` when it does not fit.
pub(crate) fn numeric_to_i64(n: &Numeric) -> Result<Option<i64>> {
    match n {
        Numeric::NaN => Err(errinput!(
            FeatureNotSupported,
            "cannot convert NaN to integer"
        )),
        Numeric::Infinity | Numeric::NegInfinity => Err(errinput!(
            FeatureNotSupported,
            "cannot convert infinity to integer"
        )),
        Numeric::Finite(d) => {
            let (int, _) = parts(&d.with_scale_round(0, RoundingMode::HalfUp));
            Ok(int.to_i64())
        }
    }
}

/// Converts a numeric to `f64` as `numeric_float8` does (through its text form).
pub(crate) fn numeric_to_f64(n: &Numeric) -> Result<f64> {
    match n {
        Numeric::NaN => Ok(f64::NAN),
        Numeric::Infinity => Ok(f64::INFINITY),
        Numeric::NegInfinity => Ok(f64::NEG_INFINITY),
        Numeric::Finite(d) => parse_float8(&d.to_string()),
    }
}

/// Converts a float to numeric as `float8_numeric` does: through `%.15g` (`%.6g` for `real`).
pub(crate) fn float_to_numeric(x: f64, significant: usize) -> Numeric {
    if x.is_nan() {
        return Numeric::NaN;
    }
    if x.is_infinite() {
        return if x > 0.0 {
            Numeric::Infinity
        } else {
            Numeric::NegInfinity
        };
    }
    let s = format!("{:.*e}", significant - 1, x);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let mut int: BigInt = digits.parse().unwrap_or_default();
    if negative {
        int = -int;
    }
    // value = 0.digits... shifted: digits d1.d2d3... × 10^exp
    let scale = digits.len() as i64 - 1 - exp;
    if scale < 0 {
        finite(int * pow10(scale.unsigned_abs()), 0)
    } else {
        finite(int, scale)
    }
}

/// The base-10000 weight and first base-10000 digit of a nonzero value, as PostgreSQL's
/// `NumericVar` stores it.
fn weight_and_first_digit(int: &BigInt, scale: i64) -> (i64, u32) {
    if int.is_zero() {
        return (0, 0);
    }
    let digits = int.abs().to_string();
    let e10 = digits.len() as i64 - 1 - scale;
    let weight = e10.div_euclid(4);
    let lead = (e10 - 4 * weight + 1) as usize;
    let mut first = String::with_capacity(lead);
    for i in 0..lead {
        first.push(digits.as_bytes().get(i).map_or('0', |&b| b as char));
    }
    (weight, first.parse().unwrap_or(0))
}

/// PostgreSQL's `select_div_scale`: at least 16 significant digits, no fewer places than either
/// input, at most 1000.
fn select_div_scale(a: &(BigInt, i64), b: &(BigInt, i64)) -> i64 {
    let (w1, f1) = weight_and_first_digit(&a.0, a.1);
    let (w2, f2) = weight_and_first_digit(&b.0, b.1);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    (16 - qweight * 4).max(a.1).max(b.1).clamp(0, 1000)
}

/// Which arithmetic operation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

fn sign_of(n: &Numeric) -> i32 {
    match n {
        Numeric::NegInfinity => -1,
        Numeric::Infinity => 1,
        Numeric::NaN => 0,
        Numeric::Finite(d) => match d.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        },
    }
}

fn inf(sign: i32) -> Numeric {
    if sign < 0 {
        Numeric::NegInfinity
    } else {
        Numeric::Infinity
    }
}

/// Numeric arithmetic with PostgreSQL's special-value rules and result scales.
pub(crate) fn numeric_op(op: Op, a: &Numeric, b: &Numeric) -> Result<Numeric> {
    use Numeric::{Finite, NaN};
    if matches!(a, NaN) || matches!(b, NaN) {
        return Ok(NaN);
    }
    let division_by_zero = || errinput!(DivisionByZero, "division by zero");
    let (x, y) = match (a, b) {
        (Finite(x), Finite(y)) => (parts(x), parts(y)),
        _ => {
            let (sa, sb) = (sign_of(a), sign_of(b));
            let (ia, ib) = (!matches!(a, Finite(_)), !matches!(b, Finite(_)));
            return Ok(match op {
                Op::Add => match (ia, ib) {
                    (true, true) if sa != sb => NaN,
                    (true, _) => inf(sa),
                    _ => inf(sb),
                },
                Op::Sub => match (ia, ib) {
                    (true, true) if sa == sb => NaN,
                    (true, _) => inf(sa),
                    _ => inf(-sb),
                },
                Op::Mul => {
                    if sa == 0 || sb == 0 {
                        NaN
                    } else {
                        inf(sa * sb)
                    }
                }
                Op::Div => match (ia, ib) {
                    (true, true) => NaN,
                    (true, false) if sb == 0 => return Err(division_by_zero()),
                    (true, false) => inf(sa * sb),
                    _ => finite(BigInt::zero(), 0),
                },
                Op::Mod => {
                    if ia {
                        if sb == 0 {
                            return Err(division_by_zero());
                        }
                        NaN
                    } else {
                        a.clone()
                    }
                }
            });
        }
    };
    let scale = x.1.max(y.1);
    Ok(match op {
        Op::Add => finite(upscale(&x.0, x.1, scale) + upscale(&y.0, y.1, scale), scale),
        Op::Sub => finite(upscale(&x.0, x.1, scale) - upscale(&y.0, y.1, scale), scale),
        Op::Mul => finite(&x.0 * &y.0, x.1 + y.1),
        Op::Div => {
            if y.0.is_zero() {
                return Err(division_by_zero());
            }
            let rscale = select_div_scale(&x, &y);
            // x/y × 10^rscale = x.0 × 10^(y.1 - x.1 + rscale) / y.0
            let shift = y.1 - x.1 + rscale;
            let (num, den) = if shift >= 0 {
                (&x.0 * pow10(shift as u64), y.0.clone())
            } else {
                (x.0.clone(), &y.0 * pow10(shift.unsigned_abs()))
            };
            finite(div_round(&num, &den), rscale)
        }
        Op::Mod => {
            if y.0.is_zero() {
                return Err(division_by_zero());
            }
            finite(upscale(&x.0, x.1, scale) % upscale(&y.0, y.1, scale), scale)
        }
    })
}

/// Negates a numeric.
pub(crate) fn numeric_neg(n: &Numeric) -> Numeric {
    match n {
        Numeric::NaN => Numeric::NaN,
        Numeric::Infinity => Numeric::NegInfinity,
        Numeric::NegInfinity => Numeric::Infinity,
        Numeric::Finite(d) => {
            let (int, scale) = parts(d);
            finite(-int, scale)
        }
    }
}

/// Formats a numeric as `numeric_out` does: plain notation with its scale.
pub(crate) fn format_numeric(n: &Numeric) -> String {
    match n {
        Numeric::Finite(d) => {
            let (int, scale) = parts(d);
            make(int, scale).to_plain_string()
        }
        other => other.to_string(),
    }
}

/// Formats a float as PostgreSQL 15's `float8out`/`float4out` (shortest round-trip digits).
/// `max_fixed_exp` is 15 for `double precision`, 6 for `real`.
fn format_shortest(sci: String, max_fixed_exp: i32) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exp < -4 || exp >= max_fixed_exp {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        out.push_str(&digits);
    }
    out
}

fn special_float(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("NaN".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else if x == 0.0 {
        Some(if x.is_sign_negative() { "-0" } else { "0" }.into())
    } else {
        None
    }
}

/// `float8out`.
pub(crate) fn format_float8(x: f64) -> String {
    special_float(x).unwrap_or_else(|| {
        let (m, e) = decode_float(x.abs().to_bits(), 52, 1075);
        let sci = pg_shortest(
            &format!("{:e}", x.abs()),
            m,
            e,
            17,
            |n| format!("{:.*e}", n - 1, x.abs()),
            |s| s.parse::<f64>().is_ok_and(|y| y == x.abs()),
        );
        format_shortest(if x < 0.0 { format!("-{sci}") } else { sci }, 15)
    })
}

/// `float4out`.
pub(crate) fn format_float4(x: f32) -> String {
    special_float(x as f64).unwrap_or_else(|| {
        let (m, e) = decode_float(x.abs().to_bits() as u64, 23, 150);
        let sci = pg_shortest(
            &format!("{:e}", x.abs()),
            m,
            e,
            9,
            |n| format!("{:.*e}", n - 1, x.abs()),
            |s| s.parse::<f32>().is_ok_and(|y| y == x.abs()),
        );
        format_shortest(if x < 0.0 { format!("-{sci}") } else { sci }, 6)
    })
}

/// The mantissa and binary exponent of a finite nonzero float's magnitude (`|x| = m × 2^e`),
/// and whether the float below it is closer (a power of two at the bottom of its binade).
fn decode_float(bits: u64, mantissa_bits: u32, bias: i64) -> ((u64, bool), i64) {
    let frac = bits & ((1 << mantissa_bits) - 1);
    let exp_field = (bits >> mantissa_bits) & if mantissa_bits == 52 { 0x7ff } else { 0xff };
    if exp_field == 0 {
        ((frac, false), 1 - bias)
    } else {
        (
            (frac | 1 << mantissa_bits, frac == 0 && exp_field > 1),
            exp_field as i64 - bias,
        )
    }
}

/// Whether the decimal `digits × 10^k` equals `n × 2^p` exactly.
fn decimal_equals_binary(digits: &BigInt, k: i64, n: &BigInt, p: i64) -> bool {
    let two = |e: i64| bigdecimal::num_traits::pow(BigInt::from(2u8), e as usize);
    let left = digits * pow10(k.max(0) as u64) * two((-p).max(0));
    let right = n * two(p.max(0)) * pow10((-k).max(0) as u64);
    left == right
}

/// The digits PostgreSQL's Ryu prints: the value correctly rounded (half to even) to the
/// fewest digits that read back as the same float, where a candidate lying exactly halfway to a
/// neighbouring float does not count. Rust's shortest formatting differs in exactly those two
/// corners (it accepts the halfway points and breaks digit ties upwards), so its length is only
/// the starting point of the search.
fn pg_shortest(
    rust_shortest: &str,
    (m, low_gap_half): (u64, bool),
    e: i64,
    max_digits: usize,
    with_digits: impl Fn(usize) -> String,
    round_trips: impl Fn(&str) -> bool,
) -> String {
    let on_boundary = |s: &str| {
        let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_end_matches('0');
        let (Ok(d), Ok(exp)) = (significant.parse::<u64>(), exp.parse::<i64>()) else {
            return false;
        };
        // d × 10^k, with d not a multiple of 10.
        let k = exp - (significant.len() as i64 - 1);
        // A midpoint is n × 2^p with n odd. Cheap necessary conditions first: for p < 0 it has
        // exactly -p decimal places (so k = p); for p >= 0 it is an integer whose factors of
        // two all come from d × 10^k.
        let may_equal = |p: i64| {
            if p < 0 {
                k == p
            } else {
                k >= 0 && p - k >= 0 && d.trailing_zeros() as i64 == p - k
            }
        };
        let d = BigInt::from(d);
        let m = BigInt::from(m);
        let hit = |n: BigInt, p: i64| may_equal(p) && decimal_equals_binary(&d, k, &n, p);
        let lower = if low_gap_half {
            hit(&m * 4u8 - 1u8, e - 2)
        } else {
            hit(&m * 2u8 - 1u8, e - 1)
        };
        lower || hit(&m * 2u8 + 1u8, e - 1)
    };
    let start = rust_shortest
        .split('e')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    for n in start.max(1)..=max_digits {
        let candidate = with_digits(n);
        if round_trips(&candidate) && !on_boundary(&candidate) {
            return candidate;
        }
    }
    rust_shortest.to_string()
}

/// Whether the text of a float names an infinity (so an infinite parse is not an overflow).
fn names_infinity(s: &str) -> bool {
    let l = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
    l == "inf" || l == "infinity"
}

/// Whether float text has a nonzero digit in its mantissa (so a zero parse is an underflow).
fn has_nonzero_mantissa(s: &str) -> bool {
    s.chars()
        .take_while(|c| !matches!(c, 'e' | 'E'))
        .any(|c| c.is_ascii_digit() && c != '0')
}

fn parse_float_generic<T: std::str::FromStr + Copy>(
    text: &str,
    type_name: &str,
    is_inf: impl Fn(T) -> bool,
    is_zero: impl Fn(T) -> bool,
) -> Result<T> {
    let s = pg_trim(text);
    let valid_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let value: T = match s.parse::<T>() {
        Ok(v) if valid_chars => v,
        _ => {
            return Err(errinput!(
                InvalidTextRepresentation,
                "invalid input syntax for type {type_name}: \"{text}\""
            ))
        }
    };
    if (is_inf(value) && !names_infinity(s)) || (is_zero(value) && has_nonzero_mantissa(s)) {
        return Err(errinput!(
            NumericValueOutOfRange,
            "\"{s}\" is out of range for type {type_name}"
        ));
    }
    Ok(value)
}

/// `float8in`.
pub(crate) fn parse_float8(text: &str) -> Result<f64> {
    parse_float_generic(
        text,
        "double precision",
        |v: f64| v.is_infinite(),
        |v| v == 0.0,
    )
}

/// `float4in`.
pub(crate) fn parse_float4(text: &str) -> Result<f32> {
    parse_float_generic(text, "real", |v: f32| v.is_infinite(), |v| v == 0.0)
}

/// Checks a float result as PostgreSQL's `check_float8_val` does.
pub(crate) fn check_float(result: f64, inf_ok: bool, zero_ok: bool) -> Result<f64> {
    if result.is_infinite() && !inf_ok {
        return Err(errinput!(
            NumericValueOutOfRange,
            "value out of range: overflow"
        ));
    }
    if result == 0.0 && !zero_ok {
        return Err(errinput!(
            NumericValueOutOfRange,
            "value out of range: underflow"
        ));
    }
    Ok(result)
}

/// Float arithmetic with PostgreSQL's overflow, underflow and division-by-zero checks.
/// `narrow` computes and checks in `f32` (`real op real`).
pub(crate) fn float_op(op: Op, a: f64, b: f64, narrow: bool) -> Result<f64> {
    let either_inf = a.is_infinite() || b.is_infinite();
    let round = |x: f64| if narrow { x as f32 as f64 } else { x };
    match op {
        Op::Add => check_float(round(a + b), either_inf, true),
        Op::Sub => check_float(round(a - b), either_inf, true),
        Op::Mul => check_float(round(a * b), either_inf, a == 0.0 || b == 0.0),
        Op::Div => {
            if b == 0.0 && !b.is_nan() {
                return Err(errinput!(DivisionByZero, "division by zero"));
            }
            check_float(round(a / b), a.is_infinite(), a == 0.0 || b.is_infinite())
        }
        Op::Mod => Err(crate::errinternal!("float modulo is not an operator")),
    }
}
