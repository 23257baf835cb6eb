//! An in-memory [`Engine`]: a `BTreeMap` behind a read-write lock.
//!
//! It keeps nothing across restarts, so [`Durability::Sync`] and [`Engine::flush`] only count
//! syncs in [`Status::syncs`]. It serves tests of the layers above and ephemeral databases.
//!
//! # Scans
//!
//! A scan must not hold the lock while its caller iterates: the caller may write in between (the
//! MVCC layer does), and a writer waiting on a read lock held by the same thread would deadlock.
//! [`MemoryScan`] therefore copies entries out in chunks of [`SCAN_CHUNK`] under a short read
//! lock, and for the next chunk re-seeks strictly after (or, in reverse, before) the last key it
//! returned. Each key is thus yielded at most once, in order, with the value it had when its
//! chunk was read, which is what the [consistency contract](zizhu_engine) allows.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use zizhu_engine::{Direction, Durability, Engine, KeyRange, Result, ScanIter, Status, WriteBatch};

/// Number of entries a scan copies out per lock acquisition.
pub const SCAN_CHUNK: usize = 256;

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// The in-memory engine. Cheap to create; see the [crate docs](crate).
#[derive(Debug, Default)]
pub struct MemoryEngine {
    map: Arc<RwLock<Map>>,
    syncs: AtomicU64,
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Engine for MemoryEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.read().get(key).cloned())
    }

    fn scan(&self, range: KeyRange, direction: Direction) -> Result<ScanIter<'_>> {
        Ok(Box::new(MemoryScan {
            map: Arc::clone(&self.map),
            start: range.0,
            end: range.1,
            direction,
            buffer: VecDeque::new(),
            exhausted: false,
        }))
    }

    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<()> {
        if batch.is_empty() {
            // Nothing to apply, but a Sync write still counts as one.
        } else {
            let mut map = self.map.write();
            let (ranges, ops) = batch.into_parts();
            for (start, end) in ranges {
                if start <= end {
                    let doomed: Vec<Vec<u8>> =
                        map.range(start..=end).map(|(k, _)| k.clone()).collect();
                    for key in doomed {
                        map.remove(&key);
                    }
                }
            }
            for (key, value) in ops {
                match value {
                    Some(value) => map.insert(key, value),
                    None => map.remove(&key),
                };
            }
        }
        if durability == Durability::Sync {
            self.syncs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn status(&self) -> Result<Status> {
        Ok(Status {
            name: "memory".to_string(),
            size_on_disk: 0,
            syncs: self.syncs.load(Ordering::Relaxed),
        })
    }
}

/// A chunked scan over a [`MemoryEngine`]; see the [crate docs](crate#scans).
pub struct MemoryScan {
    map: Arc<RwLock<Map>>,
    /// The remaining range: narrowed past each chunk's last key as chunks are read.
    start: Bound<Vec<u8>>,
    end: Bound<Vec<u8>>,
    direction: Direction,
    buffer: VecDeque<(Vec<u8>, Vec<u8>)>,
    exhausted: bool,
}

impl MemoryScan {
    fn fill(&mut self) {
        if range_is_empty(&self.start, &self.end) {
            self.exhausted = true;
            return;
        }
        let map = self.map.read();
        let range = map.range::<[u8], _>((as_slice(&self.start), as_slice(&self.end)));
        match self.direction {
            Direction::Forward => self
                .buffer
                .extend(range.take(SCAN_CHUNK).map(|(k, v)| (k.clone(), v.clone()))),
            Direction::Reverse => self.buffer.extend(
                range
                    .rev()
                    .take(SCAN_CHUNK)
                    .map(|(k, v)| (k.clone(), v.clone())),
            ),
        }
        drop(map);
        if self.buffer.len() < SCAN_CHUNK {
            self.exhausted = true;
        }
        if let Some((last, _)) = self.buffer.back() {
            match self.direction {
                Direction::Forward => self.start = Bound::Excluded(last.clone()),
                Direction::Reverse => self.end = Bound::Excluded(last.clone()),
            }
        }
    }
}

impl Iterator for MemoryScan {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.exhausted {
            self.fill();
        }
        self.buffer.pop_front().map(Ok)
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Whether no key can lie between `start` and `end`. `BTreeMap::range` panics on such ranges.
fn range_is_empty(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance() {
        zizhu_engine::conformance::run_all(&MemoryEngine::new);
    }

    #[test]
    fn scan_does_not_hold_the_lock() {
        let engine = MemoryEngine::new();
        let mut batch = WriteBatch::new();
        for i in 0..1000u32 {
            batch.put(i.to_be_bytes().to_vec(), vec![]);
        }
        engine.write(batch, Durability::Sync).unwrap();
        let mut scan = engine
            .scan((Bound::Unbounded, Bound::Unbounded), Direction::Reverse)
            .unwrap();
        assert!(scan.next().is_some());
        // Would deadlock if the scan held a read lock.
        engine.write(WriteBatch::new(), Durability::Sync).unwrap();
        assert_eq!(scan.count(), 999);
    }
}
