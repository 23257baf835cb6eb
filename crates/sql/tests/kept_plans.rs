//! Prepared statements keep their bound plan: the answers are those of binding afresh, and
//! the plan is bound again whenever the catalog or the settings it was bound with changed, as
//! the statement's snapshot sees them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zizhu_sql::{Database, Session, StatementResult};
use zizhu_types::Value;

fn rows(result: StatementResult) -> Vec<Vec<Value>> {
    match result {
        StatementResult::Query { rows, .. } | StatementResult::Returning { rows, .. } => rows,
        other => panic!("not rows: {other:?}"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Text(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// `sql` with each `$n` replaced by the literal of `values[n - 1]`.
fn literal_sql(sql: &str, values: &[Value]) -> String {
    let mut out = sql.to_string();
    for (i, v) in values.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), &text(v));
    }
    out
}

fn setup() -> (
    std::sync::Arc<Database<zizhu_engine_memory::MemoryEngine>>,
    Session<zizhu_engine_memory::MemoryEngine>,
) {
    let db = Database::memory();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id int PRIMARY KEY, k int, v text);
         CREATE INDEX t_k ON t (k);
         INSERT INTO t SELECT i, i % 10, 'v' || i FROM generate_series(1, 100) AS g(i)",
    )
    .unwrap();
    (db, s)
}

/// Each statement, run through its kept plan with several sets of values, returns what the
/// same statement with the values written as literals returns; all but the first execution
/// reuse the plan, except a statement that needs its values to bind at all (LIMIT $1).
#[test]
fn a_kept_plan_answers_as_binding_the_values_does() {
    let (_db, mut s) = setup();
    let int = |n: i32| Value::Int32(n);
    let cases: Vec<(&str, Vec<Vec<Value>>, bool)> = vec![
        ("SELECT v FROM t WHERE id = $1", vec![vec![int(5)], vec![int(77)], vec![Value::Null]], true),
        ("SELECT id FROM t WHERE k = $1 AND id > $2 ORDER BY id", vec![vec![int(3), int(50)], vec![int(4), int(90)]], true),
        ("SELECT id FROM t WHERE id BETWEEN $1 AND $2 ORDER BY id DESC", vec![vec![int(10), int(14)], vec![int(98), int(200)]], true),
        ("SELECT id FROM t WHERE id IN ($1, $2, $3) ORDER BY 1", vec![vec![int(1), int(2), int(500)], vec![int(9), int(9), int(9)]], true),
        ("SELECT count(*), sum(k * $1) FROM t WHERE v LIKE $2", vec![vec![int(2), Value::Text("v1%".into())], vec![int(-1), Value::Text("%9".into())]], true),
        ("SELECT (SELECT count(*) FROM t WHERE k = $1), $2::text || 'x'", vec![vec![int(1), Value::Text("a".into())], vec![int(11), Value::Null]], true),
        ("SELECT id FROM t WHERE id IN (SELECT id + $1 FROM t WHERE k = $2) ORDER BY id LIMIT 3", vec![vec![int(1), int(0)], vec![int(2), int(5)]], true),
        ("SELECT id, CASE WHEN k > $1 THEN 'big' ELSE 'small' END FROM t WHERE id < $2 ORDER BY id", vec![vec![int(5), int(4)], vec![int(0), int(3)]], true),
        ("SELECT id FROM t ORDER BY id LIMIT $1", vec![vec![int(2)], vec![int(3)]], false),
    ];
    for (sql, runs, keeps) in cases {
        let p = s.prepare(sql, &[]).unwrap();
        for values in &runs {
            let kept = rows(s.execute_prepared(&p, values.clone()).unwrap());
            let bound = rows(s.execute_one(&literal_sql(sql, values)).unwrap());
            assert_eq!(kept, bound, "{sql} with {values:?}");
        }
        let expected = if keeps { runs.len() as u64 - 1 } else { 0 };
        assert_eq!(p.plan_reuses(), expected, "{sql}");
    }
}

/// After five executions whose custom plans were all the generic plan with their values, a
/// lookup by primary key runs the generic plan as it is; its answers stay those of binding
/// the values, a missing key and NULL included; so does one with a constant key beside a
/// parameter. A range, which only values make an index scan, never takes the generic plan.
/// DDL drops it, and it is chosen again.
#[test]
fn a_generic_plan_is_chosen_after_five_matching_custom_plans() {
    let (db, mut s) = setup();
    let mut other = db.session();
    let get = s.prepare("SELECT v FROM t WHERE id = $1", &[]).unwrap();
    let range = s
        .prepare(
            "SELECT id FROM t WHERE id BETWEEN $1 AND $2 ORDER BY id",
            &[],
        )
        .unwrap();
    let mixed = s
        .prepare("SELECT k FROM t WHERE id = 5 AND v = $1", &[])
        .unwrap();
    let check = |s: &mut Session<_>, p: &zizhu_sql::Prepared, sql: &str, values: Vec<Value>| {
        let kept = rows(s.execute_prepared(p, values.clone()).unwrap());
        let bound = rows(s.execute_one(&literal_sql(sql, &values)).unwrap());
        assert_eq!(kept, bound, "{sql} with {values:?}");
    };
    for round in 0..2 {
        for i in 1..=6 {
            // The first execution binds (again, after DDL); five more reuse the kept plan.
            check(
                &mut s,
                &get,
                "SELECT v FROM t WHERE id = $1",
                vec![Value::Int32(i)],
            );
            assert_eq!(
                get.uses_generic_plan(),
                i == 6,
                "round {round}, execution {i}"
            );
            check(
                &mut s,
                &range,
                "SELECT id FROM t WHERE id BETWEEN $1 AND $2 ORDER BY id",
                vec![Value::Int32(i), Value::Int32(i + 2)],
            );
            check(
                &mut s,
                &mixed,
                "SELECT k FROM t WHERE id = 5 AND v = $1",
                vec![Value::Text(format!("v{}", i % 2 + 4))],
            );
        }
        assert!(get.uses_generic_plan(), "round {round}");
        assert!(!range.uses_generic_plan(), "round {round}");
        assert!(
            mixed.uses_generic_plan(),
            "a constant key and a parameter, round {round}"
        );
        for value in [
            Value::Int32(77),
            Value::Int32(1000),
            Value::Null,
            Value::Int32(3),
        ] {
            check(&mut s, &get, "SELECT v FROM t WHERE id = $1", vec![value]);
        }
        other.execute("CREATE INDEX t_v ON t (v)").unwrap();
        other.execute("DROP INDEX t_v").unwrap();
    }
}

/// A NULL or boolean value runs a custom plan even once the generic plan is chosen: constant
/// folding decides `100 / qty > NULL` without dividing, where the generic plan would divide by
/// zero. Such values do not count towards choosing the generic plan either.
#[test]
fn null_and_boolean_values_run_custom_plans() {
    let (_db, mut s) = setup();
    s.execute("CREATE TABLE q (id int PRIMARY KEY, qty int); INSERT INTO q VALUES (1, 5), (2, 10)")
        .unwrap();
    let sql = "SELECT id FROM q WHERE 100 / qty > $1 ORDER BY id";
    let p = s.prepare(sql, &[]).unwrap();
    for i in 1..=6 {
        let got = rows(s.execute_prepared(&p, vec![Value::Int32(i)]).unwrap());
        assert_eq!(
            got,
            rows(
                s.execute_one(&literal_sql(sql, &[Value::Int32(i)]))
                    .unwrap()
            )
        );
    }
    assert!(p.uses_generic_plan());
    s.execute("INSERT INTO q VALUES (3, 0)").unwrap();
    assert_eq!(
        rows(s.execute_prepared(&p, vec![Value::Null]).unwrap()),
        Vec::<Vec<Value>>::new()
    );
    let err = s.execute_prepared(&p, vec![Value::Int32(1)]).unwrap_err();
    assert_eq!(err.sqlstate(), "22012");

    let sql = "SELECT id FROM q WHERE 100 / qty > 1 AND $1 ORDER BY id";
    let p = s.prepare(sql, &[]).unwrap();
    for _ in 0..7 {
        let got = rows(s.execute_prepared(&p, vec![Value::Bool(false)]).unwrap());
        assert_eq!(got, Vec::<Vec<Value>>::new());
    }
    assert!(!p.uses_generic_plan(), "boolean values do not count");
}

/// Writes through kept plans: parameters in SET, WHERE, ON CONFLICT and RETURNING.
/// `plan_cache_mode`, as in PostgreSQL: `force_custom_plan` never takes the generic plan,
/// `force_generic_plan` takes it from the first execution, even for a range whose custom
/// plans differ, and NULL still gets a custom plan. Answers are those of binding the values
/// in every mode; a change of mode rebinds the kept plan; a bad value is 22023.
#[test]
fn plan_cache_mode_forces_custom_or_generic_plans() {
    let (_db, mut s) = setup();
    let get_sql = "SELECT v FROM t WHERE id = $1";
    let range_sql = "SELECT id FROM t WHERE id BETWEEN $1 AND $2 ORDER BY id";
    let get = s.prepare(get_sql, &[]).unwrap();
    let range = s.prepare(range_sql, &[]).unwrap();
    let check = |s: &mut Session<_>, p: &zizhu_sql::Prepared, sql: &str, values: Vec<Value>| {
        let kept = rows(s.execute_prepared(p, values.clone()).unwrap());
        let bound = rows(s.execute_one(&literal_sql(sql, &values)).unwrap());
        assert_eq!(kept, bound, "{sql} with {values:?}");
    };
    let show = |s: &mut Session<_>| rows(s.execute_one("SHOW plan_cache_mode").unwrap());
    assert_eq!(show(&mut s), [[Value::Text("auto".into())]]);
    s.execute("SET plan_cache_mode = force_custom_plan")
        .unwrap();
    for i in 1..=8 {
        check(&mut s, &get, get_sql, vec![Value::Int32(i)]);
        assert!(!get.uses_generic_plan(), "force_custom_plan, execution {i}");
    }
    s.execute("SET plan_cache_mode = 'force_generic_plan'")
        .unwrap();
    check(&mut s, &get, get_sql, vec![Value::Int32(3)]);
    assert!(
        get.uses_generic_plan(),
        "force_generic_plan, first execution"
    );
    for values in [
        vec![Value::Int32(98), Value::Int32(200)],
        vec![Value::Int32(5), Value::Int32(7)],
        vec![Value::Null, Value::Int32(7)],
        vec![Value::Int32(9), Value::Int32(2)],
    ] {
        check(&mut s, &range, range_sql, values);
        assert!(range.uses_generic_plan(), "force_generic_plan, a range");
    }
    for value in [Value::Int32(77), Value::Int32(1000), Value::Null] {
        check(&mut s, &get, get_sql, vec![value]);
    }
    s.execute("RESET plan_cache_mode").unwrap();
    check(
        &mut s,
        &range,
        range_sql,
        vec![Value::Int32(1), Value::Int32(3)],
    );
    assert!(!range.uses_generic_plan(), "auto again: bound anew");
    let err = s.execute("SET plan_cache_mode = sometimes").unwrap_err();
    assert_eq!(err.sqlstate(), "22023");
}

#[test]
fn kept_writes_take_each_execution_values() {
    let (_db, mut s) = setup();
    let update = s
        .prepare(
            "UPDATE t SET k = k + $1, v = $2 WHERE id = $3 RETURNING id, k, v",
            &[],
        )
        .unwrap();
    let upsert = s
        .prepare(
            "INSERT INTO t VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET v = excluded.v || $3 RETURNING v",
            &[],
        )
        .unwrap();
    let delete = s
        .prepare("DELETE FROM t WHERE k = $1 AND id < $2 RETURNING id", &[])
        .unwrap();
    for i in 1..=3 {
        let got = rows(
            s.execute_prepared(
                &update,
                vec![
                    Value::Int32(100),
                    Value::Text(format!("u{i}")),
                    Value::Int32(i),
                ],
            )
            .unwrap(),
        );
        assert_eq!(
            got,
            [[
                Value::Int32(i),
                Value::Int32(i + 100),
                Value::Text(format!("u{i}"))
            ]]
        );
        let got = rows(
            s.execute_prepared(
                &upsert,
                vec![
                    Value::Int32(i),
                    Value::Int32(0),
                    Value::Text(format!("!{i}")),
                ],
            )
            .unwrap(),
        );
        assert_eq!(got, [[Value::Text(format!("!{i}!{i}"))]]);
    }
    let got = rows(
        s.execute_prepared(&delete, vec![Value::Int32(4), Value::Int32(30)])
            .unwrap(),
    );
    assert_eq!(
        got,
        [[Value::Int32(4)], [Value::Int32(14)], [Value::Int32(24)]]
    );
    assert_eq!((update.plan_reuses(), upsert.plan_reuses()), (2, 2));
    let left = rows(s.execute_one("SELECT count(*) FROM t WHERE k = 4").unwrap());
    assert_eq!(left, [[Value::Int64(7)]]);
}

/// Another session replaces the table the plan reads: the next execution reads the new one.
#[test]
fn a_table_replaced_by_another_session_is_read_afresh() {
    let (db, mut a) = setup();
    let mut b = db.session();
    let get = a.prepare("SELECT v FROM t WHERE id = $1", &[]).unwrap();
    assert_eq!(
        rows(a.execute_prepared(&get, vec![Value::Int32(1)]).unwrap()),
        [[Value::Text("v1".into())]]
    );
    assert_eq!(
        rows(a.execute_prepared(&get, vec![Value::Int32(2)]).unwrap()),
        [[Value::Text("v2".into())]]
    );
    assert_eq!(get.plan_reuses(), 1);
    b.execute("ALTER TABLE t RENAME TO old; CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'new')")
        .unwrap();
    assert_eq!(
        rows(a.execute_prepared(&get, vec![Value::Int32(1)]).unwrap()),
        [[Value::Text("new".into())]]
    );
    assert_eq!(
        get.plan_reuses(),
        1,
        "bound again after the other session's DDL"
    );
    assert_eq!(
        rows(a.execute_prepared(&get, vec![Value::Int32(1)]).unwrap()),
        [[Value::Text("new".into())]]
    );
    assert_eq!(get.plan_reuses(), 2, "and kept again");
    // An index created or dropped elsewhere: the answers stay right either way.
    let by_k = a
        .prepare("SELECT count(*) FROM old WHERE k = $1", &[])
        .unwrap();
    assert_eq!(
        rows(a.execute_prepared(&by_k, vec![Value::Int32(3)]).unwrap()),
        [[Value::Int64(10)]]
    );
    b.execute("DROP INDEX t_k").unwrap();
    b.execute("UPDATE old SET k = 3 WHERE id = 1").unwrap();
    assert_eq!(
        rows(a.execute_prepared(&by_k, vec![Value::Int32(3)]).unwrap()),
        [[Value::Int64(11)]]
    );
}

/// A changed search path resolves the names again.
#[test]
fn a_changed_search_path_binds_again() {
    let (_db, mut s) = setup();
    s.execute("CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text); INSERT INTO app.t VALUES (1, 'app')")
        .unwrap();
    let get = s.prepare("SELECT v FROM t WHERE id = $1", &[]).unwrap();
    let run = |s: &mut Session<_>| rows(s.execute_prepared(&get, vec![Value::Int32(1)]).unwrap());
    assert_eq!(run(&mut s), [[Value::Text("v1".into())]]);
    s.execute("SET search_path = app, public").unwrap();
    assert_eq!(run(&mut s), [[Value::Text("app".into())]]);
    s.execute("RESET search_path").unwrap();
    assert_eq!(run(&mut s), [[Value::Text("v1".into())]]);
}

/// As in PostgreSQL, a statement whose result columns changed since it was described fails
/// (0A000) rather than sending rows the client was not told about.
#[test]
fn a_changed_result_type_fails_with_0a000() {
    let (db, mut a) = setup();
    let mut b = db.session();
    let star = a.prepare("SELECT * FROM t WHERE id = $1", &[]).unwrap();
    assert_eq!(
        rows(a.execute_prepared(&star, vec![Value::Int32(1)]).unwrap()).len(),
        1
    );
    b.execute("ALTER TABLE t ADD COLUMN extra int").unwrap();
    let err = a
        .execute_prepared(&star, vec![Value::Int32(1)])
        .unwrap_err();
    assert_eq!(err.sqlstate(), "0A000");
    assert_eq!(err.to_string(), "cached plan must not change result type");
    // The session goes on; a statement prepared now sees the new column.
    let star = a.prepare("SELECT * FROM t WHERE id = $1", &[]).unwrap();
    assert_eq!(
        rows(a.execute_prepared(&star, vec![Value::Int32(1)]).unwrap())[0].len(),
        4
    );
}

/// REPEATABLE READ keeps the catalog of its snapshot: a column renamed by a later commit is
/// still there for the transaction (the kept plan serves it), and gone after it ends.
#[test]
fn repeatable_read_keeps_the_catalog_of_its_snapshot() {
    let (db, mut a) = setup();
    let mut b = db.session();
    let get = a.prepare("SELECT v FROM t WHERE id = $1", &[]).unwrap();
    a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    assert_eq!(
        rows(a.execute_prepared(&get, vec![Value::Int32(1)]).unwrap()),
        [[Value::Text("v1".into())]]
    );
    b.execute("ALTER TABLE t RENAME COLUMN v TO w").unwrap();
    assert_eq!(
        rows(a.execute_prepared(&get, vec![Value::Int32(2)]).unwrap()),
        [[Value::Text("v2".into())]]
    );
    assert_eq!(
        get.plan_reuses(),
        1,
        "the snapshot's catalog is the one the plan was bound to"
    );
    a.execute("COMMIT").unwrap();
    let err = a.execute_prepared(&get, vec![Value::Int32(1)]).unwrap_err();
    assert_eq!(err.sqlstate(), "42703");
}

/// DDL in the statement's own transaction is seen at once, and undone by ROLLBACK.
#[test]
fn ddl_of_the_same_transaction_is_seen_and_rolled_back() {
    let (_db, mut s) = setup();
    let get = s.prepare("SELECT v FROM t WHERE id = $1", &[]).unwrap();
    let run = |s: &mut Session<_>| rows(s.execute_prepared(&get, vec![Value::Int32(1)]).unwrap());
    assert_eq!(run(&mut s), [[Value::Text("v1".into())]]);
    s.execute("BEGIN").unwrap();
    assert_eq!(run(&mut s), [[Value::Text("v1".into())]]);
    s.execute("ALTER TABLE t RENAME TO old; CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'mine')")
        .unwrap();
    assert_eq!(run(&mut s), [[Value::Text("mine".into())]]);
    assert_eq!(run(&mut s), [[Value::Text("mine".into())]]);
    s.execute("ROLLBACK").unwrap();
    assert_eq!(run(&mut s), [[Value::Text("v1".into())]]);
    assert_eq!(run(&mut s), [[Value::Text("v1".into())]]);
}
