//! Authenticated encryption behind the project's own trait.
//!
//! [`Aead`] is what every encrypted format uses: detached tags, in-place buffers, a 96-bit
//! nonce the caller supplies. Callers own nonce uniqueness (each format says how it guarantees
//! it); the trait does not hide it, because a repeated GCM nonce under one key loses both
//! confidentiality and integrity.

use std::fmt;

use zeroize::Zeroize;

/// Key length of SM4 (128 bits).
pub const KEY_LEN: usize = 16;
/// Nonce length (96 bits, GCM's natural size).
pub const NONCE_LEN: usize = 12;
/// Authentication tag length (128 bits).
pub const TAG_LEN: usize = 16;

/// Secret key material; wiped from memory when dropped and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; KEY_LEN]);

impl Key {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A key from `slice`, which must be [`KEY_LEN`] bytes.
    pub fn from_slice(slice: &[u8]) -> Option<Self> {
        Some(Self(slice.try_into().ok()?))
    }

    /// A fresh key from the operating system's random number generator.
    pub fn random() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        crate::random_bytes(&mut bytes);
        Self(bytes)
    }

    /// The raw key bytes (for sealing inside a key store; never log them).
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(..)")
    }
}

/// Authentication failed: the ciphertext, tag, nonce or associated data differ from what was
/// sealed, or the key is not the one that sealed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthError;

/// An authenticated cipher with detached tags, operating in place.
pub trait Aead: Send + Sync + fmt::Debug {
    /// Encrypts `buf` in place and returns the tag over it and `aad`.
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN];

    /// Verifies `tag` and decrypts `buf` in place. On failure `buf` is left as ciphertext
    /// (never as unauthenticated plaintext).
    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AuthError>;

    /// The algorithm's name, as shown to users (`SM4-GCM`).
    fn name(&self) -> &'static str;

    /// Which implementation of it runs (`SM4 (AES-NI)`), for status views and benchmarks.
    fn implementation(&self) -> &'static str {
        self.name()
    }
}

/// Ciphers a format can name by number, so that files say which one sealed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Suite {
    /// SM4 in Galois/Counter Mode (RFC 8998).
    Sm4Gcm = 1,
}

impl Suite {
    /// The suite stored as `id`.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Self::Sm4Gcm),
            _ => None,
        }
    }

    /// A cipher of this suite under `key`.
    pub fn cipher(self, key: &Key) -> Box<dyn Aead> {
        match self {
            Self::Sm4Gcm => Box::new(crate::sm4::Sm4Gcm::new(key)),
        }
    }
}
