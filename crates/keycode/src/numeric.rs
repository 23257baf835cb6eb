//! The `numeric` encoding: class tag, then for finite nonzero values an order-preserving
//! exponent and packed decimal digits, complemented for negative values. See the crate docs.

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::BigDecimal;
use zizhu_types::Numeric;

use crate::{decode_err, tag, Reader, Result};

/// Most zero digits the decoder appends to bring a scale back into `i64` range. The encoder
/// only needs as many as the value had trailing zeros; the bound keeps hostile input from
/// allocating without limit.
const MAX_PAD_DIGITS: i128 = 4096;

/// Appends tag and body of `n`, ascending.
pub(crate) fn encode(out: &mut Vec<u8>, n: &Numeric) {
    let d = match n {
        Numeric::NegInfinity => return out.push(tag::NUMERIC_NEG_INF),
        Numeric::Infinity => return out.push(tag::NUMERIC_INF),
        Numeric::NaN => return out.push(tag::NUMERIC_NAN),
        Numeric::Finite(d) => d,
    };
    let (int, scale) = d.as_bigint_and_exponent();
    let negative = match int.sign() {
        Sign::NoSign => return out.push(tag::NUMERIC_ZERO),
        Sign::Minus => true,
        Sign::Plus => false,
    };
    // value = int × 10^-scale = 0.digits × 10^(len(digits) - scale)
    let all = int.magnitude().to_str_radix(10);
    let exponent = all.len() as i128 - i128::from(scale);
    let digits = all.trim_end_matches('0').as_bytes();
    out.push(if negative {
        tag::NUMERIC_NEG
    } else {
        tag::NUMERIC_POS
    });
    let start = out.len();
    put_exponent(out, exponent);
    put_digits(out, digits);
    if negative {
        out[start..].iter_mut().for_each(|b| *b = !*b);
    }
}

/// Decodes the body of a numeric whose class tag is `tag`.
pub(crate) fn decode(tag: u8, r: &mut Reader<'_>) -> Result<Numeric> {
    let negative = match tag {
        tag::NUMERIC_NEG_INF => return Ok(Numeric::NegInfinity),
        tag::NUMERIC_ZERO => return Ok(Numeric::finite(BigDecimal::from(0))),
        tag::NUMERIC_INF => return Ok(Numeric::Infinity),
        tag::NUMERIC_NAN => return Ok(Numeric::NaN),
        tag::NUMERIC_NEG => true,
        tag::NUMERIC_POS => false,
        t => return Err(decode_err(format!("unknown numeric tag {t:#04x}"))),
    };
    let outer = r.invert;
    r.invert ^= negative;
    let body = get_exponent(r).and_then(|e| Ok((e, get_digits(r)?)));
    r.invert = outer;
    let (exponent, mut digits) = body?;

    // value = 0.digits × 10^exponent = digits × 10^-(len - exponent)
    let mut scale = (digits.len() as i128)
        .checked_sub(exponent)
        .ok_or_else(|| decode_err("numeric exponent out of range"))?;
    if scale < i128::from(i64::MIN) {
        let pad = i128::from(i64::MIN) - scale;
        if pad > MAX_PAD_DIGITS {
            return Err(decode_err("numeric exponent out of range"));
        }
        digits.resize(digits.len() + pad as usize, b'0');
        scale += pad;
    }
    let scale = i64::try_from(scale).map_err(|_| decode_err("numeric exponent out of range"))?;
    let magnitude =
        BigInt::parse_bytes(&digits, 10).ok_or_else(|| decode_err("invalid numeric digits"))?;
    let int = if negative { -magnitude } else { magnitude };
    Ok(Numeric::finite(BigDecimal::new(int, scale)))
}

/// Minimal big-endian bytes of `m` (none for 0).
fn minimal_be(m: u128) -> ([u8; 16], usize) {
    let len = 16 - (m.leading_zeros() / 8) as usize;
    (m.to_be_bytes(), len)
}

/// Appends `e` as an order-preserving variable-length integer (see the crate docs).
fn put_exponent(out: &mut Vec<u8>, e: i128) {
    if e >= 0 {
        let (bytes, len) = minimal_be(e as u128);
        out.push(0x80 + len as u8);
        out.extend_from_slice(&bytes[16 - len..]);
    } else {
        let (bytes, len) = minimal_be(!e as u128);
        out.push(0x7F - len as u8);
        out.extend(bytes[16 - len..].iter().map(|b| !b));
    }
}

/// Reads a [`put_exponent`] integer, rejecting non-minimal forms.
fn get_exponent(r: &mut Reader<'_>) -> Result<i128> {
    let first = r.byte()?;
    let (len, negative) = match first {
        0x80..=0x90 => ((first - 0x80) as usize, false),
        0x6F..=0x7F => ((0x7F - first) as usize, true),
        b => {
            return Err(decode_err(format!(
                "invalid numeric exponent byte {b:#04x}"
            )))
        }
    };
    let mut m: u128 = 0;
    for i in 0..len {
        let b = r.byte()?;
        let b = if negative { !b } else { b };
        if i == 0 && b == 0 {
            return Err(decode_err("non-minimal numeric exponent"));
        }
        m = m << 8 | u128::from(b);
    }
    let m = i128::try_from(m).map_err(|_| decode_err("numeric exponent out of range"))?;
    Ok(if negative { !m } else { m })
}

/// Appends ASCII decimal digits packed as nibbles `digit + 1`, ended by a zero nibble.
fn put_digits(out: &mut Vec<u8>, digits: &[u8]) {
    let nibble = |d: u8| d - b'0' + 1;
    for pair in digits.chunks(2) {
        let hi = nibble(pair[0]);
        let lo = pair.get(1).map_or(0, |&d| nibble(d));
        out.push(hi << 4 | lo);
    }
    if digits.len().is_multiple_of(2) {
        out.push(0);
    }
}

/// Reads [`put_digits`] digits as ASCII, rejecting leading or trailing zeros and bad nibbles.
fn get_digits(r: &mut Reader<'_>) -> Result<Vec<u8>> {
    let digit = |nibble: u8| {
        if nibble > 10 {
            Err(decode_err(format!(
                "invalid numeric digit nibble {nibble:#x}"
            )))
        } else {
            Ok(b'0' + nibble - 1)
        }
    };
    let mut digits = Vec::new();
    loop {
        let b = r.byte()?;
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi == 0 {
            if lo != 0 {
                return Err(decode_err("invalid numeric digit padding"));
            }
            break;
        }
        digits.push(digit(hi)?);
        if lo == 0 {
            break;
        }
        digits.push(digit(lo)?);
    }
    if digits.first().is_none_or(|&d| d == b'0') || digits.last().is_some_and(|&d| d == b'0') {
        return Err(decode_err("non-canonical numeric digits"));
    }
    Ok(digits)
}
