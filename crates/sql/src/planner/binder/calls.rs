//! Binding calls in queries: which functions are aggregates, window functions or
//! set-returning functions, the aggregates themselves, and the set-returning calls of a select
//! list (planned as a [`Node::ProjectSet`]).

#![allow(clippy::wildcard_imports)]

use super::*;

pub(super) const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "string_agg",
    "array_agg",
    "json_agg",
    "jsonb_agg",
    "bool_and",
    "bool_or",
    "every",
    "variance",
    "var_samp",
    "var_pop",
    "stddev",
    "stddev_samp",
    "stddev_pop",
];

pub(super) fn function_name(f: &ast::Function) -> String {
    match f.name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => ident(id),
        // Built-in functions live in pg_catalog.
        [ast::ObjectNamePart::Identifier(schema), ast::ObjectNamePart::Identifier(id)]
            if ident(schema) == "pg_catalog" =>
        {
            ident(id)
        }
        _ => f.name.to_string().to_lowercase(),
    }
}

/// Whether `expr` calls a set-returning function a select list may hold
/// ([`SetFunction`]).
pub(super) fn is_set_returning(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Function(f) if f.over.is_none() && matches!(
        function_name(f).as_str(),
        "generate_series"
            | "unnest"
            | "generate_subscripts"
            | "_pg_expandarray"
            | "information_schema._pg_expandarray"
            | "json_array_elements"
            | "jsonb_array_elements"
            | "json_array_elements_text"
            | "jsonb_array_elements_text"
            | "json_object_keys"
            | "jsonb_object_keys"
            | "json_each"
            | "jsonb_each"
            | "json_each_text"
            | "jsonb_each_text"
    ))
}

/// A function call's name (its schema dropped).
pub(super) fn function_name_of(expr: &ast::Expr) -> String {
    match expr {
        ast::Expr::Function(f) => {
            let name = function_name(f);
            name.rsplit('.').next().unwrap_or(&name).to_string()
        }
        other => other.to_string(),
    }
}

/// Whether `expr` calls a set-returning function that yields no rows here:
/// `pg_partition_ancestors` (there are no partitions). A query with one in its select list
/// returns no rows, as PostgreSQL's does for an unpartitioned table.
pub(super) fn is_empty_set_function(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Function(f) if function_name(f) == "pg_partition_ancestors")
}

pub(super) fn is_aggregate(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Function(f) if f.over.is_none() && AGGREGATES.contains(&function_name(f).as_str()))
}

/// Collects the aggregate calls in `expr` (not looking inside them).
/// Collects the calls in `expr` that `target` picks (not looking inside them or subqueries).
pub(super) fn collect_calls<'e>(
    expr: &'e ast::Expr,
    target: &dyn Fn(&ast::Expr) -> bool,
    out: &mut Vec<&'e ast::Expr>,
) {
    use ast::Expr as A;
    if target(expr) {
        out.push(expr);
        return;
    }
    match expr {
        A::BinaryOp { left, right, .. } => {
            collect_calls(left, target, out);
            collect_calls(right, target, out);
        }
        A::UnaryOp { expr, .. }
        | A::Nested(expr)
        | A::IsNull(expr)
        | A::IsNotNull(expr)
        | A::Cast { expr, .. } => collect_calls(expr, target, out),
        A::CompoundFieldAccess { root, .. } => collect_calls(root, target, out),
        A::Between {
            expr, low, high, ..
        } => {
            for e in [expr, low, high] {
                collect_calls(e, target, out);
            }
        }
        A::InList { expr, list, .. } => {
            collect_calls(expr, target, out);
            list.iter().for_each(|e| collect_calls(e, target, out));
        }
        A::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            operand.iter().for_each(|e| collect_calls(e, target, out));
            for c in conditions {
                collect_calls(&c.condition, target, out);
                collect_calls(&c.result, target, out);
            }
            else_result
                .iter()
                .for_each(|e| collect_calls(e, target, out));
        }
        A::Function(f) => {
            if let ast::FunctionArguments::List(list) = &f.args {
                for arg in &list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg {
                        collect_calls(e, target, out);
                    }
                }
            }
        }
        other => super::expr::keyword_operands(other)
            .into_iter()
            .for_each(|e| collect_calls(e, target, out)),
    }
}

/// Collects the aggregate calls in `expr`.
pub(super) fn collect_aggregates<'e>(expr: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    collect_calls(expr, &is_aggregate, out);
}

/// Whether `expr` is a window function call (`f(...) OVER (...)`).
pub(super) fn is_window(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Function(f) if f.over.is_some())
}

impl<E: Engine> Binder<'_, E> {
    /// The type an aggregate returns, as PostgreSQL types it (`sum(int4)` is bigint,
    /// `sum(int8)` and `avg` of integers numeric, `count` bigint).
    pub(super) fn aggregate_type(&self, aggregate: &Aggregate, input: &Scope) -> DataType {
        let arg = |e: &Expr| self.expr_type(e, input, None);
        let exact_or_float = |e: &Expr| match arg(e) {
            DataType::Float32 | DataType::Float64 => DataType::Float64,
            DataType::Unknown => DataType::Unknown,
            _ => DataType::Numeric(None),
        };
        match aggregate {
            Aggregate::CountStar | Aggregate::Count(..) => DataType::Int64,
            Aggregate::Sum(e, _) => match arg(e) {
                DataType::Int16 | DataType::Int32 => DataType::Int64,
                DataType::Int64 | DataType::Numeric(_) => DataType::Numeric(None),
                DataType::Float32 => DataType::Float32,
                DataType::Float64 => DataType::Float64,
                DataType::Interval => DataType::Interval,
                _ => DataType::Unknown,
            },
            Aggregate::Avg(e, _) => match arg(e) {
                DataType::Interval => DataType::Interval,
                _ => exact_or_float(e),
            },
            Aggregate::Statistic(e, ..) => exact_or_float(e),
            Aggregate::Min(e) | Aggregate::Max(e) => arg(e),
            Aggregate::StringAgg(..) => DataType::Text,
            Aggregate::JsonAgg(_, false) => DataType::Json,
            Aggregate::JsonAgg(_, true) => DataType::Jsonb,
            Aggregate::ArrayAgg(e) => DataType::Array(Box::new(match arg(e) {
                DataType::Unknown => DataType::Text,
                t => t,
            })),
            Aggregate::BoolAnd(_) | Aggregate::BoolOr(_) => DataType::Bool,
            Aggregate::Filtered(inner, _) | Aggregate::Ordered(inner, _) => {
                self.aggregate_type(inner, input)
            }
        }
    }

    pub(super) fn bind_aggregate(&self, call: &ast::Expr, scope: &Scope) -> Result<Aggregate> {
        let ast::Expr::Function(f) = call else {
            return Err(errinternal!("not an aggregate: {call}"));
        };
        if f.over.is_some() {
            return Err(unsupported("aggregate OVER here"));
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
        // A FILTER clause wraps whatever the call aggregates.
        let filtered = |aggregate: Aggregate| -> Result<Aggregate> {
            Ok(match &f.filter {
                Some(condition) => Aggregate::Filtered(
                    Box::new(aggregate),
                    self.bind_expr(condition, scope, None)?,
                ),
                None => aggregate,
            })
        };
        let bind_arg = |e: &ast::Expr| -> Result<Expr> {
            let mut windows = Vec::new();
            collect_calls(e, &is_window, &mut windows);
            if !windows.is_empty() {
                return Err(errinput!(
                    GroupingError,
                    "aggregate function calls cannot contain window function calls"
                ));
            }
            let mut inner = Vec::new();
            collect_aggregates(e, &mut inner);
            if !inner.is_empty() {
                return Err(errinput!(
                    GroupingError,
                    "aggregate function calls cannot be nested"
                ));
            }
            self.bind_expr(e, scope, None)
        };
        let args = unnamed_args(list);
        let star = matches!(
            list.args.as_slice(),
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)]
        );
        let wrong = || {
            errinput!(
                UndefinedFunction,
                "function {name} with these arguments does not exist"
            )
        };
        let aggregate = match (name.as_str(), args.as_slice()) {
            ("count", []) if star => Aggregate::CountStar,
            (_, _) if star || args.len() != list.args.len() => return Err(wrong()),
            ("count", [e]) => Aggregate::Count(bind_arg(e)?, distinct),
            ("sum", [e]) => Aggregate::Sum(bind_arg(e)?, distinct),
            ("avg", [e]) => Aggregate::Avg(bind_arg(e)?, distinct),
            ("min", [e]) => Aggregate::Min(bind_arg(e)?),
            ("max", [e]) => Aggregate::Max(bind_arg(e)?),
            ("string_agg", [e, separator]) => {
                // Its parameters are text: a char value loses its padding.
                let value = self.char_as_text(bind_arg(e)?, scope, None);
                Aggregate::StringAgg(value, bind_arg(separator)?, distinct)
            }
            ("array_agg", [e]) => Aggregate::ArrayAgg(bind_arg(e)?),
            ("json_agg" | "jsonb_agg", [e]) => {
                let value = bind_arg(e)?;
                let value = match self.expr_type(&value, scope, None) {
                    DataType::Json | DataType::Jsonb => value,
                    _ => Expr::Function(Function::Builtin("to_json"), vec![value]),
                };
                Aggregate::JsonAgg(value, name == "jsonb_agg")
            }
            ("bool_and" | "every", [e]) => Aggregate::BoolAnd(bind_arg(e)?),
            ("bool_or", [e]) => Aggregate::BoolOr(bind_arg(e)?),
            (name, [e]) if Statistic::from_name(name).is_some() => {
                let statistic = Statistic::from_name(name).ok_or_else(wrong)?;
                Aggregate::Statistic(bind_arg(e)?, statistic, distinct)
            }
            _ => return Err(wrong()),
        };
        // `agg(x ORDER BY k [DESC] [NULLS FIRST | LAST], ...)`
        let mut keys = Vec::new();
        for clause in &list.clauses {
            match clause {
                ast::FunctionArgumentClause::OrderBy(order) => {
                    for o in order {
                        let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
                        keys.push(SortKey {
                            expr: bind_arg(&o.expr)?,
                            descending,
                            nulls_first: o.options.nulls_first.unwrap_or(descending),
                        });
                    }
                }
                other => return Err(unsupported(format!("{other} in an aggregate call"))),
            }
        }
        let aggregate = if keys.is_empty() {
            aggregate
        } else {
            Aggregate::Ordered(Box::new(aggregate), keys)
        };
        filtered(aggregate)
    }
    /// A set-returning call of the select list (or a field of one, `(f(x)).n`) as the
    /// column(s) its [`Node::ProjectSet`] added; `None` if `expr` is neither. A set-returning
    /// call anywhere else is an error, as in PostgreSQL.
    pub(super) fn set_returning_column(&self, expr: &ast::Expr) -> Result<Option<Expr>> {
        let strip = |e: &'_ ast::Expr| -> ast::Expr {
            let mut e = e.clone();
            while let ast::Expr::Nested(inner) = e {
                e = *inner;
            }
            e
        };
        let (call, field) = match expr {
            ast::Expr::CompoundFieldAccess { root, access_chain } => {
                match (strip(root), access_chain.as_slice()) {
                    (call, [ast::AccessExpr::Dot(ast::Expr::Identifier(f))])
                        if is_set_returning(&call) =>
                    {
                        (call, Some(ident(f)))
                    }
                    _ => return Ok(None),
                }
            }
            e if is_set_returning(e) => (e.clone(), None),
            _ => return Ok(None),
        };
        let text = call.to_string();
        let found = self
            .set_returning
            .borrow()
            .iter()
            .find(|(t, ..)| *t == text)
            .cloned();
        let Some((_, base, columns)) = found else {
            return Err(errinput!(
                FeatureNotSupported,
                "set-returning function {} is not allowed here",
                function_name_of(&call)
            ));
        };
        let column = |i: usize| Expr::Column {
            index: base + i,
            name: columns[i].0.into(),
        };
        Ok(Some(match (field, columns.len()) {
            (Some(f), _) => {
                let i = columns.iter().position(|(c, _)| *c == f).ok_or_else(|| {
                    errinput!(
                        UndefinedColumn,
                        "could not identify column \"{f}\" in record data type"
                    )
                })?;
                column(i)
            }
            (None, 1) => column(0),
            (None, n) => Expr::Cast(
                Box::new(Expr::Function(
                    Function::Builtin("row"),
                    (0..n).map(column).collect(),
                )),
                DataType::Record(
                    columns
                        .iter()
                        .map(|(c, t)| (c.to_string(), t.clone()))
                        .collect(),
                ),
            ),
        }))
    }

    /// Binds a set-returning call of the select list: the function and its arguments.
    pub(super) fn bind_set_returning(
        &self,
        call: &ast::Expr,
        scope: &Scope,
    ) -> Result<(SetFunction, Vec<Expr>)> {
        let ast::Expr::Function(f) = call else {
            return Err(errinternal!("{call} is not a function call"));
        };
        let args: Vec<Expr> = match &f.args {
            ast::FunctionArguments::List(list) => list
                .args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                        self.bind_expr(e, scope, None)
                    }
                    _ => Err(unsupported(format!("argument form in {call}"))),
                })
                .collect::<Result<_>>()?,
            _ => vec![],
        };
        let element = |i: usize| match args.get(i).map(|a| self.expr_type(a, scope, None)) {
            Some(DataType::Array(element) | DataType::Vector(element)) => *element,
            _ => DataType::Text,
        };
        let name = function_name_of(call);
        let (function, arity) = match name.as_str() {
            "generate_series" => (SetFunction::GenerateSeries, 2..=3),
            "unnest" => (SetFunction::Unnest(element(0)), 1..=1),
            "generate_subscripts" => (SetFunction::GenerateSubscripts, 2..=2),
            json if json.starts_with("json") => {
                let jsonb = json.starts_with("jsonb");
                let text = json.ends_with("_text");
                let what = if json.contains("array_elements") {
                    JsonSet::ArrayElements(text)
                } else if json.contains("object_keys") {
                    JsonSet::ObjectKeys
                } else {
                    JsonSet::Each(text)
                };
                (SetFunction::Json(what, jsonb), 1..=1)
            }
            _ => (SetFunction::ExpandArray(element(0)), 1..=1),
        };
        if !arity.contains(&args.len()) {
            return Err(errinput!(
                UndefinedFunction,
                "function {name} with {} arguments does not exist",
                args.len()
            ));
        }
        Ok((function, args))
    }
}

/// The positional expression arguments of a call (`*` and named arguments left out).
pub(super) fn unnamed_args(list: &ast::FunctionArgumentList) -> Vec<&ast::Expr> {
    list.args
        .iter()
        .filter_map(|a| match a {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}
