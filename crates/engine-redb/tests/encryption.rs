//! The encrypting backend on real files: nothing in the clear, tampering detected and never
//! returned as data, wrong keys refused, and data key rotation while writes go on, including
//! recovery from a rotation torn by a crash.

#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zizhu_crypto::keystore::KeyRing;
use zizhu_crypto::Key;
use zizhu_engine::{Direction, Durability, Engine, Error, WriteBatch};
use zizhu_engine_redb::{EncryptedFile, FileBackend, RedbEngine, RedbOptions};

const MARKER: &[u8] = b"MARKER-7f3a9c-ZIZHU";

struct Dir {
    dir: tempfile::TempDir,
    epoch: u32,
}

impl Dir {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            epoch: 0,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data.redb")
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("rekey.journal")
    }

    fn open(
        &mut self,
        keys: &Arc<KeyRing>,
    ) -> zizhu_engine::Result<(RedbEngine, Arc<EncryptedFile<FileBackend>>)> {
        self.epoch += 1;
        let options = RedbOptions {
            cache_size_bytes: 1 << 20,
            ..RedbOptions::default()
        };
        RedbEngine::open_encrypted(
            &self.data(),
            options,
            Arc::clone(keys),
            [self.epoch, 0],
            &self.journal(),
        )
        .map(|(engine, mut files)| (engine, files.remove(0).0))
    }
}

fn ring(keys: &[(u32, &Key)], active: u32) -> Arc<KeyRing> {
    let keys: Vec<(u32, Key)> = keys.iter().map(|(id, k)| (*id, (*k).clone())).collect();
    Arc::new(KeyRing::from_keys(active, &keys).unwrap())
}

/// Rows whose keys and values carry the marker, some spanning several pages.
fn rows() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..400u32)
        .map(|i| {
            let key = [MARKER, format!("-key-{i:05}").as_bytes()].concat();
            let len = if i % 50 == 0 { 9000 } else { 60 };
            let mut value = [MARKER, format!("-value-{i}-").as_bytes()].concat();
            value.resize(len, b'v');
            (key, value)
        })
        .collect()
}

fn load(engine: &RedbEngine) {
    for chunk in rows().chunks(50) {
        let mut batch = WriteBatch::new();
        for (k, v) in chunk {
            batch.put(k.clone(), v.clone());
        }
        engine.write(batch, Durability::Sync).unwrap();
    }
}

fn all(engine: &RedbEngine) -> zizhu_engine::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    engine
        .scan((Bound::Unbounded, Bound::Unbounded), Direction::Forward)?
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A directory holding the [`rows`] under a fresh key, closed.
fn loaded() -> (Dir, Arc<KeyRing>) {
    let mut dir = Dir::new();
    let keys = ring(&[(1, &Key::random())], 1);
    let (engine, _) = dir.open(&keys).unwrap();
    load(&engine);
    drop(engine);
    (dir, keys)
}

#[test]
fn nothing_is_stored_in_the_clear() {
    let mut dir = Dir::new();
    let key = Key::random();
    let keys = ring(&[(1, &key)], 1);
    let (engine, _) = dir.open(&keys).unwrap();
    load(&engine);
    drop(engine);
    let bytes = std::fs::read(dir.data()).unwrap();
    assert!(bytes.len() > 400 * 60);
    assert!(!contains(&bytes, MARKER), "the marker is in the data file");
    assert!(
        !contains(&bytes, b"vvvvvvvvvvvvvvvv"),
        "padding is in the clear"
    );
    assert!(
        !contains(&bytes, b"redb"),
        "redb's magic number is in the clear"
    );
    assert!(
        !contains(&bytes, key.expose()),
        "the key is in the data file"
    );
    let (engine, _) = dir.open(&keys).unwrap();
    assert_eq!(all(&engine).unwrap(), rows());
}

#[test]
fn a_wrong_key_is_refused_and_changes_nothing() {
    let (mut dir, keys) = loaded();
    let before = std::fs::read(dir.data()).unwrap();
    let wrong = ring(&[(1, &Key::random())], 1);
    match dir.open(&wrong) {
        Err(Error::Corruption(message)) => {
            assert!(message.contains("failed authentication"), "{message}")
        }
        Err(other) => panic!("wrong key gave {other:?}"),
        Ok(_) => panic!("a wrong key opened the database"),
    }
    assert_eq!(
        std::fs::read(dir.data()).unwrap(),
        before,
        "the file was changed"
    );
    let (engine, _) = dir.open(&keys).unwrap();
    assert_eq!(all(&engine).unwrap(), rows());
}

#[test]
fn a_plaintext_file_is_not_opened_as_encrypted() {
    let mut dir = Dir::new();
    let plain = RedbEngine::open(&dir.data(), RedbOptions::default()).unwrap();
    load(&plain);
    drop(plain);
    let keys = ring(&[(1, &Key::random())], 1);
    let err = dir.open(&keys).expect_err("refused");
    assert!(err.to_string().contains("not an encrypted"), "{err}");
}

/// Flips one byte at many places of the file at rest. Each time, opening and reading either
/// fails with a corruption error or returns exactly the rows written (the flip hit a page that
/// is not in use); never different rows, never a panic.
#[test]
fn tampering_is_detected_and_never_returned_as_data() {
    let (mut dir, keys) = loaded();
    let good = std::fs::read(dir.data()).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let (mut detected, mut harmless) = (0, 0);
    // The header slot first: always in use, so always detected.
    let mut positions = vec![4096 + 10];
    positions.extend((0..120).map(|_| rng.random_range(4096..good.len())));
    for (i, &at) in positions.iter().enumerate() {
        let mut bad = good.clone();
        bad[at] ^= 1 << rng.random_range(0..8);
        std::fs::write(dir.data(), &bad).unwrap();
        let outcome = dir.open(&keys).and_then(|(engine, _)| all(&engine));
        match outcome {
            Ok(rows_read) => {
                assert!(i > 0, "an altered header was not detected");
                assert_eq!(rows_read, rows(), "byte {at}: altered data was returned");
                harmless += 1;
            }
            Err(Error::Corruption(message)) => {
                assert!(
                    message.contains("failed authentication") || message.contains("never written"),
                    "byte {at}: {message}"
                );
                detected += 1;
            }
            Err(other) => panic!("byte {at}: expected a corruption error, got {other:?}"),
        }
    }
    std::fs::write(dir.data(), &good).unwrap();
    // Much of the file is free space redb has not used (yet), where a flip is harmless.
    assert!(detected >= 10, "{detected} detected, {harmless} harmless");
    let (engine, _) = dir.open(&keys).unwrap();
    assert_eq!(all(&engine).unwrap(), rows());
}

#[test]
fn zeroed_and_truncated_files_are_corruption() {
    let (mut dir, keys) = loaded();
    let good = std::fs::read(dir.data()).unwrap();
    let mut zeroed = good.clone();
    for b in &mut zeroed[8192..] {
        *b = 0;
    }
    std::fs::write(dir.data(), &zeroed).unwrap();
    let err = dir.open(&keys).and_then(|(e, _)| all(&e)).unwrap_err();
    assert!(matches!(err, Error::Corruption(_)), "{err:?}");
    std::fs::write(dir.data(), &good[..good.len() / 2]).unwrap();
    let err = dir.open(&keys).and_then(|(e, _)| all(&e)).unwrap_err();
    assert!(matches!(err, Error::Corruption(_)), "{err:?}");
}

/// Every slot's key, for pages 0..pages.
fn slot_keys(file: &EncryptedFile<FileBackend>) -> Vec<Option<u32>> {
    (0..file.pages().unwrap())
        .map(|p| file.slot_key(p).unwrap())
        .collect()
}

fn rekey_all(file: &EncryptedFile<FileBackend>, journal: &Path) -> u64 {
    let mut resealed = 0;
    let pages = file.pages().unwrap();
    let mut first = 0;
    while first < pages {
        let end = (first + 16).min(pages);
        let batch = file.rekey(first, end, journal).unwrap();
        assert!(batch.unreadable.is_empty());
        resealed += batch.resealed;
        first = end;
    }
    resealed
}

#[test]
fn rotation_reseals_every_page_while_writes_go_on() {
    let mut dir = Dir::new();
    let (old, new) = (Key::random(), Key::random());
    let keys = ring(&[(1, &old)], 1);
    let (engine, file) = dir.open(&keys).unwrap();
    load(&engine);
    assert!(slot_keys(&file).iter().all(|k| *k != Some(2)));

    keys.replace(2, &[(1, old.clone()), (2, new.clone())])
        .unwrap();
    let engine = Arc::new(engine);
    let writer = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || {
            for i in 0..200u32 {
                let mut batch = WriteBatch::new();
                batch.put(format!("during-{i:04}").into_bytes(), vec![b'd'; 500]);
                batch.delete([MARKER, format!("-key-{:05}", i * 2).as_bytes()].concat());
                engine.write(batch, Durability::Sync).unwrap();
            }
        })
    };
    let resealed = rekey_all(&file, &dir.journal());
    writer.join().unwrap();
    // Pages the writer added while the pass ran are sealed under key 2 already; a second pass
    // over a finished rotation finds nothing.
    assert!(resealed > 0);
    assert_eq!(rekey_all(&file, &dir.journal()), 0);
    assert!(
        slot_keys(&file).iter().all(|k| *k != Some(1)),
        "a slot is still under the old key"
    );
    assert!(!dir.journal().exists() || std::fs::metadata(dir.journal()).unwrap().len() > 0);

    // The old key is destroyed: everything still reads.
    let expected = all(&engine).unwrap();
    assert_eq!(expected.len(), 400 - 200 + 200);
    drop(file);
    drop(Arc::try_unwrap(engine).unwrap_or_else(|_| panic!("the writer holds the engine")));
    let without_old = ring(&[(2, &new)], 2);
    let (engine, _) = dir.open(&without_old).unwrap();
    assert_eq!(all(&engine).unwrap(), expected);
}

/// A power loss while a rotation rewrites pages in place: the batch's journal was synced, then
/// one in-place slot was torn. Opening restores it from the journal and empties the journal;
/// without the journal the same tear is reported as corruption.
#[test]
fn a_slot_torn_during_rotation_is_restored_from_the_journal() {
    let mut dir = Dir::new();
    let (old, new) = (Key::random(), Key::random());
    let keys = ring(&[(1, &old)], 1);
    let (engine, file) = dir.open(&keys).unwrap();
    load(&engine);
    let expected = all(&engine).unwrap();
    keys.replace(2, &[(1, old.clone()), (2, new.clone())])
        .unwrap();
    let pages = file.pages().unwrap();
    let batch = file.rekey(0, pages, &dir.journal()).unwrap();
    assert!(batch.resealed > 10);
    // The files as a power loss right after the batch would leave them (rekey synced both).
    let data = std::fs::read(dir.data()).unwrap();
    let journal = std::fs::read(dir.journal()).unwrap();
    let resealed: Vec<u64> = (1..pages)
        .filter(|p| file.slot_key(*p).unwrap() == Some(2))
        .collect();
    drop(file);
    drop(engine);

    let both = ring(&[(1, &old), (2, &new)], 2);
    let mut proved = false;
    for page in resealed {
        // Torn: the first sector of the new slot reached the disk, the rest is garbage.
        let mut torn = data.clone();
        let slot = (8192 + (page - 1) * 4128) as usize;
        for b in &mut torn[slot + 512..slot + 4128] {
            *b ^= 0x5a;
        }
        let mut without = Dir::new();
        std::fs::write(without.data(), &torn).unwrap();
        if without.open(&both).and_then(|(e, _)| all(&e)).is_ok() {
            continue; // a page no longer in use; try one that is
        }
        let mut with = Dir::new();
        std::fs::write(with.data(), &torn).unwrap();
        std::fs::write(with.journal(), &journal).unwrap();
        let (engine, _) = with.open(&both).unwrap();
        assert_eq!(all(&engine).unwrap(), expected, "page {page}");
        assert!(!with.journal().exists(), "recovery empties the journal");
        proved = true;
        break;
    }
    assert!(proved, "no resealed page was in use");
}
