//! Schemas between sessions: DROP SCHEMA cannot orphan a table created in it concurrently,
//! and a schema created or dropped in one session is seen by the next statement of another
//! (the shared cache of committed schemas is invalidated when the changing transaction ends).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use zizhu_sql::{Database, StatementResult};
use zizhu_types::Value;

fn count(result: StatementResult) -> i64 {
    match result {
        StatementResult::Query { rows, .. } => match rows[0][0] {
            Value::Int64(n) => n,
            ref other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

/// A waits on DROP SCHEMA while B's transaction creates a table in it; once B commits, A
/// sees the table: without CASCADE it refuses (2BP01), with CASCADE it drops the table too.
/// Nothing is left in a schema that no longer exists.
#[test]
fn drop_schema_waits_for_a_table_being_created_in_it() {
    let db = Database::memory();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("CREATE SCHEMA app").unwrap();
    for (cascade, expect) in [("", Err("2BP01")), (" CASCADE", Ok(()))] {
        b.execute("BEGIN").unwrap();
        b.execute("CREATE TABLE app.t (id int PRIMARY KEY)")
            .unwrap();
        let dropper = std::thread::spawn(move || {
            let result = a.execute_one(&format!("DROP SCHEMA app{cascade}"));
            (a, result)
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !dropper.is_finished(),
            "DROP SCHEMA must wait for the creator"
        );
        b.execute("COMMIT").unwrap();
        let (back, result) = dropper.join().unwrap();
        a = back;
        match (result, expect) {
            (Err(e), Err(code)) => assert_eq!(e.sqlstate(), code, "{e}"),
            (Ok(_), Ok(())) => {}
            (other, _) => panic!("DROP SCHEMA app{cascade}: {other:?}"),
        }
        if expect.is_err() {
            b.execute("DROP TABLE app.t").unwrap();
        }
    }
    let left = a
        .execute_one("SELECT count(*) FROM pg_class WHERE relname = 't'")
        .unwrap();
    assert_eq!(count(left), 0);
    let schemas = a
        .execute_one("SELECT count(*) FROM pg_namespace WHERE nspname = 'app'")
        .unwrap();
    assert_eq!(count(schemas), 0);
}

/// A table cannot be created in a schema a concurrent transaction has dropped: the creator
/// waits for the dropper and then finds the schema gone (3F000).
#[test]
fn create_in_a_schema_being_dropped_waits_and_fails() {
    let db = Database::memory();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("CREATE SCHEMA app").unwrap();
    a.execute("BEGIN").unwrap();
    a.execute("DROP SCHEMA app").unwrap();
    let creator = std::thread::spawn(move || {
        let result = b.execute_one("CREATE TABLE app.t (id int)");
        (b, result)
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !creator.is_finished(),
        "CREATE TABLE must wait for the dropper"
    );
    a.execute("COMMIT").unwrap();
    let (_, result) = creator.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.sqlstate(), "3F000", "{err}");
}

/// Search paths are resolved through a cache of committed schemas; a schema created, renamed
/// or dropped by one session is seen by the next statement of another, and a transaction
/// sees its own uncommitted schema.
#[test]
fn other_sessions_see_schema_changes_at_once() {
    let db = Database::memory();
    let mut a = db.session();
    let mut b = db.session();
    b.execute("SET search_path TO app, public").unwrap();
    b.execute("CREATE TABLE t (v int)").unwrap();
    b.execute("INSERT INTO t VALUES (1)").unwrap();
    assert_eq!(count(b.execute_one("SELECT count(*) FROM t").unwrap()), 1);

    a.execute("BEGIN").unwrap();
    a.execute("CREATE SCHEMA app").unwrap();
    a.execute("SET search_path TO app").unwrap();
    a.execute("CREATE TABLE t (v int)").unwrap();
    assert_eq!(count(a.execute_one("SELECT count(*) FROM t").unwrap()), 0);
    // Not committed: B still finds public.t first.
    assert_eq!(count(b.execute_one("SELECT count(*) FROM t").unwrap()), 1);
    a.execute("COMMIT").unwrap();
    // Committed: app comes first on B's path now.
    assert_eq!(count(b.execute_one("SELECT count(*) FROM t").unwrap()), 0);

    a.execute("ALTER SCHEMA app RENAME TO gone").unwrap();
    assert_eq!(count(b.execute_one("SELECT count(*) FROM t").unwrap()), 1);
    a.execute("DROP SCHEMA gone CASCADE").unwrap();
    assert_eq!(count(b.execute_one("SELECT count(*) FROM t").unwrap()), 1);
}
