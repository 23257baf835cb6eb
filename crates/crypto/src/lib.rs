//! ZizhuDB's cryptography: China's national algorithms behind the project's own traits, the key
//! hierarchy, and the file formats that keep everything on disk encrypted and authenticated.
//!
//! # Algorithms
//!
//! | algorithm | standard | here |
//! |---|---|---|
//! | SM3 hash, HMAC-SM3, PBKDF2-HMAC-SM3 | GB/T 32905-2016 | [`sm3`] |
//! | SM4 block cipher, SM4-GCM | GB/T 32907-2016, RFC 8998 | [`sm4`] |
//! | SM2 signatures | GB/T 32918-2016 | [`sm2`] |
//! | SCRAM-SHA-256 password verifiers | RFC 5802, RFC 7677 | [`scram`] |
//!
//! The implementations are RustCrypto's `sm2`, `sm3`, `sm4` and generic GCM crates. They are
//! unaudited and the SM4 cipher is table-based, so every user of this crate goes through the
//! [`Aead`] trait (or the functions of [`sm3`] and [`sm2`]) rather than the crates themselves:
//! a faster constant-time or certified implementation replaces one module, nothing else.
//! Each algorithm carries known-answer tests from its standard.
//!
//! # Keys
//!
//! The master key lives outside the data directory: in a key file, an environment variable,
//! derived from a passphrase (PBKDF2-HMAC-SM3), or returned by an external command; a
//! [`KeyProvider`](master::KeyProvider) supplies it, which is the plug-in point for a KMS. It
//! never encrypts data itself: it seals the [`KeyStore`](keystore::KeyStore), which holds the
//! data keys that do. Rotating the master key re-seals the key store at once; rotating a data
//! key means re-encrypting what it sealed, after which it is destroyed.
//!
//! # Formats
//!
//! - [`keystore`]: the data keys, sealed under the master key.
//! - [`sealed`]: small files kept beside the data, sealed whole under a data key.
//! - [`stream`]: temporary files (sorts and hash joins spilling past `work_mem`) as a sequence
//!   of sealed chunks under a key that exists only in memory, for the life of the file.
//!
//! Data and index pages are sealed one by one by the storage engine's encrypting backend,
//! which uses [`Aead`] directly. `docs/architecture/encryption.md` describes every format.

pub mod aead;
pub mod keystore;
pub mod master;
pub mod scram;
pub mod sealed;
pub mod sm2;
pub mod sm3;
pub mod sm4;
pub mod stream;

pub use aead::{Aead, Key, KEY_LEN, NONCE_LEN, TAG_LEN};

/// An error of the cryptography layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Sealed data failed authentication: it was altered, truncated, or sealed under another
    /// key.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// The master key given does not open the key store.
    #[error("{0}")]
    WrongMasterKey(String),
    /// A key is missing or unusable (no master key configured, a key file in the wrong format,
    /// a data key that was destroyed).
    #[error("{0}")]
    Key(String),
    /// A file is not in the expected format.
    #[error("invalid format: {0}")]
    Format(String),
    /// The file system failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// An invariant was broken: this is a bug.
    #[error("internal error (this is a bug): {0}")]
    Internal(String),
}

/// Result of the cryptography layer.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error::Format`] from a format string.
#[macro_export]
macro_rules! errformat {
    ($($args:tt)*) => { $crate::Error::Format(format!($($args)*)) };
}

/// Builds an [`Error::Key`] from a format string.
#[macro_export]
macro_rules! errkey {
    ($($args:tt)*) => { $crate::Error::Key(format!($($args)*)) };
}

/// An [`Error::Io`] naming what was being done to which path.
pub(crate) fn io_error(what: &str, path: &std::path::Path, err: std::io::Error) -> Error {
    Error::Io(format!("{what} {}: {err}", path.display()))
}

/// Fills `buf` from the operating system's random number generator.
pub fn random_bytes(buf: &mut [u8]) {
    use rand::TryRngCore;
    // The OS generator fails only if the kernel cannot supply entropy at all; there is no safe
    // fallback for key material.
    if let Err(e) = rand::rngs::OsRng.try_fill_bytes(buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Decodes hex (either case); `None` for odd lengths or non-hex characters.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn random_bytes_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        random_bytes(&mut a);
        random_bytes(&mut b);
        assert_ne!(a, b);
    }
}
