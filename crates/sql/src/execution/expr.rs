//! Expression evaluation, with SQL's three-valued logic.

use std::cmp::Ordering;

use zizhu_types::Value;

use crate::planner::{ArithOp, CompareOp, Expr, Function};
use crate::types::{self, ops};
use crate::{errinput, errinternal, Result};

/// Evaluates `expr` over `row`.
pub fn eval(expr: &Expr, row: &[Value]) -> Result<Value> {
    Ok(match expr {
        Expr::Constant(v) => v.clone(),
        Expr::Column { index, .. } => row
            .get(*index)
            .cloned()
            .ok_or_else(|| errinternal!("column {index} of a {}-column row", row.len()))?,
        Expr::Not(e) => match eval(e, row)? {
            Value::Bool(b) => Value::Bool(!b),
            Value::Null => Value::Null,
            other => return Err(not_boolean("NOT", &other)),
        },
        Expr::Negate(e) => ops::neg(&eval(e, row)?)?,
        // AND and OR follow SQL's three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL
        // is TRUE. The right side is not evaluated when the left decides.
        Expr::And(a, b) => match boolean(eval(a, row)?, "AND")? {
            Some(false) => Value::Bool(false),
            left => match (left, boolean(eval(b, row)?, "AND")?) {
                (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => Value::Null,
            },
        },
        Expr::Or(a, b) => match boolean(eval(a, row)?, "OR")? {
            Some(true) => Value::Bool(true),
            left => match (left, boolean(eval(b, row)?, "OR")?) {
                (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => Value::Null,
            },
        },
        Expr::Compare(op, a, b) => {
            let (a, b) = (eval(a, row)?, eval(b, row)?);
            match op {
                CompareOp::Distinct | CompareOp::NotDistinct => {
                    let same = match (a.is_null(), b.is_null()) {
                        (true, true) => true,
                        (false, false) => ops::compare(&a, &b)? == Some(Ordering::Equal),
                        _ => false,
                    };
                    Value::Bool(same == (*op == CompareOp::NotDistinct))
                }
                _ => match ops::compare(&a, &b)? {
                    None => Value::Null,
                    Some(order) => Value::Bool(match op {
                        CompareOp::Eq => order.is_eq(),
                        CompareOp::NotEq => order.is_ne(),
                        CompareOp::Lt => order.is_lt(),
                        CompareOp::LtEq => order.is_le(),
                        CompareOp::Gt => order.is_gt(),
                        CompareOp::GtEq => order.is_ge(),
                        CompareOp::Distinct | CompareOp::NotDistinct => {
                            unreachable!("handled above")
                        }
                    }),
                },
            }
        }
        Expr::Arith(op, a, b) => {
            let (a, b) = (eval(a, row)?, eval(b, row)?);
            match op {
                ArithOp::Add => ops::add(&a, &b)?,
                ArithOp::Sub => ops::sub(&a, &b)?,
                ArithOp::Mul => ops::mul(&a, &b)?,
                ArithOp::Div => ops::div(&a, &b)?,
                ArithOp::Mod => ops::modulo(&a, &b)?,
            }
        }
        Expr::Concat(a, b) => ops::concat(&eval(a, row)?, &eval(b, row)?)?,
        Expr::IsNull(e) => Value::Bool(eval(e, row)?.is_null()),
        Expr::Like {
            expr,
            pattern,
            case_insensitive,
        } => match (eval(expr, row)?, eval(pattern, row)?) {
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
        Expr::Cast(e, ty) => types::cast(eval(e, row)?, ty)?,
        // x IN (a, b) is x = a OR x = b: NULL if no match and any comparison was NULL.
        Expr::InList(e, list) => {
            let value = eval(e, row)?;
            if value.is_null() {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                match ops::compare(&value, &eval(item, row)?)? {
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
                if boolean(eval(when, row)?, "CASE")? == Some(true) {
                    return eval(then, row);
                }
            }
            match otherwise {
                Some(e) => eval(e, row)?,
                None => Value::Null,
            }
        }
        Expr::Function(f, args) => function(*f, args, row)?,
    })
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

fn function(f: Function, args: &[Expr], row: &[Value]) -> Result<Value> {
    let arg = |i: usize| eval(&args[i], row);
    Ok(match f {
        Function::Coalesce => {
            for a in args {
                let v = eval(a, row)?;
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
        Function::Lower | Function::Upper | Function::Length => match arg(0)? {
            Value::Null => Value::Null,
            Value::Text(s) => match f {
                Function::Lower => Value::Text(s.to_lowercase()),
                Function::Upper => Value::Text(s.to_uppercase()),
                _ => Value::Int32(s.chars().count() as i32),
            },
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
        assert_eq!(eval(&Expr::And(f(), n()), &[]).unwrap(), Value::Bool(false));
        assert_eq!(eval(&Expr::And(n(), f()), &[]).unwrap(), Value::Bool(false));
        assert_eq!(eval(&Expr::And(t(), n()), &[]).unwrap(), Value::Null);
        assert_eq!(eval(&Expr::Or(t(), n()), &[]).unwrap(), Value::Bool(true));
        assert_eq!(eval(&Expr::Or(n(), t()), &[]).unwrap(), Value::Bool(true));
        assert_eq!(eval(&Expr::Or(f(), n()), &[]).unwrap(), Value::Null);
        assert_eq!(eval(&Expr::Not(n()), &[]).unwrap(), Value::Null);
    }
}
