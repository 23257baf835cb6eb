//! The engine's write-ahead log: durable commits without a durable redb commit.
//!
//! A durable redb commit writes every page the commit copied (a B-tree path per key touched,
//! plus redb's allocator and freed-page trees), seals each one under encryption, and syncs
//! twice (two-phase commit). Under pgbench TPC-B that was about 35 pages and 2.4 ms of CPU
//! per group commit on the single committer thread, the throughput limit. With the log, a
//! [`Durability::Sync`](zizhu_engine::Durability) batch instead:
//!
//! 1. commits to redb with [`redb::Durability::None`]: atomic and visible, kept in redb's
//!    write buffer, no file write;
//! 2. is appended to the log as one *unit* (with any deferred batches before it) and the log
//!    is synced: one page or a few, and one `fdatasync`.
//!
//! A *checkpoint* (every [`CHECKPOINT_BYTES`] of log, at [`Engine::flush`](zizhu_engine::Engine),
//! for a batch too large to log, and on close) makes redb's state durable with an ordinary
//! durable commit, which also records a new log *generation*; the log then starts again at its
//! first page. After a crash redb reopens at its last checkpoint and the units of the recorded
//! generation are applied again, in order, before anything else happens, followed by a
//! checkpoint.
//!
//! # Layout
//!
//! The log is a [`redb::StorageBackend`] of its own (a [`FileBackend`](crate::FileBackend) on
//! `data.wal`, sealed by an [`EncryptedBackend`](crate::EncryptedBackend) under encryption, a
//! [`FaultyBackend`](crate::FaultyBackend) in tests). Logical page 0 is unused (it is the
//! encrypted backend's header area). Each unit starts on a page boundary at or after page 1:
//!
//! ```text
//! "ZZWL" · generation u64 · sequence u64 · payload length u64 · SM3(all of these, payload)[..16]
//! payload: per operation, 1 (put) or 0 (delete) · key length u32 · key · [value length u32 · value]
//! zero padding to the page boundary
//! ```
//!
//! Integers are little-endian. Units are written once each and never overwritten within a
//! generation, and the log is synced before a Sync write returns, so only the last unit can be
//! torn by a crash, and it was never acknowledged. Recovery reads units from page 1 while the
//! magic, the generation, the next sequence number and the digest all match, and stops at the
//! first that does not: a torn or never-written unit, or a unit left from an earlier
//! generation. This is PostgreSQL's rule for the end of its WAL. The digest catches a unit
//! whose header page was written but not all of its payload, which under encryption is still
//! made of pages that authenticate (stale pages of an earlier generation).

use std::io;

use zizhu_engine::WriteBatch;

use crate::backend::encrypted::PAGE;

/// Log bytes after which the engine checkpoints.
pub const CHECKPOINT_BYTES: u64 = 16 << 20;
/// A batch larger than this is committed to redb durably (a checkpoint) instead of logged.
pub const LARGE_BATCH: usize = 4 << 20;

const MAGIC: &[u8; 4] = b"ZZWL";
const DIGEST: usize = 16;
/// The header's fields before the digest.
const FIELDS: usize = 4 + 8 + 8 + 8;
const HEADER: usize = FIELDS + DIGEST;
/// Where the first unit starts.
const FIRST: u64 = PAGE;

/// The log; see the [module docs](self).
pub(crate) struct Wal {
    backend: Box<dyn redb::StorageBackend>,
    generation: u64,
    /// Sequence number of the next unit.
    seq: u64,
    /// Logical offset of the next unit (page-aligned).
    offset: u64,
    /// The next unit: room for its header, then the encoded operations of the batches
    /// logged but not yet written.
    pending: Vec<u8>,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("generation", &self.generation)
            .field("seq", &self.seq)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

impl Wal {
    /// Opens the log at generation `generation` (the one redb's last durable commit
    /// recorded) and returns it with the batches of that generation's units, in order.
    pub fn open(
        backend: Box<dyn redb::StorageBackend>,
        generation: u64,
    ) -> io::Result<(Self, Vec<WriteBatch>)> {
        let mut wal = Self {
            backend,
            generation,
            seq: 0,
            offset: FIRST,
            pending: vec![0; HEADER],
        };
        let len = wal.backend.len()?;
        let mut batches = Vec::new();
        while let Some((unit, next)) = wal.read_unit(len) {
            batches.extend(unit);
            wal.seq += 1;
            wal.offset = next;
        }
        Ok((wal, batches))
    }

    /// The unit at the current offset, if it is the next one of this generation and whole,
    /// with the offset after it.
    fn read_unit(&self, len: u64) -> Option<(Vec<WriteBatch>, u64)> {
        if self.offset + PAGE > len {
            return None;
        }
        let mut page = vec![0u8; PAGE as usize];
        // Any failure to read (a torn or never-written encrypted page, a short file) ends
        // the log, as a failed digest does.
        self.backend.read(self.offset, &mut page).ok()?;
        let field = |at: usize| u64::from_le_bytes(page[at..at + 8].try_into().unwrap_or([0; 8]));
        if &page[..4] != MAGIC || field(4) != self.generation || field(12) != self.seq {
            return None;
        }
        let payload_len = usize::try_from(field(20)).ok()?;
        let total = padded(HEADER + payload_len);
        if self.offset + total > len {
            return None;
        }
        let mut unit = page;
        if total > PAGE {
            unit.resize(total as usize, 0);
            self.backend
                .read(self.offset + PAGE, &mut unit[PAGE as usize..])
                .ok()?;
        }
        let payload = &unit[HEADER..HEADER + payload_len];
        if digest(&unit[..FIELDS], payload) != unit[FIELDS..HEADER] {
            return None;
        }
        Some((decode(payload)?, self.offset + total))
    }

    /// Adds `batch` to the next unit.
    pub fn log(&mut self, batch: &WriteBatch) {
        for (start, end) in batch.deleted_ranges() {
            self.pending.push(RANGE_DELETE);
            put_bytes(&mut self.pending, start);
            put_bytes(&mut self.pending, end);
        }
        for (key, value) in batch.ops() {
            self.pending.push(u8::from(value.is_some()));
            put_bytes(&mut self.pending, key);
            if let Some(value) = value {
                put_bytes(&mut self.pending, value);
            }
        }
    }

    /// Writes the batches logged since the last unit as one unit, and syncs the log.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.pending.len() == HEADER {
            return Ok(());
        }
        let mut unit = std::mem::replace(&mut self.pending, vec![0; HEADER]);
        let payload_len = (unit.len() - HEADER) as u64;
        let total = padded(unit.len());
        unit[..4].copy_from_slice(MAGIC);
        unit[4..12].copy_from_slice(&self.generation.to_le_bytes());
        unit[12..20].copy_from_slice(&self.seq.to_le_bytes());
        unit[20..FIELDS].copy_from_slice(&payload_len.to_le_bytes());
        let digest = digest(&unit[..FIELDS], &unit[HEADER..]);
        unit[FIELDS..HEADER].copy_from_slice(&digest);
        unit.resize(total as usize, 0);
        self.backend.write(self.offset, &unit)?;
        self.backend.sync_data()?;
        self.offset += total;
        self.seq += 1;
        Ok(())
    }

    /// Whether the log has grown enough to checkpoint.
    pub fn wants_checkpoint(&self) -> bool {
        (self.offset - FIRST) + self.pending.len() as u64 >= CHECKPOINT_BYTES
    }

    /// The generation units are written in.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Starts generation `generation` at the first page, once a durable redb commit has
    /// recorded it (and so holds everything logged before).
    pub fn restart(&mut self, generation: u64) {
        self.generation = generation;
        self.seq = 0;
        self.offset = FIRST;
        self.pending.truncate(HEADER);
    }

    /// Closes the log's backend.
    pub fn close(&self) -> io::Result<()> {
        self.backend.close()
    }
}

fn padded(len: usize) -> u64 {
    (len as u64).div_ceil(PAGE) * PAGE
}

fn digest(header: &[u8], payload: &[u8]) -> [u8; DIGEST] {
    let mut hasher = zizhu_crypto::sm3::Hasher::new();
    hasher.update(header);
    hasher.update(payload);
    let full = hasher.finish();
    let mut out = [0u8; DIGEST];
    out.copy_from_slice(&full[..DIGEST]);
    out
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The tag of a range delete in a unit; puts are 1, deletes 0.
const RANGE_DELETE: u8 = 2;

/// Decodes a unit's payload into its batches; `None` if it is malformed (which a matching
/// digest rules out unless the log was forged). A batch's range deletes are logged before its
/// other operations, so a range delete after an operation starts the next batch: replayed in
/// order, the batches apply exactly as they were written.
fn decode(mut payload: &[u8]) -> Option<Vec<WriteBatch>> {
    fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if input.len() < n {
            return None;
        }
        let (head, rest) = input.split_at(n);
        *input = rest;
        Some(head)
    }
    fn bytes(input: &mut &[u8]) -> Option<Vec<u8>> {
        let len = u32::from_le_bytes(take(input, 4)?.try_into().ok()?) as usize;
        Some(take(input, len)?.to_vec())
    }
    let mut batches = Vec::new();
    let mut batch = WriteBatch::new();
    while !payload.is_empty() {
        let tag = take(&mut payload, 1)?[0];
        let key = bytes(&mut payload)?;
        match tag {
            RANGE_DELETE => {
                if !batch.ops().is_empty() {
                    batches.push(std::mem::take(&mut batch));
                }
                batch.delete_range(key, bytes(&mut payload)?);
            }
            1 => batch.put(key, bytes(&mut payload)?),
            0 => batch.delete(key),
            _ => return None,
        }
    }
    batches.push(batch);
    Some(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FaultyBackend;

    fn batch(n: u8) -> WriteBatch {
        let mut batch = WriteBatch::new();
        batch.put(vec![n], vec![n; n as usize * 100]);
        batch.delete(vec![n, 0]);
        batch
    }

    type Ops = Vec<(Vec<u8>, Option<Vec<u8>>)>;

    fn ops(batches: &[WriteBatch]) -> Vec<Ops> {
        batches.iter().map(|b| b.ops().to_vec()).collect()
    }

    #[test]
    fn units_come_back_in_order_and_deferred_batches_join_the_next_unit() {
        let backend = FaultyBackend::new(1);
        let faults = backend.controller();
        let (mut wal, found) = Wal::open(Box::new(backend), 7).unwrap();
        assert!(found.is_empty());
        wal.log(&batch(1));
        wal.sync().unwrap();
        wal.log(&batch(2));
        wal.log(&batch(3));
        wal.sync().unwrap();
        // A large unit spans pages.
        wal.log(&batch(60));
        wal.sync().unwrap();
        // Logged but never synced: not in the log.
        wal.log(&batch(4));
        let image = faults.volatile_image();
        let (_, found) =
            Wal::open(Box::new(FaultyBackend::from_image(image.clone(), 2)), 7).unwrap();
        let mut joined = batch(2);
        joined.extend(batch(3));
        assert_eq!(ops(&found), ops(&[batch(1), joined, batch(60)]));
        // Another generation's units are not this one's.
        let (_, found) = Wal::open(Box::new(FaultyBackend::from_image(image, 3)), 8).unwrap();
        assert!(found.is_empty());
    }

    #[test]
    fn range_deletes_come_back_as_the_batches_they_were_logged_in() {
        let backend = FaultyBackend::new(1);
        let faults = backend.controller();
        let (mut wal, _) = Wal::open(Box::new(backend), 1).unwrap();
        let mut first = batch(1);
        first.delete_range(vec![5], vec![6]);
        let mut second = batch(2);
        second.delete_range(vec![1], vec![1, 9]);
        // Two batches in one unit: the second's range delete must not apply before the
        // first's put, which it covers.
        wal.log(&first);
        wal.log(&second);
        wal.sync().unwrap();
        let image = faults.volatile_image();
        let (_, found) = Wal::open(Box::new(FaultyBackend::from_image(image, 2)), 1).unwrap();
        assert_eq!(found, vec![first, second]);
    }

    #[test]
    fn a_restarted_log_ends_before_the_stale_units_of_the_last_generation() {
        let backend = FaultyBackend::new(1);
        let faults = backend.controller();
        let (mut wal, _) = Wal::open(Box::new(backend), 1).unwrap();
        for n in 1..=5 {
            wal.log(&batch(n));
            wal.sync().unwrap();
        }
        wal.restart(2);
        wal.log(&batch(9));
        wal.sync().unwrap();
        let image = faults.volatile_image();
        let (_, found) = Wal::open(Box::new(FaultyBackend::from_image(image, 2)), 2).unwrap();
        assert_eq!(ops(&found), ops(&[batch(9)]));
    }

    #[test]
    fn a_damaged_payload_ends_the_log_at_that_unit() {
        let backend = FaultyBackend::new(1);
        let faults = backend.controller();
        let (mut wal, _) = Wal::open(Box::new(backend), 1).unwrap();
        for n in [1, 60, 3] {
            wal.log(&batch(n));
            wal.sync().unwrap();
        }
        let mut image = faults.volatile_image();
        // The second unit starts at page 2; flip a byte of its second page.
        image[(3 * PAGE + 10) as usize] ^= 1;
        let (_, found) = Wal::open(Box::new(FaultyBackend::from_image(image, 2)), 1).unwrap();
        assert_eq!(ops(&found), ops(&[batch(1)]));
    }
}
