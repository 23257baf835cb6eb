//! The cluster-wide catalog: databases and roles.
//!
//! Like PostgreSQL's shared catalogs (`pg_database`, `pg_authid`), these belong to no
//! database: every session sees the same roles and the same list of databases, and a role or
//! database created in one database's session is there for all. They are rows in the same
//! keyspace as everything else ([`Key::Database`], [`Key::Role`]), read and written through
//! the session's transaction, so CREATE ROLE and DROP DATABASE are as transactional as
//! CREATE TABLE; the statements themselves are in [`crate::execution::admin`].
//!
//! A database owns the catalog entries that lead with its [`DatabaseId`]; dropping it deletes
//! those and every row and index entry of its tables. A role's password is kept only as a
//! SCRAM verifier ([`Verifier`]), never in a form a client could log in with.

use zizhu_crypto::scram::Verifier;
use zizhu_engine::{Direction, Engine};
use zizhu_txn::{Transaction, WaitPolicy};
use zizhu_types::Value;

use super::{Catalog, Snapshot};
use crate::execution::Reader;
use crate::keys::{DatabaseId, Key};
use crate::{errinput, errinternal, row, Result};

/// The database every data directory starts with (PostgreSQL's OID for it).
pub const POSTGRES: DatabaseId = 5;
/// Its name.
pub const POSTGRES_NAME: &str = "postgres";
/// The bootstrap superuser's OID (PostgreSQL's).
pub const BOOTSTRAP_ROLE: i64 = 10;

/// A database.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseDef {
    /// Identifier: the prefix of its catalog entries, and its OID.
    pub id: DatabaseId,
    /// Name.
    pub name: String,
    /// The owning role's OID.
    pub owner: i64,
    /// Whether sessions may connect to it (`ALLOW_CONNECTIONS`).
    pub allow_connections: bool,
}

impl DatabaseDef {
    fn encode(&self) -> Vec<u8> {
        row::encode(&[
            Value::Int64(self.id),
            Value::Int64(self.owner),
            Value::Bool(self.allow_connections),
        ])
    }

    fn decode(name: &str, bytes: &[u8]) -> Result<DatabaseDef> {
        match row::decode(bytes)?.as_slice() {
            [Value::Int64(id), Value::Int64(owner), Value::Bool(allow)] => Ok(DatabaseDef {
                id: *id,
                name: name.to_string(),
                owner: *owner,
                allow_connections: *allow,
            }),
            other => Err(errinternal!("corrupt database definition {other:?}")),
        }
    }
}

/// A role (a user is a role that may log in).
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    /// OID.
    pub oid: i64,
    /// Name.
    pub name: String,
    /// `SUPERUSER`: passes every privilege check.
    pub superuser: bool,
    /// `INHERIT` (kept for the catalogs; role membership is not implemented).
    pub inherit: bool,
    /// `CREATEROLE`: may create, alter and drop roles that are not superusers.
    pub create_role: bool,
    /// `CREATEDB`: may create databases.
    pub create_db: bool,
    /// `LOGIN`: may connect.
    pub login: bool,
    /// `REPLICATION` (kept for the catalogs).
    pub replication: bool,
    /// `BYPASSRLS` (kept for the catalogs until row-level security exists).
    pub bypass_rls: bool,
    /// `CONNECTION LIMIT`; -1 for none.
    pub connection_limit: i32,
    /// The password's SCRAM-SHA-256 verifier; without one the role cannot log in.
    pub password: Option<Verifier>,
    /// `VALID UNTIL`: the password stops working then (timestamptz microseconds).
    pub valid_until: Option<i64>,
}

impl Role {
    /// A role with PostgreSQL's defaults for CREATE ROLE (NOLOGIN and no privileges).
    pub fn new(name: &str) -> Role {
        Role {
            oid: 0,
            name: name.to_string(),
            superuser: false,
            inherit: true,
            create_role: false,
            create_db: false,
            login: false,
            replication: false,
            bypass_rls: false,
            connection_limit: -1,
            password: None,
            valid_until: None,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let flags = [
            self.superuser,
            self.inherit,
            self.create_role,
            self.create_db,
            self.login,
            self.replication,
            self.bypass_rls,
        ];
        let mut values = vec![Value::Int64(self.oid)];
        values.extend(flags.map(Value::Bool));
        values.push(Value::Int32(self.connection_limit));
        values.push(
            self.password
                .as_ref()
                .map_or(Value::Null, |v| Value::Text(v.to_string())),
        );
        values.push(self.valid_until.map_or(Value::Null, Value::Int64));
        row::encode(&values)
    }

    fn decode(name: &str, bytes: &[u8]) -> Result<Role> {
        let values = row::decode(bytes)?;
        let corrupt = || errinternal!("corrupt role definition {values:?}");
        let [Value::Int64(oid), flags @ .., Value::Int32(limit), password, valid] =
            values.as_slice()
        else {
            return Err(corrupt());
        };
        let flags: Vec<bool> = flags
            .iter()
            .map(|f| match f {
                Value::Bool(b) => Some(*b),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(corrupt)?;
        let [superuser, inherit, create_role, create_db, login, replication, bypass_rls] =
            flags.as_slice()
        else {
            return Err(corrupt());
        };
        Ok(Role {
            oid: *oid,
            name: name.to_string(),
            superuser: *superuser,
            inherit: *inherit,
            create_role: *create_role,
            create_db: *create_db,
            login: *login,
            replication: *replication,
            bypass_rls: *bypass_rls,
            connection_limit: *limit,
            password: match password {
                Value::Text(text) => Some(Verifier::parse(text).ok_or_else(corrupt)?),
                Value::Null => None,
                _ => return Err(corrupt()),
            },
            valid_until: match valid {
                Value::Int64(at) => Some(*at),
                Value::Null => None,
                _ => return Err(corrupt()),
            },
        })
    }
}

/// Operations on the cluster-wide catalog.
pub struct Cluster;

impl Cluster {
    /// Looks up a database by name.
    pub fn database(reader: &dyn Reader, name: &str) -> Result<Option<DatabaseDef>> {
        reader
            .get(&Key::Database(name.to_string()).encode())?
            .map(|bytes| DatabaseDef::decode(name, &bytes))
            .transpose()
    }

    /// Every database, in name order.
    pub fn databases(reader: &dyn Reader) -> Result<Vec<DatabaseDef>> {
        let mut all = Vec::new();
        for item in reader.scan(Key::all_databases(), Direction::Forward)? {
            let (key, bytes) = item?;
            if let Key::Database(name) = Key::decode(&key)? {
                all.push(DatabaseDef::decode(&name, &bytes)?);
            }
        }
        Ok(all)
    }

    /// Looks up a role by name.
    pub fn role(reader: &dyn Reader, name: &str) -> Result<Option<Role>> {
        reader
            .get(&Key::Role(name.to_string()).encode())?
            .map(|bytes| Role::decode(name, &bytes))
            .transpose()
    }

    /// Every role, in name order.
    pub fn roles(reader: &dyn Reader) -> Result<Vec<Role>> {
        let mut all = Vec::new();
        for item in reader.scan(Key::all_roles(), Direction::Forward)? {
            let (key, bytes) = item?;
            if let Key::Role(name) = Key::decode(&key)? {
                all.push(Role::decode(&name, &bytes)?);
            }
        }
        Ok(all)
    }

    /// Locks a name's key for creating it: whether it is taken, even by one committed after
    /// this transaction's snapshot.
    fn taken<E: Engine>(txn: &mut Transaction<E>, key: &[u8]) -> Result<bool> {
        let existing = txn
            .lock_for_insert(key, WaitPolicy::Wait)?
            .and_then(|l| l.current);
        Ok(existing.is_some() || txn.get(key)?.is_some())
    }

    /// Creates a database (assigning its identifier unless it has one); 42P04 if the name is
    /// taken, even by one committed after this transaction's snapshot.
    pub fn create_database<E: Engine>(
        txn: &mut Transaction<E>,
        mut def: DatabaseDef,
    ) -> Result<DatabaseDef> {
        let key = Key::Database(def.name.clone()).encode();
        if Self::taken(txn, &key)? {
            return Err(errinput!(
                DuplicateDatabase,
                "database \"{}\" already exists",
                def.name
            ));
        }
        if def.id == 0 {
            def.id = Catalog::next_id(txn)?;
        }
        txn.put(&key, def.encode())?;
        Catalog::create_public(txn, def.id, def.owner)?;
        Ok(def)
    }

    /// Drops a database: its definition, every catalog entry of it, and every row and index
    /// entry of its tables.
    pub fn drop_database<E: Engine>(txn: &mut Transaction<E>, def: &DatabaseDef) -> Result<()> {
        let db = def.id;
        let snapshot = Snapshot::read(txn, db)?;
        for table in &snapshot.tables {
            Catalog::drop_table(txn, db, table)?;
        }
        let ranges = [
            Key::all_tables(db),
            Key::all_views(db),
            Key::all_sequences(db),
            Key::all_index_names(db),
            Key::all_references(db),
            Key::all_comments(db),
            Key::all_schemas(db),
        ];
        for range in ranges {
            Catalog::delete_range(txn, range)?;
        }
        txn.delete(&Key::Database(def.name.clone()).encode())?;
        Ok(())
    }

    /// Creates a role (assigning its OID unless it has one); 42710 if the name is taken.
    pub fn create_role<E: Engine>(txn: &mut Transaction<E>, mut role: Role) -> Result<Role> {
        let key = Key::Role(role.name.clone()).encode();
        if Self::taken(txn, &key)? {
            return Err(errinput!(
                DuplicateObject,
                "role \"{}\" already exists",
                role.name
            ));
        }
        if role.oid == 0 {
            role.oid = Catalog::next_id(txn)?;
        }
        txn.put(&key, role.encode())?;
        Ok(role)
    }

    /// Stores a changed role under its (possibly new) name; 42710 if a new name is taken.
    pub fn update_role<E: Engine>(
        txn: &mut Transaction<E>,
        old_name: &str,
        role: &Role,
    ) -> Result<()> {
        let key = Key::Role(role.name.clone()).encode();
        if old_name != role.name {
            if Self::taken(txn, &key)? {
                return Err(errinput!(
                    DuplicateObject,
                    "role \"{}\" already exists",
                    role.name
                ));
            }
            txn.delete(&Key::Role(old_name.to_string()).encode())?;
        }
        txn.put(&key, role.encode())?;
        Ok(())
    }

    /// Drops a role.
    pub fn drop_role<E: Engine>(txn: &mut Transaction<E>, name: &str) -> Result<()> {
        txn.delete(&Key::Role(name.to_string()).encode())?;
        Ok(())
    }

    /// Makes a fresh keyspace a data directory's catalog: the `postgres` database, owned by
    /// the bootstrap superuser. Does nothing if any database exists.
    pub fn bootstrap<E: Engine>(txn: &mut Transaction<E>) -> Result<bool> {
        if !Self::databases(txn)?.is_empty() {
            return Ok(false);
        }
        Self::create_database(
            txn,
            DatabaseDef {
                id: POSTGRES,
                name: POSTGRES_NAME.into(),
                owner: BOOTSTRAP_ROLE,
                allow_connections: true,
            },
        )?;
        Ok(true)
    }

    /// Creates the bootstrap superuser (OID 10) with `password`, if it has no role yet.
    /// Returns whether it did.
    pub fn bootstrap_superuser<E: Engine>(
        txn: &mut Transaction<E>,
        name: &str,
        password: &str,
    ) -> Result<bool> {
        if Self::roles(txn)?.iter().any(|r| r.oid == BOOTSTRAP_ROLE) {
            return Ok(false);
        }
        let role = Role {
            oid: BOOTSTRAP_ROLE,
            superuser: true,
            create_role: true,
            create_db: true,
            login: true,
            replication: true,
            bypass_rls: true,
            password: Some(Verifier::new(password)),
            ..Role::new(name)
        };
        Self::create_role(txn, role)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_round_trip() {
        let role = Role {
            oid: 16_400,
            superuser: true,
            login: true,
            connection_limit: 3,
            password: Some(Verifier::new("pw")),
            valid_until: Some(1_000_000),
            ..Role::new("alice")
        };
        assert_eq!(Role::decode("alice", &role.encode()).unwrap(), role);
        let plain = Role::new("group");
        assert_eq!(Role::decode("group", &plain.encode()).unwrap(), plain);
        let db = DatabaseDef {
            id: 16_500,
            name: "app".into(),
            owner: 16_400,
            allow_connections: false,
        };
        assert_eq!(DatabaseDef::decode("app", &db.encode()).unwrap(), db);
    }
}
