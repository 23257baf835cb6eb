//! Tests of date, time, timestamp and interval input and output, against PostgreSQL 15
//! (`psql -At`, `set timezone = UTC`); the query is quoted above each group.

use super::tests::{io, io_err};
use super::DataType as T;
use crate::ErrorCode;

fn check(ty: &T, cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        assert_eq!(io(input, ty), *expected, "{input:?}::{ty}");
        assert_eq!(
            io(expected, ty),
            *expected,
            "{expected:?}::{ty} (round trip)"
        );
    }
}

// select '2024-01-31'::date, 'epoch'::date, '0001-01-01 BC'::date, '20240131'::date,
//   '1/31/2024'::date, '2024/01/31'::date, 'infinity'::date, '-infinity'::date,
//   ' 2024-1-5 '::date, 'Jan 31 2024'::date, '4713-11-24 BC'::date, '4714-11-24 BC'::date,
//   '10000-01-01'::date, '5874897-12-31'::date, '2024-01-31 12:00'::date, '2000-02-29'::date
#[test]
fn date_io() {
    check(
        &T::Date,
        &[
            ("2024-01-31", "2024-01-31"),
            ("epoch", "1970-01-01"),
            ("0001-01-01 BC", "0001-01-01 BC"),
            ("20240131", "2024-01-31"),
            ("1/31/2024", "2024-01-31"),
            ("2024/01/31", "2024-01-31"),
            ("infinity", "infinity"),
            ("-infinity", "-infinity"),
            (" 2024-1-5 ", "2024-01-05"),
            ("Jan 31 2024", "2024-01-31"),
            ("January 31, 2024", "2024-01-31"),
            ("4713-11-24 BC", "4713-11-24 BC"),
            ("4714-11-24 BC", "4714-11-24 BC"),
            ("10000-01-01", "10000-01-01"),
            ("5874897-12-31", "5874897-12-31"),
            ("2024-01-31 12:00", "2024-01-31"),
            ("2000-02-29", "2000-02-29"),
        ],
    );
    // select '2024-02-30'::date; select 'x'::date; select '4714-11-23 BC'::date
    assert_eq!(
        io_err("2024-02-30", &T::Date),
        (
            ErrorCode::DatetimeFieldOverflow,
            "date/time field value out of range: \"2024-02-30\"".into()
        )
    );
    assert_eq!(
        io_err("x", &T::Date),
        (
            ErrorCode::InvalidDatetimeFormat,
            "invalid input syntax for type date: \"x\"".into()
        )
    );
    assert_eq!(
        io_err("4714-11-23 BC", &T::Date),
        (
            ErrorCode::DatetimeFieldOverflow,
            "date out of range: \"4714-11-23 BC\"".into()
        )
    );
    assert_eq!(
        io_err("1900-02-29", &T::Date).0,
        ErrorCode::DatetimeFieldOverflow
    );
}

// select '12:00'::time, '23:59:59.9999995'::time, '24:00:00'::time, '1:2:3'::time,
//   '12:00:00.5'::time, '04:05 PM'::time, '2024-01-01 10:00'::time, '12:00 am'::time,
//   'allballs'::time, '00:00:00.000001'::time
#[test]
fn time_io() {
    check(
        &T::Time,
        &[
            ("12:00", "12:00:00"),
            ("23:59:59.9999995", "24:00:00"),
            ("24:00:00", "24:00:00"),
            ("1:2:3", "01:02:03"),
            ("12:00:00.5", "12:00:00.5"),
            ("04:05 PM", "16:05:00"),
            ("2024-01-01 10:00", "10:00:00"),
            ("12:00 am", "00:00:00"),
            ("allballs", "00:00:00"),
            ("00:00:00.000001", "00:00:00.000001"),
        ],
    );
    // select '25:00'::time; select 'x'::time
    assert_eq!(
        io_err("25:00", &T::Time),
        (
            ErrorCode::DatetimeFieldOverflow,
            "date/time field value out of range: \"25:00\"".into()
        )
    );
    assert_eq!(
        io_err("x", &T::Time).1,
        "invalid input syntax for type time: \"x\""
    );
}

// select '2024-01-31 12:00:00.5'::timestamp, '2024-01-31T12:00:00'::timestamp,
//   '2024-01-31 12:00:00+08'::timestamp, '2024-01-31'::timestamp,
//   '2024-01-31 12:00:00.1234567'::timestamp, 'epoch'::timestamp, 'infinity'::timestamp,
//   '2024-01-31 24:00:00'::timestamp, '2024-01-31 12:00:60'::timestamp,
//   '0044-03-15 12:00 BC'::timestamp, '294276-12-31 23:59:59.999999'::timestamp
#[test]
fn timestamp_io() {
    check(
        &T::Timestamp,
        &[
            ("2024-01-31 12:00:00.5", "2024-01-31 12:00:00.5"),
            ("2024-01-31T12:00:00", "2024-01-31 12:00:00"),
            ("2024-01-31 12:00:00+08", "2024-01-31 12:00:00"),
            ("2024-01-31", "2024-01-31 00:00:00"),
            ("2024-01-31 12:00:00.1234567", "2024-01-31 12:00:00.123457"),
            ("epoch", "1970-01-01 00:00:00"),
            ("infinity", "infinity"),
            ("-infinity", "-infinity"),
            ("2024-01-31 24:00:00", "2024-02-01 00:00:00"),
            ("2024-01-31 12:00:60", "2024-01-31 12:01:00"),
            ("0044-03-15 12:00 BC", "0044-03-15 12:00:00 BC"),
            (
                "294276-12-31 23:59:59.999999",
                "294276-12-31 23:59:59.999999",
            ),
        ],
    );
    // select '294277-01-01'::timestamp; select 'x'::timestamp
    assert_eq!(
        io_err("294277-01-01", &T::Timestamp),
        (
            ErrorCode::DatetimeFieldOverflow,
            "timestamp out of range: \"294277-01-01\"".into()
        )
    );
    assert_eq!(
        io_err("x", &T::Timestamp).1,
        "invalid input syntax for type timestamp: \"x\""
    );
}

// set timezone = UTC;
// select '2024-01-31 12:00:00+08'::timestamptz, '2024-01-31 12:00:00+08:30'::timestamptz,
//   '2024-01-31 12:00:00-0530'::timestamptz, '2024-01-31 12:00:00Z'::timestamptz,
//   '2024-01-31 12:00:00 UTC'::timestamptz, '2024-01-31 12:00'::timestamptz,
//   '0044-03-15 BC'::timestamptz, '2024-01-31 12:00:00.5+00'::timestamptz,
//   '2024-01-01 03:00:00+08'::timestamptz, '2024-01-31T12:00:00 -02'::timestamptz
#[test]
fn timestamptz_io() {
    check(
        &T::TimestampTz,
        &[
            ("2024-01-31 12:00:00+08", "2024-01-31 04:00:00+00"),
            ("2024-01-31 12:00:00+08:30", "2024-01-31 03:30:00+00"),
            ("2024-01-31 12:00:00-0530", "2024-01-31 17:30:00+00"),
            ("2024-01-31 12:00:00Z", "2024-01-31 12:00:00+00"),
            ("2024-01-31 12:00:00 UTC", "2024-01-31 12:00:00+00"),
            ("2024-01-31 12:00", "2024-01-31 12:00:00+00"),
            ("0044-03-15 BC", "0044-03-15 00:00:00+00 BC"),
            ("2024-01-31 12:00:00.5+00", "2024-01-31 12:00:00.5+00"),
            ("2024-01-01 03:00:00+08", "2023-12-31 19:00:00+00"),
            ("2024-01-31T12:00:00 -02", "2024-01-31 14:00:00+00"),
        ],
    );
    assert_eq!(
        io_err("x", &T::TimestampTz).1,
        "invalid input syntax for type timestamp with time zone: \"x\""
    );
}

// select '1 day 02:03:04'::interval, '3 months'::interval, '1 year 2 mons'::interval,
//   '-1 day'::interval, '10 seconds'::interval, 'P1D'::interval, '0'::interval,
//   '1.5 months'::interval, '1.5 days'::interval, '-1 day +02:00'::interval,
//   '1 day -02:00'::interval, '@ 1 hour ago'::interval, '1 year -1 mons'::interval,
//   '-1 year -2 mons +3 days -04:05:06.5'::interval, '100 hours'::interval, '1 week'::interval,
//   'P1Y2M3DT4H5M6.5S'::interval, '1:30'::interval, '90'::interval, '1 decade'::interval,
//   '-00:00:01'::interval, '1 mon -1 days'::interval
// select '1day'::interval, '1 02:03:04'::interval, 'P1.5M'::interval, 'PT1M30S'::interval,
//   '1.5 weeks'::interval, '1.5 years'::interval, '1 year ago'::interval,
//   '-2 hours 30 minutes'::interval, interval '0.5 sec', interval '-1.5 microseconds',
//   interval '1.0000005 sec', '1 hour 60 min'::interval
#[test]
fn interval_io() {
    check(
        &T::Interval,
        &[
            ("1 day 02:03:04", "1 day 02:03:04"),
            ("3 months", "3 mons"),
            ("1 year 2 mons", "1 year 2 mons"),
            ("-1 day", "-1 days"),
            ("10 seconds", "00:00:10"),
            ("P1D", "1 day"),
            ("0", "00:00:00"),
            ("1.5 months", "1 mon 15 days"),
            ("1.5 days", "1 day 12:00:00"),
            ("-1 day +02:00", "-1 days +02:00:00"),
            ("1 day -02:00", "1 day -02:00:00"),
            ("@ 1 hour ago", "-01:00:00"),
            ("1 year -1 mons", "11 mons"),
            (
                "-1 year -2 mons +3 days -04:05:06.5",
                "-1 years -2 mons +3 days -04:05:06.5",
            ),
            ("100 hours", "100:00:00"),
            ("1 week", "7 days"),
            ("P1Y2M3DT4H5M6.5S", "1 year 2 mons 3 days 04:05:06.5"),
            ("1:30", "01:30:00"),
            ("90", "00:01:30"),
            ("1 decade", "10 years"),
            ("-00:00:01", "-00:00:01"),
            ("1 mon -1 days", "1 mon -1 days"),
            ("1day", "1 day"),
            ("1 02:03:04", "1 day 02:03:04"),
            ("P1.5M", "1 mon 15 days"),
            ("PT1M30S", "00:01:30"),
            ("1.5 weeks", "10 days 12:00:00"),
            ("1.5 years", "1 year 6 mons"),
            ("1 year ago", "-1 years"),
            ("-2 hours 30 minutes", "-01:30:00"),
            ("0.5 sec", "00:00:00.5"),
            ("-1.5 microseconds", "-00:00:00.000001"),
            ("1.0000005 sec", "00:00:01"),
            ("1 hour 60 min", "02:00:00"),
        ],
    );
    // select 'x'::interval
    assert_eq!(
        io_err("x", &T::Interval),
        (
            ErrorCode::InvalidDatetimeFormat,
            "invalid input syntax for type interval: \"x\"".into()
        )
    );
    assert_eq!(
        io_err("1 fortnight", &T::Interval).0,
        ErrorCode::InvalidDatetimeFormat
    );
}
