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
//! - `Dropped(ts)`: the user-key ranges the commit at `ts` dropped whole (a table's rows, an
//!   index's entries), kept until the garbage collector has deleted every version in them, so
//!   that a restart finishes the job.
//!
//! Keys print as `(accounts, 42)@17` when the user key is a key-encoded tuple, which SQL row and
//! index keys are.

use std::fmt;
use std::ops::Bound;

use zizhu_engine::KeyRange;

use crate::{Result, Timestamp};

const TAG_LAST_COMMITTED: u8 = 0x01;
const TAG_VERSION: u8 = 0x02;
const TAG_DROPPED: u8 = 0x03;

/// A key in the engine's keyspace, owned by the transaction layer.
#[derive(Clone, PartialEq, Eq)]
pub enum Key {
    /// The newest commit timestamp.
    LastCommitted,
    /// A committed version of a user key.
    Version(Vec<u8>, Timestamp),
    /// The ranges dropped by the commit at this timestamp, not yet collected.
    Dropped(Timestamp),
}

impl Key {
    /// Encodes the key, preserving order.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Key::LastCommitted => vec![TAG_LAST_COMMITTED],
            Key::Version(key, ts) => encode_version(key, *ts),
            Key::Dropped(ts) => {
                let mut out = vec![TAG_DROPPED];
                out.extend_from_slice(&ts.to_be_bytes());
                out
            }
        }
    }

    /// The engine range holding every [`Key::Dropped`] record, oldest first.
    pub(crate) fn all_dropped() -> KeyRange {
        (
            Bound::Included(vec![TAG_DROPPED]),
            Bound::Excluded(vec![TAG_DROPPED + 1]),
        )
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
            Some((&TAG_DROPPED, rest)) => {
                let arr: [u8; 8] = rest
                    .try_into()
                    .map_err(|_| zizhu_engine::errcorrupt!("bad dropped-range key {bytes:02x?}"))?;
                Ok(Key::Dropped(u64::from_be_bytes(arr)))
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
            Key::Dropped(ts) => write!(f, "Dropped@{ts}"),
        }
    }
}

/// Encodes `Version(key, ts)` without building a [`Key`].
pub(crate) fn encode_version(key: &[u8], ts: Timestamp) -> Vec<u8> {
    let mut out = version_prefix(key);
    out.extend_from_slice(&(!ts).to_be_bytes());
    out
}

/// The bounds of every version of `key` from `ts` down to the oldest:
/// `encode_version(key, ts)` and `encode_version(key, 0)`, with the key escaped once (they
/// differ only in the timestamp bytes; 0 is stored inverted, as all ones).
pub(crate) fn versions_from(key: &[u8], ts: Timestamp) -> (Vec<u8>, Vec<u8>) {
    let lower = encode_version(key, ts);
    let mut upper = lower.clone();
    let stamp = upper.len() - 8;
    upper[stamp..].copy_from_slice(&(!0u64).to_be_bytes());
    (lower, upper)
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

/// Turns an encoded version key (one [`split_version`] accepts) into its user key, in place:
/// a scan thus returns the buffer it read without allocating another.
pub(crate) fn into_user_key(key: &mut Vec<u8>) -> Result<()> {
    if key.first() != Some(&TAG_VERSION) || key.len() < 11 {
        return Err(zizhu_engine::errcorrupt!("expected a version key, found {key:02x?}").into());
    }
    // The escaped user key, with its two-byte terminator, lies between the tag and the
    // eight timestamp bytes.
    let end = key.len() - 8;
    Ok(zizhu_keycode::decode_bytes_in_place(key, 1, end)?)
}

fn decode_ts(bytes: &[u8]) -> Result<Timestamp> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| zizhu_engine::errcorrupt!("bad version timestamp {bytes:02x?}"))?;
    Ok(!u64::from_be_bytes(arr))
}

/// Encodes the user-key ranges of a [`Key::Dropped`] record: per bound a byte (0 unbounded,
/// 1 included, 2 excluded), then for a bounded one its length (4 bytes) and bytes.
pub(crate) fn encode_ranges(ranges: &[KeyRange]) -> Vec<u8> {
    let mut out = Vec::new();
    for bound in ranges.iter().flat_map(|(start, end)| [start, end]) {
        let (tag, key) = match bound {
            Bound::Unbounded => (0u8, None),
            Bound::Included(k) => (1, Some(k)),
            Bound::Excluded(k) => (2, Some(k)),
        };
        out.push(tag);
        if let Some(key) = key {
            out.extend_from_slice(&(key.len() as u32).to_be_bytes());
            out.extend_from_slice(key);
        }
    }
    out
}

/// Decodes [`encode_ranges`].
pub(crate) fn decode_ranges(mut bytes: &[u8]) -> Result<Vec<KeyRange>> {
    let mut ranges = Vec::new();
    while !bytes.is_empty() {
        let start = decode_bound(&mut bytes)?;
        let end = decode_bound(&mut bytes)?;
        ranges.push((start, end));
    }
    Ok(ranges)
}

fn decode_bound(bytes: &mut &[u8]) -> Result<Bound<Vec<u8>>> {
    let corrupt = || zizhu_engine::errcorrupt!("bad dropped-range record");
    let (&tag, rest) = bytes.split_first().ok_or_else(corrupt)?;
    if tag == 0 {
        *bytes = rest;
        return Ok(Bound::Unbounded);
    }
    let len: [u8; 4] = rest
        .get(..4)
        .and_then(|l| l.try_into().ok())
        .ok_or_else(corrupt)?;
    let end = 4 + u32::from_be_bytes(len) as usize;
    let key = rest.get(4..end).ok_or_else(corrupt)?.to_vec();
    *bytes = &rest[end..];
    match tag {
        1 => Ok(Bound::Included(key)),
        2 => Ok(Bound::Excluded(key)),
        _ => Err(corrupt().into()),
    }
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
    fn version_bounds_are_the_newest_wanted_and_the_oldest_version() {
        for key in [b"".to_vec(), b"a\x00b".to_vec(), row("accounts", 42)] {
            for ts in [0, 1, 17, u64::MAX] {
                let (lower, upper) = versions_from(&key, ts);
                assert_eq!(lower, encode_version(&key, ts));
                assert_eq!(upper, encode_version(&key, 0));
            }
        }
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
            Key::Dropped(300),
            Key::Dropped(2),
        ];
        keys.sort_by_key(|k| k.encode());
        let printed: Vec<_> = keys
            .iter()
            .map(|k| match k {
                Key::Version(k, ts) => format!("{}@{ts}", String::from_utf8_lossy(k)),
                Key::LastCommitted => "last".into(),
                Key::Dropped(ts) => format!("dropped@{ts}"),
            })
            .collect();
        assert_eq!(
            printed,
            [
                "last",
                "a@9",
                "a@1",
                "a\u{0}@3",
                "ab@5",
                "dropped@2",
                "dropped@300"
            ]
        );
        for key in &keys {
            assert_eq!(&Key::decode(&key.encode()).unwrap(), key);
        }
    }

    #[test]
    fn version_keys_turn_into_their_user_keys_in_place() {
        for user in [
            vec![],
            vec![0],
            vec![0, 0, 0xFF, 0],
            b"abc".to_vec(),
            row("accounts", 42),
            vec![0xFF, 0, 1],
        ] {
            let mut key = Key::Version(user.clone(), 17).encode();
            into_user_key(&mut key).unwrap();
            assert_eq!(key, user);
        }
        let good = Key::Version(vec![1, 0, 2], 5).encode();
        for bad in [
            good[..good.len() - 1].to_vec(),
            Key::LastCommitted.encode(),
            [&good[..2], &[0, 7], &good[good.len() - 10..]].concat(),
            [&good[..good.len() - 8], &[9], &good[good.len() - 8..]].concat(),
        ] {
            assert!(into_user_key(&mut bad.clone()).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn dropped_ranges_round_trip() {
        let ranges: Vec<KeyRange> = vec![
            (Bound::Included(row("t", 1)), Bound::Excluded(row("t", 9))),
            (Bound::Unbounded, Bound::Included(vec![])),
            (Bound::Excluded(vec![0, 0xff]), Bound::Unbounded),
        ];
        assert_eq!(decode_ranges(&encode_ranges(&ranges)).unwrap(), ranges);
        let encoded = encode_ranges(&ranges[..1]);
        assert!(decode_ranges(&encoded[..encoded.len() - 1]).is_err());
        assert!(decode_ranges(&[7]).is_err());
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
