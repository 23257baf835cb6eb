//! Fault injection through the storage backend seam, at the transaction layer: failed writes,
//! failed fsyncs and torn writes during concurrent group commits, then a simulated power loss.
//!
//! Each trial runs committers whose transactions each write two rows with the same payload.
//! A fault fires at a random point; afterwards the test takes the power-loss image of the
//! simulated disk (only synced data, plus a random subset of unsynced page writes), reopens the
//! database from it and checks that every acknowledged commit is present, that no transaction
//! is half there, and that nothing was acknowledged after the engine failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};
use zizhu_engine::Direction;
use zizhu_engine_redb::{FaultyBackend, RedbEngine, RedbOptions};
use zizhu_keycode::{decode_tuple, encode_tuple};
use zizhu_txn::{Error, Mvcc, Options, TxnOptions};
use zizhu_types::Value;

#[derive(Clone, Copy, Debug)]
enum Fault {
    FailedSync,
    FailedWrite,
    TornWrite,
}

fn key(side: &str, txn: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text(side.into()), Value::Int64(txn)])
}

fn trial(seed: u64, fault: Fault) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let backend = FaultyBackend::new(seed);
    let control = backend.controller();
    let engine = RedbEngine::open_with_backend(backend, RedbOptions::default()).unwrap();
    let mvcc = Mvcc::open(engine, Options::default()).unwrap();
    // Arm the fault after a random amount of work.
    let after = rng.random_range(5..200);
    match fault {
        Fault::FailedWrite => control.fail_writes_after(after),
        Fault::TornWrite => control.torn_write_at(after),
        Fault::FailedSync => {}
    }
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let failed_at_sync = rng.random_range(3..40);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (mvcc, acked, control) = (mvcc.clone(), acked.clone(), control.clone());
            std::thread::spawn(move || {
                let mut errors = 0;
                for i in 0..60i64 {
                    let id = t * 1000 + i;
                    if matches!(fault, Fault::FailedSync) && t == 0 && i == failed_at_sync {
                        control.fail_next_sync();
                    }
                    let mut txn = mvcc.begin(TxnOptions::default());
                    txn.begin_statement();
                    let payload = vec![(id % 251) as u8; 300 + (id as usize % 7) * 900];
                    txn.put(&key("left", id), payload.clone()).unwrap();
                    txn.put(&key("right", id), payload).unwrap();
                    match txn.commit() {
                        Ok(_) => {
                            assert_eq!(
                                errors, 0,
                                "a commit was acknowledged after the engine failed"
                            );
                            acked.lock().unwrap().insert(id);
                        }
                        Err(Error::Engine(_)) => errors += 1,
                        Err(other) => panic!("unexpected error {other}"),
                    }
                }
                errors
            })
        })
        .collect();
    let errors: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(
        errors > 0,
        "seed {seed} {fault:?}: the fault never fired, the trial proved nothing"
    );

    let image = control.crash();
    drop(mvcc);
    let engine = RedbEngine::open_with_backend(
        FaultyBackend::from_image(image, seed),
        RedbOptions::default(),
    )
    .unwrap_or_else(|e| panic!("seed {seed} {fault:?}: cannot reopen after the crash: {e}"));
    let mvcc = Mvcc::open(engine, Options::default()).unwrap();
    let mut txn = mvcc.begin(TxnOptions::default());
    txn.begin_statement();
    let ids = |txn: &mut zizhu_txn::Transaction<RedbEngine>, side: &str| -> BTreeSet<i64> {
        let prefix = encode_tuple(&[Value::Text(side.into())]);
        let range = zizhu_engine::prefix_range(&prefix);
        txn.scan(range, Direction::Forward)
            .unwrap()
            .map(|r| {
                let (k, v) = r.unwrap();
                let id = match decode_tuple(&k).unwrap().as_slice() {
                    [_, Value::Int64(id)] => *id,
                    other => panic!("bad key {other:?}"),
                };
                assert!(
                    v.iter().all(|b| *b == (id % 251) as u8),
                    "row {side}/{id} damaged"
                );
                id
            })
            .collect()
    };
    let left = ids(&mut txn, "left");
    let right = ids(&mut txn, "right");
    assert_eq!(
        left, right,
        "seed {seed} {fault:?}: a transaction is half present"
    );
    let acked = acked.lock().unwrap();
    let lost: Vec<_> = acked.difference(&left).collect();
    assert!(
        lost.is_empty(),
        "seed {seed} {fault:?}: acknowledged commits lost: {lost:?}"
    );
    // The recovered database takes new commits.
    let mut after = mvcc.begin(TxnOptions::default());
    after.begin_statement();
    after.put(&key("left", -1), vec![]).unwrap();
    after.commit().unwrap();
}

fn trials(fault: Fault) {
    let n: u64 = std::env::var("ZIZHU_FAULT_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    for seed in 0..n {
        trial(seed * 7919 + fault as u64, fault);
    }
}

#[test]
fn failed_fsync_during_group_commit_is_never_acknowledged() {
    trials(Fault::FailedSync);
}

#[test]
fn failed_write_during_group_commit_is_never_acknowledged() {
    trials(Fault::FailedWrite);
}

#[test]
fn torn_write_during_group_commit_loses_no_acknowledged_commit() {
    trials(Fault::TornWrite);
}
