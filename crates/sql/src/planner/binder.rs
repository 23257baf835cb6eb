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

use sqlparser::ast;
use zizhu_engine::Engine;
use zizhu_txn::Transaction;
use zizhu_types::{BigDecimal, Numeric, Value};

use super::plan::{
    Aggregate, ArithOp, CompareOp, Expr, Function, JoinKind, Label, Node, Plan, SortKey, Subquery,
};
use crate::catalog::{Catalog, Column, Index, Table, View};
use crate::parser::{position, ZizhuDialect};
use crate::types::{self, DataType};
use crate::{errinput, errinternal, Error, Result};

/// A column visible to an expression.
#[derive(Clone, Debug)]
struct ScopeColumn {
    table: Option<String>,
    name: String,
    data_type: DataType,
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
    sql: &'a str,
    dialect: &'a ZizhuDialect,
    /// Scopes of the enclosing queries, innermost last (inside a subquery).
    outer: Vec<Scope>,
}

fn ident(id: &ast::Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

fn object_name(name: &ast::ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => Ok(ident(id)),
        // `public.t` and `pg_catalog`-less names: schemas come with the catalog work.
        [ast::ObjectNamePart::Identifier(schema), ast::ObjectNamePart::Identifier(id)]
            if ident(schema) == "public" =>
        {
            Ok(ident(id))
        }
        _ => Err(errinput!(
            FeatureNotSupported,
            "schema-qualified name {name} is not supported yet"
        )),
    }
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    errinput!(FeatureNotSupported, "{what} is not supported yet")
}

const AGGREGATES: &[&str] = &["count", "sum", "avg", "min", "max"];

fn function_name(f: &ast::Function) -> String {
    match f.name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => ident(id),
        _ => f.name.to_string().to_lowercase(),
    }
}

fn is_aggregate(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Function(f) if AGGREGATES.contains(&function_name(f).as_str()))
}

/// Collects the aggregate calls in `expr` (not looking inside them).
fn collect_aggregates<'e>(expr: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    use ast::Expr as A;
    if is_aggregate(expr) {
        out.push(expr);
        return;
    }
    match expr {
        A::BinaryOp { left, right, .. } => {
            collect_aggregates(left, out);
            collect_aggregates(right, out);
        }
        A::UnaryOp { expr, .. }
        | A::Nested(expr)
        | A::IsNull(expr)
        | A::IsNotNull(expr)
        | A::Cast { expr, .. } => collect_aggregates(expr, out),
        A::Between {
            expr, low, high, ..
        } => {
            for e in [expr, low, high] {
                collect_aggregates(e, out);
            }
        }
        A::InList { expr, list, .. } => {
            collect_aggregates(expr, out);
            list.iter().for_each(|e| collect_aggregates(e, out));
        }
        A::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            operand.iter().for_each(|e| collect_aggregates(e, out));
            for c in conditions {
                collect_aggregates(&c.condition, out);
                collect_aggregates(&c.result, out);
            }
            else_result.iter().for_each(|e| collect_aggregates(e, out));
        }
        A::Function(f) => {
            if let ast::FunctionArguments::List(list) = &f.args {
                for arg in &list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg {
                        collect_aggregates(e, out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The type an expression produces, as far as the planner needs it.
pub fn type_of(expr: &Expr) -> DataType {
    match expr {
        Expr::Constant(v) => DataType::of(v),
        Expr::Column { .. } => DataType::Unknown,
        Expr::Not(_)
        | Expr::And(..)
        | Expr::Or(..)
        | Expr::Compare(..)
        | Expr::IsNull(_)
        | Expr::Like { .. } => DataType::Bool,
        Expr::InList(..) => DataType::Bool,
        Expr::Negate(e) => type_of(e),
        Expr::Arith(_, a, b) => match (type_of(a), type_of(b)) {
            (DataType::Unknown, t) | (t, DataType::Unknown) => t,
            (a, b) if a == b => a,
            (a, _) => a,
        },
        Expr::Concat(..) => DataType::Text,
        Expr::Cast(_, ty) => ty.clone(),
        Expr::Case(whens, _) => whens
            .first()
            .map_or(DataType::Unknown, |(_, then)| type_of(then)),
        Expr::Function(Function::Lower | Function::Upper, _) => DataType::Text,
        Expr::Function(Function::Length, _) => DataType::Int32,
        Expr::Function(_, args) => args.first().map_or(DataType::Unknown, type_of),
        Expr::OuterColumn { .. } | Expr::Subquery(_) => DataType::Unknown,
        Expr::Exists(_) | Expr::InSubquery(..) | Expr::Quantified { .. } => DataType::Bool,
    }
}

impl<'a, E: Engine> Binder<'a, E> {
    /// A binder for `sql`, reading the catalog through `txn`.
    pub fn new(txn: &'a Transaction<E>, sql: &'a str, dialect: &'a ZizhuDialect) -> Self {
        Self {
            txn,
            sql,
            dialect,
            outer: Vec::new(),
        }
    }

    fn at(&self, span: sqlparser::tokenizer::Span) -> Option<usize> {
        position(self.sql, span.start)
    }

    fn table(&self, name: &ast::ObjectName) -> Result<Table> {
        let name = object_name(name)?;
        Catalog::table(self.txn, &name)?
            .ok_or_else(|| errinput!(UndefinedTable, "relation \"{name}\" does not exist"))
    }

    /// Binds one statement.
    pub fn bind(&self, statement: &ast::Statement) -> Result<Plan> {
        use ast::Statement as S;
        match statement {
            S::Query(query) => {
                let (root, labels) = self.bind_query(query)?;
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
                ..
            } => Ok(Plan::DropTable {
                names: names.iter().map(object_name).collect::<Result<_>>()?,
                if_exists: *if_exists,
            }),
            S::CreateIndex(create) => self.bind_create_index(create),
            S::CreateView(create) => self.bind_create_view(create),
            S::Drop {
                object_type: ast::ObjectType::View,
                if_exists,
                names,
                ..
            } => Ok(Plan::DropView {
                names: names.iter().map(object_name).collect::<Result<_>>()?,
                if_exists: *if_exists,
            }),
            S::Drop {
                object_type: ast::ObjectType::Index,
                if_exists,
                names,
                ..
            } => Ok(Plan::DropIndex {
                names: names.iter().map(object_name).collect::<Result<_>>()?,
                if_exists: *if_exists,
            }),
            S::Explain {
                statement,
                analyze: false,
                ..
            } => Ok(Plan::Explain(Box::new(self.bind(statement)?))),
            S::Explain { analyze: true, .. } => Err(unsupported("EXPLAIN ANALYZE")),
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

    fn bind_query(&self, query: &ast::Query) -> Result<(Node, Vec<Label>)> {
        if query.with.is_some() {
            return Err(unsupported("WITH"));
        }
        if !query.locks.is_empty() {
            return Err(unsupported("SELECT ... FOR UPDATE/SHARE"));
        }
        if query.fetch.is_some() {
            return Err(unsupported("FETCH FIRST"));
        }
        let order_by = match &query.order_by {
            None => &[][..],
            Some(ast::OrderBy {
                kind: ast::OrderByKind::Expressions(exprs),
                ..
            }) => exprs.as_slice(),
            Some(_) => return Err(unsupported("ORDER BY ALL")),
        };
        let (mut node, labels) = match query.body.as_ref() {
            ast::SetExpr::Select(select) => self.bind_select(select, order_by)?,
            ast::SetExpr::Values(values) => {
                if !order_by.is_empty() {
                    return Err(unsupported("ORDER BY on VALUES"));
                }
                self.bind_values(values)?
            }
            ast::SetExpr::Query(inner) if order_by.is_empty() && query.limit_clause.is_none() => {
                return self.bind_query(inner)
            }
            other => {
                return Err(unsupported(format!(
                    "query form {}",
                    other.to_string().split_whitespace().next().unwrap_or("")
                )))
            }
        };
        match &query.limit_clause {
            None => {}
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(unsupported("LIMIT BY"));
                }
                let limit = limit
                    .as_ref()
                    .map(|e| self.constant_count(e, "LIMIT"))
                    .transpose()?
                    .flatten();
                let offset = match offset {
                    Some(o) => self.constant_count(&o.value, "OFFSET")?.unwrap_or(0),
                    None => 0,
                };
                node = Node::Limit {
                    source: Box::new(node),
                    limit,
                    offset,
                };
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(unsupported("LIMIT offset, count"))
            }
        }
        Ok((node, labels))
    }

    /// A LIMIT or OFFSET value: a non-negative constant (`None` for NULL or ALL).
    fn constant_count(&self, expr: &ast::Expr, what: &str) -> Result<Option<u64>> {
        let bound = self.bind_expr(expr, &Scope::default(), None)?;
        let cache = crate::execution::SubqueryCache::default();
        let env = crate::execution::Env::new(self.txn, &cache);
        let value = crate::execution::eval(&bound, &[], &env)?;
        match types::cast(value, &DataType::Int64)? {
            Value::Null => Ok(None),
            Value::Int64(n) if n >= 0 => Ok(Some(n as u64)),
            Value::Int64(_) => Err(errinput!(
                InvalidParameterValue,
                "{what} must not be negative"
            )),
            other => Err(errinternal!("{what} cast to bigint gave {other:?}")),
        }
    }

    fn bind_values(&self, values: &ast::Values) -> Result<(Node, Vec<Label>)> {
        let mut rows = Vec::with_capacity(values.rows.len());
        let mut width = None;
        for row in &values.rows {
            let exprs: Vec<Expr> = row
                .iter()
                .map(|e| self.bind_expr(e, &Scope::default(), None))
                .collect::<Result<_>>()?;
            if *width.get_or_insert(exprs.len()) != exprs.len() {
                return Err(errinput!(
                    SyntaxError,
                    "VALUES lists must all be the same length"
                ));
            }
            rows.push(exprs);
        }
        let labels = rows
            .first()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, e)| Label {
                        name: format!("column{}", i + 1),
                        data_type: type_of(e),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok((Node::Values { rows }, labels))
    }

    fn bind_from(&self, from: &[ast::TableWithJoins]) -> Result<(Node, Scope)> {
        let mut result: Option<(Node, Scope)> = None;
        for item in from {
            let (mut node, mut scope) = self.bind_table_factor(&item.relation)?;
            for join in &item.joins {
                let (right, right_scope) = self.bind_table_factor(&join.relation)?;
                let (kind, constraint) = match &join.join_operator {
                    ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => {
                        (JoinKind::Inner, c)
                    }
                    ast::JoinOperator::Left(c) | ast::JoinOperator::LeftOuter(c) => {
                        (JoinKind::Left, c)
                    }
                    ast::JoinOperator::CrossJoin(c) => (JoinKind::Inner, c),
                    other => {
                        return Err(unsupported(
                            format!("join {other:?}")
                                .split('(')
                                .next()
                                .unwrap_or("join")
                                .to_string(),
                        ))
                    }
                };
                let right_width = right_scope.columns.len();
                let joined = scope.join(right_scope);
                let predicate = match constraint {
                    ast::JoinConstraint::On(e) => Some(self.bind_expr(e, &joined, None)?),
                    ast::JoinConstraint::None => None,
                    ast::JoinConstraint::Using(_) => return Err(unsupported("JOIN USING")),
                    ast::JoinConstraint::Natural => return Err(unsupported("NATURAL JOIN")),
                };
                node = Node::NestedLoopJoin {
                    left: Box::new(node),
                    right: Box::new(right),
                    predicate,
                    kind,
                    right_width,
                };
                scope = joined;
            }
            result = Some(match result {
                None => (node, scope),
                Some((left, left_scope)) => {
                    let right_width = scope.columns.len();
                    let node = Node::NestedLoopJoin {
                        left: Box::new(left),
                        right: Box::new(node),
                        predicate: None,
                        kind: JoinKind::Inner,
                        right_width,
                    };
                    (node, left_scope.join(scope))
                }
            });
        }
        Ok(result.unwrap_or((Node::Nothing, Scope::default())))
    }

    fn bind_table_factor(&self, factor: &ast::TableFactor) -> Result<(Node, Scope)> {
        match factor {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } if Catalog::table(self.txn, &object_name(name)?)?.is_none()
                && Catalog::view(self.txn, &object_name(name)?)?.is_some() =>
            {
                let view = Catalog::view(self.txn, &object_name(name)?)?
                    .ok_or_else(|| errinternal!("view {name} vanished"))?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| view.name.clone(), |a| ident(&a.name));
                let (node, labels) = self.bind_view(&view)?;
                let columns = labels
                    .into_iter()
                    .map(|l| ScopeColumn {
                        table: Some(alias.clone()),
                        name: l.name,
                        data_type: l.data_type,
                    })
                    .collect();
                Ok((node, Scope { columns }))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let table = self.table(name)?;
                let alias_name = match alias {
                    Some(a) if !a.columns.is_empty() => {
                        return Err(unsupported("column aliases on a table"))
                    }
                    Some(a) => ident(&a.name),
                    None => table.name.clone(),
                };
                let scope = Scope::of_table(&table, &alias_name);
                Ok((
                    Node::Scan {
                        table,
                        filter: None,
                    },
                    scope,
                ))
            }
            ast::TableFactor::Derived {
                subquery,
                alias,
                lateral: false,
                ..
            } => {
                let (node, labels) = self.bind_query(subquery)?;
                let names: Vec<String> = alias
                    .iter()
                    .flat_map(|a| a.columns.iter().map(|c| ident(&c.name)))
                    .collect();
                if names.len() > labels.len() {
                    let a = alias.as_ref().map(|a| ident(&a.name)).unwrap_or_default();
                    return Err(errinput!(
                        InvalidColumnReference,
                        "table \"{a}\" has {} columns available but {} columns specified",
                        labels.len(),
                        names.len()
                    ));
                }
                let alias = alias.as_ref().map(|a| ident(&a.name));
                let columns = labels
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| ScopeColumn {
                        table: alias.clone(),
                        name: names.get(i).cloned().unwrap_or(l.name),
                        data_type: l.data_type,
                    })
                    .collect();
                Ok((node, Scope { columns }))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.bind_from(std::slice::from_ref(table_with_joins.as_ref())),
            other => Err(unsupported(format!("FROM item {other}"))),
        }
    }

    fn bind_select(
        &self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> Result<(Node, Vec<Label>)> {
        if select.into.is_some() {
            return Err(unsupported("SELECT INTO"));
        }
        let (mut node, scope) = self.bind_from(&select.from)?;
        if let Some(selection) = &select.selection {
            let predicate = self.bind_expr(selection, &scope, None)?;
            self.check_boolean(&predicate, &scope, None, "WHERE")?;
            node = Node::Filter {
                source: Box::new(node),
                predicate,
            };
        }

        let group_exprs = match &select.group_by {
            ast::GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => {
                exprs.as_slice()
            }
            _ => return Err(unsupported("GROUP BY ALL / ROLLUP")),
        };
        let mut aggregate_calls = Vec::new();
        for item in &select.projection {
            if let ast::SelectItem::UnnamedExpr(e)
            | ast::SelectItem::ExprWithAlias { expr: e, .. } = item
            {
                collect_aggregates(e, &mut aggregate_calls);
            }
        }
        if let Some(having) = &select.having {
            collect_aggregates(having, &mut aggregate_calls);
        }
        for o in order_by {
            collect_aggregates(&o.expr, &mut aggregate_calls);
        }

        // Above an aggregate, expressions see the grouping keys and aggregates.
        let grouping =
            if !group_exprs.is_empty() || !aggregate_calls.is_empty() || select.having.is_some() {
                let mut keys = Vec::new();
                let mut columns = Vec::new();
                for g in group_exprs {
                    // GROUP BY may name an output column by position.
                    let g = match g {
                        ast::Expr::Value(v) => match &v.value {
                            ast::Value::Number(n, _) => {
                                let i: usize = n.parse().map_err(|_| {
                                    errinput!(
                                        InvalidColumnReference,
                                        "GROUP BY position {n} is not in select list"
                                    )
                                })?;
                                match select.projection.get(i.wrapping_sub(1)) {
                                    Some(
                                        ast::SelectItem::UnnamedExpr(e)
                                        | ast::SelectItem::ExprWithAlias { expr: e, .. },
                                    ) => e,
                                    _ => {
                                        return Err(errinput!(
                                            InvalidColumnReference,
                                            "GROUP BY position {n} is not in select list"
                                        ))
                                    }
                                }
                            }
                            _ => g,
                        },
                        // An output column's alias, when no input column has that name.
                        ast::Expr::Identifier(id)
                            if !scope.columns.iter().any(|c| c.name == ident(id)) =>
                        {
                            select
                                .projection
                                .iter()
                                .find_map(|item| match item {
                                    ast::SelectItem::ExprWithAlias { expr, alias }
                                        if ident(alias) == ident(id) =>
                                    {
                                        Some(expr)
                                    }
                                    _ => None,
                                })
                                .unwrap_or(g)
                        }
                        _ => g,
                    };
                    let bound = self.bind_expr(g, &scope, None)?; // A grouping key that is a column keeps the column's name and table, so
                                                                  // `t.a` and `a` (and correlated subqueries) still find it.
                    columns.push(match &bound {
                        Expr::Column { index, .. } => scope.columns[*index].clone(),
                        _ => ScopeColumn {
                            table: None,
                            name: g.to_string(),
                            data_type: type_of(&bound),
                        },
                    });
                    keys.push(bound);
                }
                let mut aggregates = Vec::new();
                for call in &aggregate_calls {
                    let aggregate = self.bind_aggregate(call, &scope)?;
                    if aggregates.contains(&aggregate) {
                        continue;
                    }
                    columns.push(ScopeColumn {
                        table: None,
                        name: call.to_string(),
                        data_type: DataType::Unknown,
                    });
                    aggregates.push(aggregate);
                }
                node = Node::Aggregate {
                    source: Box::new(node),
                    group_by: keys.clone(),
                    aggregates: aggregates.clone(),
                };
                Some(Grouping {
                    keys,
                    aggregates,
                    input: scope.clone(),
                    scope: Scope { columns },
                })
            } else {
                None
            };
        let scope = grouping.as_ref().map_or(scope, |g| g.scope.clone());
        if let Some(having) = &select.having {
            let predicate = self.bind_expr(having, &scope, grouping.as_ref())?;
            self.check_boolean(&predicate, &scope, grouping.as_ref(), "HAVING")?;
            node = Node::Filter {
                source: Box::new(node),
                predicate,
            };
        }

        // Projection.
        let mut exprs = Vec::new();
        let mut labels = Vec::new();
        for item in &select.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => {
                    let bound = self.bind_expr(e, &scope, grouping.as_ref())?;
                    labels.push(Label {
                        name: label_of(e),
                        data_type: type_of(&bound),
                    });
                    exprs.push(bound);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let bound = self.bind_expr(expr, &scope, grouping.as_ref())?;
                    labels.push(Label {
                        name: ident(alias),
                        data_type: type_of(&bound),
                    });
                    exprs.push(bound);
                }
                ast::SelectItem::ExprWithAliases { .. } => {
                    return Err(unsupported("multiple aliases"))
                }
                ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..) => {
                    // Each column must be a grouping key, as for a named column.
                    let (columns, keys) = match grouping.as_ref() {
                        Some(g) => (&g.input.columns, Some(&g.keys)),
                        None => (&scope.columns, None),
                    };
                    let only = match item {
                        ast::SelectItem::QualifiedWildcard(
                            ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                            _,
                        ) => Some(object_name(n)?),
                        _ => None,
                    };
                    let mut any = false;
                    for (i, c) in columns.iter().enumerate() {
                        if only.as_ref().is_some_and(|t| c.table.as_ref() != Some(t)) {
                            continue;
                        }
                        any = true;
                        let index = match keys {
                            None => i,
                            Some(keys) => {
                                let column = Expr::Column {
                                    index: i,
                                    name: c.name.clone().into(),
                                };
                                keys.iter().position(|k| *k == column).ok_or_else(|| {
                                    errinput!(
                                        GroupingError,
                                        "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                                        c.name
                                    )
                                })?
                            }
                        };
                        exprs.push(Expr::Column {
                            index,
                            name: c.name.clone().into(),
                        });
                        labels.push(Label {
                            name: c.name.clone(),
                            data_type: c.data_type.clone(),
                        });
                    }
                    if let (Some(t), false) = (only, any) {
                        return Err(errinput!(
                            UndefinedTable,
                            "missing FROM-clause entry for table \"{t}\""
                        ));
                    }
                }
            }
        }
        let visible = exprs.len();

        // ORDER BY: output positions, output names, or expressions computed as hidden columns.
        let distinct = match &select.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return Err(unsupported("DISTINCT ON")),
        };
        let mut keys = Vec::new();
        for o in order_by {
            let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
            if matches!(o.options.sort, Some(ast::OrderBySort::Using(_))) {
                return Err(unsupported("ORDER BY USING"));
            }
            let nulls_first = o.options.nulls_first.unwrap_or(descending);
            let index = match &o.expr {
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let n = v.value.to_string();
                    let i: usize = n.parse().unwrap_or(0);
                    if i == 0 || i > visible {
                        return Err(errinput!(
                            InvalidColumnReference,
                            "ORDER BY position {n} is not in select list"
                        )
                        .at(self.at(v.span)));
                    }
                    i - 1
                }
                ast::Expr::Identifier(id)
                    if labels.iter().filter(|l| l.name == ident(id)).count() == 1 =>
                {
                    labels.iter().position(|l| l.name == ident(id)).unwrap_or(0)
                }
                e => {
                    let bound = self.bind_expr(e, &scope, grouping.as_ref())?;
                    match exprs[..visible].iter().position(|x| *x == bound) {
                        Some(i) => i,
                        None if distinct => {
                            return Err(errinput!(
                            InvalidColumnReference,
                            "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                        ))
                        }
                        None => {
                            exprs.push(bound);
                            exprs.len() - 1
                        }
                    }
                }
            };
            let name = labels
                .get(index)
                .map_or_else(|| format!("#{index}"), |l| l.name.clone());
            keys.push(SortKey {
                expr: Expr::Column {
                    index,
                    name: name.into(),
                },
                descending,
                nulls_first,
            });
        }
        node = Node::Project {
            source: Box::new(node),
            exprs: exprs.clone(),
        };
        if distinct {
            node = Node::Distinct {
                source: Box::new(node),
            };
        }
        if !keys.is_empty() {
            node = Node::Order {
                source: Box::new(node),
                keys,
            };
        }
        if exprs.len() > visible {
            let trim = (0..visible)
                .map(|i| Expr::Column {
                    index: i,
                    name: labels[i].name.clone().into(),
                })
                .collect();
            node = Node::Project {
                source: Box::new(node),
                exprs: trim,
            };
        }
        Ok((node, labels))
    }

    fn bind_aggregate(&self, call: &ast::Expr, scope: &Scope) -> Result<Aggregate> {
        let ast::Expr::Function(f) = call else {
            return Err(errinternal!("not an aggregate: {call}"));
        };
        if f.filter.is_some() || f.over.is_some() {
            return Err(unsupported("aggregate FILTER / OVER"));
        }
        let name = function_name(f);
        let ast::FunctionArguments::List(list) = &f.args else {
            return Err(errinput!(
                UndefinedFunction,
                "function {name}() does not exist"
            ));
        };
        let distinct = matches!(
            list.duplicate_treatment,
            Some(ast::DuplicateTreatment::Distinct)
        );
        let arg = match list.args.as_slice() {
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)] if name == "count" => {
                return Ok(Aggregate::CountStar)
            }
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))] => {
                let mut inner = Vec::new();
                collect_aggregates(e, &mut inner);
                if !inner.is_empty() {
                    return Err(errinput!(
                        GroupingError,
                        "aggregate function calls cannot be nested"
                    ));
                }
                self.bind_expr(e, scope, None)?
            }
            _ => {
                return Err(errinput!(
                    UndefinedFunction,
                    "function {name} with these arguments does not exist"
                ))
            }
        };
        Ok(match name.as_str() {
            "count" => Aggregate::Count(arg, distinct),
            "sum" => Aggregate::Sum(arg, distinct),
            "avg" => Aggregate::Avg(arg, distinct),
            "min" => Aggregate::Min(arg),
            "max" => Aggregate::Max(arg),
            _ => return Err(errinternal!("unknown aggregate {name}")),
        })
    }

    fn resolve(
        &self,
        table: Option<&str>,
        name: &str,
        scope: &Scope,
        span: sqlparser::tokenizer::Span,
    ) -> Result<Expr> {
        let mut found =
            scope.columns.iter().enumerate().filter(|(_, c)| {
                c.name == name && table.is_none_or(|t| c.table.as_deref() == Some(t))
            });
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
            (None, _) => {
                // A correlated reference to an enclosing query's column.
                for (depth, outer) in self.outer.iter().rev().enumerate() {
                    let mut found = outer.columns.iter().enumerate().filter(|(_, c)| {
                        c.name == name && table.is_none_or(|t| c.table.as_deref() == Some(t))
                    });
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

    /// Binds an expression. With `grouping`, grouping keys and aggregates resolve to the
    /// aggregate's output columns and any other column reference is an error.
    fn bind_expr(
        &self,
        expr: &ast::Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        use ast::Expr as A;
        if let Some(g) = grouping {
            // Above an aggregate: an aggregate call or an expression equal to a grouping key
            // (compared bound, so `t.a` matches `a`) is an output column of the aggregate.
            if is_aggregate(expr) {
                let aggregate = self.bind_aggregate(expr, &g.input)?;
                let j = g.aggregates.iter().position(|a| *a == aggregate);
                let j = j.ok_or_else(|| errinternal!("aggregate {expr} was not collected"))?;
                return Ok(Expr::Column {
                    index: g.keys.len() + j,
                    name: expr.to_string().into(),
                });
            }
            if let Ok(bound) = self.bind_expr(expr, &g.input, None) {
                if let Some(i) = g.keys.iter().position(|k| *k == bound) {
                    return Ok(Expr::Column {
                        index: i,
                        name: expr.to_string().into(),
                    });
                }
            }
            if let A::Identifier(_) | A::CompoundIdentifier(_) = expr {
                // Not a grouping key: an error, the right one if the name does not exist.
                self.bind_expr(expr, &g.input, None)?;
                return Err(errinput!(
                    GroupingError,
                    "column \"{expr}\" must appear in the GROUP BY clause or be used in an aggregate function"
                ));
            }
        }
        let bind = |e: &ast::Expr| self.bind_expr(e, scope, grouping);
        let boxed = |e: &ast::Expr| bind(e).map(Box::new);
        Ok(match expr {
            A::Identifier(id) => self.resolve(None, &ident(id), scope, id.span)?,
            A::CompoundIdentifier(ids) => match ids.as_slice() {
                [t, c] => self.resolve(Some(&ident(t)), &ident(c), scope, c.span)?,
                _ => return Err(unsupported(format!("name {expr}"))),
            },
            A::Value(v) => Expr::Constant(self.literal(&v.value)?),
            A::Nested(e) => bind(e)?,
            A::UnaryOp { op, expr } => match op {
                ast::UnaryOperator::Not => Expr::Not(boxed(expr)?),
                ast::UnaryOperator::Minus => match bind(expr)? {
                    // Fold so that -2147483648 is an integer, as in PostgreSQL.
                    Expr::Constant(v) if v != Value::Null => Expr::Constant(types::ops::neg(&v)?),
                    e => Expr::Negate(Box::new(e)),
                },
                ast::UnaryOperator::Plus => bind(expr)?,
                other => return Err(unsupported(format!("operator {other}"))),
            },
            A::BinaryOp { left, op, right } => {
                self.bind_binary(left, op, right, scope, grouping)?
            }
            A::IsNull(e) => Expr::IsNull(boxed(e)?),
            A::IsNotNull(e) => Expr::Not(Box::new(Expr::IsNull(boxed(e)?))),
            A::IsDistinctFrom(a, b) => Expr::Compare(CompareOp::Distinct, boxed(a)?, boxed(b)?),
            A::IsNotDistinctFrom(a, b) => {
                Expr::Compare(CompareOp::NotDistinct, boxed(a)?, boxed(b)?)
            }
            A::IsTrue(e) => Expr::Compare(
                CompareOp::NotDistinct,
                boxed(e)?,
                Box::new(Expr::Constant(Value::Bool(true))),
            ),
            A::IsFalse(e) => Expr::Compare(
                CompareOp::NotDistinct,
                boxed(e)?,
                Box::new(Expr::Constant(Value::Bool(false))),
            ),
            A::IsNotTrue(e) => Expr::Compare(
                CompareOp::Distinct,
                boxed(e)?,
                Box::new(Expr::Constant(Value::Bool(true))),
            ),
            A::IsNotFalse(e) => Expr::Compare(
                CompareOp::Distinct,
                boxed(e)?,
                Box::new(Expr::Constant(Value::Bool(false))),
            ),
            A::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let e = bind(expr)?;
                let low = self.coerce_literal(low, &e, scope, grouping)?;
                let high = self.coerce_literal(high, &e, scope, grouping)?;
                let between = Expr::And(
                    Box::new(Expr::Compare(
                        CompareOp::GtEq,
                        Box::new(e.clone()),
                        Box::new(low),
                    )),
                    Box::new(Expr::Compare(CompareOp::LtEq, Box::new(e), Box::new(high))),
                );
                if *negated {
                    Expr::Not(Box::new(between))
                } else {
                    between
                }
            }
            A::InList {
                expr,
                list,
                negated,
            } => {
                let e = bind(expr)?;
                let list = list
                    .iter()
                    .map(|x| self.coerce_literal(x, &e, scope, grouping))
                    .collect::<Result<_>>()?;
                let in_list = Expr::InList(Box::new(e), list);
                if *negated {
                    Expr::Not(Box::new(in_list))
                } else {
                    in_list
                }
            }
            A::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            } => {
                let like = Expr::Like {
                    expr: boxed(expr)?,
                    pattern: boxed(pattern)?,
                    case_insensitive: false,
                };
                if *negated {
                    Expr::Not(Box::new(like))
                } else {
                    like
                }
            }
            A::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            } => {
                let like = Expr::Like {
                    expr: boxed(expr)?,
                    pattern: boxed(pattern)?,
                    case_insensitive: true,
                };
                if *negated {
                    Expr::Not(Box::new(like))
                } else {
                    like
                }
            }
            A::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let operand = operand.as_ref().map(|o| bind(o)).transpose()?;
                let mut whens = Vec::with_capacity(conditions.len());
                for c in conditions {
                    let condition = match &operand {
                        Some(o) => {
                            let value = self.coerce_literal(&c.condition, o, scope, grouping)?;
                            Expr::Compare(CompareOp::Eq, Box::new(o.clone()), Box::new(value))
                        }
                        None => bind(&c.condition)?,
                    };
                    whens.push((condition, bind(&c.result)?));
                }
                let otherwise = else_result.as_ref().map(|e| boxed(e)).transpose()?;
                Expr::Case(whens, otherwise)
            }
            A::Cast {
                expr,
                data_type,
                format: None,
                ..
            } => {
                let ty = data_type_from_ast(data_type)?;
                match bind(expr)? {
                    // Fold casts of constants: '5'::int is a constant 5, and a bad literal fails
                    // at plan time as in PostgreSQL.
                    Expr::Constant(v) => Expr::Constant(types::cast(v, &ty)?),
                    e => Expr::Cast(Box::new(e), ty),
                }
            }
            A::TypedString(typed) => {
                let ty = data_type_from_ast(&typed.data_type)?;
                let text = match &typed.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                Expr::Constant(types::parse_text(&text, &ty)?)
            }
            A::Subquery(query) => Expr::Subquery(Box::new(self.bind_subquery(query, scope, true)?)),
            A::Exists { subquery, negated } => {
                let exists = Expr::Exists(Box::new(self.bind_subquery(subquery, scope, false)?));
                if *negated {
                    Expr::Not(Box::new(exists))
                } else {
                    exists
                }
            }
            A::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let in_subquery = Expr::InSubquery(
                    boxed(expr)?,
                    Box::new(self.bind_subquery(subquery, scope, true)?),
                );
                if *negated {
                    Expr::Not(Box::new(in_subquery))
                } else {
                    in_subquery
                }
            }
            A::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | A::AllOp {
                left,
                compare_op,
                right,
            } => {
                let all = matches!(expr, A::AllOp { .. });
                let op = match compare_op {
                    ast::BinaryOperator::Eq => CompareOp::Eq,
                    ast::BinaryOperator::NotEq => CompareOp::NotEq,
                    ast::BinaryOperator::Lt => CompareOp::Lt,
                    ast::BinaryOperator::LtEq => CompareOp::LtEq,
                    ast::BinaryOperator::Gt => CompareOp::Gt,
                    ast::BinaryOperator::GtEq => CompareOp::GtEq,
                    other => return Err(unsupported(format!("operator {other} with ANY/ALL"))),
                };
                let query = match right.as_ref() {
                    A::Subquery(q) => q,
                    A::Nested(inner) => match inner.as_ref() {
                        A::Subquery(q) => q,
                        _ => return Err(unsupported("ANY/ALL over an array")),
                    },
                    _ => return Err(unsupported("ANY/ALL over an array")),
                };
                let subquery = Box::new(self.bind_subquery(query, scope, true)?);
                Expr::Quantified {
                    op,
                    left: boxed(left)?,
                    subquery,
                    all,
                }
            }
            A::Function(_) if is_aggregate(expr) => {
                return Err(errinput!(
                    GroupingError,
                    "aggregate functions are not allowed here"
                ));
            }
            A::Function(f) => self.bind_function(f, scope, grouping)?,
            _ => return Err(unsupported(format!("expression {expr}"))),
        })
    }

    fn bind_function(
        &self,
        f: &ast::Function,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        let name = function_name(f);
        if f.over.is_some() || f.filter.is_some() {
            return Err(unsupported(format!("{name}() with OVER / FILTER")));
        }
        let args: Vec<Expr> = match &f.args {
            ast::FunctionArguments::None => vec![],
            ast::FunctionArguments::List(list) => list
                .args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                        self.bind_expr(e, scope, grouping)
                    }
                    _ => Err(unsupported(format!("argument form in {name}()"))),
                })
                .collect::<Result<_>>()?,
            ast::FunctionArguments::Subquery(_) => {
                return Err(unsupported("subquery function arguments"))
            }
        };
        let (function, arity) = match name.as_str() {
            "coalesce" => (Function::Coalesce, None),
            "nullif" => (Function::NullIf, Some(2)),
            "abs" => (Function::Abs, Some(1)),
            "lower" => (Function::Lower, Some(1)),
            "upper" => (Function::Upper, Some(1)),
            "length" | "char_length" | "character_length" => (Function::Length, Some(1)),
            _ => {
                return Err(errinput!(
                    UndefinedFunction,
                    "function {name} does not exist"
                ))
            }
        };
        if arity.is_some_and(|n| n != args.len()) || args.is_empty() {
            return Err(errinput!(
                UndefinedFunction,
                "function {name} with {} arguments does not exist",
                args.len()
            ));
        }
        Ok(Expr::Function(function, args))
    }

    /// Binds `expr`; an untyped string literal takes the type of `other`, as PostgreSQL types
    /// `unknown` literals from context (`a = '5'` compares integers when `a` is an integer).
    fn coerce_literal(
        &self,
        expr: &ast::Expr,
        other: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        if let ast::Expr::Value(v) = expr {
            if let ast::Value::SingleQuotedString(text) = &v.value {
                let ty = self.expr_type(other, scope, grouping);
                if ty != DataType::Unknown && !ty.is_string() {
                    return Ok(Expr::Constant(
                        types::parse_text(text, &ty).map_err(|e| e.at(self.at(v.span)))?,
                    ));
                }
            }
        }
        self.bind_expr(expr, scope, grouping)
    }

    /// Fails with 42804 unless `predicate` is boolean (or of a type not known until run time).
    fn check_boolean(
        &self,
        predicate: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
        clause: &str,
    ) -> Result<()> {
        match self.expr_type(predicate, scope, grouping) {
            DataType::Bool | DataType::Unknown => Ok(()),
            ty => Err(errinput!(
                DatatypeMismatch,
                "argument of {clause} must be type boolean, not type {ty}"
            )),
        }
    }

    /// The type of a bound expression, looking column types up in the scope.
    fn expr_type(&self, expr: &Expr, scope: &Scope, grouping: Option<&Grouping>) -> DataType {
        match expr {
            Expr::Column { index, .. } => {
                let columns = grouping.map_or(&scope.columns, |g| &g.scope.columns);
                columns
                    .get(*index)
                    .map_or(DataType::Unknown, |c| c.data_type.clone())
            }
            Expr::Arith(_, a, b) => match self.expr_type(a, scope, grouping) {
                DataType::Unknown => self.expr_type(b, scope, grouping),
                t => t,
            },
            Expr::Negate(e) => self.expr_type(e, scope, grouping),
            other => type_of(other),
        }
    }

    fn bind_binary(
        &self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        use ast::BinaryOperator as B;
        let (l, r) = match (left, right) {
            (ast::Expr::Value(_), _) => {
                let r = self.bind_expr(right, scope, grouping)?;
                (self.coerce_literal(left, &r, scope, grouping)?, r)
            }
            _ => {
                let l = self.bind_expr(left, scope, grouping)?;
                let r = self.coerce_literal(right, &l, scope, grouping)?;
                (l, r)
            }
        };
        let (l, r) = (Box::new(l), Box::new(r));
        Ok(match op {
            B::And => Expr::And(l, r),
            B::Or => Expr::Or(l, r),
            B::Eq => Expr::Compare(CompareOp::Eq, l, r),
            B::NotEq => Expr::Compare(CompareOp::NotEq, l, r),
            B::Lt => Expr::Compare(CompareOp::Lt, l, r),
            B::LtEq => Expr::Compare(CompareOp::LtEq, l, r),
            B::Gt => Expr::Compare(CompareOp::Gt, l, r),
            B::GtEq => Expr::Compare(CompareOp::GtEq, l, r),
            B::Plus => Expr::Arith(ArithOp::Add, l, r),
            B::Minus => Expr::Arith(ArithOp::Sub, l, r),
            B::Multiply => Expr::Arith(ArithOp::Mul, l, r),
            B::Divide => Expr::Arith(ArithOp::Div, l, r),
            B::Modulo => Expr::Arith(ArithOp::Mod, l, r),
            B::StringConcat => Expr::Concat(l, r),
            other => return Err(unsupported(format!("operator {other}"))),
        })
    }

    fn literal(&self, value: &ast::Value) -> Result<Value> {
        Ok(match value {
            ast::Value::Null => Value::Null,
            ast::Value::Boolean(b) => Value::Bool(*b),
            ast::Value::SingleQuotedString(s) => Value::Text(s.clone()),
            ast::Value::Number(n, _) => {
                if let Ok(i) = n.parse::<i32>() {
                    Value::Int32(i)
                } else if let Ok(i) = n.parse::<i64>() {
                    Value::Int64(i)
                } else {
                    let d: BigDecimal = n
                        .parse()
                        .map_err(|_| errinput!(InvalidTextRepresentation, "invalid number {n}"))?;
                    Value::Numeric(Numeric::Finite(d))
                }
            }
            other => return Err(unsupported(format!("literal {other}"))),
        })
    }

    fn bind_insert(&self, insert: &ast::Insert) -> Result<Plan> {
        if insert.returning.is_some() {
            return Err(unsupported("INSERT ... RETURNING"));
        }
        if insert.on.is_some() {
            return Err(unsupported("INSERT ... ON CONFLICT"));
        }
        let ast::TableObject::TableName(name) = &insert.table else {
            return Err(unsupported("INSERT INTO a table function"));
        };
        let table = self.table(name)?;
        let positions: Vec<usize> = if insert.columns.is_empty() {
            (0..table.columns.len()).collect()
        } else {
            let mut positions = Vec::with_capacity(insert.columns.len());
            for c in &insert.columns {
                let column = object_name(c)?;
                let i = table.column_index(&column).ok_or_else(|| {
                    errinput!(
                        UndefinedColumn,
                        "column \"{column}\" of relation \"{}\" does not exist",
                        table.name
                    )
                })?;
                if positions.contains(&i) {
                    return Err(errinput!(
                        SyntaxError,
                        "column \"{column}\" specified more than once"
                    ));
                }
                positions.push(i);
            }
            positions
        };
        let Some(query) = &insert.source else {
            return Err(unsupported("INSERT without a source"));
        };
        let (source, labels) = self.bind_query(query)?;
        if labels.len() > positions.len() {
            return Err(errinput!(
                SyntaxError,
                "INSERT has more expressions than target columns"
            ));
        }
        if labels.len() < positions.len() && !insert.columns.is_empty() {
            return Err(errinput!(
                SyntaxError,
                "INSERT has more target columns than expressions"
            ));
        }
        let mut targets = vec![None; table.columns.len()];
        for (source_index, &column) in positions.iter().take(labels.len()).enumerate() {
            targets[column] = Some(source_index);
        }
        let defaults = table
            .columns
            .iter()
            .map(|c| {
                c.default
                    .as_ref()
                    .map(|text| self.bind_default(text))
                    .transpose()
            })
            .collect::<Result<_>>()?;
        Ok(Plan::Insert {
            table,
            targets,
            defaults,
            source,
        })
    }

    fn bind_default(&self, text: &str) -> Result<Expr> {
        let expr = sqlparser::parser::Parser::new(self.dialect)
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
            .map_err(|e| errinternal!("stored default {text:?} does not parse: {e}"))?;
        self.bind_expr(&expr, &Scope::default(), None)
    }

    fn bind_update(&self, update: &ast::Update) -> Result<Plan> {
        if update.from.is_some() || update.returning.is_some() || !update.table.joins.is_empty() {
            return Err(unsupported("UPDATE with FROM, RETURNING or joins"));
        }
        let (table, alias) = match &update.table.relation {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let table = self.table(name)?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| table.name.clone(), |a| ident(&a.name));
                (table, alias)
            }
            other => return Err(unsupported(format!("UPDATE of {other}"))),
        };
        let scope = Scope::of_table(&table, &alias);
        let mut assignments = Vec::with_capacity(update.assignments.len());
        for a in &update.assignments {
            let ast::AssignmentTarget::ColumnName(column) = &a.target else {
                return Err(unsupported("multi-column assignment"));
            };
            let column = object_name(column)?;
            let index = table.column_index(&column).ok_or_else(|| {
                errinput!(
                    UndefinedColumn,
                    "column \"{column}\" of relation \"{}\" does not exist",
                    table.name
                )
            })?;
            let target = Expr::Column {
                index,
                name: column.into(),
            };
            assignments.push((index, self.coerce_literal(&a.value, &target, &scope, None)?));
        }
        let filter = update
            .selection
            .as_ref()
            .map(|e| self.bind_expr(e, &scope, None))
            .transpose()?;
        if let Some(f) = &filter {
            self.check_boolean(f, &scope, None, "WHERE")?;
        }
        let source = Node::Scan {
            table: table.clone(),
            filter: filter.clone(),
        };
        Ok(Plan::Update {
            table,
            source,
            filter,
            assignments,
        })
    }

    fn bind_delete(&self, delete: &ast::Delete) -> Result<Plan> {
        if delete.using.is_some() || delete.returning.is_some() || !delete.tables.is_empty() {
            return Err(unsupported("DELETE with USING or RETURNING"));
        }
        let from = match &delete.from {
            ast::FromTable::WithFromKeyword(from) | ast::FromTable::WithoutKeyword(from) => from,
        };
        let [item] = from.as_slice() else {
            return Err(unsupported("DELETE from several tables"));
        };
        let (table, alias) = match &item.relation {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } if item.joins.is_empty() => {
                let table = self.table(name)?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| table.name.clone(), |a| ident(&a.name));
                (table, alias)
            }
            other => return Err(unsupported(format!("DELETE from {other}"))),
        };
        let scope = Scope::of_table(&table, &alias);
        let filter = delete
            .selection
            .as_ref()
            .map(|e| self.bind_expr(e, &scope, None))
            .transpose()?;
        if let Some(f) = &filter {
            self.check_boolean(f, &scope, None, "WHERE")?;
        }
        let source = Node::Scan {
            table: table.clone(),
            filter: filter.clone(),
        };
        Ok(Plan::Delete {
            table,
            source,
            filter,
        })
    }

    fn bind_create_table(&self, create: &ast::CreateTable) -> Result<Plan> {
        if create.query.is_some() {
            return Err(unsupported("CREATE TABLE AS"));
        }
        let name = object_name(&create.name)?;
        let mut columns: Vec<Column> = Vec::with_capacity(create.columns.len());
        let mut primary_key = Vec::new();
        let mut unique: Vec<Vec<usize>> = Vec::new();
        for def in &create.columns {
            let column_name = ident(&def.name);
            if columns.iter().any(|c| c.name == column_name) {
                return Err(errinput!(
                    DuplicateColumn,
                    "column \"{column_name}\" specified more than once"
                ));
            }
            let mut column = Column {
                name: column_name,
                data_type: data_type_from_ast(&def.data_type)?,
                nullable: true,
                default: None,
            };
            for option in &def.options {
                match &option.option {
                    ast::ColumnOption::Null => column.nullable = true,
                    ast::ColumnOption::NotNull => column.nullable = false,
                    ast::ColumnOption::Default(expr) => {
                        // Check it binds now; store the text, evaluated at each insert.
                        self.bind_expr(expr, &Scope::default(), None)?;
                        column.default = Some(expr.to_string());
                    }
                    ast::ColumnOption::Unique(_) => unique.push(vec![columns.len()]),
                    ast::ColumnOption::PrimaryKey(_) => {
                        if !primary_key.is_empty() {
                            return Err(errinput!(
                                InvalidColumnReference,
                                "multiple primary keys for table \"{name}\" are not allowed"
                            ));
                        }
                        column.nullable = false;
                        primary_key.push(columns.len());
                    }
                    other => return Err(unsupported(format!("column constraint {other}"))),
                }
            }
            columns.push(column);
        }
        for constraint in &create.constraints {
            match constraint {
                ast::TableConstraint::Unique(u) => {
                    let mut positions = Vec::with_capacity(u.columns.len());
                    for c in &u.columns {
                        let column = match &c.column.expr {
                            ast::Expr::Identifier(id) => ident(id),
                            other => {
                                return Err(unsupported(format!(
                                    "unique constraint expression {other}"
                                )))
                            }
                        };
                        let i = columns
                            .iter()
                            .position(|c| c.name == column)
                            .ok_or_else(|| {
                                errinput!(
                                    UndefinedColumn,
                                    "column \"{column}\" named in key does not exist"
                                )
                            })?;
                        positions.push(i);
                    }
                    unique.push(positions);
                }
                ast::TableConstraint::PrimaryKey(pk) => {
                    if !primary_key.is_empty() {
                        return Err(errinput!(
                            InvalidColumnReference,
                            "multiple primary keys for table \"{name}\" are not allowed"
                        ));
                    }
                    for c in &pk.columns {
                        let column = match &c.column.expr {
                            ast::Expr::Identifier(id) => ident(id),
                            other => {
                                return Err(unsupported(format!("primary key expression {other}")))
                            }
                        };
                        let i = columns
                            .iter()
                            .position(|c| c.name == column)
                            .ok_or_else(|| {
                                errinput!(
                                    UndefinedColumn,
                                    "column \"{column}\" named in key does not exist"
                                )
                            })?;
                        columns[i].nullable = false;
                        primary_key.push(i);
                    }
                }
                other => return Err(unsupported(format!("table constraint {other}"))),
            }
        }
        let unique = unique
            .into_iter()
            .map(|positions| {
                let names: Vec<&str> = positions
                    .iter()
                    .map(|&i| columns[i].name.as_str())
                    .collect();
                Index {
                    id: 0,
                    name: format!("{name}_{}_key", names.join("_")),
                    columns: positions,
                    unique: true,
                }
            })
            .collect();
        let table = Table {
            id: 0,
            name,
            columns,
            primary_key,
            indexes: Vec::new(),
        };
        Ok(Plan::CreateTable {
            table,
            if_not_exists: create.if_not_exists,
            unique,
        })
    }
}

impl<E: Engine> Binder<'_, E> {
    /// Binds a subquery in an expression; it sees `scope` as its enclosing row. With
    /// `one_column`, it must return exactly one column (42601 otherwise).
    fn bind_subquery(
        &self,
        query: &ast::Query,
        scope: &Scope,
        one_column: bool,
    ) -> Result<Subquery> {
        let mut outer = self.outer.clone();
        outer.push(scope.clone());
        let child = Binder {
            txn: self.txn,
            sql: self.sql,
            dialect: self.dialect,
            outer,
        };
        let (node, labels) = child.bind_query(query)?;
        if one_column && labels.len() != 1 {
            return Err(errinput!(
                SyntaxError,
                "subquery must return only one column"
            ));
        }
        let correlated = node.refers_outward(1);
        Ok(Subquery { node, correlated })
    }

    /// Binds a view's stored query; its columns take the view's own names where given.
    fn bind_view(&self, view: &View) -> Result<(Node, Vec<Label>)> {
        let statements = crate::parser::parse(self.dialect, &view.query)?;
        let [ast::Statement::Query(query)] = statements.as_slice() else {
            return Err(errinternal!("view {} holds {:?}", view.name, view.query));
        };
        let binder = Binder::new(self.txn, &view.query, self.dialect);
        let (node, mut labels) = binder.bind_query(query)?;
        for (label, name) in labels.iter_mut().zip(&view.columns) {
            label.name = name.clone();
        }
        Ok((node, labels))
    }

    fn bind_create_view(&self, create: &ast::CreateView) -> Result<Plan> {
        if create.materialized || create.temporary {
            return Err(unsupported("materialized or temporary views"));
        }
        let name = object_name(&create.name)?;
        let columns: Vec<String> = create.columns.iter().map(|c| ident(&c.name)).collect();
        let view = View {
            name,
            query: create.query.to_string(),
            columns,
        };
        // Bind now so that a broken view fails at CREATE, as in PostgreSQL.
        let (_, labels) = self.bind_view(&view)?;
        if view.columns.len() > labels.len() {
            return Err(errinput!(
                SyntaxError,
                "CREATE VIEW specifies more column names than columns"
            ));
        }
        Ok(Plan::CreateView {
            view,
            or_replace: create.or_replace,
        })
    }

    fn bind_create_index(&self, create: &ast::CreateIndex) -> Result<Plan> {
        if create.predicate.is_some() || !create.include.is_empty() || create.using.is_some() {
            return Err(unsupported("partial, covering or non-btree indexes"));
        }
        let table = self.table(&create.table_name)?;
        let mut columns = Vec::with_capacity(create.columns.len());
        for c in &create.columns {
            let column = match &c.column.expr {
                ast::Expr::Identifier(id) => ident(id),
                other => return Err(unsupported(format!("index on expression {other}"))),
            };
            let i = table
                .column_index(&column)
                .ok_or_else(|| errinput!(UndefinedColumn, "column \"{column}\" does not exist"))?;
            columns.push(i);
        }
        let name = match &create.name {
            Some(name) => object_name(name)?,
            None => {
                let names: Vec<&str> = columns
                    .iter()
                    .map(|&i| table.columns[i].name.as_str())
                    .collect();
                let suffix = if create.unique { "key" } else { "idx" };
                format!("{}_{}_{suffix}", table.name, names.join("_"))
            }
        };
        let index = Index {
            id: 0,
            name,
            columns,
            unique: create.unique,
        };
        Ok(Plan::CreateIndex {
            table: table.name,
            index,
            if_not_exists: create.if_not_exists,
        })
    }
}

/// PostgreSQL's label for an unaliased select item.
fn label_of(expr: &ast::Expr) -> String {
    match expr {
        ast::Expr::Identifier(id) => ident(id),
        ast::Expr::CompoundIdentifier(ids) => ids.last().map_or_else(|| "?column?".into(), ident),
        ast::Expr::Function(f) => function_name(f),
        ast::Expr::Nested(e) => label_of(e),
        ast::Expr::Cast {
            expr, data_type, ..
        } => match label_of(expr).as_str() {
            "?column?" => data_type_label(data_type),
            name => name.to_string(),
        },
        ast::Expr::Case { .. } => "case".into(),
        _ => "?column?".into(),
    }
}

/// The label PostgreSQL gives a cast of a constant: the type's internal name.
fn data_type_label(ty: &ast::DataType) -> String {
    match data_type_from_ast(ty) {
        Ok(DataType::Int16) => "int2".into(),
        Ok(DataType::Int32) => "int4".into(),
        Ok(DataType::Int64) => "int8".into(),
        Ok(DataType::Float32) => "float4".into(),
        Ok(DataType::Float64) => "float8".into(),
        Ok(DataType::Bool) => "bool".into(),
        Ok(DataType::Varchar(_)) => "varchar".into(),
        Ok(DataType::Char(_)) => "bpchar".into(),
        Ok(DataType::Timestamp) => "timestamp".into(),
        Ok(DataType::TimestampTz) => "timestamptz".into(),
        Ok(DataType::Time) => "time".into(),
        Ok(t) => t.to_string(),
        Err(_) => "?column?".into(),
    }
}

/// Maps a type name in SQL to a [`DataType`].
pub fn data_type_from_ast(ty: &ast::DataType) -> Result<DataType> {
    use ast::DataType as D;
    let length = |l: &Option<ast::CharacterLength>| match l {
        Some(ast::CharacterLength::IntegerLength { length, .. }) => Ok(Some(*length as u32)),
        Some(ast::CharacterLength::Max) => Err(unsupported("length MAX")),
        None => Ok(None),
    };
    Ok(match ty {
        D::Bool | D::Boolean => DataType::Bool,
        D::SmallInt(_) | D::Int2(_) => DataType::Int16,
        D::Int(_) | D::Integer(_) | D::Int4(_) => DataType::Int32,
        D::BigInt(_) | D::Int8(_) => DataType::Int64,
        D::Real | D::Float4 => DataType::Float32,
        D::DoublePrecision | D::Float8 | D::Double(ast::ExactNumberInfo::None) => DataType::Float64,
        D::Float(ast::ExactNumberInfo::None) => DataType::Float64,
        D::Float(ast::ExactNumberInfo::Precision(p)) => {
            if *p <= 24 {
                DataType::Float32
            } else {
                DataType::Float64
            }
        }
        D::Numeric(info) | D::Decimal(info) | D::Dec(info) => match info {
            ast::ExactNumberInfo::None => DataType::Numeric(None),
            ast::ExactNumberInfo::Precision(p) => numeric_typmod(*p, 0)?,
            ast::ExactNumberInfo::PrecisionAndScale(p, s) => numeric_typmod(*p, *s)?,
        },
        D::Text => DataType::Text,
        D::Varchar(l) | D::CharacterVarying(l) | D::CharVarying(l) => DataType::Varchar(length(l)?),
        D::Char(l) | D::Character(l) => DataType::Char(length(l)?.unwrap_or(1)),
        D::Bytea => DataType::Bytea,
        D::Date => DataType::Date,
        D::Time(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => DataType::Time,
        D::Timestamp(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => {
            DataType::Timestamp
        }
        D::Timestamp(_, ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz) => {
            DataType::TimestampTz
        }
        D::Interval { .. } => DataType::Interval,
        D::Uuid => DataType::Uuid,
        D::Custom(name, args) if args.is_empty() => {
            match name.to_string().to_lowercase().as_str() {
                "timestamptz" => DataType::TimestampTz,
                "int" | "int4" => DataType::Int32,
                other => {
                    return Err(errinput!(
                        UndefinedObject,
                        "type \"{other}\" does not exist"
                    ))
                }
            }
        }
        other => return Err(unsupported(format!("type {other}"))),
    })
}

fn numeric_typmod(precision: u64, scale: i64) -> Result<DataType> {
    if !(1..=1000).contains(&precision) {
        return Err(errinput!(
            InvalidParameterValue,
            "NUMERIC precision {precision} must be between 1 and 1000"
        ));
    }
    if scale < 0 || scale as u64 > precision {
        return Err(errinput!(
            InvalidParameterValue,
            "NUMERIC scale {scale} must be between 0 and precision {precision}"
        ));
    }
    Ok(DataType::Numeric(Some((precision as u32, scale as u32))))
}
