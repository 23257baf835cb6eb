//! Encryption at rest of an open data directory: the key store, the encrypted data file, and
//! online rotation of the master key and of the data key.
//!
//! - **Master key rotation** ([`Encryption::rotate_master_key`]) re-seals the key store under
//!   a new master key at once; the data keys, and so the data, do not change. With a key file,
//!   the new key is written beside the old one first, so a crash in between leaves a key that
//!   opens the store either way (see [`zizhu_crypto::master`]).
//! - **Data key rotation** ([`Encryption::rotate_data_key`]) makes a new data key active (new
//!   pages are sealed under it from then on) and starts a background worker that re-seals every
//!   page of the data file under it, a batch at a time, throttled to a rate in MiB/s, while the
//!   database serves traffic; the engine's log (`data.wal`) is re-sealed the same way. When a
//!   pass finds no page left under the old key, the sealed files of the directory are
//!   re-sealed, and the old key is destroyed: its material is
//!   removed from the key store. Progress is in [`Status`] (the `zizhu_stat_encryption`
//!   view). A shutdown or crash during the pass leaves the old key *retiring* in the key store,
//!   and the next open resumes the rotation.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;
use zizhu_crypto::keystore::{KeyRing, KeyState, KeyStore};
use zizhu_crypto::master::KeyProvider;
use zizhu_crypto::sealed;
use zizhu_engine_redb::backend::encrypted::PAGE;
use zizhu_engine_redb::{RedbEngine, RedbOptions, SealedFile};

use crate::{Error, Result};

/// Default throttle of a data key rotation, in MiB of pages re-sealed per second.
pub const DEFAULT_ROTATION_RATE: f64 = 32.0;
/// Pages re-sealed per batch (one journal write and one sync each).
const BATCH: u64 = 64;

/// One data key, as the `zizhu_encryption_keys` view shows it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Its number.
    pub id: u32,
    /// `active`, `retiring` or `destroyed`.
    pub state: &'static str,
    /// When it was created.
    pub created: SystemTime,
    /// When it was destroyed.
    pub destroyed: Option<SystemTime>,
}

/// Progress of the current or last data key rotation.
#[derive(Debug, Clone, Default)]
pub struct RotationStatus {
    /// `idle` (never rotated), `running`, `finished` or `failed`.
    pub state: &'static str,
    /// The key being replaced.
    pub from_key: Option<u32>,
    /// The key replacing it.
    pub to_key: Option<u32>,
    /// Pages in the data file when the current pass started.
    pub pages_total: u64,
    /// Pages visited by the current pass.
    pub pages_done: u64,
    /// Pages re-sealed so far.
    pub pages_resealed: u64,
    /// Pages that failed authentication and were left (torn by an old crash, never reused).
    pub pages_unreadable: u64,
    /// The throttle, MiB/s.
    pub rate_mib_per_second: f64,
    /// When it started (this process).
    pub started: Option<SystemTime>,
    /// When it finished.
    pub finished: Option<SystemTime>,
    /// Why it failed.
    pub error: Option<String>,
}

/// The encryption state of a data directory, as the `zizhu_stat_encryption` view shows it.
#[derive(Debug, Clone)]
pub struct Status {
    /// The cipher (`SM4-GCM`).
    pub cipher: &'static str,
    /// The implementation of its block function in use (`SM4 (AES-NI)`).
    pub implementation: &'static str,
    /// Where the master key comes from.
    pub master_key: String,
    /// When the master key was last rotated (this process).
    pub master_rotated: Option<SystemTime>,
    /// The active data key.
    pub active_key: u32,
    /// The current or last data key rotation.
    pub rotation: RotationStatus,
    /// Pages sealed and opened since the directory was opened.
    pub pages_sealed: u64,
    /// Pages opened since the directory was opened.
    pub pages_opened: u64,
    /// Pages that failed authentication since the directory was opened.
    pub authentication_failures: u64,
}

/// Encryption at rest of an open data directory; see the [module docs](self).
pub struct Encryption {
    dir: PathBuf,
    provider: Box<dyn KeyProvider>,
    store: Mutex<KeyStore>,
    keys: Arc<KeyRing>,
    /// The engine's encrypted files (the data file first, then its log), each with its
    /// re-key journal.
    files: Vec<SealedFile>,
    rotation: Mutex<RotationStatus>,
    master_rotated: Mutex<Option<SystemTime>>,
    /// Serializes the key management operations.
    admin: Mutex<()>,
    worker: Mutex<Option<JoinHandle<()>>>,
    stop: AtomicBool,
    pages_done: AtomicU64,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryption")
            .field("dir", &self.dir)
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Encryption {
    pub(crate) fn open(
        dir: &Path,
        provider: Box<dyn KeyProvider>,
        initializing: bool,
        data: &Path,
        journal: &Path,
        options: RedbOptions,
    ) -> Result<(Arc<Self>, RedbEngine)> {
        let mut store = if initializing {
            KeyStore::create(dir, provider.create()?)?
        } else {
            Self::open_store(dir, &*provider)?
        };
        let epochs = [store.next_epoch()?, store.next_epoch()?];
        let keys = Arc::new(KeyRing::new(&store)?);
        let (engine, files) =
            RedbEngine::open_encrypted(data, options, Arc::clone(&keys), epochs, journal)?;
        let retiring = store
            .keys()
            .iter()
            .find(|k| k.state == KeyState::Retiring)
            .map(|k| k.id);
        let active = store.active()?.id;
        let encryption = Arc::new(Self {
            dir: dir.to_path_buf(),
            provider,
            store: Mutex::new(store),
            keys,
            files,
            rotation: Mutex::new(RotationStatus {
                state: "idle",
                ..RotationStatus::default()
            }),
            master_rotated: Mutex::new(None),
            admin: Mutex::new(()),
            worker: Mutex::new(None),
            stop: AtomicBool::new(false),
            pages_done: AtomicU64::new(0),
        });
        if let Some(from) = retiring {
            encryption.start_worker(from, active, DEFAULT_ROTATION_RATE);
        }
        Ok((encryption, engine))
    }

    /// Opens the key store with the provider's key, or with the new key of a master key
    /// rotation that a crash interrupted (and then completes that rotation).
    fn open_store(dir: &Path, provider: &dyn KeyProvider) -> Result<KeyStore> {
        match KeyStore::open(dir, provider.secret()?) {
            Ok(store) => {
                // A rotation that never re-sealed the store: forget its new key.
                provider.abandon_rotation()?;
                Ok(store)
            }
            Err(zizhu_crypto::Error::WrongMasterKey(message)) => match provider.pending()? {
                Some(next) => match KeyStore::open(dir, next) {
                    Ok(store) => {
                        provider.finish_rotation()?;
                        Ok(store)
                    }
                    Err(_) => Err(Error::Key(zizhu_crypto::Error::WrongMasterKey(message))),
                },
                None => Err(Error::Key(zizhu_crypto::Error::WrongMasterKey(message))),
            },
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub(crate) fn write_sealed(&self, path: &Path, purpose: &str, bytes: &[u8]) -> Result<()> {
        // Under the admin lock, so that a rotation cannot re-seal the directory's files and
        // destroy the old key between this choosing the active key and writing.
        let _admin = self.admin.lock();
        Ok(sealed::write(path, purpose, &self.keys, bytes)?)
    }

    /// The encryption state.
    pub fn status(&self) -> Status {
        let mut rotation = self.rotation.lock().clone();
        if rotation.state == "running" {
            rotation.pages_done = self.pages_done.load(Ordering::Relaxed);
        }
        let stat = |f: fn(&zizhu_engine_redb::backend::encrypted::CryptStats) -> &AtomicU64| {
            self.files
                .iter()
                .map(|(file, _)| f(file.stats()).load(Ordering::Relaxed))
                .sum()
        };
        Status {
            cipher: "SM4-GCM",
            implementation: self.keys.active().1.implementation(),
            master_key: self.provider.describe(),
            master_rotated: *self.master_rotated.lock(),
            active_key: self.keys.active().0,
            rotation,
            pages_sealed: stat(|s| &s.sealed),
            pages_opened: stat(|s| &s.opened),
            authentication_failures: stat(|s| &s.failures),
        }
    }

    /// Every data key the key store knows.
    pub fn key_list(&self) -> Vec<KeyInfo> {
        let at = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        self.store
            .lock()
            .keys()
            .iter()
            .map(|k| KeyInfo {
                id: k.id,
                state: k.state.name(),
                created: at(k.created),
                destroyed: k.destroyed.map(at),
            })
            .collect()
    }

    /// Re-seals the key store under a new master key; see the [module docs](self).
    pub fn rotate_master_key(&self) -> Result<()> {
        let _admin = self.admin.lock();
        let secret = self.provider.begin_rotation()?;
        let mut store = self.store.lock();
        if let Err(e) = store.reseal(secret) {
            let _ = self.provider.abandon_rotation();
            return Err(e.into());
        }
        self.provider.finish_rotation()?;
        *self.master_rotated.lock() = Some(SystemTime::now());
        Ok(())
    }

    /// Starts a data key rotation, throttled to `rate_mib_per_second`; returns the new key's
    /// number. See the [module docs](self).
    pub fn rotate_data_key(self: &Arc<Self>, rate_mib_per_second: f64) -> Result<u32> {
        if !rate_mib_per_second.is_finite() || rate_mib_per_second <= 0.0 {
            return Err(Error::Setup(format!(
                "the rotation rate must be positive, not {rate_mib_per_second} MiB/s"
            )));
        }
        let _admin = self.admin.lock();
        let mut store = self.store.lock();
        let from = store.active()?.id;
        let to = store.rotate_data_key()?;
        self.keys.refresh(&store)?;
        drop(store);
        self.start_worker(from, to, rate_mib_per_second);
        Ok(to)
    }

    fn start_worker(self: &Arc<Self>, from: u32, to: u32, rate: f64) {
        let mut worker = self.worker.lock();
        if let Some(old) = worker.take() {
            let _ = old.join();
        }
        self.stop.store(false, Ordering::Release);
        self.pages_done.store(0, Ordering::Relaxed);
        *self.rotation.lock() = RotationStatus {
            state: "running",
            from_key: Some(from),
            to_key: Some(to),
            rate_mib_per_second: rate,
            started: Some(SystemTime::now()),
            ..RotationStatus::default()
        };
        let this = Arc::clone(self);
        *worker = Some(std::thread::spawn(move || {
            let result = this.rotate(from, rate);
            let mut status = this.rotation.lock();
            status.pages_done = this.pages_done.load(Ordering::Relaxed);
            match result {
                Ok(true) => {
                    status.state = "finished";
                    status.finished = Some(SystemTime::now());
                }
                // Stopped by a shutdown: the next open resumes it.
                Ok(false) => {}
                Err(e) => {
                    status.state = "failed";
                    status.error = Some(e.to_string());
                }
            }
        }));
    }

    /// Stops a running rotation (it resumes at the next open) and waits for the worker.
    pub fn stop_rotation(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(worker) = self.worker.lock().take() {
            let _ = worker.join();
        }
    }

    /// Waits until the running rotation, if any, ends; for tests and tools.
    pub fn wait_for_rotation(&self) -> RotationStatus {
        if let Some(worker) = self.worker.lock().take() {
            let _ = worker.join();
        }
        self.rotation.lock().clone()
    }

    /// The worker: passes over the files until no page is left under `from`, then re-seals
    /// the directory's files and destroys `from`. Returns false if stopped.
    fn rotate(&self, from: u32, rate: f64) -> Result<bool> {
        let io = |e: std::io::Error| Error::Io(format!("re-keying the data files: {e}"));
        // Writes that picked the old key before the switch finish before the pass starts.
        for (file, _) in &self.files {
            file.barrier();
        }
        let bytes_per_second = rate * 1024.0 * 1024.0;
        let started = Instant::now();
        let mut visited: u64 = 0;
        // Unreadable pages by file: pages no pass could open (reported, and left).
        let mut unreadable = vec![std::collections::BTreeSet::new(); self.files.len()];
        for _pass in 0..3 {
            let mut total = 0;
            for (file, _) in &self.files {
                total += file.pages().map_err(io)?;
            }
            self.rotation.lock().pages_total = total;
            self.pages_done.store(0, Ordering::Relaxed);
            let mut done = 0;
            for (i, (file, journal)) in self.files.iter().enumerate() {
                let pages = file.pages().map_err(io)?;
                let mut first = 0;
                while first < pages {
                    if self.stop.load(Ordering::Acquire) {
                        return Ok(false);
                    }
                    let end = (first + BATCH).min(pages);
                    let batch = file.rekey(first, end, journal).map_err(io)?;
                    {
                        let mut status = self.rotation.lock();
                        status.pages_resealed += batch.resealed;
                        unreadable[i].extend(batch.unreadable);
                        status.pages_unreadable = unreadable.iter().map(|u| u.len() as u64).sum();
                    }
                    visited += end - first;
                    self.pages_done.store(done + end, Ordering::Relaxed);
                    first = end;
                    // Throttle: no faster than the rate, averaged since the start.
                    let due =
                        Duration::from_secs_f64(visited as f64 * PAGE as f64 / bytes_per_second);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        self.sleep(wait);
                    }
                }
                done += pages;
            }
            let mut left = false;
            'files: for (i, (file, _)) in self.files.iter().enumerate() {
                for page in 0..file.pages().map_err(io)? {
                    if file.slot_key(page).map_err(io)? == Some(from)
                        && !unreadable[i].contains(&page)
                    {
                        left = true;
                        break 'files;
                    }
                }
            }
            if !left {
                self.finish(from)?;
                return Ok(true);
            }
        }
        Err(Error::Setup(format!(
            "pages under data key {from} remain after three passes; the key is kept"
        )))
    }

    fn sleep(&self, wait: Duration) {
        let until = Instant::now() + wait;
        while !self.stop.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= until {
                break;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    }

    fn finish(&self, from: u32) -> Result<()> {
        let _admin = self.admin.lock();
        for (file, journal) in &self.files {
            file.finish_rekey(journal)
                .map_err(|e| Error::Io(format!("finishing the re-key: {e}")))?;
        }
        sealed::reseal_dir(&self.dir, &self.keys)?;
        let mut store = self.store.lock();
        store.destroy(from)?;
        self.keys.refresh(&store)?;
        Ok(())
    }
}

impl Drop for Encryption {
    fn drop(&mut self) {
        self.stop_rotation();
    }
}
