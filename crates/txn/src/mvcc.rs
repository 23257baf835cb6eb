//! The shared state of an open database and the entry point, [`Mvcc`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use zizhu_engine::{Direction, Engine};

use crate::key::decode_ranges;
use crate::lock::LockTable;
use crate::pipeline::Pipeline;
use crate::transaction::Transaction;
use crate::{errinternal, Key, Result, Timestamp, TxnId};

/// Transaction isolation levels, with PostgreSQL's meanings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum IsolationLevel {
    /// A new snapshot per statement; writers wait for row locks and re-check the newest row.
    #[default]
    ReadCommitted,
    /// One snapshot per transaction; a write to a row changed after it fails with 40001.
    RepeatableRead,
    /// REPEATABLE READ plus commit-time validation of everything read.
    Serializable,
}

/// Settings of an open database.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long a lock waiter waits before it re-checks for deadlock (the first check is
    /// immediate).
    pub deadlock_timeout: Duration,
    /// Largest total write-set size gathered into one commit group.
    pub max_group_bytes: usize,
    /// Whether the committer thread removes versions no snapshot can see.
    pub gc: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            deadlock_timeout: Duration::from_secs(1),
            max_group_bytes: 64 << 20,
            gc: true,
        }
    }
}

/// Settings of one transaction.
#[derive(Clone, Debug, Default)]
pub struct TxnOptions {
    /// Isolation level.
    pub isolation: IsolationLevel,
    /// Reject writes (`BEGIN READ ONLY`).
    pub read_only: bool,
    /// Longest wait for one row lock; `None` waits indefinitely (`lock_timeout = 0`).
    pub lock_timeout: Option<Duration>,
}

/// Counters for monitoring, tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Transactions committed with writes.
    pub commits: u64,
    /// Commit groups written, each one engine batch and one fsync.
    pub commit_groups: u64,
    /// Commits refused by SERIALIZABLE validation.
    pub serialization_failures: u64,
    /// Entries deleted by garbage collection: old versions, versions in dropped ranges, and
    /// the records of dropped ranges once collected.
    pub versions_collected: u64,
    /// Keys garbage collection looked at for older versions (fresh inserts are never looked
    /// at).
    pub keys_examined: u64,
    /// The newest visible commit timestamp.
    pub visible_ts: Timestamp,
}

/// The active snapshots, for the garbage collector and SERIALIZABLE validation.
#[derive(Default)]
pub(crate) struct Snapshots {
    all: BTreeMap<Timestamp, usize>,
    serializable: BTreeMap<Timestamp, usize>,
}

fn add(map: &mut BTreeMap<Timestamp, usize>, ts: Timestamp) {
    *map.entry(ts).or_default() += 1;
}

fn remove(map: &mut BTreeMap<Timestamp, usize>, ts: Timestamp) {
    if let Some(n) = map.get_mut(&ts) {
        *n -= 1;
        if *n == 0 {
            map.remove(&ts);
        }
    }
}

/// State shared by the committer thread and every transaction.
pub(crate) struct Core<E> {
    pub engine: Arc<E>,
    /// Every commit at or below this is durable and readable.
    pub visible_ts: AtomicU64,
    pub snapshots: Mutex<Snapshots>,
    pub stats: Mutex<Stats>,
}

impl<E> Core<E> {
    /// Takes a snapshot of everything visible now and registers it; `replace` is the caller's
    /// previous snapshot, released in the same step.
    pub fn register_snapshot(&self, serializable: bool, replace: Option<Timestamp>) -> Timestamp {
        let mut snaps = self.snapshots.lock();
        if let Some(old) = replace {
            remove(&mut snaps.all, old);
            if serializable {
                remove(&mut snaps.serializable, old);
            }
        }
        // Read under the mutex so that a watermark computed under it never passes a snapshot
        // about to be registered.
        let ts = self.visible_ts.load(Ordering::Acquire);
        add(&mut snaps.all, ts);
        if serializable {
            add(&mut snaps.serializable, ts);
        }
        ts
    }

    pub fn release_snapshot(&self, serializable: bool, ts: Timestamp) {
        let mut snaps = self.snapshots.lock();
        remove(&mut snaps.all, ts);
        if serializable {
            remove(&mut snaps.serializable, ts);
        }
    }

    /// (oldest snapshot of any transaction, oldest SERIALIZABLE snapshot); each is the visible
    /// timestamp when there is none.
    pub fn watermarks(&self) -> (Timestamp, Timestamp) {
        let snaps = self.snapshots.lock();
        let visible = self.visible_ts.load(Ordering::Acquire);
        let oldest = |m: &BTreeMap<Timestamp, usize>| m.keys().next().copied().unwrap_or(visible);
        (oldest(&snaps.all), oldest(&snaps.serializable))
    }
}

/// Shared by all handles of one open database.
pub(crate) struct Shared<E: Engine> {
    pub core: Arc<Core<E>>,
    pub locks: LockTable,
    pub pipeline: Pipeline,
    pub next_txn_id: AtomicU64,
    pub options: Options,
}

/// An open database at the transaction layer: begin transactions here. Cheap to clone.
pub struct Mvcc<E: Engine> {
    pub(crate) shared: Arc<Shared<E>>,
}

impl<E: Engine> Clone for Mvcc<E> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<E: Engine> Mvcc<E> {
    /// Opens the transaction layer over `engine`, recovering the last commit timestamp.
    ///
    /// There is no other recovery to do: uncommitted writes never reach the engine.
    pub fn open(engine: E, options: Options) -> Result<Self> {
        let engine = Arc::new(engine);
        let last = match engine.get(&Key::LastCommitted.encode())? {
            Some(bytes) => {
                let arr: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                    zizhu_engine::errcorrupt!("last commit timestamp has {} bytes", bytes.len())
                })?;
                u64::from_be_bytes(arr)
            }
            None => 0,
        };
        let core = Arc::new(Core {
            engine,
            visible_ts: AtomicU64::new(last),
            snapshots: Mutex::new(Snapshots::default()),
            stats: Mutex::new(Stats::default()),
        });
        // Ranges dropped by commits whose collection a restart interrupted.
        let mut dropped = VecDeque::new();
        for entry in core.engine.scan(Key::all_dropped(), Direction::Forward)? {
            let (key, value) = entry?;
            match Key::decode(&key)? {
                Key::Dropped(ts) => dropped.push_back((ts, decode_ranges(&value)?)),
                other => return Err(errinternal!("{other:?} among the dropped ranges")),
            }
        }
        let pipeline = Pipeline::start(core.clone(), last, dropped, &options)?;
        let shared = Shared {
            core,
            locks: LockTable::default(),
            pipeline,
            next_txn_id: AtomicU64::new(1),
            options,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// Begins a transaction.
    pub fn begin(&self, options: TxnOptions) -> Transaction<E> {
        let id: TxnId = self.shared.next_txn_id.fetch_add(1, Ordering::Relaxed);
        Transaction::new(self.shared.clone(), id, options)
    }

    /// The engine below.
    pub fn engine(&self) -> &E {
        &self.shared.core.engine
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let mut stats = self.shared.core.stats.lock().clone();
        stats.visible_ts = self.shared.core.visible_ts.load(Ordering::Acquire);
        stats
    }

    /// Whether transaction `id` is waiting for a row lock (lets tests know a step blocked
    /// without timing it).
    pub fn is_waiting(&self, id: TxnId) -> bool {
        self.shared.locks.is_waiting(id)
    }

    /// Number of rows with an entry in the lock table. A bulk insert's implicit locks have
    /// none until another transaction asks for one of their keys.
    pub fn locked_rows(&self) -> usize {
        self.shared.locks.len()
    }
}
