//! [`EncryptedBackend`]: SM4-GCM page encryption at the storage seam.
//!
//! Every byte redb stores passes through here, so data pages, index pages, redb's own metadata
//! and its header are all sealed, each on its own, with an authenticated cipher. The layout of
//! the file underneath (the *physical* file) differs from what redb sees (the *logical* file):
//!
//! ```text
//! physical offset   contents
//! 0                 superblock (4 KiB, not secret): magic "ZZPAGES1", version, slot size,
//!                   header capacity, file id [16]
//! 4096              header slot (one 512-byte sector): logical bytes 0..480, sealed
//! 8192 + (p-1)·4128 slot of logical page p ≥ 1: ciphertext [4096] · tag [16] · nonce [12] ·
//!                   key id u32
//! ```
//!
//! - **Authenticated.** A slot's associated data is the file id and the slot's number, so a
//!   slot copied to another place or another file fails to open like an altered one. A slot
//!   that fails to open is reported as corruption ([`is_corruption`]) and its bytes are never
//!   handed to redb.
//! - **Nonces never repeat.** A nonce is the 32-bit epoch this open was given by the key store
//!   (durably, before any write) followed by a 64-bit counter.
//! - **Torn writes versus tampering.** redb commits with two-phase commit over this backend
//!   ([`RedbOptions::two_phase_commit`](crate::RedbOptions)): every page a durable header
//!   refers to was synced before the header was written, and redb never overwrites a page of
//!   the last durable commit. A page torn by a crash is therefore never reachable, so a
//!   reachable page that fails authentication was altered or the medium failed. The header is
//!   sealed into one 512-byte sector, which disks write atomically (the same assumption
//!   PostgreSQL makes for `pg_control`), so it is never torn either.
//! - **Never-written slots.** A slot of zeros (which a file extended by `set_len` holds) was
//!   never written; redb never reads a page before writing it, so reading one is corruption
//!   too (a zeroed or truncated file).
//! - **Key rotation.** Each slot names the data key that sealed it. [`EncryptedFile::rekey`]
//!   re-seals slots under the active key while redb runs, through a journal that makes the
//!   in-place rewrite safe against power loss (see [`EncryptedFile::rekey`]).
//!
//! `docs/architecture/encryption.md` has the whole design.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use zizhu_crypto::keystore::KeyRing;
use zizhu_crypto::{Aead, NONCE_LEN, TAG_LEN};

/// Logical page size (redb's).
pub const PAGE: u64 = 4096;
/// Physical size of a page's slot: the ciphertext and its trailer.
pub const SLOT: u64 = PAGE + TRAILER as u64;
const TRAILER: usize = TAG_LEN + NONCE_LEN + 4;
const SUPERBLOCK: u64 = 4096;
const HEADER_SLOT: u64 = SUPERBLOCK;
/// Physical size of the header slot: one sector.
const HEADER_SLOT_LEN: usize = 512;
/// Logical bytes 0..HEADER_CAPACITY live in the header slot.
pub const HEADER_CAPACITY: usize = HEADER_SLOT_LEN - TRAILER;
const DATA_START: u64 = 8192;
const MAGIC: &[u8; 8] = b"ZZPAGES1";
const VERSION: u32 = 1;
/// The slot number of the header in associated data.
const HEADER_INDEX: u64 = u64::MAX;
const STRIPES: usize = 64;

/// The payload of every corruption error this backend returns, so that the engine reports it
/// as corruption (SQLSTATE XX001) rather than as an I/O failure.
#[derive(Debug)]
pub struct Corruption(pub String);

impl std::fmt::Display for Corruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Corruption {}

fn corruption(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Corruption(message))
}

/// The corruption message, if `err` is a corruption this backend detected.
pub fn is_corruption(err: &io::Error) -> Option<String> {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<Corruption>())
        .map(|c| c.0.clone())
}

fn bug(message: String) -> io::Error {
    io::Error::other(format!("internal error (this is a bug): {message}"))
}

/// Counters of an encrypted file, for benchmarks and the rotation view.
#[derive(Debug, Default)]
pub struct CryptStats {
    /// Slots sealed (page writes).
    pub sealed: AtomicU64,
    /// Slots opened (page reads that reached the file).
    pub opened: AtomicU64,
    /// Slots that failed authentication.
    pub failures: AtomicU64,
}

/// The state an [`EncryptedBackend`] shares with whoever re-keys it.
#[derive(Debug)]
pub struct EncryptedFile<B> {
    inner: B,
    keys: Arc<KeyRing>,
    file_id: [u8; 16],
    epoch: u32,
    counter: AtomicU64,
    /// Shared by redb's reads and writes, exclusive for a re-key of a slot, so that neither
    /// sees the other's half-written slot.
    stripes: Box<[RwLock<()>]>,
    /// The header's plaintext, as last written or read.
    header: Mutex<Option<[u8; HEADER_CAPACITY]>>,
    stats: CryptStats,
}

/// A [`redb::StorageBackend`] that seals every page with SM4-GCM; see the [module docs](self).
#[derive(Debug)]
pub struct EncryptedBackend<B> {
    file: Arc<EncryptedFile<B>>,
}

impl<B: redb::StorageBackend> EncryptedBackend<B> {
    /// Wraps `inner`: writes a superblock if it is empty, checks it otherwise. `epoch` must
    /// never have been used with these keys before (see
    /// [`KeyStore::next_epoch`](zizhu_crypto::keystore::KeyStore::next_epoch)).
    pub fn open(inner: B, keys: Arc<KeyRing>, epoch: u32) -> io::Result<Self> {
        let len = inner.len()?;
        let file_id = if len == 0 {
            let mut file_id = [0u8; 16];
            zizhu_crypto::random_bytes(&mut file_id);
            let mut superblock = vec![0u8; SUPERBLOCK as usize];
            superblock[..8].copy_from_slice(MAGIC);
            superblock[8..12].copy_from_slice(&VERSION.to_be_bytes());
            superblock[12..16].copy_from_slice(&(SLOT as u32).to_be_bytes());
            superblock[16..20].copy_from_slice(&(HEADER_CAPACITY as u32).to_be_bytes());
            superblock[20..36].copy_from_slice(&file_id);
            inner.set_len(DATA_START)?;
            inner.write(0, &superblock)?;
            inner.sync_data()?;
            file_id
        } else {
            let mut superblock = [0u8; 36];
            if len < DATA_START {
                return Err(corruption(format!(
                    "the data file is {len} bytes, shorter than an encrypted file's superblock"
                )));
            }
            inner.read(0, &mut superblock)?;
            if &superblock[..8] != MAGIC {
                return Err(corruption(
                    "the data file is not an encrypted ZizhuDB file (it may have been \
                     created with encryption off)"
                        .into(),
                ));
            }
            let field = |at: usize| {
                u32::from_be_bytes([
                    superblock[at],
                    superblock[at + 1],
                    superblock[at + 2],
                    superblock[at + 3],
                ])
            };
            if field(8) != VERSION
                || u64::from(field(12)) != SLOT
                || field(16) as usize != HEADER_CAPACITY
            {
                return Err(corruption(format!(
                    "the data file's encryption format (version {}, slot {}) is not one \
                     this build reads",
                    field(8),
                    field(12)
                )));
            }
            let mut file_id = [0u8; 16];
            file_id.copy_from_slice(&superblock[20..36]);
            file_id
        };
        let file = EncryptedFile {
            inner,
            keys,
            file_id,
            epoch,
            counter: AtomicU64::new(0),
            stripes: (0..STRIPES).map(|_| RwLock::new(())).collect(),
            header: Mutex::new(None),
            stats: CryptStats::default(),
        };
        Ok(Self {
            file: Arc::new(file),
        })
    }

    /// The shared state, for re-keying and statistics while redb owns the backend.
    pub fn file(&self) -> Arc<EncryptedFile<B>> {
        Arc::clone(&self.file)
    }
}

/// The physical offset of logical page `page` (≥ 1).
fn slot_offset(page: u64) -> u64 {
    DATA_START + (page - 1) * SLOT
}

/// Where slot `page` lies (page 0 is the header): physical offset, length, and the number its
/// associated data carries.
fn slot_place(page: u64) -> (u64, usize, u64) {
    if page == 0 {
        (HEADER_SLOT, HEADER_SLOT_LEN, HEADER_INDEX)
    } else {
        (slot_offset(page), SLOT as usize, page)
    }
}

/// A slot's trailer: tag, nonce, data key number.
struct Trailer {
    tag: [u8; TAG_LEN],
    nonce: [u8; NONCE_LEN],
    key_id: u32,
}

impl Trailer {
    /// The trailer at the end of `slot` (or `slot` itself, if it is just a trailer); `None`
    /// if it is zeros, as in a slot never written.
    fn of(slot: &[u8]) -> Option<Self> {
        let t = &slot[slot.len() - TRAILER..];
        if t.iter().all(|b| *b == 0) {
            return None;
        }
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&t[..TAG_LEN]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&t[TAG_LEN..TAG_LEN + NONCE_LEN]);
        let k = &t[TAG_LEN + NONCE_LEN..];
        Some(Self {
            tag,
            nonce,
            key_id: u32::from_be_bytes([k[0], k[1], k[2], k[3]]),
        })
    }
}

/// The logical length of a physical file of `len` bytes.
fn logical_len(len: u64) -> u64 {
    if len <= DATA_START {
        0
    } else {
        PAGE + (len - DATA_START) / SLOT * PAGE
    }
}

fn physical_len(len: u64) -> io::Result<u64> {
    if len == 0 {
        return Ok(DATA_START);
    }
    if !len.is_multiple_of(PAGE) || len <= PAGE {
        return Err(bug(format!(
            "redb set the file length to {len}, which is not a whole number of pages past the \
             header page"
        )));
    }
    Ok(DATA_START + (len / PAGE - 1) * SLOT)
}

/// Stripes covering pages `first..=last`, in ascending order (the lock order).
fn stripes_of(first: u64, last: u64) -> Vec<usize> {
    let count = (last - first + 1).min(STRIPES as u64);
    let mut stripes: Vec<usize> = (first..first + count)
        .map(|p| (p % STRIPES as u64) as usize)
        .collect();
    stripes.sort_unstable();
    stripes
}

impl<B: redb::StorageBackend> EncryptedFile<B> {
    fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..4].copy_from_slice(&self.epoch.to_be_bytes());
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        nonce[4..].copy_from_slice(&n.to_be_bytes());
        nonce
    }

    fn aad(&self, index: u64) -> [u8; 24] {
        let mut aad = [0u8; 24];
        aad[..16].copy_from_slice(&self.file_id);
        aad[16..].copy_from_slice(&index.to_be_bytes());
        aad
    }

    fn shared(&self, first: u64, last: u64) -> Vec<RwLockReadGuard<'_, ()>> {
        stripes_of(first, last)
            .into_iter()
            .map(|s| self.stripes[s].read())
            .collect()
    }

    fn exclusive(&self, page: u64) -> RwLockWriteGuard<'_, ()> {
        self.stripes[(page % STRIPES as u64) as usize].write()
    }

    /// Seals `plaintext` (one page, or the header) as slot `index` into `slot`, whose last
    /// [`TRAILER`] bytes receive the trailer, under the active key.
    fn seal(&self, index: u64, slot: &mut [u8]) {
        let (key_id, cipher) = self.keys.active();
        self.seal_with(index, slot, key_id, &*cipher);
    }

    fn seal_with(&self, index: u64, slot: &mut [u8], key_id: u32, cipher: &dyn Aead) {
        let (body, trailer) = slot.split_at_mut(slot.len() - TRAILER);
        let nonce = self.nonce();
        let tag = cipher.seal(&nonce, &self.aad(index), body);
        trailer[..TAG_LEN].copy_from_slice(&tag);
        trailer[TAG_LEN..TAG_LEN + NONCE_LEN].copy_from_slice(&nonce);
        trailer[TAG_LEN + NONCE_LEN..].copy_from_slice(&key_id.to_be_bytes());
        self.stats.sealed.fetch_add(1, Ordering::Relaxed);
    }

    /// Opens slot `index` in place; `what` names it in errors.
    fn open_slot(&self, index: u64, slot: &mut [u8], what: &dyn Fn() -> String) -> io::Result<()> {
        let trailer = Trailer::of(slot);
        let body_len = slot.len() - TRAILER;
        let body = &mut slot[..body_len];
        let Some(Trailer { tag, nonce, key_id }) = trailer else {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            let what = what();
            return Err(corruption(if body.iter().all(|b| *b == 0) {
                format!("{what} was never written: the data file was zeroed or truncated")
            } else {
                format!("{what} failed authentication: the data file was altered or damaged")
            }));
        };
        let Some(cipher) = self.keys.get(key_id) else {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            return Err(corruption(format!(
                "{} is sealed under data key {key_id}, which the key store does not hold \
                 (destroyed, or the page was altered)",
                what()
            )));
        };
        cipher
            .open(&nonce, &self.aad(index), body, &tag)
            .map_err(|_| {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                corruption(format!(
                    "{} failed authentication: the data file was altered or damaged",
                    what()
                ))
            })?;
        self.stats.opened.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The header's plaintext from the cache or the file. A header slot never written reads
    /// as zeros when `fresh_ok` (redb is about to write the first header), else as corruption.
    fn load_header(
        &self,
        cached: &mut Option<[u8; HEADER_CAPACITY]>,
        fresh_ok: bool,
    ) -> io::Result<[u8; HEADER_CAPACITY]> {
        if let Some(header) = *cached {
            return Ok(header);
        }
        let mut slot = [0u8; HEADER_SLOT_LEN];
        self.inner.read(HEADER_SLOT, &mut slot)?;
        let mut header = [0u8; HEADER_CAPACITY];
        if !(fresh_ok && slot.iter().all(|b| *b == 0)) {
            self.open_slot(HEADER_INDEX, &mut slot, &|| "the database header".into())?;
            header.copy_from_slice(&slot[..HEADER_CAPACITY]);
        }
        *cached = Some(header);
        Ok(header)
    }

    fn read_header(&self) -> io::Result<[u8; HEADER_CAPACITY]> {
        self.load_header(&mut self.header.lock(), false)
    }

    fn write_header(&self, offset: usize, data: &[u8]) -> io::Result<()> {
        let mut cached = self.header.lock();
        let mut header = self.load_header(&mut cached, true)?;
        header[offset..offset + data.len()].copy_from_slice(data);
        let mut slot = [0u8; HEADER_SLOT_LEN];
        slot[..HEADER_CAPACITY].copy_from_slice(&header);
        let _guard = self.stripes[0].read();
        self.seal(HEADER_INDEX, &mut slot);
        self.inner.write(HEADER_SLOT, &slot)?;
        *cached = Some(header);
        Ok(())
    }

    /// Reads and opens slots `first..=last` into one buffer of whole slots.
    fn read_slots(&self, first: u64, last: u64) -> io::Result<Vec<u8>> {
        let count = (last - first + 1) as usize;
        let mut buf = vec![0u8; count * SLOT as usize];
        self.inner
            .read(slot_offset(first), &mut buf)
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => corruption(format!(
                    "page {last} lies past the end of the data file: it was truncated"
                )),
                _ => e,
            })?;
        for (i, slot) in buf.chunks_mut(SLOT as usize).enumerate() {
            let page = first + i as u64;
            self.open_slot(page, slot, &|| format!("page {page}"))?;
        }
        Ok(buf)
    }

    /// The I/O and authentication counters.
    pub fn stats(&self) -> &CryptStats {
        &self.stats
    }

    /// Logical pages in the file (the slots a re-key visits are `1..pages()`).
    pub fn pages(&self) -> io::Result<u64> {
        Ok(logical_len(self.inner.len()?) / PAGE)
    }

    /// Makes everything written so far durable.
    pub fn sync(&self) -> io::Result<()> {
        self.inner.sync_data()
    }

    /// The data key that sealed slot `page` (0 for the header), or `None` if it was never
    /// written.
    pub fn slot_key(&self, page: u64) -> io::Result<Option<u32>> {
        let _guard = self.exclusive(page);
        Ok(self.read_trailer(page)?.map(|t| t.key_id))
    }

    /// The trailer of slot `page` as the file holds it now.
    fn read_trailer(&self, page: u64) -> io::Result<Option<Trailer>> {
        let (offset, len, _) = slot_place(page);
        let mut trailer = [0u8; TRAILER];
        self.inner
            .read(offset + (len - TRAILER) as u64, &mut trailer)?;
        Ok(Trailer::of(&trailer))
    }

    /// Re-seals slots `first..end` (page 0 is the header) that are sealed under another key
    /// than the active one, and returns how many it re-sealed. Safe while redb runs.
    ///
    /// A page of the last durable commit is rewritten in place, and a write torn by a power
    /// loss would destroy it, so the new slots first go to `journal` (synced) and only then
    /// over the old ones; [`recover_journal`](Self::recover_journal) puts back any slot the
    /// crash tore. A slot redb rewrites between the two steps is left alone (redb sealed it
    /// under the active key). A slot that fails authentication is left as it is and counted in
    /// `unreadable` (a page torn by an earlier crash and never reused is unreachable, and
    /// unreadable without the old key once that is destroyed).
    pub fn rekey(&self, first: u64, end: u64, journal: &Path) -> io::Result<RekeyBatch> {
        let (active, cipher) = self.keys.active();
        let mut staged: Vec<(u64, [u8; NONCE_LEN], Vec<u8>)> = Vec::new();
        let mut batch = RekeyBatch::default();
        for page in first..end {
            let _guard = self.exclusive(page);
            let (offset, len, index) = slot_place(page);
            let mut slot = vec![0u8; len];
            match self.inner.read(offset, &mut slot) {
                Ok(()) => {}
                // redb shrank the file since the caller counted its pages.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
            let old_nonce = match Trailer::of(&slot) {
                Some(t) if t.key_id != active => t.nonce,
                _ => continue,
            };
            if self
                .open_slot(index, &mut slot, &|| format!("page {page}"))
                .is_err()
            {
                batch.unreadable.push(page);
                continue;
            }
            self.seal_with(index, &mut slot, active, &*cipher);
            staged.push((page, old_nonce, slot));
        }
        if staged.is_empty() {
            return Ok(batch);
        }
        journal::write(journal, &self.keys, &self.file_id, &staged)?;
        for (page, old_nonce, slot) in &staged {
            let _guard = self.exclusive(*page);
            match self.read_trailer(*page) {
                Ok(Some(t)) if t.nonce == *old_nonce => {}
                // Rewritten by redb since it was read (or gone, if redb shrank the file).
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => continue,
                Err(e) => return Err(e),
            }
            self.inner.write(slot_place(*page).0, slot)?;
            batch.resealed += 1;
        }
        self.inner.sync_data()?;
        Ok(batch)
    }

    /// Waits for every read and write in progress to finish (takes each stripe once). After
    /// the active key changes, writes that picked the old key are done when this returns.
    pub fn barrier(&self) {
        for stripe in self.stripes.iter() {
            drop(stripe.write());
        }
    }

    /// Ends a re-key: removes the journal (everything it covers is synced).
    pub fn finish_rekey(&self, journal: &Path) -> io::Result<()> {
        self.inner.sync_data()?;
        journal::clear(journal)
    }

    /// After a crash during [`rekey`](Self::rekey): every slot in `journal` that no longer
    /// opens is replaced by its journal copy, then the journal is emptied. Call before redb
    /// opens the file. Returns how many slots were restored.
    pub fn recover_journal(&self, journal: &Path) -> io::Result<usize> {
        let Some(entries) = journal::read(journal, &self.keys, &self.file_id)? else {
            return Ok(0);
        };
        let mut restored = 0;
        for (page, slot) in entries {
            let (offset, _, index) = slot_place(page);
            let mut current = vec![0u8; slot.len()];
            let intact = self.inner.read(offset, &mut current).is_ok()
                && self
                    .open_slot(index, &mut current, &|| String::new())
                    .is_ok();
            if !intact {
                self.inner.write(offset, &slot)?;
                restored += 1;
            }
        }
        self.inner.sync_data()?;
        journal::clear(journal)?;
        Ok(restored)
    }
}

/// What one [`EncryptedFile::rekey`] call did.
#[derive(Debug, Default, Clone)]
pub struct RekeyBatch {
    /// Slots re-sealed under the active key.
    pub resealed: u64,
    /// Slots that failed authentication and were left as they were.
    pub unreadable: Vec<u64>,
}

impl<B: redb::StorageBackend> redb::StorageBackend for EncryptedBackend<B> {
    fn len(&self) -> io::Result<u64> {
        Ok(logical_len(self.file.inner.len()?))
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let f = &*self.file;
        if out.is_empty() {
            return Ok(());
        }
        let end = offset + out.len() as u64;
        if offset < PAGE {
            check_header_range("read", offset, end)?;
            let header = f.read_header()?;
            out.copy_from_slice(&header[offset as usize..end as usize]);
            return Ok(());
        }
        let (first, last) = (offset / PAGE, (end - 1) / PAGE);
        let _guards = f.shared(first, last);
        let buf = f.read_slots(first, last)?;
        for piece in pieces(offset, end, first) {
            out[piece.data].copy_from_slice(&buf[piece.slot]);
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.inner.set_len(physical_len(len)?)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let f = &*self.file;
        if data.is_empty() {
            return Ok(());
        }
        let end = offset + data.len() as u64;
        if offset < PAGE {
            check_header_range("wrote", offset, end)?;
            return f.write_header(offset as usize, data);
        }
        let (first, last) = (offset / PAGE, (end - 1) / PAGE);
        let _guards = f.shared(first, last);
        let whole = offset.is_multiple_of(PAGE) && end.is_multiple_of(PAGE);
        // Partial pages keep the rest of their old contents (redb writes whole pages; this
        // is for safety, not speed).
        let mut buf = if whole {
            vec![0u8; ((last - first + 1) * SLOT) as usize]
        } else {
            f.read_slots(first, last)?
        };
        for piece in pieces(offset, end, first) {
            buf[piece.slot].copy_from_slice(&data[piece.data]);
        }
        for (i, slot) in buf.chunks_mut(SLOT as usize).enumerate() {
            f.seal(first + i as u64, slot);
        }
        f.inner.write(slot_offset(first), &buf)
    }

    fn close(&self) -> io::Result<()> {
        self.file.inner.close()
    }
}

/// One page's share of a logical byte range: where it lies in the caller's buffer and in a
/// buffer of whole slots starting at page `first`.
struct Piece {
    data: std::ops::Range<usize>,
    slot: std::ops::Range<usize>,
}

/// The pieces of logical bytes `offset..end` (past the header page), page by page.
fn pieces(offset: u64, end: u64, first: u64) -> impl Iterator<Item = Piece> {
    let mut pos = offset;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        let within = pos % PAGE;
        let n = (PAGE - within).min(end - pos);
        let slot = (pos / PAGE - first) * SLOT + within;
        let data = (pos - offset) as usize;
        pos += n;
        Some(Piece {
            data: data..data + n as usize,
            slot: slot as usize..(slot + n) as usize,
        })
    })
}

/// redb keeps its header in the first 320 bytes; the header slot stores 480.
fn check_header_range(verb: &str, offset: u64, end: u64) -> io::Result<()> {
    if end > HEADER_CAPACITY as u64 {
        return Err(bug(format!(
            "redb {verb} bytes {offset}..{end} of the header page; only 0..{HEADER_CAPACITY} \
             are stored"
        )));
    }
    Ok(())
}

/// The re-key journal: the new slots of one batch, sealed as a whole under the active key.
///
/// ```text
/// magic "ZZREKEY1" · key id u32 · nonce [12] · count u32 · (page u64 · length u32 · slot)* · tag [16]
/// ```
mod journal {
    use std::io;
    use std::path::Path;

    use zizhu_crypto::keystore::KeyRing;
    use zizhu_crypto::{NONCE_LEN, TAG_LEN};

    use super::corruption;

    const MAGIC: &[u8; 8] = b"ZZREKEY1";
    const HEADER: usize = 8 + 4 + NONCE_LEN;

    /// Journal entries: a page number and its new slot.
    type Entries = Vec<(u64, Vec<u8>)>;

    pub(super) fn write(
        path: &Path,
        keys: &KeyRing,
        file_id: &[u8; 16],
        slots: &[(u64, [u8; NONCE_LEN], Vec<u8>)],
    ) -> io::Result<()> {
        use std::io::Write;
        let (key_id, cipher) = keys.active();
        let mut nonce = [0u8; NONCE_LEN];
        zizhu_crypto::random_bytes(&mut nonce);
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&key_id.to_be_bytes());
        out.extend_from_slice(&nonce);
        let mut body = Vec::new();
        body.extend_from_slice(&(slots.len() as u32).to_be_bytes());
        for (page, _, slot) in slots {
            body.extend_from_slice(&page.to_be_bytes());
            body.extend_from_slice(&(slot.len() as u32).to_be_bytes());
            body.extend_from_slice(slot);
        }
        let aad = [&out[..], file_id].concat();
        let tag = cipher.seal(&nonce, &aad, &mut body);
        out.extend_from_slice(&body);
        out.extend_from_slice(&tag);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.write_all(&out)?;
        file.sync_all()
    }

    /// The journal's slots, or `None` if there is no journal (or an empty one). A journal
    /// that fails authentication was torn while being written, before any slot it holds was
    /// written in place, so it is ignored.
    pub(super) fn read(
        path: &Path,
        keys: &KeyRing,
        file_id: &[u8; 16],
    ) -> io::Result<Option<Entries>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if bytes.len() < HEADER + 4 + TAG_LEN || &bytes[..8] != MAGIC {
            return Ok(None);
        }
        let key_id = u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let Some(cipher) = keys.get(key_id) else {
            return Err(corruption(format!(
                "the re-key journal {} is sealed under data key {key_id}, which the key \
                 store does not hold",
                path.display()
            )));
        };
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[12..HEADER]);
        let aad = [&bytes[..HEADER], file_id].concat();
        let mut body = bytes[HEADER..bytes.len() - TAG_LEN].to_vec();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&bytes[bytes.len() - TAG_LEN..]);
        if cipher.open(&nonce, &aad, &mut body, &tag).is_err() {
            return Ok(None);
        }
        let malformed = || {
            corruption(format!(
                "the re-key journal {} is malformed",
                path.display()
            ))
        };
        let take = |at: &mut usize, n: usize| -> io::Result<&[u8]> {
            let s = body.get(*at..*at + n).ok_or_else(malformed)?;
            *at += n;
            Ok(s)
        };
        let mut at = 0;
        let count = u32::from_be_bytes(take(&mut at, 4)?.try_into().map_err(|_| malformed())?);
        let mut slots = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let page = u64::from_be_bytes(take(&mut at, 8)?.try_into().map_err(|_| malformed())?);
            let len = u32::from_be_bytes(take(&mut at, 4)?.try_into().map_err(|_| malformed())?);
            slots.push((page, take(&mut at, len as usize)?.to_vec()));
        }
        Ok(Some(slots))
    }

    pub(super) fn clear(path: &Path) -> io::Result<()> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_map_both_ways() {
        assert_eq!(logical_len(0), 0);
        assert_eq!(logical_len(DATA_START), 0);
        for pages in [2u64, 3, 10, 1000] {
            let len = pages * PAGE;
            let physical = physical_len(len).expect("aligned");
            assert_eq!(logical_len(physical), len);
            assert_eq!(physical, slot_offset(pages - 1) + SLOT);
        }
        assert!(physical_len(4097).is_err());
        assert!(physical_len(PAGE).is_err());
    }

    #[test]
    fn stripes_are_sorted_and_bounded() {
        assert_eq!(stripes_of(63, 64), vec![0, 63]);
        assert_eq!(stripes_of(0, 1000).len(), STRIPES);
    }
}
