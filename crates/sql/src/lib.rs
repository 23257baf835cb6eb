//! ZizhuDB's SQL layer.
//!
//! This crate grows into the whole SQL engine: parse → bind → plan → optimize → execute over
//! the transaction layer (`zizhu-txn`). Today it holds the first stage, the [`parser`]: the one
//! seam where SQL dialects (PostgreSQL now, an Oracle mode later) are chosen.

pub mod catalog;
pub mod error;
pub mod keys;
pub mod parser;
pub mod row;

pub use error::{Error, ErrorCode, Result};
pub mod types;
