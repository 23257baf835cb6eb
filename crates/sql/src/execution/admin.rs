//! Executing the statements on roles and databases ([`Admin`] plans), with PostgreSQL's
//! privilege rules for them, and the registry of which sessions are in which database.
//!
//! The rules (PostgreSQL 15's):
//! - CREATE ROLE needs SUPERUSER or CREATEROLE; creating, altering, renaming or dropping a
//!   superuser needs SUPERUSER, and so do REPLICATION and BYPASSRLS.
//! - Any role may change its own password; nothing else of itself without CREATEROLE.
//! - The bootstrap superuser stays a superuser; the current and session user cannot be
//!   dropped or renamed; a role that owns a database cannot be dropped.
//! - CREATE DATABASE needs SUPERUSER or CREATEDB, and gives the database to another owner
//!   only for a superuser; DROP DATABASE needs ownership or SUPERUSER. Neither runs inside a
//!   transaction block, and no database is dropped while a session is connected to it.
//!
//! A session opened through the embedded API without logging in ([`Identity::local`]) acts
//! as a superuser: it already has the data directory's files.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use zizhu_engine::Engine;
use zizhu_txn::Transaction;

use super::{Context, Notice, StatementResult};
use crate::catalog::cluster::{Cluster, DatabaseDef, Role, BOOTSTRAP_ROLE};
use crate::keys::DatabaseId;
use crate::planner::admin::{Admin, RoleOptions};
use crate::system::Identity;
use crate::{errinput, Result};

/// How long DROP DATABASE waits for the background sessions it cancelled to leave.
const DROP_WAIT: Duration = Duration::from_secs(5);

/// Which sessions are connected to which database, so DROP DATABASE can refuse while one is,
/// and no session can connect to a database being dropped.
#[derive(Debug, Default)]
pub struct Connections {
    state: Mutex<ConnectionState>,
}

#[derive(Debug, Default)]
struct ConnectionState {
    sessions: HashMap<DatabaseId, usize>,
    /// The background sessions among them (automatic ANALYZE), by the handle that cancels
    /// each: DROP DATABASE cancels them, as PostgreSQL's ends autovacuum workers, rather than
    /// refusing.
    background: HashMap<DatabaseId, Vec<Arc<super::Interrupt>>>,
    /// Databases a DROP DATABASE has deleted (identifiers are never reused).
    dropped: HashSet<DatabaseId>,
    /// Databases a DROP DATABASE is waiting to claim: no background session may enter them.
    draining: HashSet<DatabaseId>,
}

impl Connections {
    /// Registers a session in `db`; 3D000 if it is being dropped.
    pub fn enter(&self, db: DatabaseId, name: &str) -> Result<()> {
        let mut state = self.state.lock();
        Self::enter_locked(&mut state, db, name, false)
    }

    fn enter_locked(
        state: &mut ConnectionState,
        db: DatabaseId,
        name: &str,
        background: bool,
    ) -> Result<()> {
        if state.dropped.contains(&db) || (background && state.draining.contains(&db)) {
            return Err(errinput!(
                InvalidCatalogName,
                "database \"{name}\" does not exist"
            ));
        }
        *state.sessions.entry(db).or_default() += 1;
        Ok(())
    }

    /// Unregisters a session.
    pub fn leave(&self, db: DatabaseId) {
        let mut state = self.state.lock();
        Self::leave_locked(&mut state, db);
    }

    fn leave_locked(state: &mut ConnectionState, db: DatabaseId) {
        if let Some(n) = state.sessions.get_mut(&db) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.sessions.remove(&db);
            }
        }
    }

    /// Registers a background session in `db`, cancelled through `interrupt` if the database
    /// is dropped; 3D000 if it is being dropped (or a DROP DATABASE is waiting for it).
    pub fn enter_background(
        &self,
        db: DatabaseId,
        name: &str,
        interrupt: Arc<super::Interrupt>,
    ) -> Result<()> {
        // One critical section: a DROP never sees the session without its handle.
        let mut state = self.state.lock();
        Self::enter_locked(&mut state, db, name, true)?;
        state.background.entry(db).or_default().push(interrupt);
        Ok(())
    }

    /// Unregisters a background session.
    pub fn leave_background(&self, db: DatabaseId, interrupt: &Arc<super::Interrupt>) {
        let mut state = self.state.lock();
        if let Some(list) = state.background.get_mut(&db) {
            list.retain(|i| !Arc::ptr_eq(i, interrupt));
            if list.is_empty() {
                state.background.remove(&db);
            }
        }
        Self::leave_locked(&mut state, db);
    }

    /// Marks `db` as dropped, unless a session is in it (55006). Background sessions in it are
    /// cancelled and waited for, up to [`DROP_WAIT`]; meanwhile no new one may enter.
    fn claim_for_drop(&self, db: &DatabaseDef) -> Result<()> {
        let deadline = Instant::now() + DROP_WAIT;
        let mut state = self.state.lock();
        state.draining.insert(db.id);
        let claimed = loop {
            let n = state.sessions.get(&db.id).copied().unwrap_or(0);
            if n == 0 {
                state.dropped.insert(db.id);
                break Ok(());
            }
            let background = state.background.get(&db.id).map_or(&[][..], Vec::as_slice);
            if n > background.len() || Instant::now() >= deadline {
                break Err(Self::in_use(db, n));
            }
            for interrupt in background {
                interrupt.cancel();
            }
            drop(state);
            std::thread::sleep(Duration::from_millis(10));
            state = self.state.lock();
        };
        state.draining.remove(&db.id);
        claimed
    }

    fn in_use(db: &DatabaseDef, n: usize) -> crate::Error {
        errinput!(
            ObjectInUse,
            "database \"{}\" is being accessed by other users",
            db.name
        )
        .with_detail(format!(
            "There {} {n} other session{} using the database.",
            if n == 1 { "is" } else { "are" },
            if n == 1 { "" } else { "s" }
        ))
    }

    /// Gives back a database a DROP DATABASE claimed, when it failed or did not commit.
    pub fn release(&self, db: DatabaseId) {
        self.state.lock().dropped.remove(&db);
    }
}

/// The role running the statement, with what it may do.
pub(super) fn current_role<E: Engine>(txn: &Transaction<E>, who: &Identity) -> Result<Role> {
    if who.local {
        return Ok(Role {
            oid: 0,
            superuser: true,
            create_role: true,
            create_db: true,
            ..Role::new(&who.user)
        });
    }
    Cluster::roles(txn)?
        .into_iter()
        .find(|r| r.oid == who.user_oid)
        .ok_or_else(|| {
            errinput!(
                InvalidAuthorizationSpecification,
                "role with OID {} does not exist",
                who.user_oid
            )
        })
}

pub(super) fn denied(message: impl Into<String>) -> crate::Error {
    errinput!(InsufficientPrivilege, "{}", message.into())
}

pub(super) fn undefined_role(name: &str) -> crate::Error {
    errinput!(UndefinedObject, "role \"{name}\" does not exist")
}

fn outside_block(ctx: &dyn Context, what: &str) -> Result<()> {
    if ctx.in_transaction_block() {
        return Err(errinput!(
            ActiveSqlTransaction,
            "{what} cannot run inside a transaction block"
        ));
    }
    Ok(())
}

/// Whether `me` may create (no `target`) or change `target` with `options` set.
fn may_manage(me: &Role, options: &RoleOptions, target: Option<&Role>, verb: &str) -> Result<()> {
    if me.superuser {
        return Ok(());
    }
    if target.is_some_and(|t| t.superuser) || options.superuser == Some(true) {
        return Err(denied(format!("must be superuser to {verb} superusers")));
    }
    let privileged = target.is_some_and(|t| t.replication || t.bypass_rls);
    if privileged || options.replication.is_some() || options.bypass_rls.is_some() {
        return Err(denied(format!(
            "must be superuser to {verb} replication or bypassrls roles"
        )));
    }
    if !me.create_role {
        return Err(denied(format!("permission denied to {verb} role")));
    }
    Ok(())
}

fn apply(role: &mut Role, options: RoleOptions) {
    let RoleOptions {
        superuser,
        inherit,
        create_role,
        create_db,
        login,
        replication,
        bypass_rls,
        password,
        valid_until,
    } = options;
    let set = |slot: &mut bool, value: Option<bool>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut role.superuser, superuser);
    set(&mut role.inherit, inherit);
    set(&mut role.create_role, create_role);
    set(&mut role.create_db, create_db);
    set(&mut role.login, login);
    set(&mut role.replication, replication);
    set(&mut role.bypass_rls, bypass_rls);
    if let Some(password) = password {
        role.password = password;
    }
    if let Some(until) = valid_until {
        role.valid_until = until;
    }
}

/// Executes an [`Admin`] plan.
pub fn execute<E: Engine>(
    admin: Admin,
    txn: &mut Transaction<E>,
    ctx: &dyn Context,
) -> Result<StatementResult> {
    let who = ctx.identity();
    let me = current_role(txn, &who)?;
    match admin {
        Admin::CreateRole { name, options } => {
            may_manage(&me, &options, None, "create")?;
            if name.starts_with("pg_") {
                return Err(errinput!(ReservedName, "role name \"{name}\" is reserved")
                    .with_detail("Role names starting with \"pg_\" are reserved."));
            }
            let mut role = Role::new(&name);
            apply(&mut role, options);
            Cluster::create_role(txn, role)?;
            Ok(StatementResult::Command("CREATE ROLE"))
        }
        Admin::AlterRole { name, options } => {
            let mut role = Cluster::role(txn, &name)?.ok_or_else(|| undefined_role(&name))?;
            let own_password = role.oid == me.oid && !options.beyond_password();
            if !own_password {
                may_manage(&me, &options, Some(&role), "alter")?;
            }
            if role.oid == BOOTSTRAP_ROLE && options.superuser == Some(false) {
                return Err(denied(
                    "permission denied: bootstrap user must be superuser",
                ));
            }
            apply(&mut role, options);
            Cluster::update_role(txn, &name, &role)?;
            Ok(StatementResult::Command("ALTER ROLE"))
        }
        Admin::RenameRole { name, to } => {
            let mut role = Cluster::role(txn, &name)?.ok_or_else(|| undefined_role(&name))?;
            if role.oid == me.oid {
                return Err(errinput!(
                    FeatureNotSupported,
                    "session user cannot be renamed"
                ));
            }
            may_manage(&me, &RoleOptions::default(), Some(&role), "rename")?;
            if to.starts_with("pg_") {
                return Err(errinput!(ReservedName, "role name \"{to}\" is reserved")
                    .with_detail("Role names starting with \"pg_\" are reserved."));
            }
            role.name = to;
            Cluster::update_role(txn, &name, &role)?;
            Ok(StatementResult::Command("ALTER ROLE"))
        }
        Admin::DropRoles { names, if_exists } => {
            let databases = Cluster::databases(txn)?;
            for name in names {
                let Some(role) = Cluster::role(txn, &name)? else {
                    if if_exists {
                        ctx.notice(Notice::info(format!(
                            "role \"{name}\" does not exist, skipping"
                        )));
                        continue;
                    }
                    return Err(undefined_role(&name));
                };
                if role.oid == me.oid {
                    return Err(errinput!(ObjectInUse, "current user cannot be dropped"));
                }
                may_manage(&me, &RoleOptions::default(), Some(&role), "drop")?;
                if role.oid == BOOTSTRAP_ROLE {
                    return Err(errinput!(
                        DependentObjectsStillExist,
                        "cannot drop role {name} because it is required by the database system"
                    ));
                }
                let owned: Vec<String> = databases
                    .iter()
                    .filter(|d| d.owner == role.oid)
                    .map(|d| format!("owner of database {}", d.name))
                    .collect();
                if !owned.is_empty() {
                    return Err(errinput!(
                        DependentObjectsStillExist,
                        "role \"{name}\" cannot be dropped because some objects depend on it"
                    )
                    .with_detail(owned.join("\n")));
                }
                Cluster::drop_role(txn, &name)?;
            }
            Ok(StatementResult::Command("DROP ROLE"))
        }
        Admin::CreateDatabase {
            name,
            owner,
            allow_connections,
        } => {
            outside_block(ctx, "CREATE DATABASE")?;
            if !me.superuser && !me.create_db {
                return Err(denied("permission denied to create database"));
            }
            let owner = match owner {
                // A local session is no role: its databases go to the bootstrap superuser.
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
            Cluster::create_database(
                txn,
                DatabaseDef {
                    id: 0,
                    name,
                    owner,
                    allow_connections,
                },
            )?;
            Ok(StatementResult::Command("CREATE DATABASE"))
        }
        Admin::DropDatabase { name, if_exists } => {
            outside_block(ctx, "DROP DATABASE")?;
            let Some(db) = Cluster::database(txn, &name)? else {
                if if_exists {
                    ctx.notice(Notice::info(format!(
                        "database \"{name}\" does not exist, skipping"
                    )));
                    return Ok(StatementResult::Command("DROP DATABASE"));
                }
                return Err(errinput!(
                    InvalidCatalogName,
                    "database \"{name}\" does not exist"
                ));
            };
            if !me.superuser && db.owner != me.oid {
                return Err(denied(format!("must be owner of database {name}")));
            }
            if db.id == who.database_id {
                return Err(errinput!(
                    ObjectInUse,
                    "cannot drop the currently open database"
                ));
            }
            let connections = ctx.connections();
            if let Some(c) = &connections {
                c.claim_for_drop(&db)?;
                ctx.claimed_for_drop(db.id);
            }
            let dropped = Cluster::drop_database(txn, &db);
            if let (Err(_), Some(c)) = (&dropped, &connections) {
                c.release(db.id);
            }
            dropped?;
            Ok(StatementResult::Command("DROP DATABASE"))
        }
    }
}
