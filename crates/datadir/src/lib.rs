//! The data directory: what lives in it, how it is initialized and opened, and encryption at
//! rest.
//!
//! ```text
//! <data>/zizhu.control   format and encryption setting, chosen at initialization (no secrets)
//! <data>/zizhu.lock      held (flock) by the process that has the directory open
//! <data>/keystore        the data keys, sealed under the master key (encrypted directories)
//! <data>/data.redb       every table and index: redb's file, each page sealed with SM4-GCM
//! <data>/data.wal        the engine's write-ahead log (zizhu_engine_redb::wal), sealed alike
//! <data>/rekey.journal   the current batch of a data key rotation, while one runs
//!                        (rekey.journal-wal for the log)
//! <data>/pg_hba.conf    which users may connect to which databases from where (plain text)
//! <data>/scram.mock     the secret that salts of refused logins derive from (sealed)
//! <data>/...            small files sealed whole under the data key ([`DataDir::write_file`])
//! <data>/tmp/            spill files of sorts and hash joins, sealed under per-file keys
//! ```
//!
//! Encryption is on unless the directory was initialized with it explicitly off, and the
//! choice is recorded in the control file: an encrypted directory never opens without its
//! master key, and `--no-encryption` never applies to one. The master key itself lives outside
//! the directory (see [`zizhu_crypto::master`]).
//!
//! Opening takes the directory lock first, then (if encrypted) opens the key store with the
//! master key (completing an interrupted master key rotation if the new key is the one that
//! opens it), takes a fresh nonce epoch, applies any re-key journal a crash left, and opens the
//! engine; a data key rotation that a shutdown or crash interrupted resumes in the background.
//! A wrong or missing master key stops all this before anything is written.

pub mod encryption;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zizhu_crypto::master::KeyProvider;
use zizhu_crypto::{keystore::KeyStore, sealed};
use zizhu_engine_redb::{RedbEngine, RedbOptions};

pub use encryption::{Encryption, KeyInfo, RotationStatus, Status};

/// An error opening or managing a data directory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The directory is open in another process.
    #[error("data directory {0} is in use by another zizhu process")]
    Locked(String),
    /// The directory is not a usable data directory, or the options conflict with it.
    #[error("{0}")]
    Setup(String),
    /// A master key or data key problem (missing, wrong, refused).
    #[error("{0}")]
    Key(#[from] zizhu_crypto::Error),
    /// The engine failed (including corruption it detected).
    #[error(transparent)]
    Engine(#[from] zizhu_engine::Error),
    /// The file system failed.
    #[error("I/O error: {0}")]
    Io(String),
}

impl Error {
    /// Whether the error means stored data failed authentication or is damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            Error::Engine(zizhu_engine::Error::Corruption(_))
                | Error::Key(zizhu_crypto::Error::Authentication(_))
        )
    }
}

/// Result of data directory operations.
pub type Result<T> = std::result::Result<T, Error>;

fn io(what: &str, path: &Path, err: std::io::Error) -> Error {
    Error::Io(format!("{what} {}: {err}", path.display()))
}

/// How to treat encryption when opening.
pub enum EncryptionChoice {
    /// Encrypted with the master key from this provider (the default).
    On(Box<dyn KeyProvider>),
    /// Not encrypted; valid only for a directory initialized that way, or being initialized.
    Off,
}

/// Options for [`DataDir::open`].
pub struct Options {
    /// Encryption.
    pub encryption: EncryptionChoice,
    /// redb's page cache.
    pub cache_size_bytes: usize,
}

impl Options {
    /// Encrypted, with the master key in the key file at `path` (created on initialization);
    /// a 256 MiB page cache.
    pub fn key_file(path: impl Into<PathBuf>) -> Self {
        Self {
            encryption: EncryptionChoice::On(Box::new(zizhu_crypto::master::KeyFile::new(path))),
            cache_size_bytes: 256 << 20,
        }
    }

    /// Not encrypted; a 256 MiB page cache.
    pub fn unencrypted() -> Self {
        Self {
            encryption: EncryptionChoice::Off,
            cache_size_bytes: 256 << 20,
        }
    }
}

const CONTROL: &str = "zizhu.control";
const LOCK: &str = "zizhu.lock";
const DATA: &str = "data.redb";
const JOURNAL: &str = "rekey.journal";
const TEMP: &str = "tmp";

/// An open data directory; see the [crate docs](crate).
pub struct DataDir {
    path: PathBuf,
    encryption: Option<Arc<Encryption>>,
    /// Held for as long as the directory is open.
    _lock: File,
}

impl std::fmt::Debug for DataDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataDir")
            .field("path", &self.path)
            .field("encrypted", &self.encryption.is_some())
            .finish_non_exhaustive()
    }
}

/// What the control file records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    Encrypted,
    Plain,
}

fn read_control(path: &Path) -> Result<Option<Recorded>> {
    let file = path.join(CONTROL);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("reading", &file, e)),
    };
    let mut lines = text.lines();
    // Version 2: view definitions carry their OID and output columns. Version 3: catalog
    // names are per database, and roles live in the catalog. Version 4: relation names are
    // per schema.
    if lines.next() != Some("zizhu-data 4") {
        return Err(Error::Setup(format!(
            "{} is not a ZizhuDB control file of a version this build reads",
            file.display()
        )));
    }
    match lines.find_map(|l| l.strip_prefix("encryption ")) {
        Some("sm4-gcm") => Ok(Some(Recorded::Encrypted)),
        Some("off") => Ok(Some(Recorded::Plain)),
        _ => Err(Error::Setup(format!(
            "{} does not say whether the directory is encrypted",
            file.display()
        ))),
    }
}

fn write_control(path: &Path, recorded: Recorded) -> Result<()> {
    let setting = match recorded {
        Recorded::Encrypted => "sm4-gcm",
        Recorded::Plain => "off",
    };
    let text = format!(
        "zizhu-data 4\nencryption {setting}\n# Written when the directory was initialized; \
         do not edit.\n"
    );
    zizhu_crypto::keystore::write_atomically(&path.join(CONTROL), text.as_bytes())?;
    Ok(())
}

impl DataDir {
    /// Opens the data directory at `path`, initializing it if it does not exist or is empty.
    /// Returns the directory and its storage engine.
    pub fn open(path: &Path, options: Options) -> Result<(Self, RedbEngine)> {
        std::fs::create_dir_all(path).map_err(|e| io("creating", path, e))?;
        let lock = Self::lock(path)?;
        let recorded = match read_control(path)? {
            Some(recorded) => recorded,
            None => {
                Self::check_empty(path)?;
                match options.encryption {
                    EncryptionChoice::On(_) => Recorded::Encrypted,
                    EncryptionChoice::Off => Recorded::Plain,
                }
            }
        };
        let initializing = !path.join(CONTROL).exists();
        let engine_options = RedbOptions {
            cache_size_bytes: options.cache_size_bytes,
            wal: true,
            ..RedbOptions::default()
        };
        let temp = path.join(TEMP);
        std::fs::create_dir_all(&temp).map_err(|e| io("creating", &temp, e))?;
        let (encryption, engine) = match (recorded, options.encryption) {
            (Recorded::Plain, _) => {
                let engine = RedbEngine::open(&path.join(DATA), engine_options)?;
                (None, engine)
            }
            (Recorded::Encrypted, EncryptionChoice::Off) => {
                return Err(Error::Setup(format!(
                    "data directory {} is encrypted; --no-encryption applies only when a \
                     directory is initialized",
                    path.display()
                )))
            }
            (Recorded::Encrypted, EncryptionChoice::On(provider)) => {
                let (encryption, engine) = Encryption::open(
                    path,
                    provider,
                    initializing,
                    &path.join(DATA),
                    &path.join(JOURNAL),
                    engine_options,
                )?;
                (Some(encryption), engine)
            }
        };
        if initializing {
            // Last, so that a directory without it is known to be unfinished.
            write_control(path, recorded)?;
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                encryption,
                _lock: lock,
            },
            engine,
        ))
    }

    fn lock(path: &Path) -> Result<File> {
        let lock_path = path.join(LOCK);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io("opening", &lock_path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(Error::Locked(path.display().to_string()))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io("locking", &lock_path, e)),
        }
    }

    /// A directory without a control file must hold nothing but the lock (and what an
    /// initialization creates before anything is committed), or it was not ours or its
    /// initialization did not finish.
    fn check_empty(path: &Path) -> Result<()> {
        let entries = std::fs::read_dir(path).map_err(|e| io("listing", path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io("listing", path, e))?;
            let name = entry.file_name();
            if name != LOCK && name != TEMP {
                return Err(Error::Setup(format!(
                    "{} is not empty and has no {CONTROL}: it is not a ZizhuDB data directory, \
                     or its initialization did not finish (then remove it and start again)",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where spill files go.
    pub fn temp_dir(&self) -> PathBuf {
        self.path.join(TEMP)
    }

    /// Whether the directory is encrypted.
    pub fn encrypted(&self) -> bool {
        self.encryption.is_some()
    }

    /// Encryption state and key management, if the directory is encrypted.
    pub fn encryption(&self) -> Option<&Arc<Encryption>> {
        self.encryption.as_ref()
    }

    /// Reads the small file `name` of the directory (sealed under the data key when the
    /// directory is encrypted); `None` if it does not exist.
    pub fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path.join(name);
        if !path.exists() {
            return Ok(None);
        }
        match &self.encryption {
            Some(enc) => {
                if !sealed::is_sealed(&path) {
                    return Err(Error::Key(zizhu_crypto::Error::Authentication(format!(
                        "{} is not sealed, but the directory is encrypted: it was replaced",
                        path.display()
                    ))));
                }
                Ok(Some(sealed::read(&path, name, enc.keys())?))
            }
            None => std::fs::read(&path)
                .map(Some)
                .map_err(|e| io("reading", &path, e)),
        }
    }

    /// Writes the small file `name` atomically (sealed under the active data key when the
    /// directory is encrypted).
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path.join(name);
        match &self.encryption {
            Some(enc) => enc.write_sealed(&path, name, bytes),
            None => Ok(zizhu_crypto::keystore::write_atomically(&path, bytes)?),
        }
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if let Some(enc) = &self.encryption {
            enc.stop_rotation();
        }
    }
}

/// Whether `dir` has been initialized as a data directory.
pub fn is_initialized(dir: &Path) -> bool {
    dir.join(CONTROL).exists()
}

/// Whether `dir` is an initialized data directory with encryption on.
pub fn is_encrypted(dir: &Path) -> bool {
    matches!(read_control(dir), Ok(Some(Recorded::Encrypted)))
}

/// Whether `dir` holds a key store (for messages about a missing master key).
pub fn has_key_store(dir: &Path) -> bool {
    KeyStore::exists(dir)
}

#[cfg(test)]
mod tests;
