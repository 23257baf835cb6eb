//! [`InlineKey`]: a key's bytes, inline when short.
//!
//! The lock table and each transaction's record of its locks hold one entry per row a
//! transaction locked: a million for a bulk insert. With a `Vec<u8>` per entry, every probe
//! that compares a key follows a pointer to another cache line, and every entry costs an
//! allocation and a free. Row keys of integer and short text primary keys fit in 30 bytes, so
//! they live in the entry itself; longer keys are boxed.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The longest key kept inline.
const INLINE: usize = 30;

/// A key's bytes: inline up to 30 bytes, else boxed. Hashes, compares and borrows as `[u8]`,
/// so maps keyed by it are probed with a `&[u8]`.
#[derive(Clone)]
pub(crate) enum InlineKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<[u8]>),
}

impl InlineKey {
    pub fn new(key: &[u8]) -> Self {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..key.len()].copy_from_slice(key);
                Self::Inline { len, bytes }
            }
            _ => Self::Boxed(key.into()),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Boxed(bytes) => bytes,
        }
    }
}

impl Borrow<[u8]> for InlineKey {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

// `Borrow` requires these to agree with `[u8]`'s.
impl Hash for InlineKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq for InlineKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for InlineKey {}

impl fmt::Debug for InlineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn short_and_long_keys_are_found_by_their_bytes() {
        let keys: Vec<Vec<u8>> = [0, 1, 29, 30, 31, 200, 300]
            .iter()
            .map(|&n| (0..n).map(|i| (i * 7 % 256) as u8).collect())
            .collect();
        let map: HashMap<InlineKey, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (InlineKey::new(k), i))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(map.get(k.as_slice()), Some(&i), "key of {} bytes", k.len());
            assert_eq!(InlineKey::new(k).as_slice(), k.as_slice());
            let inline = matches!(InlineKey::new(k), InlineKey::Inline { .. });
            assert_eq!(inline, k.len() <= INLINE, "key of {} bytes", k.len());
        }
        // Keys not in the map are not found.
        assert_eq!(map.get(&[7u8; 30][..]), None);
        assert_eq!(map.get(&keys[6][..299]), None);
        assert_eq!(std::mem::size_of::<InlineKey>(), 32);
    }
}
