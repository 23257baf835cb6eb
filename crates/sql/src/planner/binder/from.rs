//! Binding FROM: tables, views, CTEs and system relations, subqueries (LATERAL too),
//! set-returning functions, and the joins between them.

#![allow(clippy::wildcard_imports)]

use super::*;

/// The system relation `name` names: `pg_catalog.x` and `information_schema.x` must be one
/// (42P01 if not), an unqualified name is one if `pg_catalog` has it (the search path puts
/// `pg_catalog` first, as PostgreSQL does).
fn system_relation(name: &ast::ObjectName) -> Result<Option<crate::system::SystemView>> {
    use crate::system::SystemView;
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => Ok(SystemView::lookup(None, &ident(id))),
        [ast::ObjectNamePart::Identifier(schema), ast::ObjectNamePart::Identifier(id)] => {
            let schema = ident(schema);
            if !matches!(schema.as_str(), "pg_catalog" | "information_schema") {
                return Ok(None);
            }
            SystemView::lookup(Some(&schema), &ident(id))
                .map(Some)
                .ok_or_else(|| errinput!(UndefinedTable, "relation \"{name}\" does not exist"))
        }
        _ => Ok(None),
    }
}

/// The name of a function in FROM (built-in functions live in `pg_catalog`).
/// The call `name(args)` as an expression.
fn function_call(name: &ast::ObjectName, args: &[ast::FunctionArg]) -> ast::Expr {
    ast::Expr::Function(ast::Function {
        name: name.clone(),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args.to_vec(),
            clauses: vec![],
        }),
        within_group: vec![],
        filter: None,
        null_treatment: None,
        over: None,
    })
}

/// A FROM item that is a call of a set-returning function (laterally joinable): its name,
/// arguments and alias.
fn function_factor(
    factor: &ast::TableFactor,
) -> Option<(
    ast::ObjectName,
    Vec<ast::FunctionArg>,
    Option<&ast::TableAlias>,
)> {
    let (name, args, alias) = match factor {
        ast::TableFactor::Table {
            name,
            args: Some(args),
            with_ordinality: false,
            alias,
            ..
        } => (name.clone(), args.args.clone(), alias.as_ref()),
        ast::TableFactor::Function {
            name,
            args,
            with_ordinality: false,
            alias,
            ..
        } => (name.clone(), args.clone(), alias.as_ref()),
        ast::TableFactor::UNNEST {
            alias,
            array_exprs,
            with_offset: false,
            with_ordinality: false,
            ..
        } => (
            ast::ObjectName::from(vec![ast::Ident::new("unnest")]),
            array_exprs
                .iter()
                .map(|e| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e.clone())))
                .collect(),
            alias.as_ref(),
        ),
        _ => return None,
    };
    is_set_returning(&function_call(&name, &args)).then_some((name, args, alias))
}

fn table_function(name: &ast::ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => Some(ident(id)),
        [ast::ObjectNamePart::Identifier(schema), ast::ObjectNamePart::Identifier(id)]
            if ident(schema) == "pg_catalog" =>
        {
            Some(ident(id))
        }
        _ => None,
    }
}

impl<E: Engine> Binder<'_, E> {
    pub(super) fn bind_from(&self, from: &[ast::TableWithJoins]) -> Result<(Node, Scope)> {
        let mut result: Option<(Node, Scope)> = None;
        for item in from {
            // `FROM t, f(t.x)`: a function after other items is laterally joined to them.
            // Only when its arguments use them: otherwise it is an independent item, which
            // joins (and takes pushed-down predicates) like any other.
            let lateral = match (&result, function_factor(&item.relation)) {
                (Some(_), Some((name, args, alias))) => self
                    .bind_from_function(&name, args.clone(), alias, None)
                    .is_err()
                    .then_some((name, args, alias)),
                _ => None,
            };
            let (mut node, mut scope, merged) = match (lateral, result.take()) {
                (Some((name, args, alias)), Some(left)) => {
                    let (node, scope) = self.bind_from_function(&name, args, alias, Some(left))?;
                    (node, scope, true)
                }
                // `FROM t, LATERAL (SELECT ... t.x ...) s`
                (None, Some(left)) if lateral_subquery(&item.relation).is_some() => {
                    let (subquery, alias) = lateral_subquery(&item.relation)
                        .ok_or_else(|| errinternal!("a LATERAL subquery went missing"))?;
                    let (node, scope) =
                        self.bind_lateral(left, subquery, alias, JoinKind::Inner, None)?;
                    (node, scope, true)
                }
                (_, left) => {
                    result = left;
                    let (node, scope) = self.bind_table_factor(&item.relation)?;
                    (node, scope, false)
                }
            };
            for join in &item.joins {
                // `CROSS JOIN [LATERAL] f(t.x)`, `JOIN [LATERAL] f(t.x) ON true`.
                let on_true = match &join.join_operator {
                    ast::JoinOperator::CrossJoin(ast::JoinConstraint::None) => true,
                    ast::JoinOperator::Join(ast::JoinConstraint::On(e))
                    | ast::JoinOperator::Inner(ast::JoinConstraint::On(e)) => matches!(
                        e,
                        ast::Expr::Value(v) if v.value == ast::Value::Boolean(true)
                    ),
                    _ => false,
                };
                let lateral = function_factor(&join.relation).filter(|(name, args, alias)| {
                    on_true
                        && self
                            .bind_from_function(name, args.clone(), *alias, None)
                            .is_err()
                });
                if let Some((name, args, alias)) = lateral {
                    (node, scope) =
                        self.bind_from_function(&name, args, alias, Some((node, scope)))?;
                    continue;
                }
                let (kind, constraint) = match &join.join_operator {
                    ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => {
                        (JoinKind::Inner, c)
                    }
                    ast::JoinOperator::Left(c) | ast::JoinOperator::LeftOuter(c) => {
                        (JoinKind::Left, c)
                    }
                    ast::JoinOperator::Right(c) | ast::JoinOperator::RightOuter(c) => {
                        (JoinKind::Right, c)
                    }
                    ast::JoinOperator::FullOuter(c) => (JoinKind::Full, c),
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
                if let Some((subquery, alias)) = lateral_subquery(&join.relation) {
                    (node, scope) =
                        self.bind_lateral((node, scope), subquery, alias, kind, Some(constraint))?;
                    continue;
                }
                let (right, right_scope) = self.bind_table_factor(&join.relation)?;
                let (left_width, right_width) = (scope.columns.len(), right_scope.columns.len());
                let using = match constraint {
                    ast::JoinConstraint::Using(names) => {
                        Some(names.iter().map(simple_name).collect::<Result<Vec<_>>>()?)
                    }
                    ast::JoinConstraint::Natural => Some(
                        scope
                            .columns
                            .iter()
                            .filter(|c| !c.qualified_only)
                            .filter(|c| {
                                right_scope.columns.iter().any(|r| r.answers(None, &c.name))
                            })
                            .map(|c| c.name.clone())
                            .collect(),
                    ),
                    _ => None,
                };
                if let Some(using) = using {
                    (node, scope) = using_join(node, scope, right, right_scope, kind, &using)?;
                    continue;
                }
                let joined = scope.join(right_scope);
                let predicate = match constraint {
                    ast::JoinConstraint::On(e) => Some(self.bind_expr(e, &joined, None)?),
                    _ => None,
                };
                node = Node::NestedLoopJoin {
                    left: Box::new(node),
                    right: Box::new(right),
                    predicate,
                    kind,
                    left_width,
                    right_width,
                };
                scope = joined;
            }
            result = Some(match result {
                None => (node, scope),
                Some(_) if merged => (node, scope),
                Some((left, left_scope)) => {
                    let node = Node::NestedLoopJoin {
                        left: Box::new(left),
                        right: Box::new(node),
                        predicate: None,
                        kind: JoinKind::Inner,
                        left_width: left_scope.columns.len(),
                        right_width: scope.columns.len(),
                    };
                    (node, left_scope.join(scope))
                }
            });
        }
        Ok(result.unwrap_or((Node::Nothing, Scope::default())))
    }

    /// `left JOIN LATERAL (subquery) alias ON ...` (or `left, LATERAL (subquery) alias`): the
    /// subquery may refer to the columns of `left`, and runs once per row of it
    /// ([`Node::LateralJoin`]). Only INNER and LEFT joins can be lateral, as in PostgreSQL.
    fn bind_lateral(
        &self,
        (left, left_scope): (Node, Scope),
        subquery: &ast::Query,
        alias: Option<&ast::TableAlias>,
        kind: JoinKind,
        constraint: Option<&ast::JoinConstraint>,
    ) -> Result<(Node, Scope)> {
        if matches!(kind, JoinKind::Right | JoinKind::Full) {
            // Without a reference to `left` it is an ordinary subquery.
            let right = self.bind_query(subquery).map_err(|_| {
                errinput!(
                    InvalidColumnReference,
                    "invalid reference to FROM-clause entry in a {} JOIN LATERAL",
                    if kind == JoinKind::Right {
                        "RIGHT"
                    } else {
                        "FULL"
                    }
                )
                .with_detail(
                    "The combining JOIN type must be INNER or LEFT for a LATERAL reference.",
                )
            })?;
            let right_scope = derived_scope(right.1, alias)?;
            let (left_width, right_width) = (left_scope.columns.len(), right_scope.columns.len());
            let joined = left_scope.join(right_scope);
            let predicate = match constraint {
                Some(ast::JoinConstraint::On(e)) => Some(self.bind_expr(e, &joined, None)?),
                _ => None,
            };
            let node = Node::NestedLoopJoin {
                left: Box::new(left),
                right: Box::new(right.0),
                predicate,
                kind,
                left_width,
                right_width,
            };
            return Ok((node, joined));
        }
        let (right, labels) = self.enclosed_by(&left_scope).bind_query(subquery)?;
        let right_scope = derived_scope(labels, alias)?;
        let right_width = right_scope.columns.len();
        let joined = left_scope.join(right_scope);
        let predicate = match constraint {
            None | Some(ast::JoinConstraint::None) => None,
            Some(ast::JoinConstraint::On(e)) => {
                let predicate = self.bind_expr(e, &joined, None)?;
                self.check_boolean(&predicate, &joined, None, "JOIN/ON")?;
                // `ON true`, the usual way to write a LEFT JOIN LATERAL, is no condition.
                Some(predicate).filter(|p| *p != Expr::Constant(Value::Bool(true)))
            }
            Some(_) => return Err(unsupported("USING or NATURAL with a LATERAL subquery")),
        };
        let node = Node::LateralJoin {
            left: Box::new(left),
            right: Box::new(right),
            predicate,
            kind,
            right_width,
        };
        Ok((node, joined))
    }

    pub(super) fn bind_table_factor(&self, factor: &ast::TableFactor) -> Result<(Node, Scope)> {
        match factor {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } if self.cte(name).is_some() => {
                let cte = self
                    .cte(name)
                    .ok_or_else(|| errinternal!("CTE {name} vanished"))?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| cte.name.clone(), |a| ident(&a.name));
                let columns = cte
                    .labels
                    .into_iter()
                    .map(|l| ScopeColumn {
                        exact: false,
                        qualified_only: false,
                        table: Some(alias.clone()),
                        name: l.name,
                        data_type: l.data_type,
                    })
                    .collect();
                Ok((cte.node, Scope { columns }))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } if system_relation(name)?.is_some() => {
                let view = system_relation(name)?
                    .ok_or_else(|| errinternal!("system view {name} vanished"))?;
                let alias = alias
                    .as_ref()
                    .map_or_else(|| view.name().to_string(), |a| ident(&a.name));
                let columns = view
                    .columns()
                    .into_iter()
                    .map(|(name, data_type)| ScopeColumn {
                        exact: false,
                        qualified_only: false,
                        table: Some(alias.clone()),
                        name: name.to_string(),
                        data_type,
                    })
                    .collect();
                Ok((Node::SystemView { view }, Scope { columns }))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => match self.relation(name)? {
                names::Found::View(view) => {
                    let alias = alias
                        .as_ref()
                        .map_or_else(|| view.name.clone(), |a| ident(&a.name));
                    self.referenced
                        .borrow_mut()
                        .push((view.schema, view.name.clone()));
                    let (node, labels, _) = self.bind_view(&view)?;
                    let columns = labels
                        .into_iter()
                        .map(|l| ScopeColumn {
                            exact: false,
                            qualified_only: false,
                            table: Some(alias.clone()),
                            name: l.name,
                            data_type: l.data_type,
                        })
                        .collect();
                    Ok((node, Scope { columns }))
                }
                names::Found::Table(table) => {
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
                            columns: None,
                        },
                        scope,
                    ))
                }
            },
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                ..
            } if table_function(name).as_deref() == Some("generate_series") => {
                let values = args
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                            self.bind_expr(e, &Scope::default(), None)
                        }
                        _ => Err(unsupported("named arguments to generate_series")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let (start, stop, step) = match <[Expr; 2]>::try_from(values.clone()) {
                    Ok([start, stop]) => (start, stop, None),
                    Err(_) => match <[Expr; 3]>::try_from(values) {
                        Ok([start, stop, step]) => (start, stop, Some(step)),
                        Err(values) => {
                            return Err(errinput!(
                                UndefinedFunction,
                                "function generate_series with {} arguments does not exist",
                                values.len()
                            ))
                        }
                    },
                };
                let table = alias
                    .as_ref()
                    .map_or_else(|| "generate_series".to_string(), |a| ident(&a.name));
                let column = alias
                    .as_ref()
                    .and_then(|a| a.columns.first())
                    .map_or_else(|| table.clone(), |c| ident(&c.name));
                let data_type = type_of(&start);
                let scope = Scope {
                    columns: vec![ScopeColumn {
                        exact: false,
                        qualified_only: false,
                        table: Some(table),
                        name: column,
                        data_type,
                    }],
                };
                Ok((Node::GenerateSeries { start, stop, step }, scope))
            }
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(_),
                ..
            } if table_function(name).as_deref() == Some("pg_partition_ancestors") => {
                // No partitions: no ancestors. Columns `relid` and, WITH ORDINALITY, a number.
                let table = alias
                    .as_ref()
                    .map_or_else(|| "pg_partition_ancestors".to_string(), |a| ident(&a.name));
                let names: Vec<String> = alias
                    .iter()
                    .flat_map(|a| a.columns.iter().map(|c| ident(&c.name)))
                    .collect();
                let columns = [
                    DataType::Oid(crate::types::OidAlias::RegClass),
                    DataType::Int64,
                ]
                .into_iter()
                .enumerate()
                .map(|(i, data_type)| ScopeColumn {
                    exact: false,
                    qualified_only: false,
                    table: Some(table.clone()),
                    name: names
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| ["relid", "ordinality"][i].into()),
                    data_type,
                })
                .collect();
                let node = Node::Filter {
                    source: Box::new(Node::Nothing),
                    predicate: Expr::Constant(Value::Bool(false)),
                };
                Ok((node, Scope { columns }))
            }
            // A LATERAL subquery with nothing before it to refer to is a plain one.
            ast::TableFactor::Derived {
                subquery, alias, ..
            } => {
                let (node, labels) = self.bind_query(subquery)?;
                Ok((node, derived_scope(labels, alias.as_ref())?))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.bind_from(std::slice::from_ref(table_with_joins.as_ref())),
            // Any other set-returning function: one call over a single empty row.
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality: false,
                ..
            } => self.bind_from_function(name, args.args.clone(), alias.as_ref(), None),
            ast::TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            } => {
                let args = array_exprs
                    .iter()
                    .map(|e| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e.clone())))
                    .collect();
                let name = ast::ObjectName::from(vec![ast::Ident::new("unnest")]);
                self.bind_from_function(&name, args, alias.as_ref(), None)
            }
            ast::TableFactor::Function {
                name,
                args,
                with_ordinality: false,
                alias,
                ..
            } => self.bind_from_function(name, args.clone(), alias.as_ref(), None),
            other => Err(unsupported(format!("FROM item {other}"))),
        }
    }

    /// `FROM f(args) [AS alias [(columns)]]` for a set-returning function `f`: one call per
    /// row of `left` (the FROM items before it, whose columns its arguments may use: a lateral
    /// join), or over a single empty row.
    fn bind_from_function(
        &self,
        name: &ast::ObjectName,
        args: Vec<ast::FunctionArg>,
        alias: Option<&ast::TableAlias>,
        left: Option<(Node, Scope)>,
    ) -> Result<(Node, Scope)> {
        let (source, left_scope) = left.unwrap_or((Node::Nothing, Scope::default()));
        let call = function_call(name, &args);
        if !is_set_returning(&call) {
            return Err(unsupported(format!("FROM item {name}(...)")));
        }
        let (function, args) = self.bind_set_returning(&call, &left_scope)?;
        let arg_types: Vec<DataType> = args.iter().map(type_of).collect();
        let columns = function.columns(&arg_types);
        let table = alias.map_or_else(|| function.name().to_string(), |a| ident(&a.name));
        let names: Vec<String> = alias
            .iter()
            .flat_map(|a| a.columns.iter().map(|c| ident(&c.name)))
            .collect();
        let scalar = columns.len() == 1 && columns[0].0 == function.name();
        let columns = columns
            .into_iter()
            .enumerate()
            .map(|(i, (default, data_type))| ScopeColumn {
                exact: false,
                qualified_only: false,
                table: Some(table.clone()),
                name: names.get(i).cloned().unwrap_or_else(|| {
                    if scalar {
                        table.clone()
                    } else {
                        default.to_string()
                    }
                }),
                data_type,
            })
            .collect();
        let node = Node::ProjectSet {
            source: Box::new(source),
            calls: vec![(function, args)],
        };
        Ok((node, left_scope.join(Scope { columns })))
    }
}

/// `JOIN ... USING (columns)` (and NATURAL JOIN, whose columns are the common names): equal
/// values in each named column join, and each pair is merged into one column, listed first and
/// reached by its plain name (the left value, the right one for RIGHT JOIN, the first non-NULL
/// for FULL JOIN). The two originals stay reachable as `t.column` but leave `*`.
fn using_join(
    left: Node,
    left_scope: Scope,
    right: Node,
    right_scope: Scope,
    kind: JoinKind,
    using: &[String],
) -> Result<(Node, Scope)> {
    let position = |scope: &Scope, name: &str, side: &str| -> Result<usize> {
        let mut found = scope
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.answers(None, name));
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Ok(i),
            (Some(_), Some(_)) => Err(errinput!(
                AmbiguousColumn,
                "common column name \"{name}\" appears more than once in {side} table"
            )),
            (None, _) => Err(errinput!(
                UndefinedColumn,
                "column \"{name}\" specified in USING clause does not exist in {side} table"
            )),
        }
    };
    let (left_width, right_width) = (left_scope.columns.len(), right_scope.columns.len());
    let mut pairs = Vec::with_capacity(using.len());
    for name in using {
        pairs.push((
            position(&left_scope, name, "left")?,
            left_width + position(&right_scope, name, "right")?,
        ));
    }
    let column = |index: usize, name: &str| Expr::Column {
        index,
        name: name.to_string().into(),
    };
    let predicate = pairs
        .iter()
        .zip(using)
        .map(|(&(l, r), name)| {
            Expr::Compare(
                CompareOp::Eq,
                Box::new(column(l, name)),
                Box::new(column(r, name)),
            )
        })
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)));
    let mut joined = left_scope.join(right_scope);
    let mut exprs = Vec::with_capacity(using.len() + joined.columns.len());
    let mut merged = Vec::with_capacity(using.len());
    for (&(l, r), name) in pairs.iter().zip(using) {
        exprs.push(match kind {
            JoinKind::Inner | JoinKind::Left => column(l, name),
            JoinKind::Right => column(r, name),
            JoinKind::Full => {
                Expr::Function(Function::Coalesce, vec![column(l, name), column(r, name)])
            }
        });
        merged.push(ScopeColumn {
            exact: false,
            table: None,
            name: name.clone(),
            data_type: joined.columns[l].data_type.clone(),
            qualified_only: false,
        });
        joined.columns[l].qualified_only = true;
        joined.columns[r].qualified_only = true;
    }
    exprs.extend((0..joined.columns.len()).map(|i| column(i, &joined.columns[i].name)));
    let node = Node::Project {
        source: Box::new(Node::NestedLoopJoin {
            left: Box::new(left),
            right: Box::new(right),
            predicate,
            kind,
            left_width,
            right_width,
        }),
        exprs,
    };
    Ok((node, Scope { columns: merged }.join(joined)))
}

/// The subquery and alias of a `LATERAL (subquery) alias` FROM item.
fn lateral_subquery(factor: &ast::TableFactor) -> Option<(&ast::Query, Option<&ast::TableAlias>)> {
    match factor {
        ast::TableFactor::Derived {
            lateral: true,
            subquery,
            alias,
            ..
        } => Some((subquery, alias.as_ref())),
        _ => None,
    }
}

/// The columns of a subquery in FROM: its result columns, renamed by the alias's column list.
fn derived_scope(labels: Vec<Label>, alias: Option<&ast::TableAlias>) -> Result<Scope> {
    let names: Vec<String> = alias
        .iter()
        .flat_map(|a| a.columns.iter().map(|c| ident(&c.name)))
        .collect();
    if names.len() > labels.len() {
        let a = alias.map(|a| ident(&a.name)).unwrap_or_default();
        return Err(errinput!(
            InvalidColumnReference,
            "table \"{a}\" has {} columns available but {} columns specified",
            labels.len(),
            names.len()
        ));
    }
    let alias = alias.map(|a| ident(&a.name));
    let columns = labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| ScopeColumn {
            exact: false,
            qualified_only: false,
            table: alias.clone(),
            name: names.get(i).cloned().unwrap_or(l.name),
            data_type: l.data_type,
        })
        .collect();
    Ok(Scope { columns })
}
