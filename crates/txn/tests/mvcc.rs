//! Behaviour of the transaction layer over the in-memory engine: visibility, own writes,
//! savepoints, scans, row locks and their wait policies, SERIALIZABLE validation, garbage
//! collection. The Hermitage anomaly suite is in `hermitage.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::Bound;
use std::thread;
use std::time::{Duration, Instant};

use zizhu_engine::{Direction, Engine, KeyRange};
use zizhu_engine_memory::MemoryEngine;
use zizhu_keycode::encode_tuple;
use zizhu_txn::{
    Error, IsolationLevel, LockMode, Mvcc, SerializationCause, Transaction, TxnOptions, WaitPolicy,
};
use zizhu_types::Value;

mod common;
use common::*;

fn engine_entries<E: Engine>(mvcc: &Mvcc<E>) -> usize {
    mvcc.engine()
        .scan(all(), Direction::Forward)
        .unwrap()
        .count()
}

#[test]
fn commit_makes_writes_visible_and_rollback_discards_them() {
    let mvcc = open();
    let mut t1 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t1.put(&key(1), b"a".to_vec()).unwrap();
    assert_eq!(t1.get(&key(1)).unwrap(), Some(b"a".to_vec()), "own write");
    let mut t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        t2.get(&key(1)).unwrap(),
        None,
        "uncommitted write invisible"
    );
    let ts = t1
        .commit()
        .unwrap()
        .expect("a write commits with a timestamp");
    t2.begin_statement();
    assert_eq!(t2.get(&key(1)).unwrap(), Some(b"a".to_vec()));
    assert_eq!(mvcc.stats().visible_ts, ts);

    let mut t3 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t3.delete(&key(1)).unwrap();
    t3.put(&key(2), b"b".to_vec()).unwrap();
    t3.rollback();
    let mut t4 = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        scan_ids(&mut t4, all(), Direction::Forward),
        vec![(1, b"a".to_vec())]
    );
    drop(t2);
    drop(t4);
    assert_eq!(mvcc.locked_rows(), 0, "rollback released every lock");
}

#[test]
fn read_only_transaction_commits_without_a_timestamp_and_rejects_writes() {
    let mvcc = open();
    let mut txn = mvcc.begin(TxnOptions {
        read_only: true,
        ..Default::default()
    });
    assert!(matches!(txn.put(&key(1), vec![]), Err(Error::ReadOnly(_))));
    let update = txn.lock_row(&key(1), LockMode::Update, WaitPolicy::Wait);
    assert!(matches!(update, Err(Error::ReadOnly(_))));
    assert!(txn
        .lock_row(&key(1), LockMode::Share, WaitPolicy::Wait)
        .unwrap()
        .is_some());
    assert_eq!(txn.commit().unwrap(), None);
}

#[test]
fn scans_merge_own_writes_in_both_directions() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    for id in [1, 3, 5, 7] {
        setup.put(&key(id), format!("v{id}").into_bytes()).unwrap();
    }
    setup.commit().unwrap();
    // Versions to skip: 3 updated twice, 7 deleted.
    for value in ["x", "y"] {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        t.put(&key(3), value.into()).unwrap();
        t.commit().unwrap();
    }
    let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
    t.delete(&key(7)).unwrap();
    t.commit().unwrap();

    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    txn.put(&key(2), b"own2".to_vec()).unwrap();
    txn.put(&key(5), b"own5".to_vec()).unwrap();
    txn.delete(&key(1)).unwrap();
    let expected: Vec<(i64, Vec<u8>)> = vec![
        (2, b"own2".to_vec()),
        (3, b"y".to_vec()),
        (5, b"own5".to_vec()),
    ];
    assert_eq!(scan_ids(&mut txn, all(), Direction::Forward), expected);
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(scan_ids(&mut txn, all(), Direction::Reverse), reversed);
    let range = (Bound::Excluded(key(2)), Bound::Included(key(5)));
    assert_eq!(
        scan_ids(&mut txn, range.clone(), Direction::Forward),
        expected[1..].to_vec()
    );
    assert_eq!(
        scan_ids(&mut txn, range, Direction::Reverse),
        vec![expected[2].clone(), expected[1].clone()]
    );
}

#[test]
fn reverse_scan_at_an_old_snapshot_picks_the_right_version() {
    let mvcc = open();
    for value in ["a", "b"] {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        t.put(&key(1), value.into()).unwrap();
        t.put(&key(2), value.into()).unwrap();
        t.commit().unwrap();
        if value == "a" {
            // Hold a snapshot between the two commits.
            let mut reader = begin(&mvcc, IsolationLevel::RepeatableRead);
            let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
            t.put(&key(1), b"b".to_vec()).unwrap();
            t.put(&key(2), b"b".to_vec()).unwrap();
            t.commit().unwrap();
            let rev = scan_ids(&mut reader, all(), Direction::Reverse);
            assert_eq!(rev, vec![(2, b"a".to_vec()), (1, b"a".to_vec())]);
            let fwd = scan_ids(&mut reader, all(), Direction::Forward);
            assert_eq!(fwd, vec![(1, b"a".to_vec()), (2, b"a".to_vec())]);
        }
    }
}

/// A scan for values only gives one value per key, the one its snapshot sees, as the scan with
/// keys does: older versions of a key are skipped however many there are.
#[test]
fn values_scans_see_one_version_per_key_at_the_snapshot() {
    let mvcc = open();
    let values = |txn: &Transaction<MemoryEngine>, dir| -> Vec<Vec<u8>> {
        txn.scan_values(all(), dir)
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let keyed = |txn: &mut Transaction<MemoryEngine>, dir| -> Vec<Vec<u8>> {
        scan_ids(txn, all(), dir)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    };
    let mut old = None;
    for round in ["a", "b", "c"] {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        for id in 1..=3 {
            t.put(&key(id), format!("{round}{id}").into_bytes())
                .unwrap();
        }
        if round == "b" {
            t.delete(&key(2)).unwrap();
        }
        t.commit().unwrap();
        if round == "a" {
            old = Some(begin(&mvcc, IsolationLevel::RepeatableRead));
        }
    }
    let mut old = old.unwrap();
    let mut new = begin(&mvcc, IsolationLevel::RepeatableRead);
    let expect = |round: &str| -> Vec<Vec<u8>> {
        (1..=3)
            .map(|id| format!("{round}{id}").into_bytes())
            .collect()
    };
    for dir in [Direction::Forward, Direction::Reverse] {
        let mut want = [expect("a"), expect("c")];
        if dir == Direction::Reverse {
            want.iter_mut().for_each(|w| w.reverse());
        }
        assert_eq!(values(&old, dir), want[0], "{dir:?}");
        assert_eq!(keyed(&mut old, dir), want[0], "{dir:?}");
        assert_eq!(values(&new, dir), want[1], "{dir:?}");
    }
    // Own writes merge in.
    new.put(&key(4), b"own4".to_vec()).unwrap();
    new.delete(&key(1)).unwrap();
    let want: Vec<Vec<u8>> = vec![b"c2".to_vec(), b"c3".to_vec(), b"own4".to_vec()];
    assert_eq!(values(&new, Direction::Forward), want);
    assert_eq!(keyed(&mut new, Direction::Forward), want);
}

/// A parallel scan's workers read the transaction's snapshot from other threads: in pieces
/// split anywhere, even between versions of one key, they see what the transaction sees and
/// nothing committed after its snapshot.
#[test]
fn a_snapshot_reader_shared_by_threads_sees_the_snapshot_and_no_later_commit() {
    let mvcc = open();
    for round in ["a", "b"] {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        for id in (1..=200).filter(|id| round == "a" || id % 3 == 0) {
            t.put(&key(id), format!("{round}{id}").into_bytes())
                .unwrap();
        }
        t.delete(&key(200)).unwrap();
        t.commit().unwrap();
    }
    let mut txn = begin(&mvcc, IsolationLevel::RepeatableRead);
    let whole: Vec<Vec<u8>> = txn
        .scan_values(all(), Direction::Forward)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(whole.len(), 199);
    let mut later = begin(&mvcc, IsolationLevel::ReadCommitted);
    for id in [5, 99, 150, 201] {
        later.put(&key(id), b"later".to_vec()).unwrap();
    }
    later.commit().unwrap();

    let reader = txn.snapshot_reader(&all()).unwrap();
    // The deleted key 200 still has versions; 201 is committed after the snapshot.
    assert_eq!(reader.last_key().unwrap(), Some(key(201)));
    // Key 99 has two versions; the pieces meet at it.
    let pieces = [
        (Bound::Unbounded, Bound::Excluded(key(99))),
        (Bound::Included(key(99)), Bound::Included(key(150))),
        (Bound::Excluded(key(150)), Bound::Unbounded),
    ];
    let read: Vec<Vec<u8>> = thread::scope(|s| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|piece| {
                let reader = &reader;
                s.spawn(move || {
                    reader
                        .scan_values(piece.clone())
                        .unwrap()
                        .map(Result::unwrap)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(read, whole);

    // Only within its range.
    let part = txn
        .snapshot_reader(&(Bound::Included(key(10)), Bound::Excluded(key(20))))
        .unwrap();
    assert!(part
        .scan_values((Bound::Included(key(10)), Bound::Included(key(20))))
        .is_err());
    assert_eq!(
        part.scan_values((Bound::Included(key(12)), Bound::Excluded(key(14))))
            .unwrap()
            .count(),
        2
    );

    // Not where the transaction wrote: its writes are its own thread's.
    txn.put(&key(7), b"own".to_vec()).unwrap();
    assert!(txn.snapshot_reader(&all()).is_none());
    assert!(txn
        .snapshot_reader(&(Bound::Included(key(8)), Bound::Unbounded))
        .is_some());
}

/// A range given to a snapshot reader is read: under SERIALIZABLE a later commit into it fails
/// the reader's transaction, as a phantom in its own scan would.
#[test]
fn serializable_phantom_in_a_snapshot_readers_range_fails_the_commit() {
    let mvcc = open();
    let range = (Bound::Included(key(10)), Bound::Excluded(key(20)));
    let mut t1 = begin(&mvcc, IsolationLevel::Serializable);
    let reader = t1.snapshot_reader(&range).unwrap();
    assert_eq!(reader.scan_values(range.clone()).unwrap().count(), 0);
    let mut t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t2.put(&key(15), vec![]).unwrap();
    t2.commit().unwrap();
    t1.put(&key(30), vec![]).unwrap();
    let cause = SerializationCause::ReadWriteDependencies;
    assert_eq!(t1.commit(), Err(Error::Serialization(cause)));
}

#[test]
fn read_committed_sees_new_commits_per_statement_repeatable_read_does_not() {
    let mvcc = open();
    let mut rc = begin(&mvcc, IsolationLevel::ReadCommitted);
    let mut rr = begin(&mvcc, IsolationLevel::RepeatableRead);
    assert_eq!(rr.get(&key(1)).unwrap(), None);
    let mut w = begin(&mvcc, IsolationLevel::ReadCommitted);
    w.put(&key(1), b"new".to_vec()).unwrap();
    w.commit().unwrap();
    assert_eq!(
        rc.get(&key(1)).unwrap(),
        None,
        "same statement, same snapshot"
    );
    rc.begin_statement();
    rr.begin_statement();
    assert_eq!(rc.get(&key(1)).unwrap(), Some(b"new".to_vec()));
    assert_eq!(rr.get(&key(1)).unwrap(), None);
}

#[test]
fn repeatable_read_takes_its_snapshot_at_the_first_statement() {
    let mvcc = open();
    let options = TxnOptions {
        isolation: IsolationLevel::RepeatableRead,
        ..Default::default()
    };
    let mut rr = mvcc.begin(options);
    let mut w = begin(&mvcc, IsolationLevel::ReadCommitted);
    w.put(&key(1), b"before first statement".to_vec()).unwrap();
    w.commit().unwrap();
    rr.begin_statement();
    assert!(
        rr.get(&key(1)).unwrap().is_some(),
        "BEGIN alone does not fix the snapshot"
    );
}

#[test]
fn nested_savepoints_undo_writes_and_release_locks() {
    let mvcc = open();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    txn.put(&key(1), b"1".to_vec()).unwrap();
    txn.savepoint("a");
    txn.put(&key(1), b"1a".to_vec()).unwrap();
    txn.put(&key(2), b"2a".to_vec()).unwrap();
    txn.savepoint("b");
    txn.delete(&key(1)).unwrap();
    txn.put(&key(3), b"3b".to_vec()).unwrap();
    assert_eq!(scan_ids(&mut txn, all(), Direction::Forward).len(), 2);

    txn.rollback_to("b").unwrap();
    let ids = scan_ids(&mut txn, all(), Direction::Forward);
    assert_eq!(ids, vec![(1, b"1a".to_vec()), (2, b"2a".to_vec())]);
    // The row lock on 3 was taken after "b" and is released by rolling back to it.
    let other = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert!(other
        .lock_row(&key(3), LockMode::Update, WaitPolicy::NoWait)
        .unwrap()
        .is_some());
    let blocked = other.lock_row(&key(2), LockMode::Update, WaitPolicy::NoWait);
    assert_eq!(blocked, Err(Error::LockNotAvailable));
    other.rollback();

    txn.rollback_to("b").unwrap();
    txn.rollback_to("a").unwrap();
    assert_eq!(
        scan_ids(&mut txn, all(), Direction::Forward),
        vec![(1, b"1".to_vec())]
    );
    assert_eq!(
        txn.rollback_to("b"),
        Err(Error::NoSuchSavepoint("b".into())),
        "b went with a"
    );
    txn.savepoint("c");
    txn.put(&key(4), b"4c".to_vec()).unwrap();
    txn.release_savepoint("a").unwrap();
    assert_eq!(
        txn.rollback_to("c"),
        Err(Error::NoSuchSavepoint("c".into()))
    );
    txn.commit().unwrap();
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    let rows = scan_ids(&mut check, all(), Direction::Forward);
    assert_eq!(rows, vec![(1, b"1".to_vec()), (4, b"4c".to_vec())]);
}

#[test]
fn private_writes_take_no_lock_and_roll_back_like_any_write() {
    let mvcc = open();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert!(!txn.put_private(&key(1), b"1".to_vec()).unwrap());
    assert!(
        txn.put_private(&key(1), b"1 again".to_vec()).unwrap(),
        "a second write to the key reports the first"
    );
    assert_eq!(mvcc.locked_rows(), 0, "no row lock");
    txn.savepoint("a");
    txn.put_private(&key(2), b"2".to_vec()).unwrap();
    txn.rollback_to("a").unwrap();
    assert_eq!(
        scan_ids(&mut txn, all(), Direction::Forward),
        vec![(1, b"1 again".to_vec())]
    );
    txn.commit().unwrap();
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        scan_ids(&mut check, all(), Direction::Forward),
        vec![(1, b"1 again".to_vec())]
    );

    let mut read_only = mvcc.begin(TxnOptions {
        read_only: true,
        ..Default::default()
    });
    let refused = read_only.put_private(&key(3), vec![]);
    assert!(matches!(refused, Err(Error::ReadOnly(_))));
}

#[test]
fn insert_writes_a_new_key_and_reports_an_existing_row_without_writing() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    setup.put(&key(1), b"a".to_vec()).unwrap();
    setup.commit().unwrap();
    let mut txn = begin(&mvcc, IsolationLevel::RepeatableRead);
    assert_eq!(
        txn.insert(&key(1), b"b".to_vec()).unwrap(),
        Some(b"a".to_vec())
    );
    assert_eq!(txn.insert(&key(2), b"c".to_vec()).unwrap(), None);
    assert_eq!(
        txn.insert(&key(2), b"d".to_vec()).unwrap(),
        Some(b"c".to_vec()),
        "its own row counts"
    );
    txn.delete(&key(1)).unwrap();
    assert_eq!(
        txn.insert(&key(1), b"e".to_vec()).unwrap(),
        None,
        "its own delete frees the key"
    );
    txn.commit().unwrap();
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        scan_ids(&mut check, all(), Direction::Forward),
        vec![(1, b"e".to_vec()), (2, b"c".to_vec())]
    );
}

#[test]
fn a_second_inserter_of_a_key_waits_for_the_first_to_end() {
    for first_commits in [true, false] {
        let mvcc = open();
        let mut first = begin(&mvcc, IsolationLevel::ReadCommitted);
        assert_eq!(first.insert(&key(1), b"first".to_vec()).unwrap(), None);
        let mut second = begin(&mvcc, IsolationLevel::ReadCommitted);
        let second_id = second.id();
        let second = end_while_blocked(&mvcc, first, first_commits, second_id, move || {
            let found = second.insert(&key(1), b"second".to_vec()).unwrap();
            second.commit().unwrap();
            found
        });
        let expected = first_commits.then(|| b"first".to_vec());
        assert_eq!(second, expected, "first commits: {first_commits}");
        let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
        let winner = if first_commits { "first" } else { "second" };
        assert_eq!(
            scan_ids(&mut check, all(), Direction::Forward),
            vec![(1, winner.as_bytes().to_vec())]
        );
    }
}

/// The collector's count of keys examined once it reaches `at_least` and a moment has passed
/// for any further keys to come up.
fn keys_examined_once_past<E: Engine>(mvcc: &Mvcc<E>, at_least: u64) -> u64 {
    let start = Instant::now();
    while mvcc.stats().keys_examined < at_least {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            mvcc.stats()
        );
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::from_millis(50));
    mvcc.stats().keys_examined
}

#[test]
fn insert_many_stops_at_the_first_taken_key_in_row_order() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    setup.put(&key(5), b"5".to_vec()).unwrap();
    setup.commit().unwrap();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    let rows = [3, 1, 5, 2].map(|i| (key(i), b"new".to_vec())).to_vec();
    assert_eq!(txn.insert_many(rows).unwrap(), (3, Some(b"5".to_vec())));
    let twice = [7, 8, 7]
        .map(|i| (key(i), i.to_string().into_bytes()))
        .to_vec();
    assert_eq!(
        txn.insert_many(twice).unwrap(),
        (3, Some(b"7".to_vec())),
        "a key earlier in the same call counts"
    );
    let ids: Vec<i64> = scan_ids(&mut txn, all(), Direction::Forward)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        vec![1, 3, 5, 7, 8],
        "the rows before the taken key are in"
    );
}

#[test]
fn insert_many_stops_before_a_key_another_transaction_holds_and_waits_only_for_the_first() {
    for first_commits in [true, false] {
        let mvcc = open();
        let mut first = begin(&mvcc, IsolationLevel::ReadCommitted);
        assert_eq!(first.insert(&key(5), b"first".to_vec()).unwrap(), None);
        let mut second = begin(&mvcc, IsolationLevel::ReadCommitted);
        let second_id = second.id();
        let rows = |ids: std::ops::RangeInclusive<i64>| {
            ids.map(|i| (key(i), b"second".to_vec()))
                .collect::<Vec<_>>()
        };
        // As row by row, rows 1 to 4 go in before anything waits for key 5.
        assert_eq!(second.insert_many(rows(1..=10)).unwrap(), (4, None));
        let handled = end_while_blocked(&mvcc, first, first_commits, second_id, move || {
            let handled = second.insert_many(rows(5..=10)).unwrap();
            second.commit().unwrap();
            handled
        });
        let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
        let stored = scan_ids(&mut check, all(), Direction::Forward);
        if first_commits {
            assert_eq!(handled, (1, Some(b"first".to_vec())));
            assert_eq!(stored.len(), 5, "keys 1 to 4 and the first's 5: {stored:?}");
        } else {
            assert_eq!(handled, (6, None));
            assert!(stored.iter().all(|(_, v)| v == b"second") && stored.len() == 10);
        }
    }
}

#[test]
fn a_row_inserted_and_deleted_in_one_transaction_leaves_no_tombstone() {
    let mvcc = open();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(txn.insert(&key(1), b"gone".to_vec()).unwrap(), None);
    assert_eq!(txn.insert(&key(2), b"kept".to_vec()).unwrap(), None);
    txn.delete(&key(1)).unwrap();
    txn.commit().unwrap();
    // The kept row and the commit clock.
    assert_eq!(engine_entries(&mvcc), 2);
    let mut nothing = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(nothing.insert(&key(3), b"x".to_vec()).unwrap(), None);
    nothing.delete(&key(3)).unwrap();
    assert_eq!(nothing.commit().unwrap(), None, "nothing left to commit");
    assert_eq!(engine_entries(&mvcc), 2);
}

#[test]
fn insert_many_finds_sparse_stored_keys_among_many_and_knows_the_fresh_ones() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in (0..10_000).step_by(100) {
        assert_eq!(setup.insert(&key(i), b"old".to_vec()).unwrap(), None);
    }
    setup.commit().unwrap();
    // Keeps the deleted row's versions from collection until the end.
    let pin = begin(&mvcc, IsolationLevel::RepeatableRead);
    assert!(pin.get(&key(4_200)).unwrap().is_some());
    // A second version of each, and a deleted one, for the pass to step over.
    let mut update = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in (0..10_000).step_by(100) {
        update.put(&key(i), b"stored".to_vec()).unwrap();
    }
    update.delete(&key(4_200)).unwrap();
    update.commit().unwrap();

    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    let mut rows: Vec<_> = (0..10_000)
        .rev()
        .filter(|i| i % 100 != 0 || *i == 4_200)
        .map(|i| (key(i), b"new".to_vec()))
        .collect();
    let free = rows.len();
    rows.push((key(9_900), b"new".to_vec()));
    assert_eq!(
        txn.insert_many(rows).unwrap(),
        (free + 1, Some(b"stored".to_vec()))
    );
    txn.commit().unwrap();
    pin.rollback();
    // The update's keys have older versions to look for, and of the new rows only the
    // deleted row's key; the setup's keys and the other new ones shadow nothing.
    assert_eq!(keys_examined_once_past(&mvcc, 101), 101);
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    let rows = scan_ids(&mut check, all(), Direction::Forward);
    assert_eq!(rows.len(), 10_000);
    let stored = rows.iter().filter(|(_, v)| v == b"stored").count();
    assert_eq!(stored, 99);
}

#[test]
fn covered_writes_take_no_lock() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    setup.put(&key(2), b"2".to_vec()).unwrap();
    setup.commit().unwrap();
    let mut txn = begin(&mvcc, IsolationLevel::RepeatableRead);
    txn.put_covered(&key(1), b"1".to_vec()).unwrap();
    txn.delete_covered(&key(2)).unwrap();
    assert_eq!(mvcc.locked_rows(), 0);
    assert_eq!(
        txn.insert(&key(1), b"x".to_vec()).unwrap(),
        Some(b"1".to_vec()),
        "an insert still sees a covered write"
    );
    txn.commit().unwrap();
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        scan_ids(&mut check, all(), Direction::Forward),
        vec![(1, b"1".to_vec())]
    );
}

#[test]
fn sorted_private_entries_are_fresh_and_must_be_sorted() {
    let mvcc = open();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    let unsorted = vec![(key(2), vec![]), (key(1), vec![])];
    assert!(txn.put_private_sorted(table_t(), unsorted).is_err());
    let outside = vec![(other_key(1), vec![])];
    assert!(txn.put_private_sorted(table_t(), outside).is_err());
    let entries = (0..100)
        .map(|i| (key(i), i.to_string().into_bytes()))
        .collect();
    txn.put_private_sorted(table_t(), entries).unwrap();
    assert_eq!(mvcc.locked_rows(), 0);
    for i in 0..10 {
        txn.put_covered(&other_key(i), b"o".to_vec()).unwrap();
    }
    assert_eq!(scan_ids(&mut txn, table_t(), Direction::Reverse)[0].0, 99);
    txn.commit().unwrap();
    // Only the ten covered keys may have older versions to look for.
    assert_eq!(keys_examined_once_past(&mvcc, 10), 10);
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        scan_ids(&mut check, table_t(), Direction::Forward).len(),
        100
    );
}

#[test]
fn newest_key_ever_counts_deleted_rows_and_own_writes() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in 1..=3 {
        setup.put(&key(i), b"v".to_vec()).unwrap();
    }
    setup.commit().unwrap();
    // Pins the deleted row's versions against collection.
    let pin = begin(&mvcc, IsolationLevel::RepeatableRead);
    assert!(pin.get(&key(3)).unwrap().is_some());
    let mut delete = begin(&mvcc, IsolationLevel::ReadCommitted);
    delete.delete(&key(3)).unwrap();
    delete.commit().unwrap();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(scan_ids(&mut txn, table_t(), Direction::Reverse)[0].0, 2);
    assert_eq!(txn.newest_key_ever(table_t()).unwrap(), Some(key(3)));
    txn.put(&key(7), b"v".to_vec()).unwrap();
    assert_eq!(txn.newest_key_ever(table_t()).unwrap(), Some(key(7)));
    assert_eq!(txn.newest_key_ever(all_other()).unwrap(), None);
}

fn all_other() -> KeyRange {
    zizhu_engine::prefix_range(&encode_tuple(&[Value::Text("u".into())]))
}

/// Longer than the committer's collection slice (4,096 keys), so collection of the update
/// must continue with no further commits to drive it.
const HUGE: i64 = 10_000;

#[test]
fn fresh_inserts_leave_no_work_and_a_huge_update_is_collected_while_idle() {
    let mvcc = open();
    let mut load = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in 0..HUGE {
        // Both ways of inserting know a key with no version is fresh.
        if i % 2 == 0 {
            assert_eq!(load.insert(&key(i), b"v1".to_vec()).unwrap(), None);
        } else {
            let lock = load.lock_for_insert(&key(i), WaitPolicy::Wait).unwrap();
            assert_eq!(lock.and_then(|l| l.current), None);
            load.put(&key(i), b"v1".to_vec()).unwrap();
        }
    }
    load.commit().unwrap();
    let mut update = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in 0..HUGE {
        update.put(&key(i), b"v2".to_vec()).unwrap();
    }
    update.commit().unwrap();

    let start = Instant::now();
    while mvcc.stats().versions_collected < HUGE as u64 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "collection stalled at {:?}",
            mvcc.stats()
        );
        thread::sleep(Duration::from_millis(10));
    }
    let stats = mvcc.stats();
    assert_eq!(
        stats.versions_collected, HUGE as u64,
        "one old version per key"
    );
    assert_eq!(
        stats.keys_examined, HUGE as u64,
        "only the update's keys are examined, not the fresh inserts'"
    );
    assert_eq!(
        engine_entries(&mvcc),
        HUGE as usize + 1,
        "v2 and the commit clock"
    );
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    let rows = scan_ids(&mut check, all(), Direction::Forward);
    assert_eq!(rows.len(), HUGE as usize);
    assert!(rows.iter().all(|(_, v)| v == b"v2"));
}

fn wait_for_collection<E: Engine>(mvcc: &Mvcc<E>, entries: usize) {
    let start = Instant::now();
    while engine_entries(mvcc) != entries {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} engine entries, waiting for {entries}; {:?}",
            engine_entries(mvcc),
            mvcc.stats()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn other_key(id: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text("u".into()), Value::Int64(id)])
}

fn table_t() -> KeyRange {
    zizhu_engine::prefix_range(&encode_tuple(&[Value::Text("t".into())]))
}

#[test]
fn a_dropped_range_stays_readable_to_older_snapshots_then_goes_whole() {
    let mvcc = open();
    let mut load = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in 0..100 {
        load.put(&key(i), b"v".to_vec()).unwrap();
    }
    load.put(&other_key(1), b"kept".to_vec()).unwrap();
    load.commit().unwrap();
    // Two versions of some keys, so the drop has old versions to remove too.
    let mut update = begin(&mvcc, IsolationLevel::ReadCommitted);
    for i in 0..10 {
        update.put(&key(i), b"w".to_vec()).unwrap();
    }
    update.commit().unwrap();

    let mut old = begin(&mvcc, IsolationLevel::RepeatableRead);
    assert_eq!(scan_ids(&mut old, table_t(), Direction::Forward).len(), 100);
    let mut dropper = begin(&mvcc, IsolationLevel::ReadCommitted);
    dropper.put(&key(500), b"own".to_vec()).unwrap();
    dropper.drop_range(table_t()).unwrap();
    assert_eq!(
        scan_ids(&mut dropper, table_t(), Direction::Forward).len(),
        100,
        "the transaction's own write in the range is discarded"
    );
    dropper.commit().unwrap();

    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        scan_ids(&mut old, table_t(), Direction::Forward).len(),
        100,
        "a snapshot from before the drop still reads every row"
    );
    let entries = engine_entries(&mvcc);
    assert!(
        entries > 100,
        "nothing collected while the old snapshot lives"
    );
    drop(old);
    // The other table's row and the commit clock are all that remain.
    wait_for_collection(&mvcc, 2);
    let mut after = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(after.get(&other_key(1)).unwrap(), Some(b"kept".to_vec()));
    assert!(scan_ids(&mut after, table_t(), Direction::Forward).is_empty());
}

#[test]
fn rolling_back_to_a_savepoint_undoes_a_drop_and_brings_back_own_writes() {
    let mvcc = open();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    txn.put(&key(1), b"1".to_vec()).unwrap();
    txn.savepoint("a");
    txn.drop_range(table_t()).unwrap();
    assert!(scan_ids(&mut txn, all(), Direction::Forward).is_empty());
    txn.rollback_to("a").unwrap();
    assert_eq!(
        scan_ids(&mut txn, all(), Direction::Forward),
        vec![(1, b"1".to_vec())]
    );
    txn.commit().unwrap();
    thread::sleep(Duration::from_millis(50));
    let mut check = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(
        scan_ids(&mut check, all(), Direction::Forward),
        vec![(1, b"1".to_vec())],
        "the drop was undone, so the committer removed nothing"
    );

    let mut read_only = mvcc.begin(TxnOptions {
        read_only: true,
        ..Default::default()
    });
    let refused = read_only.drop_range(table_t());
    assert!(matches!(refused, Err(Error::ReadOnly(_))));
}

#[test]
fn savepoint_rollback_restores_a_weaker_lock() {
    let mvcc = open();
    let mut txn = begin(&mvcc, IsolationLevel::ReadCommitted);
    txn.lock_row(&key(1), LockMode::Share, WaitPolicy::Wait)
        .unwrap();
    txn.savepoint("s");
    txn.lock_row(&key(1), LockMode::Update, WaitPolicy::Wait)
        .unwrap();
    let other = begin(&mvcc, IsolationLevel::ReadCommitted);
    let share = other.lock_row(&key(1), LockMode::Share, WaitPolicy::NoWait);
    assert_eq!(share, Err(Error::LockNotAvailable));
    txn.rollback_to("s").unwrap();
    assert!(other
        .lock_row(&key(1), LockMode::Share, WaitPolicy::NoWait)
        .unwrap()
        .is_some());
    let update = other.lock_row(&key(1), LockMode::Update, WaitPolicy::NoWait);
    assert_eq!(update, Err(Error::LockNotAvailable));
}

#[test]
fn second_writer_waits_then_rereads_the_newest_row_under_read_committed() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    setup.put(&key(1), b"10".to_vec()).unwrap();
    setup.commit().unwrap();

    let mut t1 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t1.lock_row(&key(1), LockMode::NoKeyUpdate, WaitPolicy::Wait)
        .unwrap();
    t1.put(&key(1), b"11".to_vec()).unwrap();
    let t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    let t2_id = t2.id();
    let waiter = thread::spawn(move || {
        let lock = t2.lock_row(&key(1), LockMode::NoKeyUpdate, WaitPolicy::Wait);
        (lock, t2)
    });
    wait_until_blocked(&mvcc, t2_id);
    t1.commit().unwrap();
    let (lock, t2) = waiter.join().unwrap();
    let lock = lock.unwrap().unwrap();
    assert!(lock.changed);
    assert_eq!(lock.current, Some(b"11".to_vec()));
    t2.rollback();
}

#[test]
fn wait_policies_nowait_skip_locked_and_lock_timeout() {
    let mvcc = open();
    let holder = begin(&mvcc, IsolationLevel::ReadCommitted);
    holder
        .lock_row(&key(1), LockMode::Update, WaitPolicy::Wait)
        .unwrap();
    let mut other = begin(&mvcc, IsolationLevel::ReadCommitted);
    let nowait = other.lock_row(&key(1), LockMode::Share, WaitPolicy::NoWait);
    assert_eq!(nowait, Err(Error::LockNotAvailable));
    assert_eq!(
        other.lock_row(&key(1), LockMode::Share, WaitPolicy::SkipLocked),
        Ok(None)
    );
    other.set_lock_timeout(Some(Duration::from_millis(30)));
    let key_share = other.lock_row(&key(1), LockMode::KeyShare, WaitPolicy::Wait);
    assert_eq!(
        key_share,
        Err(Error::LockTimeout),
        "KeyShare conflicts with Update"
    );
    assert_eq!(other.put(&key(1), vec![]), Err(Error::LockTimeout));
    // The failed statement leaves the transaction usable.
    other.put(&key(2), b"ok".to_vec()).unwrap();
    other.commit().unwrap();
}

#[test]
fn key_share_does_not_block_a_no_key_update() {
    let mvcc = open();
    let fk_check = begin(&mvcc, IsolationLevel::ReadCommitted);
    fk_check
        .lock_row(&key(1), LockMode::KeyShare, WaitPolicy::Wait)
        .unwrap();
    let updater = begin(&mvcc, IsolationLevel::ReadCommitted);
    let update = updater.lock_row(&key(1), LockMode::NoKeyUpdate, WaitPolicy::NoWait);
    assert!(update.unwrap().is_some());
    let deleter = begin(&mvcc, IsolationLevel::ReadCommitted);
    let delete = deleter.lock_row(&key(1), LockMode::Update, WaitPolicy::NoWait);
    assert_eq!(delete, Err(Error::LockNotAvailable));
}

#[test]
fn deadlock_aborts_one_victim_and_lets_the_other_finish() {
    let mvcc = open();
    let mut t1 = begin(&mvcc, IsolationLevel::ReadCommitted);
    let mut t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t1.put(&key(1), b"t1".to_vec()).unwrap();
    t2.put(&key(2), b"t2".to_vec()).unwrap();
    let t1_id = t1.id();
    let first = thread::spawn(move || {
        let result = t1.put(&key(2), b"t1".to_vec());
        (result, t1)
    });
    wait_until_blocked(&mvcc, t1_id);
    let started = Instant::now();
    let err = t2.put(&key(1), b"t2".to_vec()).unwrap_err();
    println!("deadlock detected after {:?}", started.elapsed());
    assert!(matches!(err, Error::Deadlock(_)), "{err}");
    t2.rollback();
    let (result, t1) = first.join().unwrap();
    result.unwrap();
    t1.commit().unwrap();
}

#[test]
fn three_way_deadlock_is_detected() {
    let mvcc = open();
    let mut txns: Vec<_> = (0..3)
        .map(|_| begin(&mvcc, IsolationLevel::ReadCommitted))
        .collect();
    for (i, txn) in txns.iter_mut().enumerate() {
        txn.put(&key(i as i64), vec![]).unwrap();
    }
    let mut t2 = txns.pop().unwrap();
    // t0 waits for t1's row, t1 for t2's, and t2 closes the cycle on t0's.
    let mut handles = Vec::new();
    for (i, mut txn) in txns.into_iter().enumerate() {
        let id = txn.id();
        handles.push(thread::spawn(move || {
            let r = txn.put(&key(i as i64 + 1), vec![]);
            (r, txn)
        }));
        wait_until_blocked(&mvcc, id);
    }
    assert!(matches!(t2.put(&key(0), vec![]), Err(Error::Deadlock(_))));
    t2.rollback();
    let mut handles = handles.into_iter().rev();
    let (r1, t1) = handles.next().unwrap().join().unwrap();
    r1.unwrap();
    t1.commit().unwrap();
    let (r0, t0) = handles.next().unwrap().join().unwrap();
    r0.unwrap();
    t0.commit().unwrap();
}

#[test]
fn serializable_read_only_transactions_never_fail() {
    let mvcc = open();
    let reader = begin(&mvcc, IsolationLevel::Serializable);
    assert_eq!(reader.get(&key(1)).unwrap(), None);
    let mut w = begin(&mvcc, IsolationLevel::Serializable);
    w.put(&key(1), b"x".to_vec()).unwrap();
    w.commit().unwrap();
    assert_eq!(reader.get(&key(1)).unwrap(), None);
    assert_eq!(reader.commit().unwrap(), None);
}

#[test]
fn serializable_phantom_in_a_scanned_range_fails_the_commit() {
    let mvcc = open();
    let range = || (Bound::Included(key(10)), Bound::Excluded(key(20)));
    let mut t1 = begin(&mvcc, IsolationLevel::Serializable);
    assert!(scan_ids(&mut t1, range(), Direction::Forward).is_empty());
    let mut t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t2.put(&key(15), vec![]).unwrap();
    t2.commit().unwrap();
    t1.put(&key(30), vec![]).unwrap();
    let cause = SerializationCause::ReadWriteDependencies;
    assert_eq!(t1.commit(), Err(Error::Serialization(cause)));
    assert_eq!(mvcc.stats().serialization_failures, 1);
    // A write outside what was read does not conflict.
    let mut t3 = begin(&mvcc, IsolationLevel::Serializable);
    scan_ids(&mut t3, range(), Direction::Forward);
    let mut t4 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t4.put(&key(25), vec![]).unwrap();
    t4.commit().unwrap();
    t3.put(&key(30), b"again".to_vec()).unwrap();
    t3.commit().unwrap();
}

/// Advisory reads (planner statistics, ANALYZE's scan) see data but leave no read set: the
/// same interleaving as the phantom above commits, and `get_advisory` sees the newest commit
/// (and its own writes) whatever the snapshot.
#[test]
fn serializable_advisory_reads_cause_no_conflict() {
    let mvcc = open();
    let range = || (Bound::Included(key(10)), Bound::Excluded(key(20)));
    let mut t1 = begin(&mvcc, IsolationLevel::Serializable);
    assert_eq!(
        t1.scan_advisory(range(), Direction::Forward)
            .unwrap()
            .count(),
        0
    );
    assert_eq!(t1.get_advisory(&key(15)).unwrap(), None);
    let mut t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t2.put(&key(15), b"new".to_vec()).unwrap();
    t2.commit().unwrap();
    let at_snapshot = t1
        .scan_advisory(range(), Direction::Forward)
        .unwrap()
        .count();
    assert_eq!(at_snapshot, 0, "the advisory scan reads at the snapshot");
    assert_eq!(t1.get_advisory(&key(15)).unwrap(), Some(b"new".to_vec()));
    t1.put(&key(16), b"own".to_vec()).unwrap();
    assert_eq!(t1.get_advisory(&key(16)).unwrap(), Some(b"own".to_vec()));
    t1.commit().unwrap();
}

#[test]
fn repeatable_read_blind_write_to_a_row_changed_after_the_snapshot_fails() {
    let mvcc = open();
    let mut rr = begin(&mvcc, IsolationLevel::RepeatableRead);
    let mut w = begin(&mvcc, IsolationLevel::ReadCommitted);
    w.put(&key(1), b"w".to_vec()).unwrap();
    w.commit().unwrap();
    let cause = SerializationCause::ConcurrentUpdate;
    assert_eq!(
        rr.put(&key(1), b"rr".to_vec()),
        Err(Error::Serialization(cause))
    );
}

#[test]
fn lock_for_insert_sees_rows_the_snapshot_cannot() {
    let mvcc = open();
    let rr = begin(&mvcc, IsolationLevel::RepeatableRead);
    let mut w = begin(&mvcc, IsolationLevel::ReadCommitted);
    w.put(&key(1), b"w".to_vec()).unwrap();
    w.commit().unwrap();
    assert_eq!(rr.get(&key(1)).unwrap(), None);
    let lock = rr
        .lock_for_insert(&key(1), WaitPolicy::Wait)
        .unwrap()
        .unwrap();
    assert_eq!(
        lock.current,
        Some(b"w".to_vec()),
        "the unique check finds the committed row"
    );
}

#[test]
fn garbage_collection_keeps_versions_a_snapshot_needs() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    setup.put(&key(1), b"0".to_vec()).unwrap();
    setup.commit().unwrap();
    let old_reader = begin(&mvcc, IsolationLevel::RepeatableRead);
    assert_eq!(old_reader.get(&key(1)).unwrap(), Some(b"0".to_vec()));
    for i in 1..=50 {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        t.put(&key(1), i.to_string().into_bytes()).unwrap();
        t.commit().unwrap();
    }
    assert_eq!(
        old_reader.get(&key(1)).unwrap(),
        Some(b"0".to_vec()),
        "pinned version survives"
    );
    assert!(
        engine_entries(&mvcc) > 50,
        "nothing collected while a snapshot needs it"
    );
    drop(old_reader);
    for i in 51..=60 {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        t.put(&key(1), i.to_string().into_bytes()).unwrap();
        t.commit().unwrap();
    }
    // LastCommitted plus the few newest versions whose collection rides on a later commit.
    let left = engine_entries(&mvcc);
    assert!(left <= 4, "{left} engine entries remain");
    assert!(mvcc.stats().versions_collected >= 55);
    let check = begin(&mvcc, IsolationLevel::ReadCommitted);
    assert_eq!(check.get(&key(1)).unwrap(), Some(b"60".to_vec()));
}

#[test]
fn deleted_rows_are_collected_completely() {
    let mvcc = open();
    let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
    for id in 0..100 {
        t.put(&key(id), vec![7; 10]).unwrap();
    }
    t.commit().unwrap();
    let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
    for id in 0..100 {
        t.delete(&key(id)).unwrap();
    }
    t.commit().unwrap();
    // Later commits carry the collector's deletes.
    for _ in 0..2 {
        let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
        t.put(&key(1000), vec![]).unwrap();
        t.commit().unwrap();
    }
    let left = engine_entries(&mvcc);
    assert!(left <= 3, "{left} entries left after deleting every row");
}

#[test]
fn concurrent_increments_lose_no_update_under_read_committed() {
    let mvcc = open();
    let mut setup = begin(&mvcc, IsolationLevel::ReadCommitted);
    setup.put(&key(1), 0u64.to_be_bytes().to_vec()).unwrap();
    setup.commit().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let mvcc = mvcc.clone();
            thread::spawn(move || {
                for _ in 0..50 {
                    let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
                    // UPDATE SET n = n + 1: lock, then compute from the newest row.
                    let lock = t.lock_row(&key(1), LockMode::NoKeyUpdate, WaitPolicy::Wait);
                    let current = lock.unwrap().unwrap().current.unwrap();
                    let n = u64::from_be_bytes(current.try_into().unwrap());
                    t.put(&key(1), (n + 1).to_be_bytes().to_vec()).unwrap();
                    t.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let check = begin(&mvcc, IsolationLevel::ReadCommitted);
    let n = u64::from_be_bytes(check.get(&key(1)).unwrap().unwrap().try_into().unwrap());
    assert_eq!(n, 400);
    let stats = mvcc.stats();
    assert_eq!(stats.commits, 401);
    assert!(stats.commit_groups <= stats.commits);
}

#[test]
fn engine_keys_print_as_typed_keys() {
    let mvcc = open();
    let mut t = begin(&mvcc, IsolationLevel::ReadCommitted);
    let row = encode_tuple(&[Value::Text("accounts".into()), Value::Int64(42)]);
    t.put(&row, b"balance".to_vec()).unwrap();
    let ts = t.commit().unwrap().unwrap();
    let printed: Vec<String> = mvcc
        .engine()
        .scan(all(), Direction::Forward)
        .unwrap()
        .map(|r| format!("{:?}", zizhu_txn::Key::decode(&r.unwrap().0).unwrap()))
        .collect();
    assert_eq!(
        printed,
        vec!["LastCommitted".to_string(), format!("(accounts, 42)@{ts}")]
    );
}

#[test]
fn repeatable_read_snapshot_never_moves_once_read_from() {
    let mvcc = open();
    let options = TxnOptions {
        isolation: IsolationLevel::RepeatableRead,
        ..Default::default()
    };
    let mut rr = mvcc.begin(options);
    assert_eq!(
        rr.get(&key(1)).unwrap(),
        None,
        "read before any statement marker"
    );
    let mut w = begin(&mvcc, IsolationLevel::ReadCommitted);
    w.put(&key(1), b"later".to_vec()).unwrap();
    w.commit().unwrap();
    rr.begin_statement();
    assert_eq!(
        rr.get(&key(1)).unwrap(),
        None,
        "the snapshot already read from stays"
    );
}

#[test]
fn scan_latest_sees_rows_committed_after_the_snapshot() {
    let mvcc = open();
    let mut t1 = begin(&mvcc, IsolationLevel::RepeatableRead);
    t1.put(&key(1), b"own".to_vec()).unwrap();
    let mut t2 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t2.put(&key(2), b"committed later".to_vec()).unwrap();
    t2.put(&key(3), b"x".to_vec()).unwrap();
    t2.commit().unwrap();
    let mut t3 = begin(&mvcc, IsolationLevel::ReadCommitted);
    t3.delete(&key(3)).unwrap();
    t3.commit().unwrap();
    let ids = |scan: zizhu_txn::Scan<'_>| -> Vec<Vec<u8>> { scan.map(|r| r.unwrap().1).collect() };
    // The snapshot sees only its own write; the latest view sees t2's row, and not t3's delete.
    assert_eq!(
        ids(t1.scan(all(), Direction::Forward).unwrap()),
        [b"own".to_vec()]
    );
    assert_eq!(
        ids(t1.scan_latest(all(), Direction::Reverse).unwrap()),
        [b"committed later".to_vec(), b"own".to_vec()]
    );
}
