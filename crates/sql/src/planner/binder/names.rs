//! Relation names: qualified ones name their schema, unqualified ones are found through the
//! search path ([`crate::catalog::schema`]).

use std::cell::OnceCell;

use sqlparser::ast;
use zizhu_engine::Engine;

use super::{ident, Binder};
use crate::catalog::schema::{SchemaDef, SearchPath, SYSTEM_SCHEMAS};
use crate::catalog::Catalog;
use crate::keys::{Key, Namespace};
use crate::planner::plan::RelationName;
use crate::{errinput, Result};

/// A relation name as written: `name` or `schema.name`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WrittenName {
    /// The schema, if qualified.
    pub schema: Option<String>,
    /// The name.
    pub name: String,
}

impl std::fmt::Display for WrittenName {
    /// As PostgreSQL's messages write it: `name` or `schema.name`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A relation FROM names.
pub(crate) enum Found {
    Table(std::sync::Arc<crate::catalog::Table>),
    View(crate::catalog::View),
}

/// What kind of relation a name is looked up as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Table,
    View,
    Sequence,
    Index,
    /// A table or a view (what FROM reads).
    TableOrView,
}

/// Splits a written relation name. A three-part name must lead with the session's database,
/// as in PostgreSQL.
pub(crate) fn written_name(name: &ast::ObjectName, database: &str) -> Result<WrittenName> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(id) => Ok(ident(id)),
            _ => Err(errinput!(SyntaxError, "improper qualified name: {name}")),
        })
        .collect::<Result<_>>()?;
    match parts.as_slice() {
        [name] => Ok(WrittenName {
            schema: None,
            name: name.clone(),
        }),
        [schema, name] => Ok(WrittenName {
            schema: Some(schema.clone()),
            name: name.clone(),
        }),
        [db, schema, name] if db == database => Ok(WrittenName {
            schema: Some(schema.clone()),
            name: name.clone(),
        }),
        [_, _, _] => Err(errinput!(
            FeatureNotSupported,
            "cross-database references are not implemented: {name}"
        )),
        _ => Err(errinput!(
            SyntaxError,
            "improper qualified name (too many dotted names): {name}"
        )),
    }
}

/// The search path's schemas, resolved once per binder.
#[derive(Default)]
pub(crate) struct PathCache(OnceCell<Vec<SchemaDef>>);

impl<E: Engine> Binder<'_, E> {
    /// The stored schemas of the search path, in order.
    fn path_schemas(&self) -> Result<&[SchemaDef]> {
        if let Some(schemas) = self.path_cache.0.get() {
            return Ok(schemas);
        }
        let path = self.search_path();
        let schemas = match &self.schema_cache {
            Some(cache) => path.resolve_cached(self.txn, self.db, cache)?,
            None => path.resolve(self.txn, self.db)?,
        };
        Ok(self.path_cache.0.get_or_init(|| schemas))
    }

    /// The search path names are looked up in.
    pub(crate) fn search_path(&self) -> SearchPath {
        match &self.search_path {
            Some(path) => path.clone(),
            None => SearchPath::parse("\"$user\", public", &self.who.user),
        }
    }

    /// The namespace of schema `name`: 3F000 if there is none; 42501 for a system schema
    /// (where no user relation is).
    fn schema_namespace(&self, name: &str) -> Result<Namespace> {
        if SYSTEM_SCHEMAS.iter().any(|(n, _)| *n == name) {
            return Err(errinput!(
                InsufficientPrivilege,
                "permission denied for schema {name}"
            ));
        }
        match Catalog::schema(self.txn, self.db, name)? {
            Some(schema) => Ok(Namespace::new(self.db, schema.id)),
            None => Err(errinput!(
                InvalidSchemaName,
                "schema \"{name}\" does not exist"
            )),
        }
    }

    /// Whether a relation of `kind` named `name` is in `ns`.
    fn exists(&self, ns: Namespace, name: &str, kind: Kind) -> Result<bool> {
        let key = |k: Kind| match k {
            Kind::Table | Kind::TableOrView => Key::Table(ns, name.to_string()),
            Kind::View => Key::View(ns, name.to_string()),
            Kind::Sequence => Key::Sequence(ns, name.to_string()),
            Kind::Index => Key::IndexName(ns, name.to_string()),
        };
        if self.txn.get(&key(kind).encode())?.is_some() {
            return Ok(true);
        }
        Ok(kind == Kind::TableOrView && self.txn.get(&key(Kind::View).encode())?.is_some())
    }

    /// Whether any relation named `name` is in `ns`.
    fn exists_any(&self, ns: Namespace, name: &str) -> Result<bool> {
        for kind in [Kind::Table, Kind::View, Kind::Sequence, Kind::Index] {
            if self.exists(ns, name, kind)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Finds the relation of `kind` a written name names: in its schema if qualified, else
    /// in the first schema of the search path that has a relation of that name. `None` if
    /// there is none; 42809 if the first one found is of another kind (it hides later ones,
    /// as in PostgreSQL).
    pub(crate) fn find(&self, name: &ast::ObjectName, kind: Kind) -> Result<Option<RelationName>> {
        let written = written_name(name, &self.who.database)?;
        self.find_written(&written, kind)
    }

    /// [`Self::find`] for a name already split.
    pub(crate) fn find_written(
        &self,
        written: &WrittenName,
        kind: Kind,
    ) -> Result<Option<RelationName>> {
        let found = |ns: Namespace| RelationName {
            ns,
            name: written.name.clone(),
        };
        if let Some(schema) = &written.schema {
            if SYSTEM_SCHEMAS.iter().any(|(n, _)| n == schema) {
                return Ok(None);
            }
            // A missing schema is a missing relation here (42P01), as in PostgreSQL.
            let Some(schema) = Catalog::schema(self.txn, self.db, schema)? else {
                return Ok(None);
            };
            let ns = Namespace::new(self.db, schema.id);
            return Ok(self.exists(ns, &written.name, kind)?.then(|| found(ns)));
        }
        for schema in self.path_schemas()? {
            let ns = Namespace::new(self.db, schema.id);
            if self.exists(ns, &written.name, kind)? {
                return Ok(Some(found(ns)));
            }
            if self.exists_any(ns, &written.name)? {
                let what = match kind {
                    Kind::Table | Kind::TableOrView => "a table",
                    Kind::View => "a view",
                    Kind::Sequence => "a sequence",
                    Kind::Index => "an index",
                };
                return Err(errinput!(
                    WrongObjectType,
                    "\"{}\" is not {what}",
                    written.name
                ));
            }
        }
        Ok(None)
    }

    /// The relation a DROP, ALTER or COMMENT names: where [`Self::find`] finds it, else where
    /// it would be created (so the statement reports it missing, or skips it with `IF
    /// EXISTS`). A missing qualifying schema is 3F000 unless `if_exists`; a relation of
    /// another kind first on the path is 42809 even with `IF EXISTS`, as in PostgreSQL.
    pub(crate) fn target(
        &self,
        name: &ast::ObjectName,
        kind: Kind,
        if_exists: bool,
    ) -> Result<RelationName> {
        let written = written_name(name, &self.who.database)?;
        match self.find_written(&written, kind)? {
            Some(found) => Ok(found),
            None => self.creation_name(&written).or_else(|e| match if_exists {
                true => Ok(RelationName {
                    ns: Namespace::new(self.db, 0),
                    name: written.name.clone(),
                }),
                false => Err(e),
            }),
        }
    }

    /// [`Self::target`] for each name.
    pub(crate) fn targets(
        &self,
        names: &[ast::ObjectName],
        kind: Kind,
        if_exists: bool,
    ) -> Result<Vec<RelationName>> {
        names
            .iter()
            .map(|n| self.target(n, kind, if_exists))
            .collect()
    }

    /// Where a new relation of this name goes: its schema if qualified, else the first
    /// schema of the search path (3F000 if there is none).
    pub(crate) fn creation_name(&self, written: &WrittenName) -> Result<RelationName> {
        let ns = match &written.schema {
            Some(schema) => self.schema_namespace(schema)?,
            None => match self.path_schemas()?.first() {
                Some(schema) => Namespace::new(self.db, schema.id),
                None => {
                    return Err(errinput!(
                        InvalidSchemaName,
                        "no schema has been selected to create in"
                    ))
                }
            },
        };
        Ok(RelationName {
            ns,
            name: written.name.clone(),
        })
    }

    /// The name of stored schema `id` of the session's database.
    pub(crate) fn schema_name(&self, id: crate::keys::SchemaId) -> Result<String> {
        Catalog::schemas(self.txn, self.db)?
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| s.name)
            .ok_or_else(|| crate::errinternal!("schema {id} vanished during binding"))
    }

    /// The table or view a name in FROM names: the first found through the search path (a
    /// table hides a view of the same name in a later schema); 42P01 if none. One catalog
    /// read per schema tried, then one for a view.
    pub(crate) fn relation(&self, name: &ast::ObjectName) -> Result<Found> {
        let written = written_name(name, &self.who.database)?;
        let schemas: Vec<Namespace> = match &written.schema {
            Some(schema) => Catalog::schema(self.txn, self.db, schema)?
                .map(|s| Namespace::new(self.db, s.id))
                .into_iter()
                .collect(),
            None => self
                .path_schemas()?
                .iter()
                .map(|s| Namespace::new(self.db, s.id))
                .collect(),
        };
        for ns in schemas {
            if let Some(table) = Catalog::table(self.txn, ns, &written.name)? {
                self.referenced
                    .borrow_mut()
                    .push((table.schema, table.name.clone()));
                return Ok(Found::Table(table));
            }
            if let Some(view) = Catalog::view(self.txn, ns, &written.name)? {
                return Ok(Found::View(view));
            }
        }
        Err(errinput!(
            UndefinedTable,
            "relation \"{written}\" does not exist"
        ))
    }

    /// [`Self::creation_name`] for a name as parsed.
    pub(crate) fn new_name(&self, name: &ast::ObjectName) -> Result<RelationName> {
        self.creation_name(&written_name(name, &self.who.database)?)
    }
}
