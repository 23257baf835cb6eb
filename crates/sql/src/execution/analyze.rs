//! `ANALYZE`: reads each table once and stores its statistics in its definition (see
//! [`crate::catalog::stats`]). Once it has read a table, it locks the definition
//! ([`Catalog::lock_table`]): a concurrent ALTER TABLE finishes first, and the statistics, by
//! column name, go onto the altered definition, so ANALYZE never brings back the one it read.

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
        for item in txn.scan(Key::table_rows(table.id), Direction::Forward)? {
            state.check_interrupt()?;
            let (_, bytes) = item?;
            gatherer.add(row::decode(&bytes)?);
        }
        // Locked only now, so DDL on the table waits for the write, not for the whole read; a
        // definition changed meanwhile gets the statistics of the columns it still has (they
        // are matched by name).
        let Some(current) = Catalog::lock_table(txn, db, &table)? else {
            continue;
        };
        let mut analyzed = (*current).clone();
        analyzed.stats = Some(gatherer.finish());
        Catalog::update_table(txn, db, &analyzed)?;
    }
    Ok(StatementResult::Command("ANALYZE"))
}
