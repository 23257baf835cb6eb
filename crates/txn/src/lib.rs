//! ZizhuDB's transaction layer: MVCC over the [`zizhu_engine::Engine`] trait, row locks with
//! deadlock detection, and a group-commit pipeline.
//!
//! # Design in one page
//!
//! - **Versions.** Every committed write is stored as `Version(key, ts)` ([`Key`]), where `ts`
//!   is the transaction's *commit timestamp*. Versions of one key sort newest first.
//! - **Buffered writes.** A transaction's writes stay in its own memory until commit; nothing
//!   uncommitted ever reaches the engine, so there is nothing to undo after a crash and no
//!   reader can ever see a partial transaction.
//! - **Snapshots.** A snapshot is a timestamp: it sees exactly the versions committed at or
//!   before it. Commit timestamps are handed out by one committer thread in order and become
//!   visible ([`Mvcc`]'s *visible timestamp*) only after the batch holding them is durable, so a
//!   snapshot is always a prefix of the commit order. READ COMMITTED takes a new snapshot per
//!   statement, REPEATABLE READ and SERIALIZABLE one per transaction (at its first statement,
//!   as PostgreSQL does).
//! - **Row locks** ([`LockMode`], [`WaitPolicy`]) are held in memory until the transaction ends.
//!   Every write takes one first, so the first writer of a row wins and later writers wait.
//!   When a waiter gets the lock, it learns the row's newest committed state: READ COMMITTED
//!   re-checks its predicate on it (PostgreSQL's EvalPlanQual); REPEATABLE READ fails with
//!   40001 if the row changed after its snapshot.
//! - **SERIALIZABLE** is REPEATABLE READ plus commit-time validation of everything the
//!   transaction read (points and ranges): if any of it was changed by a transaction that
//!   committed after the snapshot, the commit fails with 40001. Each committed writer is then
//!   equivalent to running alone at its commit point, and a read-only transaction to running at
//!   its snapshot, which is serializable. This aborts somewhat more often than PostgreSQL's SSI
//!   (it needs one rw-dependency, not two), never less safely.
//! - **Group commit.** Committing transactions hand their write sets to one committer thread,
//!   which applies all that are waiting in one engine batch with one fsync, then acknowledges
//!   each. While one fsync runs, the next group gathers.
//! - **Shared snapshots.** A transaction is used by one thread, but the committed rows of a
//!   range it wrote nothing in can be read at its snapshot from others
//!   ([`SnapshotReader`]): a parallel scan's workers.
//! - **Garbage collection** runs in the committer thread: once every active snapshot is at or
//!   after a commit, the versions that commit shadowed are deleted in a later group's batch.
//!
//! The design note `docs/architecture/storage.md` covers the same ground with the reasons, and
//! how flashback queries and Raft replication will fit.

mod error;
mod inline_key;
mod key;
mod lock;
mod mvcc;
mod pipeline;
mod scan;
mod snapshot_reader;
mod transaction;

pub(crate) use error::errinternal;
pub use error::{Error, Result, SerializationCause};
pub use key::Key;
pub use lock::{LockMode, WaitPolicy};
pub use mvcc::{IsolationLevel, Mvcc, Options, Stats, TxnOptions};
pub use scan::Scan;
pub use snapshot_reader::SnapshotReader;
pub use transaction::{RowLock, Transaction};

/// A commit timestamp; snapshots are timestamps too.
pub type Timestamp = u64;

/// A transaction's identifier, unique within one open database.
pub type TxnId = u64;

/// A row's state in a version or a write set: the row, or `None` for a delete (tombstone).
pub(crate) type RowState = Option<Vec<u8>>;
