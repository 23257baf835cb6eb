//! Group commit benchmark: durable commits per second with 1 and 16 concurrent committers on a
//! real redb file, and the number of fsyncs per commit.
//!
//! `cargo bench -p zizhu-txn --bench group_commit -- [SECONDS] [CLIENTS,...] [DIR]`
//!
//! Each transaction updates one random row of 100,000 (lock, read newest, write), as pgbench's
//! single-row update does; `bench/group_commit.sh` runs PostgreSQL 15 on the same workload.
//! Prints one line per client count: `clients=N commits=.. commits_per_sec=.. fsyncs_per_commit=..
//! p50_ms=.. p95_ms=..`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use zizhu_engine_redb::{RedbEngine, RedbOptions};
use zizhu_keycode::encode_tuple;
use zizhu_txn::{LockMode, Mvcc, Options, TxnOptions, WaitPolicy};
use zizhu_types::Value;

const ROWS: i64 = 100_000;

fn key(id: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text("accounts".into()), Value::Int64(id)])
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    let clients: Vec<usize> = args
        .get(1)
        .map(|s| {
            s.split(',')
                .map(|c| c.parse().expect("client count"))
                .collect()
        })
        .unwrap_or_else(|| vec![1, 16]);
    let base = args.get(2).map(std::path::PathBuf::from);
    let dir = match &base {
        Some(path) => tempfile::tempdir_in(path).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let path = dir.path().join("bench.redb");
    let engine = RedbEngine::open(&path, RedbOptions::default()).unwrap();
    let io = engine.io_stats().expect("file backend counts I/O");
    let mvcc = Mvcc::open(engine, Options::default()).unwrap();
    let mut load = mvcc.begin(TxnOptions::default());
    load.begin_statement();
    for id in 0..ROWS {
        load.put(&key(id), 0i64.to_be_bytes().to_vec()).unwrap();
    }
    load.commit().unwrap();

    for &n in &clients {
        let stop = Arc::new(AtomicBool::new(false));
        let syncs_before = io.syncs();
        let stats_before = mvcc.stats();
        let start = Instant::now();
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let (mvcc, stop) = (mvcc.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
                    let mut latencies = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let t0 = Instant::now();
                        let mut txn = mvcc.begin(TxnOptions::default());
                        txn.begin_statement();
                        let k = key(rng.random_range(0..ROWS));
                        let lock = txn
                            .lock_row(&k, LockMode::NoKeyUpdate, WaitPolicy::Wait)
                            .unwrap();
                        let current = lock.and_then(|l| l.current).expect("row exists");
                        let v = i64::from_be_bytes(current.try_into().unwrap()) + 1;
                        txn.put(&k, v.to_be_bytes().to_vec()).unwrap();
                        txn.commit().unwrap();
                        latencies.push(t0.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        let mut latencies: Vec<Duration> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        let elapsed = start.elapsed().as_secs_f64();
        let stats = mvcc.stats();
        let commits = stats.commits - stats_before.commits;
        let groups = stats.commit_groups - stats_before.commit_groups;
        let syncs = io.syncs() - syncs_before;
        latencies.sort();
        let pct =
            |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
        println!(
            "clients={n} commits={commits} commits_per_sec={:.0} commit_groups={groups} fsyncs={syncs} fsyncs_per_commit={:.3} p50_ms={:.2} p95_ms={:.2}",
            commits as f64 / elapsed,
            syncs as f64 / commits as f64,
            pct(0.50),
            pct(0.95),
        );
    }
}
