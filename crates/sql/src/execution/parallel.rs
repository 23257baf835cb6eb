//! Parallel aggregation: an aggregate over one table's scan (through filters, projections and
//! the probe sides of hash joins) shares the scan with worker threads, as PostgreSQL's partial
//! aggregates under a Gather do.
//!
//! - **Only where it pays.** The leader (the session's thread) starts alone, from the table's
//!   first row. Only once it has read [`HEAD_ROWS`] rows, so never for a small table, does it
//!   divide the rest of the table's key range into [`PIECES`] pieces, by interpolating between
//!   the last key it read and the table's last stored key, and start workers: up to
//!   `max_parallel_workers_per_gather`, and in all, over every session, one fewer than the
//!   machine's cores, so that a parallel query never takes the last core from the others.
//! - **Pieces in turn.** Leader and workers take pieces from a shared counter, so one that
//!   finishes early takes another. Each aggregates its rows into its own groups; the leader
//!   merges them ([`Accumulator::merge`]) and finishes them in key order, as the serial
//!   aggregate does. A hash join's table is built once, by the leader, and probed by all.
//! - **The same snapshot.** Workers read through a [`ParallelSource`]: the transaction's
//!   snapshot, shared. There is none where the transaction wrote in the table (its own writes
//!   are its thread's), and the aggregate then runs serially.
//! - **The same result.** Only what any split of the rows computes alike runs in parallel:
//!   expressions without subqueries, volatile functions or catalog reads, and aggregates whose
//!   states combine (count, sum, avg, min, max, bool_and/or, variance and standard deviation,
//!   with FILTER; not DISTINCT, ordered or collecting ones). As in PostgreSQL, a sum of floats
//!   may differ in its last digits with the split.
//! - **Memory.** Each participant may hold its share of `work_mem` (times
//!   `hash_mem_multiplier`) in groups. Past it, the parallel attempt is abandoned and the
//!   aggregate runs serially from the start, where it spills to disk.
//! - **Errors and cancellation.** The first error stops the others at their next piece and
//!   is the statement's; a cancel request reaches every participant's scan.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use zizhu_engine::{Direction, KeyRange};
use zizhu_txn::{LockMode, RowLock, WaitPolicy};

use super::aggregate::{finish_group, Accumulator, Group, Grouping, Groups};
use super::join;
use super::query::{filter_rows, instrument, project_rows, scan_rows, Rows};
use super::{Env, NodeStats, ParallelSource, Reader, ScanRows, ScanValues, WorkerSeed};
use crate::keys::Key;
use crate::planner::{Aggregate, Expr, Function, Node};
use crate::{errinternal, Result};

/// Rows the leader reads alone before it divides the rest of the table: a table this small is
/// never divided, and a worker starts only where the leader has done this much already.
const HEAD_ROWS: usize = 20_000;

/// Pieces the rest of the table is divided into, so that participants finishing early take
/// more and an uneven spread of keys still divides the work.
const PIECES: usize = 64;

/// The hash tables of a pipeline's joins, by join node.
type Tables = HashMap<usize, join::Table>;

/// Workers running in this process, over all sessions.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The aggregate of `node` (`source`, grouped by `group_by`) computed in parallel, or `None` if
/// it must run serially: the plan or the transaction does not allow it, or the groups outgrew
/// memory. Its rows are the groups in key order, as the serial aggregate's.
pub(super) fn aggregate<'a>(
    node: &'a Node,
    source: &'a Node,
    group_by: &'a [Expr],
    aggregates: &'a [Aggregate],
    env: &'a Env<'a>,
) -> Result<Option<Rows<'a>>> {
    let wanted = match &env.cache.settings {
        Some(settings) => settings.max_parallel_workers_per_gather(),
        None => 0,
    }
    .min(cores().saturating_sub(1));
    if wanted == 0 || !parallel_safe_aggregate(group_by, aggregates) {
        return Ok(None);
    }
    let Some(table) = scanned_table(source) else {
        return Ok(None);
    };
    let range = Key::table_rows(table.id);
    let Some(shared) = env.reader.parallel_source(&range) else {
        return Ok(None);
    };
    // Under EXPLAIN ANALYZE, what the counts were, should the attempt be abandoned.
    let stats_before = env.cache.stats.as_ref().map(|s| s.borrow().clone());
    let abandon = || {
        if let (Some(stats), Some(before)) = (&env.cache.stats, stats_before.clone()) {
            *stats.borrow_mut() = before;
        }
        Ok(None)
    };
    let Some(tables) = build_tables(source, env)? else {
        return abandon();
    };
    count_loop(source, env);
    let grouping = Grouping {
        group_by,
        aggregates,
        env,
    };
    let share = env.cache.budget.hash_bytes / (wanted + 1);
    let mut groups = Groups::new(&grouping);

    // The leader alone, up to HEAD_ROWS rows, noting the last key read.
    let last_read = RefCell::new(Vec::new());
    let read = Cell::new(0);
    {
        let head = env
            .reader
            .scan(range.clone(), Direction::Forward)?
            .take(HEAD_ROWS)
            .map(|item| {
                item.map(|(key, value)| {
                    read.set(read.get() + 1);
                    *last_read.borrow_mut() = key;
                    value
                })
            });
        for row in stage(source, Box::new(head), &tables, env)? {
            if !groups.add(&row?, share)? {
                return abandon();
            }
        }
    }
    let last = match shared.last_key()? {
        Some(last) if read.get() == HEAD_ROWS => last,
        // The whole table was read.
        _ => return Ok(Some(finish(vec![groups.finish()]))),
    };
    let pieces = divide(&range, &last_read.into_inner(), &last, PIECES);

    let workers = Reservation::take(wanted);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let shared: &dyn ParallelSource = &*shared;
    let (leader, outcomes) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.0)
            .map(|_| {
                let seed = env.cache.worker_seed();
                let (pieces, next, stop, tables) = (&pieces, &next, &stop, &tables);
                scope.spawn(move || {
                    let participant = Participant {
                        source,
                        tables,
                        shared,
                        pieces,
                        next,
                        share,
                        stop,
                    };
                    let outcome = worker(seed, group_by, aggregates, &participant);
                    if !matches!(outcome, Ok(Some(_))) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    outcome
                })
            })
            .collect();
        let participant = Participant {
            source,
            tables: &tables,
            shared,
            pieces: &pieces,
            next: &next,
            share,
            stop: &stop,
        };
        let leader = participant.take_pieces(&mut groups);
        if !matches!(leader, Ok(true)) {
            stop.store(true, Ordering::Relaxed);
        }
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        (leader, outcomes)
    });
    let launched = workers.0 as u64;
    drop(workers);
    let mut all = vec![];
    let mut complete = leader?;
    for outcome in outcomes {
        let outcome =
            outcome.map_err(|_| errinternal!("a parallel aggregate's worker panicked"))??;
        match outcome {
            Some((groups, stats)) => {
                all.push(groups);
                if let (Some(mine), Some(theirs)) = (&env.cache.stats, stats) {
                    let mut mine = mine.borrow_mut();
                    for (node, s) in theirs {
                        let entry = mine.entry(node).or_default();
                        entry.rows += s.rows;
                        entry.time += s.time;
                        entry.loops += s.loops;
                    }
                }
            }
            None => complete = false,
        }
    }
    if !complete {
        return abandon();
    }
    all.push(groups.finish());
    if let Some(stats) = &env.cache.stats {
        let mut stats = stats.borrow_mut();
        stats
            .entry(node as *const Node as usize)
            .or_default()
            .workers += launched;
    }
    Ok(Some(finish(all)))
}

/// One worker: its own state for evaluating expressions, its share of the pieces, its groups
/// (`None` if they outgrew their share or another participant stopped) and, under EXPLAIN
/// ANALYZE, its counts.
#[allow(clippy::type_complexity)]
fn worker(
    seed: WorkerSeed,
    group_by: &[Expr],
    aggregates: &[Aggregate],
    participant: &Participant<'_>,
) -> Result<Option<(Vec<(Vec<u8>, Group)>, Option<HashMap<usize, NodeStats>>)>> {
    let cache = seed.cache();
    let finished = {
        let env = Env::new(&NoReads, &cache);
        count_loop(participant.source, &env);
        let grouping = Grouping {
            group_by,
            aggregates,
            env: &env,
        };
        let mut groups = Groups::new(&grouping);
        if !participant.take_pieces(&mut groups)? {
            return Ok(None);
        }
        groups.finish()
    };
    Ok(Some((finished, cache.stats.map(RefCell::into_inner))))
}

/// What every participant shares.
struct Participant<'p> {
    /// The pipeline.
    source: &'p Node,
    /// Its joins' hash tables.
    tables: &'p Tables,
    /// The table's rows.
    shared: &'p dyn ParallelSource,
    /// The pieces of the table, and the next one to take.
    pieces: &'p [KeyRange],
    next: &'p AtomicUsize,
    /// What each participant's groups may hold.
    share: usize,
    /// Set when a participant fails or gives up, so the others stop.
    stop: &'p AtomicBool,
}

impl Participant<'_> {
    /// Takes pieces in turn until none is left, aggregating their rows into `groups`: `false`
    /// if the groups outgrew their share or another participant stopped.
    fn take_pieces(&self, groups: &mut Groups<'_>) -> Result<bool> {
        let env = groups.env();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let Some(piece) = self.pieces.get(self.next.fetch_add(1, Ordering::Relaxed)) else {
                return Ok(true);
            };
            let input = self.shared.scan_values(piece.clone())?;
            for row in stage(self.source, input, self.tables, env)? {
                if !groups.add(&row?, self.share)? {
                    return Ok(false);
                }
            }
        }
    }
}

/// The rows of the scan pipeline `node` (a table scan under filters, projections and the
/// probe sides of hash joins, whose `tables` are built) from the scan's raw values `input`.
fn stage<'b>(
    node: &'b Node,
    input: ScanValues<'b>,
    tables: &'b Tables,
    env: &'b Env<'b>,
) -> Result<Rows<'b>> {
    let rows = match node {
        Node::Scan {
            filter, columns, ..
        } => scan_rows(input, filter, columns.as_deref(), env),
        Node::Filter { source, predicate } => {
            filter_rows(stage(source, input, tables, env)?, predicate, env)
        }
        Node::Project { source, exprs } => {
            project_rows(stage(source, input, tables, env)?, exprs, env)
        }
        Node::HashJoin {
            left,
            keys,
            predicate,
            kind,
            right_width,
            ..
        } => {
            let Some(table) = tables.get(&(node as *const Node as usize)) else {
                return Err(errinternal!("a parallel hash join without its table"));
            };
            let left = stage(left, input, tables, env)?;
            join::probe_rows(left, table, keys, predicate, *kind, *right_width, env)
        }
        _ => return Err(errinternal!("a parallel scan under {node:?}")),
    };
    Ok(instrument(node, rows, env))
}

/// Under EXPLAIN ANALYZE, counts one run of each node of the pipeline `node` for a participant.
fn count_loop(node: &Node, env: &Env<'_>) {
    let Some(stats) = &env.cache.stats else {
        return;
    };
    let mut node = node;
    loop {
        stats
            .borrow_mut()
            .entry(node as *const Node as usize)
            .or_default()
            .loops += 1;
        match node {
            Node::Filter { source, .. }
            | Node::Project { source, .. }
            | Node::HashJoin { left: source, .. } => node = source,
            _ => return,
        }
    }
}

/// The participants' groups, each list in key order, merged and finished in key order.
fn finish(lists: Vec<Vec<(Vec<u8>, Group)>>) -> Rows<'static> {
    let mut all: Vec<(Vec<u8>, Group)> = lists.into_iter().flatten().collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<Group> = Vec::new();
    let mut last_key: Option<Vec<u8>> = None;
    let mut result = Ok(());
    for (key, (values, accumulators)) in all {
        match merged.last_mut() {
            Some((_, into)) if last_key.as_ref() == Some(&key) => {
                for ((into, _), (from, _)) in into.iter_mut().zip(accumulators) {
                    if let Err(e) = into.merge(from) {
                        result = Err(e);
                    }
                }
            }
            _ => {
                merged.push((values, accumulators));
                last_key = Some(key);
            }
        }
    }
    match result {
        Ok(()) => Box::new(merged.into_iter().map(finish_group)),
        Err(e) => Box::new(std::iter::once(Err(e))),
    }
}

/// The table a pipeline of filters and projections over one table scan reads, if every
/// expression in it is [`parallel_safe`].
fn scanned_table(node: &Node) -> Option<&std::sync::Arc<crate::catalog::Table>> {
    match node {
        Node::Scan { table, filter, .. } => filter.iter().all(parallel_safe).then_some(table),
        Node::Filter { source, predicate } if parallel_safe(predicate) => scanned_table(source),
        Node::Project { source, exprs } if exprs.iter().all(parallel_safe) => scanned_table(source),
        Node::HashJoin {
            left,
            keys,
            predicate,
            ..
        } if parallel_safe(predicate)
            && keys
                .iter()
                .all(|(l, r)| parallel_safe(l) && parallel_safe(r)) =>
        {
            scanned_table(left)
        }
        _ => None,
    }
}

/// The hash tables of the joins in the pipeline `node`, by node, built by the leader for all
/// participants to probe; `None` if one outgrows `hash_mem`.
fn build_tables(node: &Node, env: &Env<'_>) -> Result<Option<Tables>> {
    let mut tables = Tables::new();
    let mut node = node;
    loop {
        match node {
            Node::Filter { source, .. } | Node::Project { source, .. } => node = source,
            Node::HashJoin {
                left,
                right,
                keys,
                predicate,
                ..
            } => {
                let Some(table) = join::build_shared(right, keys, predicate, env)? else {
                    return Ok(None);
                };
                tables.insert(node as *const Node as usize, table);
                node = left;
            }
            _ => return Ok(Some(tables)),
        }
    }
}

/// Whether the grouping and every aggregate can be computed in parts and combined.
fn parallel_safe_aggregate(group_by: &[Expr], aggregates: &[Aggregate]) -> bool {
    group_by.iter().all(parallel_safe)
        && aggregates
            .iter()
            .all(|a| Accumulator::merges(a) && a.exprs().into_iter().all(parallel_safe))
}

/// Whether `expr` gives the same value on any thread: no subqueries or enclosing rows, and
/// no function that is volatile or reads the session, the catalog or sequences.
fn parallel_safe(expr: &Expr) -> bool {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Subquery(_)
            | Expr::Exists(_)
            | Expr::InSubquery(..)
            | Expr::Quantified { .. }
            | Expr::ArraySubquery(..)
            | Expr::OuterColumn { .. } => return false,
            Expr::Function(Function::Catalog(_) | Function::Admin(_), _) => return false,
            Expr::Function(f, _) if f.reads_state() => return false,
            Expr::Function(Function::Builtin(name), _) if crate::functions::is_volatile(name) => {
                return false
            }
            e => stack.extend(e.children()),
        }
    }
    true
}

/// The rest of `range` after the key `after`, in pieces of about equal width up to `last`
/// (the range's last stored key); the last piece ends where `range` ends.
fn divide(range: &KeyRange, after: &[u8], last: &[u8], pieces: usize) -> Vec<KeyRange> {
    let mut starts = vec![Bound::Excluded(after.to_vec())];
    starts.extend(
        split_points(after, last, pieces)
            .into_iter()
            .map(Bound::Included),
    );
    let mut ends: Vec<Bound<Vec<u8>>> = starts[1..]
        .iter()
        .map(|start| match start {
            Bound::Included(point) => Bound::Excluded(point.clone()),
            _ => Bound::Unbounded,
        })
        .collect();
    ends.push(range.1.clone());
    starts.into_iter().zip(ends).collect()
}

/// Up to `pieces - 1` keys above `low` and at most `high`, in increasing order, spaced evenly
/// by the eight bytes after the keys' common prefix read as a number.
fn split_points(low: &[u8], high: &[u8], pieces: usize) -> Vec<Vec<u8>> {
    let common = low.iter().zip(high).take_while(|(a, b)| a == b).count();
    let number = |key: &[u8]| {
        let tail = key.get(common..).unwrap_or_default();
        let mut bytes = [0u8; 8];
        let n = tail.len().min(8);
        bytes[..n].copy_from_slice(&tail[..n]);
        u64::from_be_bytes(bytes)
    };
    let (a, b) = (number(low), number(high));
    let mut points: Vec<Vec<u8>> = Vec::new();
    if b <= a {
        return points;
    }
    for i in 1..pieces {
        let x = a + ((b - a) as u128 * i as u128 / pieces as u128) as u64;
        let mut point = high[..common].to_vec();
        point.extend_from_slice(&x.to_be_bytes());
        if point.as_slice() > low && point.as_slice() <= high && points.last() != Some(&point) {
            points.push(point);
        }
    }
    points
}

/// The machine's cores.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Workers a statement may start, counted in [`RUNNING`] until dropped.
struct Reservation(usize);

impl Reservation {
    /// Up to `wanted` workers, as many as keep the process's workers below its cores.
    fn take(wanted: usize) -> Self {
        let cap = cores().saturating_sub(1);
        let mut running = RUNNING.load(Ordering::Relaxed);
        loop {
            let n = wanted.min(cap.saturating_sub(running));
            if n == 0 {
                return Reservation(0);
            }
            match RUNNING.compare_exchange(
                running,
                running + n,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Reservation(n),
                Err(now) => running = now,
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        RUNNING.fetch_sub(self.0, Ordering::AcqRel);
    }
}

/// A worker's reader: its rows come from the [`ParallelSource`], and its expressions, being
/// [`parallel_safe`], read nothing else.
struct NoReads;

impl NoReads {
    fn error() -> crate::Error {
        errinternal!("a parallel worker's expression read the database")
    }
}

impl Reader for NoReads {
    fn lock_row(&self, _: &[u8], _: LockMode, _: WaitPolicy) -> Result<Option<RowLock>> {
        Err(Self::error())
    }

    fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>> {
        Err(Self::error())
    }

    fn scan(&self, _: KeyRange, _: Direction) -> Result<ScanRows<'_>> {
        Err(Self::error())
    }

    fn get_advisory(&self, _: &[u8]) -> Result<Option<Vec<u8>>> {
        Err(Self::error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zizhu_keycode::encode_tuple;
    use zizhu_types::Value;

    fn key(id: i64) -> Vec<u8> {
        let mut key = b"rows/".to_vec();
        key.extend(encode_tuple(&[Value::Int64(id)]));
        key
    }

    fn within(range: &KeyRange, key: &[u8]) -> bool {
        use std::ops::RangeBounds;
        (range.0.as_ref(), range.1.as_ref()).contains(&key.to_vec())
    }

    #[test]
    fn pieces_cover_the_rest_of_a_range_once_and_about_evenly() {
        let range: KeyRange = (
            Bound::Included(b"rows/".to_vec()),
            Bound::Excluded(b"rows0".to_vec()),
        );
        let pieces = divide(&range, &key(20_000), &key(1_000_000), PIECES);
        assert_eq!(pieces.len(), PIECES);
        let mut sizes = vec![0usize; pieces.len()];
        for id in 1..=1_000_100 {
            let k = key(id);
            let holders: Vec<usize> = (0..pieces.len())
                .filter(|&i| within(&pieces[i], &k))
                .collect();
            if id <= 20_000 {
                assert!(holders.is_empty(), "{id} is in {holders:?}");
            } else {
                assert_eq!(holders.len(), 1, "{id} is in {holders:?}");
                sizes[holders[0]] += 1;
            }
        }
        // The last piece also holds what lies past the last key.
        let (smallest, largest) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(*smallest > 14_000 && *largest < 17_000, "{sizes:?}");
    }

    #[test]
    fn keys_too_close_to_divide_give_one_piece() {
        let range: KeyRange = (Bound::Unbounded, Bound::Unbounded);
        assert_eq!(
            divide(&range, b"abc", b"abc", 8),
            vec![(Bound::Excluded(b"abc".to_vec()), Bound::Unbounded)]
        );
        // Neighbours: no key lies between them but the longer ones after the low key.
        let points = split_points(b"k\x05", b"k\x06", 8);
        assert!(points.iter().all(|p| p.starts_with(b"k\x05")), "{points:?}");
        // Text keys divide too, each point above the low key and at most the high one.
        let points = split_points(b"row 1", b"row 99999", 16);
        assert!(points.len() > 8);
        assert!(points.windows(2).all(|w| w[0] < w[1]));
        assert!(
            points
                .iter()
                .all(|p| p.as_slice() > b"row 1".as_slice()
                    && p.as_slice() <= b"row 99999".as_slice())
        );
    }
}
