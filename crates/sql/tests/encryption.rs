//! Encryption at rest through SQL: the system views, key rotation by the administration
//! functions while sessions keep working, spill files, and tampering reported as XX001.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zizhu_sql::{Database, OpenOptions, RedbEngine, StatementResult};
use zizhu_types::Value;

const MARKER: &str = "SQL-MARKER-a91f";

fn open(root: &Path) -> Arc<Database<RedbEngine>> {
    let mut options = OpenOptions::key_file(root.join("master.key"));
    options.cache_size_bytes = 4 << 20;
    Database::open(&root.join("data"), options).unwrap()
}

fn rows(db: &Arc<Database<RedbEngine>>, sql: &str) -> Vec<Vec<Value>> {
    match db.session().execute_one(sql).unwrap() {
        StatementResult::Query { rows, .. } => rows,
        other => panic!("{sql}: {other:?}"),
    }
}

fn one(db: &Arc<Database<RedbEngine>>, sql: &str) -> Value {
    rows(db, sql).remove(0).remove(0)
}

fn load(db: &Arc<Database<RedbEngine>>) {
    let mut s = db.session();
    s.execute(&format!(
        "CREATE TABLE {MARKER_TABLE} (id int PRIMARY KEY, note text)",
        MARKER_TABLE = "marker_a91f"
    ))
    .unwrap();
    s.execute("CREATE INDEX marker_a91f_note ON marker_a91f (note)")
        .unwrap();
    s.execute(&format!(
        "INSERT INTO marker_a91f SELECT g, '{MARKER}-' || g FROM generate_series(1, 3000) g"
    ))
    .unwrap();
}

fn files_contain(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_contain(&path, needle));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn the_status_view_describes_encryption() {
    let root = tempfile::tempdir().unwrap();
    let db = open(root.path());
    let row = rows(
        &db,
        "SELECT encrypted, cipher, active_key, rotation_state, authentication_failures \
         FROM zizhu_stat_encryption",
    )
    .remove(0);
    assert_eq!(
        row,
        vec![
            Value::Bool(true),
            Value::Text("SM4-GCM".into()),
            Value::Int32(1),
            Value::Text("idle".into()),
            Value::Int64(0),
        ]
    );
    let implementation = one(
        &db,
        "SELECT cipher_implementation FROM zizhu_stat_encryption",
    );
    assert!(
        implementation == Value::Text("SM4 (AES-NI)".into())
            || implementation == Value::Text("SM4 (tables)".into()),
        "{implementation:?}"
    );
    let source = one(&db, "SELECT master_key_source FROM zizhu_stat_encryption");
    assert!(
        matches!(&source, Value::Text(t) if t.contains("master.key")),
        "{source:?}"
    );
}

#[test]
fn rotations_through_sql_while_sessions_write() {
    let root = tempfile::tempdir().unwrap();
    let db = open(root.path());
    load(&db);

    // Not inside a block: a rotation cannot be rolled back.
    let mut s = db.session();
    s.execute("BEGIN").unwrap();
    let err = s.execute("SELECT zizhu_rotate_data_key()").unwrap_err();
    assert_eq!(err.sqlstate(), "25001");
    s.execute("ROLLBACK").unwrap();
    drop(s);
    let err = db
        .session()
        .execute("SELECT zizhu_rotate_data_key(-1)")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "22023");

    let old_key = std::fs::read(root.path().join("master.key")).unwrap();
    let text = one(&db, "SELECT zizhu_rotate_master_key()");
    assert!(matches!(text, Value::Text(_)));
    assert_ne!(
        std::fs::read(root.path().join("master.key")).unwrap(),
        old_key
    );

    assert_eq!(
        one(&db, "SELECT zizhu_rotate_data_key(200)"),
        Value::Int32(2)
    );
    // Writes go on during the rotation.
    let mut s = db.session();
    for i in 3001..3200 {
        s.execute(&format!(
            "INSERT INTO marker_a91f VALUES ({i}, '{MARKER}-{i}')"
        ))
        .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = one(&db, "SELECT rotation_state FROM zizhu_stat_encryption");
        if state == Value::Text("finished".into()) {
            break;
        }
        assert_eq!(state, Value::Text("running".into()));
        assert!(Instant::now() < deadline, "the rotation did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = rows(
        &db,
        "SELECT active_key, rotating_from_key, progress, pages_resealed > 0 \
         FROM zizhu_stat_encryption",
    )
    .remove(0);
    assert_eq!(status[0], Value::Int32(2));
    assert_eq!(status[1], Value::Int32(1));
    assert_eq!(status[2].to_string(), "100.00");
    assert_eq!(status[3], Value::Bool(true));
    let keys = rows(
        &db,
        "SELECT key_id, state FROM zizhu_encryption_keys ORDER BY key_id",
    );
    assert_eq!(
        keys,
        vec![
            vec![Value::Int32(1), Value::Text("destroyed".into())],
            vec![Value::Int32(2), Value::Text("active".into())],
        ]
    );
    assert_eq!(
        one(&db, "SELECT count(*) FROM marker_a91f"),
        Value::Int64(3199)
    );
    drop(s);
    drop(db);

    assert_eq!(
        files_contain(&root.path().join("data"), MARKER.as_bytes()),
        Vec::<String>::new()
    );
    let db = open(root.path());
    assert_eq!(
        one(&db, "SELECT note FROM marker_a91f WHERE id = 3100"),
        Value::Text(format!("{MARKER}-3100"))
    );
}

#[test]
fn spilled_sorts_leave_nothing_in_the_clear() {
    let root = tempfile::tempdir().unwrap();
    let db = open(root.path());
    load(&db);
    let mut s = db.session();
    s.execute("SET work_mem = '64kB'").unwrap();
    let result = s
        .execute_one("EXPLAIN ANALYZE SELECT note FROM marker_a91f ORDER BY note DESC")
        .unwrap();
    let StatementResult::Query { rows, .. } = result else {
        panic!("not a query")
    };
    let plan: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
    assert!(
        plan.iter().any(|l| l.contains("Temporary Files")),
        "the sort did not spill: {plan:?}"
    );
    let sorted = s
        .execute_one("SELECT note FROM marker_a91f ORDER BY note DESC LIMIT 1")
        .unwrap();
    let StatementResult::Query { rows, .. } = sorted else {
        panic!("not a query")
    };
    assert_eq!(rows[0][0], Value::Text(format!("{MARKER}-999")));
}

#[test]
fn tampering_is_reported_as_data_corruption() {
    let root = tempfile::tempdir().unwrap();
    {
        let db = open(root.path());
        load(&db);
    }
    let data = root.path().join("data").join("data.redb");
    let mut bytes = std::fs::read(&data).unwrap();
    // Flip one byte in every page slot: whatever the query reads is altered.
    let mut at = 8192 + 100;
    while at < bytes.len() {
        bytes[at] ^= 0x20;
        at += 4128;
    }
    std::fs::write(&data, &bytes).unwrap();
    let outcome = Database::open(
        &root.path().join("data"),
        OpenOptions::key_file(root.path().join("master.key")),
    )
    .and_then(|db| {
        db.session()
            .execute_one("SELECT count(*), max(note) FROM marker_a91f")
    });
    let err = outcome.expect_err("altered pages were read as data");
    assert_eq!(err.sqlstate(), "XX001", "{err}");
    assert!(err.to_string().contains("failed authentication"), "{err}");
}
