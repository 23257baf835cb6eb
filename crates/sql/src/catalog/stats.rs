//! Table statistics, gathered by `ANALYZE` and kept in the table's definition.
//!
//! Like PostgreSQL's `reltuples` and `pg_statistic`, they describe the table as it was when
//! last analyzed: the number of rows, and for each column the fraction of NULLs and the number
//! of distinct values. The planner uses them to estimate how many rows a filter or a join
//! yields ([`crate::planner`]'s join ordering); a table never analyzed has none, and its
//! joins keep the order they were written in.
//!
//! `ANALYZE` reads every row (counting them exactly) and keeps a uniform sample of up to
//! [`SAMPLE_ROWS`] rows (reservoir sampling, with a fixed seed so that the same table gives
//! the same statistics and plans). The number of distinct values of a column is exact when the
//! sample holds every row; otherwise it is the Haas-Stokes estimate PostgreSQL uses, from the
//! values seen once in the sample. They are stored by column name, so a column added later
//! has none and a dropped one's are ignored.

use std::collections::HashMap;

use zizhu_types::Value;

use crate::{errinternal, Result};

/// The most rows `ANALYZE` samples per table (PostgreSQL's 300 × default_statistics_target).
pub const SAMPLE_ROWS: usize = 30_000;

/// What `ANALYZE` found in a table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableStats {
    /// Rows in the table.
    pub rows: u64,
    /// Per column, by name.
    pub columns: Vec<ColumnStats>,
}

/// What `ANALYZE` found in a column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnStats {
    /// The column's name.
    pub name: String,
    /// Distinct non-NULL values (estimated beyond the sample).
    pub distinct: f64,
    /// The fraction of rows where it is NULL.
    pub null_fraction: f64,
}

impl TableStats {
    /// The statistics of column `name`, if it was analyzed.
    pub fn column(&self, name: &str) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Appends the statistics to a table definition's values.
    pub(super) fn encode(&self, values: &mut Vec<Value>) {
        values.push(Value::Text("stats".into()));
        values.push(Value::Int64(self.rows as i64));
        values.push(Value::Int64(self.columns.len() as i64));
        for c in &self.columns {
            values.push(Value::Text(c.name.clone()));
            values.push(Value::Float64(c.distinct));
            values.push(Value::Float64(c.null_fraction));
        }
    }

    /// Reads what [`Self::encode`] wrote, after its marker.
    pub(super) fn decode<'v>(next: &mut dyn FnMut() -> Option<&'v Value>) -> Result<TableStats> {
        let bad = || errinternal!("corrupt table statistics");
        let int = |v: Option<&Value>| match v {
            Some(Value::Int64(i)) if *i >= 0 => Ok(*i as u64),
            _ => Err(bad()),
        };
        let float = |v: Option<&Value>| match v {
            Some(Value::Float64(f)) => Ok(*f),
            _ => Err(bad()),
        };
        let rows = int(next())?;
        let count = int(next())?;
        let mut columns = Vec::new();
        for _ in 0..count {
            let name = match next() {
                Some(Value::Text(name)) => name.clone(),
                _ => return Err(bad()),
            };
            columns.push(ColumnStats {
                name,
                distinct: float(next())?,
                null_fraction: float(next())?,
            });
        }
        Ok(TableStats { rows, columns })
    }
}

/// Gathers a table's statistics from its rows, read once.
pub struct Gatherer {
    names: Vec<String>,
    rows: u64,
    sample: Vec<Vec<Value>>,
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
        self.rows += 1;
        if self.sample.len() < SAMPLE_ROWS {
            self.sample.push(row);
            return;
        }
        let slot = self.next_random() % self.rows;
        if let Some(kept) = self.sample.get_mut(slot as usize) {
            *kept = row;
        }
    }

    /// The statistics of the rows taken.
    pub fn finish(self) -> TableStats {
        let total = self.rows as f64;
        let n = self.sample.len();
        let columns = self
            .names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut counts: HashMap<Vec<u8>, u32> = HashMap::new();
                let mut nulls = 0usize;
                for row in &self.sample {
                    match row.get(i) {
                        None | Some(Value::Null) => nulls += 1,
                        Some(v) => {
                            let key = zizhu_keycode::encode_tuple(std::slice::from_ref(v));
                            *counts.entry(key).or_default() += 1;
                        }
                    }
                }
                let null_fraction = if n == 0 { 0.0 } else { nulls as f64 / n as f64 };
                let seen = (n - nulls) as f64;
                let d = counts.len() as f64;
                let once = counts.values().filter(|&&c| c == 1).count() as f64;
                let non_null_total = total * (1.0 - null_fraction);
                let distinct = if n as u64 == self.rows || seen == 0.0 {
                    d
                } else if once == d {
                    // Every sampled value was unique: assume the column is.
                    non_null_total
                } else {
                    // Haas and Stokes's Duj1 estimator, as PostgreSQL's analyze.c.
                    let estimate = seen * d / ((seen - once) + once * seen / non_null_total);
                    estimate.clamp(d, non_null_total)
                };
                ColumnStats {
                    name: name.clone(),
                    distinct: distinct.round().max(if seen > 0.0 { 1.0 } else { 0.0 }),
                    null_fraction,
                }
            })
            .collect();
        TableStats {
            rows: self.rows,
            columns,
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
    fn statistics_survive_encoding() {
        let stats = gather((0..10).map(|i| vec![Value::Int64(i), Value::Null]));
        let mut values = Vec::new();
        stats.encode(&mut values);
        let mut it = values.iter().skip(1);
        let decoded = TableStats::decode(&mut || it.next()).expect("decodes");
        assert_eq!(decoded, stats);
    }
}
