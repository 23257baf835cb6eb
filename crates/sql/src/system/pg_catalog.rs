//! The rows of `pg_catalog`'s relations, computed from a catalog [`Snapshot`] when a
//! statement reads them, so they are exactly as transactional as the catalog: a session sees
//! its own uncommitted DDL and nobody else's.
//!
//! What ZizhuDB does not have yet (row-level security policies, triggers, partitions,
//! publications, extended statistics, comments) has its relation, so that clients' queries
//! bind, and no rows.

use zizhu_types::Value;

use super::oids::{self, Relation};
use super::relations::{self as r, RelationDef};
use super::Identity;
use crate::catalog::{FkAction, Snapshot, Table};
use crate::types::pg_type::{self, TYPES};
use crate::types::DataType;
use crate::Result;

fn oid(v: i64) -> Value {
    Value::Int64(v)
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn bool(b: bool) -> Value {
    Value::Bool(b)
}

fn char(c: char) -> Value {
    Value::Text(c.to_string())
}

fn int2(i: usize) -> Value {
    Value::Int16(i as i16)
}

const NULL: Value = Value::Null;

/// A text array value of `items`.
fn array<T: ToString>(items: impl IntoIterator<Item = T>, element: &DataType) -> Value {
    let values: Vec<Value> = items
        .into_iter()
        .map(|i| match element {
            DataType::Text => Value::Text(i.to_string()),
            _ => crate::types::parse_text(&i.to_string(), element).unwrap_or(Value::Null),
        })
        .collect();
    Value::Text(crate::types::array::format(&values))
}

/// A 1-based column number list (`smallint[]`).
fn attnums(positions: impl IntoIterator<Item = usize>) -> Value {
    array(positions.into_iter().map(|p| p + 1), &DataType::Int16)
}

/// A vector (`int2vector`, `oidvector`) of integers.
fn vector(items: impl IntoIterator<Item = i64>) -> Value {
    let values: Vec<Value> = items.into_iter().map(Value::Int64).collect();
    Value::Text(crate::types::array::format_vector(&values))
}

/// A constraint of a table, in the order that numbers them ([`oids::constraint`]).
#[derive(Clone, Copy, Debug)]
pub enum Constraint<'a> {
    /// The primary key.
    PrimaryKey,
    /// A CHECK constraint.
    Check(&'a crate::catalog::Check),
    /// A FOREIGN KEY constraint.
    Foreign(&'a crate::catalog::ForeignKey),
}

/// A table's constraints with their OIDs and names.
pub fn constraints(table: &Table) -> Vec<(i64, String, Constraint<'_>)> {
    let mut all = Vec::new();
    if !table.primary_key.is_empty() {
        all.push((oids::primary_key_name(table), Constraint::PrimaryKey));
    }
    all.extend(
        table
            .checks
            .iter()
            .map(|c| (c.name.clone(), Constraint::Check(c))),
    );
    all.extend(
        table
            .foreign_keys
            .iter()
            .map(|f| (f.name.clone(), Constraint::Foreign(f))),
    );
    all.into_iter()
        .enumerate()
        .map(|(i, (name, c))| (oids::constraint(table.id, i), name, c))
        .collect()
}

/// `pg_get_constraintdef`: the constraint's definition as SQL.
pub fn constraint_def(snapshot: &Snapshot, table: &Table, constraint: Constraint<'_>) -> String {
    let names = |positions: &[usize]| {
        positions
            .iter()
            .map(|&p| oids::quote_ident(&table.columns[p].name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let quoted = |list: &[String]| {
        list.iter()
            .map(|n| oids::quote_ident(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match constraint {
        Constraint::PrimaryKey => format!("PRIMARY KEY ({})", names(&table.primary_key)),
        Constraint::Check(c) => format!("CHECK ({})", c.expr),
        Constraint::Foreign(fk) => {
            // The parent as `regclass` prints it: qualified unless the search path finds it.
            let parent = snapshot
                .tables
                .iter()
                .find(|t| t.name == fk.parent && t.schema == fk.parent_schema);
            let parent = match parent {
                Some(t) if !oids::is_visible(snapshot, &Relation::Table(t)) => format!(
                    "{}.{}",
                    oids::quote_ident(&oids::schema_name(snapshot, t.schema).unwrap_or_default()),
                    oids::quote_ident(&t.name)
                ),
                _ => oids::quote_ident(&fk.parent),
            };
            let mut def = format!(
                "FOREIGN KEY ({}) REFERENCES {parent}({})",
                quoted(&fk.columns),
                quoted(&fk.parent_columns)
            );
            if fk.on_update != FkAction::NoAction {
                def.push_str(&format!(" ON UPDATE {}", fk.on_update.sql()));
            }
            if fk.on_delete != FkAction::NoAction {
                def.push_str(&format!(" ON DELETE {}", fk.on_delete.sql()));
            }
            def
        }
    }
}

/// `pg_get_indexdef`: the CREATE INDEX statement of a primary key or secondary index; the
/// table is schema-qualified unless `pretty` (where PostgreSQL leaves out a visible schema).
pub fn index_def(relation: &Relation<'_>, pretty: bool) -> Option<String> {
    let (table, name, unique, columns) = match relation {
        Relation::PrimaryKey(t) => (*t, oids::primary_key_name(t), true, &t.primary_key),
        Relation::Index(t, i) => {
            let index = &t.indexes[*i];
            (*t, index.name.clone(), index.unique, &index.columns)
        }
        _ => return None,
    };
    let columns: Vec<String> = columns
        .iter()
        .map(|&c| oids::quote_ident(&table.columns[c].name))
        .collect();
    Some(format!(
        "CREATE {}INDEX {} ON {}{} USING btree ({})",
        if unique { "UNIQUE " } else { "" },
        oids::quote_ident(&name),
        if pretty { "" } else { "public." },
        oids::quote_ident(&table.name),
        columns.join(", ")
    ))
}

/// `pg_stats`: a row per analyzed column of each table, as PostgreSQL shows `pg_statistic`.
fn stats_rows(snapshot: &Snapshot, rows: &mut Vec<Vec<Value>>) {
    let array = |values: &mut dyn Iterator<Item = Value>| {
        let values: Vec<Value> = values.collect();
        match values.is_empty() {
            true => NULL,
            false => text(crate::types::array::format(&values)),
        }
    };
    for table in &snapshot.tables {
        let Some(stats) = &table.stats else { continue };
        let schema = oids::schema_name(snapshot, table.schema).unwrap_or_default();
        for column in &table.columns {
            let Some(c) = stats.column(&column.name) else {
                continue;
            };
            // Like PostgreSQL, a count that grows with the table is shown as a negative
            // fraction of its rows.
            let rows_total = stats.rows as f64;
            let n_distinct = if rows_total > 0.0 && c.distinct > 0.1 * rows_total {
                -(c.distinct / rows_total)
            } else {
                c.distinct
            };
            rows.push(vec![
                text(schema.clone()),
                text(table.name.clone()),
                text(column.name.clone()),
                bool(false),
                Value::Float32(c.null_fraction as f32),
                Value::Int32(c.width as i32),
                Value::Float32(n_distinct as f32),
                array(&mut c.most_common.iter().map(|(v, _)| v.clone())),
                array(&mut c.most_common.iter().map(|(_, f)| Value::Float32(*f as f32))),
                array(&mut c.histogram.iter().cloned()),
                c.correlation.map_or(NULL, |r| Value::Float32(r as f32)),
                NULL,
                NULL,
                NULL,
            ]);
        }
    }
}

/// The data type of a sequence, from its bound (sequences store no type of their own).
pub fn sequence_type(seq: &crate::sequence::Sequence) -> DataType {
    let bound = seq.max.max(-seq.min.saturating_add(1));
    if bound <= i16::MAX as i64 && seq.min >= i16::MIN as i64 {
        DataType::Int16
    } else if bound <= i32::MAX as i64 && seq.min >= i32::MIN as i64 {
        DataType::Int32
    } else {
        DataType::Int64
    }
}

/// The column a sequence is the default of (a SERIAL or identity column): its table and
/// 1-based column number.
pub fn sequence_owner<'a>(
    snapshot: &'a Snapshot,
    seq: &crate::sequence::Sequence,
) -> Option<(&'a Table, usize)> {
    let table = snapshot
        .tables
        .iter()
        .find(|t| t.schema == seq.schema && seq.owned_by.as_deref() == Some(t.name.as_str()))?;
    // The default names the sequence bare (in `public`) or qualified.
    let bare = oids::quote_ident(&seq.name);
    let position = table.columns.iter().position(|c| {
        c.default
            .as_deref()
            .and_then(|d| d.strip_prefix("nextval('"))
            .and_then(|d| d.split_once("'::regclass)"))
            .is_some_and(|(name, _)| name == bare || name.ends_with(&format!(".{bare}")))
    })?;
    Some((table, position + 1))
}

/// The rows of `pg_catalog` relation `def`.
pub fn rows(
    def: &RelationDef,
    snapshot: &Snapshot,
    who: &Identity,
    settings: &crate::settings::Settings,
) -> Result<Vec<Vec<Value>>> {
    // Relations have no owner of their own yet: they show their database's.
    let owner_oid = snapshot
        .databases
        .iter()
        .find(|d| d.id == who.database_id)
        .map_or(oids::BOOTSTRAP_ROLE, |d| d.owner);
    let owner = oid(owner_oid);
    let owner_name = snapshot
        .role_name(owner_oid)
        .unwrap_or_default()
        .to_string();
    let pg_class_oid = oid(oids::system_relation(&r::PG_CLASS));
    let mut rows = Vec::new();
    match def.name {
        "pg_namespace" => {
            for (name, id) in crate::catalog::schema::SYSTEM_SCHEMAS {
                rows.push(vec![oid(id), text(name), owner.clone(), NULL]);
            }
            for schema in &snapshot.schemas {
                rows.push(vec![
                    oid(schema.id),
                    text(schema.name.clone()),
                    oid(schema.owner),
                    NULL,
                ]);
            }
        }
        "pg_class" => {
            // Foreign keys are triggers in PostgreSQL, and psql looks for them only on tables
            // with triggers.
            let referenced: std::collections::HashSet<(i64, &str)> = snapshot
                .tables
                .iter()
                .flat_map(|t| {
                    t.foreign_keys
                        .iter()
                        .map(|fk| (fk.parent_schema, fk.parent.as_str()))
                })
                .collect();
            for rel in oids::relations(snapshot) {
                let triggers = match &rel {
                    Relation::Table(t) => {
                        !t.foreign_keys.is_empty()
                            || referenced.contains(&(t.schema, t.name.as_str()))
                    }
                    _ => false,
                };
                rows.push(class_row(&rel, &owner, triggers));
            }
        }
        "pg_attribute" => {
            for rel in oids::relations(snapshot) {
                attribute_rows(&rel, &mut rows);
            }
        }
        "pg_attrdef" => {
            for table in &snapshot.tables {
                for (i, column) in table.columns.iter().enumerate() {
                    if let Some(default) = &column.default {
                        rows.push(vec![
                            oid(oids::per_table(table.id, i + 1)),
                            oid(table.id),
                            int2(i + 1),
                            text(oids::display_default(snapshot, default)),
                        ]);
                    }
                }
            }
        }
        "pg_index" => {
            for rel in oids::relations(snapshot) {
                let (table, unique, primary, columns) = match &rel {
                    Relation::PrimaryKey(t) => (*t, true, true, &t.primary_key),
                    Relation::Index(t, i) => {
                        (*t, t.indexes[*i].unique, false, &t.indexes[*i].columns)
                    }
                    _ => continue,
                };
                let n = columns.len();
                rows.push(vec![
                    oid(rel.oid()),
                    oid(table.id),
                    int2(n),
                    int2(n),
                    bool(unique),
                    bool(false),
                    bool(primary),
                    bool(false),
                    bool(true),
                    bool(false),
                    bool(true),
                    bool(false),
                    bool(true),
                    bool(true),
                    bool(false),
                    vector(columns.iter().map(|&c| c as i64 + 1)),
                    vector(columns.iter().map(|_| 0)),
                    vector(columns.iter().map(|_| 0)),
                    vector(columns.iter().map(|_| 0)),
                    NULL,
                    NULL,
                ]);
            }
        }
        "pg_constraint" => {
            for table in &snapshot.tables {
                for (id, name, c) in constraints(table) {
                    rows.push(constraint_row(snapshot, table, id, name, c));
                }
            }
        }
        "pg_type" => {
            for t in TYPES {
                let fixed = matches!(t.len, 1 | 2 | 4 | 8) && t.name != "name";
                rows.push(vec![
                    oid(t.oid as i64),
                    text(t.name),
                    oid(oids::PG_CATALOG),
                    owner.clone(),
                    Value::Int16(t.len),
                    bool(fixed),
                    char(if t.oid == 705 { 'p' } else { 'b' }),
                    char(t.category),
                    bool(matches!(
                        t.name,
                        "bool" | "float8" | "text" | "oid" | "timestamptz" | "interval"
                    )),
                    bool(true),
                    char(','),
                    oid(0),
                    oid(0),
                    oid(t.element as i64),
                    oid(t.array as i64),
                    oid(0),
                    oid(0),
                    oid(0),
                    oid(0),
                    oid(0),
                    oid(0),
                    oid(0),
                    char(match t.len {
                        1 => 'c',
                        2 => 's',
                        8 => 'd',
                        _ => 'i',
                    }),
                    char(if t.len < 0 { 'x' } else { 'p' }),
                    bool(false),
                    oid(0),
                    Value::Int32(-1),
                    Value::Int32(0),
                    oid(if t.category == 'S' {
                        oids::DEFAULT_COLLATION
                    } else {
                        0
                    }),
                    NULL,
                    NULL,
                    NULL,
                ]);
            }
        }
        "pg_database" => {
            for d in &snapshot.databases {
                rows.push(vec![
                    oid(d.id),
                    text(d.name.clone()),
                    oid(d.owner),
                    Value::Int32(6),
                    char('c'),
                    bool(false),
                    bool(d.allow_connections),
                    Value::Int32(-1),
                    Value::Int64(0),
                    Value::Int64(1),
                    oid(1663),
                    text("C.UTF-8"),
                    text("C.UTF-8"),
                    NULL,
                    NULL,
                    NULL,
                ]);
            }
        }
        "pg_authid" | "pg_roles" | "pg_user" => {
            // Verifiers are for superusers' eyes only (PostgreSQL refuses pg_authid to others).
            let superuser = who.local
                || snapshot
                    .roles
                    .iter()
                    .any(|r| r.oid == who.user_oid && r.superuser);
            for role in &snapshot.roles {
                let until = role
                    .valid_until
                    .map_or(NULL, |t| Value::TimestampTz(zizhu_types::Timestamp(t)));
                let masked = || text("********");
                rows.push(match def.name {
                    "pg_authid" => vec![
                        oid(role.oid),
                        text(role.name.clone()),
                        bool(role.superuser),
                        bool(role.inherit),
                        bool(role.create_role),
                        bool(role.create_db),
                        bool(role.login),
                        bool(role.replication),
                        bool(role.bypass_rls),
                        Value::Int32(role.connection_limit),
                        match &role.password {
                            Some(v) if superuser => text(v.to_string()),
                            _ => NULL,
                        },
                        until,
                    ],
                    "pg_roles" => vec![
                        text(role.name.clone()),
                        bool(role.superuser),
                        bool(role.inherit),
                        bool(role.create_role),
                        bool(role.create_db),
                        bool(role.login),
                        bool(role.replication),
                        Value::Int32(role.connection_limit),
                        masked(),
                        until,
                        bool(role.bypass_rls),
                        NULL,
                        oid(role.oid),
                    ],
                    _ if !role.login => continue,
                    _ => vec![
                        text(role.name.clone()),
                        oid(role.oid),
                        bool(role.create_db),
                        bool(role.superuser),
                        bool(role.replication),
                        bool(role.bypass_rls),
                        masked(),
                        until,
                        NULL,
                    ],
                });
            }
        }
        "pg_description" => {
            for (id, column, comment) in &snapshot.comments {
                let position = if column.is_empty() {
                    Some(0)
                } else {
                    match oids::relation_by_oid(snapshot, *id) {
                        Some(oids::Relation::Table(t)) => t.column_index(column).map(|i| i + 1),
                        Some(oids::Relation::View(v)) => v
                            .output
                            .iter()
                            .position(|(c, _)| c == column)
                            .map(|i| i + 1),
                        _ => None,
                    }
                };
                if let Some(position) = position {
                    rows.push(vec![
                        oid(*id),
                        pg_class_oid.clone(),
                        Value::Int32(position as i32),
                        text(comment.clone()),
                    ]);
                }
            }
        }
        "pg_am" => {
            rows.push(vec![oid(oids::HEAP), text("heap"), oid(0), char('t')]);
            rows.push(vec![oid(oids::BTREE), text("btree"), oid(0), char('i')]);
        }
        "pg_sequence" => {
            for seq in &snapshot.sequences {
                rows.push(vec![
                    oid(seq.id),
                    oid(sequence_type(seq).oid() as i64),
                    Value::Int64(seq.start),
                    Value::Int64(seq.increment),
                    Value::Int64(seq.max),
                    Value::Int64(seq.min),
                    Value::Int64(1),
                    bool(seq.cycle),
                ]);
            }
        }
        "pg_depend" => {
            for seq in &snapshot.sequences {
                if let Some((table, attnum)) = sequence_owner(snapshot, seq) {
                    let identity = table.columns[attnum - 1].generated_always;
                    rows.push(vec![
                        pg_class_oid.clone(),
                        oid(seq.id),
                        Value::Int32(0),
                        pg_class_oid.clone(),
                        oid(table.id),
                        Value::Int32(attnum as i32),
                        char(if identity { 'i' } else { 'a' }),
                    ]);
                }
            }
        }
        "pg_collation" => {
            for (id, name, provider, collate) in [
                (oids::DEFAULT_COLLATION, "default", 'd', None),
                (950, "C", 'c', Some("C")),
                (951, "POSIX", 'c', Some("POSIX")),
            ] {
                let collate = collate.map_or(NULL, text);
                rows.push(vec![
                    oid(id),
                    text(name),
                    oid(oids::PG_CATALOG),
                    owner.clone(),
                    char(provider),
                    bool(true),
                    Value::Int32(-1),
                    collate.clone(),
                    collate,
                ]);
            }
        }
        "pg_tablespace" => {
            for (id, name) in [(1663, "pg_default"), (1664, "pg_global")] {
                rows.push(vec![oid(id), text(name), owner.clone(), NULL, NULL]);
            }
        }
        "pg_tables" => {
            for rel in oids::relations(snapshot) {
                let has_indexes = match &rel {
                    Relation::Table(t) => !t.primary_key.is_empty() || !t.indexes.is_empty(),
                    Relation::System(d) if d.kind == 'r' => false,
                    _ => continue,
                };
                rows.push(vec![
                    text(oids::schema_name(snapshot, rel.schema()).unwrap_or_default()),
                    text(rel.name()),
                    text(owner_name.clone()),
                    NULL,
                    bool(has_indexes),
                    bool(false),
                    bool(false),
                    bool(false),
                ]);
            }
        }
        "pg_views" => {
            for view in &snapshot.views {
                rows.push(vec![
                    text(oids::schema_name(snapshot, view.schema).unwrap_or_default()),
                    text(view.name.clone()),
                    text(owner_name.clone()),
                    text(format!(" {};", view.query)),
                ]);
            }
        }
        "pg_indexes" => {
            for rel in oids::relations(snapshot) {
                let table = match &rel {
                    Relation::PrimaryKey(t) | Relation::Index(t, _) => *t,
                    _ => continue,
                };
                rows.push(vec![
                    text(oids::schema_name(snapshot, table.schema).unwrap_or_default()),
                    text(table.name.clone()),
                    text(rel.name()),
                    NULL,
                    index_def(&rel, false).map_or(NULL, text),
                ]);
            }
        }
        "pg_sequences" => {
            for seq in &snapshot.sequences {
                rows.push(vec![
                    text(oids::schema_name(snapshot, seq.schema).unwrap_or_default()),
                    text(seq.name.clone()),
                    text(owner_name.clone()),
                    oid(sequence_type(seq).oid() as i64),
                    Value::Int64(seq.start),
                    Value::Int64(seq.min),
                    Value::Int64(seq.max),
                    Value::Int64(seq.increment),
                    bool(seq.cycle),
                    Value::Int64(1),
                    NULL,
                ]);
            }
        }
        "pg_settings" => {
            for (name, value, description, settable, vartype) in settings.catalog() {
                rows.push(vec![
                    text(name),
                    text(value.clone()),
                    NULL,
                    text("Client Connection Defaults"),
                    text(description),
                    NULL,
                    text(if settable { "user" } else { "internal" }),
                    text(vartype),
                    text("default"),
                    NULL,
                    NULL,
                    NULL,
                    text(value.clone()),
                    text(value),
                    NULL,
                    NULL,
                    bool(false),
                ]);
            }
        }
        "pg_stats" => stats_rows(snapshot, &mut rows),
        // Relations of features ZizhuDB does not have yet: no rows.
        _ => {}
    }
    Ok(rows)
}

fn class_row(rel: &Relation<'_>, owner: &Value, triggers: bool) -> Vec<Value> {
    let (kind, am, natts, has_index, checks) = match rel {
        Relation::Table(t) => (
            'r',
            oids::HEAP,
            t.columns.len(),
            !t.primary_key.is_empty() || !t.indexes.is_empty(),
            t.checks.len(),
        ),
        Relation::PrimaryKey(t) => ('i', oids::BTREE, t.primary_key.len(), false, 0),
        Relation::Index(t, i) => ('i', oids::BTREE, t.indexes[*i].columns.len(), false, 0),
        Relation::View(v) => ('v', 0, v.output.len(), false, 0),
        Relation::Sequence(_) => ('S', 0, 3, false, 0),
        Relation::System(d) => (
            d.kind,
            if d.kind == 'r' { oids::HEAP } else { 0 },
            d.columns.len(),
            false,
            0,
        ),
    };
    vec![
        oid(rel.oid()),
        text(rel.name()),
        oid(rel.schema()),
        oid(0),
        oid(0),
        owner.clone(),
        oid(am),
        oid(rel.oid()),
        oid(0),
        Value::Int32(0),
        // -1 until ANALYZE counts the rows, as in PostgreSQL.
        Value::Float32(match rel {
            Relation::Table(t) => t.stats.as_ref().map_or(-1.0, |s| s.rows as f32),
            _ => -1.0,
        }),
        Value::Int32(0),
        oid(0),
        bool(has_index),
        bool(false),
        char('p'),
        char(kind),
        int2(natts),
        int2(checks),
        bool(false),
        bool(triggers),
        bool(false),
        bool(false),
        bool(false),
        bool(true),
        char(if kind == 'r' { 'd' } else { 'n' }),
        bool(false),
        oid(0),
        Value::Int64(0),
        Value::Int64(0),
        NULL,
        NULL,
        NULL,
    ]
}

/// A column as `pg_attribute` describes it.
struct Attr<'a> {
    name: &'a str,
    ty: &'a DataType,
    type_oid: u32,
    not_null: bool,
    has_default: bool,
    identity: bool,
}

impl<'a> Attr<'a> {
    /// A column of `ty` with no constraint or default.
    fn plain(name: &'a str, ty: &'a DataType, type_oid: u32) -> Self {
        Attr {
            name,
            ty,
            type_oid,
            not_null: false,
            has_default: false,
            identity: false,
        }
    }
}

/// One `pg_attribute` row.
fn attribute(relation: i64, attnum: usize, a: Attr<'_>) -> Vec<Value> {
    let Attr {
        name,
        ty,
        type_oid,
        not_null,
        has_default,
        identity,
    } = a;
    let len = pg_type::info(type_oid).map_or(-1, |t| t.len);
    vec![
        oid(relation),
        text(name),
        oid(type_oid as i64),
        Value::Int32(-1),
        Value::Int16(len),
        int2(attnum),
        Value::Int32(i32::from(matches!(
            ty,
            DataType::Array(_) | DataType::Vector(_)
        ))),
        Value::Int32(-1),
        Value::Int32(ty.type_modifier()),
        bool(matches!(len, 1 | 2 | 4 | 8)),
        char(match len {
            1 => 'c',
            2 => 's',
            8 => 'd',
            _ => 'i',
        }),
        char(if len < 0 { 'x' } else { 'p' }),
        text(""),
        bool(not_null),
        bool(has_default),
        bool(false),
        text(if identity { "a" } else { "" }),
        text(""),
        bool(false),
        bool(true),
        Value::Int32(0),
        oid(if ty.is_string() {
            oids::DEFAULT_COLLATION
        } else {
            0
        }),
        NULL,
        NULL,
        NULL,
        NULL,
    ]
}

fn attribute_rows(rel: &Relation<'_>, rows: &mut Vec<Vec<Value>>) {
    let id = rel.oid();
    match rel {
        Relation::Table(t) => {
            for (i, c) in t.columns.iter().enumerate() {
                rows.push(attribute(
                    id,
                    i + 1,
                    Attr {
                        not_null: !c.nullable,
                        has_default: c.default.is_some(),
                        identity: c.generated_always,
                        ..Attr::plain(&c.name, &c.data_type, c.data_type.oid())
                    },
                ));
            }
        }
        Relation::PrimaryKey(t) | Relation::Index(t, _) => {
            let columns = match rel {
                Relation::Index(_, i) => &t.indexes[*i].columns,
                _ => &t.primary_key,
            };
            for (i, &p) in columns.iter().enumerate() {
                let c = &t.columns[p];
                let plain = Attr::plain(&c.name, &c.data_type, c.data_type.oid());
                rows.push(attribute(id, i + 1, plain));
            }
        }
        Relation::View(v) => {
            for (i, (name, ty)) in v.output.iter().enumerate() {
                let ty = match ty {
                    DataType::Unknown => DataType::Text,
                    ty => ty.clone(),
                };
                let name = v.columns.get(i).unwrap_or(name);
                rows.push(attribute(id, i + 1, Attr::plain(name, &ty, ty.oid())));
            }
        }
        Relation::Sequence(_) => {
            for (i, (name, ty)) in [
                ("last_value", DataType::Int64),
                ("log_cnt", DataType::Int64),
                ("is_called", DataType::Bool),
            ]
            .iter()
            .enumerate()
            {
                rows.push(attribute(
                    id,
                    i + 1,
                    Attr {
                        not_null: true,
                        ..Attr::plain(name, ty, ty.oid())
                    },
                ));
            }
        }
        Relation::System(d) => {
            for (i, (name, ty)) in d.columns.iter().enumerate() {
                let data_type = ty.data_type();
                let plain = Attr::plain(name, &data_type, ty.type_oid());
                rows.push(attribute(id, i + 1, plain));
            }
        }
    }
}

fn fk_action(action: FkAction) -> Value {
    char(match action {
        FkAction::NoAction => 'a',
        FkAction::Restrict => 'r',
        FkAction::Cascade => 'c',
        FkAction::SetNull => 'n',
        FkAction::SetDefault => 'd',
    })
}

fn constraint_row(
    snapshot: &Snapshot,
    table: &Table,
    id: i64,
    name: String,
    c: Constraint<'_>,
) -> Vec<Value> {
    let positions = |names: &[String], t: &Table| -> Vec<usize> {
        names.iter().filter_map(|n| t.column_index(n)).collect()
    };
    let (kind, index, parent, key, parent_key, update, delete) = match c {
        Constraint::PrimaryKey => (
            'p',
            oids::primary_key(table.id),
            0,
            attnums(table.primary_key.iter().copied()),
            NULL,
            char(' '),
            char(' '),
        ),
        Constraint::Check(check) => (
            'c',
            0,
            0,
            attnums(positions(&check.columns, table)),
            NULL,
            char(' '),
            char(' '),
        ),
        Constraint::Foreign(fk) => {
            let parent = snapshot
                .tables
                .iter()
                .find(|t| t.name == fk.parent && t.schema == fk.parent_schema);
            let (parent_id, parent_key, index) = match parent {
                Some(p) => {
                    let cols = positions(&fk.parent_columns, p);
                    // The parent's primary key or unique index the key references.
                    let index = if cols == p.primary_key {
                        oids::primary_key(p.id)
                    } else {
                        p.indexes
                            .iter()
                            .find(|i| i.unique && i.columns == cols)
                            .map_or(0, |i| i.id)
                    };
                    (p.id, attnums(cols), index)
                }
                None => (0, NULL, 0),
            };
            (
                'f',
                index,
                parent_id,
                attnums(positions(&fk.columns, table)),
                parent_key,
                fk_action(fk.on_update),
                fk_action(fk.on_delete),
            )
        }
    };
    vec![
        oid(id),
        text(name),
        oid(table.schema),
        char(kind),
        bool(false),
        bool(false),
        bool(true),
        oid(table.id),
        oid(0),
        oid(index),
        oid(0),
        oid(parent),
        update,
        delete,
        char(if kind == 'f' { 's' } else { ' ' }),
        bool(true),
        Value::Int32(0),
        bool(false),
        key,
        parent_key,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        match c {
            Constraint::Check(check) => text(check.expr.clone()),
            _ => NULL,
        },
    ]
}
