//! Fault injection and power-loss simulation over [`FaultyBackend`].
//!
//! Every test writes numbered batches. Batch `n` puts `m` keys `b{n}/{j}` whose values name `n`,
//! `j` and `m`, a key `meta/{n}` holding `m`, and overwrites `last` with `n`. After a crash the
//! database must hold exactly the batches `1..=p` for some `p`, each whole, with `last = p`, and
//! `p` at least the last batch acknowledged as durable and at most the last batch attempted.

#![allow(clippy::unwrap_used)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zizhu_crypto::keystore::KeyRing;
use zizhu_crypto::Key;
use zizhu_engine::{Direction, Durability, Engine, Error, WriteBatch};
use zizhu_engine_redb::{
    CrashImage, EncryptedBackend, FaultController, FaultyBackend, RedbEngine, RedbOptions,
};

thread_local! {
    /// The keys of the test running on this thread, if it runs over the encrypting backend.
    static ENCRYPTION: RefCell<Option<Arc<KeyRing>>> = const { RefCell::new(None) };
    /// Nonce epochs already handed out on this thread.
    static EPOCH: Cell<u32> = const { Cell::new(0) };
}

/// Runs `test` with every engine over the SM4-encrypting backend (with two-phase commit, and
/// torn writes cut at sector boundaries, the backend's stated assumption).
fn encrypted(test: fn()) {
    let keys = KeyRing::from_keys(1, &[(1, Key::random())]).unwrap();
    ENCRYPTION.with(|e| *e.borrow_mut() = Some(Arc::new(keys)));
    test();
    ENCRYPTION.with(|e| *e.borrow_mut() = None);
}

fn open_backend(backend: FaultyBackend) -> zizhu_engine::Result<RedbEngine> {
    let mut options = RedbOptions {
        cache_size_bytes: 4 << 20,
        ..RedbOptions::default()
    };
    match ENCRYPTION.with(|e| e.borrow().clone()) {
        None => RedbEngine::open_with_backend(backend, options),
        Some(keys) => {
            backend.controller().tear_at_sectors(true);
            let backend = EncryptedBackend::open(backend, keys, next_epoch())
                .map_err(|e| Error::Io(e.to_string()))?;
            options.two_phase_commit = true;
            RedbEngine::open_with_backend(backend, options)
        }
    }
}

fn next_epoch() -> u32 {
    EPOCH.with(|e| {
        e.set(e.get() + 1);
        e.get()
    })
}

/// An engine over a data file and a write-ahead log, each on its own backend.
fn open_logged(data: FaultyBackend, wal: FaultyBackend) -> zizhu_engine::Result<RedbEngine> {
    let mut options = RedbOptions {
        cache_size_bytes: 4 << 20,
        wal: true,
        ..RedbOptions::default()
    };
    match ENCRYPTION.with(|e| e.borrow().clone()) {
        None => RedbEngine::open_with_backends(data, Some(Box::new(wal)), options),
        Some(keys) => {
            data.controller().tear_at_sectors(true);
            wal.controller().tear_at_sectors(true);
            let sealed = |backend, keys| {
                EncryptedBackend::open(backend, keys, next_epoch())
                    .map_err(|e| Error::Io(e.to_string()))
            };
            let data = sealed(data, Arc::clone(&keys))?;
            let wal = sealed(wal, keys)?;
            options.two_phase_commit = true;
            RedbEngine::open_with_backends(data, Some(Box::new(wal)), options)
        }
    }
}

fn open(backend: FaultyBackend) -> RedbEngine {
    open_backend(backend).expect("open")
}

fn reopen(image: CrashImage, seed: u64) -> (RedbEngine, Arc<FaultController>) {
    let backend = FaultyBackend::from_image(image, seed);
    let faults = backend.controller();
    let engine = open_backend(backend)
        .unwrap_or_else(|e| panic!("seed {seed}: reopening the crash image failed: {e}"));
    (engine, faults)
}

/// The recovered database takes writes again, and they survive another power loss.
fn check_usable(
    engine: RedbEngine,
    faults: &FaultController,
    p: u64,
    rng: &mut StdRng,
    context: &str,
) {
    let mut next = batch(p + 1, rng);
    next.put(b"after".to_vec(), b"recovery".to_vec());
    engine
        .write(next, Durability::Sync)
        .unwrap_or_else(|e| panic!("{context}: write after recovery: {e}"));
    let image = faults.crash();
    drop(engine);
    let (engine, _) = reopen(image, rng.random());
    // Only batch p + 1 carries `after`, so `check` would see an unexpected key; look it up alone.
    assert_eq!(
        engine.get(b"after").unwrap(),
        Some(b"recovery".to_vec()),
        "{context}: lost after recovery"
    );
    assert_eq!(
        engine.get(b"last").unwrap(),
        Some((p + 1).to_string().into_bytes()),
        "{context}"
    );
}

fn batch(n: u64, rng: &mut StdRng) -> WriteBatch {
    let m: u64 = rng.random_range(1..12);
    let mut batch = WriteBatch::new();
    for j in 0..m {
        // Some values are large enough to span several pages.
        let pad = if rng.random_bool(0.1) {
            10_000
        } else {
            rng.random_range(0..200)
        };
        let mut value = format!("{n}:{j}:{m}:").into_bytes();
        value.resize(value.len() + pad, (n % 251) as u8);
        batch.put(format!("b{n:05}/{j:03}").into_bytes(), value);
    }
    batch.put(
        format!("meta/{n:05}").into_bytes(),
        m.to_string().into_bytes(),
    );
    batch.put(b"last".to_vec(), n.to_string().into_bytes());
    batch
}

/// Checks the batch invariants and returns `p`, the number of batches present.
fn check(engine: &RedbEngine, min: u64, max: u64, context: &str) -> u64 {
    let all: BTreeMap<Vec<u8>, Vec<u8>> = engine
        .scan((Bound::Unbounded, Bound::Unbounded), Direction::Forward)
        .unwrap_or_else(|e| panic!("{context}: scan: {e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{context}: scan item: {e}"));
    let text = |v: &[u8]| String::from_utf8(v.to_vec()).expect("utf8");
    let mut metas = Vec::new();
    let mut data: BTreeMap<u64, Vec<(u64, Vec<u8>)>> = BTreeMap::new();
    let mut last = None;
    for (k, v) in &all {
        let k = text(k);
        if let Some(n) = k.strip_prefix("meta/") {
            metas.push((n.parse::<u64>().unwrap(), text(v).parse::<u64>().unwrap()));
        } else if let Some(rest) = k.strip_prefix('b') {
            let (n, j) = rest.split_once('/').unwrap();
            data.entry(n.parse().unwrap())
                .or_default()
                .push((j.parse().unwrap(), v.clone()));
        } else if k == "last" {
            last = Some(text(v).parse::<u64>().unwrap());
        } else {
            panic!("{context}: unexpected key {k}");
        }
    }
    let p = metas.len() as u64;
    for (i, (n, m)) in metas.iter().enumerate() {
        assert_eq!(
            *n,
            i as u64 + 1,
            "{context}: batches present are not a prefix: {metas:?}"
        );
        let entries = data.remove(n).unwrap_or_default();
        assert_eq!(entries.len() as u64, *m, "{context}: batch {n} is partial");
        for (j, value) in entries {
            let prefix = format!("{n}:{j}:{m}:").into_bytes();
            assert!(
                value.starts_with(&prefix),
                "{context}: batch {n} key {j} has a wrong value"
            );
            assert!(
                value[prefix.len()..].iter().all(|b| *b == (n % 251) as u8),
                "{context}: batch {n} key {j} value is damaged"
            );
        }
    }
    assert!(
        data.is_empty(),
        "{context}: keys of batches without meta: {:?}",
        data.keys()
    );
    assert_eq!(
        last,
        (p > 0).then_some(p),
        "{context}: `last` disagrees with the batches present"
    );
    assert!(
        p >= min,
        "{context}: {p} batches present but {min} were acknowledged durable"
    );
    assert!(
        p <= max,
        "{context}: {p} batches present but only {max} were written"
    );
    p
}

/// Writes `count` Sync batches that must succeed.
fn write_ok(engine: &RedbEngine, rng: &mut StdRng, first: u64, count: u64) {
    for n in first..first + count {
        engine
            .write(batch(n, rng), Durability::Sync)
            .expect("write before the fault");
    }
}

/// After a failed write: the engine is poisoned, and both a process crash (the volatile image)
/// and a power loss (a crash image) recover to a state where every earlier batch is present and
/// the failed batch `failed` is wholly present or wholly absent.
fn after_failure(engine: RedbEngine, faults: &FaultController, rng: &mut StdRng, failed: u64) {
    let err = engine
        .write(batch(failed + 1, rng), Durability::Sync)
        .unwrap_err();
    assert!(
        matches!(err, Error::Poisoned(_)),
        "write after a failure: {err:?}"
    );
    assert!(
        matches!(engine.flush(), Err(Error::Poisoned(_))),
        "flush after a failure"
    );
    assert!(engine.is_poisoned());
    if std::env::var_os("ZIZHU_CRASH_VERBOSE").is_some() {
        let read = engine.get(b"last");
        eprintln!("read after batch {failed} failed: {read:?}");
    }
    // Nothing more reaches the file, not even when the engine is closed: redb's close would
    // make a pending non-durable commit durable.
    let writes = faults.writes();
    drop(engine);
    assert_eq!(faults.writes(), writes, "a poisoned engine wrote at close");
    let volatile = faults.volatile_image();
    let image = faults.crash();
    for (what, image) in [("power loss", image), ("process crash", volatile)] {
        let seed: u64 = rng.random();
        let context = format!("after {what} (seed {seed})");
        let (engine, faults) = reopen(image, seed);
        let p = check(&engine, failed - 1, failed, &context);
        if std::env::var_os("ZIZHU_CRASH_VERBOSE").is_some() {
            eprintln!("{context}: batch {failed} failed, recovered {p}");
        }
        check_usable(engine, &faults, p, rng, &context);
    }
}

fn failed_sync_poisons_and_recovers() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let backend = FaultyBackend::new(seed);
        let faults = backend.controller();
        let engine = open(backend);
        write_ok(&engine, &mut rng, 1, 5);
        faults.fail_next_sync();
        let err = engine
            .write(batch(6, &mut rng), Durability::Sync)
            .unwrap_err();
        assert!(
            matches!(err, Error::Io(_)),
            "seed {seed}: failed sync gave {err:?}"
        );
        after_failure(engine, &faults, &mut rng, 6);
    }
}

fn failed_flush_poisons() {
    let mut rng = StdRng::seed_from_u64(99);
    let backend = FaultyBackend::new(99);
    let faults = backend.controller();
    let engine = open(backend);
    write_ok(&engine, &mut rng, 1, 3);
    engine
        .write(batch(4, &mut rng), Durability::Deferred)
        .unwrap();
    faults.fail_next_sync();
    assert!(matches!(engine.flush(), Err(Error::Io(_))));
    // Batch 4 was acknowledged (as deferred), so it may survive; nothing later was written.
    after_failure(engine, &faults, &mut rng, 4);
}

fn failed_write_poisons_and_recovers() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let backend = FaultyBackend::new(seed);
        let faults = backend.controller();
        let engine = open(backend);
        write_ok(&engine, &mut rng, 1, 5);
        // Fail the first write of the commit, or a later one (up to the header write).
        faults.fail_writes_after(rng.random_range(0..4));
        let err = engine
            .write(batch(6, &mut rng), Durability::Sync)
            .unwrap_err();
        assert!(
            matches!(err, Error::Io(_)),
            "seed {seed}: failed write gave {err:?}"
        );
        after_failure(engine, &faults, &mut rng, 6);
    }
}

fn torn_write_recovers() {
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let backend = FaultyBackend::new(seed);
        let faults = backend.controller();
        let engine = open(backend);
        write_ok(&engine, &mut rng, 1, 5);
        faults.torn_write_at(rng.random_range(0..4));
        let err = engine
            .write(batch(6, &mut rng), Durability::Sync)
            .unwrap_err();
        assert!(
            matches!(err, Error::Io(_)),
            "seed {seed}: torn write gave {err:?}"
        );
        assert!(faults.is_dead());
        after_failure(engine, &faults, &mut rng, 6);
    }
}

/// Writes batches `1..=batches`, each Sync or Deferred at random with a flush now and then,
/// striking `faults` before batch `fault_at + 1` with fault `kind` (0: none, the power just
/// goes; 1: a failed sync; 2: a failed write; 3: a torn write, within the next `within`
/// writes). Stops at the first failure. Returns the last batch acknowledged durable and the
/// last attempted.
fn random_workload(
    engine: &RedbEngine,
    faults: &FaultController,
    rng: &mut StdRng,
    batches: u64,
    (fault_at, kind): (u64, u32),
    within: u64,
    seed: u64,
) -> (u64, u64) {
    let mut durable = 0;
    let mut attempted = 0;
    for n in 1..=batches {
        if n == fault_at + 1 {
            match kind {
                0 => break,
                1 => faults.fail_next_sync(),
                2 => faults.fail_writes_after(rng.random_range(0..within)),
                _ => faults.torn_write_at(rng.random_range(0..within)),
            }
        }
        let sync = rng.random_bool(0.7);
        let durability = if sync {
            Durability::Sync
        } else {
            Durability::Deferred
        };
        attempted = n;
        match engine.write(batch(n, rng), durability) {
            Ok(()) if sync => durable = n,
            Ok(()) => {
                if rng.random_bool(0.2) {
                    match engine.flush() {
                        Ok(()) => durable = n,
                        Err(_) => break,
                    }
                }
            }
            Err(e) => {
                assert!(matches!(e, Error::Io(_)), "seed {seed}: batch {n}: {e:?}");
                break;
            }
        }
    }
    (durable, attempted)
}

/// Random workloads of Sync and Deferred batches and flushes, with a fault or a plain power loss
/// at a random point, then recovery from the crash image.
fn power_loss_trials() {
    let trials: u64 = std::env::var("ZIZHU_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    for seed in 0..trials {
        let mut rng = StdRng::seed_from_u64(seed ^ 0xc4a5);
        let backend = FaultyBackend::new(seed);
        let faults = backend.controller();
        let engine = open(backend);
        let batches: u64 = rng.random_range(1..40);
        let fault_at: u64 = rng.random_range(0..batches);
        let fault_kind = rng.random_range(0..4);
        let (durable, attempted) = random_workload(
            &engine,
            &faults,
            &mut rng,
            batches,
            (fault_at, fault_kind),
            8,
            seed,
        );
        let image = faults.crash();
        drop(engine);
        let context = format!("trial {seed} (fault {fault_kind} at {fault_at})");
        let (engine, faults) = reopen(image, seed + 1000);
        let p = check(&engine, durable, attempted, &context);
        if std::env::var_os("ZIZHU_CRASH_VERBOSE").is_some() {
            eprintln!("{context}: attempted {attempted}, durable {durable}, recovered {p}");
        }
        check_usable(engine, &faults, p, &mut rng, &context);
    }
}

/// The same random workloads with the write-ahead log: the fault strikes the log or the data
/// file, and recovery starts from both files' crash images (or, at random, from what a killed
/// process leaves: every write made, none lost).
fn logged_power_loss_trials() {
    let trials: u64 = std::env::var("ZIZHU_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    for seed in 0..trials {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x10a6);
        let (data, wal) = (FaultyBackend::new(seed), FaultyBackend::new(seed + 500));
        let (data_faults, wal_faults) = (data.controller(), wal.controller());
        let engine = open_logged(data, wal).expect("open");
        let batches: u64 = rng.random_range(1..40);
        let fault_at: u64 = rng.random_range(0..batches);
        let fault_kind = rng.random_range(0..4);
        let in_log = rng.random_bool(0.7);
        let faults = if in_log { &wal_faults } else { &data_faults };
        let (durable, attempted) = random_workload(
            &engine,
            faults,
            &mut rng,
            batches,
            (fault_at, fault_kind),
            4,
            seed,
        );
        let killed = rng.random_bool(0.25);
        let images = if killed {
            (data_faults.volatile_image(), wal_faults.volatile_image())
        } else {
            (data_faults.crash(), wal_faults.crash())
        };
        drop(engine);
        let context = format!(
            "trial {seed} (fault {fault_kind} at {fault_at} in the {}, {})",
            if in_log { "log" } else { "data file" },
            if killed {
                "process killed"
            } else {
                "power lost"
            }
        );
        let reopen = |(data, wal): (CrashImage, CrashImage), seed: u64| {
            let data = FaultyBackend::from_image(data, seed);
            let wal = FaultyBackend::from_image(wal, seed + 1);
            let faults = (data.controller(), wal.controller());
            let engine = open_logged(data, wal)
                .unwrap_or_else(|e| panic!("{context}: reopening failed: {e}"));
            (engine, faults)
        };
        let (engine, (data_faults, wal_faults)) = reopen(images, seed + 1000);
        let p = check(&engine, durable, attempted, &context);
        if std::env::var_os("ZIZHU_CRASH_VERBOSE").is_some() {
            eprintln!("{context}: attempted {attempted}, durable {durable}, recovered {p}");
        }
        // Usable again, and its next acknowledged batch survives another power loss.
        engine
            .write(batch(p + 1, &mut rng), Durability::Sync)
            .unwrap_or_else(|e| panic!("{context}: write after recovery: {e}"));
        let images = (data_faults.crash(), wal_faults.crash());
        drop(engine);
        let (engine, _) = reopen(images, seed + 2000);
        check(&engine, p + 1, p + 1, &format!("{context}, then again"));
    }
}

/// A batch too large to log is committed to the data file durably (a checkpoint), and the
/// log's later units are replayed on top of it.
fn large_batches_checkpoint_and_the_log_continues() {
    let mut rng = StdRng::seed_from_u64(3);
    let (data, wal) = (FaultyBackend::new(1), FaultyBackend::new(2));
    let (data_faults, wal_faults) = (data.controller(), wal.controller());
    let engine = open_logged(data, wal).expect("open");
    write_ok(&engine, &mut rng, 1, 3);
    let mut large = batch(4, &mut rng);
    let value = vec![4u8; 1 << 20];
    for j in 0..5 {
        large.put(format!("large/{j}").into_bytes(), value.clone());
    }
    let data_syncs = data_faults.syncs();
    engine.write(large, Durability::Sync).expect("large batch");
    assert!(
        data_faults.syncs() > data_syncs,
        "a large batch syncs the data file"
    );
    write_ok(&engine, &mut rng, 5, 3);
    let images = (data_faults.crash(), wal_faults.crash());
    drop(engine);
    let data = FaultyBackend::from_image(images.0, 5);
    let wal = FaultyBackend::from_image(images.1, 6);
    let engine = open_logged(data, wal).expect("reopen");
    for j in 0..5 {
        let key = format!("large/{j}").into_bytes();
        assert_eq!(engine.get(&key).unwrap().map(|v| v.len()), Some(1 << 20));
        let mut batch = WriteBatch::new();
        batch.delete(key);
        engine.write(batch, Durability::Sync).unwrap();
    }
    check(&engine, 7, 7, "after the large batch");
}

/// A batch larger than the engine's part size (a sixteenth of the 4 MiB cache here) is
/// committed to redb in parts, all but the last non-durable. Cut anywhere in between by a
/// failed or torn write, then a power loss or a killed process, it is wholly absent after
/// recovery, with and without the log; written through, it is wholly present.
fn a_batch_committed_in_parts_is_whole_or_absent() {
    /// Batch 4, with 600 keys of 8 KiB: about 4.8 MiB, twenty parts. Over the log's
    /// 4 MiB, so the logged engine commits it to the data file (a checkpoint), in parts.
    fn large(rng: &mut StdRng) -> WriteBatch {
        let mut batch = WriteBatch::new();
        let m = 600;
        for j in 0..m {
            let mut value = format!("4:{j}:{m}:").into_bytes();
            value.resize(value.len() + rng.random_range(7_000..9_000), 4);
            batch.put(format!("b00004/{j:03}").into_bytes(), value);
        }
        batch.put(b"meta/00004".to_vec(), m.to_string().into_bytes());
        batch.put(b"last".to_vec(), b"4".to_vec());
        batch
    }
    let trials: u64 = std::env::var("ZIZHU_CRASH_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(16, |t: u64| t.min(40));
    for seed in 0..trials {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x9a27);
        let logged = seed % 2 == 1;
        let (data, wal) = (FaultyBackend::new(seed), FaultyBackend::new(seed + 500));
        let (data_faults, wal_faults) = (data.controller(), wal.controller());
        let engine = match logged {
            true => open_logged(data, wal).expect("open"),
            false => open(data),
        };
        write_ok(&engine, &mut rng, 1, 3);
        // It takes about 700 writes; a fifth of the trials let it through.
        let at = rng.random_range(0..850);
        match rng.random_bool(0.5) {
            true => data_faults.fail_writes_after(at),
            false => data_faults.torn_write_at(at),
        }
        let written = engine.write(large(&mut rng), Durability::Sync).is_ok();
        let killed = rng.random_bool(0.5);
        let images = match killed {
            true => (data_faults.volatile_image(), wal_faults.volatile_image()),
            false => (data_faults.crash(), wal_faults.crash()),
        };
        drop(engine);
        let context = format!(
            "trial {seed} (cut after {at} writes, {}, {})",
            if logged { "logged" } else { "no log" },
            if killed {
                "process killed"
            } else {
                "power lost"
            }
        );
        let data = FaultyBackend::from_image(images.0, seed + 1000);
        let wal = FaultyBackend::from_image(images.1, seed + 1001);
        let (data_faults_after, wal_faults_after) = (data.controller(), wal.controller());
        let engine = match logged {
            true => open_logged(data, wal),
            false => open_backend(data),
        }
        .unwrap_or_else(|e| panic!("{context}: reopening failed: {e}"));
        // A failed write may still have reached the disk whole (the header went out before the
        // failure); `check` finds any part without the rest.
        let p = check(&engine, if written { 4 } else { 3 }, 4, &context);
        if std::env::var_os("ZIZHU_CRASH_VERBOSE").is_some() {
            eprintln!("{context}: written {written}, recovered {p}");
        }
        // Usable again, and its next acknowledged batch survives another power loss.
        engine
            .write(batch(p + 1, &mut rng), Durability::Sync)
            .unwrap_or_else(|e| panic!("{context}: write after recovery: {e}"));
        let (data_faults, wal_faults) = (data_faults_after, wal_faults_after);
        let images = (data_faults.crash(), wal_faults.crash());
        drop(engine);
        let data = FaultyBackend::from_image(images.0, seed + 2000);
        let wal = FaultyBackend::from_image(images.1, seed + 2001);
        let engine = match logged {
            true => open_logged(data, wal),
            false => open_backend(data),
        }
        .unwrap_or_else(|e| panic!("{context}: reopening again failed: {e}"));
        check(&engine, p + 1, p + 1, &format!("{context}, then again"));
    }
}

/// A batch the log failed to sync leaves redb with a non-durable commit that redb itself
/// saw no failure in. redb's close would make it durable; a poisoned engine's data file takes
/// no writes, so the close writes nothing and the next open decides from the log alone.
fn a_poisoned_engine_writes_nothing_at_close() {
    let mut rng = StdRng::seed_from_u64(11);
    let (data, wal) = (FaultyBackend::new(21), FaultyBackend::new(22));
    let (data_faults, wal_faults) = (data.controller(), wal.controller());
    let engine = open_logged(data, wal).expect("open");
    write_ok(&engine, &mut rng, 1, 3);
    wal_faults.fail_next_sync();
    let err = engine
        .write(batch(4, &mut rng), Durability::Sync)
        .unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(engine.is_poisoned());
    let writes = data_faults.writes();
    drop(engine);
    assert_eq!(
        data_faults.writes(),
        writes,
        "the data file was written at close"
    );
    let data = FaultyBackend::from_image(data_faults.crash(), 23);
    let wal = FaultyBackend::from_image(wal_faults.crash(), 24);
    let engine = open_logged(data, wal).expect("reopen");
    check(&engine, 3, 4, "after the failed log sync");
}

/// Each scenario runs on the plain backend and on the encrypting one.
macro_rules! plain_and_encrypted {
    ($($scenario:ident => $plain:ident, $encrypted:ident;)*) => {$(
        #[test]
        fn $plain() {
            $scenario();
        }

        #[test]
        fn $encrypted() {
            encrypted($scenario);
        }
    )*};
}

plain_and_encrypted! {
    failed_sync_poisons_and_recovers => plain_failed_sync_poisons_and_recovers, encrypted_failed_sync_poisons_and_recovers;
    failed_flush_poisons => plain_failed_flush_poisons, encrypted_failed_flush_poisons;
    failed_write_poisons_and_recovers => plain_failed_write_poisons_and_recovers, encrypted_failed_write_poisons_and_recovers;
    torn_write_recovers => plain_torn_write_recovers, encrypted_torn_write_recovers;
    power_loss_trials => plain_power_loss_trials, encrypted_power_loss_trials;
    logged_power_loss_trials => plain_logged_power_loss_trials, encrypted_logged_power_loss_trials;
    large_batches_checkpoint_and_the_log_continues => plain_large_batches_checkpoint, encrypted_large_batches_checkpoint;
    a_batch_committed_in_parts_is_whole_or_absent => plain_batch_in_parts, encrypted_batch_in_parts;
    a_poisoned_engine_writes_nothing_at_close => plain_poisoned_close, encrypted_poisoned_close;
}

/// Acknowledged writes come back from the log, not the data file: after a crash the data file
/// alone lacks them.
#[test]
fn sync_writes_are_durable_through_the_log_alone() {
    let mut rng = StdRng::seed_from_u64(9);
    let (data, wal) = (FaultyBackend::new(1), FaultyBackend::new(2));
    let (data_faults, wal_faults) = (data.controller(), wal.controller());
    let engine = open_logged(data, wal).expect("open");
    let data_syncs = data_faults.syncs();
    write_ok(&engine, &mut rng, 1, 20);
    assert_eq!(
        data_faults.syncs(),
        data_syncs,
        "no data file sync per write"
    );
    assert_eq!(wal_faults.syncs(), 20, "one log sync per write");
    let images = (data_faults.crash(), wal_faults.crash());
    drop(engine);
    let without_log = RedbEngine::open_with_backend(
        FaultyBackend::from_image(images.0.clone(), 3),
        RedbOptions::default(),
    )
    .expect("data file alone");
    check(&without_log, 0, 0, "the data file alone");
    drop(without_log);
    let data = FaultyBackend::from_image(images.0, 3);
    let wal = FaultyBackend::from_image(images.1, 4);
    let engine = open_logged(data, wal).expect("reopen");
    check(&engine, 20, 20, "with the log");
}
