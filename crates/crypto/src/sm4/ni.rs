//! SM4 through the AES instruction: eight blocks at a time, constant time.
//!
//! SM4's S-box is the AES S-box between two affine maps (see `sbox.rs`). With the state of
//! four blocks transposed so that one SSE register holds the same word of each block, a round
//! is: XOR three words and the round key; the `pre` map by two nibble lookups (`pshufb`); the
//! AES S-box by `aesenclast` with a zero key, after undoing its ShiftRows; the `post` map by
//! two more lookups; SM4's linear map `L` by byte shuffles and shifts. Two groups of four are
//! interleaved so the instructions' latencies overlap. No table is indexed by secret data, so
//! there is no cache-timing leak (the RustCrypto SM4 uses 256-entry tables).
//!
//! Used where the CPU has AES-NI and SSSE3 (every x86-64 server since about 2010, Hygon and
//! Zhaoxin included); elsewhere the table-based cipher is used. GCM only encrypts, so this is
//! an encryption-only block cipher for the generic GCM.

#![allow(unsafe_code)]

use std::arch::x86_64::*;

use aes_gcm::aead::consts::{U16, U8};
use sm4::cipher::{
    inout::InOut, Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt,
    BlockSizeUser, ParBlocks, ParBlocksSizeUser,
};

use super::sbox;

/// SM4 encryption with AES-NI; see the [module docs](self).
#[derive(Clone)]
pub struct Sm4Ni {
    rk: [u32; 32],
    consts: Consts,
}

#[derive(Clone, Copy)]
struct Consts {
    pre_lo: [u8; 16],
    pre_hi: [u8; 16],
    post_lo: [u8; 16],
    post_hi: [u8; 16],
}

impl Sm4Ni {
    /// The cipher under `key`, if this CPU has AES-NI and SSSE3.
    pub fn new(key: &[u8; 16]) -> Option<Self> {
        if !(std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("ssse3"))
        {
            return None;
        }
        let t = sbox::tables();
        Some(Self {
            rk: sbox::round_keys(key),
            consts: Consts {
                pre_lo: t.pre_lo,
                pre_hi: t.pre_hi,
                post_lo: t.post_lo,
                post_hi: t.post_hi,
            },
        })
    }

    /// Encrypts eight blocks in place.
    fn encrypt8(&self, blocks: &mut [[u8; 16]; 8]) {
        // SAFETY: `new` returned this value only after checking that the CPU has the AES and
        // SSSE3 instructions `encrypt8_ni` is compiled for.
        unsafe { encrypt8_ni(&self.rk, &self.consts, blocks) }
    }
}

impl Drop for Sm4Ni {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.rk);
    }
}

impl std::fmt::Debug for Sm4Ni {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm4Ni(..)")
    }
}

impl BlockSizeUser for Sm4Ni {
    type BlockSize = U16;
}

impl ParBlocksSizeUser for Sm4Ni {
    type ParBlocksSize = U8;
}

impl BlockCipherEncrypt for Sm4Ni {
    fn encrypt_with_backend(&self, f: impl BlockCipherEncClosure<BlockSize = Self::BlockSize>) {
        f.call(self)
    }
}

impl BlockCipherEncBackend for Sm4Ni {
    fn encrypt_block(&self, mut block: InOut<'_, '_, Block<Self>>) {
        let mut eight = [[0u8; 16]; 8];
        eight[0].copy_from_slice(block.get_in());
        self.encrypt8(&mut eight);
        block.get_out().copy_from_slice(&eight[0]);
    }

    fn encrypt_par_blocks(&self, mut blocks: InOut<'_, '_, ParBlocks<Self>>) {
        let mut eight = [[0u8; 16]; 8];
        for (i, b) in eight.iter_mut().enumerate() {
            b.copy_from_slice(blocks.get(i).get_in());
        }
        self.encrypt8(&mut eight);
        for (i, b) in eight.iter().enumerate() {
            blocks.get(i).get_out().copy_from_slice(b);
        }
    }
}

/// Byte shuffles on 32-bit lanes (little-endian): byte swap, and rotations left by 8, 16 and 24
/// bits; and AES's inverse ShiftRows on the 16 bytes.
const BSWAP32: [u8; 16] = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12];
const ROL8: [u8; 16] = [3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14];
const ROL16: [u8; 16] = [2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13];
const ROL24: [u8; 16] = [1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12];
/// Byte `r + 4c` (row r, column c) takes byte `r + 4((c - r) mod 4)`.
const INV_SHIFT_ROWS: [u8; 16] = [0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3];

/// # Safety
/// The CPU must have SSE2, SSSE3 and AES-NI.
#[target_feature(enable = "sse2,ssse3,aes")]
unsafe fn encrypt8_ni(rk: &[u32; 32], c: &Consts, blocks: &mut [[u8; 16]; 8]) {
    let load = |bytes: &[u8; 16]| _mm_loadu_si128(bytes.as_ptr().cast());
    let bswap = load(&BSWAP32);
    let rol8 = load(&ROL8);
    let rol16 = load(&ROL16);
    let rol24 = load(&ROL24);
    let inv_shift_rows = load(&INV_SHIFT_ROWS);
    let (pre_lo, pre_hi) = (load(&c.pre_lo), load(&c.pre_hi));
    let (post_lo, post_hi) = (load(&c.post_lo), load(&c.post_hi));
    let low_nibbles = _mm_set1_epi8(0x0f);
    let zero = _mm_setzero_si128();

    let sbox = |x: __m128i| {
        let lo = _mm_and_si128(x, low_nibbles);
        let hi = _mm_and_si128(_mm_srli_epi16(x, 4), low_nibbles);
        let y = _mm_xor_si128(_mm_shuffle_epi8(pre_lo, lo), _mm_shuffle_epi8(pre_hi, hi));
        let y = _mm_aesenclast_si128(_mm_shuffle_epi8(y, inv_shift_rows), zero);
        let lo = _mm_and_si128(y, low_nibbles);
        let hi = _mm_and_si128(_mm_srli_epi16(y, 4), low_nibbles);
        _mm_xor_si128(_mm_shuffle_epi8(post_lo, lo), _mm_shuffle_epi8(post_hi, hi))
    };
    // L(b) = b ^ b<<<2 ^ b<<<10 ^ b<<<18 ^ b<<<24 = b ^ b<<<24 ^ (b ^ b<<<8 ^ b<<<16)<<<2.
    let linear = |b: __m128i| {
        let a = _mm_xor_si128(
            _mm_xor_si128(b, _mm_shuffle_epi8(b, rol8)),
            _mm_shuffle_epi8(b, rol16),
        );
        let a = _mm_or_si128(_mm_slli_epi32(a, 2), _mm_srli_epi32(a, 30));
        _mm_xor_si128(_mm_xor_si128(b, _mm_shuffle_epi8(b, rol24)), a)
    };
    // Four blocks → four registers, register i holding word i of each block (native order).
    let transpose = |b: [__m128i; 4]| {
        let t0 = _mm_unpacklo_epi32(b[0], b[1]);
        let t1 = _mm_unpacklo_epi32(b[2], b[3]);
        let t2 = _mm_unpackhi_epi32(b[0], b[1]);
        let t3 = _mm_unpackhi_epi32(b[2], b[3]);
        [
            _mm_unpacklo_epi64(t0, t1),
            _mm_unpackhi_epi64(t0, t1),
            _mm_unpacklo_epi64(t2, t3),
            _mm_unpackhi_epi64(t2, t3),
        ]
    };

    let mut a = transpose(std::array::from_fn(|i| {
        _mm_shuffle_epi8(load(&blocks[i]), bswap)
    }));
    let mut b = transpose(std::array::from_fn(|i| {
        _mm_shuffle_epi8(load(&blocks[4 + i]), bswap)
    }));
    for key in rk {
        let k = _mm_set1_epi32(*key as i32);
        let ta = _mm_xor_si128(_mm_xor_si128(a[1], a[2]), _mm_xor_si128(a[3], k));
        let tb = _mm_xor_si128(_mm_xor_si128(b[1], b[2]), _mm_xor_si128(b[3], k));
        let na = _mm_xor_si128(a[0], linear(sbox(ta)));
        let nb = _mm_xor_si128(b[0], linear(sbox(tb)));
        a = [a[1], a[2], a[3], na];
        b = [b[1], b[2], b[3], nb];
    }
    // The output is (X35, X34, X33, X32): the words in reverse.
    let a = transpose([a[3], a[2], a[1], a[0]]);
    let b = transpose([b[3], b[2], b[1], b[0]]);
    for (i, v) in a.iter().chain(b.iter()).enumerate() {
        _mm_storeu_si128(blocks[i].as_mut_ptr().cast(), _mm_shuffle_epi8(*v, bswap));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sm4_reference(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
        use aes_gcm::aead::array::Array;
        use sm4::cipher::{BlockCipherEncrypt, KeyInit};
        let cipher = sm4::Sm4::new(&Array::from(*key));
        let mut b = Array::from(*block);
        BlockCipherEncrypt::encrypt_block(&cipher, &mut b);
        b.into()
    }

    #[test]
    fn agrees_with_the_table_cipher_and_the_scalar_rounds() {
        let Some(_) = Sm4Ni::new(&[0; 16]) else {
            eprintln!("no AES-NI here: nothing to test");
            return;
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200 {
            let mut key = [0u8; 16];
            key[..8].copy_from_slice(&next().to_le_bytes());
            key[8..].copy_from_slice(&next().to_le_bytes());
            let cipher = Sm4Ni::new(&key).expect("AES-NI");
            let mut blocks = [[0u8; 16]; 8];
            for b in &mut blocks {
                b[..8].copy_from_slice(&next().to_le_bytes());
                b[8..].copy_from_slice(&next().to_le_bytes());
            }
            let plain = blocks;
            cipher.encrypt8(&mut blocks);
            let rk = sbox::round_keys(&key);
            for (p, c) in plain.iter().zip(&blocks) {
                assert_eq!(*c, sm4_reference(&key, p));
                assert_eq!(*c, sbox::encrypt_block(&rk, p));
            }
        }
    }
}
