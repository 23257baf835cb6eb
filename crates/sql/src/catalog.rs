//! The catalog: table definitions stored in the database itself.
//!
//! A definition is a row under [`Key::Table`], read and written through the session's own
//! transaction, so DDL is transactional: a rolled-back CREATE or DROP leaves no trace, and a
//! concurrent session sees the change exactly when it commits. Two sessions creating the same
//! name serialize on that key's row lock; the second then finds the first's table.

use zizhu_engine::Engine;
use zizhu_txn::{Transaction, WaitPolicy};
use zizhu_types::Value;

use crate::keys::{Key, TableId};
use crate::types::DataType;
use crate::{errinput, errinternal, row, Result};

/// First identifier handed to a user table; lower ones are reserved for the system.
const FIRST_USER_ID: TableId = 16_384;

/// A column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Name (lower-cased unless quoted).
    pub name: String,
    /// Type.
    pub data_type: DataType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The DEFAULT expression as SQL text, evaluated at each insert.
    pub default: Option<String>,
}

/// A table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Identifier, used in row keys.
    pub id: TableId,
    /// Name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Positions of the primary-key columns; empty means rows are keyed by a hidden row id.
    pub primary_key: Vec<usize>,
}

impl Table {
    /// The position of the column named `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The primary key of a row, or `None` if the table uses hidden row ids.
    pub fn key_of(&self, row: &[Value]) -> Option<Vec<Value>> {
        (!self.primary_key.is_empty())
            .then(|| self.primary_key.iter().map(|&i| row[i].clone()).collect())
    }

    fn encode(&self) -> Vec<u8> {
        let mut values = vec![
            Value::Int64(self.id),
            Value::Text(self.name.clone()),
            Value::Int64(self.columns.len() as i64),
        ];
        for column in &self.columns {
            values.push(Value::Text(column.name.clone()));
            values.push(Value::Text(column.data_type.to_string()));
            values.push(Value::Bool(column.nullable));
            values.push(column.default.clone().map_or(Value::Null, Value::Text));
        }
        values.extend(self.primary_key.iter().map(|&i| Value::Int64(i as i64)));
        row::encode(&values)
    }

    fn decode(bytes: &[u8]) -> Result<Table> {
        let values = row::decode(bytes)?;
        let bad = || errinternal!("corrupt table definition {values:?}");
        let (id, name, n) = match values.as_slice() {
            [Value::Int64(id), Value::Text(name), Value::Int64(n), ..] => {
                (*id, name.clone(), *n as usize)
            }
            _ => return Err(bad()),
        };
        let mut columns = Vec::with_capacity(n);
        for c in 0..n {
            let base = 3 + 4 * c;
            match values.get(base..base + 4).ok_or_else(bad)? {
                [Value::Text(name), Value::Text(ty), Value::Bool(nullable), default] => columns
                    .push(Column {
                        name: name.clone(),
                        data_type: parse_type_name(ty).ok_or_else(bad)?,
                        nullable: *nullable,
                        default: match default {
                            Value::Text(text) => Some(text.clone()),
                            _ => None,
                        },
                    }),
                _ => return Err(bad()),
            }
        }
        let primary_key = values[3 + 4 * n..]
            .iter()
            .map(|v| match v {
                Value::Int64(i) if (*i as usize) < n => Ok(*i as usize),
                _ => Err(bad()),
            })
            .collect::<Result<_>>()?;
        Ok(Table {
            id,
            name,
            columns,
            primary_key,
        })
    }
}

/// Reads a type back from its [`DataType`] display name.
fn parse_type_name(text: &str) -> Option<DataType> {
    let (base, args) = match text.split_once('(') {
        Some((base, rest)) => (base, Some(rest.trim_end_matches(')'))),
        None => (text, None),
    };
    let number = |s: &str| s.trim().parse::<u32>().ok();
    Some(match (base, args) {
        ("boolean", None) => DataType::Bool,
        ("smallint", None) => DataType::Int16,
        ("integer", None) => DataType::Int32,
        ("bigint", None) => DataType::Int64,
        ("real", None) => DataType::Float32,
        ("double precision", None) => DataType::Float64,
        ("numeric", None) => DataType::Numeric(None),
        ("numeric", Some(a)) => {
            let (p, s) = a.split_once(',')?;
            DataType::Numeric(Some((number(p)?, number(s)?)))
        }
        ("text", None) => DataType::Text,
        ("character varying", None) => DataType::Varchar(None),
        ("character varying", Some(n)) => DataType::Varchar(Some(number(n)?)),
        ("character", Some(n)) => DataType::Char(number(n)?),
        ("bytea", None) => DataType::Bytea,
        ("date", None) => DataType::Date,
        ("time without time zone", None) => DataType::Time,
        ("timestamp without time zone", None) => DataType::Timestamp,
        ("timestamp with time zone", None) => DataType::TimestampTz,
        ("interval", None) => DataType::Interval,
        ("uuid", None) => DataType::Uuid,
        _ => return None,
    })
}

/// Catalog operations within a transaction.
pub struct Catalog;

impl Catalog {
    /// Looks up a table by name.
    pub fn table<E: Engine>(txn: &Transaction<E>, name: &str) -> Result<Option<Table>> {
        txn.get(&Key::Table(name.to_string()).encode())?
            .map(|bytes| Table::decode(&bytes))
            .transpose()
    }

    /// Looks up a table by name, failing with 42P01 if there is none.
    pub fn must_table<E: Engine>(txn: &Transaction<E>, name: &str) -> Result<Table> {
        Self::table(txn, name)?
            .ok_or_else(|| errinput!(UndefinedTable, "relation \"{name}\" does not exist"))
    }

    /// Creates a table, assigning its identifier. Fails with 42P07 if the name is taken, even
    /// by a table created by a transaction that committed after this one's snapshot.
    pub fn create_table<E: Engine>(txn: &mut Transaction<E>, mut table: Table) -> Result<Table> {
        let key = Key::Table(table.name.clone()).encode();
        let lock = txn.lock_for_insert(&key, WaitPolicy::Wait)?;
        if lock.and_then(|l| l.current).is_some() || txn.get(&key)?.is_some() {
            return Err(errinput!(
                DuplicateTable,
                "relation \"{}\" already exists",
                table.name
            ));
        }
        table.id = Self::next_id(txn)?;
        txn.put(&key, table.encode())?;
        Ok(table)
    }

    /// Drops a table and all its rows.
    pub fn drop_table<E: Engine>(txn: &mut Transaction<E>, table: &Table) -> Result<()> {
        let rows: Vec<Vec<u8>> = txn
            .scan(Key::table_rows(table.id), zizhu_engine::Direction::Forward)?
            .map(|r| r.map(|(k, _)| k))
            .collect::<zizhu_txn::Result<_>>()?;
        for key in rows {
            txn.delete(&key)?;
        }
        txn.delete(&Key::Table(table.name.clone()).encode())?;
        Ok(())
    }

    fn next_id<E: Engine>(txn: &mut Transaction<E>) -> Result<TableId> {
        let key = Key::NextObjectId.encode();
        // Serializes concurrent DDL on the counter; DDL is rare.
        let current = txn
            .lock_for_insert(&key, WaitPolicy::Wait)?
            .and_then(|l| l.current);
        let id = match current {
            Some(bytes) => match row::decode(&bytes)?.as_slice() {
                [Value::Int64(id)] => *id,
                other => return Err(errinternal!("corrupt object id counter {other:?}")),
            },
            None => FIRST_USER_ID,
        };
        txn.put(&key, row::encode(&[Value::Int64(id + 1)]))?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_definitions_round_trip() {
        let table = Table {
            id: 16_384,
            name: "accounts".into(),
            columns: vec![
                Column {
                    name: "id".into(),
                    data_type: DataType::Int64,
                    nullable: false,
                    default: None,
                },
                Column {
                    name: "balance".into(),
                    data_type: DataType::Numeric(Some((12, 2))),
                    nullable: true,
                    default: Some("0".into()),
                },
                Column {
                    name: "note".into(),
                    data_type: DataType::Varchar(Some(20)),
                    nullable: true,
                    default: None,
                },
                Column {
                    name: "c".into(),
                    data_type: DataType::Char(3),
                    nullable: true,
                    default: None,
                },
            ],
            primary_key: vec![0],
        };
        assert_eq!(Table::decode(&table.encode()).unwrap(), table);
    }

    #[test]
    fn every_type_name_parses_back() {
        for ty in [
            DataType::Bool,
            DataType::Int16,
            DataType::Int32,
            DataType::Int64,
            DataType::Float32,
            DataType::Float64,
            DataType::Numeric(None),
            DataType::Numeric(Some((5, 0))),
            DataType::Text,
            DataType::Varchar(None),
            DataType::Varchar(Some(7)),
            DataType::Char(1),
            DataType::Bytea,
            DataType::Date,
            DataType::Time,
            DataType::Timestamp,
            DataType::TimestampTz,
            DataType::Interval,
            DataType::Uuid,
        ] {
            assert_eq!(parse_type_name(&ty.to_string()), Some(ty));
        }
    }
}
