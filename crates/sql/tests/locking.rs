//! SELECT ... FOR UPDATE between two sessions: NOWAIT fails with 55P03, SKIP LOCKED passes over
//! locked rows, and a waiter under READ COMMITTED sees the newest committed row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zizhu_sql::{Database, StatementResult};
use zizhu_types::Value;

fn ids(result: StatementResult) -> Vec<i32> {
    match result {
        StatementResult::Query { rows, .. } => rows
            .iter()
            .map(|r| match r[0] {
                Value::Int32(v) => v,
                ref other => panic!("unexpected {other:?}"),
            })
            .collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn nowait_skip_locked_and_rereading_the_newest_row() {
    let db = Database::memory();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("CREATE TABLE q (id int PRIMARY KEY, v int)")
        .unwrap();
    a.execute("INSERT INTO q VALUES (1, 10), (2, 20), (3, 30)")
        .unwrap();

    a.execute("BEGIN").unwrap();
    let taken = ids(a
        .execute_one("SELECT id FROM q ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED")
        .unwrap());
    assert_eq!(taken, vec![1], "LIMIT locks only the row it returns");

    b.execute("BEGIN").unwrap();
    let err = b
        .execute_one("SELECT id FROM q WHERE id = 1 FOR UPDATE NOWAIT")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "55P03", "{err}");
    b.execute("ROLLBACK").unwrap();
    b.execute("BEGIN").unwrap();
    let next = ids(b
        .execute_one("SELECT id FROM q ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED")
        .unwrap());
    assert_eq!(next, vec![2], "a second worker skips the locked row");
    b.execute("COMMIT").unwrap();

    // B waits for A's lock on row 1; A updates the row and commits; B then acts on the new
    // value (EvalPlanQual), which its statement snapshot did not contain.
    b.execute("BEGIN").unwrap();
    let b_txn = b.transaction_id().unwrap();
    let waiter = std::thread::spawn(move || {
        let result = b
            .execute_one("SELECT v FROM q WHERE id = 1 AND v >= 10 FOR UPDATE")
            .unwrap();
        b.execute("COMMIT").unwrap();
        result
    });
    let start = std::time::Instant::now();
    while !db.mvcc().is_waiting(b_txn) {
        assert!(
            start.elapsed().as_secs() < 10,
            "B never waited for A's row lock"
        );
        std::thread::yield_now();
    }
    a.execute("UPDATE q SET v = 11 WHERE id = 1").unwrap();
    a.execute("COMMIT").unwrap();
    match waiter.join().unwrap() {
        StatementResult::Query { rows, .. } => assert_eq!(rows, vec![vec![Value::Int32(11)]]),
        other => panic!("unexpected {other:?}"),
    }
}
