//! Bulk insert benchmark: the transaction layer's share of a COPY, without SQL or disk.
//!
//! `cargo bench -p zizhu-txn --bench bulk_insert -- [ROWS] [RUNS]`
//!
//! One transaction inserts ROWS new keys (1,000,000 by default) in batches of 1,000 through
//! `insert_many`, as COPY does, and commits, over the in-memory engine. Prints, per run, the
//! milliseconds spent inserting (row locks, the transaction's record of them, the write
//! buffer) and committing (the batch handed to the committer, the locks released).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use zizhu_engine_memory::MemoryEngine;
use zizhu_keycode::encode_tuple;
use zizhu_txn::{Mvcc, Options, TxnOptions};
use zizhu_types::Value;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rows: i64 = args.first().map_or(1_000_000, |a| a.parse().unwrap());
    let runs: usize = args.get(1).map_or(3, |a| a.parse().unwrap());
    let value = vec![7u8; 40];
    for run in 0..runs {
        let mvcc = Mvcc::open(MemoryEngine::new(), Options::default()).unwrap();
        let mut txn = mvcc.begin(TxnOptions::default());
        txn.begin_statement();
        let start = Instant::now();
        let mut id = 0;
        while id < rows {
            let batch: Vec<_> = (id..(id + 1000).min(rows))
                .map(|i| {
                    let key = encode_tuple(&[Value::Int64(1042), Value::Int64(i)]);
                    (key, value.clone())
                })
                .collect();
            let (done, taken) = txn.insert_many(batch).unwrap();
            assert!(taken.is_none());
            id += done as i64;
        }
        let inserted = start.elapsed();
        let start = Instant::now();
        txn.commit().unwrap();
        let committed = start.elapsed();
        println!(
            "run={run} rows={rows} insert_ms={} commit_ms={}",
            inserted.as_millis(),
            committed.as_millis()
        );
    }
}
