//! FOREIGN KEY enforcement, run at the end of each statement that writes a table, as
//! PostgreSQL's after-row triggers are (so one multi-row INSERT may carry a row and its
//! parent, in either order).
//!
//! - **A referencing row** written with all its key columns non-NULL (MATCH SIMPLE) must have
//!   its parent: the parent row is found by its primary key or unique index as of *now*, not at
//!   the snapshot, and locked `FOR KEY SHARE`, so it cannot be deleted or re-keyed until this
//!   transaction ends, while plain updates of it go on.
//! - **A parent row** deleted, or with its referenced key changed, hands each referencing row
//!   to the constraint's action: NO ACTION and RESTRICT fail if one exists (NO ACTION only if
//!   the key is also gone from the parent at the end of the statement), CASCADE deletes it or
//!   gives it the new key, SET NULL / SET DEFAULT rewrite its key columns. Referencing rows are
//!   looked for as of now too: the parent's row lock is held by then, so a concurrent insert of
//!   a child either committed first (and is seen) or waits for it (and then finds no parent).
//!   Rows acted on are locked, which under REPEATABLE READ fails with 40001 if they changed
//!   after the snapshot, as in PostgreSQL. Changes made by an action are themselves enforced,
//!   so cascades run through any depth.

use std::sync::Arc;

use zizhu_engine::{Direction, Engine};
use zizhu_txn::{LockMode, Transaction, WaitPolicy};
use zizhu_types::Value;

use super::{eval, index, Env, SubqueryCache};
use crate::catalog::{Catalog, FkAction, ForeignKey, Table};
use crate::keys::{DatabaseId, Key};
use crate::planner::{row_rules, RowRules};
use crate::{errinput, errinternal, row, types, Result};

/// How deep cascades may go before the statement is refused (PostgreSQL runs out of stack).
const MAX_CASCADE_DEPTH: usize = 1000;

/// The rows a statement wrote to one table, for its foreign keys.
#[derive(Default)]
pub struct Changes {
    /// New rows.
    pub inserted: Vec<Vec<Value>>,
    /// Updated rows, old and new.
    pub updated: Vec<(Vec<Value>, Vec<Value>)>,
    /// Deleted rows.
    pub deleted: Vec<Vec<Value>>,
}

impl Changes {
    fn is_empty(&self) -> bool {
        self.inserted.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }
}

/// Enforces the foreign keys of `table`, and those referencing it, for what a statement did.
pub fn enforce<E: Engine>(
    txn: &mut Transaction<E>,
    db: DatabaseId,
    table: &Table,
    changes: Changes,
    cache: &SubqueryCache,
) -> Result<()> {
    enforce_at(txn, db, table, changes, cache, 0)
}

fn enforce_at<E: Engine>(
    txn: &mut Transaction<E>,
    db: DatabaseId,
    table: &Table,
    changes: Changes,
    cache: &SubqueryCache,
    depth: usize,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    if depth > MAX_CASCADE_DEPTH {
        return Err(errinput!(
            StatementTooComplex,
            "foreign key actions cascade more than {MAX_CASCADE_DEPTH} levels deep"
        ));
    }
    // As a parent: what its deletes and key changes do to referencing rows.
    if !changes.deleted.is_empty() || !changes.updated.is_empty() {
        let ns = crate::keys::Namespace::new(db, table.schema);
        for child in Catalog::referencing(txn, ns, &table.name)? {
            for fk in child
                .foreign_keys
                .iter()
                .filter(|fk| fk.parent == table.name && fk.parent_schema == table.schema)
            {
                let parent_key = positions(table, &fk.parent_columns)?;
                for old in &changes.deleted {
                    parent_gone(
                        txn,
                        db,
                        table,
                        &child,
                        fk,
                        key_values(old, &parent_key),
                        cache,
                        depth,
                    )?;
                }
                for (old, new) in &changes.updated {
                    let (before, after) =
                        (key_values(old, &parent_key), key_values(new, &parent_key));
                    if zizhu_keycode::encode_tuple(&before) != zizhu_keycode::encode_tuple(&after) {
                        parent_rekeyed(txn, db, table, &child, fk, before, after, cache, depth)?;
                    }
                }
            }
        }
    }
    // As a child: every new or re-keyed reference must have its parent.
    for fk in &table.foreign_keys {
        // Looked up at the first row that needs it.
        let mut parent: Option<Arc<Table>> = None;
        let columns = positions(table, &fk.columns)?;
        let changed = changes.updated.iter().filter_map(|(old, new)| {
            let same = columns.iter().all(|&c| {
                zizhu_keycode::encode_tuple(std::slice::from_ref(&old[c]))
                    == zizhu_keycode::encode_tuple(std::slice::from_ref(&new[c]))
            });
            (!same).then_some(new)
        });
        for new in changes.inserted.iter().chain(changed) {
            let values = key_values(new, &columns);
            if values.iter().any(Value::is_null) {
                continue; // MATCH SIMPLE: a NULL anywhere exempts the row.
            }
            let parent = match &mut parent {
                Some(parent) => &*parent,
                None => {
                    let ns = crate::keys::Namespace::new(db, fk.parent_schema);
                    let found = Catalog::table(txn, ns, &fk.parent)?.ok_or_else(|| {
                        errinternal!(
                            "table {} referenced by {} does not exist",
                            fk.parent,
                            fk.name
                        )
                    })?;
                    &*parent.insert(found)
                }
            };
            if !parent_exists(txn, parent, fk, &values, LockMode::KeyShare)? {
                return Err(errinput!(
                    ForeignKeyViolation,
                    "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                    table.name,
                    fk.name
                )
                .with_detail(format!(
                    "{} is not present in table \"{}\".",
                    key_text(&fk.columns, &values),
                    parent.name
                )));
            }
        }
    }
    Ok(())
}

/// The positions of named columns.
fn positions(table: &Table, names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            table
                .column_index(n)
                .ok_or_else(|| errinternal!("foreign key column {n} is not in {}", table.name))
        })
        .collect()
}

fn key_values(row: &[Value], columns: &[usize]) -> Vec<Value> {
    columns.iter().map(|&c| row[c].clone()).collect()
}

/// `Key (a, b)=(1, 2)`, as PostgreSQL's details print keys.
fn key_text(columns: &[String], values: &[Value]) -> String {
    let values: Vec<String> = values.iter().map(types::to_text).collect();
    format!("Key ({})=({})", columns.join(", "), values.join(", "))
}

/// Whether `parent` has a row whose referenced columns equal `values` (given in the order of
/// `fk.parent_columns`), as of now; locks it in `mode` if so. A value that does not fit the
/// parent column's type matches no row.
fn parent_exists<E: Engine>(
    txn: &Transaction<E>,
    parent: &Table,
    fk: &ForeignKey,
    values: &[Value],
    mode: LockMode,
) -> Result<bool> {
    let referenced = positions(parent, &fk.parent_columns)?;
    // The key's values in the order of `columns` (a primary key or index), cast to its types.
    let ordered = |columns: &[usize]| -> Option<Vec<Value>> {
        columns
            .iter()
            .map(|c| {
                let j = referenced.iter().position(|r| r == c)?;
                types::cast(values[j].clone(), &parent.columns[*c].data_type).ok()
            })
            .collect()
    };
    let same_set = |columns: &[usize]| {
        let (mut a, mut b) = (columns.to_vec(), referenced.clone());
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    let row_key = if same_set(&parent.primary_key) {
        let Some(pk) = ordered(&parent.primary_key) else {
            return Ok(false);
        };
        Key::Row(parent.id, pk).encode()
    } else {
        let index = parent
            .indexes
            .iter()
            .find(|i| i.unique && same_set(&i.columns))
            .ok_or_else(|| {
                errinternal!("no unique index of {} matches {}", parent.name, fk.name)
            })?;
        let Some(entry_values) = ordered(&index.columns) else {
            return Ok(false);
        };
        let entry = Key::Index(index.id, entry_values).encode();
        let Some(pk) = txn
            .lock_row(&entry, mode, WaitPolicy::Wait)?
            .and_then(|l| l.current)
        else {
            return Ok(false);
        };
        Key::row_from_encoded_pk(parent.id, &pk)
    };
    Ok(txn
        .lock_row(&row_key, mode, WaitPolicy::Wait)?
        .is_some_and(|l| l.current.is_some()))
}

/// The storage keys of `child`'s rows whose `fk` columns equal the parent key `values`, as of
/// now: through an index (or the primary key) that leads with those columns, else by a scan.
fn referencing_keys<E: Engine>(
    txn: &Transaction<E>,
    child: &Table,
    fk: &ForeignKey,
    values: &[Value],
) -> Result<Vec<Vec<u8>>> {
    let columns = positions(child, &fk.columns)?;
    let Some(values) = columns
        .iter()
        .zip(values)
        .map(|(&c, v)| types::cast(v.clone(), &child.columns[c].data_type).ok())
        .collect::<Option<Vec<Value>>>()
    else {
        return Ok(Vec::new()); // No child value can equal a parent value of another range.
    };
    let n = columns.len();
    let leads = |key: &[usize]| {
        let (mut a, mut b) = (key.get(..n).unwrap_or_default().to_vec(), columns.clone());
        a.sort_unstable();
        b.sort_unstable();
        key.len() >= n && a == b
    };
    let in_order = |key: &[usize]| -> Vec<Value> {
        key[..n]
            .iter()
            .filter_map(|c| {
                columns
                    .iter()
                    .position(|x| x == c)
                    .map(|j| values[j].clone())
            })
            .collect()
    };
    if leads(&child.primary_key) {
        let range = Key::row_span(
            child.id,
            &in_order(&child.primary_key),
            &std::ops::Bound::Unbounded,
            &std::ops::Bound::Unbounded,
        );
        let Some(range) = range else {
            return Ok(Vec::new());
        };
        return txn
            .scan_latest(range, Direction::Forward)?
            .map(|r| Ok(r?.0))
            .collect();
    }
    if let Some(index) = child.indexes.iter().find(|i| leads(&i.columns)) {
        let range = Key::index_prefix(index.id, &in_order(&index.columns));
        return txn
            .scan_latest(range, Direction::Forward)?
            .map(|r| Ok(Key::row_from_encoded_pk(child.id, &r?.1)))
            .collect();
    }
    let mut keys = Vec::new();
    for item in txn.scan_latest(Key::table_rows(child.id), Direction::Forward)? {
        let (key, bytes) = item?;
        if references(&row::decode(&bytes)?, &columns, &values)? {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Whether a child row's `columns` equal `values`.
fn references(row: &[Value], columns: &[usize], values: &[Value]) -> Result<bool> {
    for (&c, v) in columns.iter().zip(values) {
        if types::ops::compare(&row[c], v)? != Some(std::cmp::Ordering::Equal) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn still_referenced(
    parent: &Table,
    fk: &ForeignKey,
    child: &Table,
    values: &[Value],
) -> crate::Error {
    errinput!(
        ForeignKeyViolation,
        "update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
        parent.name,
        fk.name,
        child.name
    )
    .with_detail(format!(
        "{} is still referenced from table \"{}\".",
        key_text(&fk.parent_columns, values),
        child.name
    ))
}

/// A parent row with key `values` was deleted.
#[allow(clippy::too_many_arguments)]
fn parent_gone<E: Engine>(
    txn: &mut Transaction<E>,
    db: DatabaseId,
    parent: &Table,
    child: &Table,
    fk: &ForeignKey,
    values: Vec<Value>,
    cache: &SubqueryCache,
    depth: usize,
) -> Result<()> {
    if values.iter().any(Value::is_null) {
        return Ok(()); // No row references a NULL key.
    }
    act(
        txn,
        db,
        parent,
        child,
        fk,
        fk.on_delete,
        &values,
        None,
        cache,
        depth,
    )
}

/// A parent row's key changed from `before` to `after`.
#[allow(clippy::too_many_arguments)]
fn parent_rekeyed<E: Engine>(
    txn: &mut Transaction<E>,
    db: DatabaseId,
    parent: &Table,
    child: &Table,
    fk: &ForeignKey,
    before: Vec<Value>,
    after: Vec<Value>,
    cache: &SubqueryCache,
    depth: usize,
) -> Result<()> {
    if before.iter().any(Value::is_null) {
        return Ok(());
    }
    act(
        txn,
        db,
        parent,
        child,
        fk,
        fk.on_update,
        &before,
        Some(&after),
        cache,
        depth,
    )
}

/// Applies `action` to the rows of `child` referencing the parent key `values`; `new_key` is
/// the parent's new key for an update (`None` for a delete).
#[allow(clippy::too_many_arguments)]
fn act<E: Engine>(
    txn: &mut Transaction<E>,
    db: DatabaseId,
    parent: &Table,
    child: &Table,
    fk: &ForeignKey,
    action: FkAction,
    values: &[Value],
    new_key: Option<&[Value]>,
    cache: &SubqueryCache,
    depth: usize,
) -> Result<()> {
    let keys = referencing_keys(txn, child, fk, values)?;
    if keys.is_empty() {
        return Ok(());
    }
    match action {
        FkAction::Restrict => return Err(still_referenced(parent, fk, child, values)),
        // Fine if the statement left another parent row with the same key.
        FkAction::NoAction => {
            if parent_exists(txn, parent, fk, values, LockMode::KeyShare)? {
                return Ok(());
            }
            return Err(still_referenced(parent, fk, child, values));
        }
        FkAction::Cascade | FkAction::SetNull | FkAction::SetDefault => {}
    }
    let columns = positions(child, &fk.columns)?;
    let rules: Option<RowRules> = match action {
        FkAction::Cascade if new_key.is_none() => None,
        _ => Some(row_rules(txn, cache.identity_arc(), child)?),
    };
    let mut changes = Changes::default();
    for key in keys {
        let mode = if rules.is_none() {
            LockMode::Update
        } else {
            LockMode::NoKeyUpdate
        };
        let Some(bytes) = txn
            .lock_row(&key, mode, WaitPolicy::Wait)?
            .and_then(|l| l.current)
        else {
            continue; // Gone since it was found.
        };
        let old = row::decode(&bytes)?;
        if !references(&old, &columns, values)? {
            continue; // Re-keyed since it was found (READ COMMITTED).
        }
        let Some(rules) = &rules else {
            txn.delete(&key)?;
            index::delete_entries(txn, child, &old, &index::primary_key_of(&key)?)?;
            changes.deleted.push(old);
            continue;
        };
        let mut new = old.clone();
        for (j, &c) in columns.iter().enumerate() {
            new[c] = match (action, new_key) {
                (FkAction::Cascade, Some(after)) => after[j].clone(),
                (FkAction::SetDefault, _) => match &rules.defaults[c] {
                    Some(default) => eval(default, &[], &Env::new(&*txn, cache))?,
                    None => Value::Null,
                },
                _ => Value::Null,
            };
        }
        let new = super::write::check_row(child, &rules.checks, new, &Env::new(&*txn, cache))?;
        super::write::write_update(txn, child, &key, &old, &new)?;
        changes.updated.push((old, new));
    }
    enforce_at(txn, db, child, changes, cache, depth + 1)?;
    // A default equal to the key that went leaves the rows referencing it unchanged, which
    // the check of changed rows passes over: look again, as PostgreSQL does.
    if action == FkAction::SetDefault
        && !referencing_keys(txn, child, fk, values)?.is_empty()
        && !parent_exists(txn, parent, fk, values, LockMode::KeyShare)?
    {
        return Err(still_referenced(parent, fk, child, values));
    }
    Ok(())
}
