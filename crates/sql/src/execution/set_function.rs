//! The set-returning functions a select list may call ([`SetFunction`]): the rows one call
//! yields for its argument values.

use zizhu_types::Value;

use crate::planner::{JsonSet, SetFunction};
use crate::types::json::{self, Kind};
use crate::types::{array, DataType};
use crate::{errinput, Result};

/// The rows of one call, produced as they are read.
pub type SetRows = Box<dyn Iterator<Item = Vec<Value>>>;

/// The rows `function` yields for `args` (none for a NULL argument, as PostgreSQL's strict
/// set-returning functions yield none).
pub fn rows(function: &SetFunction, args: &[Value]) -> Result<SetRows> {
    if args.iter().any(Value::is_null) {
        return Ok(Box::new(std::iter::empty()));
    }
    let text = |v: &Value| crate::types::to_text(v);
    let rows: Vec<Vec<Value>> = match function {
        SetFunction::GenerateSeries => {
            let int = |v: &Value| match crate::types::cast(v.clone(), &DataType::Int64)? {
                Value::Int64(i) => Ok(i),
                _ => Err(errinput!(
                    InvalidParameterValue,
                    "generate_series needs integers"
                )),
            };
            let (start, stop) = (int(&args[0])?, int(&args[1])?);
            let step = args.get(2).map(int).transpose()?.unwrap_or(1);
            if step == 0 {
                return Err(errinput!(
                    InvalidParameterValue,
                    "step size cannot equal zero"
                ));
            }
            // bigint if any argument is, else integer (as the column type says).
            let wide = args.iter().any(|a| matches!(a, Value::Int64(_)));
            let mut next = Some(start);
            return Ok(Box::new(std::iter::from_fn(move || {
                let i = next.filter(|&i| (step > 0 && i <= stop) || (step < 0 && i >= stop))?;
                next = i.checked_add(step);
                Some(vec![if wide {
                    Value::Int64(i)
                } else {
                    Value::Int32(i as i32)
                }])
            })));
        }
        SetFunction::Unnest(element) => array::items(&text(&args[0]), element)?
            .into_iter()
            .map(|v| vec![v])
            .collect(),
        SetFunction::GenerateSubscripts => {
            let n = array::items(&text(&args[0]), &DataType::Text)?.len() as i32;
            // A vector's subscripts start at 0, an array's at 1.
            let lower = if crate::functions::is_vector(&args[0]) {
                0
            } else {
                1
            };
            let first = matches!(
                args.get(1),
                Some(Value::Int16(1) | Value::Int32(1) | Value::Int64(1))
            );
            if first {
                (lower..lower + n).map(|i| vec![Value::Int32(i)]).collect()
            } else {
                vec![]
            }
        }
        SetFunction::Json(what, jsonb) => json_rows(*what, *jsonb, &text(&args[0]))?,
        SetFunction::ExpandArray(element) => array::items(&text(&args[0]), element)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| vec![v, Value::Int32(i as i32 + 1)])
            .collect(),
    };
    Ok(Box::new(rows.into_iter()))
}

/// The rows of a JSON set-returning function over `source`.
fn json_rows(what: JsonSet, jsonb: bool, source: &str) -> Result<Vec<Vec<Value>>> {
    let mut doc = json::parse(source)?;
    if jsonb {
        doc = doc.into_jsonb()?;
    }
    let name = SetFunction::Json(what, jsonb).name();
    let value = |part: &json::Json, as_text: bool| {
        if as_text {
            json::part_as_text(source, part, jsonb).map_or(Value::Null, Value::Text)
        } else {
            Value::Text(json::part_text(source, part, jsonb))
        }
    };
    Ok(match (what, &doc.kind) {
        (JsonSet::ArrayElements(as_text), Kind::Array(items)) => {
            items.iter().map(|i| vec![value(i, as_text)]).collect()
        }
        (JsonSet::ArrayElements(_), Kind::Object(_)) => {
            return Err(errinput!(
                InvalidParameterValue,
                "cannot extract elements from an object"
            ))
        }
        (JsonSet::ArrayElements(_), _) => {
            return Err(errinput!(
                InvalidParameterValue,
                "cannot extract elements from a scalar"
            ))
        }
        (JsonSet::ObjectKeys, Kind::Object(members)) => members
            .iter()
            .map(|(k, _)| vec![Value::Text(k.clone())])
            .collect(),
        (JsonSet::Each(as_text), Kind::Object(members)) => members
            .iter()
            .map(|(k, v)| vec![Value::Text(k.clone()), value(v, as_text)])
            .collect(),
        (_, Kind::Array(_)) => {
            return Err(errinput!(
                InvalidParameterValue,
                "cannot call {name} on an array"
            ))
        }
        _ => {
            return Err(errinput!(
                InvalidParameterValue,
                "cannot call {name} on a scalar"
            ))
        }
    })
}
