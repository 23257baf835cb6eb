//! The PostgreSQL connection against a real server: runs only with `--features postgres` and
//! `ZIZHU_SLT_PG_URL` set (e.g. `host=/tmp/pgslt port=55433 user=postgres`).
#![cfg(feature = "postgres")]

use zizhu_sqllogictest::parser;
use zizhu_sqllogictest::postgres::PostgresServer;
use zizhu_sqllogictest::Runner;

const SCRIPT: &str = "\
statement ok
CREATE TABLE t1(a INTEGER, b TEXT, c FLOAT, d NUMERIC)

statement ok
INSERT INTO t1 VALUES(1, 'x', 1.25, 2.5), (2, '', NULL, -2.5), (3, NULL, 2, 7)

query ITRI rowsort
SELECT a, b, c, d FROM t1
----
1
x
1.250
2
2
(empty)
NULL
-2
3
NULL
2.000
7

query I nosort
SELECT a IN (1, 3) FROM t1 ORDER BY a
----
1
0
1

query R valuesort
SELECT avg(a) FROM t1 UNION ALL SELECT 1
----
1.000
2.000

query I nosort
SELECT a FROM t1 WHERE a > 5
----

statement error 22012
SELECT 1/0

statement error 42601
INSERT OR REPLACE INTO t1 VALUES(1, 'y', 0, 0)

hash-threshold 2

query I rowsort
SELECT a FROM t1
----
3 values hashing to c0710d6b4f15dfa88f600b0e6b624077

statement ok
CREATE TABLE t2(x INTEGER); INSERT INTO t2 VALUES(5)

query I nosort
INSERT INTO t2 VALUES(6); SELECT sum(x) FROM t2
----
11
";

#[test]
fn runs_a_script_in_a_fresh_database() {
    let Ok(url) = std::env::var("ZIZHU_SLT_PG_URL") else {
        eprintln!("ZIZHU_SLT_PG_URL not set; nothing checked");
        return;
    };
    let mut server = PostgresServer::connect(&url).expect("connect");
    let script = parser::parse(SCRIPT).expect("parse");
    // Twice: each run gets its own database, so CREATE TABLE succeeds both times.
    for _ in 0..2 {
        let report = server
            .with_fresh_database(|conn| Runner::default().run_script(&script, conn))
            .expect("run");
        assert_eq!(report.failed, 0, "{:#?}", report.failures);
        assert_eq!(report.passed, 11);
    }
}
