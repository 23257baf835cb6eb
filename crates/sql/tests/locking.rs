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

/// INSERT checks its rows a batch at a time, but a row waits for a lock only once the rows
/// before it are in, as row by row: an earlier row's unique violation is reported at once,
/// not after a wait for a later row's key.
#[test]
fn an_insert_fails_on_an_earlier_row_before_waiting_for_a_later_one() {
    let db = Database::memory();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("CREATE TABLE u (id int PRIMARY KEY, code int UNIQUE)")
        .unwrap();
    a.execute("INSERT INTO u VALUES (1000, 7)").unwrap();
    a.execute("BEGIN").unwrap();
    a.execute("INSERT INTO u VALUES (500, 500)").unwrap();
    // Without the order, B would wait for A's key 500 and time out with 55P03.
    b.execute("SET lock_timeout = '3s'").unwrap();
    let err = b
        .execute_one("INSERT INTO u VALUES (1, 7), (500, 8)")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23505", "{err}");
    // A row after the first that waits still waits, and then sees A's row.
    let waiter = std::thread::spawn(move || {
        let result = b.execute_one("INSERT INTO u VALUES (2, 2), (500, 9)");
        (result.map(|_| ()), b)
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    a.execute("COMMIT").unwrap();
    let (result, mut b) = waiter.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.sqlstate(), "23505", "{err}");
    let count = b.execute_one("SELECT count(*) FROM u").unwrap();
    match count {
        StatementResult::Query { rows, .. } => assert_eq!(rows[0][0], Value::Int64(2)),
        other => panic!("unexpected {other:?}"),
    }
}
