use sqlparser::dialect::PostgreSqlDialect;

use super::*;

fn syntax(sql: &str) -> (String, Option<usize>) {
    match parse(&ZizhuDialect::postgres(), sql) {
        Err(Error::Syntax {
            message, position, ..
        }) => (message, position),
        other => panic!("expected a syntax error for {sql:?}, got {other:?}"),
    }
}

/// Statements an OLTP application, pgbench, sysbench, psql and the Hermitage scripts send.
const CORPUS: &[&str] = &[
    "SELECT 1",
    "select a, b from t where a = $1 and b in (1, 2, 3) order by a desc nulls last limit 10 offset 5",
    "SELECT abalance FROM pgbench_accounts WHERE aid = 42",
    "UPDATE pgbench_accounts SET abalance = abalance + -4000 WHERE aid = 7",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, 4, CURRENT_TIMESTAMP)",
    "INSERT INTO t VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v RETURNING *",
    "DELETE FROM t USING u WHERE t.id = u.id RETURNING t.id",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 10 AND 20 ORDER BY c",
    "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r",
    "SELECT row_number() OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t",
    "SELECT count(*) FILTER (WHERE a > 1), string_agg(b, ',') FROM t GROUP BY c HAVING count(*) > 1",
    "SELECT x::numeric(10,2), '2024-01-01'::date + interval '1 day', j->>'k', j->'a' FROM t",
    "SELECT E'a\\nb', $$dollar$$, B'101', U&'\\0041'",
    "SELECT * FROM t FOR UPDATE SKIP LOCKED",
    "SELECT * FROM t FOR SHARE NOWAIT",
    "SELECT * FROM a LEFT JOIN LATERAL (SELECT * FROM b WHERE b.id = a.id) s ON true",
    "CREATE TABLE t (id bigserial PRIMARY KEY, v text NOT NULL DEFAULT 'x', CHECK (length(v) < 10))",
    "CREATE TABLE c (id int GENERATED ALWAYS AS IDENTITY, p int REFERENCES t (id) ON DELETE CASCADE)",
    "CREATE UNIQUE INDEX i ON t (a, b DESC NULLS FIRST)",
    "ALTER TABLE t ADD COLUMN w int, ALTER COLUMN v SET DEFAULT 'y', RENAME TO u",
    // PostgreSQL also accepts sequence options in any order and `START 10` without WITH;
    // sqlparser 0.63 takes them only in a fixed order and needs WITH (gaps to close here).
    "CREATE SEQUENCE s INCREMENT BY 5 START WITH 10",
    "COMMENT ON TABLE t IS 'accounts'",
    "BEGIN ISOLATION LEVEL REPEATABLE READ",
    "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    "SAVEPOINT a",
    "ROLLBACK TO SAVEPOINT a",
    "RELEASE SAVEPOINT a",
    "SET search_path TO app, public",
    "SHOW lock_timeout",
    "COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER true)",
    "EXPLAIN ANALYZE SELECT * FROM t WHERE a = 1",
    "TRUNCATE t, u RESTART IDENTITY",
    "SELECT a FROM t1 UNION SELECT a FROM t2 EXCEPT ALL SELECT a FROM t3",
    "SELECT * FROM generate_series(1, 10) AS g(n)",
];

#[test]
fn parses_exactly_what_the_postgresql_dialect_parses() {
    let ours = ZizhuDialect::postgres();
    for sql in CORPUS {
        let expected = Parser::parse_sql(&PostgreSqlDialect {}, sql);
        let actual = parse(&ours, sql);
        match (expected, actual) {
            (Ok(e), Ok(a)) => assert_eq!(format!("{e:?}"), format!("{a:?}"), "{sql}"),
            (Err(e), _) => panic!("the corpus should hold valid PostgreSQL: {sql}: {e}"),
            (Ok(_), Err(a)) => panic!("ZizhuDialect rejects {sql}: {a:?}"),
        }
    }
}

#[test]
fn syntax_errors_name_the_token_and_its_position_like_postgresql() {
    // PostgreSQL 15: ERROR: syntax error at or near "SELEC", position 1.
    assert_eq!(
        syntax("SELEC 1"),
        ("syntax error at or near \"SELEC\"".into(), Some(1))
    );
    // FORM is a column alias, so PostgreSQL stops at "t". The position counts characters, not
    // bytes, across lines: 11 characters and a newline, then column 10.
    let (message, position) = syntax("SELECT 'é',\n  1 FORM t");
    assert_eq!(message, "syntax error at or near \"t\"");
    assert_eq!(position, Some(22));
    // PostgreSQL: ERROR: syntax error at end of input, position one past the end.
    assert_eq!(
        syntax("SELECT * FROM"),
        ("syntax error at end of input".into(), Some(14))
    );
}

#[test]
fn deep_nesting_fails_cleanly() {
    let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        parse(&ZizhuDialect::postgres(), &sql),
        Err(Error::TooComplex)
    );
}
