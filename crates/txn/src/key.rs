//! The keys the transaction layer stores in the engine, as a typed enum.
//!
//! Every engine key is a [`Key`]; its encoding is order-preserving, so the engine's byte order
//! is the order the MVCC layer needs:
//!
//! - `Version(user_key, ts)`: the value of `user_key` written by the transaction that committed
//!   at timestamp `ts`, or a tombstone. The timestamp is stored complemented, so the versions of
//!   one key sort newest first and a read at snapshot `s` is one seek to `Version(key, s)`. The
//!   user key is escaped and terminated ([`zizhu_keycode::encode_bytes`]) so that the versions of
//!   a key never interleave with those of another key that it prefixes.
//! - `LastCommitted`: the newest commit timestamp, written in every commit batch, read at open.
//!
//! Keys print as `(accounts, 42)@17` when the user key is a key-encoded tuple, which SQL row and
//! index keys are.

use std::fmt;
use std::ops::Bound;

use zizhu_engine::KeyRange;

use crate::{Result, Timestamp};

const TAG_LAST_COMMITTED: u8 = 0x01;
const TAG_VERSION: u8 = 0x02;

/// A key in the engine's keyspace, owned by the transaction layer.
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    /// The newest commit timestamp.
    LastCommitted,
    /// A committed version of a user key.
    Version(Vec<u8>, Timestamp),
}

impl Key {
    /// Encodes the key, preserving order.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Key::LastCommitted => vec![TAG_LAST_COMMITTED],
            Key::Version(key, ts) => encode_version(key, *ts),
        }
    }

    /// Decodes an engine key.
    pub fn decode(bytes: &[u8]) -> Result<Key> {
        match bytes.split_first() {
            Some((&TAG_LAST_COMMITTED, [])) => Ok(Key::LastCommitted),
            Some((&TAG_VERSION, rest)) => {
                let (key, n) = zizhu_keycode::decode_bytes(rest)?;
                let ts = decode_ts(&rest[n..])?;
                Ok(Key::Version(key, ts))
            }
            _ => Err(zizhu_engine::errcorrupt!("unknown engine key {bytes:02x?}").into()),
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::LastCommitted => f.write_str("LastCommitted"),
            Key::Version(key, ts) => {
                write!(f, "{}@{ts}", zizhu_keycode::format_tuple(key))
            }
        }
    }
}

/// Encodes `Version(key, ts)` without building a [`Key`].
pub(crate) fn encode_version(key: &[u8], ts: Timestamp) -> Vec<u8> {
    let mut out = version_prefix(key);
    out.extend_from_slice(&(!ts).to_be_bytes());
    out
}

/// The encoding shared by every version of `key`.
pub(crate) fn version_prefix(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 12);
    out.push(TAG_VERSION);
    zizhu_keycode::encode_bytes(&mut out, key);
    out
}

/// Splits an encoded version key into the user key and timestamp.
pub(crate) fn decode_version(bytes: &[u8]) -> Result<(Vec<u8>, Timestamp)> {
    match Key::decode(bytes)? {
        Key::Version(key, ts) => Ok((key, ts)),
        key => Err(zizhu_engine::errcorrupt!("expected a version key, found {key:?}").into()),
    }
}

/// Splits an encoded version key without unescaping its user key: the escaped user key,
/// which is equal exactly when the user keys are, and the timestamp.
pub(crate) fn split_version(bytes: &[u8]) -> Result<(&[u8], Timestamp)> {
    match bytes.split_first() {
        // The escaped key ends in its two-byte terminator, then come eight timestamp bytes.
        Some((&TAG_VERSION, rest)) if rest.len() >= 10 => {
            let (escaped, ts) = rest.split_at(rest.len() - 8);
            Ok((escaped, decode_ts(ts)?))
        }
        _ => Err(zizhu_engine::errcorrupt!("expected a version key, found {bytes:02x?}").into()),
    }
}

/// Unescapes the user key [`split_version`] returned.
pub(crate) fn unescape_key(escaped: &[u8]) -> Result<Vec<u8>> {
    let (key, n) = zizhu_keycode::decode_bytes(escaped)?;
    if n != escaped.len() {
        return Err(
            zizhu_engine::errcorrupt!("trailing bytes in version key {escaped:02x?}").into(),
        );
    }
    Ok(key)
}

fn decode_ts(bytes: &[u8]) -> Result<Timestamp> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| zizhu_engine::errcorrupt!("bad version timestamp {bytes:02x?}"))?;
    Ok(!u64::from_be_bytes(arr))
}

/// Maps a range of user keys to the engine range holding all their versions.
pub(crate) fn version_range(range: &KeyRange) -> KeyRange {
    let start = match &range.0 {
        Bound::Included(k) => Bound::Included(version_prefix(k)),
        // Past the oldest possible version of k (timestamp 0 complemented is all 0xff).
        Bound::Excluded(k) => Bound::Excluded(encode_version(k, 0)),
        Bound::Unbounded => Bound::Included(vec![TAG_VERSION]),
    };
    let end = match &range.1 {
        Bound::Included(k) => Bound::Included(encode_version(k, 0)),
        Bound::Excluded(k) => Bound::Excluded(version_prefix(k)),
        Bound::Unbounded => Bound::Excluded(vec![TAG_VERSION + 1]),
    };
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zizhu_keycode::encode_tuple;
    use zizhu_types::Value;

    fn row(table: &str, id: i64) -> Vec<u8> {
        encode_tuple(&[Value::Text(table.into()), Value::Int64(id)])
    }

    #[test]
    fn prints_typed_keys() {
        let key = Key::Version(row("accounts", 42), 17);
        assert_eq!(format!("{key:?}"), "(accounts, 42)@17");
        assert_eq!(Key::decode(&key.encode()).unwrap(), key);
    }

    #[test]
    fn versions_sort_newest_first_and_keys_do_not_interleave() {
        let mut keys = [
            Key::Version(b"a".to_vec(), 1),
            Key::Version(b"a".to_vec(), 9),
            Key::Version(b"ab".to_vec(), 5),
            Key::Version(b"a\x00".to_vec(), 3),
            Key::LastCommitted,
        ];
        keys.sort_by_key(|k| k.encode());
        let printed: Vec<_> = keys
            .iter()
            .map(|k| match k {
                Key::Version(k, ts) => format!("{}@{ts}", String::from_utf8_lossy(k)),
                Key::LastCommitted => "last".into(),
            })
            .collect();
        assert_eq!(printed, ["last", "a@9", "a@1", "a\u{0}@3", "ab@5"]);
    }

    #[test]
    fn version_range_covers_exactly_the_user_range() {
        let range: KeyRange = (
            Bound::Excluded(b"a".to_vec()),
            Bound::Included(b"b".to_vec()),
        );
        let vr = version_range(&range);
        let inside = |k: &Key| {
            let e = k.encode();
            (match &vr.0 {
                Bound::Included(s) => e >= *s,
                Bound::Excluded(s) => e > *s,
                Bound::Unbounded => true,
            }) && (match &vr.1 {
                Bound::Included(s) => e <= *s,
                Bound::Excluded(s) => e < *s,
                Bound::Unbounded => true,
            })
        };
        assert!(!inside(&Key::Version(b"a".to_vec(), 1)));
        assert!(!inside(&Key::Version(b"a".to_vec(), u64::MAX)));
        assert!(inside(&Key::Version(b"a\x00".to_vec(), 1)));
        assert!(inside(&Key::Version(b"b".to_vec(), 1)));
        assert!(inside(&Key::Version(b"b".to_vec(), u64::MAX)));
        assert!(!inside(&Key::Version(b"b\x00".to_vec(), 1)));
        assert!(!inside(&Key::LastCommitted));
    }
}
