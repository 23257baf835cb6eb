//! SM3 (GB/T 32905-2016): hashing, HMAC-SM3, and PBKDF2-HMAC-SM3 for passphrase-derived keys.

use hmac::{KeyInit, Mac};
use sm3::Digest;

/// Length of an SM3 digest.
pub const DIGEST_LEN: usize = 32;

/// The SM3 digest of `data`.
pub fn digest(data: &[u8]) -> [u8; DIGEST_LEN] {
    sm3::Sm3::digest(data).into()
}

/// An incremental SM3 hash.
#[derive(Clone, Default)]
pub struct Hasher(sm3::Sm3);

impl Hasher {
    /// A hash of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest of everything added.
    pub fn finish(self) -> [u8; DIGEST_LEN] {
        self.0.finalize().into()
    }
}

/// HMAC-SM3 of `data` under `key`.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; DIGEST_LEN] {
    let mut mac = match hmac::Hmac::<sm3::Sm3>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2 (RFC 8018) with HMAC-SM3 as the pseudorandom function: fills `out` from `password`,
/// `salt` and `rounds` iterations.
pub fn pbkdf2(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<sm3::Sm3>(password, salt, rounds, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unhex;

    /// GB/T 32905-2016, appendix A, example 1: "abc".
    #[test]
    fn gbt_32905_example_1() {
        assert_eq!(
            digest(b"abc").to_vec(),
            unhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0").expect("hex")
        );
    }

    /// GB/T 32905-2016, appendix A, example 2: "abcd" repeated 16 times (two blocks).
    #[test]
    fn gbt_32905_example_2() {
        let message = b"abcd".repeat(16);
        assert_eq!(
            digest(&message).to_vec(),
            unhex("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732").expect("hex")
        );
        let mut incremental = Hasher::new();
        for chunk in message.chunks(7) {
            incremental.update(chunk);
        }
        assert_eq!(incremental.finish(), digest(&message));
    }

    /// HMAC-SM3 computed from its definition (RFC 2104) over SM3 itself.
    #[test]
    fn hmac_matches_its_definition() {
        for key_len in [0, 16, 64, 100] {
            let key: Vec<u8> = (0..key_len as u8).collect();
            let message = b"what do ya want for nothing?";
            let mut block = [0u8; 64];
            if key.len() > 64 {
                block[..32].copy_from_slice(&digest(&key));
            } else {
                block[..key.len()].copy_from_slice(&key);
            }
            let mut inner = Hasher::new();
            inner.update(&block.map(|b| b ^ 0x36));
            inner.update(message);
            let mut outer = Hasher::new();
            outer.update(&block.map(|b| b ^ 0x5c));
            outer.update(&inner.finish());
            assert_eq!(
                hmac(&key, message),
                outer.finish(),
                "key of {key_len} bytes"
            );
        }
    }

    /// PBKDF2's first block is U1 xor U2 xor ... with U1 = HMAC(P, S || INT(1)).
    #[test]
    fn pbkdf2_matches_its_definition() {
        let (password, salt) = (b"passphrase".as_slice(), b"salt".as_slice());
        let mut u = hmac(password, &[salt, &1u32.to_be_bytes()].concat());
        let mut expected = u;
        for _ in 1..3 {
            u = hmac(password, &u);
            for (e, b) in expected.iter_mut().zip(u) {
                *e ^= b;
            }
        }
        let mut out = [0u8; 16];
        pbkdf2(password, salt, 3, &mut out);
        assert_eq!(out, expected[..16]);
    }
}
