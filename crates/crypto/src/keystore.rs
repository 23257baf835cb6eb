//! The key store: a data directory's data keys, sealed under the master key.
//!
//! # File format (`<data>/keystore`)
//!
//! ```text
//! header (authenticated, not secret)
//!   magic "ZZKEYS01" · suite u8 · kdf u8 · rounds u32 · salt [16] · nonce [12] · body length u32
//! body (SM4-GCM under the master key, the header as associated data)
//!   text lines: "zizhu-keystore 1", "epoch N", and one "key ID STATE CREATED HEX" per data key
//! tag [16]
//! ```
//!
//! `kdf` is 0 when the master key is used as given and 1 when it is derived from a passphrase
//! by PBKDF2-HMAC-SM3 with `salt` and `rounds`. A wrong master key fails authentication and is
//! reported as such; so is any change to the file. Every save writes a new file with a fresh
//! nonce, syncs it, renames it over the old one and syncs the directory, so a crash leaves the
//! old store or the new one, never a mix.
//!
//! # Data keys
//!
//! Each data key has a number and a state: `active` (new data is sealed under it; exactly one),
//! `retiring` (replaced, still opens what is not yet re-encrypted), `destroyed` (its material
//! is gone; the number stays so that anything still naming it is reported clearly).
//!
//! # Nonce epochs
//!
//! Formats that seal many messages under one data key build nonces from a 32-bit *epoch* and a
//! 64-bit counter. [`KeyStore::next_epoch`] hands out an epoch durably before it is used, so
//! no epoch is used twice, even across crashes, and so no nonce repeats under a key.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::aead::{Aead, Key, Suite, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::master::{sync_parent, MasterSecret};
use crate::{errformat, errkey, hex, io_error, random_bytes, unhex, Error, Result};

const MAGIC: &[u8; 8] = b"ZZKEYS01";
const HEADER_LEN: usize = 8 + 1 + 1 + 4 + 16 + NONCE_LEN + 4;
const FILE_NAME: &str = "keystore";
/// PBKDF2-HMAC-SM3 rounds for a passphrase-derived master key.
pub const PASSPHRASE_ROUNDS: u32 = 200_000;

/// The state of a data key; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// New data is sealed under it.
    Active,
    /// Replaced; still opens data not yet re-encrypted.
    Retiring,
    /// Its material is gone.
    Destroyed,
}

impl KeyState {
    /// The state's name as stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Destroyed => "destroyed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "retiring" => Some(Self::Retiring),
            "destroyed" => Some(Self::Destroyed),
            _ => None,
        }
    }
}

/// One data key.
#[derive(Clone, Debug)]
pub struct DataKey {
    /// Its number, from 1; stored with everything it seals.
    pub id: u32,
    /// Its state.
    pub state: KeyState,
    /// When it was created (Unix seconds).
    pub created: u64,
    /// When it was destroyed (Unix seconds), if it was.
    pub destroyed: Option<u64>,
    key: Option<Key>,
}

impl DataKey {
    /// A cipher under this key, or an error if it was destroyed.
    pub fn cipher(&self) -> Result<Arc<dyn Aead>> {
        match &self.key {
            Some(key) => Ok(Arc::from(Suite::Sm4Gcm.cipher(key))),
            None => Err(errkey!("data key {} was destroyed", self.id)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kdf {
    None,
    Pbkdf2Sm3 { rounds: u32, salt: [u8; 16] },
}

/// The key store of a data directory; see the [module docs](self).
#[derive(Debug)]
pub struct KeyStore {
    path: PathBuf,
    kdf: Kdf,
    master: Key,
    epoch: u32,
    keys: Vec<DataKey>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The master key and how it was derived, from a provider's secret.
fn derive(secret: MasterSecret, kdf: Option<Kdf>) -> (Key, Kdf) {
    match secret {
        MasterSecret::Key(key) => (key, Kdf::None),
        MasterSecret::Passphrase(text) => {
            let (rounds, salt) = match kdf {
                Some(Kdf::Pbkdf2Sm3 { rounds, salt }) => (rounds, salt),
                _ => {
                    let mut salt = [0u8; 16];
                    random_bytes(&mut salt);
                    (PASSPHRASE_ROUNDS, salt)
                }
            };
            let mut bytes = [0u8; KEY_LEN];
            crate::sm3::pbkdf2(text.expose().as_bytes(), &salt, rounds, &mut bytes);
            (Key::from_bytes(bytes), Kdf::Pbkdf2Sm3 { rounds, salt })
        }
    }
}

impl KeyStore {
    /// The key store's path in data directory `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Whether `dir` has a key store.
    pub fn exists(dir: &Path) -> bool {
        Self::path_in(dir).exists()
    }

    /// Creates the key store of a new data directory, with one active data key.
    pub fn create(dir: &Path, secret: MasterSecret) -> Result<Self> {
        let path = Self::path_in(dir);
        if path.exists() {
            return Err(Error::Internal(format!(
                "{} exists already; it is never recreated",
                path.display()
            )));
        }
        let (master, kdf) = derive(secret, None);
        let store = Self {
            path,
            kdf,
            master,
            epoch: 0,
            keys: vec![DataKey {
                id: 1,
                state: KeyState::Active,
                created: now(),
                destroyed: None,
                key: Some(Key::random()),
            }],
        };
        store.save()?;
        Ok(store)
    }

    /// Opens the key store in `dir` with the master secret.
    ///
    /// A wrong master key (or a changed file) gives [`Error::WrongMasterKey`]; nothing is
    /// written.
    pub fn open(dir: &Path, secret: MasterSecret) -> Result<Self> {
        let path = Self::path_in(dir);
        let bytes = std::fs::read(&path).map_err(|e| io_error("reading", &path, e))?;
        if bytes.len() < HEADER_LEN + TAG_LEN || &bytes[..8] != MAGIC {
            return Err(errformat!("{} is not a ZizhuDB key store", path.display()));
        }
        let header = &bytes[..HEADER_LEN];
        if Suite::from_id(header[8]).is_none() {
            return Err(errformat!(
                "{}: unknown cipher {}",
                path.display(),
                header[8]
            ));
        }
        let kdf = match header[9] {
            0 => Kdf::None,
            1 => Kdf::Pbkdf2Sm3 {
                rounds: u32::from_be_bytes(array(&header[10..14])),
                salt: array(&header[14..30]),
            },
            other => {
                return Err(errformat!(
                    "{}: unknown key derivation {other}",
                    path.display()
                ))
            }
        };
        let nonce: [u8; NONCE_LEN] = array(&header[30..42]);
        let body_len = u32::from_be_bytes(array(&header[42..46])) as usize;
        if bytes.len() != HEADER_LEN + body_len + TAG_LEN {
            return Err(errformat!("{} is truncated or padded", path.display()));
        }
        if matches!(
            (&secret, kdf),
            (MasterSecret::Key(_), Kdf::Pbkdf2Sm3 { .. })
        ) || matches!((&secret, kdf), (MasterSecret::Passphrase(_), Kdf::None))
        {
            return Err(Error::WrongMasterKey(format!(
                "the key store {} was sealed with a master key {} but was given {}",
                path.display(),
                if kdf == Kdf::None {
                    "given directly"
                } else {
                    "derived from a passphrase"
                },
                if kdf == Kdf::None {
                    "a passphrase"
                } else {
                    "a key"
                }
            )));
        }
        let (master, kdf) = derive(secret, Some(kdf));
        let mut body = bytes[HEADER_LEN..HEADER_LEN + body_len].to_vec();
        let tag: [u8; TAG_LEN] = array(&bytes[HEADER_LEN + body_len..]);
        Suite::Sm4Gcm
            .cipher(&master)
            .open(&nonce, header, &mut body, &tag)
            .map_err(|_| {
                Error::WrongMasterKey(format!(
                    "the master key does not open the key store {} (a wrong master key, or \
                     the file was altered)",
                    path.display()
                ))
            })?;
        let text = String::from_utf8(body)
            .map_err(|_| errformat!("{}: the sealed body is not text", path.display()))?;
        let (epoch, keys) = parse_body(&text)
            .ok_or_else(|| errformat!("{}: the sealed body is malformed", path.display()))?;
        Ok(Self {
            path,
            kdf,
            master,
            epoch,
            keys,
        })
    }

    /// All data keys, oldest first.
    pub fn keys(&self) -> &[DataKey] {
        &self.keys
    }

    /// The active data key.
    pub fn active(&self) -> Result<&DataKey> {
        self.keys
            .iter()
            .find(|k| k.state == KeyState::Active)
            .ok_or_else(|| Error::Internal("the key store has no active data key".into()))
    }

    /// The data key numbered `id`.
    pub fn key(&self, id: u32) -> Option<&DataKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Whether the master key comes from a passphrase.
    pub fn passphrase_derived(&self) -> bool {
        matches!(self.kdf, Kdf::Pbkdf2Sm3 { .. })
    }

    /// Hands out a nonce epoch never handed out before; it is durable when this returns.
    pub fn next_epoch(&mut self) -> Result<u32> {
        let next = self
            .epoch
            .checked_add(1)
            .ok_or_else(|| errkey!("nonce epochs are exhausted; rotate the data key"))?;
        self.epoch = next;
        self.save()?;
        Ok(next)
    }

    /// Starts a data key rotation: a new key becomes active and the active one retiring.
    /// Returns the new key's number. Refused while another key is still retiring.
    pub fn rotate_data_key(&mut self) -> Result<u32> {
        if let Some(k) = self.keys.iter().find(|k| k.state == KeyState::Retiring) {
            return Err(errkey!(
                "data key {} is still being replaced; wait for that rotation to finish",
                k.id
            ));
        }
        let id = self.keys.iter().map(|k| k.id).max().unwrap_or(0) + 1;
        for key in &mut self.keys {
            if key.state == KeyState::Active {
                key.state = KeyState::Retiring;
            }
        }
        self.keys.push(DataKey {
            id,
            state: KeyState::Active,
            created: now(),
            destroyed: None,
            key: Some(Key::random()),
        });
        self.save()?;
        Ok(id)
    }

    /// Destroys retiring key `id`: its material is dropped from the store for good.
    pub fn destroy(&mut self, id: u32) -> Result<()> {
        let key = self
            .keys
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or_else(|| Error::Internal(format!("no data key {id} to destroy")))?;
        if key.state != KeyState::Retiring {
            return Err(Error::Internal(format!(
                "data key {id} is {}, not retiring",
                key.state.name()
            )));
        }
        key.state = KeyState::Destroyed;
        key.destroyed = Some(now());
        key.key = None;
        self.save()
    }

    /// Re-seals the store under a new master secret (master key rotation). The data keys do
    /// not change, so nothing else is re-encrypted.
    pub fn reseal(&mut self, secret: MasterSecret) -> Result<()> {
        let (master, kdf) = derive(secret, None);
        let (old_master, old_kdf) = (
            std::mem::replace(&mut self.master, master),
            std::mem::replace(&mut self.kdf, kdf),
        );
        if let Err(e) = self.save() {
            self.master = old_master;
            self.kdf = old_kdf;
            return Err(e);
        }
        Ok(())
    }

    fn body(&self) -> String {
        let mut text = format!("zizhu-keystore 1\nepoch {}\n", self.epoch);
        for k in &self.keys {
            let material = match &k.key {
                Some(key) => hex(key.expose()),
                None => "-".to_string(),
            };
            let destroyed = k.destroyed.map_or("-".to_string(), |t| t.to_string());
            text.push_str(&format!(
                "key {} {} {} {} {material}\n",
                k.id,
                k.state.name(),
                k.created,
                destroyed
            ));
        }
        text
    }

    fn save(&self) -> Result<()> {
        let mut body = self.body().into_bytes();
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(Suite::Sm4Gcm as u8);
        match self.kdf {
            Kdf::None => {
                header.push(0);
                header.extend_from_slice(&[0; 4 + 16]);
            }
            Kdf::Pbkdf2Sm3 { rounds, salt } => {
                header.push(1);
                header.extend_from_slice(&rounds.to_be_bytes());
                header.extend_from_slice(&salt);
            }
        }
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce);
        header.extend_from_slice(&nonce);
        header.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let tag = Suite::Sm4Gcm
            .cipher(&self.master)
            .seal(&nonce, &header, &mut body);
        let mut file = header;
        file.extend_from_slice(&body);
        file.extend_from_slice(&tag);
        write_atomically(&self.path, &file)
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one: a private
/// temporary file, synced, renamed over `path`, and the directory synced.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(|e| io_error("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("renaming", &tmp, e))?;
    sync_parent(path)
}

/// The data keys in use, by number, shared by everything that seals or opens data: the
/// storage engine's pages, sealed files. Refreshed from the [`KeyStore`] when a rotation
/// adds or destroys a key.
#[derive(Debug)]
pub struct KeyRing {
    ring: std::sync::RwLock<Ring>,
}

#[derive(Debug, Clone)]
struct Ring {
    active: u32,
    ciphers: std::collections::HashMap<u32, Arc<dyn Aead>>,
}

impl KeyRing {
    /// The usable (active and retiring) keys of `store`.
    pub fn new(store: &KeyStore) -> Result<Self> {
        Ok(Self {
            ring: std::sync::RwLock::new(Self::load(store)?),
        })
    }

    /// A ring of the given keys with `active` among them (for tests and tools without a
    /// key store).
    pub fn from_keys(active: u32, keys: &[(u32, Key)]) -> Result<Self> {
        Ok(Self {
            ring: std::sync::RwLock::new(Self::ring_of(active, keys)?),
        })
    }

    /// Replaces the keys with `keys`, `active` among them.
    pub fn replace(&self, active: u32, keys: &[(u32, Key)]) -> Result<()> {
        let ring = Self::ring_of(active, keys)?;
        *self.ring.write().unwrap_or_else(|e| e.into_inner()) = ring;
        Ok(())
    }

    fn ring_of(active: u32, keys: &[(u32, Key)]) -> Result<Ring> {
        let ciphers: std::collections::HashMap<u32, Arc<dyn Aead>> = keys
            .iter()
            .map(|(id, key)| (*id, Arc::from(Suite::Sm4Gcm.cipher(key))))
            .collect();
        if !ciphers.contains_key(&active) {
            return Err(Error::Internal(format!(
                "active key {active} is not in the ring"
            )));
        }
        Ok(Ring { active, ciphers })
    }

    fn load(store: &KeyStore) -> Result<Ring> {
        let mut ciphers = std::collections::HashMap::new();
        for key in store.keys() {
            if key.state != KeyState::Destroyed {
                ciphers.insert(key.id, key.cipher()?);
            }
        }
        Ok(Ring {
            active: store.active()?.id,
            ciphers,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        // A panic while holding the lock cannot leave a half-updated ring (it is replaced
        // whole), so a poisoned lock is still consistent.
        self.ring.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Reloads the keys after `store` changed.
    pub fn refresh(&self, store: &KeyStore) -> Result<()> {
        let ring = Self::load(store)?;
        *self.ring.write().unwrap_or_else(|e| e.into_inner()) = ring;
        Ok(())
    }

    /// The active key's number and cipher.
    pub fn active(&self) -> (u32, Arc<dyn Aead>) {
        let ring = self.read();
        match ring.ciphers.get(&ring.active) {
            Some(cipher) => (ring.active, Arc::clone(cipher)),
            None => unreachable!("the active key is always in the ring"),
        }
    }

    /// The cipher of key `id`, unless it was destroyed or never existed.
    pub fn get(&self, id: u32) -> Option<Arc<dyn Aead>> {
        self.read().ciphers.get(&id).cloned()
    }

    /// The numbers of the usable keys.
    pub fn ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.read().ciphers.keys().copied().collect();
        ids.sort_unstable();
        ids
    }
}

fn array<const N: usize>(slice: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(slice);
    out
}

fn parse_body(text: &str) -> Option<(u32, Vec<DataKey>)> {
    let mut lines = text.lines();
    if lines.next()? != "zizhu-keystore 1" {
        return None;
    }
    let epoch = lines.next()?.strip_prefix("epoch ")?.parse().ok()?;
    let mut keys = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split(' ').collect();
        let ["key", id, state, created, destroyed, material] = fields.as_slice() else {
            return None;
        };
        let state = KeyState::parse(state)?;
        let key = match (*material, state) {
            ("-", KeyState::Destroyed) => None,
            (_, KeyState::Destroyed) => return None,
            (hex, _) => Some(Key::from_slice(&unhex(hex)?)?),
        };
        keys.push(DataKey {
            id: id.parse().ok()?,
            state,
            created: created.parse().ok()?,
            destroyed: match *destroyed {
                "-" => None,
                t => Some(t.parse().ok()?),
            },
            key,
        });
    }
    let active = keys.iter().filter(|k| k.state == KeyState::Active).count();
    (active == 1).then_some((epoch, keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::Secret;

    fn key_secret(key: &Key) -> MasterSecret {
        MasterSecret::Key(key.clone())
    }

    #[test]
    fn create_open_and_wrong_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = Key::random();
        let store = KeyStore::create(dir.path(), key_secret(&master)).expect("create");
        let active = store.active().expect("active").clone();
        assert_eq!(active.id, 1);

        let reopened = KeyStore::open(dir.path(), key_secret(&master)).expect("open");
        assert_eq!(reopened.keys().len(), 1);
        // The same key material: what one seals, the other opens.
        let mut buf = *b"sixteen bytes!!!";
        let tag = active.cipher().expect("c").seal(&[1; 12], b"", &mut buf);
        reopened
            .active()
            .expect("a")
            .cipher()
            .expect("c")
            .open(&[1; 12], b"", &mut buf, &tag)
            .expect("same key");

        let err = KeyStore::open(dir.path(), key_secret(&Key::random())).expect_err("wrong");
        assert!(matches!(err, Error::WrongMasterKey(_)), "{err}");
        let err = KeyStore::open(
            dir.path(),
            MasterSecret::Passphrase(Secret::new("a passphrase".into())),
        )
        .expect_err("passphrase for a key store sealed by key");
        assert!(matches!(err, Error::WrongMasterKey(_)), "{err}");
    }

    #[test]
    fn the_file_holds_no_key_material_in_the_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = Key::random();
        let store = KeyStore::create(dir.path(), key_secret(&master)).expect("create");
        let bytes = std::fs::read(KeyStore::path_in(dir.path())).expect("read");
        let data_key = store.keys[0]
            .key
            .as_ref()
            .expect("material")
            .expose()
            .to_vec();
        for needle in [
            data_key.clone(),
            hex(&data_key).into_bytes(),
            master.expose().to_vec(),
        ] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_slice()));
        }
        assert!(!bytes.windows(6).any(|w| w == b"active"));
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = Key::random();
        KeyStore::create(dir.path(), key_secret(&master)).expect("create");
        let path = KeyStore::path_in(dir.path());
        let good = std::fs::read(&path).expect("read");
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x04;
            std::fs::write(&path, &bad).expect("write");
            assert!(
                KeyStore::open(dir.path(), key_secret(&master)).is_err(),
                "byte {i}"
            );
        }
        std::fs::write(&path, &good).expect("write");
        KeyStore::open(dir.path(), key_secret(&master)).expect("intact");
    }

    #[test]
    fn passphrase_store_opens_with_the_same_passphrase_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pass = |t: &str| MasterSecret::Passphrase(Secret::new(t.into()));
        let store = KeyStore::create(dir.path(), pass("correct horse")).expect("create");
        assert!(store.passphrase_derived());
        KeyStore::open(dir.path(), pass("correct horse")).expect("open");
        assert!(matches!(
            KeyStore::open(dir.path(), pass("wrong horse")),
            Err(Error::WrongMasterKey(_))
        ));
    }

    #[test]
    fn epochs_are_durable_and_increase() {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = Key::random();
        let mut store = KeyStore::create(dir.path(), key_secret(&master)).expect("create");
        assert_eq!(store.next_epoch().expect("e"), 1);
        assert_eq!(store.next_epoch().expect("e"), 2);
        let mut reopened = KeyStore::open(dir.path(), key_secret(&master)).expect("open");
        assert_eq!(reopened.next_epoch().expect("e"), 3);
    }

    #[test]
    fn data_key_rotation_and_destruction() {
        let dir = tempfile::tempdir().expect("tempdir");
        let master = Key::random();
        let mut store = KeyStore::create(dir.path(), key_secret(&master)).expect("create");
        let new = store.rotate_data_key().expect("rotate");
        assert_eq!(new, 2);
        assert!(store.rotate_data_key().is_err(), "one rotation at a time");
        assert_eq!(store.key(1).expect("1").state, KeyState::Retiring);
        assert_eq!(store.active().expect("a").id, 2);
        store.destroy(1).expect("destroy");
        let reopened = KeyStore::open(dir.path(), key_secret(&master)).expect("open");
        let old = reopened.key(1).expect("1");
        assert_eq!(old.state, KeyState::Destroyed);
        assert!(old.cipher().is_err());
        assert!(old.destroyed.is_some());
    }

    #[test]
    fn master_rotation_reseals_the_same_data_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (old, new) = (Key::random(), Key::random());
        let mut store = KeyStore::create(dir.path(), key_secret(&old)).expect("create");
        let before = hex(store.keys[0].key.as_ref().expect("k").expose());
        store.reseal(key_secret(&new)).expect("reseal");
        assert!(KeyStore::open(dir.path(), key_secret(&old)).is_err());
        let reopened = KeyStore::open(dir.path(), key_secret(&new)).expect("open");
        assert_eq!(
            hex(reopened.keys[0].key.as_ref().expect("k").expose()),
            before
        );
    }
}
