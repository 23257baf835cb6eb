//! The set-returning functions a select list may call ([`SetFunction`]): the rows one call
//! yields for its argument values.

use zizhu_types::Value;

use crate::planner::SetFunction;
use crate::types::{array, DataType};
use crate::{errinput, Result};

/// The rows `function` yields for `args` (none for a NULL argument, as PostgreSQL's strict
/// set-returning functions yield none).
pub fn rows(function: &SetFunction, args: &[Value]) -> Result<Vec<Vec<Value>>> {
    if args.iter().any(Value::is_null) {
        return Ok(vec![]);
    }
    let text = |v: &Value| crate::types::to_text(v);
    Ok(match function {
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
            let like = |i: i64| match &args[0] {
                Value::Int16(_) | Value::Int32(_) => Value::Int32(i as i32),
                _ => Value::Int64(i),
            };
            let mut out = Vec::new();
            let mut i = start;
            while (step > 0 && i <= stop) || (step < 0 && i >= stop) {
                out.push(vec![like(i)]);
                match i.checked_add(step) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            out
        }
        SetFunction::Unnest(element) => array::items(&text(&args[0]), element)?
            .into_iter()
            .map(|v| vec![v])
            .collect(),
        SetFunction::GenerateSubscripts => {
            let n = array::items(&text(&args[0]), &DataType::Text)?.len();
            let first = matches!(
                args.get(1),
                Some(Value::Int16(1) | Value::Int32(1) | Value::Int64(1))
            );
            if first {
                (1..=n as i32).map(|i| vec![Value::Int32(i)]).collect()
            } else {
                vec![]
            }
        }
        SetFunction::ExpandArray(element) => array::items(&text(&args[0]), element)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| vec![v, Value::Int32(i as i32 + 1)])
            .collect(),
    })
}
