//! [`FileBackend`]: the production [`redb::StorageBackend`] over a local file.
//!
//! This is **the** seam through which every page ZizhuDB stores passes on its way to and from
//! disk: redb calls [`read`](redb::StorageBackend::read) and
//! [`write`](redb::StorageBackend::write) here and nowhere else. Page-level transformations of
//! the stored bytes, such as the planned SM4 page encryption, belong in this module (or in a
//! backend wrapping this one), where they cover data, indexes and redb's metadata alike.
//!
//! I/O is positional (`pread`/`pwrite` through [`FileExt`]), so concurrent readers never contend
//! on a file cursor. [`sync_data`](redb::StorageBackend::sync_data) is `fdatasync`.
//!
//! Opening takes an exclusive, non-blocking `flock` on the file, so a second process (or a second
//! open in the same process) fails with [`Error::Locked`] instead of corrupting the database. The
//! lock is released when redb closes the backend or the file is dropped.
//!
//! Bytes written, writes and syncs are counted in [`IoStats`] for tests and benchmarks.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use zizhu_engine::{Error, Result};

/// I/O counters of a [`FileBackend`], shared with whoever asked for them.
#[derive(Debug, Default)]
pub struct IoStats {
    bytes_written: AtomicU64,
    writes: AtomicU64,
    bytes_read: AtomicU64,
    syncs: AtomicU64,
}

impl IoStats {
    /// Bytes written to the file since it was opened.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }

    /// Write calls since the file was opened.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Bytes read from the file since it was opened (reads served by redb's cache not included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Successful `fdatasync` calls since the file was opened.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

/// A [`redb::StorageBackend`] over a locked local file; see the [module docs](self).
#[derive(Debug)]
pub struct FileBackend {
    file: File,
    path: PathBuf,
    stats: Arc<IoStats>,
}

impl FileBackend {
    /// Opens (creating if missing) the file at `path` and locks it exclusively.
    ///
    /// Returns [`Error::Locked`] if another open file description, in this process or another,
    /// holds the lock.
    pub fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::Io(format!("opening {}: {e}", path.display())))?;
        match flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(Error::Locked(format!(
                    "{} is locked by another process (or another open in this one)",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::Io(format!("locking {}: {e}", path.display()))),
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            stats: Arc::default(),
        })
    }

    /// The path the file was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A shared handle on the I/O counters, which stays valid after the backend moves into redb.
    pub fn stats(&self) -> Arc<IoStats> {
        Arc::clone(&self.stats)
    }
}

impl redb::StorageBackend for FileBackend {
    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(out, offset)?;
        self.stats
            .bytes_read
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()?;
        self.stats.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)?;
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.stats
            .bytes_written
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        // Unlock now rather than when the file is dropped: a stray reference to redb's storage
        // may outlive the database, and reopening must not find the file still locked.
        flock(&self.file, libc::LOCK_UN)
    }
}

/// `flock(2)` on `file`'s descriptor.
#[allow(unsafe_code)]
fn flock(file: &File, operation: libc::c_int) -> io::Result<()> {
    // SAFETY: flock takes a plain descriptor number and touches no memory of ours; `file`
    // keeps the descriptor open for the duration of the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
