//! Plans of the statements that manage roles and databases (the cluster-wide catalog,
//! [`crate::catalog::cluster`]), executed by `execution/admin.rs`.

use zizhu_crypto::scram::Verifier;

/// What CREATE ROLE or ALTER ROLE sets; `None` leaves an attribute as it is (or at its
/// default, for a new role).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleOptions {
    /// `SUPERUSER` / `NOSUPERUSER`
    pub superuser: Option<bool>,
    /// `INHERIT` / `NOINHERIT`
    pub inherit: Option<bool>,
    /// `CREATEROLE` / `NOCREATEROLE`
    pub create_role: Option<bool>,
    /// `CREATEDB` / `NOCREATEDB`
    pub create_db: Option<bool>,
    /// `LOGIN` / `NOLOGIN`
    pub login: Option<bool>,
    /// `REPLICATION` / `NOREPLICATION`
    pub replication: Option<bool>,
    /// `BYPASSRLS` / `NOBYPASSRLS`
    pub bypass_rls: Option<bool>,
    /// `PASSWORD 'x'` (already a verifier: the plan never holds the password) or
    /// `PASSWORD NULL` (`Some(None)`).
    pub password: Option<Option<Verifier>>,
    /// `VALID UNTIL 'timestamp'` (timestamptz microseconds; `'infinity'` is `Some(None)`).
    pub valid_until: Option<Option<i64>>,
}

impl RoleOptions {
    /// Whether anything but the password is set (what a role may not change of itself).
    pub fn beyond_password(&self) -> bool {
        let Self {
            superuser,
            inherit,
            create_role,
            create_db,
            login,
            replication,
            bypass_rls,
            password: _,
            valid_until,
        } = self;
        [
            superuser,
            inherit,
            create_role,
            create_db,
            login,
            replication,
            bypass_rls,
        ]
        .iter()
        .any(|o| o.is_some())
            || valid_until.is_some()
    }
}

/// A statement on roles or databases.
#[derive(Clone, Debug, PartialEq)]
pub enum Admin {
    /// `CREATE ROLE` / `CREATE USER`
    CreateRole {
        /// Name.
        name: String,
        /// Attributes.
        options: RoleOptions,
    },
    /// `ALTER ROLE ... [WITH] options` / `ALTER USER`
    AlterRole {
        /// Name.
        name: String,
        /// What changes.
        options: RoleOptions,
    },
    /// `ALTER ROLE ... RENAME TO`
    RenameRole {
        /// The current name.
        name: String,
        /// The new name.
        to: String,
    },
    /// `DROP ROLE` / `DROP USER`
    DropRoles {
        /// Names.
        names: Vec<String>,
        /// `IF EXISTS`
        if_exists: bool,
    },
    /// `CREATE DATABASE`
    CreateDatabase {
        /// Name.
        name: String,
        /// `OWNER`: the creating role if `None`.
        owner: Option<String>,
        /// `ALLOW_CONNECTIONS`
        allow_connections: bool,
    },
    /// `DROP DATABASE`
    DropDatabase {
        /// Name.
        name: String,
        /// `IF EXISTS`
        if_exists: bool,
    },
}

impl Admin {
    /// The EXPLAIN line.
    pub fn explain(&self) -> String {
        match self {
            Admin::CreateRole { name, .. } => format!("CreateRole: {name}"),
            Admin::AlterRole { name, .. } => format!("AlterRole: {name}"),
            Admin::RenameRole { name, to } => format!("RenameRole: {name} to {to}"),
            Admin::DropRoles { names, .. } => format!("DropRole: {}", names.join(", ")),
            Admin::CreateDatabase { name, .. } => format!("CreateDatabase: {name}"),
            Admin::DropDatabase { name, .. } => format!("DropDatabase: {name}"),
        }
    }
}
