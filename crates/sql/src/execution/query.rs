//! Query operators: each plan node becomes an iterator of rows.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::rc::Rc;

use zizhu_engine::Direction;
use zizhu_types::Value;

use super::aggregate::{aggregate, aggregate_input, Accumulator};
use super::join::{hash_join, merge_join, right_outer_join};
use super::sort::{sort, sort_rows, sort_top};
use super::{eval, Env, ScanValues};
use crate::keys::Key;
use crate::planner::{FrameBound, Node, SetOp, WindowFunc, WindowFunction};
use crate::types::{ops, DataType};
use crate::{errinput, row, types, Result};

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
    let started = std::time::Instant::now();
    let inner = node_rows(node, env)?;
    {
        let mut stats = stats.borrow_mut();
        let entry = stats.entry(node as *const Node as usize).or_default();
        entry.time += started.elapsed();
        entry.loops += 1;
    }
    Ok(instrument(node, inner, env))
}

/// Under EXPLAIN ANALYZE, `inner` (the rows of `node`) with each row timed and counted;
/// otherwise `inner` itself.
pub(super) fn instrument<'a>(node: &'a Node, mut inner: Rows<'a>, env: &'a Env<'a>) -> Rows<'a> {
    let Some(stats) = &env.cache.stats else {
        return inner;
    };
    let key = node as *const Node as usize;
    Box::new(std::iter::from_fn(move || {
        let started = std::time::Instant::now();
        let next = inner.next();
        let mut stats = stats.borrow_mut();
        let entry = stats.entry(key).or_default();
        entry.time += started.elapsed();
        if matches!(next, Some(Ok(_))) {
            entry.rows += 1;
        }
        next
    }))
}

/// The rows of a node, uninstrumented.
fn node_rows<'a>(node: &'a Node, env: &'a Env<'a>) -> Result<Rows<'a>> {
    Ok(match node {
        Node::Nothing => Box::new(std::iter::once(Ok(vec![]))),
        // Without keys: a scan's rows need no key decoded.
        Node::Scan {
            table,
            filter,
            columns,
        } => {
            let scan = env
                .reader
                .scan_values(Key::table_rows(table.id), Direction::Forward)?;
            scan_rows(scan, filter, columns.as_deref(), env)
        }
        Node::KeyLookup { .. } | Node::IndexScan { .. } | Node::LookupBy { .. } => {
            Box::new(fetch(node, env)?.map(|r| r.map(|(_, row)| row)))
        }
        Node::Values { rows } => Box::new(rows.iter().map(|row| {
            row.iter()
                .map(|e| eval(e, &[], env))
                .collect::<Result<Vec<_>>>()
        })),
        Node::Filter { source, predicate } => filter_rows(rows(source, env)?, predicate, env),
        Node::Project { source, exprs } => project_rows(rows(source, env)?, exprs, env),
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
        Node::Order { source, keys } => match super::parallel::sort(node, source, keys, env)? {
            Some(rows) => rows,
            None => sort_rows(rows(source, env)?, keys, env)?,
        },
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => match super::parallel::aggregate(node, source, group_by, aggregates, env)? {
            Some(rows) => rows,
            None => aggregate(rows(source, env)?, group_by, aggregates, env)?,
        },
        Node::SystemView { view } => Box::new(
            view.rows(
                &env.cache.dir,
                || env.cache.catalog(env.reader),
                env.cache.identity(),
                env.cache.settings(),
            )?
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
                if let Err(e) = env.cache.check_interrupt() {
                    return Some(Err(e));
                }
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
        Node::ProjectSet { source, calls } => {
            // Lazily: `SELECT generate_series(1, 1e9) LIMIT 1` makes one row.
            let mut input = rows(source, env)?;
            let mut current: Option<(Vec<Value>, Vec<super::set_function::SetRows>)> = None;
            Box::new(std::iter::from_fn(move || loop {
                if let Some((row, sets)) = current.as_mut() {
                    if let Err(e) = env.cache.check_interrupt() {
                        return Some(Err(e));
                    }
                    let mut out = row.clone();
                    let mut any = false;
                    for ((f, _), set) in calls.iter().zip(sets.iter_mut()) {
                        match set.next() {
                            Some(values) => {
                                any = true;
                                out.extend(values);
                            }
                            None => {
                                out.extend(std::iter::repeat_n(Value::Null, f.columns(&[]).len()))
                            }
                        }
                    }
                    if any {
                        return Some(Ok(out));
                    }
                    current = None;
                }
                let row = match input.next()? {
                    Ok(row) => row,
                    Err(e) => return Some(Err(e)),
                };
                let sets = calls
                    .iter()
                    .map(|(f, args)| {
                        let values = args
                            .iter()
                            .map(|a| super::eval(a, &row, env))
                            .collect::<Result<Vec<_>>>()?;
                        super::set_function::rows(f, &values)
                    })
                    .collect::<Result<Vec<_>>>();
                match sets {
                    Ok(sets) => current = Some((row, sets)),
                    Err(e) => return Some(Err(e)),
                }
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
        } => hash_join(left, right, keys, predicate, *kind, *right_width, env)?,
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
        Node::MergeJoin {
            left,
            right,
            left_key,
            right_key,
            predicate,
            kind,
            right_width,
        } => merge_join(
            left,
            right,
            (*left_key, *right_key),
            predicate,
            *kind,
            *right_width,
            env,
        )?,
        Node::LateralJoin {
            left,
            right,
            predicate,
            kind,
            right_width,
        } => {
            let (kind, width) = (*kind, *right_width);
            Box::new(rows(left, env)?.flat_map(move |l| {
                let l = match l.and_then(|l| env.cache.check_interrupt().map(|()| l)) {
                    Ok(l) => l,
                    Err(e) => return vec![Err(e)],
                };
                // The subquery runs with this left row as its innermost enclosing row.
                let mut outer = env.outer.clone();
                outer.push(&l);
                let inner = Env {
                    reader: env.reader,
                    outer,
                    cache: env.cache,
                };
                let right_rows =
                    match rows(right, &inner).and_then(|r| r.collect::<Result<Vec<_>>>()) {
                        Ok(r) => r,
                        Err(e) => return vec![Err(e)],
                    };
                join_row(l, &right_rows, predicate.as_ref(), kind, width, env)
            }))
        }
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
                let l = match l.and_then(|l| env.cache.check_interrupt().map(|()| l)) {
                    Ok(l) => l,
                    Err(e) => return vec![Err(e)],
                };
                join_row(l, &inner, predicate.as_ref(), kind, width, env)
            }))
        }
    })
}

/// The rows `left` makes with each of `matches` that meets `predicate` (each of them, without
/// one); for a LEFT join that found none, `left` padded with `right_width` NULLs.
pub(super) fn join_row(
    left: Vec<Value>,
    matches: &[Vec<Value>],
    predicate: Option<&crate::planner::Expr>,
    kind: crate::planner::JoinKind,
    right_width: usize,
    env: &Env<'_>,
) -> Vec<Result<Vec<Value>>> {
    let mut out = Vec::new();
    for r in matches {
        let mut joined = left.clone();
        joined.extend(r.iter().cloned());
        match predicate.map(|p| eval(p, &joined, env)) {
            None => out.push(Ok(joined)),
            Some(Ok(v)) if passes(&v) => out.push(Ok(joined)),
            Some(Ok(_)) => {}
            Some(Err(e)) => return vec![Err(e)],
        }
    }
    if out.is_empty() && kind.keeps_left() {
        let mut padded = left;
        padded.extend(std::iter::repeat_n(Value::Null, right_width));
        out.push(Ok(padded));
    }
    out
}

/// A table scan's rows from its raw stored values: decoded (only `columns`, if given) and
/// filtered.
pub(super) fn scan_rows<'a>(
    scan: ScanValues<'a>,
    filter: &'a Option<crate::planner::Expr>,
    columns: Option<&'a [bool]>,
    env: &'a Env<'a>,
) -> Rows<'a> {
    Box::new(scan.filter_map(move |item| {
        let row = env.cache.check_interrupt().and(item);
        let row = row.and_then(|bytes| row::decode_only(&bytes, columns));
        keep_if(filter, row, Vec::as_slice, env)
    }))
}

/// The rows of `input` that satisfy `predicate`.
pub(super) fn filter_rows<'a>(
    input: Rows<'a>,
    predicate: &'a crate::planner::Expr,
    env: &'a Env<'a>,
) -> Rows<'a> {
    Box::new(input.filter_map(move |r| match r {
        Ok(row) => match eval(predicate, &row, env) {
            Ok(v) if passes(&v) => Some(Ok(row)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        },
        Err(e) => Some(Err(e)),
    }))
}

/// Each row of `input` computed into `exprs`.
pub(super) fn project_rows<'a>(
    input: Rows<'a>,
    exprs: &'a [crate::planner::Expr],
    env: &'a Env<'a>,
) -> Rows<'a> {
    Box::new(
        input.map(move |r| r.and_then(|row| exprs.iter().map(|e| eval(e, &row, env)).collect())),
    )
}

/// Rows of a table with their keys, from a scan or lookup node, filtered.
pub(crate) fn fetch<'a>(node: &'a Node, env: &'a Env<'a>) -> Result<Keyed<'a>> {
    Ok(match node {
        Node::Scan {
            table,
            filter,
            columns,
        } => {
            let scan = env
                .reader
                .scan(Key::table_rows(table.id), Direction::Forward)?;
            let columns = columns.as_deref();
            Box::new(scan.filter_map(move |item| {
                let item = env.cache.check_interrupt().and(item);
                let item =
                    item.and_then(|(key, bytes)| Ok((key, row::decode_only(&bytes, columns)?)));
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
            let ordered: Box<dyn Iterator<Item = &Vec<Value>>> = if *backward {
                Box::new(prefixes.iter().rev())
            } else {
                Box::new(prefixes.iter())
            };
            let ranges = ordered.filter_map(move |prefix| match index {
                Some(index) => Key::index_span(index.id, prefix, lower, upper),
                None => Key::row_span(table.id, prefix, lower, upper),
            });
            path_rows(table, index.as_ref(), ranges, *backward, filter, env)
        }
        Node::LookupBy {
            table,
            index,
            key,
            filter,
        } => {
            let columns = index.as_ref().map_or(&table.primary_key, |i| &i.columns);
            let mut values = Vec::with_capacity(key.len());
            for (expr, column) in key.iter().zip(columns) {
                let value = eval(expr, &[], env)?;
                let data_type = table
                    .columns
                    .get(*column)
                    .map(|c| &c.data_type)
                    .ok_or_else(|| {
                        crate::errinternal!("a key column of {} is missing", table.name)
                    })?;
                // NULL equals nothing; a value the column cannot hold is in no key. The filter
                // decides about values that cast inexactly.
                match crate::types::cast(value, data_type) {
                    Ok(v) if !v.is_null() => values.push(v),
                    _ => return Ok(Box::new(std::iter::empty())),
                }
            }
            if index.is_none() && values.len() == table.primary_key.len() {
                let key = Key::Row(table.id, values).encode();
                return Ok(match env.reader.get(&key)? {
                    Some(bytes) => Box::new(
                        keep(filter, row::decode(&bytes).map(|row| (key, row)), env).into_iter(),
                    ),
                    None => Box::new(std::iter::empty()),
                });
            }
            let range = match index {
                Some(index) => {
                    Key::index_span(index.id, &values, &Bound::Unbounded, &Bound::Unbounded)
                }
                None => Key::row_span(table.id, &values, &Bound::Unbounded, &Bound::Unbounded),
            };
            path_rows(table, index.as_ref(), range.into_iter(), false, filter, env)
        }
        other => return Err(crate::errinternal!("not a table access node: {other:?}")),
    })
}

/// The rows of a table found through its primary key or `index` in the key `ranges`, read
/// backward if asked, filtered.
fn path_rows<'a>(
    table: &'a crate::catalog::Table,
    index: Option<&'a crate::catalog::Index>,
    ranges: impl Iterator<Item = zizhu_engine::KeyRange> + 'a,
    backward: bool,
    filter: &'a Option<crate::planner::Expr>,
    env: &'a Env<'a>,
) -> Keyed<'a> {
    let direction = if backward {
        Direction::Reverse
    } else {
        Direction::Forward
    };
    let table_id = table.id;
    let entries = ranges.flat_map(move |range| match env.reader.scan(range, direction) {
        Ok(scan) => scan,
        Err(e) => Box::new(std::iter::once(Err(e))),
    });
    let rows = entries.map(move |entry| {
        env.cache.check_interrupt()?;
        let (key, value) = entry?;
        let Some(index) = index else {
            return Ok((key, row::decode(&value)?));
        };
        // An index entry's value is the row's encoded primary key. An entry visible at the
        // snapshot has its row visible too: the same transaction wrote both.
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

/// Rows with their storage keys.
pub(crate) type Keyed<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<Value>)>> + 'a>;

/// Keeps a fetched row if it satisfies `filter`.
fn keep(
    filter: &Option<crate::planner::Expr>,
    item: Result<(Vec<u8>, Vec<Value>)>,
    env: &Env<'_>,
) -> Option<Result<(Vec<u8>, Vec<Value>)>> {
    keep_if(filter, item, |(_, row)| row.as_slice(), env)
}

/// Keeps an item (a row, or a row with its key) if its row, which `row` finds in it,
/// satisfies `filter`.
fn keep_if<T>(
    filter: &Option<crate::planner::Expr>,
    item: Result<T>,
    row: impl Fn(&T) -> &[Value],
    env: &Env<'_>,
) -> Option<Result<T>> {
    match item.and_then(|item| Ok(passes_filter(filter, row(&item), env)?.then_some(item))) {
        Ok(Some(item)) => Some(Ok(item)),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }
}

/// Whether `row` satisfies `filter` (any row does without one).
fn passes_filter(
    filter: &Option<crate::planner::Expr>,
    row: &[Value],
    env: &Env<'_>,
) -> Result<bool> {
    match filter {
        Some(f) => Ok(passes(&eval(f, row, env)?)),
        None => Ok(true),
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
                                    if let Some(value) =
                                        aggregate_input(aggregate, &input[order[p]], env)?
                                    {
                                        acc.add(value)?;
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
