//! Schemas: the namespaces relation names live in, and the search path that finds them.
//!
//! A schema is a row under [`Key::Schema`] (database, name) holding its identifier and
//! owner; the relations in it are keyed by that identifier ([`Namespace`]), so renaming a
//! schema rewrites one row. Every database has `public` (2200, as in PostgreSQL) from its
//! creation. `pg_catalog` and `information_schema` are not stored: their relations are the
//! system views of [`crate::system`], and no user relation can be created in them.
//!
//! Creating a relation in a schema takes a KEY SHARE lock on the schema's row until commit
//! ([`Catalog::lock_schema`]), and DROP or RENAME of the schema takes an exclusive one, so a
//! schema cannot be dropped under a relation being created in it: whichever comes second
//! waits, then sees the other's outcome.
//!
//! Every statement resolves its search path, so the committed schemas are cached process-wide
//! ([`SchemaCache`]): reading them per statement cost two catalog reads on every query. The
//! cache holds the newest committed state, as PostgreSQL's catalog caches do (its name
//! lookups also see the latest committed catalog, not the transaction's snapshot); a
//! transaction that has changed schemas itself bypasses it, and its end invalidates it.
//!
//! An unqualified name is looked up in the schemas of the session's `search_path` that
//! exist, in order, as PostgreSQL does (`pg_catalog`, searched first, holds only system
//! views here). A new relation with an unqualified name goes into the first of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use zizhu_engine::{Direction, Engine};
use zizhu_txn::{LockMode, Transaction, WaitPolicy};
use zizhu_types::Value;

use super::Catalog;
use crate::execution::Reader;
use crate::keys::{DatabaseId, Key, Namespace, SchemaId};
use crate::{errinput, errinternal, row, Result};

/// `public`, in every database.
pub const PUBLIC: SchemaId = 2200;
/// `pg_catalog`: the system views.
pub const PG_CATALOG: SchemaId = 11;
/// `information_schema`: the SQL standard's views.
pub const INFORMATION_SCHEMA: SchemaId = 13_000;

/// A schema.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDef {
    /// Identifier: its relations' [`Namespace`], and its OID.
    pub id: SchemaId,
    /// Name.
    pub name: String,
    /// The owning role's OID.
    pub owner: i64,
}

impl SchemaDef {
    fn encode(&self) -> Vec<u8> {
        row::encode(&[Value::Int64(self.id), Value::Int64(self.owner)])
    }

    fn decode(name: &str, bytes: &[u8]) -> Result<SchemaDef> {
        match row::decode(bytes)?.as_slice() {
            [Value::Int64(id), Value::Int64(owner)] => Ok(SchemaDef {
                id: *id,
                name: name.to_string(),
                owner: *owner,
            }),
            other => Err(errinternal!("corrupt schema definition {other:?}")),
        }
    }
}

/// The schemas that are not stored (see the [module docs](self)), by name and OID.
pub const SYSTEM_SCHEMAS: [(&str, SchemaId); 2] = [
    ("pg_catalog", PG_CATALOG),
    ("information_schema", INFORMATION_SCHEMA),
];

/// The `search_path` setting as schema names, `"$user"` replaced by the session's user.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPath(std::sync::Arc<[String]>);

impl SearchPath {
    /// Parses the setting: a comma-separated list of identifiers (unquoted ones fold to lower
    /// case; `"$user"` is the user's name).
    pub fn parse(setting: &str, user: &str) -> SearchPath {
        let mut names = Vec::new();
        for part in split_list(setting) {
            let name = match part.as_str() {
                "$user" => user.to_string(),
                _ => part,
            };
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
        }
        SearchPath(names.into())
    }

    /// A path of these schema names (a view's, as stored).
    pub fn from_names(names: Vec<String>) -> SearchPath {
        SearchPath(names.into())
    }

    /// The names, in order.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// [`Self::resolve`] through `cache`.
    pub fn resolve_cached<E: Engine>(
        &self,
        txn: &Transaction<E>,
        db: DatabaseId,
        cache: &SchemaCache,
    ) -> Result<Vec<SchemaDef>> {
        let mut found = Vec::with_capacity(self.0.len());
        for name in self.0.iter() {
            if let Some(schema) = cache.get(txn, db, name)? {
                found.push(schema);
            }
        }
        Ok(found)
    }

    /// The stored schemas of the path that exist in `db`, in order.
    pub fn resolve(&self, reader: &dyn Reader, db: DatabaseId) -> Result<Vec<SchemaDef>> {
        let mut found = Vec::with_capacity(self.0.len());
        for name in self.0.iter() {
            if let Some(schema) = Catalog::schema(reader, db, name)? {
                found.push(schema);
            }
        }
        Ok(found)
    }
}

/// The newest committed schemas, by database and name (see the [module docs](self)).
#[derive(Default)]
pub struct SchemaCache {
    /// Bumped whenever a transaction that changed schemas ends: entries of an older
    /// generation are stale.
    generation: AtomicU64,
    entries: RwLock<HashMap<DatabaseId, HashMap<String, CachedSchema>>>,
}

/// A cache entry: the generation it was read in, and the schema if it exists.
type CachedSchema = (u64, Option<SchemaDef>);

/// Past this many entries in a database (search paths may name anything), its cache starts
/// over.
const SCHEMA_CACHE_LIMIT: usize = 1024;

impl SchemaCache {
    /// Schema `name` of `db` as last committed, reading it through `txn` on a miss.
    pub fn get<E: Engine>(
        &self,
        txn: &Transaction<E>,
        db: DatabaseId,
        name: &str,
    ) -> Result<Option<SchemaDef>> {
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((g, schema)) = self.entries.read().get(&db).and_then(|m| m.get(name)) {
            if *g == generation {
                return Ok(schema.clone());
            }
        }
        let encoded = Key::Schema(db, name.to_string()).encode();
        let mut schema = None;
        for item in txn.scan_latest(zizhu_engine::prefix_range(&encoded), Direction::Forward)? {
            let (k, bytes) = item?;
            if k == encoded {
                schema = Some(SchemaDef::decode(name, &bytes)?);
            }
        }
        let mut entries = self.entries.write();
        let of_db = entries.entry(db).or_default();
        if of_db.len() >= SCHEMA_CACHE_LIMIT {
            of_db.clear();
        }
        of_db.insert(name.to_string(), (generation, schema.clone()));
        Ok(schema)
    }

    /// Marks every entry stale: a transaction that changed schemas has ended.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

impl Default for SearchPath {
    /// PostgreSQL's default, `"$user", public`, for nobody.
    fn default() -> Self {
        SearchPath(vec!["public".to_string()].into())
    }
}

/// The identifiers of a list setting: `a, "B c", d` gives `a`, `B c`, `d`.
fn split_list(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            c if quoted => current.push(c),
            c if c.is_whitespace() => {}
            c => current.extend(c.to_lowercase()),
        }
    }
    parts.push(current);
    parts
}

impl Catalog {
    /// Looks up a stored schema by name.
    pub fn schema(reader: &dyn Reader, db: DatabaseId, name: &str) -> Result<Option<SchemaDef>> {
        reader
            .get(&Key::Schema(db, name.to_string()).encode())?
            .map(|bytes| SchemaDef::decode(name, &bytes))
            .transpose()
    }

    /// Every stored schema of a database, in name order.
    pub fn schemas(reader: &dyn Reader, db: DatabaseId) -> Result<Vec<SchemaDef>> {
        let mut schemas = Vec::new();
        for item in reader.scan(Key::all_schemas(db), Direction::Forward)? {
            let (key, bytes) = item?;
            if let Key::Schema(_, name) = Key::decode(&key)? {
                schemas.push(SchemaDef::decode(&name, &bytes)?);
            }
        }
        Ok(schemas)
    }

    /// Creates a schema, numbering it unless it has a number; 42P06 if the name is taken
    /// (also by a schema committed after this transaction's snapshot, or a system schema).
    pub fn create_schema<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        mut schema: SchemaDef,
    ) -> Result<SchemaDef> {
        let key = Key::Schema(db, schema.name.clone()).encode();
        let existing = txn
            .lock_for_insert(&key, WaitPolicy::Wait)?
            .and_then(|l| l.current);
        if existing.is_some()
            || txn.get(&key)?.is_some()
            || SYSTEM_SCHEMAS.iter().any(|(n, _)| *n == schema.name)
        {
            return Err(errinput!(
                DuplicateSchema,
                "schema \"{}\" already exists",
                schema.name
            ));
        }
        if schema.id == 0 {
            schema.id = Self::next_id(txn)?;
        }
        txn.put(&key, schema.encode())?;
        Ok(schema)
    }

    /// Stores a changed schema definition under `old`'s name or (renamed) a new one; 42P06
    /// if the new name is taken.
    pub fn update_schema<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        old: &str,
        schema: &SchemaDef,
    ) -> Result<()> {
        if schema.name != old {
            Self::create_schema(txn, db, schema.clone())?;
            txn.delete(&Key::Schema(db, old.to_string()).encode())?;
        } else {
            txn.put(&Key::Schema(db, old.to_string()).encode(), schema.encode())?;
        }
        Ok(())
    }

    /// Removes a schema's definition; the caller drops what is in it first.
    pub fn drop_schema<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        name: &str,
    ) -> Result<()> {
        txn.delete(&Key::Schema(db, name.to_string()).encode())?;
        Ok(())
    }

    /// Locks schema `ns` in `mode` until the transaction ends: KEY SHARE while creating a
    /// relation in it, UPDATE before dropping or renaming it. 3F000 if it is gone (dropped
    /// by a transaction this one waited for).
    pub fn lock_schema<E: Engine>(
        txn: &Transaction<E>,
        ns: Namespace,
        mode: LockMode,
    ) -> Result<SchemaDef> {
        let gone = |what: String| errinput!(InvalidSchemaName, "schema {what} does not exist");
        let schema = Self::schemas(txn, ns.db)?
            .into_iter()
            .find(|s| s.id == ns.schema)
            .ok_or_else(|| gone(format!("with OID {}", ns.schema)))?;
        let key = Key::Schema(ns.db, schema.name.clone()).encode();
        let lock = txn.lock_row(&key, mode, WaitPolicy::Wait)?;
        match lock.and_then(|l| l.current) {
            Some(bytes) if SchemaDef::decode(&schema.name, &bytes)?.id == schema.id => Ok(schema),
            _ => Err(gone(format!("\"{}\"", schema.name))),
        }
    }

    /// The names of the entries of one kind in a schema (`kind` is any key of that kind
    /// there, such as `Key::Table(ns, String::new())`), as the transaction's snapshot has
    /// them or, with `latest`, as of now (committed by anyone, or written by it).
    pub fn names_in<E: Engine>(
        txn: &Transaction<E>,
        kind: &Key,
        latest: bool,
    ) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let range = Key::in_schema(kind)?;
        let scan = match latest {
            true => txn.scan_latest(range, Direction::Forward)?,
            false => txn.scan(range, Direction::Forward)?,
        };
        for item in scan {
            let (key, _) = item?;
            match Key::decode(&key)? {
                Key::Table(_, n) | Key::View(_, n) | Key::Sequence(_, n) | Key::IndexName(_, n) => {
                    names.push(n)
                }
                other => return Err(errinternal!("{other:?} found among a schema's entries")),
            }
        }
        Ok(names)
    }

    /// Creates `public` in a new database, owned by the database's owner.
    pub(crate) fn create_public<E: Engine>(
        txn: &mut Transaction<E>,
        db: DatabaseId,
        owner: i64,
    ) -> Result<()> {
        let public = SchemaDef {
            id: PUBLIC,
            name: "public".into(),
            owner,
        };
        Self::create_schema(txn, db, public).map(|_| ())
    }
}

impl Namespace {
    /// `public` of database `db`.
    pub fn public(db: DatabaseId) -> Namespace {
        Namespace::new(db, PUBLIC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_path_setting_parses_like_postgresql() {
        let path = SearchPath::parse("\"$user\", public", "alice");
        assert_eq!(path.names(), ["alice", "public"]);
        let path = SearchPath::parse("App, \"My Schema\",public, app", "x");
        assert_eq!(path.names(), ["app", "My Schema", "public"]);
        assert_eq!(SearchPath::parse("", "x").names(), [] as [String; 0]);
        assert_eq!(
            SearchPath::parse("\"$user\"", "").names(),
            [] as [String; 0]
        );
    }

    #[test]
    fn schema_definitions_round_trip() {
        let schema = SchemaDef {
            id: 16_400,
            name: "app".into(),
            owner: 10,
        };
        assert_eq!(SchemaDef::decode("app", &schema.encode()).unwrap(), schema);
    }
}
