//! ALTER TABLE: the operations apply in order to the table's definition, rewriting stored rows
//! where the column list changes, all within the statement's transaction.

use std::sync::Arc;

use zizhu_engine::{Direction, Engine};
use zizhu_txn::Transaction;
use zizhu_types::Value;

use super::{eval, foreign_key, index, Env, SubqueryCache};
use crate::catalog::{Catalog, Table};
use crate::keys::{DatabaseId, Key, Namespace};
use crate::planner::AlterOp;
use crate::planner::RelationName;
use crate::{errinput, row, types, Result};

/// Applies `ops` to the table named `name`.
pub fn alter_table<E: Engine>(
    txn: &mut Transaction<E>,
    cache: &SubqueryCache,
    name: &RelationName,
    ops: &[AlterOp],
) -> Result<()> {
    let db = cache.database();
    let mut table = Catalog::table(txn, name.ns, &name.name)?
        .map(Arc::unwrap_or_clone)
        .ok_or_else(|| errinput!(UndefinedTable, "relation \"{name}\" does not exist"))?;
    let original_name = table.name.clone();
    for op in ops {
        apply(txn, cache, &mut table, op)?;
    }
    if table.name != original_name {
        Catalog::rename_table(txn, db, &original_name, &table)?;
    } else {
        Catalog::update_table(txn, db, &table)?;
    }
    Ok(())
}

fn column_position(table: &Table, column: &str) -> Result<usize> {
    table.column_index(column).ok_or_else(|| {
        errinput!(
            UndefinedColumn,
            "column \"{column}\" of relation \"{}\" does not exist",
            table.name
        )
    })
}

fn apply<E: Engine>(
    txn: &mut Transaction<E>,
    cache: &SubqueryCache,
    table: &mut Table,
    op: &AlterOp,
) -> Result<()> {
    let db = cache.database();
    match op {
        AlterOp::AddColumn {
            column,
            default,
            if_not_exists,
        } => {
            if table.column_index(&column.name).is_some() {
                if *if_not_exists {
                    return Ok(());
                }
                return Err(errinput!(
                    DuplicateColumn,
                    "column \"{}\" of relation \"{}\" already exists",
                    column.name,
                    table.name
                ));
            }
            table.columns.push(column.clone());
            // Existing rows get the default (or NULL), which must satisfy NOT NULL.
            rewrite_rows(txn, table, |txn, row| {
                let value = match default {
                    Some(e) => eval(e, &[], &Env::new(txn, cache))?,
                    None => Value::Null,
                };
                let value = types::assign(value, &column.data_type)?;
                if value.is_null() && !column.nullable {
                    return Err(errinput!(
                        NotNullViolation,
                        "column \"{}\" of relation \"{}\" contains null values",
                        column.name,
                        table.name
                    ));
                }
                row.push(value);
                Ok(())
            })
        }
        AlterOp::DropColumn { name, if_exists } => {
            let Some(position) = table.column_index(name) else {
                if *if_exists {
                    return Ok(());
                }
                return Err(errinput!(
                    UndefinedColumn,
                    "column \"{name}\" of relation \"{}\" does not exist",
                    table.name
                ));
            };
            if table.primary_key.contains(&position) {
                return Err(errinput!(
                    FeatureNotSupported,
                    "dropping a primary key column is not supported yet"
                ));
            }
            Catalog::drop_comments(txn, db, table.id, Some(name))?;
            // Indexes on the column go with it, as in PostgreSQL.
            let (dropped, kept): (Vec<_>, Vec<_>) = table
                .indexes
                .drain(..)
                .partition(|i| i.columns.contains(&position));
            table.indexes = kept;
            for index in &dropped {
                index::drop_entries(txn, index)?;
                txn.delete(
                    &Key::IndexName(Namespace::new(db, table.schema), index.name.clone()).encode(),
                )?;
            }
            let shift = |p: &mut usize| {
                if *p > position {
                    *p -= 1;
                }
            };
            table.primary_key.iter_mut().for_each(shift);
            table
                .indexes
                .iter_mut()
                .for_each(|i| i.columns.iter_mut().for_each(shift));
            // So do CHECK constraints that read it, and foreign keys from it, as in
            // PostgreSQL; a foreign key referencing it is in the way.
            table.checks.retain(|c| !c.columns.contains(name));
            table.foreign_keys.retain(|fk| !fk.columns.contains(name));
            for child in Catalog::referencing(txn, Namespace::new(db, table.schema), &table.name)? {
                let child = if child.id == table.id {
                    &*table
                } else {
                    &child
                };
                if let Some(fk) = child.foreign_keys.iter().find(|fk| {
                    fk.parent == table.name
                        && fk.parent_schema == table.schema
                        && fk.parent_columns.contains(name)
                }) {
                    return Err(errinput!(
                        DependentObjectsStillExist,
                        "cannot drop column {name} of table {} because other objects depend on it",
                        table.name
                    )
                    .with_detail(format!(
                        "constraint {} on table {} depends on column {name} of table {}",
                        fk.name, child.name, table.name
                    ))
                    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                }
            }
            table.columns.remove(position);
            rewrite_rows(txn, table, |_, row| {
                row.remove(position);
                Ok(())
            })
        }
        AlterOp::RenameColumn { old, new } => {
            let position = column_position(table, old)?;
            if table.column_index(new).is_some() {
                return Err(errinput!(
                    DuplicateColumn,
                    "column \"{new}\" of relation \"{}\" already exists",
                    table.name
                ));
            }
            // CHECK constraints are stored as text naming the column.
            if let Some(check) = table.checks.iter().find(|c| c.columns.contains(old)) {
                return Err(errinput!(
                    FeatureNotSupported,
                    "cannot rename column \"{old}\": check constraint \"{}\" uses it (drop the constraint first)",
                    check.name
                ));
            }
            table.columns[position].name = new.clone();
            // A column's comment is kept by name: it follows the column.
            let comment = Catalog::comment(txn, db, table.id, old)?;
            if let Some(text) = comment {
                Catalog::set_comment(txn, db, table.id, old, None)?;
                Catalog::set_comment(txn, db, table.id, new, Some(&text))?;
            }
            // Foreign keys name their columns: this table's own, and those referencing it.
            let rename = |names: &mut Vec<String>| {
                names
                    .iter_mut()
                    .filter(|n| *n == old)
                    .for_each(|n| *n = new.clone());
            };
            let parent = table.name.clone();
            let schema = table.schema;
            for fk in &mut table.foreign_keys {
                rename(&mut fk.columns);
                if fk.parent == parent && fk.parent_schema == schema {
                    rename(&mut fk.parent_columns);
                }
            }
            for mut child in Catalog::referencing(txn, Namespace::new(db, schema), &parent)?
                .into_iter()
                .map(Arc::unwrap_or_clone)
            {
                if child.id != table.id {
                    for fk in child
                        .foreign_keys
                        .iter_mut()
                        .filter(|fk| fk.parent == parent && fk.parent_schema == schema)
                    {
                        rename(&mut fk.parent_columns);
                    }
                    Catalog::update_table(txn, db, &child)?;
                }
            }
            Ok(())
        }
        AlterOp::AddForeignKey(fk) => {
            // Every existing row must have its parent, checked as if it were just inserted.
            let rows = txn
                .scan(Key::table_rows(table.id), Direction::Forward)?
                .map(|item| {
                    item.map_err(Into::into)
                        .and_then(|(_, bytes)| row::decode(&bytes))
                })
                .collect::<Result<Vec<_>>>()?;
            let mut only = table.clone();
            only.foreign_keys = vec![fk.clone()];
            let changes = foreign_key::Changes {
                inserted: rows,
                ..Default::default()
            };
            foreign_key::enforce(txn, db, &only, changes, cache)?;
            table.foreign_keys.push(fk.clone());
            table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(())
        }
        AlterOp::AddCheck { check, expr } => {
            if table.checks.iter().any(|c| c.name == check.name) {
                return Err(errinput!(
                    DuplicateObject,
                    "constraint \"{}\" for relation \"{}\" already exists",
                    check.name,
                    table.name
                ));
            }
            let rows = txn
                .scan(Key::table_rows(table.id), Direction::Forward)?
                .collect::<zizhu_txn::Result<Vec<_>>>()?;
            for (_, bytes) in rows {
                let row = row::decode(&bytes)?;
                if eval(expr, &row, &Env::new(&*txn, cache))? == Value::Bool(false) {
                    return Err(errinput!(
                        CheckViolation,
                        "check constraint \"{}\" of relation \"{}\" is violated by some row",
                        check.name,
                        table.name
                    ));
                }
            }
            table.checks.push(check.clone());
            table.checks.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(())
        }
        AlterOp::DropConstraint { name, if_exists } => {
            let before = table.checks.len() + table.foreign_keys.len();
            table.checks.retain(|c| c.name != *name);
            table.foreign_keys.retain(|fk| fk.name != *name);
            // A UNIQUE constraint is its unique index.
            if let Some(i) = table
                .indexes
                .iter()
                .position(|i| i.unique && i.name == *name)
            {
                refuse_if_referenced(
                    txn,
                    db,
                    table,
                    &table.indexes[i].columns,
                    name,
                    Dropping::Constraint,
                )?;
                let index = table.indexes.remove(i);
                index::drop_entries(txn, &index)?;
                txn.delete(
                    &Key::IndexName(Namespace::new(db, table.schema), index.name.clone()).encode(),
                )?;
                return Ok(());
            }
            if !table.primary_key.is_empty() && *name == format!("{}_pkey", table.name) {
                let primary_key = table.primary_key.clone();
                refuse_if_referenced(txn, db, table, &primary_key, name, Dropping::Constraint)?;
                return Err(errinput!(
                    FeatureNotSupported,
                    "dropping a primary key is not supported yet"
                ));
            }
            if table.checks.len() + table.foreign_keys.len() == before && !*if_exists {
                return Err(errinput!(
                    UndefinedObject,
                    "constraint \"{name}\" of relation \"{}\" does not exist",
                    table.name
                ));
            }
            Ok(())
        }
        AlterOp::RenameTable { new } => {
            table.name = new.clone();
            Ok(())
        }
        AlterOp::SetDefault { column, default } => {
            let position = column_position(table, column)?;
            table.columns[position].default = default.clone();
            Ok(())
        }
        AlterOp::SetNotNull { column, not_null } => {
            let position = column_position(table, column)?;
            if !*not_null {
                if table.primary_key.contains(&position) {
                    return Err(errinput!(
                        InvalidTableDefinition,
                        "column \"{column}\" is in a primary key"
                    ));
                }
                table.columns[position].nullable = true;
                return Ok(());
            }
            for item in txn.scan(Key::table_rows(table.id), Direction::Forward)? {
                let (_, bytes) = item?;
                if row::decode(&bytes)?
                    .get(position)
                    .is_none_or(Value::is_null)
                {
                    return Err(errinput!(
                        NotNullViolation,
                        "column \"{column}\" of relation \"{}\" contains null values",
                        table.name
                    ));
                }
            }
            table.columns[position].nullable = false;
            Ok(())
        }
        AlterOp::AddPrimaryKey { name, columns } => add_primary_key(txn, table, name, columns),
    }
}

/// Re-keys the rows of a table that had hidden row ids by the new primary key, and rebuilds
/// its indexes (whose entries point at row keys).
fn add_primary_key<E: Engine>(
    txn: &mut Transaction<E>,
    table: &mut Table,
    name: &str,
    columns: &[String],
) -> Result<()> {
    if !table.primary_key.is_empty() {
        return Err(errinput!(
            InvalidTableDefinition,
            "multiple primary keys for table \"{}\" are not allowed",
            table.name
        ));
    }
    let positions = columns
        .iter()
        .map(|c| {
            table.column_index(c).ok_or_else(|| {
                errinput!(
                    UndefinedColumn,
                    "column \"{c}\" of relation \"{}\" does not exist",
                    table.name
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let rows: Vec<(Vec<u8>, Vec<u8>)> = txn
        .scan(Key::table_rows(table.id), Direction::Forward)?
        .collect::<zizhu_txn::Result<_>>()?;
    for (key, _) in &rows {
        txn.delete(key)?;
    }
    for (_, bytes) in rows {
        let row = row::decode(&bytes)?;
        let mut pk = Vec::with_capacity(positions.len());
        for &p in &positions {
            let value = row.get(p).cloned().unwrap_or(Value::Null);
            if value.is_null() {
                return Err(errinput!(
                    NotNullViolation,
                    "column \"{}\" of relation \"{}\" contains null values",
                    table.columns[p].name,
                    table.name
                ));
            }
            pk.push(value);
        }
        let new_key = Key::Row(table.id, pk.clone()).encode();
        // Every row the snapshot holds was deleted above, so only a row written here since can
        // be in the way: no need to read the engine.
        if txn.own_write(&new_key).flatten().is_some() {
            let names: Vec<&str> = positions
                .iter()
                .map(|&p| table.columns[p].name.as_str())
                .collect();
            let values: Vec<String> = pk.iter().map(types::to_text).collect();
            return Err(
                errinput!(UniqueViolation, "could not create unique index \"{name}\"").with_detail(
                    format!(
                        "Key ({})=({}) is duplicated.",
                        names.join(", "),
                        values.join(", ")
                    ),
                ),
            );
        }
        txn.put(&new_key, bytes)?;
    }
    for &p in &positions {
        table.columns[p].nullable = false;
    }
    table.primary_key = positions;
    for index in &table.indexes {
        super::index::clear(txn, index)?;
        super::index::build(txn, table, index, false)?;
    }
    Ok(())
}

/// What DROP names, for the message: PostgreSQL calls a unique index created by a constraint
/// by the constraint, and one from CREATE UNIQUE INDEX an index.
pub(super) enum Dropping {
    Constraint,
    Index,
}

/// Fails with 2BP01 if a foreign key references exactly `columns` of `table`, which the
/// unique constraint or index (or primary key) `name` about to go makes unique, and nothing
/// else does.
pub(super) fn refuse_if_referenced<E: Engine>(
    txn: &Transaction<E>,
    db: DatabaseId,
    table: &Table,
    columns: &[usize],
    name: &str,
    dropping: Dropping,
) -> Result<()> {
    // A column set as sorted names: foreign keys name columns in any order.
    let names = |positions: &[usize]| -> Vec<&str> {
        let mut names: Vec<&str> = positions
            .iter()
            .map(|&c| table.columns[c].name.as_str())
            .collect();
        names.sort_unstable();
        names
    };
    let key = names(columns);
    // A key that is both the primary key and a unique index is still made unique by whichever
    // of the two stays.
    let mut remaining: Vec<Vec<&str>> = table
        .indexes
        .iter()
        .filter(|i| i.unique && i.name != name)
        .map(|i| names(&i.columns))
        .collect();
    if name != format!("{}_pkey", table.name) {
        remaining.push(names(&table.primary_key));
    }
    for child in Catalog::referencing(txn, Namespace::new(db, table.schema), &table.name)? {
        for fk in child
            .foreign_keys
            .iter()
            .filter(|fk| fk.parent == table.name && fk.parent_schema == table.schema)
        {
            let mut referenced: Vec<&str> = fk.parent_columns.iter().map(String::as_str).collect();
            referenced.sort_unstable();
            let still_unique = remaining.contains(&referenced);
            if referenced == key && !still_unique {
                let what = match dropping {
                    Dropping::Constraint => format!("constraint {name} on table {}", table.name),
                    Dropping::Index => format!("index {name}"),
                };
                return Err(errinput!(
                    DependentObjectsStillExist,
                    "cannot drop {what} because other objects depend on it"
                )
                .with_detail(format!(
                    "constraint {} on table {} depends on index {name}",
                    fk.name, child.name
                ))
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
        }
    }
    Ok(())
}

/// Rewrites every stored row of `table` with `change`.
fn rewrite_rows<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    mut change: impl FnMut(&Transaction<E>, &mut Vec<Value>) -> Result<()>,
) -> Result<()> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = txn
        .scan(Key::table_rows(table.id), Direction::Forward)?
        .collect::<zizhu_txn::Result<_>>()?;
    for (key, bytes) in rows {
        let mut row = row::decode(&bytes)?;
        change(txn, &mut row)?;
        txn.put(&key, row::encode(&row))?;
    }
    Ok(())
}
