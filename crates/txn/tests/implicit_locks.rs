//! Implicit insert locks: a transaction inserting many rows at once keeps its insert locks out
//! of the lock table (see `zizhu_txn`'s `lock` module). Anyone else who wants such a key must
//! still wait for the inserter, exactly as if the lock had an entry: these tests are the
//! explicit-lock tests of `mvcc.rs` again, with a bulk insert holding the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::thread;

use zizhu_engine::Direction;
use zizhu_txn::{Error, IsolationLevel, LockMode, WaitPolicy};

mod common;
use common::*;

const RC: IsolationLevel = IsolationLevel::ReadCommitted;

/// Rows with keys `ids`, enough of them for the call to take its locks implicitly.
fn bulk(ids: std::ops::Range<i64>, value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    assert!(ids.end - ids.start >= 64, "too few rows for implicit locks");
    ids.map(|i| (key(i), value.to_vec())).collect()
}

#[test]
fn a_bulk_insert_leaves_the_lock_table_empty_until_someone_asks() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    assert_eq!(
        first.insert_many(bulk(0..1000, b"first")).unwrap(),
        (1000, None)
    );
    assert_eq!(mvcc.locked_rows(), 0, "the locks are implicit");
    // Another transaction's NOWAIT request finds the key held, and turns the lock into an
    // entry held by the inserter.
    let second = begin(&mvcc, RC);
    assert_eq!(
        second.lock_row(&key(500), LockMode::KeyShare, WaitPolicy::NoWait),
        Err(Error::LockNotAvailable)
    );
    assert_eq!(
        second.lock_row(&key(501), LockMode::Update, WaitPolicy::SkipLocked),
        Ok(None)
    );
    assert_eq!(mvcc.locked_rows(), 2);
    first.commit().unwrap();
    assert_eq!(
        mvcc.locked_rows(),
        0,
        "converted locks go with the inserter's end"
    );
    // Free now, and visible.
    let lock = second
        .lock_row(&key(500), LockMode::Update, WaitPolicy::NoWait)
        .unwrap()
        .unwrap();
    assert_eq!(lock.current, Some(b"first".to_vec()));
}

#[test]
fn a_second_inserter_waits_for_a_bulk_inserter_to_end() {
    for first_commits in [true, false] {
        let mvcc = open();
        let mut first = begin(&mvcc, RC);
        assert_eq!(
            first.insert_many(bulk(0..100, b"first")).unwrap(),
            (100, None)
        );
        let mut second = begin(&mvcc, RC);
        let second_id = second.id();
        let found = end_while_blocked(&mvcc, first, first_commits, second_id, move || {
            let found = second.insert(&key(42), b"second".to_vec()).unwrap();
            second.commit().unwrap();
            found
        });
        assert_eq!(found, first_commits.then(|| b"first".to_vec()));
        let check = begin(&mvcc, RC);
        let expected = if first_commits { "first" } else { "second" };
        assert_eq!(
            check.get(&key(42)).unwrap(),
            Some(expected.as_bytes().to_vec())
        );
    }
}

#[test]
fn two_bulk_inserters_of_overlapping_keys_take_turns() {
    for first_commits in [true, false] {
        let mvcc = open();
        let mut first = begin(&mvcc, RC);
        assert_eq!(
            first.insert_many(bulk(0..100, b"first")).unwrap(),
            (100, None)
        );
        let mut second = begin(&mvcc, RC);
        let second_id = second.id();
        // Keys 100 to 149 are free, so they go in before anything waits for key 50.
        let rows: Vec<_> = (100..150)
            .chain(50..100)
            .map(|i| (key(i), b"second".to_vec()))
            .collect();
        let handled = end_while_blocked(&mvcc, first, first_commits, second_id, move || {
            let (handled, taken) = second.insert_many(rows).unwrap();
            assert_eq!(
                handled, 50,
                "stops before the first key the first one holds"
            );
            assert_eq!(taken, None);
            // The rest, as the SQL layer goes on with them: waits for key 50 only.
            let rest = second
                .insert_many(bulk(50..150, b"second")[..50].to_vec())
                .unwrap();
            second.commit().unwrap();
            rest
        });
        let mut check = begin(&mvcc, RC);
        let stored = scan_ids(&mut check, all(), Direction::Forward);
        if first_commits {
            assert_eq!(handled, (1, Some(b"first".to_vec())));
            // The first's 100 rows, and the second's 100 to 149.
            assert_eq!(stored.len(), 150);
            assert!(stored[..100].iter().all(|(_, v)| v == b"first"));
        } else {
            assert_eq!(handled, (50, None));
            assert_eq!(stored.len(), 100);
            assert!(stored.iter().all(|(_, v)| v == b"second"));
        }
    }
}

#[test]
fn bulk_inserters_waiting_for_each_other_are_a_deadlock() {
    let mvcc = open();
    let mut t1 = begin(&mvcc, RC);
    let mut t2 = begin(&mvcc, RC);
    assert_eq!(t1.insert_many(bulk(0..100, b"t1")).unwrap(), (100, None));
    assert_eq!(t2.insert_many(bulk(100..200, b"t2")).unwrap(), (100, None));
    let t1_id = t1.id();
    let waiting = thread::spawn(move || {
        let result = t1.put(&key(150), b"t1".to_vec());
        (result, t1)
    });
    wait_until_blocked(&mvcc, t1_id);
    let err = t2.put(&key(50), b"t2".to_vec()).unwrap_err();
    assert!(matches!(err, Error::Deadlock(_)), "{err}");
    t2.rollback();
    let (result, t1) = waiting.join().unwrap();
    result.unwrap();
    t1.commit().unwrap();
    let check = begin(&mvcc, RC);
    assert_eq!(check.get(&key(150)).unwrap(), Some(b"t1".to_vec()));
}

#[test]
fn rolling_back_to_a_savepoint_frees_the_bulk_inserted_keys() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    assert_eq!(
        first.insert_many(bulk(0..100, b"kept")).unwrap(),
        (100, None)
    );
    first.savepoint("s");
    assert_eq!(
        first.insert_many(bulk(100..200, b"undone")).unwrap(),
        (100, None)
    );
    // One waits on a key from after the savepoint (converted), one on a key from before.
    let mut after = begin(&mvcc, RC);
    let after_id = after.id();
    let mut before = begin(&mvcc, RC);
    let before_id = before.id();
    let after = thread::spawn(move || {
        let found = after.insert(&key(150), b"after".to_vec()).unwrap();
        after.commit().unwrap();
        found
    });
    wait_until_blocked(&mvcc, after_id);
    let before = thread::spawn(move || {
        let found = before.insert(&key(50), b"before".to_vec()).unwrap();
        before.commit().unwrap();
        found
    });
    wait_until_blocked(&mvcc, before_id);
    first.rollback_to("s").unwrap();
    // The key from after the savepoint is free at once; the other waits for the end.
    assert_eq!(after.join().unwrap(), None);
    assert!(mvcc.is_waiting(before_id));
    // Keys from after the savepoint that nobody asked for are free too.
    let mut other = begin(&mvcc, RC);
    assert_eq!(other.insert(&key(160), b"other".to_vec()).unwrap(), None);
    other.commit().unwrap();
    first.commit().unwrap();
    assert_eq!(before.join().unwrap(), Some(b"kept".to_vec()));
    let mut check = begin(&mvcc, RC);
    let stored = scan_ids(&mut check, all(), Direction::Forward);
    assert_eq!(stored.len(), 102, "{:?}", &stored[95..]);
    assert_eq!(check.get(&key(150)).unwrap(), Some(b"after".to_vec()));
}

#[test]
fn an_update_of_its_own_bulk_inserted_row_takes_no_entry() {
    let mvcc = open();
    let mut txn = begin(&mvcc, RC);
    assert_eq!(txn.insert_many(bulk(0..100, b"new")).unwrap(), (100, None));
    let lock = txn
        .lock_row(&key(7), LockMode::NoKeyUpdate, WaitPolicy::NoWait)
        .unwrap()
        .unwrap();
    assert_eq!(lock.current, Some(b"new".to_vec()));
    txn.put(&key(7), b"updated".to_vec()).unwrap();
    txn.delete(&key(8)).unwrap();
    assert_eq!(
        txn.insert(&key(9), b"again".to_vec()).unwrap(),
        Some(b"new".to_vec())
    );
    assert_eq!(mvcc.locked_rows(), 0);
    txn.commit().unwrap();
    let check = begin(&mvcc, RC);
    assert_eq!(check.get(&key(7)).unwrap(), Some(b"updated".to_vec()));
    assert_eq!(check.get(&key(8)).unwrap(), None);
}
