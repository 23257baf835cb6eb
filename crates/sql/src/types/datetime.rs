//! `date`, `time`, `timestamp` and `timestamptz`: calendar arithmetic, input and output.
//!
//! The calendar is the proleptic Gregorian one PostgreSQL uses, with astronomical year numbers
//! inside (year 0 is 1 BC) and Howard Hinnant's days-from-civil algorithms to convert. Ranges
//! are PostgreSQL's: dates from 4714-11-24 BC to 5874897-12-31, timestamps from 4714-11-24 BC
//! to 294276-12-31. `infinity` and `-infinity` are stored as PostgreSQL stores them, as the
//! extreme values of the integer (`i32::MAX`/`MIN` for dates, `i64::MAX`/`MIN` for timestamps),
//! so they sort correctly without special cases.
//!
//! The input parser accepts the forms applications use (ISO 8601 with a space or `T`, US
//! `M/D/Y`, `YYYYMMDD`, month names, `BC`, AM/PM, numeric UTC offsets and `Z`/`UTC`/`GMT`); it is
//! a subset of PostgreSQL's `DecodeDateTime`. The session time zone is UTC: `timestamptz`
//! input is converted to UTC with its offset and printed with `+00`. Named time zones and the
//! clock-dependent words (`now`, `today`, …) are not supported yet: the statement clock belongs
//! to the executor.

use zizhu_types::{Date, Time, Timestamp};

use crate::errinput;
use crate::error::{Error, Result};

/// Microseconds per second, minute, hour, day.
pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
pub(crate) const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
pub(crate) const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;

/// Days from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;
/// First valid date (4714-11-24 BC), days since 2000-01-01.
pub(crate) const DATE_MIN: i64 = -2_451_545;
/// Last valid date (5874897-12-31).
pub(crate) const DATE_MAX: i64 = 2_145_031_948;
/// First valid timestamp (4714-11-24 BC 00:00).
pub(crate) const TS_MIN: i64 = DATE_MIN * USECS_PER_DAY;
/// First timestamp past the range (294277-01-01 00:00).
pub(crate) const TS_END: i64 = 9_223_371_331_200_000_000;

/// Days since 2000-01-01 of a proleptic Gregorian date (astronomical year).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - UNIX_TO_PG_DAYS
}

/// The civil date (astronomical year, month, day) of a day number since 2000-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_TO_PG_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Whether a (astronomical) year is a leap year.
pub(crate) fn is_leap(y: i64) -> bool {
    y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0)
}

/// Days in a month.
pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn push_ymd(out: &mut String, y: i64, m: u32, d: u32) -> bool {
    let bc = y <= 0;
    let year = if bc { 1 - y } else { y };
    out.push_str(&format!("{year:04}-{m:02}-{d:02}"));
    bc
}

/// Appends `HH:MM:SS[.ffffff]` with trailing fractional zeros trimmed.
pub(crate) fn push_hms(out: &mut String, hours: i64, minutes: i64, micros: i64) {
    out.push_str(&format!(
        "{hours:02}:{minutes:02}:{:02}",
        micros / USECS_PER_SEC
    ));
    let frac = micros % USECS_PER_SEC;
    if frac != 0 {
        let f = format!("{frac:06}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
}

/// `date_out`.
pub(crate) fn format_date(d: Date) -> String {
    match d.0 {
        i32::MAX => return "infinity".into(),
        i32::MIN => return "-infinity".into(),
        _ => {}
    }
    let (y, m, day) = civil_from_days(d.0 as i64);
    let mut out = String::new();
    if push_ymd(&mut out, y, m, day) {
        out.push_str(" BC");
    }
    out
}

/// `time_out`.
pub(crate) fn format_time(t: Time) -> String {
    let mut out = String::new();
    let us = t.0;
    push_hms(
        &mut out,
        us / USECS_PER_HOUR,
        us / USECS_PER_MINUTE % 60,
        us % USECS_PER_MINUTE,
    );
    out
}

/// `timestamp_out` / `timestamptz_out` (with `+00`: the session time zone is UTC).
pub(crate) fn format_timestamp(ts: Timestamp, with_tz: bool) -> String {
    match ts.0 {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let days = ts.0.div_euclid(USECS_PER_DAY);
    let tod = ts.0.rem_euclid(USECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let mut out = String::new();
    let bc = push_ymd(&mut out, y, m, d);
    out.push(' ');
    push_hms(
        &mut out,
        tod / USECS_PER_HOUR,
        tod / USECS_PER_MINUTE % 60,
        tod % USECS_PER_MINUTE,
    );
    if with_tz {
        out.push_str("+00");
    }
    if bc {
        out.push_str(" BC");
    }
    out
}

/// What kind of value the date/time parser is reading.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Date,
    Time,
    Timestamp,
    TimestampTz,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::Time => "time",
            Kind::Timestamp => "timestamp",
            Kind::TimestampTz => "timestamp with time zone",
        }
    }
}

/// The fields found in date/time input.
#[derive(Default, Debug)]
struct Fields {
    ymd: Option<(i64, u32, u32)>,
    /// Microseconds since midnight.
    time: Option<i64>,
    /// Seconds east of UTC.
    offset: Option<i64>,
}

/// The result of parsing date/time input.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// `infinity` (true) or `-infinity` (false).
    Infinite(bool),
    /// Days since 2000-01-01 and microseconds of the day, already converted to UTC.
    Value { days: i64, micros: i64 },
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The month number of a month name or abbreviation (`jan`, `january`, `sept`).
fn month_name(s: &str) -> Option<u32> {
    if s.len() < 3 {
        return None;
    }
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .zip(FULL)
        .position(|(abbr, full)| s == *abbr || s == full || (s == "sept" && *abbr == "sep"))
        .map(|i| i as u32 + 1)
}

/// Parses `H:M[:S[.frac]]` into microseconds; `Err(true)` means a field is out of range,
/// `Err(false)` bad syntax.
pub(crate) fn parse_hms(s: &str) -> std::result::Result<i64, bool> {
    let mut parts = s.split(':');
    let h = parts.next().ok_or(false)?;
    let m = parts.next().ok_or(false)?;
    let sec = parts.next();
    if parts.next().is_some() {
        return Err(false);
    }
    let num = |t: &str| -> std::result::Result<i64, bool> {
        if t.is_empty() || t.len() > 10 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(false);
        }
        t.parse().map_err(|_| false)
    };
    let (h, m) = (num(h)?, num(m)?);
    let micros = match sec {
        None => 0,
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let whole = num(whole)?;
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(false);
            }
            if whole > 60 {
                return Err(true);
            }
            whole * USECS_PER_SEC + round_fraction(frac)
        }
    };
    if m > 59 || h > 24 {
        return Err(true);
    }
    let total = h * USECS_PER_HOUR + m * USECS_PER_MINUTE + micros;
    if total > USECS_PER_DAY || (h == 24 && (m > 0 || micros > 0)) {
        return Err(true);
    }
    Ok(total)
}

/// Decimal fraction digits to microseconds, rounding half up at the seventh digit.
pub(crate) fn round_fraction(frac: &str) -> i64 {
    let mut padded: String = frac.chars().take(7).collect();
    while padded.len() < 7 {
        padded.push('0');
    }
    let seven: i64 = padded.parse().unwrap_or(0);
    (seven + 5) / 10
}

/// Parses a numeric UTC offset: `+08`, `+0800`, `+08:00`, `-05:30:15`. Returns seconds east.
fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let fields: Vec<&str> = rest.split(':').collect();
    if fields
        .iter()
        .any(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (h, m, sec): (i64, i64, i64) = match fields.as_slice() {
        [hhmm] if hhmm.len() <= 2 => (hhmm.parse().ok()?, 0, 0),
        [hhmm] if hhmm.len() <= 4 => {
            let n: i64 = hhmm.parse().ok()?;
            (n / 100, n % 100, 0)
        }
        [h, m] => (h.parse().ok()?, m.parse().ok()?, 0),
        [h, m, s] => (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?),
        _ => return None,
    };
    if h > 15 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

/// Parses date/time input text for the given kind.
pub(crate) fn parse_datetime(text: &str, kind: Kind) -> Result<Parsed> {
    let bad = || {
        errinput!(
            InvalidDatetimeFormat,
            "invalid input syntax for type {}: \"{text}\"",
            kind.name()
        )
    };
    let range = || {
        errinput!(
            DatetimeFieldOverflow,
            "date/time field value out of range: \"{text}\""
        )
    };
    let lower = text
        .trim_matches(super::numeric::is_pg_space)
        .to_ascii_lowercase();
    match lower.as_str() {
        "infinity" | "+infinity" if kind != Kind::Time => return Ok(Parsed::Infinite(true)),
        "-infinity" if kind != Kind::Time => return Ok(Parsed::Infinite(false)),
        "epoch" if kind != Kind::Time => {
            return Ok(Parsed::Value {
                days: days_from_civil(1970, 1, 1),
                micros: 0,
            })
        }
        "allballs" if kind == Kind::Time => return Ok(Parsed::Value { days: 0, micros: 0 }),
        "now" | "today" | "tomorrow" | "yesterday" => {
            return Err(errinput!(
                FeatureNotSupported,
                "date/time value \"{lower}\" is not supported yet"
            ))
        }
        _ => {}
    }
    // ISO 8601 'T' between a date and a time.
    let mut s = String::with_capacity(lower.len());
    let bytes = lower.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let between_digits = i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        s.push(if b == b't' && between_digits {
            ' '
        } else {
            b as char
        });
    }
    let mut f = Fields::default();
    let mut bc = false;
    let mut pm: Option<bool> = None;
    let mut month: Option<u32> = None;
    let mut numbers: Vec<&str> = Vec::new();
    for token in s
        .split(|c: char| super::numeric::is_pg_space(c) || c == ',')
        .filter(|t| !t.is_empty())
    {
        match token {
            "bc" => bc = true,
            "ad" => {}
            "am" | "a.m." => pm = Some(false),
            "pm" | "p.m." => pm = Some(true),
            "z" | "utc" | "gmt" | "zulu" | "ut" => f.offset = Some(0),
            // An offset after a time, or after a date alone (JDBC sends dates as
            // `2024-01-31 +00`).
            _ if token.starts_with(['+', '-']) && (f.time.is_some() || f.ymd.is_some()) => {
                f.offset = Some(parse_offset(token).ok_or_else(bad)?);
            }
            _ if token.contains(':') => {
                if f.time.is_some() {
                    return Err(bad());
                }
                // A time may carry its offset: 12:00:00+08, 12:00:00-05:30, 12:00z.
                let (time, offset) = match token.find(['+', '-']) {
                    Some(i) => (
                        &token[..i],
                        Some(parse_offset(&token[i..]).ok_or_else(bad)?),
                    ),
                    None => match token.strip_suffix('z') {
                        Some(t) => (t, Some(0)),
                        None => (token, None),
                    },
                };
                f.time = Some(parse_hms(time).map_err(|r| if r { range() } else { bad() })?);
                if offset.is_some() {
                    f.offset = offset;
                }
            }
            _ if token.contains(['-', '/', '.']) && f.ymd.is_none() && month.is_none() => {
                f.ymd = Some(parse_date_token(token).map_err(|r| if r { range() } else { bad() })?);
            }
            _ if token.bytes().all(|b| b.is_ascii_digit()) => {
                if token.len() == 8 && f.ymd.is_none() && month.is_none() && numbers.is_empty() {
                    let n: i64 = token.parse().map_err(|_| bad())?;
                    f.ymd = Some(
                        check_ymd(n / 10_000, (n / 100 % 100) as u32, (n % 100) as u32)
                            .ok_or_else(range)?,
                    );
                } else {
                    numbers.push(token);
                }
            }
            _ => match month_name(token) {
                Some(m) if month.is_none() && f.ymd.is_none() => month = Some(m),
                _ if token.bytes().all(|b| b.is_ascii_alphabetic()) && f.time.is_some() => {
                    return Err(errinput!(
                        InvalidParameterValue,
                        "time zone \"{token}\" not recognized"
                    ))
                }
                _ => return Err(bad()),
            },
        }
    }
    if let Some(m) = month {
        // "Jan 31 2024", "31 Jan 2024", "January 31, 2024".
        let [a, b] = numbers[..] else {
            return Err(bad());
        };
        let (day, year) = if a.len() > 2 { (b, a) } else { (a, b) };
        let day: u32 = day.parse().map_err(|_| bad())?;
        let year: i64 = year.parse().map_err(|_| bad())?;
        f.ymd = Some(check_ymd(year, m, day).ok_or_else(range)?);
    } else if !numbers.is_empty() {
        return Err(bad());
    }
    if let (Some(is_pm), Some(t)) = (pm, f.time) {
        let hour = t / USECS_PER_HOUR;
        if hour > 12 || hour == 0 {
            return Err(range());
        }
        let t = if is_pm && hour < 12 {
            t + 12 * USECS_PER_HOUR
        } else if !is_pm && hour == 12 {
            t - 12 * USECS_PER_HOUR
        } else {
            t
        };
        f.time = Some(t);
    }
    let mut micros = f.time.unwrap_or(0);
    if kind == Kind::Time {
        if f.time.is_none() {
            return Err(bad());
        }
        return Ok(Parsed::Value { days: 0, micros });
    }
    let Some((mut y, m, d)) = f.ymd else {
        return Err(bad());
    };
    if bc {
        if y <= 0 {
            return Err(bad());
        }
        y = 1 - y;
    } else if y == 0 {
        return Err(range());
    }
    let mut days = days_from_civil(y, m, d);
    if kind == Kind::TimestampTz {
        micros -= f.offset.unwrap_or(0) * USECS_PER_SEC;
    }
    days += micros.div_euclid(USECS_PER_DAY);
    micros = micros.rem_euclid(USECS_PER_DAY);
    Ok(Parsed::Value { days, micros })
}

/// Validates a year/month/day; `None` when a field is out of range.
fn check_ymd(y: i64, m: u32, d: u32) -> Option<(i64, u32, u32)> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d))
}

/// Parses a date with separators: `Y-M-D` (first field longer than two digits), `M/D/Y`
/// (PostgreSQL's default `DateStyle` order), with month names allowed (`2024-jan-31`,
/// `31-jan-2024`).
fn parse_date_token(token: &str) -> std::result::Result<(i64, u32, u32), bool> {
    let parts: Vec<&str> = token.split(['-', '/', '.']).collect();
    let [a, b, c] = parts[..] else {
        return Err(false);
    };
    let num = |t: &str| -> std::result::Result<i64, bool> {
        if t.is_empty() || t.len() > 9 || !t.bytes().all(|x| x.is_ascii_digit()) {
            return Err(false);
        }
        t.parse().map_err(|_| false)
    };
    let (y, m, d) = if let Some(m) = month_name(b) {
        if a.len() > 2 {
            (num(a)?, m as i64, num(c)?)
        } else {
            (num(c)?, m as i64, num(a)?)
        }
    } else if let Some(m) = month_name(a) {
        (num(c)?, m as i64, num(b)?)
    } else if a.len() > 2 {
        (num(a)?, num(b)?, num(c)?)
    } else {
        (num(c)?, num(a)?, num(b)?)
    };
    let (m, d) = (
        u32::try_from(m).map_err(|_| true)?,
        u32::try_from(d).map_err(|_| true)?,
    );
    check_ymd(y, m, d).ok_or(true)
}

/// Parses `date` input.
pub(crate) fn parse_date(text: &str) -> Result<Date> {
    Ok(match parse_datetime(text, Kind::Date)? {
        Parsed::Infinite(true) => Date(i32::MAX),
        Parsed::Infinite(false) => Date(i32::MIN),
        Parsed::Value { days, .. } => {
            if !(DATE_MIN..=DATE_MAX).contains(&days) {
                return Err(errinput!(
                    DatetimeFieldOverflow,
                    "date out of range: \"{text}\""
                ));
            }
            Date(days as i32)
        }
    })
}

/// Parses `time` input.
pub(crate) fn parse_time(text: &str) -> Result<Time> {
    match parse_datetime(text, Kind::Time)? {
        Parsed::Value { micros, .. } => Ok(Time(micros)),
        Parsed::Infinite(_) => Err(errinput!(
            InvalidDatetimeFormat,
            "invalid input syntax for type time: \"{text}\""
        )),
    }
}

/// Parses `timestamp` or `timestamptz` input.
pub(crate) fn parse_timestamp(text: &str, with_tz: bool) -> Result<Timestamp> {
    let kind = if with_tz {
        Kind::TimestampTz
    } else {
        Kind::Timestamp
    };
    Ok(match parse_datetime(text, kind)? {
        Parsed::Infinite(true) => Timestamp(i64::MAX),
        Parsed::Infinite(false) => Timestamp(i64::MIN),
        Parsed::Value { days, micros } => {
            let out_of_range =
                || errinput!(DatetimeFieldOverflow, "timestamp out of range: \"{text}\"");
            let ts = days
                .checked_mul(USECS_PER_DAY)
                .and_then(|t| t.checked_add(micros))
                .ok_or_else(out_of_range)?;
            if !(TS_MIN..TS_END).contains(&ts) {
                return Err(out_of_range());
            }
            Timestamp(ts)
        }
    })
}

/// Checks a computed timestamp against the valid range.
pub(crate) fn check_timestamp(ts: Option<i64>) -> Result<Timestamp> {
    match ts {
        Some(t) if (TS_MIN..TS_END).contains(&t) => Ok(Timestamp(t)),
        _ => Err(timestamp_out_of_range()),
    }
}

/// `timestamp out of range`.
pub(crate) fn timestamp_out_of_range() -> Error {
    errinput!(DatetimeFieldOverflow, "timestamp out of range")
}

/// Checks a computed date against the valid range.
pub(crate) fn check_date(days: Option<i64>) -> Result<Date> {
    match days {
        Some(d) if (DATE_MIN..=DATE_MAX).contains(&d) => Ok(Date(d as i32)),
        _ => Err(errinput!(DatetimeFieldOverflow, "date out of range")),
    }
}

/// Whether a date is `±infinity`.
pub(crate) fn date_is_infinite(d: Date) -> bool {
    d.0 == i32::MAX || d.0 == i32::MIN
}

/// Whether a timestamp is `±infinity`.
pub(crate) fn ts_is_infinite(t: Timestamp) -> bool {
    t.0 == i64::MAX || t.0 == i64::MIN
}

/// A date as the timestamp of its midnight (`date_timestamp`).
pub(crate) fn date_to_timestamp(d: Date) -> Result<Timestamp> {
    match d.0 {
        i32::MAX => Ok(Timestamp(i64::MAX)),
        i32::MIN => Ok(Timestamp(i64::MIN)),
        days => check_timestamp(Some(days as i64 * USECS_PER_DAY)),
    }
}

/// The date of a timestamp (`timestamp_date`).
pub(crate) fn timestamp_to_date(t: Timestamp) -> Date {
    match t.0 {
        i64::MAX => Date(i32::MAX),
        i64::MIN => Date(i32::MIN),
        us => Date(us.div_euclid(USECS_PER_DAY) as i32),
    }
}

/// The time of day of a timestamp.
pub(crate) fn timestamp_to_time(t: Timestamp) -> Time {
    Time(t.0.rem_euclid(USECS_PER_DAY))
}
