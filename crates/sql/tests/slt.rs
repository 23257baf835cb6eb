//! Runs the SQL engine's own sqllogictest files (`tests/slt/*.slt`) against the embedded
//! engine, each file in a fresh in-memory database.
//!
//! The files use SQLite's format plus one extension: `statement error <text>` passes only if
//! the error (reported here as `SQLSTATE: message`) contains `<text>`, so a file pins the
//! SQLSTATE PostgreSQL gives. The engine answers to `zizhu` in `skipif` / `onlyif`. The same
//! files run against PostgreSQL 15 (`zizhu-slt --engine postgres`), which is how their
//! expectations are checked to be PostgreSQL's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use zizhu_sql::{types, Database, StatementResult};
use zizhu_sqllogictest::{parser, Connection, Output, Runner, RunnerConfig, ValueKind};

struct Embedded(zizhu_sql::Session<zizhu_engine_memory::MemoryEngine>);

impl Connection for Embedded {
    fn run(&mut self, sql: &str) -> Result<Output, String> {
        let results = self
            .0
            .execute(sql)
            .map_err(|e| format!("{}: {e}", e.sqlstate()))?;
        Ok(match results.into_iter().last() {
            Some(StatementResult::Query { labels, rows }) => Output::Rows {
                types: Some(
                    labels
                        .iter()
                        .map(|l| match &l.data_type {
                            types::DataType::Bool => ValueKind::Bool,
                            types::DataType::Int16
                            | types::DataType::Int32
                            | types::DataType::Int64 => ValueKind::Integer,
                            types::DataType::Float32 | types::DataType::Float64 => ValueKind::Float,
                            types::DataType::Numeric(_) => ValueKind::Numeric,
                            _ => ValueKind::Text,
                        })
                        .collect(),
                ),
                rows: rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|v| (!v.is_null()).then(|| types::to_text(v)))
                            .collect()
                    })
                    .collect(),
            },
            _ => Output::StatementComplete,
        })
    }
}

#[test]
fn slt_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "slt"));
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let runner = Runner::new(RunnerConfig {
        engine_names: vec!["zizhu".into()],
        max_failures_kept: 20,
    });
    let mut failed_files = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let script = parser::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        let mut conn = Embedded(Database::memory().session());
        let report = runner.run_script(&script, &mut conn);
        let name = file.file_name().unwrap().to_string_lossy();
        println!("{name}: {} passed, {} failed", report.passed, report.failed);
        for f in &report.failures {
            println!(
                "  line {}: {}\n    expected: {:?}\n    actual:   {:?}",
                f.line, f.sql, f.expected, f.actual
            );
        }
        assert!(report.passed > 0, "{name}: nothing ran");
        if report.failed > 0 {
            failed_files.push(name.to_string());
        }
    }
    assert!(
        failed_files.is_empty(),
        "failing .slt files: {failed_files:?}"
    );
}
