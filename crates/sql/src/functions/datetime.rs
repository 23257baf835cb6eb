//! Date/time functions: the clock, `date_part`/`extract`, `date_trunc`, `age`, `make_date`, and
//! `to_char` for date/time and numbers.
//!
//! Fields are computed as PostgreSQL's `timestamp2tm` does: astronomical years inside (year 0 is
//! 1 BC), C's truncating division for decades, centuries and millennia. The session time zone is
//! UTC, so `timestamptz` behaves as `timestamp` (with zone `UTC`).

use bigdecimal::num_bigint::BigInt;
use zizhu_types::{BigDecimal, Date, Interval, Numeric, Timestamp, Value};

use super::{int_arg, text_arg};
use crate::errinput;
use crate::error::Result;
use crate::types::{ops, DataType};

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;
/// Days from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;
/// The Julian day number of 2000-01-01.
const PG_EPOCH_JDATE: i64 = 2_451_545;
/// First valid timestamp (4714-11-24 BC) and first past the range (294277-01-01).
const TS_MIN: i64 = -2_451_545 * USECS_PER_DAY;
const TS_END: i64 = 9_223_371_331_200_000_000;
/// Valid date range, days since 2000-01-01.
const DATE_MIN: i64 = -2_451_545;
const DATE_MAX: i64 = 2_145_031_948;

/// Calls a date/time function; `None` if `name` is not one.
pub(super) fn call(name: &str, args: &[Value]) -> Result<Option<Value>> {
    Ok(Some(match name {
        "now"
        | "current_timestamp"
        | "transaction_timestamp"
        | "statement_timestamp"
        | "clock_timestamp" => Value::TimestampTz(Timestamp(now_micros())),
        "current_date" => Value::Date(Date(now_micros().div_euclid(USECS_PER_DAY) as i32)),
        "date_part" => part(&text_arg(&args[0])?, &args[1], false)?,
        "extract" => part(&text_arg(&args[0])?, &args[1], true)?,
        "date_trunc" => date_trunc(&text_arg(&args[0])?, &args[1])?,
        "age" => {
            let (a, b) = if args.len() == 2 {
                (
                    timestamp_of(&args[0], "age")?,
                    timestamp_of(&args[1], "age")?,
                )
            } else {
                let today = now_micros().div_euclid(USECS_PER_DAY) * USECS_PER_DAY;
                (today, timestamp_of(&args[0], "age")?)
            };
            Value::Interval(age(a, b)?)
        }
        "make_date" => make_date(int_arg(&args[0])?, int_arg(&args[1])?, int_arg(&args[2])?)?,
        "to_char" => to_char(&args[0], &text_arg(&args[1])?)?,
        _ => return Ok(None),
    }))
}

/// The system clock as microseconds since 2000-01-01 UTC.
/// The system clock as PostgreSQL timestamp microseconds (since 2000-01-01 UTC).
pub fn now_micros() -> i64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    unix - UNIX_TO_PG_DAYS * USECS_PER_DAY
}

// ---- calendar ----

/// Days since 2000-01-01 of a proleptic Gregorian date (astronomical year).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 - UNIX_TO_PG_DAYS
}

/// The civil date (astronomical year, month, day) of a day number since 2000-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_TO_PG_DAYS + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn is_leap(y: i64) -> bool {
    y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0)
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A timestamp broken into fields (`struct pg_tm` plus the microseconds).
struct Tm {
    days: i64,
    year: i64,
    mon: u32,
    mday: u32,
    hour: i64,
    min: i64,
    sec: i64,
    fsec: i64,
}

impl Tm {
    fn of(ts: i64) -> Tm {
        let days = ts.div_euclid(USECS_PER_DAY);
        let tod = ts.rem_euclid(USECS_PER_DAY);
        let (year, mon, mday) = civil_from_days(days);
        Tm {
            days,
            year,
            mon,
            mday,
            hour: tod / USECS_PER_HOUR,
            min: tod / USECS_PER_MINUTE % 60,
            sec: tod / USECS_PER_SEC % 60,
            fsec: tod % USECS_PER_SEC,
        }
    }

    /// Day of the week, 0 = Sunday (2000-01-01 was a Saturday).
    fn dow(&self) -> i64 {
        (self.days + 6).rem_euclid(7)
    }

    fn doy(&self) -> i64 {
        self.days - days_from_civil(self.year, 1, 1) + 1
    }

    /// ISO 8601 week number and week-numbering year.
    fn iso_week(&self) -> (i64, i64) {
        let iso_dow = (self.dow() + 6) % 7; // Monday = 0
        let thursday = self.days - iso_dow + 3;
        let (year, _, _) = civil_from_days(thursday);
        ((thursday - days_from_civil(year, 1, 1)) / 7 + 1, year)
    }

    fn julian(&self) -> i64 {
        self.days + PG_EPOCH_JDATE
    }

    /// Microseconds since midnight.
    fn time(&self) -> i64 {
        ((self.hour * 60 + self.min) * 60 + self.sec) * USECS_PER_SEC + self.fsec
    }
}

/// The timestamp a date/timestamp argument denotes (dates at midnight).
fn timestamp_of(v: &Value, func: &str) -> Result<i64> {
    match v {
        Value::Timestamp(t) | Value::TimestampTz(t) => Ok(t.0),
        Value::Date(d) => Ok(match d.0 {
            i32::MAX => i64::MAX,
            i32::MIN => i64::MIN,
            days => days as i64 * USECS_PER_DAY,
        }),
        other => Err(errinput!(
            UndefinedFunction,
            "function {func}({}) does not exist",
            DataType::of(other)
        )),
    }
}

fn is_infinite(ts: i64) -> bool {
    ts == i64::MAX || ts == i64::MIN
}

// ---- date_part / extract ----

/// The units `date_part`, `extract` and `date_trunc` know.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unit {
    Microseconds,
    Milliseconds,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Julian,
    IsoYear,
    Dow,
    IsoDow,
    Doy,
    Epoch,
    Timezone,
    TimezoneHour,
    TimezoneMinute,
}

/// PostgreSQL's `DecodeUnits`/`DecodeSpecial` for the unit names (already lower-cased).
fn unit(name: &str) -> Option<Unit> {
    use Unit::*;
    Some(match name {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" | "microsecon" => {
            Microseconds
        }
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" | "millisecon" => {
            Milliseconds
        }
        "second" | "seconds" | "s" | "sec" | "secs" => Second,
        "minute" | "minutes" | "m" | "min" | "mins" => Minute,
        "hour" | "hours" | "h" | "hr" | "hrs" => Hour,
        "day" | "days" | "d" => Day,
        "week" | "weeks" | "w" => Week,
        "month" | "months" | "mon" | "mons" => Month,
        "quarter" | "qtr" => Quarter,
        "year" | "years" | "y" | "yr" | "yrs" => Year,
        "decade" | "decades" | "dec" | "decs" => Decade,
        "century" | "centuries" | "c" | "cent" => Century,
        "millennium" | "millennia" | "mil" | "mils" => Millennium,
        "julian" | "j" => Julian,
        "isoyear" => IsoYear,
        "dow" => Dow,
        "isodow" => IsoDow,
        "doy" => Doy,
        "epoch" => Epoch,
        "timezone" => Timezone,
        "timezone_h" | "timezone_hour" => TimezoneHour,
        "timezone_m" | "timezone_minute" => TimezoneMinute,
        _ => return None,
    })
}

fn not_recognized(name: &str, ty: &str) -> crate::Error {
    errinput!(
        InvalidParameterValue,
        "unit \"{name}\" not recognized for type {ty}"
    )
}

fn not_supported(name: &str, ty: &str) -> crate::Error {
    errinput!(
        FeatureNotSupported,
        "unit \"{name}\" not supported for type {ty}"
    )
}

/// A part's value before it is typed: an integer, or microseconds to show at a scale.
enum Part {
    Int(i64),
    /// `value / 10^scale` exactly (numeric), with the float PostgreSQL computes for `date_part`.
    Scaled(i128, i64, f64),
    Float(f64),
    Infinite(bool),
    Null,
}

impl Part {
    fn into_value(self, numeric: bool) -> Value {
        match (self, numeric) {
            (Part::Null, _) => Value::Null,
            (Part::Int(i), false) => Value::Float64(i as f64),
            (Part::Int(i), true) => Value::Numeric(Numeric::finite(i.into())),
            (Part::Scaled(_, _, f), false) | (Part::Float(f), false) => Value::Float64(f),
            (Part::Scaled(v, s, _), true) => {
                Value::Numeric(Numeric::finite(BigDecimal::new(BigInt::from(v), s)))
            }
            (Part::Float(f), true) => Value::Float64(f),
            (Part::Infinite(positive), false) => Value::Float64(if positive {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            }),
            (Part::Infinite(positive), true) => Value::Numeric(if positive {
                Numeric::Infinity
            } else {
                Numeric::NegInfinity
            }),
        }
    }
}

/// `date_part` (double precision) and `extract` (numeric).
fn part(field: &str, v: &Value, numeric: bool) -> Result<Value> {
    let name = field.to_lowercase();
    match v {
        Value::Timestamp(t) => timestamp_part(&name, t.0, false, numeric),
        Value::TimestampTz(t) => timestamp_part(&name, t.0, true, numeric),
        // date_part(text, date) is date_part($1, $2::timestamp); extract has its own.
        Value::Date(_) if !numeric => timestamp_part(&name, timestamp_of(v, "")?, false, false),
        Value::Date(d) => date_extract(&name, *d),
        Value::Interval(i) => interval_part(&name, i, numeric),
        other => Err(errinput!(
            UndefinedFunction,
            "function {}(unknown, {}) does not exist",
            if numeric { "extract" } else { "date_part" },
            DataType::of(other)
        )),
    }
}

fn year_part(u: Unit, year: i64) -> i64 {
    match u {
        Unit::Year if year > 0 => year,
        Unit::Year => year - 1,
        Unit::Decade if year >= 0 => year / 10,
        Unit::Decade => -((8 - (year - 1)) / 10),
        Unit::Century if year > 0 => (year + 99) / 100,
        Unit::Century => -((99 - (year - 1)) / 100),
        Unit::Millennium if year > 0 => (year + 999) / 1000,
        _ => -((999 - (year - 1)) / 1000),
    }
}

fn timestamp_part(name: &str, ts: i64, tz: bool, numeric: bool) -> Result<Value> {
    let ty = if tz {
        "timestamp with time zone"
    } else {
        "timestamp without time zone"
    };
    let u = unit(name).ok_or_else(|| not_recognized(name, ty))?;
    use Unit::*;
    if matches!(u, Timezone | TimezoneHour | TimezoneMinute) && !tz {
        return Err(not_supported(name, ty));
    }
    if is_infinite(ts) {
        return Ok(match u {
            Year | Decade | Century | Millennium | Julian | IsoYear | Epoch => {
                Part::Infinite(ts > 0)
            }
            _ => Part::Null,
        }
        .into_value(numeric));
    }
    let tm = Tm::of(ts);
    let sec_us = (tm.sec * USECS_PER_SEC + tm.fsec) as i128;
    let part = match u {
        Microseconds => Part::Int(sec_us as i64),
        Milliseconds => Part::Scaled(sec_us, 3, tm.sec as f64 * 1000.0 + tm.fsec as f64 / 1000.0),
        Second => Part::Scaled(sec_us, 6, tm.sec as f64 + tm.fsec as f64 / 1_000_000.0),
        Minute => Part::Int(tm.min),
        Hour => Part::Int(tm.hour),
        Day => Part::Int(tm.mday as i64),
        Month => Part::Int(tm.mon as i64),
        Quarter => Part::Int((tm.mon as i64 - 1) / 3 + 1),
        Week => Part::Int(tm.iso_week().0),
        Year | Decade | Century | Millennium => Part::Int(year_part(u, tm.year)),
        Julian => {
            if numeric {
                let day = Value::Numeric(Numeric::finite(tm.julian().into()));
                let frac = ops::div(
                    &Value::Numeric(Numeric::finite(tm.time().into())),
                    &Value::Numeric(Numeric::finite(USECS_PER_DAY.into())),
                )?;
                return ops::add(&day, &frac);
            }
            Part::Float(
                tm.julian() as f64
                    + (((tm.hour * 60 + tm.min) * 60 + tm.sec) as f64
                        + tm.fsec as f64 / 1_000_000.0)
                        / 86_400.0,
            )
        }
        IsoYear => {
            let y = tm.iso_week().1;
            Part::Int(if y <= 0 { y - 1 } else { y })
        }
        Dow => Part::Int(tm.dow()),
        IsoDow => Part::Int(if tm.dow() == 0 { 7 } else { tm.dow() }),
        Doy => Part::Int(tm.doy()),
        Epoch => {
            let us = ts as i128 + (UNIX_TO_PG_DAYS * USECS_PER_DAY) as i128;
            Part::Scaled(us, 6, us as f64 / 1_000_000.0)
        }
        Timezone | TimezoneHour | TimezoneMinute => Part::Int(0),
    };
    Ok(part.into_value(numeric))
}

/// `extract(field FROM date)` (PostgreSQL's `extract_date`).
fn date_extract(name: &str, d: Date) -> Result<Value> {
    use Unit::*;
    let u = unit(name).ok_or_else(|| not_recognized(name, "date"))?;
    let infinite = d.0 == i32::MAX || d.0 == i32::MIN;
    let part = match u {
        Day | Month | Quarter | Week | Dow | IsoDow | Doy if infinite => Part::Null,
        Year | Decade | Century | Millennium | Julian | IsoYear | Epoch if infinite => {
            Part::Infinite(d.0 > 0)
        }
        Epoch => Part::Int((d.0 as i64 + UNIX_TO_PG_DAYS) * 86_400),
        Day | Month | Quarter | Week | Dow | IsoDow | Doy | Year | Decade | Century
        | Millennium | Julian | IsoYear => {
            return timestamp_part(name, d.0 as i64 * USECS_PER_DAY, false, true)
        }
        _ => return Err(not_supported(name, "date")),
    };
    Ok(part.into_value(true))
}

/// `date_part`/`extract` on an interval (`interval_part_common`).
fn interval_part(name: &str, iv: &Interval, numeric: bool) -> Result<Value> {
    use Unit::*;
    let u = unit(name).ok_or_else(|| not_recognized(name, "interval"))?;
    let year = (iv.months / 12) as i64;
    let mon = (iv.months % 12) as i64;
    let hour = iv.micros / USECS_PER_HOUR;
    let min = iv.micros % USECS_PER_HOUR / USECS_PER_MINUTE;
    let sec_us = (iv.micros % USECS_PER_MINUTE) as i128;
    let sec = iv.micros % USECS_PER_MINUTE / USECS_PER_SEC;
    let fsec = iv.micros % USECS_PER_SEC;
    let part = match u {
        Microseconds => Part::Int(sec_us as i64),
        Milliseconds => Part::Scaled(sec_us, 3, sec as f64 * 1000.0 + fsec as f64 / 1000.0),
        Second => Part::Scaled(sec_us, 6, sec as f64 + fsec as f64 / 1_000_000.0),
        Minute => Part::Int(min),
        Hour => Part::Int(hour),
        Day => Part::Int(iv.days as i64),
        Month => Part::Int(mon),
        Quarter => Part::Int(mon / 3 + 1),
        Year => Part::Int(year),
        Decade => Part::Int(year / 10),
        Century => Part::Int(year / 100),
        Millennium => Part::Int(year / 1000),
        Epoch => {
            let months = iv.months as i128;
            let secs =
                (1461 * (months / 12) + 120 * (months % 12) + 4 * iv.days as i128) * (86_400 / 4);
            let float = iv.micros as f64 / 1_000_000.0
                + (365.25 * 86_400.0) * (iv.months / 12) as f64
                + (30.0 * 86_400.0) * (iv.months % 12) as f64
                + 86_400.0 * iv.days as f64;
            Part::Scaled(secs * 1_000_000 + iv.micros as i128, 6, float)
        }
        _ => return Err(not_supported(name, "interval")),
    };
    Ok(part.into_value(numeric))
}

// ---- date_trunc ----

fn date_trunc(field: &str, v: &Value) -> Result<Value> {
    let name = field.to_lowercase();
    let (ts, tz) = match v {
        Value::Timestamp(t) => (t.0, false),
        Value::TimestampTz(t) => (t.0, true),
        Value::Date(_) => (timestamp_of(v, "date_trunc")?, true),
        Value::Interval(_) => {
            return Err(errinput!(
                FeatureNotSupported,
                "date_trunc on interval is not supported yet"
            ))
        }
        other => {
            return Err(errinput!(
                UndefinedFunction,
                "function date_trunc(unknown, {}) does not exist",
                DataType::of(other)
            ))
        }
    };
    let ty = if tz {
        "timestamp with time zone"
    } else {
        "timestamp without time zone"
    };
    let wrap = |t: i64| {
        if tz {
            Value::TimestampTz(Timestamp(t))
        } else {
            Value::Timestamp(Timestamp(t))
        }
    };
    use Unit::*;
    let u = unit(&name).ok_or_else(|| not_recognized(&name, ty))?;
    if is_infinite(ts) {
        return Ok(wrap(ts));
    }
    let tm = Tm::of(ts);
    let time = tm.time();
    let day_start = |days: i64| days * USECS_PER_DAY;
    let year_start = |year: i64| day_start(days_from_civil(year, 1, 1));
    let truncated = match u {
        Microseconds => ts,
        Milliseconds => day_start(tm.days) + time - time % 1000,
        Second => day_start(tm.days) + time - time % USECS_PER_SEC,
        Minute => day_start(tm.days) + time - time % USECS_PER_MINUTE,
        Hour => day_start(tm.days) + time - time % USECS_PER_HOUR,
        Day => day_start(tm.days),
        Week => day_start(tm.days - (tm.dow() + 6) % 7),
        Month => day_start(days_from_civil(tm.year, tm.mon, 1)),
        Quarter => day_start(days_from_civil(tm.year, (tm.mon - 1) / 3 * 3 + 1, 1)),
        Year => year_start(tm.year),
        Decade if tm.year > 0 => year_start(tm.year / 10 * 10),
        Decade => year_start(-((8 - (tm.year - 1)) / 10) * 10),
        Century if tm.year > 0 => year_start((tm.year + 99) / 100 * 100 - 99),
        Century => year_start(-((99 - (tm.year - 1)) / 100) * 100 + 1),
        Millennium if tm.year > 0 => year_start((tm.year + 999) / 1000 * 1000 - 999),
        Millennium => year_start(-((999 - (tm.year - 1)) / 1000) * 1000 + 1),
        _ => return Err(not_supported(&name, ty)),
    };
    if !(TS_MIN..TS_END).contains(&truncated) {
        return Err(errinput!(DatetimeFieldOverflow, "timestamp out of range"));
    }
    Ok(wrap(truncated))
}

// ---- age, make_date ----

/// `age(a, b)`: the symbolic difference in years, months, days and time (`timestamp_age`).
fn age(dt1: i64, dt2: i64) -> Result<Interval> {
    if is_infinite(dt1) || is_infinite(dt2) {
        return Err(errinput!(DatetimeFieldOverflow, "timestamp out of range"));
    }
    let (tm1, tm2) = (Tm::of(dt1), Tm::of(dt2));
    let mut fsec = tm1.fsec - tm2.fsec;
    let mut sec = tm1.sec - tm2.sec;
    let mut min = tm1.min - tm2.min;
    let mut hour = tm1.hour - tm2.hour;
    let mut mday = tm1.mday as i64 - tm2.mday as i64;
    let mut mon = tm1.mon as i64 - tm2.mon as i64;
    let mut year = tm1.year - tm2.year;
    let flip = dt1 < dt2;
    let negate_all = |f: &mut [&mut i64]| f.iter_mut().for_each(|x| **x = -**x);
    if flip {
        negate_all(&mut [
            &mut fsec, &mut sec, &mut min, &mut hour, &mut mday, &mut mon, &mut year,
        ]);
    }
    while fsec < 0 {
        fsec += USECS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        mday -= 1;
    }
    while mday < 0 {
        let tm = if flip { &tm1 } else { &tm2 };
        mday += days_in_month(tm.year, tm.mon);
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    if flip {
        negate_all(&mut [
            &mut fsec, &mut sec, &mut min, &mut hour, &mut mday, &mut mon, &mut year,
        ]);
    }
    let out_of_range = || errinput!(DatetimeFieldOverflow, "interval out of range");
    Ok(Interval {
        months: i32::try_from(year * 12 + mon).map_err(|_| out_of_range())?,
        days: i32::try_from(mday).map_err(|_| out_of_range())?,
        micros: ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + fsec,
    })
}

/// `make_date(year, month, day)`: negative years are BC.
fn make_date(year: i64, mon: i64, mday: i64) -> Result<Value> {
    let bad = || {
        errinput!(
            DatetimeFieldOverflow,
            "date field value out of range: {year}-{mon:02}-{mday:02}"
        )
    };
    let astronomical = if year < 0 { year + 1 } else { year };
    if year == 0 || !(1..=12).contains(&mon) || mday < 1 {
        return Err(bad());
    }
    if mday > days_in_month(astronomical, mon as u32) {
        return Err(bad());
    }
    let days = days_from_civil(astronomical, mon as u32, mday as u32);
    if !(DATE_MIN..=DATE_MAX).contains(&days) {
        return Err(errinput!(
            DatetimeFieldOverflow,
            "date out of range: {year}-{mon:02}-{mday:02}"
        ));
    }
    Ok(Value::Date(Date(days as i32)))
}

// ---- to_char ----

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The date/time template patterns, longest first where one is a prefix of another.
const PATTERNS: &[&str] = &[
    "A.D.", "A.M.", "B.C.", "P.M.", "a.d.", "a.m.", "b.c.", "p.m.", "HH24", "HH12", "IYYY", "YYYY",
    "hh24", "hh12", "iyyy", "yyyy", "MONTH", "Month", "month", "SSSSS", "sssss", "SSSS", "ssss",
    "DAY", "Day", "day", "DDD", "ddd", "MON", "Mon", "mon", "YYY", "yyy", "AD", "AM", "BC", "PM",
    "ad", "am", "bc", "pm", "CC", "cc", "DD", "dd", "DY", "Dy", "dy", "HH", "hh", "ID", "id", "IW",
    "iw", "MI", "mi", "MM", "mm", "MS", "ms", "SS", "ss", "TZ", "tz", "US", "us", "WW", "ww", "YY",
    "yy", "D", "d", "J", "j", "Q", "q", "W", "w", "Y", "y",
];

/// `to_char(value, format)`: date/time values with a date/time template, numbers with a
/// number template.
fn to_char(v: &Value, fmt: &str) -> Result<Value> {
    let (ts, tz) = match v {
        Value::Timestamp(t) => (t.0, false),
        Value::TimestampTz(t) => (t.0, true),
        Value::Date(_) => (timestamp_of(v, "to_char")?, false),
        Value::Int16(_)
        | Value::Int32(_)
        | Value::Int64(_)
        | Value::Numeric(_)
        | Value::Float32(_)
        | Value::Float64(_) => return number_to_char(v, fmt),
        other => {
            return Err(errinput!(
                FeatureNotSupported,
                "to_char({}, text) is not supported",
                DataType::of(other)
            ))
        }
    };
    if fmt.is_empty() || is_infinite(ts) {
        return Ok(Value::Null);
    }
    let tm = Tm::of(ts);
    let mut out = String::new();
    let mut rest = fmt;
    let mut fill = false;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("FM") || rest.starts_with("fm") {
            fill = true;
            rest = &rest[2..];
            continue;
        }
        if c == '"' {
            // Quoted literal text; a backslash escapes the next character.
            let mut chars = rest[1..].char_indices();
            let mut end = rest.len();
            while let Some((i, ch)) = chars.next() {
                match ch {
                    '"' => {
                        end = i + 2;
                        break;
                    }
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            out.push(next);
                        }
                    }
                    _ => out.push(ch),
                }
            }
            rest = &rest[end.min(rest.len())..];
            fill = false;
            continue;
        }
        if rest.starts_with("\\\"") {
            out.push('"');
            rest = &rest[2..];
            continue;
        }
        let Some(pattern) = PATTERNS.iter().find(|p| rest.starts_with(**p)) else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        rest = &rest[pattern.len()..];
        let ordinal = if rest.starts_with("TH") || rest.starts_with("th") {
            let upper = rest.starts_with("TH");
            rest = &rest[2..];
            Some(upper)
        } else {
            None
        };
        let field = format_field(pattern, &tm, tz, fill);
        if let (Some(upper), Ok(n)) = (ordinal, field.trim().parse::<i64>()) {
            out.push_str(&field);
            let suffix = match (n % 100, n % 10) {
                (11..=13, _) => "th",
                (_, 1) => "st",
                (_, 2) => "nd",
                (_, 3) => "rd",
                _ => "th",
            };
            out.push_str(&if upper {
                suffix.to_uppercase()
            } else {
                suffix.to_string()
            });
        } else {
            out.push_str(&field);
        }
        fill = false;
    }
    Ok(Value::Text(out))
}

/// One template pattern's text.
fn format_field(pattern: &str, tm: &Tm, tz: bool, fill: bool) -> String {
    let num = |n: i64, width: usize| {
        if fill {
            n.to_string()
        } else {
            format!("{n:0width$}")
        }
    };
    let name = |full: &str, upper: &str, short: bool| {
        let text = if short { &full[..3] } else { full };
        let text = match upper {
            "upper" => text.to_uppercase(),
            "lower" => text.to_lowercase(),
            _ => text.to_string(),
        };
        if fill || short {
            text
        } else {
            format!("{text:<9}")
        }
    };
    let year = if tm.year <= 0 { 1 - tm.year } else { tm.year };
    let hour12 = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
    let pm = tm.hour >= 12;
    let bc = tm.year <= 0;
    let month = MONTHS[tm.mon as usize - 1];
    let day = DAYS[tm.dow() as usize];
    match pattern {
        "YYYY" | "yyyy" => num(year, 4),
        "YYY" | "yyy" => num(year % 1000, 3),
        "YY" | "yy" => num(year % 100, 2),
        "Y" | "y" => num(year % 10, 1),
        "IYYY" | "iyyy" => {
            let y = tm.iso_week().1;
            num(if y <= 0 { 1 - y } else { y }, 4)
        }
        "CC" | "cc" => num(
            if tm.year > 0 {
                (tm.year - 1) / 100 + 1
            } else {
                tm.year / 100 - 1
            },
            2,
        ),
        "MM" | "mm" => num(tm.mon as i64, 2),
        "DD" | "dd" => num(tm.mday as i64, 2),
        "DDD" | "ddd" => num(tm.doy(), 3),
        "D" | "d" => num(tm.dow() + 1, 1),
        "ID" | "id" => num(if tm.dow() == 0 { 7 } else { tm.dow() }, 1),
        "IW" | "iw" => num(tm.iso_week().0, 2),
        "WW" | "ww" => num((tm.doy() - 1) / 7 + 1, 2),
        "W" | "w" => num((tm.mday as i64 - 1) / 7 + 1, 1),
        "Q" | "q" => num((tm.mon as i64 - 1) / 3 + 1, 1),
        "J" | "j" => num(tm.julian(), 1),
        "HH24" | "hh24" => num(tm.hour, 2),
        "HH12" | "hh12" | "HH" | "hh" => num(hour12, 2),
        "MI" | "mi" => num(tm.min, 2),
        "SS" | "ss" => num(tm.sec, 2),
        "MS" | "ms" => num(tm.fsec / 1000, 3),
        "US" | "us" => num(tm.fsec, 6),
        "SSSS" | "ssss" | "SSSSS" | "sssss" => (tm.time() / USECS_PER_SEC).to_string(),
        "AM" | "PM" => if pm { "PM" } else { "AM" }.into(),
        "am" | "pm" => if pm { "pm" } else { "am" }.into(),
        "A.M." | "P.M." => if pm { "P.M." } else { "A.M." }.into(),
        "a.m." | "p.m." => if pm { "p.m." } else { "a.m." }.into(),
        "BC" | "AD" => if bc { "BC" } else { "AD" }.into(),
        "bc" | "ad" => if bc { "bc" } else { "ad" }.into(),
        "B.C." | "A.D." => if bc { "B.C." } else { "A.D." }.into(),
        "b.c." | "a.d." => if bc { "b.c." } else { "a.d." }.into(),
        "MONTH" => name(month, "upper", false),
        "Month" => name(month, "", false),
        "month" => name(month, "lower", false),
        "MON" => name(month, "upper", true),
        "Mon" => name(month, "", true),
        "mon" => name(month, "lower", true),
        "DAY" => name(day, "upper", false),
        "Day" => name(day, "", false),
        "day" => name(day, "lower", false),
        "DY" => name(day, "upper", true),
        "Dy" => name(day, "", true),
        "dy" => name(day, "lower", true),
        "TZ" if tz => "UTC".into(),
        "tz" if tz => "utc".into(),
        _ => String::new(),
    }
}

/// One element of a number template.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NumTok {
    Nine,
    Zero,
    Point,
    Group,
    Lit(char),
}

/// `to_char(number, format)` for the digit patterns `9` and `0`, the decimal point (`.`/`D`),
/// group separators (`,`/`G`), the `FM` prefix and literal characters.
fn number_to_char(v: &Value, fmt: &str) -> Result<Value> {
    let mut fill = false;
    let mut toks = Vec::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("FM") || rest.starts_with("fm") {
            fill = true;
            rest = &rest[2..];
            continue;
        }
        let tok = match c {
            '9' => NumTok::Nine,
            '0' => NumTok::Zero,
            '.' | 'D' | 'd' if !toks.contains(&NumTok::Point) => NumTok::Point,
            ',' | 'G' | 'g' => NumTok::Group,
            c if c.is_ascii_alphabetic() => {
                return Err(errinput!(
                    FeatureNotSupported,
                    "number format pattern \"{}\" is not supported yet",
                    rest
                ))
            }
            c => NumTok::Lit(c),
        };
        toks.push(tok);
        rest = &rest[c.len_utf8()..];
    }
    let point = toks.iter().position(|t| *t == NumTok::Point);
    let is_digit = |t: &NumTok| matches!(t, NumTok::Nine | NumTok::Zero);
    let int_pos = toks[..point.unwrap_or(toks.len())]
        .iter()
        .filter(|t| is_digit(t))
        .count();
    let frac_pos = point.map_or(0, |p| toks[p..].iter().filter(|t| is_digit(t)).count());
    // The digits of |value| rounded to frac_pos places.
    let (negative, int_digits, frac_digits) = number_digits(v, frac_pos)?;
    let int_digits = if int_digits == "0" && frac_pos > 0 {
        String::new()
    } else {
        int_digits
    };
    let overflow = int_digits.len() > int_pos;
    let zero_start = toks
        .iter()
        .take(point.unwrap_or(toks.len()))
        .filter(|t| is_digit(t))
        .position(|t| *t == NumTok::Zero)
        .unwrap_or(int_pos);
    let first_digit = int_pos - int_digits.len().min(int_pos);
    let lead = first_digit.min(zero_start);
    // Trailing fraction digits FM may drop: zeros in `9` positions at the end.
    let frac_toks: Vec<NumTok> = point.map_or_else(Vec::new, |p| {
        toks[p..].iter().filter(|t| is_digit(t)).copied().collect()
    });
    let frac_chars: Vec<char> = frac_digits.chars().collect();
    let mut frac_keep = frac_pos;
    if fill {
        while frac_keep > 0
            && frac_toks[frac_keep - 1] == NumTok::Nine
            && frac_chars[frac_keep - 1] == '0'
        {
            frac_keep -= 1;
        }
    }
    let int_chars: Vec<char> = int_digits.chars().collect();
    let mut out = String::new();
    let sign = if negative {
        "-"
    } else if fill {
        ""
    } else {
        " "
    };
    let mut sign_done = false;
    let (mut int_i, mut frac_i) = (0usize, 0usize);
    let mut after_point = false;
    let put_sign = |out: &mut String, done: &mut bool| {
        if !*done {
            out.push_str(sign);
            *done = true;
        }
    };
    for tok in &toks {
        match tok {
            NumTok::Nine | NumTok::Zero if !after_point => {
                let pos = int_i;
                int_i += 1;
                if overflow {
                    put_sign(&mut out, &mut sign_done);
                    out.push('#');
                } else if pos < lead {
                    if !fill {
                        out.push(' ');
                    }
                } else {
                    put_sign(&mut out, &mut sign_done);
                    out.push(if pos >= first_digit {
                        int_chars[pos - first_digit]
                    } else {
                        '0'
                    });
                }
            }
            NumTok::Nine | NumTok::Zero => {
                let pos = frac_i;
                frac_i += 1;
                if overflow {
                    out.push('#');
                } else if pos < frac_keep {
                    out.push(frac_chars[pos]);
                }
            }
            NumTok::Point => {
                after_point = true;
                if frac_pos == 0 {
                    continue;
                }
                if fill && !sign_done && frac_keep == 0 {
                    // FM with nothing else to print shows the zero: to_char(0, 'FM9.99') = '0.'.
                    put_sign(&mut out, &mut sign_done);
                    out.push('0');
                }
                put_sign(&mut out, &mut sign_done);
                out.push('.');
            }
            NumTok::Group => {
                if !after_point && int_i <= lead && !overflow {
                    if !fill {
                        out.push(' ');
                    }
                } else {
                    out.push(',');
                }
            }
            NumTok::Lit(c) => out.push(*c),
        }
    }
    put_sign(&mut out, &mut sign_done);
    Ok(Value::Text(out))
}

/// The sign and the integer and fraction digits of a number rounded to `places` decimals (half
/// away from zero for exact numbers, as `printf` rounds for floats).
fn number_digits(v: &Value, places: usize) -> Result<(bool, String, String)> {
    let text = match v {
        Value::Float32(_) | Value::Float64(_) => {
            let x = super::float_arg(v)?;
            format!("{:.*}", places, x)
        }
        Value::Numeric(Numeric::Finite(d)) => d
            .with_scale_round(places as i64, bigdecimal::RoundingMode::HalfUp)
            .to_plain_string(),
        Value::Numeric(_) => {
            return Err(errinput!(
                FeatureNotSupported,
                "to_char of a non-finite numeric is not supported yet"
            ))
        }
        other => {
            format!("{}{}", int_arg(other)?, if places > 0 { "." } else { "" })
                + &"0".repeat(places)
        }
    };
    let negative = text.starts_with('-');
    let body = text.trim_start_matches('-');
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let nonzero = int != "0" || frac.chars().any(|c| c != '0');
    Ok((
        negative && nonzero,
        int.to_string(),
        format!("{frac:0<places$}"),
    ))
}
