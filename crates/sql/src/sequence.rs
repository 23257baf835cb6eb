//! Sequences: definitions in the catalog, counters outside transactions.
//!
//! As in PostgreSQL, a sequence's definition is transactional (a rolled-back CREATE SEQUENCE
//! leaves nothing) but its counter is not: `nextval` in a transaction that rolls back still
//! consumes the value, and concurrent sessions never wait on each other for a number. The
//! counter lives in the open database's memory ([`Counters`]); before handing out a value
//! beyond what is already durable, it commits a new high-water mark for the next
//! [`LOG_AHEAD`] values in a small transaction of its own, so after a crash numbering resumes
//! past every value that could have been handed out: values may be skipped, never repeated.
//! `currval` is the session's last value (55000 before the session's first `nextval`).

use std::collections::HashMap;

use parking_lot::Mutex;
use zizhu_engine::Engine;
use zizhu_txn::{Mvcc, TxnOptions};
use zizhu_types::Value;

use crate::catalog::schema::SearchPath;
use crate::execution::Reader;
use crate::keys::{DatabaseId, Key, Namespace, TableId};
use crate::{errinput, errinternal, row, Result};

/// Values made durable ahead of use at a time.
pub const LOG_AHEAD: i64 = 32;

/// A sequence's definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    /// Identifier; the counter is keyed by it, so a recreated sequence starts afresh.
    pub id: TableId,
    /// The schema it is in.
    pub schema: crate::keys::SchemaId,
    /// Name.
    pub name: String,
    /// Step (negative for a descending sequence).
    pub increment: i64,
    /// First value.
    pub start: i64,
    /// Smallest value.
    pub min: i64,
    /// Largest value.
    pub max: i64,
    /// Wrap around at the end instead of failing.
    pub cycle: bool,
    /// The table owning it (a SERIAL column's sequence), dropped with the table.
    pub owned_by: Option<String>,
}

impl Sequence {
    /// A sequence in `schema` with PostgreSQL's defaults for the given step and type bound.
    pub fn new(schema: crate::keys::SchemaId, name: String, increment: i64, type_max: i64) -> Self {
        let (min, max) = if increment > 0 {
            (1, type_max)
        } else {
            (-type_max - 1, -1)
        };
        let start = if increment > 0 { min } else { max };
        Sequence {
            id: 0,
            schema,
            name,
            increment,
            start,
            min,
            max,
            cycle: false,
            owned_by: None,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        row::encode(&[
            Value::Int64(self.id),
            Value::Int64(self.increment),
            Value::Int64(self.start),
            Value::Int64(self.min),
            Value::Int64(self.max),
            Value::Bool(self.cycle),
            self.owned_by.clone().map_or(Value::Null, Value::Text),
        ])
    }

    pub(crate) fn decode(
        schema: crate::keys::SchemaId,
        name: &str,
        bytes: &[u8],
    ) -> Result<Sequence> {
        match row::decode(bytes)?.as_slice() {
            [Value::Int64(id), Value::Int64(increment), Value::Int64(start), Value::Int64(min), Value::Int64(max), Value::Bool(cycle), owned_by] => {
                Ok(Sequence {
                    id: *id,
                    schema,
                    name: name.to_string(),
                    increment: *increment,
                    start: *start,
                    min: *min,
                    max: *max,
                    cycle: *cycle,
                    owned_by: match owned_by {
                        Value::Text(t) => Some(t.clone()),
                        _ => None,
                    },
                })
            }
            other => Err(errinternal!("corrupt sequence definition {other:?}")),
        }
    }

    /// Reads the definition of the sequence `text` names (`seq`, `app.seq`, `"Seq"`: a
    /// `regclass` literal, unqualified names found through `path`) through `reader`; 42P01
    /// if there is none.
    pub fn lookup(
        reader: &dyn Reader,
        db: DatabaseId,
        path: &SearchPath,
        text: &str,
    ) -> Result<Sequence> {
        let (schema, name) = crate::system::oids::split_qualified(text);
        let schemas = match schema {
            Some(schema) => vec![crate::catalog::Catalog::schema(reader, db, &schema)?
                .ok_or_else(|| {
                    errinput!(InvalidSchemaName, "schema \"{schema}\" does not exist")
                })?],
            None => path.resolve(reader, db)?,
        };
        for schema in schemas {
            let ns = Namespace::new(db, schema.id);
            if let Some(bytes) = reader.get(&Key::Sequence(ns, name.clone()).encode())? {
                return Sequence::decode(schema.id, &name, &bytes);
            }
        }
        Err(errinput!(
            UndefinedTable,
            "relation \"{text}\" does not exist"
        ))
    }
}

/// Sequence functions as a session sees them.
pub trait Sequences {
    /// `nextval(name)`.
    fn nextval(&self, reader: &dyn Reader, name: &str) -> Result<i64>;
    /// `currval(name)`.
    fn currval(&self, reader: &dyn Reader, name: &str) -> Result<i64>;
    /// `setval(name, value, is_called)`.
    fn setval(&self, reader: &dyn Reader, name: &str, value: i64, is_called: bool) -> Result<i64>;
}

/// A sequence's counter: the last value handed out and the durable high-water mark.
#[derive(Clone, Copy, Debug)]
struct State {
    last: Option<i64>,
    logged: Option<i64>,
}

/// The counters of an open database's sequences.
#[derive(Default)]
pub struct Counters {
    states: Mutex<HashMap<TableId, State>>,
}

impl Counters {
    /// The next value of `seq`, made durable ahead of use.
    pub fn next<E: Engine>(&self, mvcc: &Mvcc<E>, seq: &Sequence) -> Result<i64> {
        let mut states = self.states.lock();
        let state = match states.get(&seq.id) {
            Some(state) => *state,
            None => Self::load(mvcc, seq)?,
        };
        let next = match state.last {
            None => seq.start,
            Some(last) => match last.checked_add(seq.increment) {
                Some(n) if n >= seq.min && n <= seq.max => n,
                _ if seq.cycle => {
                    if seq.increment > 0 {
                        seq.min
                    } else {
                        seq.max
                    }
                }
                _ => {
                    let (which, bound) = if seq.increment > 0 {
                        ("maximum", seq.max)
                    } else {
                        ("minimum", seq.min)
                    };
                    return Err(errinput!(
                        SequenceGeneratorLimitExceeded,
                        "nextval: reached {which} value of sequence \"{}\" ({bound})",
                        seq.name
                    ));
                }
            },
        };
        let covered = state.logged.is_some_and(|logged| {
            if seq.increment > 0 {
                next <= logged
            } else {
                next >= logged
            }
        });
        let mut logged = state.logged;
        if !covered {
            let ahead = next.saturating_add(seq.increment.saturating_mul(LOG_AHEAD - 1));
            let ahead = ahead.clamp(seq.min, seq.max);
            Self::persist(mvcc, seq, ahead)?;
            logged = Some(ahead);
        }
        states.insert(
            seq.id,
            State {
                last: Some(next),
                logged,
            },
        );
        Ok(next)
    }

    /// Sets the counter (`setval`): the next value is `value` + increment, or `value` itself
    /// unless `is_called`.
    pub fn set<E: Engine>(
        &self,
        mvcc: &Mvcc<E>,
        seq: &Sequence,
        value: i64,
        is_called: bool,
    ) -> Result<()> {
        if value < seq.min || value > seq.max {
            return Err(errinput!(
                NumericValueOutOfRange,
                "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
                seq.name,
                seq.min,
                seq.max
            ));
        }
        let last = if is_called {
            Some(value)
        } else {
            value.checked_sub(seq.increment)
        };
        Self::persist(mvcc, seq, value)?;
        self.states.lock().insert(
            seq.id,
            State {
                last,
                logged: Some(value),
            },
        );
        Ok(())
    }

    /// The durable state after a restart: numbering resumes past the high-water mark.
    fn load<E: Engine>(mvcc: &Mvcc<E>, seq: &Sequence) -> Result<State> {
        let mut txn = mvcc.begin(TxnOptions::default());
        txn.begin_statement();
        let stored = txn.get(&Key::SequenceValue(seq.id).encode())?;
        Ok(
            match stored.map(|b| row::decode(&b)).transpose()?.as_deref() {
                Some([Value::Int64(logged)]) => State {
                    last: Some(*logged),
                    logged: Some(*logged),
                },
                _ => State {
                    last: None,
                    logged: None,
                },
            },
        )
    }

    /// Commits a new high-water mark in a transaction of its own.
    fn persist<E: Engine>(mvcc: &Mvcc<E>, seq: &Sequence, logged: i64) -> Result<()> {
        let mut txn = mvcc.begin(TxnOptions::default());
        txn.begin_statement();
        txn.put(
            &Key::SequenceValue(seq.id).encode(),
            row::encode(&[Value::Int64(logged)]),
        )?;
        txn.commit()?;
        Ok(())
    }
}
