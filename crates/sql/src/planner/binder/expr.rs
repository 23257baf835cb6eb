//! Binding expressions: names, literals and their types, operators, functions, subqueries.

#![allow(clippy::wildcard_imports)]

use super::char_type::blank_padded;
use super::*;
use crate::system::functions::CatalogFunction;

/// The most parameters a statement may have (PostgreSQL's protocol counts them in 16 bits).
const MAX_PARAMS: usize = 65_535;

/// `$n` and its place, if `expr` is a parameter.
pub(super) fn placeholder(expr: &ast::Expr) -> Option<(&str, sqlparser::tokenizer::Span)> {
    match expr {
        ast::Expr::Value(ast::ValueWithSpan {
            value: ast::Value::Placeholder(p),
            span,
        }) => Some((p, *span)),
        ast::Expr::Nested(e) => placeholder(e),
        _ => None,
    }
}

/// The type an expression produces, as far as the planner needs it.
pub fn type_of(expr: &Expr) -> DataType {
    match expr {
        Expr::Constant(v) => DataType::of(v),
        Expr::Param { data_type, .. } => data_type.clone(),
        Expr::Column { .. } => DataType::Unknown,
        Expr::Not(_)
        | Expr::And(..)
        | Expr::Or(..)
        | Expr::Compare(..)
        | Expr::IsNull(_)
        | Expr::Like { .. } => DataType::Bool,
        Expr::InList(..) => DataType::Bool,
        Expr::Negate(e) => type_of(e),
        Expr::Arith(op, a, b) => arith_type(*op, type_of(a), type_of(b)),
        Expr::Concat(..) => DataType::Text,
        Expr::Cast(_, ty) => ty.clone(),
        Expr::Case(whens, otherwise) => {
            let results = whens.iter().map(|(_, r)| r).chain(otherwise.as_deref());
            meet(results.map(type_of).collect())
        }
        Expr::Function(Function::Coalesce, args) => meet(args.iter().map(type_of).collect()),
        Expr::Function(Function::Length, _) => DataType::Int32,
        Expr::Function(Function::Admin(f), _) => f.result_type(),
        Expr::Function(Function::Catalog(f), _) => f.result_type(),
        Expr::Function(Function::ArrayCompare(..), _) => DataType::Bool,
        Expr::Function(Function::NextVal | Function::CurrVal | Function::SetVal, _) => {
            DataType::Int64
        }
        Expr::Function(Function::Builtin(name), args) => {
            let types: Vec<DataType> = args.iter().map(type_of).collect();
            crate::functions::return_type(name, &types)
        }
        Expr::Function(_, args) => args.first().map_or(DataType::Unknown, type_of),
        Expr::OuterColumn { .. } | Expr::Subquery(_) => DataType::Unknown,
        Expr::Exists(_) | Expr::InSubquery(..) | Expr::Quantified { .. } => DataType::Bool,
        Expr::ArraySubquery(_, element) => DataType::Array(Box::new(element.clone())),
    }
}

/// Whether `expr` may hold a parameter (`$n`): its text has a `$`.
pub(super) fn mentions_parameter(expr: &ast::Expr) -> bool {
    expr.to_string().contains('$')
}

/// The type several results meet in (a CASE's, coalesce's arguments): their common type
/// ([`DataType::common`]), else the first known one.
fn meet(types: Vec<DataType>) -> DataType {
    if types.iter().all(|t| *t == DataType::Unknown) {
        return DataType::Unknown;
    }
    DataType::common(&types).unwrap_or_else(|_| {
        let mut known = types.into_iter().filter(|t| *t != DataType::Unknown);
        known.next().unwrap_or(DataType::Unknown)
    })
}

/// The type of `a op b`: the executor's for numbers, dates, times and intervals
/// ([`ArithOp::result_type`]); else the known operand's, the left one's if both are (such as
/// `jsonb - text`).
fn arith_type(op: ArithOp, a: DataType, b: DataType) -> DataType {
    if let Some(t) = op.result_type(&a, &b) {
        return t;
    }
    match (a, b) {
        (DataType::Unknown, t) | (t, _) => t,
    }
}

impl<'a, E: Engine> Binder<'a, E> {
    /// Binds an expression. With `grouping`, grouping keys and aggregates resolve to the
    /// aggregate's output columns and any other column reference is an error.
    pub(super) fn bind_expr(
        &self,
        expr: &ast::Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        use ast::Expr as A;
        // A window call resolves to its column of the Window node.
        if is_window(expr) {
            let text = expr.to_string();
            let found = self
                .windows
                .borrow()
                .iter()
                .find(|(t, _)| *t == text)
                .map(|(_, i)| *i);
            return match found {
                Some(index) => Ok(Expr::Column {
                    index,
                    name: text.into(),
                }),
                None => Err(errinput!(
                    WindowingError,
                    "window functions are not allowed here"
                )),
            };
        }
        if let Some(column) = self.set_returning_column(expr)? {
            return Ok(column);
        }
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
            // Reserved words PostgreSQL reads as functions without parentheses (sqlparser
            // knows CURRENT_USER, SESSION_USER and USER, not these).
            A::Identifier(id)
                if id.quote_style.is_none()
                    && ["current_role", "current_catalog"]
                        .iter()
                        .any(|w| id.value.eq_ignore_ascii_case(w)) =>
            {
                match CatalogFunction::lookup(&id.value.to_lowercase(), 0) {
                    Some(f) => Expr::Function(Function::Catalog(f), vec![]),
                    None => return Err(errinternal!("{} is not a catalog function", id.value)),
                }
            }
            A::Identifier(id) => self.resolve(None, &ident(id), scope, id.span)?,
            A::CompoundIdentifier(ids) => match ids.as_slice() {
                [t, c] => self.resolve(Some(&ident(t)), &ident(c), scope, c.span)?,
                // `schema.table.column`: tables are found by name within their schema.
                [_schema, t, c] => self.resolve(Some(&ident(t)), &ident(c), scope, c.span)?,
                _ => return Err(unsupported(format!("name {expr}"))),
            },
            A::Value(ast::ValueWithSpan {
                value: ast::Value::Placeholder(p),
                span,
            }) => self.parameter(p, *span, None)?,
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
            A::IsDistinctFrom(a, b) | A::IsNotDistinctFrom(a, b) => {
                let op = match expr {
                    A::IsDistinctFrom(..) => CompareOp::Distinct,
                    _ => CompareOp::NotDistinct,
                };
                // Its operands meet as `=`'s do: an untyped literal takes the other side's
                // type (or a `char` one's padding), and `char` sides are trimmed as for `=`.
                match self.bind_binary(a, &ast::BinaryOperator::Eq, b, scope, grouping)? {
                    Expr::Compare(CompareOp::Eq, l, r) => Expr::Compare(op, l, r),
                    _ => Expr::Compare(op, boxed(a)?, boxed(b)?),
                }
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
                escape_char,
            } => {
                let like = Expr::Like {
                    expr: boxed(expr)?,
                    pattern: Box::new(self.like_pattern(
                        pattern,
                        escape_char.as_deref(),
                        scope,
                        grouping,
                    )?),
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
                escape_char,
            } => {
                let like = Expr::Like {
                    expr: boxed(expr)?,
                    pattern: Box::new(self.like_pattern(
                        pattern,
                        escape_char.as_deref(),
                        scope,
                        grouping,
                    )?),
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
                let mut otherwise = else_result.as_ref().map(|e| boxed(e)).transpose()?;
                // PostgreSQL lists the ELSE first (its errors name its type first).
                let asts = else_result.iter().map(|e| e.as_ref());
                let asts: Vec<&ast::Expr> =
                    asts.chain(conditions.iter().map(|c| &c.result)).collect();
                let results = otherwise.iter_mut().map(|e| e.as_mut());
                let results: Vec<&mut Expr> =
                    results.chain(whens.iter_mut().map(|(_, r)| r)).collect();
                self.unify_results("CASE", &asts, results, scope, grouping)?;
                Expr::Case(whens, otherwise)
            }
            A::Cast {
                expr,
                data_type,
                format: None,
                ..
            } => {
                let ty = data_type_from_ast(data_type)?;
                // `$1::int` makes $1 an integer, as PostgreSQL infers it; `$1::regclass` takes
                // a name, which only the catalog turns into the OID.
                let hint = match ty {
                    DataType::Oid(a) if a != crate::types::OidAlias::Oid => DataType::Text,
                    ref ty => ty.clone(),
                };
                self.hint_parameter(expr, &hint)?;
                let inner = bind(expr)?;
                let inner = match ty {
                    DataType::Text | DataType::Varchar(_) => {
                        self.char_as_text(inner, scope, grouping)
                    }
                    _ => inner,
                };
                if let Some(call) = self.reg_cast(&inner, &ty, scope, grouping) {
                    return Ok(call);
                }
                // A `reg*` value keeps its type (it prints as a name), and so do an array and
                // a JSON document (whose carrier is text): they are not folded here, where the
                // type is needed.
                if matches!(ty, DataType::Oid(a) if a != crate::types::OidAlias::Oid)
                    || matches!(
                        ty,
                        DataType::Array(_) | DataType::Vector(_) | DataType::Json | DataType::Jsonb
                    )
                {
                    if let Expr::Constant(v) = &inner {
                        // A bad literal still fails at plan time, and is cast once.
                        let value = types::cast(v.clone(), &ty)?;
                        return Ok(Expr::Cast(Box::new(Expr::Constant(value)), ty));
                    }
                    return Ok(Expr::Cast(Box::new(inner), ty));
                }
                match inner {
                    // Fold casts of constants: '5'::int is a constant 5, and a bad literal fails
                    // at plan time as in PostgreSQL.
                    Expr::Constant(v) => {
                        let value = types::cast(v, &ty)?;
                        // Where the value alone does not tell its type (a NULL, a string of a
                        // string type, which a quoted literal also is, a numeric of a given
                        // precision), the cast stays over the folded value, for the column's
                        // type; the optimizer folds it.
                        let keep = value.is_null()
                            || ty.is_string()
                            || matches!(ty, DataType::Numeric(Some(_)));
                        match keep {
                            true => Expr::Cast(Box::new(Expr::Constant(value)), ty),
                            false => Expr::Constant(value),
                        }
                    }
                    e => Expr::Cast(Box::new(e), ty),
                }
            }
            A::Interval(interval) if interval.last_field.is_none() => {
                let text = match interval.value.as_ref() {
                    A::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => s.clone(),
                        other => other.to_string(),
                    },
                    other => return Err(unsupported(format!("interval of {other}"))),
                };
                // `interval '1' day` reads as '1 day'.
                let text = match &interval.leading_field {
                    Some(field) => format!("{text} {field}"),
                    None => text,
                };
                Expr::Constant(types::parse_text(&text, &DataType::Interval)?)
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
                    A::Nested(inner) if matches!(inner.as_ref(), A::Subquery(_)) => {
                        match inner.as_ref() {
                            A::Subquery(q) => q,
                            _ => return Err(errinternal!("subquery vanished")),
                        }
                    }
                    array => {
                        // `x = ANY (array)`: the elements are of the array's element type (or,
                        // for an untyped literal, of the type of `x`), given as a type OID.
                        let left = bind(left)?;
                        let array = bind(array)?;
                        let element = self
                            .expr_type(&array, scope, grouping)
                            .element()
                            .map_or(0, |t| t.oid() as i64);
                        return Ok(Expr::Function(
                            Function::ArrayCompare(op, all),
                            vec![left, array, Expr::Constant(Value::Int64(element))],
                        ));
                    }
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
            A::Function(f) if is_empty_set_function(expr) => {
                // Its query returns no rows (see `is_empty_set_function`); bind the arguments
                // for their errors.
                if let ast::FunctionArguments::List(list) = &f.args {
                    for arg in &list.args {
                        if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg {
                            bind(e)?;
                        }
                    }
                }
                Expr::Cast(
                    Box::new(Expr::Constant(Value::Null)),
                    DataType::Oid(crate::types::OidAlias::RegClass),
                )
            }
            A::Function(f) if function_name(f) == "array" => match &f.args {
                ast::FunctionArguments::Subquery(query) => {
                    let (sub, labels) = self.bind_subquery_labelled(query, scope, true)?;
                    let element = match labels.into_iter().next().map(|l| l.data_type) {
                        None | Some(DataType::Unknown) => DataType::Text,
                        Some(t) => t,
                    };
                    Expr::ArraySubquery(Box::new(sub), element)
                }
                _ => self.bind_function(f, scope, grouping)?,
            },
            A::Function(f) => self.bind_function(f, scope, grouping)?,
            A::Array(array) => {
                let elements = array.elem.iter().map(&bind).collect::<Result<Vec<_>>>()?;
                let element = elements
                    .iter()
                    .map(|e| self.expr_type(e, scope, grouping))
                    .find(|t| *t != DataType::Unknown)
                    .unwrap_or(DataType::Text);
                Expr::Cast(
                    Box::new(Expr::Function(Function::Builtin("array"), elements)),
                    DataType::Array(Box::new(element)),
                )
            }
            A::CompoundFieldAccess { root, access_chain } => {
                // `t.col[i]` parses as `t` with `.col` and `[i]`: leading names are one column
                // reference; after a value, `.f` is a record's field and `[i]` a subscript.
                let mut names = match root.as_ref() {
                    A::Identifier(id) => Some(vec![id.clone()]),
                    A::CompoundIdentifier(ids) => Some(ids.clone()),
                    _ => None,
                };
                let mut bound = match names {
                    Some(_) => None,
                    None => Some(bind(root)?),
                };
                let column = |ids: Vec<ast::Ident>| match <[ast::Ident; 1]>::try_from(ids) {
                    Ok([one]) => bind(&A::Identifier(one)),
                    Err(ids) => bind(&A::CompoundIdentifier(ids)),
                };
                for access in access_chain {
                    let value = match (names.as_mut(), access) {
                        (Some(ids), ast::AccessExpr::Dot(A::Identifier(id))) => {
                            ids.push(id.clone());
                            continue;
                        }
                        (Some(_), _) => column(names.take().unwrap_or_default())?,
                        (None, _) => bound
                            .take()
                            .ok_or_else(|| errinternal!("field access lost its value"))?,
                    };
                    bound = Some(match access {
                        ast::AccessExpr::Dot(A::Identifier(field)) => {
                            self.record_field(value, field, scope, grouping)?
                        }
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            self.subscript(value, bind(index)?, scope, grouping)?
                        }
                        _ => return Err(unsupported(format!("expression {expr}"))),
                    });
                }
                match (names, bound) {
                    (Some(ids), _) => column(ids)?,
                    (None, Some(value)) => value,
                    (None, None) => return Err(errinternal!("field access lost its value")),
                }
            }
            A::Collate { expr, collation } => {
                let name = collation.to_string().to_lowercase().replace('"', "");
                match name.as_str() {
                    "default" | "pg_catalog.default" | "c" | "pg_catalog.c" | "posix"
                    | "pg_catalog.posix" | "ucs_basic" => bind(expr)?,
                    _ => {
                        return Err(errinput!(
                            UndefinedObject,
                            "collation \"{collation}\" for encoding \"UTF8\" does not exist"
                        ))
                    }
                }
            }
            _ => match keyword_call(expr)? {
                Some((name, operands)) => {
                    let args = operands
                        .iter()
                        .map(|a| self.bind_expr(a, scope, grouping))
                        .collect::<Result<Vec<_>>>()?;
                    let builtin = crate::functions::lookup(name, args.len())
                        .ok_or_else(|| errinternal!("keyword call {name} has no function"))?;
                    let args = self.char_arguments(builtin, args, scope, grouping);
                    Expr::Function(Function::Builtin(builtin), args)
                }
                None => return Err(unsupported(format!("expression {expr}"))),
            },
        })
    }

    /// Field `field` of a record value.
    fn record_field(
        &self,
        record: Expr,
        field: &ast::Ident,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        let name = ident(field);
        let fields = match self.expr_type(&record, scope, grouping) {
            DataType::Record(fields) => fields,
            other => {
                return Err(errinput!(
                    WrongObjectType,
                    "column notation .{name} applied to type {other}, which is not a composite type"
                ))
            }
        };
        let Some(i) = fields.iter().position(|(f, _)| *f == name) else {
            return Err(errinput!(
                UndefinedColumn,
                "could not identify column \"{name}\" in record data type"
            ));
        };
        Ok(Expr::Cast(
            Box::new(Expr::Function(
                Function::Builtin("record_field"),
                vec![record, Expr::Constant(Value::Int32(i as i32 + 1))],
            )),
            fields[i].1.clone(),
        ))
    }

    /// `array[index]`, the element cast to the array's element type.
    fn subscript(
        &self,
        array: Expr,
        index: Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        let ty = self.expr_type(&array, scope, grouping);
        // Vectors subscript from 0, arrays from 1.
        let index = match ty {
            DataType::Vector(_) => Expr::Arith(
                crate::planner::ArithOp::Add,
                Box::new(index),
                Box::new(Expr::Constant(Value::Int32(1))),
            ),
            _ => index,
        };
        let element = match ty {
            DataType::Array(element) | DataType::Vector(element) => *element,
            DataType::Unknown => DataType::Text,
            other => {
                return Err(errinput!(
                    DatatypeMismatch,
                    "cannot subscript type {other} because it does not support subscripting"
                ))
            }
        };
        Ok(Expr::Cast(
            Box::new(Expr::Function(
                Function::Builtin("array_element"),
                vec![array, index],
            )),
            element,
        ))
    }

    /// A LIKE pattern with its ESCAPE character rewritten to `\\`, the evaluator's escape
    /// (PostgreSQL's `like_escape`).
    fn like_pattern(
        &self,
        pattern: &ast::Expr,
        escape: Option<&ast::Expr>,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        // `v LIKE $1` makes $1 text, as PostgreSQL infers it.
        self.hint_parameter(pattern, &DataType::Text)?;
        let pattern = self.bind_expr(pattern, scope, grouping)?;
        Ok(match escape {
            None => pattern,
            Some(e) => Expr::Function(
                Function::Builtin("like_escape"),
                vec![pattern, self.bind_expr(e, scope, grouping)?],
            ),
        })
    }

    /// A cast between a name and a `reg*` type (`'accounts'::regclass`, `oid::regclass::text`)
    /// needs the catalog: it becomes a catalog function call. `None` for any other cast.
    fn reg_cast(
        &self,
        inner: &Expr,
        to: &DataType,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Option<Expr> {
        use crate::types::OidAlias;
        let from = self.expr_type(inner, scope, grouping);
        let is_text = |t: &DataType| t.is_string() || *t == DataType::Unknown;
        let function = match (&from, to) {
            (from, DataType::Oid(alias)) if *alias != OidAlias::Oid && is_text(from) => {
                // A NULL of unknown type stays a plain cast.
                if matches!(inner, Expr::Constant(Value::Null)) {
                    return None;
                }
                CatalogFunction::RegIn(*alias)
            }
            (DataType::Oid(alias), to) if *alias != OidAlias::Oid && to.is_string() => {
                CatalogFunction::RegOut(*alias)
            }
            _ => return None,
        };
        Some(Expr::Function(
            Function::Catalog(function),
            vec![inner.clone()],
        ))
    }

    pub(super) fn bind_function(
        &self,
        f: &ast::Function,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        let name = function_name(f);
        if f.over.is_some() || f.filter.is_some() {
            return Err(unsupported(format!("{name}() with OVER / FILTER")));
        }
        // A catalog function's parameters (`to_regtype($1)`) take its argument types.
        if let ast::FunctionArguments::List(list) = &f.args {
            if let Some(catalog) = CatalogFunction::lookup(&name, list.args.len()) {
                for (i, arg) in list.args.iter().enumerate() {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg {
                        self.hint_parameter(e, &catalog.argument_type(i))?;
                    }
                }
            }
        }
        let mut args: Vec<Expr> = match &f.args {
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
        // coalesce's, greatest's and least's arguments meet in one type.
        if let ("coalesce" | "greatest" | "least", ast::FunctionArguments::List(list)) =
            (name.as_str(), &f.args)
        {
            let asts = super::calls::unnamed_args(list);
            let what = name.to_uppercase();
            self.unify_results(&what, &asts, args.iter_mut().collect(), scope, grouping)?;
        }
        // `nullif(x, 'lit')` compares as `x = 'lit'`: the literal takes x's type (or padding).
        if let ("nullif", ast::FunctionArguments::List(list), [first, _]) =
            (name.as_str(), &f.args, args.as_slice())
        {
            if let [_, second] = super::calls::unnamed_args(list).as_slice() {
                let first = first.clone();
                args[1] = self.coerce_literal(second, &first, scope, grouping)?;
            }
        }
        // `pg_typeof(x)`: the type the binder gives `x` (an untyped literal is `unknown`).
        if let ("pg_typeof", [arg]) = (name.as_str(), args.as_slice()) {
            let oid = match self.expr_type(arg, scope, grouping) {
                DataType::Unknown => 705,
                ty => ty.oid() as i64,
            };
            return Ok(Expr::Cast(
                Box::new(Expr::Constant(Value::Int64(oid))),
                DataType::Oid(crate::types::OidAlias::RegType),
            ));
        }
        let (function, arity) = match name.as_str() {
            "coalesce" => (Function::Coalesce, None),
            "nullif" => (Function::NullIf, Some(2)),
            "abs" => (Function::Abs, Some(1)),
            "length" | "char_length" | "character_length" => (Function::Length, Some(1)),
            "nextval" => (Function::NextVal, Some(1)),
            "currval" => (Function::CurrVal, Some(1)),
            "setval" if matches!(args.len(), 2 | 3) => (Function::SetVal, Some(args.len())),
            "row_number" | "rank" | "dense_rank" | "lag" | "lead" | "first_value"
            | "last_value" => {
                return Err(errinput!(
                    WrongObjectType,
                    "window function {name} requires an OVER clause"
                ))
            }
            _ if crate::system::functions::CatalogFunction::is_known(&name) => {
                return match CatalogFunction::lookup(&name, args.len()) {
                    Some(f) => Ok(Expr::Function(Function::Catalog(f), args)),
                    None => Err(errinput!(
                        UndefinedFunction,
                        "function {name} with {} arguments does not exist",
                        args.len()
                    )),
                };
            }
            _ if crate::system::AdminFunction::is_known(&name) => {
                return match crate::system::AdminFunction::lookup(&name, args.len()) {
                    Some(f) => Ok(Expr::Function(Function::Admin(f), args)),
                    None => Err(errinput!(
                        UndefinedFunction,
                        "function {name} with {} arguments does not exist",
                        args.len()
                    )),
                }
            }
            _ => match crate::functions::lookup(&name, args.len()) {
                Some(builtin) => {
                    let args = self.char_arguments(builtin, args, scope, grouping);
                    return Ok(self.json_arguments(builtin, args, scope, grouping));
                }
                None if crate::functions::is_known(&name) => {
                    return Err(errinput!(
                        UndefinedFunction,
                        "function {name} with {} arguments does not exist",
                        args.len()
                    ))
                }
                None => {
                    return Err(errinput!(
                        UndefinedFunction,
                        "function {name} does not exist"
                    ))
                }
            },
        };
        if arity.is_some_and(|n| n != args.len()) || args.is_empty() {
            return Err(errinput!(
                UndefinedFunction,
                "function {name} with {} arguments does not exist",
                args.len()
            ));
        }
        if let (Function::NextVal | Function::CurrVal | Function::SetVal, Some(first)) =
            (function, args.first_mut())
        {
            // `nextval('s'::regclass)`, as PostgreSQL writes SERIAL defaults: the name.
            if let Expr::Function(Function::Catalog(CatalogFunction::RegIn(_)), inner) = first {
                if let [name] = inner.as_slice() {
                    *first = name.clone();
                }
            }
        }
        if function == Function::Length {
            // `length(char)` counts without the padding (PostgreSQL's `bpcharlen`).
            args = args
                .into_iter()
                .map(|a| self.char_as_text(a, scope, grouping))
                .collect();
        }
        Ok(Expr::Function(function, args))
    }

    /// Binds `expr`; an untyped string literal takes the type of `other`, as PostgreSQL types
    /// `unknown` literals from context (`a = '5'` compares integers when `a` is an integer),
    /// and so does a parameter whose type is not known yet.
    pub(super) fn coerce_literal(
        &self,
        expr: &ast::Expr,
        other: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        if let Some((p, span)) = placeholder(expr) {
            let ty = self.expr_type(other, scope, grouping);
            return self.parameter(p, span, Some(ty));
        }
        // Through parentheses: `c = ('ab')` pads as `c = 'ab'` does.
        let mut literal = expr;
        while let ast::Expr::Nested(inner) = literal {
            literal = inner;
        }
        if let ast::Expr::Value(v) = literal {
            let text = match &v.value {
                ast::Value::SingleQuotedString(text) | ast::Value::EscapedStringLiteral(text) => {
                    Some(text)
                }
                ast::Value::DollarQuotedString(quoted) => Some(&quoted.value),
                _ => None,
            };
            if let Some(text) = text {
                let ty = self.expr_type(other, scope, grouping);
                if ty != DataType::Unknown && !ty.is_string() {
                    return Ok(Expr::Constant(
                        types::parse_text(text, &ty).map_err(|e| e.at(self.at(v.span)))?,
                    ));
                }
                if let DataType::Char(n) = ty {
                    return Ok(Expr::Constant(Value::Text(blank_padded(text, n))));
                }
            }
        }
        self.bind_expr(expr, scope, grouping)
    }

    /// Parameter `$n` (`text` is `$n`): its value when executing, else a NULL of its type.
    /// `hint` is the type its context implies, which it takes if it has none yet.
    pub(super) fn parameter(
        &self,
        text: &str,
        span: sqlparser::tokenizer::Span,
        hint: Option<DataType>,
    ) -> Result<Expr> {
        let missing =
            || errinput!(UndefinedParameter, "there is no parameter {text}").at(self.at(span));
        let params = self.params.ok_or_else(missing)?;
        let n = text
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1)
            .ok_or_else(missing)?;
        let mut types = params.types.borrow_mut();
        if let Some(values) = &params.values {
            let value = values.get(n - 1).ok_or_else(missing)?;
            return Ok(Expr::Constant(value.clone()));
        }
        if params.generic {
            let data_type = types.get(n - 1).cloned().ok_or_else(missing)?;
            return Ok(Expr::Param {
                index: n - 1,
                data_type,
            });
        }
        if n > types.len() {
            if n > MAX_PARAMS {
                return Err(missing());
            }
            types.resize(n, DataType::Unknown);
        }
        if let (DataType::Unknown, Some(hint)) = (&types[n - 1], hint) {
            types[n - 1] = hint;
        }
        Ok(match &types[n - 1] {
            DataType::Unknown => Expr::Constant(Value::Null),
            ty => Expr::Cast(Box::new(Expr::Constant(Value::Null)), ty.clone()),
        })
    }

    /// Gives parameter `expr` (if it is one) the type `ty` unless it has one.
    pub(super) fn hint_parameter(&self, expr: &ast::Expr, ty: &DataType) -> Result<()> {
        if let Some((p, span)) = placeholder(expr) {
            self.parameter(p, span, Some(ty.clone()))?;
        }
        Ok(())
    }

    /// Fails with 42804 unless `predicate` is boolean (or of a type not known until run time).
    pub(super) fn check_boolean(
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
    pub(super) fn expr_type(
        &self,
        expr: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> DataType {
        match expr {
            Expr::Column { index, .. } => {
                let columns = grouping.map_or(&scope.columns, |g| &g.scope.columns);
                columns
                    .get(*index)
                    .map_or(DataType::Unknown, |c| c.data_type.clone())
            }
            Expr::Arith(op, a, b) => arith_type(
                *op,
                self.expr_type(a, scope, grouping),
                self.expr_type(b, scope, grouping),
            ),
            Expr::Negate(e) => self.expr_type(e, scope, grouping),
            Expr::Case(whens, otherwise) => {
                let results = whens.iter().map(|(_, r)| r).chain(otherwise.as_deref());
                meet(
                    results
                        .map(|r| self.expr_type(r, scope, grouping))
                        .collect(),
                )
            }
            Expr::Function(Function::Coalesce, args) => meet(
                args.iter()
                    .map(|a| self.expr_type(a, scope, grouping))
                    .collect(),
            ),
            // Its first argument, or NULL.
            Expr::Function(Function::NullIf, args) => args
                .first()
                .map_or(DataType::Unknown, |a| self.expr_type(a, scope, grouping)),
            Expr::Function(Function::Builtin(name), args) => {
                let types: Vec<DataType> = args
                    .iter()
                    .map(|a| self.expr_type(a, scope, grouping))
                    .collect();
                crate::functions::return_type(name, &types)
            }
            other => type_of(other),
        }
    }

    /// The type of `expr` where the binder knows it exactly: a constant's, a cast's, a typed
    /// parameter's, a table column's, and arithmetic on those ([`ArithOp::result_type`]).
    /// `None` where its type is the binder's guess (a function's result, a subquery's, a
    /// derived table's column, which may hold either).
    pub(super) fn exact_type(
        &self,
        expr: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Option<DataType> {
        let known = |t: DataType| (t != DataType::Unknown).then_some(t);
        match expr {
            Expr::Constant(Value::Null) => None,
            Expr::Constant(v) => Some(DataType::of(v)),
            // An array's element type may be the binder's guess (`ARRAY[...]` binds as a cast).
            Expr::Cast(_, DataType::Array(_)) => None,
            Expr::Cast(_, ty) => Some(ty.clone()),
            Expr::Param { data_type, .. } => known(data_type.clone()),
            Expr::Column { index, .. } => {
                let columns = grouping.map_or(&scope.columns, |g| &g.scope.columns);
                let column = columns.get(*index).filter(|c| c.exact)?;
                known(column.data_type.clone())
            }
            Expr::Negate(e) => self.exact_type(e, scope, grouping),
            Expr::Arith(op, a, b) => op.result_type(
                &self.exact_type(a, scope, grouping)?,
                &self.exact_type(b, scope, grouping)?,
            ),
            _ => None,
        }
    }

    /// Makes `results` (a CASE's, or the arguments of coalesce, greatest and least; `asts`
    /// are their texts) meet in one type, as PostgreSQL's `select_common_type` does: an
    /// untyped literal or NULL takes any type, and the others are cast to the common type
    /// (strings keep their values whatever the string type). Only where the binder knows
    /// every type ([`exact_type`](Self::exact_type)); else they stay as they are, and the
    /// executor's values have the types they have. Types that cannot meet fail with 42804, as
    /// in PostgreSQL, where both are plain scalar types.
    fn unify_results(
        &self,
        what: &str,
        asts: &[&ast::Expr],
        results: Vec<&mut Expr>,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<()> {
        // A parameter is a NULL when the statement is prepared and its value when it runs:
        // what is unified must not differ between the two, or the result type would.
        if asts.len() != results.len() || asts.iter().any(|e| mentions_parameter(e)) {
            return Ok(());
        }
        let mut types = Vec::with_capacity(results.len());
        for (ast, result) in asts.iter().zip(&results) {
            let untyped = matches!(super::query::unnest(ast), ast::Expr::Value(v) if super::query::is_untyped(&v.value));
            match untyped {
                true => types.push(None),
                false => match self.exact_type(result, scope, grouping) {
                    Some(t) => types.push(Some(t)),
                    None => return Ok(()),
                },
            }
        }
        let known: Vec<DataType> = types.iter().flatten().cloned().collect();
        let common = match DataType::common(&known) {
            Ok(common) => common.unmodified(),
            Err((a, b)) if a.is_plain() && b.is_plain() => {
                let at = asts
                    .iter()
                    .zip(&types)
                    .find(|(_, t)| t.as_ref() == Some(&b))
                    .and_then(|(e, _)| self.at(sqlparser::ast::Spanned::span(*e)));
                return Err(errinput!(
                    DatatypeMismatch,
                    "{what} types {a} and {b} cannot be matched"
                )
                .at(at));
            }
            Err(_) => return Ok(()),
        };
        if common.is_string() || known.is_empty() {
            return Ok(());
        }
        for (result, ty) in results.into_iter().zip(&types) {
            let cast = match ty {
                None => !matches!(result, Expr::Constant(Value::Null)),
                Some(ty) => ty.clone().unmodified() != common,
            };
            if cast {
                let e = std::mem::replace(result, Expr::Constant(Value::Null));
                *result = Expr::Cast(Box::new(e), common.clone());
            }
        }
        Ok(())
    }

    pub(super) fn bind_binary(
        &self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Expr> {
        use ast::BinaryOperator as B;
        if let Some(json) = self.bind_json_operator(left, op, right, scope, grouping)? {
            return Ok(json);
        }
        // `OPERATOR(pg_catalog.~)` is the operator `~`.
        if let B::PGCustomBinaryOperator(parts) = op {
            let standard = match parts.as_slice() {
                [schema, op] if schema.eq_ignore_ascii_case("pg_catalog") => Some(op.as_str()),
                [op] => Some(op.as_str()),
                _ => None,
            }
            .and_then(|op| {
                Some(match op {
                    "=" => B::Eq,
                    "<>" | "!=" => B::NotEq,
                    "<" => B::Lt,
                    "<=" => B::LtEq,
                    ">" => B::Gt,
                    ">=" => B::GtEq,
                    "+" => B::Plus,
                    "-" => B::Minus,
                    "*" => B::Multiply,
                    "/" => B::Divide,
                    "%" => B::Modulo,
                    "||" => B::StringConcat,
                    "~" => B::PGRegexMatch,
                    "~*" => B::PGRegexIMatch,
                    "!~" => B::PGRegexNotMatch,
                    "!~*" => B::PGRegexNotIMatch,
                    _ => return None,
                })
            });
            return match standard {
                Some(op) => self.bind_binary(left, &op, right, scope, grouping),
                None => Err(errinput!(
                    UndefinedFunction,
                    "operator does not exist: {}",
                    parts.join(".")
                )),
            };
        }
        // `'x' || 1` and `a ~ '...'` take an untyped literal as text, whatever the other side.
        let textual = matches!(
            op,
            B::StringConcat
                | B::PGRegexMatch
                | B::PGRegexIMatch
                | B::PGRegexNotMatch
                | B::PGRegexNotIMatch
        );
        let (l, r) = match (left, right) {
            _ if textual => (
                self.bind_expr(left, scope, grouping)?,
                self.bind_expr(right, scope, grouping)?,
            ),
            (ast::Expr::Value(_), _) => {
                let r = self.bind_expr(right, scope, grouping)?;
                (self.coerce_literal(left, &r, scope, grouping)?, r)
            }
            _ => {
                let l = self.bind_expr(left, scope, grouping)?;
                // `jsonb - 'key'`: the key keeps its own type.
                let r = if matches!(op, B::Minus)
                    && self.expr_type(&l, scope, grouping) == DataType::Jsonb
                {
                    self.bind_expr(right, scope, grouping)?
                } else {
                    self.coerce_literal(right, &l, scope, grouping)?
                };
                (l, r)
            }
        };
        if matches!(op, B::StringConcat | B::Minus) {
            let concat = matches!(op, B::StringConcat);
            if let Some(e) = self.jsonb_arith(concat, &l, &r, scope, grouping) {
                return Ok(e);
            }
        }
        // `char` operands: see the `char_type` module. A quoted literal compared with one was
        // padded to it above.
        let (l, r) = match op {
            B::StringConcat => (
                self.char_as_text(l, scope, grouping),
                self.char_as_text(r, scope, grouping),
            ),
            B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq => {
                self.char_comparands((l, left), (r, right), scope, grouping)
            }
            _ => (l, r),
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
            B::BitwiseAnd
            | B::BitwiseOr
            | B::PGBitwiseXor
            | B::PGBitwiseShiftLeft
            | B::PGBitwiseShiftRight => {
                let name = match op {
                    B::BitwiseAnd => "int_and",
                    B::BitwiseOr => "int_or",
                    B::PGBitwiseXor => "int_xor",
                    B::PGBitwiseShiftLeft => "int_shl",
                    _ => "int_shr",
                };
                Expr::Function(Function::Builtin(name), vec![*l, *r])
            }
            B::PGRegexMatch | B::PGRegexNotMatch | B::PGRegexIMatch | B::PGRegexNotIMatch => {
                let name = match op {
                    B::PGRegexMatch | B::PGRegexNotMatch => "textregexeq",
                    _ => "texticregexeq",
                };
                let call = Expr::Function(Function::Builtin(name), vec![*l, *r]);
                match op {
                    B::PGRegexNotMatch | B::PGRegexNotIMatch => Expr::Not(Box::new(call)),
                    _ => call,
                }
            }
            other => return Err(unsupported(format!("operator {other}"))),
        })
    }

    pub(super) fn literal(&self, value: &ast::Value) -> Result<Value> {
        Ok(match value {
            ast::Value::Null => Value::Null,
            ast::Value::Boolean(b) => Value::Bool(*b),
            ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => {
                Value::Text(s.clone())
            }
            ast::Value::Number(n, _) => {
                if let Ok(i) = n.parse::<i32>() {
                    Value::Int32(i)
                } else if let Ok(i) = n.parse::<i64>() {
                    Value::Int64(i)
                } else {
                    let d: BigDecimal = n
                        .parse()
                        .map_err(|_| errinput!(InvalidTextRepresentation, "invalid number {n}"))?;
                    Value::Numeric(Numeric::finite(d))
                }
            }
            other => return Err(unsupported(format!("literal {other}"))),
        })
    }

    /// Binds a subquery in an expression; it sees `scope` as its enclosing row. With
    /// `one_column`, it must return exactly one column (42601 otherwise).
    pub(super) fn bind_subquery(
        &self,
        query: &ast::Query,
        scope: &Scope,
        one_column: bool,
    ) -> Result<Subquery> {
        Ok(self.bind_subquery_labelled(query, scope, one_column)?.0)
    }

    /// A binder for a query nested in this one, where `scope` is the innermost enclosing row
    /// (its columns bind as [`Expr::OuterColumn`] at depth 1).
    pub(super) fn enclosed_by(&self, scope: &Scope) -> Binder<'a, E> {
        let mut outer = self.outer.clone();
        outer.push(scope.clone());
        Binder {
            txn: self.txn,
            db: self.db,
            search_path: self.search_path.clone(),
            path_cache: self.path_cache.clone(),
            schema_cache: self.schema_cache.clone(),
            who: self.who.clone(),
            sql: self.sql,
            dialect: self.dialect,
            outer,
            referenced: self.referenced.clone(),
            ctes: self.ctes.clone(),
            windows: RefCell::default(),
            set_returning: RefCell::default(),
            exact_outputs: RefCell::default(),
            params: self.params,
        }
    }

    /// [`Self::bind_subquery`], with the subquery's result columns.
    fn bind_subquery_labelled(
        &self,
        query: &ast::Query,
        scope: &Scope,
        one_column: bool,
    ) -> Result<(Subquery, Vec<Label>)> {
        let (node, labels) = self.enclosed_by(scope).bind_query(query)?;
        if one_column && labels.len() != 1 {
            return Err(errinput!(
                SyntaxError,
                "subquery must return only one column"
            ));
        }
        let correlated = node.refers_outward(1) || node.reads_work_table();
        Ok((Subquery { node, correlated }, labels))
    }

    /// Binds a window function call: its arguments, partition, order and frame.
    pub(super) fn bind_window(
        &self,
        call: &ast::Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<WindowFunction> {
        let ast::Expr::Function(f) = call else {
            return Err(errinternal!("not a window call: {call}"));
        };
        let name = function_name(f);
        let Some(ast::WindowType::WindowSpec(spec)) = &f.over else {
            return Err(unsupported("named windows"));
        };
        if spec.window_name.is_some() {
            return Err(unsupported("named windows"));
        }
        let mut star = false;
        let args: Vec<Expr> = match &f.args {
            ast::FunctionArguments::None => vec![],
            ast::FunctionArguments::List(list) => {
                if matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                ) {
                    return Err(errinput!(
                        FeatureNotSupported,
                        "DISTINCT is not implemented for window functions"
                    ));
                }
                let mut args = Vec::new();
                for a in &list.args {
                    match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                            args.push(self.bind_expr(e, scope, grouping)?)
                        }
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => star = true,
                        _ => return Err(unsupported(format!("argument form in {name}()"))),
                    }
                }
                args
            }
            ast::FunctionArguments::Subquery(_) => return Err(unsupported("subquery arguments")),
        };
        let wrong = || {
            errinput!(
                UndefinedFunction,
                "function {name} with {} arguments does not exist",
                args.len()
            )
        };
        let first = || args.first().cloned().ok_or_else(wrong);
        let func = match name.as_str() {
            "row_number" if args.is_empty() => WindowFunc::RowNumber,
            "rank" if args.is_empty() => WindowFunc::Rank,
            "dense_rank" if args.is_empty() => WindowFunc::DenseRank,
            "lag" if (1..=3).contains(&args.len()) => WindowFunc::Lag,
            "lead" if (1..=3).contains(&args.len()) => WindowFunc::Lead,
            "first_value" if args.len() == 1 => WindowFunc::FirstValue,
            "last_value" if args.len() == 1 => WindowFunc::LastValue,
            "count" if star => WindowFunc::Aggregate(Aggregate::CountStar),
            "count" => WindowFunc::Aggregate(Aggregate::Count(first()?, false)),
            "sum" => WindowFunc::Aggregate(Aggregate::Sum(first()?, false)),
            "avg" => WindowFunc::Aggregate(Aggregate::Avg(first()?, false)),
            "min" => WindowFunc::Aggregate(Aggregate::Min(first()?)),
            "max" => WindowFunc::Aggregate(Aggregate::Max(first()?)),
            _ => return Err(wrong()),
        };
        let partition_by = spec
            .partition_by
            .iter()
            .map(|e| self.bind_expr(e, scope, grouping))
            .collect::<Result<Vec<_>>>()?;
        let mut order_by = Vec::with_capacity(spec.order_by.len());
        for o in &spec.order_by {
            let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
            order_by.push(SortKey {
                expr: self.bind_expr(&o.expr, scope, grouping)?,
                descending,
                nulls_first: o.options.nulls_first.unwrap_or(descending),
            });
        }
        let frame = match &spec.window_frame {
            None if order_by.is_empty() => Frame {
                rows: false,
                start: FrameBound::UnboundedPreceding,
                end: FrameBound::UnboundedFollowing,
            },
            None => Frame {
                rows: false,
                start: FrameBound::UnboundedPreceding,
                end: FrameBound::CurrentRow,
            },
            Some(frame) => {
                let rows = match frame.units {
                    ast::WindowFrameUnits::Rows => true,
                    ast::WindowFrameUnits::Range => false,
                    ast::WindowFrameUnits::Groups => return Err(unsupported("GROUPS frames")),
                };
                let bound = |b: &ast::WindowFrameBound| -> Result<FrameBound> {
                    let offset = |e: &ast::Expr| -> Result<u64> {
                        if !rows {
                            return Err(unsupported("RANGE frames with an offset"));
                        }
                        let bound = self.bind_expr(e, &Scope::default(), None)?;
                        let cache = crate::execution::SubqueryCache::for_identity(self.who.clone());
                        let env = crate::execution::Env::new(self.txn, &cache);
                        match types::cast(
                            crate::execution::eval(&bound, &[], &env)?,
                            &DataType::Int64,
                        )? {
                            Value::Int64(n) if n >= 0 => Ok(n as u64),
                            _ => Err(errinput!(
                                InvalidParameterValue,
                                "frame starting or ending offset must not be negative"
                            )),
                        }
                    };
                    Ok(match b {
                        ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
                        ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
                        ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
                        ast::WindowFrameBound::Preceding(Some(e)) => {
                            FrameBound::Preceding(offset(e)?)
                        }
                        ast::WindowFrameBound::Following(Some(e)) => {
                            FrameBound::Following(offset(e)?)
                        }
                    })
                };
                let start = bound(&frame.start_bound)?;
                let end = frame
                    .end_bound
                    .as_ref()
                    .map(bound)
                    .transpose()?
                    .unwrap_or(FrameBound::CurrentRow);
                Frame { rows, start, end }
            }
        };
        Ok(WindowFunction {
            func,
            args,
            partition_by,
            order_by,
            frame,
        })
    }
}

/// A keyword-syntax call as the [`crate::functions`] function it means, with its operands:
/// `substring(s FROM a FOR n)` is `substring(s, a, n)`, `trim(LEADING 'x' FROM s)` is
/// `ltrim(s, 'x')`, `position(a IN s)` is `position(s, a)`, `extract(year FROM d)` is
/// `extract('year', d)`. `None` if `expr` is no such call.
pub(super) fn keyword_call(expr: &ast::Expr) -> Result<Option<(&'static str, Vec<ast::Expr>)>> {
    use ast::Expr as A;
    let int = |n: &str| A::value(ast::Value::Number(n.to_string(), false));
    let text = |s: String| A::value(ast::Value::SingleQuotedString(s));
    let plain = |field: &ast::CeilFloorKind| {
        matches!(
            field,
            ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)
        )
    };
    Ok(Some(match expr {
        A::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            let from = substring_from
                .as_deref()
                .cloned()
                .unwrap_or_else(|| int("1"));
            let mut args = vec![expr.as_ref().clone(), from];
            args.extend(substring_for.as_deref().cloned());
            ("substring", args)
        }
        A::Position { expr, r#in } => ("position", vec![r#in.as_ref().clone(), *expr.clone()]),
        A::Trim {
            trim_where,
            trim_what,
            expr,
            trim_characters,
        } => {
            let name = match trim_where {
                None | Some(ast::TrimWhereField::Both) => "btrim",
                Some(ast::TrimWhereField::Leading) => "ltrim",
                Some(ast::TrimWhereField::Trailing) => "rtrim",
            };
            let mut args = vec![expr.as_ref().clone()];
            args.extend(trim_what.as_deref().cloned());
            args.extend(trim_characters.iter().flatten().cloned());
            (name, args)
        }
        A::Extract { field, expr, .. } => (
            "extract",
            vec![
                text(field.to_string().to_lowercase()),
                expr.as_ref().clone(),
            ],
        ),
        A::Ceil { expr, field } if plain(field) => ("ceil", vec![expr.as_ref().clone()]),
        A::Floor { expr, field } if plain(field) => ("floor", vec![expr.as_ref().clone()]),
        A::Ceil { .. } | A::Floor { .. } => {
            return Err(unsupported("CEIL/FLOOR with a scale or TO field"))
        }
        _ => return Ok(None),
    }))
}

/// The operand expressions of a keyword-syntax call (see [`keyword_call`]), for finding
/// aggregate and window calls inside it.
pub(super) fn keyword_operands(expr: &ast::Expr) -> Vec<&ast::Expr> {
    use ast::Expr as A;
    match expr {
        A::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => std::iter::once(expr.as_ref())
            .chain(substring_from.as_deref())
            .chain(substring_for.as_deref())
            .collect(),
        A::Position { expr, r#in } => vec![expr, r#in],
        A::Trim {
            trim_what,
            expr,
            trim_characters,
            ..
        } => std::iter::once(expr.as_ref())
            .chain(trim_what.as_deref())
            .chain(trim_characters.iter().flatten())
            .collect(),
        A::Extract { expr, .. } | A::Ceil { expr, .. } | A::Floor { expr, .. } => vec![expr],
        _ => vec![],
    }
}
