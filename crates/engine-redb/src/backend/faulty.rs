//! [`FaultyBackend`]: an in-memory [`redb::StorageBackend`] for fault injection and power-loss
//! simulation, usable from any crate's tests.
//!
//! The backend keeps two images of the file:
//!
//! - **durable**: the contents as of the last successful `sync_data`, i.e. what is certain to
//!   survive a power loss;
//! - **volatile**: the current contents, including writes not yet synced, which is what reads
//!   see (the page cache).
//!
//! Every write and `set_len` since the last successful sync is also kept, in order, as
//! *pending*. The test keeps an [`Arc<FaultController>`] (from [`FaultyBackend::controller`])
//! and uses it to inject faults while an engine runs on the backend:
//!
//! - [`FaultController::fail_writes_after`]`(n)`: the next `n` writes succeed, the one after
//!   fails with an I/O error without changing anything;
//! - [`FaultController::fail_next_sync`]: the next `sync_data` fails; its pending writes stay
//!   pending, so whether they reach the disk is decided by a later crash (as with Linux, where a
//!   failed `fsync` leaves the state of dirty pages unknown);
//! - [`FaultController::torn_write_at`]`(n)`: the next `n` writes succeed, the one after writes
//!   only a random prefix of its data (cut at any byte, or at a sector boundary after
//!   [`FaultController::tear_at_sectors`]) and fails, and every later call fails: the process
//!   died mid-write;
//! - [`FaultController::crash`]: power is lost now. It returns a [`CrashImage`]: the durable
//!   image with a random subset of the pending operations applied in order, each with
//!   probability 1/2, and at most one of the chosen writes torn at a 512-byte (sector) boundary,
//!   which models a disk that writes back dirty pages in any order. The backend is dead
//!   afterwards: every call fails, so the engine still holding it can do no harm.
//!
//! [`FaultyBackend::from_image`] opens a crash image as a fresh backend, to reopen the database
//! as after a reboot. All randomness comes from a seeded [`StdRng`], so a failing seed replays.
//!
//! ```
//! use zizhu_engine_redb::{FaultyBackend, RedbEngine, RedbOptions};
//! use zizhu_engine::{Durability, Engine, WriteBatch};
//!
//! let backend = FaultyBackend::new(42);
//! let faults = backend.controller();
//! let engine = RedbEngine::open_with_backend(backend, RedbOptions::default()).unwrap();
//! let mut batch = WriteBatch::new();
//! batch.put(b"k".to_vec(), b"v".to_vec());
//! engine.write(batch, Durability::Sync).unwrap();
//! let image = faults.crash();
//! drop(engine);
//! let engine = RedbEngine::open_with_backend(FaultyBackend::from_image(image, 43), RedbOptions::default()).unwrap();
//! assert_eq!(engine.get(b"k").unwrap(), Some(b"v".to_vec()));
//! ```

use std::fmt;
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The file contents a simulated power loss leaves behind.
pub type CrashImage = Vec<u8>;

/// Sector size at which [`FaultController::crash`] may tear a write.
pub const SECTOR: u64 = 512;

/// An in-memory [`redb::StorageBackend`] with fault injection; see the [module docs](self).
#[derive(Debug)]
pub struct FaultyBackend {
    controller: Arc<FaultController>,
}

impl FaultyBackend {
    /// An empty backend whose random choices derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Self::from_image(Vec::new(), seed)
    }

    /// A backend holding `image` (durable and volatile alike), as after a reboot.
    pub fn from_image(image: CrashImage, seed: u64) -> Self {
        let state = State {
            durable: image.clone(),
            volatile: image,
            pending: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            writes: 0,
            syncs: 0,
            fail_write_at: None,
            torn_write_at: None,
            fail_next_sync: false,
            sector_tears: false,
            dead: None,
        };
        Self {
            controller: Arc::new(FaultController {
                state: Mutex::new(state),
            }),
        }
    }

    /// The handle through which a test injects faults and simulates crashes.
    pub fn controller(&self) -> Arc<FaultController> {
        Arc::clone(&self.controller)
    }
}

/// Fault injection and inspection for one [`FaultyBackend`]; see the [module docs](self).
pub struct FaultController {
    state: Mutex<State>,
}

impl fmt::Debug for FaultController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("FaultController")
            .field("len", &s.volatile.len())
            .field("pending", &s.pending.len())
            .field("writes", &s.writes)
            .field("syncs", &s.syncs)
            .field("dead", &s.dead)
            .finish()
    }
}

enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

struct State {
    durable: Vec<u8>,
    volatile: Vec<u8>,
    /// Operations since the last successful sync, in order.
    pending: Vec<Pending>,
    rng: StdRng,
    /// Write calls so far (successful or not).
    writes: u64,
    /// Successful syncs so far.
    syncs: u64,
    /// Index (in `writes`) of the write that fails.
    fail_write_at: Option<u64>,
    /// Index (in `writes`) of the write that is torn.
    torn_write_at: Option<u64>,
    fail_next_sync: bool,
    /// Whether a write torn by `torn_write_at` stops at a sector boundary.
    sector_tears: bool,
    /// Why every call now fails, once the simulated process or machine has died.
    dead: Option<&'static str>,
}

impl State {
    fn check_alive(&self) -> io::Result<()> {
        match self.dead {
            Some(why) => Err(io::Error::other(format!("faulty backend: {why}"))),
            None => Ok(()),
        }
    }
}

impl FaultController {
    /// Lets the next `n` writes succeed and fails the one after with an I/O error.
    pub fn fail_writes_after(&self, n: u64) {
        let mut s = self.state.lock();
        s.fail_write_at = Some(s.writes + n);
    }

    /// Fails the next `sync_data` with an I/O error.
    pub fn fail_next_sync(&self) {
        self.state.lock().fail_next_sync = true;
    }

    /// Lets the next `n` writes succeed; the one after writes a random prefix of its data and
    /// fails, and every call after that fails.
    pub fn torn_write_at(&self, n: u64) {
        let mut s = self.state.lock();
        s.torn_write_at = Some(s.writes + n);
    }

    /// Makes writes torn by [`torn_write_at`](Self::torn_write_at) stop at a 512-byte sector
    /// boundary of the file rather than at any byte, for layers that rely on sector writes
    /// being atomic (as the encrypting backend's header does, and as a process killed in the
    /// middle of a write sees: the kernel copies a write into the page cache page by page).
    pub fn tear_at_sectors(&self, on: bool) {
        self.state.lock().sector_tears = on;
    }

    /// Cancels armed faults that have not fired yet (a dead backend stays dead).
    pub fn clear_faults(&self) {
        let mut s = self.state.lock();
        s.fail_write_at = None;
        s.torn_write_at = None;
        s.fail_next_sync = false;
    }

    /// Simulates a power loss: returns what the disk holds afterwards and kills the backend.
    pub fn crash(&self) -> CrashImage {
        let mut guard = self.state.lock();
        let s = &mut *guard;
        s.dead = Some("crashed (simulated power loss)");
        let mut image = s.durable.clone();
        let mut torn = false;
        for op in &s.pending {
            if !s.rng.random_bool(0.5) {
                continue;
            }
            match op {
                Pending::SetLen(len) => image.resize(to_usize(*len), 0),
                Pending::Write { offset, data } => {
                    let mut len = data.len() as u64;
                    // Sector boundaries strictly inside the write, where it may tear.
                    let first = (offset / SECTOR + 1) * SECTOR;
                    let end = offset + len;
                    if !torn && first < end && s.rng.random_bool(0.25) {
                        let boundaries = (end - 1 - first) / SECTOR + 1;
                        let cut = first + s.rng.random_range(0..boundaries) * SECTOR;
                        len = cut - offset;
                        torn = true;
                    }
                    apply_write(&mut image, *offset, &data[..to_usize(len)]);
                }
            }
        }
        image
    }

    /// The contents as of the last successful sync.
    pub fn durable_image(&self) -> Vec<u8> {
        self.state.lock().durable.clone()
    }

    /// The current contents, including unsynced writes.
    pub fn volatile_image(&self) -> Vec<u8> {
        self.state.lock().volatile.clone()
    }

    /// Write calls so far, including failed ones.
    pub fn writes(&self) -> u64 {
        self.state.lock().writes
    }

    /// Successful syncs so far.
    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// Writes and resizes not yet synced.
    pub fn pending(&self) -> usize {
        self.state.lock().pending.len()
    }

    /// Whether the backend has died (torn write or crash) and fails every call.
    pub fn is_dead(&self) -> bool {
        self.state.lock().dead.is_some()
    }
}

impl redb::StorageBackend for FaultyBackend {
    fn len(&self) -> io::Result<u64> {
        let s = self.controller.state.lock();
        s.check_alive()?;
        Ok(s.volatile.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let s = self.controller.state.lock();
        s.check_alive()?;
        let start = to_usize(offset);
        match s.volatile.get(start..start + out.len()) {
            Some(bytes) => {
                out.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "faulty backend: read of {} bytes at {offset} past the end",
                    out.len()
                ),
            )),
        }
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.controller.state.lock();
        s.check_alive()?;
        s.volatile.resize(to_usize(len), 0);
        s.pending.push(Pending::SetLen(len));
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut s = self.controller.state.lock();
        s.check_alive()?;
        if s.fail_next_sync {
            s.fail_next_sync = false;
            return Err(io::Error::other("faulty backend: injected sync failure"));
        }
        s.durable = s.volatile.clone();
        s.pending.clear();
        s.syncs += 1;
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut guard = self.controller.state.lock();
        let s = &mut *guard;
        s.check_alive()?;
        let index = s.writes;
        s.writes += 1;
        if s.fail_write_at == Some(index) {
            s.fail_write_at = None;
            return Err(io::Error::other("faulty backend: injected write failure"));
        }
        let mut data = data;
        if s.torn_write_at == Some(index) {
            s.torn_write_at = None;
            let cut = if s.sector_tears {
                // Cut points: the start, or a sector boundary strictly inside the write.
                let first = (offset / SECTOR + 1) * SECTOR;
                let end = offset + data.len() as u64;
                let inside = if first < end {
                    (end - 1 - first) / SECTOR + 1
                } else {
                    0
                };
                match s.rng.random_range(0..=inside) {
                    0 => 0,
                    k => to_usize(first + (k - 1) * SECTOR - offset),
                }
            } else {
                s.rng.random_range(0..data.len().max(1)).min(data.len())
            };
            data = &data[..cut];
            s.dead = Some("died in the middle of a write");
        }
        apply_write(&mut s.volatile, offset, data);
        s.pending.push(Pending::Write {
            offset,
            data: data.to_vec(),
        });
        s.check_alive()
    }
}

fn apply_write(image: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let start = to_usize(offset);
    if image.len() < start + data.len() {
        image.resize(start + data.len(), 0);
    }
    image[start..start + data.len()].copy_from_slice(data);
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
