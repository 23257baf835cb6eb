//! Parallel aggregation and sorting: an aggregate or a sort over one table's scan (through
//! filters, projections and the probe sides of hash joins) shares the scan with worker
//! threads, as PostgreSQL's partial aggregates and sorts under a Gather do.
//!
//! - **Only where it pays.** The leader (the session's thread) starts alone, from the table's
//!   first row. Only once it has read [`HEAD_ROWS`] rows, so never for a small table, does it
//!   divide the rest of the table's key range into [`PIECES`] pieces, by interpolating between
//!   the last key it read and the table's last stored key, and start workers: up to
//!   `max_parallel_workers_per_gather`, and in all, over every session, one fewer than the
//!   machine's cores, so that a parallel query never takes the last core from the others.
//! - **Pieces in turn.** Leader and workers take pieces from a shared counter, so one that
//!   finishes early takes another (pieces are even for evenly spread keys; a few outlying keys
//!   make them uneven, and the work less shared). Each aggregates its rows into its own groups,
//!   which the leader merges ([`Accumulator::merge`]) and finishes in key order, as the serial
//!   aggregate does; or sorts its rows, and the leader merges the sorted runs as they are read.
//!   A hash join's table is built once, by the leader, and probed by all.
//! - **The same snapshot.** Workers read through a [`ParallelSource`]: the transaction's
//!   snapshot, shared. There is none where the transaction wrote in the table (its own writes
//!   are its thread's), and the operator then runs serially.
//! - **The same result.** Only what any split of the rows computes alike runs in parallel:
//!   expressions without subqueries, volatile functions (the pinned clock of `now()` is
//!   carried) or catalog and sequence reads, hash join build sides that are such pipelines too,
//!   and aggregates whose states combine (count, sum, avg, min, max, bool_and/or, variance and
//!   standard deviation, with FILTER; not DISTINCT, ordered or collecting ones). As in
//!   PostgreSQL, what may differ between runs is what SQL leaves open: the last digits of a sum
//!   of floats, which of several equal values that print differently (`1.5` and `1.50`) a
//!   group or a min/max shows, and the order of rows with equal sort keys.
//! - **Memory.** The leader's first rows may use all of `work_mem` (times
//!   `hash_mem_multiplier` for groups); past them, each participant its equal share. Past
//!   that, the attempt is abandoned and the operator runs serially from the start, where it
//!   spills to disk.
//! - **Errors and cancellation.** A participant's error (or panic) stops the others at their
//!   next piece and fails the statement; a cancel request reaches every participant's scan.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use zizhu_engine::{Direction, KeyRange};
use zizhu_txn::{LockMode, RowLock, WaitPolicy};
use zizhu_types::Value;

use super::aggregate::{finish_group, Accumulator, Group, Grouping, Groups};
use super::join;
use super::query::{filter_rows, instrument, project_rows, scan_rows, Rows};
use super::sort::{merge_runs, SortRun};
use super::{Env, NodeStats, ParallelSource, Reader, ScanRows, ScanValues};
use crate::keys::Key;
use crate::planner::{Aggregate, Expr, Function, Node, SortKey};
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
    if !parallel_safe_aggregate(group_by, aggregates) {
        return Ok(None);
    }
    let Some(mut scan) = Scan::start(node, source, env)? else {
        return Ok(None);
    };
    let budget = env.cache.budget.hash_bytes;
    let grouping = Grouping {
        group_by,
        aggregates,
        env,
    };
    let mut groups = Groups::new(&grouping);
    // The head may use the whole budget: it may be the whole table.
    match scan.head(&mut |row| groups.add(&row, budget))? {
        Head::Abandoned => return Ok(scan.abandon()),
        Head::Whole => return Ok(Some(finish(vec![groups.finish()]))),
        Head::More => {}
    }
    let outcome = scan.in_parallel(
        budget,
        |work, env, share| {
            let grouping = Grouping {
                group_by,
                aggregates,
                env,
            };
            let mut groups = Groups::new(&grouping);
            let complete = work.take_pieces(env, &mut |row| groups.add(&row, share))?;
            Ok(complete.then(|| groups.finish()))
        },
        |work, share| work.take_pieces(env, &mut |row| groups.add(&row, share)),
    )?;
    let Some(mut all) = outcome else {
        return Ok(scan.abandon());
    };
    // The leader's groups first: a group's values (and a tie for min or max) come from the
    // first participant holding it, and the leader read the table's first rows.
    all.insert(0, groups.finish());
    Ok(Some(finish(all)))
}

/// The rows of `source` sorted by `keys` in parallel, or `None` if the sort must run serially:
/// the plan or the transaction does not allow it, or the rows outgrew `work_mem` (the serial
/// sort spills). Each participant sorts the rows it read; the runs are merged as they are
/// read. Rows with equal keys come in no particular order, as in PostgreSQL.
pub(super) fn sort<'a>(
    node: &'a Node,
    source: &'a Node,
    keys: &'a [SortKey],
    env: &'a Env<'a>,
) -> Result<Option<Rows<'a>>> {
    if !keys.iter().all(|k| parallel_safe(&k.expr)) {
        return Ok(None);
    }
    let Some(mut scan) = Scan::start(node, source, env)? else {
        return Ok(None);
    };
    let budget = env.cache.budget.bytes;
    let mut run = SortRun::new(keys, env);
    match scan.head(&mut |row| run.add(row, budget))? {
        Head::Abandoned => return Ok(scan.abandon()),
        Head::Whole => return Ok(Some(merge_runs(vec![run.finish()?], keys))),
        Head::More => {}
    }
    // The leader's first rows alone outgrow a participant's share: workers would start only
    // for the attempt to be abandoned.
    if run.bytes() > budget / (scan.wanted + 1) {
        return Ok(scan.abandon());
    }
    let outcome = scan.in_parallel(
        budget,
        |work, env, share| {
            let mut run = SortRun::new(keys, env);
            let complete = work.take_pieces(env, &mut |row| run.add(row, share))?;
            complete.then(|| run.finish()).transpose()
        },
        |work, share| work.take_pieces(env, &mut |row| run.add(row, share)),
    )?;
    let Some(mut runs) = outcome else {
        return Ok(scan.abandon());
    };
    // The leader's run first: on equal keys, the table's first rows stay first.
    runs.insert(0, run.finish()?);
    Ok(Some(merge_runs(runs, keys)))
}

/// A parallel scan being set up and run, as its leader sees it.
struct Scan<'a> {
    /// The node computed in parallel (for EXPLAIN ANALYZE's worker count).
    node: &'a Node,
    env: &'a Env<'a>,
    /// Workers wanted.
    wanted: usize,
    range: KeyRange,
    /// Under EXPLAIN ANALYZE, the counts before the attempt, should it be abandoned.
    stats_before: Option<HashMap<usize, NodeStats>>,
    work: Work<'a>,
}

/// What every participant shares.
struct Work<'a> {
    /// The pipeline.
    source: &'a Node,
    /// Its joins' hash tables.
    tables: Tables,
    /// The table's rows.
    rows: Box<dyn ParallelSource + 'a>,
    /// The pieces of the table past the leader's head, and the next one to take.
    pieces: Vec<KeyRange>,
    next: AtomicUsize,
    /// Set when a participant fails or gives up, so the others stop.
    stop: AtomicBool,
}

/// How the leader's first rows went.
enum Head {
    /// The rows outgrew the participant's memory.
    Abandoned,
    /// They were the whole table.
    Whole,
    /// More rows remain, divided into pieces.
    More,
}

impl<'a> Scan<'a> {
    /// A parallel scan of the pipeline `source` for `node`, if the settings, the machine, the
    /// plan and the transaction allow one. Builds the pipeline's hash tables.
    fn start(node: &'a Node, source: &'a Node, env: &'a Env<'a>) -> Result<Option<Self>> {
        let wanted = match &env.cache.settings {
            Some(settings) => settings.max_parallel_workers_per_gather(),
            None => 0,
        }
        .min(cores().saturating_sub(1));
        if wanted == 0 {
            return Ok(None);
        }
        let Some(table) = scanned_table(source) else {
            return Ok(None);
        };
        let range = Key::table_rows(table.id);
        let Some(rows) = env.reader.parallel_source(&range) else {
            return Ok(None);
        };
        let stats_before = env.cache.stats.as_ref().map(|s| s.borrow().clone());
        let mut scan = Scan {
            node,
            env,
            wanted,
            range,
            stats_before,
            work: Work {
                source,
                tables: Tables::new(),
                rows,
                pieces: Vec::new(),
                next: AtomicUsize::new(0),
                stop: AtomicBool::new(false),
            },
        };
        let Some(tables) = build_tables(source, env)? else {
            return Ok(scan.abandon());
        };
        scan.work.tables = tables;
        count_loop(source, env);
        Ok(Some(scan))
    }

    /// Gives up: EXPLAIN ANALYZE's counts are as they were, for the serial run.
    fn abandon<T>(&self) -> Option<T> {
        if let (Some(stats), Some(before)) = (&self.env.cache.stats, self.stats_before.clone()) {
            *stats.borrow_mut() = before;
        }
        None
    }

    /// The leader alone: up to [`HEAD_ROWS`] rows into `add` (which refuses a row it has no
    /// memory left for); if more remain, the rest divided into pieces.
    fn head(&mut self, add: &mut dyn FnMut(Vec<Value>) -> Result<bool>) -> Result<Head> {
        let env = self.env;
        let last_read = RefCell::new(Vec::new());
        let read = Cell::new(0);
        {
            let head = env
                .reader
                .scan(self.range.clone(), Direction::Forward)?
                .take(HEAD_ROWS)
                .map(|item| {
                    item.map(|(key, value)| {
                        read.set(read.get() + 1);
                        *last_read.borrow_mut() = key;
                        value
                    })
                });
            for row in stage(self.work.source, Box::new(head), &self.work.tables, env)? {
                if !add(row?)? {
                    return Ok(Head::Abandoned);
                }
            }
        }
        let last = match self.work.rows.last_key()? {
            Some(last) if read.get() == HEAD_ROWS => last,
            _ => return Ok(Head::Whole),
        };
        self.work.pieces = divide(&self.range, &last_read.into_inner(), &last, PIECES);
        Ok(Head::More)
    }

    /// Runs `leader` on this thread and `worker` on as many workers as may start, each taking
    /// pieces and given an equal share of `budget` bytes; the workers' outputs, or `None` if a
    /// participant gave up (its rows outgrew its share). An error of any participant is
    /// returned (the leader's first, then the workers' in order); under EXPLAIN ANALYZE the
    /// workers' counts are added to the leader's.
    fn in_parallel<O: Send>(
        &self,
        budget: usize,
        worker: impl Fn(&Work<'a>, &Env<'_>, usize) -> Result<Option<O>> + Sync,
        leader: impl FnOnce(&Work<'a>, usize) -> Result<bool>,
    ) -> Result<Option<Vec<O>>> {
        let env = self.env;
        let workers = Reservation::take(self.wanted);
        let work = &self.work;
        let worker = &worker;
        let share = budget / (workers.0 + 1);
        let (leader, outcomes) = std::thread::scope(|scope| {
            // A worker that cannot start is one fewer.
            let handles: Vec<_> = (0..workers.0)
                .filter_map(|_| {
                    let seed = env.cache.worker_seed();
                    let spawned = std::thread::Builder::new()
                        .name("zizhu-parallel".into())
                        .spawn_scoped(scope, move || {
                            let _stop = StopOnPanic(&work.stop);
                            let cache = seed.cache();
                            let outcome = {
                                let env = Env::new(&NoReads, &cache);
                                count_loop(work.source, &env);
                                worker(work, &env, share)
                            };
                            if !matches!(outcome, Ok(Some(_))) {
                                work.stop.store(true, Ordering::Relaxed);
                            }
                            outcome.map(|o| (o, cache.stats.map(RefCell::into_inner)))
                        });
                    spawned.ok()
                })
                .collect();
            let leader = {
                let _stop = StopOnPanic(&work.stop);
                leader(work, share)
            };
            if !matches!(leader, Ok(true)) {
                work.stop.store(true, Ordering::Relaxed);
            }
            let outcomes: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            (leader, outcomes)
        });
        let launched = outcomes.len() as u64;
        drop(workers);
        let mut outputs = Vec::new();
        let mut complete = leader?;
        for outcome in outcomes {
            let (output, stats) =
                outcome.map_err(|_| errinternal!("a parallel worker panicked"))??;
            if let (Some(mine), Some(theirs)) = (&env.cache.stats, stats) {
                let mut mine = mine.borrow_mut();
                for (node, s) in theirs {
                    let entry = mine.entry(node).or_default();
                    entry.rows += s.rows;
                    entry.time += s.time;
                    entry.loops += s.loops;
                }
            }
            match output {
                Some(output) => outputs.push(output),
                None => complete = false,
            }
        }
        if !complete {
            return Ok(None);
        }
        if let Some(stats) = &env.cache.stats {
            let mut stats = stats.borrow_mut();
            let entry = stats.entry(self.node as *const Node as usize).or_default();
            entry.workers += launched;
        }
        Ok(Some(outputs))
    }
}

impl Work<'_> {
    /// Takes pieces in turn until none is left, giving their rows to `add`: `false` if `add`
    /// refused one (out of memory) or another participant stopped.
    fn take_pieces(
        &self,
        env: &Env<'_>,
        add: &mut dyn FnMut(Vec<Value>) -> Result<bool>,
    ) -> Result<bool> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let Some(piece) = self.pieces.get(self.next.fetch_add(1, Ordering::Relaxed)) else {
                return Ok(true);
            };
            let input = self.rows.scan_values(piece.clone())?;
            for row in stage(self.source, input, &self.tables, env)? {
                if !add(row?)? {
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
        // The build side is read once, by the leader, but may be read again if the attempt is
        // abandoned: it must be a pipeline without side effects too.
        Node::HashJoin {
            left,
            right,
            keys,
            predicate,
            ..
        } if parallel_safe(predicate)
            && keys
                .iter()
                .all(|(l, r)| parallel_safe(l) && parallel_safe(r))
            && scanned_table(right).is_some() =>
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
/// no function that is volatile (but for the pinned clock of `now()`) or reads the session,
/// the catalog or sequences.
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
            // The statement's and transaction's clock (`now()`) is carried to workers;
            // `random()` and `clock_timestamp()` are not the same on every thread.
            Expr::Function(Function::Builtin(name), _)
                if crate::functions::is_volatile(name)
                    && crate::functions::pinned_clock(name, 0, 0).is_none() =>
            {
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

/// Stops the other participants if its thread panics, so they do not read on in vain.
struct StopOnPanic<'s>(&'s AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
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
