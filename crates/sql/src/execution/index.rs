//! Secondary index entries: computed from rows, checked for uniqueness, kept in step with
//! every insert, update and delete.
//!
//! An entry's key is `Index(id, values…)` when the index is unique and no value is NULL, and
//! `Index(id, values…, primary key…)` otherwise; its value is the row's encoded primary key.
//! The unique form makes the uniqueness check the same race-free path as a primary key's: lock
//! the entry key, then look at its newest committed state, so two transactions inserting the
//! same value serialize and the second sees the first's entry. NULLs never conflict, as in
//! PostgreSQL, because entries with a NULL carry the primary key and so never collide.

use zizhu_engine::{Direction, Engine};
use zizhu_txn::Transaction;
use zizhu_types::Value;

use crate::catalog::{Index, Table};
use crate::keys::Key;
use crate::{errinput, errinternal, row, types, Result};

/// The key of `index`'s entry for a row with primary key `pk`, and whether it is the unique
/// form (which must be checked for an existing entry).
fn entry_key(index: &Index, row: &[Value], pk: &[Value]) -> (Vec<u8>, bool) {
    let mut values: Vec<Value> = index.columns.iter().map(|&i| row[i].clone()).collect();
    let unique = index.unique && values.iter().all(|v| !v.is_null());
    if !unique {
        values.extend(pk.iter().cloned());
    }
    (Key::Index(index.id, values).encode(), unique)
}

/// The `Key (a, b)=(1, 2)` text of an index entry, as PostgreSQL's error details show it.
fn key_text(table: &Table, index: &Index, row: &[Value]) -> String {
    let names: Vec<&str> = index
        .columns
        .iter()
        .map(|&i| table.columns[i].name.as_str())
        .collect();
    let values: Vec<String> = index
        .columns
        .iter()
        .map(|&i| types::to_text(&row[i]))
        .collect();
    format!("Key ({})=({})", names.join(", "), values.join(", "))
}

fn duplicate(table: &Table, index: &Index, row: &[Value]) -> crate::Error {
    errinput!(
        UniqueViolation,
        "duplicate key value violates unique constraint \"{}\"",
        index.name
    )
    .with_detail(format!("{} already exists.", key_text(table, index, row)))
}

/// Adds `index`'s entry for a row, failing with 23505 if a unique entry is taken.
pub fn insert_entry<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    index: &Index,
    row: &[Value],
    pk: &[Value],
) -> Result<()> {
    let (key, unique) = entry_key(index, row, pk);
    let value = zizhu_keycode::encode_tuple(pk);
    if !unique {
        // The key ends with the row's primary key: the row's lock covers it.
        return Ok(txn.put_covered(&key, value)?);
    }
    if txn.insert(&key, value)?.is_some() {
        return Err(duplicate(table, index, row));
    }
    Ok(())
}

/// Removes an index entry of a row this transaction holds locked.
fn delete_entry<E: Engine>(txn: &mut Transaction<E>, (key, unique): (Vec<u8>, bool)) -> Result<()> {
    if unique {
        txn.delete(&key)?;
    } else {
        txn.delete_covered(&key)?;
    }
    Ok(())
}

/// Adds every index's entry for a new row.
pub fn insert_entries<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    row: &[Value],
    pk: &[Value],
) -> Result<()> {
    for index in &table.indexes {
        insert_entry(txn, table, index, row, pk)?;
    }
    Ok(())
}

/// Removes every index's entry for a row.
pub fn delete_entries<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    row: &[Value],
    pk: &[Value],
) -> Result<()> {
    for index in &table.indexes {
        delete_entry(txn, entry_key(index, row, pk))?;
    }
    Ok(())
}

/// Moves a row's entries from its old to its new values (and key), leaving unchanged entries.
pub fn update_entries<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    (old, old_pk): (&[Value], &[Value]),
    (new, new_pk): (&[Value], &[Value]),
) -> Result<()> {
    for index in &table.indexes {
        let old_entry = entry_key(index, old, old_pk);
        let (new_key, _) = entry_key(index, new, new_pk);
        if old_entry.0 != new_key {
            delete_entry(txn, old_entry)?;
            insert_entry(txn, table, index, new, new_pk)?;
        } else if old_pk != new_pk {
            // Same key (a unique entry), new row: point it at the new primary key.
            txn.put(&new_key, zizhu_keycode::encode_tuple(new_pk))?;
        }
    }
    Ok(())
}

/// The primary key stored in a row key.
pub fn primary_key_of(key: &[u8]) -> Result<Vec<Value>> {
    match Key::decode(key)? {
        Key::Row(_, pk) => Ok(pk),
        other => Err(errinternal!("expected a row key, found {other:?}")),
    }
}

/// Builds `index` over the table's existing rows: a new index (CREATE INDEX), or one that
/// stays after [`clear`] (the table's rows changed keys).
pub fn build<E: Engine>(
    txn: &mut Transaction<E>,
    table: &Table,
    index: &Index,
    new: bool,
) -> Result<()> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = txn
        .scan(Key::table_rows(table.id), Direction::Forward)?
        .collect::<zizhu_txn::Result<_>>()?;
    let duplicated = |row: &[Value]| {
        errinput!(
            UniqueViolation,
            "could not create unique index \"{}\"",
            index.name
        )
        .with_detail(format!("{} is duplicated.", key_text(table, index, row)))
    };
    if new {
        // A new index is this transaction's own until it commits: no other can write its
        // entries, so they go in sorted, in one piece, and a duplicate is two equal neighbours.
        let mut entries = Vec::with_capacity(rows.len());
        for (n, (key, bytes)) in rows.iter().enumerate() {
            let row = row::decode(bytes)?;
            let pk = primary_key_of(key)?;
            let (entry, _) = entry_key(index, &row, &pk);
            entries.push((0, entry, zizhu_keycode::encode_tuple(&pk), n));
        }
        // Every entry starts with the index's prefix; the eight bytes after it, as a number,
        // order most pairs without comparing the keys (a third of the build's time was
        // comparing the shared prefix).
        let shared = entries.first().map_or(0, |first| {
            entries.iter().fold(first.1.len(), |shared, e| {
                shared.min(first.1.iter().zip(&e.1).take_while(|(a, b)| a == b).count())
            })
        });
        for entry in &mut entries {
            let mut next = [0u8; 8];
            let tail = &entry.1[shared..];
            let n = tail.len().min(8);
            next[..n].copy_from_slice(&tail[..n]);
            entry.0 = u64::from_be_bytes(next);
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        if let Some(pair) = entries.windows(2).find(|w| w[0].1 == w[1].1) {
            return Err(duplicated(&row::decode(&rows[pair[0].3].1)?));
        }
        drop(rows);
        let entries = entries.into_iter().map(|(_, k, v, _)| (k, v)).collect();
        txn.put_private_sorted(Key::index_entries(index.id), entries)?;
        return Ok(());
    }
    for (key, bytes) in rows {
        let row = row::decode(&bytes)?;
        let pk = primary_key_of(&key)?;
        let (entry, unique) = entry_key(index, &row, &pk);
        let value = zizhu_keycode::encode_tuple(&pk);
        let duplicate = if unique {
            txn.insert(&entry, value)?.is_some()
        } else {
            txn.put_covered(&entry, value)?;
            false
        };
        if duplicate {
            return Err(duplicated(&row));
        }
    }
    Ok(())
}

/// Drops every entry of an index that is going away (DROP INDEX, a dropped column's or
/// constraint's index): whole, at commit, as its id is never used again.
pub fn drop_entries<E: Engine>(txn: &mut Transaction<E>, index: &Index) -> Result<()> {
    Ok(txn.drop_range(Key::index_entries(index.id))?)
}

/// Deletes every entry of an index that stays, before it is built again.
pub fn clear<E: Engine>(txn: &mut Transaction<E>, index: &Index) -> Result<()> {
    let keys: Vec<Vec<u8>> = txn
        .scan(Key::index_entries(index.id), Direction::Forward)?
        .map(|r| r.map(|(k, _)| k))
        .collect::<zizhu_txn::Result<_>>()?;
    for key in keys {
        txn.delete(&key)?;
    }
    Ok(())
}
