//! A transaction's snapshot shared with other threads: the reads of a parallel scan's workers.
//!
//! A [`Transaction`](crate::Transaction) is used by one thread: its write buffer, lock record
//! and read set are not shared. Committed versions need none of that to be read at a snapshot,
//! so [`SnapshotReader`] carries only the engine and the timestamp, and can be shared. It exists
//! only for a range the transaction wrote nothing in (its own writes would be invisible to
//! it), and only while the transaction is borrowed, so the snapshot stays registered and no
//! version it sees is collected.

use std::ops::Bound;

use zizhu_engine::{Direction, Engine, KeyRange};

use crate::key::{decode_version, version_range};
use crate::scan::VisibleVersions;
use crate::{errinternal, Result, Timestamp};

/// Committed rows of one key range at a transaction's snapshot, readable from any thread
/// ([`crate::Transaction::snapshot_reader`]).
pub struct SnapshotReader<'a, E: Engine> {
    engine: &'a E,
    snapshot: Timestamp,
    range: KeyRange,
}

impl<'a, E: Engine> SnapshotReader<'a, E> {
    pub(crate) fn new(engine: &'a E, snapshot: Timestamp, range: KeyRange) -> Self {
        Self {
            engine,
            snapshot,
            range,
        }
    }

    /// The values of the rows visible in `range`, which must lie within the reader's range
    /// (the one the transaction recorded as read), in key order.
    pub fn scan_values(
        &self,
        range: KeyRange,
    ) -> Result<impl Iterator<Item = Result<Vec<u8>>> + 'a> {
        if !contains(&self.range, &range) {
            return Err(errinternal!(
                "a parallel scan read {range:?} outside its range {:?}",
                self.range
            ));
        }
        let versions = self
            .engine
            .scan(version_range(&range), Direction::Forward)?;
        let visible = VisibleVersions::new(versions, self.snapshot, Direction::Forward);
        Ok(visible
            .values_only()
            .map(|item| item.map(|(_, value)| value)))
    }

    /// The greatest key in the reader's range that has a stored version, visible or not:
    /// where a scan of the range can end, for dividing it.
    pub fn last_key(&self) -> Result<Option<Vec<u8>>> {
        let mut versions = self
            .engine
            .scan(version_range(&self.range), Direction::Reverse)?;
        match versions.next() {
            Some(item) => Ok(Some(decode_version(&item?.0)?.0)),
            None => Ok(None),
        }
    }
}

/// Whether `inner` lies within `outer`.
fn contains(outer: &KeyRange, inner: &KeyRange) -> bool {
    let starts_within = match (&outer.0, &inner.0) {
        (Bound::Unbounded, _) => true,
        (_, Bound::Unbounded) => false,
        (Bound::Included(o), Bound::Included(i) | Bound::Excluded(i)) => o <= i,
        (Bound::Excluded(o), Bound::Excluded(i)) => o <= i,
        (Bound::Excluded(o), Bound::Included(i)) => o < i,
    };
    let ends_within = match (&outer.1, &inner.1) {
        (Bound::Unbounded, _) => true,
        (_, Bound::Unbounded) => false,
        (Bound::Included(o), Bound::Included(i) | Bound::Excluded(i)) => i <= o,
        (Bound::Excluded(o), Bound::Excluded(i)) => i <= o,
        (Bound::Excluded(o), Bound::Included(i)) => i < o,
    };
    starts_within && ends_within
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn a_range_contains_only_ranges_within_its_bounds() {
        use Bound::*;
        let outer = (Included(k("b")), Excluded(k("f")));
        assert!(contains(&outer, &(Included(k("b")), Excluded(k("f")))));
        assert!(contains(&outer, &(Excluded(k("b")), Included(k("e")))));
        assert!(!contains(&outer, &(Included(k("a")), Excluded(k("c")))));
        assert!(!contains(&outer, &(Included(k("c")), Included(k("f")))));
        assert!(!contains(&outer, &(Included(k("c")), Unbounded)));
        assert!(!contains(&outer, &(Unbounded, Excluded(k("c")))));
        let open = (Excluded(k("b")), Unbounded);
        assert!(!contains(&open, &(Included(k("b")), Excluded(k("c")))));
        assert!(contains(&open, &(Excluded(k("b")), Unbounded)));
    }
}
