//! Prepared statements: parsed once, their parameters' types inferred, run many times.
//!
//! [`Session::prepare`] parses the statement and binds it once without values, which infers
//! the type of each parameter `$n` from its context ([`Params`]) and gives the columns it will
//! return (what the protocol's Describe reports). [`Session::execute_prepared`] binds it again
//! with the values as constants and plans it afresh: PostgreSQL's "custom plan", so `id = $1`
//! becomes a key lookup exactly as `id = 7` does. Parsing, the costly step for short
//! statements, is what is saved; caching a generic plan is left for later.
//!
//! SQL's `PREPARE name [(types)] AS statement`, `EXECUTE name [(values)]` and
//! `DEALLOCATE [PREPARE] {name | ALL}` use the same path, with the session's named statements.

use std::sync::Arc;

use zizhu_engine::Engine;
use zizhu_txn::{IsolationLevel, TxnOptions};
use zizhu_types::Value;

use super::{interrupted, run, Session};
use crate::execution::StatementResult;
use crate::parser::{self, ast};
use crate::planner::{data_type_from_ast, Binder, Label, Params, Plan};
use crate::types::{self, DataType};
use crate::{errinput, Result};

/// A parsed statement whose parameters' types and result columns are known.
#[derive(Clone, Debug)]
pub struct Prepared {
    sql: String,
    /// None for an empty statement.
    statement: Option<ast::Statement>,
    param_types: Vec<DataType>,
    labels: Option<Vec<Label>>,
}

impl Prepared {
    /// The statement's text.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The type of each parameter, `$1` first.
    pub fn param_types(&self) -> &[DataType] {
        &self.param_types
    }

    /// The columns of the rows it returns; `None` if it returns no rows.
    pub fn labels(&self) -> Option<&[Label]> {
        self.labels.as_deref()
    }

    /// Whether the statement is empty (only whitespace or comments).
    pub fn is_empty(&self) -> bool {
        self.statement.is_none()
    }
}

impl<E: Engine> Session<E> {
    /// Prepares one statement. `given` holds the types the client fixed for the first
    /// parameters (`Unknown` for one it leaves to the statement).
    /// An error aborts an open transaction block, as any failed statement does.
    pub fn prepare(&mut self, sql: &str, given: &[DataType]) -> Result<Prepared> {
        let result = parser::parse(&self.dialect, sql).and_then(|mut statements| {
            if statements.len() > 1 {
                return Err(errinput!(
                    SyntaxError,
                    "cannot insert multiple commands into a prepared statement"
                ));
            }
            self.describe(sql, statements.pop(), given.to_vec())
        });
        if result.is_err() {
            if let Some(block) = self.block.as_mut() {
                block.failed = true;
            }
        }
        result
    }

    /// Runs a prepared statement with one value per parameter (converted to the parameter's
    /// type as an assignment would be).
    pub fn execute_prepared(
        &mut self,
        prepared: &Prepared,
        values: Vec<Value>,
    ) -> Result<StatementResult> {
        self.notices.lock().clear();
        if values.len() != prepared.param_types.len() {
            return Err(errinput!(
                ProtocolViolation,
                "bind message supplies {} parameters, but prepared statement requires {}",
                values.len(),
                prepared.param_types.len()
            ));
        }
        let values = values
            .into_iter()
            .zip(&prepared.param_types)
            .map(|(v, ty)| types::cast(v, ty))
            .collect::<Result<Vec<_>>>()?;
        let Some(statement) = &prepared.statement else {
            return Ok(StatementResult::Empty);
        };
        let params = Params::values(prepared.param_types.clone(), values);
        self.execute_statement(&prepared.sql, statement, Some(&params))
    }

    /// Runs a prepared statement inside the open block with `values` bound and `rewrite`
    /// applied to its plan (COPY's bulk path); a failure fails the block.
    pub(super) fn execute_prepared_rewritten(
        &mut self,
        prepared: &Prepared,
        values: Vec<Value>,
        rewrite: impl FnOnce(Plan) -> Result<Plan>,
    ) -> Result<StatementResult> {
        let Some(statement) = &prepared.statement else {
            return Err(crate::errinternal!(
                "an empty statement has no plan to rewrite"
            ));
        };
        let ctx = self.context();
        let Some(block) = self.block.as_mut() else {
            return Err(crate::errinternal!(
                "a rewritten statement runs only in a block"
            ));
        };
        let params = Params::values(prepared.param_types.clone(), values);
        let result = run(
            &ctx,
            &self.dialect,
            &mut block.txn,
            &prepared.sql,
            statement,
            Some(&params),
            rewrite,
        );
        if result.is_err() {
            block.failed = true;
        }
        result.map_err(|e| interrupted(&self.interrupt, e))
    }

    fn describe(
        &mut self,
        sql: &str,
        statement: Option<ast::Statement>,
        given: Vec<DataType>,
    ) -> Result<Prepared> {
        use ast::Statement as S;
        let prepared = |statement, param_types, labels| Prepared {
            sql: sql.to_string(),
            statement,
            param_types,
            labels,
        };
        let Some(statement) = statement else {
            let params = Params::describe(given);
            return Ok(prepared(None, params.types()?, None));
        };
        match &statement {
            // Statements the session runs itself take no parameters.
            S::StartTransaction { .. }
            | S::Commit { .. }
            | S::Rollback { .. }
            | S::Savepoint { .. }
            | S::ReleaseSavepoint { .. }
            | S::Set(_)
            | S::Reset(_)
            | S::Prepare { .. }
            | S::Execute { .. }
            | S::Deallocate { .. } => {
                let types = Params::describe(given).types()?;
                return Ok(prepared(Some(statement), types, None));
            }
            S::ShowVariable { variable } => {
                let labels = match self.show(variable)? {
                    StatementResult::Query { labels, .. } => Some(labels),
                    _ => None,
                };
                let types = Params::describe(given).types()?;
                return Ok(prepared(Some(statement), types, labels));
            }
            _ => {}
        }
        if self.in_failed_transaction() {
            return Err(errinput!(
                InFailedSqlTransaction,
                "current transaction is aborted, commands ignored until end of transaction block"
            ));
        }
        let params = Params::describe(given);
        let path = self.settings.search_path(&self.identity.user);
        let cache = (!self
            .schemas_changed
            .load(std::sync::atomic::Ordering::Acquire))
        .then(|| self.db.schemas.clone());
        fn with_cache<'a, E: Engine>(
            binder: Binder<'a, E>,
            cache: &Option<Arc<crate::catalog::schema::SchemaCache>>,
        ) -> Binder<'a, E> {
            match cache {
                Some(cache) => binder.with_schema_cache(cache.clone()),
                None => binder,
            }
        }
        let plan = match &self.block {
            Some(block) => with_cache(
                Binder::with_params(
                    &block.txn,
                    self.identity.clone(),
                    sql,
                    &self.dialect,
                    &params,
                )
                .with_search_path(path),
                &cache,
            )
            .bind(&statement),
            None => {
                // Binding reads the catalog only; the transaction is thrown away.
                let txn = self.db.mvcc.begin(TxnOptions {
                    isolation: IsolationLevel::ReadCommitted,
                    read_only: true,
                    lock_timeout: self.settings.lock_timeout(),
                });
                let plan = with_cache(
                    Binder::with_params(&txn, self.identity.clone(), sql, &self.dialect, &params)
                        .with_search_path(path),
                    &cache,
                )
                .bind(&statement);
                txn.rollback();
                plan
            }
        }?;
        let labels = match plan {
            Plan::Select { labels, .. } => Some(labels),
            Plan::Insert { returning, .. }
            | Plan::Update { returning, .. }
            | Plan::Delete { returning, .. } => returning.map(|r| r.labels),
            Plan::Explain(_) | Plan::ExplainAnalyze(_) => Some(vec![Label {
                name: "QUERY PLAN".into(),
                data_type: DataType::Text,
            }]),
            _ => None,
        };
        Ok(prepared(Some(statement), params.types()?, labels))
    }

    /// `PREPARE name [(types)] AS statement`
    pub(super) fn sql_prepare(
        &mut self,
        sql: &str,
        name: &ast::Ident,
        data_types: &[ast::DataType],
        statement: &ast::Statement,
    ) -> Result<StatementResult> {
        let name = statement_name(name);
        if self.prepared.contains_key(&name) {
            return Err(errinput!(
                DuplicatePreparedStatement,
                "prepared statement \"{name}\" already exists"
            ));
        }
        let given = data_types
            .iter()
            .map(data_type_from_ast)
            .collect::<Result<Vec<_>>>()?;
        let prepared = self.describe(sql, Some(statement.clone()), given)?;
        self.prepared.insert(name, Arc::new(prepared));
        Ok(StatementResult::Command("PREPARE"))
    }

    /// `EXECUTE name [(values)]`: the values are constant expressions, converted to the
    /// parameters' types.
    pub(super) fn sql_execute(
        &mut self,
        name: &ast::ObjectName,
        parameters: &[ast::Expr],
    ) -> Result<StatementResult> {
        let name = match name.0.as_slice() {
            [ast::ObjectNamePart::Identifier(id)] => statement_name(id),
            _ => name.to_string(),
        };
        let prepared = self.prepared.get(&name).cloned().ok_or_else(|| {
            errinput!(
                InvalidSqlStatementName,
                "prepared statement \"{name}\" does not exist"
            )
        })?;
        if parameters.len() != prepared.param_types.len() {
            return Err(errinput!(
                SyntaxError,
                "wrong number of parameters for prepared statement \"{name}\""
            )
            .with_detail(format!(
                "Expected {} parameters but got {}.",
                prepared.param_types.len(),
                parameters.len()
            )));
        }
        let values = if parameters.is_empty() {
            Vec::new()
        } else {
            // Evaluated as a one-row query, so the values may be any constant expression.
            let select = format!(
                "SELECT {}",
                parameters
                    .iter()
                    .zip(&prepared.param_types)
                    .map(|(p, ty)| format!("CAST({p} AS {ty})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match self.execute_one(&select)? {
                StatementResult::Query { mut rows, .. } if rows.len() == 1 => rows.remove(0),
                _ => return Err(crate::errinternal!("EXECUTE's values gave no row")),
            }
        };
        self.execute_prepared(&prepared, values)
    }

    /// `DEALLOCATE name` / `DEALLOCATE ALL`
    pub(super) fn sql_deallocate(&mut self, name: &ast::Ident) -> Result<StatementResult> {
        if name.quote_style.is_none() && name.value.eq_ignore_ascii_case("all") {
            self.prepared.clear();
            return Ok(StatementResult::Command("DEALLOCATE ALL"));
        }
        let name = statement_name(name);
        match self.prepared.remove(&name) {
            Some(_) => Ok(StatementResult::Command("DEALLOCATE")),
            None => Err(errinput!(
                InvalidSqlStatementName,
                "prepared statement \"{name}\" does not exist"
            )),
        }
    }
}

/// A statement name as PostgreSQL folds it: lower-case unless quoted.
fn statement_name(id: &ast::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}
