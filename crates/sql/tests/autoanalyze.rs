//! Automatic ANALYZE: committed changes past 50 rows + 10% of the analyzed rows get a table
//! analyzed by the database's worker; rolled-back changes count for nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use zizhu_sql::{Database, StatementResult};
use zizhu_types::Value;

/// `pg_class.reltuples` of `t` (-1 until analyzed).
fn reltuples(s: &mut zizhu_sql::Session<zizhu_engine_memory::MemoryEngine>) -> f32 {
    match s
        .execute_one("SELECT reltuples FROM pg_class WHERE relname = 't'")
        .unwrap()
    {
        StatementResult::Query { rows, .. } => match rows[0][0] {
            Value::Float32(r) => r,
            ref other => panic!("unexpected {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

/// Creates `t (id int PRIMARY KEY)` holding ids 1 to `rows`.
fn table_of(s: &mut zizhu_sql::Session<zizhu_engine_memory::MemoryEngine>, rows: u32) {
    s.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    s.execute(&format!(
        "INSERT INTO t SELECT i FROM generate_series(1, {rows}) AS x(i)"
    ))
    .unwrap();
}

/// Waits for the worker to give `t` this many analyzed rows.
fn wait_for(s: &mut zizhu_sql::Session<zizhu_engine_memory::MemoryEngine>, rows: f32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = reltuples(s);
        if now == rows {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "t was not analyzed at {rows} rows (reltuples {now})"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tables_are_analyzed_once_enough_committed_rows_change() {
    let db = Database::memory();
    db.start_autoanalyze(Duration::from_millis(50)).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .unwrap();
    s.execute("INSERT INTO t SELECT i, i FROM generate_series(1, 40) AS x(i)")
        .unwrap();
    // 960 rows rolled back count for nothing: had they counted, the next 5 rows would have got
    // the table analyzed at 45 rows, and the 10 after could not have again (10 < 50 + 4.5).
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO t SELECT i, i FROM generate_series(41, 1000) AS x(i)")
        .unwrap();
    s.execute("ROLLBACK").unwrap();
    s.execute("INSERT INTO t SELECT i, i FROM generate_series(41, 45) AS x(i)")
        .unwrap();
    assert_eq!(reltuples(&mut s), -1.0);
    // 40 + 5 + 10 = 55 committed changes: past 50 for a table never analyzed.
    s.execute("INSERT INTO t SELECT i, i FROM generate_series(46, 55) AS x(i)")
        .unwrap();
    wait_for(&mut s, 55.0);
    // Now 50 + 5.5 changes are needed: updates and deletes count too, in a block, and so do
    // rows changed with RETURNING.
    s.execute("BEGIN").unwrap();
    s.execute("UPDATE t SET v = -v WHERE id <= 30 RETURNING id")
        .unwrap();
    s.execute("DELETE FROM t WHERE id > 29").unwrap();
    s.execute("COMMIT").unwrap();
    wait_for(&mut s, 29.0);
    // The statistics are the ones ANALYZE gathers.
    match s
        .execute_one(
            "SELECT null_frac, n_distinct FROM pg_stats WHERE tablename = 't' AND attname = 'v'",
        )
        .unwrap()
    {
        StatementResult::Query { rows, .. } => {
            assert_eq!(rows, [vec![Value::Float32(0.0), Value::Float32(-1.0)]])
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// A table is analyzed at most once per naptime: changes past the threshold sooner wait for
/// it, and are analyzed once it has passed, with no further commit needed.
#[test]
fn a_table_is_analyzed_at_most_once_per_naptime() {
    let db = Database::memory();
    let naptime = Duration::from_secs(2);
    db.start_autoanalyze(naptime).unwrap();
    let mut s = db.session();
    table_of(&mut s, 100);
    wait_for(&mut s, 100.0);
    let first = Instant::now();
    s.execute("INSERT INTO t SELECT i FROM generate_series(101, 300) AS x(i)")
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    if first.elapsed() < naptime {
        assert_eq!(
            reltuples(&mut s),
            100.0,
            "analyzed again within the naptime"
        );
    }
    wait_for(&mut s, 300.0);
    assert!(first.elapsed() >= naptime - Duration::from_millis(600));
    db.stop_autoanalyze();
}

#[test]
fn without_the_worker_nothing_is_analyzed() {
    // Never started, and started then stopped (as the server does at shutdown).
    for start in [false, true] {
        let db = Database::memory();
        if start {
            db.start_autoanalyze(Duration::from_millis(50)).unwrap();
            db.stop_autoanalyze();
        }
        let mut s = db.session();
        table_of(&mut s, 500);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(reltuples(&mut s), -1.0, "started and stopped: {start}");
    }
}

/// ANALYZE waits for a concurrent ALTER TABLE and writes its statistics onto the altered
/// definition: it never brings back the definition it started from.
#[test]
fn analyze_during_alter_table_keeps_the_altered_definition() {
    let db = Database::memory();
    let mut s = db.session();
    table_of(&mut s, 100);
    s.execute("BEGIN").unwrap();
    s.execute("ALTER TABLE t ADD COLUMN c int DEFAULT 7")
        .unwrap();
    let analyzer = {
        let db = db.clone();
        std::thread::spawn(move || db.session().execute("ANALYZE t").map(|_| ()))
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!analyzer.is_finished(), "ANALYZE waits for the ALTER TABLE");
    s.execute("COMMIT").unwrap();
    analyzer.join().unwrap().unwrap();
    match s.execute_one("SELECT sum(c) FROM t").unwrap() {
        StatementResult::Query { rows, .. } => assert_eq!(rows, [vec![Value::Int64(700)]]),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(reltuples(&mut s), 100.0);
}

/// ANALYZE reads the rows at its snapshot and labels their statistics by that definition's
/// column names: a column dropped meanwhile gets none, and the others keep their own.
#[test]
fn analyze_during_drop_column_labels_statistics_by_name() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int PRIMARY KEY, b text, c int)")
        .unwrap();
    s.execute("INSERT INTO t SELECT i, 'b' || i, i % 4 FROM generate_series(1, 100) AS x(i)")
        .unwrap();
    s.execute("BEGIN").unwrap();
    s.execute("ALTER TABLE t DROP COLUMN b").unwrap();
    let analyzer = {
        let db = db.clone();
        std::thread::spawn(move || db.session().execute("ANALYZE t").map(|_| ()))
    };
    std::thread::sleep(Duration::from_millis(200));
    s.execute("COMMIT").unwrap();
    analyzer.join().unwrap().unwrap();
    match s
        .execute_one(
            "SELECT attname, n_distinct FROM pg_stats WHERE tablename = 't' ORDER BY attname",
        )
        .unwrap()
    {
        StatementResult::Query { rows, .. } => assert_eq!(
            rows,
            [
                vec![Value::Text("a".into()), Value::Float32(-1.0)],
                vec![Value::Text("c".into()), Value::Float32(4.0)],
            ]
        ),
        other => panic!("unexpected {other:?}"),
    }
}

/// Statistics steer plans, never results: an ANALYZE committed while a SERIALIZABLE
/// transaction has the table bound fails none of it (they used to be written into the table's
/// definition, which the transaction had read, and its commit failed with 40001).
#[test]
fn a_concurrent_analyze_fails_no_serializable_transaction() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .unwrap();
    s.execute("INSERT INTO t SELECT i, i % 10 FROM generate_series(1, 100) AS x(i)")
        .unwrap();
    s.execute("BEGIN ISOLATION LEVEL SERIALIZABLE").unwrap();
    s.execute("SELECT count(*) FROM t WHERE v = 3").unwrap();
    db.session().execute("ANALYZE t").unwrap();
    // The transaction plans with the statistics committed meanwhile, and commits.
    assert_eq!(reltuples(&mut s), 100.0);
    s.execute("INSERT INTO t VALUES (101, 3)").unwrap();
    s.execute("UPDATE t SET v = 4 WHERE id = 1").unwrap();
    s.execute("COMMIT").unwrap();
    // And the other way round: ANALYZE inside a SERIALIZABLE transaction.
    let mut other = db.session();
    s.execute("BEGIN ISOLATION LEVEL SERIALIZABLE").unwrap();
    s.execute("ANALYZE t").unwrap();
    other.execute("SELECT * FROM t WHERE v = 3").unwrap();
    other.execute("INSERT INTO t VALUES (102, 3)").unwrap();
    s.execute("COMMIT").unwrap();
    assert_eq!(reltuples(&mut other), 101.0);
}

/// DDL under REPEATABLE READ writes the definition; an ANALYZE committed after its snapshot
/// did not, so the DDL does not fail as a concurrent update.
#[test]
fn a_concurrent_analyze_fails_no_repeatable_read_ddl() {
    let db = Database::memory();
    let mut s = db.session();
    table_of(&mut s, 100);
    s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    s.execute("SELECT count(*) FROM t").unwrap();
    db.session().execute("ANALYZE t").unwrap();
    s.execute("ALTER TABLE t ADD COLUMN c int DEFAULT 7")
        .unwrap();
    s.execute("COMMIT").unwrap();
    assert_eq!(reltuples(&mut s), 100.0, "the statistics outlive the ALTER");
}

/// Statistics are written last-writer-wins: an ANALYZE inside a REPEATABLE READ transaction
/// does not fail because another ANALYZE stored statistics after its snapshot.
#[test]
fn analyze_under_repeatable_read_follows_a_concurrent_analyze() {
    let db = Database::memory();
    let mut s = db.session();
    table_of(&mut s, 100);
    s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    s.execute("SELECT count(*) FROM t").unwrap();
    let mut other = db.session();
    other
        .execute("INSERT INTO t SELECT i FROM generate_series(101, 150) AS x(i)")
        .unwrap();
    other.execute("ANALYZE t").unwrap();
    assert_eq!(
        reltuples(&mut s),
        150.0,
        "the newest statistics, even at an old snapshot"
    );
    s.execute("ANALYZE t").unwrap();
    s.execute("COMMIT").unwrap();
    // The last writer's: what the REPEATABLE READ snapshot held.
    assert_eq!(reltuples(&mut other), 100.0);
}

/// ANALYZE waits for a concurrent DROP TABLE and then stores nothing; a table created
/// afterwards under the same name starts without statistics.
#[test]
fn analyze_during_drop_table_stores_nothing() {
    let db = Database::memory();
    let mut s = db.session();
    table_of(&mut s, 100);
    s.execute("BEGIN").unwrap();
    s.execute("DROP TABLE t").unwrap();
    let analyzer = {
        let db = db.clone();
        std::thread::spawn(move || db.session().execute("ANALYZE t").map(|_| ()))
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!analyzer.is_finished(), "ANALYZE waits for the DROP TABLE");
    s.execute("COMMIT").unwrap();
    analyzer.join().unwrap().unwrap();
    s.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    assert_eq!(reltuples(&mut s), -1.0);
}

/// DROP DATABASE cancels an automatic ANALYZE working in that database, as PostgreSQL's ends
/// autovacuum workers, instead of refusing with 55006 because the worker is "another session".
/// A user's session still makes it refuse, at once.
#[test]
fn drop_database_cancels_an_automatic_analyze_in_it() {
    let db = Database::memory();
    db.start_autoanalyze(Duration::from_millis(50)).unwrap();
    let mut admin = db.session();
    admin.execute("CREATE ROLE app LOGIN SUPERUSER").unwrap();
    admin.execute("CREATE DATABASE shop").unwrap();
    {
        let mut shop = db.connect("shop", "app").unwrap();
        shop.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
            .unwrap();
        // Enough rows that the ANALYZE this queues is still reading when the DROP comes.
        shop.execute("INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 200000) AS x(i)")
            .unwrap();
        let err = admin.execute("DROP DATABASE shop").unwrap_err();
        assert_eq!(err.sqlstate(), "55006", "{err}");
    }
    admin.execute("DROP DATABASE shop").unwrap();
    assert!(db.connect("shop", "app").is_err());
    db.stop_autoanalyze();
}
