//! Query operators: each plan node becomes an iterator of rows.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use zizhu_engine::Direction;
use zizhu_types::{Numeric, Value};

use super::{eval, Env};
use crate::keys::Key;
use crate::planner::{
    Aggregate, CompareOp, Expr, FrameBound, JoinKind, Node, SetOp, SortKey, Statistic, WindowFunc,
    WindowFunction,
};
use crate::types::{ops, DataType};
use crate::{errinput, errinternal, row, types, Result};
use zizhu_types::BigDecimal;

/// A stream of rows.
pub type Rows<'a> = Box<dyn Iterator<Item = Result<Vec<Value>>> + 'a>;

/// Whether a predicate's value lets a row through (only TRUE does; NULL does not).
pub(crate) fn passes(value: &Value) -> bool {
    matches!(value, Value::Bool(true))
}

/// The rows a node produces.
pub fn rows<'a>(node: &'a Node, env: &'a Env<'a>) -> Result<Rows<'a>> {
    let Some(stats) = &env.cache.stats else {
        return node_rows(node, env);
    };
    // EXPLAIN ANALYZE: time the node's setup (sorts and joins do their work here) and every
    // row it yields, counting the rows.
    let key = node as *const Node as usize;
    let started = std::time::Instant::now();
    let mut inner = node_rows(node, env)?;
    {
        let mut stats = stats.borrow_mut();
        let entry = stats.entry(key).or_default();
        entry.time += started.elapsed();
        entry.loops += 1;
    }
    Ok(Box::new(std::iter::from_fn(move || {
        let started = std::time::Instant::now();
        let next = inner.next();
        let mut stats = stats.borrow_mut();
        let entry = stats.entry(key).or_default();
        entry.time += started.elapsed();
        if matches!(next, Some(Ok(_))) {
            entry.rows += 1;
        }
        next
    })))
}

/// The rows of a node, uninstrumented.
fn node_rows<'a>(node: &'a Node, env: &'a Env<'a>) -> Result<Rows<'a>> {
    Ok(match node {
        Node::Nothing => Box::new(std::iter::once(Ok(vec![]))),
        Node::Scan { .. } | Node::KeyLookup { .. } | Node::IndexScan { .. } => {
            Box::new(fetch(node, env)?.map(|r| r.map(|(_, row)| row)))
        }
        Node::Values { rows } => Box::new(rows.iter().map(|row| {
            row.iter()
                .map(|e| eval(e, &[], env))
                .collect::<Result<Vec<_>>>()
        })),
        Node::Filter { source, predicate } => {
            Box::new(rows(source, env)?.filter_map(move |r| match r {
                Ok(row) => match eval(predicate, &row, env) {
                    Ok(v) if passes(&v) => Some(Ok(row)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                },
                Err(e) => Some(Err(e)),
            }))
        }
        Node::Project { source, exprs } => Box::new(
            rows(source, env)?
                .map(move |r| r.and_then(|row| exprs.iter().map(|e| eval(e, &row, env)).collect())),
        ),
        Node::Limit {
            source,
            limit,
            offset,
        } => {
            // ORDER BY ... LIMIT: a top-N sort keeps only the rows the limit can reach.
            if let (order @ Node::Order { source, keys }, Some(n)) = (source.as_ref(), limit) {
                let started = std::time::Instant::now();
                let wanted = n.saturating_add(*offset) as usize;
                let top = sort_top(rows(source, env)?, keys, Some(wanted), env)?;
                // The Order node ran inside this one: account for it under EXPLAIN ANALYZE.
                if let Some(stats) = &env.cache.stats {
                    let mut stats = stats.borrow_mut();
                    let entry = stats.entry(order as *const Node as usize).or_default();
                    entry.time += started.elapsed();
                    entry.loops += 1;
                    entry.rows += top.len() as u64;
                }
                return Ok(Box::new(top.into_iter().skip(*offset as usize).map(Ok)));
            }
            let source = rows(source, env)?.skip(*offset as usize);
            match limit {
                Some(n) => Box::new(source.take(*n as usize)),
                None => Box::new(source),
            }
        }
        Node::Distinct { source } => {
            let mut seen = BTreeSet::new();
            Box::new(rows(source, env)?.filter(move |r| match r {
                Ok(row) => seen.insert(zizhu_keycode::encode_tuple(row)),
                Err(_) => true,
            }))
        }
        Node::Order { source, keys } => {
            let input = rows(source, env)?.collect::<Result<Vec<_>>>()?;
            Box::new(sort(input, keys, env)?.into_iter().map(Ok))
        }
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => Box::new(
            aggregate(rows(source, env)?, group_by, aggregates, env)?
                .into_iter()
                .map(Ok),
        ),
        Node::GenerateSeries { start, stop, step } => {
            let (start, stop) = (eval(start, &[], env)?, eval(stop, &[], env)?);
            let step = match step {
                Some(step) => eval(step, &[], env)?,
                None => Value::Int32(1),
            };
            if start.is_null() || stop.is_null() || step.is_null() {
                return Ok(Box::new(std::iter::empty()));
            }
            // The step's sign decides the direction; an interval's is its span's.
            let sign = match &step {
                Value::Interval(i) => i.span().cmp(&0),
                other => ops::compare(other, &Value::Int32(0))?.unwrap_or(Ordering::Equal),
            };
            if sign == Ordering::Equal {
                return Err(errinput!(
                    InvalidParameterValue,
                    "step size cannot equal zero"
                ));
            }
            let mut next = Some(start);
            Box::new(std::iter::from_fn(move || {
                let current = next.take()?;
                match ops::compare(&current, &stop) {
                    Ok(Some(order)) if order == sign.reverse() || order == Ordering::Equal => {}
                    Ok(_) => return None,
                    Err(e) => return Some(Err(e)),
                }
                match ops::add(&current, &step) {
                    Ok(v) => next = Some(v),
                    // Past the type's range: this value was the last.
                    Err(_) => next = None,
                }
                Some(Ok(vec![current]))
            }))
        }
        Node::DistinctOn { source, columns } => {
            let mut seen = BTreeSet::new();
            Box::new(rows(source, env)?.filter(move |r| match r {
                Ok(row) => {
                    let key: Vec<Value> = columns.iter().map(|&i| row[i].clone()).collect();
                    seen.insert(zizhu_keycode::encode_tuple(&key))
                }
                Err(_) => true,
            }))
        }
        Node::Window { source, functions } => {
            let input = rows(source, env)?.collect::<Result<Vec<_>>>()?;
            let mut extra: Vec<Vec<Value>> = vec![Vec::with_capacity(functions.len()); input.len()];
            for function in functions {
                for (i, value) in window(&input, function, env)? {
                    extra[i].push(value);
                }
                // Each function pushed exactly one value per row, in row order after sorting by i.
            }
            Box::new(input.into_iter().zip(extra).map(|(mut row, values)| {
                row.extend(values);
                Ok(row)
            }))
        }
        Node::LockRows {
            access,
            filter,
            project,
            order,
            mode,
            wait,
        } => {
            let project_row = move |base: &[Value]| -> Result<Vec<Value>> {
                project.iter().map(|e| eval(e, base, env)).collect()
            };
            // Candidates at the snapshot, each output row carrying its storage key last.
            let mut candidates = Vec::new();
            for item in fetch(access, env)? {
                let (key, base) = item?;
                let mut row = project_row(&base)?;
                row.push(Value::Bytes(key));
                candidates.push(row);
            }
            let candidates = if order.is_empty() {
                candidates
            } else {
                sort(candidates, order, env)?
            };
            Box::new(candidates.into_iter().filter_map(move |mut row| {
                let Some(Value::Bytes(key)) = row.pop() else {
                    return Some(Err(crate::errinternal!("locked row without its key")));
                };
                match env.reader.lock_row(&key, *mode, *wait) {
                    Ok(None) => None,
                    Ok(Some(lock)) if !lock.changed => Some(Ok(row)),
                    // READ COMMITTED: the row changed after the snapshot; act on its newest
                    // version if it still qualifies (REPEATABLE READ failed in lock_row).
                    Ok(Some(lock)) => {
                        let newest = match lock.current.map(|b| row::decode(&b)).transpose() {
                            Ok(Some(newest)) => newest,
                            Ok(None) => return None,
                            Err(e) => return Some(Err(e)),
                        };
                        match filter.as_ref().map(|f| eval(f, &newest, env)).transpose() {
                            Ok(Some(v)) if !passes(&v) => None,
                            Ok(_) => Some(project_row(&newest)),
                            Err(e) => Some(Err(e)),
                        }
                    }
                    Err(e) => Some(Err(e)),
                }
            }))
        }
        Node::WorkTable { id } => {
            let rows = env.cache.work.borrow().get(id).cloned().unwrap_or_default();
            Box::new((0..rows.len()).map(move |i| Ok(rows[i].clone())))
        }
        Node::RecursiveCte {
            id,
            anchor,
            recursive,
            distinct,
        } => {
            let key = |row: &[Value]| zizhu_keycode::encode_tuple(row);
            let mut seen = BTreeSet::new();
            let mut working = rows(anchor, env)?.collect::<Result<Vec<_>>>()?;
            if *distinct {
                working.retain(|r| seen.insert(key(r)));
            }
            let mut all = working.clone();
            while !working.is_empty() {
                env.cache.work.borrow_mut().insert(*id, Rc::new(working));
                let mut next = rows(recursive, env)?.collect::<Result<Vec<_>>>()?;
                if *distinct {
                    next.retain(|r| seen.insert(key(r)));
                }
                all.extend(next.iter().cloned());
                working = next;
            }
            env.cache.work.borrow_mut().remove(id);
            Box::new(all.into_iter().map(Ok))
        }
        Node::SetOperation {
            left,
            right,
            op,
            all,
        } => Box::new(
            set_operation(rows(left, env)?, rows(right, env)?, *op, *all)?
                .into_iter()
                .map(Ok),
        ),
        Node::HashJoin {
            left,
            right,
            keys,
            predicate,
            kind,
            right_width,
        } => Box::new(
            hash_join(left, right, keys, predicate, *kind, *right_width, env)?
                .into_iter()
                .map(Ok),
        ),
        Node::NestedLoopJoin {
            left,
            right,
            predicate,
            kind,
            left_width,
            right_width,
        } if kind.keeps_right() => Box::new(
            right_outer_join(
                left,
                right,
                predicate.as_ref(),
                *kind,
                *left_width,
                *right_width,
                env,
            )?
            .into_iter()
            .map(Ok),
        ),
        Node::NestedLoopJoin {
            left,
            right,
            predicate,
            kind,
            right_width,
            ..
        } => {
            let inner = rows(right, env)?.collect::<Result<Vec<_>>>()?;
            let (kind, width) = (*kind, *right_width);
            Box::new(rows(left, env)?.flat_map(move |l| {
                let l = match l {
                    Ok(l) => l,
                    Err(e) => return vec![Err(e)],
                };
                let mut out = Vec::new();
                for r in &inner {
                    let mut joined = l.clone();
                    joined.extend(r.iter().cloned());
                    match predicate.as_ref().map(|p| eval(p, &joined, env)) {
                        None => out.push(Ok(joined)),
                        Some(Ok(v)) if passes(&v) => out.push(Ok(joined)),
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return vec![Err(e)],
                    }
                }
                if out.is_empty() && kind.keeps_left() {
                    let mut padded = l;
                    padded.extend(std::iter::repeat_n(Value::Null, width));
                    out.push(Ok(padded));
                }
                out
            }))
        }
    })
}

/// Writes a row's hash-join key (the values at `columns`) into `out`: equal keys exactly when
/// SQL `=` holds for every value, for the types where the key encoding guarantees it (integers
/// and numerics, compared as numbers: an integral numeric is keyed as the integer; text,
/// boolean, bytea, uuid). Returns `Some(false)` if a value is NULL (the row can match nothing)
/// and `None` for other types (floats with their -0 and NaN, dates against timestamps,
/// intervals), whose rows are compared pair by pair instead.
fn hash_key(
    row: &[Value],
    columns: impl Iterator<Item = usize>,
    out: &mut Vec<u8>,
) -> Option<bool> {
    use bigdecimal::num_traits::ToPrimitive;
    out.clear();
    for c in columns {
        let v = &row[c];
        let int = match v {
            Value::Null => return Some(false),
            Value::Int16(i) => Some(i64::from(*i)),
            Value::Int32(i) => Some(i64::from(*i)),
            Value::Int64(i) => Some(*i),
            Value::Numeric(Numeric::Finite(d)) if d.is_integer() => d.to_i64(),
            Value::Numeric(_)
            | Value::Text(_)
            | Value::Bool(_)
            | Value::Bytes(_)
            | Value::Uuid(_) => None,
            _ => return None,
        };
        let column = zizhu_keycode::KeyColumn::ASC;
        match int {
            Some(i) => zizhu_keycode::encode_value(out, &Value::Int64(i), column),
            None => zizhu_keycode::encode_value(out, v, column),
        }
    }
    Some(true)
}

/// The conjuncts of a join condition other than the equalities a hash join's keys enforce.
fn residual(predicate: &Expr, keys: &[(usize, usize)], left_width: usize) -> Option<Expr> {
    match predicate {
        Expr::And(a, b) => match (residual(a, keys, left_width), residual(b, keys, left_width)) {
            (None, None) => None,
            (Some(x), None) | (None, Some(x)) => Some(x),
            (Some(x), Some(y)) => Some(Expr::And(Box::new(x), Box::new(y))),
        },
        Expr::Compare(CompareOp::Eq, a, b) => match (a.as_ref(), b.as_ref()) {
            (Expr::Column { index: i, .. }, Expr::Column { index: j, .. })
                if keys.iter().any(|&(l, r)| {
                    (*i, *j) == (l, r + left_width) || (*j, *i) == (l, r + left_width)
                }) =>
            {
                None
            }
            _ => Some(predicate.clone()),
        },
        other => Some(other.clone()),
    }
}

/// An inner or left hash join. Right rows with a NULL key can never meet the condition and
/// are dropped; rows whose key types cannot be hashed are kept aside and tried with every left
/// row, so the result is the nested loop's. A pair found through the hash table meets the key
/// equalities by construction, so only the rest of the condition is evaluated for it.
#[inline(never)] // Keeps its locals out of the recursive `node_rows` frame.
fn hash_join(
    left: &Node,
    right: &Node,
    keys: &[(usize, usize)],
    predicate: &Expr,
    kind: JoinKind,
    right_width: usize,
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    const END: usize = usize::MAX;
    let inner = rows(right, env)?.collect::<Result<Vec<_>>>()?;
    // Each key's first row, and each row's next row with the same key: one allocation per
    // distinct key rather than a list per key.
    let mut heads: std::collections::HashMap<Vec<u8>, usize> =
        std::collections::HashMap::with_capacity(inner.len());
    let mut next = vec![END; inner.len()];
    let mut unhashed = Vec::new();
    let mut key = Vec::new();
    for (i, r) in inner.iter().enumerate().rev() {
        match hash_key(r, keys.iter().map(|&(_, j)| j), &mut key) {
            Some(true) => {
                if let Some(head) = heads.get_mut(key.as_slice()) {
                    next[i] = std::mem::replace(head, i);
                } else {
                    heads.insert(key.clone(), i);
                }
            }
            Some(false) => {}
            None => unhashed.push(i),
        }
    }
    unhashed.reverse();
    let mut out = Vec::new();
    let mut left_width = None;
    let mut rest: Option<Option<Expr>> = None;
    for l in rows(left, env)? {
        let l = l?;
        let width = *left_width.get_or_insert(l.len());
        let rest = rest.get_or_insert_with(|| residual(predicate, keys, width));
        let mut any = false;
        let mut try_pair =
            |c: usize, check: Option<&Expr>, out: &mut Vec<Vec<Value>>| -> Result<()> {
                let mut joined = Vec::with_capacity(l.len() + right_width);
                joined.extend(l.iter().cloned());
                joined.extend(inner[c].iter().cloned());
                if check
                    .map(|p| eval(p, &joined, env))
                    .transpose()?
                    .is_none_or(|v| passes(&v))
                {
                    any = true;
                    out.push(joined);
                }
                Ok(())
            };
        match hash_key(&l, keys.iter().map(|&(i, _)| i), &mut key) {
            Some(true) => {
                let mut c = heads.get(key.as_slice()).copied().unwrap_or(END);
                while c != END {
                    try_pair(c, rest.as_ref(), &mut out)?;
                    c = next[c];
                }
                for &c in &unhashed {
                    try_pair(c, Some(predicate), &mut out)?;
                }
            }
            Some(false) => {}
            None => {
                for c in 0..inner.len() {
                    try_pair(c, Some(predicate), &mut out)?;
                }
            }
        }
        if !any && kind.keeps_left() {
            let mut padded = l;
            padded.extend(std::iter::repeat_n(Value::Null, right_width));
            out.push(padded);
        }
    }
    Ok(out)
}

/// A RIGHT or FULL join: right rows no left row matched follow, padded with NULLs on the left.
/// Materialized, since the unmatched right rows are known only once the left side is done.
fn right_outer_join(
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

/// Rows of a table with their keys, from a scan or lookup node, filtered.
pub(crate) fn fetch<'a>(node: &'a Node, env: &'a Env<'a>) -> Result<Keyed<'a>> {
    Ok(match node {
        Node::Scan { table, filter } => {
            let scan = env
                .reader
                .scan(Key::table_rows(table.id), Direction::Forward)?;
            Box::new(scan.filter_map(move |item| {
                let item = item.and_then(|(key, bytes)| Ok((key, row::decode(&bytes)?)));
                keep(filter, item, env)
            }))
        }
        Node::KeyLookup {
            table,
            keys,
            filter,
        } => Box::new(keys.iter().filter_map(move |pk| {
            let key = Key::Row(table.id, pk.clone()).encode();
            match env.reader.get(&key) {
                Ok(Some(bytes)) => keep(filter, row::decode(&bytes).map(|row| (key, row)), env),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            }
        })),
        Node::IndexScan {
            table,
            index,
            prefixes,
            lower,
            upper,
            backward,
            filter,
        } => {
            let direction = if *backward {
                Direction::Reverse
            } else {
                Direction::Forward
            };
            let ordered: Box<dyn Iterator<Item = &Vec<Value>>> = if *backward {
                Box::new(prefixes.iter().rev())
            } else {
                Box::new(prefixes.iter())
            };
            let table_id = table.id;
            let ranges = ordered.filter_map(move |prefix| match index {
                Some(index) => Key::index_span(index.id, prefix, lower, upper),
                None => Key::row_span(table_id, prefix, lower, upper),
            });
            let entries = ranges.flat_map(move |range| match env.reader.scan(range, direction) {
                Ok(scan) => scan,
                Err(e) => Box::new(std::iter::once(Err(e))),
            });
            let rows = entries.map(move |entry| {
                let (key, value) = entry?;
                let Some(index) = index else {
                    return Ok((key, row::decode(&value)?));
                };
                // An index entry's value is the row's encoded primary key. An entry visible at
                // the snapshot has its row visible too: the same transaction wrote both.
                let key = Key::row_from_encoded_pk(table_id, &value);
                let bytes = env.reader.get(&key)?.ok_or_else(|| {
                    crate::errinternal!(
                        "index {} entry points at a missing row {key:02x?}",
                        index.name
                    )
                })?;
                Ok((key, row::decode(&bytes)?))
            });
            Box::new(rows.filter_map(move |item| keep(filter, item, env)))
        }
        other => return Err(crate::errinternal!("not a table access node: {other:?}")),
    })
}

/// Rows with their storage keys.
pub(crate) type Keyed<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<Value>)>> + 'a>;

/// Keeps a fetched row if it satisfies `filter`.
fn keep(
    filter: &Option<crate::planner::Expr>,
    item: Result<(Vec<u8>, Vec<Value>)>,
    env: &Env<'_>,
) -> Option<Result<(Vec<u8>, Vec<Value>)>> {
    match item {
        Ok((key, row)) => match filter.as_ref().map(|f| eval(f, &row, env)) {
            None => Some(Ok((key, row))),
            Some(Ok(v)) if passes(&v) => Some(Ok((key, row))),
            Some(Ok(_)) => None,
            Some(Err(e)) => Some(Err(e)),
        },
        Err(e) => Some(Err(e)),
    }
}

/// UNION / INTERSECT / EXCEPT, with or without ALL. Rows are identified by their key
/// encoding, under which NULLs are equal, as set operations require; output keeps the order in
/// which rows first appear.
fn set_operation(left: Rows<'_>, right: Rows<'_>, op: SetOp, all: bool) -> Result<Vec<Vec<Value>>> {
    let key = |row: &[Value]| zizhu_keycode::encode_tuple(row);
    let mut out = Vec::new();
    match op {
        SetOp::Union => {
            let mut seen = BTreeSet::new();
            for row in left.chain(right) {
                let row = row?;
                if all || seen.insert(key(&row)) {
                    out.push(row);
                }
            }
        }
        SetOp::Intersect | SetOp::Except => {
            // How many times each row occurs on the right.
            let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
            for row in right {
                *counts.entry(key(&row?)).or_default() += 1;
            }
            let mut emitted = BTreeSet::new();
            for row in left {
                let row = row?;
                let k = key(&row);
                let on_right = counts.get_mut(&k);
                let keep = match (op, all, on_right) {
                    // ALL: pair each left row with one right occurrence.
                    (SetOp::Intersect, true, Some(n)) if *n > 0 => {
                        *n -= 1;
                        true
                    }
                    (SetOp::Intersect, true, _) => false,
                    (SetOp::Except, true, Some(n)) if *n > 0 => {
                        *n -= 1;
                        false
                    }
                    (SetOp::Except | SetOp::Union, true, _) => true,
                    (SetOp::Intersect, false, on_right) => on_right.is_some() && emitted.insert(k),
                    (_, false, on_right) => on_right.is_none() && emitted.insert(k),
                };
                if keep {
                    out.push(row);
                }
            }
        }
    }
    Ok(out)
}

/// One window function's value for every input row, as (row index, value) in row order.
fn window(input: &[Vec<Value>], f: &WindowFunction, env: &Env<'_>) -> Result<Vec<(usize, Value)>> {
    // Partitions by the key encoding of the PARTITION BY values (NULLs together).
    let mut partitions: BTreeMap<Vec<u8>, Vec<usize>> = BTreeMap::new();
    for (i, row) in input.iter().enumerate() {
        let key = f
            .partition_by
            .iter()
            .map(|e| eval(e, row, env))
            .collect::<Result<Vec<_>>>()?;
        partitions
            .entry(zizhu_keycode::encode_tuple(&key))
            .or_default()
            .push(i);
    }
    let mut out = Vec::with_capacity(input.len());
    for (_, members) in partitions {
        // Order the partition: sort (row, index) pairs by the window's ORDER BY.
        let mut keyed: Vec<Vec<Value>> = members
            .iter()
            .map(|&i| {
                let mut row = input[i].clone();
                row.push(Value::Int64(i as i64));
                row
            })
            .collect();
        if !f.order_by.is_empty() {
            keyed = sort(keyed, &f.order_by, env)?;
        }
        let order: Vec<usize> = keyed
            .iter()
            .map(|r| match r.last() {
                Some(Value::Int64(i)) => *i as usize,
                _ => 0,
            })
            .collect();
        // Peer groups: rows with equal ORDER BY values (all rows, without ORDER BY).
        let order_values = order
            .iter()
            .map(|&i| {
                f.order_by
                    .iter()
                    .map(|k| eval(&k.expr, &input[i], env))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let mut peer_start = vec![0; order.len()];
        let mut peer_end = vec![0; order.len()];
        let mut dense = vec![0u64; order.len()];
        let mut start = 0;
        let mut group = 0;
        for pos in 0..=order.len() {
            let boundary = pos == order.len()
                || (pos > 0
                    && zizhu_keycode::encode_tuple(&order_values[pos])
                        != zizhu_keycode::encode_tuple(&order_values[pos - 1]));
            if boundary && pos > 0 {
                group += 1;
                for p in start..pos {
                    peer_start[p] = start;
                    peer_end[p] = pos - 1;
                    dense[p] = group;
                }
                start = pos;
            }
        }
        let arg = |pos: usize, n: usize| -> Result<Value> {
            match f.args.get(n) {
                Some(e) => eval(e, &input[order[pos]], env),
                None => Ok(Value::Null),
            }
        };
        let last = order.len().saturating_sub(1);
        for pos in 0..order.len() {
            let value = match &f.func {
                WindowFunc::RowNumber => Value::Int64(pos as i64 + 1),
                WindowFunc::Rank => Value::Int64(peer_start[pos] as i64 + 1),
                WindowFunc::DenseRank => Value::Int64(dense[pos] as i64),
                WindowFunc::Lag | WindowFunc::Lead => {
                    let offset = match f.args.get(1) {
                        Some(e) => {
                            match types::cast(eval(e, &input[order[pos]], env)?, &DataType::Int64)?
                            {
                                Value::Int64(n) => n,
                                _ => 1,
                            }
                        }
                        None => 1,
                    };
                    let target = if matches!(f.func, WindowFunc::Lag) {
                        pos as i64 - offset
                    } else {
                        pos as i64 + offset
                    };
                    if target >= 0 && (target as usize) < order.len() {
                        arg(target as usize, 0)?
                    } else {
                        arg(pos, 2)?
                    }
                }
                WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::Aggregate(_) => {
                    let bound = |b: FrameBound, at_end: bool| -> i64 {
                        match b {
                            FrameBound::UnboundedPreceding => 0,
                            FrameBound::UnboundedFollowing => last as i64,
                            FrameBound::Preceding(n) if f.frame.rows => pos as i64 - n as i64,
                            FrameBound::Following(n) if f.frame.rows => pos as i64 + n as i64,
                            FrameBound::CurrentRow if f.frame.rows => pos as i64,
                            // RANGE: the current row means its peers.
                            _ if at_end => peer_end[pos] as i64,
                            _ => peer_start[pos] as i64,
                        }
                    };
                    let from = bound(f.frame.start, false).max(0);
                    let to = bound(f.frame.end, true).min(last as i64);
                    match &f.func {
                        WindowFunc::FirstValue if from <= to => arg(from as usize, 0)?,
                        WindowFunc::LastValue if from <= to => arg(to as usize, 0)?,
                        WindowFunc::Aggregate(aggregate) => {
                            let mut acc = Accumulator::new(aggregate);
                            if from <= to {
                                for p in from as usize..=to as usize {
                                    if let Some((value, extra)) =
                                        aggregate_input(aggregate, &input[order[p]], env)?
                                    {
                                        acc.add(value, extra)?;
                                    }
                                }
                            }
                            acc.finish()?
                        }
                        _ => Value::Null,
                    }
                }
            };
            out.push((order[pos], value));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out)
}

/// Sorts rows by `keys`, NULLs placed as each key says.
fn sort(rows: Vec<Vec<Value>>, keys: &[SortKey], env: &Env<'_>) -> Result<Vec<Vec<Value>>> {
    sort_top(rows.into_iter().map(Ok), keys, None, env)
}

/// Sorts rows by `keys` (stably). With `limit`, only the first `limit` rows are wanted (top-N
/// for `ORDER BY ... LIMIT`): the rows are cut back to the best `limit` whenever twice that
/// many are held, so memory stays proportional to the limit, not the input.
fn sort_top(
    rows: impl Iterator<Item = Result<Vec<Value>>>,
    keys: &[SortKey],
    limit: Option<usize>,
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    let mut error = None;
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    let mut order = |keyed: &mut Vec<(Vec<Value>, Vec<Value>)>| {
        keyed.sort_by(|(a, _), (b, _)| compare_keys(a, b, keys, &mut error));
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

/// An aggregate's running state.
enum Accumulator {
    Count(i64),
    Sum(Option<Value>),
    Avg(Option<Value>, i64),
    /// The best value so far; `min` chooses the direction.
    Extreme {
        best: Option<Value>,
        min: bool,
    },
    /// `string_agg`'s text so far.
    Text(Option<String>),
    /// `bool_and` (`all`) or `bool_or`.
    Bool {
        value: Option<bool>,
        all: bool,
    },
    Statistic(Statistic, Spread),
}

/// Running sums for variance and standard deviation, computed as PostgreSQL does: exactly
/// over numerics (N, Σx, Σx²), and with the Youngs-Cramer update over floats.
enum Spread {
    Empty,
    Exact {
        n: i64,
        sum: BigDecimal,
        squares: BigDecimal,
    },
    /// Any numeric NaN or infinity makes the result NaN.
    NotFinite(i64),
    Float {
        n: f64,
        sum: f64,
        squares: f64,
    },
}

impl Spread {
    fn add(&mut self, value: Value) -> Result<()> {
        let float = match value {
            Value::Float32(f) => Some(f as f64),
            Value::Float64(f) => Some(f),
            _ => None,
        };
        match (std::mem::replace(self, Spread::Empty), float) {
            (Spread::Empty, Some(x)) => {
                *self = Spread::Float {
                    n: 1.0,
                    sum: x,
                    squares: 0.0,
                }
            }
            (Spread::Float { n, sum, squares }, Some(x)) => {
                let (n, sum) = (n + 1.0, sum + x);
                let tmp = x * n - sum;
                *self = Spread::Float {
                    n,
                    sum,
                    squares: squares + tmp * tmp / (n * (n - 1.0)),
                };
            }
            (state, None) => {
                let n = match &state {
                    Spread::Empty => 0,
                    Spread::Exact { n, .. } | Spread::NotFinite(n) => *n,
                    Spread::Float { .. } => {
                        return Err(errinternal!("mixed float and numeric in one aggregate"))
                    }
                };
                *self = match (state, types::cast(value, &DataType::Numeric(None))?) {
                    (Spread::Empty, Value::Numeric(Numeric::Finite(x))) => Spread::Exact {
                        n: 1,
                        squares: &x * &x,
                        sum: x,
                    },
                    (Spread::Exact { n, sum, squares }, Value::Numeric(Numeric::Finite(x))) => {
                        Spread::Exact {
                            n: n + 1,
                            squares: squares + &x * &x,
                            sum: sum + x,
                        }
                    }
                    _ => Spread::NotFinite(n + 1),
                };
            }
            (Spread::Exact { .. } | Spread::NotFinite(_), Some(_)) => {
                return Err(errinternal!("mixed float and numeric in one aggregate"))
            }
        }
        Ok(())
    }

    fn finish(self, statistic: Statistic) -> Result<Value> {
        let min = if statistic.sample() { 2 } else { 1 };
        Ok(match self {
            Spread::Empty => Value::Null,
            Spread::NotFinite(n) if n < min => Value::Null,
            Spread::NotFinite(_) => Value::Numeric(Numeric::NaN),
            Spread::Float { n, .. } if n < min as f64 => Value::Null,
            Spread::Float { n, squares, .. } => {
                let variance = squares / if statistic.sample() { n - 1.0 } else { n };
                Value::Float64(if statistic.root() {
                    variance.sqrt()
                } else {
                    variance
                })
            }
            Spread::Exact { n, .. } if n < min => Value::Null,
            Spread::Exact { n, sum, squares } => {
                let numerator = BigDecimal::from(n) * squares - &sum * &sum;
                let denominator = if statistic.sample() {
                    n as i128 * (n as i128 - 1)
                } else {
                    n as i128 * n as i128
                };
                let zero = || Value::Numeric(Numeric::Finite(BigDecimal::from(0)));
                if numerator.sign() != bigdecimal::num_bigint::Sign::Plus {
                    return Ok(zero());
                }
                let variance = ops::div(
                    &Value::Numeric(Numeric::Finite(numerator)),
                    &Value::Numeric(Numeric::Finite(BigDecimal::from(denominator))),
                )?;
                match variance {
                    Value::Numeric(Numeric::Finite(v)) if statistic.root() => {
                        let scale = v.fractional_digit_count();
                        let root = v.sqrt().ok_or_else(|| errinternal!("negative variance"))?;
                        Value::Numeric(Numeric::Finite(
                            root.with_scale_round(scale, bigdecimal::RoundingMode::HalfUp),
                        ))
                    }
                    v => v,
                }
            }
        })
    }
}

impl Accumulator {
    fn new(aggregate: &Aggregate) -> Self {
        match aggregate {
            Aggregate::Filtered(inner, _) => Accumulator::new(inner),
            Aggregate::StringAgg(..) => Accumulator::Text(None),
            Aggregate::BoolAnd(_) => Accumulator::Bool {
                value: None,
                all: true,
            },
            Aggregate::BoolOr(_) => Accumulator::Bool {
                value: None,
                all: false,
            },
            Aggregate::Statistic(_, s, _) => Accumulator::Statistic(*s, Spread::Empty),
            Aggregate::CountStar | Aggregate::Count(..) => Accumulator::Count(0),
            Aggregate::Sum(..) => Accumulator::Sum(None),
            Aggregate::Avg(..) => Accumulator::Avg(None, 0),
            Aggregate::Min(_) => Accumulator::Extreme {
                best: None,
                min: true,
            },
            Aggregate::Max(_) => Accumulator::Extreme {
                best: None,
                min: false,
            },
        }
    }

    fn add(&mut self, value: Value, extra: Option<Value>) -> Result<()> {
        match self {
            Accumulator::Text(text) => {
                let piece = types::to_text(&value);
                *text = Some(match text.take() {
                    None => piece,
                    Some(mut s) => {
                        if let Some(sep) = extra.filter(|v| !v.is_null()) {
                            s.push_str(&types::to_text(&sep));
                        }
                        s.push_str(&piece);
                        s
                    }
                });
            }
            Accumulator::Bool { value: acc, all } => {
                let Value::Bool(b) = value else {
                    return Err(errinput!(
                        DatatypeMismatch,
                        "argument of bool_and/bool_or must be type boolean"
                    ));
                };
                *acc = Some(match acc.take() {
                    None => b,
                    Some(a) if *all => a && b,
                    Some(a) => a || b,
                });
            }
            Accumulator::Count(n) => *n += 1,
            Accumulator::Statistic(_, spread) => spread.add(value)?,
            Accumulator::Sum(sum) | Accumulator::Avg(sum, _) => {
                // sum(int2/int4) is bigint and sum(bigint) numeric in PostgreSQL, so a sum of
                // integers overflows only where PostgreSQL's does.
                let value = match value {
                    Value::Int16(i) => Value::Int64(i as i64),
                    Value::Int32(i) => Value::Int64(i as i64),
                    Value::Int64(i) => types::cast(Value::Int64(i), &DataType::Numeric(None))?,
                    v => v,
                };
                *sum = Some(match sum.take() {
                    None => value,
                    Some(s) => ops::add(&s, &value)?,
                });
                if let Accumulator::Avg(_, n) = self {
                    *n += 1;
                }
            }
            Accumulator::Extreme { best, min } => {
                let better = match best.as_ref() {
                    None => true,
                    Some(b) => {
                        let want = if *min {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        };
                        ops::compare(&value, b)? == Some(want)
                    }
                };
                if better {
                    *best = Some(value);
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        Ok(match self {
            Accumulator::Count(n) => Value::Int64(n),
            Accumulator::Statistic(s, spread) => spread.finish(s)?,
            Accumulator::Text(text) => text.map_or(Value::Null, Value::Text),
            Accumulator::Bool { value, .. } => value.map_or(Value::Null, Value::Bool),
            Accumulator::Sum(sum) | Accumulator::Extreme { best: sum, .. } => {
                sum.unwrap_or(Value::Null)
            }
            Accumulator::Avg(None, _) => Value::Null,
            Accumulator::Avg(Some(sum), n) => match sum {
                Value::Float32(_) | Value::Float64(_) => {
                    let sum = types::cast(sum, &DataType::Float64)?;
                    ops::div(&sum, &Value::Float64(n as f64))?
                }
                sum => {
                    let sum = types::cast(sum, &DataType::Numeric(None))?;
                    ops::div(&sum, &Value::Numeric(Numeric::Finite(n.into())))?
                }
            },
        })
    }
}

/// What an aggregate takes from a row: its value (and string_agg's separator), or `None` if the
/// row does not count (a NULL value, or a FILTER it fails). `count(*)` counts every row.
fn aggregate_input(
    aggregate: &Aggregate,
    row: &[Value],
    env: &Env<'_>,
) -> Result<Option<(Value, Option<Value>)>> {
    if let Aggregate::Filtered(inner, condition) = aggregate {
        if !passes(&eval(condition, row, env)?) {
            return Ok(None);
        }
        return aggregate_input(inner, row, env);
    }
    let value = match aggregate.argument() {
        None => Value::Bool(true),
        Some(e) => eval(e, row, env)?,
    };
    if value.is_null() {
        return Ok(None);
    }
    let extra = match aggregate {
        Aggregate::StringAgg(_, separator, _) => Some(eval(separator, row, env)?),
        _ => None,
    };
    Ok(Some((value, extra)))
}

/// One group's state: its key values and, per aggregate, the accumulator and (for DISTINCT)
/// the values seen.
type Group = (Vec<Value>, Vec<(Accumulator, Option<BTreeSet<Vec<u8>>>)>);

/// Groups rows and computes aggregates. Output rows are the group values then the aggregate
/// values, in group-key order. With no GROUP BY, there is exactly one row, even for no input.
fn aggregate(
    input: Rows<'_>,
    group_by: &[crate::planner::Expr],
    aggregates: &[Aggregate],
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    let new_group = |values: Vec<Value>| -> Group {
        let accumulators = aggregates
            .iter()
            .map(|a| {
                let distinct = a.distinct();
                (Accumulator::new(a), distinct.then(BTreeSet::new))
            })
            .collect();
        (values, accumulators)
    };
    // Groups are keyed by the order-preserving encoding of their values, whose equality is
    // SQL's grouping equality (1.50 and 1.5 group together; so do NULLs).
    let mut groups: BTreeMap<Vec<u8>, Group> = BTreeMap::new();
    if group_by.is_empty() {
        groups.insert(Vec::new(), new_group(Vec::new()));
    }
    for row in input {
        let row = row?;
        let values = group_by
            .iter()
            .map(|e| eval(e, &row, env))
            .collect::<Result<Vec<_>>>()?;
        let key = zizhu_keycode::encode_tuple(&values);
        let (_, accumulators) = groups.entry(key).or_insert_with(|| new_group(values));
        for (aggregate, (accumulator, seen)) in aggregates.iter().zip(accumulators.iter_mut()) {
            let Some((value, extra)) = aggregate_input(aggregate, &row, env)? else {
                continue;
            };
            if let Some(seen) = seen {
                if !seen.insert(zizhu_keycode::encode_tuple(std::slice::from_ref(&value))) {
                    continue;
                }
            }
            accumulator.add(value, extra)?;
        }
    }
    groups
        .into_values()
        .map(|(mut values, accumulators)| {
            for (accumulator, _) in accumulators {
                values.push(accumulator.finish()?);
            }
            Ok(values)
        })
        .collect()
}
