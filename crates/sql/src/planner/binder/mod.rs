//! The binder: sqlparser's AST to a [`Plan`], resolving names against the catalog.
//!
//! Names are resolved in a [`Scope`]: the columns of the rows an expression is evaluated
//! over, each with the table (or alias) it came from. Aggregation changes the scope: above an
//! aggregate, an expression may refer only to grouping expressions and aggregates, matched by
//! their SQL text as PostgreSQL matches them, so `SELECT a + 1 FROM t GROUP BY a + 1` works and
//! `SELECT b FROM t GROUP BY a` fails with 42803.
//!
//! Anything the planner does not support yet fails with 0A000 (feature not supported) rather
//! than being ignored.

mod admin;
mod calls;
mod char_type;
mod ddl;
mod dml;
mod expr;
mod foreign_key;
mod from;
mod json;
mod names;
mod query;

#[allow(clippy::wildcard_imports)]
use calls::*;
#[allow(clippy::wildcard_imports)]
use ddl::*;
pub use ddl::{data_type_from_ast, type_by_name};
pub use expr::type_of;
pub use foreign_key::{row_rules, RowRules};
#[allow(clippy::wildcard_imports)]
use query::*;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::plan::{
    Aggregate, AlterOp, Arbiter, ArithOp, CommentOn, CompareOp, ConflictAction, Expr, Frame,
    FrameBound, Function, JoinKind, JsonSet, Label, Node, OnConflict, Plan, RelationName,
    Returning, SetFunction, SetOp, SortKey, Statistic, Subquery, WindowFunc, WindowFunction,
};
use crate::catalog::schema::SearchPath;
use crate::catalog::{Catalog, Check, Column, Index, Table, View};
use crate::keys::{DatabaseId, Namespace, SchemaId};
use crate::parser::{position, ZizhuDialect};
use crate::system::Identity;
use crate::types::{self, DataType};
use crate::{errinput, errinternal, Error, Result};
use names::{Kind, PathCache};

/// A relation's schema and name.
type QualifiedName = (SchemaId, String);
use sqlparser::ast;
use zizhu_engine::Engine;
use zizhu_txn::Transaction;
use zizhu_types::{BigDecimal, Numeric, Value};

/// A column visible to an expression.
#[derive(Clone, Debug)]
struct ScopeColumn {
    table: Option<String>,
    name: String,
    data_type: DataType,
    /// Reachable only by a qualified name and left out of `*`: a column merged by
    /// `JOIN ... USING` / `NATURAL JOIN` (the merged column is reached unqualified).
    qualified_only: bool,
    /// Whether `data_type` is exact: a table's column. Other columns (a derived table's, an
    /// aggregate's, a window function's) have the binder's type of the expression that
    /// computes them, which may be a guess.
    exact: bool,
}

impl ScopeColumn {
    /// Whether a reference `table.name` (or plain `name`) means this column.
    fn answers(&self, table: Option<&str>, name: &str) -> bool {
        self.name == name
            && match table {
                None => !self.qualified_only,
                Some(t) => self.table.as_deref() == Some(t),
            }
    }
}

/// The columns an expression can refer to, in row order.
#[derive(Clone, Debug, Default)]
struct Scope {
    columns: Vec<ScopeColumn>,
}

impl Scope {
    fn of_table(table: &Table, alias: &str) -> Scope {
        let columns = table
            .columns
            .iter()
            .map(|c| ScopeColumn {
                exact: true,
                qualified_only: false,
                table: Some(alias.to_string()),
                name: c.name.clone(),
                data_type: c.data_type.clone(),
            })
            .collect();
        Scope { columns }
    }

    fn join(mut self, other: Scope) -> Scope {
        self.columns.extend(other.columns);
        self
    }
}

/// Aggregation context: grouping expressions and aggregate calls by their SQL text.
struct Grouping {
    /// Grouping expressions, bound over the input.
    keys: Vec<Expr>,
    /// Aggregates, bound over the input.
    aggregates: Vec<Aggregate>,
    /// The aggregate's input columns.
    input: Scope,
    /// The aggregate's output: keys, then aggregates.
    scope: Scope,
}

/// Binds statements within a transaction (the catalog is read through it).
pub struct Binder<'a, E: Engine> {
    txn: &'a Transaction<E>,
    /// The session's database, whose catalog names resolve in.
    db: DatabaseId,
    /// Who binds: expressions evaluated while binding (LIMIT, sequence options) run as them.
    who: Arc<Identity>,
    sql: &'a str,
    dialect: &'a ZizhuDialect,
    /// Scopes of the enclosing queries, innermost last (inside a subquery).
    outer: Vec<Scope>,
    /// Where unqualified names are looked up, and those schemas once read.
    /// `None`: PostgreSQL's default, `"$user", public`.
    search_path: Option<SearchPath>,
    path_cache: Rc<PathCache>,
    /// The committed schemas, when the transaction has not changed any itself.
    schema_cache: Option<Arc<crate::catalog::schema::SchemaCache>>,
    /// Tables and views the statement uses directly (a view's dependencies), shared with the
    /// binders of its subqueries.
    referenced: Rc<RefCell<Vec<QualifiedName>>>,
    /// CTEs in scope, innermost last, shared with the binders of subqueries.
    ctes: Rc<RefCell<Vec<Cte>>>,
    /// The current SELECT's window calls (by SQL text) and their columns.
    windows: RefCell<Vec<(String, usize)>>,
    /// The select list's set-returning calls (by text): their first column and columns.
    set_returning: RefCell<Vec<SetReturningCall>>,
    /// For each output column of the SELECT, VALUES or set operation bound last, whether its
    /// type is exact ([`Binder::exact_type`]); set operations unify only such columns.
    exact_outputs: RefCell<Vec<query::Known>>,
    /// The statement's parameters (`$1`, ...), shared with the binders of its subqueries;
    /// none for a statement sent as plain text, where `$1` is an error as in PostgreSQL.
    params: Option<&'a Params>,
}

/// A statement's parameters `$1`, `$2`, ...: their types, and their values when executing.
///
/// A parameter's type is the one the client gave, else the one its context implies, as
/// PostgreSQL infers them: the other operand of a comparison or arithmetic, the target column
/// of an INSERT or UPDATE, the type of a cast, `bigint` for LIMIT and OFFSET, `text` for an
/// output column. When executing, each parameter binds as a constant of its type, so the plan is the
/// one the same statement with literals would get. A plan bound to be kept
/// ([`Params::generic`]) has [`Expr::Param`] where the parameters go instead, and
/// [`Plan::bind_params`] gives it each execution's values.
#[derive(Debug, Default)]
pub struct Params {
    types: RefCell<Vec<DataType>>,
    values: Option<Vec<Value>>,
    generic: bool,
}

impl Params {
    /// For preparing: the client's types by position (`Unknown` where it gave none).
    pub fn describe(given: Vec<DataType>) -> Self {
        Self {
            types: RefCell::new(given),
            values: None,
            generic: false,
        }
    }

    /// For executing: each value already of its parameter's type.
    pub fn values(types: Vec<DataType>, values: Vec<Value>) -> Self {
        Self {
            types: RefCell::new(types),
            values: Some(values),
            generic: false,
        }
    }

    /// For a plan kept for any values: each parameter of its (final) type binds as
    /// [`Expr::Param`].
    pub fn generic(types: Vec<DataType>) -> Self {
        Self {
            types: RefCell::new(types),
            values: None,
            generic: true,
        }
    }

    /// The parameters' types; 42P18 if neither the client nor the statement gave one of them
    /// a type (or the statement skips one: `$2` without `$1`).
    pub fn types(&self) -> Result<Vec<DataType>> {
        let types = self.types.borrow();
        match types.iter().position(|t| *t == DataType::Unknown) {
            Some(i) => Err(errinput!(
                IndeterminateDatatype,
                "could not determine data type of parameter ${}",
                i + 1
            )),
            None => Ok(types.clone()),
        }
    }
}

/// A common table expression in scope: its plan and columns.
#[derive(Clone, Debug)]
struct Cte {
    name: String,
    node: Node,
    labels: Vec<Label>,
}

fn ident(id: &ast::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// A name that cannot be qualified (a schema's, a database's, a column's).
fn simple_name(name: &ast::ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => Ok(ident(id)),
        _ => Err(errinput!(
            SyntaxError,
            "improper qualified name (too many dotted names): {name}"
        )),
    }
}

/// A query's `regclass` (and other `reg*`) columns print as names, as PostgreSQL's output
/// functions print them: a projection over the result turns them into text.
fn names_for_oids(root: Node, labels: Vec<Label>) -> (Node, Vec<Label>) {
    use crate::system::functions::CatalogFunction;
    use crate::types::OidAlias;
    let is_reg = |t: &DataType| matches!(t, DataType::Oid(a) if *a != OidAlias::Oid);
    if !labels.iter().any(|l| is_reg(&l.data_type)) {
        return (root, labels);
    }
    let exprs = labels
        .iter()
        .enumerate()
        .map(|(index, l)| {
            let column = Expr::Column {
                index,
                name: l.name.clone().into(),
            };
            match l.data_type {
                DataType::Oid(alias) if alias != OidAlias::Oid => Expr::Function(
                    crate::planner::plan::Function::Catalog(CatalogFunction::RegOut(alias)),
                    vec![column],
                ),
                _ => column,
            }
        })
        .collect();
    let labels = labels
        .into_iter()
        .map(|l| Label {
            data_type: if is_reg(&l.data_type) {
                DataType::Text
            } else {
                l.data_type
            },
            name: l.name,
        })
        .collect();
    let root = Node::Project {
        source: Box::new(root),
        exprs,
    };
    (root, labels)
}

/// A set-returning call of a select list: its text, its first column in the scope, and its
/// columns.
type SetReturningCall = (String, usize, Vec<(&'static str, DataType)>);

fn unsupported(what: impl std::fmt::Display) -> Error {
    errinput!(FeatureNotSupported, "{what} is not supported yet")
}

impl<'a, E: Engine> Binder<'a, E> {
    /// A binder for `sql` as `who`, reading the catalog of `who`'s database through `txn`.
    pub fn new(
        txn: &'a Transaction<E>,
        who: Arc<Identity>,
        sql: &'a str,
        dialect: &'a ZizhuDialect,
    ) -> Self {
        Self::build(txn, who, sql, dialect, None)
    }

    /// A binder for `sql` with parameters `$1`, ... (see [`Params`]).
    pub fn with_params(
        txn: &'a Transaction<E>,
        who: Arc<Identity>,
        sql: &'a str,
        dialect: &'a ZizhuDialect,
        params: &'a Params,
    ) -> Self {
        Self::build(txn, who, sql, dialect, Some(params))
    }

    fn build(
        txn: &'a Transaction<E>,
        who: Arc<Identity>,
        sql: &'a str,
        dialect: &'a ZizhuDialect,
        params: Option<&'a Params>,
    ) -> Self {
        Self {
            txn,
            db: who.database_id,
            search_path: None,
            path_cache: Rc::default(),
            schema_cache: None,
            who,
            sql,
            dialect,
            outer: Vec::new(),
            referenced: Rc::default(),
            ctes: Rc::default(),
            windows: RefCell::default(),
            set_returning: RefCell::default(),
            exact_outputs: RefCell::default(),
            params,
        }
    }

    /// Looks unqualified names up in `path` (the session's `search_path`) instead of the
    /// default `"$user", public`.
    pub fn with_search_path(mut self, path: SearchPath) -> Self {
        self.search_path = Some(path);
        self.path_cache = Rc::default();
        self
    }

    /// Resolves the search path through `cache` (the newest committed schemas) instead of
    /// reading the catalog: for a transaction that has not changed schemas itself.
    pub fn with_schema_cache(mut self, cache: Arc<crate::catalog::schema::SchemaCache>) -> Self {
        self.schema_cache = Some(cache);
        self
    }

    fn at(&self, span: sqlparser::tokenizer::Span) -> Option<usize> {
        position(self.sql, span.start)
    }

    /// The table a written name names; 42P01 if none, 42809 if it is a view.
    fn table(&self, name: &ast::ObjectName) -> Result<Arc<Table>> {
        match self.relation(name)? {
            names::Found::Table(table) => Ok(table),
            // Views are not updatable yet, nor indexable.
            names::Found::View(view) => Err(errinput!(
                WrongObjectType,
                "\"{}\" is not a table",
                view.name
            )),
        }
    }

    /// Binds one statement.
    pub fn bind(&self, statement: &ast::Statement) -> Result<Plan> {
        use ast::Statement as S;
        match statement {
            // WITH ... INSERT / UPDATE / DELETE: the CTEs are in scope for the statement.
            S::Query(query)
                if matches!(
                    query.body.as_ref(),
                    ast::SetExpr::Insert(_) | ast::SetExpr::Update(_) | ast::SetExpr::Delete(_)
                ) =>
            {
                let (ast::SetExpr::Insert(inner)
                | ast::SetExpr::Update(inner)
                | ast::SetExpr::Delete(inner)) = query.body.as_ref()
                else {
                    return Err(errinternal!("not a data-modifying query"));
                };
                let mark = self.ctes.borrow().len();
                let plan = match &query.with {
                    Some(with) => self.bind_with(with).and_then(|()| self.bind(inner)),
                    None => self.bind(inner),
                };
                self.ctes.borrow_mut().truncate(mark);
                plan
            }
            // `SELECT ... INTO name`: CREATE TABLE name AS the query without its INTO.
            S::Query(query) if matches!(query.body.as_ref(), ast::SetExpr::Select(s) if s.into.is_some()) =>
            {
                let mut query = query.clone();
                let ast::SetExpr::Select(select) = query.body.as_mut() else {
                    return Err(errinternal!("not a SELECT INTO"));
                };
                let Some(into) = select.into.take() else {
                    return Err(errinternal!("not a SELECT INTO"));
                };
                if into.temporary || into.unlogged {
                    return Err(unsupported("SELECT INTO TEMPORARY or UNLOGGED"));
                }
                let name = match into.targets.as_slice() {
                    [ast::Expr::Identifier(id)] => ast::ObjectName::from(vec![id.clone()]),
                    [ast::Expr::CompoundIdentifier(ids)] => ast::ObjectName::from(ids.clone()),
                    _ => return Err(unsupported("SELECT INTO other than one table")),
                };
                self.bind_create_table_as(&name, false, &query, true)
            }
            S::Query(query) => {
                let (root, labels) = self.bind_query(query)?;
                let (root, labels) = names_for_oids(root, labels);
                Ok(Plan::Select { root, labels })
            }
            S::Insert(insert) => self.bind_insert(insert),
            S::Update(update) => self.bind_update(update),
            S::Delete(delete) => self.bind_delete(delete),
            S::CreateTable(create) => self.bind_create_table(create),
            S::Drop {
                object_type: ast::ObjectType::Table,
                if_exists,
                names,
                cascade,
                ..
            } => Ok(Plan::DropTable {
                names: self.targets(names, Kind::Table, *if_exists)?,
                if_exists: *if_exists,
                cascade: *cascade,
            }),
            S::CreateSchema {
                schema_name,
                if_not_exists,
                or_replace: false,
                with: None,
                options: None,
                default_collate_spec: None,
                clone: None,
            } => {
                let (name, owner) = match schema_name {
                    ast::SchemaName::Simple(name) => (simple_name(name)?, None),
                    ast::SchemaName::UnnamedAuthorization(role) => (ident(role), Some(ident(role))),
                    ast::SchemaName::NamedAuthorization(name, role) => {
                        (simple_name(name)?, Some(ident(role)))
                    }
                };
                Ok(Plan::CreateSchema {
                    name,
                    owner,
                    if_not_exists: *if_not_exists,
                })
            }
            S::Drop {
                object_type: ast::ObjectType::Schema,
                if_exists,
                names,
                cascade,
                ..
            } => Ok(Plan::DropSchema {
                names: names.iter().map(simple_name).collect::<Result<_>>()?,
                if_exists: *if_exists,
                cascade: *cascade,
            }),
            S::AlterSchema(alter) => {
                let name = simple_name(&alter.name)?;
                match alter.operations.as_slice() {
                    [ast::AlterSchemaOperation::Rename { name: to }] => Ok(Plan::AlterSchema {
                        name,
                        rename: Some(simple_name(to)?),
                        owner: None,
                    }),
                    [ast::AlterSchemaOperation::OwnerTo { owner }] => Ok(Plan::AlterSchema {
                        name,
                        rename: None,
                        owner: Some(match owner {
                            ast::Owner::Ident(role) => ident(role),
                            _ => self.who.user.clone(),
                        }),
                    }),
                    _ => Err(unsupported(format!("{alter}"))),
                }
            }
            S::CreateIndex(create) => self.bind_create_index(create),
            S::CreateRole(create) => self.bind_create_role(create),
            S::Comment {
                object_type,
                object_name: target,
                comment,
                if_exists: false,
            } => {
                use ast::CommentObject as O;
                let on = match object_type {
                    O::Table => CommentOn::Table,
                    O::View => CommentOn::View,
                    O::Sequence => CommentOn::Sequence,
                    O::Index => CommentOn::Index,
                    O::Column => CommentOn::Column,
                    other => return Err(unsupported(format!("COMMENT ON {other}"))),
                };
                let kind = match on {
                    CommentOn::Table => Kind::Table,
                    CommentOn::Column => Kind::TableOrView,
                    CommentOn::View => Kind::View,
                    CommentOn::Sequence => Kind::Sequence,
                    CommentOn::Index => Kind::Index,
                };
                let (name, column) = if on == CommentOn::Column {
                    let mut relation = target.clone();
                    let column = match relation.0.pop() {
                        Some(ast::ObjectNamePart::Identifier(id)) if !relation.0.is_empty() => {
                            ident(&id)
                        }
                        _ => return Err(errinput!(SyntaxError, "column name must be qualified")),
                    };
                    (self.target(&relation, kind, false)?, Some(column))
                } else {
                    (self.target(target, kind, false)?, None)
                };
                Ok(Plan::Comment {
                    on,
                    name,
                    column,
                    text: comment.clone().filter(|t| !t.is_empty()),
                })
            }
            S::AlterRole { name, operation } => self.bind_alter_role(name, operation),
            S::Drop {
                object_type: ast::ObjectType::Role | ast::ObjectType::User,
                if_exists,
                names,
                ..
            } => self.bind_drop_roles(names, *if_exists),
            S::CreateDatabase {
                db_name, with_tags, ..
            } => self.bind_create_database(db_name, with_tags.as_deref().unwrap_or_default()),
            S::Drop {
                object_type: ast::ObjectType::Database,
                if_exists,
                names,
                ..
            } => match names.as_slice() {
                [name] => Ok(Plan::Admin(crate::planner::admin::Admin::DropDatabase {
                    name: simple_name(name)?,
                    if_exists: *if_exists,
                })),
                _ => Err(errinput!(SyntaxError, "syntax error at or near \",\"")),
            },
            S::AlterTable(alter) => self.bind_alter_table(alter),
            S::CreateSequence {
                temporary: false,
                if_not_exists,
                name,
                sequence_options,
                owned_by: None,
                ..
            } => Ok(Plan::CreateSequence {
                sequence: self.bind_sequence(self.new_name(name)?, sequence_options)?,
                if_not_exists: *if_not_exists,
            }),
            S::Drop {
                object_type: ast::ObjectType::Sequence,
                if_exists,
                names,
                ..
            } => Ok(Plan::DropSequence {
                names: self.targets(names, Kind::Sequence, *if_exists)?,
                if_exists: *if_exists,
            }),
            S::Truncate(truncate) => self.bind_truncate(truncate),
            S::Analyze(analyze) => self.bind_analyze(analyze),
            S::CreateView(create) => self.bind_create_view(create),
            S::Drop {
                object_type: ast::ObjectType::View,
                if_exists,
                names,
                cascade,
                ..
            } => Ok(Plan::DropView {
                names: self.targets(names, Kind::View, *if_exists)?,
                if_exists: *if_exists,
                cascade: *cascade,
            }),
            S::Drop {
                object_type: ast::ObjectType::Index,
                if_exists,
                names,
                ..
            } => Ok(Plan::DropIndex {
                names: self.targets(names, Kind::Index, *if_exists)?,
                if_exists: *if_exists,
            }),
            S::Explain {
                statement,
                analyze: false,
                ..
            } => Ok(Plan::Explain(Box::new(self.bind(statement)?))),
            S::Explain {
                statement,
                analyze: true,
                ..
            } => match self.bind(statement)? {
                plan @ Plan::Select { .. } => Ok(Plan::ExplainAnalyze(Box::new(plan))),
                _ => Err(unsupported(
                    "EXPLAIN ANALYZE of a statement other than a query",
                )),
            },
            other => {
                let text = other.to_string();
                let word = text
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                Err(unsupported(format!("statement {word}")))
            }
        }
    }

    fn resolve(
        &self,
        table: Option<&str>,
        name: &str,
        scope: &Scope,
        span: sqlparser::tokenizer::Span,
    ) -> Result<Expr> {
        let mut found = scope
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.answers(table, name));
        let display = match table {
            Some(t) => format!("{t}.{name}"),
            None => name.to_string(),
        };
        match (found.next(), found.next()) {
            (Some((index, _)), None) => Ok(Expr::Column {
                index,
                name: display.into(),
            }),
            (Some(_), Some(_)) => Err(errinput!(
                AmbiguousColumn,
                "column reference \"{display}\" is ambiguous"
            )
            .at(self.at(span))),
            // `t` for the FROM item `t` of one column (`FROM unnest(a) t`,
            // `jsonb_array_elements_text(d) t`): PostgreSQL's whole-row reference, which for a
            // function returning a scalar is that scalar.
            (None, _)
                if table.is_none()
                    && scope
                        .columns
                        .iter()
                        .filter(|c| c.table.as_deref() == Some(name))
                        .count()
                        == 1
                    && !scope.columns.iter().any(|c| c.name == name) =>
            {
                let index = scope
                    .columns
                    .iter()
                    .position(|c| c.table.as_deref() == Some(name))
                    .ok_or_else(|| errinternal!("whole-row column of {name} vanished"))?;
                Ok(Expr::Column {
                    index,
                    name: display.into(),
                })
            }
            (None, _) => {
                // A correlated reference to an enclosing query's column.
                for (depth, outer) in self.outer.iter().rev().enumerate() {
                    let mut found = outer
                        .columns
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.answers(table, name));
                    match (found.next(), found.next()) {
                        (Some((index, _)), None) => {
                            return Ok(Expr::OuterColumn {
                                depth: depth + 1,
                                index,
                                name: display.into(),
                            })
                        }
                        (Some(_), Some(_)) => {
                            return Err(errinput!(
                                AmbiguousColumn,
                                "column reference \"{display}\" is ambiguous"
                            )
                            .at(self.at(span)))
                        }
                        (None, _) => {}
                    }
                }
                if let Some(t) = table {
                    let known = |s: &Scope| s.columns.iter().any(|c| c.table.as_deref() == Some(t));
                    if !known(scope) && !self.outer.iter().any(known) {
                        return Err(errinput!(
                            UndefinedTable,
                            "missing FROM-clause entry for table \"{t}\""
                        )
                        .at(self.at(span)));
                    }
                }
                Err(
                    errinput!(UndefinedColumn, "column \"{display}\" does not exist")
                        .at(self.at(span)),
                )
            }
        }
    }
}
