//! Sequence counters outlive a restart: numbering resumes past every value that could have been
//! handed out (values may be skipped, never repeated), and a rolled-back nextval stays used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zizhu_sql::{Database, StatementResult};
use zizhu_types::Value;

fn nextval(session: &mut zizhu_sql::Session<zizhu_engine_redb::RedbEngine>) -> i64 {
    match session.execute_one("SELECT nextval('s')").unwrap() {
        StatementResult::Query { rows, .. } => match rows[0][0] {
            Value::Int64(v) => v,
            ref other => panic!("nextval gave {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn sequence_values_never_repeat_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let db = Database::open(
            &dir.path().join("data"),
            zizhu_sql::OpenOptions::key_file(dir.path().join("master.key")),
        )
        .unwrap();
        let mut session = db.session();
        session.execute("CREATE SEQUENCE IF NOT EXISTS s").unwrap();
        session.execute("BEGIN").unwrap();
        seen.push(nextval(&mut session));
        session.execute("ROLLBACK").unwrap();
        for _ in 0..40 {
            seen.push(nextval(&mut session));
        }
        // Dropped without a clean shutdown of the counters: the next open resumes from the
        // durable high-water mark.
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        seen.len(),
        "a value was handed out twice: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "values went backwards: {seen:?}"
    );
}
