//! The rows of `information_schema`'s views (the SQL standard's catalog), computed from a
//! catalog [`Snapshot`] as `pg_catalog`'s are ([`super::pg_catalog`]).

use zizhu_types::Value;

use super::pg_catalog::{constraints, Constraint};
use super::relations::RelationDef;
use super::Identity;
use crate::catalog::Snapshot;
use crate::types::DataType;
use crate::Result;

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

fn int(i: impl TryInto<i32>) -> Value {
    i.try_into().map_or(Value::Null, Value::Int32)
}

/// The standard's name for a type (`information_schema.columns.data_type`).
fn standard_name(ty: &DataType) -> String {
    match ty {
        DataType::Varchar(_) => "character varying".into(),
        DataType::Char(_) => "character".into(),
        DataType::Numeric(_) => "numeric".into(),
        DataType::Array(_) => "ARRAY".into(),
        ty => ty.to_string(),
    }
}

/// The rows of `information_schema` view `def`.
pub fn rows(def: &RelationDef, snapshot: &Snapshot, who: &Identity) -> Result<Vec<Vec<Value>>> {
    let db = || text(who.database.clone());
    let schema = |id: i64| text(super::oids::schema_name(snapshot, id).unwrap_or_default());
    let mut rows = Vec::new();
    match def.name {
        "schemata" => {
            let owner = snapshot
                .databases
                .iter()
                .find(|d| d.id == who.database_id)
                .and_then(|d| snapshot.role_name(d.owner))
                .unwrap_or_default()
                .to_string();
            let mut schemas: Vec<(String, String)> = crate::catalog::schema::SYSTEM_SCHEMAS
                .iter()
                .map(|(name, _)| (name.to_string(), owner.clone()))
                .collect();
            schemas.extend(snapshot.schemas.iter().map(|s| {
                let owner = snapshot.role_name(s.owner).unwrap_or_default();
                (s.name.clone(), owner.to_string())
            }));
            schemas.sort();
            for (name, owner) in schemas {
                rows.push(vec![
                    db(),
                    text(name),
                    text(owner),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
        }
        "tables" => {
            let tables = snapshot
                .tables
                .iter()
                .map(|t| (t.schema, &t.name, "BASE TABLE"));
            let views = snapshot.views.iter().map(|v| (v.schema, &v.name, "VIEW"));
            for (id, name, kind) in tables.chain(views) {
                rows.push(vec![
                    db(),
                    schema(id),
                    text(name.clone()),
                    text(kind),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    yes_no(kind == "BASE TABLE"),
                    yes_no(false),
                    Value::Null,
                ]);
            }
        }
        "columns" => {
            for table in &snapshot.tables {
                for (i, c) in table.columns.iter().enumerate() {
                    rows.push(column_row(
                        who,
                        schema(table.schema),
                        &table.name,
                        i,
                        &c.name,
                        &c.data_type,
                        c.nullable,
                        c.default
                            .as_deref()
                            .map(|d| super::oids::display_default(snapshot, d)),
                        c.generated_always,
                        true,
                    ));
                }
            }
            for view in &snapshot.views {
                for (i, (name, ty)) in view.output.iter().enumerate() {
                    let name = view.columns.get(i).unwrap_or(name);
                    rows.push(column_row(
                        who,
                        schema(view.schema),
                        &view.name,
                        i,
                        name,
                        ty,
                        true,
                        None,
                        false,
                        false,
                    ));
                }
            }
        }
        "views" => {
            for view in &snapshot.views {
                rows.push(vec![
                    db(),
                    schema(view.schema),
                    text(view.name.clone()),
                    text(view.query.clone()),
                    text("NONE"),
                    yes_no(false),
                    yes_no(false),
                ]);
            }
        }
        "table_constraints" => {
            for table in &snapshot.tables {
                for (_, name, c) in constraints(table) {
                    let kind = match c {
                        Constraint::PrimaryKey => "PRIMARY KEY",
                        Constraint::Check(_) => "CHECK",
                        Constraint::Foreign(_) => "FOREIGN KEY",
                    };
                    rows.push(vec![
                        db(),
                        schema(table.schema),
                        text(name),
                        db(),
                        schema(table.schema),
                        text(table.name.clone()),
                        text(kind),
                        yes_no(false),
                        yes_no(false),
                        yes_no(true),
                    ]);
                }
            }
        }
        "key_column_usage" => {
            for table in &snapshot.tables {
                for (_, name, c) in constraints(table) {
                    let columns: Vec<(String, Option<usize>)> = match c {
                        Constraint::PrimaryKey => table
                            .primary_key
                            .iter()
                            .map(|&p| (table.columns[p].name.clone(), None))
                            .collect(),
                        Constraint::Foreign(fk) => fk
                            .columns
                            .iter()
                            .enumerate()
                            .map(|(i, c)| (c.clone(), Some(i + 1)))
                            .collect(),
                        Constraint::Check(_) => continue,
                    };
                    for (i, (column, unique_position)) in columns.into_iter().enumerate() {
                        rows.push(vec![
                            db(),
                            schema(table.schema),
                            text(name.clone()),
                            db(),
                            schema(table.schema),
                            text(table.name.clone()),
                            text(column),
                            int(i + 1),
                            unique_position.map_or(Value::Null, int),
                        ]);
                    }
                }
            }
        }
        "sequences" => {
            for seq in &snapshot.sequences {
                let ty = super::pg_catalog::sequence_type(seq);
                let bits = match ty {
                    DataType::Int16 => 16,
                    DataType::Int32 => 32,
                    _ => 64,
                };
                rows.push(vec![
                    db(),
                    schema(seq.schema),
                    text(seq.name.clone()),
                    text(ty.to_string()),
                    int(bits),
                    int(2),
                    int(0),
                    text(seq.start.to_string()),
                    text(seq.min.to_string()),
                    text(seq.max.to_string()),
                    text(seq.increment.to_string()),
                    yes_no(seq.cycle),
                ]);
            }
        }
        _ => {}
    }
    Ok(rows)
}

#[allow(clippy::too_many_arguments)]
fn column_row(
    who: &Identity,
    schema: Value,
    table: &str,
    position: usize,
    name: &str,
    ty: &DataType,
    nullable: bool,
    default: Option<String>,
    identity: bool,
    updatable: bool,
) -> Vec<Value> {
    let (char_length, precision, radix, scale, datetime) = match ty {
        DataType::Varchar(n) => (n.map(|n| n as i64), None, None, None, None),
        DataType::Char(n) => (Some(*n as i64), None, None, None, None),
        DataType::Int16 => (None, Some(16), Some(2), Some(0), None),
        DataType::Int32 => (None, Some(32), Some(2), Some(0), None),
        DataType::Int64 => (None, Some(64), Some(2), Some(0), None),
        DataType::Float32 => (None, Some(24), Some(2), None, None),
        DataType::Float64 => (None, Some(53), Some(2), None, None),
        DataType::Numeric(Some((p, s))) => (None, Some(*p as i64), Some(10), Some(*s as i64), None),
        DataType::Numeric(None) => (None, None, Some(10), None, None),
        DataType::Date => (None, None, None, None, Some(0)),
        DataType::Time | DataType::Timestamp | DataType::TimestampTz | DataType::Interval => {
            (None, None, None, None, Some(6))
        }
        _ => (None, None, None, None, None),
    };
    let opt = |v: Option<i64>| v.map_or(Value::Null, int);
    let udt = crate::types::pg_type::info(ty.oid())
        .map_or_else(|| ty.to_string(), |t| t.name.to_string());
    vec![
        text(who.database.clone()),
        schema,
        text(table),
        text(name),
        int(position + 1),
        if identity {
            Value::Null
        } else {
            default.map_or(Value::Null, text)
        },
        yes_no(nullable),
        text(standard_name(ty)),
        opt(char_length),
        opt(char_length.map(|n| n * 4)),
        opt(precision),
        opt(radix),
        opt(scale),
        opt(datetime),
        Value::Null,
        Value::Null,
        text(who.database.clone()),
        text("pg_catalog"),
        text(udt),
        yes_no(identity),
        if identity {
            text("ALWAYS")
        } else {
            Value::Null
        },
        text("NEVER"),
        Value::Null,
        yes_no(updatable),
    ]
}
