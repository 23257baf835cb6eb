//! Mathematical functions.
//!
//! `double precision` versions follow `float.c` (rounding half to even with `rint`, the same
//! error checks). `numeric` versions follow `numeric.c`: rounding half away from zero, and for
//! the transcendental functions PostgreSQL's choice of result scale (at least 16 significant
//! digits, no fewer places than the inputs); the values themselves are computed in big
//! fixed-point arithmetic with guard digits and rounded once, so they are correctly rounded.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::num_traits::{One, Signed, ToPrimitive, Zero};
use zizhu_types::{BigDecimal, Numeric, Value};

use super::{common_type, float_arg, int_arg, numeric_arg};
use crate::errinput;
use crate::error::Result;
use crate::types::{cast, ops, DataType};

/// `NUMERIC_MIN_SIG_DIGITS`.
const MIN_SIG_DIGITS: i64 = 16;
/// `NUMERIC_MAX_DISPLAY_SCALE`.
const MAX_DISPLAY_SCALE: i64 = 1000;
/// `NUMERIC_MAX_RESULT_SCALE`.
const MAX_RESULT_SCALE: f64 = 2000.0;
/// The `log10(e)` literal `numeric.c` estimates result weights with (slightly off `LOG10_E`).
#[allow(clippy::approx_constant)]
const PG_LOG10_E: f64 = 0.434_294_481_903_252;
/// `RADIANS_PER_DEGREE` in `float.c`.
const RADIANS_PER_DEGREE: f64 = 0.017_453_292_519_943_295;

/// Calls a math function; `None` if `name` is not one.
/// The integer bit operators `&`, `|`, `#`, `<<`, `>>`: integers only, the result of the
/// left operand's type (the wider of the two for `&`, `|`, `#`).
fn bitwise(name: &str, args: &[Value]) -> Result<Option<Value>> {
    let int = |v: &Value| match v {
        Value::Int16(i) => Some((*i as i64, 16)),
        Value::Int32(i) => Some((*i as i64, 32)),
        Value::Int64(i) => Some((*i, 64)),
        _ => None,
    };
    let (Some((a, a_bits)), Some((b, b_bits))) = (int(&args[0]), int(&args[1])) else {
        return Err(no_function(name, args));
    };
    let (value, bits) = match name {
        "int_and" => (a & b, a_bits.max(b_bits)),
        "int_or" => (a | b, a_bits.max(b_bits)),
        "int_xor" => (a ^ b, a_bits.max(b_bits)),
        // Shifts wrap within the left operand's width, as PostgreSQL's do.
        "int_shl" => (a.wrapping_shl(b as u32 % a_bits), a_bits),
        _ => (a.wrapping_shr(b as u32 % a_bits), a_bits),
    };
    Ok(Some(match bits {
        16 => Value::Int16(value as i16),
        32 => Value::Int32(value as i32),
        _ => Value::Int64(value),
    }))
}

pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>> {
    let is_numeric = |v: &Value| matches!(v, Value::Numeric(_));
    let float = |x: f64| Ok(Some(Value::Float64(x)));
    let numeric = |n: Numeric| Ok(Some(Value::Numeric(n)));
    match name {
        "int_and" | "int_or" | "int_xor" | "int_shl" | "int_shr" => bitwise(name, args),
        "round" | "trunc" if args.len() == 2 => {
            if matches!(args[0], Value::Float32(_) | Value::Float64(_)) {
                return Err(no_function(name, args));
            }
            let places = int_arg(&args[1])?;
            numeric(round_numeric(
                &numeric_arg(&args[0])?,
                places,
                name == "trunc",
            ))
        }
        "round" | "trunc" | "ceil" | "ceiling" | "floor" if is_numeric(&args[0]) => {
            let n = numeric_arg(&args[0])?;
            numeric(match name {
                "round" => round_numeric(&n, 0, false),
                "trunc" => round_numeric(&n, 0, true),
                "floor" => floor_ceil(&n, false),
                _ => floor_ceil(&n, true),
            })
        }
        "round" => float(float_arg(&args[0])?.round_ties_even()),
        "trunc" => float(float_arg(&args[0])?.trunc()),
        "ceil" | "ceiling" => float(float_arg(&args[0])?.ceil()),
        "floor" => float(float_arg(&args[0])?.floor()),
        "sign" => match &args[0] {
            Value::Numeric(n) => numeric(match n {
                Numeric::NaN => Numeric::NaN,
                Numeric::Infinity => Numeric::finite(1.into()),
                Numeric::NegInfinity => Numeric::finite((-1).into()),
                Numeric::Finite(d) => Numeric::finite(match d.sign() {
                    Sign::Minus => (-1).into(),
                    Sign::NoSign => 0.into(),
                    Sign::Plus => 1.into(),
                }),
            }),
            other => {
                let x = float_arg(other)?;
                float(if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    x
                })
            }
        },
        "abs" => Ok(Some(match &args[0] {
            v @ (Value::Int16(_) | Value::Int32(_) | Value::Int64(_)) => {
                match ops::compare(v, &Value::Int16(0))? {
                    Some(Ordering::Less) => ops::neg(v)?,
                    _ => v.clone(),
                }
            }
            Value::Float32(x) => Value::Float32(x.abs()),
            Value::Numeric(n) => Value::Numeric(match n {
                Numeric::NegInfinity => Numeric::Infinity,
                Numeric::Finite(d) => Numeric::finite(d.abs()),
                other => other.clone(),
            }),
            other => Value::Float64(float_arg(other)?.abs()),
        })),
        "mod" => {
            let floats = args
                .iter()
                .any(|v| matches!(v, Value::Float32(_) | Value::Float64(_)));
            if floats {
                return Err(no_function(name, args));
            }
            Ok(Some(ops::modulo(&args[0], &args[1])?))
        }
        "power" | "pow" => {
            let floats = args
                .iter()
                .any(|v| matches!(v, Value::Float32(_) | Value::Float64(_)));
            if args.iter().any(is_numeric) && !floats {
                numeric(numeric_power(
                    &numeric_arg(&args[0])?,
                    &numeric_arg(&args[1])?,
                )?)
            } else {
                float(float_power(float_arg(&args[0])?, float_arg(&args[1])?)?)
            }
        }
        "sqrt" if is_numeric(&args[0]) => numeric(numeric_sqrt(&numeric_arg(&args[0])?)?),
        "sqrt" => {
            let x = float_arg(&args[0])?;
            if x < 0.0 {
                return Err(errinput!(
                    InvalidArgumentForPowerFunction,
                    "cannot take square root of a negative number"
                ));
            }
            float(x.sqrt())
        }
        "cbrt" => float(glibc_cbrt(float_arg(&args[0])?)),
        "exp" if is_numeric(&args[0]) => numeric(numeric_exp(&numeric_arg(&args[0])?)?),
        "exp" => {
            let x = float_arg(&args[0])?;
            let r = x.exp();
            if r.is_infinite() && x.is_finite() {
                return Err(overflow());
            }
            if r == 0.0 && x.is_finite() {
                return Err(underflow());
            }
            float(r)
        }
        "ln" if is_numeric(&args[0]) => numeric(numeric_ln(&numeric_arg(&args[0])?)?),
        "log" | "log10" if args.len() == 1 && is_numeric(&args[0]) => numeric(numeric_log(
            &Numeric::finite(10.into()),
            &numeric_arg(&args[0])?,
        )?),
        "ln" | "log" | "log10" if args.len() == 1 => {
            let x = float_arg(&args[0])?;
            check_log_arg(x.partial_cmp(&0.0))?;
            float(if name == "ln" { x.ln() } else { x.log10() })
        }
        "log" => numeric(numeric_log(
            &numeric_arg(&args[0])?,
            &numeric_arg(&args[1])?,
        )?),
        "pi" => float(std::f64::consts::PI),
        "degrees" => float(float_arg(&args[0])? / RADIANS_PER_DEGREE),
        "radians" => float(float_arg(&args[0])? * RADIANS_PER_DEGREE),
        "random" => float(random()),
        "greatest" | "least" => Ok(Some(extremum(args, name == "greatest")?)),
        _ => Ok(None),
    }
}

fn no_function(name: &str, args: &[Value]) -> crate::Error {
    let types: Vec<String> = args.iter().map(|a| DataType::of(a).to_string()).collect();
    errinput!(
        UndefinedFunction,
        "function {name}({}) does not exist",
        types.join(", ")
    )
}

fn overflow() -> crate::Error {
    errinput!(NumericValueOutOfRange, "value out of range: overflow")
}

fn underflow() -> crate::Error {
    errinput!(NumericValueOutOfRange, "value out of range: underflow")
}

fn numeric_overflow() -> crate::Error {
    errinput!(NumericValueOutOfRange, "value overflows numeric format")
}

/// The errors of `ln`/`log` for a non-positive argument (`ordering` is the argument's sign).
fn check_log_arg(ordering: Option<Ordering>) -> Result<()> {
    match ordering {
        Some(Ordering::Equal) => Err(errinput!(
            InvalidArgumentForLogarithm,
            "cannot take logarithm of zero"
        )),
        Some(Ordering::Less) => Err(errinput!(
            InvalidArgumentForLogarithm,
            "cannot take logarithm of a negative number"
        )),
        _ => Ok(()),
    }
}

/// `greatest`/`least`: NULLs are skipped; the arguments are compared in their common type.
fn extremum(args: &[Value], greatest: bool) -> Result<Value> {
    let types: Vec<DataType> = args.iter().map(DataType::of).collect();
    let common = common_type(&types);
    let mut best: Option<Value> = None;
    for arg in args.iter().filter(|v| !v.is_null()) {
        let v = match common {
            DataType::Unknown => arg.clone(),
            ref ty => cast(arg.clone(), ty)?,
        };
        let better = match &best {
            None => true,
            Some(b) => {
                let ord = ops::compare(&v, b)?.unwrap_or(Ordering::Equal);
                if greatest {
                    ord == Ordering::Greater
                } else {
                    ord == Ordering::Less
                }
            }
        };
        if better {
            best = Some(v);
        }
    }
    Ok(best.unwrap_or(Value::Null))
}

/// `random()`: xorshift64* seeded from the clock.
fn random() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(AtomicOrdering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64);
        x = nanos | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.store(x, AtomicOrdering::Relaxed);
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

/// glibc's `cbrt` (`sysdeps/ieee754/dbl-64/s_cbrt.c`), which PostgreSQL calls: it is not
/// correctly rounded (`cbrt(27)` is `3.0000000000000004`), and Rust's own `cbrt` is, so the
/// algorithm is reproduced to give PostgreSQL's digits.
#[allow(clippy::excessive_precision)] // glibc's literals, kept as written there
fn glibc_cbrt(x: f64) -> f64 {
    const CBRT2: f64 = 1.259_921_049_894_873_164_8;
    const SQR_CBRT2: f64 = 1.587_401_051_968_199_474_8;
    const FACTOR: [f64; 5] = [1.0 / SQR_CBRT2, 1.0 / CBRT2, 1.0, CBRT2, SQR_CBRT2];
    if !x.is_finite() || x == 0.0 {
        return x + x;
    }
    // frexp: |x| = xm × 2^xe with xm in [0.5, 1).
    let (mut a, mut bias) = (x.abs(), 0i32);
    if a < f64::MIN_POSITIVE {
        a *= 2f64.powi(54);
        bias = -54;
    }
    let bits = a.to_bits();
    let xe = ((bits >> 52) & 0x7ff) as i32 - 1022 + bias;
    let xm = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    let u = 0.354_895_765_043_919_86
        + (1.508_191_937_815_848_96
            + (-2.114_994_941_673_712_87
                + (2.446_931_225_635_344_3
                    + (-1.834_692_774_836_130_86
                        + (0.784_932_344_976_639_262 - 0.145_263_899_385_486_377 * xm) * xm)
                        * xm)
                    * xm)
                * xm)
            * xm;
    let t2 = u * u * u;
    let ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * FACTOR[(2 + xe % 3) as usize];
    let r = ldexp(ym, xe / 3);
    if x < 0.0 {
        -r
    } else {
        r
    }
}

/// `x × 2^e` without intermediate overflow or underflow.
fn ldexp(mut x: f64, mut e: i32) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

/// `dpow`.
fn float_power(x: f64, y: f64) -> Result<f64> {
    if x.is_nan() {
        return Ok(if y == 0.0 { 1.0 } else { f64::NAN });
    }
    if y.is_nan() {
        return Ok(if x == 1.0 { 1.0 } else { f64::NAN });
    }
    if x == 0.0 && y < 0.0 {
        return Err(errinput!(
            InvalidArgumentForPowerFunction,
            "zero raised to a negative power is undefined"
        ));
    }
    if x < 0.0 && y.is_finite() && y.floor() != y {
        return Err(errinput!(
            InvalidArgumentForPowerFunction,
            "a negative number raised to a non-integer power yields a complex result"
        ));
    }
    let r = x.powf(y);
    if x.is_finite() && y.is_finite() {
        if r.is_infinite() {
            return Err(overflow());
        }
        if r == 0.0 && x != 0.0 {
            return Err(underflow());
        }
    }
    Ok(r)
}

// ---- numeric helpers ----

fn pow10(n: i64) -> BigInt {
    bigdecimal::num_traits::pow(BigInt::from(10u8), n.max(0) as usize)
}

/// The unscaled integer and non-negative scale of a decimal.
fn parts(d: &BigDecimal) -> (BigInt, i64) {
    let (int, scale) = d.as_bigint_and_exponent();
    if scale < 0 {
        (int * pow10(-scale), 0)
    } else {
        (int, scale)
    }
}

fn finite(int: BigInt, scale: i64) -> Numeric {
    Numeric::finite(BigDecimal::new(int, scale))
}

/// Divides rounding half away from zero.
fn div_round(num: &BigInt, den: &BigInt) -> BigInt {
    let q = num / den;
    let r = num - &q * den;
    if r.abs() * 2u8 >= den.abs() {
        if (num.sign() == Sign::Minus) != (den.sign() == Sign::Minus) {
            q - 1u8
        } else {
            q + 1u8
        }
    } else {
        q
    }
}

/// `int / 10^scale` at `to` decimal places (which may be negative: `round(1250, -2)`), rounded
/// half away from zero or truncated. The result scale is `max(to, 0)`.
fn rescale(int: &BigInt, scale: i64, to: i64, truncate: bool) -> (BigInt, i64) {
    if to >= scale {
        return (int * pow10(to - scale), to);
    }
    let den = pow10(scale - to);
    let q = if truncate {
        int / &den
    } else {
        div_round(int, &den)
    };
    if to < 0 {
        (q * pow10(-to), 0)
    } else {
        (q, to)
    }
}

/// `round(numeric, n)` / `trunc(numeric, n)`.
fn round_numeric(n: &Numeric, places: i64, truncate: bool) -> Numeric {
    match n {
        Numeric::Finite(d) => {
            let (int, scale) = parts(d);
            let places = places.clamp(-MAX_DISPLAY_SCALE * 2, MAX_DISPLAY_SCALE);
            let (int, scale) = rescale(&int, scale, places, truncate);
            finite(int, scale)
        }
        other => other.clone(),
    }
}

/// `floor(numeric)` / `ceil(numeric)`.
fn floor_ceil(n: &Numeric, ceil: bool) -> Numeric {
    match n {
        Numeric::Finite(d) => {
            let (int, scale) = parts(d);
            let den = pow10(scale);
            let mut q = &int / &den;
            if !(&int % &den).is_zero() {
                match int.sign() {
                    Sign::Plus if ceil => q += 1u8,
                    Sign::Minus if !ceil => q -= 1u8,
                    _ => {}
                }
            }
            finite(q, 0)
        }
        other => other.clone(),
    }
}

/// The decimal exponent of the leading digit of a nonzero `int / 10^scale`.
fn exponent10(int: &BigInt, scale: i64) -> i64 {
    int.abs().to_string().len() as i64 - 1 - scale
}

/// PostgreSQL's base-10000 weight of a value (0 for zero).
fn weight(int: &BigInt, scale: i64) -> i64 {
    if int.is_zero() {
        0
    } else {
        exponent10(int, scale).div_euclid(4)
    }
}

fn clamp_scale(rscale: i64) -> i64 {
    rscale.clamp(0, MAX_DISPLAY_SCALE)
}

fn numeric_f64(int: &BigInt, scale: i64) -> f64 {
    BigDecimal::new(int.clone(), scale)
        .to_f64()
        .unwrap_or(f64::NAN)
}

/// `estimate_ln_dweight`: the decimal weight of `ln(x)` for a positive `x`, estimated exactly as
/// PostgreSQL does (the result scale depends on it).
fn ln_dweight(int: &BigInt, scale: i64) -> i64 {
    let x = BigDecimal::new(int.clone(), scale);
    let low: BigDecimal = "0.9".parse().unwrap_or_default();
    let high: BigDecimal = "1.1".parse().unwrap_or_default();
    if x >= low && x <= high {
        let (d, s) = parts(&(x - BigDecimal::one()));
        return if d.is_zero() { 0 } else { exponent10(&d, s) };
    }
    // The first one or two base-10000 digits: x ≈ digits × 10^dweight.
    let w = weight(int, scale);
    let unit = scale + 4 * w; // x / 10000^w = int / 10^(scale + 4w)
    let shifted = |e: i64| -> BigInt {
        if e >= 0 {
            int / pow10(e)
        } else {
            int * pow10(-e)
        }
    };
    let first = shifted(unit);
    let exact = if unit >= 0 {
        (int % pow10(unit)).is_zero()
    } else {
        true
    };
    let (digits, dweight) = if exact {
        (first, 4 * w)
    } else {
        (shifted(unit - 4), 4 * w - 4)
    };
    let ln_var = digits.to_f64().unwrap_or(1.0).ln() + dweight as f64 * std::f64::consts::LN_10;
    ln_var.abs().log10() as i64
}

/// Fixed-point natural logarithm: `ln(int / 10^scale) × 10^p`, for a positive argument.
fn ln_fixed(int: &BigInt, scale: i64, p: i64) -> BigInt {
    // x = m × 10^e with 1 <= m < 10: ln x = ln m + e ln 10.
    let e = exponent10(int, scale);
    let m_scale = scale + e;
    let one = pow10(p);
    let m = if p >= m_scale {
        int * pow10(p - m_scale)
    } else {
        int / pow10(m_scale - p)
    };
    let mut result = ln_reduced(m, p);
    if e != 0 {
        result += ln_reduced(BigInt::from(10u8) * &one, p) * e;
    }
    result
}

/// `ln(m / 10^p) × 10^p` for `m / 10^p` in [1, 10]: square roots bring the argument near 1,
/// then `ln z = 2 atanh((z - 1) / (z + 1))`.
fn ln_reduced(mut m: BigInt, p: i64) -> BigInt {
    let one = pow10(p);
    let low = &one * 9u8 / 10u8;
    let high = &one * 11u8 / 10u8;
    let mut k = 0u32;
    while m > high || m < low {
        m = (m * &one).sqrt();
        k += 1;
    }
    let t = (&m - &one) * &one / (&m + &one);
    let t2 = &t * &t / &one;
    let mut sum = t.clone();
    let mut term = t;
    let mut n = 1u32;
    loop {
        term = term * &t2 / &one;
        n += 2;
        let add = &term / n;
        if add.is_zero() {
            break;
        }
        sum += add;
    }
    (sum * 2u8) << k
}

/// Fixed-point exponential: `exp(x / 10^p) × 10^p`.
fn exp_fixed(x: &BigInt, p: i64) -> BigInt {
    let one = pow10(p);
    let whole = (x.abs() / &one).bits();
    let k = whole + 12;
    let y = x / (BigInt::one() << k);
    let mut sum = one.clone();
    let mut term = one.clone();
    let mut n = 1u32;
    loop {
        term = term * &y / &one / n;
        if term.is_zero() {
            break;
        }
        sum += &term;
        n += 1;
    }
    for _ in 0..k {
        sum = &sum * &sum / &one;
    }
    sum
}

fn numeric_sqrt(n: &Numeric) -> Result<Numeric> {
    let negative = || {
        errinput!(
            InvalidArgumentForPowerFunction,
            "cannot take square root of a negative number"
        )
    };
    let d = match n {
        Numeric::NaN | Numeric::Infinity => return Ok(n.clone()),
        Numeric::NegInfinity => return Err(negative()),
        Numeric::Finite(d) => d,
    };
    let (int, scale) = parts(d);
    if int.sign() == Sign::Minus {
        return Err(negative());
    }
    let sweight = (weight(&int, scale) + 1) * 4 / 2 - 1;
    let rscale = clamp_scale((MIN_SIG_DIGITS - sweight).max(scale));
    // floor(sqrt(x) × 10^(rscale + 1)), then round the last digit.
    let s = (int * pow10(2 * rscale + 2 - scale)).sqrt();
    Ok(finite(div_round(&s, &BigInt::from(10u8)), rscale))
}

fn numeric_exp(n: &Numeric) -> Result<Numeric> {
    let d = match n {
        Numeric::NaN | Numeric::Infinity => return Ok(n.clone()),
        Numeric::NegInfinity => return Ok(finite(BigInt::zero(), 0)),
        Numeric::Finite(d) => d,
    };
    let (int, scale) = parts(d);
    let x = numeric_f64(&int, scale);
    let val = (x * PG_LOG10_E).clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE);
    let rscale = clamp_scale((MIN_SIG_DIGITS - val as i64).max(scale));
    if x.abs() >= MAX_RESULT_SCALE * 3.0 {
        if x > 0.0 {
            return Err(numeric_overflow());
        }
        return Ok(finite(BigInt::zero(), rscale));
    }
    let p = rscale + val.max(0.0) as i64 + 30;
    let fixed = rescale(&int, scale, p, true).0;
    Ok(finite(
        round_fixed(&exp_fixed(&fixed, p), p, rscale),
        rscale,
    ))
}

/// Rounds a fixed-point value at `p` places to `rscale` places.
fn round_fixed(v: &BigInt, p: i64, rscale: i64) -> BigInt {
    div_round(v, &pow10(p - rscale))
}

/// The finite positive argument of `ln`/`log`, or the error PostgreSQL reports.
fn log_arg(n: &Numeric) -> Result<Option<(BigInt, i64)>> {
    match n {
        Numeric::NaN | Numeric::Infinity => Ok(None),
        Numeric::NegInfinity => {
            check_log_arg(Some(Ordering::Less))?;
            Ok(None)
        }
        Numeric::Finite(d) => {
            let (int, scale) = parts(d);
            check_log_arg(Some(int.sign().cmp(&Sign::NoSign)))?;
            Ok(Some((int, scale)))
        }
    }
}

fn numeric_ln(n: &Numeric) -> Result<Numeric> {
    let Some((int, scale)) = log_arg(n)? else {
        return Ok(n.clone());
    };
    let rscale = clamp_scale((MIN_SIG_DIGITS - ln_dweight(&int, scale)).max(scale));
    let p = rscale + 30;
    Ok(finite(
        round_fixed(&ln_fixed(&int, scale, p), p, rscale),
        rscale,
    ))
}

/// `log(base, x)` (and `log(x)` as `log(10, x)`).
fn numeric_log(base: &Numeric, x: &Numeric) -> Result<Numeric> {
    let b = log_arg(base)?;
    let v = log_arg(x)?;
    let (Some((bi, bs)), Some((xi, xs))) = (b, v) else {
        if matches!(base, Numeric::NaN) || matches!(x, Numeric::NaN) {
            return Ok(Numeric::NaN);
        }
        // log(inf, x) = 0, log(b, inf) = inf.
        return Ok(match base {
            Numeric::Infinity => finite(BigInt::zero(), 0),
            _ => Numeric::Infinity,
        });
    };
    let (db, dx) = (ln_dweight(&bi, bs), ln_dweight(&xi, xs));
    let result_dweight = dx - db;
    let rscale = clamp_scale((MIN_SIG_DIGITS - result_dweight).max(bs).max(xs));
    let p = rscale + 30 + result_dweight.max(0) + (-db).max(0);
    let ln_b = ln_fixed(&bi, bs, p);
    if ln_b.is_zero() {
        return Err(errinput!(DivisionByZero, "division by zero"));
    }
    let ln_x = ln_fixed(&xi, xs, p);
    Ok(finite(div_round(&(ln_x * pow10(rscale)), &ln_b), rscale))
}

/// `power(numeric, numeric)` (PostgreSQL 15's `numeric_power`/`power_var`).
fn numeric_power(base: &Numeric, exp: &Numeric) -> Result<Numeric> {
    use Numeric::{Finite, NaN};
    match (base, exp) {
        (NaN, _) => {
            return Ok(match exp {
                Finite(e) if e.is_zero() => finite(BigInt::one(), 0),
                _ => NaN,
            })
        }
        (_, NaN) => {
            return Ok(match base {
                Finite(b) if **b == BigDecimal::one() => finite(BigInt::one(), 0),
                _ => NaN,
            })
        }
        _ => {}
    }
    let sign = |n: &Numeric| match n {
        Numeric::NegInfinity => Sign::Minus,
        Numeric::Infinity => Sign::Plus,
        Numeric::Finite(d) => d.sign(),
        Numeric::NaN => Sign::NoSign,
    };
    let exp_is_integer = match exp {
        Finite(e) => e.is_integer(),
        _ => true,
    };
    if sign(base) == Sign::NoSign && sign(exp) == Sign::Minus {
        return Err(errinput!(
            InvalidArgumentForPowerFunction,
            "zero raised to a negative power is undefined"
        ));
    }
    if sign(base) == Sign::Minus && !exp_is_integer {
        return Err(errinput!(
            InvalidArgumentForPowerFunction,
            "a negative number raised to a non-integer power yields a complex result"
        ));
    }
    let (Finite(b), Finite(e)) = (base, exp) else {
        // Infinite operands: the C library's pow() gives PostgreSQL's answers.
        let to_f = |n: &Numeric| match n {
            Numeric::NegInfinity => f64::NEG_INFINITY,
            Numeric::Infinity => f64::INFINITY,
            Numeric::Finite(d) => d.to_f64().unwrap_or(0.0),
            Numeric::NaN => f64::NAN,
        };
        let r = to_f(base).powf(to_f(exp));
        return Ok(if r == f64::INFINITY {
            Numeric::Infinity
        } else if r == f64::NEG_INFINITY {
            Numeric::NegInfinity
        } else {
            finite(BigInt::from(r as i64), 0)
        });
    };
    let (bi, bs) = parts(b);
    let (ei, es) = parts(e);
    if exp_is_integer {
        if let Some(n) = (&ei / pow10(es)).to_i32() {
            if bs.saturating_mul(i64::from(n).abs()) <= 100_000 {
                return power_int(&bi, bs, n);
            }
        }
    }
    if bi.is_zero() {
        return Ok(finite(BigInt::zero(), MIN_SIG_DIGITS));
    }
    // The result weight from a low-precision exp × ln(base).
    let val = numeric_f64(&ei, es) * numeric_f64(&bi, bs).ln();
    if val.abs() > MAX_RESULT_SCALE * 3.01 {
        if val > 0.0 {
            return Err(numeric_overflow());
        }
        return Ok(finite(BigInt::zero(), MAX_DISPLAY_SCALE));
    }
    let val = val * PG_LOG10_E;
    let rscale = clamp_scale((MIN_SIG_DIGITS - val as i64).max(bs).max(es));
    let p = rscale + val.max(0.0) as i64 + 30 + exponent10(&ei, es).max(0);
    let ln_b = ln_fixed(&bi, bs, p);
    // exp × ln(base) at p places.
    let product = ln_b * &ei / pow10(es);
    Ok(finite(
        round_fixed(&exp_fixed(&product, p), p, rscale),
        rscale,
    ))
}

/// `power_var_int`: an integer power, exact, rounded to PostgreSQL 15's result scale.
fn power_int(bi: &BigInt, bs: i64, n: i32) -> Result<Numeric> {
    let rscale = clamp_scale(MIN_SIG_DIGITS.max(bs));
    if n == 0 {
        return Ok(finite(pow10(rscale), rscale));
    }
    let approx_weight = f64::from(n) * numeric_f64(bi, bs).abs().log10();
    if approx_weight > f64::from(3 * 32767 * 4) {
        return Err(numeric_overflow());
    }
    if approx_weight + 1.0 < -(rscale as f64) {
        return Ok(finite(BigInt::zero(), rscale));
    }
    let magnitude = n.unsigned_abs() as usize;
    let powered = bigdecimal::num_traits::pow(bi.clone(), magnitude);
    let pscale = bs * magnitude as i64;
    Ok(if n > 0 {
        let (int, scale) = rescale(&powered, pscale, rscale, false);
        finite(int, scale)
    } else {
        finite(div_round(&pow10(pscale + rscale), &powered), rscale)
    })
}
