//! The engine conformance suite, durability across reopen, and file locking.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use tempfile::TempDir;
use zizhu_engine::{conformance, Direction, Durability, Engine, Error, KeyRange, Result};
use zizhu_engine::{ScanIter, Status, WriteBatch};
use zizhu_engine_redb::{FaultyBackend, RedbEngine, RedbOptions};

/// A redb engine over a file in a temporary directory that lives as long as the engine.
struct TempEngine {
    engine: RedbEngine,
    _dir: TempDir,
}

impl TempEngine {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let options = RedbOptions {
            cache_size_bytes: 16 << 20,
        };
        let engine = RedbEngine::open(&dir.path().join("data.redb"), options).unwrap();
        Self { engine, _dir: dir }
    }
}

impl Engine for TempEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.engine.get(key)
    }
    fn scan(&self, range: KeyRange, direction: Direction) -> Result<ScanIter<'_>> {
        self.engine.scan(range, direction)
    }
    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<()> {
        self.engine.write(batch, durability)
    }
    fn flush(&self) -> Result<()> {
        self.engine.flush()
    }
    fn status(&self) -> Result<Status> {
        self.engine.status()
    }
}

#[test]
fn conformance_on_file() {
    conformance::run_all(&TempEngine::new);
}

#[test]
fn conformance_on_faulty_backend_without_faults() {
    conformance::run_all(&|| {
        RedbEngine::open_with_backend(FaultyBackend::new(7), RedbOptions::default()).unwrap()
    });
}

#[test]
fn durability_on_file() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("data.redb");
    conformance::run_durability(&|| RedbEngine::open(&path, RedbOptions::default()).unwrap());
}

#[test]
fn second_open_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.redb");
    let first = RedbEngine::open(&path, RedbOptions::default()).unwrap();
    match RedbEngine::open(&path, RedbOptions::default()) {
        Err(Error::Locked(message)) => {
            assert!(
                message.contains("data.redb"),
                "message should name the file: {message}"
            )
        }
        other => panic!("second open should be Locked, got {other:?}"),
    }
    drop(first);
    // Released on close.
    RedbEngine::open(&path, RedbOptions::default()).unwrap();
}

#[test]
fn sync_writes_fsync_once_and_deferred_writes_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let engine = RedbEngine::open(&dir.path().join("data.redb"), RedbOptions::default()).unwrap();
    let stats = engine.io_stats().unwrap();
    let put = |k: &[u8], durability| {
        let mut batch = WriteBatch::new();
        batch.put(k.to_vec(), vec![1; 100]);
        engine.write(batch, durability).unwrap();
    };
    let before = stats.syncs();
    put(b"a", Durability::Sync);
    assert_eq!(stats.syncs() - before, 1, "one fsync per Sync write");
    let before = stats.syncs();
    for i in 0..10u8 {
        put(&[i], Durability::Deferred);
    }
    assert_eq!(stats.syncs() - before, 0, "Deferred writes must not fsync");
    engine.flush().unwrap();
    assert_eq!(stats.syncs() - before, 1, "flush fsyncs once");
    let status = engine.status().unwrap();
    assert_eq!(status.name, "redb");
    assert_eq!(status.syncs, 2);
    assert!(status.size_on_disk > 0);
    assert_eq!(
        status.size_on_disk,
        std::fs::metadata(dir.path().join("data.redb"))
            .unwrap()
            .len()
    );
}
