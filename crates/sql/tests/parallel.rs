//! Aggregates over a large table's scan run in parallel (the executor's `parallel` module):
//! they answer as PostgreSQL 15 does and as the serial aggregate does, at the transaction's
//! snapshot and with its own writes, and fail with the same errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex, MutexGuard};

use zizhu_engine_memory::MemoryEngine;
use zizhu_sql::{Database, Session, StatementResult};
use zizhu_types::Value;

/// Tests run one at a time: parallel workers are limited over the whole process, and a test
/// that checks its query had one must not find them taken by another test's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The tables, in a session that may use one worker.
fn setup() -> (
    MutexGuard<'static, ()>,
    Arc<Database<MemoryEngine>>,
    Session<MemoryEngine>,
) {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let db = Database::memory();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE p (id int PRIMARY KEY, g int NOT NULL, v int, f float8, s text);
         INSERT INTO p SELECT i, i % 7, CASE WHEN i % 11 = 0 THEN NULL ELSE i % 1000 END,
             i / 8.0, 'r' || i FROM generate_series(1, 100000) i;
         CREATE TABLE q (k int, w int);
         INSERT INTO q SELECT i % 5000, i FROM generate_series(1, 50000) i;
         ANALYZE;
         SET max_parallel_workers_per_gather = 1",
    )
    .unwrap();
    (guard, db, s)
}

/// The rows of a query, each as its values joined by `|`, as `psql -At` prints them.
fn query(s: &mut Session<MemoryEngine>, sql: &str) -> Vec<String> {
    match s.execute(sql).unwrap().pop() {
        Some(StatementResult::Query { rows, .. }) => rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| match v {
                        Value::Null => String::new(),
                        Value::Bool(b) => if *b { "t" } else { "f" }.to_string(),
                        v => v.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect(),
        other => panic!("not rows: {other:?}"),
    }
}

fn workers_available() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Queries over `p` and `q` with what PostgreSQL 15 returns for them on the same data.
const CASES: &[(&str, &[&str])] = &[
    (
        "SELECT g, count(*), count(v), sum(v), avg(v), min(s), max(v), bool_or(v > 998),
                count(*) FILTER (WHERE v < 10), sum(f)
         FROM p WHERE id % 3 <> 0 GROUP BY g ORDER BY g",
        &[
            "0|9524|8658|4329565|500.0652575652575653|r10003|999|t|83|59526190.5",
            "1|9524|8658|4325710|499.6200046200046200|r1|999|t|89|59519047.5",
            "2|9524|8658|4320857|499.0594825594825595|r100|999|t|89|59524404.75",
            "3|9524|8659|4325993|499.5949878738884398|r10|999|t|81|59529762",
            "4|9524|8658|4328149|499.9017094017094017|r10000|999|t|88|59522619",
            "5|9524|8658|4323273|499.3385308385308385|r100000|999|t|89|59527976.25",
            "6|9523|8658|4319420|498.8935088935088935|r1000|999|t|88|59520833.375",
        ],
    ),
    (
        "SELECT g, count(*), sum(v) FROM p WHERE s LIKE 'r1%' AND v IS NOT NULL
         GROUP BY g ORDER BY g",
        &[
            "0|1443|719646",
            "1|1443|716066",
            "2|1442|712462",
            "3|1445|719098",
            "4|1443|717309",
            "5|1443|713630",
            "6|1443|711216",
        ],
    ),
    (
        "SELECT count(*), sum(p.v + q.w), max(q.w) FROM p JOIN q ON p.id = q.k WHERE p.g <> 2",
        &["42850|993483400|49999"],
    ),
    (
        "SELECT count(*), count(q.k), sum(q.w), sum(p.v) FROM p LEFT JOIN q ON q.k = p.id * 3",
        &["114994|16660|416508330|51316830"],
    ),
    ("SELECT count(*), sum(id) FROM p", &["100000|5000050000"]),
    (
        "SELECT round(stddev(v)::numeric, 9), round(var_pop(v), 6) FROM p",
        &["288.679436967|83334.900643"],
    ),
    (
        "SELECT round(variance(f)::numeric, 4), round(stddev_pop(f)::numeric, 6) FROM p",
        &["13020963.5417|3608.439182"],
    ),
    (
        "SELECT count(*) FROM p WHERE now() > '2000-01-01' AND current_date > '2000-01-01'",
        &["100000"],
    ),
];

#[test]
fn parallel_aggregates_answer_as_postgresql_and_the_serial_aggregate_do() {
    let (_guard, _db, mut s) = setup();
    for (sql, want) in CASES {
        assert_eq!(query(&mut s, sql), *want, "{sql}");
        if workers_available() {
            let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
            assert!(plan.contains("workers=1"), "{sql}\n{plan}");
        }
    }
    s.execute("SET max_parallel_workers_per_gather = 0")
        .unwrap();
    for (sql, want) in CASES {
        assert_eq!(query(&mut s, sql), *want, "serially: {sql}");
        let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
        assert!(!plan.contains("workers="), "{sql}\n{plan}");
    }
}

/// A small table is read by the session's thread alone.
#[test]
fn a_small_table_is_aggregated_without_workers() {
    let (_guard, _db, mut s) = setup();
    s.execute(
        "CREATE TABLE small (id int PRIMARY KEY);
         INSERT INTO small SELECT i FROM generate_series(1, 19000) i",
    )
    .unwrap();
    let plan = query(&mut s, "EXPLAIN ANALYZE SELECT count(*) FROM small").join("\n");
    assert!(!plan.contains("workers="), "{plan}");
    assert_eq!(query(&mut s, "SELECT count(*) FROM small"), ["19000"]);
}

/// Workers read the transaction's snapshot: not what others commit after it. Where the
/// transaction wrote in the table, its own rows count (the aggregate is then serial).
#[test]
fn a_parallel_aggregate_sees_the_snapshot_and_the_transactions_own_writes() {
    let (_guard, db, mut s) = setup();
    let mut other = db.session();
    s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    assert_eq!(query(&mut s, "SELECT count(*) FROM q"), ["50000"]);
    other
        .execute("INSERT INTO p SELECT i, 0, 1, 0, '' FROM generate_series(100001, 130000) i")
        .unwrap();
    let sql = "SELECT count(*), sum(id) FROM p";
    assert_eq!(query(&mut s, sql), ["100000|5000050000"]);
    if workers_available() {
        let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
        assert!(plan.contains("workers=1"), "{plan}");
    }
    s.execute("INSERT INTO p VALUES (200000, 0, 1, 0, ''); DELETE FROM p WHERE id = 1")
        .unwrap();
    assert_eq!(query(&mut s, sql), ["100000|5000249999"]);
    s.execute("COMMIT").unwrap();
    assert_eq!(query(&mut s, "SELECT count(*) FROM p"), ["130000"]);
}

/// An error in any participant is the statement's, and the session goes on; groups that
/// outgrow memory make the aggregate run serially, spilling.
#[test]
fn parallel_aggregates_fail_and_spill_as_serial_ones_do() {
    let (_guard, _db, mut s) = setup();
    let err = s
        .execute("SELECT sum(1 / (id - 70000)) FROM p")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "22012", "{err}");
    assert_eq!(query(&mut s, "SELECT count(*) FROM q"), ["50000"]);
    s.execute("SET work_mem = '64kB'").unwrap();
    let sql =
        "SELECT count(*), sum(c) FROM (SELECT id % 40000 AS k, count(*) AS c FROM p GROUP BY 1) x";
    assert_eq!(query(&mut s, sql), ["40000|100000"]);
    let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
    assert!(plan.contains("Temporary Files"), "{plan}");
}

/// Sorts of `p` with what PostgreSQL 15 returns: the last rows of each order, reached through
/// OFFSET (a full sort, not a top-N one), so every row must have come through in place.
const SORTS: &[(&str, &[&str])] = &[
    (
        "SELECT id, v FROM p ORDER BY v NULLS FIRST, id DESC OFFSET 99995",
        &["4999|999", "3999|999", "2999|999", "1999|999", "999|999"],
    ),
    (
        "SELECT s, g FROM p WHERE g <> 3 ORDER BY s DESC, g OFFSET 85709",
        &["r100000|5", "r10000|4", "r1000|6", "r100|2", "r1|1"],
    ),
    (
        "SELECT id FROM p ORDER BY v % 10, f DESC OFFSET 99997",
        &["33", "22", "11"],
    ),
];

/// A sort whose rows fit `work_mem` runs in parallel, and its order is the serial sort's.
#[test]
fn parallel_sorts_order_rows_as_postgresql_and_the_serial_sort_do() {
    let (_guard, _db, mut s) = setup();
    s.execute("SET work_mem = '256MB'").unwrap();
    let whole = "SELECT id, v, s FROM p ORDER BY v DESC NULLS LAST, s";
    let parallel = query(&mut s, whole);
    assert_eq!(parallel.len(), 100_000);
    for (sql, want) in SORTS {
        assert_eq!(query(&mut s, sql), *want, "{sql}");
        if workers_available() {
            let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
            assert!(plan.contains("workers=1"), "{sql}\n{plan}");
        }
    }
    s.execute("SET max_parallel_workers_per_gather = 0")
        .unwrap();
    assert_eq!(query(&mut s, whole), parallel);
    for (sql, want) in SORTS {
        assert_eq!(query(&mut s, sql), *want, "serially: {sql}");
    }
}

/// A sort larger than `work_mem` runs serially and spills; an error in a sort key is the
/// statement's.
#[test]
fn a_parallel_sort_past_work_mem_runs_serially_and_errors_are_the_statements() {
    let (_guard, _db, mut s) = setup();
    s.execute("SET work_mem = '1MB'").unwrap();
    for (sql, want) in SORTS {
        assert_eq!(query(&mut s, sql), *want, "{sql}");
        let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
        assert!(
            plan.contains("Temporary Files") && !plan.contains("workers="),
            "{plan}"
        );
    }
    s.execute("SET work_mem = '256MB'").unwrap();
    let err = s
        .execute("SELECT id FROM p ORDER BY 1 / (id - 90000) OFFSET 5")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "22012", "{err}");
    assert_eq!(query(&mut s, "SELECT count(*) FROM q"), ["50000"]);
}

/// A generic plan's parameters reach the workers (their filter would fail without them).
#[test]
fn a_generic_plans_parameters_reach_the_workers() {
    let (_guard, _db, mut s) = setup();
    s.execute("SET plan_cache_mode = force_generic_plan")
        .unwrap();
    let sql = "SELECT count(*), sum(v) FROM p WHERE g = $1";
    let plan = query(
        &mut s,
        &format!("EXPLAIN ANALYZE {}", sql.replace("$1", "3")),
    )
    .join("\n");
    if workers_available() {
        assert!(plan.contains("workers=1"), "{plan}");
    }
    let prepared = s.prepare(sql, &[]).unwrap();
    for _ in 0..3 {
        match s
            .execute_prepared(&prepared, vec![Value::Int32(3)])
            .unwrap()
        {
            StatementResult::Query { rows, .. } => {
                assert_eq!(rows, vec![vec![Value::Int64(14286), Value::Int64(6488494)]])
            }
            other => panic!("not rows: {other:?}"),
        }
    }
}

/// A hash join whose build side outgrows `hash_mem` runs serially, as a spilling join.
#[test]
fn a_parallel_join_with_a_build_side_past_memory_runs_serially() {
    let (_guard, _db, mut s) = setup();
    s.execute("SET work_mem = '64kB'").unwrap();
    let sql = "SELECT count(*), sum(p.v + q.w) FROM p JOIN q ON p.id = q.k WHERE p.g <> 2";
    assert_eq!(query(&mut s, sql), ["42850|993483400"]);
    let plan = query(&mut s, &format!("EXPLAIN ANALYZE {sql}")).join("\n");
    assert!(
        plan.contains("Temporary Files") && !plan.contains("workers="),
        "{plan}"
    );
    // The scan counts are the serial run's alone, not the abandoned attempt's too.
    assert!(plan.contains("(actual rows=85714 loops=1 "), "{plan}");
}
