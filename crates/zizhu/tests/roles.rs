//! System tests of roles, databases and connection rules: the real `zizhu` binary, driven by
//! psql and psycopg as different users, over TCP with SCRAM authentication.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{python, run, text, Server, PASSWORD};

/// psql as `user` with `password` in `database`; its output (stdout, then stderr).
fn psql_as(
    server: &Server,
    user: &str,
    password: &str,
    database: &str,
    sql: &str,
) -> (bool, String) {
    let mut cmd = server.client("psql");
    cmd.env("PGUSER", user)
        .env("PGPASSWORD", password)
        .env("PGDATABASE", database)
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);
    let out = run(cmd, "", "postgresql-client");
    (
        out.status.success(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn ok(server: &Server, user: &str, password: &str, database: &str, sql: &str) -> String {
    let (success, output) = psql_as(server, user, password, database, sql);
    assert!(success, "{user}@{database}: {sql}: {output}");
    output.trim().to_string()
}

fn fails(server: &Server, user: &str, password: &str, database: &str, sql: &str, message: &str) {
    let (success, output) = psql_as(server, user, password, database, sql);
    assert!(!success, "{user}@{database}: {sql} succeeded: {output}");
    assert!(
        output.contains(message),
        "{user}@{database}: {sql}: {output}"
    );
}

fn admin(server: &Server, sql: &str) -> String {
    ok(server, "zizhu", PASSWORD, "postgres", sql)
}

fn signal(server: &Server, name: &str) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args([name, &pid])
        .status()
        .unwrap()
        .success());
}

/// Users created with SQL log in with their own passwords, and only what PostgreSQL lets a
/// role do is allowed; every refused login looks the same to the client.
#[test]
fn roles_log_in_with_their_passwords_and_privileges() {
    let server = Server::start();
    admin(
        &server,
        "CREATE USER alice WITH PASSWORD 'alice-pw' CREATEDB; CREATE ROLE readers; \
         CREATE USER bob PASSWORD 'bob-pw' VALID UNTIL '2001-01-01'; \
         CREATE ROLE carol LOGIN PASSWORD 'carol-pw'",
    );
    assert_eq!(
        ok(
            &server,
            "alice",
            "alice-pw",
            "postgres",
            "SELECT current_user, session_user"
        ),
        "alice|alice"
    );
    // A wrong password, a role that may not log in, an expired password and a role that does
    // not exist: the same answer, so a client learns nothing of which roles exist.
    for (user, password) in [
        ("alice", "wrong"),
        ("readers", "x"),
        ("bob", "bob-pw"),
        ("nobody", "x"),
    ] {
        fails(
            &server,
            user,
            password,
            "postgres",
            "SELECT 1",
            &format!("password authentication failed for user \"{user}\""),
        );
    }
    // A role without CREATEROLE may change only its own password.
    fails(
        &server,
        "alice",
        "alice-pw",
        "postgres",
        "CREATE ROLE eve",
        "permission denied to create role",
    );
    fails(
        &server,
        "alice",
        "alice-pw",
        "postgres",
        "ALTER ROLE alice CREATEROLE",
        "permission denied to alter role",
    );
    fails(
        &server,
        "alice",
        "alice-pw",
        "postgres",
        "ALTER ROLE carol PASSWORD 'mine'",
        "permission denied to alter role",
    );
    fails(
        &server,
        "alice",
        "alice-pw",
        "postgres",
        "DROP ROLE carol",
        "permission denied to drop role",
    );
    ok(
        &server,
        "alice",
        "alice-pw",
        "postgres",
        "ALTER ROLE alice PASSWORD 'alice-new'",
    );
    fails(
        &server,
        "alice",
        "alice-pw",
        "postgres",
        "SELECT 1",
        "password authentication failed",
    );
    ok(&server, "alice", "alice-new", "postgres", "SELECT 1");
    // CREATEDB: alice may create a database, which she then owns and may drop; not others'.
    ok(
        &server,
        "alice",
        "alice-new",
        "postgres",
        "CREATE DATABASE alice_db",
    );
    assert_eq!(
        admin(
            &server,
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'alice_db'"
        ),
        "alice"
    );
    fails(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "CREATE DATABASE carol_db",
        "permission denied to create database",
    );
    fails(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "DROP DATABASE alice_db",
        "must be owner of database alice_db",
    );
    fails(
        &server,
        "alice",
        "alice-new",
        "postgres",
        "CREATE DATABASE x OWNER carol",
        "must be able to SET ROLE \"carol\"",
    );
    // A CREATEROLE role manages ordinary roles, not superusers.
    admin(&server, "ALTER ROLE carol CREATEROLE");
    ok(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "CREATE USER dave PASSWORD 'dave-pw'; ALTER ROLE bob VALID UNTIL 'infinity'",
    );
    ok(&server, "bob", "bob-pw", "postgres", "SELECT 1");
    fails(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "CREATE ROLE boss SUPERUSER",
        "must be superuser to create superusers",
    );
    admin(&server, "CREATE ROLE repl REPLICATION");
    fails(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "ALTER ROLE repl LOGIN",
        "must be superuser to alter replication or bypassrls roles",
    );
    fails(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "ALTER ROLE zizhu PASSWORD 'x'",
        "must be superuser to alter superusers",
    );
    fails(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "DROP ROLE carol",
        "current user cannot be dropped",
    );
    // The bootstrap superuser stays one; a database's owner cannot be dropped.
    let (_, output) = psql_as(
        &server,
        "zizhu",
        PASSWORD,
        "postgres",
        "ALTER ROLE zizhu NOSUPERUSER",
    );
    assert!(
        output.contains("bootstrap user must be superuser"),
        "{output}"
    );
    let (_, output) = psql_as(&server, "zizhu", PASSWORD, "postgres", "DROP ROLE alice");
    assert!(output.contains("owner of database alice_db"), "{output}");
    ok(
        &server,
        "alice",
        "alice-new",
        "postgres",
        "DROP DATABASE alice_db",
    );
    admin(&server, "DROP ROLE alice, dave, repl");
    fails(
        &server,
        "alice",
        "alice-new",
        "postgres",
        "SELECT 1",
        "password authentication failed",
    );
    // A session is its role's OID: renaming the role and giving the name to a superuser does
    // not make the session a superuser.
    let script = format!(
        r#"
import psycopg
carol = psycopg.connect("host=127.0.0.1 port={port} user=carol password=carol-pw dbname=postgres", autocommit=True)
admin = psycopg.connect("host=127.0.0.1 port={port} user=zizhu password={password} dbname=postgres", autocommit=True)
admin.execute("ALTER ROLE carol NOCREATEROLE")
admin.execute("ALTER ROLE carol RENAME TO carol_old")
admin.execute("CREATE ROLE carol SUPERUSER")
try:
    carol.execute("CREATE ROLE eve")
    print("created")
except psycopg.Error as e:
    print(e.sqlstate, e.diag.message_primary)
admin.execute("DROP ROLE carol")
admin.execute("ALTER ROLE carol_old RENAME TO carol")
"#,
        port = server.port,
        password = PASSWORD
    );
    assert_eq!(python(&script), "42501 permission denied to create role\n");
    // Binding runs as the session too: a LIMIT cannot read what the role may not.
    let (success, output) = psql_as(
        &server,
        "carol",
        "carol-pw",
        "postgres",
        "SELECT 'ran' LIMIT (SELECT rolpassword FROM pg_authid WHERE rolname = 'zizhu')::bigint",
    );
    assert!(success && !output.contains("SCRAM"), "{output}");
    // The catalog shows verifiers, not passwords, and only to superusers.
    assert!(admin(
        &server,
        "SELECT rolpassword FROM pg_authid WHERE rolname = 'carol'"
    )
    .starts_with("SCRAM-SHA-256$4096:"));
    assert_eq!(
        ok(
            &server,
            "carol",
            "carol-pw",
            "postgres",
            "SELECT coalesce(rolpassword, 'hidden') FROM pg_authid WHERE rolname = 'carol'"
        ),
        "hidden"
    );
}

/// Each connection sees only its own database's relations; a database in use is not
/// dropped; databases and roles survive a restart.
#[test]
fn databases_are_separate_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let mut server = Server::start_in(dir);
    admin(
        &server,
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text); \
         INSERT INTO accounts VALUES (1, 'in postgres'); \
         CREATE DATABASE shop; CREATE USER clerk PASSWORD 'clerk-pw'",
    );
    ok(
        &server,
        "clerk",
        "clerk-pw",
        "shop",
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text, extra int); \
         INSERT INTO accounts VALUES (7, 'in shop', 1), (8, 'in shop', 2); \
         CREATE SEQUENCE orders_seq; CREATE VIEW v AS SELECT owner FROM accounts",
    );
    assert_eq!(admin(&server, "SELECT owner FROM accounts"), "in postgres");
    assert_eq!(
        ok(
            &server,
            "clerk",
            "clerk-pw",
            "shop",
            "SELECT count(*), min(owner) FROM accounts"
        ),
        "2|in shop"
    );
    let (_, relations) = psql_as(&server, "zizhu", PASSWORD, "postgres", "\\dt");
    assert!(
        !relations.contains("orders_seq") && relations.contains("accounts"),
        "{relations}"
    );
    let (_, relations) = psql_as(&server, "clerk", "clerk-pw", "shop", "\\d");
    assert!(
        relations.contains("|orders_seq|sequence|") && relations.contains("|v|view|"),
        "{relations}"
    );
    let (_, names) = psql_as(
        &server,
        "zizhu",
        PASSWORD,
        "postgres",
        "SELECT relname FROM pg_class WHERE relname IN ('v', 'orders_seq')",
    );
    assert_eq!(names.trim(), "");
    fails(
        &server,
        "clerk",
        "clerk-pw",
        "nosuch",
        "SELECT 1",
        "database \"nosuch\" does not exist",
    );
    // What is evaluated while binding (here a LIMIT) reads the session's own database.
    assert_eq!(
        ok(
            &server,
            "clerk",
            "clerk-pw",
            "shop",
            "SELECT 'seen' LIMIT (SELECT count(*) FROM pg_class WHERE relname = 'orders_seq')"
        ),
        "seen"
    );

    // A session in shop keeps it from being dropped.
    let script = format!(
        r#"
import psycopg, subprocess
# Connected and logged in, but no statement yet: it counts already.
held = psycopg.connect("host=127.0.0.1 port={port} user=clerk password=clerk-pw dbname=shop")
admin = psycopg.connect("host=127.0.0.1 port={port} user=zizhu password={password} dbname=postgres", autocommit=True)
try:
    admin.execute("DROP DATABASE shop")
    print("dropped")
except psycopg.Error as e:
    print(e.sqlstate, e.diag.message_primary, "/", e.diag.message_detail)
held.close()
admin.execute("CREATE DATABASE scratch")
admin.execute("DROP DATABASE scratch")
print("scratch dropped")
"#,
        port = server.port,
        password = PASSWORD
    );
    assert_eq!(
        python(&script),
        "55006 database \"shop\" is being accessed by other users / There is 1 other session using the database.\n\
         scratch dropped\n"
    );

    // Restart: databases, their tables and the roles are all still there.
    signal(&server, "-TERM");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let dir = server.take_dir();
    assert_eq!(dir.path(), path);
    let server = Server::start_in(dir);
    assert!(!server.startup.contains("password"), "{}", server.startup);
    assert_eq!(
        ok(
            &server,
            "clerk",
            "clerk-pw",
            "shop",
            "SELECT string_agg(owner || extra, ',' ORDER BY id) FROM accounts"
        ),
        "in shop1,in shop2"
    );
    assert_eq!(
        ok(
            &server,
            "clerk",
            "clerk-pw",
            "shop",
            "SELECT nextval('orders_seq')"
        ),
        "1"
    );
    admin(&server, "DROP DATABASE shop");
    fails(
        &server,
        "clerk",
        "clerk-pw",
        "shop",
        "SELECT 1",
        "database \"shop\" does not exist",
    );
    assert_eq!(admin(&server, "SELECT owner FROM accounts"), "in postgres");
}

/// `pg_hba.conf` in the data directory decides who may connect from where; SIGHUP reloads
/// it, and a file that does not parse leaves the rules in force (and stops a start).
#[test]
fn connection_rules_come_from_pg_hba_conf() {
    let mut server = Server::start();
    let hba = server.data_dir().join("pg_hba.conf");
    let default = std::fs::read_to_string(&hba).unwrap();
    assert!(default.contains("scram-sha-256"), "{default}");
    admin(
        &server,
        "CREATE USER mallory PASSWORD 'm-pw'; CREATE DATABASE payroll",
    );
    ok(&server, "mallory", "m-pw", "postgres", "SELECT 1");

    std::fs::write(
        &hba,
        format!(
            "host payroll all 127.0.0.1/32 reject\n\
             host all mallory 127.0.0.0 255.0.0.0 reject\n{default}"
        ),
    )
    .unwrap();
    signal(&server, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (success, _) = psql_as(&server, "mallory", "m-pw", "postgres", "SELECT 1");
        if !success {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload pg_hba.conf"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    fails(
        &server,
        "mallory",
        "m-pw",
        "postgres",
        "SELECT 1",
        "pg_hba.conf rejects connection for host \"127.0.0.1\", user \"mallory\", database \"postgres\", no encryption",
    );
    fails(
        &server,
        "zizhu",
        PASSWORD,
        "payroll",
        "SELECT 1",
        "pg_hba.conf rejects connection",
    );
    admin(&server, "SELECT 1");

    // A rule allowing no password is refused: the rules in force stay.
    std::fs::write(&hba, "host all all 0.0.0.0/0 trust\n").unwrap();
    signal(&server, "-HUP");
    std::thread::sleep(Duration::from_millis(500));
    fails(
        &server,
        "mallory",
        "m-pw",
        "postgres",
        "SELECT 1",
        "rejects connection",
    );
    admin(&server, "SELECT 1");

    // Nor does a server start on it.
    signal(&server, "-TERM");
    server.child.wait().unwrap();
    let dir = server.take_dir();
    let out = support::serve_command(dir.path(), &[])
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("pg_hba.conf: line 1: authentication method \"trust\" is not allowed"),
        "{stderr}"
    );
}
