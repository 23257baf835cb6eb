//! Object identifiers: how the catalog's objects are numbered in the system catalogs, and
//! how a number or a name leads back to an object.
//!
//! PostgreSQL numbers every catalog row with an OID, and clients join the system catalogs on
//! them (`pg_class.oid = pg_index.indrelid`). ZizhuDB's catalog is keyed by name, so the
//! numbers come from the definitions:
//!
//! - a table, secondary index, view or sequence is numbered by its identifier, handed out
//!   from one counter starting at 16,384 (PostgreSQL's first user OID), so it keeps its number
//!   when renamed;
//! - a primary key is stored as the table's row order, not as an index of its own; its index
//!   row in `pg_class` is numbered [`PRIMARY_KEY_BASE`] plus the table's identifier;
//! - constraints are numbered per table, `(table << 11) | position`, the position counting
//!   the primary key, the unique indexes, the CHECK and then the FOREIGN KEY constraints, so
//!   a constraint keeps its number until an earlier one of its table is dropped. (PostgreSQL
//!   numbers constraints apart from relations too: OIDs are unique within one catalog.)
//! - roles and databases are numbered from the same counter as relations (the bootstrap
//!   superuser is 10 and `postgres` is 5, as in PostgreSQL);
//! - the system relations, schemas and types have fixed numbers.

use crate::catalog::{Snapshot, Table};
use crate::keys::TableId;

use super::relations::{self, RelationDef};

/// The bootstrap superuser, as in PostgreSQL.
pub const BOOTSTRAP_ROLE: i64 = crate::catalog::cluster::BOOTSTRAP_ROLE;
/// `pg_catalog`
pub const PG_CATALOG: i64 = 11;
/// `public`
pub const PUBLIC: i64 = 2200;
/// `information_schema`
pub const INFORMATION_SCHEMA: i64 = 13_000;
/// Access methods: `heap` for tables, `btree` for indexes.
pub const HEAP: i64 = 2;
/// See [`HEAP`].
pub const BTREE: i64 = 403;
/// The default collation.
pub const DEFAULT_COLLATION: i64 = 100;
/// The OID of a primary key's index row is this plus its table's identifier.
pub const PRIMARY_KEY_BASE: i64 = 0x4000_0000;
/// System relations are numbered from here, in [`relations::ALL`] order.
const FIRST_SYSTEM_RELATION: i64 = 12_000;

/// The OID of a system relation.
pub fn system_relation(def: &RelationDef) -> i64 {
    let position = relations::ALL
        .iter()
        .position(|d| std::ptr::eq(*d, def))
        .unwrap_or_default();
    FIRST_SYSTEM_RELATION + position as i64
}

/// The OID of a table's primary-key index.
pub fn primary_key(table: TableId) -> i64 {
    PRIMARY_KEY_BASE + table
}

/// The OID of the constraint at `position` of `table` (see the [module docs](self)).
pub fn constraint(table: TableId, position: usize) -> i64 {
    per_table(table, position)
}

/// The OID of the object at `position` (below 2,048, which covers PostgreSQL's 1,600 columns
/// and any sensible number of constraints) of `table`: unique per catalog for the first two
/// million table identifiers.
pub fn per_table(table: TableId, position: usize) -> i64 {
    (table << 11) | (position as i64 & 0x7FF)
}

/// The table a [`per_table`] OID belongs to.
pub fn table_of(oid: i64) -> TableId {
    oid >> 11
}

/// The OID of system schema `name` (`pg_catalog`, `information_schema`).
pub fn system_schema(name: &str) -> Option<i64> {
    crate::catalog::schema::SYSTEM_SCHEMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, oid)| *oid)
}

/// The OID of schema `name` as `snapshot` sees it: a system schema or a stored one.
pub fn schema(snapshot: &Snapshot, name: &str) -> Option<i64> {
    system_schema(name).or_else(|| {
        snapshot
            .schemas
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
    })
}

/// The name of schema `oid` as `snapshot` sees it.
pub fn schema_name(snapshot: &Snapshot, oid: i64) -> Option<String> {
    crate::catalog::schema::SYSTEM_SCHEMAS
        .iter()
        .find(|(_, o)| *o == oid)
        .map(|(n, _)| n.to_string())
        .or_else(|| {
            snapshot
                .schemas
                .iter()
                .find(|s| s.id == oid)
                .map(|s| s.name.clone())
        })
}

/// A relation, as `pg_class` lists it.
#[derive(Clone, Debug)]
pub enum Relation<'a> {
    /// A table.
    Table(&'a Table),
    /// A table's primary-key index.
    PrimaryKey(&'a Table),
    /// A secondary index (the table, the index's position in it).
    Index(&'a Table, usize),
    /// A view.
    View(&'a crate::catalog::View),
    /// A sequence.
    Sequence(&'a crate::sequence::Sequence),
    /// A system relation.
    System(&'static RelationDef),
}

impl Relation<'_> {
    /// Its OID.
    pub fn oid(&self) -> i64 {
        match self {
            Relation::Table(t) => t.id,
            Relation::PrimaryKey(t) => primary_key(t.id),
            Relation::Index(t, i) => t.indexes[*i].id,
            Relation::View(v) => v.id,
            Relation::Sequence(s) => s.id,
            Relation::System(def) => system_relation(def),
        }
    }

    /// Its name.
    pub fn name(&self) -> String {
        match self {
            Relation::Table(t) => t.name.clone(),
            Relation::PrimaryKey(t) => primary_key_name(t),
            Relation::Index(t, i) => t.indexes[*i].name.clone(),
            Relation::View(v) => v.name.clone(),
            Relation::Sequence(s) => s.name.clone(),
            Relation::System(def) => def.name.to_string(),
        }
    }

    /// Whether it is named `name` (without building its name).
    pub fn has_name(&self, name: &str) -> bool {
        match self {
            Relation::Table(t) => t.name == name,
            Relation::PrimaryKey(t) => name.strip_suffix("_pkey") == Some(t.name.as_str()),
            Relation::Index(t, i) => t.indexes[*i].name == name,
            Relation::View(v) => v.name == name,
            Relation::Sequence(s) => s.name == name,
            Relation::System(def) => def.name == name,
        }
    }

    /// Its schema's OID.
    pub fn schema(&self) -> i64 {
        match self {
            Relation::Table(t) | Relation::PrimaryKey(t) | Relation::Index(t, _) => t.schema,
            Relation::View(v) => v.schema,
            Relation::Sequence(s) => s.schema,
            Relation::System(def) => def.schema_oid(),
        }
    }
}

/// The name of a table's primary key (and of its index), as PostgreSQL names it.
pub fn primary_key_name(table: &Table) -> String {
    format!("{}_pkey", table.name)
}

/// Every relation of a snapshot and the system relations, in OID order within each kind.
pub fn relations(snapshot: &Snapshot) -> Vec<Relation<'_>> {
    let mut all = Vec::new();
    for table in &snapshot.tables {
        all.push(Relation::Table(table));
        if !table.primary_key.is_empty() {
            all.push(Relation::PrimaryKey(table));
        }
        for i in 0..table.indexes.len() {
            all.push(Relation::Index(table, i));
        }
    }
    all.extend(snapshot.views.iter().map(Relation::View));
    all.extend(snapshot.sequences.iter().map(Relation::Sequence));
    all.extend(relations::ALL.iter().map(|d| Relation::System(d)));
    all
}

/// The relation numbered `oid`.
pub fn relation_by_oid(snapshot: &Snapshot, oid: i64) -> Option<Relation<'_>> {
    relations(snapshot).into_iter().find(|r| r.oid() == oid)
}

/// The relation named `name`: qualified with a schema, or unqualified and found in
/// `pg_catalog` and then the search path's schemas ([`Snapshot::path`]), as PostgreSQL finds
/// it.
pub fn relation_by_name<'a>(snapshot: &'a Snapshot, name: &str) -> Option<Relation<'a>> {
    let (schema, name) = split_qualified(name);
    let schema = match schema {
        Some(s) => Some(self::schema(snapshot, &s)?),
        None => None,
    };
    let all = relations(snapshot);
    let in_schema = |oid: i64| {
        all.iter()
            .find(|r| r.schema() == oid && r.has_name(&name))
            .cloned()
    };
    match schema {
        Some(oid) => in_schema(oid),
        None => std::iter::once(PG_CATALOG)
            .chain(snapshot.path.iter().copied())
            .find_map(in_schema),
    }
}

/// Whether `relation` is visible: its unqualified name finds it (PostgreSQL's
/// `pg_table_is_visible`).
pub fn is_visible(snapshot: &Snapshot, relation: &Relation<'_>) -> bool {
    relation_by_name(snapshot, &quote_ident(&relation.name()))
        .is_some_and(|found| found.oid() == relation.oid())
}

/// A column default as the catalogs print it: a SERIAL default's qualified sequence name
/// (`nextval('public.t_id_seq'::regclass)`, as stored) is printed bare when the search path
/// finds that sequence, as PostgreSQL's `regclass` output does.
pub fn display_default(snapshot: &Snapshot, text: &str) -> String {
    let inner = text
        .strip_prefix("nextval('")
        .and_then(|t| t.strip_suffix("'::regclass)"));
    if let Some(inner) = inner {
        let (schema, name) = split_qualified(inner);
        let stored = schema.and_then(|s| self::schema(snapshot, &s));
        let found = relation_by_name(snapshot, &quote_ident(&name));
        if let (Some(schema), Some(Relation::Sequence(seq))) = (stored, found) {
            if seq.schema == schema {
                return format!("nextval('{}'::regclass)", quote_ident(&name));
            }
        }
    }
    text.to_string()
}

/// Splits `schema.name` (with PostgreSQL's identifier rules: unquoted parts fold to lower
/// case, `"..."` keeps case and may contain dots).
pub fn split_qualified(text: &str) -> (Option<String>, String) {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.trim().chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            c if quoted => current.push(c),
            c => current.extend(c.to_lowercase()),
        }
    }
    parts.push(current);
    match <[String; 2]>::try_from(parts) {
        Ok([schema, name]) => (Some(schema), name),
        Err(mut parts) => (None, parts.pop().unwrap_or_default()),
    }
}

/// A name as `quote_ident` writes it: bare if it is a lower-case identifier, else quoted.
pub fn quote_ident(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !is_reserved(name);
    if bare {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Whether `word` is a reserved keyword that must be quoted as an identifier.
fn is_reserved(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_split_with_identifier_rules() {
        assert_eq!(split_qualified("Accounts"), (None, "accounts".into()));
        assert_eq!(
            split_qualified("pg_catalog.pg_class"),
            (Some("pg_catalog".into()), "pg_class".into())
        );
        assert_eq!(
            split_qualified("public.\"Mixed.Case\""),
            (Some("public".into()), "Mixed.Case".into())
        );
    }

    #[test]
    fn quote_ident_quotes_what_postgresql_quotes() {
        assert_eq!(quote_ident("accounts"), "accounts");
        assert_eq!(quote_ident("Accounts"), "\"Accounts\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1a"), "\"1a\"");
    }
}
