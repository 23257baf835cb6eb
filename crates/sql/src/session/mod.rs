//! The embedded API: open a database, run SQL in a session, read typed rows.
//!
//! A [`Session`] follows PostgreSQL's transaction-block rules: outside `BEGIN`, each statement
//! commits on its own (or rolls back on error); inside, an error puts the block into the
//! aborted state, where every statement fails with 25P02 until `ROLLBACK` (or `ROLLBACK TO` a
//! savepoint); `COMMIT` of an aborted block rolls it back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use zizhu_engine::Engine;
use zizhu_engine_memory::MemoryEngine;
use zizhu_engine_redb::RedbEngine;
use zizhu_txn::{IsolationLevel, Mvcc, Options, Transaction, TxnOptions};

use std::rc::Rc;

use crate::catalog::clock::CatalogClock;
use crate::catalog::cluster::{Cluster, POSTGRES, POSTGRES_NAME};
use crate::execution::Notice;
use crate::execution::{self, Context, Interrupt, Reader, StatementResult};
use crate::keys::{DatabaseId, TableId};
use crate::parser::{self, ast, ZizhuDialect};
use crate::planner::Label;
use crate::planner::{optimize, Binder, Params, Plan};
use crate::sequence::{Counters, Sequence, Sequences};
use crate::settings::Settings;
use crate::types::DataType;
use crate::{errinput, Result};
use zizhu_types::Value;

pub mod autoanalyze;
mod copy;
mod prepared;

pub use copy::{CopyFormat, CopyIn};
pub use prepared::Prepared;

/// An open database. Cheap to share; open sessions with [`Database::session`].
pub struct Database<E: Engine> {
    /// The data directory, when on disk. Declared first so that it is dropped first: a data
    /// key rotation running in the background stops before the engine closes.
    datadir: Option<zizhu_datadir::DataDir>,
    mvcc: Mvcc<E>,
    /// Where sorts, hash joins and aggregates spill past `work_mem` (unnamed files, gone when
    /// closed or after a crash).
    temp_dir: PathBuf,
    /// Whether spill files are sealed.
    encrypt_temp: bool,
    rowids: Mutex<HashMap<TableId, i64>>,
    counters: Counters,
    /// Which sessions are in which database.
    connections: Arc<crate::execution::admin::Connections>,
    /// The committed schemas, for resolving search paths.
    schemas: Arc<crate::catalog::schema::SchemaCache>,
    /// Counts catalog commits, so prepared statements know when their plans are stale.
    clock: CatalogClock,
    /// Changes counted toward automatic ANALYZE, and its worker.
    autoanalyze: autoanalyze::AutoAnalyze,
}

/// Why a login is refused, for the server's log: clients are told only that authentication
/// failed, so they cannot learn which roles exist.
#[derive(Debug, PartialEq, Eq)]
pub struct LoginRefused(pub String);

impl Database<RedbEngine> {
    /// Opens (initializing if needed) the data directory `dir`; see [`zizhu_datadir`] for the
    /// directory and its encryption.
    pub fn open(dir: &Path, options: zizhu_datadir::Options) -> Result<Arc<Self>> {
        let (datadir, engine) = zizhu_datadir::DataDir::open(dir, options)?;
        let mut db = Self::with_engine(engine)?;
        let db_mut = Arc::get_mut(&mut db)
            .ok_or_else(|| crate::Error::Internal("a new database is shared already".into()))?;
        db_mut.temp_dir = datadir.temp_dir();
        db_mut.encrypt_temp = datadir.encrypted();
        db_mut.datadir = Some(datadir);
        Ok(db)
    }
}

impl Database<MemoryEngine> {
    /// A database in memory, for tests.
    pub fn memory() -> Arc<Self> {
        Self::with_engine(MemoryEngine::new())
            .unwrap_or_else(|e| unreachable!("an empty memory engine opens: {e}"))
    }
}

impl<E: Engine> Database<E> {
    /// A database over any engine.
    pub fn with_engine(engine: E) -> Result<Arc<Self>> {
        let mvcc = Mvcc::open(engine, Options::default())?;
        let mut txn = mvcc.begin(TxnOptions::default());
        if Cluster::bootstrap(&mut txn)? {
            txn.commit()?;
        } else {
            txn.rollback();
        }
        Ok(Arc::new(Self {
            datadir: None,
            mvcc,
            temp_dir: std::env::temp_dir(),
            encrypt_temp: true,
            rowids: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            connections: Arc::default(),
            schemas: Arc::default(),
            clock: CatalogClock::default(),
            autoanalyze: autoanalyze::AutoAnalyze::default(),
        }))
    }

    /// Creates the bootstrap superuser `name` with `password` if the data directory has no
    /// roles yet (its first start). Returns whether it did.
    pub fn bootstrap_superuser(&self, name: &str, password: &str) -> Result<bool> {
        let mut txn = self.mvcc.begin(TxnOptions::default());
        let created = Cluster::bootstrap_superuser(&mut txn, name, password)?;
        let _in_flight = self.clock.committing();
        txn.commit()?;
        Ok(created)
    }

    /// The SCRAM verifier `user` logs in to `database` with, checked against the catalog:
    /// 3D000 if the database does not exist, 55000 if it takes no connections, and
    /// [`LoginRefused`] (with the reason) if the role does not exist, may not log in, has no
    /// password, or its password has expired.
    pub fn login(
        &self,
        user: &str,
        database: &str,
    ) -> Result<std::result::Result<zizhu_crypto::scram::Verifier, LoginRefused>> {
        let (db, role) = self.database_and_role(database, user)?;
        accepting(db.as_ref(), database)?;
        let refused = |why: String| Ok(Err(LoginRefused(why)));
        let Some(role) = role else {
            return refused(format!("Role \"{user}\" does not exist."));
        };
        if !role.login {
            return refused(format!("Role \"{user}\" is not permitted to log in."));
        }
        let Some(verifier) = role.password else {
            return refused(format!("User \"{user}\" has no password assigned."));
        };
        if role
            .valid_until
            .is_some_and(|until| until < crate::functions::now_micros())
        {
            return refused(format!("User \"{user}\" has an expired password."));
        }
        Ok(Ok(verifier))
    }

    /// The committed definitions of `database` and role `user`, either absent.
    fn database_and_role(
        &self,
        database: &str,
        user: &str,
    ) -> Result<(
        Option<crate::catalog::cluster::DatabaseDef>,
        Option<crate::catalog::cluster::Role>,
    )> {
        let txn = self.mvcc.begin(TxnOptions {
            isolation: IsolationLevel::ReadCommitted,
            read_only: true,
            lock_timeout: None,
        });
        let found = (
            Cluster::database(&txn, database)?,
            Cluster::role(&txn, user)?,
        );
        txn.rollback();
        Ok(found)
    }

    /// Opens a session of `user`, logged in (by the server) to `database`.
    pub fn connect(self: &Arc<Self>, database: &str, user: &str) -> Result<Session<E>> {
        let (db, role) = self.database_and_role(database, user)?;
        let db = accepting(db.as_ref(), database)?;
        let role = role.ok_or_else(|| {
            errinput!(
                InvalidAuthorizationSpecification,
                "role \"{user}\" does not exist"
            )
        })?;
        let mut session = self.session_in(db.id, database)?;
        session.identity = Arc::new(crate::system::Identity {
            user: user.to_string(),
            database: database.to_string(),
            database_id: db.id,
            user_oid: role.oid,
            local: false,
        });
        Ok(session)
    }

    /// Opens an embedded session in the `postgres` database, acting as a superuser (see
    /// [`crate::system::Identity::local`]).
    pub fn session(self: &Arc<Self>) -> Session<E> {
        match self.session_in(POSTGRES, POSTGRES_NAME) {
            Ok(session) => session,
            // Only a dropped database refuses sessions: after DROP DATABASE postgres the
            // embedded API has no default database, and the session is in none (it can
            // create nothing, and finds no relation).
            Err(_) => {
                let mut session = Session::detached(self.clone());
                session.identity = Arc::new(crate::system::Identity {
                    database_id: 0,
                    ..crate::system::Identity::local()
                });
                session
            }
        }
    }

    fn session_in(self: &Arc<Self>, db: DatabaseId, name: &str) -> Result<Session<E>> {
        self.connections.enter(db, name)?;
        let mut session = Session::detached(self.clone());
        session.registered = Some(db);
        Ok(session)
    }

    /// A session in `db` for background work (automatic ANALYZE), which DROP DATABASE cancels
    /// rather than waits for.
    fn background_session_in(self: &Arc<Self>, db: DatabaseId, name: &str) -> Result<Session<E>> {
        let mut session = Session::detached(self.clone());
        self.connections
            .enter_background(db, name, session.interrupt())?;
        session.registered = Some(db);
        session.background = true;
        Ok(session)
    }
}

fn accepting<'a>(
    db: Option<&'a crate::catalog::cluster::DatabaseDef>,
    name: &str,
) -> Result<&'a crate::catalog::cluster::DatabaseDef> {
    match db {
        None => Err(errinput!(
            InvalidCatalogName,
            "database \"{name}\" does not exist"
        )),
        Some(db) if !db.allow_connections => Err(errinput!(
            ObjectNotInPrerequisiteState,
            "database \"{name}\" is not currently accepting connections"
        )),
        Some(db) => Ok(db),
    }
}

impl<E: Engine> Session<E> {
    /// A session registered in no database's count.
    fn detached(db: Arc<Database<E>>) -> Session<E> {
        Session {
            registered: None,
            background: false,
            db,
            dialect: ZizhuDialect::postgres(),
            block: None,
            settings: Arc::default(),
            currvals: Arc::default(),
            prepared: HashMap::new(),
            interrupt: Arc::default(),
            identity: Arc::new(crate::system::Identity::local()),
            notices: Arc::default(),
            schemas_changed: Arc::default(),
            catalog_changed: Arc::default(),
            changes: Arc::default(),
        }
    }
}

impl<E: Engine> Database<E> {
    /// The transaction layer below.
    pub fn mvcc(&self) -> &Mvcc<E> {
        &self.mvcc
    }

    /// The data directory, for a database on disk.
    pub fn datadir(&self) -> Option<&zizhu_datadir::DataDir> {
        self.datadir.as_ref()
    }
}

impl<E: Engine> Database<E> {
    fn next_rowid(&self, table: TableId, stored_max: &dyn Fn() -> Result<i64>) -> Result<i64> {
        let mut rowids = self.rowids.lock();
        let next = match rowids.get(&table) {
            Some(next) => *next,
            None => stored_max()? + 1,
        };
        rowids.insert(table, next + 1);
        Ok(next)
    }
}

/// What the executor sees of a session: the database's row-id and sequence counters, and the
/// session's own `currval` values.
struct SessionContext<E: Engine> {
    db: Arc<Database<E>>,
    currvals: Arc<Mutex<HashMap<TableId, i64>>>,
    /// When the transaction started (timestamp microseconds).
    started: Option<i64>,
    /// `work_mem` in bytes.
    work_mem: usize,
    /// The session's cancellation.
    interrupt: Arc<Interrupt>,
    /// Whether the statement runs inside a transaction block.
    in_block: bool,
    /// Who runs it.
    identity: Arc<crate::system::Identity>,
    /// The session's settings as the statement began.
    settings: Arc<Settings>,
    /// Where the statement's notices go.
    notices: Arc<Mutex<Vec<crate::execution::Notice>>>,
    /// Databases the statement claimed for DROP DATABASE.
    claimed: Arc<Mutex<Vec<DatabaseId>>>,
    /// The session's [`Session::schemas_changed`].
    schemas_changed: Arc<AtomicBool>,
    /// The session's [`Session::catalog_changed`].
    catalog_changed: Arc<AtomicBool>,
    /// The statement's parameter values, for a kept plan.
    params: Arc<[Value]>,
    /// The session's [`Session::changes`].
    changes: Arc<Mutex<Vec<autoanalyze::Change>>>,
}

impl<E: Engine> Context for SessionContext<E> {
    fn next_rowid(&self, table: TableId, stored_max: &dyn Fn() -> Result<i64>) -> Result<i64> {
        self.db.next_rowid(table, stored_max)
    }

    fn sequences(&self) -> Option<Rc<dyn Sequences>> {
        Some(Rc::new(SessionContext {
            db: self.db.clone(),
            currvals: self.currvals.clone(),
            started: self.started,
            work_mem: self.work_mem,
            interrupt: self.interrupt.clone(),
            in_block: self.in_block,
            identity: self.identity.clone(),
            settings: self.settings.clone(),
            notices: self.notices.clone(),
            claimed: self.claimed.clone(),
            schemas_changed: self.schemas_changed.clone(),
            catalog_changed: self.catalog_changed.clone(),
            params: self.params.clone(),
            changes: self.changes.clone(),
        }))
    }

    fn notice(&self, notice: crate::execution::Notice) {
        self.notices.lock().push(notice);
    }

    fn identity(&self) -> Arc<crate::system::Identity> {
        self.identity.clone()
    }

    fn database(&self) -> crate::keys::DatabaseId {
        self.identity.database_id
    }

    fn connections(&self) -> Option<Arc<crate::execution::admin::Connections>> {
        Some(self.db.connections.clone())
    }

    fn claimed_for_drop(&self, db: DatabaseId) {
        self.claimed.lock().push(db);
    }

    fn settings(&self) -> Arc<Settings> {
        self.settings.clone()
    }

    fn params(&self) -> Arc<[Value]> {
        self.params.clone()
    }

    fn transaction_start(&self) -> Option<i64> {
        self.started
    }

    fn work_mem(&self) -> usize {
        self.work_mem
    }

    fn temp_dir(&self) -> &Path {
        &self.db.temp_dir
    }

    fn encrypt_temp(&self) -> bool {
        self.db.encrypt_temp
    }

    fn datadir(&self) -> Option<&zizhu_datadir::DataDir> {
        self.db.datadir.as_ref()
    }

    fn in_transaction_block(&self) -> bool {
        self.in_block
    }

    fn interrupt(&self) -> Option<Arc<Interrupt>> {
        Some(self.interrupt.clone())
    }
}

impl<E: Engine> Sequences for SessionContext<E> {
    fn nextval(&self, reader: &dyn Reader, name: &str) -> Result<i64> {
        let path = self.settings.search_path(&self.identity.user);
        let sequence = Sequence::lookup(reader, self.identity.database_id, &path, name)?;
        let value = self.db.counters.next(&self.db.mvcc, &sequence)?;
        self.currvals.lock().insert(sequence.id, value);
        Ok(value)
    }

    fn currval(&self, reader: &dyn Reader, name: &str) -> Result<i64> {
        let path = self.settings.search_path(&self.identity.user);
        let sequence = Sequence::lookup(reader, self.identity.database_id, &path, name)?;
        self.currvals
            .lock()
            .get(&sequence.id)
            .copied()
            .ok_or_else(|| {
                errinput!(
                    ObjectNotInPrerequisiteState,
                    "currval of sequence \"{name}\" is not yet defined in this session"
                )
            })
    }

    fn setval(&self, reader: &dyn Reader, name: &str, value: i64, is_called: bool) -> Result<i64> {
        let path = self.settings.search_path(&self.identity.user);
        let sequence = Sequence::lookup(reader, self.identity.database_id, &path, name)?;
        self.db
            .counters
            .set(&self.db.mvcc, &sequence, value, is_called)?;
        if is_called {
            self.currvals.lock().insert(sequence.id, value);
        }
        Ok(value)
    }
}

/// An explicit transaction block.
struct Block<E: Engine> {
    txn: Transaction<E>,
    /// An error happened: only ROLLBACK (TO) is accepted.
    failed: bool,
    /// When BEGIN ran (timestamp microseconds): `now()` for the whole block.
    started: i64,
    /// The settings when BEGIN ran: a rolled-back block's `SET`s are undone.
    began: Settings,
    /// The catalog version its snapshot sees, if known ([`CatalogClock`]).
    catalog_version: Option<u64>,
}

/// A session: a sequence of statements, possibly inside a transaction block.
pub struct Session<E: Engine> {
    db: Arc<Database<E>>,
    dialect: ZizhuDialect,
    block: Option<Block<E>>,
    /// Shared with each statement's context (for `pg_settings`); changed copy-on-write.
    settings: Arc<Settings>,
    /// `currval` per sequence: the session's last `nextval`.
    currvals: Arc<Mutex<HashMap<TableId, i64>>>,
    /// Statements prepared by SQL `PREPARE`, by name.
    prepared: HashMap<String, Arc<Prepared>>,
    /// Cancels the running statement from another thread.
    interrupt: Arc<Interrupt>,
    /// Who is logged in (for `current_user` and the system catalogs).
    identity: Arc<crate::system::Identity>,
    /// Notices of the statements run since they were last taken ([`Session::take_notices`]).
    notices: Arc<Mutex<Vec<crate::execution::Notice>>>,
    /// The database this session is counted in ([`Database::connect`]).
    registered: Option<DatabaseId>,
    /// Whether it is registered as a background session.
    background: bool,
    /// Whether the open transaction has changed schemas: it then resolves names without the
    /// shared cache, and its end invalidates the cache.
    schemas_changed: Arc<AtomicBool>,
    /// Whether the open transaction has changed the catalog: its plans are not kept, and its
    /// commit advances the [`CatalogClock`].
    catalog_changed: Arc<AtomicBool>,
    /// Rows the open transaction's statements changed, per table, for automatic ANALYZE once
    /// it commits.
    changes: Arc<Mutex<Vec<autoanalyze::Change>>>,
}

impl<E: Engine> Drop for Session<E> {
    fn drop(&mut self) {
        match self.registered {
            Some(db) if self.background => {
                self.db.connections.leave_background(db, &self.interrupt);
            }
            Some(db) => self.db.connections.leave(db),
            None => {}
        }
    }
}

fn isolation_of(modes: &[ast::TransactionMode]) -> Result<Option<(IsolationLevel, bool)>> {
    let mut isolation = None;
    let mut read_only = false;
    for mode in modes {
        match mode {
            ast::TransactionMode::IsolationLevel(level) => {
                isolation = Some(match level {
                    ast::TransactionIsolationLevel::ReadUncommitted
                    | ast::TransactionIsolationLevel::ReadCommitted => {
                        IsolationLevel::ReadCommitted
                    }
                    ast::TransactionIsolationLevel::RepeatableRead => {
                        IsolationLevel::RepeatableRead
                    }
                    ast::TransactionIsolationLevel::Serializable => IsolationLevel::Serializable,
                    other => {
                        return Err(errinput!(
                            FeatureNotSupported,
                            "isolation level {other} is not supported"
                        ))
                    }
                })
            }
            ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly) => {
                read_only = true
            }
            ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadWrite) => {
                read_only = false
            }
        }
    }
    Ok(isolation
        .map(|i| (i, read_only))
        .or(read_only.then_some((IsolationLevel::ReadCommitted, true))))
}

impl<E: Engine> Session<E> {
    /// The database the session is connected to.
    pub fn database(&self) -> crate::keys::DatabaseId {
        self.identity.database_id
    }

    /// The open transaction block's transaction id (for monitoring, and tests that must know
    /// when a statement is waiting for a lock).
    pub fn transaction_id(&self) -> Option<zizhu_txn::TxnId> {
        self.block.as_ref().map(|b| b.txn.id())
    }

    /// Whether a transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.block.is_some()
    }

    /// Whether the open block has failed (PostgreSQL's `E` transaction status).
    pub fn in_failed_transaction(&self) -> bool {
        self.block.as_ref().is_some_and(|b| b.failed)
    }

    /// Runs one or more statements; stops at the first error.
    pub fn execute(&mut self, sql: &str) -> Result<Vec<StatementResult>> {
        let statements = parser::parse(&self.dialect, sql)?;
        let mut results = Vec::with_capacity(statements.len());
        for statement in &statements {
            results.push(self.execute_statement(sql, statement, Source::Bind(None))?);
        }
        Ok(results)
    }

    /// Runs the statements of `sql` in order, as PostgreSQL's simple query protocol does: the
    /// result of each, up to and including the first that fails.
    pub fn execute_each(&mut self, sql: &str) -> Vec<Result<StatementResult>> {
        let results = self.execute_each_with_notices(sql);
        results.into_iter().map(|(result, _)| result).collect()
    }

    /// [`Session::execute_each`], with the notices each statement gave (which the server sends
    /// before the statement's result).
    pub fn execute_each_with_notices(
        &mut self,
        sql: &str,
    ) -> Vec<(Result<StatementResult>, Vec<Notice>)> {
        let statements = match parser::parse(&self.dialect, sql) {
            Ok(statements) => statements,
            Err(err) => return vec![(Err(err), Vec::new())],
        };
        let mut results = Vec::with_capacity(statements.len());
        for statement in &statements {
            let result = self.execute_statement(sql, statement, Source::Bind(None));
            // COPY FROM STDIN waits for data: what follows it in the string is not run.
            let stop = matches!(result, Err(_) | Ok(StatementResult::CopyIn(_)));
            results.push((result, self.take_notices()));
            if stop {
                break;
            }
        }
        results
    }

    /// The notices given since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut *self.notices.lock())
    }

    /// Runs a single statement and returns its result.
    pub fn execute_one(&mut self, sql: &str) -> Result<StatementResult> {
        let mut results = self.execute(sql)?;
        match (results.pop(), results.is_empty()) {
            (Some(result), true) => Ok(result),
            _ => Err(errinput!(SyntaxError, "expected exactly one statement")),
        }
    }

    /// Marks an open transaction block as failed (a client abandoned a statement, such as a
    /// COPY, midway); nothing outside a block.
    pub fn fail_block(&mut self) {
        if let Some(block) = self.block.as_mut() {
            block.failed = true;
        }
    }

    /// The session's settings (`SET`, `SHOW`).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn default_isolation(&self) -> IsolationLevel {
        match self.settings.default_isolation().as_str() {
            "serializable" => IsolationLevel::Serializable,
            "repeatable read" => IsolationLevel::RepeatableRead,
            _ => IsolationLevel::ReadCommitted,
        }
    }

    fn begin(&self, modes: &[ast::TransactionMode]) -> Result<Transaction<E>> {
        let (isolation, read_only) =
            isolation_of(modes)?.unwrap_or((self.default_isolation(), false));
        Ok(self.new_txn(TxnOptions {
            isolation,
            read_only,
            lock_timeout: self.settings.lock_timeout(),
        }))
    }

    /// A transaction whose lock waits stop when the session's statement is cancelled.
    fn new_txn(&self, options: TxnOptions) -> Transaction<E> {
        let mut txn = self.db.mvcc.begin(options);
        txn.set_cancel_flag(Some(self.interrupt.flag()));
        txn
    }

    /// Who is logged in.
    pub fn identity(&self) -> &crate::system::Identity {
        &self.identity
    }

    /// The handle that cancels the session's running statement from another thread (a
    /// cancel request, a statement timeout). Cancellations stay set until
    /// [`Interrupt::reset`].
    pub fn interrupt(&self) -> Arc<Interrupt> {
        self.interrupt.clone()
    }

    /// Ends the transaction block (committing if `commit` and it has not failed) and returns
    /// the command tag.
    fn end_block(&mut self, commit: bool) -> Result<StatementResult> {
        let Some(block) = self.block.take() else {
            self.notices.lock().push(Notice::warning(
                "25P01",
                "there is no transaction in progress".into(),
            ));
            return Ok(StatementResult::Command(if commit {
                "COMMIT"
            } else {
                "ROLLBACK"
            }));
        };
        let committed = commit && !block.failed;
        let result = if committed {
            let _in_flight = self.catalog_in_flight();
            block.txn.commit().map(|_| ())
        } else {
            block.txn.rollback();
            Ok(())
        };
        self.transaction_ended(committed && result.is_ok());
        Arc::make_mut(&mut self.settings).end_block(committed && result.is_ok(), &block.began);
        result?;
        Ok(StatementResult::Command(if committed {
            "COMMIT"
        } else {
            "ROLLBACK"
        }))
    }

    fn execute_statement(
        &mut self,
        sql: &str,
        statement: &ast::Statement,
        source: Source<'_>,
    ) -> Result<StatementResult> {
        use ast::Statement as S;
        // A statement's notices are for its own result only (the embedded API never takes
        // them; they must not pile up).
        self.notices.lock().clear();
        match statement {
            S::StartTransaction { modes, .. } => {
                if self.block.is_none() {
                    let txn = self.begin(modes)?;
                    self.block = Some(Block {
                        txn,
                        failed: false,
                        started: crate::functions::now_micros(),
                        began: Settings::clone(&self.settings),
                        catalog_version: None,
                    });
                } else {
                    self.notices.lock().push(Notice::warning(
                        "25001",
                        "there is already a transaction in progress".into(),
                    ));
                }
                return Ok(StatementResult::Command("BEGIN"));
            }
            S::Commit { .. } => return self.end_block(true),
            S::Rollback {
                savepoint: None, ..
            } => return self.end_block(false),
            S::Rollback {
                savepoint: Some(name),
                ..
            } => {
                let block = self.block.as_mut().ok_or_else(|| {
                    errinput!(
                        NoActiveSqlTransaction,
                        "ROLLBACK TO SAVEPOINT can only be used in transaction blocks"
                    )
                })?;
                // A failed ROLLBACK TO leaves the block aborted, as in PostgreSQL.
                if let Err(err) = block.txn.rollback_to(&name.value.to_lowercase()) {
                    block.failed = true;
                    return Err(err.into());
                }
                block.failed = false;
                return Ok(StatementResult::Command("ROLLBACK"));
            }
            _ => {}
        }
        if self.in_failed_transaction() {
            return Err(errinput!(
                InFailedSqlTransaction,
                "current transaction is aborted, commands ignored until end of transaction block"
            ));
        }
        match statement {
            S::Savepoint { name } => {
                let block = self.block.as_mut().ok_or_else(|| {
                    errinput!(
                        NoActiveSqlTransaction,
                        "SAVEPOINT can only be used in transaction blocks"
                    )
                })?;
                block.txn.savepoint(&name.value.to_lowercase());
                return Ok(StatementResult::Command("SAVEPOINT"));
            }
            S::ReleaseSavepoint { name } => {
                let block = self.block.as_mut().ok_or_else(|| {
                    errinput!(
                        NoActiveSqlTransaction,
                        "RELEASE SAVEPOINT can only be used in transaction blocks"
                    )
                })?;
                let result = block.txn.release_savepoint(&name.value.to_lowercase());
                if result.is_err() {
                    block.failed = true;
                }
                result?;
                return Ok(StatementResult::Command("RELEASE"));
            }
            S::Set(ast::Set::SetTransaction {
                modes,
                session: false,
                ..
            }) => {
                // Takes effect for a block that has not run a statement yet, as in PostgreSQL.
                let modes = isolation_of(modes)?;
                let lock_timeout = self.settings.lock_timeout();
                if let (true, Some(_)) = (self.block.is_some(), modes) {
                    let txn = self.new_txn(TxnOptions {
                        isolation: modes.map_or(IsolationLevel::ReadCommitted, |m| m.0),
                        read_only: modes.is_some_and(|m| m.1),
                        lock_timeout,
                    });
                    if let Some(block) = self.block.as_mut() {
                        block.txn = txn;
                    }
                }
                return Ok(StatementResult::Command("SET"));
            }
            S::Prepare {
                name,
                data_types,
                statement,
            } => return self.sql_prepare(sql, name, data_types, statement),
            S::Execute {
                name: Some(name),
                parameters,
                immediate: false,
                ..
            } => return self.sql_execute(name, parameters),
            S::Deallocate { name, .. } => return self.sql_deallocate(name),
            S::Vacuum(vacuum) => {
                // Old versions are collected continuously by the commit pipeline, so VACUUM
                // has nothing left to do; it checks its table and PostgreSQL's rules, and
                // VACUUM ANALYZE analyzes.
                if self.block.is_some() {
                    let err = errinput!(
                        ActiveSqlTransaction,
                        "VACUUM cannot run inside a transaction block"
                    );
                    self.fail_block();
                    return Err(err);
                }
                if let Some(table) = &vacuum.table_name {
                    self.execute_one(&format!("SELECT 1 FROM {table} WHERE false"))?;
                }
                if crate::parser::vacuum_analyzes(vacuum) {
                    let table = vacuum.table_name.as_ref().map(ToString::to_string);
                    self.execute_one(&format!("ANALYZE {}", table.unwrap_or_default()))?;
                }
                return Ok(StatementResult::Command("VACUUM"));
            }
            S::Copy {
                source,
                to,
                target,
                options,
                legacy_options,
                values,
            } => {
                if !values.is_empty() {
                    return Err(errinput!(
                        FeatureNotSupported,
                        "COPY data inline in the statement is not supported; send it as COPY data"
                    ));
                }
                let result = self.copy(source, *to, target, options, legacy_options);
                if let (Err(_), Some(block)) = (&result, self.block.as_mut()) {
                    block.failed = true;
                }
                return result;
            }
            S::Set(_) | S::ShowVariable { .. } | S::Reset(_) => {
                let result = self.setting_command(statement);
                let lock_timeout = self.settings.lock_timeout();
                if let Some(block) = self.block.as_mut() {
                    block.failed |= result.is_err();
                    block.txn.set_lock_timeout(lock_timeout);
                }
                return result;
            }
            _ => {}
        }

        let mut ctx = self.context();
        if let Source::Kept(_, values) = &source {
            ctx.params = values.clone();
        }
        match self.block.as_mut() {
            Some(block) => {
                let result = run(
                    &ctx,
                    &self.dialect,
                    &mut block.txn,
                    &mut block.catalog_version,
                    sql,
                    statement,
                    source,
                    Ok,
                );
                if result.is_err() {
                    block.failed = true;
                }
                result.map_err(|e| interrupted(&self.interrupt, e))
            }
            None => {
                let mut txn = self.new_txn(TxnOptions {
                    isolation: self.default_isolation(),
                    read_only: false,
                    lock_timeout: self.settings.lock_timeout(),
                });
                let result = run(
                    &ctx,
                    &self.dialect,
                    &mut txn,
                    &mut None,
                    sql,
                    statement,
                    source,
                    Ok,
                )
                .map_err(|e| interrupted(&self.interrupt, e));
                let Ok(result) = result else {
                    self.transaction_ended(false);
                    return result;
                };
                let committed = {
                    let _in_flight = self.catalog_in_flight();
                    txn.commit()
                };
                self.transaction_ended(committed.is_ok());
                // A DROP DATABASE that did not commit gives its database back.
                if committed.is_err() {
                    for db in ctx.claimed.lock().drain(..) {
                        self.db.connections.release(db);
                    }
                }
                committed?;
                Ok(result)
            }
        }
    }

    /// Marks the commit about to run in flight on the [`CatalogClock`] if the transaction
    /// changed the catalog (until the guard is dropped, after the commit).
    fn catalog_in_flight(&self) -> Option<crate::catalog::clock::Committing<'_>> {
        self.catalog_changed
            .load(Ordering::Acquire)
            .then(|| self.db.clock.committing())
    }

    /// After a transaction ends: if it changed schemas, the shared cache of them is stale.
    fn transaction_ended(&self, committed: bool) {
        let changes = std::mem::take(&mut *self.changes.lock());
        if committed && !changes.is_empty() {
            self.db.autoanalyze.committed(changes);
        }
        self.catalog_changed.store(false, Ordering::Release);
        if self.schemas_changed.swap(false, Ordering::AcqRel) {
            self.db.schemas.invalidate();
        }
    }

    /// What a statement of this session runs with: in the open block, if there is one.
    fn context(&self) -> SessionContext<E> {
        let started = self.block.as_ref().map(|b| b.started);
        SessionContext {
            db: self.db.clone(),
            currvals: self.currvals.clone(),
            started,
            work_mem: self.settings.work_mem(),
            interrupt: self.interrupt.clone(),
            in_block: started.is_some(),
            identity: self.identity.clone(),
            settings: self.settings.clone(),
            notices: self.notices.clone(),
            claimed: Arc::default(),
            schemas_changed: self.schemas_changed.clone(),
            catalog_changed: self.catalog_changed.clone(),
            params: Arc::new([]),
            changes: self.changes.clone(),
        }
    }

    /// `SET`, `SHOW` and `RESET` of session settings.
    fn setting_command(&mut self, statement: &ast::Statement) -> Result<StatementResult> {
        use ast::Statement as S;
        let in_block = self.block.is_some();
        match statement {
            S::Set(ast::Set::SingleAssignment {
                scope,
                hivevar: false,
                variable,
                values,
            }) => {
                let name = variable.to_string();
                let local = matches!(scope, Some(ast::ContextModifier::Local));
                let default = matches!(values.as_slice(),
                    [ast::Expr::Identifier(id)] if id.quote_style.is_none()
                        && id.value.eq_ignore_ascii_case("default"));
                if default {
                    Arc::make_mut(&mut self.settings).reset(&name)?;
                } else {
                    let value = setting_value(&name, values)?;
                    Arc::make_mut(&mut self.settings).set(&name, &value, local, in_block)?;
                }
            }
            S::Set(ast::Set::SetTimeZone { local, value }) => {
                let value = setting_value("TimeZone", std::slice::from_ref(value))?;
                Arc::make_mut(&mut self.settings).set("timezone", &value, *local, in_block)?;
            }
            S::Set(ast::Set::SetTransaction {
                modes,
                session: true,
                ..
            }) => {
                // SET SESSION CHARACTERISTICS AS TRANSACTION ...
                if let Some((isolation, _)) = isolation_of(modes)? {
                    let level = match isolation {
                        IsolationLevel::ReadCommitted => "read committed",
                        IsolationLevel::RepeatableRead => "repeatable read",
                        IsolationLevel::Serializable => "serializable",
                    };
                    Arc::make_mut(&mut self.settings).set(
                        "default_transaction_isolation",
                        level,
                        false,
                        in_block,
                    )?;
                }
            }
            S::Set(other) => {
                return Err(errinput!(FeatureNotSupported, "{other} is not supported"));
            }
            S::Reset(reset) => match &reset.reset {
                ast::Reset::ALL => Arc::make_mut(&mut self.settings).reset_all(),
                ast::Reset::ConfigurationParameter(name) => {
                    Arc::make_mut(&mut self.settings).reset(&name.to_string())?
                }
                ast::Reset::SessionAuthorization => {
                    return Err(errinput!(
                        FeatureNotSupported,
                        "RESET SESSION AUTHORIZATION is not supported"
                    ))
                }
            },
            S::ShowVariable { variable } => return self.show(variable),
            _ => return Err(crate::errinternal!("{statement} is not a setting command")),
        }
        Ok(StatementResult::Command(
            if matches!(statement, S::Reset(_)) {
                "RESET"
            } else {
                "SET"
            },
        ))
    }

    /// `SHOW name` and `SHOW ALL`.
    fn show(&self, variable: &[ast::Ident]) -> Result<StatementResult> {
        let text = |name: &str| Label {
            name: name.to_string(),
            data_type: DataType::Text,
        };
        let words: Vec<String> = variable.iter().map(|i| i.value.to_lowercase()).collect();
        let name = match words.as_slice() {
            [all] if all == "all" => {
                let rows = self
                    .settings
                    .all()
                    .into_iter()
                    .map(|(n, v, d)| vec![Value::Text(n), Value::Text(v), Value::Text(d)])
                    .collect();
                return Ok(StatementResult::Query {
                    labels: vec![text("name"), text("setting"), text("description")],
                    rows,
                });
            }
            [time, zone] if time == "time" && zone == "zone" => "timezone".to_string(),
            [transaction, isolation, level]
                if (transaction, isolation, level)
                    == (
                        &"transaction".to_string(),
                        &"isolation".to_string(),
                        &"level".to_string(),
                    ) =>
            {
                "transaction_isolation".to_string()
            }
            _ => variable
                .iter()
                .map(|i| i.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
        };
        let label = Settings::label(&name)?;
        let value = if label == "transaction_isolation" {
            let isolation = self
                .block
                .as_ref()
                .map_or(self.default_isolation(), |b| b.txn.isolation());
            match isolation {
                IsolationLevel::ReadCommitted => "read committed",
                IsolationLevel::RepeatableRead => "repeatable read",
                IsolationLevel::Serializable => "serializable",
            }
            .to_string()
        } else {
            self.settings.get(&name)?
        };
        Ok(StatementResult::Query {
            labels: vec![text(&label)],
            rows: vec![vec![Value::Text(value)]],
        })
    }
}

/// The text of a `SET` value list: literals and names, comma-separated where the setting is a
/// list (`search_path`, `DateStyle`).
fn setting_value(name: &str, values: &[ast::Expr]) -> Result<String> {
    let list = matches!(name.to_lowercase().as_str(), "search_path" | "datestyle");
    if values.len() > 1 && !list {
        return Err(errinput!(
            InvalidParameterValue,
            "SET {name} takes only one argument"
        ));
    }
    let one = |expr: &ast::Expr| -> Result<String> {
        use ast::Value as V;
        Ok(match expr {
            ast::Expr::Value(v) => match &v.value {
                V::SingleQuotedString(s) | V::EscapedStringLiteral(s) => s.clone(),
                V::Number(n, _) => n.to_string(),
                V::Boolean(b) => if *b { "on" } else { "off" }.to_string(),
                other => other.to_string(),
            },
            ast::Expr::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr,
            } => format!("-{expr}"),
            ast::Expr::Identifier(id) if id.quote_style.is_some() => {
                if list
                    && id
                        .value
                        .chars()
                        .any(|c| !c.is_ascii_lowercase() && c != '_')
                {
                    format!("\"{}\"", id.value)
                } else {
                    id.value.clone()
                }
            }
            ast::Expr::Identifier(id) => id.value.to_lowercase(),
            other => {
                return Err(errinput!(
                    SyntaxError,
                    "syntax error at or near \"{other}\""
                ))
            }
        })
    };
    Ok(values
        .iter()
        .map(one)
        .collect::<Result<Vec<_>>>()?
        .join(", "))
}

/// A lock wait cut short by the session's interrupt reports why (user request or statement
/// timeout).
fn interrupted(interrupt: &Interrupt, err: crate::Error) -> crate::Error {
    match err {
        crate::Error::Txn(zizhu_txn::Error::Canceled) => interrupt.error(),
        err => err,
    }
}

/// Where a statement's plan comes from.
pub(super) enum Source<'a> {
    /// Binding the statement (with its parameters' values as constants, if it has any).
    Bind(Option<&'a Params>),
    /// A prepared statement's kept plan, with the execution's parameter values.
    Kept(&'a Prepared, Arc<[Value]>),
}

/// Binds (or takes the kept plan of), optimizes and executes `statement` in `txn`, with
/// `rewrite` applied to a bound plan first (`Ok` for none; COPY substitutes its rows; a kept
/// plan is not rewritten).
/// `catalog_version` is the catalog version of the transaction's snapshot: set here when the
/// statement takes a new snapshot.
#[allow(clippy::too_many_arguments)]
fn run<E: Engine>(
    ctx: &SessionContext<E>,
    dialect: &ZizhuDialect,
    txn: &mut Transaction<E>,
    catalog_version: &mut Option<u64>,
    sql: &str,
    statement: &ast::Statement,
    source: Source<'_>,
    rewrite: impl FnOnce(Plan) -> Result<Plan>,
) -> Result<StatementResult> {
    let (fresh, version) = ctx.db.clock.around(|| txn.begin_statement());
    if fresh {
        *catalog_version = version;
    }
    let identity = ctx.identity();
    let path = ctx.settings.search_path(&identity.user);
    let schema_cache =
        (!ctx.schemas_changed.load(Ordering::Acquire)).then(|| ctx.db.schemas.clone());
    let reader: &Transaction<E> = txn;
    let bind = |params: Option<&Params>| {
        let mut binder = match params {
            Some(params) => Binder::with_params(reader, identity.clone(), sql, dialect, params),
            None => Binder::new(reader, identity.clone(), sql, dialect),
        }
        .with_search_path(path.clone());
        if let Some(cache) = &schema_cache {
            binder = binder.with_schema_cache(cache.clone());
        }
        binder.bind(statement)
    };
    // A kept plan comes optimized (it may be its generic plan, optimized once); only bound
    // plans are rewritten (no caller rewrites a kept one).
    let plan = match source {
        Source::Bind(params) => optimize(rewrite(bind(params)?)?),
        Source::Kept(prepared, values) => {
            let version = catalog_version.filter(|_| !ctx.catalog_changed.load(Ordering::Acquire));
            prepared.plan(version, &ctx.settings, &values, |p| bind(Some(p)))?
        }
    };
    if plan.changes_schemas() {
        ctx.schemas_changed.store(true, Ordering::Release);
    }
    if plan.changes_catalog() {
        ctx.catalog_changed.store(true, Ordering::Release);
    }
    // The table a write changes, for automatic ANALYZE: counted once the statement succeeds.
    let written = match &plan {
        Plan::Insert { table, .. } | Plan::Update { table, .. } | Plan::Delete { table, .. } => {
            Some((
                table.id,
                table.stats.as_ref().map_or(0.0, |s| s.rows as f64),
            ))
        }
        _ => None,
    };
    let result = execution::execute(plan, txn, ctx)?;
    if let Some((table, rows)) = written {
        let changed = match &result {
            StatementResult::Insert(n)
            | StatementResult::Update(n)
            | StatementResult::Delete(n) => Some(*n),
            // With RETURNING, a row per row changed.
            StatementResult::Returning { rows, .. } => Some(rows.len() as u64),
            _ => None,
        };
        if let Some(n) = changed {
            let key = (ctx.identity.database_id, table);
            ctx.changes.lock().push((key, n, rows));
        }
    }
    Ok(result)
}
