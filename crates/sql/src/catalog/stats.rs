//! Table statistics, gathered by `ANALYZE` and stored beside the table's definition.
//!
//! Like PostgreSQL's `reltuples` and `pg_statistic`, they describe the table as it was when
//! last analyzed: the number of rows, and for each column the fraction of NULLs, the number
//! of distinct values, the most common values with their frequencies, a histogram of the
//! other values, the average stored width and the correlation of the values' order with the
//! rows' stored order. `pg_stats` shows them as PostgreSQL's does. The planner uses them to
//! estimate how many rows a filter or a join yields ([`crate::planner`]'s join ordering,
//! through [`ColumnStats::equal_fraction`] and [`ColumnStats::below_fraction`]); a table never
//! analyzed has none, and its joins keep the order they were written in.
//!
//! `ANALYZE` reads every row (counting them exactly) and keeps a uniform sample of up to
//! [`SAMPLE_ROWS`] rows (reservoir sampling, with a fixed seed so that the same table gives
//! the same statistics and plans). From the sample, as PostgreSQL's `compute_scalar_stats`:
//! - the number of distinct values is exact when the sample holds every row; otherwise it is
//!   the Haas-Stokes estimate, from the values seen once in the sample;
//! - the most common values are the values seen more than once, most frequent first, at most
//!   [`STATISTICS_TARGET`]: all of them if they are all the values there are (and their number
//!   does not grow with the table), or the whole table was sampled; otherwise those whose
//!   frequency stands out from what the other values would have (PostgreSQL 15's
//!   `analyze_mcv_list`);
//! - the histogram splits the remaining values, sorted, into [`STATISTICS_TARGET`] buckets of
//!   equal count, bounded by values of the sample;
//! - the correlation compares each value's rank with its row's position in the scan.
//!
//! Values are ordered as their order-preserving key encodings are, which is SQL's order for
//! every type a key can hold (text in bytes, as ZizhuDB's C collation). They are stored by
//! column name, so a column added later has none and a dropped one's are ignored.

use std::cmp::Ordering;

use zizhu_types::{Numeric, Value};

use crate::types::ops::compare;
use crate::{errinternal, Result};

/// The most rows `ANALYZE` samples per table (PostgreSQL's 300 × default_statistics_target).
pub const SAMPLE_ROWS: usize = 300 * STATISTICS_TARGET;

/// Values stored wider than this many bytes are left out of the common values and the
/// histogram (PostgreSQL's `WIDTH_THRESHOLD`).
pub const WIDTH_THRESHOLD: usize = 1024;

/// The most common values kept per column, and the histogram's buckets (PostgreSQL's
/// `default_statistics_target`).
pub const STATISTICS_TARGET: usize = 100;

/// What `ANALYZE` found in a table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableStats {
    /// Rows in the table.
    pub rows: u64,
    /// Per column, by name.
    pub columns: Vec<ColumnStats>,
}

/// What `ANALYZE` found in a column.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ColumnStats {
    /// The column's name.
    pub name: String,
    /// Distinct non-NULL values (estimated beyond the sample).
    pub distinct: f64,
    /// The fraction of rows where it is NULL.
    pub null_fraction: f64,
    /// The most common values and the fraction of all rows holding each, most common first.
    pub most_common: Vec<(Value, f64)>,
    /// Bounds of buckets holding equal shares of the other non-NULL values, ascending (empty
    /// if fewer than two values are left).
    pub histogram: Vec<Value>,
    /// Average width in bytes of a non-NULL value as PostgreSQL would store it.
    pub width: u32,
    /// Correlation (-1 to 1) between the values' order and the rows' stored order; `None`
    /// with fewer than two non-NULL values.
    pub correlation: Option<f64>,
}

impl TableStats {
    /// The statistics of column `name`, if it was analyzed.
    pub fn column(&self, name: &str) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The stored form, under [`crate::keys::Key::Statistics`].
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut values = Vec::new();
        self.encode(&mut values);
        crate::row::encode(&values)
    }

    /// Reads what [`Self::to_bytes`] wrote.
    pub(super) fn from_bytes(bytes: &[u8]) -> Result<TableStats> {
        let values = crate::row::decode(bytes)?;
        let mut it = values.iter();
        match it.next() {
            Some(Value::Text(marker)) => TableStats::decode(marker, &mut || it.next()),
            _ => Err(errinternal!("corrupt table statistics")),
        }
    }

    /// Appends the statistics to a list of values, behind a marker naming the format.
    pub(super) fn encode(&self, values: &mut Vec<Value>) {
        values.push(Value::Text("stats2".into()));
        values.push(Value::Int64(self.rows as i64));
        values.push(Value::Int64(self.columns.len() as i64));
        for c in &self.columns {
            values.push(Value::Text(c.name.clone()));
            values.push(Value::Float64(c.distinct));
            values.push(Value::Float64(c.null_fraction));
            values.push(Value::Int64(c.width.into()));
            values.push(c.correlation.map_or(Value::Null, Value::Float64));
            values.push(Value::Int64(c.most_common.len() as i64));
            for (value, frequency) in &c.most_common {
                values.push(value.clone());
                values.push(Value::Float64(*frequency));
            }
            values.push(Value::Int64(c.histogram.len() as i64));
            values.extend(c.histogram.iter().cloned());
        }
    }

    /// Reads what [`Self::encode`] wrote, after its marker: `stats2`, or the `stats` of
    /// definitions written before the most common values and histograms were gathered.
    pub(super) fn decode<'v>(
        marker: &str,
        next: &mut dyn FnMut() -> Option<&'v Value>,
    ) -> Result<TableStats> {
        let bad = || errinternal!("corrupt table statistics");
        let int = |v: Option<&Value>| match v {
            Some(Value::Int64(i)) if *i >= 0 => Ok(*i as u64),
            _ => Err(bad()),
        };
        let float = |v: Option<&Value>| match v {
            Some(Value::Float64(f)) => Ok(*f),
            _ => Err(bad()),
        };
        let full = match marker {
            "stats" => false,
            "stats2" => true,
            _ => return Err(bad()),
        };
        let rows = int(next())?;
        let count = int(next())?;
        let mut columns = Vec::new();
        for _ in 0..count {
            let name = match next() {
                Some(Value::Text(name)) => name.clone(),
                _ => return Err(bad()),
            };
            let mut column = ColumnStats {
                name,
                distinct: float(next())?,
                null_fraction: float(next())?,
                ..ColumnStats::default()
            };
            if full {
                column.width = u32::try_from(int(next())?).map_err(|_| bad())?;
                column.correlation = match next() {
                    Some(Value::Null) => None,
                    v => Some(float(v)?),
                };
                for _ in 0..int(next())? {
                    let value = next().ok_or_else(bad)?.clone();
                    column.most_common.push((value, float(next())?));
                }
                for _ in 0..int(next())? {
                    column.histogram.push(next().ok_or_else(bad)?.clone());
                }
            }
            columns.push(column);
        }
        Ok(TableStats { rows, columns })
    }
}

impl ColumnStats {
    /// The fraction of non-NULL rows taken by the most common values.
    fn common_total(&self) -> f64 {
        self.most_common.iter().map(|(_, f)| f).sum()
    }

    /// The estimated fraction of all rows whose value equals `value` (SQL `=`).
    pub fn equal_fraction(&self, value: &Value) -> f64 {
        if value.is_null() {
            return 0.0;
        }
        if let Some((_, f)) = self
            .most_common
            .iter()
            .find(|(v, _)| matches!(compare(v, value), Ok(Some(Ordering::Equal))))
        {
            return *f;
        }
        // The rest is shared evenly by the other distinct values.
        let others = (self.distinct - self.most_common.len() as f64).max(1.0);
        ((1.0 - self.null_fraction - self.common_total()) / others).clamp(0.0, 1.0)
    }

    /// The estimated fraction of all rows whose value is below `value` (at most `value` with
    /// `inclusive`); `None` if the statistics cannot tell (no histogram, and common values
    /// that are not all the values, or values that do not compare).
    pub fn below_fraction(&self, value: &Value, inclusive: bool) -> Option<f64> {
        let below = |v: &Value| match compare(v, value) {
            Ok(Some(Ordering::Less)) => Some(true),
            Ok(Some(Ordering::Equal)) => Some(inclusive),
            Ok(Some(Ordering::Greater)) => Some(false),
            _ => None,
        };
        let mut fraction = 0.0;
        for (v, f) in &self.most_common {
            if below(v)? {
                fraction += f;
            }
        }
        let rest = (1.0 - self.null_fraction - self.common_total()).max(0.0);
        if self.histogram.len() < 2 {
            // Without a histogram, only common values that are all the values can tell.
            return (rest < 0.01).then_some(fraction.clamp(0.0, 1.0));
        }
        let last = self.histogram.len() - 1;
        let position = match self.histogram.iter().rposition(|b| below(b) == Some(true)) {
            None => {
                // Check the bounds compare at all, so a mismatch stays unknown.
                below(&self.histogram[0])?;
                0.0
            }
            Some(i) if i == last => 1.0,
            Some(i) => {
                // Within bucket i: interpolate where the values are numbers, else its middle.
                let (lo, hi) = (&self.histogram[i], &self.histogram[i + 1]);
                let within = match (scalar(lo), scalar(hi), scalar(value)) {
                    (Some(lo), Some(hi), Some(v)) if hi > lo => (v - lo) / (hi - lo),
                    _ => 0.5,
                };
                // Infinite bounds (floats, huge numerics) give no position, only NaN.
                let within = if within.is_finite() {
                    within.clamp(0.0, 1.0)
                } else {
                    0.5
                };
                (i as f64 + within) / last as f64
            }
        };
        Some((fraction + position * rest).clamp(0.0, 1.0))
    }
}

/// A value as a number on its type's scale, for interpolating within a histogram bucket.
fn scalar(value: &Value) -> Option<f64> {
    Some(match value {
        Value::Int16(i) => f64::from(*i),
        Value::Int32(i) => f64::from(*i),
        Value::Int64(i) => *i as f64,
        Value::Float32(x) => f64::from(*x),
        Value::Float64(x) => *x,
        Value::Numeric(Numeric::Finite(d)) => d.to_string().parse().ok()?,
        Value::Date(d) => f64::from(d.0),
        Value::Time(t) => t.0 as f64,
        Value::Timestamp(t) | Value::TimestampTz(t) => t.0 as f64,
        _ => return None,
    })
}

/// The bytes PostgreSQL would store for a value (`pg_stats.avg_width`): fixed-size types
/// their size, variable-length ones their bytes plus a 1-byte header (4 bytes past 126).
fn stored_width(value: &Value) -> usize {
    let varlena = |n: usize| n + if n <= 126 { 1 } else { 4 };
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int16(_) => 2,
        Value::Int32(_) | Value::Float32(_) | Value::Date(_) => 4,
        Value::Int64(_)
        | Value::Float64(_)
        | Value::Time(_)
        | Value::Timestamp(_)
        | Value::TimestampTz(_) => 8,
        Value::Interval(_) | Value::Uuid(_) => 16,
        Value::Text(t) => varlena(t.len()),
        Value::Bytes(b) => varlena(b.len()),
        // A header, then base-10000 digits of 2 bytes each.
        Value::Numeric(Numeric::Finite(d)) => {
            let (int, scale) = d.as_bigint_and_exponent();
            let digits = int.to_string().trim_start_matches('-').len() as i64;
            let whole = (digits - scale).max(0);
            let groups = (whole + 3) / 4 + (scale.max(0) + 3) / 4;
            varlena(2 + 2 * groups.max(0) as usize)
        }
        Value::Numeric(_) => varlena(2),
    }
}

/// How many of the candidate common values (their sample counts, descending) to keep:
/// PostgreSQL 15's `analyze_mcv_list`. All if the sample is the whole table; otherwise drop
/// the least common while its count is not significantly (two standard deviations of the
/// sampling) above what the values outside the list would each have.
fn significant_common_values(
    counts: &[usize],
    distinct: f64,
    null_fraction: f64,
    sample: usize,
    total: f64,
) -> usize {
    let (n, big_n) = (sample as f64, total);
    if n >= big_n || big_n <= 1.0 {
        return counts.len();
    }
    let mut keep = counts.len();
    let mut sum: f64 = counts
        .iter()
        .take(keep.saturating_sub(1))
        .map(|&c| c as f64)
        .sum();
    while keep > 0 {
        let least = counts[keep - 1] as f64;
        let mut selectivity = (1.0 - sum / n - null_fraction).clamp(0.0, 1.0);
        let others = distinct - (keep as f64 - 1.0);
        if others > 1.0 {
            selectivity /= others;
        }
        let k = big_n * least / n;
        let variance = n * k * (big_n - k) * (big_n - n) / (big_n * big_n * (big_n - 1.0));
        if least > selectivity * n + 2.0 * variance.sqrt() + 0.5 {
            break;
        }
        keep -= 1;
        if keep == 0 {
            break;
        }
        sum -= counts[keep - 1] as f64;
    }
    keep
}

/// Gathers a table's statistics from its rows, read once.
pub struct Gatherer {
    names: Vec<String>,
    rows: u64,
    /// The sampled rows, each with its position in the scan.
    sample: Vec<(u64, Vec<Value>)>,
    /// xorshift64* state: a fixed seed keeps ANALYZE deterministic.
    rng: u64,
}

impl Gatherer {
    /// For a table with these column names.
    pub fn new(names: Vec<String>) -> Self {
        Self {
            names,
            rows: 0,
            sample: Vec::new(),
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Takes one row (reservoir sampling: each row ends in the sample with equal chance).
    pub fn add(&mut self, row: Vec<Value>) {
        let position = self.rows;
        self.rows += 1;
        if self.sample.len() < SAMPLE_ROWS {
            self.sample.push((position, row));
            return;
        }
        let slot = self.next_random() % self.rows;
        if let Some(kept) = self.sample.get_mut(slot as usize) {
            *kept = (position, row);
        }
    }

    /// The statistics of the rows taken.
    pub fn finish(mut self) -> TableStats {
        // In scan order, for the correlation.
        self.sample.sort_unstable_by_key(|(position, _)| *position);
        let columns = (0..self.names.len()).map(|i| self.column(i)).collect();
        TableStats {
            rows: self.rows,
            columns,
        }
    }

    /// The statistics of column `i`, from the sample in scan order.
    fn column(&self, i: usize) -> ColumnStats {
        let total = self.rows as f64;
        let n = self.sample.len();
        // The non-NULL values, each with its key encoding (their order and equality) and
        // its rank in scan order.
        let mut values: Vec<(Vec<u8>, usize, &Value)> = Vec::new();
        let mut width = 0usize;
        // Values wider than this are left out of the common values and the histogram (and
        // counted as distinct), as PostgreSQL leaves them out: stored whole they would make
        // the statistics every lookup of the table reads huge.
        let mut too_wide = 0usize;
        for (_, row) in &self.sample {
            match row.get(i) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    let w = stored_width(v);
                    width += w;
                    if w > WIDTH_THRESHOLD {
                        too_wide += 1;
                        continue;
                    }
                    let key = zizhu_keycode::encode_tuple(std::slice::from_ref(v));
                    values.push((key, values.len(), v));
                }
            }
        }
        let seen = values.len() + too_wide;
        let nulls = n - seen;
        let null_fraction = if n == 0 { 0.0 } else { nulls as f64 / n as f64 };
        // Sorted by value, ties in scan order (as PostgreSQL's compare_scalars).
        values.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        // Runs of equal values: (first index, count).
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (j, (key, _, _)) in values.iter().enumerate() {
            match runs.last_mut() {
                Some((first, count)) if values[*first].0 == *key => *count += 1,
                _ => runs.push((j, 1)),
            }
        }
        let d = (runs.len() + too_wide) as f64;
        let once = (runs.iter().filter(|(_, c)| *c == 1).count() + too_wide) as f64;
        let non_null_total = total * (1.0 - null_fraction);
        let distinct = if seen == 0 {
            0.0
        } else if once == d {
            // Every sampled value was unique: assume the column is.
            non_null_total
        } else if once == 0.0 {
            // Every sampled value appeared more than once: assume these are all.
            d
        } else {
            // Haas and Stokes's Duj1 estimator, as PostgreSQL's analyze.c (exact when the
            // sample is the whole table).
            let seen = seen as f64;
            let estimate = seen * d / ((seen - once) + once * seen / non_null_total);
            estimate.clamp(d, non_null_total)
        };
        let distinct = distinct.round().max(if seen > 0 { 1.0 } else { 0.0 });

        // The most common values: candidates are those seen more than once, most frequent
        // first (ties in value order).
        let mut repeated: Vec<(usize, usize)> = runs.iter().copied().filter(|r| r.1 > 1).collect();
        repeated.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        repeated.truncate(STATISTICS_TARGET);
        // PostgreSQL keeps them all if they are all the values there are, and the number of
        // those does not grow with the table (its positive `stadistinct`).
        let all_fit = repeated.len() == runs.len() && too_wide == 0 && distinct <= 0.1 * total;
        if !all_fit {
            let counts: Vec<usize> = repeated.iter().map(|r| r.1).collect();
            let keep = significant_common_values(&counts, distinct, null_fraction, n, total);
            repeated.truncate(keep);
        }
        let most_common: Vec<(Value, f64)> = repeated
            .iter()
            .map(|(first, count)| (values[*first].2.clone(), *count as f64 / n as f64))
            .collect();

        // The histogram over the other values, as PostgreSQL picks its bounds.
        let common: std::collections::HashSet<usize> = repeated.iter().map(|r| r.0).collect();
        let rest: Vec<&Value> = runs
            .iter()
            .filter(|(first, _)| !common.contains(first))
            .flat_map(|(first, count)| values[*first..*first + *count].iter().map(|v| v.2))
            .collect();
        let buckets = (runs.len() - repeated.len()).min(STATISTICS_TARGET + 1);
        let mut histogram = Vec::new();
        if buckets >= 2 {
            let (delta, delta_fraction) = (
                (rest.len() - 1) / (buckets - 1),
                (rest.len() - 1) % (buckets - 1),
            );
            let (mut position, mut fraction) = (0, 0);
            for _ in 0..buckets {
                histogram.push(rest[position].clone());
                position += delta;
                fraction += delta_fraction;
                if fraction >= buckets - 1 {
                    position += 1;
                    fraction -= buckets - 1;
                }
            }
        }

        // Pearson's correlation of value rank and scan rank: both are permutations of 0..n.
        let correlation = (values.len() >= 2).then(|| {
            let n = values.len() as f64;
            let xy: f64 = values
                .iter()
                .enumerate()
                .map(|(rank, (_, position, _))| rank as f64 * *position as f64)
                .sum();
            let sum = n * (n - 1.0) / 2.0;
            let squares = (n - 1.0) * n * (2.0 * n - 1.0) / 6.0;
            (n * xy - sum * sum) / (n * squares - sum * sum)
        });

        ColumnStats {
            name: self.names[i].clone(),
            distinct,
            null_fraction,
            most_common,
            histogram,
            width: width.checked_div(seen).unwrap_or(0) as u32,
            correlation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather(rows: impl Iterator<Item = Vec<Value>>) -> TableStats {
        let mut g = Gatherer::new(vec!["a".into(), "b".into()]);
        rows.for_each(|r| g.add(r));
        g.finish()
    }

    #[test]
    fn a_small_table_is_counted_exactly() {
        let stats = gather((0..100).map(|i| {
            vec![
                Value::Int64(i),
                if i % 4 == 0 {
                    Value::Null
                } else {
                    Value::Int64(i % 10)
                },
            ]
        }));
        assert_eq!(stats.rows, 100);
        assert_eq!(stats.column("a").map(|c| c.distinct), Some(100.0));
        let b = stats.column("b").expect("b");
        assert_eq!(b.null_fraction, 0.25);
        // i % 10 over i not divisible by 4: the odd residues and 2, 6 (0, 4, 8 only at
        // multiples of 4 ... but 10 and 20 leave 0, 14 leaves 4).
        let exact = (0..100)
            .filter(|i| i % 4 != 0)
            .map(|i| i % 10)
            .collect::<std::collections::HashSet<_>>()
            .len();
        assert_eq!(b.distinct, exact as f64);
    }

    #[test]
    fn a_large_table_is_estimated_from_its_sample() {
        let stats = gather((0..200_000).map(|i| vec![Value::Int64(i), Value::Int64(i % 1000)]));
        assert_eq!(stats.rows, 200_000);
        let unique = stats.column("a").expect("a").distinct;
        assert_eq!(
            unique, 200_000.0,
            "all distinct in the sample: assumed unique"
        );
        let groups = stats.column("b").expect("b").distinct;
        assert!((900.0..=1100.0).contains(&groups), "{groups}");
    }

    #[test]
    fn common_values_and_histograms_estimate_equality_and_ranges() {
        // b: half the rows 0, the rest spread over 1..=100; a: unique, 0..200,000 (sampled).
        let stats = gather((0..200_000).map(|i| {
            let b = if i % 2 == 0 { 0 } else { 1 + (i / 2) % 100 };
            vec![Value::Int64(i), Value::Int64(b)]
        }));
        let (a, b) = (stats.column("a").unwrap(), stats.column("b").unwrap());
        assert!(
            a.most_common.is_empty(),
            "a unique column has no common values"
        );
        assert_eq!(a.histogram.len(), STATISTICS_TARGET + 1);
        assert!(a
            .histogram
            .windows(2)
            .all(|w| compare(&w[0], &w[1]).unwrap() == Some(Ordering::Less)));
        assert!(
            a.correlation.is_some_and(|c| c > 0.99),
            "{:?}",
            a.correlation
        );
        let near = |x: f64, want: f64, tolerance: f64| {
            assert!((x - want).abs() <= tolerance, "{x} is not about {want}")
        };
        near(
            a.below_fraction(&Value::Int64(50_000), false).unwrap(),
            0.25,
            0.02,
        );
        near(a.below_fraction(&Value::Int32(-1), true).unwrap(), 0.0, 0.0);
        near(
            a.below_fraction(&Value::Int64(10_000_000), true).unwrap(),
            1.0,
            0.0,
        );
        near(a.equal_fraction(&Value::Int64(7)), 1.0 / 200_000.0, 1e-9);
        // The skewed value is common; the others share the rest.
        assert_eq!(
            b.most_common.first().map(|(v, _)| v),
            Some(&Value::Int64(0))
        );
        near(b.equal_fraction(&Value::Int64(0)), 0.5, 0.02);
        near(b.equal_fraction(&Value::Int64(42)), 0.005, 0.002);
        near(b.equal_fraction(&Value::Null), 0.0, 0.0);
        near(
            b.below_fraction(&Value::Int64(51), false).unwrap(),
            0.75,
            0.03,
        );
        // Values of another kind compare as SQL's operators do, or not at all.
        near(
            b.below_fraction(&Value::Float64(0.5), true).unwrap(),
            0.5,
            0.02,
        );
        assert_eq!(b.below_fraction(&Value::Text("x".into()), true), None);
    }

    #[test]
    fn a_column_of_few_values_lists_them_all() {
        let stats = gather((0..1000).map(|i| {
            vec![
                Value::Int64(i % 3),
                if i % 2 == 0 {
                    Value::Null
                } else {
                    Value::Text(format!("t{}", i % 5))
                },
            ]
        }));
        let a = stats.column("a").unwrap();
        let values: Vec<&Value> = a.most_common.iter().map(|(v, _)| v).collect();
        // 0 appears 334 times, 1 and 2 333 times each: ties in value order.
        assert_eq!(
            values,
            [&Value::Int64(0), &Value::Int64(1), &Value::Int64(2)]
        );
        assert!(a.histogram.is_empty());
        assert_eq!(a.below_fraction(&Value::Int64(1), true), Some(0.667));
        let b = stats.column("b").unwrap();
        assert_eq!(b.null_fraction, 0.5);
        assert_eq!(b.most_common.len(), 5);
        assert_eq!(b.width, 3, "two bytes of text and a header");
        assert_eq!(b.equal_fraction(&Value::Text("t1".into())), 0.1);
    }

    #[test]
    fn wide_values_stay_out_of_common_values_and_histograms() {
        // a: two values, one of them 2,000 bytes wide; b: distinct values, every tenth wide.
        let wide = |i: i64| Value::Text(format!("{i:02000}"));
        let stats = gather((0..1000).map(|i| {
            vec![
                if i % 2 == 0 {
                    wide(1)
                } else {
                    Value::Text("x".into())
                },
                if i % 10 == 0 {
                    wide(i)
                } else {
                    Value::Int64(i)
                },
            ]
        }));
        let (a, b) = (stats.column("a").unwrap(), stats.column("b").unwrap());
        assert_eq!(a.most_common, [(Value::Text("x".into()), 0.5)]);
        assert!(a.histogram.is_empty());
        assert_eq!(a.width, (500 * (2000 + 4) + 500 * 2) / 1000);
        assert!(b.most_common.is_empty());
        assert_eq!(b.histogram.len(), STATISTICS_TARGET + 1);
        assert!(b.histogram.iter().all(|v| matches!(v, Value::Int64(_))));
        assert_eq!(b.distinct, 1000.0, "wide values count as distinct");
        assert_eq!(b.null_fraction, 0.0);
    }

    #[test]
    fn infinite_histogram_bounds_give_a_fraction_not_nan() {
        let stats = gather((0..1000).map(|i| {
            let x = match i {
                0 => f64::NEG_INFINITY,
                999 => f64::INFINITY,
                i => i as f64,
            };
            vec![Value::Float64(x), Value::Null]
        }));
        let a = stats.column("a").unwrap();
        for probe in [-1e300, 0.5, 500.0, 1e300] {
            let f = a.below_fraction(&Value::Float64(probe), false).unwrap();
            assert!((0.0..=1.0).contains(&f), "{probe}: {f}");
        }
    }

    #[test]
    fn statistics_survive_encoding() {
        let stats = gather((0..10).map(|i| vec![Value::Int64(i), Value::Null]));
        let mut values = Vec::new();
        stats.encode(&mut values);
        let mut it = values.iter().skip(1);
        let decoded = TableStats::decode("stats2", &mut || it.next()).expect("decodes");
        assert_eq!(decoded, stats);
        let stored = TableStats::from_bytes(&stats.to_bytes()).expect("decodes");
        assert_eq!(stored, stats);
    }
}
