//! The embedded API: open a database, run SQL in a session, read typed rows.
//!
//! A [`Session`] follows PostgreSQL's transaction-block rules: outside `BEGIN`, each statement
//! commits on its own (or rolls back on error); inside, an error puts the block into the
//! aborted state, where every statement fails with 25P02 until `ROLLBACK` (or `ROLLBACK TO` a
//! savepoint); `COMMIT` of an aborted block rolls it back.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use zizhu_engine::Engine;
use zizhu_engine_memory::MemoryEngine;
use zizhu_engine_redb::{RedbEngine, RedbOptions};
use zizhu_txn::{IsolationLevel, Mvcc, Options, Transaction, TxnOptions};

use std::rc::Rc;

use crate::execution::{self, Context, Reader, StatementResult};
use crate::keys::TableId;
use crate::parser::{self, ast, ZizhuDialect};
use crate::planner::{optimize, Binder};
use crate::sequence::{Counters, Sequence, Sequences};
use crate::{errinput, Result};

/// An open database. Cheap to share; open sessions with [`Database::session`].
pub struct Database<E: Engine> {
    mvcc: Mvcc<E>,
    rowids: Mutex<HashMap<TableId, i64>>,
    counters: Counters,
}

impl Database<RedbEngine> {
    /// Opens (creating if needed) a database in `dir`.
    pub fn open(dir: &Path) -> Result<Arc<Self>> {
        std::fs::create_dir_all(dir).map_err(|e| {
            crate::Error::Txn(zizhu_txn::Error::Engine(zizhu_engine::Error::Io(format!(
                "{}: {e}",
                dir.display()
            ))))
        })?;
        let engine = RedbEngine::open(&dir.join("data.redb"), RedbOptions::default())
            .map_err(zizhu_txn::Error::from)?;
        Self::with_engine(engine)
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
        Ok(Arc::new(Self {
            mvcc,
            rowids: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        }))
    }

    /// Opens a session.
    pub fn session(self: &Arc<Self>) -> Session<E> {
        Session {
            db: self.clone(),
            dialect: ZizhuDialect::postgres(),
            block: None,
            default_isolation: IsolationLevel::ReadCommitted,
            currvals: Arc::default(),
        }
    }

    /// The transaction layer below.
    pub fn mvcc(&self) -> &Mvcc<E> {
        &self.mvcc
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
        }))
    }

    fn transaction_start(&self) -> Option<i64> {
        self.started
    }
}

impl<E: Engine> Sequences for SessionContext<E> {
    fn nextval(&self, reader: &dyn Reader, name: &str) -> Result<i64> {
        let sequence = Sequence::lookup(reader, name)?;
        let value = self.db.counters.next(&self.db.mvcc, &sequence)?;
        self.currvals.lock().insert(sequence.id, value);
        Ok(value)
    }

    fn currval(&self, reader: &dyn Reader, name: &str) -> Result<i64> {
        let sequence = Sequence::lookup(reader, name)?;
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
        let sequence = Sequence::lookup(reader, name)?;
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
}

/// A session: a sequence of statements, possibly inside a transaction block.
pub struct Session<E: Engine> {
    db: Arc<Database<E>>,
    dialect: ZizhuDialect,
    block: Option<Block<E>>,
    default_isolation: IsolationLevel,
    /// `currval` per sequence: the session's last `nextval`.
    currvals: Arc<Mutex<HashMap<TableId, i64>>>,
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
            results.push(self.execute_statement(sql, statement)?);
        }
        Ok(results)
    }

    /// Runs a single statement and returns its result.
    pub fn execute_one(&mut self, sql: &str) -> Result<StatementResult> {
        let mut results = self.execute(sql)?;
        match (results.pop(), results.is_empty()) {
            (Some(result), true) => Ok(result),
            _ => Err(errinput!(SyntaxError, "expected exactly one statement")),
        }
    }

    fn begin(&self, modes: &[ast::TransactionMode]) -> Result<Transaction<E>> {
        let (isolation, read_only) =
            isolation_of(modes)?.unwrap_or((self.default_isolation, false));
        Ok(self.db.mvcc.begin(TxnOptions {
            isolation,
            read_only,
            lock_timeout: None,
        }))
    }

    fn execute_statement(
        &mut self,
        sql: &str,
        statement: &ast::Statement,
    ) -> Result<StatementResult> {
        use ast::Statement as S;
        match statement {
            S::StartTransaction { modes, .. } => {
                if self.block.is_none() {
                    let txn = self.begin(modes)?;
                    self.block = Some(Block {
                        txn,
                        failed: false,
                        started: crate::functions::now_micros(),
                    });
                }
                // PostgreSQL only warns about a BEGIN inside a block.
                return Ok(StatementResult::Command("BEGIN"));
            }
            S::Commit { .. } => {
                return match self.block.take() {
                    None => Ok(StatementResult::Command("COMMIT")),
                    Some(Block {
                        txn, failed: true, ..
                    }) => {
                        txn.rollback();
                        Ok(StatementResult::Command("ROLLBACK"))
                    }
                    Some(Block {
                        txn, failed: false, ..
                    }) => {
                        txn.commit()?;
                        Ok(StatementResult::Command("COMMIT"))
                    }
                };
            }
            S::Rollback {
                savepoint: None, ..
            } => {
                if let Some(block) = self.block.take() {
                    block.txn.rollback();
                }
                return Ok(StatementResult::Command("ROLLBACK"));
            }
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
                if let (Some(block), Some(_)) = (self.block.as_mut(), modes) {
                    block.txn = self.db.mvcc.begin(TxnOptions {
                        isolation: modes.map_or(IsolationLevel::ReadCommitted, |m| m.0),
                        read_only: modes.is_some_and(|m| m.1),
                        lock_timeout: None,
                    });
                }
                return Ok(StatementResult::Command("SET"));
            }
            _ => {}
        }

        match self.block.as_mut() {
            Some(block) => {
                let ctx = SessionContext {
                    db: self.db.clone(),
                    currvals: self.currvals.clone(),
                    started: Some(block.started),
                };
                let result = run(&ctx, &self.dialect, &mut block.txn, sql, statement);
                if result.is_err() {
                    block.failed = true;
                }
                result
            }
            None => {
                let mut txn = self.db.mvcc.begin(TxnOptions {
                    isolation: self.default_isolation,
                    ..Default::default()
                });
                let ctx = SessionContext {
                    db: self.db.clone(),
                    currvals: self.currvals.clone(),
                    started: None,
                };
                let result = run(&ctx, &self.dialect, &mut txn, sql, statement)?;
                txn.commit()?;
                Ok(result)
            }
        }
    }
}

/// Plans and executes one statement in `txn`.
fn run<E: Engine>(
    ctx: &SessionContext<E>,
    dialect: &ZizhuDialect,
    txn: &mut Transaction<E>,
    sql: &str,
    statement: &ast::Statement,
) -> Result<StatementResult> {
    txn.begin_statement();
    let plan = Binder::new(txn, sql, dialect).bind(statement)?;
    let plan = optimize(plan);
    execution::execute(plan, txn, ctx)
}
