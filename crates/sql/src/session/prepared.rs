//! Prepared statements: parsed once, their parameters' types inferred, run many times.
//!
//! [`Session::prepare`] parses the statement and binds it once without values, which infers
//! the type of each parameter `$n` from its context ([`Params`]) and gives the columns it will
//! return (what the protocol's Describe reports).
//!
//! A query or an INSERT, UPDATE or DELETE then *keeps its plan*: the first execution binds it
//! with [`Expr::Param`](crate::planner::Expr::Param) where the parameters go
//! ([`Params::generic`]), and every execution puts its values into a copy of that plan
//! ([`Plan::bind_params`]) before the optimizer runs. Binding (name resolution and catalog
//! reads, the costly part of a short statement) is done once; the optimizer still sees the
//! values, so `id = $1` becomes a key lookup exactly as `id = 7` does (PostgreSQL's *custom
//! plan*, re-planned from the kept analysis).
//!
//! Optimizing is then most of what is left of a short statement's planning. So, as
//! PostgreSQL does, a kept plan also has a *generic plan*, optimized once with the parameters
//! in place ([`Generic`]). After the first five executions whose custom plans were each the
//! generic plan with their values put in, the generic plan runs as it is: its parameters are
//! read from the execution's values as the plan runs. A statement whose custom plans differ
//! (a range that only values make an index scan) keeps optimizing each execution, and an
//! execution with a NULL or boolean value always runs a custom plan ([`Generic`] says why).
//! The `plan_cache_mode` setting ([`PlanCacheMode`]) forces custom plans, or the generic plan
//! from the first execution, as PostgreSQL's does.
//!
//! A kept plan is valid for one catalog and one set of session settings (the search path
//! above all). It is used only when the statement's snapshot sees exactly the catalog it was
//! bound against ([`CatalogClock`](crate::catalog::clock::CatalogClock)) and the transaction
//! has not changed the catalog itself; otherwise the statement is bound again, and a result
//! whose columns changed since the statement was described fails with 0A000 ("cached plan
//! must not change result type") as in PostgreSQL. A statement that needs its values to
//! bind (`LIMIT $1`) is bound with them as constants every time.
//!
//! SQL's `PREPARE name [(types)] AS statement`, `EXECUTE name [(values)]` and
//! `DEALLOCATE [PREPARE] {name | ALL}` use the same path, with the session's named statements.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use zizhu_engine::Engine;
use zizhu_txn::{IsolationLevel, TxnOptions};
use zizhu_types::Value;

use super::{interrupted, run, Session, Source};
use crate::execution::StatementResult;
use crate::parser::{self, ast};
use crate::planner::{data_type_from_ast, optimize, Binder, Label, Params, Plan};
use crate::settings::{PlanCacheMode, Settings};
use crate::types::{self, DataType};
use crate::{errinput, Result};

/// A parsed statement whose parameters' types and result columns are known.
#[derive(Debug)]
pub struct Prepared {
    sql: String,
    /// None for an empty statement.
    statement: Option<ast::Statement>,
    param_types: Vec<DataType>,
    labels: Option<Vec<Label>>,
    /// The plan kept for reuse (see the [module docs](self)).
    kept: Mutex<Kept>,
    /// How many executions used the kept plan.
    reuses: AtomicU64,
}

/// A prepared statement's kept plan, and when binding one failed.
#[derive(Debug, Default)]
struct Kept {
    /// The plan with its parameters in place, and what it is valid for.
    plan: Option<KeptPlan>,
    /// The catalog version at which the statement could not be bound without its values.
    needs_values: Option<u64>,
}

/// A bound plan kept for reuse.
#[derive(Debug)]
struct KeptPlan {
    /// The plan, with [`Expr::Param`](crate::planner::Expr::Param) where its parameters go.
    plan: Plan,
    /// The catalog version it was bound against.
    version: u64,
    /// The settings it was bound with.
    settings: Settings,
    /// Its generic plan, which goes with it.
    generic: Generic,
}

/// How many executions in a row must get, from the optimizer, the generic plan with their
/// values in place before the generic plan is used as it is (PostgreSQL tries five custom
/// plans before it considers the generic one).
const CUSTOM_PLANS_FIRST: u32 = 5;

/// A kept plan's *generic plan*: optimized once with its parameters in place, and executed
/// as it is, without binding values or optimizing (what PostgreSQL uses once custom plans
/// cost no less). Chosen only if each of the first [`CUSTOM_PLANS_FIRST`] executions' custom
/// plan is the generic plan with their values put in: both then read the same rows, and a
/// later value that would have made the optimizer choose another path (one whose rows are
/// too many for an index) runs the generic plan all the same, as with PostgreSQL's.
///
/// Executions with a NULL or boolean value always run a custom plan, and do not count for
/// or against the generic one: constant folding can decide a condition from such a value
/// alone (`100 / qty > NULL`, `qty > 0 AND false`) without evaluating the rest, which the
/// generic plan would evaluate, and could fail on (division by zero) or call a volatile
/// function in. (PostgreSQL's generic plans do evaluate it.)
#[derive(Debug, Default)]
enum Generic {
    /// Not made yet.
    #[default]
    Unknown,
    /// Made, and matched `.1` custom plans so far.
    Trying(Plan, u32),
    /// Used from now on.
    Chosen(Plan),
    /// A custom plan differed: never used.
    Rejected,
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

    /// How many executions reused the kept plan rather than binding the statement.
    pub fn plan_reuses(&self) -> u64 {
        self.reuses.load(Ordering::Relaxed)
    }

    /// Whether executions now run the kept plan's generic plan, not optimizing it afresh.
    pub fn uses_generic_plan(&self) -> bool {
        matches!(
            self.kept.lock().plan,
            Some(KeptPlan {
                generic: Generic::Chosen(_),
                ..
            })
        )
    }

    /// The optimized plan for one execution with `values` (already of the parameters'
    /// types): from the kept plan if it fits `version` (the catalog the statement's snapshot
    /// sees, `None` if unknown) and `settings`, else from a new one from `bind`, kept if it
    /// can be.
    pub(super) fn plan(
        &self,
        version: Option<u64>,
        settings: &Settings,
        values: &[Value],
        bind: impl Fn(&Params) -> Result<Plan>,
    ) -> Result<Plan> {
        let mut guard = self.kept.lock();
        let kept = &mut *guard;
        if let (Some(version), Some(plan)) = (version, &mut kept.plan) {
            if plan.version == version && plan.settings.same_values(settings) {
                self.reuses.fetch_add(1, Ordering::Relaxed);
                return Ok(plan.for_values(values, settings.plan_cache_mode()));
            }
        }
        kept.plan = None;
        let keepable = matches!(
            self.statement,
            Some(
                ast::Statement::Query(_)
                    | ast::Statement::Insert(_)
                    | ast::Statement::Update { .. }
                    | ast::Statement::Delete(_)
            )
        );
        if keepable && (version.is_none() || kept.needs_values != version) {
            // An error here means the statement needs its values to bind (or is wrong, which
            // binding it with them will report).
            if let Ok(plan) = bind(&Params::generic(self.param_types.clone())) {
                if labels_of(&plan) != self.labels.as_deref() {
                    return Err(changed_result());
                }
                if let Some(version) = version {
                    let kept_plan = kept.plan.insert(KeptPlan {
                        plan: plan.clone(),
                        version,
                        settings: settings.clone(),
                        generic: Generic::Unknown,
                    });
                    if settings.plan_cache_mode() == PlanCacheMode::ForceGeneric {
                        return Ok(kept_plan.for_values(values, PlanCacheMode::ForceGeneric));
                    }
                }
                return Ok(optimize(plan.bind_params(values)));
            }
            kept.needs_values = version;
        }
        drop(guard);
        let plan = bind(&Params::values(self.param_types.clone(), values.to_vec()))?;
        // With the values as constants a NULL has no type, so only the names are compared.
        let same_names = match (labels_of(&plan), self.labels.as_deref()) {
            (Some(a), Some(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.name == b.name)
            }
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same_names {
            return Err(changed_result());
        }
        Ok(optimize(plan))
    }
}

impl KeptPlan {
    /// The optimized plan for an execution with `values`: the generic plan once chosen, else
    /// the custom plan, checked against the generic one while that is tried. `mode` can force
    /// either kind; a NULL or boolean value still gets a custom plan (see [`Generic`]).
    fn for_values(&mut self, values: &[Value], mode: PlanCacheMode) -> Plan {
        let decisive = values
            .iter()
            .any(|v| matches!(v, Value::Null | Value::Bool(_)));
        if mode == PlanCacheMode::ForceGeneric && !matches!(self.generic, Generic::Chosen(_)) {
            self.generic = Generic::Chosen(optimize(self.plan.clone()));
        }
        if let (Generic::Chosen(plan), false) = (&self.generic, decisive) {
            return plan.clone();
        }
        let custom = optimize(self.plan.clone().bind_params(values));
        if decisive || mode == PlanCacheMode::ForceCustom {
            return custom;
        }
        if let Generic::Unknown = self.generic {
            self.generic = Generic::Trying(optimize(self.plan.clone()), 0);
        }
        self.generic = match std::mem::take(&mut self.generic) {
            Generic::Trying(generic, matches) => {
                if generic.clone().bind_params(values).as_generic() != custom.clone().as_generic() {
                    Generic::Rejected
                } else if matches + 1 >= CUSTOM_PLANS_FIRST {
                    Generic::Chosen(generic)
                } else {
                    Generic::Trying(generic, matches + 1)
                }
            }
            other => other,
        };
        custom
    }
}

/// The result's columns changed since the statement was described: the client was told
/// others (PostgreSQL's error).
fn changed_result() -> crate::Error {
    errinput!(
        FeatureNotSupported,
        "cached plan must not change result type"
    )
}

/// The columns `plan` returns, if it returns rows.
fn labels_of(plan: &Plan) -> Option<&[Label]> {
    match plan {
        Plan::Select { labels, .. } => Some(labels),
        Plan::Insert { returning, .. }
        | Plan::Update { returning, .. }
        | Plan::Delete { returning, .. } => returning.as_ref().map(|r| r.labels.as_slice()),
        _ => None,
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
        self.execute_statement(
            &prepared.sql,
            statement,
            Source::Kept(prepared, values.into()),
        )
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
            &mut block.catalog_version,
            &prepared.sql,
            statement,
            Source::Bind(Some(&params)),
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
            kept: Mutex::default(),
            reuses: AtomicU64::new(0),
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
        let labels = match &plan {
            Plan::Select { .. }
            | Plan::Insert { .. }
            | Plan::Update { .. }
            | Plan::Delete { .. } => labels_of(&plan).map(<[Label]>::to_vec),
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
