//! String functions. Lengths and positions count characters, as PostgreSQL does in a UTF-8
//! database.

use zizhu_types::Value;

use super::{int_arg, text_arg};
use crate::errinput;
use crate::error::Result;
use crate::types::to_text;

/// PostgreSQL's `MaxAllocSize`: the largest string a function may build.
const MAX_ALLOC: i64 = 0x3fff_ffff;

fn too_large() -> crate::Error {
    // PostgreSQL: 54000 program_limit_exceeded, which the error codes here do not have.
    errinput!(InvalidParameterValue, "requested length too large")
}

/// Calls a string function; `None` if `name` is not one.
/// `like_escape(pattern, escape)`: the pattern with `escape` as its escape character,
/// rewritten to use `\\` (an empty `escape` means none: every `\\` is literal).
fn like_escape(pattern: &str, escape: &str) -> Result<String> {
    let mut escape_chars = escape.chars();
    let escape = match (escape_chars.next(), escape_chars.next()) {
        (None, _) => None,
        (Some(c), None) => Some(c),
        _ => {
            return Err(crate::errinput!(
                InvalidEscapeSequence,
                "invalid escape string"
            ))
        }
    };
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            match chars.next() {
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => {
                    return Err(crate::errinput!(
                        InvalidEscapeSequence,
                        "LIKE pattern must not end with escape character"
                    ))
                }
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>> {
    let text = |i: usize| text_arg(&args[i]);
    let int = |i: usize| int_arg(&args[i]);
    let out = |s: String| Ok(Some(Value::Text(s)));
    match name {
        "like_escape" => out(like_escape(&text(0)?, &text(1)?)?),
        "substr" | "substring" => {
            let count = if args.len() == 3 { Some(int(2)?) } else { None };
            out(substr(&text(0)?, int(1)?, count)?)
        }
        "strpos" => Ok(Some(Value::Int32(strpos(&text(0)?, &text(1)?)))),
        // pg_proc's position(text, text) is (string, substring): `position(a IN b)` becomes
        // `position(b, a)`.
        "position" => Ok(Some(Value::Int32(strpos(&text(0)?, &text(1)?)))),
        "replace" => {
            let (s, from, to) = (text(0)?, text(1)?, text(2)?);
            out(if from.is_empty() {
                s
            } else {
                s.replace(&from, &to)
            })
        }
        "btrim" | "ltrim" | "rtrim" => {
            let s = text(0)?;
            let set: Vec<char> = if args.len() == 2 {
                text(1)?.chars().collect()
            } else {
                vec![' ']
            };
            let trimmed = match name {
                "btrim" => s.trim_matches(set.as_slice()),
                "ltrim" => s.trim_start_matches(set.as_slice()),
                _ => s.trim_end_matches(set.as_slice()),
            };
            out(trimmed.to_string())
        }
        "lpad" | "rpad" => {
            let fill = if args.len() == 3 {
                text(2)?
            } else {
                " ".into()
            };
            out(pad(&text(0)?, int(1)?, &fill, name == "lpad")?)
        }
        "split_part" => out(split_part(&text(0)?, &text(1)?, int(2)?)?),
        "concat" => out(args.iter().filter(|v| !v.is_null()).map(to_text).collect()),
        "concat_ws" => {
            if args[0].is_null() {
                return Ok(Some(Value::Null));
            }
            let sep = text(0)?;
            let parts: Vec<String> = args[1..]
                .iter()
                .filter(|v| !v.is_null())
                .map(to_text)
                .collect();
            out(parts.join(&sep))
        }
        "left" | "right" => {
            let s: Vec<char> = text(0)?.chars().collect();
            let len = s.len() as i64;
            let n = int(1)?;
            // A negative n counts all but |n| characters.
            let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            let part = if name == "left" {
                &s[..keep]
            } else {
                &s[s.len() - keep..]
            };
            out(part.iter().collect())
        }
        "reverse" => out(text(0)?.chars().rev().collect()),
        "repeat" => {
            let (s, n) = (text(0)?, int(1)?);
            if n <= 0 {
                return out(String::new());
            }
            match (s.len() as i64).checked_mul(n) {
                Some(total) if total <= MAX_ALLOC => out(s.repeat(n as usize)),
                _ => Err(too_large()),
            }
        }
        "initcap" => out(initcap(&text(0)?)),
        "upper" => out(map_chars(&text(0)?, true)),
        "lower" => out(map_chars(&text(0)?, false)),
        "ascii" => Ok(Some(Value::Int32(
            text(0)?.chars().next().map_or(0, |c| c as i32),
        ))),
        "chr" => out(chr(int(0)?)?.to_string()),
        // Bytes, so a `char(n)` value's padding counts (as in PostgreSQL).
        "octet_length" => {
            let len = match &args[0] {
                Value::Bytes(b) => b.len(),
                other => text_arg(other)?.len(),
            };
            Ok(Some(Value::Int32(i32::try_from(len).unwrap_or(i32::MAX))))
        }
        "starts_with" => Ok(Some(Value::Bool(text(0)?.starts_with(&text(1)?)))),
        "md5" => {
            let digest = match &args[0] {
                Value::Bytes(b) => md5(b),
                other => md5(text_arg(other)?.as_bytes()),
            };
            out(digest.iter().map(|b| format!("{b:02x}")).collect())
        }
        "translate" => out(translate(&text(0)?, &text(1)?, &text(2)?)),
        _ => Ok(None),
    }
}

/// `substr(s, from [, count])`: 1-based; characters before position 1 count against `count`.
fn substr(s: &str, from: i64, count: Option<i64>) -> Result<String> {
    let start = from.max(1);
    let end = match count {
        Some(c) if c < 0 => {
            // PostgreSQL: 22011 substring_error, which the error codes here do not have.
            return Err(errinput!(
                InvalidParameterValue,
                "negative substring length not allowed"
            ));
        }
        Some(c) => from.saturating_add(c),
        None => i64::MAX,
    };
    if end <= start {
        return Ok(String::new());
    }
    Ok(s.chars()
        .skip((start - 1) as usize)
        .take((end - start).min(i64::from(u32::MAX)) as usize)
        .collect())
}

/// `strpos(s, sub)`: the 1-based character position of the first occurrence, 0 if none.
fn strpos(s: &str, sub: &str) -> i32 {
    match s.find(sub) {
        Some(byte) => s[..byte].chars().count() as i32 + 1,
        None => 0,
    }
}

/// `lpad`/`rpad`: pads with `fill` (repeated) to `len` characters, or truncates.
fn pad(s: &str, len: i64, fill: &str, left: bool) -> Result<String> {
    let len = len.max(0);
    if len * 4 > MAX_ALLOC {
        return Err(too_large());
    }
    let len = len as usize;
    let chars: Vec<char> = s.chars().collect();
    if chars.len() >= len || fill.is_empty() {
        return Ok(chars.iter().take(len).collect());
    }
    let padding: String = fill.chars().cycle().take(len - chars.len()).collect();
    Ok(if left {
        padding + s
    } else {
        s.to_string() + &padding
    })
}

/// `split_part(s, delimiter, n)`: the n-th field, counting from the end when n < 0.
fn split_part(s: &str, delim: &str, n: i64) -> Result<String> {
    if n == 0 {
        return Err(errinput!(
            InvalidParameterValue,
            "field position must not be zero"
        ));
    }
    if s.is_empty() {
        return Ok(String::new());
    }
    if delim.is_empty() {
        return Ok(if n == 1 || n == -1 {
            s.to_string()
        } else {
            String::new()
        });
    }
    let fields: Vec<&str> = s.split(delim).collect();
    let index = if n > 0 {
        n - 1
    } else {
        fields.len() as i64 + n
    };
    Ok(usize::try_from(index)
        .ok()
        .and_then(|i| fields.get(i))
        .map_or_else(String::new, |f| f.to_string()))
}

/// Maps each character to its upper or lower case when that is a single character (as
/// PostgreSQL's per-character `towupper`/`towlower` do: `upper('ß')` stays `ß`).
fn case_char(c: char, upper: bool) -> char {
    let mut mapped: Vec<char> = if upper {
        c.to_uppercase().collect()
    } else {
        c.to_lowercase().collect()
    };
    if mapped.len() == 1 {
        mapped.pop().unwrap_or(c)
    } else {
        c
    }
}

fn map_chars(s: &str, upper: bool) -> String {
    s.chars().map(|c| case_char(c, upper)).collect()
}

/// `initcap`: upper-cases the first letter of each alphanumeric run, lower-cases the rest.
fn initcap(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        out.push(case_char(c, !in_word));
        in_word = c.is_alphanumeric();
    }
    out
}

/// `chr(n)`: the character with code point n.
fn chr(n: i64) -> Result<char> {
    // PostgreSQL reports 54000 program_limit_exceeded for zero, too large and invalid code
    // points; the error codes here do not have it, so these use 22023.
    if n < 0 {
        return Err(errinput!(
            InvalidParameterValue,
            "character number must be positive"
        ));
    }
    if n == 0 {
        return Err(errinput!(
            InvalidParameterValue,
            "null character not permitted"
        ));
    }
    if n > 0x10_ffff {
        return Err(errinput!(
            InvalidParameterValue,
            "requested character too large for encoding: {n}"
        ));
    }
    char::from_u32(n as u32).ok_or_else(|| {
        errinput!(
            InvalidParameterValue,
            "requested character not valid for encoding: {n}"
        )
    })
}

/// `translate(s, from, to)`: replaces each character of `from` by the one at the same place in
/// `to`, deleting it when `to` is shorter.
fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// MD5 (RFC 1321).
pub(super) fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    // K[i] = floor(2^32 × |sin(i + 1)|).
    let k: Vec<u32> = (0..64)
        .map(|i| (((i + 1) as f64).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for block in msg.chunks_exact(64) {
        let m: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        state[0] = state[0].wrapping_add(a);
        state[1] = state[1].wrapping_add(b);
        state[2] = state[2].wrapping_add(c);
        state[3] = state[3].wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, word) in state.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    out
}
