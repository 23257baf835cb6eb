//! Row locks: PostgreSQL's four row-lock modes, FIFO wait queues and deadlock detection.
//!
//! Writers never fail on a locked row; they wait, as in PostgreSQL and Oracle. A lock is held
//! until its transaction ends (or a savepoint it was taken under is rolled back). The table is
//! one map behind one mutex: lock operations are short, and a single mutex gives the deadlock
//! detector a consistent wait-for graph without lock ordering between shards.
//!
//! Granting is FIFO: a request is granted when it is compatible with every holder and no
//! incompatible request waits ahead of it, so a stream of readers cannot starve a writer. A
//! holder asking for a stronger mode goes to the front of the queue. When a lock is released,
//! the lock table grants waiting requests itself and wakes their owners (hand-off), so a woken
//! transaction never has to compete again.
//!
//! **Implicit locks.** A bulk insert would put a million entries in the table and take them
//! out again at its end, each a probe missing the cache. Instead, a transaction that inserts
//! many rows at once records its insert locks only in its own record of what it holds
//! ([`HeldMap`], marked [`Held::implicit`]) and registers that record here
//! ([`LockTable::register_implicit`]). A key is taken implicitly only while it has no entry
//! here and no other registered transaction holds it implicitly ([`LockTable::with_free_check`]).
//! Anyone who then wants the key finds no entry, looks through the registered records, and
//! turns the implicit lock into an entry held by its owner before queueing behind it, as
//! InnoDB does; the owner releases such converted locks with its explicit ones. All of this
//! happens under the table's mutex, so a key is never taken implicitly and explicitly at once.
//!
//! Deadlocks are found when a transaction starts to wait: it follows the wait-for edges (to
//! incompatible holders and to incompatible requests queued ahead of it) and, if they lead back
//! to itself, it is the victim and fails with [`Error::Deadlock`] at once. Every edge of a cycle
//! is added by some transaction starting to wait, so the last one to close a cycle always finds
//! it; as a guard against any edge appearing another way, a waiter re-runs the check each
//! `deadlock_timeout` (1 s by default, as in PostgreSQL).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::inline_key::InlineKey;
use crate::{errinternal, Error, Result, TxnId};

/// Row lock modes, weakest first, with PostgreSQL's conflict table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    /// `FOR KEY SHARE`: taken by foreign-key checks; blocks only deletes and key updates.
    KeyShare,
    /// `FOR SHARE`.
    Share,
    /// `FOR NO KEY UPDATE`: taken by updates that leave the key unchanged.
    NoKeyUpdate,
    /// `FOR UPDATE`: taken by deletes, key updates, inserts and `SELECT ... FOR UPDATE`.
    Update,
}

impl LockMode {
    /// Whether a lock in `self` mode can be held alongside one in `other` mode by another
    /// transaction.
    pub fn compatible(self, other: LockMode) -> bool {
        use LockMode::*;
        !matches!(
            (self, other),
            (Update, _) | (_, Update) | (NoKeyUpdate, NoKeyUpdate | Share) | (Share, NoKeyUpdate)
        )
    }
}

/// What to do when a row lock is held by another transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Wait until granted, the lock timeout passes, or a deadlock is found.
    Wait,
    /// Fail at once with [`Error::LockNotAvailable`] (`NOWAIT`).
    NoWait,
    /// Give up at once and report the row as skipped (`SKIP LOCKED`).
    SkipLocked,
}

/// Outcome of a lock request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The lock is held (newly, or it already was in this or a stronger mode).
    Granted {
        /// Whether the transaction had to wait for another transaction.
        waited: bool,
    },
    /// Another transaction holds the row and the policy was [`WaitPolicy::SkipLocked`].
    Skipped,
}

/// How long to wait, and how to learn that the waiting statement was cancelled.
#[derive(Clone, Debug)]
pub(crate) struct WaitLimits {
    pub lock_timeout: Option<Duration>,
    pub deadlock_timeout: Duration,
    pub cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
}

struct Request {
    txn: TxnId,
    mode: LockMode,
    wakeup: Arc<Condvar>,
}

/// A row's lock: its holders and the requests waiting for it. Nearly every entry has one
/// holder and no queue; that case is 24 bytes inline, and the rest is boxed, because a bulk
/// insert holds a million entries and their size is what the table's probes miss the cache on.
#[derive(Default)]
struct Entry {
    first: Option<(TxnId, LockMode)>,
    more: Option<Box<More>>,
}

/// The holders after the first, and the queue: only for a lock more than one transaction wants.
#[derive(Default)]
struct More {
    /// Empty while `first` is `None`.
    rest: Vec<(TxnId, LockMode)>,
    queue: VecDeque<Request>,
}

/// The queue of an entry that has none.
static NO_QUEUE: VecDeque<Request> = VecDeque::new();

impl Entry {
    fn holders(&self) -> impl Iterator<Item = &(TxnId, LockMode)> {
        let rest = self.more.as_deref().map_or(&[][..], |m| m.rest.as_slice());
        self.first.iter().chain(rest)
    }

    fn holders_mut(&mut self) -> impl Iterator<Item = &mut (TxnId, LockMode)> {
        let rest = self
            .more
            .as_deref_mut()
            .map_or(&mut [][..], |m| m.rest.as_mut_slice());
        self.first.iter_mut().chain(rest)
    }

    fn push_holder(&mut self, holder: (TxnId, LockMode)) {
        match self.first {
            None => self.first = Some(holder),
            Some(_) => self.more_mut().rest.push(holder),
        }
    }

    /// Removes `txn`'s hold, if any.
    fn remove_holder(&mut self, txn: TxnId) {
        let rest = match self.more.as_deref_mut() {
            Some(more) => {
                more.rest.retain(|(t, _)| *t != txn);
                &mut more.rest
            }
            None => {
                if self.first.is_some_and(|(t, _)| t == txn) {
                    self.first = None;
                }
                return;
            }
        };
        if self.first.is_some_and(|(t, _)| t == txn) {
            self.first = (!rest.is_empty()).then(|| rest.remove(0));
        }
    }

    fn queue(&self) -> &VecDeque<Request> {
        self.more.as_deref().map_or(&NO_QUEUE, |m| &m.queue)
    }

    fn more_mut(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    fn held_by(&self, txn: TxnId) -> Option<LockMode> {
        self.holders().find(|(t, _)| *t == txn).map(|(_, m)| *m)
    }

    fn compatible_with_holders(&self, txn: TxnId, mode: LockMode) -> bool {
        self.holders().all(|&(t, m)| t == txn || mode.compatible(m))
    }

    fn set_holder(&mut self, txn: TxnId, mode: LockMode) {
        if let Some(h) = self.holders_mut().find(|(t, _)| *t == txn) {
            h.1 = h.1.max(mode);
            return;
        }
        self.push_holder((txn, mode));
    }

    /// Hands the lock to queued requests, from the front, while they are compatible. Each
    /// owner finds itself among the holders when it wakes.
    fn grant_waiters(&mut self) {
        while let Some(front) = self.queue().front() {
            if !self.compatible_with_holders(front.txn, front.mode) {
                break;
            }
            if let Some(req) = self.more_mut().queue.pop_front() {
                self.set_holder(req.txn, req.mode);
                req.wakeup.notify_one();
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.first.is_none() && self.queue().is_empty()
    }
}

/// What a transaction knows of a key it locked or wrote privately.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Held {
    /// The row lock it holds (`None` for a key written by a private write, which needs none).
    pub mode: Option<LockMode>,
    /// The key had no version at all when this transaction locked it in update mode (or it
    /// belongs to an object this transaction created), so its commit leaves nothing older
    /// for garbage collection.
    pub fresh: bool,
    /// The lock (in update mode) has no entry in the lock table; see the module docs.
    pub implicit: bool,
}

/// A transaction's record of the keys it holds.
pub(crate) type HeldMap = foldhash::HashMap<InlineKey, Held>;

/// A transaction's [`HeldMap`], which the lock table reads once the transaction holds
/// implicit locks. Lock order: the lock table's mutex before any of these.
pub(crate) type SharedHeld = Arc<Mutex<HeldMap>>;

#[derive(Default)]
struct Inner {
    /// Keyed by row; foldhash because SipHash over every key was a tenth of a bulk insert.
    rows: foldhash::HashMap<InlineKey, Entry>,
    /// The row each waiting transaction waits for.
    waiting: HashMap<TxnId, Vec<u8>>,
    /// The transactions that may hold implicit locks, with their records: few (bulk
    /// inserters), so every lock request that finds no entry looks through them all.
    implicit: Vec<(TxnId, SharedHeld)>,
}

impl Inner {
    /// The transactions `txn` waits for: incompatible holders and incompatible requests queued
    /// ahead of it.
    fn blockers(&self, txn: TxnId) -> Vec<TxnId> {
        let Some(entry) = self
            .waiting
            .get(&txn)
            .and_then(|key| self.rows.get(key.as_slice()))
        else {
            return Vec::new();
        };
        let queue = entry.queue();
        let Some(pos) = queue.iter().position(|r| r.txn == txn) else {
            return Vec::new();
        };
        let mode = queue[pos].mode;
        let holders = entry
            .holders()
            .filter(|&&(t, m)| t != txn && !mode.compatible(m));
        let ahead = queue.iter().take(pos).map(|r| (r.txn, r.mode));
        let ahead: Vec<_> = ahead
            .filter(|&(t, m)| t != txn && !mode.compatible(m))
            .collect();
        holders.copied().chain(ahead).map(|(t, _)| t).collect()
    }

    /// Whether `key` has no entry (not even one of `txn`'s) and no other transaction holds it
    /// implicitly.
    fn free_for(&self, txn: TxnId, key: &[u8]) -> bool {
        !self.rows.contains_key(key)
            && self
                .implicit
                .iter()
                .filter(|(owner, _)| *owner != txn)
                .all(|(_, held)| !held.lock().get(key).is_some_and(|h| h.implicit))
    }

    /// If some other transaction holds `key` implicitly, makes its lock an entry here (the
    /// owner then releases it with its explicit locks). For a key with no entry yet.
    fn convert_implicit(&mut self, txn: TxnId, key: &[u8]) {
        for (owner, held) in &self.implicit {
            if *owner == txn {
                continue;
            }
            let mut held = held.lock();
            if let Some(h) = held.get_mut(key).filter(|h| h.implicit) {
                h.implicit = false;
                let mode = h.mode.unwrap_or(LockMode::Update);
                self.rows
                    .entry(InlineKey::new(key))
                    .or_default()
                    .push_holder((*owner, mode));
                return;
            }
        }
    }

    /// If `start` waits in a cycle, returns the cycle as a path from `start` back to it.
    fn find_cycle(&self, start: TxnId) -> Option<Vec<TxnId>> {
        let mut visited = HashSet::new();
        let mut stack = vec![(start, vec![start])];
        while let Some((txn, path)) = stack.pop() {
            for next in self.blockers(txn) {
                if next == start {
                    return Some(path);
                }
                if visited.insert(next) {
                    let mut path = path.clone();
                    path.push(next);
                    stack.push((next, path));
                }
            }
        }
        None
    }

    /// Withdraws `txn`'s queued request on `key`, letting requests behind it through.
    fn withdraw(&mut self, txn: TxnId, key: &[u8]) {
        self.waiting.remove(&txn);
        if let Some(entry) = self.rows.get_mut(key) {
            entry.more_mut().queue.retain(|r| r.txn != txn);
            entry.grant_waiters();
            if entry.is_empty() {
                self.rows.remove(key);
            }
        }
    }
}

/// The row lock table shared by all transactions of a database.
#[derive(Default)]
pub(crate) struct LockTable {
    inner: Mutex<Inner>,
}

impl LockTable {
    /// Acquires `key` in `mode` for `txn`, waiting as `policy` and `limits` allow.
    pub fn acquire(
        &self,
        txn: TxnId,
        key: &[u8],
        mode: LockMode,
        policy: WaitPolicy,
        limits: &WaitLimits,
    ) -> Result<Acquired> {
        let mut inner = self.inner.lock();
        if !inner.implicit.is_empty() && !inner.rows.contains_key(key) {
            inner.convert_implicit(txn, key);
        }
        // One probe: an inline key costs no allocation to build (a long one is boxed).
        let entry = inner.rows.entry(InlineKey::new(key)).or_default();
        let held = entry.held_by(txn);
        if held.is_some_and(|h| h >= mode) {
            return Ok(Acquired::Granted { waited: false });
        }
        let upgrade = held.is_some();
        if entry.compatible_with_holders(txn, mode) && (upgrade || entry.queue().is_empty()) {
            entry.set_holder(txn, mode);
            return Ok(Acquired::Granted { waited: false });
        }
        match policy {
            WaitPolicy::SkipLocked | WaitPolicy::NoWait => {
                if entry.is_empty() {
                    inner.rows.remove(key);
                }
                return match policy {
                    WaitPolicy::SkipLocked => Ok(Acquired::Skipped),
                    _ => Err(Error::LockNotAvailable),
                };
            }
            WaitPolicy::Wait => {}
        }

        let wakeup = Arc::new(Condvar::new());
        let request = Request {
            txn,
            mode,
            wakeup: wakeup.clone(),
        };
        if upgrade {
            entry.more_mut().queue.push_front(request);
        } else {
            entry.more_mut().queue.push_back(request);
        }
        inner.waiting.insert(txn, key.to_vec());

        let start = Instant::now();
        let mut next_deadlock_check = start;
        loop {
            let now = Instant::now();
            if now >= next_deadlock_check {
                if let Some(cycle) = inner.find_cycle(txn) {
                    inner.withdraw(txn, key);
                    return Err(Error::Deadlock(describe_cycle(&cycle)));
                }
                next_deadlock_check = now + limits.deadlock_timeout;
            }
            let mut wake_at = next_deadlock_check;
            if let Some(timeout) = limits.lock_timeout {
                wake_at = wake_at.min(start + timeout);
            }
            if limits.cancel.is_some() {
                wake_at = wake_at.min(now + CANCEL_POLL);
            }
            wakeup.wait_until(&mut inner, wake_at);

            let granted = inner
                .rows
                .get(key)
                .and_then(|e| e.held_by(txn))
                .is_some_and(|h| h >= mode);
            if granted {
                inner.waiting.remove(&txn);
                return Ok(Acquired::Granted { waited: true });
            }
            let canceled = limits
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
            let timed_out = limits.lock_timeout.is_some_and(|t| start.elapsed() >= t);
            if canceled || timed_out {
                inner.withdraw(txn, key);
                return Err(if canceled {
                    Error::Canceled
                } else {
                    Error::LockTimeout
                });
            }
            if !inner.waiting.contains_key(&txn) {
                return Err(errinternal!("lock request of transaction {txn} vanished"));
            }
        }
    }

    /// Lets `txn`'s record of its locks, `held`, hold implicit locks (until
    /// [`unregister_implicit`](Self::unregister_implicit)).
    pub fn register_implicit(&self, txn: TxnId, held: SharedHeld) {
        let mut inner = self.inner.lock();
        if !inner.implicit.iter().any(|(owner, _)| *owner == txn) {
            inner.implicit.push((txn, held));
        }
    }

    /// Ends `txn`'s implicit locks: from now on no one converts them, so its record is its
    /// own again and the converted ones are explicit entries it releases.
    pub fn unregister_implicit(&self, txn: TxnId) {
        self.inner
            .lock()
            .implicit
            .retain(|(owner, _)| *owner != txn);
    }

    /// Runs `take` under the table's mutex, with a check of whether a key is free for an
    /// implicit lock of `txn`: no entry, and no other transaction's implicit lock. A key
    /// `take` finds free and records as implicitly held in `txn`'s registered record stays
    /// its own, because every other request for it converts under the same mutex. `take`
    /// may lock `txn`'s record (never another's).
    pub fn with_free_check<R>(
        &self,
        txn: TxnId,
        take: impl FnOnce(&dyn Fn(&[u8]) -> bool) -> R,
    ) -> R {
        let inner = self.inner.lock();
        take(&|key| inner.free_for(txn, key))
    }

    /// Releases `txn`'s locks on `keys`, granting waiting requests.
    pub fn release<'a>(&self, txn: TxnId, keys: impl IntoIterator<Item = &'a [u8]>) {
        let mut inner = self.inner.lock();
        for (i, key) in keys.into_iter().enumerate() {
            // A transaction may hold millions of locks; let others in between chunks.
            if i > 0 && i % RELEASE_CHUNK == 0 {
                parking_lot::MutexGuard::bump(&mut inner);
            }
            // Taken out and put back only if someone else holds or waits: one lookup for the
            // usual lock nobody else wanted.
            if let Some((key, mut entry)) = inner.rows.remove_entry(key) {
                entry.remove_holder(txn);
                entry.grant_waiters();
                if !entry.is_empty() {
                    inner.rows.insert(key, entry);
                }
            }
        }
    }

    /// Weakens `txn`'s lock on `key` to `mode` (after a savepoint rollback), granting waiting
    /// requests that no longer conflict.
    pub fn downgrade(&self, txn: TxnId, key: &[u8], mode: LockMode) {
        let mut inner = self.inner.lock();
        if let Some(entry) = inner.rows.get_mut(key) {
            if let Some(h) = entry.holders_mut().find(|(t, _)| *t == txn) {
                h.1 = mode;
            }
            entry.grant_waiters();
        }
    }

    /// Whether `txn` is waiting for a lock (for tests that must know a step blocked).
    pub fn is_waiting(&self, txn: TxnId) -> bool {
        self.inner.lock().waiting.contains_key(&txn)
    }

    /// Number of rows with a lock entry.
    pub fn len(&self) -> usize {
        self.inner.lock().rows.len()
    }
}

/// Locks released per hold of the lock-table mutex.
const RELEASE_CHUNK: usize = 1024;

/// How often a waiter with a cancel flag looks at it.
const CANCEL_POLL: Duration = Duration::from_millis(50);

fn describe_cycle(cycle: &[TxnId]) -> String {
    let mut text = String::new();
    for (i, txn) in cycle.iter().enumerate() {
        let next = cycle.get(i + 1).unwrap_or(&cycle[0]);
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(&format!(
            "transaction {txn} waits for a row lock held by transaction {next}"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    fn limits() -> WaitLimits {
        WaitLimits {
            lock_timeout: None,
            deadlock_timeout: Duration::from_secs(1),
            cancel: None,
        }
    }

    fn wait_until_waiting(table: &LockTable, txn: TxnId) {
        while !table.is_waiting(txn) {
            thread::yield_now();
        }
    }

    #[test]
    fn a_lock_shared_three_ways_is_released_in_any_order() {
        let table = LockTable::default();
        for txn in [1, 2, 3] {
            table
                .acquire(txn, b"k", LockMode::Share, WaitPolicy::NoWait, &limits())
                .unwrap();
        }
        // The first holder goes first: the others still hold it, so an update must wait.
        table.release(1, [b"k".as_slice()]);
        let update =
            |txn| table.acquire(txn, b"k", LockMode::Update, WaitPolicy::NoWait, &limits());
        assert!(matches!(update(4), Err(Error::LockNotAvailable)));
        table.release(3, [b"k".as_slice()]);
        assert!(matches!(update(4), Err(Error::LockNotAvailable)));
        table.release(2, [b"k".as_slice()]);
        assert!(matches!(update(4), Ok(Acquired::Granted { .. })));
        table.release(4, [b"k".as_slice()]);
        assert!(
            table.inner.lock().rows.is_empty(),
            "a lock nobody holds is forgotten"
        );
    }

    #[test]
    fn conflict_table_matches_postgres() {
        use LockMode::*;
        let modes = [KeyShare, Share, NoKeyUpdate, Update];
        // Rows: requested; columns: held. true = conflict (PostgreSQL docs, table 13.3).
        let expected = [
            [false, false, false, true],
            [false, false, true, true],
            [false, true, true, true],
            [true, true, true, true],
        ];
        for (i, a) in modes.iter().enumerate() {
            for (j, b) in modes.iter().enumerate() {
                assert_eq!(!a.compatible(*b), expected[i][j], "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn shared_locks_coexist_and_exclusive_waits_then_gets_handed_the_lock() {
        let table = Arc::new(LockTable::default());
        let l = limits();
        assert_eq!(
            table.acquire(1, b"k", LockMode::Share, WaitPolicy::Wait, &l),
            Ok(Acquired::Granted { waited: false })
        );
        assert_eq!(
            table.acquire(2, b"k", LockMode::KeyShare, WaitPolicy::Wait, &l),
            Ok(Acquired::Granted { waited: false })
        );
        assert_eq!(
            table.acquire(3, b"k", LockMode::Update, WaitPolicy::NoWait, &l),
            Err(Error::LockNotAvailable)
        );
        assert_eq!(
            table.acquire(3, b"k", LockMode::Update, WaitPolicy::SkipLocked, &l),
            Ok(Acquired::Skipped)
        );
        let t = table.clone();
        let waiter = thread::spawn(move || {
            t.acquire(3, b"k", LockMode::Update, WaitPolicy::Wait, &limits())
        });
        wait_until_waiting(&table, 3);
        table.release(1, [&b"k"[..]]);
        assert!(table.is_waiting(3));
        table.release(2, [&b"k"[..]]);
        assert_eq!(
            waiter.join().unwrap(),
            Ok(Acquired::Granted { waited: true })
        );
        table.release(3, [&b"k"[..]]);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn fifo_queue_stops_readers_starving_a_writer() {
        let table = Arc::new(LockTable::default());
        table
            .acquire(1, b"k", LockMode::Share, WaitPolicy::Wait, &limits())
            .unwrap();
        let t = table.clone();
        let writer = thread::spawn(move || {
            t.acquire(2, b"k", LockMode::Update, WaitPolicy::Wait, &limits())
        });
        wait_until_waiting(&table, 2);
        // A new reader is compatible with the holder but must queue behind the writer.
        assert_eq!(
            table.acquire(3, b"k", LockMode::Share, WaitPolicy::NoWait, &limits()),
            Err(Error::LockNotAvailable)
        );
        table.release(1, [&b"k"[..]]);
        writer.join().unwrap().unwrap();
    }

    #[test]
    fn deadlock_between_two_transactions_aborts_the_one_closing_the_cycle() {
        let table = Arc::new(LockTable::default());
        table
            .acquire(1, b"a", LockMode::Update, WaitPolicy::Wait, &limits())
            .unwrap();
        table
            .acquire(2, b"b", LockMode::Update, WaitPolicy::Wait, &limits())
            .unwrap();
        let t = table.clone();
        let first = thread::spawn(move || {
            t.acquire(1, b"b", LockMode::Update, WaitPolicy::Wait, &limits())
        });
        wait_until_waiting(&table, 1);
        let err = table
            .acquire(2, b"a", LockMode::Update, WaitPolicy::Wait, &limits())
            .unwrap_err();
        assert!(
            matches!(err, Error::Deadlock(ref m) if m.contains("transaction 2") && m.contains("transaction 1")),
            "{err}"
        );
        table.release(2, [&b"b"[..]]);
        assert_eq!(
            first.join().unwrap(),
            Ok(Acquired::Granted { waited: true })
        );
    }

    #[test]
    fn upgrade_deadlock_of_two_share_holders_is_detected() {
        let table = Arc::new(LockTable::default());
        table
            .acquire(1, b"k", LockMode::Share, WaitPolicy::Wait, &limits())
            .unwrap();
        table
            .acquire(2, b"k", LockMode::Share, WaitPolicy::Wait, &limits())
            .unwrap();
        let t = table.clone();
        let first = thread::spawn(move || {
            t.acquire(1, b"k", LockMode::Update, WaitPolicy::Wait, &limits())
        });
        wait_until_waiting(&table, 1);
        let err = table.acquire(2, b"k", LockMode::Update, WaitPolicy::Wait, &limits());
        assert!(matches!(err, Err(Error::Deadlock(_))), "{err:?}");
        table.release(2, [&b"k"[..]]);
        first.join().unwrap().unwrap();
    }

    #[test]
    fn lock_timeout_withdraws_the_request() {
        let table = LockTable::default();
        table
            .acquire(1, b"k", LockMode::Update, WaitPolicy::Wait, &limits())
            .unwrap();
        let l = WaitLimits {
            lock_timeout: Some(Duration::from_millis(20)),
            ..limits()
        };
        assert_eq!(
            table.acquire(2, b"k", LockMode::Share, WaitPolicy::Wait, &l),
            Err(Error::LockTimeout)
        );
        assert!(!table.is_waiting(2));
        table.release(1, [&b"k"[..]]);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn cancel_flag_interrupts_a_wait() {
        let table = Arc::new(LockTable::default());
        table
            .acquire(1, b"k", LockMode::Update, WaitPolicy::Wait, &limits())
            .unwrap();
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let l = WaitLimits {
            cancel: Some(cancel.clone()),
            ..limits()
        };
        let t = table.clone();
        let waiter =
            thread::spawn(move || t.acquire(2, b"k", LockMode::Update, WaitPolicy::Wait, &l));
        wait_until_waiting(&table, 2);
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(waiter.join().unwrap(), Err(Error::Canceled));
    }
}
