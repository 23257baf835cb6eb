#![allow(clippy::unwrap_used)]

use std::path::Path;

use zizhu_crypto::master::KeyFile;
use zizhu_engine::{Durability, Engine, WriteBatch};

use super::*;

const MARKER: &[u8] = b"DATADIR-MARKER-51c0";

fn key_file(path: &Path) -> EncryptionChoice {
    EncryptionChoice::On(Box::new(KeyFile::new(path)))
}

fn options(encryption: EncryptionChoice) -> Options {
    Options {
        encryption,
        cache_size_bytes: 1 << 20,
    }
}

fn put_rows(engine: &RedbEngine, from: u32, count: u32) {
    for chunk in (from..from + count).collect::<Vec<_>>().chunks(100) {
        let mut batch = WriteBatch::new();
        for i in chunk {
            let value = [MARKER, &vec![b'x'; 300]].concat();
            batch.put(format!("row-{i:06}").into_bytes(), value);
        }
        engine.write(batch, Durability::Sync).unwrap();
    }
}

fn count(engine: &RedbEngine) -> usize {
    use std::ops::Bound;
    engine
        .scan(
            (Bound::Unbounded, Bound::Unbounded),
            zizhu_engine::Direction::Forward,
        )
        .unwrap()
        .map(|r| {
            let (_, v) = r.unwrap();
            assert!(v.starts_with(MARKER));
        })
        .count()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_no_marker(dir: &Path) {
    for file in files(dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(MARKER.len()).any(|w| w == MARKER),
            "{} holds the marker in the clear",
            file.display()
        );
    }
}

#[test]
fn initialize_encrypted_then_reopen_with_the_key_only() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let key = root.path().join("master.key");
    {
        let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
        assert!(dir.encrypted());
        assert!(is_encrypted(&data));
        put_rows(&engine, 0, 300);
        dir.write_file("users", [MARKER, b" user"].concat().as_slice())
            .unwrap();
    }
    assert_no_marker(&data);
    let before: Vec<Vec<u8>> = files(&data)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();

    // Another key: refused, nothing written.
    let other = root.path().join("other.key");
    zizhu_crypto::master::KeyProvider::create(&KeyFile::new(&other)).unwrap();
    let err = DataDir::open(&data, options(key_file(&other))).unwrap_err();
    assert!(
        matches!(err, Error::Key(zizhu_crypto::Error::WrongMasterKey(_))),
        "{err:?}"
    );
    // A missing key file is not created for an existing directory.
    let missing = root.path().join("missing.key");
    let err = DataDir::open(&data, options(key_file(&missing))).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!missing.exists());
    // Encryption cannot be switched off.
    let err = DataDir::open(&data, options(EncryptionChoice::Off)).unwrap_err();
    assert!(err.to_string().contains("is encrypted"), "{err}");
    let after: Vec<Vec<u8>> = files(&data)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(before, after, "a refused open changed the directory");

    let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    assert_eq!(count(&engine), 300);
    assert_eq!(
        dir.read_file("users").unwrap().unwrap(),
        [MARKER, b" user"].concat()
    );
}

#[test]
fn a_second_open_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let key = root.path().join("master.key");
    let _open = DataDir::open(&data, options(key_file(&key))).unwrap();
    let err = DataDir::open(&data, options(key_file(&key))).unwrap_err();
    assert!(matches!(err, Error::Locked(_)), "{err:?}");
}

#[test]
fn encryption_off_is_recorded_and_kept() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    {
        let (dir, engine) = DataDir::open(&data, options(EncryptionChoice::Off)).unwrap();
        assert!(!dir.encrypted());
        put_rows(&engine, 0, 10);
    }
    assert!(is_initialized(&data) && !is_encrypted(&data));
    // Opening with a key later does not encrypt it (that would need a re-encryption).
    let key = root.path().join("master.key");
    let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    assert!(!dir.encrypted());
    assert_eq!(count(&engine), 10);
    assert!(!key.exists());
}

#[test]
fn a_foreign_directory_is_not_initialized_over() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("something"), b"else").unwrap();
    let key = root.path().join("..").join("unused.key");
    let err = DataDir::open(root.path(), options(key_file(&key))).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[test]
fn master_key_rotation_reseals_and_survives_a_crash_between_steps() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let key = root.path().join("master.key");
    {
        let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
        put_rows(&engine, 0, 50);
        let old = std::fs::read(&key).unwrap();
        dir.encryption().unwrap().rotate_master_key().unwrap();
        assert_ne!(std::fs::read(&key).unwrap(), old);
        assert!(dir.encryption().unwrap().status().master_rotated.is_some());
    }
    let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    assert_eq!(count(&engine), 50);
    drop((dir, engine));

    // Crash after the key store was re-sealed under the new key, before the new key file was
    // renamed over the old: the next open finds the pending key, opens with it, and finishes.
    let provider = KeyFile::new(&key);
    let next = zizhu_crypto::master::KeyProvider::begin_rotation(&provider).unwrap();
    let mut store = KeyStore::open(
        &data,
        zizhu_crypto::master::KeyProvider::secret(&provider).unwrap(),
    )
    .unwrap();
    store.reseal(next).unwrap();
    drop(store);
    let (_dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    assert_eq!(count(&engine), 50);
    let mut next_path = key.as_os_str().to_owned();
    next_path.push(".next");
    assert!(
        !Path::new(&next_path).exists(),
        "the rotation was completed"
    );
}

#[test]
fn data_key_rotation_reencrypts_everything_and_destroys_the_old_key() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let key = root.path().join("master.key");
    let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    put_rows(&engine, 0, 2000);
    dir.write_file("users", b"sealed under key 1").unwrap();
    let enc = dir.encryption().unwrap();
    let new = enc.rotate_data_key(1024.0).unwrap();
    assert_eq!(new, 2);
    assert!(
        enc.rotate_data_key(1024.0).is_err(),
        "one rotation at a time"
    );
    put_rows(&engine, 2000, 500);
    let status = enc.wait_for_rotation();
    assert_eq!(status.state, "finished", "{status:?}");
    assert!(status.pages_resealed > 0);
    let keys = enc.key_list();
    assert_eq!(
        keys.iter().map(|k| (k.id, k.state)).collect::<Vec<_>>(),
        vec![(1, "destroyed"), (2, "active")]
    );
    assert_eq!(
        zizhu_crypto::sealed::key_id(&data.join("users")).unwrap(),
        2
    );
    assert!(!data.join("rekey.journal").exists());
    drop(dir);
    drop(engine);
    assert_no_marker(&data);
    let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    assert_eq!(count(&engine), 2500);
    assert_eq!(
        dir.read_file("users").unwrap().unwrap(),
        b"sealed under key 1"
    );
}

#[test]
fn an_interrupted_data_key_rotation_resumes_at_the_next_open() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let key = root.path().join("master.key");
    {
        let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
        put_rows(&engine, 0, 3000);
        // Slow enough that it cannot finish before the directory closes.
        dir.encryption().unwrap().rotate_data_key(0.05).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let status = dir.encryption().unwrap().status();
        assert_eq!(status.rotation.state, "running");
        drop(dir);
        drop(engine);
    }
    let (dir, engine) = DataDir::open(&data, options(key_file(&key))).unwrap();
    let enc = dir.encryption().unwrap();
    assert_eq!(enc.status().rotation.state, "running", "resumed");
    assert_eq!(enc.status().rotation.from_key, Some(1));
    assert_eq!(count(&engine), 3000);
    // Resumed at the default rate; it finishes.
    let status = enc.wait_for_rotation();
    assert_eq!(status.state, "finished", "{status:?}");
    assert_eq!(enc.key_list()[0].state, "destroyed");
}
