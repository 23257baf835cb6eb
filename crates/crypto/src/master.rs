//! The master key: where it comes from, and how it is rotated.
//!
//! The master key never leaves memory and never encrypts data: it seals the
//! [`KeyStore`](crate::keystore::KeyStore). A [`KeyProvider`] supplies it, which is the plug-in
//! point for a KMS or HSM; the built-in providers are:
//!
//! - [`KeyFile`]: a file of its own (mode 0600, refused if others may read it), created on
//!   the first start. It must be kept apart from the data directory and backed up: without it
//!   the data cannot be read.
//! - [`HexKey`]: 32 hex digits from an environment variable (`ZIZHU_MASTER_KEY`).
//! - [`Passphrase`]: a passphrase (`ZIZHU_MASTER_PASSPHRASE`), stretched by PBKDF2-HMAC-SM3 with
//!   the salt and round count stored in the key store's header.
//! - [`Command`]: an external program whose standard output is the key in hex; a KMS client
//!   goes here without changing the database.
//!
//! Online rotation needs a provider that can produce and then commit a new key; the key file
//! does it crash-safely in three steps (new key written beside the old, key store re-sealed,
//! new key renamed over the old), and after a crash between them [`KeyProvider::pending`]
//! offers the new key so that opening completes the rotation.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroize;

use crate::aead::{Key, KEY_LEN};
use crate::{errformat, errkey, hex, io_error, unhex, Result};

/// What a provider hands over: a key, or a passphrase the key store stretches with its salt.
pub enum MasterSecret {
    /// The master key itself.
    Key(Key),
    /// A passphrase for PBKDF2-HMAC-SM3.
    Passphrase(Secret),
}

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(_) => f.write_str("MasterSecret::Key(..)"),
            Self::Passphrase(_) => f.write_str("MasterSecret::Passphrase(..)"),
        }
    }
}

/// A secret string, wiped when dropped.
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The text (never log it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Supplies the master key; see the [module docs](self).
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// Where the key comes from, for messages (never the key).
    fn describe(&self) -> String;

    /// The current master secret.
    fn secret(&self) -> Result<MasterSecret>;

    /// Creates the master secret for a new data directory. Providers that do not store keys
    /// themselves return [`secret`](Self::secret).
    fn create(&self) -> Result<MasterSecret> {
        self.secret()
    }

    /// A new master secret from an unfinished rotation, to try when
    /// [`secret`](Self::secret) does not open the key store.
    fn pending(&self) -> Result<Option<MasterSecret>> {
        Ok(None)
    }

    /// Produces and durably records a new master secret, without yet replacing the current
    /// one; [`finish_rotation`](Self::finish_rotation) makes it current.
    fn begin_rotation(&self) -> Result<MasterSecret> {
        Err(errkey!(
            "the master key from {} cannot be rotated online; rotate it where it is kept and \
             restart, or use a master key file",
            self.describe()
        ))
    }

    /// Makes the secret from [`begin_rotation`](Self::begin_rotation) current.
    fn finish_rotation(&self) -> Result<()> {
        Ok(())
    }

    /// Forgets an unfinished rotation whose new secret was never used.
    fn abandon_rotation(&self) -> Result<()> {
        Ok(())
    }
}

/// The first line of a master key file.
const KEY_FILE_HEADER: &str = "zizhu-master-key v1 sm4";

/// A master key in a file of its own; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    /// The key file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn next_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".next");
        PathBuf::from(name)
    }

    fn read(path: &Path) -> Result<Key> {
        check_private(path)?;
        let mut text = std::fs::read_to_string(path).map_err(|e| io_error("reading", path, e))?;
        let key = parse_key_file(&text)
            .ok_or_else(|| errformat!("{} is not a ZizhuDB master key file", path.display()));
        text.zeroize();
        key
    }

    /// Writes a fresh key to `path`, which must not exist, durably and readable by its owner
    /// only.
    fn write_new(path: &Path) -> Result<Key> {
        let key = Key::random();
        let mut text = format!("{KEY_FILE_HEADER}\n{}\n", hex(key.expose()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let result = options
            .open(path)
            .and_then(|mut file| {
                file.write_all(text.as_bytes())?;
                file.sync_all()
            })
            .map_err(|e| io_error("creating", path, e));
        text.zeroize();
        result?;
        sync_parent(path)?;
        Ok(key)
    }
}

fn parse_key_file(text: &str) -> Option<Key> {
    let mut lines = text.lines();
    if lines.next()?.trim() != KEY_FILE_HEADER {
        return None;
    }
    let mut bytes = unhex(lines.next()?.trim())?;
    let key = Key::from_slice(&bytes);
    bytes.zeroize();
    key
}

/// Refuses key files others may read, as PostgreSQL refuses such server keys.
fn check_private(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            errkey!("the master key file {} does not exist", path.display())
        } else {
            io_error("reading", path, e)
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(errkey!(
                "the master key file {} has group or world access (mode {:o}); it must be \
                 readable by its owner only (chmod 600)",
                path.display(),
                mode & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

/// Makes a rename or creation in `path`'s directory durable.
pub fn sync_parent(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("syncing directory", dir, e))
}

impl KeyProvider for KeyFile {
    fn describe(&self) -> String {
        format!("the master key file {}", self.path.display())
    }

    fn secret(&self) -> Result<MasterSecret> {
        Self::read(&self.path).map(MasterSecret::Key)
    }

    fn create(&self) -> Result<MasterSecret> {
        if self.path.exists() {
            // A key file made ready before the first start (or kept from an earlier one).
            return self.secret();
        }
        Self::write_new(&self.path).map(MasterSecret::Key)
    }

    fn pending(&self) -> Result<Option<MasterSecret>> {
        let next = self.next_path();
        if !next.exists() {
            return Ok(None);
        }
        Self::read(&next).map(|k| Some(MasterSecret::Key(k)))
    }

    fn begin_rotation(&self) -> Result<MasterSecret> {
        let next = self.next_path();
        if next.exists() {
            std::fs::remove_file(&next).map_err(|e| io_error("removing", &next, e))?;
        }
        Self::write_new(&next).map(MasterSecret::Key)
    }

    fn finish_rotation(&self) -> Result<()> {
        let next = self.next_path();
        std::fs::rename(&next, &self.path).map_err(|e| io_error("renaming", &next, e))?;
        sync_parent(&self.path)
    }

    fn abandon_rotation(&self) -> Result<()> {
        let next = self.next_path();
        if next.exists() {
            std::fs::remove_file(&next).map_err(|e| io_error("removing", &next, e))?;
            sync_parent(&next)?;
        }
        Ok(())
    }
}

/// A master key given as 32 hex digits (from an environment variable).
pub struct HexKey {
    origin: String,
    key: Key,
}

impl HexKey {
    /// The key in `text`, naming `origin` (such as `ZIZHU_MASTER_KEY`) in messages.
    pub fn parse(origin: &str, text: &str) -> Result<Self> {
        let mut bytes = unhex(text.trim()).unwrap_or_default();
        let key = Key::from_slice(&bytes);
        bytes.zeroize();
        match key {
            Some(key) => Ok(Self {
                origin: origin.to_string(),
                key,
            }),
            None => Err(errkey!(
                "{origin} must hold a master key of {} hex digits",
                KEY_LEN * 2
            )),
        }
    }
}

impl fmt::Debug for HexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexKey({})", self.origin)
    }
}

impl KeyProvider for HexKey {
    fn describe(&self) -> String {
        self.origin.clone()
    }

    fn secret(&self) -> Result<MasterSecret> {
        Ok(MasterSecret::Key(self.key.clone()))
    }
}

/// A passphrase stretched into the master key by the key store (PBKDF2-HMAC-SM3).
pub struct Passphrase {
    origin: String,
    text: Secret,
}

impl Passphrase {
    /// The passphrase `text`, naming `origin` in messages. Shorter than 8 characters is
    /// refused.
    pub fn new(origin: &str, text: String) -> Result<Self> {
        if text.chars().count() < 8 {
            return Err(errkey!(
                "the passphrase in {origin} is too short (at least 8 characters)"
            ));
        }
        Ok(Self {
            origin: origin.to_string(),
            text: Secret::new(text),
        })
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Passphrase({})", self.origin)
    }
}

impl KeyProvider for Passphrase {
    fn describe(&self) -> String {
        format!("the passphrase in {}", self.origin)
    }

    fn secret(&self) -> Result<MasterSecret> {
        Ok(MasterSecret::Passphrase(Secret::new(
            self.text.expose().to_string(),
        )))
    }
}

/// A master key printed in hex by an external command (run with `sh -c`): the hook for a
/// KMS or HSM client.
#[derive(Debug, Clone)]
pub struct Command {
    command: String,
}

impl Command {
    /// The command line `command`.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
        }
    }
}

impl KeyProvider for Command {
    fn describe(&self) -> String {
        format!("the master key command `{}`", self.command)
    }

    fn secret(&self) -> Result<MasterSecret> {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| errkey!("could not run {}: {e}", self.describe()))?;
        if !output.status.success() {
            return Err(errkey!("{} failed ({})", self.describe(), output.status));
        }
        let mut text = String::from_utf8(output.stdout).unwrap_or_default();
        let key = HexKey::parse(&self.describe(), &text);
        text.zeroize();
        key.map(|k| MasterSecret::Key(k.key.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(secret: MasterSecret) -> Key {
        match secret {
            MasterSecret::Key(k) => k,
            MasterSecret::Passphrase(_) => panic!("expected a key"),
        }
    }

    #[test]
    fn key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = KeyFile::new(dir.path().join("master.key"));
        assert!(file.secret().is_err(), "missing file");
        let created = key_of(file.create().expect("create"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(key_of(file.secret().expect("read")), created);
        // create() keeps an existing key rather than replacing it.
        assert_eq!(key_of(file.create().expect("create again")), created);
    }

    #[test]
    fn key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = KeyFile::new(dir.path().join("master.key"));
        file.create().expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o644))
                .expect("chmod");
            let err = file.secret().expect_err("world-readable").to_string();
            assert!(err.contains("chmod 600"), "{err}");
        }
    }

    #[test]
    fn key_file_rotation_commits_in_steps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = KeyFile::new(dir.path().join("master.key"));
        let old = key_of(file.create().expect("create"));
        assert!(file.pending().expect("pending").is_none());
        let new = key_of(file.begin_rotation().expect("begin"));
        assert_ne!(old, new);
        // Until finished, the old key is current and the new one pending.
        assert_eq!(key_of(file.secret().expect("current")), old);
        assert_eq!(key_of(file.pending().expect("p").expect("pending")), new);
        file.finish_rotation().expect("finish");
        assert_eq!(key_of(file.secret().expect("current")), new);
        assert!(file.pending().expect("pending").is_none());
    }

    #[test]
    fn garbage_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        std::fs::write(&path, "not a key\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let err = KeyFile::new(&path)
            .secret()
            .expect_err("garbage")
            .to_string();
        assert!(err.contains("not a ZizhuDB master key file"), "{err}");
    }

    #[test]
    fn hex_key_and_command() {
        let hex_text = "00112233445566778899aabbccddeeff";
        let key = key_of(
            HexKey::parse("ZIZHU_MASTER_KEY", hex_text)
                .expect("hex")
                .secret()
                .expect("k"),
        );
        assert_eq!(hex(key.expose()), hex_text);
        assert!(HexKey::parse("ZIZHU_MASTER_KEY", "0011").is_err());
        let command = Command::new(format!("echo {hex_text}"));
        assert_eq!(key_of(command.secret().expect("command")), key);
        assert!(Command::new("exit 3").secret().is_err());
        assert!(Passphrase::new("ZIZHU_MASTER_PASSPHRASE", "short".into()).is_err());
    }
}
