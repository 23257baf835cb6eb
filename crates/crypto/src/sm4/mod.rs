//! SM4 (GB/T 32907-2016) and SM4-GCM (RFC 8998), the cipher everything on disk is sealed with.
//!
//! [`Sm4Gcm`] is RustCrypto's generic GCM over one of two SM4 block functions:
//!
//! - on x86-64 CPUs with AES-NI and SSSE3, [`ni::Sm4Ni`]: eight blocks at a time through the
//!   AES instruction, constant time;
//! - elsewhere, RustCrypto's table-based `sm4` (about 90 MiB/s per core here).
//!
//! Both compute the same function; tests check them against each other and against the
//! standards' examples. GHASH uses the carry-less multiply instruction where the CPU has it.
//! `zizhu-crypto`'s `throughput` example measures each.

#[cfg(target_arch = "x86_64")]
pub mod ni;
mod sbox;

use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U12;
use aes_gcm::{AeadInOut, KeyInit};

use crate::aead::{Aead, AuthError, Key, NONCE_LEN, TAG_LEN};

/// GCM over the table-based SM4.
type TableGcm = aes_gcm::AesGcm<sm4::Sm4, U12>;
/// GCM over SM4 through AES-NI.
#[cfg(target_arch = "x86_64")]
type NiGcm = aes_gcm::AesGcm<ni::Sm4Ni, U12>;

enum Gcm {
    Table(TableGcm),
    #[cfg(target_arch = "x86_64")]
    Ni(NiGcm),
}

/// SM4 in Galois/Counter Mode with 96-bit nonces and 128-bit tags.
pub struct Sm4Gcm {
    gcm: Gcm,
}

impl Sm4Gcm {
    /// The cipher under `key`, with the fastest SM4 this CPU runs.
    pub fn new(key: &Key) -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(fast) = ni::Sm4Ni::new(key.expose()) {
            return Self {
                gcm: Gcm::Ni(NiGcm::from(fast)),
            };
        }
        Self::table(key)
    }

    /// The cipher under `key` with the table-based SM4, whatever the CPU.
    pub fn table(key: &Key) -> Self {
        Self {
            gcm: Gcm::Table(TableGcm::new(&Array::from(*key.expose()))),
        }
    }

    /// Which SM4 block function it runs.
    pub fn implementation(&self) -> &'static str {
        match self.gcm {
            Gcm::Table(_) => "SM4 (tables)",
            #[cfg(target_arch = "x86_64")]
            Gcm::Ni(_) => "SM4 (AES-NI)",
        }
    }
}

impl std::fmt::Debug for Sm4Gcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4Gcm(..)")
    }
}

impl Aead for Sm4Gcm {
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let nonce = Array::from(*nonce);
        let sealed = match &self.gcm {
            Gcm::Table(gcm) => gcm.encrypt_inout_detached(&nonce, aad, buf.into()),
            #[cfg(target_arch = "x86_64")]
            Gcm::Ni(gcm) => gcm.encrypt_inout_detached(&nonce, aad, buf.into()),
        };
        match sealed {
            Ok(tag) => tag.into(),
            // GCM refuses only messages over 64 GiB or associated data over 2^61 bytes; every
            // caller seals pages and chunks of kilobytes.
            Err(_) => panic!("SM4-GCM refused a message of {} bytes", buf.len()),
        }
    }

    fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AuthError> {
        let (nonce, tag) = (Array::from(*nonce), Array::from(*tag));
        match &self.gcm {
            Gcm::Table(gcm) => gcm.decrypt_inout_detached(&nonce, aad, buf.into(), &tag),
            #[cfg(target_arch = "x86_64")]
            Gcm::Ni(gcm) => gcm.decrypt_inout_detached(&nonce, aad, buf.into(), &tag),
        }
        .map_err(|_| AuthError)
    }

    fn name(&self) -> &'static str {
        "SM4-GCM"
    }

    fn implementation(&self) -> &'static str {
        Sm4Gcm::implementation(self)
    }
}

/// Encrypts one 16-byte block with raw SM4 (for known-answer tests and key check values).
pub fn encrypt_block(key: &Key, block: &mut [u8; 16]) {
    use sm4::cipher::BlockCipherEncrypt;
    let cipher = sm4::Sm4::new(&Array::from(*key.expose()));
    let mut b = Array::from(*block);
    cipher.encrypt_block(&mut b);
    *block = b.into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unhex;

    fn bytes<const N: usize>(hex: &str) -> [u8; N] {
        let v = unhex(hex).expect("hex");
        v.try_into().expect("length")
    }

    /// GB/T 32907-2016, appendix A, example 1: one encryption.
    #[test]
    fn gbt_32907_example_1() {
        let key = Key::from_bytes(bytes("0123456789abcdeffedcba9876543210"));
        let mut block = bytes("0123456789abcdeffedcba9876543210");
        encrypt_block(&key, &mut block);
        assert_eq!(block, bytes::<16>("681edf34d206965e86b3e94f536e4246"));
    }

    /// GB/T 32907-2016, appendix A, example 2: the same block encrypted 1,000,000 times.
    #[test]
    fn gbt_32907_example_2() {
        use sm4::cipher::BlockCipherEncrypt;
        let key = Key::from_bytes(bytes("0123456789abcdeffedcba9876543210"));
        let cipher = sm4::Sm4::new(&Array::from(*key.expose()));
        let mut block = Array::from(bytes::<16>("0123456789abcdeffedcba9876543210"));
        for _ in 0..1_000_000 {
            cipher.encrypt_block(&mut block);
        }
        assert_eq!(
            <[u8; 16]>::from(block),
            bytes::<16>("595298c7c6fd271f0402f804c33d3f66")
        );
    }

    /// RFC 8998, appendix A.1: SM4-GCM, with each block function.
    #[test]
    fn rfc_8998_sm4_gcm() {
        rfc_8998_with(&Sm4Gcm::table);
        rfc_8998_with(&Sm4Gcm::new);
    }

    fn rfc_8998_with(make: &dyn Fn(&Key) -> Sm4Gcm) {
        let key = Key::from_bytes(bytes("0123456789ABCDEFFEDCBA9876543210"));
        let nonce: [u8; 12] = bytes("00001234567800000000ABCD");
        let aad = unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").expect("hex");
        let plaintext = unhex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD\
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        )
        .expect("hex");
        let ciphertext = unhex(
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735\
             D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
        )
        .expect("hex");
        let tag: [u8; 16] = bytes("83DE3541E4C2B58177E065A9BF7B62EC");

        let gcm = make(&key);
        let mut buf = plaintext.clone();
        assert_eq!(
            gcm.seal(&nonce, &aad, &mut buf),
            tag,
            "{}",
            gcm.implementation()
        );
        assert_eq!(buf, ciphertext);
        gcm.open(&nonce, &aad, &mut buf, &tag).expect("authentic");
        assert_eq!(buf, plaintext);
    }

    /// The two block functions seal identically, for every length around the 8-block batches.
    #[test]
    fn both_block_functions_agree() {
        let key = Key::random();
        let (fast, table) = (Sm4Gcm::new(&key), Sm4Gcm::table(&key));
        for len in [0, 1, 15, 16, 17, 127, 128, 129, 255, 4096] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            let nonce = [len as u8; 12];
            let (mut a, mut b) = (data.clone(), data.clone());
            assert_eq!(
                fast.seal(&nonce, b"x", &mut a),
                table.seal(&nonce, b"x", &mut b)
            );
            assert_eq!(a, b, "length {len}");
            let tag = table.seal(&nonce, b"", &mut data.clone());
            let mut c = data.clone();
            fast.seal(&nonce, b"", &mut c);
            table
                .open(&nonce, b"", &mut c, &tag)
                .expect("table opens what the fast one sealed");
            assert_eq!(c, data);
        }
    }

    #[test]
    fn any_change_fails_authentication_and_leaves_ciphertext() {
        let gcm = Sm4Gcm::new(&Key::random());
        let nonce = [7u8; 12];
        let mut sealed = b"four thousand and ninety-six".to_vec();
        let tag = gcm.seal(&nonce, b"aad", &mut sealed);
        for i in 0..sealed.len() {
            let mut buf = sealed.clone();
            buf[i] ^= 0x01;
            assert_eq!(gcm.open(&nonce, b"aad", &mut buf, &tag), Err(AuthError));
            buf[i] ^= 0x01;
            assert_eq!(buf, sealed, "a failed open must not leave plaintext");
        }
        let mut buf = sealed.clone();
        assert!(gcm.open(&nonce, b"aad!", &mut buf, &tag).is_err());
        assert!(gcm.open(&[8u8; 12], b"aad", &mut buf, &tag).is_err());
        let mut bad_tag = tag;
        bad_tag[15] ^= 0x80;
        assert!(gcm.open(&nonce, b"aad", &mut buf, &bad_tag).is_err());
        let other = Sm4Gcm::new(&Key::random());
        assert!(other.open(&nonce, b"aad", &mut buf, &tag).is_err());
        gcm.open(&nonce, b"aad", &mut buf, &tag).expect("authentic");
        assert_eq!(buf, b"four thousand and ninety-six");
    }
}
