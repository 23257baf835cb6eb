//! Helpers shared by the transaction layer's test files: a database over the in-memory
//! engine, row keys, and waiting for a transaction to block.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::ops::Bound;
use std::thread;
use std::time::{Duration, Instant};

use zizhu_engine::{Direction, Engine, KeyRange};
use zizhu_engine_memory::MemoryEngine;
use zizhu_keycode::encode_tuple;
use zizhu_txn::{IsolationLevel, Mvcc, Options, Transaction, TxnOptions};
use zizhu_types::Value;

pub fn open() -> Mvcc<MemoryEngine> {
    Mvcc::open(MemoryEngine::new(), Options::default()).unwrap()
}

pub fn key(id: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text("t".into()), Value::Int64(id)])
}

pub fn begin<E: Engine>(mvcc: &Mvcc<E>, isolation: IsolationLevel) -> Transaction<E> {
    let mut txn = mvcc.begin(TxnOptions {
        isolation,
        ..Default::default()
    });
    txn.begin_statement();
    txn
}

pub fn all() -> KeyRange {
    (Bound::Unbounded, Bound::Unbounded)
}

pub fn scan_ids<E: Engine>(
    txn: &mut Transaction<E>,
    range: KeyRange,
    dir: Direction,
) -> Vec<(i64, Vec<u8>)> {
    txn.scan(range, dir)
        .unwrap()
        .map(|r| {
            let (k, v) = r.unwrap();
            match zizhu_keycode::decode_tuple(&k).unwrap().as_slice() {
                [_, Value::Int64(id)] => (*id, v),
                other => panic!("unexpected key {other:?}"),
            }
        })
        .collect()
}

pub fn wait_until_blocked<E: Engine>(mvcc: &Mvcc<E>, id: u64) {
    let start = Instant::now();
    while !mvcc.is_waiting(id) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "transaction {id} never blocked"
        );
        thread::yield_now();
    }
}

/// Runs `work` on another thread until transaction `waiter` blocks, then commits or rolls
/// back `first`, and returns what `work` returned.
pub fn end_while_blocked<E: Engine, T: Send>(
    mvcc: &Mvcc<E>,
    first: Transaction<E>,
    commit: bool,
    waiter: u64,
    work: impl FnOnce() -> T + Send,
) -> T {
    thread::scope(|s| {
        let running = s.spawn(work);
        wait_until_blocked(mvcc, waiter);
        if commit {
            first.commit().unwrap();
        } else {
            first.rollback();
        }
        running.join().unwrap()
    })
}
