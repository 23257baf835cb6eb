//! The catalog: table definitions stored in the database itself.
//!
//! Names are per schema ([`schema`]), schemas per database: every name-keyed entry here leads
//! with its [`Namespace`], and the databases and roles themselves are in [`cluster`].
//!
//! A definition is a row under [`Key::Table`], read and written through the session's own
//! transaction, so DDL is transactional: a rolled-back CREATE or DROP leaves no trace, and a
//! concurrent session sees the change exactly when it commits. Two sessions creating the same
//! name serialize on that key's row lock; the second then finds the first's table.
//!
//! Every statement looks its tables up, so a decoded definition is shared: [`Catalog::table`]
//! reads the stored bytes through the transaction (which keeps DDL transactional) and returns
//! the [`Arc<Table>`] last decoded from the same bytes. Decoding per statement was 11% of the
//! CPU of pgbench's select-only run.
//!
//! A table's statistics ([`stats`]) are kept apart from its definition, under
//! [`Key::Statistics`], and read as of now outside the serializable read set: `ANALYZE`
//! (automatic or not) then changes nothing a transaction's correctness depends on, so it fails
//! no SERIALIZABLE transaction and no REPEATABLE READ DDL, as PostgreSQL's in-place updates
//! of `pg_class` fail none.

pub mod clock;
pub mod cluster;
pub mod schema;
pub mod stats;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;
use zizhu_engine::Engine;
use zizhu_txn::{Transaction, WaitPolicy};
use zizhu_types::Value;

use crate::execution::Reader;
use crate::keys::{DatabaseId, Key, Namespace, SchemaId, TableId};
use crate::sequence::Sequence;
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
    /// `GENERATED ALWAYS AS IDENTITY`: only the default may be stored (not an explicit value).
    pub generated_always: bool,
}

/// A table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Identifier, used in row keys.
    pub id: TableId,
    /// The schema it is in.
    pub schema: SchemaId,
    /// Name.
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Positions of the primary-key columns; empty means rows are keyed by a hidden row id.
    pub primary_key: Vec<usize>,
    /// Secondary indexes.
    pub indexes: Vec<Index>,
    /// CHECK constraints, in name order (the order PostgreSQL checks them in).
    pub checks: Vec<Check>,
    /// FOREIGN KEY constraints of this (referencing) table, in name order.
    pub foreign_keys: Vec<ForeignKey>,
    /// What the last `ANALYZE` found, if it ran.
    pub stats: Option<stats::TableStats>,
}

/// What a foreign key does to the referencing rows when their parent row is deleted or its
/// referenced key changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FkAction {
    /// Fail at the end of the statement if referencing rows remain (the default).
    NoAction,
    /// Fail if referencing rows exist.
    Restrict,
    /// Delete them, or give them the new key.
    Cascade,
    /// Set their referencing columns to NULL.
    SetNull,
    /// Set their referencing columns to their defaults.
    SetDefault,
}

impl FkAction {
    const ALL: [FkAction; 5] = [
        FkAction::NoAction,
        FkAction::Restrict,
        FkAction::Cascade,
        FkAction::SetNull,
        FkAction::SetDefault,
    ];

    /// The SQL words, as PostgreSQL's catalog views print them.
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// A FOREIGN KEY constraint, kept with the referencing (child) table. Columns are held by
/// name, as CHECK constraints are: renaming one rewrites the constraint, dropping a
/// referencing one drops it. The referenced columns are the parent's primary key or one of its
/// unique constraints. Which tables reference a parent is indexed by [`Key::Reference`].
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignKey {
    /// Name (unique among the table's constraints).
    pub name: String,
    /// The referencing columns of this table.
    pub columns: Vec<String>,
    /// The referenced (parent) table's schema.
    pub parent_schema: SchemaId,
    /// The referenced (parent) table.
    pub parent: String,
    /// The referenced columns of the parent, pairwise with `columns`.
    pub parent_columns: Vec<String>,
    /// `ON DELETE`
    pub on_delete: FkAction,
    /// `ON UPDATE`
    pub on_update: FkAction,
}

/// A CHECK constraint: stored as its SQL text and bound afresh by each statement that writes
/// the table, as column defaults are.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Name (unique within the table).
    pub name: String,
    /// The boolean expression over the table's columns, as SQL text.
    pub expr: String,
    /// The columns it reads: dropping one drops the constraint, renaming one is refused.
    pub columns: Vec<String>,
}

/// A view: a named query, stored as its text and bound afresh wherever it is used.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// Identifier (its OID in `pg_class`), assigned when created and kept when replaced.
    pub id: TableId,
    /// The schema it is in.
    pub schema: SchemaId,
    /// Name.
    pub name: String,
    /// The query's SQL text.
    pub query: String,
    /// The `search_path` it was created with: its query's unqualified names resolve in it
    /// wherever the view is used, as they resolved when it was created.
    pub search_path: Vec<String>,
    /// Column names given with the view (`CREATE VIEW v (a, b)`), overriding the query's.
    pub columns: Vec<String>,
    /// The tables and views its query uses directly, by schema and name.
    pub depends_on: Vec<(SchemaId, String)>,
    /// The names and types of its columns as of CREATE VIEW (what `pg_attribute` lists;
    /// every use binds the query afresh).
    pub output: Vec<(String, DataType)>,
}

impl View {
    fn encode(&self) -> Vec<u8> {
        let count = |n: usize| Value::Int64(n as i64);
        let mut values = vec![
            Value::Int64(self.id),
            Value::Text(self.query.clone()),
            count(self.search_path.len()),
        ];
        values.extend(self.search_path.iter().cloned().map(Value::Text));
        values.push(count(self.columns.len()));
        values.extend(self.columns.iter().cloned().map(Value::Text));
        values.push(count(self.depends_on.len()));
        for (schema, name) in &self.depends_on {
            values.push(Value::Int64(*schema));
            values.push(Value::Text(name.clone()));
        }
        values.push(count(self.output.len()));
        for (name, data_type) in &self.output {
            values.push(Value::Text(name.clone()));
            values.push(Value::Text(data_type.to_string()));
        }
        row::encode(&values)
    }

    fn decode(schema: SchemaId, name: &str, bytes: &[u8]) -> Result<View> {
        let values = row::decode(bytes)?;
        let bad = || errinternal!("corrupt view definition {values:?}");
        let mut at = 0;
        let mut next = || {
            at += 1;
            values.get(at - 1).ok_or_else(bad)
        };
        let text = |v: &Value| match v {
            Value::Text(t) => Ok(t.clone()),
            _ => Err(bad()),
        };
        let count = |v: &Value| match v {
            Value::Int64(n) if *n >= 0 => Ok(*n as usize),
            _ => Err(bad()),
        };
        let id = match next()? {
            Value::Int64(id) => *id,
            _ => return Err(bad()),
        };
        let query = text(next()?)?;
        let n = count(next()?)?;
        let search_path = (0..n).map(|_| text(next()?)).collect::<Result<_>>()?;
        let n = count(next()?)?;
        let columns = (0..n).map(|_| text(next()?)).collect::<Result<_>>()?;
        let n = count(next()?)?;
        let mut depends_on = Vec::with_capacity(n);
        for _ in 0..n {
            let schema = match next()? {
                Value::Int64(schema) => *schema,
                _ => return Err(bad()),
            };
            depends_on.push((schema, text(next()?)?));
        }
        let n = count(next()?)?;
        let mut output = Vec::with_capacity(n);
        for _ in 0..n {
            let column = text(next()?)?;
            let data_type = parse_type_name(&text(next()?)?).ok_or_else(bad)?;
            output.push((column, data_type));
        }
        Ok(View {
            id,
            schema,
            name: name.to_string(),
            query,
            search_path,
            columns,
            depends_on,
            output,
        })
    }
}

/// A secondary index on a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// Identifier, used in index entry keys.
    pub id: TableId,
    /// Name (unique among tables and indexes, as in PostgreSQL).
    pub name: String,
    /// Positions of the indexed columns, in index order.
    pub columns: Vec<usize>,
    /// Whether two rows may not have equal (non-NULL) values.
    pub unique: bool,
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
        let int = |i: usize| Value::Int64(i as i64);
        let mut values = vec![
            Value::Int64(self.id),
            Value::Int64(self.schema),
            Value::Text(self.name.clone()),
            int(self.columns.len()),
        ];
        for column in &self.columns {
            values.push(Value::Text(column.name.clone()));
            values.push(Value::Text(column.data_type.to_string()));
            values.push(Value::Bool(column.nullable));
            values.push(column.default.clone().map_or(Value::Null, Value::Text));
            values.push(Value::Bool(column.generated_always));
        }
        values.push(int(self.primary_key.len()));
        values.extend(self.primary_key.iter().map(|&i| int(i)));
        values.push(int(self.indexes.len()));
        for index in &self.indexes {
            values.push(Value::Int64(index.id));
            values.push(Value::Text(index.name.clone()));
            values.push(Value::Bool(index.unique));
            values.push(int(index.columns.len()));
            values.extend(index.columns.iter().map(|&i| int(i)));
        }
        values.push(int(self.checks.len()));
        for check in &self.checks {
            values.push(Value::Text(check.name.clone()));
            values.push(Value::Text(check.expr.clone()));
            values.push(int(check.columns.len()));
            values.extend(check.columns.iter().cloned().map(Value::Text));
        }
        values.push(int(self.foreign_keys.len()));
        for fk in &self.foreign_keys {
            values.push(Value::Text(fk.name.clone()));
            values.push(Value::Int64(fk.parent_schema));
            values.push(Value::Text(fk.parent.clone()));
            values.push(Value::Text(fk.on_delete.sql().into()));
            values.push(Value::Text(fk.on_update.sql().into()));
            values.push(int(fk.columns.len()));
            for (column, parent_column) in fk.columns.iter().zip(&fk.parent_columns) {
                values.push(Value::Text(column.clone()));
                values.push(Value::Text(parent_column.clone()));
            }
        }
        // Statistics are stored apart, under [`Key::Statistics`].
        row::encode(&values)
    }

    fn decode(bytes: &[u8]) -> Result<Table> {
        let values = row::decode(bytes)?;
        let bad = || errinternal!("corrupt table definition {values:?}");
        let (id, schema, name) = match values.as_slice() {
            [Value::Int64(id), Value::Int64(schema), Value::Text(name), ..] => {
                (*id, *schema, name.clone())
            }
            _ => return Err(bad()),
        };
        let mut it = values.iter().skip(3);
        let mut next = || it.next().ok_or_else(bad);
        let count = |v: &Value| match v {
            Value::Int64(i) if *i >= 0 => Ok(*i as usize),
            _ => Err(bad()),
        };
        let text = |v: &Value| match v {
            Value::Text(t) => Ok(t.clone()),
            _ => Err(bad()),
        };
        let n = count(next()?)?;
        let mut columns = Vec::with_capacity(n);
        for _ in 0..n {
            let name = text(next()?)?;
            let data_type = parse_type_name(&text(next()?)?).ok_or_else(bad)?;
            let nullable = matches!(next()?, Value::Bool(true));
            let default = match next()? {
                Value::Text(t) => Some(t.clone()),
                _ => None,
            };
            let generated_always = matches!(next()?, Value::Bool(true));
            columns.push(Column {
                name,
                data_type,
                nullable,
                default,
                generated_always,
            });
        }
        let position = |v: &Value| count(v).and_then(|i| if i < n { Ok(i) } else { Err(bad()) });
        let pk_len = count(next()?)?;
        let primary_key = (0..pk_len)
            .map(|_| position(next()?))
            .collect::<Result<_>>()?;
        let index_count = count(next()?)?;
        let mut indexes = Vec::with_capacity(index_count);
        for _ in 0..index_count {
            let id = match next()? {
                Value::Int64(id) => *id,
                _ => return Err(bad()),
            };
            let name = text(next()?)?;
            let unique = matches!(next()?, Value::Bool(true));
            let width = count(next()?)?;
            let columns = (0..width)
                .map(|_| position(next()?))
                .collect::<Result<_>>()?;
            indexes.push(Index {
                id,
                name,
                columns,
                unique,
            });
        }
        let check_count = count(next()?)?;
        let mut checks = Vec::with_capacity(check_count);
        for _ in 0..check_count {
            let name = text(next()?)?;
            let expr = text(next()?)?;
            let width = count(next()?)?;
            let columns = (0..width).map(|_| text(next()?)).collect::<Result<_>>()?;
            checks.push(Check {
                name,
                expr,
                columns,
            });
        }
        let action = |v: &Value| {
            let word = text(v)?;
            FkAction::ALL
                .into_iter()
                .find(|a| a.sql() == word)
                .ok_or_else(bad)
        };
        let fk_count = count(next()?)?;
        let mut foreign_keys = Vec::with_capacity(fk_count);
        for _ in 0..fk_count {
            let name = text(next()?)?;
            let parent_schema = match next()? {
                Value::Int64(schema) => *schema,
                _ => return Err(bad()),
            };
            let parent = text(next()?)?;
            let on_delete = action(next()?)?;
            let on_update = action(next()?)?;
            let width = count(next()?)?;
            let (mut columns, mut parent_columns) = (Vec::new(), Vec::new());
            for _ in 0..width {
                columns.push(text(next()?)?);
                parent_columns.push(text(next()?)?);
            }
            foreign_keys.push(ForeignKey {
                name,
                columns,
                parent_schema,
                parent,
                parent_columns,
                on_delete,
                on_update,
            });
        }
        // Definitions written before statistics had a key of their own end with them.
        let stats = match it.next() {
            None => None,
            Some(Value::Text(marker)) if marker.starts_with("stats") => {
                Some(stats::TableStats::decode(marker, &mut || it.next())?)
            }
            Some(_) => return Err(bad()),
        };
        Ok(Table {
            id,
            schema,
            name,
            columns,
            primary_key,
            indexes,
            checks,
            foreign_keys,
            stats,
        })
    }
}

/// Reads a type back from its [`DataType`] display name.
fn parse_type_name(text: &str) -> Option<DataType> {
    if let Some(element) = text.strip_suffix("[]") {
        return Some(DataType::Array(Box::new(parse_type_name(element)?)));
    }
    match text {
        "unknown" => return Some(DataType::Unknown),
        "json" => return Some(DataType::Json),
        "jsonb" => return Some(DataType::Jsonb),
        "record" => return Some(DataType::Record(Vec::new())),
        "int2vector" => return Some(DataType::Vector(Box::new(DataType::Int16))),
        "oidvector" => {
            return Some(DataType::Vector(Box::new(DataType::Oid(
                crate::types::OidAlias::Oid,
            ))))
        }
        _ => {}
    }
    if let Some(oid) = crate::types::pg_type::oid_of_name(text)
        .and_then(|oid| DataType::from_oid(oid, -1))
        .filter(|t| matches!(t, DataType::Oid(_)))
    {
        return Some(oid);
    }
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

/// Every definition a reader sees, in name order: what the system catalogs
/// ([`crate::system`]) are computed from.
#[derive(Default)]
pub struct Snapshot {
    /// Tables.
    pub tables: Vec<Arc<Table>>,
    /// Views.
    pub views: Vec<View>,
    /// Sequences.
    pub sequences: Vec<Sequence>,
    /// The database's stored schemas.
    pub schemas: Vec<schema::SchemaDef>,
    /// The search path's stored schemas, in order (set by the statement that reads the
    /// snapshot; empty from [`Snapshot::read`]).
    pub path: Vec<crate::keys::SchemaId>,
    /// Every database of the data directory.
    pub databases: Vec<cluster::DatabaseDef>,
    /// Every role.
    pub roles: Vec<cluster::Role>,
    /// `COMMENT ON` texts: relation identifier, column name (empty for the relation), text.
    pub comments: Vec<(TableId, String, String)>,
}

impl Snapshot {
    /// The comment on relation `id` (`column` empty) or on one of its columns.
    pub fn comment(&self, id: TableId, column: &str) -> Option<&str> {
        self.comments
            .iter()
            .find(|(i, c, _)| *i == id && c == column)
            .map(|(_, _, text)| text.as_str())
    }

    /// The name of the role with this OID.
    pub fn role_name(&self, oid: i64) -> Option<&str> {
        self.roles
            .iter()
            .find(|r| r.oid == oid)
            .map(|r| r.name.as_str())
    }
}

impl Snapshot {
    /// The definitions `reader` sees.
    pub fn read(reader: &dyn Reader, db: DatabaseId) -> Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        let direction = zizhu_engine::Direction::Forward;
        for item in reader.scan(Key::all_tables(db), direction)? {
            let (_, bytes) = item?;
            snapshot.tables.push(decoded(reader, bytes)?);
        }
        for item in reader.scan(Key::all_views(db), direction)? {
            let (key, bytes) = item?;
            if let Key::View(ns, name) = Key::decode(&key)? {
                snapshot.views.push(View::decode(ns.schema, &name, &bytes)?);
            }
        }
        for item in reader.scan(Key::all_sequences(db), direction)? {
            let (key, bytes) = item?;
            if let Key::Sequence(ns, name) = Key::decode(&key)? {
                snapshot
                    .sequences
                    .push(Sequence::decode(ns.schema, &name, &bytes)?);
            }
        }
        for item in reader.scan(Key::all_comments(db), direction)? {
            let (key, bytes) = item?;
            if let (Key::Comment(_, id, column), [Value::Text(text)]) =
                (Key::decode(&key)?, row::decode(&bytes)?.as_slice())
            {
                snapshot.comments.push((id, column, text.clone()));
            }
        }
        snapshot.schemas = Catalog::schemas(reader, db)?;
        snapshot.databases = cluster::Cluster::databases(reader)?;
        snapshot.roles = cluster::Cluster::roles(reader)?;
        Ok(snapshot)
    }
}

/// A definition decoded, and the same with the statistics it was last seen with.
struct Decoded {
    table: Arc<Table>,
    analyzed: Option<(Vec<u8>, Arc<Table>)>,
}

/// Definitions decoded, by their stored bytes (which determine them wholly, so the map is
/// shared by every database in the process).
static DECODED: LazyLock<RwLock<HashMap<Vec<u8>, Decoded>>> = LazyLock::new(Default::default);
/// Past this many definitions the map starts over (each is rebuilt on its next lookup).
const DECODED_LIMIT: usize = 4096;

/// The table `bytes` define, decoded once, with its statistics as of now (read with
/// [`Reader::get_advisory`], so a concurrent ANALYZE conflicts with nothing that read them).
fn decoded(reader: &dyn Reader, bytes: Vec<u8>) -> Result<Arc<Table>> {
    let cached = DECODED.read().get(&bytes).map(|d| Arc::clone(&d.table));
    let table = match cached {
        Some(table) => table,
        None => {
            let table = Arc::new(Table::decode(&bytes)?);
            let mut map = DECODED.write();
            if map.len() >= DECODED_LIMIT {
                map.clear();
            }
            map.entry(bytes.clone()).or_insert(Decoded {
                table: Arc::clone(&table),
                analyzed: None,
            });
            table
        }
    };
    let Some(stats) = reader.get_advisory(&Key::Statistics(table.id).encode())? else {
        return Ok(table);
    };
    if let Some(Decoded {
        analyzed: Some((seen, analyzed)),
        ..
    }) = DECODED.read().get(&bytes)
    {
        if *seen == stats {
            return Ok(Arc::clone(analyzed));
        }
    }
    let mut analyzed = (*table).clone();
    analyzed.stats = Some(stats::TableStats::from_bytes(&stats)?);
    let analyzed = Arc::new(analyzed);
    if let Some(entry) = DECODED.write().get_mut(&bytes) {
        entry.analyzed = Some((stats, Arc::clone(&analyzed)));
    }
    Ok(analyzed)
}

impl Catalog {
    /// Looks up a table by name.
    pub fn table<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<Option<Arc<Table>>> {
        txn.get(&Key::Table(ns, name.to_string()).encode())?
            .map(|bytes| decoded(txn, bytes))
            .transpose()
    }

    /// Locks `table`'s definition against concurrent DDL until this transaction ends, without
    /// writing it, and returns its newest committed state (`None` if it was dropped or renamed
    /// meanwhile). ANALYZE takes it before storing statistics, so that they are never stored
    /// for a table a concurrent DROP is removing; readers of the definition are unaffected.
    pub fn share_lock_table<E: Engine>(
        txn: &Transaction<E>,
        db: DatabaseId,
        table: &Table,
    ) -> Result<Option<Arc<Table>>> {
        let key = Key::Table(Namespace::new(db, table.schema), table.name.clone()).encode();
        let lock = txn.lock_row(&key, zizhu_txn::LockMode::Share, WaitPolicy::Wait)?;
        lock.and_then(|l| l.current)
            .map(|bytes| decoded(txn, bytes))
            .transpose()
    }

    /// Stores `stats` as table `id`'s statistics, replacing any it had.
    pub fn store_statistics<E: Engine>(
        txn: &mut Transaction<E>,
        id: TableId,
        stats: &stats::TableStats,
    ) -> Result<()> {
        Ok(txn.put_advisory(&Key::Statistics(id).encode(), stats.to_bytes())?)
    }

    /// Looks up a table by name, failing with 42P01 if there is none.
    pub fn must_table<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<Arc<Table>> {
        Self::table(txn, ns, name)?
            .ok_or_else(|| errinput!(UndefinedTable, "relation \"{name}\" does not exist"))
    }

    /// Creates a table in its schema, assigning its identifier. Fails with 42P07 if the name
    /// is taken (by a table or an index), even by one committed after this transaction's
    /// snapshot.
    pub fn create_table<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        mut table: Table,
    ) -> Result<Table> {
        let ns = Namespace::new(db, table.schema);
        Self::claim_name(txn, ns, &table.name)?;
        table.id = Self::next_id(txn)?;
        txn.put(&Key::Table(ns, table.name.clone()).encode(), table.encode())?;
        Self::sync_references(txn, db, None, Some(&table))?;
        Ok(table)
    }

    /// Keeps the [`Key::Reference`] index in step with a table definition's foreign keys as
    /// it goes from `old` to `new` (either may be absent).
    fn sync_references<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        old: Option<&Table>,
        new: Option<&Table>,
    ) -> Result<()> {
        let entries = |t: Option<&Table>| -> std::collections::BTreeSet<Vec<u8>> {
            t.map(|t| {
                t.foreign_keys
                    .iter()
                    .map(|fk| {
                        let parent = Namespace::new(db, fk.parent_schema);
                        Key::Reference(parent, fk.parent.clone(), t.schema, t.name.clone()).encode()
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
        let (before, after) = (entries(old), entries(new));
        for gone in before.difference(&after) {
            txn.delete(gone)?;
        }
        for added in after.difference(&before) {
            txn.put(added, Vec::new())?;
        }
        Ok(())
    }

    /// Whether some table has a foreign key referencing `parent`.
    pub fn is_referenced<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        parent: &str,
    ) -> Result<bool> {
        let mut scan = txn.scan(
            Key::references_to(ns, parent),
            zizhu_engine::Direction::Forward,
        )?;
        Ok(scan.next().transpose()?.is_some())
    }

    /// The tables with a foreign key referencing `parent` (itself included, if it refers to
    /// itself).
    pub fn referencing<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        parent: &str,
    ) -> Result<Vec<Arc<Table>>> {
        let mut children = Vec::new();
        for item in txn.scan(
            Key::references_to(ns, parent),
            zizhu_engine::Direction::Forward,
        )? {
            let (key, _) = item?;
            let Key::Reference(_, _, schema, child) = Key::decode(&key)? else {
                return Err(errinternal!("not a reference key {key:02x?}"));
            };
            let child_ns = Namespace::new(ns.db, schema);
            children.push(Self::table(txn, child_ns, &child)?.ok_or_else(|| {
                errinternal!("table {child} referencing {parent} does not exist")
            })?);
        }
        Ok(children)
    }

    /// Locks a relation name for creation; 42P07 if a table or index has it.
    fn claim_name<E: Engine>(txn: &mut Transaction<E>, ns: Namespace, name: &str) -> Result<()> {
        if ns.db == 0 {
            return Err(errinput!(
                InvalidCatalogName,
                "the session's database no longer exists"
            ));
        }
        Self::lock_schema(txn, ns, zizhu_txn::LockMode::KeyShare)?;
        let keys = [
            Key::Table(ns, name.into()),
            Key::IndexName(ns, name.into()),
            Key::View(ns, name.into()),
            Key::Sequence(ns, name.into()),
        ];
        for key in keys.map(|k| k.encode()) {
            let existing = txn
                .lock_for_insert(&key, WaitPolicy::Wait)?
                .and_then(|l| l.current);
            if existing.is_some() || txn.get(&key)?.is_some() {
                return Err(errinput!(
                    DuplicateTable,
                    "relation \"{name}\" already exists"
                ));
            }
        }
        Ok(())
    }
    /// Looks up a view by name.
    pub fn view<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<Option<View>> {
        txn.get(&Key::View(ns, name.to_string()).encode())?
            .map(|bytes| View::decode(ns.schema, name, &bytes))
            .transpose()
    }

    /// The views (in any schema) whose queries use relation `name` of `ns` directly.
    pub fn dependent_views<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<Vec<(Namespace, String)>> {
        let mut dependents = Vec::new();
        for item in txn.scan(Key::all_views(ns.db), zizhu_engine::Direction::Forward)? {
            let (key, bytes) = item?;
            let Key::View(view_ns, view) = Key::decode(&key)? else {
                continue;
            };
            if View::decode(view_ns.schema, &view, &bytes)?
                .depends_on
                .iter()
                .any(|(schema, n)| *schema == ns.schema && n == name)
            {
                dependents.push((view_ns, view));
            }
        }
        Ok(dependents)
    }

    /// Creates a view in its schema (or replaces one, with `replace`); 42P07 if the name is
    /// taken.
    pub fn create_view<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        view: &View,
        replace: bool,
    ) -> Result<()> {
        let ns = Namespace::new(db, view.schema);
        let key = Key::View(ns, view.name.clone()).encode();
        let existing = txn
            .lock_for_insert(&key, WaitPolicy::Wait)?
            .and_then(|l| l.current);
        let mut view = view.clone();
        match existing {
            Some(bytes) if replace => view.id = View::decode(ns.schema, &view.name, &bytes)?.id,
            _ => {
                Self::claim_name(txn, ns, &view.name)?;
                view.id = Self::next_id(txn)?;
            }
        }
        txn.put(&key, view.encode())?;
        Ok(())
    }

    /// Drops a view.
    pub fn drop_view<E: Engine>(txn: &mut Transaction<E>, ns: Namespace, name: &str) -> Result<()> {
        if let Some(view) = Self::view(txn, ns, name)? {
            Self::drop_comments(txn, ns.db, view.id, None)?;
        }
        txn.delete(&Key::View(ns, name.to_string()).encode())?;
        Ok(())
    }
    /// Stores a table definition under a new name in its schema (ALTER TABLE ... RENAME TO):
    /// 42P07 if the name is taken; its indexes follow it.
    /// Foreign keys referencing it are rewritten to the new name.
    pub fn rename_table<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        old: &str,
        table: &Table,
    ) -> Result<()> {
        let ns = Namespace::new(db, table.schema);
        Self::claim_name(txn, ns, &table.name)?;
        let children = Self::referencing(txn, ns, old)?;
        let before = Self::table(txn, ns, old)?;
        Self::sync_references(txn, db, before.as_deref(), None)?;
        txn.delete(&Key::Table(ns, old.to_string()).encode())?;
        let owner = row::encode(&[Value::Text(table.name.clone())]);
        for index in &table.indexes {
            txn.put(
                &Key::IndexName(ns, index.name.clone()).encode(),
                owner.clone(),
            )?;
        }
        let renamed = |t: &mut Table| {
            for fk in t
                .foreign_keys
                .iter_mut()
                .filter(|fk| fk.parent == old && fk.parent_schema == ns.schema)
            {
                fk.parent = table.name.clone();
            }
        };
        let mut table = table.clone();
        renamed(&mut table);
        txn.put(&Key::Table(ns, table.name.clone()).encode(), table.encode())?;
        Self::sync_references(txn, db, None, Some(&table))?;
        for mut child in children
            .into_iter()
            .filter(|c| c.id != table.id)
            .map(Arc::unwrap_or_clone)
        {
            renamed(&mut child);
            Self::update_table(txn, db, &child)?;
        }
        Ok(())
    }
    /// Looks up a sequence by name.
    pub fn sequence<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<Option<Sequence>> {
        txn.get(&Key::Sequence(ns, name.to_string()).encode())?
            .map(|b| Sequence::decode(ns.schema, name, &b))
            .transpose()
    }

    /// Creates a sequence in its schema, assigning its id; 42P07 if the name is taken.
    pub fn create_sequence<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        mut seq: Sequence,
    ) -> Result<Sequence> {
        let ns = Namespace::new(db, seq.schema);
        Self::claim_name(txn, ns, &seq.name)?;
        seq.id = Self::next_id(txn)?;
        txn.put(&Key::Sequence(ns, seq.name.clone()).encode(), seq.encode())?;
        Ok(seq)
    }

    /// Drops a sequence.
    pub fn drop_sequence<E: Engine>(
        txn: &mut Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<()> {
        if let Some(sequence) = Self::sequence(txn, ns, name)? {
            Self::drop_comments(txn, ns.db, sequence.id, None)?;
        }
        txn.delete(&Key::Sequence(ns, name.to_string()).encode())?;
        Ok(())
    }

    /// Sets (or with `None` removes) the comment on relation `id` or its `column` (empty for
    /// the relation itself).
    pub fn set_comment<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        id: TableId,
        column: &str,
        text: Option<&str>,
    ) -> Result<()> {
        let key = Key::Comment(db, id, column.to_string()).encode();
        match text {
            Some(text) => txn.put(&key, row::encode(&[Value::Text(text.to_string())]))?,
            None => txn.delete(&key)?,
        }
        Ok(())
    }

    /// The comment on relation `id` (`column` empty) or one of its columns.
    pub fn comment<E: Engine>(
        txn: &Transaction<E>,
        db: DatabaseId,
        id: TableId,
        column: &str,
    ) -> Result<Option<String>> {
        match txn.get(&Key::Comment(db, id, column.to_string()).encode())? {
            Some(bytes) => match row::decode(&bytes)?.as_slice() {
                [Value::Text(text)] => Ok(Some(text.clone())),
                other => Err(errinternal!("corrupt comment {other:?}")),
            },
            None => Ok(None),
        }
    }

    /// Removes the comments on relation `id` and its columns, or only on `column`.
    pub fn drop_comments<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        id: TableId,
        column: Option<&str>,
    ) -> Result<()> {
        if let Some(column) = column {
            return Self::set_comment(txn, db, id, column, None);
        }
        Self::delete_range(txn, Key::comments_of(db, id))
    }

    /// Deletes every key of `range` the transaction sees.
    pub(crate) fn delete_range<E: Engine>(
        txn: &mut Transaction<E>,
        range: zizhu_engine::KeyRange,
    ) -> Result<()> {
        let keys: Vec<Vec<u8>> = txn
            .scan(range, zizhu_engine::Direction::Forward)?
            .map(|r| r.map(|(k, _)| k))
            .collect::<zizhu_txn::Result<_>>()?;
        for key in keys {
            txn.delete(&key)?;
        }
        Ok(())
    }

    /// The sequences a table of `ns` owns (its SERIAL columns'), which are in its schema.
    pub fn owned_sequences<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        table: &str,
    ) -> Result<Vec<String>> {
        let mut owned = Vec::new();
        let range = Key::in_schema(&Key::Sequence(ns, String::new()))?;
        for item in txn.scan(range, zizhu_engine::Direction::Forward)? {
            let (key, bytes) = item?;
            let Key::Sequence(_, name) = Key::decode(&key)? else {
                continue;
            };
            if Sequence::decode(ns.schema, &name, &bytes)?
                .owned_by
                .as_deref()
                == Some(table)
            {
                owned.push(name);
            }
        }
        Ok(owned)
    }

    /// Stores a changed table definition.
    pub fn update_table<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        table: &Table,
    ) -> Result<()> {
        let ns = Namespace::new(db, table.schema);
        let before = Self::table(txn, ns, &table.name)?;
        txn.put(&Key::Table(ns, table.name.clone()).encode(), table.encode())?;
        // Statistics a definition still carried from before they had a key of their own move
        // to their key, rather than vanish with the rewritten definition.
        if let Some(stats) = &table.stats {
            if txn
                .get_advisory(&Key::Statistics(table.id).encode())?
                .is_none()
            {
                Self::store_statistics(txn, table.id, stats)?;
            }
        }
        Self::sync_references(txn, db, before.as_deref(), Some(table))
    }

    /// Adds an index definition to `table` (assigning its id) and records its name. The
    /// caller builds its entries.
    pub fn create_index<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        table: &mut Table,
        mut index: Index,
    ) -> Result<Index> {
        let ns = Namespace::new(db, table.schema);
        Self::claim_name(txn, ns, &index.name)?;
        index.id = Self::next_id(txn)?;
        let owner = row::encode(&[Value::Text(table.name.clone())]);
        txn.put(&Key::IndexName(ns, index.name.clone()).encode(), owner)?;
        table.indexes.push(index.clone());
        Self::update_table(txn, db, table)?;
        Ok(index)
    }

    /// The table owning the index named `name`.
    pub fn index_table<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        name: &str,
    ) -> Result<Option<Arc<Table>>> {
        let Some(bytes) = txn.get(&Key::IndexName(ns, name.to_string()).encode())? else {
            return Ok(None);
        };
        match row::decode(&bytes)?.as_slice() {
            [Value::Text(table)] => Self::table(txn, ns, table),
            other => Err(errinternal!("corrupt index name entry {other:?}")),
        }
    }

    /// Removes an index definition and its name; the caller deletes its entries.
    pub fn drop_index<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        table: &mut Table,
        name: &str,
    ) -> Result<()> {
        if let Some(index) = table.indexes.iter().find(|i| i.name == name) {
            Self::drop_comments(txn, db, index.id, None)?;
        }
        table.indexes.retain(|i| i.name != name);
        let ns = Namespace::new(db, table.schema);
        txn.delete(&Key::IndexName(ns, name.to_string()).encode())?;
        Self::update_table(txn, db, table)
    }

    /// Drops a table, its rows, and its indexes.
    pub fn drop_table<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        table: &Table,
    ) -> Result<()> {
        Self::drop_comments(txn, db, table.id, None)?;
        for index in &table.indexes {
            Self::drop_comments(txn, db, index.id, None)?;
        }
        // Dropped whole at commit, not row by row: the table's id is never used again. So are
        // its statistics, which then conflict with no ANALYZE that committed meanwhile.
        txn.drop_range(Key::table_rows(table.id))?;
        txn.drop_range(Key::statistics_of(table.id))?;
        for index in &table.indexes {
            txn.drop_range(Key::index_entries(index.id))?;
        }
        let ns = Namespace::new(db, table.schema);
        for index in &table.indexes {
            txn.delete(&Key::IndexName(ns, index.name.clone()).encode())?;
        }
        for sequence in Self::owned_sequences(txn, ns, &table.name)? {
            Self::drop_sequence(txn, ns, &sequence)?;
        }
        Self::sync_references(txn, db, Some(table), None)?;
        txn.delete(&Key::Table(ns, table.name.clone()).encode())?;
        Ok(())
    }

    pub(crate) fn next_id<E: Engine>(txn: &mut Transaction<E>) -> Result<TableId> {
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
            schema: schema::PUBLIC,
            name: "accounts".into(),
            columns: vec![
                Column {
                    name: "id".into(),
                    data_type: DataType::Int64,
                    nullable: false,
                    default: None,
                    generated_always: true,
                },
                Column {
                    name: "balance".into(),
                    data_type: DataType::Numeric(Some((12, 2))),
                    nullable: true,
                    default: Some("0".into()),
                    generated_always: false,
                },
                Column {
                    name: "note".into(),
                    data_type: DataType::Varchar(Some(20)),
                    nullable: true,
                    default: None,
                    generated_always: false,
                },
                Column {
                    name: "c".into(),
                    data_type: DataType::Char(3),
                    nullable: true,
                    default: None,
                    generated_always: false,
                },
            ],
            primary_key: vec![0],
            indexes: vec![
                Index {
                    id: 16_385,
                    name: "accounts_note_key".into(),
                    columns: vec![2],
                    unique: true,
                },
                Index {
                    id: 16_386,
                    name: "by_note_c".into(),
                    columns: vec![2, 3],
                    unique: false,
                },
            ],
            checks: vec![Check {
                name: "accounts_balance_check".into(),
                expr: "balance >= 0".into(),
                columns: vec!["balance".into()],
            }],
            foreign_keys: FkAction::ALL
                .iter()
                .zip(FkAction::ALL.iter().rev())
                .map(|(&on_delete, &on_update)| ForeignKey {
                    name: format!("fk_{}", on_delete.sql()),
                    columns: vec!["note".into(), "c".into()],
                    parent_schema: 16_390,
                    parent: "owners".into(),
                    parent_columns: vec!["name".into(), "code".into()],
                    on_delete,
                    on_update,
                })
                .collect(),
            stats: Some(stats::TableStats {
                rows: 3,
                columns: vec![stats::ColumnStats {
                    name: "id".into(),
                    distinct: 3.0,
                    null_fraction: 0.0,
                    most_common: vec![(Value::Int32(2), 0.5)],
                    histogram: vec![Value::Int32(1), Value::Int32(3)],
                    width: 4,
                    correlation: Some(1.0),
                }],
            }),
        };
        // Statistics are stored under their own key, not in the definition...
        let bytes = table.encode();
        let bare = Table {
            stats: None,
            ..table.clone()
        };
        assert_eq!(Table::decode(&bytes).unwrap(), bare);
        // ...but definitions written when they were still end with them, and keep them.
        let mut values = row::decode(&bytes).unwrap();
        table.stats.as_ref().unwrap().encode(&mut values);
        assert_eq!(Table::decode(&row::encode(&values)).unwrap(), table);
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
