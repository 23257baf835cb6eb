//! The commit pipeline: group commit and garbage collection in one committer thread.
//!
//! Committing transactions send their write sets here and block on a reply. The committer
//! takes every request waiting (up to [`Options::max_group_bytes`](crate::Options)), validates
//! SERIALIZABLE read sets, assigns commit timestamps in order, and writes the whole group as
//! one engine batch with [`Durability::Sync`]: one fsync for the group. Only then does it
//! advance the visible timestamp and acknowledge each transaction, so an acknowledged commit is
//! durable and a snapshot never sees a commit that could still be lost. While one group's fsync
//! runs, the next group gathers; that is where the throughput of many committers comes from.
//!
//! Being the only writer also makes the committer the natural garbage collector: after each
//! group it removes the versions that every active snapshot has moved past, adding the deletes
//! to the next group's batch so that collection costs no fsync of its own. A group collects in
//! proportion to what it wrote, at most [`GC_SLICE`] keys, so that a huge transaction's
//! collection never stalls the commits behind it; what is left is collected when no commit
//! has come for [`GC_IDLE`], its deletes then written on their own. Keys that had no version
//! when their transaction locked them (fresh inserts, a new index's entries) are never
//! visited: there is nothing older to remove.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use zizhu_engine::{Direction, Durability, Engine, KeyRange, WriteBatch};

use crate::key::{encode_ranges, encode_version, version_range, Key};
use crate::mvcc::Core;
use crate::{errinternal, Error, Options, Result, SerializationCause, Timestamp};

/// The most keys one commit group's collection visits (about tens of milliseconds' work).
const GC_SLICE: usize = 4096;

/// How long the committer waits for a commit before it spends the time on collection.
const GC_IDLE: std::time::Duration = std::time::Duration::from_millis(5);

/// What a SERIALIZABLE transaction read: validated at commit.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReadSet {
    pub points: Vec<Vec<u8>>,
    pub ranges: Vec<KeyRange>,
}

/// A transaction's write set on its way to the engine.
pub(crate) struct CommitRequest {
    /// Sorted by key, each key once; `None` deletes.
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The positions in `writes` of keys that may have older versions to collect; a key that
    /// had no version when the transaction locked it (a fresh insert) has none.
    pub collect: Vec<usize>,
    /// User-key ranges dropped whole ([`Transaction::drop_range`](crate::Transaction)).
    pub dropped: Vec<KeyRange>,
    pub bytes: usize,
    pub snapshot_ts: Timestamp,
    /// Present for SERIALIZABLE transactions.
    pub reads: Option<ReadSet>,
    pub reply: Sender<Result<Timestamp>>,
}

/// Encodes a version's value: a tombstone, or the row.
pub(crate) fn encode_value(value: Option<Vec<u8>>) -> Vec<u8> {
    match value {
        None => vec![0],
        Some(mut v) => {
            v.insert(0, 1);
            v
        }
    }
}

/// Decodes a version's value; `None` is a tombstone.
pub(crate) fn decode_value(mut bytes: Vec<u8>) -> Result<Option<Vec<u8>>> {
    match bytes.first() {
        Some(0) if bytes.len() == 1 => Ok(None),
        Some(1) => {
            bytes.remove(0);
            Ok(Some(bytes))
        }
        _ => {
            Err(zizhu_engine::errcorrupt!("bad version value header {:02x?}", bytes.first()).into())
        }
    }
}

/// The handle transactions commit through.
pub(crate) struct Pipeline {
    sender: Option<Sender<CommitRequest>>,
    thread: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the committer; `dropped` are the ranges of earlier commits still to collect.
    pub fn start<E: Engine>(
        core: Arc<Core<E>>,
        last_ts: Timestamp,
        dropped: VecDeque<(Timestamp, Vec<KeyRange>)>,
        options: &Options,
    ) -> Result<Self> {
        let (sender, receiver) = crossbeam_channel::unbounded();
        let committer = Committer {
            core,
            last_ts,
            recent: VecDeque::new(),
            gc_queue: VecDeque::new(),
            gc_cursor: 0,
            drops: dropped
                .into_iter()
                .map(|(ts, ranges)| (ts, engine_ranges(&ranges)))
                .collect(),
            pending_gc: WriteBatch::new(),
            pending_gc_versions: 0,
            failed: None,
            gc: options.gc,
            max_group_bytes: options.max_group_bytes,
        };
        let thread = std::thread::Builder::new()
            .name("zizhu-committer".into())
            .spawn(move || committer.run(receiver))
            .map_err(|e| errinternal!("cannot start the committer thread: {e}"))?;
        Ok(Self {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Commits a write set; returns its commit timestamp once it is durable and visible.
    pub fn commit(&self, mut request: CommitRequest) -> Result<Timestamp> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        request.reply = reply;
        let sender = self
            .sender
            .as_ref()
            .ok_or_else(|| errinternal!("committer is stopped"))?;
        sender
            .send(request)
            .map_err(|_| errinternal!("committer thread is gone"))?;
        answer
            .recv()
            .map_err(|_| errinternal!("committer thread dropped a commit"))?
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A commit's keys and the positions among them whose older versions are to be collected.
type Collectable = (Timestamp, Arc<Vec<Vec<u8>>>, Vec<usize>);

struct Committer<E> {
    core: Arc<Core<E>>,
    last_ts: Timestamp,
    /// Keys written by recent commits, kept while a SERIALIZABLE snapshot predates them.
    recent: VecDeque<(Timestamp, Arc<Vec<Vec<u8>>>)>,
    /// Keys written by commits whose shadowed versions are not collected yet: each commit's
    /// keys and the positions among them to collect.
    gc_queue: VecDeque<Collectable>,
    /// How many positions of the front of `gc_queue` are done.
    gc_cursor: usize,
    /// Dropped ranges (as engine ranges) by commit, each deleted whole once no snapshot
    /// predates its commit; a range partly deleted starts past the last key deleted.
    drops: VecDeque<(Timestamp, Vec<KeyRange>)>,
    /// Garbage deletes waiting for the next group's batch.
    pending_gc: WriteBatch,
    /// How many versions those deletes remove (a range delete removes many).
    pending_gc_versions: u64,
    /// Set after an engine failure: nothing more is acknowledged.
    failed: Option<zizhu_engine::Error>,
    gc: bool,
    max_group_bytes: usize,
}

impl<E: Engine> Committer<E> {
    fn run(mut self, receiver: Receiver<CommitRequest>) {
        loop {
            // With collection left over, an idle moment is the time for it.
            let leftover = !self.gc_queue.is_empty() || !self.drops.is_empty();
            let first = if self.gc && leftover && self.failed.is_none() {
                match receiver.recv_timeout(GC_IDLE) {
                    Ok(request) => request,
                    Err(RecvTimeoutError::Timeout) => {
                        self.collect_idle();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match receiver.recv() {
                    Ok(request) => request,
                    Err(_) => break,
                }
            };
            let mut bytes = first.bytes;
            let mut group = vec![first];
            while bytes < self.max_group_bytes {
                match receiver.try_recv() {
                    Ok(request) => {
                        bytes += request.bytes;
                        group.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
    }

    fn commit_group(&mut self, group: Vec<CommitRequest>) {
        if let Some(err) = &self.failed {
            for request in group {
                let _ = request
                    .reply
                    .send(Err(zizhu_engine::Error::Poisoned(err.to_string()).into()));
            }
            return;
        }
        let (oldest, oldest_serializable) = self.core.watermarks();
        while self
            .recent
            .front()
            .is_some_and(|(ts, _)| *ts <= oldest_serializable)
        {
            self.recent.pop_front();
        }

        let mut batch = std::mem::take(&mut self.pending_gc);
        let gc_deletes = std::mem::take(&mut self.pending_gc_versions);
        let mut ts = self.last_ts;
        let mut accepted = Vec::with_capacity(group.len());
        let mut written = 0usize;
        let mut refused = 0u64;
        for request in group {
            if let Some(reads) = &request.reads {
                if self.conflicts(reads, request.snapshot_ts) {
                    refused += 1;
                    let cause = SerializationCause::ReadWriteDependencies;
                    let _ = request.reply.send(Err(Error::Serialization(cause)));
                    continue;
                }
            }
            ts += 1;
            let collect = request.collect;
            let mut keys = Vec::with_capacity(request.writes.len());
            for (key, value) in request.writes {
                batch.put(encode_version(&key, ts), encode_value(value));
                keys.push(key);
            }
            if !request.dropped.is_empty() {
                // Recorded durably with the commit, so that a restart still collects them.
                batch.put(Key::Dropped(ts).encode(), encode_ranges(&request.dropped));
                if self.gc {
                    self.drops.push_back((ts, engine_ranges(&request.dropped)));
                }
            }
            written += keys.len();
            let keys = Arc::new(keys);
            self.recent.push_back((ts, keys.clone()));
            if self.gc && !collect.is_empty() {
                self.gc_queue.push_back((ts, keys, collect));
            }
            accepted.push((request.reply, ts));
        }
        if accepted.is_empty() {
            self.pending_gc = batch;
            self.pending_gc_versions = gc_deletes;
            self.core.stats.lock().serialization_failures += refused;
            return;
        }
        batch.put(Key::LastCommitted.encode(), ts.to_be_bytes().to_vec());

        match self.core.engine.write(batch, Durability::Sync) {
            Ok(()) => {
                self.last_ts = ts;
                self.core.visible_ts.store(ts, Ordering::Release);
                {
                    let mut stats = self.core.stats.lock();
                    stats.commits += accepted.len() as u64;
                    stats.commit_groups += 1;
                    stats.serialization_failures += refused;
                    stats.versions_collected += gc_deletes;
                }
                for (reply, ts) in accepted {
                    let _ = reply.send(Ok(ts));
                }
                if self.gc {
                    // Collect in proportion to what was written, so collection keeps up with a
                    // sustained update load, but never so much at once that the next group
                    // stalls behind it: a huge transaction's keys are left for idle moments.
                    let budget = (2 * written).clamp(256, GC_SLICE);
                    if let Err(err) = self.collect_garbage(oldest, budget) {
                        self.failed = Some(err);
                    }
                }
            }
            Err(err) => {
                for (reply, _) in accepted {
                    let _ = reply.send(Err(err.clone().into()));
                }
                self.failed = Some(err);
            }
        }
    }

    /// Collects a slice of garbage while no commit is waiting and writes its deletes at once.
    fn collect_idle(&mut self) {
        let (oldest, _) = self.core.watermarks();
        let result = self.collect_garbage(oldest, GC_SLICE).and_then(|()| {
            if self.pending_gc.is_empty() {
                return Ok(());
            }
            let batch = std::mem::take(&mut self.pending_gc);
            let deletes = std::mem::take(&mut self.pending_gc_versions);
            self.core.engine.write(batch, Durability::Sync)?;
            self.core.stats.lock().versions_collected += deletes;
            Ok(())
        });
        if let Err(err) = result {
            self.failed = Some(err);
        }
    }

    /// Deletes the versions in ranges dropped by commits at or below `watermark`, up to
    /// `budget` of them; returns how many. A finished commit's record goes with its last
    /// deletes.
    fn collect_drops(
        &mut self,
        watermark: Timestamp,
        budget: usize,
    ) -> zizhu_engine::Result<usize> {
        let mut done = 0;
        while done < budget {
            let Some((ts, ranges)) = self.drops.front_mut() else {
                break;
            };
            if *ts > watermark {
                break;
            }
            let Some(range) = ranges.first_mut() else {
                self.pending_gc.delete(Key::Dropped(*ts).encode());
                self.pending_gc_versions += 1;
                self.drops.pop_front();
                continue;
            };
            let want = budget - done;
            let (mut first, mut last) = (None, None);
            for entry in self
                .core
                .engine
                .scan(range.clone(), Direction::Forward)?
                .take(want)
            {
                let (key, _) = entry?;
                first.get_or_insert_with(|| key.clone());
                last = Some(key);
                done += 1;
            }
            // The keys scanned are every key from the first to the last: one range delete,
            // which the engine applies in one pass, instead of a delete (a descent) per key.
            if let (Some(first), Some(last)) = (first, &last) {
                self.pending_gc.delete_range(first, last.clone());
            }
            match last {
                Some(key) if done == budget => range.0 = Bound::Excluded(key),
                _ => {
                    ranges.remove(0);
                }
            }
        }
        self.pending_gc_versions += done as u64;
        Ok(done)
    }

    /// Whether any commit after `snapshot` wrote something in `reads`.
    fn conflicts(&self, reads: &ReadSet, snapshot: Timestamp) -> bool {
        self.recent
            .iter()
            .rev()
            .take_while(|(ts, _)| *ts > snapshot)
            .any(|(_, keys)| {
                reads.points.iter().any(|p| keys.binary_search(p).is_ok())
                    || reads.ranges.iter().any(|r| range_hits(keys, r))
            })
    }

    /// Finds the versions shadowed by commits at or below `watermark` (up to `budget` keys)
    /// and queues their deletion for the next batch.
    fn collect_garbage(&mut self, watermark: Timestamp, budget: usize) -> zizhu_engine::Result<()> {
        // Within one pass a key may come up for several commits. Its deletes are written only
        // with the next batch, so each later commit scans just the versions the earlier ones
        // left: from (and including, unless it was a deleted tombstone) the earlier commit's
        // version up to its own.
        let mut queued_down_to: foldhash::HashMap<Vec<u8>, Bound<Vec<u8>>> = Default::default();
        let dropped = self.collect_drops(watermark, budget)?;
        let mut done = dropped;
        while done < budget {
            let Some((ts, keys, collect)) = self.gc_queue.front() else {
                break;
            };
            if *ts > watermark {
                break;
            }
            let (ts, keys, count) = (*ts, keys.clone(), collect.len());
            while self.gc_cursor < count && done < budget {
                let key = &keys[self.gc_queue[0].2[self.gc_cursor]];
                self.gc_cursor += 1;
                done += 1;
                let this = encode_version(key, ts);
                let oldest = queued_down_to
                    .get(key)
                    .cloned()
                    .unwrap_or_else(|| Bound::Included(encode_version(key, 0)));
                // One scan from this version down: it comes first, then the ones it shadows.
                let mut tombstone = false;
                let versions = (Bound::Included(this.clone()), oldest);
                for entry in self.core.engine.scan(versions, Direction::Forward)? {
                    let (version, value) = entry?;
                    if version == this {
                        tombstone = value == [0];
                        if !tombstone {
                            continue;
                        }
                    }
                    self.pending_gc.delete(version);
                    self.pending_gc_versions += 1;
                }
                let next = if tombstone {
                    Bound::Excluded(this)
                } else {
                    Bound::Included(this)
                };
                queued_down_to.insert(key.clone(), next);
            }
            if self.gc_cursor >= count {
                self.gc_queue.pop_front();
                self.gc_cursor = 0;
            }
        }
        self.core.stats.lock().keys_examined += (done - dropped) as u64;
        Ok(())
    }
}

/// The engine ranges holding every version of the user-key `ranges`.
fn engine_ranges(ranges: &[KeyRange]) -> Vec<KeyRange> {
    ranges.iter().map(version_range).collect()
}

/// Whether any of the sorted `keys` lies in `range`.
fn range_hits(keys: &[Vec<u8>], range: &KeyRange) -> bool {
    let first = match &range.0 {
        Bound::Included(s) => keys.partition_point(|k| k < s),
        Bound::Excluded(s) => keys.partition_point(|k| k <= s),
        Bound::Unbounded => 0,
    };
    keys.get(first).is_some_and(|k| match &range.1 {
        Bound::Included(e) => k <= e,
        Bound::Excluded(e) => k < e,
        Bound::Unbounded => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_hits_respects_bounds() {
        let keys: Vec<Vec<u8>> = vec![b"b".to_vec(), b"d".to_vec()];
        let r = |s: Bound<&[u8]>, e: Bound<&[u8]>| (s.map(|x| x.to_vec()), e.map(|x| x.to_vec()));
        assert!(range_hits(
            &keys,
            &r(Bound::Included(b"b"), Bound::Excluded(b"c"))
        ));
        assert!(!range_hits(
            &keys,
            &r(Bound::Excluded(b"b"), Bound::Excluded(b"d"))
        ));
        assert!(range_hits(
            &keys,
            &r(Bound::Excluded(b"b"), Bound::Included(b"d"))
        ));
        assert!(!range_hits(
            &keys,
            &r(Bound::Excluded(b"d"), Bound::Unbounded)
        ));
        assert!(range_hits(&keys, &r(Bound::Unbounded, Bound::Unbounded)));
    }

    #[test]
    fn values_round_trip() {
        assert_eq!(decode_value(encode_value(None)).unwrap(), None);
        assert_eq!(
            decode_value(encode_value(Some(vec![]))).unwrap(),
            Some(vec![])
        );
        assert_eq!(
            decode_value(encode_value(Some(vec![0, 1]))).unwrap(),
            Some(vec![0, 1])
        );
        assert!(decode_value(vec![7]).is_err());
    }
}
