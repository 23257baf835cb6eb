//! `ANALYZE`: reads each table once and stores its statistics beside its definition (see
//! [`crate::catalog::stats`]). Once it has read a table, it share-locks the definition
//! ([`Catalog::share_lock_table`]): a concurrent ALTER or DROP TABLE finishes first, and the
//! statistics, by column name, are stored for the table as it then is (none if it is gone, or
//! its name is now another table's).
//! The definition itself is not written, so readers of it never conflict with ANALYZE.

use zizhu_engine::{Direction, Engine};
use zizhu_txn::Transaction;

use super::{Context, Notice, StatementResult, SubqueryCache};
use crate::catalog::stats::Gatherer;
use crate::catalog::Catalog;
use crate::keys::Key;
use crate::planner::RelationName;
use crate::{row, Result};

/// Analyzes the named tables (every table of the database for `None`), warning about
/// `skipped` relations that are not tables.
pub(super) fn analyze<E: Engine>(
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
    names: Option<Vec<RelationName>>,
    skipped: Vec<String>,
) -> Result<StatementResult> {
    for name in skipped {
        ctx.notice(Notice::warning(
            "01000",
            format!("skipping \"{name}\" --- cannot analyze non-tables or special system tables"),
        ));
    }
    let db = ctx.database();
    let tables = match names {
        Some(names) => names
            .iter()
            .map(|n| Catalog::must_table(txn, n.ns, &n.name))
            .collect::<Result<Vec<_>>>()?,
        None => crate::catalog::Snapshot::read(&*txn, db)?.tables,
    };
    // For the statement's cancellation between rows.
    let state = SubqueryCache::for_statement(ctx);
    for table in tables {
        // The rows are read at the statement's snapshot, where `table` is their definition:
        // its column names label the statistics.
        let mut gatherer = Gatherer::new(table.columns.iter().map(|c| c.name.clone()).collect());
        // Outside the serializable read set, as PostgreSQL's ANALYZE takes no predicate locks:
        // rows written meanwhile make the statistics stale, never a result wrong.
        for item in txn.scan_advisory(Key::table_rows(table.id), Direction::Forward)? {
            state.check_interrupt()?;
            let (_, bytes) = item?;
            gatherer.add(row::decode(&bytes)?);
        }
        // Locked only now, so DDL on the table waits for the write, not for the whole read. A
        // definition changed meanwhile gets the statistics of the columns it still has (they
        // are matched by name); a table dropped meanwhile gets none.
        let Some(current) = Catalog::share_lock_table(txn, db, &table)? else {
            continue;
        };
        // The name may now be another table's (renamed away, and a new one created).
        if current.id != table.id {
            continue;
        }
        Catalog::store_statistics(txn, table.id, &gatherer.finish())?;
    }
    Ok(StatementResult::Command("ANALYZE"))
}
