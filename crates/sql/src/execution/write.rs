//! INSERT, UPDATE and DELETE.

use zizhu_engine::Engine;
use zizhu_txn::{LockMode, Transaction, WaitPolicy};
use zizhu_types::Value;

use super::foreign_key::{self, Changes};
use super::index;
use super::query::{fetch, passes, rows};
use super::{eval, Context, Env, SubqueryCache};
use crate::catalog::{Catalog, Table};
use crate::keys::{DatabaseId, Key};
use crate::planner::{Arbiter, ConflictAction, Expr, Node, OnConflict};
use crate::{errinput, errinternal, row, types, Result};

/// The row as PostgreSQL prints it in a DETAIL line: `(1, null, abc)`.
fn row_text(row: &[Value]) -> String {
    let items: Vec<String> = row
        .iter()
        .map(|v| {
            if v.is_null() {
                "null".to_string()
            } else {
                types::to_text(v)
            }
        })
        .collect();
    format!("({})", items.join(", "))
}

/// Coerces a new row to the table's column types and checks NOT NULL.
pub(super) fn check_row(
    table: &Table,
    checks: &[(String, Expr)],
    row: Vec<Value>,
    env: &Env<'_>,
) -> Result<Vec<Value>> {
    let row = row
        .into_iter()
        .zip(&table.columns)
        .map(|(value, column)| types::assign(value, &column.data_type))
        .collect::<Result<Vec<_>>>()?;
    for (value, column) in row.iter().zip(&table.columns) {
        if value.is_null() && !column.nullable {
            return Err(errinput!(
                NotNullViolation,
                "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                column.name,
                table.name
            )
            .with_detail(format!("Failing row contains {}.", row_text(&row))));
        }
    }
    // NULL passes a CHECK, as in SQL: only false fails.
    for (name, check) in checks {
        if eval(check, &row, env)? == Value::Bool(false) {
            return Err(errinput!(
                CheckViolation,
                "new row for relation \"{}\" violates check constraint \"{name}\"",
                table.name
            )
            .with_detail(format!("Failing row contains {}.", row_text(&row))));
        }
    }
    Ok(row)
}

fn duplicate_key(table: &Table, pk: &[Value]) -> crate::Error {
    let names: Vec<&str> = table
        .primary_key
        .iter()
        .map(|&i| table.columns[i].name.as_str())
        .collect();
    let values: Vec<String> = pk.iter().map(types::to_text).collect();
    errinput!(
        UniqueViolation,
        "duplicate key value violates unique constraint \"{}_pkey\"",
        table.name
    )
    .with_detail(format!(
        "Key ({})=({}) already exists.",
        names.join(", "),
        values.join(", ")
    ))
}

/// Writes a new row under its key, failing if the key is taken (by any committed row, or one
/// written by a transaction that commits while this one waits for its lock).
fn insert_row<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    pk: Vec<Value>,
    row: &[Value],
    new_id: bool,
) -> Result<()> {
    let key = Key::Row(table.id, pk.clone()).encode();
    if new_id {
        // A hidden row id never handed out before: nobody else can reach its key.
        txn.put_private(&key, row::encode(row))?;
    } else if txn.insert(&key, row::encode(row))?.is_some() {
        return Err(duplicate_key(table, &pk));
    }
    index::insert_entries(txn, table, row, &pk)
}

/// Rows an INSERT prepares before checking their keys together.
const INSERT_BATCH: usize = 1024;

/// A row ready to insert: its values (defaults filled, checks passed) and primary key.
struct Prepared {
    row: Vec<Value>,
    pk: Vec<Value>,
    /// The key is a hidden row id handed out for this row.
    new_id: bool,
}

/// Fills a source row's defaults, checks it, and finds its primary key (handing out a hidden
/// row id if the table has none). Reads nothing another row of the statement writes: defaults
/// and CHECK constraints cannot query tables.
fn prepare<E: Engine>(
    txn: &Transaction<E>,
    ctx: &dyn Context,
    insert: &Insert<'_>,
    source_row: &[Value],
    cache: &SubqueryCache,
) -> Result<Prepared> {
    let table = insert.table;
    let mut new = Vec::with_capacity(table.columns.len());
    for (target, default) in insert.targets.iter().zip(insert.defaults) {
        new.push(match (target, default) {
            (Some(i), _) => source_row[*i].clone(),
            (None, Some(default)) => eval(default, &[], &Env::new(txn, cache))?,
            (None, None) => Value::Null,
        });
    }
    let row = check_row(table, insert.checks, new, &Env::new(txn, cache))?;
    if let Some(pk) = table.key_of(&row) {
        return Ok(Prepared {
            row,
            pk,
            new_id: false,
        });
    }
    // Above every id that still has a version, deleted rows' included, so that a new id's key
    // has none: its row needs no lock and no uniqueness check.
    let stored_max = || -> Result<i64> {
        let last = txn.newest_key_ever(Key::table_rows(table.id))?;
        Ok(match last.map(|k| Key::decode(&k)).transpose()? {
            Some(Key::Row(_, pk)) => match pk.as_slice() {
                [Value::Int64(id)] => *id,
                _ => 0,
            },
            _ => 0,
        })
    };
    let pk = vec![Value::Int64(ctx.next_rowid(table.id, &stored_max)?)];
    Ok(Prepared {
        row,
        pk,
        new_id: true,
    })
}

/// Whether preparing a row changes state beyond the statement (a default calling `nextval`):
/// rows past one that fails must then not be prepared, or a failed INSERT would use up
/// sequence values PostgreSQL's does not.
fn changes_state(insert: &Insert<'_>) -> bool {
    fn walk(expr: &Expr) -> bool {
        matches!(expr, Expr::Function(f, _) if f.reads_state())
            || expr.children().into_iter().any(walk)
    }
    // Only the defaults of columns the INSERT does not give are evaluated.
    let defaults = (insert.targets.iter().zip(insert.defaults))
        .filter_map(|(target, default)| default.as_ref().filter(|_| target.is_none()));
    defaults
        .chain(insert.checks.iter().map(|(_, e)| e))
        .any(walk)
}

/// Inserts prepared rows in order, as [`insert_row`] does each, with their keys checked in
/// one pass ([`Transaction::insert_many`]).
fn insert_batch<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    batch: &[Prepared],
) -> Result<()> {
    // A table has a primary key or hidden row ids, so a batch is all one or the other.
    if batch.first().is_some_and(|p| p.new_id) {
        for p in batch {
            insert_row(txn, table, p.pk.clone(), &p.row, true)?;
        }
        return Ok(());
    }
    let mut start = 0;
    while start < batch.len() {
        let rows = batch[start..]
            .iter()
            .map(|p| {
                (
                    Key::Row(table.id, p.pk.clone()).encode(),
                    row::encode(&p.row),
                )
            })
            .collect();
        let (handled, taken) = txn.insert_many(rows)?;
        let written = handled - usize::from(taken.is_some());
        // The rows before a taken key are in; its own error comes after their index
        // entries, whose errors come first, as row by row.
        for p in &batch[start..start + written] {
            index::insert_entries(txn, table, &p.row, &p.pk)?;
        }
        if taken.is_some() {
            return Err(duplicate_key(table, &batch[start + written].pk));
        }
        start += handled;
    }
    Ok(())
}

/// An INSERT's target and what it does with each source row.
pub struct Insert<'a> {
    /// The table.
    pub table: &'a Table,
    /// For each table column, the source column feeding it (or its default).
    pub targets: &'a [Option<usize>],
    /// Bound defaults, per table column.
    pub defaults: &'a [Option<Expr>],
    /// `ON CONFLICT`.
    pub on_conflict: Option<&'a OnConflict>,
    /// CHECK constraints, bound over the new row, by name.
    pub checks: &'a [(String, Expr)],
}

/// Inserts the source's rows; returns how many rows were inserted or updated (by ON CONFLICT
/// DO UPDATE), and those rows if `keep_rows`.
pub fn insert<E: Engine>(
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
    insert: &Insert<'_>,
    source: &Node,
    keep_rows: bool,
    cache: &SubqueryCache,
) -> Result<(u64, Vec<Vec<Value>>)> {
    // Read the whole source first: INSERT INTO t SELECT FROM t must not see its own rows.
    let input = {
        let env = Env::new(&*txn, cache);
        let input = rows(source, &env)?.collect::<Result<Vec<_>>>()?;
        input
    };
    insert_rows(txn, ctx, insert, input, keep_rows, cache)
}

/// [`insert`] of rows already read.
pub fn insert_rows<E: Engine>(
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
    insert: &Insert<'_>,
    input: Vec<Vec<Value>>,
    keep_rows: bool,
    cache: &SubqueryCache,
) -> Result<(u64, Vec<Vec<Value>>)> {
    let table = insert.table;
    let (mut count, mut kept) = (0, Vec::new());
    let track = tracks_foreign_keys(txn, cache.database(), table)?;
    let mut changes = Changes::default();
    // Rows this statement inserted or updated: DO UPDATE may not touch one twice.
    let mut touched = std::collections::HashSet::new();
    let do_update = insert
        .on_conflict
        .is_some_and(|c| matches!(c.action, ConflictAction::Update { .. }));
    // Rows are prepared a batch at a time and their keys checked together, in one pass over
    // the stored keys rather than a seek per row. Under ON CONFLICT what one row does decides
    // what the next finds, so those go one at a time.
    let batch_size = if insert.on_conflict.is_some() || changes_state(insert) {
        1
    } else {
        INSERT_BATCH
    };
    let mut input = input.into_iter();
    loop {
        let mut batch = Vec::new();
        // A row that fails to prepare fails the statement once the rows before it are in:
        // an earlier row's error comes first, as row by row.
        let mut failed = None;
        for source_row in input.by_ref().take(batch_size) {
            match prepare(txn, ctx, insert, &source_row, cache) {
                Ok(prepared) => batch.push(prepared),
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        if batch.is_empty() {
            match failed {
                Some(err) => return Err(err),
                None => break,
            }
        }
        let Some(on_conflict) = insert.on_conflict else {
            insert_batch(txn, table, &batch)?;
            for Prepared { row, .. } in batch {
                count += 1;
                if track {
                    changes.inserted.push(row.clone());
                }
                if keep_rows {
                    kept.push(row);
                }
            }
            if let Some(err) = failed {
                return Err(err);
            }
            continue;
        };
        if let Some(err) = failed {
            return Err(err);
        }
        for Prepared {
            row: new,
            pk,
            new_id,
        } in batch
        {
            if let Some((key, existing)) = find_conflict(txn, table, on_conflict, &new, &pk)? {
                let ConflictAction::Update {
                    assignments,
                    filter,
                } = &on_conflict.action
                else {
                    continue; // DO NOTHING
                };
                if !touched.insert(key.clone()) {
                    return Err(errinput!(
                        CardinalityViolation,
                        "ON CONFLICT DO UPDATE command cannot affect row a second time"
                    )
                    .with_detail(
                        "Ensure that no rows proposed for insertion within the same command have duplicate constrained values.",
                    ));
                }
                // Expressions see the existing row, then EXCLUDED (the proposed one).
                let mut both = existing.clone();
                both.extend(new.iter().cloned());
                let env = Env::new(&*txn, cache);
                if filter
                    .as_ref()
                    .map(|f| eval(f, &both, &env))
                    .transpose()?
                    .is_some_and(|v| !passes(&v))
                {
                    continue;
                }
                let mut updated = existing.clone();
                for (index, expr) in assignments {
                    updated[*index] = eval(expr, &both, &env)?;
                }
                let updated = check_row(table, insert.checks, updated, &env)?;
                drop(env);
                let new_key = write_update(txn, table, &key, &existing, &updated)?;
                touched.insert(new_key);
                count += 1;
                if track {
                    changes.updated.push((existing, updated.clone()));
                }
                if keep_rows {
                    kept.push(updated);
                }
                continue;
            }

            if do_update {
                touched.insert(Key::Row(table.id, pk.clone()).encode());
            }
            insert_row(txn, table, pk, &new, new_id)?;
            count += 1;
            if track {
                changes.inserted.push(new.clone());
            }
            if keep_rows {
                kept.push(new);
            }
        }
    }
    foreign_key::enforce(txn, cache.database(), table, changes, cache)?;
    Ok((count, kept))
}

/// Whether a statement writing `table` must collect its rows for foreign keys: the table has
/// some, or some table references it.
fn tracks_foreign_keys<E: Engine>(
    txn: &Transaction<E>,
    db: DatabaseId,
    table: &Table,
) -> Result<bool> {
    Ok(!table.foreign_keys.is_empty()
        || Catalog::is_referenced(
            txn,
            crate::keys::Namespace::new(db, table.schema),
            &table.name,
        )?)
}

/// The existing row a proposed row conflicts with under the arbiters (every unique constraint
/// if there are none): its key and newest version, locked. Taking the lock first and then
/// reading the newest version means a concurrent insert of the same key is seen once it
/// commits, as in PostgreSQL.
fn find_conflict<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    on_conflict: &OnConflict,
    new: &[Value],
    pk: &[Value],
) -> Result<Option<(Vec<u8>, Vec<Value>)>> {
    let mut arbiters = on_conflict.arbiters.clone();
    if arbiters.is_empty() {
        if !table.primary_key.is_empty() {
            arbiters.push(Arbiter::PrimaryKey);
        }
        arbiters.extend(
            table
                .indexes
                .iter()
                .enumerate()
                .filter(|(_, i)| i.unique)
                .map(|(n, _)| Arbiter::Index(n)),
        );
    }
    for arbiter in arbiters {
        let key = match arbiter {
            Arbiter::PrimaryKey => Key::Row(table.id, pk.to_vec()).encode(),
            Arbiter::Index(n) => {
                let index = &table.indexes[n];
                let values: Vec<Value> = index.columns.iter().map(|&i| new[i].clone()).collect();
                if values.iter().any(Value::is_null) {
                    continue; // NULLs never conflict.
                }
                let entry = Key::Index(index.id, values).encode();
                let Some(pk_bytes) = txn
                    .lock_for_insert(&entry, WaitPolicy::Wait)?
                    .and_then(|l| l.current)
                else {
                    continue;
                };
                let existing_pk = zizhu_keycode::decode_tuple(&pk_bytes)
                    .map_err(|e| errinternal!("bad index entry: {e}"))?;
                Key::Row(table.id, existing_pk).encode()
            }
        };
        let lock = txn.lock_row(&key, LockMode::Update, WaitPolicy::Wait)?;
        if let Some(bytes) = lock.and_then(|l| l.current) {
            return Ok(Some((key, row::decode(&bytes)?)));
        }
    }
    Ok(None)
}

/// Writes `new` over the row `old` stored under `key`, moving it if its primary key changed
/// and keeping index entries in step. Returns the row's (new) key.
pub(super) fn write_update<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    key: &[u8],
    old: &[Value],
    new: &[Value],
) -> Result<Vec<u8>> {
    let old_pk = index::primary_key_of(key)?;
    let new_pk = table.key_of(new).unwrap_or_else(|| old_pk.clone());
    let new_key = if new_pk != old_pk {
        // A new primary key is a new row: check it like an insert.
        let new_key = Key::Row(table.id, new_pk.clone()).encode();
        if txn
            .lock_for_insert(&new_key, WaitPolicy::Wait)?
            .and_then(|l| l.current)
            .is_some()
        {
            return Err(duplicate_key(table, &new_pk));
        }
        txn.delete(key)?;
        txn.put(&new_key, row::encode(new))?;
        new_key
    } else {
        txn.put(key, row::encode(new))?;
        key.to_vec()
    };
    index::update_entries(txn, table, (old, &old_pk), (new, &new_pk))?;
    Ok(new_key)
}

/// What an UPDATE or DELETE acts on: the scan of its table, the FROM/USING rows joined to
/// it (if any), and the predicate over a target row followed by a joined row.
#[derive(Clone, Copy)]
pub struct Targets<'a> {
    pub source: &'a Node,
    pub joined: Option<&'a Node>,
    pub filter: Option<&'a Expr>,
}

/// A row to write: its key, its row, and the joined FROM/USING row (empty without one).
struct Target {
    key: Vec<u8>,
    row: Vec<Value>,
    joined: Vec<Value>,
}

/// The rows a statement targets, found at its snapshot. With a join, a target row is paired
/// with the first joined row that meets the filter with it, as in PostgreSQL.
fn find<E: Engine>(
    txn: &Transaction<E>,
    targets: Targets,
    cache: &SubqueryCache,
) -> Result<Vec<Target>> {
    let env = Env::new(txn, cache);
    let (source, filter) = (targets.source, targets.filter);
    let Some(joined) = targets.joined else {
        let found = fetch(source, &env)?
            .map(|r| {
                r.map(|(key, row)| Target {
                    key,
                    row,
                    joined: Vec::new(),
                })
            })
            .collect();
        return found;
    };
    let others = rows(joined, &env)?.collect::<Result<Vec<_>>>()?;
    let mut found = Vec::new();
    for item in fetch(source, &env)? {
        let (key, row) = item?;
        for other in &others {
            let mut both = row.clone();
            both.extend(other.iter().cloned());
            if filter
                .map(|f| eval(f, &both, &env))
                .transpose()?
                .is_none_or(|v| passes(&v))
            {
                found.push(Target {
                    key,
                    row,
                    joined: other.clone(),
                });
                break;
            }
        }
    }
    Ok(found)
}

/// Locks a target row and returns the row to act on: the newest version if it changed and
/// still matches (READ COMMITTED; other levels fail in `lock_row`), or `None` to skip it.
fn lock_target<E: Engine>(
    txn: &mut Transaction<E>,
    key: &[u8],
    row: Vec<Value>,
    joined: &[Value],
    filter: Option<&Expr>,
    mode: LockMode,
    cache: &SubqueryCache,
) -> Result<Option<Vec<Value>>> {
    let Some(lock) = txn.lock_row(key, mode, WaitPolicy::Wait)? else {
        return Ok(None);
    };
    if !lock.changed {
        return Ok(Some(row));
    }
    let Some(bytes) = lock.current else {
        return Ok(None);
    };
    let newest = row::decode(&bytes)?;
    let mut both = newest.clone();
    both.extend(joined.iter().cloned());
    let still_matches = filter
        .map(|f| eval(f, &both, &Env::new(&*txn, cache)))
        .transpose()?
        .is_none_or(|v| passes(&v));
    Ok(still_matches.then_some(newest))
}

/// Updates the target rows. Kept rows (for RETURNING) are the new row followed by the
/// joined row.
pub fn update<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    targets: Targets,
    assignments: &[(usize, Expr)],
    checks: &[(String, Expr)],
    keep_rows: bool,
    cache: &SubqueryCache,
) -> Result<(u64, Vec<Vec<Value>>)> {
    // A change to a column a foreign key may reference (the primary key's or a unique
    // index's) conflicts with FOR KEY SHARE, which foreign-key checks take.
    let changes_key = assignments.iter().any(|(i, _)| {
        table.primary_key.contains(i)
            || table
                .indexes
                .iter()
                .any(|index| index.unique && index.columns.contains(i))
    });
    let track = tracks_foreign_keys(txn, cache.database(), table)?;
    let mut changes = Changes::default();
    let mode = if changes_key {
        LockMode::Update
    } else {
        LockMode::NoKeyUpdate
    };
    let (mut count, mut kept) = (0, Vec::new());
    for Target { key, row, joined } in find(txn, targets, cache)? {
        let Some(old) = lock_target(txn, &key, row, &joined, targets.filter, mode, cache)? else {
            continue;
        };
        let mut both = old.clone();
        both.extend(joined.iter().cloned());
        let mut new = old.clone();
        for (index, expr) in assignments {
            new[*index] = eval(expr, &both, &Env::new(&*txn, cache))?;
        }
        let mut new = check_row(table, checks, new, &Env::new(&*txn, cache))?;
        write_update(txn, table, &key, &old, &new)?;
        count += 1;
        if track {
            changes.updated.push((old, new.clone()));
        }
        if keep_rows {
            new.extend(joined);
            kept.push(new);
        }
    }
    foreign_key::enforce(txn, cache.database(), table, changes, cache)?;
    Ok((count, kept))
}

/// Deletes the target rows. Kept rows (for RETURNING) are the old row followed by the joined
/// row.
pub fn delete<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    targets: Targets,
    keep_rows: bool,
    cache: &SubqueryCache,
) -> Result<(u64, Vec<Vec<Value>>)> {
    let (mut count, mut kept) = (0, Vec::new());
    let track = tracks_foreign_keys(txn, cache.database(), table)?;
    let mut changes = Changes::default();
    for Target { key, row, joined } in find(txn, targets, cache)? {
        let mode = LockMode::Update;
        if let Some(mut row) = lock_target(txn, &key, row, &joined, targets.filter, mode, cache)? {
            txn.delete(&key)?;
            index::delete_entries(txn, table, &row, &index::primary_key_of(&key)?)?;
            count += 1;
            if track {
                changes.deleted.push(row.clone());
            }
            if keep_rows {
                row.extend(joined);
                kept.push(row);
            }
        }
    }
    foreign_key::enforce(txn, cache.database(), table, changes, cache)?;
    Ok((count, kept))
}

/// Deletes every row and index entry of a table (TRUNCATE), within the transaction.
pub fn truncate<E: Engine>(txn: &mut Transaction<E>, table: &Table) -> Result<()> {
    let mut ranges = vec![Key::table_rows(table.id)];
    ranges.extend(table.indexes.iter().map(|i| Key::index_entries(i.id)));
    for range in ranges {
        Catalog::delete_range(txn, range)?;
    }
    Ok(())
}
