//! The engine conformance suite, durability across reopen, and file locking.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use tempfile::TempDir;
use zizhu_crypto::keystore::KeyRing;
use zizhu_crypto::Key;
use zizhu_engine::{conformance, Direction, Durability, Engine, Error, KeyRange, Result};
use zizhu_engine::{ScanIter, Status, WriteBatch};
use zizhu_engine_redb::{EncryptedBackend, FaultyBackend, RedbEngine, RedbOptions};

/// A redb engine over a file in a temporary directory that lives as long as the engine.
struct TempEngine {
    engine: RedbEngine,
    _dir: TempDir,
}

impl TempEngine {
    fn new() -> Self {
        Self::plain(false)
    }

    /// With the write-ahead log.
    fn logged() -> Self {
        Self::plain(true)
    }

    fn plain(wal: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let options = RedbOptions {
            cache_size_bytes: 16 << 20,
            wal,
            ..RedbOptions::default()
        };
        let engine = RedbEngine::open(&dir.path().join("data.redb"), options).unwrap();
        Self { engine, _dir: dir }
    }

    /// The same over the SM4-encrypting backend.
    fn encrypted() -> Self {
        Self::sealed(false)
    }

    /// Over the SM4-encrypting backend, with the write-ahead log (encrypted too).
    fn encrypted_logged() -> Self {
        Self::sealed(true)
    }

    fn sealed(wal: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = Arc::new(KeyRing::from_keys(1, &[(1, Key::random())]).unwrap());
        let options = RedbOptions {
            cache_size_bytes: 16 << 20,
            wal,
            ..RedbOptions::default()
        };
        let (engine, _) = RedbEngine::open_encrypted(
            &dir.path().join("data.redb"),
            options,
            keys,
            [1, 2],
            &dir.path().join("rekey.journal"),
        )
        .unwrap();
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
fn conformance_on_encrypted_file() {
    conformance::run_all(&TempEngine::encrypted);
}

#[test]
fn conformance_on_file_with_wal() {
    conformance::run_all(&TempEngine::logged);
}

#[test]
fn conformance_on_encrypted_file_with_wal() {
    conformance::run_all(&TempEngine::encrypted_logged);
}

#[test]
fn conformance_on_faulty_backends_with_wal_without_faults() {
    conformance::run_all(&|| {
        RedbEngine::open_with_backends(
            FaultyBackend::new(7),
            Some(Box::new(FaultyBackend::new(8))),
            RedbOptions::default(),
        )
        .unwrap()
    });
}

#[test]
fn conformance_on_encrypted_faulty_backend_without_faults() {
    let keys = Arc::new(KeyRing::from_keys(1, &[(1, Key::random())]).unwrap());
    let epoch = std::sync::atomic::AtomicU32::new(0);
    conformance::run_all(&|| {
        let n = epoch.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let backend = EncryptedBackend::open(FaultyBackend::new(7), Arc::clone(&keys), n).unwrap();
        let options = RedbOptions {
            two_phase_commit: true,
            ..RedbOptions::default()
        };
        RedbEngine::open_with_backend(backend, options).unwrap()
    });
}

fn durability_on_encrypted(wal: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("data.redb");
    let keys = Arc::new(KeyRing::from_keys(1, &[(1, Key::random())]).unwrap());
    let epoch = std::sync::atomic::AtomicU32::new(0);
    conformance::run_durability(&|| {
        let n = epoch.fetch_add(2, std::sync::atomic::Ordering::Relaxed) + 1;
        let journal = dir.path().join("rekey.journal");
        let options = RedbOptions {
            wal,
            ..RedbOptions::default()
        };
        RedbEngine::open_encrypted(&path, options, Arc::clone(&keys), [n, n + 1], &journal)
            .unwrap()
            .0
    });
}

#[test]
fn durability_on_encrypted_file() {
    durability_on_encrypted(false);
}

#[test]
fn durability_on_encrypted_file_with_wal() {
    durability_on_encrypted(true);
}

fn durability_on_plain(wal: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("data.redb");
    let options = RedbOptions {
        wal,
        ..RedbOptions::default()
    };
    conformance::run_durability(&|| RedbEngine::open(&path, options.clone()).unwrap());
}

#[test]
fn durability_on_file() {
    durability_on_plain(false);
}

#[test]
fn durability_on_file_with_wal() {
    durability_on_plain(true);
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
