//! Runs the SQL engine's sqllogictest files (`crates/sql/tests/slt/*.slt`) against the embedded
//! engine, each file in a fresh in-memory database.
//!
//! The files use SQLite's format plus one extension: `statement error <text>` passes only if
//! the error (reported here as `SQLSTATE: message`) contains `<text>`, so a file pins the
//! SQLSTATE PostgreSQL gives. The engine answers to `zizhu` in `skipif` / `onlyif`. The same
//! files run against PostgreSQL 15 (`zizhu-slt --engine postgres`), which is how their
//! expectations are checked to be PostgreSQL's.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "zizhu")]

use std::path::Path;

use zizhu_sqllogictest::embedded::Embedded;
use zizhu_sqllogictest::{parser, Runner, RunnerConfig};

#[test]
fn slt_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql/tests/slt");
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
        let mut conn = Embedded::new();
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
