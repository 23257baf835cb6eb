//! CREATE, ALTER and DROP SCHEMA.
//!
//! Privileges as in PostgreSQL 15, where only a database's owner holds CREATE on it: a schema
//! is created by a superuser or the database's owner, for itself or (superusers only) for
//! another role; it is renamed, given away or dropped by its owner or a superuser. DROP
//! SCHEMA without CASCADE refuses a schema that holds anything (2BP01); with CASCADE it drops
//! the views, tables and sequences in it, and the views elsewhere that depend on them.
//! DROP and RENAME lock the schema's row first (see [`crate::catalog::schema`]).

use std::sync::Arc;

use zizhu_engine::Engine;
use zizhu_txn::{IsolationLevel, LockMode, SerializationCause, Transaction};

use super::admin::{current_role, denied, undefined_role};
use super::{drop_order, skipped, Context, StatementResult};
use crate::catalog::cluster::{Cluster, BOOTSTRAP_ROLE};
use crate::catalog::schema::{SchemaDef, SYSTEM_SCHEMAS};
use crate::catalog::Catalog;
use crate::keys::{Key, Namespace};
use crate::{errinput, Result};

/// `CREATE SCHEMA name [AUTHORIZATION owner]`.
pub(super) fn create<E: Engine>(
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
    name: String,
    owner: Option<String>,
    if_not_exists: bool,
) -> Result<StatementResult> {
    let db = ctx.database();
    let who = ctx.identity();
    let me = current_role(txn, &who)?;
    let database = Cluster::databases(txn)?
        .into_iter()
        .find(|d| d.id == db)
        .ok_or_else(|| {
            errinput!(
                InvalidCatalogName,
                "the session's database no longer exists"
            )
        })?;
    if !me.superuser && database.owner != me.oid {
        return Err(denied(format!(
            "permission denied for database {}",
            database.name
        )));
    }
    if name.starts_with("pg_") {
        return Err(
            errinput!(ReservedName, "unacceptable schema name \"{name}\"")
                .with_detail("The prefix \"pg_\" is reserved for system schemas."),
        );
    }
    let owner = match owner {
        None if who.local => BOOTSTRAP_ROLE,
        None => me.oid,
        Some(owner) => {
            let role = Cluster::role(txn, &owner)?.ok_or_else(|| undefined_role(&owner))?;
            if role.oid != me.oid && !me.superuser {
                return Err(denied(format!("must be able to SET ROLE \"{owner}\"")));
            }
            role.oid
        }
    };
    let system = SYSTEM_SCHEMAS.iter().any(|(n, _)| *n == name);
    if if_not_exists && (system || Catalog::schema(txn, db, &name)?.is_some()) {
        ctx.notice(super::Notice::info(format!(
            "schema \"{name}\" already exists, skipping"
        )));
        return Ok(StatementResult::Command("CREATE SCHEMA"));
    }
    let schema = SchemaDef { id: 0, name, owner };
    Catalog::create_schema(txn, db, schema)?;
    Ok(StatementResult::Command("CREATE SCHEMA"))
}

/// Fails unless the current role owns `schema` or is a superuser.
fn must_own<E: Engine>(txn: &Transaction<E>, ctx: &dyn Context, schema: &SchemaDef) -> Result<()> {
    let me = current_role(txn, &ctx.identity())?;
    if me.superuser || me.oid == schema.owner {
        return Ok(());
    }
    Err(denied(format!("must be owner of schema {}", schema.name)))
}

fn missing(name: &str) -> crate::Error {
    errinput!(InvalidSchemaName, "schema \"{name}\" does not exist")
}

/// `ALTER SCHEMA name RENAME TO new` / `OWNER TO role`.
pub(super) fn alter<E: Engine>(
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
    name: String,
    rename: Option<String>,
    owner: Option<String>,
) -> Result<StatementResult> {
    let db = ctx.database();
    let schema = Catalog::schema(txn, db, &name)?.ok_or_else(|| missing(&name))?;
    must_own(txn, ctx, &schema)?;
    let ns = Namespace::new(db, schema.id);
    let mut schema = Catalog::lock_schema(txn, ns, LockMode::Update)?;
    if let Some(new) = rename {
        if new == schema.name {
            return Err(errinput!(
                DuplicateSchema,
                "schema \"{new}\" already exists"
            ));
        }
        if new.starts_with("pg_") {
            return Err(
                errinput!(ReservedName, "unacceptable schema name \"{new}\"")
                    .with_detail("The prefix \"pg_\" is reserved for system schemas."),
            );
        }
        schema.name = new;
    }
    if let Some(owner) = owner {
        let role = Cluster::role(txn, &owner)?.ok_or_else(|| undefined_role(&owner))?;
        let me = current_role(txn, &ctx.identity())?;
        if role.oid != me.oid && !me.superuser {
            return Err(denied(format!("must be able to SET ROLE \"{owner}\"")));
        }
        schema.owner = role.oid;
    }
    Catalog::update_schema(txn, db, &name, &schema)?;
    Ok(StatementResult::Command("ALTER SCHEMA"))
}

/// `DROP SCHEMA names [CASCADE]`.
pub(super) fn drop<E: Engine>(
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
    names: Vec<String>,
    if_exists: bool,
    cascade: bool,
) -> Result<StatementResult> {
    let db = ctx.database();
    let mut schemas = Vec::with_capacity(names.len());
    for name in &names {
        let why = match name.as_str() {
            "pg_catalog" => Some("it is required by the database system"),
            "information_schema" => Some("other objects depend on it"),
            _ => None,
        };
        if let Some(why) = why {
            return Err(errinput!(
                DependentObjectsStillExist,
                "cannot drop schema {name} because {why}"
            ));
        }
        match Catalog::schema(txn, db, name)? {
            Some(schema) => schemas.push(schema),
            None if if_exists => ctx.notice(skipped("schema", name)),
            None => return Err(missing(name)),
        }
    }
    for schema in &schemas {
        must_own(txn, ctx, schema)?;
    }
    // Exclusive locks first: a transaction creating something in one of them finishes
    // before this one looks at what the schema holds.
    for schema in &schemas {
        Catalog::lock_schema(txn, Namespace::new(db, schema.id), LockMode::Update)?;
    }
    let kinds = |ns: Namespace| {
        [
            Key::View(ns, String::new()),
            Key::Table(ns, String::new()),
            Key::Sequence(ns, String::new()),
            Key::IndexName(ns, String::new()),
        ]
    };
    let mut unseen = false;
    for schema in &schemas {
        for kind in kinds(Namespace::new(db, schema.id)) {
            unseen |= Catalog::names_in(txn, &kind, true)? != Catalog::names_in(txn, &kind, false)?;
        }
    }
    if unseen {
        // Something was created in them after this statement's snapshot: READ COMMITTED
        // looks again; the other levels cannot see it, so cannot drop it.
        if txn.isolation() != IsolationLevel::ReadCommitted {
            return Err(
                zizhu_txn::Error::Serialization(SerializationCause::ConcurrentUpdate).into(),
            );
        }
        txn.begin_statement();
    }
    // What CASCADE takes with it, named as PostgreSQL's NOTICE names it.
    let all_schemas = Catalog::schemas(txn, db)?;
    let qualified = |ns: Namespace, name: &str| {
        let schema = all_schemas.iter().find(|s| s.id == ns.schema);
        format!("{}.{name}", schema.map_or("?", |s| s.name.as_str()))
    };
    let mut cascaded = Vec::new();
    for schema in &schemas {
        let ns = Namespace::new(db, schema.id);
        let views = Catalog::names_in(txn, &Key::View(ns, String::new()), false)?;
        let tables = Catalog::names_in(txn, &Key::Table(ns, String::new()), false)?;
        let sequences = Catalog::names_in(txn, &Key::Sequence(ns, String::new()), false)?;
        if !cascade {
            let held = [
                ("view", &views),
                ("table", &tables),
                ("sequence", &sequences),
            ];
            if let Some((kind, name)) = held
                .iter()
                .find_map(|(kind, names)| names.first().map(|n| (kind, n)))
            {
                return Err(errinput!(
                    DependentObjectsStillExist,
                    "cannot drop schema {} because other objects depend on it",
                    schema.name
                )
                .with_detail(format!(
                    "{kind} {}.{name} depends on schema {}",
                    schema.name, schema.name
                ))
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
        }
        let mut relations: Vec<(Namespace, String)> = views
            .iter()
            .chain(&tables)
            .map(|n| (ns, n.clone()))
            .collect();
        relations.sort();
        relations.dedup();
        for (view_ns, view) in drop_order(txn, relations, true, "table")? {
            if Catalog::view(txn, view_ns, &view)?.is_some() {
                cascaded.push(format!("view {}", qualified(view_ns, &view)));
                Catalog::drop_view(txn, view_ns, &view)?;
            }
        }
        for name in &tables {
            let Some(table) = Catalog::table(txn, ns, name)? else {
                continue;
            };
            // Foreign keys of other schemas' tables referencing it go with it.
            for mut child in Catalog::referencing(txn, ns, name)?
                .into_iter()
                .map(Arc::unwrap_or_clone)
                .filter(|c| c.schema != schema.id)
            {
                child
                    .foreign_keys
                    .retain(|fk| !(fk.parent == *name && fk.parent_schema == schema.id));
                Catalog::update_table(txn, db, &child)?;
            }
            cascaded.push(format!("table {}", qualified(ns, name)));
            Catalog::drop_table(txn, db, &table)?;
        }
        // Sequences left are not owned by a table of the schema.
        for name in Catalog::names_in(txn, &Key::Sequence(ns, String::new()), false)? {
            cascaded.push(format!("sequence {}", qualified(ns, &name)));
            Catalog::drop_sequence(txn, ns, &name)?;
        }
        Catalog::drop_schema(txn, db, &schema.name)?;
    }
    match cascaded.as_slice() {
        [] => {}
        [one] => ctx.notice(super::Notice::info(format!("drop cascades to {one}"))),
        many => ctx.notice(super::Notice::info(format!(
            "drop cascades to {} other objects",
            many.len()
        ))),
    }
    Ok(StatementResult::Command("DROP SCHEMA"))
}
