//! Binding the `json`/`jsonb` operators to the functions behind them, and the arguments of the
//! JSON constructors ([`crate::types::json`], `functions/json.rs`).

use super::*;

/// Whether a bound expression's type is `json` or `jsonb` (`Some(true)` for `jsonb`).
fn json_kind(ty: &DataType) -> Option<bool> {
    match ty {
        DataType::Json => Some(false),
        DataType::Jsonb => Some(true),
        _ => None,
    }
}

impl<E: Engine> Binder<'_, E> {
    /// Binds `left op right` if `op` is a JSON operator: `->`, `->>`, `#>`, `#>>`, `@>`, `<@`,
    /// `?`, `?|`, `?&` and `#-` (`||` and `-` on `jsonb` are [`Self::jsonb_arith`]). The
    /// left side is the document (an untyped literal is read as `jsonb`); keys, indexes and
    /// paths on the right keep their own types.
    pub(super) fn bind_json_operator(
        &self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Result<Option<Expr>> {
        use ast::BinaryOperator as B;
        let always = matches!(
            op,
            B::Arrow
                | B::LongArrow
                | B::HashArrow
                | B::HashLongArrow
                | B::AtArrow
                | B::ArrowAt
                | B::Question
                | B::QuestionAnd
                | B::QuestionPipe
                | B::HashMinus
        );
        if !always {
            return Ok(None);
        }
        let l = self.bind_expr(left, scope, grouping)?;
        let lt = self.expr_type(&l, scope, grouping);
        let jsonb = json_kind(&lt).unwrap_or(true);
        // An untyped or text left side is read as a jsonb document.
        let l = match json_kind(&lt) {
            Some(_) => l,
            None => Expr::Cast(Box::new(l), DataType::Jsonb),
        };
        let prefix = if jsonb { "jsonb" } else { "json" };
        let document = |e: Expr, ty: &DataType| match json_kind(ty) {
            Some(true) => e,
            _ => Expr::Cast(Box::new(e), DataType::Jsonb),
        };
        let (name, r) = match op {
            B::Arrow | B::LongArrow => {
                let r = self.bind_expr(right, scope, grouping)?;
                let index = matches!(
                    self.expr_type(&r, scope, grouping),
                    DataType::Int16 | DataType::Int32 | DataType::Int64
                );
                let what = if index {
                    "array_element"
                } else {
                    "object_field"
                };
                let text = if matches!(op, B::LongArrow) {
                    "_text"
                } else {
                    ""
                };
                (format!("{prefix}_{what}{text}"), r)
            }
            B::HashArrow | B::HashLongArrow => {
                let text = if matches!(op, B::HashLongArrow) {
                    "_text"
                } else {
                    ""
                };
                (
                    format!("{prefix}_extract_path_op{text}"),
                    self.bind_expr(right, scope, grouping)?,
                )
            }
            B::AtArrow | B::ArrowAt => {
                let r = self.coerce_literal(
                    right,
                    &Expr::Cast(Box::new(l.clone()), DataType::Jsonb),
                    scope,
                    grouping,
                )?;
                let rt = self.expr_type(&r, scope, grouping);
                let name = match op {
                    B::AtArrow => "jsonb_contains",
                    _ => "jsonb_contained",
                };
                (name.to_string(), document(r, &rt))
            }
            B::Question => (
                "jsonb_exists".into(),
                self.bind_expr(right, scope, grouping)?,
            ),
            B::QuestionPipe => (
                "jsonb_exists_any".into(),
                self.bind_expr(right, scope, grouping)?,
            ),
            B::QuestionAnd => (
                "jsonb_exists_all".into(),
                self.bind_expr(right, scope, grouping)?,
            ),
            _ => (
                "jsonb_delete_path".into(),
                self.bind_expr(right, scope, grouping)?,
            ),
        };
        let l = if name.starts_with("jsonb") {
            document(l, &lt)
        } else {
            l
        };
        match crate::functions::lookup(&name, 2) {
            Some(builtin) => Ok(Some(Expr::Function(Function::Builtin(builtin), vec![l, r]))),
            None => Err(errinternal!("JSON operator function {name} is missing")),
        }
    }

    /// A call of `builtin`, its arguments made JSON texts where it takes JSON: an argument
    /// that is not `json`/`jsonb` goes through `to_json` (which quotes text and keeps
    /// numbers), as PostgreSQL's constructors convert by the argument's type; `to_json` of a
    /// `json` value is the value.
    /// `jsonb || x` (either side `jsonb`: concatenation) and `jsonb - key` (deletion), for
    /// operands already bound; `None` if neither applies.
    pub(super) fn jsonb_arith(
        &self,
        concat: bool,
        l: &Expr,
        r: &Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Option<Expr> {
        let lt = self.expr_type(l, scope, grouping);
        let rt = self.expr_type(r, scope, grouping);
        let as_jsonb = |e: &Expr, ty: &DataType| match ty {
            DataType::Jsonb => e.clone(),
            _ => Expr::Cast(Box::new(e.clone()), DataType::Jsonb),
        };
        if concat && (lt == DataType::Jsonb || rt == DataType::Jsonb) {
            return Some(Expr::Function(
                Function::Builtin("jsonb_concat"),
                vec![as_jsonb(l, &lt), as_jsonb(r, &rt)],
            ));
        }
        (!concat && lt == DataType::Jsonb).then(|| {
            Expr::Function(
                Function::Builtin("jsonb_delete"),
                vec![l.clone(), r.clone()],
            )
        })
    }

    pub(super) fn json_arguments(
        &self,
        builtin: &'static str,
        mut args: Vec<Expr>,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Expr {
        let is_json = |e: &Expr| {
            matches!(
                self.expr_type(e, scope, grouping),
                DataType::Json | DataType::Jsonb
            )
        };
        if let ("to_json" | "to_jsonb", [arg]) = (builtin, args.as_slice()) {
            if is_json(arg) {
                let to = if builtin == "to_json" {
                    DataType::Json
                } else {
                    DataType::Jsonb
                };
                return Expr::Cast(Box::new(arg.clone()), to);
            }
        }
        if let Some(objects) = crate::functions::takes_json_arguments(builtin) {
            for (i, arg) in args.iter_mut().enumerate() {
                if (!objects || i % 2 == 1) && !is_json(arg) {
                    let value = std::mem::replace(arg, Expr::Constant(Value::Null));
                    *arg = Expr::Function(Function::Builtin("to_json"), vec![value]);
                }
            }
        }
        Expr::Function(Function::Builtin(builtin), args)
    }
}
