//! The `json` and `jsonb` functions and the functions behind their operators (`->`, `->>`,
//! `#>`, `#>>`, `@>`, `<@`, `?`, `?|`, `?&`, `||`, `-`), named as PostgreSQL names them
//! (`jsonb_object_field` is `->` on `jsonb`). Values are the types' text forms
//! ([`crate::types::json`]); a name's `json_` or `jsonb_` prefix says which type the
//! document is and the result is.
//!
//! The constructors (`json_build_object`, `to_json`, ...) take arguments that are already
//! JSON texts: the binder wraps each argument that is not `json` or `jsonb` in
//! `to_json`/`to_jsonb`, where the argument's SQL type is known, so a `json` argument is
//! embedded and a `text` one quoted, as in PostgreSQL.

use zizhu_types::Value;

use super::{int_arg, text_arg};
use crate::types::json::{self, Json, Kind};
use crate::types::{to_text, DataType};
use crate::{errinput, Result};

/// The functions here: name, fewest and most arguments.
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("json_object_field", 2, 2),
    ("jsonb_object_field", 2, 2),
    ("json_object_field_text", 2, 2),
    ("jsonb_object_field_text", 2, 2),
    ("json_array_element", 2, 2),
    ("jsonb_array_element", 2, 2),
    ("json_array_element_text", 2, 2),
    ("jsonb_array_element_text", 2, 2),
    ("json_extract_path", 1, usize::MAX),
    ("jsonb_extract_path", 1, usize::MAX),
    ("json_extract_path_text", 1, usize::MAX),
    ("jsonb_extract_path_text", 1, usize::MAX),
    ("json_extract_path_op", 2, 2),
    ("jsonb_extract_path_op", 2, 2),
    ("json_extract_path_op_text", 2, 2),
    ("jsonb_extract_path_op_text", 2, 2),
    ("jsonb_contains", 2, 2),
    ("jsonb_contained", 2, 2),
    ("jsonb_exists", 2, 2),
    ("jsonb_exists_any", 2, 2),
    ("jsonb_exists_all", 2, 2),
    ("jsonb_concat", 2, 2),
    ("jsonb_delete", 2, 2),
    ("jsonb_delete_path", 2, 2),
    ("json_typeof", 1, 1),
    ("jsonb_typeof", 1, 1),
    ("json_array_length", 1, 1),
    ("jsonb_array_length", 1, 1),
    ("to_json", 1, 1),
    ("to_jsonb", 1, 1),
    ("json_build_object", 0, usize::MAX),
    ("jsonb_build_object", 0, usize::MAX),
    ("json_build_array", 0, usize::MAX),
    ("jsonb_build_array", 0, usize::MAX),
    ("jsonb_pretty", 1, 1),
    ("jsonb_strip_nulls", 1, 1),
    ("json_strip_nulls", 1, 1),
];

/// Functions that take NULL arguments (the constructors make them JSON `null`s).
pub fn is_strict(name: &str) -> bool {
    !matches!(
        name,
        "json_build_object" | "jsonb_build_object" | "json_build_array" | "jsonb_build_array"
    )
}

/// The constructors whose arguments the binder turns into JSON texts (for `*_build_object`,
/// only the values, at odd positions).
pub fn takes_json_arguments(name: &str) -> Option<bool> {
    match name {
        "json_build_object" | "jsonb_build_object" => Some(true),
        "json_build_array" | "jsonb_build_array" => Some(false),
        _ => None,
    }
}

/// The result type.
pub fn return_type(name: &str) -> Option<DataType> {
    if !FUNCTIONS.iter().any(|(n, _, _)| *n == name) {
        return None;
    }
    Some(match name {
        "jsonb_contains" | "jsonb_contained" | "jsonb_exists" | "jsonb_exists_any"
        | "jsonb_exists_all" => DataType::Bool,
        "json_array_length" | "jsonb_array_length" => DataType::Int32,
        "json_typeof" | "jsonb_typeof" | "jsonb_pretty" => DataType::Text,
        n if n.ends_with("_text") => DataType::Text,
        n if n.starts_with("jsonb") || n == "to_jsonb" => DataType::Jsonb,
        _ => DataType::Json,
    })
}

fn jsonb(value: &Value) -> Result<Json> {
    json::parse(&text_arg(value)?)?.into_jsonb()
}

/// A `text[]` argument's elements.
fn text_array(value: &Value) -> Result<Vec<String>> {
    crate::types::array::items(&text_arg(value)?, &DataType::Text)?
        .into_iter()
        .map(|v| text_arg(&v))
        .collect()
}

fn out(part: Option<String>) -> Value {
    part.map_or(Value::Null, Value::Text)
}

/// Calls `name` if it is one of these functions.
pub fn call(name: &str, args: &[Value]) -> Result<Option<Value>> {
    let is_jsonb = name.starts_with("jsonb") || name == "to_jsonb";
    let as_text = name.ends_with("_text");
    // Extraction: the part's text (->), or its value as text (->>).
    let extract = |source: &str, found: Option<&Json>| -> Value {
        match found {
            None => Value::Null,
            Some(part) if as_text => out(json::part_as_text(source, part, is_jsonb)),
            Some(part) => Value::Text(json::part_text(source, part, is_jsonb)),
        }
    };
    Ok(Some(match name {
        "json_object_field"
        | "jsonb_object_field"
        | "json_object_field_text"
        | "jsonb_object_field_text" => {
            let source = text_arg(&args[0])?;
            let d = json::parse(&source)?;
            extract(&source, d.field(&text_arg(&args[1])?))
        }
        "json_array_element"
        | "jsonb_array_element"
        | "json_array_element_text"
        | "jsonb_array_element_text" => {
            let source = text_arg(&args[0])?;
            let d = json::parse(&source)?;
            extract(&source, d.element(int_arg(&args[1])?))
        }
        "json_extract_path"
        | "jsonb_extract_path"
        | "json_extract_path_text"
        | "jsonb_extract_path_text" => {
            let source = text_arg(&args[0])?;
            let d = json::parse(&source)?;
            let path: Vec<String> = args[1..].iter().map(text_arg).collect::<Result<_>>()?;
            extract(&source, d.path(&path))
        }
        "json_extract_path_op"
        | "jsonb_extract_path_op"
        | "json_extract_path_op_text"
        | "jsonb_extract_path_op_text" => {
            let source = text_arg(&args[0])?;
            let d = json::parse(&source)?;
            extract(&source, d.path(&text_array(&args[1])?))
        }
        "jsonb_contains" => Value::Bool(jsonb(&args[0])?.contains(&jsonb(&args[1])?)),
        "jsonb_contained" => Value::Bool(jsonb(&args[1])?.contains(&jsonb(&args[0])?)),
        "jsonb_exists" => Value::Bool(jsonb(&args[0])?.has_key(&text_arg(&args[1])?)),
        "jsonb_exists_any" | "jsonb_exists_all" => {
            let d = jsonb(&args[0])?;
            let keys = text_array(&args[1])?;
            Value::Bool(if name == "jsonb_exists_any" {
                keys.iter().any(|k| d.has_key(k))
            } else {
                keys.iter().all(|k| d.has_key(k))
            })
        }
        "jsonb_concat" => {
            let (a, b) = (jsonb(&args[0])?, jsonb(&args[1])?);
            let kind = match (a.kind, b.kind) {
                (Kind::Object(mut x), Kind::Object(y)) => {
                    x.extend(y);
                    Kind::Object(x)
                }
                (Kind::Array(mut x), Kind::Array(y)) => {
                    x.extend(y);
                    Kind::Array(x)
                }
                (Kind::Array(mut x), other) => {
                    x.push(Json::new(other));
                    Kind::Array(x)
                }
                (other, Kind::Array(y)) => {
                    let mut x = vec![Json::new(other)];
                    x.extend(y);
                    Kind::Array(x)
                }
                (x, y) => Kind::Array(vec![Json::new(x), Json::new(y)]),
            };
            Value::Text(Json::new(kind).into_jsonb()?.to_jsonb_text())
        }
        "jsonb_delete" => {
            let d = jsonb(&args[0])?;
            let kind = match (d.kind, &args[1]) {
                (Kind::Object(members), key) => {
                    let key = text_arg(key)?;
                    Kind::Object(members.into_iter().filter(|(k, _)| *k != key).collect())
                }
                (Kind::Array(items), Value::Int16(_) | Value::Int32(_) | Value::Int64(_)) => {
                    let i = int_arg(&args[1])?;
                    let n = items.len() as i64;
                    let at = if i < 0 { n + i } else { i };
                    Kind::Array(
                        items
                            .into_iter()
                            .enumerate()
                            .filter(|(j, _)| *j as i64 != at)
                            .map(|(_, v)| v)
                            .collect(),
                    )
                }
                (Kind::Array(items), key) => {
                    let key = Kind::String(text_arg(key)?);
                    Kind::Array(items.into_iter().filter(|v| v.kind != key).collect())
                }
                _ => {
                    return Err(errinput!(
                        InvalidParameterValue,
                        "cannot delete from scalar"
                    ))
                }
            };
            Value::Text(Json::new(kind).to_jsonb_text())
        }
        "jsonb_delete_path" => {
            let mut d = jsonb(&args[0])?;
            let path = text_array(&args[1])?;
            delete_path(&mut d, &path);
            Value::Text(d.to_jsonb_text())
        }
        "json_typeof" | "jsonb_typeof" => {
            Value::Text(json::parse(&text_arg(&args[0])?)?.type_name().into())
        }
        "json_array_length" | "jsonb_array_length" => {
            match json::parse(&text_arg(&args[0])?)?.kind {
                Kind::Array(items) => Value::Int32(items.len() as i32),
                Kind::Object(_) => {
                    return Err(errinput!(
                        InvalidParameterValue,
                        "cannot get array length of a non-array"
                    ))
                }
                _ => {
                    return Err(errinput!(
                        InvalidParameterValue,
                        "cannot get array length of a scalar"
                    ))
                }
            }
        }
        "to_json" | "to_jsonb" => {
            let text = scalar_to_json(&args[0]);
            Value::Text(if is_jsonb {
                json::jsonb_in(&text)?
            } else {
                text
            })
        }
        "json_build_object" | "jsonb_build_object" => {
            if !args.len().is_multiple_of(2) {
                return Err(errinput!(
                    InvalidParameterValue,
                    "argument list must have even number of elements"
                )
                .with_hint(format!(
                    "The arguments of {name} must consist of alternating keys and values."
                )));
            }
            let mut parts = Vec::new();
            for (i, pair) in args.chunks(2).enumerate() {
                if pair[0].is_null() {
                    return Err(errinput!(
                        NullValueNotAllowed,
                        "null value not allowed for object key"
                    )
                    .with_detail(format!("Key argument {} is null.", i * 2 + 1)));
                }
                parts.push(format!(
                    "{} : {}",
                    json::quote(&to_text(&pair[0])),
                    raw(&pair[1])
                ));
            }
            let text = format!("{{{}}}", parts.join(", "));
            Value::Text(if is_jsonb {
                json::jsonb_in(&text)?
            } else {
                text
            })
        }
        "json_build_array" | "jsonb_build_array" => {
            let parts: Vec<String> = args.iter().map(raw).collect();
            let text = format!("[{}]", parts.join(", "));
            Value::Text(if is_jsonb {
                json::jsonb_in(&text)?
            } else {
                text
            })
        }
        "jsonb_pretty" => Value::Text(pretty(&jsonb(&args[0])?, 0)),
        "jsonb_strip_nulls" | "json_strip_nulls" => {
            let d = json::parse(&text_arg(&args[0])?)?;
            let stripped = strip_nulls(d);
            Value::Text(if is_jsonb {
                stripped.into_jsonb()?.to_jsonb_text()
            } else {
                compact(&stripped)
            })
        }
        _ => return Ok(None),
    }))
}

/// An argument that is already a JSON text (or SQL NULL, which is JSON `null`).
fn raw(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        v => to_text(v),
    }
}

/// `to_json` of a value that is not `json`: numbers and booleans as they are, timestamps in
/// ISO 8601 as PostgreSQL writes them, anything else as a string.
pub fn scalar_to_json(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int16(_) | Value::Int32(_) | Value::Int64(_) | Value::Numeric(_) => {
            let t = to_text(value);
            if t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.'))
            {
                t
            } else {
                json::quote(&t) // NaN and infinities are not JSON numbers
            }
        }
        Value::Float32(_) | Value::Float64(_) => {
            let t = to_text(value);
            if t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | '+'))
            {
                t
            } else {
                json::quote(&t)
            }
        }
        Value::Timestamp(_) => json::quote(&to_text(value).replacen(' ', "T", 1)),
        Value::TimestampTz(_) => {
            let mut t = to_text(value).replacen(' ', "T", 1);
            // "+00" is written "+00:00" in JSON.
            let bytes = t.as_bytes();
            if bytes.len() > 3 && matches!(bytes[bytes.len() - 3], b'+' | b'-') {
                t.push_str(":00");
            }
            json::quote(&t)
        }
        v => json::quote(&to_text(v)),
    }
}

fn delete_path(d: &mut Json, path: &[String]) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut at = d;
    for step in init {
        let next = match &mut at.kind {
            Kind::Object(members) => members.iter_mut().find(|(k, _)| k == step).map(|(_, v)| v),
            Kind::Array(items) => step
                .parse::<i64>()
                .ok()
                .map(|i| if i < 0 { items.len() as i64 + i } else { i })
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => at = n,
            None => return,
        }
    }
    match &mut at.kind {
        Kind::Object(members) => members.retain(|(k, _)| k != last),
        Kind::Array(items) => {
            if let Ok(i) = last.parse::<i64>() {
                let n = items.len() as i64;
                let i = if i < 0 { n + i } else { i };
                if (0..n).contains(&i) {
                    items.remove(i as usize);
                }
            }
        }
        _ => {}
    }
}

fn strip_nulls(d: Json) -> Json {
    Json::new(match d.kind {
        Kind::Object(members) => Kind::Object(
            members
                .into_iter()
                .filter(|(_, v)| v.kind != Kind::Null)
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Kind::Array(items) => Kind::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    })
}

/// `json_strip_nulls`'s output: no whitespace, as PostgreSQL's json output functions write.
fn compact(d: &Json) -> String {
    match &d.kind {
        Kind::Array(items) => format!(
            "[{}]",
            items.iter().map(compact).collect::<Vec<_>>().join(",")
        ),
        Kind::Object(members) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("{}:{}", json::quote(k), compact(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => d.to_jsonb_text(),
    }
}

/// `jsonb_pretty`: four-space indentation, one item per line.
fn pretty(d: &Json, level: usize) -> String {
    let pad = |n: usize| "    ".repeat(n);
    match &d.kind {
        Kind::Array(items) if items.is_empty() => format!("[\n{}]", pad(level)),
        Kind::Object(members) if members.is_empty() => format!("{{\n{}}}", pad(level)),
        Kind::Array(items) => format!(
            "[\n{}\n{}]",
            items
                .iter()
                .map(|i| format!("{}{}", pad(level + 1), pretty(i, level + 1)))
                .collect::<Vec<_>>()
                .join(",\n"),
            pad(level)
        ),
        Kind::Object(members) => format!(
            "{{\n{}\n{}}}",
            members
                .iter()
                .map(|(k, v)| format!(
                    "{}{}: {}",
                    pad(level + 1),
                    json::quote(k),
                    pretty(v, level + 1)
                ))
                .collect::<Vec<_>>()
                .join(",\n"),
            pad(level)
        ),
        _ => d.to_jsonb_text(),
    }
}
