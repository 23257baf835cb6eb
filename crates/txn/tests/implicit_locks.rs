//! Implicit insert locks: a transaction inserting many rows at once keeps its insert locks out
//! of the lock table (see `zizhu_txn`'s `lock` module). Anyone else who wants such a key must
//! still wait for the inserter, exactly as if the lock had an entry: these tests are the
//! explicit-lock tests of `mvcc.rs` again, with a bulk insert holding the key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use zizhu_engine::Direction;
use zizhu_txn::{Error, IsolationLevel, LockMode, SerializationCause, TxnOptions, WaitPolicy};

mod common;
use common::*;

const RC: IsolationLevel = IsolationLevel::ReadCommitted;

/// Rows with keys `ids`, enough of them for the call to take its locks implicitly.
fn bulk(ids: std::ops::Range<i64>, value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    assert!(
        ids.end - ids.start >= 256,
        "too few rows for implicit locks"
    );
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
fn converted_locks_go_with_a_rollback_too() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    first.insert_many(bulk(0..300, b"first")).unwrap();
    let second = begin(&mvcc, RC);
    for i in [1, 2, 3] {
        let locked = second.lock_row(&key(i), LockMode::Share, WaitPolicy::NoWait);
        assert_eq!(locked, Err(Error::LockNotAvailable));
    }
    assert_eq!(mvcc.locked_rows(), 3);
    drop(first);
    assert_eq!(mvcc.locked_rows(), 0);
    let locked = second.lock_row(&key(1), LockMode::Share, WaitPolicy::NoWait);
    assert_eq!(locked.unwrap().unwrap().current, None, "rolled back");
}

#[test]
fn a_second_inserter_waits_for_a_bulk_inserter_to_end() {
    for first_commits in [true, false] {
        let mvcc = open();
        let mut first = begin(&mvcc, RC);
        assert_eq!(
            first.insert_many(bulk(0..300, b"first")).unwrap(),
            (300, None)
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
            first.insert_many(bulk(0..300, b"first")).unwrap(),
            (300, None)
        );
        let mut second = begin(&mvcc, RC);
        let second_id = second.id();
        // Keys 300 to 449 are free, so they go in before anything waits for key 150.
        let rows: Vec<_> = (300..450)
            .chain(150..300)
            .map(|i| (key(i), b"second".to_vec()))
            .collect();
        let handled = end_while_blocked(&mvcc, first, first_commits, second_id, move || {
            let (handled, taken) = second.insert_many(rows).unwrap();
            assert_eq!(
                handled, 150,
                "stops before the first key the first one holds"
            );
            assert_eq!(taken, None);
            // The rest, as the SQL layer goes on with them: waits for key 150 only.
            let rest = second.insert_many(bulk(150..450, b"second")[..150].to_vec());
            second.commit().unwrap();
            rest.unwrap()
        });
        let mut check = begin(&mvcc, RC);
        let stored = scan_ids(&mut check, all(), Direction::Forward);
        if first_commits {
            assert_eq!(handled, (1, Some(b"first".to_vec())));
            // The first's 300 rows, and the second's 300 to 449.
            assert_eq!(stored.len(), 450);
            assert!(stored[..300].iter().all(|(_, v)| v == b"first"));
        } else {
            assert_eq!(handled, (150, None));
            // Keys 150 to 449, all the second's.
            assert_eq!(stored.len(), 300);
            assert!(stored.iter().all(|(_, v)| v == b"second"));
        }
    }
}

/// The core invariant under real concurrency: bulk inserters racing over the same fresh keys,
/// in different orders, never both insert a key, and every key ends up inserted once.
#[test]
fn racing_bulk_inserters_insert_each_key_exactly_once() {
    const KEYS: i64 = 2_000;
    const INSERTERS: usize = 3;
    for round in 0..5 {
        let mvcc = open();
        let start = Barrier::new(INSERTERS);
        let inserted: Vec<Vec<i64>> = thread::scope(|s| {
            let handles: Vec<_> = (0..INSERTERS)
                .map(|n| {
                    let (mvcc, start) = (&mvcc, &start);
                    s.spawn(move || {
                        // Each its own order: ascending, descending, and by stride.
                        let mut ids: Vec<i64> = (0..KEYS).collect();
                        match n {
                            0 => {}
                            1 => ids.reverse(),
                            _ => ids.sort_by_key(|i| (i * 7919 + round) % KEYS),
                        }
                        let mut txn = begin(mvcc, RC);
                        let mut mine = Vec::new();
                        let mut rest: Vec<_> = ids
                            .iter()
                            .map(|&i| (key(i), n.to_string().into_bytes()))
                            .collect();
                        let mut ids = ids.as_slice();
                        start.wait();
                        // As the SQL layer does with a conflict: skip the taken row, go on.
                        while !rest.is_empty() {
                            let result = txn.insert_many(rest[..rest.len().min(300)].to_vec());
                            let (handled, taken) = match result {
                                Ok(done) => done,
                                Err(Error::Deadlock(_)) => return Vec::new(),
                                Err(err) => panic!("{err}"),
                            };
                            let written = handled - usize::from(taken.is_some());
                            mine.extend_from_slice(&ids[..written]);
                            rest.drain(..handled);
                            ids = &ids[handled..];
                        }
                        txn.commit().unwrap();
                        mine
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all_ids: Vec<i64> = inserted.iter().flatten().copied().collect();
        all_ids.sort_unstable();
        let expected: Vec<i64> = (0..KEYS).collect();
        assert_eq!(all_ids, expected, "round {round}: each key once");
        let mut check = begin(&mvcc, RC);
        let stored = scan_ids(&mut check, all(), Direction::Forward);
        assert_eq!(stored.len(), KEYS as usize);
        for (id, value) in stored {
            let owner: usize = String::from_utf8(value).unwrap().parse().unwrap();
            assert!(inserted[owner].contains(&id), "key {id} stored by {owner}");
        }
        assert_eq!(mvcc.locked_rows(), 0);
    }
}

#[test]
fn bulk_inserters_waiting_for_each_other_are_a_deadlock() {
    let mvcc = open();
    let mut t1 = begin(&mvcc, RC);
    let mut t2 = begin(&mvcc, RC);
    assert_eq!(t1.insert_many(bulk(0..300, b"t1")).unwrap(), (300, None));
    assert_eq!(t2.insert_many(bulk(300..600, b"t2")).unwrap(), (300, None));
    let t1_id = t1.id();
    let waiting = thread::spawn(move || {
        let result = t1.put(&key(450), b"t1".to_vec());
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
    assert_eq!(check.get(&key(450)).unwrap(), Some(b"t1".to_vec()));
}

#[test]
fn a_lock_timeout_on_an_implicit_lock_fails_and_leaves_it_held() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    first.insert_many(bulk(0..300, b"first")).unwrap();
    let mut second = begin(&mvcc, RC);
    second.set_lock_timeout(Some(Duration::from_millis(50)));
    assert_eq!(
        second.insert(&key(7), b"second".to_vec()),
        Err(Error::LockTimeout)
    );
    // Still the first's: a third finds it held.
    let third = begin(&mvcc, RC);
    let locked = third.lock_row(&key(7), LockMode::KeyShare, WaitPolicy::NoWait);
    assert_eq!(locked, Err(Error::LockNotAvailable));
    first.commit().unwrap();
    assert_eq!(
        second.insert(&key(7), b"second".to_vec()),
        Ok(Some(b"first".to_vec()))
    );
}

#[test]
fn a_repeatable_read_writer_that_waited_on_a_bulk_insert_loses_to_it() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    first.insert_many(bulk(0..300, b"first")).unwrap();
    let mut second = mvcc.begin(TxnOptions {
        isolation: IsolationLevel::RepeatableRead,
        ..Default::default()
    });
    second.begin_statement();
    let second_id = second.id();
    let result = end_while_blocked(&mvcc, first, true, second_id, move || {
        second.put(&key(9), b"second".to_vec())
    });
    assert_eq!(
        result,
        Err(Error::Serialization(SerializationCause::ConcurrentUpdate))
    );
}

#[test]
fn rolling_back_to_a_savepoint_frees_the_bulk_inserted_keys() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    assert_eq!(
        first.insert_many(bulk(0..300, b"kept")).unwrap(),
        (300, None)
    );
    first.savepoint("s");
    assert_eq!(
        first.insert_many(bulk(300..600, b"undone")).unwrap(),
        (300, None)
    );
    // One waits on a key from after the savepoint (converted), one on a key from before.
    let mut after = begin(&mvcc, RC);
    let after_id = after.id();
    let mut before = begin(&mvcc, RC);
    let before_id = before.id();
    let after = thread::spawn(move || {
        let found = after.insert(&key(450), b"after".to_vec()).unwrap();
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
    assert_eq!(other.insert(&key(460), b"other".to_vec()).unwrap(), None);
    other.commit().unwrap();
    first.commit().unwrap();
    assert_eq!(before.join().unwrap(), Some(b"kept".to_vec()));
    let mut check = begin(&mvcc, RC);
    let stored = scan_ids(&mut check, all(), Direction::Forward);
    assert_eq!(stored.len(), 302, "{:?}", &stored[295..]);
    assert_eq!(check.get(&key(450)).unwrap(), Some(b"after".to_vec()));
}

#[test]
fn a_savepoint_rollback_keeps_a_key_written_before_it_and_frees_the_lock() {
    let mvcc = open();
    let mut first = begin(&mvcc, RC);
    // Written without a lock (a covered write), then bulk inserted over under a savepoint:
    // the insert finds the own row, so the key's record entry is an explicit-less one.
    first
        .put_covered(&key(10_000), b"covered".to_vec())
        .unwrap();
    first.savepoint("s");
    let mut rows = bulk(0..300, b"bulk");
    rows.push((key(10_000), b"bulk".to_vec()));
    assert_eq!(
        first.insert_many(rows).unwrap(),
        (301, Some(b"covered".to_vec()))
    );
    first.rollback_to("s").unwrap();
    // The bulk rows are gone and free; the covered write stays.
    let mut other = begin(&mvcc, RC);
    assert_eq!(other.insert(&key(5), b"other".to_vec()).unwrap(), None);
    other.commit().unwrap();
    first.commit().unwrap();
    let check = begin(&mvcc, RC);
    assert_eq!(check.get(&key(10_000)).unwrap(), Some(b"covered".to_vec()));
    assert_eq!(check.get(&key(5)).unwrap(), Some(b"other".to_vec()));
    assert_eq!(check.get(&key(6)).unwrap(), None);
    assert_eq!(mvcc.locked_rows(), 0);
}

#[test]
fn a_key_held_weaker_before_a_bulk_insert_is_upgraded_and_downgraded_back() {
    let mvcc = open();
    let mut setup = begin(&mvcc, RC);
    setup.put(&key(1_000), b"old".to_vec()).unwrap();
    setup.commit().unwrap();
    let mut first = begin(&mvcc, RC);
    first
        .lock_row(&key(1_000), LockMode::Share, WaitPolicy::NoWait)
        .unwrap();
    first.savepoint("s");
    let mut rows = bulk(0..300, b"bulk");
    rows.push((key(1_000), b"bulk".to_vec()));
    assert_eq!(
        first.insert_many(rows).unwrap(),
        (301, Some(b"old".to_vec()))
    );
    let other = begin(&mvcc, RC);
    let share = || other.lock_row(&key(1_000), LockMode::Share, WaitPolicy::NoWait);
    assert_eq!(share(), Err(Error::LockNotAvailable), "upgraded to update");
    first.rollback_to("s").unwrap();
    assert!(share().unwrap().is_some(), "back to share");
    let update = other.lock_row(&key(1_000), LockMode::Update, WaitPolicy::NoWait);
    assert_eq!(
        update,
        Err(Error::LockNotAvailable),
        "still shared by the first"
    );
}

#[test]
fn an_update_of_its_own_bulk_inserted_row_takes_no_entry() {
    let mvcc = open();
    let mut txn = begin(&mvcc, RC);
    assert_eq!(txn.insert_many(bulk(0..300, b"new")).unwrap(), (300, None));
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
    // A repeated key within one bulk call finds the row inserted earlier in the call.
    let mut rows = bulk(300..600, b"twice");
    rows.push((key(310), b"twice".to_vec()));
    assert_eq!(
        txn.insert_many(rows).unwrap(),
        (301, Some(b"twice".to_vec()))
    );
    assert_eq!(mvcc.locked_rows(), 0);
    txn.commit().unwrap();
    let check = begin(&mvcc, RC);
    assert_eq!(check.get(&key(7)).unwrap(), Some(b"updated".to_vec()));
    assert_eq!(check.get(&key(8)).unwrap(), None);
    assert_eq!(check.get(&key(599)).unwrap(), Some(b"twice".to_vec()));
}
