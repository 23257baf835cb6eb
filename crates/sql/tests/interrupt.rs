//! A session's statement can be cancelled from another thread: a long query stops with 57014,
//! and so does a wait for a row lock; the session stays usable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use zizhu_sql::Database;

#[test]
fn a_cancelled_query_stops_and_the_session_goes_on() {
    let db = Database::memory();
    let mut s = db.session();
    let interrupt = s.interrupt();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        interrupt.cancel();
    });
    let err = s
        .execute("SELECT count(*) FROM generate_series(1, 2000000000)")
        .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.sqlstate(), "57014");
    assert_eq!(err.to_string(), "canceling statement due to user request");
    s.interrupt().reset();
    s.execute("SELECT 1").unwrap();
}

#[test]
fn a_timed_out_lock_wait_says_so() {
    let db = Database::memory();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        .unwrap();
    a.execute("INSERT INTO t VALUES (1, 0)").unwrap();
    a.execute("BEGIN").unwrap();
    a.execute("UPDATE t SET v = 1 WHERE id = 1").unwrap();
    let interrupt = b.interrupt();
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        interrupt.time_out();
    });
    let err = b.execute("UPDATE t SET v = 2 WHERE id = 1").unwrap_err();
    timer.join().unwrap();
    assert_eq!(err.sqlstate(), "57014");
    assert_eq!(
        err.to_string(),
        "canceling statement due to statement timeout"
    );
    a.execute("ROLLBACK").unwrap();
    b.interrupt().reset();
    b.execute("UPDATE t SET v = 3 WHERE id = 1").unwrap();
}
