//! Grouping and aggregate functions.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

use zizhu_keycode::KeyColumn;
use zizhu_types::{BigDecimal, Numeric, Value};

use super::expr::operand;
use super::query::{passes, Rows};
use super::spill::{row_size, Partitions, Sorter, SpilledRows, MAX_LEVEL};
use super::{eval, Env};
use crate::planner::{Aggregate, Expr, Statistic};
use crate::types::{ops, DataType};
use crate::{errinput, errinternal, types, Result};

/// An aggregate's running state.
pub(super) enum Accumulator {
    Count(i64),
    Sum(Option<Value>),
    Avg(Option<Value>, i64),
    /// The best value so far; `min` chooses the direction.
    Extreme {
        best: Option<Value>,
        min: bool,
    },
    /// `string_agg`'s text so far.
    Text(Option<String>),
    /// `array_agg`'s values so far.
    Array(Vec<Value>),
    /// `json_agg`'s (`jsonb_agg`'s if true) JSON texts so far.
    Json(Vec<Value>, bool),
    /// An aggregate of ordered input: the inputs with their sort keys, fed to the inner
    /// accumulator in key order when the group is finished.
    Ordered(Box<Accumulator>, Vec<(Vec<u8>, Value, Option<Value>)>),
    /// `bool_and` (`all`) or `bool_or`.
    Bool {
        value: Option<bool>,
        all: bool,
    },
    Statistic(Statistic, Spread),
}

/// Running sums for variance and standard deviation, computed as PostgreSQL does: exactly
/// over numerics (N, Σx, Σx²), and with the Youngs-Cramer update over floats.
pub(super) enum Spread {
    Empty,
    Exact {
        n: i64,
        sum: BigDecimal,
        squares: BigDecimal,
    },
    /// Any numeric NaN or infinity makes the result NaN.
    NotFinite(i64),
    Float {
        n: f64,
        sum: f64,
        squares: f64,
    },
}

impl Spread {
    fn add(&mut self, value: Value) -> Result<()> {
        let float = match &value {
            Value::Float32(f) => Some(*f as f64),
            Value::Float64(f) => Some(*f),
            // Floats and other numbers in one aggregate (a CASE whose branches are a float
            // and an integer, which PostgreSQL types double precision): all are floats.
            v if matches!(self, Spread::Float { .. }) => {
                match types::cast(v.clone(), &DataType::Float64)? {
                    Value::Float64(f) => Some(f),
                    _ => None,
                }
            }
            _ => None,
        };
        if float.is_some() {
            self.make_float();
        }
        match (std::mem::replace(self, Spread::Empty), float) {
            // As PostgreSQL's float8_accum: an infinite or NaN input makes the squares NaN,
            // and a finite one that overflows them is an error.
            (Spread::Empty, Some(x)) => {
                *self = Spread::Float {
                    n: 1.0,
                    sum: x,
                    squares: if x.is_finite() { 0.0 } else { f64::NAN },
                }
            }
            (Spread::Float { n, sum, squares }, Some(x)) => {
                let (n, new_sum) = (n + 1.0, sum + x);
                let tmp = x * n - new_sum;
                let mut squares = squares + tmp * tmp / (n * (n - 1.0));
                if new_sum.is_infinite() || squares.is_infinite() {
                    if !sum.is_infinite() && !x.is_infinite() {
                        return Err(errinput!(
                            NumericValueOutOfRange,
                            "value out of range: overflow"
                        ));
                    }
                    squares = f64::NAN;
                }
                *self = Spread::Float {
                    n,
                    sum: new_sum,
                    squares,
                };
            }
            (state, None) => {
                let n = match &state {
                    Spread::Empty => 0,
                    Spread::Exact { n, .. } | Spread::NotFinite(n) => *n,
                    Spread::Float { .. } => {
                        return Err(errinternal!("mixed float and numeric in one aggregate"))
                    }
                };
                *self = match (state, types::cast(value, &DataType::Numeric(None))?) {
                    (Spread::Empty, Value::Numeric(Numeric::Finite(x))) => Spread::Exact {
                        n: 1,
                        squares: &*x * &*x,
                        sum: *x,
                    },
                    (Spread::Exact { n, sum, squares }, Value::Numeric(Numeric::Finite(x))) => {
                        Spread::Exact {
                            n: n + 1,
                            squares: squares + &*x * &*x,
                            sum: sum + *x,
                        }
                    }
                    _ => Spread::NotFinite(n + 1),
                };
            }
            (Spread::Exact { .. } | Spread::NotFinite(_), Some(_)) => {
                return Err(errinternal!("mixed float and numeric in one aggregate"))
            }
        }
        Ok(())
    }

    /// Turns exact sums into float sums (N, Σx, and Σ(x - mean)² for the Youngs-Cramer
    /// update), when a float joins them.
    fn make_float(&mut self) {
        use bigdecimal::ToPrimitive;
        *self = match std::mem::replace(self, Spread::Empty) {
            Spread::Exact { n, sum, squares } => {
                let deviations = squares - &sum * &sum / BigDecimal::from(n);
                Spread::Float {
                    n: n as f64,
                    sum: sum.to_f64().unwrap_or(f64::NAN),
                    squares: deviations.to_f64().unwrap_or(f64::NAN),
                }
            }
            Spread::NotFinite(n) => Spread::Float {
                n: n as f64,
                sum: f64::NAN,
                squares: f64::NAN,
            },
            state => state,
        };
    }

    /// Combines the sums of two disjoint sets of rows, as PostgreSQL's combine functions do
    /// (`float8_combine` for the floats).
    fn merge(&mut self, mut other: Spread) -> Result<()> {
        if matches!(self, Spread::Float { .. }) || matches!(other, Spread::Float { .. }) {
            self.make_float();
            other.make_float();
        }
        *self = match (std::mem::replace(self, Spread::Empty), other) {
            (Spread::Empty, other) => other,
            (state, Spread::Empty) => state,
            (Spread::NotFinite(a), Spread::NotFinite(b)) => Spread::NotFinite(a + b),
            (Spread::NotFinite(a), Spread::Exact { n, .. })
            | (Spread::Exact { n, .. }, Spread::NotFinite(a)) => Spread::NotFinite(a + n),
            (
                Spread::Exact { n, sum, squares },
                Spread::Exact {
                    n: n2,
                    sum: sum2,
                    squares: squares2,
                },
            ) => Spread::Exact {
                n: n + n2,
                sum: sum + sum2,
                squares: squares + squares2,
            },
            (
                Spread::Float { n, sum, squares },
                Spread::Float {
                    n: n2,
                    sum: sum2,
                    squares: squares2,
                },
            ) => {
                // PostgreSQL's float8_combine, with its overflow checks.
                let total = n + n2;
                let gap = sum / n - sum2 / n2;
                let (new_sum, new_squares) =
                    (sum + sum2, squares + squares2 + n * n2 * gap * gap / total);
                let overflow =
                    |a: f64, b: f64, r: f64| r.is_infinite() && a.is_finite() && b.is_finite();
                if overflow(sum, sum2, new_sum) || overflow(squares, squares2, new_squares) {
                    return Err(errinput!(
                        NumericValueOutOfRange,
                        "value out of range: overflow"
                    ));
                }
                Spread::Float {
                    n: total,
                    sum: new_sum,
                    squares: new_squares,
                }
            }
            _ => return Err(errinternal!("mixed float and numeric in one aggregate")),
        };
        Ok(())
    }

    fn finish(self, statistic: Statistic) -> Result<Value> {
        let min = if statistic.sample() { 2 } else { 1 };
        Ok(match self {
            Spread::Empty => Value::Null,
            Spread::NotFinite(n) if n < min => Value::Null,
            Spread::NotFinite(_) => Value::Numeric(Numeric::NaN),
            Spread::Float { n, .. } if n < min as f64 => Value::Null,
            Spread::Float { n, squares, .. } => {
                let variance = squares / if statistic.sample() { n - 1.0 } else { n };
                Value::Float64(if statistic.root() {
                    variance.sqrt()
                } else {
                    variance
                })
            }
            Spread::Exact { n, .. } if n < min => Value::Null,
            Spread::Exact { n, sum, squares } => {
                let numerator = BigDecimal::from(n) * squares - &sum * &sum;
                let denominator = if statistic.sample() {
                    n as i128 * (n as i128 - 1)
                } else {
                    n as i128 * n as i128
                };
                let zero = || Value::Numeric(Numeric::finite(BigDecimal::from(0)));
                if numerator.sign() != bigdecimal::num_bigint::Sign::Plus {
                    return Ok(zero());
                }
                let variance = ops::div(
                    &Value::Numeric(Numeric::finite(numerator)),
                    &Value::Numeric(Numeric::finite(BigDecimal::from(denominator))),
                )?;
                match variance {
                    Value::Numeric(Numeric::Finite(v)) if statistic.root() => {
                        let scale = v.fractional_digit_count();
                        let root = v.sqrt().ok_or_else(|| errinternal!("negative variance"))?;
                        Value::Numeric(Numeric::finite(
                            root.with_scale_round(scale, bigdecimal::RoundingMode::HalfUp),
                        ))
                    }
                    v => v,
                }
            }
        })
    }
}

impl Accumulator {
    pub(super) fn new(aggregate: &Aggregate) -> Self {
        match aggregate {
            Aggregate::Filtered(inner, _) => Accumulator::new(inner),
            Aggregate::Ordered(inner, _) => {
                Accumulator::Ordered(Box::new(Accumulator::new(inner)), Vec::new())
            }
            Aggregate::ArrayAgg(_) => Accumulator::Array(Vec::new()),
            Aggregate::JsonAgg(_, jsonb) => Accumulator::Json(Vec::new(), *jsonb),
            Aggregate::StringAgg(..) => Accumulator::Text(None),
            Aggregate::BoolAnd(_) => Accumulator::Bool {
                value: None,
                all: true,
            },
            Aggregate::BoolOr(_) => Accumulator::Bool {
                value: None,
                all: false,
            },
            Aggregate::Statistic(_, s, _) => Accumulator::Statistic(*s, Spread::Empty),
            Aggregate::CountStar | Aggregate::Count(..) => Accumulator::Count(0),
            Aggregate::Sum(..) => Accumulator::Sum(None),
            Aggregate::Avg(..) => Accumulator::Avg(None, 0),
            Aggregate::Min(_) => Accumulator::Extreme {
                best: None,
                min: true,
            },
            Aggregate::Max(_) => Accumulator::Extreme {
                best: None,
                min: false,
            },
        }
    }

    pub(super) fn add(&mut self, input: Input) -> Result<()> {
        let Input { value, extra, key } = input;
        match self {
            Accumulator::Ordered(_, rows) => rows.push((key.unwrap_or_default(), value, extra)),
            Accumulator::Array(values) | Accumulator::Json(values, _) => values.push(value),
            Accumulator::Text(text) => {
                let piece = types::to_text(&value);
                *text = Some(match text.take() {
                    None => piece,
                    Some(mut s) => {
                        if let Some(sep) = extra.filter(|v| !v.is_null()) {
                            s.push_str(&types::to_text(&sep));
                        }
                        s.push_str(&piece);
                        s
                    }
                });
            }
            Accumulator::Bool { value: acc, all } => {
                let Value::Bool(b) = value else {
                    return Err(errinput!(
                        DatatypeMismatch,
                        "argument of bool_and/bool_or must be type boolean"
                    ));
                };
                *acc = Some(match acc.take() {
                    None => b,
                    Some(a) if *all => a && b,
                    Some(a) => a || b,
                });
            }
            Accumulator::Count(n) => *n += 1,
            Accumulator::Statistic(_, spread) => spread.add(value)?,
            Accumulator::Sum(sum) | Accumulator::Avg(sum, _) => {
                // sum(int2/int4) is bigint and sum(bigint) numeric in PostgreSQL, so a sum of
                // integers overflows only where PostgreSQL's does.
                let value = match value {
                    Value::Int16(i) => Value::Int64(i as i64),
                    Value::Int32(i) => Value::Int64(i as i64),
                    Value::Int64(i) => types::cast(Value::Int64(i), &DataType::Numeric(None))?,
                    v => v,
                };
                *sum = Some(match (sum.take(), value) {
                    (None, value) => value,
                    // The common case, a bigint sum of smallints or integers, added directly
                    // rather than through the general addition's promotion.
                    (Some(Value::Int64(s)), Value::Int64(x)) => {
                        Value::Int64(s.checked_add(x).ok_or_else(|| {
                            errinput!(NumericValueOutOfRange, "bigint out of range")
                        })?)
                    }
                    (Some(s), value) => ops::add(&s, &value)?,
                });
                if let Accumulator::Avg(_, n) = self {
                    *n += 1;
                }
            }
            Accumulator::Extreme { best, min } => {
                let better = match best.as_ref() {
                    None => true,
                    Some(b) => {
                        let want = if *min {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        };
                        ops::compare(&value, b)? == Some(want)
                    }
                };
                if better {
                    *best = Some(value);
                }
            }
        }
        Ok(())
    }

    /// Whether the running states of `aggregate` over two sets of rows combine into its
    /// state over both, whatever the rows' order: what a parallel aggregate needs.
    pub(super) fn merges(aggregate: &Aggregate) -> bool {
        match aggregate {
            Aggregate::Filtered(inner, _) => Accumulator::merges(inner),
            Aggregate::Ordered(..)
            | Aggregate::StringAgg(..)
            | Aggregate::ArrayAgg(_)
            | Aggregate::JsonAgg(..) => false,
            a => !a.distinct(),
        }
    }

    /// Combines this state with `other`, the same aggregate's state over other rows
    /// (see [`Accumulator::merges`]).
    pub(super) fn merge(&mut self, other: Accumulator) -> Result<()> {
        match (self, other) {
            (Accumulator::Count(a), Accumulator::Count(b)) => *a += b,
            (Accumulator::Sum(a), Accumulator::Sum(b)) => merge_sums(a, b)?,
            (Accumulator::Avg(a, n), Accumulator::Avg(b, m)) => {
                merge_sums(a, b)?;
                *n += m;
            }
            (Accumulator::Extreme { best, min }, Accumulator::Extreme { best: other, .. }) => {
                if let Some(value) = other {
                    let want = if *min {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                    let better = match best.as_ref() {
                        None => true,
                        Some(b) => ops::compare(&value, b)? == Some(want),
                    };
                    if better {
                        *best = Some(value);
                    }
                }
            }
            (Accumulator::Bool { value, all }, Accumulator::Bool { value: other, .. }) => {
                *value = match (*value, other) {
                    (Some(a), Some(b)) => Some(if *all { a && b } else { a || b }),
                    (a, b) => a.or(b),
                };
            }
            (Accumulator::Statistic(_, a), Accumulator::Statistic(_, b)) => a.merge(b)?,
            _ => return Err(errinternal!("merging aggregates that do not merge")),
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<Value> {
        Ok(match self {
            Accumulator::Ordered(mut inner, mut rows) => {
                // Stable: rows with equal keys keep their input order.
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                for (_, value, extra) in rows {
                    inner.add(Input {
                        value,
                        extra,
                        key: None,
                    })?;
                }
                inner.finish()?
            }
            Accumulator::Json(values, _) if values.is_empty() => Value::Null,
            Accumulator::Json(values, jsonb) => {
                let items: Vec<String> = values
                    .iter()
                    .map(|v| match v {
                        Value::Null => "null".to_string(),
                        v => types::to_text(v),
                    })
                    .collect();
                let text = format!("[{}]", items.join(", "));
                Value::Text(if jsonb {
                    crate::types::json::jsonb_in(&text)?
                } else {
                    text
                })
            }
            Accumulator::Array(values) if values.is_empty() => Value::Null,
            Accumulator::Array(values) => Value::Text(crate::types::array::format(&values)),
            Accumulator::Count(n) => Value::Int64(n),
            Accumulator::Statistic(s, spread) => spread.finish(s)?,
            Accumulator::Text(text) => text.map_or(Value::Null, Value::Text),
            Accumulator::Bool { value, .. } => value.map_or(Value::Null, Value::Bool),
            Accumulator::Sum(sum) | Accumulator::Extreme { best: sum, .. } => {
                sum.unwrap_or(Value::Null)
            }
            Accumulator::Avg(None, _) => Value::Null,
            Accumulator::Avg(Some(sum), n) => match sum {
                Value::Float32(_) | Value::Float64(_) => {
                    let sum = types::cast(sum, &DataType::Float64)?;
                    ops::div(&sum, &Value::Float64(n as f64))?
                }
                sum => {
                    let sum = types::cast(sum, &DataType::Numeric(None))?;
                    ops::div(&sum, &Value::Numeric(Numeric::finite(n.into())))?
                }
            },
        })
    }
}

/// Adds the partial sum `other` to `sum`, with [`Accumulator::add`]'s arithmetic.
fn merge_sums(sum: &mut Option<Value>, other: Option<Value>) -> Result<()> {
    *sum = match (sum.take(), other) {
        (None, other) => other,
        (sum, None) => sum,
        (Some(Value::Int64(s)), Some(Value::Int64(x))) => {
            Some(Value::Int64(s.checked_add(x).ok_or_else(|| {
                errinput!(NumericValueOutOfRange, "bigint out of range")
            })?))
        }
        (Some(s), Some(x)) => Some(ops::add(&s, &x)?),
    };
    Ok(())
}

/// What an aggregate takes from one row.
pub(super) struct Input {
    /// The value aggregated.
    pub value: Value,
    /// `string_agg`'s separator.
    pub extra: Option<Value>,
    /// The sort key of an ordered aggregate (order-preserving bytes).
    pub key: Option<Vec<u8>>,
}

/// What an aggregate takes from a row, or `None` if the row does not count (a NULL value,
/// except for `array_agg`, or a FILTER it fails). `count(*)` counts every row.
pub(super) fn aggregate_input(
    aggregate: &Aggregate,
    row: &[Value],
    env: &Env<'_>,
) -> Result<Option<Input>> {
    match aggregate {
        Aggregate::Filtered(inner, condition) => {
            if !passes(&eval(condition, row, env)?) {
                return Ok(None);
            }
            return aggregate_input(inner, row, env);
        }
        Aggregate::Ordered(inner, keys) => {
            let Some(mut input) = aggregate_input(inner, row, env)? else {
                return Ok(None);
            };
            // Each key: a byte placing NULLs first or last, then the order-preserving
            // encoding, inverted for DESC (the encoding is prefix-free, so inverting each
            // value's bytes reverses its order).
            let mut encoded = Vec::new();
            for k in keys {
                let value = eval(&k.expr, row, env)?;
                let null = value.is_null();
                encoded.push(u8::from(null != k.nulls_first));
                if !null {
                    let bytes = zizhu_keycode::encode_tuple(std::slice::from_ref(&value));
                    if k.descending {
                        encoded.extend(bytes.iter().map(|b| !b));
                    } else {
                        encoded.extend(bytes);
                    }
                }
            }
            input.key = Some(encoded);
            return Ok(Some(input));
        }
        _ => {}
    }
    let value = match aggregate.argument() {
        None => Value::Bool(true),
        Some(e) => eval(e, row, env)?,
    };
    if value.is_null() && !aggregate.keeps_nulls() {
        return Ok(None);
    }
    let extra = match aggregate {
        Aggregate::StringAgg(_, separator, _) => Some(eval(separator, row, env)?),
        _ => None,
    };
    Ok(Some(Input {
        value,
        extra,
        key: None,
    }))
}

/// One group's state: its key values and, per aggregate, the accumulator and (for DISTINCT)
/// the values seen.
pub(super) type Group = (Vec<Value>, Vec<(Accumulator, Option<BTreeSet<Vec<u8>>>)>);

/// What a group costs besides its values: map entry, accumulators.
const GROUP_OVERHEAD: usize = 96;
const ACCUMULATOR_SIZE: usize = 64;

/// Groups rows and computes aggregates. Output rows are the group values then the aggregate
/// values, in group-key order. With no GROUP BY, there is exactly one row, even for no input.
///
/// Groups are held in memory up to `work_mem`. Past it, rows of groups already held still
/// update them, and rows of new groups are written to hash partitions, each aggregated in turn
/// afterwards (PostgreSQL 13's hash aggregate spilling). A group is therefore always complete
/// in one pass. The finished groups then go through an external sort by key, so the output
/// order does not depend on whether anything spilled.
pub(super) fn aggregate<'a>(
    input: Rows<'a>,
    group_by: &'a [crate::planner::Expr],
    aggregates: &'a [Aggregate],
    env: &'a Env<'a>,
) -> Result<Rows<'a>> {
    let grouping = Grouping {
        group_by,
        aggregates,
        env,
    };
    let budget = &env.cache.budget;
    let (groups, spilled) = grouping.pass(input, 0)?;
    let Some(partitions) = spilled else {
        return Ok(Box::new(groups.into_iter().map(|(_, g)| finish_group(g))));
    };
    let by_key = |a: &[Value], b: &[Value]| match (a.first(), b.first()) {
        (Some(Value::Bytes(a)), Some(Value::Bytes(b))) => a.cmp(b),
        _ => Ordering::Equal,
    };
    let mut sorter = Sorter::new(budget.clone(), Box::new(by_key));
    for (key, group) in groups {
        sorter.push(vec![Value::Bytes(key)], finish_group(group)?)?;
    }
    let mut pending: Vec<(u64, SpilledRows)> = partitions.into_iter().map(|p| (1, p)).collect();
    while let Some((level, partition)) = pending.pop() {
        let (groups, spilled) = grouping.pass(Box::new(partition.read()?), level)?;
        for (key, group) in groups {
            sorter.push(vec![Value::Bytes(key)], finish_group(group)?)?;
        }
        pending.extend(spilled.into_iter().flatten().map(|p| (level + 1, p)));
    }
    Ok(Box::new(sorter.finish()?.map(|r| r.map(|(_, row)| row))))
}

pub(super) fn finish_group((mut values, accumulators): Group) -> Result<Vec<Value>> {
    for (accumulator, _) in accumulators {
        values.push(accumulator.finish()?);
    }
    Ok(values)
}

pub(super) struct Grouping<'a> {
    pub group_by: &'a [crate::planner::Expr],
    pub aggregates: &'a [Aggregate],
    pub env: &'a Env<'a>,
}

impl Grouping<'_> {
    fn new_group(&self, values: Vec<Value>) -> Group {
        let accumulators = self
            .aggregates
            .iter()
            .map(|a| (Accumulator::new(a), a.distinct().then(BTreeSet::new)))
            .collect();
        (values, accumulators)
    }

    /// Aggregates `input` into groups until they fill `work_mem`; rows of further groups go to
    /// partitions (unless `level` is already the deepest), returned for later passes.
    #[allow(clippy::type_complexity)]
    fn pass(
        &self,
        input: Rows<'_>,
        level: u64,
    ) -> Result<(Vec<(Vec<u8>, Group)>, Option<Vec<SpilledRows>>)> {
        let budget = &self.env.cache.budget;
        let limit = if level < MAX_LEVEL {
            budget.hash_bytes
        } else {
            usize::MAX
        };
        let mut groups = Groups::new(self);
        let mut spill: Option<Partitions> = None;
        for row in input {
            let row = row?;
            if !groups.add(&row, limit)? {
                let partitions = match &mut spill {
                    Some(p) => p,
                    None => spill.insert(Partitions::new(budget, level)?),
                };
                partitions.push(&groups.key, &row)?;
            }
        }
        Ok((groups.finish(), spill.map(Partitions::finish).transpose()?))
    }
}

/// Groups being aggregated, in memory.
pub(super) struct Groups<'g> {
    grouping: &'g Grouping<'g>,
    // Groups are keyed by the order-preserving encoding of their values, whose equality is
    // SQL's grouping equality (1.50 and 1.5 group together; so do NULLs). They are hashed
    // while rows arrive and sorted by that key once at the end.
    map: foldhash::HashMap<Vec<u8>, Group>,
    /// Without GROUP BY there is one group, and no key to build or look up per row.
    single: Option<Group>,
    /// The last row's group key, in a buffer kept across rows.
    key: Vec<u8>,
    /// Whether every grouping expression is a column or a constant.
    plain: bool,
    /// What the groups hold, roughly.
    bytes: usize,
}

impl<'g> Groups<'g> {
    pub(super) fn new(grouping: &'g Grouping<'g>) -> Self {
        Self {
            grouping,
            map: foldhash::HashMap::default(),
            single: grouping
                .group_by
                .is_empty()
                .then(|| grouping.new_group(Vec::new())),
            key: Vec::new(),
            plain: grouping
                .group_by
                .iter()
                .all(|e| matches!(e, Expr::Column { .. } | Expr::Constant(_))),
            bytes: 0,
        }
    }

    /// Aggregates `row` into its group. A row of a new group is refused (`false`) while the
    /// groups hold more than `limit` bytes; its group's key is then [`Groups::key`].
    pub(super) fn add(&mut self, row: &[Value], limit: usize) -> Result<bool> {
        let grouping = self.grouping;
        let env = grouping.env;
        let (_, accumulators) = if let Some(group) = &mut self.single {
            group
        } else {
            // The key is built in a buffer kept across rows and copied only for a new
            // group. Plain columns are encoded where they stand; other expressions are
            // evaluated once (a volatile one, `random()` or `nextval()`, must give the
            // key and the group's value alike).
            self.key.clear();
            let evaluated = if self.plain {
                for e in grouping.group_by {
                    let value = operand(e, row, env)?;
                    zizhu_keycode::encode_value(&mut self.key, &value, KeyColumn::ASC);
                }
                None
            } else {
                let values = grouping
                    .group_by
                    .iter()
                    .map(|e| eval(e, row, env))
                    .collect::<Result<Vec<_>>>()?;
                for value in &values {
                    zizhu_keycode::encode_value(&mut self.key, value, KeyColumn::ASC);
                }
                Some(values)
            };
            if !self.map.contains_key(self.key.as_slice()) {
                if self.bytes > limit {
                    return Ok(false);
                }
                let values = match evaluated {
                    Some(values) => values,
                    None => grouping
                        .group_by
                        .iter()
                        .map(|e| operand(e, row, env).map(Cow::into_owned))
                        .collect::<Result<Vec<_>>>()?,
                };
                self.bytes += 2 * self.key.len()
                    + row_size(&values)
                    + GROUP_OVERHEAD
                    + ACCUMULATOR_SIZE * grouping.aggregates.len();
                self.map
                    .insert(self.key.clone(), grouping.new_group(values));
            }
            self.map
                .get_mut(self.key.as_slice())
                .ok_or_else(|| errinternal!("a group just inserted is missing"))?
        };
        for (aggregate, (accumulator, seen)) in
            grouping.aggregates.iter().zip(accumulators.iter_mut())
        {
            let Some(input) = aggregate_input(aggregate, row, env)? else {
                continue;
            };
            if let Some(seen) = seen {
                let encoded = zizhu_keycode::encode_tuple(std::slice::from_ref(&input.value));
                self.bytes += encoded.len() + 48;
                if !seen.insert(encoded) {
                    continue;
                }
            }
            if let Value::Text(text) = &input.value {
                self.bytes += text.len();
            }
            self.bytes += input.key.as_ref().map_or(0, |k| k.len() + 48);
            accumulator.add(input)?;
        }
        Ok(true)
    }

    /// The groups, in key order.
    pub(super) fn finish(self) -> Vec<(Vec<u8>, Group)> {
        let mut groups: Vec<(Vec<u8>, Group)> = match self.single {
            Some(group) => vec![(Vec::new(), group)],
            None => self.map.into_iter().collect(),
        };
        groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        groups
    }
}
