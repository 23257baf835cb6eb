//! A bank whose books must balance after any crash.
//!
//! The worker ([`run_worker`], binary `zizhu-crash-worker`) runs concurrent transfer
//! transactions on a real redb data file. Each transfer moves an amount between two accounts
//! and, in the same transaction, writes a log row `(log, thread, seq)` naming the transfer. The
//! worker prints `ACK thread seq` only after `commit` returned `Ok`, that is, after the commit
//! was acknowledged as durable.
//!
//! [`verify`] then checks, on the recovered data, that every acknowledged transfer is present,
//! that each thread's log is gap-free (commits of one thread are durable in order), and that
//! every balance equals its opening amount plus exactly the net of the logged transfers. A
//! transaction that was partly applied (an account row without its log row, or one leg of a
//! transfer without the other) breaks the last check.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use zizhu_engine::{prefix_range, Direction, Engine};
use zizhu_engine_redb::{RedbEngine, RedbOptions};
use zizhu_keycode::{decode_tuple, encode_tuple};
use zizhu_txn::{Error, IsolationLevel, LockMode, Mvcc, Options, TxnOptions, WaitPolicy};
use zizhu_types::Value;

/// Number of accounts.
pub const ACCOUNTS: i64 = 50;
/// Opening balance of each account.
pub const OPENING: i64 = 1_000;

/// The data file inside a test directory.
pub fn data_file(dir: &Path) -> std::path::PathBuf {
    dir.join("bank.redb")
}

fn account_key(id: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text("account".into()), Value::Int64(id)])
}

fn log_key(thread: i64, seq: i64) -> Vec<u8> {
    encode_tuple(&[
        Value::Text("log".into()),
        Value::Int64(thread),
        Value::Int64(seq),
    ])
}

fn log_prefix(thread: Option<i64>) -> Vec<u8> {
    let mut values = vec![Value::Text("log".into())];
    values.extend(thread.map(Value::Int64));
    encode_tuple(&values)
}

fn int(bytes: &[u8]) -> i64 {
    i64::from_be_bytes(bytes.try_into().expect("8-byte integer"))
}

/// Opens the bank, creating the accounts on first use, on the engine as the server runs it:
/// with the write-ahead log, so a kill lands between log appends, log syncs and checkpoints.
pub fn open(dir: &Path) -> Mvcc<RedbEngine> {
    let options = RedbOptions {
        wal: true,
        ..RedbOptions::default()
    };
    let engine = RedbEngine::open(&data_file(dir), options).unwrap();
    let mvcc = Mvcc::open(engine, Options::default()).unwrap();
    let mut txn = mvcc.begin(TxnOptions::default());
    txn.begin_statement();
    if txn.get(&account_key(0)).unwrap().is_none() {
        for id in 0..ACCOUNTS {
            txn.put(&account_key(id), OPENING.to_be_bytes().to_vec())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    mvcc
}

/// Runs `threads` transfer loops until killed; prints `ACK thread seq` per durable commit.
pub fn run_worker(dir: &Path, threads: i64, seed: u64) {
    let mvcc = open(dir);
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let mvcc = mvcc.clone();
            let stop = stop.clone();
            std::thread::spawn(move || transfer_loop(&mvcc, thread, seed, &stop))
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

fn transfer_loop(mvcc: &Mvcc<RedbEngine>, thread: i64, seed: u64, stop: &AtomicBool) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ (thread as u64) << 32);
    // Resume after this thread's last durable transfer.
    let mut seq = {
        let mut txn = mvcc.begin(TxnOptions::default());
        txn.begin_statement();
        let mut last = txn
            .scan(prefix_range(&log_prefix(Some(thread))), Direction::Reverse)
            .unwrap();
        last.next().map_or(0, |r| {
            let (key, _) = r.unwrap();
            match decode_tuple(&key).unwrap().as_slice() {
                [_, _, Value::Int64(seq)] => seq + 1,
                other => panic!("bad log key {other:?}"),
            }
        })
    };
    let stdout = std::io::stdout();
    while !stop.load(Ordering::Relaxed) {
        let from = rng.random_range(0..ACCOUNTS);
        let to = (from + rng.random_range(1..ACCOUNTS)) % ACCOUNTS;
        let amount = rng.random_range(1..100i64);
        match transfer(mvcc, thread, seq, from, to, amount, rng.random_range(0..3)) {
            Ok(()) => {
                let mut out = stdout.lock();
                writeln!(out, "ACK {thread} {seq}").unwrap();
                out.flush().unwrap();
                seq += 1;
            }
            Err(Error::Deadlock(_)) => continue,
            Err(err) => panic!("transfer failed: {err}"),
        }
    }
}

fn transfer(
    mvcc: &Mvcc<RedbEngine>,
    thread: i64,
    seq: i64,
    from: i64,
    to: i64,
    amount: i64,
    padding_rows: i64,
) -> zizhu_txn::Result<()> {
    let mut txn = mvcc.begin(TxnOptions {
        isolation: IsolationLevel::ReadCommitted,
        ..Default::default()
    });
    txn.begin_statement();
    for (account, delta) in [(from, -amount), (to, amount)] {
        let key = account_key(account);
        let lock = txn.lock_row(&key, LockMode::NoKeyUpdate, WaitPolicy::Wait)?;
        let balance = int(&lock.and_then(|l| l.current).expect("account exists"));
        txn.put(&key, (balance + delta).to_be_bytes().to_vec())?;
    }
    let mut record = Vec::new();
    for v in [from, to, amount] {
        record.extend_from_slice(&v.to_be_bytes());
    }
    // Some transactions are larger, so a crash can land in the middle of a multi-page write.
    record.resize(24 + padding_rows as usize * 2_000, 0xab);
    txn.put(&log_key(thread, seq), record)?;
    txn.commit()?;
    Ok(())
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct Books {
    /// Durable transfers per thread (each thread's are `0..n`).
    pub transfers: BTreeMap<i64, i64>,
}

/// Checks the recovered books against the acknowledged commits `acked` (thread → highest
/// acknowledged seq); panics with the discrepancy.
pub fn verify(mvcc: &Mvcc<RedbEngine>, acked: &HashMap<i64, i64>) -> Books {
    let mut txn = mvcc.begin(TxnOptions {
        isolation: IsolationLevel::RepeatableRead,
        ..Default::default()
    });
    txn.begin_statement();
    let mut expected: Vec<i64> = vec![OPENING; ACCOUNTS as usize];
    let mut books = Books::default();
    for row in txn
        .scan(prefix_range(&log_prefix(None)), Direction::Forward)
        .unwrap()
    {
        let (key, value) = row.unwrap();
        let (thread, seq) = match decode_tuple(&key).unwrap().as_slice() {
            [_, Value::Int64(t), Value::Int64(s)] => (*t, *s),
            other => panic!("bad log key {other:?}"),
        };
        let next = books.transfers.entry(thread).or_insert(0);
        assert_eq!(
            seq, *next,
            "thread {thread}: log has a gap before seq {seq}"
        );
        *next += 1;
        let (from, to, amount) = (int(&value[0..8]), int(&value[8..16]), int(&value[16..24]));
        assert!(
            value[24..].iter().all(|b| *b == 0xab),
            "log row {thread}/{seq} damaged"
        );
        expected[from as usize] -= amount;
        expected[to as usize] += amount;
    }
    for (thread, last_acked) in acked {
        let durable = books.transfers.get(thread).copied().unwrap_or(0);
        assert!(durable > *last_acked, "thread {thread}: transfer {last_acked} was acknowledged but is lost ({durable} durable)");
    }
    let range = (
        Bound::Included(account_key(0)),
        Bound::Excluded(account_key(ACCOUNTS)),
    );
    let balances: Vec<i64> = txn
        .scan(range, Direction::Forward)
        .unwrap()
        .map(|r| int(&r.unwrap().1))
        .collect();
    assert_eq!(balances.len(), ACCOUNTS as usize, "accounts missing");
    for (id, (actual, expected)) in balances.iter().zip(&expected).enumerate() {
        assert_eq!(
            actual, expected,
            "account {id} does not match its logged transfers: a partial transaction"
        );
    }
    let _ = mvcc.engine().status();
    books
}
