//! Selectivity: the estimated fraction of a table's rows a filter keeps, from the table's
//! statistics ([`crate::catalog::stats`]), as PostgreSQL's `clauselist_selectivity` estimates
//! it in the common cases:
//! - `col = constant` takes the constant's frequency among the most common values, or else
//!   an even share of the rest (1/distinct without statistics of values);
//! - `col < constant` (and `<=`, `>`, `>=`) adds up the common values on its side and the
//!   histogram's share below or above the constant, interpolated within its bucket;
//! - two bounds on one column (`col > a AND col < b`, as `BETWEEN` is bound) are one range,
//!   `P(above a) + P(below b) - 1`, not the product of two independent conditions;
//! - `IN (constants)` adds up each constant's share, `IS NULL` is the null fraction, `AND`
//!   multiplies, `OR` and `NOT` combine as probabilities;
//! - anything else (parameters, expressions, no statistics) keeps [`UNKNOWN`].

use crate::catalog::stats::ColumnStats;
use crate::catalog::Table;
use crate::planner::plan::{CompareOp, Expr};
use zizhu_types::Value;

/// Selectivity of a condition nothing is known about (PostgreSQL's default for ranges).
pub(super) const UNKNOWN: f64 = 1.0 / 3.0;

/// PostgreSQL's default selectivity of `col = something` without statistics.
const DEFAULT_EQUAL: f64 = 0.005;

/// The distinct values of column `index` of `table`, from its statistics.
pub(super) fn distinct(table: &Table, index: usize) -> Option<f64> {
    let d = column_stats(table, index)?.distinct;
    (d > 0.0).then_some(d)
}

fn column_stats(table: &Table, index: usize) -> Option<&ColumnStats> {
    let name = &table.columns.get(index)?.name;
    table.stats.as_ref()?.column(name)
}

/// A comparison of a column with a constant, the column on the left: `(column, op, value)`.
fn column_vs_constant(expr: &Expr) -> Option<(usize, CompareOp, &Value)> {
    let Expr::Compare(op, a, b) = expr else {
        return None;
    };
    match (a.as_ref(), b.as_ref()) {
        (Expr::Column { index, .. }, Expr::Constant(v)) => Some((*index, *op, v)),
        (Expr::Constant(v), Expr::Column { index, .. }) => {
            let flipped = match op {
                CompareOp::Lt => CompareOp::Gt,
                CompareOp::LtEq => CompareOp::GtEq,
                CompareOp::Gt => CompareOp::Lt,
                CompareOp::GtEq => CompareOp::LtEq,
                op => *op,
            };
            Some((*index, flipped, v))
        }
        _ => None,
    }
}

/// The fraction of rows where `column op value` holds, for a range operator.
fn range_fraction(stats: &ColumnStats, op: CompareOp, value: &Value) -> Option<f64> {
    let non_null = 1.0 - stats.null_fraction;
    Some(
        match op {
            CompareOp::Lt => stats.below_fraction(value, false)?,
            CompareOp::LtEq => stats.below_fraction(value, true)?,
            CompareOp::Gt => non_null - stats.below_fraction(value, true)?,
            CompareOp::GtEq => non_null - stats.below_fraction(value, false)?,
            _ => return None,
        }
        .clamp(0.0, 1.0),
    )
}

/// `a AND b` as one range of one column, if it is a lower and an upper bound of it.
fn range_pair(a: &Expr, b: &Expr, table: &Table) -> Option<f64> {
    let (ca, op_a, va) = column_vs_constant(a)?;
    let (cb, op_b, vb) = column_vs_constant(b)?;
    let lower = |op| matches!(op, CompareOp::Gt | CompareOp::GtEq);
    let upper = |op| matches!(op, CompareOp::Lt | CompareOp::LtEq);
    if ca != cb || !((lower(op_a) && upper(op_b)) || (upper(op_a) && lower(op_b))) {
        return None;
    }
    let stats = column_stats(table, ca)?;
    let both = range_fraction(stats, op_a, va)? + range_fraction(stats, op_b, vb)? - 1.0;
    // Each side excluded the NULLs, so they were subtracted twice.
    let range = both + stats.null_fraction;
    Some(if range > 0.0 { range.min(1.0) } else { 1e-4 })
}

/// The fraction of `table`'s rows that `filter` (over its row) keeps.
pub(super) fn filter_selectivity(filter: &Expr, table: &Table) -> f64 {
    let column = |e: &Expr| match e {
        Expr::Column { index, .. } => Some(*index),
        _ => None,
    };
    let equal = |c: usize, value: Option<&Value>| match (column_stats(table, c), value) {
        (Some(stats), Some(value)) => stats.equal_fraction(value),
        _ => distinct(table, c).map_or(DEFAULT_EQUAL, |d| 1.0 / d),
    };
    let null_fraction = |c: usize| column_stats(table, c).map_or(0.0, |s| s.null_fraction);
    match filter {
        Expr::And(a, b) => range_pair(a, b, table)
            .unwrap_or_else(|| filter_selectivity(a, table) * filter_selectivity(b, table)),
        Expr::Or(a, b) => {
            let (x, y) = (filter_selectivity(a, table), filter_selectivity(b, table));
            x + y - x * y
        }
        Expr::Not(a) => 1.0 - filter_selectivity(a, table),
        Expr::Compare(..) => {
            if let Some((c, op, value)) = column_vs_constant(filter) {
                return match op {
                    CompareOp::Eq => equal(c, Some(value)),
                    CompareOp::NotEq => (1.0 - equal(c, Some(value)) - null_fraction(c)).max(0.0),
                    _ => column_stats(table, c)
                        .and_then(|s| range_fraction(s, op, value))
                        .unwrap_or(UNKNOWN),
                };
            }
            let Expr::Compare(op, a, b) = filter else {
                return UNKNOWN;
            };
            match (column(a), column(b), op) {
                (Some(c), None, CompareOp::Eq) | (None, Some(c), CompareOp::Eq) => equal(c, None),
                (Some(c), None, CompareOp::NotEq) | (None, Some(c), CompareOp::NotEq) => {
                    1.0 - equal(c, None)
                }
                _ => UNKNOWN,
            }
        }
        Expr::InList(a, list) => match column(a) {
            Some(c) => list
                .iter()
                .map(|item| match item {
                    Expr::Constant(v) => equal(c, Some(v)),
                    _ => equal(c, None),
                })
                .sum::<f64>()
                .min(1.0),
            None => UNKNOWN,
        },
        Expr::IsNull(a) => column(a).map_or(DEFAULT_EQUAL, |c| {
            column_stats(table, c).map_or(DEFAULT_EQUAL, |s| s.null_fraction)
        }),
        Expr::Constant(Value::Bool(true)) => 1.0,
        _ => UNKNOWN,
    }
}
