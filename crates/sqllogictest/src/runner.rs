//! Runs a parsed script against an engine and counts passed and failed records.
//!
//! # How an engine plugs in
//!
//! An engine implements [`Connection`]: it executes one record's SQL and hands back either
//! [`Output::StatementComplete`] or [`Output::Rows`] whose values are **raw text** exactly as the
//! engine would print them (PostgreSQL's text output: `t`/`f` for booleans, `2.5` for numerics,
//! `1e+20` for large floats, `None` for NULL). The engine never formats for the test: the runner
//! applies the sqllogictest rules from the record's column types:
//!
//! | column | shown as |
//! |---|---|
//! | any NULL | `NULL` |
//! | `I` | integer, truncated toward zero (`2.7` → `2`, `-2.7` → `-2`); booleans `t`/`f` → `1`/`0`; other text → its leading number as SQLite converts it, else `0` |
//! | `R` | `%.3f` (`2` → `2.000`); booleans → `1.000`/`0.000`; other text → its leading number, else `0.000` |
//! | `T` | the text; the empty string → `(empty)`; bytes outside printable ASCII → `@` |
//!
//! An engine that knows its column types may report them ([`ValueKind`]); then only a `Bool`
//! column's `t`/`f` are read as booleans. Without types, `t`/`f` in an `I` or `R` column are read
//! as booleans (no number prints that way).
//!
//! # Comparison
//!
//! Values are formatted, then ordered by the record's sort mode (`nosort`; `rowsort`: rows compared
//! value by value, bytewise; `valuesort`: all values sorted individually). The expected lines
//! are then either
//! - one line `N values hashing to <md5>`: the actual values are hashed as SQLite's runner does,
//!   MD5 over every value followed by `\n`, and the two lines compared;
//! - one value per line, compared with the actual values; or
//! - one row per line, values separated by single spaces (the other layout SQLite's format allows).
//!
//! `hash-threshold N` only decides how an actual result is *displayed* in a failure (hashed when
//! it has more than `N` values); the comparison follows what the file expects. A query with a
//! label and no expected results is compared with the hash recorded for that label by an earlier
//! passing query; a query with neither expected results nor a known label passes if it runs.
//!
//! # Counting
//!
//! A *record* is a `statement` or `query` that runs on this engine. Records skipped by
//! `skipif`/`onlyif` are counted as skipped, in neither passed nor failed. `hash-threshold` and
//! `halt` are not records; a `halt` that applies stops the script, and the records after it are
//! neither run nor counted. A `statement ok` passes if the engine reports no error, `statement
//! error` if it does (and, for `statement error <text>`, the error contains the text); a query
//! passes if it runs and its results match. A query whose SQL produced no result set
//! (`StatementComplete`) is compared as zero rows.

use std::collections::HashMap;

use md5::{Digest, Md5};

use crate::parser::{ColumnType, Record, RecordKind, Script, SortMode, StatementExpect};

/// What running one record's SQL produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The SQL ran and produced no result set (DDL, DML, ...).
    StatementComplete,
    /// The SQL produced a result set.
    Rows {
        /// The columns' types, if the engine knows them; `None` lets the runner infer.
        types: Option<Vec<ValueKind>>,
        /// The rows; each value is the engine's raw text output, `None` for NULL.
        rows: Vec<Vec<Option<String>>>,
    },
}

/// The type of a result column as the engine knows it, used only to read its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A boolean, printed `t` / `f`.
    Bool,
    /// An integer.
    Integer,
    /// A floating-point number.
    Float,
    /// An exact decimal.
    Numeric,
    /// Text or any other type.
    Text,
}

/// A connection to the engine under test.
pub trait Connection {
    /// Executes the SQL of one record (which may hold several `;`-separated statements; the
    /// output of the last one counts). An `Err` is the engine's error, by convention
    /// `SQLSTATE: message` so that `statement error <SQLSTATE>` can check it.
    fn run(&mut self, sql: &str) -> Result<Output, String>;
}

/// How the runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The names the engine answers to in `skipif` / `onlyif` (compared case-insensitively).
    pub engine_names: Vec<String>,
    /// How many failures to keep per file for display (all are counted).
    pub max_failures_kept: usize,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            engine_names: vec!["postgresql".to_string()],
            max_failures_kept: 10,
        }
    }
}

/// One failed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Line of the record's header.
    pub line: usize,
    /// The record's SQL.
    pub sql: String,
    /// What was expected (lines).
    pub expected: Vec<String>,
    /// What happened (lines).
    pub actual: Vec<String>,
}

/// The outcome of running one script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Records that passed.
    pub passed: usize,
    /// Records that failed.
    pub failed: usize,
    /// Records skipped by `skipif` / `onlyif`.
    pub skipped: usize,
    /// Line of the `halt` that stopped the script, if one did.
    pub halted_at: Option<usize>,
    /// The first [`RunnerConfig::max_failures_kept`] failures.
    pub failures: Vec<Failure>,
}

impl FileReport {
    /// Passed plus failed.
    pub fn records(&self) -> usize {
        self.passed + self.failed
    }
}

/// Runs scripts against connections.
#[derive(Debug, Clone, Default)]
pub struct Runner {
    config: RunnerConfig,
}

impl Runner {
    /// A runner with the given configuration.
    pub fn new(config: RunnerConfig) -> Self {
        Runner { config }
    }

    /// Runs every record of `script` on `conn`.
    pub fn run_script(&self, script: &Script, conn: &mut dyn Connection) -> FileReport {
        let mut report = FileReport::default();
        let mut hash_threshold = 0usize;
        let mut labels: HashMap<String, String> = HashMap::new();
        for record in &script.records {
            if record
                .conditions
                .iter()
                .any(|c| c.skips(&self.config.engine_names))
            {
                if matches!(
                    record.kind,
                    RecordKind::Statement { .. } | RecordKind::Query { .. }
                ) {
                    report.skipped += 1;
                }
                continue;
            }
            let outcome = match &record.kind {
                RecordKind::HashThreshold(n) => {
                    hash_threshold = *n;
                    continue;
                }
                RecordKind::Halt => {
                    report.halted_at = Some(record.line);
                    break;
                }
                RecordKind::Statement {
                    expect,
                    error_contains,
                    sql,
                } => run_statement(conn, *expect, error_contains.as_deref(), sql),
                RecordKind::Query { .. } => run_query(conn, record, hash_threshold, &mut labels),
            };
            match outcome {
                Ok(()) => report.passed += 1,
                Err((expected, actual)) => {
                    report.failed += 1;
                    if report.failures.len() < self.config.max_failures_kept {
                        report.failures.push(Failure {
                            line: record.line,
                            sql: record_sql(record).to_string(),
                            expected,
                            actual,
                        });
                    }
                }
            }
        }
        report
    }
}

fn record_sql(record: &Record) -> &str {
    match &record.kind {
        RecordKind::Statement { sql, .. } | RecordKind::Query { sql, .. } => sql,
        _ => "",
    }
}

type Mismatch = (Vec<String>, Vec<String>);

fn run_statement(
    conn: &mut dyn Connection,
    expect: StatementExpect,
    error_contains: Option<&str>,
    sql: &str,
) -> Result<(), Mismatch> {
    match (conn.run(sql), expect) {
        (Ok(_), StatementExpect::Ok) => Ok(()),
        (Err(e), StatementExpect::Error) => match error_contains {
            Some(text) if !e.contains(text) => Err((
                vec![format!("statement error {text}")],
                vec![error_line(&e)],
            )),
            _ => Ok(()),
        },
        (Err(e), StatementExpect::Ok) => Err((vec!["statement ok".into()], vec![error_line(&e)])),
        (Ok(_), StatementExpect::Error) => Err((
            vec!["statement error".into()],
            vec!["statement succeeded".into()],
        )),
    }
}

fn error_line(e: &str) -> String {
    format!("error: {}", e.lines().next().unwrap_or(""))
}

fn run_query(
    conn: &mut dyn Connection,
    record: &Record,
    hash_threshold: usize,
    labels: &mut HashMap<String, String>,
) -> Result<(), Mismatch> {
    let RecordKind::Query {
        types,
        sort,
        label,
        sql,
        expected,
    } = &record.kind
    else {
        unreachable!("run_query is called for queries only")
    };
    let expected_lines = expected.clone().unwrap_or_default();
    let (kinds, rows) = match conn.run(sql) {
        Err(e) => return Err((expected_lines, vec![error_line(&e)])),
        Ok(Output::StatementComplete) => (None, Vec::new()),
        Ok(Output::Rows { types, rows }) => (types, rows),
    };
    if let Some(bad) = rows.iter().find(|r| r.len() != types.len()) {
        return Err((
            expected_lines,
            vec![format!(
                "wrong number of columns: query has {} types, row has {} values",
                types.len(),
                bad.len()
            )],
        ));
    }
    let mut formatted: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, v)| {
                    let kind = kinds.as_ref().and_then(|k| k.get(i).copied());
                    format_value(types[i], kind, v.as_deref())
                })
                .collect()
        })
        .collect();
    let values: Vec<String> = match sort {
        SortMode::NoSort => formatted.into_iter().flatten().collect(),
        SortMode::RowSort => {
            formatted.sort();
            formatted.into_iter().flatten().collect()
        }
        SortMode::ValueSort => {
            let mut v: Vec<String> = formatted.into_iter().flatten().collect();
            v.sort();
            v
        }
    };
    let hash_line = hash_line(&values);
    let shown = |values: &[String]| {
        if hash_threshold > 0 && values.len() > hash_threshold {
            vec![hash_line.clone()]
        } else {
            values.to_vec()
        }
    };
    let matches = match expected {
        Some(exp) => results_match(exp, &values, types.len(), &hash_line),
        None => match label.as_ref().and_then(|l| labels.get(l)) {
            Some(h) => {
                if *h == hash_line {
                    true
                } else {
                    return Err((vec![h.clone()], vec![hash_line]));
                }
            }
            None => true,
        },
    };
    if !matches {
        return Err((expected_lines, shown(&values)));
    }
    if let Some(l) = label {
        labels.entry(l.clone()).or_insert(hash_line);
    }
    Ok(())
}

/// Whether the expected lines describe `values` (see the module docs for the three layouts).
fn results_match(expected: &[String], values: &[String], ncols: usize, hash_line: &str) -> bool {
    if expected.len() == 1 && is_hash_line(&expected[0]) {
        return expected[0].trim_end() == hash_line;
    }
    if expected.len() == values.len() && expected.iter().zip(values).all(|(e, v)| e == v) {
        return true;
    }
    if ncols > 1 && expected.len() * ncols == values.len() {
        return expected
            .iter()
            .zip(values.chunks(ncols))
            .all(|(e, row)| *e == row.join(" "));
    }
    false
}

fn is_hash_line(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(n), Some("values"), Some("hashing"), Some("to"), Some(h), None)
            if n.bytes().all(|b| b.is_ascii_digit()) && h.len() == 32
    )
}

/// `N values hashing to <md5>`: MD5 over every value followed by `\n`, as SQLite's runner does.
pub fn hash_line(values: &[String]) -> String {
    let mut md5 = Md5::new();
    for v in values {
        md5.update(v.as_bytes());
        md5.update(b"\n");
    }
    let digest = md5.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{} values hashing to {hex}", values.len())
}

/// Formats one raw value for a column of type `ty` (see the module docs).
pub fn format_value(ty: ColumnType, kind: Option<ValueKind>, raw: Option<&str>) -> String {
    let Some(raw) = raw else {
        return "NULL".to_string();
    };
    let as_bool = match kind {
        Some(ValueKind::Bool) | None => match raw {
            "t" | "true" => Some(true),
            "f" | "false" => Some(false),
            _ => None,
        },
        Some(_) => None,
    };
    match ty {
        ColumnType::Text => {
            if raw.is_empty() {
                "(empty)".to_string()
            } else {
                raw.chars()
                    .map(|c| if (' '..='~').contains(&c) { c } else { '@' })
                    .collect()
            }
        }
        ColumnType::Integer => match as_bool {
            Some(b) => u8::from(b).to_string(),
            None => format_integer(raw),
        },
        ColumnType::Real => match as_bool {
            Some(b) => format!("{:.3}", f64::from(u8::from(b))),
            None => format!("{:.3}", parse_real(raw)),
        },
    }
}

/// The text of an integer truncated from `raw`.
fn format_integer(raw: &str) -> String {
    let s = raw.trim();
    if let Ok(i) = s.parse::<i64>() {
        return i.to_string();
    }
    // A plain decimal (PostgreSQL numeric): truncate textually, keeping any precision.
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if let Some((int, frac)) = body.split_once('.') {
        if !int.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
        {
            let int = int.trim_start_matches('0');
            return match (int.is_empty(), neg) {
                (true, _) => "0".to_string(),
                (false, true) => format!("-{int}"),
                (false, false) => int.to_string(),
            };
        }
    }
    let f = parse_real(s);
    if f.is_nan() {
        "0".to_string()
    } else {
        // `as` saturates, as SQLite's conversion of an out-of-range real does.
        (f.trunc() as i64).to_string()
    }
}

/// `raw` read as a number: the whole text if it is one, else its longest numeric prefix as
/// SQLite converts text, else 0.
fn parse_real(raw: &str) -> f64 {
    let s = raw.trim();
    if let Ok(f) = s.parse::<f64>() {
        return f;
    }
    let b = s.as_bytes();
    let mut end = 0;
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    let digits_start = end;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end > digits_start && end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut e = end + 1;
        if e < b.len() && (b[e] == b'-' || b[e] == b'+') {
            e += 1;
        }
        if e < b.len() && b[e].is_ascii_digit() {
            while e < b.len() && b[e].is_ascii_digit() {
                e += 1;
            }
            end = e;
        }
    }
    s[..end].parse::<f64>().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    #[test]
    fn md5_rfc1321_vectors() {
        let md5hex = |s: &str| {
            let d = Md5::digest(s.as_bytes());
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        assert_eq!(md5hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5hex("a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
        assert_eq!(
            md5hex(
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn hash_line_hashes_values_each_followed_by_newline() {
        // md5("a\nb\n")
        let d = Md5::digest(b"a\nb\n");
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hash_line(&["a".into(), "b".into()]),
            format!("2 values hashing to {hex}")
        );
    }

    #[test]
    fn formatting_rules() {
        use ColumnType::*;
        let f = |ty, raw: Option<&str>| format_value(ty, None, raw);
        assert_eq!(f(Integer, None), "NULL");
        assert_eq!(f(Real, None), "NULL");
        assert_eq!(f(Text, None), "NULL");
        assert_eq!(f(Text, Some("")), "(empty)");
        assert_eq!(f(Text, Some("a b")), "a b");
        assert_eq!(f(Text, Some("a\tb")), "a@b");
        assert_eq!(f(Integer, Some("42")), "42");
        assert_eq!(f(Integer, Some("-2.7")), "-2");
        assert_eq!(f(Integer, Some("2.7")), "2");
        assert_eq!(f(Integer, Some("-0.5")), "0");
        assert_eq!(
            f(Integer, Some("123456789012345678901234.5")),
            "123456789012345678901234"
        );
        assert_eq!(f(Integer, Some("1e+20")), i64::MAX.to_string());
        assert_eq!(f(Integer, Some("-37.5e0")), "-37");
        assert_eq!(f(Integer, Some("t")), "1");
        assert_eq!(f(Integer, Some("f")), "0");
        assert_eq!(f(Integer, Some("12abc")), "12");
        assert_eq!(f(Integer, Some("abc")), "0");
        assert_eq!(f(Real, Some("2")), "2.000");
        assert_eq!(f(Real, Some("-2.3456")), "-2.346");
        assert_eq!(f(Real, Some("12.3333333333333333")), "12.333");
        assert_eq!(f(Real, Some("1e+20")), "100000000000000000000.000");
        assert_eq!(f(Real, Some("t")), "1.000");
        assert_eq!(f(Real, Some("xyz")), "0.000");
        // With known types, `t` in a text column read as an integer is not a boolean.
        assert_eq!(format_value(Integer, Some(ValueKind::Text), Some("t")), "0");
        assert_eq!(format_value(Integer, Some(ValueKind::Bool), Some("t")), "1");
    }

    /// A scripted engine: answers each SQL text from a table.
    struct Fake(HashMap<&'static str, Result<Output, String>>);

    impl Connection for Fake {
        fn run(&mut self, sql: &str) -> Result<Output, String> {
            self.0
                .get(sql)
                .cloned()
                .unwrap_or_else(|| Err(format!("unknown SQL {sql}")))
        }
    }

    fn rows(v: &[&[Option<&str>]]) -> Result<Output, String> {
        Ok(Output::Rows {
            types: None,
            rows: v
                .iter()
                .map(|r| r.iter().map(|x| x.map(str::to_string)).collect())
                .collect(),
        })
    }

    #[test]
    fn runs_and_counts() {
        let mut fake = Fake(HashMap::from([
            ("CREATE TABLE t(a INT)", Ok(Output::StatementComplete)),
            (
                "INSERT OR REPLACE INTO t VALUES(1)",
                Err("syntax error".into()),
            ),
            (
                "SELECT a, b FROM t",
                rows(&[&[Some("3"), Some("x")], &[Some("1.9"), None]]),
            ),
            (
                "SELECT a FROM t",
                rows(&[&[Some("3")], &[Some("1")], &[Some("2")]]),
            ),
            ("SELECT 1/0", Err("22012: division by zero".into())),
            ("DELETE FROM t", Ok(Output::StatementComplete)),
        ]));
        let script = parse(
            "hash-threshold 2\n\n\
             statement ok\nCREATE TABLE t(a INT)\n\n\
             statement ok\nINSERT OR REPLACE INTO t VALUES(1)\n\n\
             statement error\nINSERT OR REPLACE INTO t VALUES(1)\n\n\
             query IT rowsort\nSELECT a, b FROM t\n----\n1\nNULL\n3\nx\n\n\
             query IT nosort\nSELECT a, b FROM t\n----\n3 x\n1 NULL\n\n\
             query I valuesort label-a\nSELECT a FROM t\n----\n3 values hashing to d8d7ed2ad6dc2df09c3e9d3bd6ed9dc7\n\n\
             query I valuesort label-b\nSELECT a FROM t\n----\n1\n2\n3\n\n\
             query I valuesort label-b\nSELECT a FROM t\n\n\
             query I nosort\nSELECT a FROM t\n----\n1\n2\n3\n\n\
             skipif postgresql\nstatement ok\nSELECT nothing\n\n\
             onlyif postgresql\nquery I\nSELECT 1/0\n----\n0\n\n\
             statement ok\nDELETE FROM t\n\n\
             skipif postgresql\nhalt\n\n\
             onlyif postgresql\nhalt\n\n\
             statement ok\nSELECT after_halt\n",
        )
        .unwrap();
        let report = Runner::default().run_script(&script, &mut fake);
        let failed_lines: Vec<usize> = report.failures.iter().map(|f| f.line).collect();
        // Line 6: statement ok that errored. The hash at line 26 is deliberately wrong; the
        // `label-b` query without results (line 38) matches the label's earlier hash. Line 41
        // is nosort and the engine's order differs; line 53 errors.
        assert_eq!(failed_lines, vec![6, 26, 41, 53], "{:#?}", report.failures);
        assert_eq!(report.passed, 7);
        assert_eq!(report.failed, 4);
        assert_eq!(report.skipped, 1);
        assert_eq!(report.halted_at, Some(65));
        // The hashed result is displayed hashed, since 3 values exceed the threshold 2.
        assert_eq!(
            report.failures[1].actual,
            vec![hash_line(&["1".into(), "2".into(), "3".into()])]
        );
        assert_eq!(
            report.failures[3].actual,
            vec!["error: 22012: division by zero".to_string()]
        );
    }

    #[test]
    fn statement_error_with_text_checks_the_error() {
        let mut fake = Fake(HashMap::from([(
            "SELECT 1/0",
            Err("22012: division by zero".into()),
        )]));
        let script = parse(
            "statement error 22012\nSELECT 1/0\n\nstatement error division by\nSELECT 1/0\n\n\
             statement error 42601\nSELECT 1/0\n",
        )
        .unwrap();
        let report = Runner::default().run_script(&script, &mut fake);
        assert_eq!((report.passed, report.failed), (2, 1));
        assert_eq!(report.failures[0].line, 7);
        assert_eq!(
            report.failures[0].expected,
            vec!["statement error 42601".to_string()]
        );
    }

    #[test]
    fn correct_hash_passes_and_wrong_column_count_fails() {
        let vals: Vec<String> = ["1", "2", "3"].iter().map(|s| (*s).to_string()).collect();
        let text = format!(
            "query I valuesort\nSELECT a FROM t\n----\n{}\n\nquery II\nSELECT a FROM t\n----\n1\n2\n3\n",
            hash_line(&vals)
        );
        let mut fake = Fake(HashMap::from([(
            "SELECT a FROM t",
            rows(&[&[Some("3")], &[Some("1")], &[Some("2")]]),
        )]));
        let report = Runner::default().run_script(&parse(&text).unwrap(), &mut fake);
        assert_eq!((report.passed, report.failed), (1, 1));
        assert!(report.failures[0].actual[0].contains("wrong number of columns"));
    }
}
