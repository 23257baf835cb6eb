//! Scans at a snapshot: the newest visible version of each key, merged with the transaction's
//! own uncommitted writes.

use std::collections::btree_map;
use std::iter::Peekable;

use zizhu_engine::{Direction, ScanIter};

use crate::key::{decode_version, into_user_key, split_version};
use crate::pipeline::decode_value;
use crate::{Result, RowState, Timestamp};

type OwnWrites<'a> = Box<dyn Iterator<Item = (&'a Vec<u8>, &'a RowState)> + Send + 'a>;

/// The committed rows visible at a snapshot, from the engine's version stream.
///
/// Forward, a key's versions arrive newest first: the first one at or below the snapshot
/// decides the key. In reverse they arrive oldest first: the last one at or below the snapshot
/// decides it, known only when the next key starts.
pub(crate) struct VisibleVersions<'a> {
    versions: ScanIter<'a>,
    snapshot: Timestamp,
    direction: Direction,
    /// Forward: the raw version key (escaped, timestamp included) that decided the last key,
    /// empty before the first. Versions are compared with it still escaped, which saves
    /// unescaping every version skipped.
    decided: Vec<u8>,
    /// Whether the caller wants keys; without them a key is neither unescaped nor copied.
    keys: bool,
    /// Reverse: the key being read and its best version.
    current: Option<(Vec<u8>, Option<RowState>)>,
    done: bool,
}

impl<'a> VisibleVersions<'a> {
    pub fn new(versions: ScanIter<'a>, snapshot: Timestamp, direction: Direction) -> Self {
        Self {
            versions,
            snapshot,
            direction,
            decided: Vec::new(),
            keys: true,
            current: None,
            done: false,
        }
    }

    /// The same rows for callers that read only values: forward, their keys are left empty,
    /// neither unescaped nor copied.
    pub fn values_only(mut self) -> Self {
        self.keys = false;
        self
    }

    fn next_forward(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        for item in self.versions.by_ref() {
            let (mut raw_key, raw_value) = item?;
            let (_, ts) = split_version(&raw_key)?;
            if ts > self.snapshot || same_key(&self.decided, &raw_key) {
                continue;
            }
            if self.keys {
                self.decided.clear();
                self.decided.extend_from_slice(&raw_key);
            } else {
                // The raw key itself is kept as the decided one: no copy.
                std::mem::swap(&mut self.decided, &mut raw_key);
                raw_key.clear();
            }
            if let Some(value) = decode_value(raw_value)? {
                if self.keys {
                    into_user_key(&mut raw_key)?;
                }
                return Ok(Some((raw_key, value)));
            }
        }
        Ok(None)
    }

    fn next_reverse(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        loop {
            let Some(item) = self.versions.next() else {
                // The last key read is decided by the end of the stream.
                return Ok(match self.current.take() {
                    Some((key, Some(Some(value)))) => Some((key, value)),
                    _ => None,
                });
            };
            let (raw_key, raw_value) = item?;
            let (key, ts) = decode_version(&raw_key)?;
            let mut finished = None;
            if self.current.as_ref().is_none_or(|(k, _)| *k != key) {
                finished = self.current.replace((key, None));
            }
            if ts <= self.snapshot {
                if let Some((_, best)) = self.current.as_mut() {
                    // Older versions come first, so a later one at or below the snapshot wins.
                    *best = Some(decode_value(raw_value)?);
                }
            }
            if let Some((key, Some(Some(value)))) = finished {
                return Ok(Some((key, value)));
            }
        }
    }
}

/// Whether two raw version keys are versions of one key: equal but for their eight
/// timestamp bytes (`a` may be empty: no key).
fn same_key(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.len() >= 8 && a[..a.len() - 8] == b[..b.len() - 8]
}

impl Iterator for VisibleVersions<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = match self.direction {
            Direction::Forward => self.next_forward(),
            Direction::Reverse => self.next_reverse(),
        };
        match next {
            Ok(Some(row)) => Some(Ok(row)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

/// A scan in a transaction: committed rows at its snapshot, overlaid with its own writes.
pub struct Scan<'a> {
    committed: Peekable<VisibleVersions<'a>>,
    own: Peekable<OwnWrites<'a>>,
    direction: Direction,
}

impl<'a> Scan<'a> {
    pub(crate) fn new(
        committed: VisibleVersions<'a>,
        own: btree_map::Range<'a, Vec<u8>, Option<Vec<u8>>>,
        direction: Direction,
    ) -> Self {
        let own: OwnWrites<'a> = match direction {
            Direction::Forward => Box::new(own),
            Direction::Reverse => Box::new(own.rev()),
        };
        Self {
            committed: committed.peekable(),
            own: own.peekable(),
            direction,
        }
    }
}

impl Iterator for Scan<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Which stream holds the next key in scan order; on a tie the own write wins and
            // the committed version is skipped.
            let take_own = match (self.committed.peek(), self.own.peek()) {
                (None, None) => return None,
                (Some(Err(_)), _) => false,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(Ok((ck, _))), Some((ok, _))) => {
                    let order = ck.cmp(ok);
                    if order.is_eq() {
                        self.committed.next();
                        true
                    } else {
                        (self.direction == Direction::Forward) == order.is_gt()
                    }
                }
            };
            if !take_own {
                return self.committed.next();
            }
            match self.own.next() {
                Some((key, Some(value))) => return Some(Ok((key.clone(), value.clone()))),
                Some((_, None)) => continue,
                None => return None,
            }
        }
    }
}
