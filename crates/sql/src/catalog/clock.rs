//! The catalog clock: which committed catalog a snapshot sees, for reusing plans.
//!
//! A kept plan (a prepared statement's) is right only for the catalog it was bound against.
//! The clock counts commits of transactions that changed the catalog (DDL, roles,
//! databases). Such a transaction marks itself *in flight* before it commits and, once the
//! commit is done or has failed, advances the count and clears its mark, both in one word:
//! the count in the high bits, the transactions in flight in the low ones.
//!
//! A statement reads the clock just before and just after it takes its snapshot. If the two
//! readings are equal and nothing was in flight, the snapshot sees exactly the catalog
//! commits counted: one counted had committed before the first reading, so before the
//! snapshot; one that committed before the snapshot was by the second reading either
//! counted (and then before the first, or the readings would differ) or still in flight.
//! Any other reading gives no version, and the statement binds afresh.
//!
//! The count is for the whole process, not per database: DDL is rare, and a plan rebound
//! needlessly costs only the binding.

use std::sync::atomic::{AtomicU64, Ordering};

/// The low bits of the word: how many catalog-changing commits are in flight.
const IN_FLIGHT_BITS: u32 = 20;
const IN_FLIGHT_MASK: u64 = (1 << IN_FLIGHT_BITS) - 1;

/// Counts catalog commits (see the [module docs](self)).
#[derive(Debug, Default)]
pub struct CatalogClock(AtomicU64);

impl CatalogClock {
    /// The number of catalog commits so far, or `None` while one is in flight.
    pub fn now(&self) -> Option<u64> {
        let word = self.0.load(Ordering::SeqCst);
        (word & IN_FLIGHT_MASK == 0).then_some(word >> IN_FLIGHT_BITS)
    }

    /// Marks a catalog-changing commit in flight until the guard is dropped (after the commit
    /// returned, whether it succeeded or not).
    pub fn committing(&self) -> Committing<'_> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Committing(self)
    }

    /// The catalog version of a snapshot taken by `take` (see the [module docs](self)):
    /// `None` if it cannot be told.
    pub fn around<T>(&self, take: impl FnOnce() -> T) -> (T, Option<u64>) {
        let before = self.now();
        let taken = take();
        let after = self.now();
        (taken, before.filter(|_| before == after))
    }
}

/// A catalog commit in flight ([`CatalogClock::committing`]).
#[must_use = "the commit is in flight until the guard is dropped"]
pub struct Committing<'a>(&'a CatalogClock);

impl Drop for Committing<'_> {
    fn drop(&mut self) {
        // One more commit counted, one fewer in flight.
        self.0
             .0
            .fetch_add((1 << IN_FLIGHT_BITS) - 1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_in_flight_hides_the_version_and_counts_when_done() {
        let clock = CatalogClock::default();
        assert_eq!(clock.now(), Some(0));
        let a = clock.committing();
        let b = clock.committing();
        assert_eq!(clock.now(), None);
        drop(a);
        assert_eq!(clock.now(), None, "b is still in flight");
        drop(b);
        assert_eq!(clock.now(), Some(2));
    }

    #[test]
    fn a_snapshot_taken_across_a_commit_has_no_version() {
        let clock = CatalogClock::default();
        let ((), v) = clock.around(|| drop(clock.committing()));
        assert_eq!(v, None);
        let ((), v) = clock.around(|| ());
        assert_eq!(v, Some(1));
        let guard = clock.committing();
        let ((), v) = clock.around(|| ());
        assert_eq!(v, None);
        drop(guard);
    }
}
