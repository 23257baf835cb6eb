//! A transaction: snapshot reads, buffered writes, row locks, savepoints.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use zizhu_engine::{Direction, Engine, KeyRange};

use crate::inline_key::InlineKey;
use crate::key::{encode_version, version_range};
use crate::lock::{Acquired, Held, SharedHeld, WaitLimits};
use crate::mvcc::Shared;
use crate::pipeline::{decode_value, CommitRequest, ReadSet};
use crate::scan::{Scan, VisibleVersions};
use crate::snapshot_reader::SnapshotReader;
use crate::{
    errinternal, Error, IsolationLevel, LockMode, Result, RowState, SerializationCause, Timestamp,
    TxnId, TxnOptions, WaitPolicy,
};

/// A row lock taken by [`Transaction::lock_row`] or [`Transaction::lock_for_insert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowLock {
    /// The row's newest state (committed, or this transaction's own write); `None` if it does
    /// not exist (or was deleted).
    pub current: Option<Vec<u8>>,
    /// Whether a transaction that committed after this one's (statement) snapshot changed the
    /// row. Under READ COMMITTED the caller re-checks its predicate against `current`.
    pub changed: bool,
}

struct SavepointMark {
    name: String,
    undo_len: usize,
    lock_log_len: usize,
    dropped_len: usize,
}

/// Rows an [`insert_many`](Transaction::insert_many) call needs before its transaction
/// takes insert locks implicitly (see [`crate::lock`]): a bulk insert, not an OLTP one, so
/// that the registered implicit holders every lock request looks through stay few.
const IMPLICIT_FROM: usize = 256;

/// Keys taken implicitly per hold of the lock table's mutex.
const IMPLICIT_CHUNK: usize = 256;

/// Keys looked up in the record of held keys per hold of its mutex, in a long loop.
const HELD_CHUNK: usize = 1024;

/// A transaction. Dropping it without [`commit`](Self::commit) rolls it back.
pub struct Transaction<E: Engine> {
    shared: Arc<Shared<E>>,
    id: TxnId,
    options: TxnOptions,
    snapshot: Timestamp,
    /// REPEATABLE READ and SERIALIZABLE take their snapshot at the first statement, or at the
    /// first access if that comes first (a snapshot that was read from must never move).
    snapshot_fixed: Cell<bool>,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    write_bytes: usize,
    /// The keys this transaction locked, and the keys it knows to be fresh (see [`Held`]).
    /// Shared with the lock table once `implicit` is set; otherwise only this transaction
    /// ever locks it.
    held: SharedHeld,
    /// Whether the lock table knows `held` as holding implicit locks.
    implicit: bool,
    /// Ranges written by [`Transaction::put_private_sorted`]: every key in them is fresh.
    fresh_ranges: Vec<KeyRange>,
    /// Whether it wrote a key without an entry in `held` (covered or sorted private writes).
    unheld_writes: bool,
    /// Ranges dropped whole at commit ([`Transaction::drop_range`]).
    dropped: Vec<KeyRange>,
    reads: RefCell<ReadSet>,
    savepoints: Vec<SavepointMark>,
    /// While savepoints exist: each write's key and what the buffer held before.
    undo: Vec<(Vec<u8>, Option<RowState>)>,
    /// While savepoints exist: each lock taken or strengthened, and the mode held before.
    lock_log: RefCell<Vec<(Vec<u8>, Option<LockMode>)>>,
    cancel: Option<Arc<AtomicBool>>,
    finished: bool,
}

impl<E: Engine> Transaction<E> {
    pub(crate) fn new(shared: Arc<Shared<E>>, id: TxnId, options: TxnOptions) -> Self {
        let serializable = options.isolation == IsolationLevel::Serializable;
        let snapshot = shared.core.register_snapshot(serializable, None);
        Self {
            shared,
            id,
            options,
            snapshot,
            snapshot_fixed: Cell::new(false),
            writes: BTreeMap::new(),
            write_bytes: 0,
            held: SharedHeld::default(),
            implicit: false,
            fresh_ranges: Vec::new(),
            unheld_writes: false,
            dropped: Vec::new(),
            reads: RefCell::new(ReadSet::default()),
            savepoints: Vec::new(),
            undo: Vec::new(),
            lock_log: RefCell::new(Vec::new()),
            cancel: None,
            finished: false,
        }
    }

    /// This transaction's identifier.
    pub fn id(&self) -> TxnId {
        self.id
    }

    /// The isolation level.
    pub fn isolation(&self) -> IsolationLevel {
        self.options.isolation
    }

    /// The snapshot reads see.
    pub fn snapshot(&self) -> Timestamp {
        self.snapshot
    }

    /// Marks the start of a statement: READ COMMITTED takes a fresh snapshot; the other levels
    /// take theirs at the first statement and keep it. Returns whether it took one.
    pub fn begin_statement(&mut self) -> bool {
        let fresh =
            self.options.isolation == IsolationLevel::ReadCommitted || !self.snapshot_fixed.get();
        if fresh {
            let serializable = self.options.isolation == IsolationLevel::Serializable;
            self.snapshot = self
                .shared
                .core
                .register_snapshot(serializable, Some(self.snapshot));
            self.snapshot_fixed.set(true);
        }
        fresh
    }

    /// Sets the lock timeout for later lock waits (`SET lock_timeout`).
    pub fn set_lock_timeout(&mut self, timeout: Option<Duration>) {
        self.options.lock_timeout = timeout;
    }

    /// Installs a flag that, once set, makes a lock wait fail with [`Error::Canceled`]
    /// (statement timeout, cancel request).
    pub fn set_cancel_flag(&mut self, flag: Option<Arc<AtomicBool>>) {
        self.cancel = flag;
    }

    /// Reads `key` at the snapshot, seeing this transaction's own writes.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.snapshot_fixed.set(true);
        if let Some(value) = self.writes.get(key) {
            return Ok(value.clone());
        }
        if self.options.isolation == IsolationLevel::Serializable {
            self.reads.borrow_mut().points.push(key.to_vec());
        }
        self.read_committed(key, self.snapshot)
            .map(|v| v.and_then(|(_, value)| value))
    }

    /// Reads the newest committed value of `key` (or this transaction's own write), whatever
    /// the snapshot, and leaves no trace in the serializable read set: for advisory data such
    /// as planner statistics, which steer how a query runs but never what it returns, so a
    /// concurrent change to them must not fail a SERIALIZABLE transaction.
    pub fn get_advisory(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(value) = self.writes.get(key) {
            return Ok(value.clone());
        }
        self.read_latest(key)
            .map(|v| v.and_then(|(_, value)| value))
    }

    /// What this transaction wrote under `key`, if anything: `Some(None)` is its delete.
    pub fn own_write(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.writes.get(key).map(Option::as_deref)
    }

    /// Scans `range` at the snapshot, seeing this transaction's own writes.
    pub fn scan(&self, range: KeyRange, direction: Direction) -> Result<Scan<'_>> {
        self.scan_at(range, direction, self.snapshot)
    }

    /// The values of [`Self::scan`], for readers that need no keys. Where this transaction
    /// wrote nothing in `range`, the keys are neither unescaped nor copied.
    pub fn scan_values(
        &self,
        range: KeyRange,
        direction: Direction,
    ) -> Result<impl Iterator<Item = Result<Vec<u8>>> + '_> {
        let keys = self.writes.range(range.clone()).next().is_some();
        self.track_scan(&range);
        let scan = self.scan_versions(range, direction, self.snapshot, keys)?;
        Ok(scan.map(|item| item.map(|(_, value)| value)))
    }

    /// A reader of the committed rows of `range` at this transaction's snapshot that other
    /// threads may share (a parallel scan's workers), or `None` if this transaction wrote in
    /// `range`: its own writes are visible to its own thread only. The range counts as read,
    /// as by [`Self::scan`].
    pub fn snapshot_reader(&self, range: &KeyRange) -> Option<SnapshotReader<'_, E>> {
        if self.writes.range(range.clone()).next().is_some() {
            return None;
        }
        self.track_scan(range);
        Some(SnapshotReader::new(
            &self.shared.core.engine,
            self.snapshot,
            range.clone(),
        ))
    }

    /// Scans `range` as of now rather than at the snapshot: the newest committed version of
    /// every key, and this transaction's own writes. For checks that must see rows the
    /// snapshot cannot, as a foreign key's must before its parent row goes; a caller acting on
    /// such a row locks it first.
    pub fn scan_latest(&self, range: KeyRange, direction: Direction) -> Result<Scan<'_>> {
        self.scan_at(range, direction, Timestamp::MAX)
    }

    /// The greatest key in `range` that has ever had a version still stored (committed or
    /// not yet visible, deleted or not, not yet collected) or that this transaction wrote: a
    /// key above it has no version at all. For handing out keys that must never have been
    /// used, such as hidden row ids.
    pub fn newest_key_ever(&self, range: KeyRange) -> Result<Option<Vec<u8>>> {
        let own = self.writes.range(range.clone()).next_back().map(|(k, _)| k);
        let stored = match self
            .shared
            .core
            .engine
            .scan(version_range(&range), Direction::Reverse)?
            .next()
        {
            Some(item) => Some(crate::key::decode_version(&item?.0)?.0),
            None => None,
        };
        Ok(match (own, stored) {
            (Some(own), Some(stored)) => Some(stored.max(own.clone())),
            (own, stored) => stored.or_else(|| own.cloned()),
        })
    }

    /// Scans `range` at the snapshot, as [`Self::scan`], but outside the serializable read set:
    /// for reads whose output is advisory (ANALYZE's statistics), which a concurrent write
    /// cannot make wrong, only stale.
    pub fn scan_advisory(&self, range: KeyRange, direction: Direction) -> Result<Scan<'_>> {
        self.snapshot_fixed.set(true);
        self.scan_versions(range, direction, self.snapshot, true)
    }

    fn scan_at(&self, range: KeyRange, direction: Direction, ts: Timestamp) -> Result<Scan<'_>> {
        self.track_scan(&range);
        self.scan_versions(range, direction, ts, true)
    }

    /// Fixes the snapshot and, under SERIALIZABLE, records `range` as read.
    fn track_scan(&self, range: &KeyRange) {
        self.snapshot_fixed.set(true);
        if self.options.isolation == IsolationLevel::Serializable {
            self.reads.borrow_mut().ranges.push(range.clone());
        }
    }

    /// The scan itself; without `keys` the rows' keys are left empty (see
    /// [`VisibleVersions::values_only`]), which is sound only where no own write needs
    /// merging by key.
    fn scan_versions(
        &self,
        range: KeyRange,
        direction: Direction,
        ts: Timestamp,
        keys: bool,
    ) -> Result<Scan<'_>> {
        let versions = self
            .shared
            .core
            .engine
            .scan(version_range(&range), direction)?;
        let mut committed = VisibleVersions::new(versions, ts, direction);
        if !keys {
            committed = committed.values_only();
        }
        Ok(Scan::new(committed, self.writes.range(range), direction))
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, key: &[u8], value: Vec<u8>) -> Result<()> {
        self.write(key, Some(value))
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.write(key, None)
    }

    /// Writes advisory data (planner statistics) under `key`: the row lock orders concurrent
    /// writers, but the last one wins at every isolation level, since no reader's result
    /// depends on it (a REPEATABLE READ ANALYZE does not fail because the automatic one
    /// stored statistics after its snapshot).
    pub fn put_advisory(&mut self, key: &[u8], value: Vec<u8>) -> Result<()> {
        self.snapshot_fixed.set(true);
        self.check_writable(true)?;
        self.acquire(key, LockMode::Update, WaitPolicy::Wait)?;
        self.buffer(key, Some(value));
        Ok(())
    }

    /// Writes `value` under a key no other transaction can reach and that has no version: one
    /// of an object this transaction created and has not committed (the entries of an index it
    /// is building), or a row under a hidden row id never handed out before.
    /// Such a key needs no row lock and cannot conflict, and a bulk build skips the lock table.
    /// Returns whether it replaced a value this transaction had written there.
    pub fn put_private(&mut self, key: &[u8], value: Vec<u8>) -> Result<bool> {
        self.check_writable(true)?;
        self.snapshot_fixed.set(true);
        self.held
            .lock()
            .entry(InlineKey::new(key))
            .or_default()
            .fresh = true;
        Ok(self.buffer(key, Some(value)))
    }

    /// [`put_private`](Self::put_private) for a whole new object at once: `entries`, sorted
    /// by key without repeats, all inside `range`, where this transaction has written nothing.
    /// They join the write buffer in one bulk build, and the range is remembered as fresh
    /// instead of each key (an index build of a million rows inserted them one by one into the
    /// buffer and the lock bookkeeping, in random order).
    pub fn put_private_sorted(
        &mut self,
        range: KeyRange,
        entries: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<()> {
        self.check_writable(true)?;
        self.snapshot_fixed.set(true);
        // Sorted, so within the range if its first and last are.
        if !entries.windows(2).all(|w| w[0].0 < w[1].0)
            || !entries.first().is_none_or(|(key, _)| in_range(&range, key))
            || !entries.last().is_none_or(|(key, _)| in_range(&range, key))
            || self.writes.range(range.clone()).next().is_some()
        {
            return Err(errinternal!(
                "private entries unsorted, repeated or outside their range"
            ));
        }
        if !self.savepoints.is_empty() {
            // A savepoint's rollback needs an undo entry per key.
            for (key, value) in entries {
                self.put_private(&key, value)?;
            }
            return Ok(());
        }
        self.write_bytes += entries
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum::<usize>();
        // Sorted input: collecting is a linear bulk build, and so is appending.
        let mut bulk: BTreeMap<Vec<u8>, Option<Vec<u8>>> = entries
            .into_iter()
            .map(|(key, value)| (key, Some(value)))
            .collect();
        self.writes.append(&mut bulk);
        self.fresh_ranges.push(range);
        self.unheld_writes = true;
        Ok(())
    }

    /// Drops every key in `range` when this transaction commits, writing nothing per key. For
    /// the rows of a table or the entries of an index whose catalog entry this transaction
    /// removes: no snapshot taken after the commit can reach them (object ids are never
    /// reused), while snapshots taken before still read them. Once none of those is left, the
    /// committer deletes every version in the range. This transaction's own writes in the
    /// range are discarded now.
    pub fn drop_range(&mut self, range: KeyRange) -> Result<()> {
        self.check_writable(false)?;
        self.snapshot_fixed.set(true);
        let own: Vec<Vec<u8>> = self
            .writes
            .range(range.clone())
            .map(|(k, _)| k.clone())
            .collect();
        for key in own {
            let previous = self.writes.remove(&key);
            if let Some(value) = &previous {
                let size = key.len() + value.as_ref().map_or(0, Vec::len);
                self.write_bytes = self.write_bytes.saturating_sub(size);
            }
            if !self.savepoints.is_empty() {
                self.undo.push((key, previous));
            }
        }
        self.dropped.push(range);
        Ok(())
    }

    fn check_writable(&self, put: bool) -> Result<()> {
        if self.options.read_only {
            return Err(Error::ReadOnly(
                if put { "a write" } else { "a delete" }.into(),
            ));
        }
        Ok(())
    }

    /// Puts a write in the buffer (and the undo log under a savepoint); returns whether it
    /// replaced a buffered value (not a delete).
    fn buffer(&mut self, key: &[u8], value: Option<Vec<u8>>) -> bool {
        self.buffer_owned(key.to_vec(), value)
    }

    fn buffer_owned(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> bool {
        let size = key.len() + value.as_ref().map_or(0, Vec::len);
        let undo = (!self.savepoints.is_empty()).then(|| key.clone());
        let previous = self.writes.insert(key, value);
        self.write_bytes += size;
        let replaced = matches!(previous, Some(Some(_)));
        if let Some(key) = undo {
            self.undo.push((key, previous));
        }
        replaced
    }

    fn write(&mut self, key: &[u8], value: Option<Vec<u8>>) -> Result<()> {
        self.snapshot_fixed.set(true);
        self.check_writable(value.is_some())?;
        if self
            .held
            .lock()
            .get(key)
            .and_then(|h| h.mode)
            .is_none_or(|m| m < LockMode::NoKeyUpdate)
        {
            // A blind write: lock the row first. First updater wins under REPEATABLE READ.
            self.acquire(key, LockMode::Update, WaitPolicy::Wait)?;
            if self.options.isolation >= IsolationLevel::RepeatableRead
                && !self.writes.contains_key(key)
            {
                if let Some((ts, value)) = self.read_latest(key)? {
                    if ts > self.snapshot {
                        return Err(conflict(value.is_none()));
                    }
                }
            }
        }
        self.buffer(key, value);
        Ok(())
    }

    /// Locks a row this transaction found at its snapshot, for UPDATE, DELETE or `SELECT ...
    /// FOR <mode>`. Returns `None` if skipped under [`WaitPolicy::SkipLocked`].
    ///
    /// Under REPEATABLE READ and SERIALIZABLE a row changed after the snapshot fails with
    /// 40001, as in PostgreSQL. Under READ COMMITTED the lock reports the row's newest state so
    /// the caller can re-check its predicate.
    pub fn lock_row(
        &self,
        key: &[u8],
        mode: LockMode,
        wait: WaitPolicy,
    ) -> Result<Option<RowLock>> {
        if self.options.read_only && mode >= LockMode::NoKeyUpdate {
            return Err(Error::ReadOnly("SELECT FOR UPDATE".into()));
        }
        let Some(lock) = self.lock(key, mode, wait)? else {
            return Ok(None);
        };
        if lock.changed && self.options.isolation >= IsolationLevel::RepeatableRead {
            return Err(conflict(lock.current.is_none()));
        }
        Ok(Some(lock))
    }

    /// Locks a key about to be inserted and reports whether a row exists there now, at any
    /// isolation level: a unique check must see rows its snapshot cannot.
    pub fn lock_for_insert(&self, key: &[u8], wait: WaitPolicy) -> Result<Option<RowLock>> {
        if self.options.read_only {
            return Err(Error::ReadOnly("INSERT".into()));
        }
        self.lock(key, LockMode::Update, wait)
    }

    /// Inserts `value` under `key` unless a row is there now, at any isolation level (as
    /// [`lock_for_insert`](Self::lock_for_insert) sees it), taking the key's update lock first
    /// so that a concurrent inserter of the same key waits for this transaction to end. Returns
    /// the row found there, writing nothing, or `None` once `value` is written. The lock stays
    /// either way. [`insert_many`](Self::insert_many) of one row: the same as
    /// `lock_for_insert` and then [`put`](Self::put), with fewer lookups.
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>) -> Result<Option<Vec<u8>>> {
        Ok(self.insert_many(vec![(key.to_vec(), value)])?.1)
    }

    /// [`insert`](Self::insert) for rows in their order, from the front of `rows`: returns how
    /// many it handled, and the row found under the last of those if its key was taken (it is
    /// not written; the rows before it are). It handles every row unless a key is taken, or a
    /// key after the first is locked by another transaction: it waits only for the first, so
    /// that, as row by row, a row's wait comes after everything the rows before it do; the
    /// caller goes on with the rest. The keys' stored versions are found in one pass over the
    /// engine, in key order, instead of a seek per key, once the keys are locked. Keys locked
    /// after a taken one stay locked, as any lock does until the transaction (or a savepoint's
    /// rollback) ends.
    pub fn insert_many(
        &mut self,
        mut rows: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(usize, Option<Vec<u8>>)> {
        if self.options.read_only {
            return Err(Error::ReadOnly("INSERT".into()));
        }
        self.snapshot_fixed.set(true);
        if !self.implicit && rows.len() >= IMPLICIT_FROM {
            self.shared
                .locks
                .register_implicit(self.id, self.held.clone());
            self.implicit = true;
        }
        let limits = self.wait_limits();
        // Positions whose key this call locked; the others were held already (a key that
        // comes twice is held by its second time).
        let mut locked_here = Vec::new();
        let mut held_before = vec![false; rows.len()];
        let mut end = rows.len();
        let mut i = 0;
        while i < rows.len() {
            if self.implicit {
                i = self.take_implicit(&rows, i, &mut held_before, &mut locked_here);
                if i == rows.len() {
                    break;
                }
            }
            // The key needs the lock table: someone else holds or awaits it, or this
            // transaction holds it in a weaker mode, or it takes no implicit locks.
            let key = &rows[i].0;
            let wait = if i == 0 {
                WaitPolicy::Wait
            } else {
                WaitPolicy::NoWait
            };
            if self.held.lock().contains_key(key.as_slice()) {
                held_before[i] = true;
                match self.acquire(key, LockMode::Update, wait) {
                    Err(Error::LockNotAvailable) if i > 0 => {
                        end = i;
                        break;
                    }
                    other => other?,
                };
                i += 1;
                continue;
            }
            let acquired =
                match self
                    .shared
                    .locks
                    .acquire(self.id, key, LockMode::Update, wait, &limits)
                {
                    Err(Error::LockNotAvailable) if i > 0 => {
                        end = i;
                        break;
                    }
                    other => other?,
                };
            if acquired == Acquired::Skipped {
                return Err(errinternal!("a waiting insert lock was skipped"));
            }
            // Recorded at once, so that an error below still releases it.
            let held = Held {
                mode: Some(LockMode::Update),
                ..Held::default()
            };
            self.held.lock().insert(InlineKey::new(key), held);
            if !self.savepoints.is_empty() {
                self.lock_log.borrow_mut().push((key.clone(), None));
            }
            locked_here.push(i);
            i += 1;
        }
        rows.truncate(end);
        locked_here.sort_unstable_by(|&a, &b| rows[a].0.cmp(&rows[b].0));
        let keys: Vec<&[u8]> = locked_here.iter().map(|&i| rows[i].0.as_slice()).collect();
        let newest = self.newest_versions(&keys)?;
        let mut stored = vec![None; rows.len()];
        {
            let mut held = self.held.lock();
            for (&i, version) in locked_here.iter().zip(newest) {
                match version {
                    // No version at all: nobody can give the key one before this one ends.
                    None => {
                        if let Some(held) = held.get_mut(rows[i].0.as_slice()) {
                            held.fresh = true;
                        }
                    }
                    Some(row) => stored[i] = row,
                }
            }
        }
        for (i, ((key, value), found)) in rows.into_iter().zip(stored).enumerate() {
            // A key locked here has no write of this transaction, unless it wrote keys
            // without holding them: every other write holds its key (in `held`).
            let own_possible = held_before[i] || self.unheld_writes;
            let current = match own_possible {
                false => found,
                true => match self.writes.get(&key) {
                    Some(own) => own.clone(),
                    None => self.read_latest(&key)?.and_then(|(_, row)| row),
                },
            };
            if let Some(current) = current {
                return Ok((i + 1, Some(current)));
            }
            self.buffer_owned(key, Some(value));
        }
        Ok((end, None))
    }

    /// Takes the keys of `rows` from `i` on implicitly, in order, while they are free (see
    /// [`crate::lock`]), as [`insert_many`](Self::insert_many) records them; a key this
    /// transaction holds in update mode already is marked in `held_before`. Returns where it
    /// stopped: the end, or a key that needs the lock table.
    fn take_implicit(
        &self,
        rows: &[(Vec<u8>, Vec<u8>)],
        mut i: usize,
        held_before: &mut [bool],
        locked_here: &mut Vec<usize>,
    ) -> usize {
        use std::collections::hash_map::Entry;
        let logged = !self.savepoints.is_empty();
        // Grown here, not under the lock table's mutex: growing a map of a million keys takes
        // milliseconds.
        self.held.lock().reserve(rows.len() - i);
        while i < rows.len() {
            let stop = rows.len().min(i + IMPLICIT_CHUNK);
            let stuck = self.shared.locks.with_free_check(self.id, |free| {
                let mut held = self.held.lock();
                while i < stop {
                    let key = rows[i].0.as_slice();
                    match held.entry(InlineKey::new(key)) {
                        Entry::Occupied(entry) => {
                            if entry.get().mode.is_none_or(|m| m < LockMode::Update) {
                                return true;
                            }
                            held_before[i] = true;
                        }
                        Entry::Vacant(entry) => {
                            if !free(key) {
                                return true;
                            }
                            entry.insert(Held {
                                mode: Some(LockMode::Update),
                                fresh: false,
                                implicit: true,
                            });
                            if logged {
                                self.lock_log.borrow_mut().push((key.to_vec(), None));
                            }
                            locked_here.push(i);
                        }
                    }
                    i += 1;
                }
                false
            });
            if stuck {
                return i;
            }
        }
        i
    }

    /// The newest stored version of each of `keys` (sorted): `None` if it has none, else its
    /// value (`None` for a tombstone). One forward pass over the engine from the first key to
    /// the last, seeking afresh past a long stretch of other keys.
    fn newest_versions(&self, keys: &[&[u8]]) -> Result<Vec<Option<Option<Vec<u8>>>>> {
        /// Entries stepped over before a new seek is cheaper.
        const RESEEK: usize = 16;
        let (Some(first), Some(last)) = (keys.first(), keys.last()) else {
            return Ok(Vec::new());
        };
        let engine = &self.shared.core.engine;
        let end = Bound::Included(encode_version(last, 0));
        let seek = |from: Vec<u8>| -> Result<_> {
            Ok(engine
                .scan((Bound::Included(from), end.clone()), Direction::Forward)?
                .peekable())
        };
        let mut scan = seek(crate::key::version_prefix(first))?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let prefix = crate::key::version_prefix(key);
            let mut steps = 0;
            loop {
                match scan.peek() {
                    Some(Ok((stored, _))) if stored.as_slice() < prefix.as_slice() => {
                        steps += 1;
                        if steps > RESEEK {
                            scan = seek(prefix.clone())?;
                            steps = 0;
                        } else {
                            scan.next();
                        }
                    }
                    Some(Err(_)) => {
                        if let Some(Err(err)) = scan.next() {
                            return Err(err.into());
                        }
                    }
                    _ => break,
                }
            }
            // Versions sort newest first, and the prefix ends with the key's terminator: the
            // first entry with it is the key's newest version.
            out.push(match scan.peek() {
                Some(Ok((stored, value))) if stored.starts_with(&prefix) => {
                    Some(decode_value(value.clone())?)
                }
                _ => None,
            });
        }
        Ok(out)
    }

    /// Writes `value` under a key that only the writer of another key can write: a non-unique
    /// index entry, whose key ends with its row's primary key. Whatever keeps others off the
    /// row (its lock, or a key nobody else can reach) orders the writers of the entry, and the
    /// row's lock decides REPEATABLE READ's first updater, so the entry takes no lock of its
    /// own.
    pub fn put_covered(&mut self, key: &[u8], value: Vec<u8>) -> Result<()> {
        self.check_writable(true)?;
        self.snapshot_fixed.set(true);
        self.unheld_writes = true;
        self.buffer(key, Some(value));
        Ok(())
    }

    /// Deletes a key [`put_covered`](Self::put_covered) would write, taking no lock.
    pub fn delete_covered(&mut self, key: &[u8]) -> Result<()> {
        self.check_writable(false)?;
        self.snapshot_fixed.set(true);
        self.unheld_writes = true;
        self.buffer(key, None);
        Ok(())
    }

    fn wait_limits(&self) -> WaitLimits {
        WaitLimits {
            lock_timeout: self.options.lock_timeout,
            deadlock_timeout: self.shared.options.deadlock_timeout,
            cancel: self.cancel.clone(),
        }
    }

    fn lock(&self, key: &[u8], mode: LockMode, wait: WaitPolicy) -> Result<Option<RowLock>> {
        self.snapshot_fixed.set(true);
        if !self.acquire(key, mode, wait)? {
            return Ok(None);
        }
        if let Some(own) = self.writes.get(key) {
            return Ok(Some(RowLock {
                current: own.clone(),
                changed: false,
            }));
        }
        Ok(Some(match self.read_latest(key)? {
            Some((ts, current)) => RowLock {
                current,
                changed: ts > self.snapshot,
            },
            None => {
                // Held in update mode, nobody else can give the key a version before this
                // transaction commits.
                if mode >= LockMode::NoKeyUpdate {
                    if let Some(held) = self.held.lock().get_mut(key) {
                        held.fresh = true;
                    }
                }
                RowLock {
                    current: None,
                    changed: false,
                }
            }
        }))
    }

    /// Takes a row lock, recording it for release; false if skipped.
    fn acquire(&self, key: &[u8], mode: LockMode, wait: WaitPolicy) -> Result<bool> {
        let before = self.held.lock().get(key).and_then(|h| h.mode);
        if before.is_some_and(|m| m >= mode) {
            return Ok(true);
        }
        match self
            .shared
            .locks
            .acquire(self.id, key, mode, wait, &self.wait_limits())?
        {
            Acquired::Skipped => Ok(false),
            Acquired::Granted { .. } => {
                let mode = before.map_or(mode, |b| b.max(mode));
                let mut held = self.held.lock();
                if let Some(held) = held.get_mut(key) {
                    held.mode = Some(mode);
                    held.implicit = false;
                } else {
                    let entry = Held {
                        mode: Some(mode),
                        ..Held::default()
                    };
                    held.insert(InlineKey::new(key), entry);
                }
                if !self.savepoints.is_empty() {
                    self.lock_log.borrow_mut().push((key.to_vec(), before));
                }
                Ok(true)
            }
        }
    }

    /// The newest version of `key` at or below `ts`: its timestamp and value (`None` if a
    /// tombstone).
    fn read_committed(
        &self,
        key: &[u8],
        ts: Timestamp,
    ) -> Result<Option<(Timestamp, Option<Vec<u8>>)>> {
        let (lower, upper) = crate::key::versions_from(key, ts);
        let range = (Bound::Included(lower), Bound::Included(upper));
        match self
            .shared
            .core
            .engine
            .scan(range, Direction::Forward)?
            .next()
        {
            None => Ok(None),
            Some(item) => {
                let (raw_key, raw_value) = item?;
                // The range holds only versions of `key`: its timestamp is all that is read.
                let (_, version) = crate::key::split_version(&raw_key)?;
                Ok(Some((version, decode_value(raw_value)?)))
            }
        }
    }

    /// The newest committed version of `key`, whatever the snapshot.
    fn read_latest(&self, key: &[u8]) -> Result<Option<(Timestamp, Option<Vec<u8>>)>> {
        self.read_committed(key, u64::MAX)
    }

    /// Sets a savepoint (`SAVEPOINT name`). Names may repeat; the newest is used.
    pub fn savepoint(&mut self, name: &str) {
        self.savepoints.push(SavepointMark {
            name: name.to_string(),
            undo_len: self.undo.len(),
            lock_log_len: self.lock_log.borrow().len(),
            dropped_len: self.dropped.len(),
        });
    }

    /// Undoes everything since the savepoint, which remains (`ROLLBACK TO SAVEPOINT`); locks
    /// taken since are released, as in PostgreSQL.
    pub fn rollback_to(&mut self, name: &str) -> Result<()> {
        let pos = self.find_savepoint(name)?;
        let mark = &self.savepoints[pos];
        let (undo_len, lock_log_len) = (mark.undo_len, mark.lock_log_len);
        self.dropped.truncate(mark.dropped_len);
        for (key, previous) in self.undo.drain(undo_len..).rev() {
            match previous {
                Some(value) => self.writes.insert(key, value),
                None => self.writes.remove(&key),
            };
        }
        let undone: Vec<_> = self
            .lock_log
            .borrow_mut()
            .drain(lock_log_len..)
            .rev()
            .collect();
        for (key, before) in undone {
            match before {
                Some(mode) => {
                    self.shared.locks.downgrade(self.id, &key, mode);
                    if let Some(held) = self.held.lock().get_mut(key.as_slice()) {
                        held.mode = Some(mode);
                    }
                }
                None => {
                    // Out of the record first: a key held implicitly can then no longer be
                    // converted, and the release below takes any entry converted before.
                    // Once released, another transaction may give the key a version: it is
                    // no longer known fresh either. A key still written (privately, or
                    // covered, before the lock) keeps its entry, without the lock: every
                    // write has one ([`Transaction::insert_many`] relies on it).
                    {
                        let mut held = self.held.lock();
                        match self.writes.contains_key(&key) {
                            true => {
                                if let Some(entry) = held.get_mut(key.as_slice()) {
                                    *entry = Held::default();
                                }
                            }
                            false => {
                                held.remove(key.as_slice());
                            }
                        }
                    }
                    self.shared.locks.release(self.id, [key.as_slice()]);
                }
            }
        }
        self.write_bytes = self
            .writes
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum();
        self.savepoints.truncate(pos + 1);
        Ok(())
    }

    /// Forgets the savepoint and those after it, keeping their work (`RELEASE SAVEPOINT`).
    pub fn release_savepoint(&mut self, name: &str) -> Result<()> {
        let pos = self.find_savepoint(name)?;
        self.savepoints.truncate(pos);
        if self.savepoints.is_empty() {
            self.undo.clear();
            self.lock_log.borrow_mut().clear();
        }
        Ok(())
    }

    fn find_savepoint(&self, name: &str) -> Result<usize> {
        self.savepoints
            .iter()
            .rposition(|s| s.name == name)
            .ok_or_else(|| Error::NoSuchSavepoint(name.to_string()))
    }

    /// Commits. Returns the commit timestamp, or `None` for a transaction that wrote nothing.
    /// `Ok` means durable.
    pub fn commit(mut self) -> Result<Option<Timestamp>> {
        if self.writes.is_empty() && self.dropped.is_empty() {
            self.finish();
            return Ok(None);
        }
        let serializable = self.options.isolation == IsolationLevel::Serializable;
        let mut writes = Vec::with_capacity(self.writes.len());
        let mut collect = Vec::new();
        {
            // Let go now and then: while this transaction is registered, other lock requests
            // read the record under the lock table's mutex.
            let mut held = self.held.lock();
            for (n, (key, value)) in std::mem::take(&mut self.writes).into_iter().enumerate() {
                if n % HELD_CHUNK == HELD_CHUNK - 1 {
                    parking_lot::MutexGuard::bump(&mut held);
                }
                let fresh = self.fresh_ranges.iter().any(|r| in_range(r, &key))
                    || held.get(key.as_slice()).is_some_and(|h| h.fresh);
                if fresh && value.is_none() {
                    // A key with no older version needs no tombstone (which, shadowing
                    // nothing, would never be collected).
                    continue;
                }
                if !fresh {
                    collect.push(writes.len());
                }
                writes.push((key, value));
            }
        }
        if writes.is_empty() && self.dropped.is_empty() {
            self.finish();
            return Ok(None);
        }
        let request = CommitRequest {
            writes,
            collect,
            dropped: std::mem::take(&mut self.dropped),
            bytes: self.write_bytes,
            snapshot_ts: self.snapshot,
            reads: serializable.then(|| self.reads.take()),
            reply: crossbeam_channel::bounded(1).0,
        };
        let result = self.shared.pipeline.commit(request);
        // Locks go only now: the commit is visible, so the next holder reads it.
        self.finish();
        result.map(Some)
    }

    /// Rolls back: discards the writes and releases the locks.
    pub fn rollback(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // Unregistered first: nobody converts an implicit lock after this, so the record
        // says which locks have entries, and this thread alone locks it (record before
        // table is safe only now).
        if self.implicit {
            self.shared.locks.unregister_implicit(self.id);
        }
        let mut held = self.held.lock();
        self.shared.locks.release(
            self.id,
            held.iter()
                .filter(|(_, h)| h.mode.is_some() && !h.implicit)
                .map(|(k, _)| k.as_slice()),
        );
        held.clear();
        drop(held);
        let serializable = self.options.isolation == IsolationLevel::Serializable;
        self.shared
            .core
            .release_snapshot(serializable, self.snapshot);
    }
}

impl<E: Engine> Drop for Transaction<E> {
    fn drop(&mut self) {
        self.finish();
    }
}

fn in_range(range: &KeyRange, key: &[u8]) -> bool {
    let above = match &range.0 {
        Bound::Included(start) => key >= start.as_slice(),
        Bound::Excluded(start) => key > start.as_slice(),
        Bound::Unbounded => true,
    };
    above
        && match &range.1 {
            Bound::Included(end) => key <= end.as_slice(),
            Bound::Excluded(end) => key < end.as_slice(),
            Bound::Unbounded => true,
        }
}

fn conflict(deleted: bool) -> Error {
    Error::Serialization(if deleted {
        SerializationCause::ConcurrentDelete
    } else {
        SerializationCause::ConcurrentUpdate
    })
}
