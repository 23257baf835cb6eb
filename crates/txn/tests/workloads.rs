//! Workloads on a real redb file: garbage collection keeping the file bounded under a sustained
//! update load, and one very large transaction. They print their figures; run with
//! `cargo test -p zizhu-txn --test workloads -- --nocapture` to see them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::Bound;
use std::path::Path;
use std::thread;
use std::time::Instant;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use zizhu_engine::{prefix_range, Direction, Engine, KeyRange};
use zizhu_engine_redb::{RedbEngine, RedbOptions};
use zizhu_keycode::encode_tuple;
use zizhu_txn::{IsolationLevel, LockMode, Mvcc, Options, Transaction, TxnOptions, WaitPolicy};
use zizhu_types::Value;

/// Length of every row value.
const VALUE_LEN: usize = 100;

fn key(table: &str, id: i64) -> Vec<u8> {
    encode_tuple(&[Value::Text(table.into()), Value::Int64(id)])
}

/// All keys of `table`.
fn table_range(table: &str) -> KeyRange {
    prefix_range(&encode_tuple(&[Value::Text(table.into())]))
}

fn id_of(key: &[u8]) -> i64 {
    match zizhu_keycode::decode_tuple(key).unwrap().as_slice() {
        [_, Value::Int64(id)] => *id,
        other => panic!("unexpected key {other:?}"),
    }
}

/// Row `id`'s value after `n` updates: `n` in the first 8 bytes, then filler that also depends
/// on `id` and `n`, so every update changes the whole value and a misplaced value is caught.
fn value(id: i64, n: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(VALUE_LEN);
    v.extend_from_slice(&n.to_be_bytes());
    let mut x = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n;
    while v.len() < VALUE_LEN {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        v.push((x >> 56) as u8);
    }
    v
}

fn update_count(value: &[u8]) -> u64 {
    u64::from_be_bytes(value[..8].try_into().unwrap())
}

fn open(path: &Path, gc: bool) -> Mvcc<RedbEngine> {
    let engine = RedbEngine::open(path, RedbOptions::default()).unwrap();
    let options = Options {
        gc,
        ..Default::default()
    };
    Mvcc::open(engine, options).unwrap()
}

fn begin<E: Engine>(mvcc: &Mvcc<E>) -> Transaction<E> {
    let mut txn = mvcc.begin(TxnOptions {
        isolation: IsolationLevel::ReadCommitted,
        ..Default::default()
    });
    txn.begin_statement();
    txn
}

fn engine_entries<E: Engine>(mvcc: &Mvcc<E>) -> usize {
    mvcc.engine()
        .scan((Bound::Unbounded, Bound::Unbounded), Direction::Forward)
        .unwrap()
        .count()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---------------------------------------------------------------------------------------------
// Sustained updates
// ---------------------------------------------------------------------------------------------

const ROWS: i64 = 1_000;
const THREADS: usize = 4;
const ROWS_PER_TXN: usize = 10;
const WARMUP_UPDATES: usize = 10_000;
const TOTAL_UPDATES: usize = 100_000;
/// Whether the update workload runs with garbage collection. Set to `false` only to see the
/// assertions below fail.
const GC: bool = true;

/// Runs `updates` row updates from [`THREADS`] threads, [`ROWS_PER_TXN`] distinct random rows
/// per transaction, each an `UPDATE t SET n = n + 1` (lock the row, read its newest state,
/// write the next value). Returns how many times each row was updated.
fn update_phase(mvcc: &Mvcc<RedbEngine>, updates: usize, seed: u64) -> Vec<u64> {
    assert_eq!(updates % (THREADS * ROWS_PER_TXN), 0);
    let per_thread = updates / THREADS;
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let mvcc = mvcc.clone();
            thread::spawn(move || {
                let mut rng = SmallRng::seed_from_u64(seed * 1_000 + t as u64);
                let mut counts = vec![0u64; ROWS as usize];
                for _ in 0..per_thread / ROWS_PER_TXN {
                    // Distinct rows locked in key order: no deadlocks, only waits.
                    let mut ids =
                        rand::seq::index::sample(&mut rng, ROWS as usize, ROWS_PER_TXN).into_vec();
                    ids.sort_unstable();
                    let mut txn = begin(&mvcc);
                    for id in ids {
                        let id = id as i64;
                        txn.begin_statement();
                        let k = key("t", id);
                        let lock = txn
                            .lock_row(&k, LockMode::NoKeyUpdate, WaitPolicy::Wait)
                            .unwrap()
                            .unwrap();
                        let n = update_count(&lock.current.expect("row exists")) + 1;
                        txn.put(&k, value(id, n)).unwrap();
                        counts[id as usize] += 1;
                    }
                    txn.commit().unwrap().expect("an update commits");
                }
                counts
            })
        })
        .collect();
    let mut counts = vec![0u64; ROWS as usize];
    for worker in workers {
        for (total, n) in counts.iter_mut().zip(worker.join().unwrap()) {
            *total += n;
        }
    }
    counts
}

#[test]
fn old_versions_are_reclaimed_under_sustained_updates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.redb");
    let mvcc = open(&path, GC);
    let started = Instant::now();

    let mut load = begin(&mvcc);
    for id in 0..ROWS {
        load.put(&key("t", id), value(id, 0)).unwrap();
    }
    load.commit().unwrap();
    let loaded_size = file_size(&path);

    let t = Instant::now();
    let mut counts = update_phase(&mvcc, WARMUP_UPDATES, 1);
    let warm_time = t.elapsed();
    let warm_size = file_size(&path);
    let warm_entries = engine_entries(&mvcc);
    let warm_stats = mvcc.stats();

    let t = Instant::now();
    let rest = update_phase(&mvcc, TOTAL_UPDATES - WARMUP_UPDATES, 2);
    let rest_time = t.elapsed();
    for (total, n) in counts.iter_mut().zip(rest) {
        *total += n;
    }
    assert_eq!(counts.iter().sum::<u64>(), TOTAL_UPDATES as u64);

    // The collector's deletes ride in the next group's batch, and it only collects commits
    // every snapshot has passed: a few more commits let the last updates' garbage land.
    for i in 0..5 {
        let mut txn = begin(&mvcc);
        txn.put(&key("tick", 0), i.to_string().into_bytes())
            .unwrap();
        txn.commit().unwrap();
    }
    let end_size = file_size(&path);
    let end_entries = engine_entries(&mvcc);
    let stats = mvcc.stats();
    let io = mvcc.engine().io_stats().unwrap();

    println!(
        "sustained updates (gc: {GC}): {ROWS} rows of {VALUE_LEN} B, {TOTAL_UPDATES} updates \
         from {THREADS} threads, {ROWS_PER_TXN} rows per transaction"
    );
    println!("  file after load:            {loaded_size:>10} B");
    println!(
        "  after {WARMUP_UPDATES} updates (warm): {warm_size:>10} B ({:.2} MiB), {warm_entries} \
         engine entries, {:.1} s, {} commits in {} groups",
        mib(warm_size),
        warm_time.as_secs_f64(),
        warm_stats.commits,
        warm_stats.commit_groups
    );
    println!(
        "  after {TOTAL_UPDATES} updates (end):  {end_size:>10} B ({:.2} MiB), {end_entries} \
         engine entries, {:.1} s more ({:.0} updates/s)",
        mib(end_size),
        rest_time.as_secs_f64(),
        (TOTAL_UPDATES - WARMUP_UPDATES) as f64 / rest_time.as_secs_f64()
    );
    println!(
        "  end/warm size: {:.2}x; commits {}, groups {}, versions collected {}; \
         {:.1} MiB written, {} fsyncs; total {:.1} s",
        end_size as f64 / warm_size as f64,
        stats.commits,
        stats.commit_groups,
        stats.versions_collected,
        mib(io.bytes_written()),
        io.syncs(),
        started.elapsed().as_secs_f64()
    );

    // Live data is about 1,000 x (16 B key + 8 B timestamp + 101 B value) = 125 KB. Once redb
    // has settled on its working set of pages (the warm-up), a collected table reuses its freed
    // pages, so further updates must not keep growing the file. Without collection the 90,000
    // updates after warm-up add ~90,000 versions (>11 MB of leaf data alone), which breaks both
    // bounds.
    assert!(
        end_size <= 2 * warm_size,
        "file grew from {warm_size} B after warm-up to {end_size} B"
    );
    const SIZE_CAP: u64 = 8 << 20;
    assert!(
        end_size <= SIZE_CAP,
        "file is {end_size} B, over the {SIZE_CAP} B cap"
    );
    // One live version per row, plus LastCommitted, the tick row and the few newest versions
    // whose collection is still pending.
    assert!(
        end_entries <= 2 * ROWS as usize,
        "{end_entries} engine entries for {ROWS} rows"
    );
    // 100,000 updates shadow 100,000 versions; all but the pending few are collected.
    assert!(
        stats.versions_collected >= (TOTAL_UPDATES as u64) * 9 / 10,
        "only {} versions collected",
        stats.versions_collected
    );

    let check = begin(&mvcc);
    let rows: Vec<(Vec<u8>, Vec<u8>)> = check
        .scan(table_range("t"), Direction::Forward)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), ROWS as usize);
    for (i, (k, v)) in rows.iter().enumerate() {
        let id = id_of(k);
        assert_eq!(id, i as i64);
        assert_eq!(
            *v,
            value(id, counts[i]),
            "row {id} should have been updated {} times, value says {}",
            counts[i],
            update_count(v)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// One large transaction
// ---------------------------------------------------------------------------------------------

const LARGE_ROWS: i64 = 1_000_000;

#[test]
fn one_transaction_writes_a_million_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.redb");
    let mvcc = open(&path, true);

    let t = Instant::now();
    let mut txn = begin(&mvcc);
    for id in 0..LARGE_ROWS {
        txn.put(&key("big", id), value(id, 0)).unwrap();
    }
    let write_time = t.elapsed();
    let t = Instant::now();
    let ts = txn.commit().unwrap().expect("a write commits");
    let commit_time = t.elapsed();
    assert_eq!(mvcc.locked_rows(), 0, "commit released every row lock");

    let t = Instant::now();
    let check = begin(&mvcc);
    let mut count = 0i64;
    for row in check.scan(table_range("big"), Direction::Forward).unwrap() {
        let (k, v) = row.unwrap();
        assert_eq!(id_of(&k), count);
        assert_eq!(v.len(), VALUE_LEN);
        count += 1;
    }
    assert_eq!(count, LARGE_ROWS);
    for id in [0, 1, LARGE_ROWS / 2, LARGE_ROWS - 1] {
        assert_eq!(check.get(&key("big", id)).unwrap(), Some(value(id, 0)));
    }
    assert_eq!(check.get(&key("big", LARGE_ROWS)).unwrap(), None);
    let read_time = t.elapsed();
    assert_eq!(mvcc.stats().visible_ts, ts);

    println!(
        "one transaction of {LARGE_ROWS} rows x {VALUE_LEN} B: write {:.1} s, commit {:.1} s, \
         scan + check {:.1} s, file {:.1} MiB",
        write_time.as_secs_f64(),
        commit_time.as_secs_f64(),
        read_time.as_secs_f64(),
        mib(file_size(&path))
    );
}

/// Each dead version is deleted once. A key updated many times while a snapshot held
/// collection back comes up for many commits in one collection pass; the deletes queued for the
/// earlier ones are applied only with the next batch, so each later commit must scan just what
/// the earlier ones left (an earlier version queued the same old versions N²/2 times).
#[test]
fn garbage_collection_deletes_each_old_version_once() {
    const UPDATES: u64 = 200;
    let mvcc = Mvcc::open(zizhu_engine_memory::MemoryEngine::new(), Options::default()).unwrap();
    let mut t = begin(&mvcc);
    t.put(&key("t", 1), value(1, 0)).unwrap();
    t.commit().unwrap();
    let mut pinned = mvcc.begin(TxnOptions {
        isolation: IsolationLevel::RepeatableRead,
        ..Default::default()
    });
    pinned.begin_statement();
    assert!(pinned.get(&key("t", 1)).unwrap().is_some());
    for n in 1..=UPDATES {
        let mut t = begin(&mvcc);
        t.put(&key("t", 1), value(1, n)).unwrap();
        t.commit().unwrap();
    }
    drop(pinned);
    // Three commits to another key: the first collects key 1's history, the second applies
    // the deletes.
    for i in 0..3 {
        let mut t = begin(&mvcc);
        t.put(&key("t", 2), value(2, i)).unwrap();
        t.commit().unwrap();
    }
    // LastCommitted, key 1's newest version and key 2's three (the older two dead, their
    // collection still pending): key 1's history is gone, so collection itself works.
    let left = engine_entries(&mvcc);
    assert!(left <= 5, "{left} engine entries remain");
    // UPDATES old versions of key 1 and at most 2 of key 2 have died.
    let collected = mvcc.stats().versions_collected;
    assert!(
        collected <= UPDATES + 2,
        "{collected} deletes issued for {} dead versions",
        UPDATES + 2
    );
}

/// A drop recorded by a commit whose collection never ran (collection was off, as if the
/// process died first) is finished after the next open.
#[test]
fn a_dropped_range_is_collected_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let mvcc = open(&path, false);
        let mut load = begin(&mvcc);
        for i in 0..1_000 {
            load.put(&key("t", i), value(i, 0)).unwrap();
        }
        load.put(&key("u", 1), value(1, 0)).unwrap();
        load.commit().unwrap();
        let mut drop = begin(&mvcc);
        drop.drop_range(table_range("t")).unwrap();
        drop.put(&key("u", 2), value(2, 0)).unwrap();
        drop.commit().unwrap();
    }
    let mvcc = open(&path, true);
    let start = Instant::now();
    loop {
        // Every entry left: u's two rows, the commit clock, and no dropped-range record.
        let entries = mvcc
            .engine()
            .scan((Bound::Unbounded, Bound::Unbounded), Direction::Forward)
            .unwrap()
            .count();
        if entries == 3 {
            break;
        }
        assert!(
            start.elapsed().as_secs() < 30,
            "{entries} entries left: {:?}",
            mvcc.stats()
        );
        thread::sleep(std::time::Duration::from_millis(10));
    }
    let check = begin(&mvcc);
    let rows: Vec<_> = check
        .scan((Bound::Unbounded, Bound::Unbounded), Direction::Forward)
        .unwrap()
        .map(|r| id_of(&r.unwrap().0))
        .collect();
    assert_eq!(rows, vec![1, 2]);
}
