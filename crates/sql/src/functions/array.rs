//! Array functions over arrays in their text form ([`crate::types::array`]): the ones the
//! system catalogs' clients call (`array_to_string`, `array_upper`, subscripts, `ARRAY[...]`).
//! Elements are read as text; the binder casts a subscript's result to the element type.

use zizhu_types::Value;

use crate::error::Result;
use crate::types::{array, to_text, DataType};

fn elements(v: &Value) -> Result<Vec<Value>> {
    array::items(&to_text(v), &DataType::Text)
}

/// Whether a value is a vector's text (`1 2`) rather than an array's (`{1,2}`): the two
/// carriers differ in their braces.
pub(crate) fn is_vector(v: &Value) -> bool {
    matches!(v, Value::Text(t) if !t.trim_start().starts_with('{'))
}

/// Evaluates array function `name`, or `None` if it is not one. `array` is not strict: it is
/// `ARRAY[...]`, whose elements may be NULL.
pub fn call(name: &str, args: &[Value]) -> Result<Option<Value>> {
    let int = |v: &Value| match v {
        Value::Int16(i) => Some(*i as i64),
        Value::Int32(i) => Some(*i as i64),
        Value::Int64(i) => Some(*i),
        _ => None,
    };
    Ok(Some(match name {
        "array" => Value::Text(array::format(args)),
        "array_element" => {
            let items = elements(&args[0])?;
            match int(&args[1]) {
                Some(i) if i >= 1 && (i as usize) <= items.len() => items[i as usize - 1].clone(),
                _ => Value::Null,
            }
        }
        "array_to_string" => {
            let separator = to_text(&args[1]);
            let null = args.get(2).filter(|v| !v.is_null()).map(to_text);
            let parts: Vec<String> = elements(&args[0])?
                .iter()
                .filter_map(|e| match e {
                    Value::Null => null.clone(),
                    e => Some(to_text(e)),
                })
                .collect();
            Value::Text(parts.join(&separator))
        }
        "array_upper" | "array_length" | "array_lower" | "cardinality" => {
            let n = elements(&args[0])?.len() as i32;
            // A vector (`int2vector`, no braces) counts its positions from 0.
            let lower = if is_vector(&args[0]) { 0 } else { 1 };
            let first_dimension = name == "cardinality" || int(&args[1]) == Some(1);
            match (name, n, first_dimension) {
                ("cardinality", n, _) => Value::Int32(n),
                (_, 0, _) | (_, _, false) => Value::Null,
                ("array_lower", _, _) => Value::Int32(lower),
                ("array_upper", n, _) => Value::Int32(lower + n - 1),
                (_, n, _) => Value::Int32(n),
            }
        }
        "row" => Value::Text(array::format_record(args)),
        "record_field" => {
            let index = int(&args[1]).unwrap_or(0).max(1) as usize - 1;
            array::record_field(&to_text(&args[0]), index)?.map_or(Value::Null, Value::Text)
        }
        "quote_ident" => Value::Text(crate::system::oids::quote_ident(&to_text(&args[0]))),
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn array_functions_match_postgresql() {
        // SELECT array_to_string('{a,NULL,b}'::text[], ','), ... on PostgreSQL 15
        let call = |name: &str, args: &[Value]| call(name, args).unwrap().unwrap();
        assert_eq!(
            call("array_to_string", &[text("{a,NULL,b}"), text(",")]),
            text("a,b")
        );
        assert_eq!(
            call(
                "array_to_string",
                &[text("{a,NULL,b}"), text(","), text("*")]
            ),
            text("a,*,b")
        );
        assert_eq!(
            call("array_upper", &[text("{4,5,6}"), Value::Int32(1)]),
            Value::Int32(3)
        );
        assert_eq!(
            call("array_upper", &[text("{}"), Value::Int32(1)]),
            Value::Null
        );
        assert_eq!(
            call("array_element", &[text("{4,5,6}"), Value::Int32(2)]),
            text("5")
        );
        assert_eq!(
            call("array_element", &[text("{4,5,6}"), Value::Int32(9)]),
            Value::Null
        );
        assert_eq!(
            call("array", &[Value::Int32(1), Value::Null]),
            text("{1,NULL}")
        );
        assert_eq!(call("quote_ident", &[text("Mixed")]), text("\"Mixed\""));
    }
}
