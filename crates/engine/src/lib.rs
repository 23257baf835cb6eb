//! The ordered key-value engine trait below ZizhuDB's MVCC layer.
//!
//! An [`Engine`] stores byte keys in byte order and offers exactly what the transaction layer
//! (`zizhu-txn`) needs and nothing more: point [`Engine::get`], range [`Engine::scan`] in both
//! directions, an atomic [`WriteBatch`] with a chosen [`Durability`], and [`Engine::flush`].
//! Keeping it this narrow is what lets several implementations exist and be held to one
//! behaviour by the [`conformance`] suite, which every implementation runs in its own tests.
//!
//! Following TiKV's `engine_traits` rule, this crate depends on no engine: implementations live
//! in their own crates (`zizhu-engine-memory`, `zizhu-engine-redb`) and depend on this one.
//!
//! # Consistency contract
//!
//! - A [`WriteBatch`] is atomic in what survives: after a crash or a reopen, either all of it
//!   is present or none. Its range deletes ([`WriteBatch::delete_range`]) apply before its
//!   puts and deletes. Readers see a batch appear all at once, except that an engine may show
//!   a batch larger than its own threshold in parts while its `write` runs, and, if that
//!   `write` fails, until the engine is reopened (the redb engine's threshold is a sixteenth of
//!   its cache).
//! - A batch written with [`Durability::Sync`] is durable when `write` returns `Ok`: it survives
//!   process death and power loss. A batch written with [`Durability::Deferred`] is atomic and
//!   visible at once but becomes durable only with a later `Sync` write or [`Engine::flush`];
//!   after a crash, deferred batches are lost newest first, never out of order.
//! - Reads see every batch whose `write` returned before the read began. A scan that runs while
//!   batches are written observes each key at some moment between the scan's start and the
//!   moment it yields that key. The MVCC layer above never relies on more: every version it
//!   writes carries its own timestamp.
//! - After an I/O failure that leaves durability in doubt (a failed fsync above all), an engine
//!   refuses all further writes with [`Error::Poisoned`] rather than acknowledge anything it
//!   cannot promise; reopening the engine recovers from the last durable state.

use std::fmt;
use std::ops::Bound;

pub mod conformance;

/// Engine errors.
///
/// Errors are `Clone` because the commit pipeline reports one engine failure to every
/// transaction of the group that shared the write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The underlying storage failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// Stored data failed a consistency or authenticity check.
    #[error("data corruption: {0}")]
    Corruption(String),
    /// A previous failure left durability in doubt; the engine must be reopened.
    #[error("storage engine stopped after an earlier failure and must be restarted: {0}")]
    Poisoned(String),
    /// The data directory is already open in another process.
    #[error("data directory is in use by another process: {0}")]
    Locked(String),
    /// An invariant was broken: this is a bug.
    #[error("internal error (this is a bug): {0}")]
    Internal(String),
}

/// Engine result.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error::Internal`] from a format string: `errinternal!("bad page {}", id)`.
#[macro_export]
macro_rules! errinternal {
    ($($args:tt)*) => { $crate::Error::Internal(format!($($args)*)) };
}

/// Builds an [`Error::Corruption`] from a format string.
#[macro_export]
macro_rules! errcorrupt {
    ($($args:tt)*) => { $crate::Error::Corruption(format!($($args)*)) };
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err.to_string())
    }
}

/// How durable a [`WriteBatch`] must be when [`Engine::write`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// On stable storage (fsync'd) before `write` returns.
    Sync,
    /// Atomic and visible at once; durable with the next `Sync` write or [`Engine::flush`].
    Deferred,
}

/// Scan direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Ascending key order.
    Forward,
    /// Descending key order.
    Reverse,
}

/// A key range: start and end bounds over byte keys.
pub type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Returns the range of every key that starts with `prefix`.
pub fn prefix_range(prefix: &[u8]) -> KeyRange {
    let start = Bound::Included(prefix.to_vec());
    // The end is the prefix with its last non-0xff byte incremented and the rest dropped.
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return (start, Bound::Excluded(end));
        }
    }
    (start, Bound::Unbounded)
}

/// An ordered list of puts and deletes applied atomically, after the batch's range deletes. A
/// later operation on a key overrides an earlier one in the same batch.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    bytes: usize,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put of `value` under `key`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.bytes += key.len() + value.len();
        self.ops.push((key, Some(value)));
    }

    /// Adds a delete of `key` (a no-op if it is absent).
    pub fn delete(&mut self, key: Vec<u8>) {
        self.bytes += key.len();
        self.ops.push((key, None));
    }

    /// Adds a delete of every key from `start` to `end`, both included (none if `start` is
    /// greater). Range deletes apply before the batch's puts and deletes, whatever the order
    /// they were added in: for garbage collection of dropped objects, whose keys no put
    /// reaches.
    pub fn delete_range(&mut self, start: Vec<u8>, end: Vec<u8>) {
        self.bytes += start.len() + end.len();
        self.ranges.push((start, end));
    }

    /// Appends every operation of `other` after this batch's own, and its range deletes to
    /// this batch's (so they too apply before every put and delete).
    pub fn extend(&mut self, other: WriteBatch) {
        self.bytes += other.bytes;
        self.ranges.extend(other.ranges);
        self.ops.extend(other.ops);
    }

    /// The range deletes, as `(start, end)`, both included.
    pub fn deleted_ranges(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.ranges
    }

    /// The operations in order: `(key, Some(value))` for a put, `(key, None)` for a delete.
    pub fn ops(&self) -> &[(Vec<u8>, Option<Vec<u8>>)] {
        &self.ops
    }

    /// Consumes the batch into its range deletes and its operations.
    #[allow(clippy::type_complexity)]
    pub fn into_parts(self) -> (Vec<(Vec<u8>, Vec<u8>)>, Vec<(Vec<u8>, Option<Vec<u8>>)>) {
        (self.ranges, self.ops)
    }

    /// Number of operations, range deletes included.
    pub fn len(&self) -> usize {
        self.ranges.len() + self.ops.len()
    }

    /// Whether the batch holds no operations.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.ops.is_empty()
    }

    /// Bytes of keys and values held.
    pub fn size_bytes(&self) -> usize {
        self.bytes
    }
}

impl fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WriteBatch({} ops, {} range deletes, {} bytes)",
            self.ops.len(),
            self.ranges.len(),
            self.bytes
        )
    }
}

/// An owned iterator over `(key, value)` pairs of a scan.
pub type ScanIter<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + Send + 'a>;

/// Engine statistics for monitoring and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The implementation's name.
    pub name: String,
    /// Bytes the engine occupies on stable storage (0 for in-memory engines).
    pub size_on_disk: u64,
    /// Number of write batches written with [`Durability::Sync`] and flushes, since open.
    pub syncs: u64,
}

/// An ordered, durable key-value store. See the [crate docs](crate) for the contract.
pub trait Engine: Send + Sync + 'static {
    /// Reads the value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Iterates over the keys in `range` in the given direction.
    fn scan(&self, range: KeyRange, direction: Direction) -> Result<ScanIter<'_>>;

    /// Applies `batch` atomically with the given durability.
    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<()>;

    /// Makes every batch written so far durable.
    fn flush(&self) -> Result<()>;

    /// Statistics.
    fn status(&self) -> Result<Status>;
}
