//! Automatic `ANALYZE`, as PostgreSQL's autovacuum launcher does it for statistics.
//!
//! Every committed INSERT, UPDATE and DELETE (COPY included) adds its row count to its table's
//! changes since the last automatic analyze. When they exceed
//! [`THRESHOLD`] + [`SCALE_FACTOR`] × the rows the table's statistics counted (PostgreSQL's
//! `autovacuum_analyze_threshold` and `autovacuum_analyze_scale_factor` defaults; a table never
//! analyzed counts as empty), the table is queued for a worker thread, which runs `ANALYZE` on
//! it in a session of its own, as a superuser in the table's database, and logs a failure
//! (a table dropped meanwhile, say) to standard error. A table is analyzed at most once per
//! naptime ([`NAPTIME`], PostgreSQL's `autovacuum_naptime`, unless the server is told
//! otherwise); one that passes its threshold sooner waits, and the worker looks at waiting
//! tables a few times per naptime, so a table that stops changing is still analyzed.
//!
//! Changes are counted once their transaction commits: a rolled-back transaction adds nothing
//! (work rolled back to a savepoint still counts). The counts live in memory, so a restart
//! starts them again from zero. The worker runs only when the database was asked to start it
//! ([`Database::start_autoanalyze`]): the server does, at startup; the embedded API and the
//! tests do not, so that their plans change only when they analyze.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use zizhu_engine::Engine;

use super::Database;
use crate::catalog::cluster::Cluster;
use crate::keys::{DatabaseId, TableId};
use crate::{errinput, Result};

/// Changes a table takes at the least before it is analyzed again.
pub const THRESHOLD: f64 = 50.0;
/// The fraction of its analyzed rows a table must change, beyond [`THRESHOLD`], before it is
/// analyzed again.
pub const SCALE_FACTOR: f64 = 0.1;

/// A table of a database.
type TableKey = (DatabaseId, TableId);

/// Rows a statement changed in a table: the table, the count, and the rows its statistics
/// counted (0 if never analyzed).
pub(crate) type Change = (TableKey, u64, f64);

/// How long after an automatic ANALYZE of a table another may start, by default
/// (PostgreSQL's `autovacuum_naptime`): a small, busy table (pgbench's branches) would
/// otherwise be analyzed every few dozen commits, each time making every prepared statement
/// plan again.
pub const NAPTIME: Duration = Duration::from_secs(60);

/// The changes counted since each table was last analyzed automatically, and the worker.
#[derive(Default)]
pub(crate) struct AutoAnalyze {
    state: Mutex<State>,
    /// The worker thread, for [`Database::stop_autoanalyze`] to wait for.
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The cancellation of the ANALYZE the worker is running, if any.
    running: Mutex<Option<Arc<crate::execution::Interrupt>>>,
}

#[derive(Default)]
struct State {
    /// Per table: changes since it was last taken, and the rows its statistics counted.
    changes: HashMap<TableKey, (u64, f64)>,
    /// Tables sent to the worker and not yet taken by it.
    queued: HashSet<TableKey>,
    /// When the worker last took each table.
    taken: HashMap<TableKey, Instant>,
    naptime: Duration,
    /// The worker's queue; `None` until it is started.
    worker: Option<mpsc::Sender<TableKey>>,
}

impl State {
    /// Sends `table` to the worker if its changes are past its threshold and its naptime has
    /// passed; false if the worker is gone.
    fn queue_if_due(&mut self, table: TableKey) -> bool {
        let Some(&(count, rows)) = self.changes.get(&table) else {
            return true;
        };
        let rested = self
            .taken
            .get(&table)
            .is_none_or(|t| t.elapsed() >= self.naptime);
        if count as f64 > THRESHOLD + SCALE_FACTOR * rows && rested && self.queued.insert(table) {
            let sent = self.worker.as_ref().is_some_and(|w| w.send(table).is_ok());
            if !sent {
                // The worker is gone (it could not start, or the database is closing).
                self.worker = None;
                return false;
            }
        }
        true
    }
}

impl AutoAnalyze {
    /// Adds the changes of a committed transaction, queueing each table past its threshold
    /// (once its naptime has passed; the worker looks again at tables kept waiting).
    pub(crate) fn committed(&self, changes: Vec<Change>) {
        let mut state = self.state.lock();
        if state.worker.is_none() {
            return;
        }
        for (table, count, rows) in changes {
            let entry = state.changes.entry(table).or_default();
            entry.0 += count;
            entry.1 = rows;
            if !state.queue_if_due(table) {
                return;
            }
        }
    }

    /// Queues the tables whose naptime has passed since they became due.
    fn queue_rested(&self) {
        let mut state = self.state.lock();
        let waiting: Vec<TableKey> = state
            .changes
            .keys()
            .filter(|t| state.taken.contains_key(t))
            .copied()
            .collect();
        for table in waiting {
            if !state.queue_if_due(table) {
                return;
            }
        }
    }

    /// Takes a queued table: its count starts again, and it may be queued anew once its
    /// naptime has passed.
    fn take(&self, table: TableKey) {
        let mut state = self.state.lock();
        state.queued.remove(&table);
        state.changes.remove(&table);
        state.taken.insert(table, Instant::now());
    }
}

impl<E: Engine> Database<E> {
    /// Starts the worker that analyzes a table once its committed changes pass 50 rows plus
    /// 10% of the rows it had when last analyzed (PostgreSQL's autovacuum defaults), and at
    /// most once per `naptime` ([`NAPTIME`] by default, as PostgreSQL's). It ends when the
    /// database is dropped.
    pub fn start_autoanalyze(self: &Arc<Self>, naptime: Duration) -> Result<()> {
        let (sender, receiver) = mpsc::channel::<TableKey>();
        let database = Arc::downgrade(self);
        // Tables kept waiting by their naptime are looked at again this often.
        let tick = (naptime / 4).max(Duration::from_millis(10));
        let thread = std::thread::Builder::new()
            .name("zizhu-autoanalyze".into())
            .spawn(move || loop {
                let next = receiver.recv_timeout(tick);
                let Some(db) = database.upgrade() else { break };
                match next {
                    Ok(table) => {
                        db.autoanalyze.take(table);
                        if let Err(err) = db.analyze_table(table) {
                            eprintln!("zizhu: automatic ANALYZE of table {}: {err}", table.1);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => db.autoanalyze.queue_rested(),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            })
            .map_err(|e| crate::errinternal!("cannot start the automatic ANALYZE worker: {e}"))?;
        {
            let mut state = self.autoanalyze.state.lock();
            state.naptime = naptime;
            state.worker = Some(sender);
        }
        *self.autoanalyze.thread.lock() = Some(thread);
        Ok(())
    }

    /// Stops the worker: nothing more is queued, an ANALYZE in progress is cancelled (its
    /// transaction rolls back, as PostgreSQL's shutdown ends autovacuum workers), and this
    /// waits for the thread. The server calls it before closing the database, which the
    /// worker would otherwise keep open.
    pub fn stop_autoanalyze(&self) {
        self.autoanalyze.state.lock().worker = None;
        if let Some(running) = &*self.autoanalyze.running.lock() {
            running.cancel();
        }
        let thread = self.autoanalyze.thread.lock().take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Runs `ANALYZE` on one table, in a session of its database.
    fn analyze_table(self: &Arc<Self>, (database, table): TableKey) -> Result<()> {
        let txn = self.mvcc.begin(zizhu_txn::TxnOptions {
            isolation: zizhu_txn::IsolationLevel::ReadCommitted,
            read_only: true,
            lock_timeout: None,
        });
        let db = Cluster::databases(&txn)?
            .into_iter()
            .find(|d| d.id == database)
            .ok_or_else(|| errinput!(UndefinedObject, "database {database} is gone"))?;
        let snapshot = crate::catalog::Snapshot::read(&txn, database)?;
        txn.rollback();
        let Some(def) = snapshot.tables.iter().find(|t| t.id == table) else {
            // Dropped since: nothing to do.
            return Ok(());
        };
        let schema = crate::system::oids::schema_name(&snapshot, def.schema)
            .ok_or_else(|| errinput!(UndefinedObject, "the schema of {} is gone", def.name))?;
        let mut session = self.background_session_in(database, &db.name)?;
        session.identity = Arc::new(crate::system::Identity {
            database: db.name.clone(),
            database_id: database,
            ..crate::system::Identity::local()
        });
        let quote = crate::system::oids::quote_ident;
        *self.autoanalyze.running.lock() = Some(session.interrupt());
        // Set before this check, so a stop either sees it to cancel or is seen here.
        if self.autoanalyze.state.lock().worker.is_none() {
            *self.autoanalyze.running.lock() = None;
            return Ok(());
        }
        let result = session.execute(&format!("ANALYZE {}.{}", quote(&schema), quote(&def.name)));
        *self.autoanalyze.running.lock() = None;
        result.map(|_| ())
    }
}
