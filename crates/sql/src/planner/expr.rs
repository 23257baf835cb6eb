//! Scalar expressions of plans: what they are, what they contain, and how they print (the
//! printer `EXPLAIN` uses for them).

use std::fmt;

use zizhu_types::Value;

use super::plan::*;
use crate::types::DataType;

/// A scalar expression over the columns of its input row.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Constant(Value),
    /// Parameter `$n` of a prepared statement (`index` is n - 1), in a plan kept for reuse:
    /// [`Plan::bind_params`](super::plan::Plan::bind_params) replaces it by the execution's
    /// value, and whatever it misses reads the value from the statement's state.
    Param {
        /// Position in the statement's parameters.
        index: usize,
        /// Its type.
        data_type: DataType,
    },
    /// The input column at `index`; `name` is for display.
    Column {
        /// Position in the input row.
        index: usize,
        /// Display name (`table.column`).
        name: ColumnName,
    },
    /// `NOT a` (three-valued).
    Not(Box<Expr>),
    /// `-a`
    Negate(Box<Expr>),
    /// `a AND b` (three-valued).
    And(Box<Expr>, Box<Expr>),
    /// `a OR b` (three-valued).
    Or(Box<Expr>, Box<Expr>),
    /// A comparison.
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    /// Arithmetic.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// `a || b`
    Concat(Box<Expr>, Box<Expr>),
    /// `a IS NULL`
    IsNull(Box<Expr>),
    /// `a [NOT] [I]LIKE pattern`
    Like {
        /// The string.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// ILIKE.
        case_insensitive: bool,
    },
    /// `CAST(a AS type)`
    Cast(Box<Expr>, DataType),
    /// `a IN (list)`
    InList(Box<Expr>, Vec<Expr>),
    /// `CASE [operand] WHEN .. THEN .. ELSE .. END`, with the operand folded into equality
    /// conditions.
    Case(Vec<(Expr, Expr)>, Option<Box<Expr>>),
    /// A scalar function call.
    Function(Function, Vec<Expr>),
    /// A column of an enclosing query's current row (a correlated reference): `depth` 1 is
    /// the query immediately enclosing the subquery.
    OuterColumn {
        /// How many queries out.
        depth: usize,
        /// Position in that query's row.
        index: usize,
        /// Display name.
        name: ColumnName,
    },
    /// `(SELECT ...)`: the single value of a one-column subquery (NULL if it has no rows,
    /// 21000 if it has several).
    Subquery(Box<Subquery>),
    /// `EXISTS (SELECT ...)`
    Exists(Box<Subquery>),
    /// `ARRAY(subquery)`: the one-column rows as an array.
    ArraySubquery(Box<Subquery>, DataType),
    /// `a IN (SELECT ...)`
    InSubquery(Box<Expr>, Box<Subquery>),
    /// `a op ANY (SELECT ...)`, or with `all`, `a op ALL (SELECT ...)`.
    Quantified {
        /// The comparison.
        op: CompareOp,
        /// The left operand.
        left: Box<Expr>,
        /// The subquery.
        subquery: Box<Subquery>,
        /// ALL rather than ANY.
        all: bool,
    },
}

/// A subquery within an expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Subquery {
    /// Its plan.
    pub node: Node,
    /// Whether it refers to an enclosing query's row; if not, it runs once per statement.
    pub correlated: bool,
}

/// A column reference's display name. It takes no part in equality: `t.a` and `a` are the same
/// expression when they refer to the same input column, which is how grouping keys match.
#[derive(Clone, Debug)]
pub struct ColumnName(pub String);

impl PartialEq for ColumnName {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T: Into<String>> From<T> for ColumnName {
    fn from(name: T) -> Self {
        ColumnName(name.into())
    }
}

impl fmt::Display for ColumnName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `IS DISTINCT FROM` (never NULL)
    Distinct,
    /// `IS NOT DISTINCT FROM` (never NULL)
    NotDistinct,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

impl ArithOp {
    /// Applies the operator, with PostgreSQL's operand promotion ([`crate::types::ops`]).
    pub fn apply(self, a: &Value, b: &Value) -> crate::Result<Value> {
        use crate::types::ops;
        match self {
            ArithOp::Add => ops::add(a, b),
            ArithOp::Sub => ops::sub(a, b),
            ArithOp::Mul => ops::mul(a, b),
            ArithOp::Div => ops::div(a, b),
            ArithOp::Mod => ops::modulo(a, b),
        }
    }

    /// The type of the result for operands of types `a` and `b`, where both are numbers,
    /// dates, times or intervals; `None` for other types. It is the type of
    /// [`apply`](Self::apply)'s result on sample operands of those types, so the binder's type
    /// and the executor's values cannot disagree (`integer + numeric` is `numeric`, `date -
    /// date` is `integer`, `date + interval` is `timestamp`).
    pub fn result_type(self, a: &DataType, b: &DataType) -> Option<DataType> {
        let result = self.apply(&a.sample()?, &b.sample()?).ok()?;
        Some(DataType::of(&result))
    }
}

/// Scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    /// `coalesce(a, ...)`
    Coalesce,
    /// `nullif(a, b)`
    NullIf,
    /// `abs(a)`
    Abs,
    /// `length(a)`
    Length,
    /// `nextval(sequence)`: volatile, never folded.
    NextVal,
    /// `currval(sequence)`
    CurrVal,
    /// `setval(sequence, value [, is_called])`
    SetVal,
    /// An administration function (key rotation): volatile, never folded.
    Admin(crate::system::AdminFunction),
    /// A function over the catalog or the session ([`crate::system::functions`]).
    Catalog(crate::system::functions::CatalogFunction),
    /// `value op ANY (array)`, or with `all`, `value op ALL (array)`.
    ArrayCompare(CompareOp, bool),
    /// A function of the [`crate::functions`] library, by name.
    Builtin(&'static str),
}

impl Function {
    /// Whether it reads or changes state beyond its arguments (sequences, the catalog, the
    /// session, the data directory): such calls are never folded or moved.
    pub fn reads_state(&self) -> bool {
        match self {
            Function::NextVal | Function::CurrVal | Function::SetVal | Function::Admin(_) => true,
            Function::Catalog(f) => f.reads_state(),
            _ => false,
        }
    }
}

impl Expr {
    /// The expressions directly inside this one (not inside subqueries).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Constant(_)
            | Expr::Param { .. }
            | Expr::Column { .. }
            | Expr::OuterColumn { .. } => vec![],
            Expr::Subquery(_) | Expr::Exists(_) | Expr::ArraySubquery(..) => vec![],
            Expr::Not(a) | Expr::Negate(a) | Expr::IsNull(a) | Expr::Cast(a, _) => vec![a],
            Expr::InSubquery(a, _) | Expr::Quantified { left: a, .. } => vec![a],
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Compare(_, a, b)
            | Expr::Arith(_, a, b)
            | Expr::Concat(a, b) => {
                vec![a, b]
            }
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::InList(a, list) => std::iter::once(a.as_ref()).chain(list).collect(),
            Expr::Case(whens, otherwise) => whens
                .iter()
                .flat_map(|(w, t)| [w, t])
                .chain(otherwise.as_deref())
                .collect(),
            Expr::Function(_, args) => args.iter().collect(),
        }
    }
    /// This expression with each direct child replaced by `f(child)` (subqueries untouched).
    pub fn map_children(self, f: &dyn Fn(Expr) -> Expr) -> Expr {
        let b = |e: Box<Expr>| Box::new(f(*e));
        match self {
            e @ (Expr::Constant(_)
            | Expr::Param { .. }
            | Expr::Column { .. }
            | Expr::OuterColumn { .. }
            | Expr::Subquery(_)
            | Expr::Exists(_)
            | Expr::ArraySubquery(..)) => e,
            Expr::Not(a) => Expr::Not(b(a)),
            Expr::Negate(a) => Expr::Negate(b(a)),
            Expr::IsNull(a) => Expr::IsNull(b(a)),
            Expr::Cast(a, ty) => Expr::Cast(b(a), ty),
            Expr::InSubquery(a, s) => Expr::InSubquery(b(a), s),
            Expr::Quantified {
                op,
                left,
                subquery,
                all,
            } => Expr::Quantified {
                op,
                left: b(left),
                subquery,
                all,
            },
            Expr::And(x, y) => Expr::And(b(x), b(y)),
            Expr::Or(x, y) => Expr::Or(b(x), b(y)),
            Expr::Compare(op, x, y) => Expr::Compare(op, b(x), b(y)),
            Expr::Arith(op, x, y) => Expr::Arith(op, b(x), b(y)),
            Expr::Concat(x, y) => Expr::Concat(b(x), b(y)),
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => Expr::Like {
                expr: b(expr),
                pattern: b(pattern),
                case_insensitive,
            },
            Expr::InList(a, list) => Expr::InList(b(a), list.into_iter().map(f).collect()),
            Expr::Case(whens, otherwise) => Expr::Case(
                whens.into_iter().map(|(w, t)| (f(w), f(t))).collect(),
                otherwise.map(b),
            ),
            Expr::Function(func, args) => Expr::Function(func, args.into_iter().map(f).collect()),
        }
    }

    /// The operands of this expression's top-level ANDs (itself if it is no AND).
    pub fn conjuncts(&self) -> impl Iterator<Item = &Expr> {
        let mut stack = vec![self];
        std::iter::from_fn(move || loop {
            match stack.pop()? {
                Expr::And(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                e => return Some(e),
            }
        })
    }

    /// If this is `a = b` with `a` over the first `left_width` columns of a joined row and
    /// `b` over the rest (or the other way round), the pair a hash join can key on: `a` as is
    /// and `b` renumbered over the right row alone. Each side must read a column and nothing
    /// a hash join cannot evaluate once per row (subqueries, volatile functions).
    pub fn join_key(&self, left_width: usize) -> Option<(Expr, Expr)> {
        let Expr::Compare(CompareOp::Eq, a, b) = self else {
            return None;
        };
        let (a_left, b_left) = (a.side(left_width)?, b.side(left_width)?);
        let (l, r) = match (a_left, b_left) {
            (true, false) => (a, b),
            (false, true) => (b, a),
            _ => return None,
        };
        Some((
            l.as_ref().clone(),
            r.as_ref().clone().shift_columns(left_width),
        ))
    }

    /// `Some(true)` if every column this expression reads is below `left_width`, `Some(false)`
    /// if every one is at or above it; `None` if it reads both sides, no column, or something
    /// not evaluable once per row.
    pub fn side(&self, left_width: usize) -> Option<bool> {
        let mut side = None;
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Column { index, .. } => {
                    let left = *index < left_width;
                    if side.replace(left).is_some_and(|s| s != left) {
                        return None;
                    }
                }
                Expr::Subquery(_)
                | Expr::Exists(_)
                | Expr::InSubquery(..)
                | Expr::Quantified { .. }
                | Expr::ArraySubquery(..) => return None,
                Expr::Function(f, _) if f.reads_state() => return None,
                Expr::Function(Function::Builtin(name), _)
                    if crate::functions::is_volatile(name) =>
                {
                    return None
                }
                e => stack.extend(e.children()),
            }
        }
        side
    }

    /// This expression with every column position lowered by `by`.
    /// This expression over a row whose first `by` columns are gone.
    pub fn shift_columns(self, by: usize) -> Expr {
        match self {
            Expr::Column { index, name } => Expr::Column {
                index: index - by,
                name,
            },
            e => e.map_children(&|c| c.shift_columns(by)),
        }
    }

    /// Whether this expression refers to a row `level` or more queries out (counting
    /// through the subqueries inside it).
    pub fn refers_outward(&self, level: usize) -> bool {
        match self {
            Expr::OuterColumn { depth, .. } if *depth >= level => true,
            Expr::Subquery(s) | Expr::Exists(s) | Expr::ArraySubquery(s, _)
                if s.node.refers_outward(level + 1) =>
            {
                true
            }
            Expr::InSubquery(_, s) | Expr::Quantified { subquery: s, .. }
                if s.node.refers_outward(level + 1) =>
            {
                true
            }
            e => e.children().into_iter().any(|c| c.refers_outward(level)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Constant(Value::Text(s)) => write!(f, "'{}'", s.replace('\'', "''")),
            Expr::Constant(v) => write!(f, "{v}"),
            Expr::Param { index, .. } => write!(f, "${}", index + 1),
            Expr::Column { name, .. } => write!(f, "{name}"),
            Expr::Not(a) => write!(f, "NOT {a}"),
            Expr::Negate(a) => write!(f, "-{a}"),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::Compare(op, a, b) => {
                let op = match op {
                    CompareOp::Eq => "=",
                    CompareOp::NotEq => "<>",
                    CompareOp::Lt => "<",
                    CompareOp::LtEq => "<=",
                    CompareOp::Gt => ">",
                    CompareOp::GtEq => ">=",
                    CompareOp::Distinct => "IS DISTINCT FROM",
                    CompareOp::NotDistinct => "IS NOT DISTINCT FROM",
                };
                write!(f, "({a} {op} {b})")
            }
            Expr::Arith(op, a, b) => {
                let op = match op {
                    ArithOp::Add => "+",
                    ArithOp::Sub => "-",
                    ArithOp::Mul => "*",
                    ArithOp::Div => "/",
                    ArithOp::Mod => "%",
                };
                write!(f, "({a} {op} {b})")
            }
            Expr::Concat(a, b) => write!(f, "({a} || {b})"),
            Expr::IsNull(a) => write!(f, "({a} IS NULL)"),
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => {
                write!(
                    f,
                    "({expr} {} {pattern})",
                    if *case_insensitive { "~~*" } else { "~~" }
                )
            }
            Expr::Cast(a, ty) => write!(f, "({a})::{ty}"),
            Expr::InList(a, list) => {
                write!(f, "({a} IN (")?;
                write_list(f, list)?;
                f.write_str("))")
            }
            Expr::Case(whens, otherwise) => {
                f.write_str("CASE")?;
                for (when, then) in whens {
                    write!(f, " WHEN {when} THEN {then}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::OuterColumn { name, .. } => write!(f, "outer.{name}"),
            Expr::Subquery(_) => f.write_str("(subquery)"),
            Expr::Exists(_) => f.write_str("EXISTS (subquery)"),
            Expr::ArraySubquery(..) => f.write_str("ARRAY(subquery)"),
            Expr::InSubquery(a, _) => write!(f, "({a} IN (subquery))"),
            Expr::Quantified { op, left, all, .. } => {
                let q = if *all { "ALL" } else { "ANY" };
                write!(f, "({left} {op:?} {q} (subquery))")
            }
            Expr::Function(Function::Builtin(name), args) => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                f.write_str(")")
            }
            Expr::Function(Function::Catalog(func), args) => {
                write!(f, "{}(", func.name())?;
                write_list(f, args)?;
                f.write_str(")")
            }
            Expr::Function(Function::ArrayCompare(op, all), args) => {
                let q = if *all { "ALL" } else { "ANY" };
                match args.as_slice() {
                    [left, array, ..] => write!(f, "({left} {op:?} {q} ({array}))"),
                    _ => write!(f, "{op:?} {q}"),
                }
            }
            Expr::Function(Function::Admin(func), args) => {
                write!(f, "{}(", func.name())?;
                write_list(f, args)?;
                f.write_str(")")
            }
            Expr::Function(func, args) => {
                write!(f, "{}(", format!("{func:?}").to_lowercase())?;
                write_list(f, args)?;
                f.write_str(")")
            }
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Expr]) -> fmt::Result {
    for (i, e) in list.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}
