//! ZizhuDB's SQL layer: parse → bind → plan → optimize → execute over the transaction layer.
//!
//! - [`parser`]: sqlparser with [`ZizhuDialect`](parser::ZizhuDialect), the one seam where the
//!   PostgreSQL dialect (and later the Oracle mode) is chosen.
//! - [`planner`]: the binder resolves names against the [`catalog`] and produces a
//!   [`Plan`](planner::Plan), a plain enum that prints as a tree (EXPLAIN shows that printer);
//!   optimizer rules are a list of plan rewrites.
//! - [`execution`]: plans run as iterators of rows against a transaction.
//! - [`functions`]: the scalar function library (strings, math, date/time), called by name.
//! - [`types`]: PostgreSQL's types, casts, text I/O and operators over [`zizhu_types::Value`].
//! - [`system`]: system views (`zizhu_stat_encryption`, ...) and administration functions.
//! - [`session`]: the embedded API, [`Database`] and [`Session`], with its [`settings`] and
//!   prepared statements ([`Prepared`]).
//!
//! Rows are stored under [`keys::Key::Row`] in primary-key order, encoded by [`row`].

pub mod catalog;
pub mod error;
pub mod execution;
pub mod functions;
pub mod keys;
pub mod parser;
pub mod planner;
pub mod row;
pub mod sequence;
pub mod session;
pub mod settings;
pub mod system;
pub mod types;

pub use error::{Error, ErrorCode, Result};
pub use execution::{Notice, StatementResult};
pub use session::{CopyIn, Database, Prepared, Session};
/// How [`Database::open`] opens a data directory (encryption, cache).
pub use zizhu_datadir::{EncryptionChoice, Options as OpenOptions};
/// The on-disk engine [`Database::open`] uses.
pub use zizhu_engine_redb::RedbEngine;
