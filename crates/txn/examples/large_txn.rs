//! Measures one large transaction on redb: time to write the rows into the transaction, time to
//! commit, peak resident memory (`VmHWM`) of each phase, and the data file's size.
//!
//! ```text
//! cargo run -p zizhu-txn --release --example large_txn [ROWS] [VALUE_BYTES] [probe]
//! ```
//!
//! Defaults: 1,000,000 rows of 100 bytes, in a temporary directory. With `probe`, a second
//! thread takes and releases one row lock in a loop while the large transaction commits and
//! reports its slowest round: how long the commit keeps other transactions from locking rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zizhu_engine::{prefix_range, Direction};
use zizhu_engine_redb::{RedbEngine, RedbOptions};
use zizhu_keycode::encode_tuple;
use zizhu_txn::{Mvcc, Options, TxnOptions};
use zizhu_types::Value;

fn key(id: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text("big".into()), Value::Int64(id)])
}

fn value(id: i64, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    let mut x = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while v.len() < len {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        v.push((x >> 56) as u8);
    }
    v
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn proc_status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS, so each phase's peak can be read. Returns
/// whether the kernel allowed it.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rows: i64 = args.next().map_or(1_000_000, |a| a.parse().expect("ROWS"));
    let value_len: usize = args.next().map_or(100, |a| a.parse().expect("VALUE_BYTES"));
    let probe = args.next().is_some_and(|a| a == "probe");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.redb");
    let engine = RedbEngine::open(&path, RedbOptions::default()).unwrap();
    let mvcc = Mvcc::open(engine, Options::default()).unwrap();

    let key_bytes: usize = (0..rows).map(|id| key(id).len()).sum();
    let value_bytes = rows as u64 * value_len as u64;
    println!(
        "rows: {rows}, value bytes: {value_bytes} ({}), key bytes: {key_bytes} ({})",
        mib(value_bytes),
        mib(key_bytes as u64)
    );
    let start_hwm = proc_status("VmHWM:");
    println!(
        "peak RSS before: {} (RSS {})",
        mib(start_hwm),
        mib(proc_status("VmRSS:"))
    );
    let per_phase = reset_peak();

    let t = Instant::now();
    let mut txn = mvcc.begin(TxnOptions::default());
    txn.begin_statement();
    for id in 0..rows {
        txn.put(&key(id), value(id, value_len)).unwrap();
    }
    let write_time = t.elapsed();
    let write_hwm = proc_status("VmHWM:");
    println!(
        "write into the transaction: {:.2} s ({:.0} rows/s); peak RSS {}, RSS now {}",
        write_time.as_secs_f64(),
        rows as f64 / write_time.as_secs_f64(),
        mib(write_hwm),
        mib(proc_status("VmRSS:"))
    );

    let stop = Arc::new(AtomicBool::new(false));
    let prober = probe.then(|| {
        let (mvcc, stop) = (mvcc.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut slowest, mut rounds) = (Duration::ZERO, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let mut other = mvcc.begin(TxnOptions::default());
                other.begin_statement();
                other.put(&key(-1), vec![]).unwrap();
                other.rollback();
                slowest = slowest.max(t.elapsed());
                rounds += 1;
                std::thread::sleep(Duration::from_micros(100));
            }
            (slowest, rounds)
        })
    });

    let t = Instant::now();
    let ts = txn.commit().unwrap().expect("a write commits");
    let commit_time = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let Some(prober) = prober {
        let (slowest, rounds) = prober.join().unwrap();
        println!(
            "probe: slowest of {rounds} lock + rollback rounds during the commit: {:.1} ms",
            slowest.as_secs_f64() * 1000.0
        );
    }
    let commit_hwm = proc_status("VmHWM:");
    println!(
        "commit (ts {ts}): {:.2} s; peak RSS {}{}, RSS now {}; data file {}",
        commit_time.as_secs_f64(),
        mib(commit_hwm),
        if per_phase {
            " (over write + commit)"
        } else {
            ""
        },
        mib(proc_status("VmRSS:")),
        mib(file_size(&path))
    );

    if per_phase {
        reset_peak();
    }
    let t = Instant::now();
    let mut check = mvcc.begin(TxnOptions::default());
    check.begin_statement();
    let mut count = 0i64;
    let prefix = encode_tuple(&[Value::Text("big".into())]);
    for row in check
        .scan(prefix_range(&prefix), Direction::Forward)
        .unwrap()
    {
        let (_, v) = row.unwrap();
        assert_eq!(v.len(), value_len);
        count += 1;
    }
    assert_eq!(count, rows);
    for id in [0, rows / 2, rows - 1] {
        assert_eq!(check.get(&key(id)).unwrap(), Some(value(id, value_len)));
    }
    drop(check);
    let read_hwm = proc_status("VmHWM:");
    println!(
        "read back: {count} rows by scan, spot checks ok, {:.2} s; peak RSS {}",
        t.elapsed().as_secs_f64(),
        mib(read_hwm)
    );

    // The commit's keys wait in the collector's queue; later commits scan them for garbage.
    let t = Instant::now();
    let commits = 100;
    for i in 0..commits {
        let mut txn = mvcc.begin(TxnOptions::default());
        txn.begin_statement();
        txn.put(&key(rows + 1), vec![i as u8; value_len]).unwrap();
        txn.commit().unwrap();
    }
    println!(
        "{commits} small commits after it: {:.1} ms each",
        t.elapsed().as_secs_f64() * 1000.0 / f64::from(commits)
    );

    if probe {
        // Rolling back does nothing but drop the buffer and release the row locks.
        let mut txn = mvcc.begin(TxnOptions::default());
        txn.begin_statement();
        for id in 0..rows {
            txn.put(&key(rows + 2 + id), vec![]).unwrap();
        }
        let t = Instant::now();
        txn.rollback();
        println!(
            "rollback of a {rows}-row transaction (releases its row locks): {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }

    let stats = mvcc.stats();
    println!(
        "peak RSS overall: {}; data file {}; commits {}, groups {}, versions collected {}",
        mib([
            start_hwm,
            write_hwm,
            commit_hwm,
            read_hwm,
            proc_status("VmHWM:")
        ]
        .into_iter()
        .max()
        .unwrap_or(0)),
        mib(file_size(&path)),
        stats.commits,
        stats.commit_groups,
        stats.versions_collected
    );
}
