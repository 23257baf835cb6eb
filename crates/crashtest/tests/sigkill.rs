//! Kills a real process committing concurrent transactions with SIGKILL at random moments,
//! restarts on the same directory, and checks that every acknowledged commit is whole and no
//! partial transaction is visible.
//!
//! `ZIZHU_CRASH_ROUNDS` sets the number of kills (default 25).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};

#[test]
fn sigkill_during_concurrent_commits_loses_no_acknowledged_commit() {
    let rounds: u32 = std::env::var("ZIZHU_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let seed: u64 = std::env::var("ZIZHU_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    println!("seed {seed} (set ZIZHU_CRASH_SEED to replay the kill timings)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let acked: Arc<Mutex<HashMap<i64, i64>>> = Arc::default();
    let mut total_acks = 0usize;

    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zizhu-crash-worker"))
            .arg(dir.path())
            .arg("8")
            .arg(rng.random::<u32>().to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let acked_by_reader = acked.clone();
        let (first_ack, first_ack_seen) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut count = 0usize;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut parts = line
                    .split_whitespace()
                    .skip(1)
                    .map(|p| p.parse::<i64>().unwrap());
                let (thread, seq) = (parts.next().unwrap(), parts.next().unwrap());
                let mut acked = acked_by_reader.lock().unwrap();
                let entry = acked.entry(thread).or_insert(-1);
                *entry = (*entry).max(seq);
                count += 1;
                if count == 1 {
                    let _ = first_ack.send(());
                }
            }
            count
        });
        // Kill while commits are in flight: at a random moment after the first acknowledgement
        // (opening the data file after the previous kill may take a while).
        let started = first_ack_seen.recv_timeout(Duration::from_secs(60));
        assert!(
            started.is_ok(),
            "round {round}: the worker acknowledged nothing within 60 s"
        );
        std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
        // SIGKILL: no destructor, no flush, no chance to finish a commit in flight.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "worker exited on its own: {status}");
        let acks = reader.join().unwrap();
        total_acks += acks;

        let reopen = std::time::Instant::now();
        let mvcc = zizhu_crashtest::open(dir.path());
        let reopen = reopen.elapsed();
        let acked_now = acked.lock().unwrap().clone();
        let books = zizhu_crashtest::verify(&mvcc, &acked_now);
        let durable: i64 = books.transfers.values().sum();
        let size = std::fs::metadata(zizhu_crashtest::data_file(dir.path())).map_or(0, |m| m.len());
        println!(
            "round {round}: {acks} acknowledged this run; {durable} transfers durable in all; \
             reopened {} KiB in {reopen:?}",
            size / 1024
        );
    }
    assert!(
        total_acks > 0,
        "the worker never committed anything: the test proved nothing"
    );
}
