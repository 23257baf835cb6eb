//! The prepared-statement API the server's extended query protocol uses: parameter types
//! inferred at prepare time, result columns known before execution, values bound as constants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zizhu_sql::types::DataType;
use zizhu_sql::{Database, StatementResult};
use zizhu_types::Value;

fn rows(result: StatementResult) -> Vec<Vec<Value>> {
    match result {
        StatementResult::Query { rows, .. } | StatementResult::Returning { rows, .. } => rows,
        other => panic!("not rows: {other:?}"),
    }
}

fn sqlstate(err: zizhu_sql::Error) -> String {
    err.sqlstate().to_string()
}

#[test]
fn parameter_types_come_from_context_and_columns_are_known_before_execution() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id bigint PRIMARY KEY, name varchar(20), score real, born date)")
        .unwrap();
    let p = s
        .prepare(
            "SELECT name, score * 2 AS double FROM t WHERE id = $1 AND born > $2 LIMIT $3",
            &[],
        )
        .unwrap();
    assert_eq!(
        p.param_types(),
        [DataType::Int64, DataType::Date, DataType::Int64]
    );
    let labels = p.labels().unwrap();
    assert_eq!(labels[0].name, "name");
    assert_eq!(labels[1].name, "double");
    let p = s
        .prepare("INSERT INTO t VALUES ($1, $2, $3, $4)", &[])
        .unwrap();
    assert_eq!(
        p.param_types(),
        [
            DataType::Int64,
            DataType::Varchar(Some(20)),
            DataType::Float32,
            DataType::Date
        ]
    );
    assert!(p.labels().is_none(), "an INSERT returns no rows");
    // The client's types win over the context's.
    let p = s
        .prepare(
            "UPDATE t SET score = $1 WHERE id = $2 RETURNING id",
            &[DataType::Text],
        )
        .unwrap();
    assert_eq!(p.param_types(), [DataType::Text, DataType::Int64]);
    assert_eq!(p.labels().unwrap()[0].name, "id");
    // SHOW, transaction control and the empty statement.
    let p = s.prepare("SHOW work_mem", &[]).unwrap();
    assert_eq!(p.labels().unwrap()[0].name, "work_mem");
    assert!(s.prepare("BEGIN", &[]).unwrap().labels().is_none());
    let empty = s.prepare("  -- nothing\n", &[]).unwrap();
    assert!(empty.is_empty());
    assert_eq!(
        s.execute_prepared(&empty, vec![]).unwrap(),
        StatementResult::Empty
    );
}

#[test]
fn a_prepared_statement_runs_many_times_with_different_values() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
        .unwrap();
    let insert = s.prepare("INSERT INTO t VALUES ($1, $2)", &[]).unwrap();
    for i in 0..100 {
        let result = s
            .execute_prepared(&insert, vec![Value::Int32(i), Value::Text(format!("v{i}"))])
            .unwrap();
        assert_eq!(result, StatementResult::Insert(1));
    }
    // Text values convert to the parameter's type as PostgreSQL's text input does.
    s.execute_prepared(&insert, vec![Value::Text("100".into()), Value::Null])
        .unwrap();
    let get = s.prepare("SELECT v FROM t WHERE id = $1", &[]).unwrap();
    assert_eq!(
        rows(s.execute_prepared(&get, vec![Value::Int32(42)]).unwrap()),
        [[Value::Text("v42".into())]]
    );
    assert_eq!(
        rows(s.execute_prepared(&get, vec![Value::Int32(100)]).unwrap()),
        [[Value::Null]]
    );
    // The plan is made per execution, so it follows the table as it is now.
    s.execute("ALTER TABLE t ADD COLUMN w int DEFAULT 7")
        .unwrap();
    let star = s.prepare("SELECT * FROM t WHERE id = $1", &[]).unwrap();
    assert_eq!(
        rows(s.execute_prepared(&star, vec![Value::Int32(1)]).unwrap()),
        [[Value::Int32(1), Value::Text("v1".into()), Value::Int32(7)]]
    );
    assert_eq!(
        rows(s.execute_prepared(&get, vec![Value::Int32(1)]).unwrap()),
        [[Value::Text("v1".into())]]
    );
}

#[test]
fn bad_prepares_and_executions_fail_with_postgresql_codes() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY)").unwrap();
    let e = |r: zizhu_sql::Result<zizhu_sql::Prepared>| sqlstate(r.unwrap_err());
    assert_eq!(e(s.prepare("SELECT 1; SELECT 2", &[])), "42601");
    assert_eq!(
        e(s.prepare("SELECT * FROM missing WHERE id = $1", &[])),
        "42P01"
    );
    assert_eq!(e(s.prepare("SELECT $1 IS NULL", &[])), "42P18");
    let get = s.prepare("SELECT id FROM t WHERE id = $1", &[]).unwrap();
    let err = s.execute_prepared(&get, vec![]).unwrap_err();
    assert_eq!(sqlstate(err), "08P01");
    let err = s
        .execute_prepared(&get, vec![Value::Text("seven".into())])
        .unwrap_err();
    assert_eq!(sqlstate(err), "22P02");
    // In an aborted block, preparing fails as every statement does; ROLLBACK recovers.
    s.execute("BEGIN").unwrap();
    assert!(s.execute("SELECT 1 / 0").is_err());
    assert_eq!(e(s.prepare("SELECT id FROM t", &[])), "25P02");
    let rollback = s.prepare("ROLLBACK", &[]).unwrap();
    s.execute_prepared(&rollback, vec![]).unwrap();
    assert!(!s.in_transaction());
    assert!(rows(s.execute_prepared(&get, vec![Value::Int32(1)]).unwrap()).is_empty());
}

#[test]
fn a_failed_prepare_aborts_the_transaction_block() {
    let db = Database::memory();
    let mut s = db.session();
    s.execute("BEGIN").unwrap();
    assert!(s.prepare("SELECT * FROM missing", &[]).is_err());
    assert!(s.in_failed_transaction());
    s.execute("ROLLBACK").unwrap();
    assert!(!s.in_transaction());
}
