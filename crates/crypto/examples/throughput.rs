//! Throughput of the cryptography in use, on one core: SM4-GCM sealing and opening 4 KiB
//! pages (what the storage engine does per page), and SM3.
//!
//! `cargo run --release -p zizhu-crypto --example throughput [SECONDS]`

use std::time::{Duration, Instant};

use zizhu_crypto::sm4::Sm4Gcm;
use zizhu_crypto::{Aead, Key};

fn measure(what: &str, bytes_per_op: usize, seconds: f64, mut op: impl FnMut()) {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            op();
        }
        ops += 16;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mib = (ops as f64 * bytes_per_op as f64) / (1024.0 * 1024.0) / elapsed;
    println!(
        "{what:<42} {mib:>8.1} MiB/s   {:>8.2} µs per op",
        elapsed * 1e6 / ops as f64
    );
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let key = Key::random();
    let nonce = [7u8; 12];
    let aad = [1u8; 24];
    let in_use = Sm4Gcm::new(&key);
    println!("in use: {}", in_use.implementation());
    for gcm in [in_use, Sm4Gcm::table(&key)] {
        let name = gcm.implementation();
        let mut page = vec![0x5au8; 4096];
        measure(
            &format!("SM4-GCM seal, 4 KiB, {name}"),
            4096,
            seconds,
            || {
                std::hint::black_box(gcm.seal(&nonce, &aad, &mut page));
            },
        );
        let tag = gcm.seal(&nonce, &aad, &mut page);
        let sealed = page.clone();
        measure(
            &format!("SM4-GCM open, 4 KiB, {name}"),
            4096,
            seconds,
            || {
                page.copy_from_slice(&sealed);
                gcm.open(&nonce, &aad, &mut page, &tag).expect("authentic");
            },
        );
    }
    let data = vec![0xa5u8; 4096];
    measure("SM3, 4 KiB", 4096, seconds, || {
        std::hint::black_box(zizhu_crypto::sm3::digest(&data));
    });
}
