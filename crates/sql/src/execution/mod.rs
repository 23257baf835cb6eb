//! Execution: plans run against a transaction.
//!
//! Query nodes are iterators of rows pulled by their parent (the Volcano model); a scan
//! streams from the transaction layer, and only the operators that must see all their input
//! (sort, aggregate, the inner side of a join) hold it, up to `work_mem`: past it, sorts, hash
//! joins and hash aggregates spill to temporary files ([`spill`]). An aggregate over a large
//! table's scan shares the scan with worker threads (`parallel`).
//!
//! Writes find their target rows at the statement's snapshot first and only then lock and
//! change them, so an UPDATE never sees its own new rows (the Halloween problem). Each target
//! row is locked; under READ COMMITTED, if a concurrent transaction changed it meanwhile, the
//! newest version is re-checked against the WHERE clause and updated instead, as PostgreSQL's
//! EvalPlanQual does. Under REPEATABLE READ and SERIALIZABLE the lock fails with 40001.

pub mod admin;
mod aggregate;
mod alter;
mod analyze;
mod expr;
mod foreign_key;
pub mod index;
mod join;
mod parallel;
mod query;
mod schema;
mod set_function;
mod sort;
pub mod spill;
mod write;

pub use expr::eval;
pub use query::rows;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use zizhu_engine::{Direction, Engine, KeyRange};
use zizhu_txn::{LockMode, RowLock, Transaction, WaitPolicy};
use zizhu_types::Value;

use crate::catalog::{Catalog, Table};
use crate::keys::Namespace;
use crate::planner::RelationName;
use crate::planner::{Label, Plan};
use crate::sequence::Sequences;
use crate::types::DataType;
use crate::{errinput, Result};

/// The result of one statement.
#[derive(Clone, Debug, PartialEq)]
pub enum StatementResult {
    /// Rows of a query (or of EXPLAIN).
    Query {
        /// Output columns.
        labels: Vec<Label>,
        /// Rows.
        rows: Vec<Vec<Value>>,
    },
    /// `INSERT` of this many rows.
    Insert(u64),
    /// `UPDATE` of this many rows.
    Update(u64),
    /// `DELETE` of this many rows.
    Delete(u64),
    /// Another command, with its PostgreSQL command tag (`CREATE TABLE`, `BEGIN`, ...).
    Command(&'static str),
    /// An empty statement (a prepared statement of only whitespace or comments).
    Empty,
    /// `COPY ... FROM STDIN`, waiting for its data ([`crate::Session::copy_in`]).
    CopyIn(Box<crate::session::CopyIn>),
    /// `COPY ... TO STDOUT`: the encoded data.
    CopyOut {
        /// Each row (and the header, if asked for) in the COPY format asked for, one piece
        /// per row as the protocol sends them.
        data: Vec<Vec<u8>>,
        /// Columns per row.
        columns: usize,
        /// How many rows.
        rows: u64,
    },
    /// A `COPY` of this many rows.
    Copy(u64),
    /// `CREATE TABLE ... AS` or `SELECT ... INTO` of this many rows (tagged `SELECT n`).
    Select(u64),
    /// An INSERT, UPDATE or DELETE with `RETURNING`: its rows, and its command tag.
    Returning {
        /// The command tag (`INSERT 0 2`).
        tag: String,
        /// Output columns.
        labels: Vec<Label>,
        /// The returned rows.
        rows: Vec<Vec<Value>>,
    },
}

impl StatementResult {
    /// The PostgreSQL command tag (`SELECT 3`, `INSERT 0 1`, ...).
    pub fn tag(&self) -> String {
        match self {
            StatementResult::Query { rows, .. } => format!("SELECT {}", rows.len()),
            StatementResult::Select(n) => format!("SELECT {n}"),
            StatementResult::Insert(n) => format!("INSERT 0 {n}"),
            StatementResult::Update(n) => format!("UPDATE {n}"),
            StatementResult::Delete(n) => format!("DELETE {n}"),
            StatementResult::Command(tag) => tag.to_string(),
            StatementResult::Returning { tag, .. } => tag.clone(),
            StatementResult::Empty => String::new(),
            StatementResult::CopyIn(_) => "COPY".into(),
            StatementResult::CopyOut { rows, .. } | StatementResult::Copy(rows) => {
                format!("COPY {rows}")
            }
        }
    }
}

/// Read access for query execution, whatever the engine: lets expression evaluation run
/// subqueries without the engine type leaking into every operator.
pub trait Reader {
    /// Locks a row (`SELECT ... FOR UPDATE`); `None` if skipped under SKIP LOCKED.
    fn lock_row(&self, key: &[u8], mode: LockMode, wait: WaitPolicy) -> Result<Option<RowLock>>;
    /// Reads a key at the transaction's snapshot.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Scans a range at the transaction's snapshot.
    fn scan(&self, range: KeyRange, direction: Direction) -> Result<ScanRows<'_>>;
    /// The values of [`Reader::scan`], for readers that need no keys (which may then skip
    /// decoding them).
    fn scan_values(&self, range: KeyRange, direction: Direction) -> Result<ScanValues<'_>> {
        Ok(Box::new(
            self.scan(range, direction)?
                .map(|r| r.map(|(_, value)| value)),
        ))
    }
    /// Reads advisory data (statistics) as of now, outside the serializable read set
    /// ([`Transaction::get_advisory`]).
    fn get_advisory(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// A source for reading `range` from other threads (a parallel scan's workers), or
    /// `None` where it could not give this reader's view (its transaction wrote in `range`).
    /// The whole range counts as read, as by [`Reader::scan`].
    fn parallel_source(&self, _range: &KeyRange) -> Option<Box<dyn ParallelSource + '_>> {
        None
    }
}

/// The committed rows of one key range at a transaction's snapshot, readable from several
/// threads at once ([`Reader::parallel_source`]).
pub trait ParallelSource: Sync {
    /// The values of the rows in `range`, which lies within the source's range, in key order.
    fn scan_values(&self, range: KeyRange) -> Result<ScanValues<'_>>;
    /// The greatest key in the source's range that has a stored version: where a scan of the
    /// range can end, for dividing it.
    fn last_key(&self) -> Result<Option<Vec<u8>>>;
}

impl<E: Engine> ParallelSource for zizhu_txn::SnapshotReader<'_, E> {
    fn scan_values(&self, range: KeyRange) -> Result<ScanValues<'_>> {
        Ok(Box::new(
            zizhu_txn::SnapshotReader::scan_values(self, range)?.map(|r| r.map_err(Into::into)),
        ))
    }

    fn last_key(&self) -> Result<Option<Vec<u8>>> {
        Ok(zizhu_txn::SnapshotReader::last_key(self)?)
    }
}

/// Raw `(key, value)` pairs of a scan.
pub type ScanRows<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a>;

/// Raw values of a scan ([`Reader::scan_values`]).
pub type ScanValues<'a> = Box<dyn Iterator<Item = Result<Vec<u8>>> + 'a>;

impl<E: Engine> Reader for Transaction<E> {
    fn lock_row(&self, key: &[u8], mode: LockMode, wait: WaitPolicy) -> Result<Option<RowLock>> {
        Ok(Transaction::lock_row(self, key, mode, wait)?)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(Transaction::get(self, key)?)
    }

    fn get_advisory(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(Transaction::get_advisory(self, key)?)
    }

    fn scan(&self, range: KeyRange, direction: Direction) -> Result<ScanRows<'_>> {
        Ok(Box::new(
            Transaction::scan(self, range, direction)?.map(|r| r.map_err(Into::into)),
        ))
    }

    fn scan_values(&self, range: KeyRange, direction: Direction) -> Result<ScanValues<'_>> {
        Ok(Box::new(
            Transaction::scan_values(self, range, direction)?.map(|r| r.map_err(Into::into)),
        ))
    }

    fn parallel_source(&self, range: &KeyRange) -> Option<Box<dyn ParallelSource + '_>> {
        let reader = self.snapshot_reader(range)?;
        Some(Box::new(reader))
    }
}

/// A message for the client that is not an error: PostgreSQL's NOTICE and WARNING (a skipped
/// `DROP ... IF EXISTS`, a `COMMIT` outside a transaction block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `NOTICE` or `WARNING`.
    pub severity: &'static str,
    /// The SQLSTATE.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl Notice {
    /// A NOTICE (SQLSTATE 00000).
    pub fn info(message: String) -> Self {
        Notice {
            severity: "NOTICE",
            code: "00000",
            message,
        }
    }

    /// A WARNING with its SQLSTATE.
    pub fn warning(code: &'static str, message: String) -> Self {
        Notice {
            severity: "WARNING",
            code,
            message,
        }
    }
}

/// Per-statement execution state: results of uncorrelated subqueries, computed once (keyed by
/// the subquery's address in the plan), and the working tables of recursive CTEs.
#[derive(Default)]
pub struct SubqueryCache {
    results: RefCell<HashMap<usize, Rc<Vec<Vec<Value>>>>>,
    work: RefCell<HashMap<usize, Rc<Vec<Vec<Value>>>>>,
    /// The session's sequence functions, where the statement may call them.
    sequences: Option<Rc<dyn Sequences>>,
    /// Under EXPLAIN ANALYZE: rows, time and runs per plan node (by address).
    stats: Option<RefCell<HashMap<usize, NodeStats>>>,
    /// When the transaction and the statement started (timestamp microseconds), for `now()`
    /// and `statement_timestamp()`; `None` outside a statement (constant folding).
    pub(crate) clock: Option<(i64, i64)>,
    /// `work_mem` and where to spill past it.
    pub(crate) budget: spill::Budget,
    /// The statement's cancellation, if it can be cancelled.
    pub(crate) interrupt: Option<Arc<Interrupt>>,
    /// The data directory, for system views and administration functions.
    pub(crate) dir: crate::system::DirState,
    /// Whether the statement runs inside a transaction block.
    pub(crate) in_block: bool,
    /// Who runs the statement (`None` outside a statement: constant folding).
    identity: Option<Arc<crate::system::Identity>>,
    /// The session's settings, for `pg_settings` (`None` outside a statement).
    settings: Option<Arc<crate::settings::Settings>>,
    /// The catalog as the statement sees it, read once for the system catalogs.
    catalog: RefCell<Option<Rc<crate::catalog::Snapshot>>>,
    /// The statement's parameter values.
    params: Option<Arc<[Value]>>,
}

/// A statement's cancellation: set from another thread (a cancel request, a statement
/// timeout) and checked by the executor between rows and by lock waits, so a long scan or a
/// blocked lock stops within a row or a few milliseconds.
#[derive(Debug, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    reason: AtomicU8,
}

const BY_USER: u8 = 1;
const BY_TIMEOUT: u8 = 2;

impl Interrupt {
    /// Cancels the running statement (a cancel request).
    pub fn cancel(&self) {
        self.reason.store(BY_USER, Ordering::Relaxed);
        self.flag.store(true, Ordering::Release);
    }

    /// Cancels the running statement because `statement_timeout` passed.
    pub fn time_out(&self) {
        self.reason.store(BY_TIMEOUT, Ordering::Relaxed);
        self.flag.store(true, Ordering::Release);
    }

    /// Clears a cancellation before the next statement (one that arrived while idle is
    /// ignored, as PostgreSQL ignores it).
    pub fn reset(&self) {
        self.flag.store(false, Ordering::Release);
        self.reason.store(0, Ordering::Relaxed);
    }

    /// The flag lock waits watch.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// 57014 if the statement was cancelled.
    pub fn check(&self) -> Result<()> {
        if self.flag.load(Ordering::Acquire) {
            return Err(self.error());
        }
        Ok(())
    }

    /// The error a cancelled statement fails with.
    pub fn error(&self) -> crate::Error {
        if self.reason.load(Ordering::Relaxed) == BY_TIMEOUT {
            errinput!(
                QueryCanceled,
                "canceling statement due to statement timeout"
            )
        } else {
            errinput!(QueryCanceled, "canceling statement due to user request")
        }
    }
}

/// What EXPLAIN ANALYZE measured for one plan node.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeStats {
    /// Rows produced, over all runs.
    pub rows: u64,
    /// Time spent producing them, including the node's inputs.
    pub time: std::time::Duration,
    /// Times the node was run (more than one inside a correlated subquery, one per
    /// participant of a parallel aggregate).
    pub loops: u64,
    /// Worker threads that helped compute it (a parallel aggregate).
    pub workers: u64,
}

/// What a parallel worker's [`SubqueryCache`] takes from its leader's: all that the
/// expressions a worker runs can read (no subquery, sequence or catalog).
pub(crate) struct WorkerSeed {
    clock: Option<(i64, i64)>,
    budget: (usize, usize, std::path::PathBuf, bool),
    interrupt: Option<Arc<Interrupt>>,
    in_block: bool,
    identity: Option<Arc<crate::system::Identity>>,
    settings: Option<Arc<crate::settings::Settings>>,
    params: Option<Arc<[Value]>>,
    /// Whether to count rows and time per node (EXPLAIN ANALYZE).
    analyze: bool,
}

impl WorkerSeed {
    /// The worker's state, made in its own thread.
    pub(crate) fn cache(self) -> SubqueryCache {
        let (bytes, hash_bytes, dir, encrypt) = self.budget;
        SubqueryCache {
            clock: self.clock,
            budget: spill::Budget {
                hash_bytes,
                ..spill::Budget::new(bytes, dir, encrypt)
            },
            interrupt: self.interrupt,
            in_block: self.in_block,
            identity: self.identity,
            settings: self.settings,
            params: self.params,
            stats: self.analyze.then(RefCell::default),
            ..SubqueryCache::default()
        }
    }
}

impl SubqueryCache {
    /// A statement's state, with the session's sequence functions.
    pub fn for_statement(ctx: &dyn Context) -> Self {
        let statement = crate::functions::now_micros();
        Self {
            sequences: ctx.sequences(),
            clock: Some((ctx.transaction_start().unwrap_or(statement), statement)),
            budget: spill::Budget {
                hash_bytes: ctx.settings().hash_mem().max(ctx.work_mem()),
                ..spill::Budget::new(
                    ctx.work_mem(),
                    ctx.temp_dir().to_path_buf(),
                    ctx.encrypt_temp(),
                )
            },
            interrupt: ctx.interrupt(),
            dir: crate::system::DirState::of(ctx.datadir()),
            in_block: ctx.in_transaction_block(),
            identity: Some(ctx.identity()),
            settings: Some(ctx.settings()),
            params: Some(ctx.params()),
            ..Self::default()
        }
    }

    /// The seed of a parallel worker's state ([`WorkerSeed`]).
    pub(crate) fn worker_seed(&self) -> WorkerSeed {
        WorkerSeed {
            clock: self.clock,
            budget: (
                self.budget.bytes,
                self.budget.hash_bytes,
                self.budget.dir.clone(),
                self.budget.encrypt,
            ),
            interrupt: self.interrupt.clone(),
            in_block: self.in_block,
            identity: self.identity.clone(),
            settings: self.settings.clone(),
            params: self.params.clone(),
            analyze: self.stats.is_some(),
        }
    }

    /// State for evaluating expressions outside a statement's execution (binding, DDL) as
    /// `who`: it reads the catalog of `who`'s database with `who`'s privileges.
    pub(crate) fn for_identity(who: Arc<crate::system::Identity>) -> Self {
        Self {
            identity: Some(who),
            ..Self::default()
        }
    }

    /// The value of parameter `index` (0 for `$1`).
    pub(crate) fn param(&self, index: usize) -> Result<Value> {
        self.params
            .as_ref()
            .and_then(|p| p.get(index))
            .cloned()
            .ok_or_else(|| crate::errinternal!("parameter ${} has no value", index + 1))
    }

    /// The session's database.
    pub(crate) fn database(&self) -> crate::keys::DatabaseId {
        self.identity().database_id
    }

    /// Who runs the statement, shared.
    pub(crate) fn identity_arc(&self) -> Arc<crate::system::Identity> {
        self.identity.clone().unwrap_or_default()
    }

    /// Who runs the statement.
    pub(crate) fn identity(&self) -> &crate::system::Identity {
        static NOBODY: std::sync::LazyLock<crate::system::Identity> =
            std::sync::LazyLock::new(Default::default);
        self.identity.as_deref().unwrap_or(&NOBODY)
    }

    /// The session's settings.
    pub(crate) fn settings(&self) -> &crate::settings::Settings {
        static DEFAULTS: std::sync::LazyLock<crate::settings::Settings> =
            std::sync::LazyLock::new(Default::default);
        self.settings.as_deref().unwrap_or(&DEFAULTS)
    }

    /// The catalog as `reader` sees it, read on first use in the statement.
    pub(crate) fn catalog(&self, reader: &dyn Reader) -> Result<Rc<crate::catalog::Snapshot>> {
        if let Some(snapshot) = self.catalog.borrow().as_ref() {
            return Ok(snapshot.clone());
        }
        let who = self.identity();
        let mut snapshot = crate::catalog::Snapshot::read(reader, who.database_id)?;
        let path = self.settings().search_path(&who.user);
        snapshot.path = path
            .names()
            .iter()
            .filter_map(|name| snapshot.schemas.iter().find(|s| &s.name == name))
            .map(|s| s.id)
            .collect();
        let snapshot = Rc::new(snapshot);
        *self.catalog.borrow_mut() = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// 57014 if the statement was cancelled.
    pub(crate) fn check_interrupt(&self) -> Result<()> {
        match &self.interrupt {
            Some(i) => i.check(),
            None => Ok(()),
        }
    }
}

/// What evaluation needs besides the current row.
pub struct Env<'a> {
    /// Where rows are read.
    pub reader: &'a dyn Reader,
    /// The current rows of enclosing queries, innermost last (for correlated subqueries).
    pub outer: Vec<&'a [Value]>,
    /// Uncorrelated subquery results.
    pub cache: &'a SubqueryCache,
}

impl<'a> Env<'a> {
    /// An environment with no enclosing rows.
    pub fn new(reader: &'a dyn Reader, cache: &'a SubqueryCache) -> Self {
        Self {
            reader,
            outer: Vec::new(),
            cache,
        }
    }
}

/// State shared by the statements of a database that the executor needs.
pub trait Context {
    /// The next hidden row id of `table`, given the highest one stored (for the first call).
    fn next_rowid(
        &self,
        table: crate::keys::TableId,
        stored_max: &dyn Fn() -> Result<i64>,
    ) -> Result<i64>;

    /// The session's sequence functions (`nextval`, `currval`, `setval`).
    fn sequences(&self) -> Option<Rc<dyn Sequences>>;

    /// When the transaction started (timestamp microseconds), if known: `now()` returns it
    /// for every statement of the transaction, as in PostgreSQL.
    fn transaction_start(&self) -> Option<i64>;

    /// `work_mem` in bytes: how much a sort, hash join or aggregate may hold before spilling.
    fn work_mem(&self) -> usize;

    /// Where spill files go.
    fn temp_dir(&self) -> &std::path::Path;

    /// Whether spill files are sealed (the data directory is encrypted, or there is none).
    fn encrypt_temp(&self) -> bool {
        true
    }

    /// The data directory, for the system views and administration functions that report on
    /// it or manage it (encryption); `None` for a database in memory.
    fn datadir(&self) -> Option<&zizhu_datadir::DataDir> {
        None
    }

    /// Whether the statement runs inside a transaction block (`BEGIN` ... `COMMIT`).
    fn in_transaction_block(&self) -> bool {
        false
    }

    /// The statement's cancellation, if it can be cancelled.
    fn interrupt(&self) -> Option<Arc<Interrupt>> {
        None
    }

    /// Who runs the statement.
    fn identity(&self) -> Arc<crate::system::Identity>;

    /// The database the session is connected to, whose catalog names resolve in.
    fn database(&self) -> crate::keys::DatabaseId;

    /// Records that the statement claimed database `db` for DROP DATABASE, so the session
    /// can give the claim back if the transaction does not commit.
    fn claimed_for_drop(&self, _db: crate::keys::DatabaseId) {}

    /// Which sessions are in which database (for DROP DATABASE).
    fn connections(&self) -> Option<Arc<admin::Connections>> {
        None
    }

    /// Tells the client something that is not an error.
    fn notice(&self, _notice: Notice) {}

    /// The session's settings.
    fn settings(&self) -> Arc<crate::settings::Settings> {
        Arc::default()
    }

    /// The values of the statement's parameters (`$1` first), for a plan kept with
    /// [`Expr::Param`](crate::planner::Expr::Param) in it.
    fn params(&self) -> Arc<[Value]> {
        Arc::new([])
    }
}

/// `NOTICE: table "t" does not exist, skipping`
fn skipped(kind: &str, name: &str) -> Notice {
    Notice::info(format!("{kind} \"{name}\" does not exist, skipping"))
}

/// `NOTICE: relation "t" already exists, skipping`
/// The type of a new table's column whose binder type is a guess (`guess`, `Unknown` if
/// none): the type it and the values in column `i` of `rows` meet in, so that no value is
/// cast to a narrower type; `text` where they do not meet, or nothing is known.
fn meet_values(guess: &DataType, rows: &[Vec<Value>], i: usize) -> DataType {
    // An array's or a document's values are carried as text: the guess is all there is.
    if !guess.is_plain() && *guess != DataType::Unknown {
        return guess.clone();
    }
    let mut types = vec![guess.clone().unmodified()];
    for row in rows {
        let ty = row.get(i).map_or(DataType::Unknown, DataType::of);
        if !types.contains(&ty) {
            types.push(ty);
        }
    }
    DataType::common(&types).unwrap_or(DataType::Text)
}

fn already_exists(name: &str) -> Notice {
    Notice::info(format!("relation \"{name}\" already exists, skipping"))
}

/// `COMMENT ON`: finds the object (42P01 if missing, 42809 if of another kind) and sets or
/// removes its comment.
fn comment_on<E: Engine>(
    txn: &mut Transaction<E>,
    on: crate::planner::CommentOn,
    target: &RelationName,
    column: Option<&str>,
    text: Option<&str>,
) -> Result<()> {
    use crate::planner::CommentOn as On;
    let (db, name) = (target.ns, target.name.as_str());
    let missing = || errinput!(UndefinedTable, "relation \"{name}\" does not exist");
    let not_a = |what: &str| errinput!(WrongObjectType, "\"{name}\" is not a {what}");
    let table = Catalog::table(txn, db, name)?;
    let view = Catalog::view(txn, db, name)?;
    let id = match on {
        On::Table => match (&table, &view) {
            (Some(t), _) => t.id,
            (None, Some(_)) => return Err(not_a("table")),
            _ => return Err(missing()),
        },
        On::View => match (&view, &table) {
            (Some(v), _) => v.id,
            (None, Some(_)) => return Err(not_a("view")),
            _ => return Err(missing()),
        },
        On::Sequence => match Catalog::sequence(txn, db, name)? {
            Some(s) => s.id,
            None if table.is_some() || view.is_some() => return Err(not_a("sequence")),
            None => return Err(missing()),
        },
        On::Index => match Catalog::index_table(txn, db, name)? {
            Some(t) => t
                .indexes
                .iter()
                .find(|i| i.name == name)
                .map(|i| i.id)
                .ok_or_else(missing)?,
            None if table.is_some() || view.is_some() => return Err(not_a("index")),
            None => return Err(missing()),
        },
        On::Column => {
            let column = column.unwrap_or_default();
            let (id, found) = match (&table, &view) {
                (Some(t), _) => (t.id, t.column_index(column).is_some()),
                (None, Some(v)) => (v.id, v.output.iter().any(|(c, _)| c == column)),
                _ => return Err(missing()),
            };
            if !found {
                return Err(errinput!(
                    UndefinedColumn,
                    "column \"{column}\" of relation \"{name}\" does not exist"
                ));
            }
            id
        }
    };
    Catalog::set_comment(txn, db.db, id, column.unwrap_or_default(), text)
}

/// Executes a plan.
pub fn execute<E: Engine>(
    plan: Plan,
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
) -> Result<StatementResult> {
    let db = ctx.database();
    match plan {
        Plan::Select { root, labels } => {
            let state = SubqueryCache::for_statement(ctx);
            let env = Env::new(&*txn, &state);
            let rows = query::rows(&root, &env)?.collect::<Result<Vec<_>>>()?;
            Ok(StatementResult::Query { labels, rows })
        }
        Plan::Admin(admin) => admin::execute(admin, txn, ctx),
        Plan::CreateSchema {
            name,
            owner,
            if_not_exists,
        } => schema::create(txn, ctx, name, owner, if_not_exists),
        Plan::AlterSchema {
            name,
            rename,
            owner,
        } => schema::alter(txn, ctx, name, rename, owner),
        Plan::DropSchema {
            names,
            if_exists,
            cascade,
        } => schema::drop(txn, ctx, names, if_exists, cascade),
        Plan::Comment {
            on,
            name,
            column,
            text,
        } => {
            comment_on(txn, on, &name, column.as_deref(), text.as_deref())?;
            Ok(StatementResult::Command("COMMENT"))
        }
        Plan::Explain(plan) => {
            let rows = plan
                .explain_lines()
                .into_iter()
                .map(|line| vec![Value::Text(line)])
                .collect();
            let labels = vec![Label {
                name: "QUERY PLAN".into(),
                data_type: DataType::Text,
            }];
            Ok(StatementResult::Query { labels, rows })
        }
        Plan::ExplainAnalyze(plan) => {
            let Plan::Select { root, .. } = plan.as_ref() else {
                return Err(errinput!(
                    FeatureNotSupported,
                    "EXPLAIN ANALYZE of a statement other than a query"
                ));
            };
            let mut state = SubqueryCache::for_statement(ctx);
            state.stats = Some(RefCell::default());
            let started = std::time::Instant::now();
            {
                let env = Env::new(&*txn, &state);
                for row in query::rows(root, &env)? {
                    row?;
                }
            }
            let total = started.elapsed();
            let stats = state.stats.take().unwrap_or_default().into_inner();
            let annotate = |node: &crate::planner::Node| {
                let s = stats.get(&(node as *const _ as usize))?;
                let workers = match s.workers {
                    0 => String::new(),
                    n => format!(" workers={n}"),
                };
                Some(format!(
                    "actual rows={} loops={} time={:.3} ms{workers}",
                    s.rows,
                    s.loops,
                    s.time.as_secs_f64() * 1e3
                ))
            };
            let mut lines = plan.explain_lines_with(&annotate);
            let spilled = &state.budget.spilled;
            if spilled.files.get() > 0 {
                lines.push(format!(
                    "Temporary Files: {} written, {} kB",
                    spilled.files.get(),
                    spilled.bytes.get().div_ceil(1024)
                ));
            }
            lines.push(format!(
                "Execution Time: {:.3} ms",
                total.as_secs_f64() * 1e3
            ));
            let rows = lines
                .into_iter()
                .map(|line| vec![Value::Text(line)])
                .collect();
            let labels = vec![Label {
                name: "QUERY PLAN".into(),
                data_type: DataType::Text,
            }];
            Ok(StatementResult::Query { labels, rows })
        }
        Plan::Insert {
            table,
            targets,
            defaults,
            source,
            returning,
            on_conflict,
            checks,
        } => {
            let insert = write::Insert {
                table: &table,
                targets: &targets,
                defaults: &defaults,
                on_conflict: on_conflict.as_ref(),
                checks: &checks,
            };
            let state = SubqueryCache::for_statement(ctx);
            let rows = write::insert(txn, ctx, &insert, &source, returning.is_some(), &state)?;
            finish(
                txn,
                &state,
                format!("INSERT 0 {}", rows.0),
                rows,
                returning,
                StatementResult::Insert,
            )
        }
        Plan::Update {
            table,
            source,
            filter,
            assignments,
            returning,
            from,
            checks,
        } => {
            let state = SubqueryCache::for_statement(ctx);
            let rows = write::update(
                txn,
                &table,
                write::Targets {
                    source: &source,
                    joined: from.as_ref(),
                    filter: filter.as_ref(),
                },
                &assignments,
                &checks,
                returning.is_some(),
                &state,
            )?;
            finish(
                txn,
                &state,
                format!("UPDATE {}", rows.0),
                rows,
                returning,
                StatementResult::Update,
            )
        }
        Plan::Delete {
            table,
            source,
            filter,
            returning,
            using,
        } => {
            let state = SubqueryCache::for_statement(ctx);
            let rows = write::delete(
                txn,
                &table,
                write::Targets {
                    source: &source,
                    joined: using.as_ref(),
                    filter: filter.as_ref(),
                },
                returning.is_some(),
                &state,
            )?;
            finish(
                txn,
                &state,
                format!("DELETE {}", rows.0),
                rows,
                returning,
                StatementResult::Delete,
            )
        }
        Plan::AlterTable { table, ops } => {
            alter::alter_table(txn, &SubqueryCache::for_statement(ctx), &table, &ops)?;
            Ok(StatementResult::Command("ALTER TABLE"))
        }
        Plan::CreateSequence {
            sequence,
            if_not_exists,
        } => {
            let ns = Namespace::new(db, sequence.schema);
            if if_not_exists && Catalog::sequence(txn, ns, &sequence.name)?.is_some() {
                ctx.notice(already_exists(&sequence.name));
            } else {
                Catalog::create_sequence(txn, db, sequence)?;
            }
            Ok(StatementResult::Command("CREATE SEQUENCE"))
        }
        Plan::DropSequence { names, if_exists } => {
            let mut found = Vec::with_capacity(names.len());
            for name in &names {
                match Catalog::sequence(txn, name.ns, &name.name)? {
                    Some(_) => found.push(name),
                    None if if_exists => ctx.notice(skipped("sequence", &name.name)),
                    None => {
                        return Err(errinput!(
                            UndefinedTable,
                            "sequence \"{name}\" does not exist"
                        ))
                    }
                }
            }
            for name in found {
                Catalog::drop_sequence(txn, name.ns, &name.name)?;
            }
            Ok(StatementResult::Command("DROP SEQUENCE"))
        }
        Plan::Analyze { names, skipped } => analyze::analyze(txn, ctx, names, skipped),
        Plan::Truncate { names, cascade } => {
            let mut tables: Vec<Arc<Table>> = Vec::with_capacity(names.len());
            for name in &names {
                tables.push(Catalog::must_table(txn, name.ns, &name.name)?);
            }
            // A referenced table goes only with the tables referencing it (transitively, with
            // CASCADE), or its references would dangle.
            let mut i = 0;
            while i < tables.len() {
                let ns = Namespace::new(db, tables[i].schema);
                for child in Catalog::referencing(txn, ns, &tables[i].name)? {
                    if tables.iter().any(|t| t.id == child.id) {
                        continue;
                    }
                    if !cascade {
                        return Err(errinput!(
                            FeatureNotSupported,
                            "cannot truncate a table referenced in a foreign key constraint"
                        )
                        .with_detail(format!(
                            "Table \"{}\" references \"{}\".",
                            child.name, tables[i].name
                        ))
                        .with_hint(format!(
                            "Truncate table \"{}\" at the same time, or use TRUNCATE ... CASCADE.",
                            child.name
                        )));
                    }
                    tables.push(child);
                }
                i += 1;
            }
            for table in &tables {
                write::truncate(txn, table)?;
            }
            Ok(StatementResult::Command("TRUNCATE TABLE"))
        }
        Plan::CreateTable {
            table,
            if_not_exists,
            unique,
            sequences,
        } => {
            let ns = Namespace::new(db, table.schema);
            if if_not_exists && Catalog::table(txn, ns, &table.name)?.is_some() {
                ctx.notice(already_exists(&table.name));
                return Ok(StatementResult::Command("CREATE TABLE"));
            }
            for sequence in sequences {
                Catalog::create_sequence(txn, db, sequence)?;
            }
            let mut table = Catalog::create_table(txn, db, table)?;
            for index in unique {
                Catalog::create_index(txn, db, &mut table, index)?;
            }
            Ok(StatementResult::Command("CREATE TABLE"))
        }
        Plan::CreateTableAs {
            mut table,
            if_not_exists,
            source,
            with_data,
            guessed,
        } => {
            let ns = Namespace::new(db, table.schema);
            if if_not_exists
                && (Catalog::table(txn, ns, &table.name)?.is_some()
                    || Catalog::view(txn, ns, &table.name)?.is_some())
            {
                ctx.notice(already_exists(&table.name));
                return Ok(StatementResult::Command("CREATE TABLE AS"));
            }
            let state = SubqueryCache::for_statement(ctx);
            let input = match with_data {
                true => {
                    let env = Env::new(&*txn, &state);
                    let input = query::rows(&source, &env)?.collect::<Result<Vec<_>>>()?;
                    input
                }
                false => Vec::new(),
            };
            for (i, column) in table.columns.iter_mut().enumerate() {
                if guessed.get(i).copied().unwrap_or(false) {
                    column.data_type = meet_values(&column.data_type, &input, i);
                }
            }
            let table = Catalog::create_table(txn, db, table)?;
            if !with_data {
                return Ok(StatementResult::Command("CREATE TABLE AS"));
            }
            let width = table.columns.len();
            let targets: Vec<Option<usize>> = (0..width).map(Some).collect();
            let insert = write::Insert {
                table: &table,
                targets: &targets,
                defaults: &vec![None; width],
                on_conflict: None,
                checks: &[],
            };
            let (count, _) = write::insert_rows(txn, ctx, &insert, input, false, &state)?;
            Ok(StatementResult::Select(count))
        }
        Plan::CreateIndex {
            table,
            index,
            if_not_exists,
        } => {
            if if_not_exists && Catalog::index_table(txn, table.ns, &index.name)?.is_some() {
                ctx.notice(already_exists(&index.name));
                return Ok(StatementResult::Command("CREATE INDEX"));
            }
            let table = Catalog::must_table(txn, table.ns, &table.name)?;
            let mut table = Arc::unwrap_or_clone(table);
            let index = Catalog::create_index(txn, db, &mut table, index)?;
            index::build(txn, &table, &index, true)?;
            Ok(StatementResult::Command("CREATE INDEX"))
        }
        Plan::CreateView { view, or_replace } => {
            Catalog::create_view(txn, db, &view, or_replace)?;
            Ok(StatementResult::Command("CREATE VIEW"))
        }
        Plan::DropView {
            names,
            if_exists,
            cascade,
        } => {
            let mut found = Vec::with_capacity(names.len());
            for name in &names {
                if Catalog::view(txn, name.ns, &name.name)?.is_some() {
                    found.push((name.ns, name.name.clone()));
                } else if Catalog::table(txn, name.ns, &name.name)?.is_some() {
                    return Err(errinput!(WrongObjectType, "\"{name}\" is not a view")
                        .with_detail("Use DROP TABLE to remove a table."));
                } else if !if_exists {
                    return Err(errinput!(UndefinedTable, "view \"{name}\" does not exist"));
                } else {
                    ctx.notice(skipped("view", &name.name));
                }
            }
            for (ns, name) in drop_order(txn, found, cascade, "view")? {
                Catalog::drop_view(txn, ns, &name)?;
            }
            Ok(StatementResult::Command("DROP VIEW"))
        }
        Plan::DropIndex { names, if_exists } => {
            let mut found = Vec::with_capacity(names.len());
            for target in &names {
                let (ns, name) = (target.ns, &target.name);
                match Catalog::index_table(txn, ns, name)? {
                    Some(table) => found.push((ns, table.name.clone(), name)),
                    None if Catalog::table(txn, ns, name)?.is_some()
                        || Catalog::view(txn, ns, name)?.is_some() =>
                    {
                        return Err(errinput!(WrongObjectType, "\"{name}\" is not an index"))
                    }
                    None if if_exists => ctx.notice(skipped("index", name)),
                    None => {
                        return Err(errinput!(
                            UndefinedObject,
                            "index \"{name}\" does not exist"
                        ))
                    }
                }
            }
            for (ns, table, name) in found {
                // Re-read: an earlier name in the list may have changed the same table.
                let mut table = Arc::unwrap_or_clone(Catalog::must_table(txn, ns, &table)?);
                if let Some(index) = table.indexes.iter().find(|i| &i.name == name).cloned() {
                    if index.unique {
                        let by = alter::Dropping::Index;
                        alter::refuse_if_referenced(txn, db, &table, &index.columns, name, by)?;
                    }
                    index::drop_entries(txn, &index)?;
                    Catalog::drop_index(txn, db, &mut table, name)?;
                }
            }
            Ok(StatementResult::Command("DROP INDEX"))
        }
        Plan::DropTable {
            names,
            if_exists,
            cascade,
        } => {
            // Check every name first: DROP TABLE a, b drops neither if b is missing.
            let mut tables = Vec::with_capacity(names.len());
            for name in &names {
                match Catalog::table(txn, name.ns, &name.name)? {
                    Some(table) => tables.push(table),
                    None if Catalog::view(txn, name.ns, &name.name)?.is_some() => {
                        return Err(errinput!(WrongObjectType, "\"{name}\" is not a table")
                            .with_detail("Use DROP VIEW to remove a view."))
                    }
                    None if if_exists => ctx.notice(skipped("table", &name.name)),
                    None => {
                        return Err(errinput!(UndefinedTable, "table \"{name}\" does not exist"))
                    }
                }
            }
            let names: Vec<(Namespace, String)> = tables
                .iter()
                .map(|t| (Namespace::new(db, t.schema), t.name.clone()))
                .collect();
            // Foreign keys from other tables: in the way, or with CASCADE dropped.
            for table in &tables {
                let ns = Namespace::new(db, table.schema);
                for mut child in Catalog::referencing(txn, ns, &table.name)?
                    .into_iter()
                    .map(Arc::unwrap_or_clone)
                {
                    if tables.iter().any(|t| t.id == child.id) {
                        continue;
                    }
                    let (gone, kept): (Vec<_>, Vec<_>) =
                        child.foreign_keys.into_iter().partition(|fk| {
                            fk.parent == table.name && fk.parent_schema == table.schema
                        });
                    if !cascade {
                        let fk = gone.first().map_or("", |fk| fk.name.as_str());
                        return Err(errinput!(
                            DependentObjectsStillExist,
                            "cannot drop table {} because other objects depend on it",
                            table.name
                        )
                        .with_detail(format!(
                            "constraint {fk} on table {} depends on table {}",
                            child.name, table.name
                        ))
                        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                    }
                    child.foreign_keys = kept;
                    Catalog::update_table(txn, db, &child)?;
                }
            }
            for (ns, name) in drop_order(txn, names.clone(), cascade, "table")? {
                if !names.contains(&(ns, name.clone())) {
                    Catalog::drop_view(txn, ns, &name)?;
                }
            }
            for table in &tables {
                Catalog::drop_table(txn, db, table)?;
            }
            Ok(StatementResult::Command("DROP TABLE"))
        }
    }
}

/// The objects to drop, dependents first: `names` plus, with `cascade`, every view that
/// depends on them (transitively). Without `cascade`, a dependent view outside `names` fails
/// the statement with 2BP01, as in PostgreSQL.
pub(crate) fn drop_order<E: Engine>(
    txn: &Transaction<E>,
    names: Vec<(Namespace, String)>,
    cascade: bool,
    kind: &str,
) -> Result<Vec<(Namespace, String)>> {
    let mut order: Vec<(Namespace, String)> = Vec::new();
    let mut pending = names.clone();
    while let Some((ns, name)) = pending.pop() {
        if order.contains(&(ns, name.clone())) {
            continue;
        }
        for dependent in Catalog::dependent_views(txn, ns, &name)? {
            if !cascade && !names.contains(&dependent) {
                return Err(errinput!(
                    DependentObjectsStillExist,
                    "cannot drop {kind} {name} because other objects depend on it"
                )
                .with_detail(format!("view {} depends on {kind} {name}", dependent.1)));
            }
            pending.push(dependent);
        }
        order.push((ns, name));
    }
    // Dependents were found after what they depend on: drop them first.
    order.reverse();
    Ok(order)
}

/// The result of a write: its count, or with `RETURNING` its returned rows.
fn finish<E: Engine>(
    txn: &Transaction<E>,
    state: &SubqueryCache,
    tag: String,
    (count, rows): (u64, Vec<Vec<Value>>),
    returning: Option<crate::planner::Returning>,
    plain: fn(u64) -> StatementResult,
) -> Result<StatementResult> {
    let Some(returning) = returning else {
        return Ok(plain(count));
    };
    let env = Env::new(txn, state);
    let rows = rows
        .iter()
        .map(|row| {
            returning
                .exprs
                .iter()
                .map(|e| eval(e, row, &env))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<_>>()?;
    Ok(StatementResult::Returning {
        tag,
        labels: returning.labels,
        rows,
    })
}
