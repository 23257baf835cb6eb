//! Foreign keys between concurrent sessions: a child inserted while its parent is deleted
//! elsewhere. Whichever commits first wins and the other gets 23503, never an orphan; a plain
//! update of the parent does not wait for the child's FOR KEY SHARE lock. The single-session
//! behaviour is specified in `slt/foreign_keys.slt`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use zizhu_engine_memory::MemoryEngine;
use zizhu_sql::{Database, Session, StatementResult};
use zizhu_types::Value;

fn setup() -> Arc<Database<MemoryEngine>> {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE parent (id int PRIMARY KEY, note text)")
        .unwrap();
    s.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
        .unwrap();
    s.execute("INSERT INTO parent VALUES (1, 'a'), (2, 'b')")
        .unwrap();
    db
}

/// Runs `sql` on `session` in a thread, waits until it blocks on a lock, and returns its
/// handle.
fn blocked(
    db: &Arc<Database<MemoryEngine>>,
    mut session: Session<MemoryEngine>,
    sql: &'static str,
) -> std::thread::JoinHandle<(Session<MemoryEngine>, zizhu_sql::Result<StatementResult>)> {
    let txn = session.transaction_id().expect("in a transaction");
    let handle = std::thread::spawn(move || {
        let result = session.execute_one(sql);
        (session, result)
    });
    let start = std::time::Instant::now();
    while !db.mvcc().is_waiting(txn) {
        assert!(start.elapsed().as_secs() < 10, "{sql} never waited");
        std::thread::yield_now();
    }
    handle
}

fn count(session: &mut Session<MemoryEngine>, sql: &str) -> i64 {
    match session.execute_one(sql).unwrap() {
        StatementResult::Query { rows, .. } => match rows[0][0] {
            Value::Int64(n) => n,
            ref other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_parent_deleted_while_a_child_is_inserted_never_leaves_an_orphan() {
    for isolation in ["READ COMMITTED", "REPEATABLE READ"] {
        // The child's insert commits first: the delete, which waited, then sees the child.
        let db = setup();
        let (mut a, mut b) = (db.session(), db.session());
        a.execute("BEGIN").unwrap();
        a.execute("INSERT INTO child VALUES (10, 1)").unwrap();
        b.execute(&format!("BEGIN ISOLATION LEVEL {isolation}"))
            .unwrap();
        let waiter = blocked(&db, b, "DELETE FROM parent WHERE id = 1");
        a.execute("COMMIT").unwrap();
        let (mut b, result) = waiter.join().unwrap();
        let err = result.expect_err("the delete must fail");
        // Even under REPEATABLE READ, whose snapshot lacks the child: as PostgreSQL does.
        assert_eq!(err.sqlstate(), "23503", "{isolation}: {err}");
        b.execute("ROLLBACK").unwrap();
        assert_eq!(count(&mut b, "SELECT count(*) FROM parent WHERE id = 1"), 1);

        // The delete commits first: the insert, which waited, then finds no parent.
        let db = setup();
        let (mut a, mut b) = (db.session(), db.session());
        a.execute("BEGIN").unwrap();
        a.execute("DELETE FROM parent WHERE id = 2").unwrap();
        b.execute(&format!("BEGIN ISOLATION LEVEL {isolation}"))
            .unwrap();
        let waiter = blocked(&db, b, "INSERT INTO child VALUES (20, 2)");
        a.execute("COMMIT").unwrap();
        let (mut b, result) = waiter.join().unwrap();
        let err = result.expect_err("the insert must fail");
        // PostgreSQL: 23503 under READ COMMITTED; 40001 under REPEATABLE READ, whose
        // snapshot still has the parent.
        let expected = if isolation == "READ COMMITTED" {
            "23503"
        } else {
            "40001"
        };
        assert_eq!(err.sqlstate(), expected, "{isolation}: {err}");
        b.execute("ROLLBACK").unwrap();
        assert_eq!(count(&mut b, "SELECT count(*) FROM child"), 0);
    }
}

#[test]
fn a_child_insert_does_not_block_a_plain_update_of_its_parent() {
    let db = setup();
    let (mut a, mut b) = (db.session(), db.session());
    a.execute("BEGIN").unwrap();
    a.execute("INSERT INTO child VALUES (10, 1)").unwrap();
    // FOR KEY SHARE lets a non-key update through at once; a key change must wait.
    b.execute("UPDATE parent SET note = 'changed' WHERE id = 1")
        .unwrap();
    b.execute("BEGIN").unwrap();
    let waiter = blocked(&db, b, "UPDATE parent SET id = 3 WHERE id = 1");
    a.execute("COMMIT").unwrap();
    let (mut b, result) = waiter.join().unwrap();
    let err = result.expect_err("re-keying a referenced parent must fail");
    assert_eq!(err.sqlstate(), "23503", "{err}");
    b.execute("ROLLBACK").unwrap();
}
