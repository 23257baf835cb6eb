//! Functions over the catalog and the session's identity: the ones psql, JDBC, psycopg and
//! SQLAlchemy call on the system catalogs (`format_type`, `pg_get_indexdef`,
//! `pg_table_is_visible`, ...), `current_user` and friends, and the conversions between
//! object names and OIDs behind `'accounts'::regclass`.
//!
//! They read the catalog through the statement's transaction, so they are never folded into
//! constants at plan time ([`CatalogFunction::reads_state`]). Functions about features
//! ZizhuDB does not have yet answer as PostgreSQL does for an object without them
//! (`pg_get_triggerdef` of no trigger is NULL, `pg_relation_is_publishable` is false).

use zizhu_types::Value;

use super::oids::{self, Relation};
use super::pg_catalog;
use super::Identity;
use crate::catalog::Snapshot;
use crate::types::{pg_type, DataType, OidAlias};
use crate::{errinput, Result};

/// A catalog function; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CatalogFunction {
    /// `current_user`, `current_role`, `user`, `session_user`
    CurrentUser,
    /// `current_database()`, `current_catalog`
    CurrentDatabase,
    /// `current_schema()`
    CurrentSchema,
    /// `current_schemas(include_implicit)`
    CurrentSchemas,
    /// `version()`
    Version,
    /// `pg_get_userbyid(role)`
    GetUserById,
    /// `pg_encoding_to_char(encoding)`
    EncodingToChar,
    /// `pg_table_is_visible(relation)`
    TableIsVisible,
    /// `pg_type_is_visible(type)` and the other `*_is_visible`: everything is on the path.
    IsVisible,
    /// `format_type(type, typmod)`
    FormatType,
    /// `pg_get_expr(expr, relation [, pretty])`: expressions are stored as SQL text.
    GetExpr,
    /// `pg_get_indexdef(index [, column, pretty])`
    GetIndexDef,
    /// `pg_get_constraintdef(constraint [, pretty])`
    GetConstraintDef,
    /// `pg_get_viewdef(view [, pretty])`
    GetViewDef,
    /// `pg_get_serial_sequence(table, column)`
    GetSerialSequence,
    /// Functions of features not there yet, NULL for every object: `pg_get_triggerdef`,
    /// `pg_get_statisticsobjdef_columns`, `shobj_description` (databases and roles take no
    /// comments yet).
    NoDefinition,
    /// `obj_description(object [, catalog])`: a relation's `COMMENT ON`.
    ObjDescription,
    /// `col_description(relation, column number)`: a column's `COMMENT ON`.
    ColDescription,
    /// `pg_relation_is_publishable(relation)`: false, there are no publications.
    NotPublishable,
    /// `has_table_privilege` and friends: true, every user may do everything until roles and
    /// privileges come.
    HasPrivilege,
    /// `to_regclass(text)` etc.: the OID of a name, NULL if there is none.
    ToReg(OidAlias),
    /// `text::regclass` etc.: the OID of a name, an error if there is none.
    RegIn(OidAlias),
    /// `regclass::text` etc.: the name of an OID (the number if nothing has it).
    RegOut(OidAlias),
}

impl CatalogFunction {
    /// The function `name` of `args` arguments, if it is one of these.
    pub fn lookup(name: &str, args: usize) -> Option<Self> {
        use CatalogFunction as F;
        Some(match (name, args) {
            ("current_user" | "current_role" | "user" | "session_user", 0) => F::CurrentUser,
            ("current_database" | "current_catalog", 0) => F::CurrentDatabase,
            ("current_schema", 0) => F::CurrentSchema,
            ("current_schemas", 1) => F::CurrentSchemas,
            ("version", 0) => F::Version,
            ("pg_get_userbyid", 1) => F::GetUserById,
            ("pg_encoding_to_char", 1) => F::EncodingToChar,
            ("pg_table_is_visible", 1) => F::TableIsVisible,
            (
                "pg_type_is_visible"
                | "pg_function_is_visible"
                | "pg_collation_is_visible"
                | "pg_opclass_is_visible"
                | "pg_operator_is_visible",
                1,
            ) => F::IsVisible,
            ("format_type", 2) => F::FormatType,
            ("pg_get_expr", 2 | 3) => F::GetExpr,
            ("pg_get_indexdef", 1 | 3) => F::GetIndexDef,
            ("pg_get_constraintdef", 1 | 2) => F::GetConstraintDef,
            ("pg_get_viewdef", 1 | 2) => F::GetViewDef,
            ("pg_get_serial_sequence", 2) => F::GetSerialSequence,
            ("pg_get_triggerdef", 1 | 2)
            | ("pg_get_statisticsobjdef_columns", 1)
            | ("shobj_description", 2) => F::NoDefinition,
            ("obj_description", 1 | 2) => F::ObjDescription,
            ("col_description", 2) => F::ColDescription,
            ("pg_relation_is_publishable", 1) => F::NotPublishable,
            (
                "has_table_privilege"
                | "has_schema_privilege"
                | "has_database_privilege"
                | "has_column_privilege"
                | "has_sequence_privilege"
                | "has_function_privilege"
                | "pg_has_role",
                2..=4,
            ) => F::HasPrivilege,
            ("to_regclass", 1) => F::ToReg(OidAlias::RegClass),
            ("to_regtype", 1) => F::ToReg(OidAlias::RegType),
            ("to_regnamespace", 1) => F::ToReg(OidAlias::RegNamespace),
            ("to_regrole", 1) => F::ToReg(OidAlias::RegRole),
            _ => return None,
        })
    }

    /// Whether a function of this name exists (with some number of arguments).
    pub fn is_known(name: &str) -> bool {
        (0..=4).any(|n| Self::lookup(name, n).is_some())
    }

    /// Its SQL name, for plans and errors.
    pub fn name(self) -> String {
        use CatalogFunction as F;
        match self {
            F::CurrentUser => "current_user".into(),
            F::CurrentDatabase => "current_database".into(),
            F::CurrentSchema => "current_schema".into(),
            F::CurrentSchemas => "current_schemas".into(),
            F::Version => "version".into(),
            F::GetUserById => "pg_get_userbyid".into(),
            F::EncodingToChar => "pg_encoding_to_char".into(),
            F::TableIsVisible => "pg_table_is_visible".into(),
            F::IsVisible => "pg_type_is_visible".into(),
            F::FormatType => "format_type".into(),
            F::GetExpr => "pg_get_expr".into(),
            F::GetIndexDef => "pg_get_indexdef".into(),
            F::GetConstraintDef => "pg_get_constraintdef".into(),
            F::GetViewDef => "pg_get_viewdef".into(),
            F::GetSerialSequence => "pg_get_serial_sequence".into(),
            F::NoDefinition => "pg_get_triggerdef".into(),
            F::ObjDescription => "obj_description".into(),
            F::ColDescription => "col_description".into(),
            F::NotPublishable => "pg_relation_is_publishable".into(),
            F::HasPrivilege => "has_table_privilege".into(),
            F::ToReg(alias) => format!("to_{}", alias.name()),
            F::RegIn(alias) => format!("{}in", alias.name()),
            F::RegOut(alias) => format!("{}out", alias.name()),
        }
    }

    /// The type of its argument `i` (what a parameter there is inferred to be).
    pub fn argument_type(self, i: usize) -> DataType {
        use CatalogFunction as F;
        let oid = DataType::Oid(OidAlias::Oid);
        match (self, i) {
            (F::CurrentSchemas, _) | (F::GetExpr | F::GetIndexDef, 2) => DataType::Bool,
            (F::GetExpr, 1) => oid,
            (F::GetConstraintDef | F::GetViewDef, 1) => DataType::Bool,
            (F::FormatType | F::GetIndexDef | F::ColDescription, 1) => DataType::Int32,
            (F::ObjDescription, 1) => DataType::Text,
            (
                F::ToReg(_) | F::RegIn(_) | F::GetSerialSequence | F::HasPrivilege | F::GetExpr,
                _,
            ) => DataType::Text,
            _ => oid,
        }
    }

    /// Its result type.
    pub fn result_type(self) -> DataType {
        use CatalogFunction as F;
        match self {
            F::TableIsVisible | F::IsVisible | F::NotPublishable | F::HasPrivilege => {
                DataType::Bool
            }
            F::CurrentSchemas => DataType::Array(Box::new(DataType::Text)),
            F::ToReg(alias) | F::RegIn(alias) => DataType::Oid(alias),
            _ => DataType::Text,
        }
    }

    /// Runs it with evaluated `args`, reading the catalog from `snapshot` if it needs to.
    pub fn call(
        self,
        args: &[Value],
        snapshot: &dyn Fn() -> Result<std::rc::Rc<Snapshot>>,
        who: &Identity,
    ) -> Result<Value> {
        use CatalogFunction as F;
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
        let number = |i: usize| match arg(i) {
            Value::Int16(v) => Some(v as i64),
            Value::Int32(v) => Some(v as i64),
            Value::Int64(v) => Some(v),
            _ => None,
        };
        // Strict functions: NULL in, NULL out.
        let strict = !matches!(
            self,
            F::CurrentUser | F::CurrentDatabase | F::CurrentSchema | F::Version | F::FormatType
        );
        if strict && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        let text = |s: String| Ok(Value::Text(s));
        match self {
            F::CurrentUser => text(who.user.clone()),
            F::CurrentDatabase => text(who.database.clone()),
            F::CurrentSchema => {
                let snapshot = snapshot()?;
                Ok(match snapshot.path.first() {
                    Some(&id) => Value::Text(oids::schema_name(&snapshot, id).unwrap_or_default()),
                    None => Value::Null,
                })
            }
            F::CurrentSchemas => {
                let snapshot = snapshot()?;
                let mut names = Vec::new();
                if arg(0) == Value::Bool(true) {
                    names.push("pg_catalog".to_string());
                }
                names.extend(
                    snapshot
                        .path
                        .iter()
                        .filter_map(|&id| oids::schema_name(&snapshot, id))
                        .map(|n| oids::quote_ident(&n)),
                );
                text(format!("{{{}}}", names.join(",")))
            }
            F::Version => text(format!(
                "PostgreSQL 15.0 (ZizhuDB {}) on {}-{}, 64-bit",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::ARCH,
                std::env::consts::OS
            )),
            F::GetUserById => {
                let oid = number(0).unwrap_or_default();
                text(match snapshot()?.role_name(oid) {
                    Some(name) => name.to_string(),
                    None => format!("unknown (OID={oid})"),
                })
            }
            F::EncodingToChar => text(if number(0) == Some(6) { "UTF8" } else { "" }.into()),
            F::TableIsVisible => {
                let snapshot = snapshot()?;
                Ok(Value::Bool(
                    oids::relation_by_oid(&snapshot, number(0).unwrap_or_default())
                        .is_some_and(|r| oids::is_visible(&snapshot, &r)),
                ))
            }
            F::IsVisible | F::HasPrivilege => Ok(Value::Bool(true)),
            F::NotPublishable => Ok(Value::Bool(false)),
            F::NoDefinition => Ok(Value::Null),
            F::ObjDescription => {
                // Only relations take comments, so only `pg_class` has them.
                if args.len() == 2 && !matches!(&arg(1), Value::Text(c) if c == "pg_class") {
                    return Ok(Value::Null);
                }
                let snapshot = snapshot()?;
                Ok(snapshot
                    .comment(number(0).unwrap_or_default(), "")
                    .map_or(Value::Null, |c| Value::Text(c.to_string())))
            }
            F::ColDescription => {
                let snapshot = snapshot()?;
                let oid = number(0).unwrap_or_default();
                let position = number(1).unwrap_or_default() - 1;
                let column = match oids::relation_by_oid(&snapshot, oid) {
                    Some(oids::Relation::Table(t)) => usize::try_from(position)
                        .ok()
                        .and_then(|i| t.columns.get(i))
                        .map(|c| c.name.clone()),
                    Some(oids::Relation::View(v)) => usize::try_from(position)
                        .ok()
                        .and_then(|i| v.output.get(i))
                        .map(|(c, _)| c.clone()),
                    _ => None,
                };
                Ok(column
                    .and_then(|c| snapshot.comment(oid, &c).map(str::to_string))
                    .map_or(Value::Null, Value::Text))
            }
            F::FormatType => {
                let Some(oid) = number(0) else {
                    return Ok(Value::Null);
                };
                let typmod = number(1).map(|m| m as i32);
                text(pg_type::format_type(oid as u32, typmod).unwrap_or_else(|| "???".to_string()))
            }
            F::GetExpr => match arg(0) {
                Value::Text(expr) => text(expr),
                _ => Ok(Value::Null),
            },
            F::GetIndexDef => {
                let snapshot = snapshot()?;
                let Some(rel) = oids::relation_by_oid(&snapshot, number(0).unwrap_or_default())
                else {
                    return Ok(Value::Null);
                };
                let column = number(1).unwrap_or(0);
                if column > 0 {
                    let (table, columns) = match &rel {
                        Relation::PrimaryKey(t) => (*t, &t.primary_key),
                        Relation::Index(t, i) => (*t, &t.indexes[*i].columns),
                        _ => return Ok(Value::Null),
                    };
                    return Ok(columns.get(column as usize - 1).map_or(Value::Null, |&c| {
                        Value::Text(oids::quote_ident(&table.columns[c].name))
                    }));
                }
                let pretty = arg(2) == Value::Bool(true);
                Ok(pg_catalog::index_def(&rel, pretty).map_or(Value::Null, Value::Text))
            }
            F::GetConstraintDef => {
                let snapshot = snapshot()?;
                let oid = number(0).unwrap_or_default();
                for table in &snapshot.tables {
                    if table.id != oids::table_of(oid) {
                        continue;
                    }
                    if let Some((_, _, c)) = pg_catalog::constraints(table)
                        .into_iter()
                        .find(|(id, ..)| *id == oid)
                    {
                        return text(pg_catalog::constraint_def(&snapshot, table, c));
                    }
                }
                Ok(Value::Null)
            }
            F::GetViewDef => {
                let snapshot = snapshot()?;
                let view = match arg(0) {
                    Value::Text(name) => oids::relation_by_name(&snapshot, &name),
                    _ => oids::relation_by_oid(&snapshot, number(0).unwrap_or_default()),
                };
                Ok(match view {
                    Some(Relation::View(v)) => Value::Text(format!(" {};", v.query)),
                    _ => Value::Null,
                })
            }
            F::GetSerialSequence => {
                let snapshot = snapshot()?;
                let (Value::Text(table), Value::Text(column)) = (arg(0), arg(1)) else {
                    return Ok(Value::Null);
                };
                let table = match oids::relation_by_name(&snapshot, &table) {
                    Some(Relation::Table(t)) => t,
                    _ => {
                        return Err(errinput!(
                            UndefinedTable,
                            "relation \"{table}\" does not exist"
                        ))
                    }
                };
                let Some(position) = table.column_index(&column) else {
                    return Err(errinput!(
                        UndefinedColumn,
                        "column \"{column}\" of relation \"{}\" does not exist",
                        table.name
                    ));
                };
                Ok(snapshot
                    .sequences
                    .iter()
                    .find(|s| {
                        pg_catalog::sequence_owner(&snapshot, s)
                            .is_some_and(|(t, n)| t.id == table.id && n == position + 1)
                    })
                    .map_or(Value::Null, |s| {
                        let schema = oids::schema_name(&snapshot, s.schema).unwrap_or_default();
                        Value::Text(format!(
                            "{}.{}",
                            oids::quote_ident(&schema),
                            oids::quote_ident(&s.name)
                        ))
                    }))
            }
            F::ToReg(alias) | F::RegIn(alias) => {
                let name = match arg(0) {
                    Value::Text(name) => name,
                    other => return Ok(other),
                };
                match reg_in(alias, &name, snapshot)? {
                    Some(oid) => Ok(Value::Int64(oid)),
                    None if self == F::ToReg(alias) => Ok(Value::Null),
                    None => Err(match alias {
                        OidAlias::RegClass => match oids::split_qualified(&name) {
                            (Some(schema), _) if oids::schema(&*snapshot()?, &schema).is_none() => {
                                errinput!(InvalidSchemaName, "schema \"{schema}\" does not exist")
                            }
                            _ => errinput!(UndefinedTable, "relation \"{name}\" does not exist"),
                        },
                        OidAlias::RegType => {
                            errinput!(UndefinedObject, "type \"{name}\" does not exist")
                        }
                        OidAlias::RegNamespace => {
                            errinput!(InvalidSchemaName, "schema \"{name}\" does not exist")
                        }
                        OidAlias::RegRole => {
                            errinput!(UndefinedObject, "role \"{name}\" does not exist")
                        }
                        _ => errinput!(UndefinedFunction, "function \"{name}\" does not exist"),
                    }),
                }
            }
            F::RegOut(alias) => {
                let oid = number(0).unwrap_or_default();
                text(reg_out(alias, oid, snapshot)?)
            }
        }
    }

    /// Whether it reads the catalog or the session (and so is never folded at plan time).
    pub fn reads_state(self) -> bool {
        !matches!(
            self,
            CatalogFunction::FormatType | CatalogFunction::EncodingToChar
        )
    }
}

/// The OID a `reg*` input names (a number is taken as the OID itself).
fn reg_in(
    alias: OidAlias,
    name: &str,
    snapshot: &dyn Fn() -> Result<std::rc::Rc<Snapshot>>,
) -> Result<Option<i64>> {
    if let Ok(Value::Int64(oid)) = crate::types::parse_text(name, &DataType::Oid(OidAlias::Oid)) {
        return Ok(Some(oid));
    }
    Ok(match alias {
        OidAlias::RegClass => oids::relation_by_name(&*snapshot()?, name).map(|r| r.oid()),
        OidAlias::RegType => {
            let (_, bare) = oids::split_qualified(name);
            let ty = crate::planner::type_by_name(&bare).or_else(|| {
                pg_type::oid_of_name(&bare).and_then(|oid| DataType::from_oid(oid, -1))
            });
            match (bare.as_str(), ty) {
                ("name", _) => Some(19),
                ("char", _) => Some(18),
                (_, Some(ty)) => Some(ty.oid() as i64),
                _ => None,
            }
        }
        OidAlias::RegNamespace => oids::schema(&*snapshot()?, &oids::split_qualified(name).1),
        OidAlias::RegRole => {
            let bare = oids::split_qualified(name).1;
            snapshot()?
                .roles
                .iter()
                .find(|r| r.name == bare)
                .map(|r| r.oid)
        }
        OidAlias::RegProc | OidAlias::Oid => None,
    })
}

/// The name a `reg*` value prints as.
fn reg_out(
    alias: OidAlias,
    oid: i64,
    snapshot: &dyn Fn() -> Result<std::rc::Rc<Snapshot>>,
) -> Result<String> {
    let name = match alias {
        OidAlias::RegClass => {
            let snapshot = snapshot()?;
            oids::relation_by_oid(&snapshot, oid).map(|r| match oids::is_visible(&snapshot, &r) {
                true => oids::quote_ident(&r.name()),
                false => format!(
                    "{}.{}",
                    oids::quote_ident(
                        &oids::schema_name(&snapshot, r.schema()).unwrap_or_default()
                    ),
                    oids::quote_ident(&r.name())
                ),
            })
        }
        OidAlias::RegType => pg_type::format_type(oid as u32, None),
        OidAlias::RegNamespace => oids::schema_name(&*snapshot()?, oid),
        OidAlias::RegRole => snapshot()?.role_name(oid).map(str::to_string),
        OidAlias::RegProc if oid == 0 => Some("-".to_string()),
        OidAlias::RegProc | OidAlias::Oid => None,
    };
    Ok(name.unwrap_or_else(|| oid.to_string()))
}
