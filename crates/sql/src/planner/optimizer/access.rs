//! Access paths: which part of a table a filtered scan has to read, and in which order.
//!
//! A table's rows are stored in primary-key order, and each secondary index is a sorted run of
//! entries ([`crate::keys::Key`]); both are *paths* through the table, ordered by their columns.
//! A filter that pins leading columns of a path to constants (`=`, `IN`) and bounds the next
//! one (`<`, `<=`, `>`, `>=`, `BETWEEN`) confines the scan to ranges of that path
//! ([`Node::IndexScan`]); pinning the whole primary key makes it point reads
//! ([`Node::KeyLookup`]). The filter is always re-applied to every row read, so a path only has
//! to find a superset of the matching rows: whatever the filter says that a path cannot use is
//! simply left to it.
//!
//! Values known only when a node runs (an enclosing row's columns, in a correlated or LATERAL
//! subquery) pin a path too: the scan becomes a [`Node::LookupBy`] that evaluates its key
//! then. [`use_index_joins`] uses that for index nested-loop joins: the inner side of a join
//! with few outer rows is looked up by each outer row instead of being hashed whole.
//!
//! Reading a path yields rows in its order, so an `ORDER BY` that the order of the path
//! already satisfies needs no sort: [`use_index_order`] drops it, and a `LIMIT` above it then
//! stops the scan after the rows it needs.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use zizhu_types::Value;

use super::map_children;
use crate::catalog::{Index, Table};
use crate::planner::plan::{CompareOp, Expr, JoinKind, Node, SortKey};
use crate::types::{self, DataType};

/// Most keys a lookup may expand to (an IN list times an IN list ...) before a scan is used.
const MAX_LOOKUP_KEYS: usize = 1024;

/// A filtered scan becomes point lookups when its predicate pins the whole primary key, or a
/// range scan of the path (primary key or index) with the longest pinned prefix, preferring one
/// whose next column is bounded, then a fully pinned unique index, then the primary key.
pub(super) fn use_keys_and_indexes(node: Node) -> Node {
    map_children(node, use_keys_and_indexes, |node| match node {
        Node::Scan {
            table,
            filter: Some(filter),
            columns: None,
        } => access_path(table, filter),
        node => node,
    })
}

fn access_path(table: Arc<Table>, filter: Expr) -> Node {
    let facts = Restrictions::of(&table, &filter);
    if !table.primary_key.is_empty() {
        if let Some(keys) = facts.keys(&table.primary_key) {
            return Node::KeyLookup {
                table,
                keys,
                filter: Some(filter),
            };
        }
    }
    let best = paths(&table)
        .filter_map(|(index, columns)| {
            let pinned = columns
                .iter()
                .take_while(|c| facts.pinned.contains_key(c))
                .count();
            let bounds = columns.get(pinned).and_then(|c| facts.bounds.get(c));
            if pinned == 0 && bounds.is_none() {
                return None;
            }
            let prefixes = facts.keys(&columns[..pinned])?;
            let unique = index.is_some_and(|i| i.unique && pinned == i.columns.len());
            let rank = (pinned, bounds.is_some(), unique, index.is_none());
            Some((rank, index, prefixes, bounds))
        })
        .max_by_key(|(rank, ..)| *rank);
    let Some((_, index, mut prefixes, bounds)) = best else {
        return lookup_by(table, filter, &facts);
    };
    prefixes.sort_by_cached_key(|p| zizhu_keycode::encode_tuple(p));
    let (lower, upper) = bounds
        .cloned()
        .unwrap_or((Bound::Unbounded, Bound::Unbounded));
    Node::IndexScan {
        index: index.cloned(),
        table,
        prefixes,
        lower,
        upper,
        backward: false,
        filter: Some(filter),
    }
}

/// The most rows a join's left side may surely have for an index nested-loop join.
const FEW_ROWS: usize = 64;

/// An inner or left nested-loop join of a few left rows ([`few_rows`]) with a table whose
/// primary key or an index begins with columns the join condition equates to the left row
/// becomes an *index nested-loop join*: a [`Node::LateralJoin`] whose right side looks the
/// table up by each left row's values ([`Node::LookupBy`]). A hash join would read the whole
/// table to match a handful of rows. The join condition is still checked on every pair.
pub(super) fn use_index_joins(node: Node) -> Node {
    map_children(node, use_index_joins, |node| match node {
        Node::NestedLoopJoin {
            left,
            right,
            predicate: Some(predicate),
            kind: kind @ (JoinKind::Inner | JoinKind::Left),
            left_width,
            right_width,
        } if few_rows(&left) => match index_lookup(&right, &predicate, left_width) {
            Some(lookup) => Node::LateralJoin {
                left,
                right: Box::new(lookup),
                predicate: Some(predicate),
                kind,
                right_width,
            },
            None => Node::NestedLoopJoin {
                left,
                right,
                predicate: Some(predicate),
                kind,
                left_width,
                right_width,
            },
        },
        node => node,
    })
}

/// An inner or left join on `left column = right column` whose inputs both yield rows in that
/// column's order (a table scan in primary-key order, an index scan of the whole index)
/// becomes a [`Node::MergeJoin`]: no side is held in memory, and matching is a walk along
/// both. The columns must be of one type whose key order is SQL's, as the key encodings are
/// compared.
pub(super) fn use_merge_joins(node: Node) -> Node {
    map_children(node, use_merge_joins, |node| match node {
        Node::NestedLoopJoin {
            left,
            right,
            predicate: Some(predicate),
            kind: kind @ (JoinKind::Inner | JoinKind::Left),
            left_width,
            right_width,
        } => {
            let keys = predicate.conjuncts().find_map(|c| {
                let Expr::Compare(CompareOp::Eq, a, b) = c else {
                    return None;
                };
                let (Expr::Column { index: x, .. }, Expr::Column { index: y, .. }) =
                    (a.as_ref(), b.as_ref())
                else {
                    return None;
                };
                let (l, r) = match (*x < left_width, *y < left_width) {
                    (true, false) => (*x, *y - left_width),
                    (false, true) => (*y, *x - left_width),
                    _ => return None,
                };
                let (lt, rt) = (sorted_by(&left, l)?, sorted_by(&right, r)?);
                (lt == rt && keyed_like_sql(lt)).then_some((l, r))
            });
            match keys {
                Some((left_key, right_key)) => Node::MergeJoin {
                    left,
                    right,
                    left_key,
                    right_key,
                    predicate,
                    kind,
                    right_width,
                },
                None => Node::NestedLoopJoin {
                    left,
                    right,
                    predicate: Some(predicate),
                    kind,
                    left_width,
                    right_width,
                },
            }
        }
        node => node,
    })
}

/// The type of column `column` of the rows `node` yields, if it yields them in ascending
/// order of that column (as its key encoding sorts).
fn sorted_by(node: &Node, column: usize) -> Option<&DataType> {
    let (table, leading) = match node {
        Node::Scan { table, .. } => (table, table.primary_key.first()),
        Node::IndexScan {
            table,
            index,
            prefixes,
            backward: false,
            ..
        } if prefixes.iter().all(Vec::is_empty) && prefixes.len() <= 1 => (
            table,
            index
                .as_ref()
                .map_or(table.primary_key.first(), |i| i.columns.first()),
        ),
        _ => return None,
    };
    (leading == Some(&column))
        .then(|| table.columns.get(column).map(|c| &c.data_type))
        .flatten()
}

/// Whether `node` surely yields at most [`FEW_ROWS`] rows.
fn few_rows(node: &Node) -> bool {
    match node {
        Node::Nothing => true,
        Node::KeyLookup { keys, .. } => keys.len() <= FEW_ROWS,
        Node::Values { rows } => rows.len() <= FEW_ROWS,
        Node::Limit { limit: Some(n), .. } => *n <= FEW_ROWS as u64,
        Node::IndexScan { .. } | Node::LookupBy { .. } => unique_lookup(node, FEW_ROWS),
        Node::Filter { source, .. }
        | Node::Project { source, .. }
        | Node::Order { source, .. }
        | Node::Distinct { source } => few_rows(source),
        Node::LateralJoin { left, right, .. } => few_rows(left) && unique_lookup(right, 1),
        _ => false,
    }
}

/// Whether `node` reads at most `n` keys of a unique path, whole.
fn unique_lookup(node: &Node, n: usize) -> bool {
    match node {
        Node::KeyLookup { keys, .. } => keys.len() <= n,
        Node::IndexScan {
            table,
            index,
            prefixes,
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            ..
        } => {
            let columns = index.as_ref().map_or(&table.primary_key, |i| &i.columns);
            index.as_ref().is_none_or(|i| i.unique)
                && prefixes.len() <= n
                && prefixes.iter().all(|p| p.len() == columns.len())
        }
        Node::LookupBy {
            table, index, key, ..
        } => {
            let columns = index.as_ref().map_or(&table.primary_key, |i| &i.columns);
            index.as_ref().is_none_or(|i| i.unique) && key.len() == columns.len()
        }
        _ => false,
    }
}

/// The right side of a join as a lookup by the left row's values, if the condition equates
/// leading columns of one of the table's paths to them.
fn index_lookup(right: &Node, predicate: &Expr, left_width: usize) -> Option<Node> {
    let Node::Scan { table, filter, .. } = right else {
        return None;
    };
    if right.refers_outward(1) {
        return None;
    }
    let mut conjuncts: Vec<Expr> = filter.iter().cloned().collect();
    for c in predicate.conjuncts() {
        let Some((l, r @ Expr::Column { .. })) = c.join_key(left_width) else {
            continue;
        };
        let l = outer(l);
        if known_when_run(&l) {
            conjuncts.push(Expr::Compare(CompareOp::Eq, Box::new(r), Box::new(l)));
        }
    }
    let filter = conjuncts
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))?;
    match access_path(table.clone(), filter) {
        lookup @ Node::LookupBy { .. } => Some(lookup),
        _ => None,
    }
}

/// An expression over the left row as the lateral right side sees it: one level in.
fn outer(e: Expr) -> Expr {
    match e {
        Expr::Column { index, name } => Expr::OuterColumn {
            depth: 1,
            index,
            name,
        },
        Expr::OuterColumn { depth, index, name } => Expr::OuterColumn {
            depth: depth + 1,
            index,
            name,
        },
        e => e.map_children(&outer),
    }
}

/// A scan whose filter pins leading columns of a path only to values known when it runs
/// (`b.aid = outer.a.id`, `id = $1` in a kept plan) reads that path by them
/// ([`Node::LookupBy`]): the primary key if it is pinned whole, else the index with the longest
/// pinned prefix (unique ones first), else the primary key's pinned prefix.
fn lookup_by(table: Arc<Table>, filter: Expr, facts: &Restrictions) -> Node {
    let pinned = |column: &usize| -> Option<Expr> {
        match facts.pinned.get(column).map(Vec::as_slice) {
            Some([one]) => Some(Expr::Constant(one.clone())),
            _ => facts.deferred.get(column).cloned(),
        }
    };
    let best = paths(table.as_ref())
        .filter_map(|(index, columns)| {
            let key: Vec<Expr> = columns.iter().map_while(pinned).collect();
            let deferred = columns
                .iter()
                .take(key.len())
                .any(|c| facts.deferred.contains_key(c));
            if key.is_empty() || !deferred {
                return None;
            }
            let whole = key.len() == columns.len();
            let unique = whole && index.is_none_or(|i| i.unique);
            Some((
                (unique, index.is_none() && whole, key.len()),
                index.cloned(),
                key,
            ))
        })
        .max_by_key(|(rank, ..)| *rank);
    match best {
        Some((_, index, key)) => Node::LookupBy {
            table,
            index,
            key,
            filter: Some(filter),
        },
        None => Node::Scan {
            table,
            filter: Some(filter),
            columns: None,
        },
    }
}

/// Whether `expr` has one value for the whole run of a node over a table's rows, known only
/// when it runs: it reads an enclosing row or a parameter, and no column of the row itself,
/// no subquery and nothing volatile.
fn known_when_run(expr: &Expr) -> bool {
    fn pure(e: &Expr, outer: &mut bool) -> bool {
        match e {
            Expr::OuterColumn { .. } | Expr::Param { .. } => {
                *outer = true;
                true
            }
            Expr::Constant(_) => true,
            Expr::Column { .. }
            | Expr::Subquery(_)
            | Expr::Exists(_)
            | Expr::ArraySubquery(..)
            | Expr::InSubquery(..)
            | Expr::Quantified { .. } => false,
            Expr::Function(f, _) if f.reads_state() => false,
            Expr::Function(crate::planner::plan::Function::Builtin(name), _)
                if crate::functions::is_volatile(name) =>
            {
                false
            }
            e => e.children().into_iter().all(|c| pure(c, outer)),
        }
    }
    let mut outer = false;
    pure(expr, &mut outer) && outer
}

/// `column = e` (either way round) with `e` [`known_when_run`]: the column and `e`.
fn deferred_pin<'e>(a: &'e Expr, b: &'e Expr) -> Option<(usize, &'e Expr)> {
    match (a, b) {
        (Expr::Column { index, .. }, e) | (e, Expr::Column { index, .. }) if known_when_run(e) => {
            Some((*index, e))
        }
        _ => None,
    }
}

/// The paths into a table: the primary key (if it has one; `None`), then each index.
fn paths(table: &Table) -> impl Iterator<Item = (Option<&Index>, &[usize])> {
    let primary = (!table.primary_key.is_empty()).then_some((None, table.primary_key.as_slice()));
    primary.into_iter().chain(
        table
            .indexes
            .iter()
            .map(|index| (Some(index), index.columns.as_slice())),
    )
}

/// Whether values of a type sort in SQL as their key encodings do, and are equal in SQL only
/// when their encodings are: not blank-padded `char` (trailing blanks are insignificant) nor
/// intervals (equal across different field values).
fn keyed_like_sql(data_type: &DataType) -> bool {
    !matches!(
        data_type,
        DataType::Char(_) | DataType::Interval | DataType::Unknown
    )
}

/// What the top-level conjuncts of a scan's predicate say about single columns, in terms a path
/// can use: constants cast exactly to the column's type.
#[derive(Default)]
struct Restrictions {
    /// Columns equal to one of a list of constants (`col = c`, `col IN (c, ...)`), deduplicated.
    pinned: HashMap<usize, Vec<Value>>,
    /// Columns bounded by constants (`col < c`, `c <= col`, `BETWEEN`), the tightest bounds.
    bounds: HashMap<usize, (Bound<Value>, Bound<Value>)>,
    /// Columns equal to a value known only when the scan runs ([`known_when_run`]).
    deferred: HashMap<usize, Expr>,
}

impl Restrictions {
    fn of(table: &Table, filter: &Expr) -> Self {
        let mut facts = Restrictions::default();
        let mut conjuncts = vec![filter];
        while let Some(e) = conjuncts.pop() {
            match e {
                Expr::And(a, b) => {
                    conjuncts.push(a);
                    conjuncts.push(b);
                }
                Expr::Compare(CompareOp::Eq, a, b) if deferred_pin(a, b).is_some() => {
                    if let Some((index, e)) = deferred_pin(a, b) {
                        if column_type(table, index).is_some() {
                            facts.deferred.entry(index).or_insert_with(|| e.clone());
                        }
                    }
                }
                Expr::Compare(op, a, b) => {
                    let (column, op, constant) = match (a.as_ref(), b.as_ref()) {
                        (Expr::Column { index, .. }, Expr::Constant(v)) => (*index, *op, v),
                        (Expr::Constant(v), Expr::Column { index, .. }) => {
                            let Some(op) = flipped(*op) else { continue };
                            (*index, op, v)
                        }
                        _ => continue,
                    };
                    let Some(data_type) = column_type(table, column) else {
                        continue;
                    };
                    if op == CompareOp::Eq {
                        facts.pin(column, data_type, std::slice::from_ref(constant));
                    } else if let Some(v) = exact_cast(constant, data_type) {
                        facts.bound(column, op, v);
                    }
                }
                Expr::InList(a, list) => {
                    let Expr::Column { index, .. } = a.as_ref() else {
                        continue;
                    };
                    let Some(constants) = list
                        .iter()
                        .map(|e| match e {
                            Expr::Constant(v) => Some(v.clone()),
                            _ => None,
                        })
                        .collect::<Option<Vec<Value>>>()
                    else {
                        continue;
                    };
                    if let Some(data_type) = column_type(table, *index) {
                        facts.pin(*index, data_type, &constants);
                    }
                }
                _ => {}
            }
        }
        facts
    }

    /// Records `column IN constants`. Constants that do not fit the column's type (or are
    /// NULL) match nothing by key; such a column is left to the filter rather than reasoned
    /// about here.
    fn pin(&mut self, column: usize, data_type: &DataType, constants: &[Value]) {
        let mut values: Vec<Value> = Vec::with_capacity(constants.len());
        let mut seen = Vec::with_capacity(constants.len());
        for v in constants {
            match types::cast(v.clone(), data_type) {
                Ok(v) if !v.is_null() => {
                    let key = zizhu_keycode::encode_tuple(std::slice::from_ref(&v));
                    if !seen.contains(&key) {
                        seen.push(key);
                        values.push(v);
                    }
                }
                _ => return,
            }
        }
        if !values.is_empty() {
            self.pinned.entry(column).or_insert(values);
        }
    }

    /// Narrows `column`'s bounds by `column op v`.
    fn bound(&mut self, column: usize, op: CompareOp, v: Value) {
        let (lower, upper) = self
            .bounds
            .entry(column)
            .or_insert((Bound::Unbounded, Bound::Unbounded));
        match op {
            CompareOp::Gt => *lower = tighter(lower, Bound::Excluded(v), Ordering::Greater),
            CompareOp::GtEq => *lower = tighter(lower, Bound::Included(v), Ordering::Greater),
            CompareOp::Lt => *upper = tighter(upper, Bound::Excluded(v), Ordering::Less),
            CompareOp::LtEq => *upper = tighter(upper, Bound::Included(v), Ordering::Less),
            _ => {}
        }
    }

    /// Every combination of the pinned values of `columns`, or `None` if one is not pinned or
    /// there would be more than [`MAX_LOOKUP_KEYS`].
    fn keys(&self, columns: &[usize]) -> Option<Vec<Vec<Value>>> {
        let mut keys: Vec<Vec<Value>> = vec![vec![]];
        for column in columns {
            let values = self.pinned.get(column)?;
            keys = keys
                .into_iter()
                .flat_map(|k| {
                    values.iter().map(move |v| {
                        let mut k = k.clone();
                        k.push(v.clone());
                        k
                    })
                })
                .collect();
            if keys.len() > MAX_LOOKUP_KEYS {
                return None;
            }
        }
        Some(keys)
    }

    /// Whether every row the filter admits has the same value in `column`.
    fn constant(&self, column: usize) -> bool {
        self.pinned.get(&column).is_some_and(|v| v.len() == 1)
    }
}

/// The column's type, if its values can be found by their key encoding.
fn column_type(table: &Table, column: usize) -> Option<&DataType> {
    table
        .columns
        .get(column)
        .map(|c| &c.data_type)
        .filter(|t| keyed_like_sql(t))
}

/// `c op col` as `col op' c`.
fn flipped(op: CompareOp) -> Option<CompareOp> {
    Some(match op {
        CompareOp::Eq => CompareOp::Eq,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        _ => return None,
    })
}

/// `v` in the column's type, if the cast loses nothing: a bound on an integer column from
/// `2.5` would round, and so move the bound across values the comparison admits.
fn exact_cast(v: &Value, data_type: &DataType) -> Option<Value> {
    let cast = types::cast(v.clone(), data_type).ok()?;
    (!cast.is_null() && types::ops::compare(&cast, v).ok()? == Some(Ordering::Equal))
        .then_some(cast)
}

/// The tighter of two bounds on the same side: `wins` is the ordering of a value that is
/// tighter (Greater for lower bounds, Less for upper). An exclusive bound beats an inclusive
/// one at the same value.
fn tighter(current: &Bound<Value>, new: Bound<Value>, wins: Ordering) -> Bound<Value> {
    let (Bound::Included(a) | Bound::Excluded(a)) = current else {
        return new;
    };
    let (Bound::Included(b) | Bound::Excluded(b)) = &new else {
        return current.clone();
    };
    match types::ops::compare(b, a) {
        Ok(Some(Ordering::Equal)) if matches!(new, Bound::Excluded(_)) => new,
        Ok(Some(o)) if o == wins => new,
        _ => current.clone(),
    }
}

/// An `ORDER BY` over a table access whose path already yields rows in that order (or in its
/// reverse) is dropped, reading the path backward if need be. Under a `LIMIT`, an unrestricted
/// scan may also switch to an index whose order fits, so that only the first rows are read.
pub(super) fn use_index_order(node: Node) -> Node {
    map_children(node, use_index_order, |node| match node {
        Node::Limit {
            source,
            limit,
            offset,
        } => Node::Limit {
            source: Box::new(ordered_access(*source, limit.is_some())),
            limit,
            offset,
        },
        node @ Node::Order { .. } => ordered_access(node, false),
        node => node,
    })
}

/// `Order` over (a projection of) a table access, without the sort if a path can produce the
/// order; `limited` allows switching a full scan to a secondary index.
fn ordered_access(node: Node, limited: bool) -> Node {
    let Node::Order { source, keys } = node else {
        return node;
    };
    let (project, access) = match *source {
        Node::Project { source, exprs } => (Some(exprs), *source),
        other => (None, other),
    };
    let access = match reorder(&access, project.as_deref(), &keys, limited) {
        Some(ordered) => return project_over(ordered, project),
        None => access,
    };
    Node::Order {
        source: Box::new(project_over(access, project)),
        keys,
    }
}

fn project_over(node: Node, project: Option<Vec<Expr>>) -> Node {
    match project {
        Some(exprs) => Node::Project {
            source: Box::new(node),
            exprs,
        },
        None => node,
    }
}

/// The access node made to yield rows in the order of `keys` (given over the projection
/// `project` of its rows, if any), or `None` if no path can.
fn reorder(
    access: &Node,
    project: Option<&[Expr]>,
    keys: &[SortKey],
    limited: bool,
) -> Option<Node> {
    let (table, filter) = match access {
        Node::Scan { table, filter, .. } => (table, filter),
        Node::IndexScan {
            table,
            filter,
            backward: false,
            ..
        } => (table, filter),
        _ => return None,
    };
    let sort = sort_columns(table, project, keys)?;
    let backward = sort.first().is_some_and(|(_, descending)| *descending);
    if sort.iter().any(|(_, d)| *d != backward) {
        return None;
    }
    let facts = filter
        .as_ref()
        .map(|f| Restrictions::of(table, f))
        .unwrap_or_default();
    let wanted: Vec<usize> = sort
        .iter()
        .map(|(c, _)| *c)
        .filter(|&c| !facts.constant(c))
        .collect();
    // Does a path's order begin with the wanted columns, passing over constant ones?
    let fits = |columns: &[usize]| {
        let mut wanted = wanted.iter().peekable();
        for column in columns {
            if wanted.peek() == Some(&column) {
                wanted.next();
            } else if !facts.constant(*column) {
                break;
            }
        }
        wanted.peek().is_none()
    };
    match access {
        Node::IndexScan { index, .. } => {
            fits(index.as_ref().map_or(&table.primary_key, |i| &i.columns)).then(|| {
                let mut ordered = access.clone();
                if let Node::IndexScan { backward: b, .. } = &mut ordered {
                    *b = backward;
                }
                ordered
            })
        }
        // A full scan already reads in primary-key order; an index is worth it only when a
        // LIMIT stops the scan early, as each entry costs a row lookup.
        _ => paths(table)
            .filter(|(index, _)| index.is_none() || limited)
            .find(|(_, columns)| fits(columns))
            .map(|(index, _)| Node::IndexScan {
                table: table.clone(),
                index: index.cloned(),
                prefixes: vec![vec![]],
                lower: Bound::Unbounded,
                upper: Bound::Unbounded,
                backward,
                filter: filter.clone(),
            }),
    }
}

/// The table columns the sort keys order by, with their direction, if every key is a plain
/// column of a type whose key order is SQL's, with its NULLs where an index puts them (last
/// ascending, first descending; anywhere for a NOT NULL column).
fn sort_columns(
    table: &Table,
    project: Option<&[Expr]>,
    keys: &[SortKey],
) -> Option<Vec<(usize, bool)>> {
    keys.iter()
        .map(|key| {
            let Expr::Column { index, .. } = &key.expr else {
                return None;
            };
            let column = match project {
                Some(exprs) => match exprs.get(*index)? {
                    Expr::Column { index, .. } => *index,
                    _ => return None,
                },
                None => *index,
            };
            let def = table.columns.get(column)?;
            let nulls_fit = key.nulls_first == key.descending || !def.nullable;
            (keyed_like_sql(&def.data_type) && nulls_fit).then_some((column, key.descending))
        })
        .collect()
}
