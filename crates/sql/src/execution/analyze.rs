//! `ANALYZE`: reads each table once and stores its statistics in its definition (see
//! [`crate::catalog::stats`]). It first locks the definition ([`Catalog::lock_table`]), so a
//! concurrent ALTER TABLE finishes first and the statistics go onto the altered definition.

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
        let Some(table) = Catalog::lock_table(txn, db, &table)? else {
            continue;
        };
        let mut gatherer = Gatherer::new(table.columns.iter().map(|c| c.name.clone()).collect());
        for item in txn.scan(Key::table_rows(table.id), Direction::Forward)? {
            state.check_interrupt()?;
            let (_, bytes) = item?;
            gatherer.add(row::decode(&bytes)?);
        }
        let mut analyzed = (*table).clone();
        analyzed.stats = Some(gatherer.finish());
        Catalog::update_table(txn, db, &analyzed)?;
    }
    Ok(StatementResult::Command("ANALYZE"))
}
