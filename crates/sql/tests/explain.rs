//! EXPLAIN prints the plan tree the optimizer chose; EXPLAIN ANALYZE runs it and adds the rows
//! and time of each node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zizhu_sql::{Database, StatementResult};
use zizhu_types::Value;

fn lines(result: StatementResult) -> Vec<String> {
    match result {
        StatementResult::Query { rows, .. } => rows
            .into_iter()
            .map(|r| match &r[0] {
                Value::Text(t) => t.clone(),
                other => panic!("unexpected {other:?}"),
            })
            .collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn explain_shows_the_chosen_access_paths() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, k int, v text)")
        .unwrap();
    s.execute("CREATE INDEX t_k ON t (k)").unwrap();
    let plan = lines(
        s.execute_one("EXPLAIN SELECT v FROM t WHERE id = 7")
            .unwrap(),
    );
    assert_eq!(plan, ["Project: v", "└─ KeyLookup: t (7) where (id = 7)"]);
    let plan = lines(
        s.execute_one("EXPLAIN SELECT v FROM t WHERE k IN (1, 2) ORDER BY v LIMIT 3")
            .unwrap(),
    );
    assert_eq!(
        plan,
        [
            "Limit: 3",
            "└─ Order: v",
            "   └─ Project: v",
            "      └─ IndexScan: t.t_k [k IN (1, 2)] where (k IN (1, 2))",
        ]
    );
    // Constant folding: a comparison with NULL folds away.
    let plan = lines(
        s.execute_one("EXPLAIN SELECT v FROM t WHERE k / 0 = NULL")
            .unwrap(),
    );
    assert_eq!(plan, ["Project: v", "└─ Scan: t [reads v] where NULL"]);
    // An equal-column join is a hash join; one without equal columns stays a nested loop. A
    // condition on one input filters that input before the join.
    s.execute("CREATE TABLE u (id int, w text)").unwrap();
    let plan = lines(
        s.execute_one("EXPLAIN SELECT v, w FROM t JOIN u ON t.k = u.id AND u.w <> 'x'")
            .unwrap(),
    );
    assert_eq!(
        plan,
        [
            "Project: v, w",
            "└─ HashJoin: inner on (t.k = u.id)",
            "   ├─ Scan: t",
            "   └─ Scan: u where (u.w <> 'x')",
        ]
    );
    // The same for a comma join with its conditions in WHERE, across three tables: each
    // condition goes to the lowest join (or scan) that has its columns.
    s.execute("CREATE TABLE x (id int, u_id int)").unwrap();
    let plan = lines(
        s.execute_one(
            "EXPLAIN SELECT v FROM t, u, x WHERE t.k = u.id AND x.u_id = u.id AND t.v = 'a' \
             AND x.id > 3 AND t.k + x.id = 9",
        )
        .unwrap(),
    );
    assert_eq!(
        plan,
        [
            "Project: v",
            "└─ HashJoin: inner on ((x.u_id = u.id) AND ((t.k + x.id) = 9))",
            "   ├─ HashJoin: inner on (t.k = u.id)",
            "   │  ├─ Scan: t where (t.v = 'a')",
            "   │  └─ Scan: u",
            "   └─ Scan: x where (x.id > 3)",
        ]
    );
    // Not through an outer join, whose unmatched rows the condition must still see.
    let plan = lines(
        s.execute_one("EXPLAIN SELECT v FROM t LEFT JOIN u ON t.k = u.id WHERE u.w IS NULL")
            .unwrap(),
    );
    assert_eq!(plan[1], "└─ Filter: (u.w IS NULL)");
    let plan = lines(
        s.execute_one("EXPLAIN SELECT v FROM t LEFT JOIN u ON t.k < u.id")
            .unwrap(),
    );
    assert_eq!(plan[1], "└─ NestedLoopJoin: left on (t.k < u.id)");
    // Keys may be expressions of one side each; an operand reading both sides, or a volatile
    // one, cannot be hashed.
    let mut second = |sql: &str| lines(s.execute_one(sql).unwrap())[1].clone();
    assert_eq!(
        second("EXPLAIN SELECT v FROM t JOIN u ON u.id = t.k * 2 - 1"),
        "└─ HashJoin: inner on (u.id = ((t.k * 2) - 1))"
    );
    assert_eq!(
        second("EXPLAIN SELECT v FROM t JOIN u ON t.k + u.id = 3"),
        "└─ NestedLoopJoin: inner on ((t.k + u.id) = 3)"
    );
    assert_eq!(
        second("EXPLAIN SELECT v FROM t JOIN u ON t.k = u.id + floor(random())"),
        "└─ NestedLoopJoin: inner on (t.k = (u.id + floor(random())))"
    );
}

#[test]
fn explain_shows_range_scans_and_index_order() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int, b int, c text, d char(3), PRIMARY KEY (a, b))")
        .unwrap();
    s.execute("CREATE INDEX t_c ON t (c)").unwrap();
    s.execute("CREATE INDEX t_d ON t (d)").unwrap();
    // A pinned prefix of a composite primary key, and a range on its next column.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t WHERE a = 1 AND b BETWEEN 2 AND 5")
                .unwrap()
        )[1],
        "└─ IndexScan: t by primary key [a = 1 AND b >= 2 AND b <= 5] \
         where ((a = 1) AND ((b >= 2) AND (b <= 5)))"
    );
    // The tightest of several bounds; a constant on the left is flipped.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t WHERE c > 'a' AND c >= 'b' AND 'x' > c")
                .unwrap()
        )[1],
        "└─ IndexScan: t.t_c [c >= 'b' AND c < 'x'] \
         where (((c > 'a') AND (c >= 'b')) AND ('x' > c))"
    );
    // At one value, an exclusive bound is the tighter, whichever comes first.
    for sql in [
        "EXPLAIN SELECT c FROM t WHERE c >= 'k' AND c > 'k'",
        "EXPLAIN SELECT c FROM t WHERE c > 'k' AND c >= 'k'",
    ] {
        assert!(
            lines(s.execute_one(sql).unwrap())[1].starts_with("└─ IndexScan: t.t_c [c > 'k'] "),
            "{sql}"
        );
    }
    // A bound that a cast would round is left to the filter, as are blank-padded char keys.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t WHERE a > 2.5")
                .unwrap()
        )[1],
        "└─ Scan: t [reads a, c] where (a > 2.5)"
    );
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t WHERE d > 'a'")
                .unwrap()
        )[1],
        // The literal is blank-padded as the char(3) values are.
        "└─ Scan: t [reads c, d] where (d > 'a  ')"
    );
    // ORDER BY the primary key needs no sort, either way; DESC reads backward.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t ORDER BY a DESC, b DESC")
                .unwrap()
        ),
        [
            "Project: c",
            "└─ Project: c, a, b",
            "   └─ IndexScan: t by primary key [all] backward",
        ]
    );
    // Mixed directions, or NULLS placement an index does not have, still sort.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t ORDER BY a, b DESC")
                .unwrap()
        )[1],
        "└─ Order: #1, #2 desc"
    );
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t ORDER BY c NULLS FIRST LIMIT 1")
                .unwrap()
        )[1],
        "└─ Order: c nulls first"
    );
    // Under a LIMIT, a secondary index gives the order and the scan stops early.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t ORDER BY c DESC LIMIT 5")
                .unwrap()
        ),
        [
            "Limit: 5",
            "└─ Project: c",
            "   └─ IndexScan: t.t_c [all] backward",
        ]
    );
    // A pinned leading column does not disturb the order of the next.
    assert_eq!(
        lines(
            s.execute_one("EXPLAIN SELECT c FROM t WHERE a = 3 ORDER BY b LIMIT 5")
                .unwrap()
        ),
        [
            "Limit: 5",
            "└─ Project: c",
            "   └─ Project: c, b",
            "      └─ IndexScan: t by primary key [a = 3] where (a = 3)",
        ]
    );
}

#[test]
fn explain_analyze_counts_rows_per_node() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, k int)")
        .unwrap();
    s.execute("INSERT INTO t SELECT g, g % 3 FROM generate_series(1, 30) AS g")
        .unwrap();
    let plan = lines(
        s.execute_one("EXPLAIN ANALYZE SELECT k, count(*) FROM t WHERE id > 10 GROUP BY k")
            .unwrap(),
    );
    assert!(
        plan[0].starts_with("Project: k, count(*) (actual rows=3 loops=1 time="),
        "{plan:?}"
    );
    assert!(
        plan[1].contains("Aggregate") && plan[1].contains("actual rows=3 "),
        "{plan:?}"
    );
    assert!(
        plan[2].contains("IndexScan: t by primary key [id > 10] where")
            && plan[2].contains("actual rows=20 "),
        "{plan:?}"
    );
    assert!(
        plan.last().unwrap().starts_with("Execution Time: "),
        "{plan:?}"
    );
    // The correlated subquery runs once per outer row.
    let plan = lines(
        s.execute_one("EXPLAIN ANALYZE SELECT id FROM t a WHERE id <= 4 AND EXISTS (SELECT 1 FROM t b WHERE b.id = a.id + 1)")
            .unwrap(),
    );
    assert!(
        plan.iter().any(|l| l.contains("actual rows=4 ")),
        "{plan:?}"
    );
}

#[test]
fn work_mem_decides_whether_sorts_joins_and_aggregates_spill() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, g int, pad text)")
        .unwrap();
    s.execute(
        "INSERT INTO t SELECT i, i % 997, repeat('x', 40) FROM generate_series(1, 5000) AS i",
    )
    .unwrap();
    let queries = [
        "SELECT id, pad FROM t ORDER BY pad, id DESC",
        "SELECT g, count(*), sum(id) FROM t GROUP BY g",
        "SELECT a.id, b.g FROM t a JOIN t b ON b.id = a.id + 1",
    ];
    for sql in queries {
        let mut results = Vec::new();
        for (work_mem, spills) in [("4MB", false), ("64kB", true)] {
            s.execute(&format!("SET work_mem = '{work_mem}'")).unwrap();
            let plan = lines(s.execute_one(&format!("EXPLAIN ANALYZE {sql}")).unwrap());
            let temp = plan.iter().any(|l| l.starts_with("Temporary Files: "));
            assert_eq!(temp, spills, "{sql} at work_mem {work_mem}: {plan:?}");
            let StatementResult::Query { mut rows, .. } = s.execute_one(sql).unwrap() else {
                panic!("{sql}: not a query");
            };
            rows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            results.push(rows);
        }
        assert!(!results[0].is_empty(), "{sql}");
        assert_eq!(results[0], results[1], "{sql}: spilling changed the answer");
    }
}

/// A hash join holds `work_mem` times `hash_mem_multiplier` before it spills, as in PostgreSQL
/// 15; a sort holds `work_mem`.
#[test]
fn hash_tables_get_hash_mem_multiplier_times_work_mem() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE a (k int, v int); CREATE TABLE b (k int, w int)")
        .unwrap();
    s.execute(
        "INSERT INTO a SELECT g, g % 7 FROM generate_series(1, 3000) AS g;
         INSERT INTO b SELECT g, g % 5 FROM generate_series(1, 3000) AS g",
    )
    .unwrap();
    // 3,000 rows of two integers take about 250 kB as held rows: over 128 kB, under 4 x 128 kB.
    s.execute("SET work_mem = '128kB'").unwrap();
    let spills = |s: &mut zizhu_sql::Session<_>, sql: &str| {
        let plan = lines(s.execute_one(sql).unwrap());
        plan.iter().any(|l| l.starts_with("Temporary Files: "))
    };
    let join = "EXPLAIN ANALYZE SELECT count(*), sum(v + w) FROM a JOIN b ON a.k = b.k";
    s.execute("SET hash_mem_multiplier = 1").unwrap();
    assert!(spills(&mut s, join), "at 1 x work_mem the join spills");
    s.execute("SET hash_mem_multiplier = 4").unwrap();
    assert!(!spills(&mut s, join), "at 4 x work_mem it fits");
    let sort = "EXPLAIN ANALYZE SELECT v FROM a ORDER BY v, k OFFSET 2999";
    assert!(spills(&mut s, sort), "a sort still has work_mem alone");
}

#[test]
fn scans_decode_only_the_columns_read_above_them() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, g int, v int, s text)")
        .unwrap();
    s.execute("INSERT INTO t SELECT i, i % 3, i * 10, 'row ' || i FROM generate_series(1, 9) AS i")
        .unwrap();
    let explain = |s: &mut zizhu_sql::Session<_>, sql: &str| {
        lines(s.execute_one(&format!("EXPLAIN {sql}")).unwrap())
    };
    let rows = |s: &mut zizhu_sql::Session<_>, sql: &str| match s.execute_one(sql).unwrap() {
        StatementResult::Query { rows, .. } => rows,
        other => panic!("unexpected {other:?}"),
    };
    // Aggregates read their groups' and arguments' columns, and the filter's.
    let sql = "SELECT g, sum(v) FROM t WHERE v > 20 GROUP BY g ORDER BY g";
    assert_eq!(
        explain(&mut s, sql).last().unwrap(),
        "      └─ Scan: t [reads g, v] where (v > 20)"
    );
    assert_eq!(
        rows(&mut s, sql),
        [
            vec![Value::Int32(0), Value::Int64(180)],
            vec![Value::Int32(1), Value::Int64(110)],
            vec![Value::Int32(2), Value::Int64(130)],
        ]
    );
    assert_eq!(
        explain(&mut s, "SELECT count(*) FROM t").last().unwrap(),
        "   └─ Scan: t [reads no column]"
    );
    // Through an ORDER BY and a LIMIT, the projection's columns and the sort keys.
    let sql = "SELECT s FROM t ORDER BY v DESC LIMIT 2";
    assert!(explain(&mut s, sql)
        .last()
        .unwrap()
        .ends_with("Scan: t [reads v, s]"));
    assert_eq!(
        rows(&mut s, sql),
        [
            vec![Value::Text("row 9".into())],
            vec![Value::Text("row 8".into())]
        ]
    );
    // A subquery may read the row through outer references: the scan reads everything.
    let sql = "SELECT (SELECT count(*) FROM t AS u WHERE u.g = t.g) FROM t WHERE id = 1 OR v > 80";
    assert!(!explain(&mut s, sql).iter().any(|l| l.contains("Scan: t [")));
    assert_eq!(
        rows(&mut s, sql),
        [vec![Value::Int64(3)], vec![Value::Int64(3)]]
    );
    // A statement that writes rows back reads them whole.
    assert!(explain(&mut s, "UPDATE t SET v = v + 1 WHERE g = 1")
        .iter()
        .all(|l| !l.contains("[reads")));
    s.execute("UPDATE t SET v = v + 1 WHERE g = 1").unwrap();
    assert_eq!(
        rows(&mut s, "SELECT s, v FROM t WHERE id = 4"),
        [vec![Value::Text("row 4".into()), Value::Int32(41)]]
    );
}
