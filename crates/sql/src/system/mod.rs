//! System views, system catalogs and administration functions: what the database reports
//! about itself and the operations DBAs and security officers run through SQL.
//!
//! System views are relations computed when read, resolved by name before the catalog (as
//! PostgreSQL searches `pg_catalog` first), so no user table can stand in for one:
//!
//! - `zizhu_stat_encryption`: one row, encryption at rest and the progress of a data key
//!   rotation;
//! - `zizhu_encryption_keys`: one row per data key, with its state;
//! - PostgreSQL's system catalogs, `pg_catalog.*` and `information_schema.*`
//!   ([`relations`]), so that psql's `\d` commands, JDBC's `DatabaseMetaData`, psycopg and
//!   SQLAlchemy find tables, columns, indexes, constraints and types where they look for
//!   them. Their rows are computed from the catalog as the statement's transaction sees it
//!   ([`pg_catalog`], [`information_schema`]); objects are numbered as [`oids`] describes;
//!   the functions clients call on them (`format_type`, `pg_get_indexdef`, `::regclass`, ...)
//!   are [`functions`].
//!
//! Administration functions act on the data directory:
//!
//! - `zizhu_rotate_master_key()`: re-seals the key store under a new master key, at once;
//! - `zizhu_rotate_data_key([max_mib_per_second])`: starts re-encrypting every page under a
//!   new data key in the background, and returns the new key's number.
//!
//! They are volatile (never folded, evaluated once per call) and refused inside a transaction
//! block, since what they do cannot be rolled back.

pub mod functions;
pub mod information_schema;
pub mod oids;
pub mod pg_catalog;
pub mod relations;

use std::sync::Arc;
use std::time::SystemTime;

use zizhu_datadir::{DataDir, Encryption};
use zizhu_types::{BigDecimal, Numeric, Timestamp, Value};

use crate::types::DataType;
use crate::{errinput, Result};

/// What a statement can see of the data directory.
#[derive(Clone, Default)]
pub enum DirState {
    /// A database in memory.
    #[default]
    Memory,
    /// A data directory without encryption.
    Plain,
    /// An encrypted data directory.
    Encrypted(Arc<Encryption>),
}

impl DirState {
    /// The state of `dir`.
    pub fn of(dir: Option<&DataDir>) -> Self {
        match dir {
            None => Self::Memory,
            Some(dir) => match dir.encryption() {
                Some(enc) => Self::Encrypted(Arc::clone(enc)),
                None => Self::Plain,
            },
        }
    }
}

/// Who runs a statement, for the catalogs and `current_user`: set by the server at login.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The session's user.
    pub user: String,
    /// The database it connected to.
    pub database: String,
    /// That database's identifier (0: none).
    pub database_id: crate::keys::DatabaseId,
    /// The logged-in role's OID: privileges are looked up by it, so a role renamed and its
    /// name given to another does not change who a session is (0 for a local session).
    pub user_oid: i64,
    /// Opened in-process through the embedded API, not by a login: acts as a superuser
    /// whether or not a role of its name exists.
    pub local: bool,
}

impl Default for Identity {
    /// Nobody, in no database: what evaluation outside a session's statement runs as, so it
    /// can read no catalog and holds no privilege.
    fn default() -> Self {
        Identity {
            user: String::new(),
            database: String::new(),
            database_id: 0,
            user_oid: 0,
            local: false,
        }
    }
}

impl Identity {
    /// An embedded session in `postgres` (see [`Identity::local`]).
    pub fn local() -> Self {
        Identity {
            user: "zizhu".into(),
            database: crate::catalog::cluster::POSTGRES_NAME.into(),
            database_id: crate::catalog::cluster::POSTGRES,
            user_oid: 0,
            local: true,
        }
    }
}

/// A system view; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemView {
    /// `zizhu_stat_encryption`
    EncryptionStatus,
    /// `zizhu_encryption_keys`
    EncryptionKeys,
    /// A relation of `pg_catalog` or `information_schema`.
    Catalog(&'static relations::RelationDef),
}

impl SystemView {
    /// The view named `name` in `schema` (unqualified if `None`), if there is one.
    pub fn lookup(schema: Option<&str>, name: &str) -> Option<Self> {
        match (schema, name) {
            (None, "zizhu_stat_encryption") => Some(Self::EncryptionStatus),
            (None, "zizhu_encryption_keys") => Some(Self::EncryptionKeys),
            (schema, name) => relations::lookup(schema, name).map(Self::Catalog),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::EncryptionStatus => "zizhu_stat_encryption",
            Self::EncryptionKeys => "zizhu_encryption_keys",
            Self::Catalog(def) => def.name,
        }
    }

    /// Its columns.
    pub fn columns(self) -> Vec<(&'static str, DataType)> {
        use DataType::*;
        match self {
            Self::Catalog(def) => def
                .columns
                .iter()
                .map(|(name, ty)| (*name, ty.data_type()))
                .collect(),
            Self::EncryptionStatus => vec![
                ("encrypted", Bool),
                ("cipher", Text),
                ("cipher_implementation", Text),
                ("master_key_source", Text),
                ("master_key_rotated", TimestampTz),
                ("active_key", Int32),
                ("rotation_state", Text),
                ("rotating_from_key", Int32),
                ("rotating_to_key", Int32),
                ("pages_total", Int64),
                ("pages_done", Int64),
                ("progress", Numeric(None)),
                ("pages_resealed", Int64),
                ("pages_unreadable", Int64),
                ("rate_mib_per_second", Float64),
                ("rotation_started", TimestampTz),
                ("rotation_finished", TimestampTz),
                ("rotation_error", Text),
                ("pages_sealed", Int64),
                ("pages_opened", Int64),
                ("authentication_failures", Int64),
            ],
            Self::EncryptionKeys => vec![
                ("key_id", Int32),
                ("state", Text),
                ("created", TimestampTz),
                ("destroyed", TimestampTz),
            ],
        }
    }

    /// Its rows now: `snapshot` gives the catalog for the catalog relations.
    pub fn rows(
        self,
        dir: &DirState,
        snapshot: impl FnOnce() -> Result<std::rc::Rc<crate::catalog::Snapshot>>,
        who: &Identity,
        settings: &crate::settings::Settings,
    ) -> Result<Vec<Vec<Value>>> {
        match (self, dir) {
            (Self::Catalog(def), _) if def.schema == "information_schema" => {
                information_schema::rows(def, &*snapshot()?, who)
            }
            (Self::Catalog(def), _) => pg_catalog::rows(def, &*snapshot()?, who, settings),
            (Self::EncryptionStatus, DirState::Encrypted(enc)) => {
                let s = enc.status();
                let r = &s.rotation;
                let progress = match (r.state, r.pages_total) {
                    ("finished", _) => percent(10_000),
                    ("running", total) if total > 0 => {
                        percent((r.pages_done.min(total) * 10_000 / total) as i64)
                    }
                    _ => Value::Null,
                };
                let int = |v: Option<u32>| v.map_or(Value::Null, |v| Value::Int32(v as i32));
                Ok(vec![vec![
                    Value::Bool(true),
                    Value::Text(s.cipher.into()),
                    Value::Text(s.implementation.into()),
                    Value::Text(s.master_key),
                    timestamp(s.master_rotated),
                    Value::Int32(s.active_key as i32),
                    Value::Text(r.state.into()),
                    int(r.from_key),
                    int(r.to_key),
                    Value::Int64(r.pages_total as i64),
                    Value::Int64(r.pages_done as i64),
                    progress,
                    Value::Int64(r.pages_resealed as i64),
                    Value::Int64(r.pages_unreadable as i64),
                    if r.state == "idle" {
                        Value::Null
                    } else {
                        Value::Float64(r.rate_mib_per_second)
                    },
                    timestamp(r.started),
                    timestamp(r.finished),
                    r.error.clone().map_or(Value::Null, Value::Text),
                    Value::Int64(s.pages_sealed as i64),
                    Value::Int64(s.pages_opened as i64),
                    Value::Int64(s.authentication_failures as i64),
                ]])
            }
            (Self::EncryptionStatus, plain) => {
                let mut row = vec![Value::Null; self.columns().len()];
                row[0] = Value::Bool(false);
                row[1] = Value::Text(match plain {
                    DirState::Memory => "none (in memory)".into(),
                    _ => "none".into(),
                });
                Ok(vec![row])
            }
            (Self::EncryptionKeys, DirState::Encrypted(enc)) => Ok(enc
                .key_list()
                .into_iter()
                .map(|k| {
                    vec![
                        Value::Int32(k.id as i32),
                        Value::Text(k.state.into()),
                        timestamp(Some(k.created)),
                        timestamp(k.destroyed),
                    ]
                })
                .collect()),
            (Self::EncryptionKeys, _) => Ok(vec![]),
        }
    }
}

/// A percentage with two decimals from hundredths.
fn percent(hundredths: i64) -> Value {
    Value::Numeric(Numeric::finite(BigDecimal::new(hundredths.into(), 2)))
}

/// A timestamptz value of a system time (PostgreSQL counts from 2000-01-01).
fn timestamp(at: Option<SystemTime>) -> Value {
    let Some(at) = at else {
        return Value::Null;
    };
    let unix = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    };
    Value::TimestampTz(Timestamp(unix - 946_684_800_000_000))
}

/// An administration function; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminFunction {
    /// `zizhu_rotate_master_key()`
    RotateMasterKey,
    /// `zizhu_rotate_data_key([max_mib_per_second])`
    RotateDataKey,
}

impl AdminFunction {
    /// The function named `name` taking `args` arguments, if there is one.
    pub fn lookup(name: &str, args: usize) -> Option<Self> {
        match (name, args) {
            ("zizhu_rotate_master_key", 0) => Some(Self::RotateMasterKey),
            ("zizhu_rotate_data_key", 0 | 1) => Some(Self::RotateDataKey),
            _ => None,
        }
    }

    /// Whether a function of this name exists (with some number of arguments).
    pub fn is_known(name: &str) -> bool {
        matches!(name, "zizhu_rotate_master_key" | "zizhu_rotate_data_key")
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RotateMasterKey => "zizhu_rotate_master_key",
            Self::RotateDataKey => "zizhu_rotate_data_key",
        }
    }

    /// Its result type.
    pub fn result_type(self) -> DataType {
        match self {
            Self::RotateMasterKey => DataType::Text,
            Self::RotateDataKey => DataType::Int32,
        }
    }

    /// Runs it with evaluated `args`.
    pub fn call(self, args: &[Value], dir: &DirState, in_block: bool) -> Result<Value> {
        if in_block {
            return Err(errinput!(
                ActiveSqlTransaction,
                "{}() cannot run inside a transaction block",
                self.name()
            ));
        }
        let enc = match dir {
            DirState::Encrypted(enc) => enc,
            _ => {
                return Err(errinput!(
                    ObjectNotInPrerequisiteState,
                    "{}(): encryption at rest is off for this database",
                    self.name()
                ))
            }
        };
        match self {
            Self::RotateMasterKey => {
                enc.rotate_master_key()?;
                Ok(Value::Text(format!(
                    "the key store is sealed under a new master key from {}",
                    enc.status().master_key
                )))
            }
            Self::RotateDataKey => {
                let rate = match args.first() {
                    None | Some(Value::Null) => zizhu_datadir::encryption::DEFAULT_ROTATION_RATE,
                    Some(v) => match crate::types::cast(v.clone(), &DataType::Float64)? {
                        Value::Float64(r) if r > 0.0 && r.is_finite() => r,
                        _ => {
                            return Err(errinput!(
                                InvalidParameterValue,
                                "zizhu_rotate_data_key(): the rate must be a positive number \
                                 of MiB per second"
                            ))
                        }
                    },
                };
                Ok(Value::Int32(enc.rotate_data_key(rate)? as i32))
            }
        }
    }
}
