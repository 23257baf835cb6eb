//! `char(n)` (`bpchar`) in expressions. Values are stored blank-padded to `n` characters, as
//! PostgreSQL stores them, and PostgreSQL's rules for where the padding counts are applied
//! here, at bind time, by wrapping a `char` operand in `rtrim` where PostgreSQL converts it to
//! `text` (which drops trailing blanks):
//!
//! - a cast to `text` or `varchar`, `||`, `length` and the string functions whose parameters
//!   are `text` (`upper`, `substr`, `replace`, `position`, ...) see the value without its
//!   trailing blanks;
//! - a comparison with `text` compares the trimmed value as text (so `'ab'::char(5) = 'ab '`
//!   typed `text` is false), and one with `varchar` or a `char` of another length compares
//!   both sides without trailing blanks, as PostgreSQL's `bpchar` comparison does;
//! - a quoted literal compared with a `char(n)` value is padded to it instead
//!   ([`blank_padded`]), so the comparison stays on the stored value;
//! - `concat`, `format`, `octet_length`, `LIKE` and the regular-expression operators see the
//!   padding, as in PostgreSQL.

#![allow(clippy::wildcard_imports)]

use super::*;

/// A literal compared with a `char(n)` value, as that value is stored: blank-padded to `n`
/// characters. PostgreSQL compares `char` values without their trailing blanks, so `c = 'ab'`
/// finds the stored `'ab '`; trailing blanks of the literal do not count either, and a
/// longer literal stays as it is (it equals no stored value, as in PostgreSQL).
pub(super) fn blank_padded(text: &str, n: u32) -> String {
    let trimmed = text.trim_end_matches(' ');
    let len = trimmed.chars().count();
    let n = n as usize;
    match len < n {
        true => format!("{trimmed}{}", " ".repeat(n - len)),
        false => trimmed.to_string(),
    }
}

/// The string functions whose parameters are `text`, so a `char` argument loses its trailing
/// blanks (in PostgreSQL, by its implicit cast to `text`).
const TEXT_PARAMETERS: &[&str] = &[
    "substr",
    "substring",
    "strpos",
    "position",
    "replace",
    "btrim",
    "ltrim",
    "rtrim",
    "lpad",
    "rpad",
    "split_part",
    "left",
    "right",
    "reverse",
    "repeat",
    "initcap",
    "ascii",
    "starts_with",
    "md5",
    "upper",
    "lower",
    "translate",
    "regexp_replace",
    "regexp_like",
    "regexp_count",
    "quote_ident",
];

impl<E: Engine> Binder<'_, E> {
    /// `expr` as `text` would see it: without trailing blanks if it is a `char` value.
    pub(super) fn char_as_text(
        &self,
        expr: Expr,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Expr {
        match self.expr_type(&expr, scope, grouping) {
            DataType::Char(_) => Expr::Function(Function::Builtin("rtrim"), vec![expr]),
            _ => expr,
        }
    }

    /// The arguments of `function` as PostgreSQL passes them: `char` ones trimmed where the
    /// parameter is `text` (see [`TEXT_PARAMETERS`]).
    pub(super) fn char_arguments(
        &self,
        function: &str,
        args: Vec<Expr>,
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> Vec<Expr> {
        if !TEXT_PARAMETERS.contains(&function) {
            return args;
        }
        args.into_iter()
            .map(|arg| self.char_as_text(arg, scope, grouping))
            .collect()
    }

    /// The operands of a comparison, with a `char` side trimmed where PostgreSQL compares
    /// without its padding: against `text` (as text), and against `varchar` or another
    /// `char` length (both sides, as `bpchar`). `left_ast` and `right_ast` are the operands as
    /// written: a quoted literal was padded to the other side already, and a parameter counts
    /// as its declared type (in a custom plan its value is a constant, which looks like text).
    pub(super) fn char_comparands(
        &self,
        (left, left_ast): (Expr, &ast::Expr),
        (right, right_ast): (Expr, &ast::Expr),
        scope: &Scope,
        grouping: Option<&Grouping>,
    ) -> (Expr, Expr) {
        if quoted_literal(left_ast) || quoted_literal(right_ast) {
            return (left, right);
        }
        let type_of = |e: &Expr, ast: &ast::Expr| {
            self.placeholder_type(ast)
                .unwrap_or_else(|| self.expr_type(e, scope, grouping))
        };
        let (lt, rt) = (type_of(&left, left_ast), type_of(&right, right_ast));
        let trim = |e: Expr| Expr::Function(Function::Builtin("rtrim"), vec![e]);
        match (&lt, &rt) {
            (DataType::Char(a), DataType::Char(b)) if a == b => (left, right),
            (DataType::Char(_), DataType::Text) => (trim(left), right),
            (DataType::Text, DataType::Char(_)) => (left, trim(right)),
            (DataType::Char(_), DataType::Char(_) | DataType::Varchar(_))
            | (DataType::Varchar(_), DataType::Char(_)) => (trim(left), trim(right)),
            _ => (left, right),
        }
    }

    /// The declared (or inferred) type of a parameter `$n`, if `expr` is one.
    fn placeholder_type(&self, expr: &ast::Expr) -> Option<DataType> {
        let (text, _) = super::expr::placeholder(expr)?;
        let n = text.strip_prefix('$')?.parse::<usize>().ok()?;
        let params = self.params?;
        let types = params.types.borrow();
        types.get(n.checked_sub(1)?).cloned()
    }
}

/// Whether `expr` is a quoted string literal (in parentheses or not): an untyped literal,
/// which takes a `char` operand's length (see [`blank_padded`]).
pub(super) fn quoted_literal(expr: &ast::Expr) -> bool {
    match expr {
        ast::Expr::Nested(inner) => quoted_literal(inner),
        ast::Expr::Value(v) => matches!(
            v.value,
            ast::Value::SingleQuotedString(_)
                | ast::Value::EscapedStringLiteral(_)
                | ast::Value::DollarQuotedString(_)
        ),
        _ => false,
    }
}
