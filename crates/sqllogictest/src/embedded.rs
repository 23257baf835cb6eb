//! A [`Connection`] to ZizhuDB's SQL engine, embedded in this process (feature `zizhu`).
//!
//! Each connection is a session on a fresh in-memory database. Values are handed back as
//! PostgreSQL's text output, errors as `SQLSTATE: message`.

use std::sync::Arc;

use zizhu_engine_memory::MemoryEngine;
use zizhu_sql::types::{self, DataType};
use zizhu_sql::{Database, Session, StatementResult};

use crate::{Connection, Output, ValueKind};

/// A session on a fresh in-memory ZizhuDB database.
pub struct Embedded {
    session: Session<MemoryEngine>,
    _db: Arc<Database<MemoryEngine>>,
}

impl Embedded {
    /// A new, empty database and a session on it.
    pub fn new() -> Self {
        let db = Database::memory();
        Self {
            session: db.session(),
            _db: db,
        }
    }
}

impl Default for Embedded {
    fn default() -> Self {
        Self::new()
    }
}

fn kind(ty: &DataType) -> ValueKind {
    match ty {
        DataType::Bool => ValueKind::Bool,
        DataType::Int16 | DataType::Int32 | DataType::Int64 => ValueKind::Integer,
        DataType::Float32 | DataType::Float64 => ValueKind::Float,
        DataType::Numeric(_) => ValueKind::Numeric,
        _ => ValueKind::Text,
    }
}

impl Connection for Embedded {
    fn run(&mut self, sql: &str) -> Result<Output, String> {
        let results = self
            .session
            .execute(sql)
            .map_err(|e| format!("{}: {e}", e.sqlstate()))?;
        Ok(match results.into_iter().last() {
            Some(
                StatementResult::Query { labels, rows }
                | StatementResult::Returning { labels, rows, .. },
            ) => Output::Rows {
                types: Some(labels.iter().map(|l| kind(&l.data_type)).collect()),
                rows: rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|v| (!v.is_null()).then(|| types::to_text(v)))
                            .collect()
                    })
                    .collect(),
            },
            _ => Output::StatementComplete,
        })
    }
}
