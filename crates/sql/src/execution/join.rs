//! Joins that hold one side (the hash join, and the RIGHT/FULL nested loop), and the merge
//! join, which holds one run of equal keys.

use std::cell::OnceCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::rc::Rc;

use zizhu_types::{Interval, Numeric, Value};

use super::query::{join_row, passes, rows, Rows};
use super::spill::{Partitions, SpillFile, SpilledRows, MAX_LEVEL};
use super::{eval, Env};
use crate::planner::{Expr, JoinKind, Node};
use crate::Result;

/// What [`hash_key`] made of a row's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HashKey {
    /// A value is NULL: the row matches nothing.
    Null,
    /// Equal keys exactly when SQL `=` holds for every value.
    Exact,
    /// SQL `=` implies equal keys, not the reverse (a fractional numeric, keyed by its nearest
    /// double so that it meets an equal `float8`): pairs must be checked by the condition.
    Lossy,
}

/// Writes a row's hash-join key (the values of its key expressions) into `out`, so that values SQL
/// calls equal get equal keys whatever their types: numbers that are integers are keyed as
/// `bigint` (so `3 = 3.0::float8 = 3.00::numeric`), other floats as `double precision`
/// (NaN = NaN, as in PostgreSQL), other numerics as their nearest double ([`HashKey::Lossy`]);
/// dates and timestamps as microseconds; intervals by span (`1 day = 24 hours`). Text,
/// boolean, bytea, uuid and time use their key encoding.
fn hash_key<'v>(values: impl Iterator<Item = &'v Value>, out: &mut Vec<u8>) -> HashKey {
    use bigdecimal::num_traits::ToPrimitive;
    use zizhu_keycode::encode_value;
    const INSTANT: u8 = 0xE0;
    const SPAN: u8 = 0xE1;
    let column = zizhu_keycode::KeyColumn::ASC;
    let float = |out: &mut Vec<u8>, f: f64| {
        if f.fract() == 0.0 && f.abs() < 9.0e18 {
            encode_value(out, &Value::Int64(f as i64), column)
        } else if f.is_nan() {
            encode_value(out, &Value::Float64(f64::NAN), column)
        } else {
            encode_value(out, &Value::Float64(f), column)
        }
    };
    let mut kind = HashKey::Exact;
    out.clear();
    for value in values {
        match value {
            Value::Null => return HashKey::Null,
            Value::Int16(i) => encode_value(out, &Value::Int64(i64::from(*i)), column),
            Value::Int32(i) => encode_value(out, &Value::Int64(i64::from(*i)), column),
            v @ Value::Int64(_) => encode_value(out, v, column),
            Value::Float32(f) => float(out, f64::from(*f)),
            Value::Float64(f) => float(out, *f),
            Value::Numeric(n) => match n {
                Numeric::Finite(d) => match d.is_integer().then(|| d.to_i64()).flatten() {
                    Some(i) => encode_value(out, &Value::Int64(i), column),
                    None => {
                        kind = HashKey::Lossy;
                        float(out, d.to_f64().unwrap_or(f64::NAN))
                    }
                },
                Numeric::NaN => float(out, f64::NAN),
                Numeric::Infinity => float(out, f64::INFINITY),
                Numeric::NegInfinity => float(out, f64::NEG_INFINITY),
            },
            Value::Date(d) => {
                let micros = match d.0 {
                    i32::MAX => i64::MAX as i128,
                    i32::MIN => i64::MIN as i128,
                    days => days as i128 * Interval::MICROS_PER_DAY,
                };
                out.push(INSTANT);
                out.extend(micros.to_be_bytes());
            }
            Value::Timestamp(t) | Value::TimestampTz(t) => {
                out.push(INSTANT);
                out.extend((t.0 as i128).to_be_bytes());
            }
            Value::Interval(i) => {
                out.push(SPAN);
                out.extend(i.span().to_be_bytes());
            }
            v @ (Value::Text(_)
            | Value::Bool(_)
            | Value::Bytes(_)
            | Value::Uuid(_)
            | Value::Time(_)) => encode_value(out, v, column),
        }
    }
    kind
}

/// The conjuncts of a join condition other than the equalities a hash join keys on.
fn residual(predicate: &Expr, left_width: usize) -> Option<Expr> {
    predicate
        .conjuncts()
        .filter(|c| c.join_key(left_width).is_none())
        .cloned()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

/// An inner or left hash join. Right rows with a NULL key can never meet the condition and
/// are dropped. A pair found through the hash table meets the key equalities (unless a key
/// was [`HashKey::Lossy`]), so only the rest of the condition is evaluated for it.
///
/// The right side is held in memory up to `work_mem`. Past it, the join becomes a Grace hash
/// join: both sides are split by a hash of the key into partitions, and each pair of
/// partitions is joined in memory in turn (split again if still too large). Output is
/// streamed, one left row's matches at a time; it follows the left side's order only when
/// nothing spilled.
#[inline(never)] // Keeps its locals out of the recursive `node_rows` frame.
pub(super) fn hash_join<'a>(
    left: &'a Node,
    right: &'a Node,
    keys: &'a [(Expr, Expr)],
    predicate: &'a Expr,
    kind: JoinKind,
    right_width: usize,
    env: &'a Env<'a>,
) -> Result<Rows<'a>> {
    let join = Rc::new(Join {
        keys,
        predicate,
        kind,
        right_width,
        rest: OnceCell::new(),
        env,
    });
    let budget = &env.cache.budget;
    let mut inner = Build::default();
    let mut partitions: Option<Partitions> = None;
    let mut key = Vec::new();
    for r in rows(right, env)? {
        let r = r?;
        let kind = join.right_key(&r, &mut key)?;
        if kind == HashKey::Null {
            continue;
        }
        match &mut partitions {
            Some(partitions) => partitions.push(&key, &r)?,
            None => {
                inner.push(&key, kind, &r);
                if inner.bytes() > budget.hash_bytes {
                    let mut split = Partitions::new(budget, 0)?;
                    inner.spill_into(&mut split)?;
                    inner = Build::default();
                    partitions = Some(split);
                }
            }
        }
    }
    let Some(right_parts) = partitions else {
        let table = Table::build(inner);
        let left = rows(left, env)?;
        return Ok(Box::new(left.flat_map(move |l| join.probe_one(&table, l))));
    };
    // Partition the left side the same way. NULL keys can match nothing: a LEFT join keeps
    // those rows, padded, after the partitions.
    let mut left_parts = Partitions::new(budget, 0)?;
    let mut unmatchable = SpillFile::create(budget)?;
    for l in rows(left, env)? {
        let l = l?;
        match join.left_key(&l, &mut key)? {
            HashKey::Null if kind.keeps_left() => unmatchable.push(&l)?,
            HashKey::Null => {}
            HashKey::Exact | HashKey::Lossy => left_parts.push(&key, &l)?,
        }
    }
    let unmatchable = unmatchable.finish()?;
    let pairs = right_parts.finish()?.into_iter().zip(left_parts.finish()?);
    let matched = {
        let join = join.clone();
        pairs.flat_map(move |(right, left)| {
            join.clone()
                .partition(right, left, 1)
                .unwrap_or_else(|e| Box::new(std::iter::once(Err(e))))
        })
    };
    let padded = match unmatchable.read() {
        Ok(rows) => Box::new(rows.map(move |l| l.map(|l| join.pad(l)))) as Rows<'a>,
        Err(e) => Box::new(std::iter::once(Err(e))),
    };
    Ok(Box::new(matched.chain(padded)))
}

/// A hash join's right side built into a table in memory, to be probed by several threads
/// ([`probe_rows`]; a parallel aggregate's participants), or `None` if it outgrows
/// `hash_mem`: the join must then run as [`hash_join`], which spills.
pub(super) fn build_shared(
    right: &Node,
    keys: &[(Expr, Expr)],
    predicate: &Expr,
    env: &Env<'_>,
) -> Result<Option<Table>> {
    let join = Join {
        keys,
        predicate,
        kind: JoinKind::Inner,
        right_width: 0,
        rest: OnceCell::new(),
        env,
    };
    let mut inner = Build::default();
    let mut key = Vec::new();
    for r in rows(right, env)? {
        let r = r?;
        let kind = join.right_key(&r, &mut key)?;
        if kind == HashKey::Null {
            continue;
        }
        inner.push(&key, kind, &r);
        if inner.bytes() > env.cache.budget.hash_bytes {
            return Ok(None);
        }
    }
    Ok(Some(Table::build(inner)))
}

/// The joined rows of each of `left` with `table`'s (built by [`build_shared`]).
pub(super) fn probe_rows<'a>(
    left: Rows<'a>,
    table: &'a Table,
    keys: &'a [(Expr, Expr)],
    predicate: &'a Expr,
    kind: JoinKind,
    right_width: usize,
    env: &'a Env<'a>,
) -> Rows<'a> {
    let join = Join {
        keys,
        predicate,
        kind,
        right_width,
        rest: OnceCell::new(),
        env,
    };
    Box::new(left.flat_map(move |l| join.probe_one(table, l)))
}

/// What a hash join needs while probing.
struct Join<'a> {
    keys: &'a [(Expr, Expr)],
    predicate: &'a Expr,
    kind: JoinKind,
    right_width: usize,
    /// The condition less the hashed equalities, known once a left row gives the width.
    rest: OnceCell<Option<Expr>>,
    env: &'a Env<'a>,
}

/// A join's right rows as they arrive, encoded end to end in their stored form with their
/// keys: a row costs its encoded size and a few indexes, not a `Vec` of 32-byte values, so
/// `hash_mem` holds two to three times more rows before the join spills (PostgreSQL's hash
/// table likewise holds minimal tuples).
#[derive(Default)]
struct Build {
    rows: Vec<u8>,
    row_ends: Vec<usize>,
    /// The rows' keys end to end, and where each ends: held inline, so a probe follows no
    /// pointer to compare keys.
    keys: Vec<u8>,
    key_ends: Vec<usize>,
    /// Rows whose key is [`HashKey::Lossy`] (empty if none is).
    lossy: Vec<bool>,
}

/// What a row costs beyond its encoded bytes and key: its two ends, its link, and its share
/// of the table of chain heads (a hash and an index, with the map's spare room).
const ROW_OVERHEAD: usize = 3 * std::mem::size_of::<usize>() + 24;

impl Build {
    fn push(&mut self, key: &[u8], kind: HashKey, row: &[Value]) {
        if kind == HashKey::Lossy {
            self.lossy.resize(self.row_ends.len() + 1, false);
            self.lossy[self.row_ends.len()] = true;
        }
        crate::row::encode_into(row, &mut self.rows);
        self.row_ends.push(self.rows.len());
        self.keys.extend_from_slice(key);
        self.key_ends.push(self.keys.len());
    }

    fn len(&self) -> usize {
        self.row_ends.len()
    }

    /// The memory the rows take, counted against `hash_mem`.
    /// Counted by length, as PostgreSQL counts tuple space: the buffers' spare room while they
    /// grow by doubling is given back when the table is built ([`Table::build`]).
    fn bytes(&self) -> usize {
        self.rows.len() + self.keys.len() + self.len() * ROW_OVERHEAD
    }

    fn key(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.key_ends[p]);
        &self.keys[start..self.key_ends[i]]
    }

    /// Appends row `i`'s values to `out`.
    fn row_into(&self, i: usize, out: &mut Vec<Value>) -> Result<()> {
        let start = i.checked_sub(1).map_or(0, |p| self.row_ends[p]);
        crate::row::decode_into(&self.rows[start..self.row_ends[i]], None, out)
    }

    /// Moves every row into partitions, when they outgrow `hash_mem`.
    fn spill_into(&self, partitions: &mut Partitions) -> Result<()> {
        let mut row = Vec::new();
        for i in 0..self.len() {
            row.clear();
            self.row_into(i, &mut row)?;
            partitions.push(self.key(i), &row)?;
        }
        Ok(())
    }
}

/// The hash table over a join's right rows.
pub(super) struct Table {
    rows: Build,
    /// Each key hash's first row, and each row's next row with the same key hash: one entry
    /// per distinct key rather than a list per key. Rows on a chain are checked for their
    /// key, as different keys may (rarely) share a hash.
    heads: HashMap<u64, usize, BuildHasherDefault<Prehashed>>,
    next: Vec<usize>,
}

const END: usize = usize::MAX;

/// The hash of a key's bytes (fixed within the process, as probes and builds must agree).
fn key_hash(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5A17_2E5E_ED00_0001).hash_one(key)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with it; fold anything else in anyway.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

impl Table {
    /// Builds the table over right rows whose keys are not NULL.
    fn build(mut rows: Build) -> Self {
        rows.rows.shrink_to_fit();
        rows.keys.shrink_to_fit();
        rows.row_ends.shrink_to_fit();
        rows.key_ends.shrink_to_fit();
        let n = rows.len();
        let mut heads = HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default());
        let mut next = vec![END; n];
        // Linked from the end, so each chain lists its rows in their order.
        for i in (0..n).rev() {
            match heads.entry(key_hash(rows.key(i))) {
                Entry::Occupied(mut head) => next[i] = std::mem::replace(head.get_mut(), i),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        Self { rows, heads, next }
    }
}

impl<'a> Join<'a> {
    fn left_key(&self, row: &[Value], out: &mut Vec<u8>) -> Result<HashKey> {
        self.key(self.keys.iter().map(|(l, _)| l), row, out)
    }

    fn right_key(&self, row: &[Value], out: &mut Vec<u8>) -> Result<HashKey> {
        self.key(self.keys.iter().map(|(_, r)| r), row, out)
    }

    fn key<'e>(
        &self,
        exprs: impl Iterator<Item = &'e Expr> + Clone,
        row: &[Value],
        out: &mut Vec<u8>,
    ) -> Result<HashKey> {
        // Plain columns (the usual join keys) are keyed where they are, without copies.
        let column = |e: &Expr| match e {
            Expr::Column { index, .. } => row.get(*index),
            _ => None,
        };
        if exprs.clone().all(|e| column(e).is_some()) {
            return Ok(hash_key(exprs.filter_map(column), out));
        }
        let mut values = Vec::with_capacity(self.keys.len());
        for e in exprs {
            values.push(match e {
                Expr::Column { index, .. } => row[*index].clone(),
                e => eval(e, row, self.env)?,
            });
        }
        Ok(hash_key(values.iter(), out))
    }

    /// A left row with NULLs for the right side.
    fn pad(&self, mut l: Vec<Value>) -> Vec<Value> {
        l.extend(std::iter::repeat_n(Value::Null, self.right_width));
        l
    }

    /// Joins `right` with `left` (a pair of partitions at `level`), in memory if the right
    /// one fits, else by splitting both again with the hash seeded by `level`.
    fn partition(
        self: Rc<Self>,
        right: SpilledRows,
        left: SpilledRows,
        level: u64,
    ) -> Result<Rows<'a>> {
        if left.is_empty() {
            return Ok(Box::new(std::iter::empty()));
        }
        let budget = &self.env.cache.budget;
        let mut inner = Build::default();
        let mut key = Vec::new();
        let mut reader = right.read()?;
        for r in reader.by_ref() {
            let r = r?;
            let kind = self.right_key(&r, &mut key)?;
            inner.push(&key, kind, &r);
            if inner.bytes() > budget.hash_bytes && level < MAX_LEVEL {
                break;
            }
        }
        if inner.bytes() > budget.hash_bytes && level < MAX_LEVEL {
            let mut rights = Partitions::new(budget, level)?;
            inner.spill_into(&mut rights)?;
            drop(inner);
            for r in reader {
                let r = r?;
                self.right_key(&r, &mut key)?;
                rights.push(&key, &r)?;
            }
            let mut lefts = Partitions::new(budget, level)?;
            for l in left.read()? {
                let l = l?;
                self.left_key(&l, &mut key)?;
                lefts.push(&key, &l)?;
            }
            let pairs = rights.finish()?.into_iter().zip(lefts.finish()?);
            return Ok(Box::new(pairs.flat_map(move |(r, l)| {
                self.clone()
                    .partition(r, l, level + 1)
                    .unwrap_or_else(|e| Box::new(std::iter::once(Err(e))))
            })));
        }
        let table = Table::build(inner);
        Ok(Box::new(
            left.read()?.flat_map(move |l| self.probe_one(&table, l)),
        ))
    }

    /// [`Join::probe`] for one row of a stream.
    fn probe_one(&self, table: &Table, l: Result<Vec<Value>>) -> Vec<Result<Vec<Value>>> {
        let mut out = Vec::new();
        match l.and_then(|l| self.probe(table, l, &mut out)) {
            Ok(()) => out.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        }
    }

    /// The joined rows of one left row (padded if a LEFT join finds none).
    fn probe(&self, table: &Table, l: Vec<Value>, out: &mut Vec<Vec<Value>>) -> Result<()> {
        let rest = self.rest.get_or_init(|| residual(self.predicate, l.len()));
        let mut key = Vec::new();
        let left_kind = self.left_key(&l, &mut key)?;
        let mut any = false;
        if left_kind != HashKey::Null {
            let mut c = table.heads.get(&key_hash(&key)).copied().unwrap_or(END);
            while c != END {
                if table.rows.key(c) != key.as_slice() {
                    c = table.next[c];
                    continue;
                }
                let exact = left_kind == HashKey::Exact
                    && !table.rows.lossy.get(c).copied().unwrap_or(false);
                let check = if exact {
                    rest.as_ref()
                } else {
                    Some(self.predicate)
                };
                let mut joined = Vec::with_capacity(l.len() + self.right_width);
                joined.extend(l.iter().cloned());
                table.rows.row_into(c, &mut joined)?;
                if check
                    .map(|p| eval(p, &joined, self.env))
                    .transpose()?
                    .is_none_or(|v| passes(&v))
                {
                    any = true;
                    out.push(joined);
                }
                c = table.next[c];
            }
        }
        if !any && self.kind.keeps_left() {
            out.push(self.pad(l));
        }
        Ok(())
    }
}

/// A RIGHT or FULL join: right rows no left row matched follow, padded with NULLs on the left.
/// Materialized, since the unmatched right rows are known only once the left side is done.
pub(super) fn right_outer_join(
    left: &Node,
    right: &Node,
    predicate: Option<&Expr>,
    kind: JoinKind,
    left_width: usize,
    right_width: usize,
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    let inner = rows(right, env)?.collect::<Result<Vec<_>>>()?;
    let mut matched = vec![false; inner.len()];
    let mut out = Vec::new();
    for l in rows(left, env)? {
        let l = l?;
        let mut any = false;
        for (r, seen) in inner.iter().zip(matched.iter_mut()) {
            let mut joined = l.clone();
            joined.extend(r.iter().cloned());
            if predicate
                .map(|p| eval(p, &joined, env))
                .transpose()?
                .is_none_or(|v| passes(&v))
            {
                *seen = true;
                any = true;
                out.push(joined);
            }
        }
        if !any && kind.keeps_left() {
            let mut padded = l;
            padded.extend(std::iter::repeat_n(Value::Null, right_width));
            out.push(padded);
        }
    }
    for (r, seen) in inner.into_iter().zip(matched) {
        if !seen {
            let mut padded = vec![Value::Null; left_width];
            padded.extend(r);
            out.push(padded);
        }
    }
    Ok(out)
}

/// A merge join: both inputs arrive sorted by their key column (a table scan in primary-key
/// order, or an index scan), so each left row meets the run of right rows with its key, read
/// once and kept only while the key repeats. NULL keys match nothing. The whole condition is
/// checked on every pair.
pub(super) fn merge_join<'a>(
    left: &'a Node,
    right: &'a Node,
    (left_key, right_key): (usize, usize),
    predicate: &'a Expr,
    kind: JoinKind,
    right_width: usize,
    env: &'a Env<'a>,
) -> Result<Rows<'a>> {
    let key = |row: &[Value], column: usize| -> Option<Vec<u8>> {
        match row.get(column) {
            None | Some(Value::Null) => None,
            Some(v) => Some(zizhu_keycode::encode_tuple(std::slice::from_ref(v))),
        }
    };
    let mut right_rows = rows(right, env)?.peekable();
    // The current run of right rows: their key, and the rows.
    let mut run: Option<(Vec<u8>, Vec<Vec<Value>>)> = None;
    let left_rows = rows(left, env)?;
    Ok(Box::new(left_rows.flat_map(move |l| {
        let l = match l.and_then(|l| env.cache.check_interrupt().map(|()| l)) {
            Ok(l) => l,
            Err(e) => return vec![Err(e)],
        };
        let Some(k) = key(&l, left_key) else {
            return join_row(l, &[], Some(predicate), kind, right_width, env);
        };
        if run.as_ref().is_none_or(|(rk, _)| *rk != k) {
            // Skip right rows below the key, then take the run equal to it.
            let mut rows_of_key = Vec::new();
            while let Some(next) = right_rows.peek() {
                let r = match next {
                    Ok(r) => r,
                    Err(_) => match right_rows.next() {
                        Some(Err(e)) => return vec![Err(e)],
                        _ => break,
                    },
                };
                match key(r, right_key) {
                    None => {
                        right_rows.next();
                    }
                    Some(rk) if rk < k => {
                        right_rows.next();
                    }
                    Some(rk) if rk == k => {
                        if let Some(Ok(r)) = right_rows.next() {
                            rows_of_key.push(r);
                        }
                    }
                    Some(_) => break,
                }
            }
            run = Some((k, rows_of_key));
        }
        let matches = run.as_ref().map_or(&[][..], |(_, rows)| rows.as_slice());
        join_row(l, matches, Some(predicate), kind, right_width, env)
    })))
}
