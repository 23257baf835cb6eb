//! ZizhuDB's durable [`Engine`] over [redb](https://docs.rs/redb) 4.5.
//!
//! # Design
//!
//! All data lives in one redb table, `data`, of byte keys to byte values; redb's B-tree keeps it
//! in byte order, which is the order [`Engine::scan`] promises.
//!
//! - **Writes.** Each [`WriteBatch`] is one redb write transaction, so it is atomic on disk;
//!   one too large for redb's write buffer is several non-durable ones that an empty durable
//!   commit then makes durable together (see `commit_locked`).
//!   Without a log, a [`Durability::Sync`] batch commits with [`redb::Durability::Immediate`],
//!   which costs one `fdatasync` of the file (two with two-phase commit); a
//!   [`Durability::Deferred`] batch commits with [`redb::Durability::None`], which makes it
//!   visible at once and durable with the next immediate commit. [`Engine::flush`] is an empty
//!   immediate commit. redb orders commits, so deferred batches can only be lost newest first.
//!   Writes are serialized by a mutex that also orders the snapshot generation (below); redb
//!   itself allows one write transaction at a time.
//! - **The write-ahead log** ([`wal`], [`RedbOptions::wal`]). With it every batch commits with
//!   [`redb::Durability::None`] and is appended to the log, and a Sync batch syncs the log: one
//!   small write and one `fdatasync` instead of a durable redb commit. Checkpoints (durable
//!   redb commits) bound the log; opening replays it past the last checkpoint. The data
//!   directory always runs with it.
//! - **Reads.** Opening a redb read transaction per point read is measurable overhead, so the
//!   engine caches an [`Arc`] of the table opened in the latest read transaction, tagged with a
//!   *generation* that every successful write increments. A read whose cached snapshot is of an
//!   older generation opens a new one; every read therefore sees every write that returned before
//!   it began. A redb [`ReadOnlyTable`] owns its transaction, and its
//!   [`range`](ReadOnlyTable::range) returns a `Range<'static, ..>`, so a scan iterator simply
//!   owns its snapshot: it sees one consistent state and never blocks writers. (A long-running
//!   scan keeps redb from reusing the pages its snapshot references until it is dropped.)
//! - **Poisoning.** After *any* error while writing, committing or flushing, the engine refuses
//!   every later write with [`Error::Poisoned`] (reads continue as far as redb allows). The
//!   reason is *fsyncgate*: after a failed `fsync`, Linux may have dropped the dirty pages it
//!   could not write and marked them clean, so a later `fsync` can succeed without those bytes
//!   ever reaching the disk, and the page cache no longer tells what the disk holds. The only
//!   safe recovery is to reopen the database, which recovers from the last durable commit. redb
//!   latches its own I/O failures the same way (its later operations fail with `PreviousIo`);
//!   poisoning at this layer makes the rule explicit, keeps the first error's message and covers
//!   failures redb does not latch.
//! - **Storage.** All page I/O goes through a [`redb::StorageBackend`]: [`FileBackend`] for a
//!   real file (positional I/O, `flock`-based exclusion, the future seam for page encryption), or
//!   any other backend through [`RedbEngine::open_with_backend`], such as the fault-injecting
//!   [`FaultyBackend`] the crash tests use.
//!
//! # Crash safety
//!
//! redb's default 1-phase commit writes the new commit slot (with a checksum over the new tree
//! roots) and flips the primary bit in one header write, then fsyncs once. After a crash, redb
//! verifies the checksums of the primary slot's trees and falls back to the other slot if any
//! page is missing or torn; the pages of the previous durable commit are never reused before the
//! next commit is durable. The tests in `tests/faults.rs` check this under the reordering
//! power-loss model of [`FaultyBackend`].

pub mod backend;
pub mod wal;

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use redb::{ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition};
use wal::Wal;
use zizhu_engine::{
    errinternal, Direction, Durability, Engine, Error, KeyRange, Result, ScanIter, Status,
    WriteBatch,
};

pub use backend::{
    CrashImage, EncryptedBackend, EncryptedFile, FaultController, FaultyBackend, FileBackend,
    IoStats,
};
use zizhu_crypto::keystore::KeyRing;

/// The one table holding all keys.
const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("data");
/// The engine's own records: the log generation a durable commit holds ([`wal`]).
const META: TableDefinition<&str, u64> = TableDefinition::new("zizhu_engine_meta");
const WAL_GENERATION: &str = "wal_generation";

type Table = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// Options for opening a [`RedbEngine`].
#[derive(Clone, Debug)]
pub struct RedbOptions {
    /// Memory redb may use to cache pages (reads and buffered writes). Default 256 MiB.
    pub cache_size_bytes: usize,
    /// Commit with redb's two-phase commit: the pages are synced before the header that
    /// refers to them is written (two `fdatasync`s per durable commit instead of one). Needed
    /// under [`EncryptedBackend`], where it guarantees that a page a durable header reaches was
    /// never torn, so that a page failing authentication is corruption and not a crash
    /// artefact. Default off.
    pub two_phase_commit: bool,
    /// Keep a write-ahead log beside the data file ([`wal`], in [`wal_path`] for
    /// [`RedbEngine::open`]): a [`Durability::Sync`] write becomes a log append and one sync
    /// instead of a durable redb commit, and redb's state is made durable at checkpoints.
    /// Default off.
    pub wal: bool,
}

impl Default for RedbOptions {
    fn default() -> Self {
        Self {
            cache_size_bytes: 256 << 20,
            two_phase_commit: false,
            wal: false,
        }
    }
}

/// An encrypted file of an engine and its re-key journal ([`RedbEngine::open_encrypted`]).
pub type SealedFile = (Arc<EncryptedFile<FileBackend>>, PathBuf);

/// Where [`RedbEngine::open`] keeps the write-ahead log of the data file at `data`.
pub fn wal_path(data: &Path) -> PathBuf {
    data.with_extension("wal")
}

/// The re-key journal of the log of an encrypted engine whose data file's journal is
/// `journal` ([`RedbEngine::open_encrypted`]).
pub fn wal_journal(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}

/// The redb engine; see the [crate docs](crate).
pub struct RedbEngine {
    db: redb::Database,
    two_phase_commit: bool,
    /// Bytes of keys and values a redb write transaction applies, about (a part ends with the
    /// operation that reaches it): a sixteenth of the cache. Their pages, with the B-tree's
    /// free space, take a few times this, well within redb's write buffer (half the cache).
    part_bytes: usize,
    /// The first corruption detected, which redb latches as "previous I/O error" for every
    /// later call.
    corruption: Mutex<Option<String>>,
    /// Serializes writes, so generations are bumped in commit order; holds the log, if any.
    write_lock: Mutex<Option<Wal>>,
    /// Incremented after every successful commit.
    generation: AtomicU64,
    /// The latest opened snapshot and the generation it was opened at (or later).
    snapshot: RwLock<Option<(u64, Arc<Table>)>>,
    /// Shared with the file's backend ([`Measured`]), which then refuses writes.
    poisoned: Arc<AtomicBool>,
    poison_message: Mutex<String>,
    syncs: AtomicU64,
    /// The storage length as last seen by the backend wrapper.
    len: Arc<AtomicU64>,
    io_stats: Option<Arc<IoStats>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for RedbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbEngine")
            .field("path", &self.path)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .field("poisoned", &self.poisoned.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RedbEngine {
    /// Opens the database file at `path`, creating it if missing.
    ///
    /// Fails with [`Error::Locked`] if the file is already open, in this process or another.
    pub fn open(path: &Path, options: RedbOptions) -> Result<Self> {
        let backend = FileBackend::open(path)?;
        let stats = backend.stats();
        let wal: Option<Box<dyn redb::StorageBackend>> = match options.wal {
            true => Some(Box::new(FileBackend::open(&wal_path(path))?)),
            false => None,
        };
        let mut engine = Self::open_with_backends(backend, wal, options)?;
        engine.io_stats = Some(stats);
        engine.path = Some(path.to_path_buf());
        Ok(engine)
    }

    /// Opens (creating if missing) the SM4-encrypted data file at `path`: every page is sealed
    /// by an [`EncryptedBackend`] under the keys of `keys`, and commits use two-phase commit.
    /// With [`RedbOptions::wal`], the log at [`wal_path`] is sealed the same way. The nonces
    /// of the data file are in `epochs[0]` and the log's in `epochs[1]`; each must never have
    /// been used with these keys. A re-key journal left by a crash (`journal` for the data
    /// file, [`wal_journal`] for the log) is applied first. Returns the engine and its
    /// encrypted files with their re-key journals, through which the data key is rotated.
    pub fn open_encrypted(
        path: &Path,
        options: RedbOptions,
        keys: Arc<KeyRing>,
        epochs: [u32; 2],
        journal: &Path,
    ) -> Result<(Self, Vec<SealedFile>)> {
        let open = |path: &Path, epoch: u32, journal: PathBuf| -> Result<_> {
            let backend = FileBackend::open(path)?;
            let stats = backend.stats();
            let backend =
                EncryptedBackend::open(backend, keys.clone(), epoch).map_err(io_to_engine)?;
            let file = backend.file();
            file.recover_journal(&journal).map_err(io_to_engine)?;
            Ok((backend, stats, (file, journal)))
        };
        let (backend, stats, data_file) = open(path, epochs[0], journal.to_path_buf())?;
        let mut files = vec![data_file];
        let wal: Option<Box<dyn redb::StorageBackend>> = if options.wal {
            let (wal, _, wal_file) = open(&wal_path(path), epochs[1], wal_journal(journal))?;
            files.push(wal_file);
            Some(Box::new(wal))
        } else {
            None
        };
        let options = RedbOptions {
            two_phase_commit: true,
            ..options
        };
        let mut engine = Self::open_with_backends(backend, wal, options)?;
        engine.io_stats = Some(stats);
        engine.path = Some(path.to_path_buf());
        Ok((engine, files))
    }

    /// Opens (or initializes, if empty) a database stored in `backend`, without a log.
    pub fn open_with_backend(
        backend: impl redb::StorageBackend,
        options: RedbOptions,
    ) -> Result<Self> {
        Self::open_with_backends(backend, None, options)
    }

    /// Opens (or initializes, if empty) a database stored in `backend`, with its write-ahead
    /// log in `wal` if given ([`RedbOptions::wal`] is then implied). Units the log holds past
    /// redb's last durable commit are applied and checkpointed before this returns.
    pub fn open_with_backends(
        backend: impl redb::StorageBackend,
        wal: Option<Box<dyn redb::StorageBackend>>,
        options: RedbOptions,
    ) -> Result<Self> {
        let len = Arc::new(AtomicU64::new(backend.len().map_err(Error::from)?));
        let poisoned = Arc::new(AtomicBool::new(false));
        let backend = Measured {
            inner: backend,
            len: Arc::clone(&len),
            poisoned: Arc::clone(&poisoned),
        };
        let db = redb::Builder::new()
            .set_cache_size(options.cache_size_bytes)
            .create_with_backend(backend)
            .map_err(map_err)?;
        // Create the tables so that reads always find them.
        let mut txn = db.begin_write().map_err(map_err)?;
        txn.set_two_phase_commit(options.two_phase_commit);
        txn.open_table(TABLE).map_err(map_err)?;
        let generation = txn
            .open_table(META)
            .map_err(map_err)?
            .get(WAL_GENERATION)
            .map_err(map_err)?
            .map_or(0, |g| g.value());
        txn.commit().map_err(map_err)?;
        let engine = Self {
            db,
            two_phase_commit: options.two_phase_commit,
            part_bytes: (options.cache_size_bytes / 16).max(64 << 10),
            corruption: Mutex::new(None),
            write_lock: Mutex::new(None),
            generation: AtomicU64::new(0),
            snapshot: RwLock::new(None),
            poisoned,
            poison_message: Mutex::new(String::new()),
            syncs: AtomicU64::new(0),
            len,
            io_stats: None,
            path: None,
        };
        if let Some(backend) = wal {
            let (mut wal, batches) = Wal::open(backend, generation).map_err(io_to_engine)?;
            if !batches.is_empty() {
                for batch in batches {
                    engine.commit_locked(batch, Durability::Deferred, None)?;
                }
                engine.checkpoint(&mut wal, WriteBatch::new())?;
            }
            *engine.write_lock.lock() = Some(wal);
        }
        Ok(engine)
    }

    /// The file's I/O counters, for an engine opened with [`RedbEngine::open`].
    pub fn io_stats(&self) -> Option<Arc<IoStats>> {
        self.io_stats.clone()
    }

    /// Whether an earlier write failure has stopped the engine.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    fn check_poisoned(&self) -> Result<()> {
        if self.is_poisoned() {
            return Err(Error::Poisoned(self.poison_message.lock().clone()));
        }
        Ok(())
    }

    fn poison(&self, err: &Error) {
        let mut message = self.poison_message.lock();
        if !self.poisoned.load(Ordering::Acquire) {
            *message = err.to_string();
            self.poisoned.store(true, Ordering::Release);
        }
    }

    /// Maps a redb error, remembering the first corruption so that the "previous I/O error"
    /// redb latches after it is reported as that corruption too.
    fn error(&self, err: impl Into<redb::Error>) -> Error {
        let mapped = map_err(err);
        let mut first = self.corruption.lock();
        match (&mapped, first.as_ref()) {
            (Error::Corruption(message), None) => *first = Some(message.clone()),
            (Error::Io(message), Some(corrupt)) if message == PREVIOUS_IO => {
                return Error::Corruption(format!(
                    "{corrupt} (the engine stopped reading after detecting it; restart once                      the data file is restored)"
                ));
            }
            _ => {}
        }
        mapped
    }

    /// Applies `batch` (which may be empty) with `durability`: redb write transactions
    /// ([`commit_locked`](Self::commit_locked)), and with a log, the log's append (and sync),
    /// or a checkpoint if `checkpoint` asks for one.
    fn commit(&self, batch: WriteBatch, durability: Durability, checkpoint: bool) -> Result<()> {
        /// Poisons the engine if the commit panics: parts of it may be committed.
        struct PoisonOnUnwind<'a>(&'a RedbEngine);
        impl Drop for PoisonOnUnwind<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0
                        .poison(&errinternal!("a commit panicked; this is a bug"));
                }
            }
        }
        let _guard = PoisonOnUnwind(self);
        let mut wal = self.write_lock.lock();
        self.check_poisoned()?;
        let result = match wal.as_mut() {
            None => self.commit_locked(batch, durability, None),
            Some(wal) if checkpoint => self.checkpoint(wal, batch),
            Some(wal) => self.commit_logged(wal, batch, durability),
        };
        // Even a failed commit may have changed what redb shows (a logged batch whose log
        // sync failed), so the cached snapshot goes either way.
        self.generation.fetch_add(1, Ordering::AcqRel);
        // Let go of the superseded snapshot so redb can reuse its pages.
        *self.snapshot.write() = None;
        match &result {
            Ok(()) if durability == Durability::Sync => {
                self.syncs.fetch_add(1, Ordering::Relaxed);
            }
            Ok(()) => {}
            Err(err) => self.poison(err),
        }
        result
    }

    /// A commit with a log: redb first, without syncing, then the log. In this order a batch
    /// is in the log only if redb took it, so a failure never leaves a batch that the caller
    /// was told failed to come back at recovery.
    fn commit_logged(
        &self,
        wal: &mut Wal,
        batch: WriteBatch,
        durability: Durability,
    ) -> Result<()> {
        if batch.size_bytes() > wal::LARGE_BATCH {
            return self.checkpoint(wal, batch);
        }
        wal.log(&batch);
        self.commit_locked(batch, Durability::Deferred, None)?;
        if durability == Durability::Sync {
            wal.sync().map_err(io_to_engine)?;
        }
        if wal.wants_checkpoint() {
            self.checkpoint(wal, WriteBatch::new())?;
        }
        Ok(())
    }

    /// Commits `batch` to redb durably, recording the log's next generation, and restarts the
    /// log in it: everything logged so far is now in redb's durable state.
    fn checkpoint(&self, wal: &mut Wal, batch: WriteBatch) -> Result<()> {
        let next = wal.generation() + 1;
        // Work around redb 4.5 (also 5.0): a durable commit takes the freed-page records of
        // the non-durable commits before it without marking them processed, and every later
        // non-durable commit then re-reads all records since the oldest such commit, until the
        // next durable commit: a cost that grows with every commit (more than half of the
        // committer's time under pgbench). So first let an empty non-durable commit process
        // them, which it can once no read transaction holds an older state: the cached
        // snapshot, which usually does, is dropped first.
        *self.snapshot.write() = None;
        self.commit_locked(WriteBatch::new(), Durability::Deferred, None)?;
        self.commit_locked(batch, Durability::Sync, Some(next))?;
        wal.restart(next);
        Ok(())
    }

    /// Applies `batch` in redb write transactions; with `generation`, the last one also
    /// records the log generation.
    ///
    /// A batch whose pages would not fit redb's write buffer is split into parts of about
    /// `part_bytes`, each committed with [`redb::Durability::None`]; with
    /// [`Durability::Sync`], an empty durable commit then makes them durable together.
    /// Committed whole, such a batch's dirty pages overflow the buffer, are written out early,
    /// and are then read back, checksummed and written (and encrypted) a second time when the
    /// transaction finalizes its checksums; in parts each page is written once.
    ///
    /// A durable state never holds a part without the rest: redb recovers to its last durable
    /// commit, and a non-durable commit becomes durable only through a later durable commit or
    /// redb's close, which a failed part prevents: the failure poisons the engine, and a
    /// poisoned engine's file takes no more writes ([`Measured`]). Readers may see the leading
    /// parts while the rest is written (see the [`Engine`] contract): the MVCC layer never
    /// shows a version before its commit timestamp is published, after the whole batch.
    ///
    /// Before the durable commit comes an empty non-durable one, for the reason
    /// [`checkpoint`](Self::checkpoint) gives: it processes the parts' freed-page records.
    fn commit_locked(
        &self,
        batch: WriteBatch,
        durability: Durability,
        generation: Option<u64>,
    ) -> Result<()> {
        let (ranges, ops) = batch.into_parts();
        let part_end = |ops: &[(Vec<u8>, Option<Vec<u8>>)]| {
            let mut bytes = 0;
            ops.iter()
                .take_while(|(key, value)| {
                    let fits = bytes < self.part_bytes;
                    bytes += key.len() + value.as_ref().map_or(0, Vec::len);
                    fits
                })
                .count()
        };
        let mut end = part_end(&ops);
        if end == ops.len() {
            return self.commit_part(&ranges, &ops, durability, generation);
        }
        let mut rest = ops.as_slice();
        let mut ranges = ranges.as_slice();
        while !rest.is_empty() {
            let (part, after) = rest.split_at(end);
            self.commit_part(ranges, part, Durability::Deferred, None)?;
            ranges = &[];
            rest = after;
            end = part_end(rest);
        }
        if durability == Durability::Deferred && generation.is_none() {
            return Ok(());
        }
        *self.snapshot.write() = None;
        self.commit_part(&[], &[], Durability::Deferred, None)?;
        self.commit_part(&[], &[], durability, generation)
    }

    /// One redb write transaction of `ranges` deleted and then `ops`.
    fn commit_part(
        &self,
        ranges: &[(Vec<u8>, Vec<u8>)],
        ops: &[(Vec<u8>, Option<Vec<u8>>)],
        durability: Durability,
        generation: Option<u64>,
    ) -> Result<()> {
        let mut txn = self.db.begin_write().map_err(|e| self.error(e))?;
        txn.set_two_phase_commit(self.two_phase_commit);
        txn.set_durability(match durability {
            Durability::Sync => redb::Durability::Immediate,
            Durability::Deferred => redb::Durability::None,
        })
        .map_err(|e| self.error(e))?;
        if !ranges.is_empty() || !ops.is_empty() {
            let mut table = txn.open_table(TABLE).map_err(|e| self.error(e))?;
            for (start, end) in ranges {
                // One pass over the range, in place, instead of a descent per key.
                table
                    .retain_in::<&[u8], _>(start.as_slice()..=end.as_slice(), |_, _| false)
                    .map_err(|e| self.error(e))?;
            }
            for (key, value) in ops {
                match value {
                    Some(value) => table.insert(key.as_slice(), value.as_slice()),
                    None => table.remove(key.as_slice()),
                }
                .map_err(|e| self.error(e))?;
            }
        }
        if let Some(generation) = generation {
            let mut meta = txn.open_table(META).map_err(|e| self.error(e))?;
            meta.insert(WAL_GENERATION, generation)
                .map_err(|e| self.error(e))?;
        }
        txn.commit().map_err(|e| self.error(e))
    }

    /// The snapshot reads use: the cached one if no write has happened since it was opened.
    fn snapshot(&self) -> Result<Arc<Table>> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((cached, table)) = &*self.snapshot.read() {
            if *cached == generation {
                return Ok(Arc::clone(table));
            }
        }
        // Open under the write lock so that snapshots enter the cache in the order they were
        // opened: a reader that opened an older snapshot must not replace a newer one, or a
        // later read could observe an earlier state than a previous read did.
        let mut slot = self.snapshot.write();
        if let Some((cached, table)) = &*slot {
            if *cached == generation {
                return Ok(Arc::clone(table));
            }
        }
        let txn = self.db.begin_read().map_err(|e| self.error(e))?;
        let table = Arc::new(txn.open_table(TABLE).map_err(|e| self.error(e))?);
        // Opened after `generation` was read, so it holds at least that generation's writes.
        *slot = Some((generation, Arc::clone(&table)));
        Ok(table)
    }
}

impl Engine for RedbEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let table = self.snapshot()?;
        let value = table.get(key).map_err(|e| self.error(e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    fn scan(&self, range: KeyRange, direction: Direction) -> Result<ScanIter<'_>> {
        if range_is_empty(&range) {
            return Ok(Box::new(std::iter::empty()));
        }
        let table = self.snapshot()?;
        let bounds: (Bound<&[u8]>, Bound<&[u8]>) = (as_slice(&range.0), as_slice(&range.1));
        let iter = table.range::<&[u8]>(bounds).map_err(|e| self.error(e))?;
        let convert = move |item: std::result::Result<_, redb::StorageError>| {
            let (k, v): (redb::AccessGuard<'_, &[u8]>, redb::AccessGuard<'_, &[u8]>) =
                item.map_err(|e| self.error(e))?;
            Ok((k.value().to_vec(), v.value().to_vec()))
        };
        Ok(match direction {
            Direction::Forward => Box::new(iter.map(convert)),
            Direction::Reverse => Box::new(iter.rev().map(convert)),
        })
    }

    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<()> {
        if batch.is_empty() && durability == Durability::Deferred {
            return self.check_poisoned();
        }
        self.commit(batch, durability, false)
    }

    fn flush(&self) -> Result<()> {
        self.commit(WriteBatch::new(), Durability::Sync, true)
    }

    fn status(&self) -> Result<Status> {
        Ok(Status {
            name: "redb".to_string(),
            size_on_disk: self.len.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
        })
    }
}

impl Drop for RedbEngine {
    /// With a log, a last checkpoint, so that the next open has nothing to replay.
    fn drop(&mut self) {
        if let Some(mut wal) = self.write_lock.get_mut().take() {
            if !self.is_poisoned() {
                let _ = self.checkpoint(&mut wal, WriteBatch::new());
            }
            let _ = wal.close();
        }
    }
}

/// Wraps a backend to track its length for [`Status::size_on_disk`] after redb owns it, and
/// to refuse every write and sync once the engine is poisoned. redb's close makes a pending
/// non-durable commit durable unless it latched an I/O error itself; after a failure it did
/// not latch (a part of a batch too large, a panic), that would make a failed batch's leading
/// parts durable.
#[derive(Debug)]
struct Measured<B> {
    inner: B,
    len: Arc<AtomicU64>,
    poisoned: Arc<AtomicBool>,
}

impl<B> Measured<B> {
    fn check(&self) -> std::io::Result<()> {
        match self.poisoned.load(Ordering::Acquire) {
            true => Err(std::io::Error::other(
                "the storage engine stopped after an earlier failure",
            )),
            false => Ok(()),
        }
    }
}

impl<B: redb::StorageBackend> redb::StorageBackend for Measured<B> {
    fn len(&self) -> std::io::Result<u64> {
        let len = self.inner.len()?;
        self.len.store(len, Ordering::Relaxed);
        Ok(len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.check()?;
        self.inner.set_len(len)?;
        self.len.store(len, Ordering::Relaxed);
        Ok(())
    }

    fn sync_data(&self) -> std::io::Result<()> {
        self.check()?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.check()?;
        self.inner.write(offset, data)?;
        self.len
            .fetch_max(offset + data.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn close(&self) -> std::io::Result<()> {
        self.inner.close()
    }
}

/// An I/O error from a backend outside redb, as an engine error.
fn io_to_engine(err: std::io::Error) -> Error {
    match backend::encrypted::is_corruption(&err) {
        Some(message) => Error::Corruption(message),
        None => Error::Io(err.to_string()),
    }
}

const PREVIOUS_IO: &str = "redb stopped after an earlier I/O error; reopen the database";

/// Maps any redb error to an engine error.
fn map_err(err: impl Into<redb::Error>) -> Error {
    match err.into() {
        redb::Error::Io(err) => match backend::encrypted::is_corruption(&err) {
            Some(message) => Error::Corruption(message),
            None => Error::Io(err.to_string()),
        },
        redb::Error::PreviousIo => Error::Io(PREVIOUS_IO.into()),
        redb::Error::DatabaseClosed => Error::Io("the redb database is closed".into()),
        redb::Error::Corrupted(message) => Error::Corruption(message),
        redb::Error::UpgradeRequired(version) => Error::Corruption(format!(
            "the file is in redb file format {version}, which this build cannot open"
        )),
        redb::Error::DatabaseAlreadyOpen | redb::Error::LockProtocolMismatch => {
            Error::Locked("the redb database is already open".into())
        }
        redb::Error::ValueTooLarge(len) => Error::Io(format!(
            "a key or value of {len} bytes exceeds redb's limit of 3 GiB"
        )),
        other => errinternal!("unexpected redb error: {other}"),
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Whether no key can lie in `range` (including inverted ranges, which redb may reject).
fn range_is_empty(range: &KeyRange) -> bool {
    match range {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}
