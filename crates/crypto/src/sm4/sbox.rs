//! The SM4 S-box from its algebraic structure, its key schedule, and the S-box expressed through
//! the AES S-box, so that the AES instruction can compute it (see [`super::ni`]).
//!
//! The SM4 S-box is `S(x) = L(I(L(x)))`: `I` is inversion in GF(2^8) modulo
//! `x^8+x^7+x^6+x^5+x^4+x^2+1`, `L(x) = A·x ⊕ 0xD3` with `A` the circulant matrix whose first
//! row is `11100101` (Liu, Ji, Hu, Chen, *Analysis of the SMS4 block cipher*, ACISP 2007).
//! The AES S-box is an affine map after inversion modulo `x^8+x^4+x^3+x+1`. The two fields are
//! isomorphic by a linear map `Φ`, so `S = post ∘ S_AES ∘ pre` with `pre = Φ ∘ L` and
//! `post = L ∘ Φ⁻¹ ∘ aff_AES⁻¹`, both affine. Everything here is computed, not copied: the
//! S-box is checked against the first row of the standard's table, the whole cipher against
//! GB/T 32907's examples and against RustCrypto's implementation.

use std::sync::OnceLock;

/// A linear map on bytes: the images of the eight basis bytes `1 << i`.
type Linear = [u8; 8];

fn apply(m: &Linear, x: u8) -> u8 {
    (0..8)
        .filter(|i| x >> i & 1 == 1)
        .fold(0, |acc, i| acc ^ m[i])
}

fn compose(outer: &Linear, inner: &Linear) -> Linear {
    inner.map(|v| apply(outer, v))
}

fn invert(m: &Linear) -> Option<Linear> {
    let mut inverse = [0u8; 256];
    let mut seen = [false; 256];
    for x in 0..=255u8 {
        let y = apply(m, x) as usize;
        if seen[y] {
            return None;
        }
        seen[y] = true;
        inverse[y] = x;
    }
    Some(std::array::from_fn(|i| inverse[1 << i]))
}

/// Product in GF(2^8) modulo `poly` (with the x^8 bit).
fn mul(mut a: u8, mut b: u8, poly: u16) -> u8 {
    let mut product = 0u8;
    while b != 0 {
        if b & 1 == 1 {
            product ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= (poly & 0xff) as u8;
        }
        b >>= 1;
    }
    product
}

/// Inverse in GF(2^8) modulo `poly` (0 for 0): `a^254`.
fn inverse(a: u8, poly: u16) -> u8 {
    let mut result = 1u8;
    let mut power = a;
    let mut e = 254u8;
    while e != 0 {
        if e & 1 == 1 {
            result = mul(result, power, poly);
        }
        power = mul(power, power, poly);
        e >>= 1;
    }
    if a == 0 {
        0
    } else {
        result
    }
}

const SM4_POLY: u16 = 0x1f5;
const AES_POLY: u16 = 0x11b;
/// Rows of SM4's matrix `A`, most significant bit first.
const A_ROWS: [u8; 8] = [
    0b1110_0101,
    0b1111_0010,
    0b0111_1001,
    0b1011_1100,
    0b0101_1110,
    0b0010_1111,
    0b1001_0111,
    0b1100_1011,
];
/// The first sixteen entries of the S-box table in GB/T 32907, to pick the bit ordering of
/// `A` and the constant (the papers write matrices in different conventions).
const SBOX_ROW_0: [u8; 16] = [
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
];

/// `A` as a linear map, in one of the four bit orderings.
fn matrix_a(out_msb_first: bool, in_msb_first: bool) -> Linear {
    std::array::from_fn(|input| {
        let column = if in_msb_first { 7 - input } else { input };
        (0..8).fold(0u8, |image, row| {
            let bit = A_ROWS[row] >> (7 - column) & 1;
            let out = if out_msb_first { 7 - row } else { row };
            image | bit << out
        })
    })
}

/// What the AES instruction path needs, and the scalar S-box for the key schedule.
pub(crate) struct Tables {
    /// The SM4 S-box.
    pub sbox: [u8; 256],
    /// `pre` as nibble tables: `pre(x) = pre_lo[x & 15] ^ pre_hi[x >> 4]`.
    pub pre_lo: [u8; 16],
    pub pre_hi: [u8; 16],
    /// `post` as nibble tables.
    pub post_lo: [u8; 16],
    pub post_hi: [u8; 16],
}

/// The tables, computed once.
pub(crate) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(compute)
}

fn nibble_tables(f: impl Fn(u8) -> u8) -> ([u8; 16], [u8; 16]) {
    let constant = f(0);
    let lo = std::array::from_fn(|n| f(n as u8));
    let hi = std::array::from_fn(|n| f((n as u8) << 4) ^ constant);
    (lo, hi)
}

fn compute() -> Tables {
    // The bit ordering under which the algebraic S-box reproduces the standard's table.
    let mut found = None;
    'search: for out_msb in [false, true] {
        for in_msb in [false, true] {
            for constant in [0xd3u8, 0xcb] {
                let a = matrix_a(out_msb, in_msb);
                let l = |x: u8| apply(&a, x) ^ constant;
                if (0..16).all(|x| l(inverse(l(x as u8), SM4_POLY)) == SBOX_ROW_0[x]) {
                    found = Some((a, constant));
                    break 'search;
                }
            }
        }
    }
    let Some((a, c)) = found else {
        unreachable!("no bit ordering of SM4's affine map reproduces the standard S-box")
    };
    let l = |x: u8| apply(&a, x) ^ c;
    let sbox: [u8; 256] = std::array::from_fn(|x| l(inverse(l(x as u8), SM4_POLY)));

    // AES: S_AES(x) = aff(I_AES(x)) ^ 0x63.
    let aff: Linear = std::array::from_fn(|i| aes_affine(1 << i));
    let aff_inverse =
        invert(&aff).unwrap_or_else(|| unreachable!("AES's affine map is invertible"));

    // Φ: x ↦ β^x for a root β of SM4's polynomial in AES's field.
    let sm4_poly_at = |beta: u8| {
        let mut power = 1u8;
        let mut value = 0u8;
        for i in 0..=8 {
            if SM4_POLY >> i & 1 == 1 {
                value ^= power;
            }
            power = mul(power, beta, AES_POLY);
        }
        value
    };
    let beta = (2..=255u8)
        .find(|b| sm4_poly_at(*b) == 0)
        .unwrap_or_else(|| unreachable!("SM4's polynomial has a root in AES's field"));
    let mut phi: Linear = [0; 8];
    let mut power = 1u8;
    for image in &mut phi {
        *image = power;
        power = mul(power, beta, AES_POLY);
    }
    let phi_inverse = invert(&phi).unwrap_or_else(|| unreachable!("Φ is invertible"));

    let pre_linear = compose(&phi, &a);
    let pre = |x: u8| apply(&pre_linear, x) ^ apply(&phi, c);
    let post_linear = compose(&a, &compose(&phi_inverse, &aff_inverse));
    let post = |y: u8| apply(&post_linear, y ^ 0x63) ^ c;
    let (pre_lo, pre_hi) = nibble_tables(pre);
    let (post_lo, post_hi) = nibble_tables(post);
    Tables {
        sbox,
        pre_lo,
        pre_hi,
        post_lo,
        post_hi,
    }
}

/// The linear part of AES's affine map: bit i of the result is
/// `b_i ^ b_(i+4) ^ b_(i+5) ^ b_(i+6) ^ b_(i+7)` (indices mod 8).
fn aes_affine(b: u8) -> u8 {
    b ^ b.rotate_right(4) ^ b.rotate_right(5) ^ b.rotate_right(6) ^ b.rotate_right(7)
}

/// The AES S-box, computed (for tests of the construction).
#[cfg(test)]
fn aes_sbox(x: u8) -> u8 {
    aes_affine(inverse(x, AES_POLY)) ^ 0x63
}

/// SM4's τ: the S-box on each byte of a word.
fn tau(tables: &Tables, word: u32) -> u32 {
    u32::from_be_bytes(word.to_be_bytes().map(|b| tables.sbox[b as usize]))
}

/// The 32 round keys of `key` (GB/T 32907, section 7.3).
pub(crate) fn round_keys(key: &[u8; 16]) -> [u32; 32] {
    const FK: [u32; 4] = [0xa3b1_bac6, 0x56aa_3350, 0x677d_9197, 0xb270_22dc];
    let tables = tables();
    let ck = |i: usize| u32::from_be_bytes(std::array::from_fn(|j| ((4 * i + j) * 7 % 256) as u8));
    let word =
        |i: usize| u32::from_be_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]]);
    let mut k = [
        word(0) ^ FK[0],
        word(1) ^ FK[1],
        word(2) ^ FK[2],
        word(3) ^ FK[3],
    ];
    std::array::from_fn(|i| {
        let b = tau(tables, k[1] ^ k[2] ^ k[3] ^ ck(i));
        let next = k[0] ^ b ^ b.rotate_left(13) ^ b.rotate_left(23);
        k = [k[1], k[2], k[3], next];
        next
    })
}

/// One block with the scalar round function (for tests, and the reference the vector path is
/// checked against).
#[cfg(test)]
pub(crate) fn encrypt_block(rk: &[u32; 32], block: &[u8; 16]) -> [u8; 16] {
    let tables = tables();
    let word = |i: usize| {
        u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    };
    let mut x = [word(0), word(1), word(2), word(3)];
    for key in rk {
        let b = tau(tables, x[1] ^ x[2] ^ x[3] ^ key);
        let next =
            x[0] ^ b ^ b.rotate_left(2) ^ b.rotate_left(10) ^ b.rotate_left(18) ^ b.rotate_left(24);
        x = [x[1], x[2], x[3], next];
    }
    let mut out = [0u8; 16];
    for (i, w) in [x[3], x[2], x[1], x[0]].iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sbox_is_post_of_aes_of_pre() {
        let t = tables();
        let pre = |x: u8| t.pre_lo[(x & 15) as usize] ^ t.pre_hi[(x >> 4) as usize];
        let post = |x: u8| t.post_lo[(x & 15) as usize] ^ t.post_hi[(x >> 4) as usize];
        assert_eq!(aes_sbox(0), 0x63);
        assert_eq!(aes_sbox(0x53), 0xed);
        for x in 0..=255u8 {
            assert_eq!(post(aes_sbox(pre(x))), t.sbox[x as usize], "x = {x:#04x}");
        }
        // A permutation.
        let mut seen = [false; 256];
        for v in t.sbox {
            assert!(!std::mem::replace(&mut seen[v as usize], true));
        }
    }

    #[test]
    fn the_scalar_cipher_meets_gbt_32907_example_1() {
        let key = [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
            0x32, 0x10,
        ];
        let expected = [
            0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e, 0x86, 0xb3, 0xe9, 0x4f, 0x53, 0x6e,
            0x42, 0x46,
        ];
        assert_eq!(encrypt_block(&round_keys(&key), &key), expected);
    }
}
