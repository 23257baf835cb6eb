//! Sorting: ORDER BY (in memory, or an external merge sort past `work_mem`), and top-N for
//! ORDER BY ... LIMIT.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use zizhu_types::Value;

use super::query::Rows;
use super::spill::{row_size, Sorter};
use super::{eval, Env};
use crate::planner::SortKey;
use crate::types::ops;
use crate::Result;

/// Sorts a stream of rows by `keys` within the statement's `work_mem`, spilling sorted runs to
/// temporary files and merging them when the input is larger.
pub(super) fn sort_rows<'a>(
    input: Rows<'a>,
    keys: &'a [SortKey],
    env: &'a Env<'a>,
) -> Result<Rows<'a>> {
    // A comparison error (values that cannot be compared) is kept and reported in place of
    // the next row.
    let error: Rc<RefCell<Option<crate::Error>>> = Rc::default();
    let cell = error.clone();
    let compare = move |a: &[Value], b: &[Value]| {
        let mut error = cell.borrow_mut();
        let mut slot = error.take();
        let order = compare_keys(a, b, keys, &mut slot);
        *error = slot;
        order
    };
    let mut sorter = Sorter::new(env.cache.budget.clone(), Box::new(compare));
    if let Some(abbreviation) = Abbreviation::of(keys) {
        sorter.abbreviate(abbreviation);
    }
    // Keys that are columns of the row (the usual ORDER BY) are moved out of it rather than
    // copied: a record holds each value once, in memory and in spilled runs.
    let split = ColumnKeys::of(keys);
    for row in input {
        let mut row = row?;
        let k = match &split {
            Some(split) => split.take(&mut row)?,
            None => keys
                .iter()
                .map(|k| eval(&k.expr, &row, env))
                .collect::<Result<Vec<_>>>()?,
        };
        sorter.push(k, row)?;
    }
    let sorted = sorter.finish()?;
    if let Some(e) = error.borrow_mut().take() {
        return Err(e);
    }
    Ok(Box::new(sorted.map(move |record| {
        if let Some(e) = error.borrow_mut().take() {
            return Err(e);
        }
        let (key, rest) = record?;
        Ok(match &split {
            Some(split) => split.restore(key, rest),
            None => rest,
        })
    })))
}

/// A sort record: the key values and the rest of the row.
type Record = (Vec<Value>, Vec<Value>);

/// One participant's part of a parallel sort (`execution::parallel`): the rows it read, as
/// records held in memory (counted as [`Sorter`] counts them), sorted when finished.
pub(super) struct SortRun<'e> {
    keys: &'e [SortKey],
    env: &'e Env<'e>,
    split: Option<ColumnKeys>,
    records: Vec<Record>,
    bytes: usize,
}

impl<'e> SortRun<'e> {
    pub(super) fn new(keys: &'e [SortKey], env: &'e Env<'e>) -> Self {
        Self {
            keys,
            env,
            split: ColumnKeys::of(keys),
            records: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds a row: `false` once the rows hold more than `limit` bytes.
    pub(super) fn add(&mut self, mut row: Vec<Value>, limit: usize) -> Result<bool> {
        let key = match &self.split {
            Some(split) => split.take(&mut row)?,
            None => self
                .keys
                .iter()
                .map(|k| eval(&k.expr, &row, self.env))
                .collect::<Result<Vec<_>>>()?,
        };
        self.bytes +=
            row_size(&key) + row_size(&row) + std::mem::size_of::<((u64, u64), Record)>() + 32;
        self.records.push((key, row));
        Ok(self.bytes <= limit)
    }

    /// The memory the records take.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The records, sorted.
    pub(super) fn finish(mut self) -> Result<Vec<Record>> {
        let mut error = None;
        let keys = self.keys;
        let mut compare = |a: &[Value], b: &[Value]| compare_keys(a, b, keys, &mut error);
        sort_records(&mut self.records, Abbreviation::of(keys), &mut compare);
        match error {
            Some(e) => Err(e),
            None => Ok(self.records),
        }
    }
}

/// The rows of sorted runs ([`SortRun::finish`]) merged into one order, read as they are
/// merged. On equal keys an earlier run's row comes first.
pub(super) fn merge_runs<'a>(runs: Vec<Vec<Record>>, keys: &'a [SortKey]) -> Rows<'a> {
    let split = ColumnKeys::of(keys);
    let mut runs: Vec<std::vec::IntoIter<Record>> = runs.into_iter().map(Vec::into_iter).collect();
    let mut heads: Vec<Option<Record>> = runs.iter_mut().map(Iterator::next).collect();
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut error = None;
        let mut best: Option<usize> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some((key, _)) = head else {
                continue;
            };
            let better = match best.and_then(|b| heads[b].as_ref()) {
                None => true,
                Some((best_key, _)) => compare_keys(key, best_key, keys, &mut error).is_lt(),
            };
            if better {
                best = Some(i);
            }
        }
        if let Some(e) = error {
            done = true;
            return Some(Err(e));
        }
        let i = best?;
        let (key, rest) = std::mem::replace(&mut heads[i], runs[i].next())?;
        Some(Ok(match &split {
            Some(split) => split.restore(key, rest),
            None => rest,
        }))
    }))
}

/// Sort keys that are distinct columns of the row: the sort holds them as the key and the
/// row without them, and puts them back in place on the way out.
struct ColumnKeys {
    /// The key columns, in key order.
    columns: Vec<usize>,
    /// The same, in ascending column order, with each one's place in the key.
    ascending: Vec<(usize, usize)>,
    /// The key is the first columns in row order (`ORDER BY a, b` of `SELECT a, b, ...`): a
    /// row that is only the key is held as it is.
    leading: bool,
}

impl ColumnKeys {
    fn of(keys: &[SortKey]) -> Option<Self> {
        let columns = keys
            .iter()
            .map(|k| match k.expr {
                crate::planner::Expr::Column { index, .. } => Some(index),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let mut ascending: Vec<(usize, usize)> =
            columns.iter().enumerate().map(|(k, &c)| (c, k)).collect();
        ascending.sort_unstable();
        if ascending.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let leading = columns.iter().enumerate().all(|(i, &c)| i == c);
        Some(Self {
            columns,
            ascending,
            leading,
        })
    }

    /// Moves the key columns out of `row`, leaving the others in order.
    fn take(&self, row: &mut Vec<Value>) -> Result<Vec<Value>> {
        if self.leading && row.len() == self.columns.len() {
            return Ok(std::mem::take(row));
        }
        let mut key = Vec::with_capacity(self.columns.len());
        for &c in &self.columns {
            let value = row
                .get_mut(c)
                .ok_or_else(|| crate::errinternal!("sort key column {c} of a narrower row"))?;
            key.push(std::mem::replace(value, Value::Null));
        }
        if row.len() == key.len() {
            // Nothing left: no allocation is held for it.
            *row = Vec::new();
        } else {
            // A new, exact allocation, so that what the sort counts is what it holds.
            let mut keyed = self.ascending.iter().map(|&(c, _)| c).peekable();
            let mut rest = Vec::with_capacity(row.len() - key.len());
            for (i, value) in std::mem::take(row).into_iter().enumerate() {
                if keyed.peek() == Some(&i) {
                    keyed.next();
                } else {
                    rest.push(value);
                }
            }
            *row = rest;
        }
        Ok(key)
    }

    /// Puts the key columns back into the row they were taken from.
    fn restore(&self, key: Vec<Value>, mut rest: Vec<Value>) -> Vec<Value> {
        if self.leading && rest.is_empty() {
            return key;
        }
        let mut key: Vec<Option<Value>> = key.into_iter().map(Some).collect();
        for &(c, k) in &self.ascending {
            let value = key.get_mut(k).and_then(Option::take).unwrap_or(Value::Null);
            rest.insert(c.min(rest.len()), value);
        }
        rest
    }
}

/// Sorts rows by `keys`, NULLs placed as each key says.
pub(super) fn sort(
    rows: Vec<Vec<Value>>,
    keys: &[SortKey],
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    sort_top(rows.into_iter().map(Ok), keys, None, env)
}

/// Sorts rows by `keys` (stably). With `limit`, only the first `limit` rows are wanted (top-N
/// for `ORDER BY ... LIMIT`): the rows are cut back to the best `limit` whenever twice that
/// many are held, so memory stays proportional to the limit, not the input.
pub(super) fn sort_top(
    rows: impl Iterator<Item = Result<Vec<Value>>>,
    keys: &[SortKey],
    limit: Option<usize>,
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    let mut error = None;
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    let abbreviation = Abbreviation::of(keys);
    let mut order = |keyed: &mut Vec<(Vec<Value>, Vec<Value>)>| {
        let mut compare = |a: &[Value], b: &[Value]| compare_keys(a, b, keys, &mut error);
        sort_records(keyed, abbreviation, &mut compare);
    };
    for row in rows {
        let row = row?;
        let k = keys
            .iter()
            .map(|k| eval(&k.expr, &row, env))
            .collect::<Result<Vec<_>>>()?;
        keyed.push((k, row));
        if let Some(limit) = limit {
            if keyed.len() >= 2 * limit.max(512) {
                order(&mut keyed);
                keyed.truncate(limit);
            }
        }
    }
    order(&mut keyed);
    if let Some(limit) = limit {
        keyed.truncate(limit);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(keyed.into_iter().map(|(_, row)| row).collect()),
    }
}

/// Sorts (key, row) records stably by `compare` of their keys, by abbreviated keys first
/// when `abbreviation` applies to them.
pub(super) fn sort_records(
    records: &mut Vec<(Vec<Value>, Vec<Value>)>,
    abbreviation: Option<Abbreviation>,
    compare: &mut dyn FnMut(&[Value], &[Value]) -> Ordering,
) {
    match abbreviation.and_then(|a| a.prefixes(records, |(key, _)| key)) {
        Some(prefixes) => {
            let mut tagged: Vec<_> = prefixes.into_iter().zip(records.drain(..)).collect();
            tagged.sort_by(|(pa, (a, _)), (pb, (b, _))| pa.cmp(pb).then_with(|| compare(a, b)));
            records.extend(tagged.into_iter().map(|(_, record)| record));
        }
        None => records.sort_by(|(a, _), (b, _)| compare(a, b)),
    }
}

/// How to abbreviate a sort's first two key columns: an order-preserving 64-bit prefix of each
/// value (PostgreSQL's abbreviated keys), held beside the record, so that most comparisons of
/// an in-memory sort compare integers instead of following the records' pointers to their
/// values. Equal prefixes fall back to the full comparison, so the order is exactly the full
/// comparison's: a smaller prefix always means an earlier value.
///
/// The second key's prefix counts only where the first one's are exact (equal prefixes mean
/// equal values: integers, floats, dates and times, never text, and no NULL among them), and
/// is 0 for every record otherwise.
#[derive(Clone, Copy, Debug)]
pub(super) struct Abbreviation {
    first: KeyOrder,
    second: Option<KeyOrder>,
}

/// Where a key places NULLs and whether it descends.
#[derive(Clone, Copy, Debug)]
struct KeyOrder {
    nulls_first: bool,
    descending: bool,
}

impl KeyOrder {
    fn of(key: &SortKey) -> Self {
        KeyOrder {
            nulls_first: key.nulls_first,
            descending: key.descending,
        }
    }
}

/// The kinds of value whose prefixes compare with each other.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Integer,
    Float,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
}

impl Abbreviation {
    /// The abbreviation of a sort by `keys`: its first two keys' (`None` without keys).
    pub fn of(keys: &[SortKey]) -> Option<Abbreviation> {
        keys.first().map(|first| Abbreviation {
            first: KeyOrder::of(first),
            second: keys.get(1).map(KeyOrder::of),
        })
    }

    /// The prefixes of the first two values of each record's key (`key` gives it), or `None`
    /// if the first values cannot be abbreviated: values of a kind without a prefix, or of
    /// kinds that do not compare as prefixes (a sort column mixing integers and floats
    /// compares them as numbers, not as prefixes).
    pub fn prefixes<T>(
        &self,
        records: &[T],
        key: impl Fn(&T) -> &[Value],
    ) -> Option<Vec<(u64, u64)>> {
        let (first, exact) = column_prefixes(records, |r| key(r).first(), self.first)?;
        let second = match self.second {
            Some(order) if exact => column_prefixes(records, |r| key(r).get(1), order),
            _ => None,
        };
        Some(match second {
            Some((second, _)) => first.into_iter().zip(second).collect(),
            None => first.into_iter().map(|p| (p, 0)).collect(),
        })
    }
}

/// The prefixes of one key column of `records`, and whether they are exact (equal prefixes
/// only for equal values); `None` if the column cannot be abbreviated.
fn column_prefixes<'a, T>(
    records: &'a [T],
    value: impl Fn(&'a T) -> Option<&'a Value>,
    order: KeyOrder,
) -> Option<(Vec<u64>, bool)> {
    let mut kind = None;
    let mut exact = true;
    let mut prefixes = Vec::with_capacity(records.len());
    for record in records {
        let prefix = match value(record)? {
            Value::Null => {
                // Ties with a NULL's 0 or MAX fall back to the full comparison, which places it.
                exact = false;
                prefixes.push(if order.nulls_first { 0 } else { u64::MAX });
                continue;
            }
            value => {
                let (k, prefix) = prefix(value)?;
                if *kind.get_or_insert(k) != k {
                    return None;
                }
                prefix
            }
        };
        prefixes.push(if order.descending { !prefix } else { prefix });
    }
    Some((prefixes, exact && kind != Some(Kind::Bytes)))
}

/// A value's kind and its order-preserving prefix.
fn prefix(value: &Value) -> Option<(Kind, u64)> {
    let signed = |i: i64| (i as u64) ^ (1 << 63);
    let bytes = |b: &[u8]| {
        let mut first = [0u8; 8];
        let n = b.len().min(8);
        first[..n].copy_from_slice(&b[..n]);
        u64::from_be_bytes(first)
    };
    Some(match value {
        Value::Bool(b) => (Kind::Bool, u64::from(*b)),
        Value::Int16(i) => (Kind::Integer, signed(i64::from(*i))),
        Value::Int32(i) => (Kind::Integer, signed(i64::from(*i))),
        Value::Int64(i) => (Kind::Integer, signed(*i)),
        Value::Float32(x) => (Kind::Float, float_prefix(f64::from(*x))),
        Value::Float64(x) => (Kind::Float, float_prefix(*x)),
        // Text compares by its bytes (C collation), as bytea and uuid do.
        Value::Text(s) => (Kind::Bytes, bytes(s.as_bytes())),
        Value::Bytes(b) => (Kind::Bytes, bytes(b)),
        Value::Uuid(u) => (Kind::Bytes, bytes(u)),
        Value::Date(d) => (Kind::Date, signed(i64::from(d.0))),
        Value::Time(t) => (Kind::Time, signed(t.0)),
        Value::Timestamp(t) => (Kind::Timestamp, signed(t.0)),
        Value::TimestampTz(t) => (Kind::TimestampTz, signed(t.0)),
        _ => return None,
    })
}

/// Floats in PostgreSQL's order: -0 equals 0, and every NaN is equal and above all numbers.
fn float_prefix(x: f64) -> u64 {
    if x.is_nan() {
        return u64::MAX;
    }
    let bits = (if x == 0.0 { 0.0 } else { x }).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Orders two rows' sort-key values; the first comparison error is kept in `error`.
fn compare_keys(
    a: &[Value],
    b: &[Value],
    keys: &[SortKey],
    error: &mut Option<crate::Error>,
) -> Ordering {
    for (i, key) in keys.iter().enumerate() {
        let order = match (a[i].is_null(), b[i].is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if key.nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if key.nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let order = ops::compare(&a[i], &b[i]).unwrap_or_else(|e| {
                    error.get_or_insert(e);
                    None
                });
                let order = order.unwrap_or(Ordering::Equal);
                if key.descending {
                    order.reverse()
                } else {
                    order
                }
            }
        };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of one kind in every tricky spot, for the pairwise check.
    fn samples() -> Vec<Vec<Value>> {
        let ints = [i64::MIN, -1, 0, 1, 255, 256, i64::MAX]
            .into_iter()
            .map(Value::Int64)
            .chain([Value::Int32(-7), Value::Int16(3), Value::Int32(i32::MAX)])
            .collect();
        let floats = [
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            1e-300,
            2.5,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ]
        .into_iter()
        .map(Value::Float64)
        .chain([Value::Float32(2.5), Value::Float32(-0.0)])
        .collect();
        let texts = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "abcdefgh",
            "abcdefghi",
            "abcdefgi",
            "é",
            "ÿ",
        ]
        .into_iter()
        .map(|s| Value::Text(s.into()))
        .collect();
        vec![ints, floats, texts]
    }

    #[test]
    fn prefixes_never_contradict_the_full_comparison() {
        for descending in [false, true] {
            for nulls_first in [false, true] {
                let abbreviation = Abbreviation {
                    first: KeyOrder {
                        nulls_first,
                        descending,
                    },
                    second: None,
                };
                let key = SortKey {
                    expr: crate::planner::Expr::Constant(Value::Null),
                    descending,
                    nulls_first,
                };
                for mut values in samples() {
                    values.push(Value::Null);
                    let keys: Vec<Vec<Value>> = values.iter().map(|v| vec![v.clone()]).collect();
                    let prefixes = abbreviation
                        .prefixes(&keys, Vec::as_slice)
                        .expect("one kind abbreviates");
                    for (a, pa) in keys.iter().zip(&prefixes) {
                        for (b, pb) in keys.iter().zip(&prefixes) {
                            let full = compare_keys(a, b, std::slice::from_ref(&key), &mut None);
                            if pa < pb {
                                assert_eq!(full, Ordering::Less, "{a:?} {b:?} {abbreviation:?}");
                            }
                            if full == Ordering::Less {
                                assert!(pa <= pb, "{a:?} {b:?} {abbreviation:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// With two keys, the pair of prefixes never contradicts the full comparison either:
    /// whether the first column is exact (integers) or not (text, or integers with a NULL),
    /// whatever the second holds, in every direction.
    #[test]
    fn two_key_prefixes_never_contradict_the_full_comparison() {
        let ints: Vec<Value> = [i64::MIN, -1, 0, 0, 7, 7, i64::MAX]
            .into_iter()
            .map(Value::Int64)
            .collect();
        let texts: Vec<Value> = ["a", "abcdefgh", "abcdefghi", "abcdefghi"]
            .into_iter()
            .map(|s| Value::Text(s.into()))
            .collect();
        let mut with_null = ints.clone();
        with_null.push(Value::Null);
        let mut exact_seen = false;
        for firsts in [ints, texts, with_null] {
            for mut seconds in samples() {
                seconds.push(Value::Null);
                let keys: Vec<Vec<Value>> = firsts
                    .iter()
                    .flat_map(|a| seconds.iter().map(|b| vec![a.clone(), b.clone()]))
                    .collect();
                for flags in 0..16u8 {
                    let order = |shift: u8| KeyOrder {
                        nulls_first: flags >> shift & 1 == 1,
                        descending: flags >> (shift + 1) & 1 == 1,
                    };
                    let abbreviation = Abbreviation {
                        first: order(0),
                        second: Some(order(2)),
                    };
                    let sort_keys: Vec<SortKey> = [order(0), order(2)]
                        .into_iter()
                        .map(|o| SortKey {
                            expr: crate::planner::Expr::Constant(Value::Null),
                            descending: o.descending,
                            nulls_first: o.nulls_first,
                        })
                        .collect();
                    let prefixes = abbreviation.prefixes(&keys, Vec::as_slice).unwrap();
                    exact_seen |= prefixes.iter().any(|p| p.1 != 0);
                    for (a, pa) in keys.iter().zip(&prefixes) {
                        for (b, pb) in keys.iter().zip(&prefixes) {
                            let full = compare_keys(a, b, &sort_keys, &mut None);
                            if pa < pb {
                                assert_eq!(full, Ordering::Less, "{a:?} {b:?} {abbreviation:?}");
                            }
                            if full == Ordering::Less {
                                assert!(pa <= pb, "{a:?} {b:?} {abbreviation:?}");
                            }
                        }
                    }
                }
            }
        }
        assert!(
            exact_seen,
            "integer first keys abbreviate the second key too"
        );
    }

    #[test]
    fn mixed_or_unabbreviated_kinds_are_not_abbreviated() {
        let abbreviation = Abbreviation {
            first: KeyOrder {
                nulls_first: false,
                descending: false,
            },
            second: None,
        };
        let keys = [vec![Value::Int32(1)], vec![Value::Float64(0.5)]];
        assert_eq!(abbreviation.prefixes(&keys, Vec::as_slice), None);
        let keys = [vec![Value::Numeric(zizhu_types::Numeric::NaN)]];
        assert_eq!(abbreviation.prefixes(&keys, Vec::as_slice), None);
        let keys = [vec![Value::Null], vec![Value::Int64(4)]];
        assert_eq!(
            abbreviation.prefixes(&keys, Vec::as_slice),
            Some(vec![(u64::MAX, 0), (4 ^ (1 << 63), 0)])
        );
    }

    #[test]
    fn column_keys_leave_the_row_and_come_back_in_place() {
        let key = |index: usize| SortKey {
            expr: crate::planner::Expr::Column {
                index,
                name: format!("c{index}").into(),
            },
            descending: false,
            nulls_first: false,
        };
        let row = || (0..5).map(Value::Int64).collect::<Vec<_>>();
        for columns in [
            vec![3, 0],
            vec![4],
            vec![0, 1, 2, 3, 4],
            vec![2, 4, 1],
            vec![0, 1],
        ] {
            let keys: Vec<SortKey> = columns.iter().map(|&c| key(c)).collect();
            let split = ColumnKeys::of(&keys).expect("columns");
            let mut rest = row();
            let taken = split.take(&mut rest).unwrap();
            let expected: Vec<Value> = columns.iter().map(|&c| Value::Int64(c as i64)).collect();
            assert_eq!(taken, expected);
            assert_eq!(rest.len(), 5 - columns.len());
            assert_eq!(split.restore(taken, rest), row(), "{columns:?}");
        }
        assert!(
            ColumnKeys::of(&[key(1), key(1)]).is_none(),
            "a repeated column is copied"
        );
    }
}
