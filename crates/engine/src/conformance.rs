//! The conformance suite every [`Engine`] implementation runs.
//!
//! The suite holds all implementations to the one behaviour the [crate docs](crate) describe. It
//! is ordinary code, not a test module, so that each implementation crate calls it from its own
//! tests with a closure that builds a fresh, empty engine:
//!
//! ```ignore
//! #[test]
//! fn conformance() {
//!     zizhu_engine::conformance::run_all(&|| MyEngine::new());
//! }
//! ```
//!
//! [`run_all`] calls every individual check; each check is also a `pub fn` so a failing one can
//! be run alone while debugging. Every check creates its own engine through the closure, so the
//! closure must return an *empty* engine each time (for a disk engine: a new temporary file,
//! kept alive by the engine or leaked for the duration of the test).
//!
//! Durable engines also run [`run_durability`], whose closure reopens the *same* storage each
//! time it is called: the check writes, drops the engine, reopens it, and expects the data back.
//!
//! Checks panic with a message naming the check and the operation that went wrong, which is what
//! a test harness needs; they are not meant for production code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{prefix_range, Direction, Durability, Engine, KeyRange, WriteBatch};

/// Runs every check of the suite, each on a fresh engine from `new_engine`.
pub fn run_all<E: Engine>(new_engine: &dyn Fn() -> E) {
    check_get_put_delete(&new_engine());
    check_overwrite(&new_engine());
    check_empty_keys_and_values(&new_engine());
    check_large_values(&new_engine());
    check_batch_last_write_wins(&new_engine());
    check_batch_atomicity(&new_engine());
    check_delete_range(&new_engine());
    check_scan_bounds(&new_engine());
    check_empty_ranges(&new_engine());
    check_prefix_range(&new_engine());
    check_byte_order(&new_engine());
    check_many_keys(&new_engine());
    check_scan_during_writes(&new_engine());
    check_deferred_visible(&new_engine());
    check_flush(&new_engine());
    check_status(&new_engine());
    check_random_model(&new_engine(), 0x5eed_0001, 2000);
}

/// For durable engines: data written with [`Durability::Sync`], or written
/// [`Durability::Deferred`] and then flushed, is present after the engine is dropped and
/// reopened. `open` must reopen the same storage on every call (empty on the first).
pub fn run_durability<E: Engine>(open: &dyn Fn() -> E) {
    {
        let engine = open();
        let mut batch = WriteBatch::new();
        for i in 0..100u32 {
            batch.put(key(i), value(i));
        }
        engine.write(batch, Durability::Sync).unwrap();
        let mut batch = WriteBatch::new();
        batch.delete(key(7));
        batch.put(key(8), b"eight".to_vec());
        engine.write(batch, Durability::Sync).unwrap();
        put_one(&engine, b"deferred", b"then flushed", Durability::Deferred);
        engine.flush().unwrap();
    }
    {
        let engine = open();
        for i in 0..100u32 {
            let expect = match i {
                7 => None,
                8 => Some(b"eight".to_vec()),
                _ => Some(value(i)),
            };
            assert_eq!(
                engine.get(&key(i)).unwrap(),
                expect,
                "durability: key {i} wrong after reopen"
            );
        }
        assert_eq!(
            engine.get(b"deferred").unwrap().as_deref(),
            Some(&b"then flushed"[..]),
            "durability: a deferred write followed by flush() was lost on reopen"
        );
        assert_eq!(scan_all(&engine, full(), Direction::Forward).len(), 100);
        // The reopened engine keeps working and keeps its own writes too.
        put_one(&engine, b"second", b"session", Durability::Sync);
    }
    let engine = open();
    assert_eq!(
        engine.get(b"second").unwrap().as_deref(),
        Some(&b"session"[..]),
        "durability: a write of the second session was lost on reopen"
    );
}

/// Point reads, puts and deletes, including deletes of absent keys.
pub fn check_get_put_delete<E: Engine>(engine: &E) {
    assert_eq!(engine.get(b"a").unwrap(), None, "get on an empty engine");
    put_one(engine, b"a", b"1", Durability::Sync);
    put_one(engine, b"b", b"2", Durability::Sync);
    assert_eq!(engine.get(b"a").unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(engine.get(b"b").unwrap().as_deref(), Some(&b"2"[..]));
    assert_eq!(engine.get(b"c").unwrap(), None, "get of an absent key");
    assert_eq!(
        engine.get(b"aa").unwrap(),
        None,
        "get of an absent extension"
    );
    delete_one(engine, b"a");
    assert_eq!(engine.get(b"a").unwrap(), None, "get after delete");
    assert_eq!(engine.get(b"b").unwrap().as_deref(), Some(&b"2"[..]));
    delete_one(engine, b"never-written");
    assert_eq!(engine.get(b"never-written").unwrap(), None);
    let mut empty = WriteBatch::new();
    engine.write(empty.clone(), Durability::Sync).unwrap();
    empty.delete(b"b".to_vec());
    engine.write(empty, Durability::Deferred).unwrap();
    assert_eq!(engine.get(b"b").unwrap(), None);
}

/// A put over an existing key replaces its value, including with longer and shorter values.
pub fn check_overwrite<E: Engine>(engine: &E) {
    put_one(engine, b"k", b"short", Durability::Sync);
    put_one(engine, b"k", &[7u8; 5000], Durability::Sync);
    assert_eq!(engine.get(b"k").unwrap(), Some(vec![7u8; 5000]));
    put_one(engine, b"k", b"x", Durability::Deferred);
    assert_eq!(engine.get(b"k").unwrap().as_deref(), Some(&b"x"[..]));
    assert_eq!(scan_all(engine, full(), Direction::Forward).len(), 1);
}

/// The empty key and empty values are ordinary keys and values.
pub fn check_empty_keys_and_values<E: Engine>(engine: &E) {
    put_one(engine, b"", b"empty key", Durability::Sync);
    put_one(engine, b"empty value", b"", Durability::Sync);
    assert_eq!(engine.get(b"").unwrap().as_deref(), Some(&b"empty key"[..]));
    assert_eq!(
        engine.get(b"empty value").unwrap().as_deref(),
        Some(&b""[..]),
        "an empty value must read back as Some(empty), not None"
    );
    let all = scan_all(engine, full(), Direction::Forward);
    assert_eq!(all[0].0, b"", "the empty key sorts first");
    let rev = scan_all(engine, full(), Direction::Reverse);
    assert_eq!(
        rev.last().unwrap().0,
        b"",
        "the empty key comes last in reverse"
    );
    let only = scan_all(
        engine,
        (Bound::Included(vec![]), Bound::Included(vec![])),
        Direction::Forward,
    );
    assert_eq!(only, vec![(vec![], b"empty key".to_vec())]);
    delete_one(engine, b"");
    assert_eq!(engine.get(b"").unwrap(), None);
    put_one(engine, b"", b"", Durability::Sync);
    assert_eq!(engine.get(b"").unwrap(), Some(vec![]));
}

/// Values of a megabyte and keys of a few kilobytes round-trip.
pub fn check_large_values<E: Engine>(engine: &E) {
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let long_key = vec![0xabu8; 3000];
    put_one(engine, b"big", &big, Durability::Sync);
    put_one(engine, &long_key, b"long key", Durability::Sync);
    assert_eq!(engine.get(b"big").unwrap().as_deref(), Some(&big[..]));
    assert_eq!(
        engine.get(&long_key).unwrap().as_deref(),
        Some(&b"long key"[..])
    );
    assert_eq!(scan_all(engine, full(), Direction::Reverse).len(), 2);
}

/// Within a batch, the later operation on a key wins.
pub fn check_batch_last_write_wins<E: Engine>(engine: &E) {
    put_one(engine, b"c", b"old", Durability::Sync);
    let mut batch = WriteBatch::new();
    batch.put(b"a".to_vec(), b"1".to_vec());
    batch.put(b"a".to_vec(), b"2".to_vec());
    batch.put(b"b".to_vec(), b"1".to_vec());
    batch.delete(b"b".to_vec());
    batch.delete(b"c".to_vec());
    batch.put(b"c".to_vec(), b"new".to_vec());
    batch.delete(b"d".to_vec());
    batch.put(b"d".to_vec(), b"x".to_vec());
    batch.delete(b"d".to_vec());
    engine.write(batch, Durability::Sync).unwrap();
    assert_eq!(
        engine.get(b"a").unwrap().as_deref(),
        Some(&b"2"[..]),
        "put, put"
    );
    assert_eq!(engine.get(b"b").unwrap(), None, "put, delete");
    assert_eq!(
        engine.get(b"c").unwrap().as_deref(),
        Some(&b"new"[..]),
        "delete, put"
    );
    assert_eq!(engine.get(b"d").unwrap(), None, "delete, put, delete");
    let keys: Vec<Vec<u8>> = scan_all(engine, full(), Direction::Forward)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec![b"a".to_vec(), b"c".to_vec()]);
}

/// Small batches are atomic to concurrent readers: once any key of a batch is visible, so is every
/// other key of it. A writer thread writes batches `n` that set keys `k0..k9` all to `n`; readers
/// read `k9` then `k0` and must never see `k0` older than the `k9` they saw first.
pub fn check_batch_atomicity<E: Engine>(engine: &E) {
    const KEYS: u32 = 10;
    const BATCHES: u64 = 300;
    let read = |i: u32| -> u64 {
        engine.get(&key(i)).unwrap().map_or(0, |v| {
            u64::from_be_bytes(v.try_into().expect("8-byte value"))
        })
    };
    struct SetOnDrop<'a>(&'a AtomicBool);
    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Stops the readers even if this thread panics.
            let _done = SetOnDrop(&done);
            for n in 1..=BATCHES {
                let mut batch = WriteBatch::new();
                for i in 0..KEYS {
                    batch.put(key(i), n.to_be_bytes().to_vec());
                }
                let durability = if n % 10 == 0 {
                    Durability::Sync
                } else {
                    Durability::Deferred
                };
                engine.write(batch, durability).unwrap();
            }
        });
        for _ in 0..2 {
            s.spawn(|| loop {
                let finished = done.load(Ordering::Acquire);
                let last = read(KEYS - 1);
                let first = read(0);
                assert!(
                    first >= last,
                    "batch atomicity: saw key 9 of batch {last} but then key 0 of batch {first}"
                );
                let scanned = scan_all(engine, full(), Direction::Forward);
                assert!(scanned.is_empty() || scanned.len() == KEYS as usize);
                if finished {
                    break;
                }
            });
        }
    });
    for i in 0..KEYS {
        assert_eq!(read(i), BATCHES);
    }
}

/// A range delete removes exactly the keys from its start to its end, both included, before
/// the batch's other operations; a reversed range removes nothing.
pub fn check_delete_range<E: Engine>(engine: &E) {
    let mut batch = WriteBatch::new();
    for i in 0..10 {
        batch.put(key(i), value(i));
    }
    engine.write(batch, Durability::Sync).unwrap();
    let mut batch = WriteBatch::new();
    batch.put(key(3), b"again".to_vec());
    batch.delete(key(7));
    batch.delete_range(key(2), key(5));
    batch.delete_range(key(9), key(8));
    engine.write(batch, Durability::Sync).unwrap();
    let left: Vec<(Vec<u8>, Vec<u8>)> = scan_all(engine, full(), Direction::Forward);
    let expected = vec![
        (key(0), value(0)),
        (key(1), value(1)),
        (key(3), b"again".to_vec()),
        (key(6), value(6)),
        (key(8), value(8)),
        (key(9), value(9)),
    ];
    assert_eq!(left, expected);
}

/// Forward and reverse scans over every combination of included, excluded and unbounded bounds,
/// at keys present and absent, compared with a `BTreeMap`.
pub fn check_scan_bounds<E: Engine>(engine: &E) {
    let mut model = BTreeMap::new();
    let mut batch = WriteBatch::new();
    for k in [&b"b"[..], b"d", b"d\x00", b"f", b"h"] {
        batch.put(k.to_vec(), [k, b"-v"].concat());
        model.insert(k.to_vec(), [k, b"-v"].concat());
    }
    engine.write(batch, Durability::Sync).unwrap();
    let points: Vec<Vec<u8>> = [&b""[..], b"a", b"b", b"c", b"d", b"d\x00", b"e", b"h", b"z"]
        .iter()
        .map(|p| p.to_vec())
        .collect();
    let mut bounds = vec![Bound::Unbounded];
    for p in &points {
        bounds.push(Bound::Included(p.clone()));
        bounds.push(Bound::Excluded(p.clone()));
    }
    for start in &bounds {
        for end in &bounds {
            let range = (start.clone(), end.clone());
            for direction in [Direction::Forward, Direction::Reverse] {
                let got = scan_all(engine, range.clone(), direction);
                let want = model_scan(&model, &range, direction);
                assert_eq!(got, want, "scan {range:?} {direction:?}");
            }
        }
    }
}

/// Ranges that contain no key yield nothing, including inverted ranges and `(Excluded(k),
/// Excluded(k))`, which must not panic.
pub fn check_empty_ranges<E: Engine>(engine: &E) {
    for direction in [Direction::Forward, Direction::Reverse] {
        assert!(
            scan_all(engine, full(), direction).is_empty(),
            "scan of an empty engine"
        );
    }
    put_one(engine, b"m", b"1", Durability::Sync);
    let k = |s: &[u8]| s.to_vec();
    let empty: Vec<KeyRange> = vec![
        (Bound::Included(k(b"x")), Bound::Included(k(b"a"))),
        (Bound::Included(k(b"m")), Bound::Excluded(k(b"m"))),
        (Bound::Excluded(k(b"m")), Bound::Included(k(b"m"))),
        (Bound::Excluded(k(b"m")), Bound::Excluded(k(b"m"))),
        (Bound::Excluded(k(b"z")), Bound::Excluded(k(b"a"))),
        (Bound::Unbounded, Bound::Excluded(k(b""))),
        (Bound::Excluded(k(b"m")), Bound::Unbounded),
        (Bound::Unbounded, Bound::Excluded(k(b"m"))),
        (Bound::Included(k(b"n")), Bound::Unbounded),
    ];
    for range in empty {
        for direction in [Direction::Forward, Direction::Reverse] {
            assert!(
                scan_all(engine, range.clone(), direction).is_empty(),
                "scan {range:?} {direction:?} should be empty"
            );
        }
    }
}

/// [`prefix_range`] scans, including prefixes ending in or made of 0xff bytes.
pub fn check_prefix_range<E: Engine>(engine: &E) {
    let keys: Vec<&[u8]> = vec![
        b"",
        b"\x00",
        b"a",
        b"ab",
        b"ab\x00",
        b"ab\xff",
        b"ac",
        b"a\xff",
        b"a\xff\xff",
        b"b",
        b"\xfe\xff",
        b"\xff",
        b"\xff\x00",
        b"\xff\xff",
        b"\xff\xff\xff",
        b"\xff\xff\x01",
    ];
    let mut model = BTreeMap::new();
    let mut batch = WriteBatch::new();
    for k in &keys {
        batch.put(k.to_vec(), b"v".to_vec());
        model.insert(k.to_vec(), b"v".to_vec());
    }
    engine.write(batch, Durability::Sync).unwrap();
    let prefixes: Vec<&[u8]> = vec![
        b"",
        b"a",
        b"ab",
        b"a\xff",
        b"\xfe",
        b"\xff",
        b"\xff\xff",
        b"\xff\xff\xff",
        b"q",
    ];
    for prefix in prefixes {
        let want: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| k.starts_with(prefix))
            .map(|k| k.to_vec())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for direction in [Direction::Forward, Direction::Reverse] {
            let got: Vec<Vec<u8>> = scan_all(engine, prefix_range(prefix), direction)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let mut want = want.clone();
            if direction == Direction::Reverse {
                want.reverse();
            }
            assert_eq!(got, want, "prefix scan of {prefix:?} {direction:?}");
        }
    }
}

/// Scans are in unsigned byte order, shorter key first on a shared prefix.
pub fn check_byte_order<E: Engine>(engine: &E) {
    let keys: Vec<Vec<u8>> = vec![
        vec![0xff, 0xff],
        vec![0x00],
        vec![],
        vec![0x7f],
        vec![0x80],
        vec![0x00, 0x00],
        vec![0x00, 0xff],
        vec![0x01],
        vec![0xff],
        vec![0xff, 0x00],
        vec![0x00, 0x00, 0x00],
        vec![0x01, 0x00],
    ];
    let mut batch = WriteBatch::new();
    for k in &keys {
        batch.put(k.clone(), k.clone());
    }
    engine.write(batch, Durability::Sync).unwrap();
    let mut sorted = keys.clone();
    sorted.sort();
    let fwd: Vec<Vec<u8>> = scan_all(engine, full(), Direction::Forward)
        .into_iter()
        .map(|(k, v)| {
            assert_eq!(k, v, "value belongs to another key");
            k
        })
        .collect();
    assert_eq!(fwd, sorted, "forward scan order");
    let rev: Vec<Vec<u8>> = scan_all(engine, full(), Direction::Reverse)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    sorted.reverse();
    assert_eq!(rev, sorted, "reverse scan order");
}

/// Enough keys to span many pages or chunks, scanned whole and partially in both directions.
pub fn check_many_keys<E: Engine>(engine: &E) {
    const N: u32 = 5000;
    let mut batch = WriteBatch::new();
    for i in 0..N {
        batch.put(key(i), value(i));
    }
    engine.write(batch, Durability::Deferred).unwrap();
    let fwd = scan_all(engine, full(), Direction::Forward);
    assert_eq!(fwd.len(), N as usize);
    for (i, (k, v)) in fwd.iter().enumerate() {
        assert_eq!(
            (k, v),
            (&key(i as u32), &value(i as u32)),
            "forward entry {i}"
        );
    }
    let rev = scan_all(engine, full(), Direction::Reverse);
    assert_eq!(rev.len(), N as usize);
    for (i, (k, _)) in rev.iter().enumerate() {
        assert_eq!(k, &key(N - 1 - i as u32), "reverse entry {i}");
    }
    let range = (Bound::Excluded(key(1000)), Bound::Included(key(3999)));
    assert_eq!(
        scan_all(engine, range.clone(), Direction::Forward).len(),
        2999
    );
    let rev = scan_all(engine, range, Direction::Reverse);
    assert_eq!(rev.len(), 2999);
    assert_eq!(rev[0].0, key(3999));
    assert_eq!(rev[2998].0, key(1001));
    // A scan dropped half way through is fine.
    let mut iter = engine.scan(full(), Direction::Forward).unwrap();
    assert_eq!(iter.next().unwrap().unwrap().0, key(0));
    drop(iter);
}

/// Writes during a scan neither panic nor make the scan yield a key twice or out of order, and
/// keys the writes do not touch are all yielded.
pub fn check_scan_during_writes<E: Engine>(engine: &E) {
    const N: u32 = 2000;
    let mut batch = WriteBatch::new();
    for i in (0..N).map(|i| i * 2) {
        batch.put(key(i), value(i));
    }
    engine.write(batch, Durability::Sync).unwrap();
    for direction in [Direction::Forward, Direction::Reverse] {
        let iter = engine.scan(full(), direction).unwrap();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut step = 0u32;
        for item in iter {
            let (k, _) = item.expect("scan item during writes");
            if let Some(prev) = seen.last() {
                let ordered = match direction {
                    Direction::Forward => *prev < k,
                    Direction::Reverse => *prev > k,
                };
                assert!(
                    ordered,
                    "scan during writes {direction:?}: {prev:?} then {k:?}"
                );
            }
            seen.push(k);
            step += 1;
            if step.is_multiple_of(97) {
                // Insert odd keys (new), overwrite some, delete and reinsert others.
                let mut batch = WriteBatch::new();
                for j in 0..20 {
                    let odd = ((step * 7 + j * 131) % (2 * N)) | 1;
                    batch.put(key(odd), b"new".to_vec());
                    let even = ((step + j * 17) % N) * 2;
                    batch.put(key(even), b"overwritten".to_vec());
                }
                let d = if step.is_multiple_of(2) {
                    Durability::Sync
                } else {
                    Durability::Deferred
                };
                engine.write(batch, d).unwrap();
            }
        }
        let seen: std::collections::HashSet<Vec<u8>> = seen.into_iter().collect();
        for i in (0..N).map(|i| i * 2) {
            assert!(
                seen.contains(&key(i)),
                "scan during writes {direction:?} missed key {i}"
            );
        }
    }
}

/// Deferred writes are visible to reads at once.
pub fn check_deferred_visible<E: Engine>(engine: &E) {
    for i in 0..50u32 {
        put_one(engine, &key(i), &value(i), Durability::Deferred);
        assert_eq!(
            engine.get(&key(i)).unwrap(),
            Some(value(i)),
            "deferred put {i}"
        );
        if i % 5 == 0 {
            delete_one_with(engine, &key(i), Durability::Deferred);
            assert_eq!(engine.get(&key(i)).unwrap(), None, "deferred delete {i}");
        }
    }
    assert_eq!(scan_all(engine, full(), Direction::Reverse).len(), 40);
}

/// `flush` succeeds, with and without pending deferred writes, and counts as a sync.
pub fn check_flush<E: Engine>(engine: &E) {
    engine.flush().unwrap();
    put_one(engine, b"a", b"1", Durability::Deferred);
    let before = engine.status().unwrap().syncs;
    engine.flush().unwrap();
    engine.flush().unwrap();
    let after = engine.status().unwrap().syncs;
    assert!(
        after >= before + 2,
        "two flushes counted {} syncs",
        after - before
    );
    assert_eq!(engine.get(b"a").unwrap().as_deref(), Some(&b"1"[..]));
}

/// `status` names the engine and counts sync writes.
pub fn check_status<E: Engine>(engine: &E) {
    let status = engine.status().unwrap();
    assert!(!status.name.is_empty(), "status().name is empty");
    put_one(engine, b"a", b"1", Durability::Sync);
    put_one(engine, b"b", b"1", Durability::Deferred);
    let later = engine.status().unwrap();
    assert_eq!(later.name, status.name);
    assert!(
        later.syncs > status.syncs,
        "a Sync write did not count in status().syncs"
    );
}

/// A seeded random sequence of `ops` puts, deletes and batches, checked against a `BTreeMap`
/// with point reads and scans with random bounds in both directions.
pub fn check_random_model<E: Engine>(engine: &E, seed: u64, ops: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let random_key = |rng: &mut StdRng| -> Vec<u8> {
        const ALPHABET: [u8; 6] = [0x00, 0x01, b'a', 0x7f, 0xfe, 0xff];
        let len = rng.random_range(0..4);
        (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
            .collect()
    };
    let random_bound = |rng: &mut StdRng| -> Bound<Vec<u8>> {
        match rng.random_range(0..3) {
            0 => Bound::Unbounded,
            1 => Bound::Included(random_key(rng)),
            _ => Bound::Excluded(random_key(rng)),
        }
    };
    for op in 0..ops {
        let context = format!("random model (seed {seed:#x}, op {op})");
        match rng.random_range(0..10) {
            0..=5 => {
                let mut batch = WriteBatch::new();
                let mut staged = model.clone();
                for _ in 0..rng.random_range(1..5) {
                    let k = random_key(&mut rng);
                    if rng.random_bool(0.7) {
                        let v: Vec<u8> =
                            (0..rng.random_range(0..20)).map(|_| rng.random()).collect();
                        staged.insert(k.clone(), v.clone());
                        batch.put(k, v);
                    } else {
                        staged.remove(&k);
                        batch.delete(k);
                    }
                }
                let durability = if rng.random_bool(0.2) {
                    Durability::Sync
                } else {
                    Durability::Deferred
                };
                engine
                    .write(batch, durability)
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
                model = staged;
            }
            6 | 7 => {
                let k = random_key(&mut rng);
                let got = engine.get(&k).unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(got.as_ref(), model.get(&k), "{context}: get {k:?}");
            }
            8 => {
                let range = (random_bound(&mut rng), random_bound(&mut rng));
                for direction in [Direction::Forward, Direction::Reverse] {
                    let got = scan_all(engine, range.clone(), direction);
                    let want = model_scan(&model, &range, direction);
                    assert_eq!(got, want, "{context}: scan {range:?} {direction:?}");
                }
            }
            _ => {
                if rng.random_bool(0.1) {
                    engine
                        .flush()
                        .unwrap_or_else(|e| panic!("{context}: flush: {e}"));
                }
                let prefix = random_key(&mut rng);
                let range = prefix_range(&prefix);
                let direction = if rng.random_bool(0.5) {
                    Direction::Forward
                } else {
                    Direction::Reverse
                };
                let got = scan_all(engine, range.clone(), direction);
                let want = model_scan(&model, &range, direction);
                assert_eq!(got, want, "{context}: prefix scan {prefix:?} {direction:?}");
            }
        }
    }
    let got = scan_all(engine, full(), Direction::Forward);
    let want: Vec<_> = model.into_iter().collect();
    assert_eq!(got, want, "random model (seed {seed:#x}): final contents");
}

/// The entries of `model` in `range`, in `direction`; inverted ranges are empty.
pub fn model_scan(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    range: &KeyRange,
    direction: Direction,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let in_range = |k: &Vec<u8>| {
        let after_start = match &range.0 {
            Bound::Included(s) => k >= s,
            Bound::Excluded(s) => k > s,
            Bound::Unbounded => true,
        };
        let before_end = match &range.1 {
            Bound::Included(e) => k <= e,
            Bound::Excluded(e) => k < e,
            Bound::Unbounded => true,
        };
        after_start && before_end
    };
    let iter = model
        .iter()
        .filter(|(k, _)| in_range(k))
        .map(|(k, v)| (k.clone(), v.clone()));
    match direction {
        Direction::Forward => iter.collect(),
        Direction::Reverse => {
            let mut all: Vec<_> = iter.collect();
            all.reverse();
            all
        }
    }
}

/// Collects a whole scan, panicking on any error.
pub fn scan_all<E: Engine>(
    engine: &E,
    range: KeyRange,
    direction: Direction,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let context = format!("scan {range:?} {direction:?}");
    engine
        .scan(range, direction)
        .unwrap_or_else(|e| panic!("{context}: {e}"))
        .collect::<crate::Result<Vec<_>>>()
        .unwrap_or_else(|e| panic!("{context}: {e}"))
}

fn full() -> KeyRange {
    (Bound::Unbounded, Bound::Unbounded)
}

fn key(i: u32) -> Vec<u8> {
    format!("key{i:08}").into_bytes()
}

fn value(i: u32) -> Vec<u8> {
    format!("value-{i}").into_bytes()
}

fn put_one<E: Engine>(engine: &E, k: &[u8], v: &[u8], durability: Durability) {
    let mut batch = WriteBatch::new();
    batch.put(k.to_vec(), v.to_vec());
    engine
        .write(batch, durability)
        .unwrap_or_else(|e| panic!("put {k:?} ({durability:?}): {e}"));
}

fn delete_one<E: Engine>(engine: &E, k: &[u8]) {
    delete_one_with(engine, k, Durability::Sync);
}

fn delete_one_with<E: Engine>(engine: &E, k: &[u8], durability: Durability) {
    let mut batch = WriteBatch::new();
    batch.delete(k.to_vec());
    engine
        .write(batch, durability)
        .unwrap_or_else(|e| panic!("delete {k:?} ({durability:?}): {e}"));
}
