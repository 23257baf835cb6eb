//! Binding queries: FROM, joins, WHERE, grouping and aggregates, projection, ORDER BY, LIMIT.

#![allow(clippy::wildcard_imports)]

use super::*;

/// PostgreSQL's label for an unaliased select item.
pub(super) fn label_of(expr: &ast::Expr) -> String {
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

/// What the binder knows of the type of an output column of a set operation's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    /// NULL or a quoted literal: it takes the other side's type.
    Any,
    /// The side's label has the column's type exactly ([`Binder::exact_type`]).
    Exact,
    /// The label's type is the binder's guess.
    Guess,
}

/// Whether column `i` of a set operation's side may hold a parameter (see
/// [`unify_sides`]); any form but a plain SELECT list, VALUES or set operation counts as one.
fn side_mentions_parameter(side: &ast::SetExpr, i: usize) -> bool {
    use super::expr::mentions_parameter;
    match side {
        ast::SetExpr::Select(select) => match select.projection.get(i) {
            Some(
                ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. },
            ) => mentions_parameter(e),
            _ => select
                .projection
                .iter()
                .any(|item| item.to_string().contains('$')),
        },
        ast::SetExpr::Values(values) => values
            .rows
            .iter()
            .any(|row| row.get(i).is_none_or(mentions_parameter)),
        ast::SetExpr::SetOperation { left, right, .. } => {
            side_mentions_parameter(left, i) || side_mentions_parameter(right, i)
        }
        ast::SetExpr::Query(query) => side_mentions_parameter(&query.body, i),
        _ => true,
    }
}

/// Makes each column of a set operation's sides meet in one type, as PostgreSQL's
/// `select_common_type` does, where the binder knows both sides' types ([`known`]): a side
/// whose type differs is cast, under a projection, to the common type (strings keep their
/// values whatever the string type). Types that cannot meet fail with 42804 where both are
/// plain scalar types. Columns whose type is a guess, or that may hold a parameter, are left
/// as they are.
fn unify_sides(
    name: &str,
    (mut left, mut labels, left_known): (Node, Vec<Label>, Vec<Known>),
    (mut right, right_labels, right_known): (Node, Vec<Label>, Vec<Known>),
    mentions_parameter: impl Fn(usize) -> bool,
) -> Result<(Node, Node, Vec<Label>, Vec<Known>)> {
    let mut casts: [Vec<Option<DataType>>; 2] =
        [vec![None; labels.len()], vec![None; labels.len()]];
    let mut known = vec![Known::Guess; labels.len()];
    for i in 0..labels.len() {
        let types = [&labels[i].data_type, &right_labels[i].data_type];
        let side = |k: &[Known]| k.get(i).copied().unwrap_or(Known::Guess);
        let kinds = [side(&left_known), side(&right_known)];
        if kinds == [Known::Any, Known::Any] {
            known[i] = Known::Any;
        }
        let unknown = kinds
            .iter()
            .zip(types)
            .any(|(k, t)| *k == Known::Exact && *t == DataType::Unknown);
        // A parameter is a NULL when the statement is prepared and its value when it runs:
        // what is unified must not differ between the two, or the result type would.
        if mentions_parameter(i) {
            continue;
        }
        if kinds.contains(&Known::Guess) || unknown {
            // Not cast; but the column is labelled with the type the guesses meet in, not
            // the left side's, so that a wider right side is not labelled narrower.
            if let Ok(common) = DataType::common(&[types[0].clone(), types[1].clone()]) {
                if types[0] != types[1] {
                    labels[i].data_type = common.unmodified();
                }
            }
            continue;
        }
        let exact: Vec<DataType> = kinds
            .iter()
            .zip(types)
            .filter(|(k, _)| **k == Known::Exact)
            .map(|(_, t)| t.clone())
            .collect();
        if exact.is_empty() {
            continue;
        }
        let common = match DataType::common(&exact) {
            Ok(common) => common.unmodified(),
            Err((a, b)) if a.is_plain() && b.is_plain() => {
                return Err(errinput!(
                    DatatypeMismatch,
                    "{name} types {a} and {b} cannot be matched"
                ))
            }
            Err(_) => continue,
        };
        known[i] = Known::Exact;
        if common.is_string() {
            // Strings keep their values; the column keeps a length only both sides have.
            if types[0] != types[1] {
                labels[i].data_type = common;
            }
            continue;
        }
        for side in 0..2 {
            if kinds[side] == Known::Any || types[side].clone().unmodified() != common {
                casts[side][i] = Some(common.clone());
            }
        }
        labels[i].data_type = common;
    }
    let [left_casts, right_casts] = casts;
    let names: [Vec<String>; 2] =
        [&labels, &right_labels].map(|l| l.iter().map(|l| l.name.clone()).collect());
    let [left_names, right_names] = names;
    for (node, casts, names) in [
        (&mut left, left_casts, left_names),
        (&mut right, right_casts, right_names),
    ] {
        if casts.iter().all(Option::is_none) {
            continue;
        }
        let source = std::mem::replace(node, Node::Values { rows: vec![] });
        let exprs = casts
            .into_iter()
            .enumerate()
            .map(|(index, cast)| {
                let column = Expr::Column {
                    index,
                    name: names[index].clone().into(),
                };
                match cast {
                    Some(ty) => Expr::Cast(Box::new(column), ty),
                    None => column,
                }
            })
            .collect();
        *node = Node::Project {
            source: Box::new(source),
            exprs,
        };
    }
    Ok((left, right, labels, known))
}

/// `expr` without the parentheses around it.
pub(super) fn unnest(mut expr: &ast::Expr) -> &ast::Expr {
    while let ast::Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

/// Whether a literal has no type of its own yet (a quoted string or NULL), and takes the type
/// its context gives it, as PostgreSQL's `unknown`.
pub(super) fn is_untyped(value: &ast::Value) -> bool {
    matches!(
        value,
        ast::Value::SingleQuotedString(_) | ast::Value::EscapedStringLiteral(_) | ast::Value::Null
    )
}

impl<E: Engine> Binder<'_, E> {
    pub(super) fn bind_query(&self, query: &ast::Query) -> Result<(Node, Vec<Label>)> {
        let Some(with) = &query.with else {
            return self.bind_query_body(query);
        };
        // The query's CTEs are in scope for the rest of its WITH and its body, then leave.
        let mark = self.ctes.borrow().len();
        let result = self
            .bind_with(with)
            .and_then(|()| self.bind_query_body(query));
        self.ctes.borrow_mut().truncate(mark);
        result
    }

    /// Binds each CTE of a WITH clause in turn and brings it into scope.
    pub(super) fn bind_with(&self, with: &ast::With) -> Result<()> {
        for cte in &with.cte_tables {
            let name = ident(&cte.alias.name);
            let columns: Vec<String> = cte.alias.columns.iter().map(|c| ident(&c.name)).collect();
            let (node, mut labels) = if with.recursive {
                self.bind_recursive_cte(&name, &columns, &cte.query)?
            } else {
                self.bind_query(&cte.query)?
            };
            if columns.len() > labels.len() {
                return Err(errinput!(
                    InvalidColumnReference,
                    "WITH query \"{name}\" has {} columns available but {} columns specified",
                    labels.len(),
                    columns.len()
                ));
            }
            for (label, column) in labels.iter_mut().zip(columns) {
                label.name = column;
            }
            self.ctes.borrow_mut().push(Cte { name, node, labels });
        }
        Ok(())
    }

    /// Binds a CTE of `WITH RECURSIVE`: `anchor UNION [ALL] recursive term`, where the
    /// recursive term reads the CTE's own name as the previous round's rows. A CTE of another
    /// shape binds as an ordinary one.
    fn bind_recursive_cte(
        &self,
        name: &str,
        columns: &[String],
        query: &ast::Query,
    ) -> Result<(Node, Vec<Label>)> {
        let ast::SetExpr::SetOperation {
            left,
            op: ast::SetOperator::Union,
            set_quantifier,
            right,
        } = query.body.as_ref()
        else {
            return self.bind_query(query);
        };
        if query.order_by.is_some() || query.limit_clause.is_some() {
            return Err(unsupported("ORDER BY or LIMIT in a recursive query"));
        }
        let (anchor, mut labels) = self.bind_set_expr(left)?;
        for (label, column) in labels.iter_mut().zip(columns) {
            label.name = column.clone();
        }
        let id = self.ctes.as_ptr() as usize ^ (self.ctes.borrow().len() << 48) ^ name.len();
        let mark = self.ctes.borrow().len();
        self.ctes.borrow_mut().push(Cte {
            name: name.to_string(),
            node: Node::WorkTable { id },
            labels: labels.clone(),
        });
        let recursive = self.bind_set_expr(right);
        self.ctes.borrow_mut().truncate(mark);
        let (recursive, recursive_labels) = recursive?;
        if recursive_labels.len() != labels.len() {
            return Err(errinput!(
                SyntaxError,
                "each UNION query must have the same number of columns"
            ));
        }
        let distinct = !matches!(set_quantifier, ast::SetQuantifier::All);
        Ok((
            Node::RecursiveCte {
                id,
                anchor: Box::new(anchor),
                recursive: Box::new(recursive),
                distinct,
            },
            labels,
        ))
    }

    fn bind_query_body(&self, query: &ast::Query) -> Result<(Node, Vec<Label>)> {
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
                self.bind_values(values, true)?
            }
            ast::SetExpr::Query(inner) if order_by.is_empty() && query.limit_clause.is_none() => {
                return self.bind_query(inner)
            }
            body @ (ast::SetExpr::SetOperation { .. } | ast::SetExpr::Query(_)) => {
                let (node, labels) = self.bind_set_expr(body)?;
                // ORDER BY over a set operation names output columns, by position or name.
                let mut keys = Vec::with_capacity(order_by.len());
                for o in order_by {
                    let index = match &o.expr {
                        ast::Expr::Value(v) => match &v.value {
                            ast::Value::Number(n, _) => n
                                .parse::<usize>()
                                .ok()
                                .filter(|i| (1..=labels.len()).contains(i)),
                            _ => None,
                        }
                        .map(|i| i - 1),
                        ast::Expr::Identifier(id) => {
                            labels.iter().position(|l| l.name == ident(id))
                        }
                        _ => None,
                    };
                    let index = index.ok_or_else(|| {
                        errinput!(
                            InvalidColumnReference,
                            "invalid UNION/INTERSECT/EXCEPT ORDER BY clause: {} is not an output column",
                            o.expr
                        )
                    })?;
                    let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
                    keys.push(SortKey {
                        expr: Expr::Column {
                            index,
                            name: labels[index].name.clone().into(),
                        },
                        descending,
                        nulls_first: o.options.nulls_first.unwrap_or(descending),
                    });
                }
                let node = if keys.is_empty() {
                    node
                } else {
                    Node::Order {
                        source: Box::new(node),
                        keys,
                    }
                };
                (node, labels)
            }
            other => {
                return Err(unsupported(format!(
                    "query form {}",
                    other.to_string().split_whitespace().next().unwrap_or("")
                )))
            }
        };
        if !query.locks.is_empty() {
            node = lock_rows(node, &query.locks)?;
        }
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

    /// The type a window function returns.
    fn window_type(
        &self,
        function: &WindowFunction,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> DataType {
        match &function.func {
            WindowFunc::RowNumber | WindowFunc::Rank | WindowFunc::DenseRank => DataType::Int64,
            WindowFunc::Lag | WindowFunc::Lead | WindowFunc::FirstValue | WindowFunc::LastValue => {
                function
                    .args
                    .first()
                    .map_or(DataType::Unknown, |a| self.expr_type(a, scope, grouping))
            }
            WindowFunc::Aggregate(a) => match grouping {
                Some(g) => self.aggregate_type(a, &g.scope),
                None => self.aggregate_type(a, scope),
            },
        }
    }

    /// A LIMIT or OFFSET value: a non-negative constant (`None` for NULL or ALL).
    pub(super) fn constant_count(&self, expr: &ast::Expr, what: &str) -> Result<Option<u64>> {
        self.hint_parameter(expr, &DataType::Int64)?;
        let bound = self.bind_expr(expr, &Scope::default(), None)?;
        let cache = crate::execution::SubqueryCache::for_identity(self.who.clone());
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
    /// The CTE in scope with this (unqualified) name, innermost first.
    pub(super) fn cte(&self, name: &ast::ObjectName) -> Option<Cte> {
        let [ast::ObjectNamePart::Identifier(id)] = name.0.as_slice() else {
            return None;
        };
        let name = ident(id);
        self.ctes
            .borrow()
            .iter()
            .rev()
            .find(|c| c.name == name)
            .cloned()
    }

    /// Binds a set expression used as an operand of a set operation.
    fn bind_set_expr(&self, body: &ast::SetExpr) -> Result<(Node, Vec<Label>)> {
        let (node, labels, known) = self.bind_set_side(body)?;
        *self.exact_outputs.borrow_mut() = known;
        Ok((node, labels))
    }

    /// [`bind_set_expr`](Self::bind_set_expr), and what is known of each output column's
    /// type.
    fn bind_set_side(&self, body: &ast::SetExpr) -> Result<(Node, Vec<Label>, Vec<Known>)> {
        match body {
            ast::SetExpr::Select(select) => {
                let (node, labels) = self.bind_select(select, &[])?;
                let known = self.exact_outputs.take();
                Ok((node, labels, known))
            }
            ast::SetExpr::Values(values) => {
                let (node, labels) = self.bind_values(values, true)?;
                let known = self.exact_outputs.take();
                Ok((node, labels, known))
            }
            ast::SetExpr::Query(query) => {
                let (node, labels) = self.bind_query(query)?;
                let known = vec![Known::Guess; labels.len()];
                Ok((node, labels, known))
            }
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let (left, labels, left_known) = self.bind_set_side(left)?;
                let (right, right_labels, right_known) = self.bind_set_side(right)?;
                let (op, name) = match op {
                    ast::SetOperator::Union => (SetOp::Union, "UNION"),
                    ast::SetOperator::Intersect => (SetOp::Intersect, "INTERSECT"),
                    ast::SetOperator::Except | ast::SetOperator::Minus => (SetOp::Except, "EXCEPT"),
                };
                if labels.len() != right_labels.len() {
                    return Err(errinput!(
                        SyntaxError,
                        "each {name} query must have the same number of columns"
                    ));
                }
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return Err(unsupported(format!("{name} {other}"))),
                };
                let (left, right, labels, known) = unify_sides(
                    name,
                    (left, labels, left_known),
                    (right, right_labels, right_known),
                    |i| side_mentions_parameter(body, i),
                )?;
                Ok((
                    Node::SetOperation {
                        left: Box::new(left),
                        right: Box::new(right),
                        op,
                        all,
                    },
                    labels,
                    known,
                ))
            }
            other => Err(unsupported(format!(
                "query form {}",
                other.to_string().split_whitespace().next().unwrap_or("")
            ))),
        }
    }

    pub(super) fn bind_values(
        &self,
        values: &ast::Values,
        coerce: bool,
    ) -> Result<(Node, Vec<Label>)> {
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
        // Each column takes the type its rows meet in, as PostgreSQL's VALUES does: a quoted
        // literal or NULL takes any type. Only columns whose other rows are constants, casts
        // or typed parameters are unified (the binder's type of another expression is a
        // guess); of kinds that do not meet (or that `DataType::common` does not know, such
        // as arrays), a column keeps its rows as they are. The other
        // rows are cast to the column's type, but for strings, whose values no string type
        // changes. An INSERT's rows (`coerce` false) each take their target column's type
        // instead.
        let width = width.unwrap_or(0);
        let mut labels = Vec::with_capacity(width);
        let mut column_known = Vec::with_capacity(width);
        for i in 0..width {
            let types: Vec<Option<DataType>> = values
                .rows
                .iter()
                .zip(&rows)
                .map(|(ast_row, row)| match unnest(&ast_row[i]) {
                    ast::Expr::Value(v) if is_untyped(&v.value) => None,
                    _ => Some(
                        self.exact_type(&row[i], &Scope::default(), None)
                            .unwrap_or(DataType::Unknown),
                    ),
                })
                .collect();
            let first = rows
                .first()
                .map_or(DataType::Unknown, |row| type_of(&row[i]));
            let known: Vec<DataType> = types.iter().flatten().cloned().collect();
            let exact = coerce && !known.contains(&DataType::Unknown);
            let common = match DataType::common(&known) {
                Ok(common) if exact => common.unmodified(),
                _ => {
                    labels.push(Label {
                        name: format!("column{}", i + 1),
                        data_type: first,
                    });
                    column_known.push(match types.iter().all(Option::is_none) {
                        true => Known::Any,
                        false => Known::Guess,
                    });
                    continue;
                }
            };
            column_known.push(Known::Exact);
            for (row, ty) in rows.iter_mut().zip(&types) {
                // Strings keep their values whatever the string type.
                let cast = !common.is_string()
                    && match ty {
                        None => !matches!(row[i], Expr::Constant(Value::Null)),
                        Some(ty) => *ty != common,
                    };
                if cast {
                    let e = std::mem::replace(&mut row[i], Expr::Constant(Value::Null));
                    row[i] = Expr::Cast(Box::new(e), common.clone());
                }
            }
            labels.push(Label {
                name: format!("column{}", i + 1),
                data_type: common,
            });
        }
        *self.exact_outputs.borrow_mut() = column_known;
        Ok((Node::Values { rows }, labels))
    }

    /// What is known of the type of an output column computed by `bound` (written `ast`).
    fn known_output(
        &self,
        ast: &ast::Expr,
        bound: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Known {
        if matches!(unnest(ast), ast::Expr::Value(v) if is_untyped(&v.value)) {
            return Known::Any;
        }
        match self.exact_type(bound, scope, grouping) {
            Some(_) => Known::Exact,
            None => Known::Guess,
        }
    }

    pub(super) fn bind_select(
        &self,
        select: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> Result<(Node, Vec<Label>)> {
        if select.into.is_some() {
            return Err(unsupported("SELECT INTO"));
        }
        let (mut node, scope) = self.bind_from(&select.from)?;
        // Set-returning calls of another SELECT (a derived table just bound, an earlier UNION
        // branch) are not this one's: until its own are bound, a call is not allowed.
        self.set_returning.borrow_mut().clear();
        let empty_set = select.projection.iter().any(|item| {
            matches!(item, ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } if is_empty_set_function(e))
        });
        if empty_set {
            node = Node::Filter {
                source: Box::new(node),
                predicate: Expr::Constant(Value::Bool(false)),
            };
        }
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
                            exact: false,
                            qualified_only: false,
                            table: None,
                            name: g.to_string(),
                            data_type: self.expr_type(&bound, &scope, None),
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
                        exact: false,
                        qualified_only: false,
                        table: None,
                        name: call.to_string(),
                        data_type: self.aggregate_type(&aggregate, &scope),
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

        // Window functions, after WHERE, GROUP BY and HAVING and before the projection: each
        // call becomes a column after the current ones.
        let mut window_calls = Vec::new();
        for item in &select.projection {
            if let ast::SelectItem::UnnamedExpr(e)
            | ast::SelectItem::ExprWithAlias { expr: e, .. } = item
            {
                collect_calls(e, &is_window, &mut window_calls);
            }
        }
        for o in order_by {
            collect_calls(&o.expr, &is_window, &mut window_calls);
        }
        let mut scope = scope;
        self.windows.borrow_mut().clear();
        if !window_calls.is_empty() {
            let mut functions = Vec::new();
            let mut names: Vec<String> = Vec::new();
            for call in window_calls {
                let text = call.to_string();
                if names.contains(&text) {
                    continue;
                }
                functions.push(self.bind_window(call, &scope, grouping.as_ref())?);
                names.push(text);
            }
            let base = scope.columns.len();
            let types: Vec<DataType> = functions
                .iter()
                .map(|f| self.window_type(f, &scope, grouping.as_ref()))
                .collect();
            for (j, (name, data_type)) in names.into_iter().zip(types).enumerate() {
                self.windows.borrow_mut().push((name.clone(), base + j));
                scope.columns.push(ScopeColumn {
                    exact: false,
                    qualified_only: false,
                    table: None,
                    name,
                    data_type,
                });
            }
            node = Node::Window {
                source: Box::new(node),
                functions,
            };
        }

        // Set-returning functions of the select list, after the window functions: each call's
        // columns follow the current ones, hidden from `*`.
        let mut set_calls = Vec::new();
        for item in &select.projection {
            if let ast::SelectItem::UnnamedExpr(e)
            | ast::SelectItem::ExprWithAlias { expr: e, .. } = item
            {
                collect_calls(e, &is_set_returning, &mut set_calls);
            }
        }
        if !set_calls.is_empty() {
            if grouping.is_some() {
                return Err(unsupported("set-returning functions with aggregates"));
            }
            let mut calls = Vec::new();
            for call in set_calls {
                let text = call.to_string();
                if self.set_returning.borrow().iter().any(|(t, ..)| *t == text) {
                    continue;
                }
                let (function, args) = self.bind_set_returning(call, &scope)?;
                let types: Vec<DataType> = args
                    .iter()
                    .map(|a| self.expr_type(a, &scope, None))
                    .collect();
                let columns = function.columns(&types);
                let base = scope.columns.len();
                for (name, data_type) in &columns {
                    scope.columns.push(ScopeColumn {
                        exact: false,
                        qualified_only: true,
                        table: None,
                        name: name.to_string(),
                        data_type: data_type.clone(),
                    });
                }
                self.set_returning.borrow_mut().push((text, base, columns));
                calls.push((function, args));
            }
            node = Node::ProjectSet {
                source: Box::new(node),
                calls,
            };
        }

        // Projection.
        let mut exprs = Vec::new();
        let mut labels = Vec::new();
        let mut exact_outputs = Vec::new();
        for item in &select.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => {
                    // An output column that is only a parameter is text, as in PostgreSQL.
                    self.hint_parameter(e, &DataType::Text)?;
                    let bound = self.bind_expr(e, &scope, grouping.as_ref())?;
                    labels.push(Label {
                        name: label_of(e),
                        data_type: self.expr_type(&bound, &scope, grouping.as_ref()),
                    });
                    exact_outputs.push(self.known_output(e, &bound, &scope, grouping.as_ref()));
                    exprs.push(bound);
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    self.hint_parameter(expr, &DataType::Text)?;
                    let bound = self.bind_expr(expr, &scope, grouping.as_ref())?;
                    labels.push(Label {
                        name: ident(alias),
                        data_type: self.expr_type(&bound, &scope, grouping.as_ref()),
                    });
                    let known = self.known_output(expr, &bound, &scope, grouping.as_ref());
                    exact_outputs.push(known);
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
                        ) => Some(names::written_name(n, &self.who.database)?.name),
                        _ => None,
                    };
                    let mut any = false;
                    for (i, c) in columns.iter().enumerate() {
                        let skip = match &only {
                            Some(t) => c.table.as_ref() != Some(t),
                            None => c.qualified_only,
                        };
                        if skip {
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
                        exact_outputs.push(match c.exact && grouping.is_none() {
                            true => Known::Exact,
                            false => Known::Guess,
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
            Some(ast::Distinct::On(_)) => false,
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
        // DISTINCT ON: its expressions as (possibly hidden) output columns, which the ORDER BY
        // must start with (in any order); the first row of each group in ORDER BY order wins.
        let mut distinct_on = None;
        if let Some(ast::Distinct::On(on)) = &select.distinct {
            let mut columns = Vec::with_capacity(on.len());
            for e in on {
                let bound = self.bind_expr(e, &scope, grouping.as_ref())?;
                let index = match exprs.iter().position(|x| *x == bound) {
                    Some(i) => i,
                    None => {
                        exprs.push(bound);
                        exprs.len() - 1
                    }
                };
                if !columns.contains(&index) {
                    columns.push(index);
                }
            }
            let leading: Vec<usize> = keys
                .iter()
                .take(columns.len())
                .filter_map(|k| match &k.expr {
                    Expr::Column { index, .. } => Some(*index),
                    _ => None,
                })
                .collect();
            let matches = keys.is_empty() || {
                let mut a = leading.clone();
                let mut b = columns.clone();
                a.sort_unstable();
                b.sort_unstable();
                a == b
            };
            if !matches {
                return Err(errinput!(
                    InvalidColumnReference,
                    "SELECT DISTINCT ON expressions must match initial ORDER BY expressions"
                ));
            }
            distinct_on = Some(columns);
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
        if let Some(columns) = distinct_on {
            node = Node::DistinctOn {
                source: Box::new(node),
                columns,
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
        *self.exact_outputs.borrow_mut() = exact_outputs;
        Ok((node, labels))
    }
}

/// Wraps a single-table query's plan for `FOR UPDATE` / `FOR SHARE`: the table access, its
/// projection and ORDER BY go into a [`Node::LockRows`], so that LIMIT applies above it.
fn lock_rows(node: Node, locks: &[ast::LockClause]) -> Result<Node> {
    let [lock] = locks else {
        return Err(unsupported("several locking clauses"));
    };
    if lock.of.is_some() {
        return Err(unsupported("FOR UPDATE OF"));
    }
    let mode = match lock.lock_type {
        ast::LockType::Update => zizhu_txn::LockMode::Update,
        ast::LockType::Share => zizhu_txn::LockMode::Share,
    };
    let wait = match lock.nonblock {
        None => zizhu_txn::WaitPolicy::Wait,
        Some(ast::NonBlock::Nowait) => zizhu_txn::WaitPolicy::NoWait,
        Some(ast::NonBlock::SkipLocked) => zizhu_txn::WaitPolicy::SkipLocked,
    };
    let not_allowed = || {
        errinput!(
            FeatureNotSupported,
            "FOR UPDATE/SHARE is supported only on a query of one table without grouping, aggregates or DISTINCT"
        )
    };
    let access = |node: Node| -> Result<(Node, Option<Expr>)> {
        match node {
            Node::Filter { source, predicate } => match *source {
                Node::Scan {
                    table,
                    filter: None,
                    columns,
                } => Ok((
                    Node::Scan {
                        table,
                        filter: Some(predicate.clone()),
                        columns,
                    },
                    Some(predicate),
                )),
                _ => Err(not_allowed()),
            },
            Node::Scan {
                table,
                filter,
                columns,
            } => Ok((
                Node::Scan {
                    table,
                    filter: filter.clone(),
                    columns,
                },
                filter,
            )),
            _ => Err(not_allowed()),
        }
    };
    let build = |inner: Node, order: Vec<SortKey>| -> Result<Node> {
        let Node::Project { source, exprs } = inner else {
            return Err(not_allowed());
        };
        let (access, filter) = access(*source)?;
        Ok(Node::LockRows {
            access: Box::new(access),
            filter,
            project: exprs,
            order,
            mode,
            wait,
        })
    };
    match node {
        Node::Project {
            source,
            exprs: trim,
        } if matches!(*source, Node::Order { .. }) => {
            let Node::Order { source, keys } = *source else {
                return Err(not_allowed());
            };
            Ok(Node::Project {
                source: Box::new(build(*source, keys)?),
                exprs: trim,
            })
        }
        Node::Order { source, keys } => build(*source, keys),
        project @ Node::Project { .. } => build(project, Vec::new()),
        _ => Err(not_allowed()),
    }
}
