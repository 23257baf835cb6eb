//! System tests: the real `zizhu` binary on a free port, driven by real clients (psql,
//! pgbench, psycopg) over TCP with SCRAM authentication.
//!
//! A client a test needs but the machine lacks fails the test, with the package to install:
//! `.ci/run` installs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{assert_refused, python, run, text, Server, PASSWORD};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with a golden file; `ZIZHU_BLESS=1` rewrites the file instead.
fn check_golden(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("ZIZHU_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (ZIZHU_BLESS=1 writes it)", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (ZIZHU_BLESS=1 rewrites it)",
        path.display()
    );
}

/// A scripted psql session, output checked against the golden file: DDL, DML, queries with
/// NULLs, numerics, dates and text, an error that leaves the connection usable, a failed
/// transaction block recovered by ROLLBACK, prepared statements, and `\bind`-free parameters
/// through PREPARE/EXECUTE.
#[test]
fn psql_session() {
    let server = Server::start();
    let script = std::fs::read_to_string(golden("psql_session.sql")).unwrap();
    let mut cmd = server.client("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", "-"]);
    let out = run(cmd, &script, "postgresql-client");
    let actual = format!("{}-- stderr --\n{}", text(&out.stdout), text(&out.stderr));
    check_golden("psql_session.out", &actual);
}

/// `idle_in_transaction_session_timeout` ends a session left idle in an open transaction (FATAL
/// 25P03, its transaction rolled back) and leaves alone one idle outside a transaction or
/// within the limit; the script prints the same against PostgreSQL 15.
#[test]
fn idle_in_transaction_sessions_are_ended() {
    let server = Server::start();
    let script = format!(
        r#"
import psycopg, time
ci = "{conninfo}"
setup = psycopg.connect(ci, autocommit=True)
setup.execute("CREATE TABLE idle_t (id int PRIMARY KEY)")
idle_ok = psycopg.connect(ci, autocommit=True)
idle_ok.execute("SET idle_in_transaction_session_timeout = '200ms'")
c = psycopg.connect(ci)
c.execute("SET idle_in_transaction_session_timeout = '200ms'")
c.execute("INSERT INTO idle_t VALUES (1)")
time.sleep(0.6)
try:
    c.execute("SELECT 1")
    print("still open")
except psycopg.Error as e:
    print("closed:", type(e).__name__, e.sqlstate)
print("idle outside a transaction:", idle_ok.execute("SELECT 1").fetchone())
print("rows:", setup.execute("SELECT count(*) FROM idle_t").fetchone())
d = psycopg.connect(ci)
d.execute("SET idle_in_transaction_session_timeout = '2s'")
d.execute("INSERT INTO idle_t VALUES (2)")
time.sleep(0.3)
d.execute("INSERT INTO idle_t VALUES (3)")
d.commit()
print("rows:", setup.execute("SELECT count(*) FROM idle_t").fetchone())
"#,
        conninfo = server.conninfo()
    );
    assert_eq!(
        python(&script),
        "closed: IdleInTransactionSessionTimeout 25P03\n\
         idle outside a transaction: (1,)\n\
         rows: (0,)\n\
         rows: (2,)\n"
    );
}

/// Fuzzing the protocol decoder: malformed startup packets, SSL requests followed by junk,
/// absurd lengths (0, 3, negative, 2 GiB), and, after a real login, random frames of every
/// message type with wrong lengths and random bodies (a seeded generator, so a failure
/// repeats). Each bad client gets an error or a closed connection; afterwards the server
/// still answers, and it still stops promptly on SIGTERM (no connection thread was lost
/// from its count, which the 30-second drain would otherwise wait out).
#[test]
fn the_protocol_decoder_survives_garbage() {
    let mut server = Server::start();
    let script = format!(
        r#"
import os, random, socket, struct, sys, time
import psycopg
host, port, ci = "127.0.0.1", {port}, "{conninfo}"
rng = random.Random(20261206)
def frame(t, body, length=None):
    n = len(body) + 4 if length is None else length
    return (t if t else b"") + struct.pack("!i", n) + body
def drain(s):
    s.settimeout(0.3)
    got = b""
    try:
        while len(got) < 1 << 16:
            chunk = s.recv(4096)
            if not chunk:
                return got, True
            got += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    return got, False
startup = struct.pack("!i", 196608) + b"user\0zizhu\0database\0postgres\0\0"
startup = struct.pack("!i", len(startup) + 4) + startup
pre = post = 0
for i in range(120):
    s = socket.create_connection((host, port))
    kind = i % 4
    if kind == 0:
        data = os.urandom(rng.randint(0, 300))
    elif kind == 1:
        b = bytearray(startup)
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        data = bytes(b)
    elif kind == 2:
        data = struct.pack("!i", rng.choice([0, 3, 8, 0x7fffffff, -1, 10_000_000])) + os.urandom(8)
    else:
        data = struct.pack("!ii", 8, 80877103) + os.urandom(rng.randint(0, 40))  # SSLRequest then junk
    try:
        s.sendall(data)
    except OSError:
        pass
    drain(s)
    s.close()
    pre += 1
types = b"QPBEDCSHXdcfpF"
for i in range(120):
    c = psycopg.connect(ci, autocommit=(i % 2 == 0))
    if i % 2:
        c.execute("SELECT 1")  # inside a transaction
    s = socket.socket(fileno=os.dup(c.pgconn.socket))
    t = bytes([rng.choice(types)]) if i % 5 else bytes([rng.randrange(256)])
    body = os.urandom(rng.randint(0, 64))
    if i % 7 == 0:
        body = b"SELECT 1\0" + body
    length = rng.choice([None, None, 0, 3, 0x7fffffff, -5, 1_000_000, len(body) + 100])
    try:
        s.sendall(frame(t, body, length))
    except OSError:
        pass
    drain(s)
    s.close()
    try:
        c.close()
    except Exception:
        pass
    post += 1
ok = psycopg.connect(ci, autocommit=True)
print("pre-auth", pre, "post-auth", post, "then", ok.execute("SELECT 41 + 1").fetchone()[0])

"#,
        port = server.port,
        conninfo = server.conninfo()
    );
    assert_eq!(python(&script), "pre-auth 120 post-auth 120 then 42\n");
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no exit within 20 s of SIGTERM: a connection is still counted live"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// Notices reach clients of the extended protocol too, before the statement's result.
#[test]
fn psycopg_receives_notices() {
    let server = Server::start();
    let script = format!(
        r#"
import psycopg
conn = psycopg.connect("{conninfo}", autocommit=True)
seen = []
conn.add_notice_handler(lambda d: seen.append((d.severity, d.sqlstate, d.message_primary)))
conn.execute("DROP TABLE IF EXISTS missing")
conn.execute("DROP INDEX IF EXISTS %s" % "missing_index", prepare=True)
conn.execute("COMMIT")
print(seen)
"#,
        conninfo = server.conninfo()
    );
    assert_eq!(
        python(&script),
        "[('NOTICE', '00000', 'table \"missing\" does not exist, skipping'), \
         ('NOTICE', '00000', 'index \"missing_index\" does not exist, skipping'), \
         ('WARNING', '25P01', 'there is no transaction in progress')]\n"
    );
}

/// SQLAlchemy's inspector (PyPI's SQLAlchemy 2 on psycopg 3) reflects tables, views,
/// columns with their types, defaults and autoincrement, primary keys, foreign keys, indexes
/// and CHECK constraints; the expected text is what the same script prints against
/// PostgreSQL 15 (sequence names aside, which PostgreSQL lists unordered).
#[test]
fn sqlalchemy_inspector_reflects_the_schema() {
    let server = Server::start();
    let url = format!(
        "postgresql+psycopg://zizhu:{PASSWORD}@127.0.0.1:{}/postgres",
        server.port
    );
    let script = format!(
        r#"
import psycopg
try:
    from sqlalchemy import create_engine, inspect
except ImportError:
    raise SystemExit("sqlalchemy missing: pip install sqlalchemy")
with psycopg.connect("{conninfo}", autocommit=True) as c:
    c.execute("CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) DEFAULT 0)")
    c.execute("CREATE UNIQUE INDEX acc_owner ON accounts (owner)")
    c.execute("CREATE TABLE orders (id serial PRIMARY KEY, acc int REFERENCES accounts (id) ON DELETE CASCADE, amt bigint CHECK (amt > 0), note varchar(40))")
    c.execute("CREATE INDEX orders_acc_amt ON orders (acc, amt)")
    c.execute("CREATE VIEW rich AS SELECT id, owner FROM accounts WHERE balance > 100")
i = inspect(create_engine("{url}"))
print("tables", i.get_table_names())
print("views", i.get_view_names())
for t in ["accounts", "orders"]:
    for c in i.get_columns(t):
        print(t, c["name"], c["type"], c["nullable"], c.get("default"), c.get("autoincrement"))
    print(t, "pk", i.get_pk_constraint(t)["constrained_columns"])
    for fk in i.get_foreign_keys(t):
        print(t, "fk", fk["name"], fk["constrained_columns"], fk["referred_table"], fk["referred_columns"], fk["options"])
    for ix in i.get_indexes(t):
        print(t, "index", ix["name"], ix["unique"], ix["column_names"])
    for ck in i.get_check_constraints(t):
        print(t, "check", ck["name"], ck["sqltext"])
print("schemas", i.get_schema_names())
print("sequences", sorted(i.get_sequence_names()))
"#,
        conninfo = server.conninfo()
    );
    assert_eq!(
        python(&script),
        "tables ['accounts', 'orders']\n\
         views ['rich']\n\
         accounts id INTEGER False None False\n\
         accounts owner TEXT False None False\n\
         accounts balance NUMERIC(12, 2) True 0 False\n\
         accounts pk ['id']\n\
         accounts index acc_owner True ['owner']\n\
         orders id INTEGER False nextval('orders_id_seq'::regclass) True\n\
         orders acc INTEGER True None False\n\
         orders amt BIGINT True None False\n\
         orders note VARCHAR(40) True None False\n\
         orders pk ['id']\n\
         orders fk orders_acc_fkey ['acc'] accounts ['id'] {'ondelete': 'CASCADE'}\n\
         orders index orders_acc_amt False ['acc', 'amt']\n\
         orders check orders_amt_check amt > 0\n\
         schemas ['information_schema', 'public']\n\
         sequences ['orders_id_seq']\n"
    );
}

/// psql's describe commands (`\l`, `\dn`, `\du`, `\d`, `\dt`, `\di`, `\dv`, `\ds` and `\d NAME`
/// for a table, view, sequence and index) read the system catalogs and print what
/// PostgreSQL 15 prints for the same objects (checked by running the script on PostgreSQL;
/// the owner and the list of databases differ); the script ends with the NOTICEs and
/// WARNINGs PostgreSQL gives for skipped `IF [NOT] EXISTS` and misplaced COMMIT / BEGIN.
#[test]
fn psql_describe_commands() {
    let server = Server::start();
    let script = std::fs::read_to_string(golden("psql_describe.sql")).unwrap();
    let mut cmd = server.client("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", "-"]);
    let out = run(cmd, &script, "postgresql-client");
    let actual = format!("{}-- stderr --\n{}", text(&out.stdout), text(&out.stderr));
    check_golden("psql_describe.out", &actual);
}

/// Statements nested to and past the parser's depth limit answer (or fail with 54001) without
/// taking the server down.
#[test]
fn deeply_nested_statements_do_not_crash_the_server() {
    let server = Server::start();
    for depth in [150, 199, 400, 5000] {
        let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
        let mut cmd = server.client("psql");
        cmd.args(["-X", "-A", "-t", "-c", &sql]);
        let out = run(cmd, "", "postgresql-client");
        let answered = text(&out.stdout).trim() == "1";
        let refused =
            text(&out.stderr).contains("too complex") || text(&out.stderr).contains("stack depth");
        assert!(answered || refused, "depth {depth}: {}", text(&out.stderr));
    }
    assert_eq!(server.value("SELECT 'still up'"), "still up");
}

/// A wrong password and an unknown database are refused with PostgreSQL's codes; the server
/// keeps serving.
#[test]
fn logins_need_the_password_and_an_existing_database() {
    let server = Server::start();
    server.refused(("PGPASSWORD", "wrong"), "authentication failed");
    let mut cmd = server.client("psql");
    cmd.args(["-X", "-d", "nodb", "-c", "SELECT 1"]);
    let out = run(cmd, "", "postgresql-client");
    assert!(text(&out.stderr).contains("database \"nodb\" does not exist"));
    let mut cmd = server.client("psql");
    cmd.args(["-X", "-A", "-t", "-c", "SELECT 40 + 2"]);
    let out = run(cmd, "", "postgresql-client");
    assert_eq!(text(&out.stdout).trim(), "42");
}

/// A second server on a data directory in use fails with a clear message.
#[test]
fn a_data_directory_serves_one_server() {
    let server = Server::start();
    assert_refused(
        Command::new(env!("CARGO_BIN_EXE_zizhu"))
            .args(["serve", "--data-dir"])
            .arg(server.data_dir())
            .arg("--master-key-file")
            .arg(server.key_file())
            .args(["--listen", "127.0.0.1:0"]),
        "in use by another zizhu process",
    );
}

/// The server analyzes a table once enough committed rows changed, with no ANALYZE sent.
#[test]
fn the_server_analyzes_changed_tables_by_itself() {
    let server = Server::start();
    let psql = |sql: &str| {
        let mut cmd = server.client("psql");
        cmd.args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);
        let out = run(cmd, "", "postgresql-client");
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    psql("CREATE TABLE t (id int PRIMARY KEY, v text)");
    psql("INSERT INTO t SELECT i, 'v' || i % 7 FROM generate_series(1, 1000) AS x(i)");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let stats = psql(
            "SELECT c.reltuples, s.n_distinct FROM pg_class c JOIN pg_stats s \
             ON s.tablename = c.relname WHERE c.relname = 't' AND s.attname = 'v'",
        );
        if stats == "1000|7" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not analyzed: {stats:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// pgbench as the server issue asks: `pgbench -i -s 10` (COPY of a million generated rows,
/// VACUUM, primary keys), then the TPC-B-like script with `-c 8 -j 2 -T 30` in each query
/// mode, with no failed transaction and no lost update.
#[test]
fn pgbench_runs_in_every_query_mode() {
    let server = Server::start();
    let mut init = server.client("pgbench");
    init.args(["-i", "-s", "10"]);
    let out = run(init, "", "postgresql-contrib (pgbench)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for mode in ["simple", "extended", "prepared"] {
        let mut bench = server.client("pgbench");
        bench.args(["-c", "8", "-j", "2", "-T", "30", "-M", mode]);
        let out = run(bench, "", "postgresql-contrib (pgbench)");
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{mode}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("number of failed transactions: 0 (0.000%)"),
            "{mode}: {stdout}"
        );
        let processed = stdout
            .lines()
            .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
            .and_then(|n| n.split('/').next()?.trim().parse::<u64>().ok())
            .unwrap_or(0);
        assert!(processed > 0, "{mode}: {stdout}");
    }
    // Every transaction added its delta to an account, a teller and a branch: no update was
    // lost if the three sums agree (pgbench truncates the history before each run).
    let mut cmd = server.client("psql");
    cmd.args([
        "-X",
        "-A",
        "-t",
        "-c",
        "SELECT (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(bbalance) FROM pgbench_branches) \
         AND (SELECT sum(tbalance) FROM pgbench_tellers) = (SELECT sum(bbalance) FROM pgbench_branches) \
         AND (SELECT count(*) FROM pgbench_history) > 0",
    ]);
    let out = run(cmd, "", "postgresql-client");
    assert_eq!(text(&out.stdout).trim(), "t", "{}", text(&out.stderr));
}

/// psycopg 3: server-side parameters in text and binary formats, executemany, transactions,
/// a failed statement followed by more work on the same connection, COPY in and out.
/// psycopg parses each column by the type the RowDescription names, so a column must be of
/// the type of its values: `1 + 0.5` labelled integer failed with "invalid literal for int()".
/// The expected values are what the same script prints against PostgreSQL 15.
#[test]
fn psycopg_parses_columns_of_mixed_number_types() {
    let server = Server::start();
    let script = format!(
        r#"
import psycopg
conn = psycopg.connect("{conninfo}", autocommit=True)
conn.execute("CREATE TABLE mix (id int PRIMARY KEY, amount numeric(10,2))")
conn.execute("INSERT INTO mix VALUES (1, 2.50), (2, NULL)")
queries = [
    "SELECT 1 + 0.5, 2 * 1.5, 1 + 2.0::float8, 1 + 10000000000",
    "SELECT CASE WHEN id > 1 THEN id ELSE 2.5 END, coalesce(amount, 0), greatest(id, 1.5) FROM mix ORDER BY id",
    "SELECT id FROM mix UNION ALL SELECT amount FROM mix WHERE amount IS NOT NULL ORDER BY 1",
    "SELECT 0 AS amount UNION ALL SELECT 2.5 ORDER BY 1",
]
for binary in (False, True):
    cur = conn.cursor(binary=binary)
    for q in queries:
        print(cur.execute(q).fetchall())
"#,
        conninfo = server.conninfo()
    );
    let rows = "[(Decimal('1.5'), Decimal('3.0'), 3.0, 10000000001)]\n\
                [(Decimal('2.5'), Decimal('2.50'), Decimal('1.5')), (Decimal('2'), Decimal('0'), Decimal('2'))]\n\
                [(Decimal('1'),), (Decimal('2'),), (Decimal('2.50'),)]\n\
                [(Decimal('0'),), (Decimal('2.5'),)]\n";
    assert_eq!(python(&script), format!("{rows}{rows}"));
}

#[test]
fn psycopg_uses_the_extended_protocol() {
    let server = Server::start();
    let script = format!(
        r#"
import datetime, decimal, psycopg
conn = psycopg.connect("{conninfo}")
cur = conn.cursor()
cur.execute("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance numeric(12,2), opened date)")
cur.executemany("INSERT INTO acct VALUES (%s, %s, %s, %s)",
                [(i, f"owner{{i}}", decimal.Decimal(i) / 4, datetime.date(2024, 1, 1 + i)) for i in range(1, 11)])
conn.commit()
cur.execute("SELECT owner, balance, opened FROM acct WHERE id = %s", (3,))
print(cur.fetchone())
cur.execute("SELECT count(*), sum(balance) FROM acct WHERE balance > %s", (decimal.Decimal("1.00"),))
print(cur.fetchone())
bcur = conn.cursor(binary=True)
bcur.execute("SELECT id, owner, balance, opened FROM acct WHERE id BETWEEN %s AND %s ORDER BY id", (4, 5))
print(bcur.fetchall())
try:
    cur.execute("SELECT 1 / %s", (0,))
except psycopg.errors.DivisionByZero as e:
    print("error", e.sqlstate)
conn.rollback()
with conn.transaction():
    cur.execute("UPDATE acct SET balance = balance + %s WHERE id = %s", (decimal.Decimal("0.50"), 1))
cur.execute("SELECT balance FROM acct WHERE id = 1")
print(cur.fetchone())
with cur.copy("COPY acct (id, owner, balance) FROM STDIN") as copy:
    for i in range(100, 103):
        copy.write_row((i, f"tab\there {{i}}", None))
conn.commit()
with cur.copy("COPY (SELECT id, owner FROM acct WHERE id >= 100 ORDER BY id) TO STDOUT") as copy:
    print([row for row in copy.rows()])
conn.close()
"#,
        conninfo = server.conninfo()
    );
    let stdout = python(&script);
    assert_eq!(
        stdout,
        "('owner3', Decimal('0.75'), datetime.date(2024, 1, 4))\n\
         (6, Decimal('11.25'))\n\
         [(4, 'owner4', Decimal('1.00'), datetime.date(2024, 1, 5)), (5, 'owner5', Decimal('1.25'), datetime.date(2024, 1, 6))]\n\
         error 22012\n\
         (Decimal('0.75'),)\n\
         [('100', 'tab\\there 100'), ('101', 'tab\\there 101'), ('102', 'tab\\there 102')]\n"
    );
}

/// SIGTERM stops the server cleanly (exit 0) and what it committed is there on restart.
#[test]
fn sigterm_stops_cleanly_and_commits_survive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let mut server = Server::start_in(dir);
    let mut cmd = server.client("psql");
    cmd.args([
        "-X",
        "-c",
        "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')",
    ]);
    assert!(run(cmd, "", "postgresql-client").status.success());
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let dir = server.take_dir();
    drop(server);
    assert_eq!(dir.path(), path);
    let server = Server::start_in(dir);
    assert_eq!(server.value("SELECT v FROM kept"), "still here");
}

/// sysbench's pgsql driver: prepare, run and cleanup of the four OLTP workloads the issue
/// names, with no fatal error.
#[test]
fn sysbench_oltp_workloads() {
    let server = Server::start();
    let port = server.port.to_string();
    let common = |workload: &str, command: &str| {
        let mut cmd = Command::new("sysbench");
        cmd.args([
            workload,
            "--db-driver=pgsql",
            "--pgsql-host=127.0.0.1",
            &format!("--pgsql-port={port}"),
            "--pgsql-user=zizhu",
            &format!("--pgsql-password={PASSWORD}"),
            "--pgsql-db=postgres",
            "--tables=2",
            "--table-size=1000",
            "--threads=4",
            "--time=2",
            command,
        ]);
        let out = run(cmd, "", "sysbench");
        let stdout = text(&out.stdout);
        assert!(
            out.status.success() && !stdout.contains("FATAL"),
            "{workload} {command}: {stdout}{}",
            text(&out.stderr)
        );
        stdout
    };
    common("oltp_read_write", "prepare");
    for workload in [
        "oltp_read_write",
        "oltp_point_select",
        "oltp_update_index",
        "oltp_insert",
    ] {
        let stdout = common(workload, "run");
        let transactions = stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix("transactions:"))
            .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
        assert!(transactions > 0, "{workload}: {stdout}");
    }
    common("oltp_read_write", "cleanup");
}

/// JDBC (Debian's libpostgresql-jdbc-java on the image's Java 17): batch insert through a
/// prepared statement, server-side prepared queries (past the driver's prepareThreshold),
/// transactions, an error and continued use, and `DatabaseMetaData` (getTables, getColumns,
/// getPrimaryKeys, getIndexInfo, getImportedKeys), whose expected output is what the same
/// program prints against PostgreSQL 15.
#[test]
fn jdbc_prepared_statements_batches_and_transactions() {
    let server = Server::start();
    let jar = "/usr/share/java/postgresql.jar";
    assert!(
        Path::new(jar).exists(),
        "{jar} missing: install libpostgresql-jdbc-java"
    );
    let classes = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jdbc/JdbcCheck.java");
    let out = Command::new("javac")
        .arg("-d")
        .arg(classes.path())
        .arg(&source)
        .output()
        .expect("javac (install default-jdk-headless)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = Command::new("java")
        .arg("-cp")
        .arg(format!("{jar}:{}", classes.path().display()))
        .arg("JdbcCheck")
        .arg(format!(
            "jdbc:postgresql://127.0.0.1:{}/postgres",
            server.port
        ))
        .arg(PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        "batch 20\nname3 0.30 2024-01-03\nname9 0.90 2024-01-09\nafter rollback 0.10\n\
         error 22012\ncount 20\nproduct PostgreSQL 15.0\n\
         -- tables\n\
         TABLE_SCHEM=public TABLE_NAME=j TABLE_TYPE=TABLE\n\
         TABLE_SCHEM=public TABLE_NAME=k TABLE_TYPE=TABLE\n\
         TABLE_SCHEM=public TABLE_NAME=kv TABLE_TYPE=VIEW\n\
         -- columns\n\
         COLUMN_NAME=id DATA_TYPE=4 TYPE_NAME=serial COLUMN_SIZE=10 IS_NULLABLE=NO \
         COLUMN_DEF=nextval('k_id_seq'::regclass) IS_AUTOINCREMENT=YES\n\
         COLUMN_NAME=j_id DATA_TYPE=4 TYPE_NAME=int4 COLUMN_SIZE=10 IS_NULLABLE=YES \
         COLUMN_DEF=null IS_AUTOINCREMENT=NO\n\
         COLUMN_NAME=qty DATA_TYPE=-5 TYPE_NAME=int8 COLUMN_SIZE=19 IS_NULLABLE=NO \
         COLUMN_DEF=null IS_AUTOINCREMENT=NO\n\
         COLUMN_NAME=note DATA_TYPE=12 TYPE_NAME=varchar COLUMN_SIZE=40 IS_NULLABLE=YES \
         COLUMN_DEF=null IS_AUTOINCREMENT=NO\n\
         -- primary keys\n\
         COLUMN_NAME=id KEY_SEQ=1 PK_NAME=k_pkey\n\
         -- index info\n\
         INDEX_NAME=k_pkey NON_UNIQUE=f COLUMN_NAME=id ORDINAL_POSITION=1\n\
         INDEX_NAME=k_j_qty NON_UNIQUE=t COLUMN_NAME=j_id ORDINAL_POSITION=1\n\
         INDEX_NAME=k_j_qty NON_UNIQUE=t COLUMN_NAME=qty ORDINAL_POSITION=2\n\
         -- imported keys\n\
         PKTABLE_NAME=j PKCOLUMN_NAME=id FKCOLUMN_NAME=j_id FK_NAME=k_j_id_fkey DELETE_RULE=0\n"
    );
}

/// 500 connections open at once, then 64 of them running transactions together; prints the
/// server's resident memory per idle connection.
#[test]
fn five_hundred_connections_and_sixty_four_active() {
    let server = Server::start();
    let pid = server.child.id();
    let script = format!(
        r#"
import psycopg, threading
def rss():
    for line in open("/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
conns = []
first = psycopg.connect("{conninfo}", autocommit=True)
first.execute("CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL)")
first.execute("INSERT INTO counters SELECT g, 0 FROM generate_series(1, 64) AS g")
before = rss()
for i in range(500):
    c = psycopg.connect("{conninfo}", autocommit=True)
    c.execute("SELECT 1")
    conns.append(c)
after = rss()
print("open", len(conns))
print("idle KiB per connection", (after - before) // 500)
errors = []
def work(c, i):
    try:
        for _ in range(20):
            with c.transaction():
                c.execute("UPDATE counters SET n = n + 1 WHERE id = %s", ((i % 64) + 1,))
                c.execute("UPDATE counters SET n = n + 1 WHERE id = %s", (((i + 1) % 64) + 1,))
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work, args=(conns[i], i)) for i in range(64)]
for t in threads: t.start()
for t in threads: t.join()
print("errors", errors)
print("total", first.execute("SELECT sum(n) FROM counters").fetchone()[0])
for c in conns: c.close()
"#,
        conninfo = server.conninfo()
    );
    let stdout = python(&script);
    eprintln!("{stdout}");
    assert!(stdout.contains("open 500\n"), "{stdout}");
    assert!(stdout.contains("errors []\n"), "{stdout}");
    // 64 clients x 20 transactions x 2 increments, none lost.
    assert!(stdout.contains("total 2560\n"), "{stdout}");
}

/// A cancel request stops a running statement (57014, "user request"); statement_timeout stops
/// a long query and a lock wait ("statement timeout"); the connection goes on working.
#[test]
fn cancel_requests_and_statement_timeout_stop_statements() {
    let server = Server::start();
    let script = format!(
        r#"
import psycopg, threading, time
conn = psycopg.connect("{conninfo}", autocommit=True)
threading.Thread(target=lambda: (time.sleep(0.5), conn.cancel())).start()
try:
    conn.execute("SELECT count(*) FROM generate_series(1, 1000000000)")
    print("not canceled")
except psycopg.errors.QueryCanceled as e:
    print("canceled:", str(e).strip())
print(conn.execute("SELECT 42").fetchone()[0])
conn.execute("SET statement_timeout = '300ms'")
try:
    conn.execute("SELECT count(*) FROM generate_series(1, 1000000000)")
except psycopg.errors.QueryCanceled as e:
    print("timed out:", str(e).strip())
conn.execute("CREATE TABLE l (id int PRIMARY KEY, v int)")
conn.execute("INSERT INTO l VALUES (1, 0)")
holder = psycopg.connect("{conninfo}")
holder.execute("UPDATE l SET v = 1 WHERE id = 1")
try:
    conn.execute("UPDATE l SET v = 2 WHERE id = 1")
except psycopg.errors.QueryCanceled as e:
    print("lock wait:", str(e).strip())
holder.rollback()
print(conn.execute("UPDATE l SET v = 3 WHERE id = 1 RETURNING v").fetchone()[0])
"#,
        conninfo = server.conninfo()
    );
    assert_eq!(
        python(&script),
        "canceled: canceling statement due to user request\n42\n\
         timed out: canceling statement due to statement timeout\n\
         lock wait: canceling statement due to statement timeout\n3\n"
    );
}

/// With a certificate and key, clients that require TLS get it (psql's `sslmode=require`);
/// without them such clients are refused; a bad certificate stops the start with a message.
#[test]
fn tls_when_given_a_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (install openssl)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start_with(
        tempfile::tempdir().unwrap(),
        &[
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ],
    );
    let mut cmd = server.client("psql");
    cmd.env("PGSSLMODE", "require")
        .args(["-X", "-c", "\\conninfo", "-c", "SELECT 'over tls'"]);
    let out = run(cmd, "", "postgresql-client");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("SSL connection (protocol: TLSv1.3"),
        "{stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("over tls"), "{stdout}");

    let plain = Server::start();
    plain.refused(("PGSSLMODE", "require"), "does not support SSL");

    let out = Command::new(env!("CARGO_BIN_EXE_zizhu"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(certs.path().join("data"))
        .args([
            "--tls-cert".as_ref(),
            key.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no certificate"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !certs.path().join("data").exists(),
        "a failed start leaves no data directory"
    );
}

/// psycopg sends and reads `json` and `jsonb` in text and binary format (jsonb's binary form
/// is a version byte and the text), and the operators work on parameters.
#[test]
fn psycopg_reads_and_writes_json_in_both_formats() {
    let server = Server::start();
    let script = format!(
        r#"
import psycopg
from psycopg.types.json import Jsonb, Json
c = psycopg.connect("{conninfo}", autocommit=True)
c.execute("CREATE TABLE pj (id int PRIMARY KEY, d jsonb, j json)")
c.execute("INSERT INTO pj VALUES (%s, %s, %s)", (1, Jsonb({{"b": [1, 2], "a": "x"}}), Json({{"k": None}})))
for binary in (False, True):
    cur = c.cursor(binary=binary)
    cur.execute("SELECT d, j, d -> 'b', d ->> 'a', d::text FROM pj")
    print(binary, cur.fetchone())
print(c.execute("SELECT id FROM pj WHERE d @> %s", (Jsonb({{"a": "x"}}),)).fetchall())
"#,
        conninfo = server.conninfo()
    );
    assert_eq!(
        python(&script),
        "False ({'a': 'x', 'b': [1, 2]}, {'k': None}, [1, 2], 'x', '{\"a\": \"x\", \"b\": [1, 2]}')\n\
         True ({'a': 'x', 'b': [1, 2]}, {'k': None}, [1, 2], 'x', '{\"a\": \"x\", \"b\": [1, 2]}')\n\
         [(1,)]\n"
    );
}
