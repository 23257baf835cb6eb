//! `interval`: input, output (IntervalStyle `postgres`) and arithmetic.
//!
//! The three fields stay apart as in PostgreSQL. Fractional input units cascade down the way
//! `DecodeInterval` does (`1.5 months` is `1 mon 15 days`, a month counting 30 days), and
//! multiplication and division by a float port `interval_mul`/`interval_div`, including their
//! `TSROUND` steps, so results agree with PostgreSQL to the microsecond.

use zizhu_types::{Interval, Timestamp};

use super::datetime::{
    check_timestamp, civil_from_days, days_from_civil, days_in_month, push_hms, round_fraction,
    timestamp_out_of_range, ts_is_infinite, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE,
    USECS_PER_SEC,
};
use super::numeric::is_pg_space;
use crate::errinput;
use crate::error::Result;

/// `interval_out` with IntervalStyle `postgres`.
pub(crate) fn format_interval(iv: &Interval) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let year = iv.months / 12;
    let mon = iv.months % 12;
    for (value, unit) in [
        (year as i64, "year"),
        (mon as i64, "mon"),
        (iv.days as i64, "day"),
    ] {
        if value == 0 {
            continue;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        out.push_str(&format!(
            "{value} {unit}{}",
            if value != 1 { "s" } else { "" }
        ));
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || iv.micros != 0 {
        if !is_zero {
            out.push(' ');
        }
        let us = iv.micros;
        if us < 0 {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        let abs = us.unsigned_abs();
        let hours = abs / USECS_PER_HOUR as u64;
        let minutes = abs / USECS_PER_MINUTE as u64 % 60;
        let rest = abs % USECS_PER_MINUTE as u64;
        push_hms(&mut out, hours as i64, minutes as i64, rest as i64);
    }
    out
}

/// An interval under construction, with wide fields.
#[derive(Default)]
struct Acc {
    months: i64,
    days: i64,
    micros: f64,
}

impl Acc {
    /// Adds `whole + frac` units of `unit`, cascading the fractional part down as PostgreSQL
    /// does. The parts are parsed apart, as PostgreSQL parses them, so that `1.0000005 sec`
    /// rounds the fraction `0.0000005` alone.
    fn add(&mut self, (whole, frac): (f64, f64), unit: Unit) {
        let value = whole + frac;
        // PostgreSQL's AdjustMicroseconds: the whole part scales exactly, the fraction rounds.
        let time = |scale: f64| whole * scale + (frac * scale).round_ties_even();
        match unit {
            Unit::Micro => self.micros += time(1.0),
            Unit::Milli => self.micros += time(1000.0),
            Unit::Second => self.micros += time(USECS_PER_SEC as f64),
            Unit::Minute => self.micros += time(USECS_PER_MINUTE as f64),
            Unit::Hour => self.micros += time(USECS_PER_HOUR as f64),
            Unit::Day => {
                self.days += whole as i64;
                self.micros += (frac * USECS_PER_DAY as f64).round_ties_even();
            }
            Unit::Week => self.add_days(value * 7.0),
            Unit::Month => {
                self.months += whole as i64;
                self.add_days(frac * 30.0);
            }
            Unit::Year(n) => {
                let years = value * n as f64;
                self.months += years.trunc() as i64 * 12
                    + ((years - years.trunc()) * 12.0).round_ties_even() as i64;
            }
        }
    }

    fn add_days(&mut self, days: f64) {
        self.days += days.trunc() as i64;
        self.micros += ((days - days.trunc()) * USECS_PER_DAY as f64).round_ties_even();
    }

    fn negate(&mut self) {
        self.months = -self.months;
        self.days = -self.days;
        self.micros = -self.micros;
    }

    fn finish(self, text: &str) -> Result<Interval> {
        let range = || {
            errinput!(
                DatetimeFieldOverflow,
                "interval field value out of range: \"{text}\""
            )
        };
        let micros = self.micros.round_ties_even();
        if !micros.is_finite() || micros.abs() >= 9.2e18 {
            return Err(range());
        }
        Ok(Interval {
            months: i32::try_from(self.months).map_err(|_| range())?,
            days: i32::try_from(self.days).map_err(|_| range())?,
            micros: micros as i64,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Unit {
    Micro,
    Milli,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    /// Years, decades (10), centuries (100), millennia (1000).
    Year(u32),
}

/// The fields a `H:M:S` token sets (PostgreSQL's `DTK_TIME_M`: hours, minutes, all seconds).
const TIME_FIELDS: u32 = 1 << 0 | 1 << 1 | 1 << 4 | 1 << 5 | 1 << 6;

impl Unit {
    /// The input fields a unit sets, as PostgreSQL's `DecodeInterval` tracks them: seconds with
    /// a fraction also claim the sub-second fields.
    fn field_mask(self, fractional: bool) -> u32 {
        match self {
            Unit::Micro => 1 << 0,
            Unit::Milli => 1 << 1,
            Unit::Second if fractional => 1 << 0 | 1 << 1 | 1 << 4,
            Unit::Second => 1 << 4,
            Unit::Minute => 1 << 5,
            Unit::Hour => 1 << 6,
            Unit::Day => 1 << 7,
            Unit::Week => 1 << 8,
            Unit::Month => 1 << 9,
            Unit::Year(1) => 1 << 10,
            Unit::Year(10) => 1 << 11,
            Unit::Year(100) => 1 << 12,
            Unit::Year(_) => 1 << 13,
        }
    }
}

fn unit(s: &str) -> Option<Unit> {
    Some(match s {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" | "microsecon" => {
            Unit::Micro
        }
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" | "millisecon" => {
            Unit::Milli
        }
        "second" | "seconds" | "s" | "sec" | "secs" => Unit::Second,
        "minute" | "minutes" | "m" | "min" | "mins" => Unit::Minute,
        "hour" | "hours" | "h" | "hr" | "hrs" => Unit::Hour,
        "day" | "days" | "d" => Unit::Day,
        "week" | "weeks" | "w" => Unit::Week,
        "month" | "months" | "mon" | "mons" => Unit::Month,
        "year" | "years" | "y" | "yr" | "yrs" => Unit::Year(1),
        "decade" | "decades" | "dec" | "decs" => Unit::Year(10),
        "century" | "centuries" | "c" | "cent" => Unit::Year(100),
        "millennium" | "millennia" | "mil" | "mils" => Unit::Year(1000),
        _ => return None,
    })
}

/// Parses a signed decimal number (`-1.5`, `+3`, `.5`) into its whole and fractional parts,
/// both carrying the sign.
fn number(s: &str) -> Option<(f64, f64)> {
    let negative = s.starts_with('-');
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let whole: f64 = if int.is_empty() {
        0.0
    } else {
        int.parse().ok()?
    };
    let frac: f64 = if frac.is_empty() {
        0.0
    } else {
        format!("0.{frac}").parse().ok()?
    };
    Some(if negative {
        (-whole, -frac)
    } else {
        (whole, frac)
    })
}

/// Parses a signed `H:M[:S[.f]]` into microseconds (hours are not limited to 24 here).
fn interval_time(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let parts: Vec<&str> = body.split(':').collect();
    let int = |t: &str| -> Option<i64> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (h, m, sec) = match parts[..] {
        [h, m] => (int(h)?, int(m)?, "0"),
        [h, m, s] => (int(h)?, int(m)?, s),
        _ => return None,
    };
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) || m > 59 {
        return None;
    }
    let secs = int(whole)?;
    if secs > 59 {
        return None;
    }
    let us = h as f64 * USECS_PER_HOUR as f64
        + (m * USECS_PER_MINUTE + secs * USECS_PER_SEC + round_fraction(frac)) as f64;
    Some(if neg { -us } else { us })
}

/// `interval_in` for the PostgreSQL verbose format and ISO 8601 `P…` durations.
pub(crate) fn parse_interval(text: &str) -> Result<Interval> {
    let bad = || {
        errinput!(
            InvalidDatetimeFormat,
            "invalid input syntax for type interval: \"{text}\""
        )
    };
    let s = text.trim_matches(is_pg_space).to_ascii_lowercase();
    if let Some(iso) = s.strip_prefix('p') {
        return parse_iso8601(iso).ok_or_else(bad)?.finish(text);
    }
    // Split tokens, and split "1day" into "1" and "day".
    let mut tokens: Vec<String> = Vec::new();
    for raw in s.split(is_pg_space).filter(|t| !t.is_empty()) {
        let split = raw
            .find(|c: char| c.is_ascii_alphabetic())
            .filter(|&i| i > 0 && !raw.contains(':'));
        match split {
            Some(i) => {
                tokens.push(raw[..i].to_string());
                tokens.push(raw[i..].to_string());
            }
            None => tokens.push(raw.to_string()),
        }
    }
    let mut acc = Acc::default();
    let mut ago = false;
    let mut seen = false;
    let mut fields = 0u32;
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i].as_str();
        i += 1;
        if tok == "@" {
            continue;
        }
        if tok == "ago" {
            if i != tokens.len() || ago {
                return Err(bad());
            }
            ago = true;
            continue;
        }
        // Each field may be given once, as in PostgreSQL (`1 hour 02:00:00` is an error).
        let mut claim = |mask: u32| {
            if fields & mask != 0 {
                return Err(bad());
            }
            fields |= mask;
            Ok(())
        };
        if tok.contains(':') {
            claim(TIME_FIELDS)?;
            acc.micros += interval_time(tok).ok_or_else(bad)?;
            seen = true;
            continue;
        }
        let value = number(tok).ok_or_else(bad)?;
        seen = true;
        let u = match tokens.get(i).and_then(|u| unit(u)) {
            Some(u) => {
                i += 1;
                u
            }
            // "1 02:03:04": a bare number before a time is days; a final bare number is seconds.
            None if tokens.get(i).is_some_and(|t| t.contains(':')) => Unit::Day,
            None if i == tokens.len() => Unit::Second,
            None => return Err(bad()),
        };
        claim(u.field_mask(value.1 != 0.0))?;
        acc.add(value, u);
    }
    if !seen {
        return Err(bad());
    }
    if ago {
        acc.negate();
    }
    acc.finish(text)
}

/// ISO 8601 duration after the `P`: `1Y2M3W4DT5H6M7.5S`.
fn parse_iso8601(s: &str) -> Option<Acc> {
    let mut acc = Acc::default();
    let mut in_time = false;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('t') {
            if in_time {
                return None;
            }
            in_time = true;
            rest = r;
            continue;
        }
        let end = rest.find(|c: char| c.is_ascii_alphabetic())?;
        let value = number(&rest[..end])?;
        let u = match (rest.as_bytes()[end], in_time) {
            (b'y', false) => Unit::Year(1),
            (b'm', false) => Unit::Month,
            (b'w', false) => Unit::Week,
            (b'd', false) => Unit::Day,
            (b'h', true) => Unit::Hour,
            (b'm', true) => Unit::Minute,
            (b's', true) => Unit::Second,
            _ => return None,
        };
        acc.add(value, u);
        rest = &rest[end + 1..];
    }
    Some(acc)
}

fn interval_out_of_range() -> crate::Error {
    errinput!(DatetimeFieldOverflow, "interval out of range")
}

/// `interval + interval` (`sign` 1) or `interval - interval` (`sign` -1).
pub(crate) fn interval_add(a: &Interval, b: &Interval, sign: i32) -> Result<Interval> {
    let months = a.months.checked_add(
        b.months
            .checked_mul(sign)
            .ok_or_else(interval_out_of_range)?,
    );
    let days = a
        .days
        .checked_add(b.days.checked_mul(sign).ok_or_else(interval_out_of_range)?);
    let micros = a.micros.checked_add(
        b.micros
            .checked_mul(sign as i64)
            .ok_or_else(interval_out_of_range)?,
    );
    match (months, days, micros) {
        (Some(months), Some(days), Some(micros)) => Ok(Interval {
            months,
            days,
            micros,
        }),
        _ => Err(interval_out_of_range()),
    }
}

/// Unary minus.
pub(crate) fn interval_neg(a: &Interval) -> Result<Interval> {
    interval_add(
        &Interval {
            months: 0,
            days: 0,
            micros: 0,
        },
        a,
        -1,
    )
}

fn tsround(x: f64) -> f64 {
    (x * 1e6).round_ties_even() / 1e6
}

/// `interval * float8` (`interval_mul`) or, with `divide`, `interval / float8` (`interval_div`).
pub(crate) fn interval_scale(span: &Interval, factor: f64, divide: bool) -> Result<Interval> {
    if divide && factor == 0.0 {
        return Err(errinput!(DivisionByZero, "division by zero"));
    }
    let apply = |x: f64| if divide { x / factor } else { x * factor };
    let fits_i32 = |x: f64| !x.is_nan() && x >= i32::MIN as f64 && x < -(i32::MIN as f64);
    let month_d = apply(span.months as f64);
    if !fits_i32(month_d) {
        return Err(interval_out_of_range());
    }
    let day_d = apply(span.days as f64);
    if !fits_i32(day_d) {
        return Err(interval_out_of_range());
    }
    let months = month_d as i32;
    let mut days = day_d as i32;
    let month_remainder_days = tsround((apply(span.months as f64) - months as f64) * 30.0);
    let mut sec_remainder = tsround(
        (apply(span.days as f64) - days as f64 + month_remainder_days
            - month_remainder_days.trunc())
            * 86_400.0,
    );
    if sec_remainder.abs() >= 86_400.0 {
        let extra = (sec_remainder / 86_400.0).trunc();
        days = days
            .checked_add(extra as i32)
            .ok_or_else(interval_out_of_range)?;
        sec_remainder -= extra * 86_400.0;
    }
    days = days
        .checked_add(month_remainder_days as i32)
        .ok_or_else(interval_out_of_range)?;
    let micros = (apply(span.micros as f64) + sec_remainder * 1e6).round_ties_even();
    if micros.is_nan() || micros < i64::MIN as f64 || micros >= -(i64::MIN as f64) {
        return Err(interval_out_of_range());
    }
    Ok(Interval {
        months,
        days,
        micros: micros as i64,
    })
}

/// `timestamp + interval` (`timestamp_pl_interval`): months first (clamping the day to the
/// month's end), then days, then microseconds. Infinite timestamps are returned unchanged.
pub(crate) fn timestamp_add_interval(ts: Timestamp, span: &Interval) -> Result<Timestamp> {
    if ts_is_infinite(ts) {
        return Ok(ts);
    }
    let mut t = ts.0;
    if span.months != 0 {
        let days = t.div_euclid(USECS_PER_DAY);
        let tod = t.rem_euclid(USECS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let total = y * 12 + (m as i64 - 1) + span.months as i64;
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        let nd = d.min(days_in_month(ny, nm));
        t = check_timestamp(Some(days_from_civil(ny, nm, nd) * USECS_PER_DAY + tod))?.0;
    }
    if span.days != 0 {
        t = check_timestamp(t.checked_add(span.days as i64 * USECS_PER_DAY))?.0;
    }
    check_timestamp(t.checked_add(span.micros))
}

/// `timestamp - timestamp` (`timestamp_mi`): microseconds, with whole days justified out.
pub(crate) fn timestamp_diff(a: Timestamp, b: Timestamp) -> Result<Interval> {
    if ts_is_infinite(a) || ts_is_infinite(b) {
        return Err(errinput!(
            DatetimeFieldOverflow,
            "cannot subtract infinite timestamps"
        ));
    }
    let diff = a.0.checked_sub(b.0).ok_or_else(interval_out_of_range)?;
    let mut days = diff / USECS_PER_DAY;
    let mut micros = diff % USECS_PER_DAY;
    if days > 0 && micros < 0 {
        micros += USECS_PER_DAY;
        days -= 1;
    } else if days < 0 && micros > 0 {
        micros -= USECS_PER_DAY;
        days += 1;
    }
    Ok(Interval {
        months: 0,
        days: i32::try_from(days).map_err(|_| timestamp_out_of_range())?,
        micros,
    })
}
