//! Parser for SQLite's sqllogictest script format.
//!
//! A script is a sequence of *records* separated by blank lines. Lines starting with `#` between
//! records are comments. A record may be preceded by condition lines, and its first line says what
//! it is:
//!
//! ```text
//! skipif mysql            # condition: skip this record on engine `mysql`
//! onlyif sqlite           # condition: run this record only on engine `sqlite`
//! statement ok            # the SQL (following lines, up to a blank line) must succeed
//! statement error         # the SQL must fail
//! statement error 42P01   # ... with an error whose text contains `42P01` (extension, below)
//! query ITR rowsort label # a query with three columns (Integer, Text, Real), sort mode, label
//! SELECT ...
//! ----                    # the expected results follow, up to a blank line
//! hash-threshold 8        # results with more values than this are given as an MD5 hash
//! halt                    # stop running this script
//! ```
//!
//! Expected results are normally one value per line; SQLite's format also allows one row per
//! line with the values separated by single spaces, and a single line
//! `N values hashing to <md5>` for results hashed because they were over the threshold. The
//! parser keeps the lines as they are; [`crate::runner`] decides how to compare them.
//!
//! Text after `#` on a condition or header line is a comment (`onlyif sqlite # empty RHS`).
//!
//! One extension to SQLite's format, for ZizhuDB's own files: words after `statement error` are
//! text the engine's error must contain. Engines report errors as `SQLSTATE: message` (the
//! PostgreSQL connection does), so `statement error 42P01` pins PostgreSQL's SQLSTATE. SQLite's
//! files never have such words.

use std::fmt;

/// A parsed script: its records in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The records, in file order.
    pub records: Vec<Record>,
}

/// One record of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line number of the record's header line (`statement`, `query`, `halt`, ...).
    pub line: usize,
    /// The `skipif` / `onlyif` lines before the header, in order.
    pub conditions: Vec<Condition>,
    /// What the record does.
    pub kind: RecordKind,
}

/// A condition on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `skipif <engine>`: do not run the record on this engine.
    SkipIf(String),
    /// `onlyif <engine>`: run the record only on this engine.
    OnlyIf(String),
}

impl Condition {
    /// Whether a runner that answers to `engine_names` should skip a record with this condition.
    pub fn skips(&self, engine_names: &[String]) -> bool {
        match self {
            Condition::SkipIf(e) => engine_names.iter().any(|n| n.eq_ignore_ascii_case(e)),
            Condition::OnlyIf(e) => !engine_names.iter().any(|n| n.eq_ignore_ascii_case(e)),
        }
    }
}

/// The kinds of record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    /// `statement ok` / `statement error`.
    Statement {
        /// Whether the statement must succeed or fail.
        expect: StatementExpect,
        /// For `statement error <text>`: text the error must contain.
        error_contains: Option<String>,
        /// The SQL text (its lines joined by `\n`).
        sql: String,
    },
    /// `query <types> [sort] [label]`.
    Query {
        /// One entry per result column.
        types: Vec<ColumnType>,
        /// How the results are ordered before comparison.
        sort: SortMode,
        /// Optional label: queries with the same label must produce the same results.
        label: Option<String>,
        /// The SQL text (its lines joined by `\n`).
        sql: String,
        /// The expected result lines after `----`; `None` if the record has no `----`.
        expected: Option<Vec<String>>,
    },
    /// `hash-threshold N`.
    HashThreshold(usize),
    /// `halt`: stop running the script.
    Halt,
}

/// What a `statement` record expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementExpect {
    /// `statement ok`.
    Ok,
    /// `statement error`.
    Error,
}

/// A result column's type letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `I`: the value is shown as an integer (truncated toward zero).
    Integer,
    /// `R`: the value is shown with `%.3f`.
    Real,
    /// `T`: the value is shown as text.
    Text,
}

impl ColumnType {
    /// The type's letter.
    pub fn letter(self) -> char {
        match self {
            ColumnType::Integer => 'I',
            ColumnType::Real => 'R',
            ColumnType::Text => 'T',
        }
    }
}

/// How query results are ordered before they are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortMode {
    /// Compare in the order the engine returned them.
    #[default]
    NoSort,
    /// Sort the rows (comparing formatted values column by column, bytewise).
    RowSort,
    /// Sort all values individually, ignoring row boundaries.
    ValueSort,
}

/// A script that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// The whitespace-separated words of a header line, up to a `#` comment.
fn words(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for w in line.split_whitespace() {
        if w.starts_with('#') {
            break;
        }
        out.push(w);
    }
    out
}

/// Parses a whole script.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut records = Vec::new();
    let mut i = 0;
    let mut conditions = Vec::new();
    while i < lines.len() {
        let line = lines[i];
        let lineno = i + 1;
        if is_blank(line) {
            if !conditions.is_empty() {
                return Err(ParseError {
                    line: lineno,
                    message: "blank line after a condition, before its record".into(),
                });
            }
            i += 1;
            continue;
        }
        if line.trim_start().starts_with('#') {
            i += 1;
            continue;
        }
        let w = words(line);
        let err = |message: String| ParseError {
            line: lineno,
            message,
        };
        match w.first().copied() {
            Some("skipif") | Some("onlyif") => {
                let engine = w
                    .get(1)
                    .ok_or_else(|| err(format!("`{}` needs an engine name", w[0])))?;
                conditions.push(if w[0] == "skipif" {
                    Condition::SkipIf((*engine).to_string())
                } else {
                    Condition::OnlyIf((*engine).to_string())
                });
                i += 1;
            }
            Some("halt") => {
                records.push(Record {
                    line: lineno,
                    conditions: std::mem::take(&mut conditions),
                    kind: RecordKind::Halt,
                });
                i += 1;
            }
            Some("hash-threshold") => {
                let n = w
                    .get(1)
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| err("`hash-threshold` needs a number".into()))?;
                records.push(Record {
                    line: lineno,
                    conditions: std::mem::take(&mut conditions),
                    kind: RecordKind::HashThreshold(n),
                });
                i += 1;
            }
            Some("statement") => {
                let expect = match w.get(1).copied() {
                    Some("ok") => StatementExpect::Ok,
                    Some("error") => StatementExpect::Error,
                    other => {
                        return Err(err(format!(
                            "expected `statement ok` or `statement error`, found {other:?}"
                        )))
                    }
                };
                i += 1;
                let start = i;
                while i < lines.len() && !is_blank(lines[i]) {
                    i += 1;
                }
                if i == start {
                    return Err(err("statement without SQL".into()));
                }
                let error_contains =
                    (expect == StatementExpect::Error && w.len() > 2).then(|| w[2..].join(" "));
                records.push(Record {
                    line: lineno,
                    conditions: std::mem::take(&mut conditions),
                    kind: RecordKind::Statement {
                        expect,
                        error_contains,
                        sql: lines[start..i].join("\n"),
                    },
                });
            }
            Some("query") => {
                let type_word = w
                    .get(1)
                    .ok_or_else(|| err("`query` needs a type string".into()))?;
                let types = type_word
                    .chars()
                    .map(|c| match c {
                        'I' => Ok(ColumnType::Integer),
                        'R' => Ok(ColumnType::Real),
                        'T' => Ok(ColumnType::Text),
                        other => Err(err(format!("unknown column type `{other}`"))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let sort = match w.get(2).copied() {
                    None | Some("nosort") => SortMode::NoSort,
                    Some("rowsort") => SortMode::RowSort,
                    Some("valuesort") => SortMode::ValueSort,
                    Some(other) => return Err(err(format!("unknown sort mode `{other}`"))),
                };
                let label = w.get(3).map(|l| (*l).to_string());
                i += 1;
                let start = i;
                while i < lines.len() && !is_blank(lines[i]) && lines[i] != "----" {
                    i += 1;
                }
                if i == start {
                    return Err(err("query without SQL".into()));
                }
                let sql = lines[start..i].join("\n");
                let mut expected = None;
                if i < lines.len() && lines[i] == "----" {
                    i += 1;
                    let rstart = i;
                    while i < lines.len() && !is_blank(lines[i]) {
                        i += 1;
                    }
                    expected = Some(lines[rstart..i].iter().map(|l| (*l).to_string()).collect());
                }
                records.push(Record {
                    line: lineno,
                    conditions: std::mem::take(&mut conditions),
                    kind: RecordKind::Query {
                        types,
                        sort,
                        label,
                        sql,
                        expected,
                    },
                });
            }
            _ => return Err(err(format!("unknown record: `{}`", line.trim()))),
        }
    }
    if !conditions.is_empty() {
        return Err(ParseError {
            line: lines.len(),
            message: "condition at the end of the script without a record".into(),
        });
    }
    Ok(Script { records })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<Record> {
        match parse(text) {
            Ok(s) => s.records,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    #[test]
    fn statements_and_queries() {
        let recs = parse_ok(
            "# a comment\n\
             hash-threshold 8\n\
             \n\
             statement ok\n\
             CREATE TABLE t1(a INTEGER,\n  b TEXT)\n\
             \n\
             statement error 42703 # undefined column\n\
             SELECT nope\n\
             \n\
             query IT rowsort label-1\n\
             SELECT a, b\n  FROM t1\n\
             ----\n\
             1\n\
             x\n",
        );
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[0].kind, RecordKind::HashThreshold(8));
        assert_eq!(recs[0].line, 2);
        assert_eq!(
            recs[1].kind,
            RecordKind::Statement {
                expect: StatementExpect::Ok,
                error_contains: None,
                sql: "CREATE TABLE t1(a INTEGER,\n  b TEXT)".into()
            }
        );
        assert_eq!(recs[1].line, 4);
        assert!(matches!(
            recs[2].kind,
            RecordKind::Statement {
                expect: StatementExpect::Error,
                error_contains: Some(ref e),
                ..
            } if e == "42703"
        ));
        assert_eq!(recs[3].line, 11);
        match &recs[3].kind {
            RecordKind::Query {
                types,
                sort,
                label,
                sql,
                expected,
            } => {
                assert_eq!(types, &[ColumnType::Integer, ColumnType::Text]);
                assert_eq!(*sort, SortMode::RowSort);
                assert_eq!(label.as_deref(), Some("label-1"));
                assert_eq!(sql, "SELECT a, b\n  FROM t1");
                assert_eq!(expected.as_deref(), Some(&["1".into(), "x".into()][..]));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conditions_halt_and_comments() {
        let recs = parse_ok(
            "onlyif mssql # skip this file\n\
             halt\n\
             \n\
             skipif mysql\n\
             onlyif sqlite # empty RHS\n\
             query I nosort\n\
             SELECT 1 IN ()\n\
             ----\n\
             0\n\
             \n\n\n\
             query R\n\
             SELECT 1.5\n",
        );
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].conditions, vec![Condition::OnlyIf("mssql".into())]);
        assert_eq!(recs[0].kind, RecordKind::Halt);
        assert_eq!(
            recs[1].conditions,
            vec![
                Condition::SkipIf("mysql".into()),
                Condition::OnlyIf("sqlite".into())
            ]
        );
        let pg = ["postgresql".to_string()];
        assert!(recs[0].conditions[0].skips(&pg));
        assert!(!recs[1].conditions[0].skips(&pg));
        assert!(recs[1].conditions[1].skips(&pg));
        assert!(Condition::SkipIf("postgresql".into()).skips(&pg));
        assert!(!Condition::OnlyIf("postgresql".into()).skips(&pg));
        // A query without `----` has no expected results; sort mode defaults to nosort.
        match &recs[2].kind {
            RecordKind::Query { sort, expected, .. } => {
                assert_eq!(*sort, SortMode::NoSort);
                assert!(expected.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(recs[2].line, 13);
    }

    #[test]
    fn hashed_and_row_per_line_results_are_kept_verbatim() {
        let recs = parse_ok(
            "query II valuesort\nSELECT a, b FROM t\n----\n30 values hashing to 0123456789abcdef0123456789abcdef\n\n\
             query IT\nSELECT 1, 'a b'\n----\n1 a b\r\n",
        );
        match (&recs[0].kind, &recs[1].kind) {
            (
                RecordKind::Query {
                    sort: SortMode::ValueSort,
                    expected: Some(e0),
                    ..
                },
                RecordKind::Query {
                    expected: Some(e1), ..
                },
            ) => {
                assert_eq!(
                    e0,
                    &["30 values hashing to 0123456789abcdef0123456789abcdef".to_string()]
                );
                assert_eq!(e1, &["1 a b".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_carry_line_numbers() {
        let e = parse("statement ok\nSELECT 1\n\nquery X\nSELECT 1\n").unwrap_err();
        assert_eq!(e.line, 4);
        let e = parse("\n\nfrobnicate\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("frobnicate"));
        let e = parse("statement maybe\nSELECT 1\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("query I sideways\nSELECT 1\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("skipif\n").unwrap_err();
        assert_eq!(e.line, 1);
    }
}
