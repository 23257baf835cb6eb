//! Every file of the shared sqllogictest corpus parses, and the records that run on engine
//! `postgresql` are exactly as many as BASELINE.md counts (passed + failed) for that file. The
//! corpus lives outside the repository (`../shared/corpus/sqllogictest` beside the workspace);
//! without it the test says so and checks nothing.

use std::path::{Path, PathBuf};

use zizhu_sqllogictest::baseline;
use zizhu_sqllogictest::parser::{self, RecordKind};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/sqllogictest");
    dir.join("BASELINE.md").is_file().then_some(dir)
}

/// Statements and queries that run on `postgresql`, up to the first applicable `halt`.
fn records_to_run(script: &parser::Script) -> usize {
    let names = ["postgresql".to_string()];
    let mut n = 0;
    for rec in &script.records {
        if rec.conditions.iter().any(|c| c.skips(&names)) {
            continue;
        }
        match rec.kind {
            RecordKind::Halt => break,
            RecordKind::Statement { .. } | RecordKind::Query { .. } => n += 1,
            RecordKind::HashThreshold(_) => {}
        }
    }
    n
}

#[test]
fn corpus_parses_and_record_counts_match_baseline() {
    let Some(dir) = corpus() else {
        eprintln!("no corpus beside the workspace; nothing checked");
        return;
    };
    let text = std::fs::read_to_string(dir.join("BASELINE.md")).expect("read BASELINE.md");
    let entries = baseline::parse(&text);
    assert!(entries.len() >= 50, "only {} baseline rows", entries.len());
    for e in &entries {
        let path = dir.join(&e.file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let script = parser::parse(&text).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(
            records_to_run(&script),
            e.passed + e.failed,
            "{}: records to run",
            e.file
        );
    }
}
