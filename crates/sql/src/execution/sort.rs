//! Sorting: ORDER BY (in memory, or an external merge sort past `work_mem`), and top-N for
//! ORDER BY ... LIMIT.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use zizhu_types::Value;

use super::query::Rows;
use super::spill::Sorter;
use super::{eval, Env};
use crate::planner::SortKey;
use crate::types::ops;
use crate::Result;

/// Sorts a stream of rows by `keys` within the statement's `work_mem`, spilling sorted runs to
/// temporary files and merging them when the input is larger.
pub(super) fn sort_rows<'a>(
    input: Rows<'a>,
    keys: &'a [SortKey],
    env: &'a Env<'a>,
) -> Result<Rows<'a>> {
    // A comparison error (values that cannot be compared) is kept and reported in place of
    // the next row.
    let error: Rc<RefCell<Option<crate::Error>>> = Rc::default();
    let cell = error.clone();
    let compare = move |a: &[Value], b: &[Value]| {
        let mut error = cell.borrow_mut();
        let mut slot = error.take();
        let order = compare_keys(a, b, keys, &mut slot);
        *error = slot;
        order
    };
    let mut sorter = Sorter::new(env.cache.budget.clone(), Box::new(compare));
    for row in input {
        let row = row?;
        let k = keys
            .iter()
            .map(|k| eval(&k.expr, &row, env))
            .collect::<Result<Vec<_>>>()?;
        sorter.push(k, row)?;
    }
    let sorted = sorter.finish()?;
    if let Some(e) = error.borrow_mut().take() {
        return Err(e);
    }
    Ok(Box::new(sorted.map(move |record| {
        if let Some(e) = error.borrow_mut().take() {
            return Err(e);
        }
        record.map(|(_, row)| row)
    })))
}

/// Sorts rows by `keys`, NULLs placed as each key says.
pub(super) fn sort(
    rows: Vec<Vec<Value>>,
    keys: &[SortKey],
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    sort_top(rows.into_iter().map(Ok), keys, None, env)
}

/// Sorts rows by `keys` (stably). With `limit`, only the first `limit` rows are wanted (top-N
/// for `ORDER BY ... LIMIT`): the rows are cut back to the best `limit` whenever twice that
/// many are held, so memory stays proportional to the limit, not the input.
pub(super) fn sort_top(
    rows: impl Iterator<Item = Result<Vec<Value>>>,
    keys: &[SortKey],
    limit: Option<usize>,
    env: &Env<'_>,
) -> Result<Vec<Vec<Value>>> {
    let mut error = None;
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    let mut order = |keyed: &mut Vec<(Vec<Value>, Vec<Value>)>| {
        keyed.sort_by(|(a, _), (b, _)| compare_keys(a, b, keys, &mut error));
    };
    for row in rows {
        let row = row?;
        let k = keys
            .iter()
            .map(|k| eval(&k.expr, &row, env))
            .collect::<Result<Vec<_>>>()?;
        keyed.push((k, row));
        if let Some(limit) = limit {
            if keyed.len() >= 2 * limit.max(512) {
                order(&mut keyed);
                keyed.truncate(limit);
            }
        }
    }
    order(&mut keyed);
    if let Some(limit) = limit {
        keyed.truncate(limit);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(keyed.into_iter().map(|(_, row)| row).collect()),
    }
}

/// Orders two rows' sort-key values; the first comparison error is kept in `error`.
fn compare_keys(
    a: &[Value],
    b: &[Value],
    keys: &[SortKey],
    error: &mut Option<crate::Error>,
) -> Ordering {
    for (i, key) in keys.iter().enumerate() {
        let order = match (a[i].is_null(), b[i].is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if key.nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if key.nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let order = ops::compare(&a[i], &b[i]).unwrap_or_else(|e| {
                    error.get_or_insert(e);
                    None
                });
                let order = order.unwrap_or(Ordering::Equal);
                if key.descending {
                    order.reverse()
                } else {
                    order
                }
            }
        };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}
