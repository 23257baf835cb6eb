//! Expression evaluation, with SQL's three-valued logic.

use std::borrow::Cow;
use std::cmp::Ordering;

use zizhu_types::Value;

use super::Env;
use std::rc::Rc;

use crate::planner::{ArithOp, CompareOp, Expr, Function, Subquery};
use crate::types::{self, ops};
use crate::{errinput, errinternal, Result};

/// An operator's operand: a column or constant borrowed where it stands (a text column
/// compared per row is not copied per row), anything else evaluated.
pub(super) fn operand<'v>(
    expr: &'v Expr,
    row: &'v [Value],
    env: &Env<'_>,
) -> Result<Cow<'v, Value>> {
    Ok(match expr {
        Expr::Constant(v) => Cow::Borrowed(v),
        Expr::Column { index, .. } => Cow::Borrowed(
            row.get(*index)
                .ok_or_else(|| errinternal!("column {index} of a {}-column row", row.len()))?,
        ),
        other => Cow::Owned(eval(other, row, env)?),
    })
}

/// Evaluates `expr` over `row`.
pub fn eval(expr: &Expr, row: &[Value], env: &Env<'_>) -> Result<Value> {
    Ok(match expr {
        Expr::Constant(v) => v.clone(),
        Expr::Param { index, .. } => env.cache.param(*index)?,
        Expr::Column { index, .. } => row
            .get(*index)
            .cloned()
            .ok_or_else(|| errinternal!("column {index} of a {}-column row", row.len()))?,
        Expr::Not(e) => match eval(e, row, env)? {
            Value::Bool(b) => Value::Bool(!b),
            Value::Null => Value::Null,
            other => return Err(not_boolean("NOT", &other)),
        },
        Expr::Negate(e) => ops::neg(&eval(e, row, env)?)?,
        // AND and OR follow SQL's three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL
        // is TRUE. The right side is not evaluated when the left decides.
        Expr::And(a, b) => match boolean(eval(a, row, env)?, "AND")? {
            Some(false) => Value::Bool(false),
            left => match (left, boolean(eval(b, row, env)?, "AND")?) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            },
        },
        Expr::Or(a, b) => match boolean(eval(a, row, env)?, "OR")? {
            Some(true) => Value::Bool(true),
            left => match (left, boolean(eval(b, row, env)?, "OR")?) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            },
        },
        Expr::Compare(op, a, b) => {
            if let Some(result) = int_compare(*op, a, b, row) {
                return Ok(result.map_or(Value::Null, Value::Bool));
            }
            let (a, b) = (operand(a, row, env)?, operand(b, row, env)?);
            compare_values(*op, &a, &b)?.map_or(Value::Null, Value::Bool)
        }
        Expr::Arith(op, a, b) => {
            if let Some(value) = int_value(expr, row) {
                return Ok(value.into_value());
            }
            let (a, b) = (operand(a, row, env)?, operand(b, row, env)?);
            op.apply(&a, &b)?
        }
        Expr::Concat(a, b) => ops::concat(&eval(a, row, env)?, &eval(b, row, env)?)?,
        Expr::IsNull(e) => Value::Bool(eval(e, row, env)?.is_null()),
        Expr::Like {
            expr,
            pattern,
            case_insensitive,
        } => match (eval(expr, row, env)?, eval(pattern, row, env)?) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            (Value::Text(s), Value::Text(p)) => {
                if *case_insensitive {
                    Value::Bool(like(&s.to_lowercase(), &p.to_lowercase())?)
                } else {
                    Value::Bool(like(&s, &p)?)
                }
            }
            (a, b) => {
                return Err(errinput!(
                    UndefinedFunction,
                    "operator does not exist: {} ~~ {}",
                    crate::types::DataType::of(&a),
                    crate::types::DataType::of(&b)
                ))
            }
        },
        Expr::Cast(e, ty) => types::cast(eval(e, row, env)?, ty)?,
        // x IN (a, b) is x = a OR x = b: NULL if no match and any comparison was NULL.
        Expr::InList(e, list) => {
            let value = eval(e, row, env)?;
            if value.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                match ops::compare(&value, &eval(item, row, env)?)? {
                    Some(Ordering::Equal) => return Ok(Value::Bool(true)),
                    None => saw_null = true,
                    Some(_) => {}
                }
            }
            if saw_null {
                Value::Null
            } else {
                Value::Bool(false)
            }
        }
        Expr::Case(whens, otherwise) => {
            for (when, then) in whens {
                if boolean(eval(when, row, env)?, "CASE")? == Some(true) {
                    return eval(then, row, env);
                }
            }
            match otherwise {
                Some(e) => eval(e, row, env)?,
                None => Value::Null,
            }
        }
        Expr::Function(f, args) => function(*f, args, row, env)?,
        Expr::OuterColumn { depth, index, .. } => env
            .outer
            .len()
            .checked_sub(*depth)
            .and_then(|i| env.outer.get(i))
            .and_then(|r| r.get(*index))
            .cloned()
            .ok_or_else(|| {
                errinternal!("outer column {index} at depth {depth} is not available")
            })?,
        Expr::Subquery(sub) => match subquery_rows(sub, row, env)?.as_slice() {
            [] => Value::Null,
            [one] => one.first().cloned().unwrap_or(Value::Null),
            _ => {
                return Err(errinput!(
                    CardinalityViolation,
                    "more than one row returned by a subquery used as an expression"
                ))
            }
        },
        Expr::Exists(sub) => Value::Bool(!subquery_rows(sub, row, env)?.is_empty()),
        Expr::ArraySubquery(sub, _) => {
            let rows = subquery_rows(sub, row, env)?;
            let values: Vec<Value> = rows
                .iter()
                .map(|r| r.first().cloned().unwrap_or(Value::Null))
                .collect();
            Value::Text(crate::types::array::format(&values))
        }
        Expr::InSubquery(left, sub) => {
            let value = eval(left, row, env)?;
            quantified(CompareOp::Eq, &value, &subquery_rows(sub, row, env)?, false)?
        }
        Expr::Quantified {
            op,
            left,
            subquery,
            all,
        } => {
            let value = eval(left, row, env)?;
            quantified(*op, &value, &subquery_rows(subquery, row, env)?, *all)?
        }
    })
}

/// An integer computed by the fast path: its value and the rank of its type (0 `smallint`,
/// 1 `integer`, 2 `bigint`), or NULL.
#[derive(Clone, Copy)]
enum Int {
    Null,
    Value(i64, u8),
}

impl Int {
    fn into_value(self) -> Value {
        match self {
            Int::Null => Value::Null,
            // The fast path checked the range of the rank's type.
            Int::Value(v, 0) => Value::Int16(v as i16),
            Int::Value(v, 1) => Value::Int32(v as i32),
            Int::Value(v, _) => Value::Int64(v),
        }
    }
}

/// The fast path for integer expressions: columns, constants and `+ - * / %` of them,
/// computed without building intermediate [`Value`]s. `None` whenever anything else is met,
/// including a result out of its type's range or a division by zero: the general path then
/// evaluates the expression again (it has no side effects) and gives the value or the error.
/// Types promote as in [`ops`]: the wider operand's type, at least `smallint`.
fn int_value(expr: &Expr, row: &[Value]) -> Option<Int> {
    let of = |v: &Value| match v {
        Value::Null => Some(Int::Null),
        Value::Int16(i) => Some(Int::Value(*i as i64, 0)),
        Value::Int32(i) => Some(Int::Value(*i as i64, 1)),
        Value::Int64(i) => Some(Int::Value(*i, 2)),
        _ => None,
    };
    match expr {
        Expr::Column { index, .. } => of(row.get(*index)?),
        Expr::Constant(v) => of(v),
        Expr::Arith(op, a, b) => {
            let (a, b) = (int_value(a, row)?, int_value(b, row)?);
            let (Int::Value(x, ra), Int::Value(y, rb)) = (a, b) else {
                return Some(Int::Null);
            };
            let rank = ra.max(rb);
            let r = match op {
                ArithOp::Add => x.checked_add(y)?,
                ArithOp::Sub => x.checked_sub(y)?,
                ArithOp::Mul => x.checked_mul(y)?,
                ArithOp::Div => x.checked_div(y)?,
                // x % -1 is 0 even for the most negative x.
                ArithOp::Mod if y == -1 => 0,
                ArithOp::Mod => x.checked_rem(y)?,
            };
            let fits = match rank {
                0 => i16::try_from(r).is_ok(),
                1 => i32::try_from(r).is_ok(),
                _ => true,
            };
            fits.then_some(Int::Value(r, rank))
        }
        _ => None,
    }
}

/// The fast path for comparing integer expressions ([`int_value`]): `Some(None)` is NULL.
fn int_compare(op: CompareOp, a: &Expr, b: &Expr, row: &[Value]) -> Option<Option<bool>> {
    if matches!(op, CompareOp::Distinct | CompareOp::NotDistinct) {
        return None;
    }
    let (Int::Value(x, _), Int::Value(y, _)) = (int_value(a, row)?, int_value(b, row)?) else {
        return Some(None);
    };
    Some(Some(holds(op, x.cmp(&y))))
}

/// The rows of a subquery for the current `row`: computed once per statement if it is not
/// correlated, otherwise with `row` as its innermost enclosing row.
fn subquery_rows(sub: &Subquery, row: &[Value], env: &Env<'_>) -> Result<Rc<Vec<Vec<Value>>>> {
    if !sub.correlated {
        let key = sub as *const Subquery as usize;
        if let Some(rows) = env.cache.results.borrow().get(&key) {
            return Ok(rows.clone());
        }
        let rows = Rc::new(super::rows(&sub.node, env)?.collect::<Result<Vec<_>>>()?);
        env.cache.results.borrow_mut().insert(key, rows.clone());
        return Ok(rows);
    }
    let mut outer = env.outer.clone();
    outer.push(row);
    let inner = Env {
        reader: env.reader,
        outer,
        cache: env.cache,
    };
    let rows = super::rows(&sub.node, &inner)?.collect::<Result<Vec<_>>>()?;
    Ok(Rc::new(rows))
}

/// `value op ANY (rows)` or, with `all`, `value op ALL (rows)`, over one-column rows, with
/// SQL's NULL rules: ANY is TRUE if some comparison is, else NULL if some was NULL, else FALSE
/// (so FALSE for no rows); ALL is FALSE if some comparison is, else NULL if some was NULL,
/// else TRUE (so TRUE for no rows).
fn quantified(op: CompareOp, value: &Value, rows: &[Vec<Value>], all: bool) -> Result<Value> {
    let mut saw_null = false;
    for row in rows {
        let other = row.first().unwrap_or(&Value::Null);
        match compare_values(op, value, other)? {
            Some(result) if result != all => return Ok(Value::Bool(result)),
            Some(_) => {}
            None => saw_null = true,
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(all)
    })
}

/// A comparison's truth value; `None` is NULL.
fn compare_values(op: CompareOp, a: &Value, b: &Value) -> Result<Option<bool>> {
    if let CompareOp::Distinct | CompareOp::NotDistinct = op {
        let same = match (a.is_null(), b.is_null()) {
            (true, true) => true,
            (false, false) => ops::compare(a, b)? == Some(Ordering::Equal),
            _ => false,
        };
        return Ok(Some(same == (op == CompareOp::NotDistinct)));
    }
    Ok(ops::compare(a, b)?.map(|order| holds(op, order)))
}

/// Whether `op` holds between two values in `order` (the DISTINCT comparisons, decided
/// before their operands are ordered, never do here).
fn holds(op: CompareOp, order: Ordering) -> bool {
    match op {
        CompareOp::Eq => order.is_eq(),
        CompareOp::NotEq => order.is_ne(),
        CompareOp::Lt => order.is_lt(),
        CompareOp::LtEq => order.is_le(),
        CompareOp::Gt => order.is_gt(),
        CompareOp::GtEq => order.is_ge(),
        CompareOp::Distinct | CompareOp::NotDistinct => false,
    }
}

fn boolean(value: Value, context: &str) -> Result<Option<bool>> {
    match value {
        Value::Bool(b) => Ok(Some(b)),
        Value::Null => Ok(None),
        other => Err(not_boolean(context, &other)),
    }
}

fn not_boolean(context: &str, value: &Value) -> crate::Error {
    errinput!(
        DatatypeMismatch,
        "argument of {context} must be type boolean, not type {}",
        crate::types::DataType::of(value)
    )
}

fn function(f: Function, args: &[Expr], row: &[Value], env: &Env<'_>) -> Result<Value> {
    let arg = |i: usize| eval(&args[i], row, env);
    Ok(match f {
        Function::Coalesce => {
            for a in args {
                let v = eval(a, row, env)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Value::Null
        }
        Function::NullIf => {
            let (a, b) = (arg(0)?, arg(1)?);
            if ops::compare(&a, &b)? == Some(Ordering::Equal) {
                Value::Null
            } else {
                a
            }
        }
        Function::Abs => match arg(0)? {
            Value::Null => Value::Null,
            v => match ops::compare(&v, &Value::Int16(0))? {
                Some(Ordering::Less) => ops::neg(&v)?,
                _ => v,
            },
        },
        Function::NextVal | Function::CurrVal | Function::SetVal => {
            let sequences = env.cache.sequences.clone().ok_or_else(|| {
                errinput!(
                    FeatureNotSupported,
                    "sequence functions are not available here"
                )
            })?;
            let name = match arg(0)? {
                Value::Null => return Ok(Value::Null),
                Value::Text(t) => match t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                    Some(quoted) => quoted.to_string(),
                    None => t.to_lowercase(),
                },
                other => types::to_text(&other),
            };
            Value::Int64(match f {
                Function::NextVal => sequences.nextval(env.reader, &name)?,
                Function::CurrVal => sequences.currval(env.reader, &name)?,
                _ => {
                    let value = match types::cast(arg(1)?, &crate::types::DataType::Int64)? {
                        Value::Int64(v) => v,
                        _ => return Ok(Value::Null),
                    };
                    let is_called = match args.get(2).map(|a| eval(a, row, env)).transpose()? {
                        None | Some(Value::Bool(true)) => true,
                        Some(Value::Bool(false)) => false,
                        Some(_) => return Ok(Value::Null),
                    };
                    sequences.setval(env.reader, &name, value, is_called)?
                }
            })
        }
        Function::Catalog(catalog) => {
            let values = args
                .iter()
                .map(|a| eval(a, row, env))
                .collect::<Result<Vec<_>>>()?;
            catalog.call(
                &values,
                &|| env.cache.catalog(env.reader),
                env.cache.identity(),
            )?
        }
        Function::ArrayCompare(op, all) => {
            use crate::types::DataType;
            let (value, array) = (arg(0)?, arg(1)?);
            let Value::Text(array) = array else {
                return Ok(Value::Null);
            };
            let element = match args.get(2).map(|a| eval(a, row, env)).transpose()? {
                Some(Value::Int64(oid)) if oid > 0 => DataType::from_oid(oid as u32, -1),
                _ => None,
            };
            // An untyped array literal takes the other operand's type; a text operand
            // compared with a typed array takes the array's.
            let element = element.unwrap_or_else(|| DataType::of(&value));
            let items = crate::types::array::items(&array, &element)?;
            // Over no elements ANY is false and ALL true, even for a NULL operand.
            if items.is_empty() {
                return Ok(Value::Bool(all));
            }
            let value = match value {
                Value::Text(_) if !element.is_string() && element != DataType::Unknown => {
                    types::cast(value, &element)?
                }
                v => v,
            };
            if value.is_null() {
                return Ok(Value::Null);
            }
            let rows: Vec<Vec<Value>> = items.into_iter().map(|v| vec![v]).collect();
            quantified(op, &value, &rows, all)?
        }
        Function::Admin(admin) => {
            let values = args
                .iter()
                .map(|a| eval(a, row, env))
                .collect::<Result<Vec<_>>>()?;
            admin.call(&values, &env.cache.dir, env.cache.in_block)?
        }
        Function::Builtin(name) => {
            if let Some((transaction, statement)) = env.cache.clock {
                if let Some(value) = crate::functions::pinned_clock(name, transaction, statement) {
                    return Ok(value);
                }
            }
            let values = args
                .iter()
                .map(|a| eval(a, row, env))
                .collect::<Result<Vec<_>>>()?;
            crate::functions::call(name, &values)?
        }
        Function::Length => match arg(0)? {
            Value::Null => Value::Null,
            Value::Text(s) => Value::Int32(s.chars().count() as i32),
            other => Value::Text(types::to_text(&other)),
        },
    })
}

/// SQL LIKE: `%` matches any run of characters, `_` one character, `\` escapes.
fn like(text: &str, pattern: &str) -> Result<bool> {
    let text: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => Token::Any,
            '_' => Token::One,
            '\\' => match chars.next() {
                Some(c) => Token::Char(c),
                None => {
                    return Err(errinput!(
                        InvalidParameterValue,
                        "LIKE pattern must not end with escape character"
                    ))
                }
            },
            c => Token::Char(c),
        });
    }
    // Dynamic programming over (pattern position, text position).
    let mut matches = vec![false; text.len() + 1];
    matches[0] = true;
    for token in &tokens {
        let mut next = vec![false; text.len() + 1];
        match token {
            Token::Any => {
                let mut reachable = false;
                for i in 0..=text.len() {
                    reachable |= matches[i];
                    next[i] = reachable;
                }
            }
            Token::One => {
                next[1..].copy_from_slice(&matches[..text.len()]);
            }
            Token::Char(c) => {
                for i in 0..text.len() {
                    next[i + 1] = matches[i] && text[i] == *c;
                }
            }
        }
        matches = next;
    }
    Ok(matches[text.len()])
}

enum Token {
    Any,
    One,
    Char(char),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{Reader, ScanRows, SubqueryCache};

    /// An empty database, for expressions that read nothing.
    struct Nothing;

    impl Reader for Nothing {
        fn lock_row(
            &self,
            _: &[u8],
            _: zizhu_txn::LockMode,
            _: zizhu_txn::WaitPolicy,
        ) -> Result<Option<zizhu_txn::RowLock>> {
            Ok(None)
        }

        fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>> {
            Ok(None)
        }

        fn get_advisory(&self, _: &[u8]) -> Result<Option<Vec<u8>>> {
            Ok(None)
        }

        fn scan(
            &self,
            _: zizhu_engine::KeyRange,
            _: zizhu_engine::Direction,
        ) -> Result<ScanRows<'_>> {
            Ok(Box::new(std::iter::empty()))
        }
    }

    #[test]
    fn like_patterns() {
        assert!(like("hello", "h%o").unwrap());
        assert!(like("hello", "_ello").unwrap());
        assert!(!like("hello", "_llo").unwrap());
        assert!(like("50%", "50\\%").unwrap());
        assert!(!like("500", "50\\%").unwrap());
        assert!(like("", "%").unwrap());
        assert!(like("abc", "%%c").unwrap());
        assert!(like("a\\b", "a\\\\b").unwrap());
        assert!(like("x", "\\").is_err());
    }

    #[test]
    fn three_valued_logic() {
        let t = || Box::new(Expr::Constant(Value::Bool(true)));
        let f = || Box::new(Expr::Constant(Value::Bool(false)));
        let n = || Box::new(Expr::Constant(Value::Null));
        assert_eq!(
            eval(
                &Expr::And(f(), n()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            eval(
                &Expr::And(n(), f()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Bool(false)
        );
        assert_eq!(
            eval(
                &Expr::And(t(), n()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Null
        );
        assert_eq!(
            eval(
                &Expr::Or(t(), n()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            eval(
                &Expr::Or(n(), t()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            eval(
                &Expr::Or(f(), n()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Null
        );
        assert_eq!(
            eval(
                &Expr::Not(n()),
                &[],
                &Env::new(&Nothing, &SubqueryCache::default())
            )
            .unwrap(),
            Value::Null
        );
    }

    /// The integer fast path gives what the general operators give, values and errors alike,
    /// at every width's edges, mixed widths and NULL, from columns and constants.
    #[test]
    fn integer_fast_path_agrees_with_the_operators() {
        let mut values = vec![Value::Null];
        for i in [i16::MIN, -7, -1, 0, 1, 3, i16::MAX] {
            values.push(Value::Int16(i));
        }
        for i in [i32::MIN, -1, 0, 2, 7, i32::MAX] {
            values.push(Value::Int32(i));
        }
        for i in [i64::MIN, -1, 0, 5, i64::MAX] {
            values.push(Value::Int64(i));
        }
        values.push(Value::Float64(2.5));
        let arith = [
            (
                ArithOp::Add,
                ops::add as fn(&Value, &Value) -> Result<Value>,
            ),
            (ArithOp::Sub, ops::sub),
            (ArithOp::Mul, ops::mul),
            (ArithOp::Div, ops::div),
            (ArithOp::Mod, ops::modulo),
        ];
        let compare = [
            CompareOp::Eq,
            CompareOp::NotEq,
            CompareOp::Lt,
            CompareOp::LtEq,
            CompareOp::Gt,
            CompareOp::GtEq,
        ];
        let cache = SubqueryCache::default();
        let env = Env::new(&Nothing, &cache);
        let column = |index| {
            Box::new(Expr::Column {
                index,
                name: crate::planner::ColumnName(format!("c{index}")),
            })
        };
        let show = |r: Result<Value>| match r {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error {:?}", e.code()),
        };
        for a in &values {
            for b in &values {
                let row = [a.clone(), b.clone()];
                for (op, general) in arith {
                    let fast = eval(&Expr::Arith(op, column(0), column(1)), &row, &env);
                    assert_eq!(show(fast), show(general(a, b)), "{a:?} {op:?} {b:?}");
                    let constants = Expr::Arith(
                        op,
                        Box::new(Expr::Constant(a.clone())),
                        Box::new(Expr::Constant(b.clone())),
                    );
                    assert_eq!(show(eval(&constants, &[], &env)), show(general(a, b)));
                }
                for op in compare {
                    let fast = eval(&Expr::Compare(op, column(0), column(1)), &row, &env);
                    let general =
                        compare_values(op, a, b).map(|r| r.map_or(Value::Null, Value::Bool));
                    assert_eq!(show(fast), show(general), "{a:?} {op:?} {b:?}");
                }
            }
        }
    }
}
