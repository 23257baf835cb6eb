//! Small files sealed whole under a data key (for files kept beside the data).
//!
//! ```text
//! magic "ZZSEAL01" · suite u8 · key id u32 · nonce [12] · length u32 · ciphertext · tag [16]
//! ```
//!
//! The associated data is the header plus the file's *purpose* (such as `users`), so a sealed
//! file cannot be passed off as another. Nonces are random: these files are rewritten rarely,
//! far below the 2^32 messages per key that random 96-bit nonces allow. Writes are atomic
//! (temporary file, sync, rename, directory sync). When a data key is rotated, every sealed
//! file of the data directory is re-sealed under the new key ([`reseal_dir`]) before the old
//! key is destroyed.

use std::path::{Path, PathBuf};

use crate::aead::{NONCE_LEN, TAG_LEN};
use crate::keystore::{write_atomically, KeyRing};
use crate::{errformat, errkey, io_error, random_bytes, Error, Result};

const MAGIC: &[u8; 8] = b"ZZSEAL01";
const HEADER_LEN: usize = 8 + 1 + 4 + NONCE_LEN + 4;

/// Seals `plaintext` under the active key of `keys` into `path`, atomically.
pub fn write(path: &Path, purpose: &str, keys: &KeyRing, plaintext: &[u8]) -> Result<()> {
    write_atomically(path, &seal(purpose, keys, plaintext))
}

fn seal(purpose: &str, keys: &KeyRing, plaintext: &[u8]) -> Vec<u8> {
    let (id, cipher) = keys.active();
    let mut nonce = [0u8; NONCE_LEN];
    random_bytes(&mut nonce);
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(crate::aead::Suite::Sm4Gcm as u8);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&(plaintext.len() as u32).to_be_bytes());
    let aad = [&out[..HEADER_LEN], purpose.as_bytes()].concat();
    let mut body = plaintext.to_vec();
    let tag = cipher.seal(&nonce, &aad, &mut body);
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    out
}

/// Whether the file at `path` is a sealed file (by its magic).
pub fn is_sealed(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == MAGIC
}

/// The number of the key that sealed the file at `path`.
pub fn key_id(path: &Path) -> Result<u32> {
    let bytes = std::fs::read(path).map_err(|e| io_error("reading", path, e))?;
    header(path, &bytes).map(|(id, ..)| id)
}

fn header(path: &Path, bytes: &[u8]) -> Result<(u32, [u8; NONCE_LEN], usize)> {
    if bytes.len() < HEADER_LEN + TAG_LEN || &bytes[..8] != MAGIC {
        return Err(errformat!("{} is not a sealed file", path.display()));
    }
    let id = u32::from_be_bytes([bytes[9], bytes[10], bytes[11], bytes[12]]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[13..25]);
    let len = u32::from_be_bytes([bytes[25], bytes[26], bytes[27], bytes[28]]) as usize;
    if bytes.len() != HEADER_LEN + len + TAG_LEN {
        return Err(Error::Authentication(format!(
            "{} is truncated or padded",
            path.display()
        )));
    }
    Ok((id, nonce, len))
}

/// Reads and authenticates the sealed file at `path`, written for `purpose`.
pub fn read(path: &Path, purpose: &str, keys: &KeyRing) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| io_error("reading", path, e))?;
    let (id, nonce, len) = header(path, &bytes)?;
    let cipher = keys.get(id).ok_or_else(|| {
        errkey!(
            "{} is sealed under data key {id}, which this key store does not hold",
            path.display()
        )
    })?;
    let aad = [&bytes[..HEADER_LEN], purpose.as_bytes()].concat();
    let mut body = bytes[HEADER_LEN..HEADER_LEN + len].to_vec();
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&bytes[HEADER_LEN + len..]);
    cipher.open(&nonce, &aad, &mut body, &tag).map_err(|_| {
        Error::Authentication(format!(
            "{} failed authentication: it was altered or damaged",
            path.display()
        ))
    })?;
    Ok(body)
}

/// The sealed files directly in `dir`, with the purpose each was sealed for. A sealed file's
/// purpose is its file name.
fn sealed_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error("listing", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error("listing", dir, e))?.path();
        if path.is_file() && is_sealed(&path) {
            files.push(path);
        }
    }
    Ok(files)
}

/// Re-seals under the active key every sealed file in `dir` that another key sealed, and
/// returns how many were re-sealed. The purpose of each file is its file name.
pub fn reseal_dir(dir: &Path, keys: &KeyRing) -> Result<usize> {
    let (active, _) = keys.active();
    let mut count = 0;
    for path in sealed_files(dir)? {
        if key_id(&path)? == active {
            continue;
        }
        let purpose = purpose_of(&path);
        let plaintext = read(&path, &purpose, keys)?;
        write(&path, &purpose, keys, &plaintext)?;
        count += 1;
    }
    Ok(count)
}

/// The purpose a file at `path` is sealed for: its file name.
pub fn purpose_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::KeyStore;
    use crate::master::MasterSecret;
    use crate::Key;

    fn store(dir: &Path) -> (KeyStore, KeyRing) {
        let store = KeyStore::create(dir, MasterSecret::Key(Key::random())).expect("create");
        let ring = KeyRing::new(&store).expect("ring");
        (store, ring)
    }

    #[test]
    fn write_read_and_tamper() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_store, keys) = store(dir.path());
        let path = dir.path().join("users");
        write(&path, "users", &keys, b"alice secret-verifier").expect("write");
        assert!(is_sealed(&path));
        let bytes = std::fs::read(&path).expect("read");
        assert!(!bytes.windows(5).any(|w| w == b"alice"));
        assert_eq!(
            read(&path, "users", &keys).expect("read"),
            b"alice secret-verifier"
        );
        assert!(
            read(&path, "other", &keys).is_err(),
            "purpose is authenticated"
        );
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            std::fs::write(&path, &bad).expect("write");
            assert!(read(&path, "users", &keys).is_err(), "byte {i}");
        }
        std::fs::write(&path, &bytes[..bytes.len() - 1]).expect("write");
        assert!(read(&path, "users", &keys).is_err(), "truncated");
    }

    #[test]
    fn reseal_moves_files_to_the_new_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, keys) = store(dir.path());
        let path = dir.path().join("users");
        write(&path, "users", &keys, b"payload").expect("write");
        assert_eq!(key_id(&path).expect("id"), 1);
        store.rotate_data_key().expect("rotate");
        keys.refresh(&store).expect("refresh");
        assert_eq!(reseal_dir(dir.path(), &keys).expect("reseal"), 1);
        assert_eq!(key_id(&path).expect("id"), 2);
        store.destroy(1).expect("destroy");
        keys.refresh(&store).expect("refresh");
        assert_eq!(read(&path, "users", &keys).expect("read"), b"payload");
        assert_eq!(reseal_dir(dir.path(), &keys).expect("again"), 0);
    }
}
