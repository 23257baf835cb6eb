//! The SQL layer's keys in the transaction layer's keyspace, as a typed enum.
//!
//! Every key is a tag byte and a key-encoded tuple ([`zizhu_keycode`]), so each kind of key
//! is a contiguous range and a table's rows are one prefix range in primary-key order.
//!
//! Databases (PostgreSQL's: `CREATE DATABASE`) share one keyspace. Relation names are per
//! schema, and schemas per database, so every name-keyed catalog entry leads with its
//! [`Namespace`] (database, then schema) and a database's entries of one kind are one range;
//! everything keyed by an identifier (rows, index entries, sequence values) needs neither,
//! because identifiers are unique across the whole data directory. Roles and the databases
//! themselves are cluster-wide, as in PostgreSQL's shared catalogs.

use std::fmt;
use std::ops::Bound;

use zizhu_engine::KeyRange;
use zizhu_keycode::{decode_tuple, encode_tuple};
use zizhu_types::Value;

use crate::{errinternal, Result};

/// A table's identifier.
pub type TableId = i64;

/// A database's identifier (its OID in `pg_database`).
pub type DatabaseId = i64;

/// A schema's identifier (its OID in `pg_namespace`). `public` is 2200 in every database, as
/// in PostgreSQL; other schemas are numbered from the catalog's one counter.
pub type SchemaId = i64;

/// Where a relation's name lives: a schema of a database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace {
    /// The database.
    pub db: DatabaseId,
    /// The schema, within it.
    pub schema: SchemaId,
}

impl Namespace {
    /// Schema `schema` of database `db`.
    pub fn new(db: DatabaseId, schema: SchemaId) -> Namespace {
        Namespace { db, schema }
    }
}

const TAG_CATALOG_TABLE: u8 = 0x10;
const TAG_NEXT_OBJECT_ID: u8 = 0x11;
const TAG_INDEX_NAME: u8 = 0x12;
const TAG_VIEW: u8 = 0x13;
const TAG_SEQUENCE: u8 = 0x14;
const TAG_SEQUENCE_VALUE: u8 = 0x15;
const TAG_REFERENCE: u8 = 0x16;
const TAG_DATABASE: u8 = 0x17;
const TAG_ROLE: u8 = 0x18;
const TAG_COMMENT: u8 = 0x19;
const TAG_SCHEMA: u8 = 0x1a;
const TAG_STATISTICS: u8 = 0x1b;
const TAG_ROW: u8 = 0x20;
const TAG_INDEX: u8 = 0x21;

/// A key of the SQL layer.
#[derive(Clone, PartialEq)]
pub enum Key {
    /// A database's definition, by name.
    Database(String),
    /// A role's definition, by name.
    Role(String),
    /// A schema of a database, by name.
    Schema(DatabaseId, String),
    /// `COMMENT ON`: the comment on a relation (by identifier) or on one of its columns (by
    /// name; empty for the relation itself).
    Comment(DatabaseId, TableId, String),
    /// The definition of the table with this (lower-cased) name in a schema.
    Table(Namespace, String),
    /// The counter that hands out table identifiers.
    NextObjectId,
    /// The table an index (by name) belongs to.
    IndexName(Namespace, String),
    /// The definition of the view with this name.
    View(Namespace, String),
    /// The definition of the sequence with this name.
    Sequence(Namespace, String),
    /// A sequence's durable high-water mark, by sequence id (written outside transactions).
    SequenceValue(TableId),
    /// That a table (the last schema and name) has a foreign key referencing another (the
    /// namespace and name before): the catalog's index from a parent to its children. The
    /// value is empty.
    Reference(Namespace, String, SchemaId, String),
    /// A table's statistics, written by `ANALYZE` (apart from its definition, so that writing
    /// them conflicts with no transaction that read the definition).
    Statistics(TableId),
    /// A row of a table, by primary key (or hidden row id).
    Row(TableId, Vec<Value>),
    /// An index entry: the indexed values, then (unless it is a unique entry without NULLs)
    /// the row's primary key. The value is the encoded primary key.
    Index(TableId, Vec<Value>),
}

/// A name-keyed catalog entry's tag and values.
fn named(tag: u8, ns: Namespace, name: &str) -> (u8, Vec<Value>) {
    (
        tag,
        vec![
            Value::Int64(ns.db),
            Value::Int64(ns.schema),
            Value::Text(name.to_string()),
        ],
    )
}

impl Key {
    /// The order-preserving encoding.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, values) = match self {
            Key::Database(name) => (TAG_DATABASE, vec![Value::Text(name.clone())]),
            Key::Role(name) => (TAG_ROLE, vec![Value::Text(name.clone())]),
            Key::Schema(db, name) => (
                TAG_SCHEMA,
                vec![Value::Int64(*db), Value::Text(name.clone())],
            ),
            Key::Comment(db, id, column) => (
                TAG_COMMENT,
                vec![
                    Value::Int64(*db),
                    Value::Int64(*id),
                    Value::Text(column.clone()),
                ],
            ),
            Key::Table(db, name) => named(TAG_CATALOG_TABLE, *db, name),
            Key::NextObjectId => (TAG_NEXT_OBJECT_ID, vec![]),
            Key::IndexName(db, name) => named(TAG_INDEX_NAME, *db, name),
            Key::View(db, name) => named(TAG_VIEW, *db, name),
            Key::Sequence(db, name) => named(TAG_SEQUENCE, *db, name),
            Key::SequenceValue(id) => (TAG_SEQUENCE_VALUE, vec![Value::Int64(*id)]),
            Key::Statistics(id) => (TAG_STATISTICS, vec![Value::Int64(*id)]),
            Key::Reference(ns, parent, schema, child) => (
                TAG_REFERENCE,
                vec![
                    Value::Int64(ns.db),
                    Value::Int64(ns.schema),
                    Value::Text(parent.clone()),
                    Value::Int64(*schema),
                    Value::Text(child.clone()),
                ],
            ),
            Key::Row(table, pk) | Key::Index(table, pk) => {
                let mut values = Vec::with_capacity(pk.len() + 1);
                values.push(Value::Int64(*table));
                values.extend(pk.iter().cloned());
                (
                    if matches!(self, Key::Row(..)) {
                        TAG_ROW
                    } else {
                        TAG_INDEX
                    },
                    values,
                )
            }
        };
        let mut out = vec![tag];
        out.extend(encode_tuple(&values));
        out
    }

    /// Decodes a key.
    pub fn decode(bytes: &[u8]) -> Result<Key> {
        let (tag, rest) = bytes
            .split_first()
            .ok_or_else(|| errinternal!("empty key"))?;
        let mut values = decode_tuple(rest).map_err(|e| errinternal!("bad key: {e}"))?;
        match (*tag, values.as_slice()) {
            (TAG_DATABASE, [Value::Text(name)]) => Ok(Key::Database(name.clone())),
            (TAG_ROLE, [Value::Text(name)]) => Ok(Key::Role(name.clone())),
            (TAG_SCHEMA, [Value::Int64(db), Value::Text(name)]) => {
                Ok(Key::Schema(*db, name.clone()))
            }
            (TAG_COMMENT, [Value::Int64(db), Value::Int64(id), Value::Text(column)]) => {
                Ok(Key::Comment(*db, *id, column.clone()))
            }
            (TAG_CATALOG_TABLE, [Value::Int64(db), Value::Int64(schema), Value::Text(name)]) => {
                Ok(Key::Table(Namespace::new(*db, *schema), name.clone()))
            }
            (TAG_NEXT_OBJECT_ID, []) => Ok(Key::NextObjectId),
            (TAG_INDEX_NAME, [Value::Int64(db), Value::Int64(schema), Value::Text(name)]) => {
                Ok(Key::IndexName(Namespace::new(*db, *schema), name.clone()))
            }
            (TAG_VIEW, [Value::Int64(db), Value::Int64(schema), Value::Text(name)]) => {
                Ok(Key::View(Namespace::new(*db, *schema), name.clone()))
            }
            (TAG_SEQUENCE, [Value::Int64(db), Value::Int64(schema), Value::Text(name)]) => {
                Ok(Key::Sequence(Namespace::new(*db, *schema), name.clone()))
            }
            (TAG_SEQUENCE_VALUE, [Value::Int64(id)]) => Ok(Key::SequenceValue(*id)),
            (TAG_STATISTICS, [Value::Int64(id)]) => Ok(Key::Statistics(*id)),
            (
                TAG_REFERENCE,
                [Value::Int64(db), Value::Int64(schema), Value::Text(parent), Value::Int64(child_schema), Value::Text(child)],
            ) => Ok(Key::Reference(
                Namespace::new(*db, *schema),
                parent.clone(),
                *child_schema,
                child.clone(),
            )),
            (TAG_ROW | TAG_INDEX, [Value::Int64(table), ..]) => {
                let table = *table;
                let rest = values.split_off(1);
                Ok(if *tag == TAG_ROW {
                    Key::Row(table, rest)
                } else {
                    Key::Index(table, rest)
                })
            }
            _ => Err(errinternal!("unknown key {bytes:02x?}")),
        }
    }

    /// The range of every row of `table`.
    pub fn table_rows(table: TableId) -> KeyRange {
        let mut prefix = vec![TAG_ROW];
        prefix.extend(encode_tuple(&[Value::Int64(table)]));
        zizhu_engine::prefix_range(&prefix)
    }
    /// The range holding only `table`'s [`Key::Statistics`], for dropping it with the table.
    pub fn statistics_of(table: TableId) -> KeyRange {
        zizhu_engine::prefix_range(&Key::Statistics(table).encode())
    }

    /// The range of the [`Key::Reference`] entries of the tables referencing `parent`.
    pub fn references_to(ns: Namespace, parent: &str) -> KeyRange {
        let mut prefix = vec![TAG_REFERENCE];
        prefix.extend(encode_tuple(&[
            Value::Int64(ns.db),
            Value::Int64(ns.schema),
            Value::Text(parent.to_string()),
        ]));
        zizhu_engine::prefix_range(&prefix)
    }

    /// The range of every table definition of a database.
    pub fn all_tables(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_CATALOG_TABLE, db)
    }

    /// The range of every sequence definition of a database.
    pub fn all_sequences(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_SEQUENCE, db)
    }

    /// The range of every view definition of a database.
    pub fn all_views(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_VIEW, db)
    }

    /// The range of every index name of a database.
    pub fn all_index_names(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_INDEX_NAME, db)
    }

    /// The range of every reference entry of a database.
    pub fn all_references(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_REFERENCE, db)
    }

    /// The range of every comment of a database.
    pub fn all_comments(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_COMMENT, db)
    }

    /// The range of the comments on a relation and its columns.
    pub fn comments_of(db: DatabaseId, id: TableId) -> KeyRange {
        let mut prefix = vec![TAG_COMMENT];
        prefix.extend(encode_tuple(&[Value::Int64(db), Value::Int64(id)]));
        zizhu_engine::prefix_range(&prefix)
    }

    /// The range of every database definition.
    pub fn all_databases() -> KeyRange {
        zizhu_engine::prefix_range(&[TAG_DATABASE])
    }

    /// The range of every schema of a database.
    pub fn all_schemas(db: DatabaseId) -> KeyRange {
        Self::in_database(TAG_SCHEMA, db)
    }

    /// The range of every entry of one kind (`Table`, `View`, `Sequence`, `IndexName`) in a
    /// schema, given an example key of that kind.
    pub fn in_schema(kind: &Key) -> Result<KeyRange> {
        let (tag, ns) = match kind {
            Key::Table(ns, _) => (TAG_CATALOG_TABLE, ns),
            Key::View(ns, _) => (TAG_VIEW, ns),
            Key::Sequence(ns, _) => (TAG_SEQUENCE, ns),
            Key::IndexName(ns, _) => (TAG_INDEX_NAME, ns),
            other => return Err(errinternal!("{other:?} is not a schema's entry")),
        };
        let mut prefix = vec![tag];
        prefix.extend(encode_tuple(&[
            Value::Int64(ns.db),
            Value::Int64(ns.schema),
        ]));
        Ok(zizhu_engine::prefix_range(&prefix))
    }

    /// The range of every role definition.
    pub fn all_roles() -> KeyRange {
        zizhu_engine::prefix_range(&[TAG_ROLE])
    }

    fn in_database(tag: u8, db: DatabaseId) -> KeyRange {
        let mut prefix = vec![tag];
        prefix.extend(encode_tuple(&[Value::Int64(db)]));
        zizhu_engine::prefix_range(&prefix)
    }

    /// The range of every entry of an index.
    pub fn index_entries(index: TableId) -> KeyRange {
        Self::index_prefix(index, &[])
    }

    /// The range of the entries of an index whose leading values are `values`.
    pub fn index_prefix(index: TableId, values: &[Value]) -> KeyRange {
        let mut prefix = vec![TAG_INDEX];
        let mut tuple = vec![Value::Int64(index)];
        tuple.extend(values.iter().cloned());
        prefix.extend(encode_tuple(&tuple));
        zizhu_engine::prefix_range(&prefix)
    }

    /// The range of the entries of an index whose leading values are `prefix` and whose next
    /// value lies between `lower` and `upper`.
    pub fn index_span(
        index: TableId,
        prefix: &[Value],
        lower: &Bound<Value>,
        upper: &Bound<Value>,
    ) -> Option<KeyRange> {
        Self::span(TAG_INDEX, index, prefix, lower, upper)
    }

    /// The range of the rows of a table whose leading primary-key values are `prefix` and
    /// whose next primary-key value lies between `lower` and `upper`.
    pub fn row_span(
        table: TableId,
        prefix: &[Value],
        lower: &Bound<Value>,
        upper: &Bound<Value>,
    ) -> Option<KeyRange> {
        Self::span(TAG_ROW, table, prefix, lower, upper)
    }

    /// The row key of a table's row whose primary key is already encoded (as index entries
    /// store it), without decoding it.
    pub fn row_from_encoded_pk(table: TableId, pk: &[u8]) -> Vec<u8> {
        let mut out = vec![TAG_ROW];
        out.extend(encode_tuple(&[Value::Int64(table)]));
        out.extend_from_slice(pk);
        out
    }

    /// Keys under `tag` and `id` whose next values are `prefix`, then one value within the
    /// bounds; `None` if no key can be in it (engines may refuse a range that ends before it
    /// starts). A bounded range never includes a NULL in the bounded position (no comparison
    /// admits NULL), which matters because NULLs sort last.
    fn span(
        tag: u8,
        id: TableId,
        prefix: &[Value],
        lower: &Bound<Value>,
        upper: &Bound<Value>,
    ) -> Option<KeyRange> {
        let encode = |last: Option<&Value>| {
            let mut tuple = Vec::with_capacity(prefix.len() + 2);
            tuple.push(Value::Int64(id));
            tuple.extend(prefix.iter().cloned());
            tuple.extend(last.cloned());
            let mut key = vec![tag];
            key.extend(encode_tuple(&tuple));
            key
        };
        // Keys beginning with `key` sort before this (Unbounded if none can follow them).
        let after = |key: Vec<u8>| zizhu_engine::prefix_range(&key).1;
        let start = match lower {
            Bound::Unbounded => Bound::Included(encode(None)),
            Bound::Included(v) => Bound::Included(encode(Some(v))),
            Bound::Excluded(v) => match after(encode(Some(v))) {
                Bound::Excluded(k) => Bound::Included(k),
                // Nothing sorts after this value: the range is empty.
                _ => return None,
            },
        };
        let end = match upper {
            Bound::Unbounded if matches!(lower, Bound::Unbounded) => after(encode(None)),
            Bound::Unbounded => Bound::Excluded(encode(Some(&Value::Null))),
            Bound::Included(v) => after(encode(Some(v))),
            Bound::Excluded(v) => Bound::Excluded(encode(Some(v))),
        };
        match (&start, &end) {
            (Bound::Included(s), Bound::Excluded(e)) if s >= e => None,
            _ => Some((start, end)),
        }
    }
}

impl fmt::Display for Namespace {
    /// `5.2200`: database, then schema.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.db, self.schema)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Database(name) => write!(f, "Database({name})"),
            Key::Role(name) => write!(f, "Role({name})"),
            Key::Schema(db, name) => write!(f, "Schema({db}, {name})"),
            Key::Comment(db, id, column) => write!(f, "Comment({db}, {id}, {column})"),
            Key::Table(ns, name) => write!(f, "Table({ns}, {name})"),
            Key::NextObjectId => f.write_str("NextObjectId"),
            Key::IndexName(ns, name) => write!(f, "IndexName({ns}, {name})"),
            Key::View(ns, name) => write!(f, "View({ns}, {name})"),
            Key::Sequence(ns, name) => write!(f, "Sequence({ns}, {name})"),
            Key::SequenceValue(id) => write!(f, "SequenceValue({id})"),
            Key::Statistics(id) => write!(f, "Statistics({id})"),
            Key::Reference(ns, parent, schema, child) => {
                write!(f, "Reference({ns}, {parent} <- {schema}.{child})")
            }
            Key::Row(id, values) | Key::Index(id, values) => {
                let kind = if matches!(self, Key::Row(..)) {
                    "Row"
                } else {
                    "Index"
                };
                write!(f, "{kind}({id}")?;
                values.iter().try_for_each(|v| write!(f, ", {v}"))?;
                f.write_str(")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_print() {
        let key = Key::Row(16, vec![Value::Int64(42)]);
        assert_eq!(format!("{key:?}"), "Row(16, 42)");
        assert_eq!(Key::decode(&key.encode()).unwrap(), key);
        let public = Namespace::new(5, 2200);
        let table = Key::Table(public, "accounts".into());
        assert_eq!(format!("{table:?}"), "Table(5.2200, accounts)");
        assert_eq!(Key::decode(&table.encode()).unwrap(), table);
        for key in [
            Key::Database("postgres".into()),
            Key::Role("alice".into()),
            Key::Schema(5, "app".into()),
            Key::Reference(public, "parent".into(), 16_400, "child".into()),
            Key::Statistics(16_384),
        ] {
            assert_eq!(Key::decode(&key.encode()).unwrap(), key);
        }
    }

    #[test]
    fn one_databases_catalog_range_holds_none_of_anothers() {
        let (start, end) = Key::all_tables(5);
        let inside = |k: Key| {
            let e = k.encode();
            matches!(&start, std::ops::Bound::Included(s) if e >= *s)
                && matches!(&end, std::ops::Bound::Excluded(s) if e < *s)
        };
        let ns = |db, schema| Namespace::new(db, schema);
        assert!(inside(Key::Table(ns(5, 0), String::new())));
        assert!(inside(Key::Table(ns(5, i64::MAX), "zzz".into())));
        assert!(!inside(Key::Table(ns(4, i64::MAX), "zzz".into())));
        assert!(!inside(Key::Table(ns(6, 0), String::new())));
        assert!(!inside(Key::View(ns(5, 2200), "a".into())));
    }

    #[test]
    fn a_tables_rows_are_one_range() {
        let (start, end) = Key::table_rows(7);
        let inside = |k: &Key| {
            let e = k.encode();
            let after_start = match &start {
                std::ops::Bound::Included(s) => e >= *s,
                _ => unreachable!(),
            };
            let before_end = match &end {
                std::ops::Bound::Excluded(s) => e < *s,
                _ => unreachable!(),
            };
            after_start && before_end
        };
        assert!(inside(&Key::Row(7, vec![Value::Int64(i64::MIN)])));
        assert!(inside(&Key::Row(7, vec![Value::Text("zzz".into())])));
        assert!(!inside(&Key::Row(8, vec![Value::Int64(0)])));
        let (start, end) = Key::statistics_of(7);
        let holds = |k: &Key| {
            let e = k.encode();
            matches!(&start, std::ops::Bound::Included(s) if e >= *s)
                && matches!(&end, std::ops::Bound::Excluded(s) if e < *s)
        };
        assert!(holds(&Key::Statistics(7)));
        assert!(!holds(&Key::Statistics(8)) && !holds(&Key::Statistics(-7)));
        assert!(!inside(&Key::Row(6, vec![Value::Int64(i64::MAX)])));
    }
}
