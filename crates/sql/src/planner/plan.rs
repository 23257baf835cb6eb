//! Plans: plain enums that print as trees. `EXPLAIN` shows exactly this printer's output.
//! The scalar expressions inside them are in [`super::expr`].

use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use zizhu_types::Value;

pub use super::expr::{ArithOp, ColumnName, CompareOp, Expr, Function, Subquery};
use crate::catalog::{Index, Table, View};
use crate::types::DataType;

/// A set-returning function that can appear in a select list ([`Node::ProjectSet`]).
#[derive(Clone, Debug, PartialEq)]
pub enum SetFunction {
    /// `generate_series(start, stop [, step])` over integers.
    GenerateSeries,
    /// `unnest(array)`: its elements, of this type.
    Unnest(DataType),
    /// `generate_subscripts(array, dimension)`: 1 to the array's length.
    GenerateSubscripts,
    /// `information_schema._pg_expandarray(array)`: records `(x, n)` of each element of this
    /// type and its position (what JDBC's metadata queries expand index keys with).
    ExpandArray(DataType),
    /// `json[b]_array_elements[_text]`, `json[b]_object_keys`, `json[b]_each[_text]`.
    Json(JsonSet, bool),
}

/// What a JSON set-returning function returns of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonSet {
    /// An array's elements (`_text`: as text).
    ArrayElements(bool),
    /// An object's keys.
    ObjectKeys,
    /// An object's `(key, value)` pairs (`_text`: values as text).
    Each(bool),
}

impl SetFunction {
    /// Its name.
    pub fn name(&self) -> &'static str {
        match self {
            SetFunction::GenerateSeries => "generate_series",
            SetFunction::Unnest(_) => "unnest",
            SetFunction::GenerateSubscripts => "generate_subscripts",
            SetFunction::ExpandArray(_) => "_pg_expandarray",
            SetFunction::Json(what, jsonb) => match (what, jsonb) {
                (JsonSet::ArrayElements(false), false) => "json_array_elements",
                (JsonSet::ArrayElements(false), true) => "jsonb_array_elements",
                (JsonSet::ArrayElements(true), false) => "json_array_elements_text",
                (JsonSet::ArrayElements(true), true) => "jsonb_array_elements_text",
                (JsonSet::ObjectKeys, false) => "json_object_keys",
                (JsonSet::ObjectKeys, true) => "jsonb_object_keys",
                (JsonSet::Each(false), false) => "json_each",
                (JsonSet::Each(false), true) => "jsonb_each",
                (JsonSet::Each(true), false) => "json_each_text",
                (JsonSet::Each(true), true) => "jsonb_each_text",
            },
        }
    }

    /// The columns each of its rows has.
    pub fn columns(&self, args: &[DataType]) -> Vec<(&'static str, DataType)> {
        match self {
            // Integers: bigint if any argument is, else integer.
            SetFunction::GenerateSeries => vec![(
                "generate_series",
                if args.contains(&DataType::Int64) {
                    DataType::Int64
                } else {
                    DataType::Int32
                },
            )],
            SetFunction::Unnest(element) => vec![("unnest", element.clone())],
            SetFunction::GenerateSubscripts => vec![("generate_subscripts", DataType::Int32)],
            SetFunction::ExpandArray(element) => {
                vec![("x", element.clone()), ("n", DataType::Int32)]
            }
            SetFunction::Json(what, jsonb) => {
                let document = if *jsonb {
                    DataType::Jsonb
                } else {
                    DataType::Json
                };
                match what {
                    JsonSet::ArrayElements(false) => vec![("value", document)],
                    JsonSet::ArrayElements(true) => vec![("value", DataType::Text)],
                    JsonSet::ObjectKeys => vec![(self.name(), DataType::Text)],
                    JsonSet::Each(as_text) => vec![
                        ("key", DataType::Text),
                        ("value", if *as_text { DataType::Text } else { document }),
                    ],
                }
            }
        }
    }
}

/// Aggregate functions.
#[derive(Clone, Debug, PartialEq)]
pub enum Aggregate {
    /// `count(*)`
    CountStar,
    /// `count([DISTINCT] a)`
    Count(Expr, bool),
    /// `sum([DISTINCT] a)`
    Sum(Expr, bool),
    /// `avg([DISTINCT] a)`
    Avg(Expr, bool),
    /// `min(a)`
    Min(Expr),
    /// `max(a)`
    Max(Expr),
    /// `string_agg([DISTINCT] a, separator)`
    StringAgg(Expr, Expr, bool),
    /// `bool_and(a)` (also `every(a)`)
    BoolAnd(Expr),
    /// `bool_or(a)`
    BoolOr(Expr),
    /// `variance`, `stddev` and their `_samp` / `_pop` forms.
    Statistic(Expr, Statistic, bool),
    /// `array_agg(a)`: the values, NULLs included, as an array.
    ArrayAgg(Expr),
    /// `json_agg(a)` (`jsonb_agg` if true): the values, already JSON texts (NULLs as `null`),
    /// as a JSON array.
    JsonAgg(Expr, bool),
    /// `aggregate FILTER (WHERE condition)`: only rows meeting the condition are aggregated.
    Filtered(Box<Aggregate>, Expr),
    /// `aggregate(... ORDER BY keys)`: the rows are aggregated in ascending key order.
    Ordered(Box<Aggregate>, Vec<SortKey>),
}

impl Aggregate {
    /// The expression aggregated over each row (`None` for `count(*)`).
    pub fn argument(&self) -> Option<&Expr> {
        match self {
            Aggregate::CountStar => None,
            Aggregate::Count(e, _)
            | Aggregate::Sum(e, _)
            | Aggregate::Avg(e, _)
            | Aggregate::Min(e)
            | Aggregate::Max(e)
            | Aggregate::StringAgg(e, _, _)
            | Aggregate::BoolAnd(e)
            | Aggregate::BoolOr(e)
            | Aggregate::Statistic(e, _, _)
            | Aggregate::ArrayAgg(e)
            | Aggregate::JsonAgg(e, _) => Some(e),
            Aggregate::Filtered(inner, _) | Aggregate::Ordered(inner, _) => inner.argument(),
        }
    }

    /// Whether duplicates are aggregated once (`DISTINCT`).
    pub fn distinct(&self) -> bool {
        match self {
            Aggregate::Count(_, d)
            | Aggregate::Sum(_, d)
            | Aggregate::Avg(_, d)
            | Aggregate::StringAgg(_, _, d)
            | Aggregate::Statistic(_, _, d) => *d,
            Aggregate::Filtered(inner, _) | Aggregate::Ordered(inner, _) => inner.distinct(),
            _ => false,
        }
    }

    /// Whether NULL values are aggregated too (`array_agg`), not skipped.
    pub fn keeps_nulls(&self) -> bool {
        match self {
            Aggregate::ArrayAgg(_) | Aggregate::JsonAgg(..) => true,
            Aggregate::Filtered(inner, _) | Aggregate::Ordered(inner, _) => inner.keeps_nulls(),
            _ => false,
        }
    }

    /// Every expression the aggregate evaluates.
    pub fn exprs(&self) -> Vec<&Expr> {
        let mut exprs: Vec<&Expr> = self.argument().into_iter().collect();
        match self {
            Aggregate::StringAgg(_, separator, _) => exprs.push(separator),
            Aggregate::Filtered(inner, condition) => {
                exprs = inner.exprs();
                exprs.push(condition);
            }
            Aggregate::Ordered(inner, keys) => {
                exprs = inner.exprs();
                exprs.extend(keys.iter().map(|k| &k.expr));
            }
            _ => {}
        }
        exprs
    }
}

/// The spread statistics: numeric for integer and numeric input, double precision for floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    /// `var_samp` (`variance`): NULL for fewer than two rows.
    VarSamp,
    /// `var_pop`
    VarPop,
    /// `stddev_samp` (`stddev`): NULL for fewer than two rows.
    StddevSamp,
    /// `stddev_pop`
    StddevPop,
}

impl Statistic {
    /// By SQL name.
    pub fn from_name(name: &str) -> Option<Statistic> {
        Some(match name {
            "var_samp" | "variance" => Statistic::VarSamp,
            "var_pop" => Statistic::VarPop,
            "stddev_samp" | "stddev" => Statistic::StddevSamp,
            "stddev_pop" => Statistic::StddevPop,
            _ => return None,
        })
    }

    /// Divides by N - 1 rather than N.
    pub fn sample(self) -> bool {
        matches!(self, Statistic::VarSamp | Statistic::StddevSamp)
    }

    /// The square root of the variance.
    pub fn root(self) -> bool {
        matches!(self, Statistic::StddevSamp | Statistic::StddevPop)
    }
}

/// One key of a sort.
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// What to sort by.
    pub expr: Expr,
    /// DESC.
    pub descending: bool,
    /// NULLS FIRST (the default for DESC, as in PostgreSQL).
    pub nulls_first: bool,
}

/// What `COMMENT ON` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentOn {
    /// `TABLE`
    Table,
    /// `VIEW`
    View,
    /// `SEQUENCE`
    Sequence,
    /// `INDEX`
    Index,
    /// `COLUMN` (of a table or view)
    Column,
}

/// Set operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// `UNION`
    Union,
    /// `INTERSECT`
    Intersect,
    /// `EXCEPT`
    Except,
}

/// A window function call.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowFunction {
    /// Which function.
    pub func: WindowFunc,
    /// Its arguments.
    pub args: Vec<Expr>,
    /// PARTITION BY.
    pub partition_by: Vec<Expr>,
    /// ORDER BY within the partition.
    pub order_by: Vec<SortKey>,
    /// The frame, for value and aggregate functions.
    pub frame: Frame,
}

/// Window functions.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowFunc {
    /// `row_number()`
    RowNumber,
    /// `rank()`
    Rank,
    /// `dense_rank()`
    DenseRank,
    /// `lag(x [, offset [, default]])`
    Lag,
    /// `lead(x [, offset [, default]])`
    Lead,
    /// `first_value(x)`
    FirstValue,
    /// `last_value(x)`
    LastValue,
    /// An aggregate over the frame.
    Aggregate(Aggregate),
}

/// A window frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// ROWS (physical) rather than RANGE (peers of the current row count as the current row).
    pub rows: bool,
    /// Start.
    pub start: FrameBound,
    /// End.
    pub end: FrameBound,
}

/// A window frame bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameBound {
    /// UNBOUNDED PRECEDING
    UnboundedPreceding,
    /// n PRECEDING
    Preceding(u64),
    /// CURRENT ROW
    CurrentRow,
    /// n FOLLOWING
    Following(u64),
    /// UNBOUNDED FOLLOWING
    UnboundedFollowing,
}

/// Join kinds./// Join kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// `INNER JOIN`, `CROSS JOIN`, `,`
    Inner,
    /// `LEFT [OUTER] JOIN`
    Left,
    /// `RIGHT [OUTER] JOIN`
    Right,
    /// `FULL [OUTER] JOIN`
    Full,
}

impl JoinKind {
    /// As EXPLAIN prints it.
    pub fn name(self) -> &'static str {
        match self {
            JoinKind::Inner => "inner",
            JoinKind::Left => "left",
            JoinKind::Right => "right",
            JoinKind::Full => "full",
        }
    }

    /// Whether left rows without a match are kept, padded with NULLs on the right.
    pub fn keeps_left(self) -> bool {
        matches!(self, JoinKind::Left | JoinKind::Full)
    }

    /// Whether right rows without a match are kept, padded with NULLs on the left.
    pub fn keeps_right(self) -> bool {
        matches!(self, JoinKind::Right | JoinKind::Full)
    }
}

/// A node of a query plan. Each produces rows of values.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// One row of no columns (`SELECT` without `FROM`).
    Nothing,
    /// Every row of a table, optionally filtered as it is read.
    Scan {
        /// The table.
        table: Arc<Table>,
        /// Rows that do not satisfy this are not returned.
        filter: Option<Expr>,
        /// The columns decoded from each stored row (`None`: all of them); the others read
        /// as NULL. Set by the optimizer's column pruning, where nothing reads them.
        columns: Option<Vec<bool>>,
    },
    /// Rows fetched by primary key, filtered as they are read.
    KeyLookup {
        /// The table.
        table: Arc<Table>,
        /// Primary keys to fetch.
        keys: Vec<Vec<Value>>,
        /// The scan's whole predicate, re-applied to each fetched row.
        filter: Option<Expr>,
    },
    /// Rows in the order of the primary key or of a secondary index, from ranges of it: for
    /// each prefix (in key order), the keys that begin with it and whose next column lies
    /// within `lower` and `upper`. Filtered as read.
    IndexScan {
        /// The table.
        table: Arc<Table>,
        /// The index; `None` for the primary key (the table's rows themselves).
        index: Option<Index>,
        /// Leading key values, sorted in key order, without duplicates; `[[]]` for none.
        prefixes: Vec<Vec<Value>>,
        /// Lower bound of the key column after the prefix.
        lower: Bound<Value>,
        /// Upper bound of the key column after the prefix.
        upper: Bound<Value>,
        /// Whether to read the ranges from the end (for `ORDER BY ... DESC`).
        backward: bool,
        /// The scan's whole predicate, re-applied to each fetched row.
        filter: Option<Expr>,
    },
    /// The rows of a path (the primary key if `index` is `None`) whose leading columns equal
    /// `key`, expressions whose values are known only when the node runs: an enclosing row's
    /// columns (a correlated subquery, the inner side of an index nested-loop join) or a kept
    /// plan's parameters. A key value that is NULL or does not fit its column finds nothing.
    LookupBy {
        /// The table.
        table: Arc<Table>,
        /// The index, or `None` for the primary key.
        index: Option<Index>,
        /// Values of the path's leading columns.
        key: Vec<Expr>,
        /// Applied to every row read.
        filter: Option<Expr>,
    },
    /// Literal rows.
    Values {
        /// Rows of expressions over no input.
        rows: Vec<Vec<Expr>>,
    },
    /// Rows satisfying a predicate.
    Filter {
        /// Input.
        source: Box<Node>,
        /// Predicate.
        predicate: Expr,
    },
    /// Computed columns.
    Project {
        /// Input.
        source: Box<Node>,
        /// One expression per output column.
        exprs: Vec<Expr>,
    },
    /// Groups and aggregates: output is the group values, then the aggregates.
    Aggregate {
        /// Input.
        source: Box<Node>,
        /// Grouping expressions.
        group_by: Vec<Expr>,
        /// Aggregates.
        aggregates: Vec<Aggregate>,
    },
    /// Sorted rows.
    Order {
        /// Input.
        source: Box<Node>,
        /// Keys, most significant first.
        keys: Vec<SortKey>,
    },
    /// `LIMIT` / `OFFSET`.
    Limit {
        /// Input.
        source: Box<Node>,
        /// Rows to return at most.
        limit: Option<u64>,
        /// Rows to skip first.
        offset: u64,
    },
    /// Rows with duplicates removed.
    Distinct {
        /// Input.
        source: Box<Node>,
    },
    /// `left UNION / INTERSECT / EXCEPT [ALL] right`. Rows are compared as SQL does for set
    /// operations: NULLs are not distinct.
    SetOperation {
        /// Left input.
        left: Box<Node>,
        /// Right input.
        right: Box<Node>,
        /// Operation.
        op: SetOp,
        /// `ALL` keeps duplicates (by multiplicity).
        all: bool,
    },
    /// A system view, computed when read ([`crate::system`]).
    SystemView {
        /// Which one.
        view: crate::system::SystemView,
    },
    /// `generate_series(start, stop [, step])` in FROM: one column, from `start` while not past
    /// `stop`, adding `step` (1 by default).
    GenerateSeries {
        /// First value.
        start: Expr,
        /// Last value (inclusive).
        stop: Expr,
        /// Increment; may be negative.
        step: Option<Expr>,
    },
    /// `DISTINCT ON`: the first row of each group of equal values in `columns`.
    DistinctOn {
        /// Input (ordered by the query's ORDER BY).
        source: Box<Node>,
        /// Output column positions of the DISTINCT ON expressions.
        columns: Vec<usize>,
    },
    /// Set-returning functions in a select list (`SELECT unnest(a) FROM t`): each input row
    /// is followed by each function's columns, the functions' rows side by side, as many
    /// rows as the longest has (the others padded with NULLs), and none if all are empty.
    ProjectSet {
        /// Input.
        source: Box<Node>,
        /// The calls and their arguments.
        calls: Vec<(SetFunction, Vec<Expr>)>,
    },
    /// Window functions: the input rows, each followed by one value per function.
    Window {
        /// Input.
        source: Box<Node>,
        /// The functions.
        functions: Vec<WindowFunction>,
    },
    /// `SELECT ... FOR UPDATE / FOR SHARE` over one table: the rows found at the snapshot,
    /// projected and ordered, each locked as it is pulled (so a LIMIT above locks only the rows
    /// it returns). Under READ COMMITTED a row changed meanwhile is re-read, re-checked against
    /// `filter` and re-projected; a deleted one is dropped.
    LockRows {
        /// The table access (a scan or lookup, with `filter`).
        access: Box<Node>,
        /// The query's WHERE, for the re-check.
        filter: Option<Expr>,
        /// Output columns over the table's row.
        project: Vec<Expr>,
        /// ORDER BY over the output columns.
        order: Vec<SortKey>,
        /// FOR UPDATE or FOR SHARE.
        mode: zizhu_txn::LockMode,
        /// NOWAIT, SKIP LOCKED, or wait.
        wait: zizhu_txn::WaitPolicy,
    },
    /// The rows a recursive CTE's previous iteration produced, inside its recursive term.
    WorkTable {
        /// The recursive CTE it belongs to.
        id: usize,
    },
    /// `WITH RECURSIVE`: the anchor's rows, then the recursive term run again and again over
    /// the rows of the previous round until it produces none. With `distinct` (UNION rather
    /// than UNION ALL), rows already produced are dropped, so a cycle ends.
    RecursiveCte {
        /// Identifies its working table.
        id: usize,
        /// The non-recursive term.
        anchor: Box<Node>,
        /// The recursive term, reading `WorkTable { id }`.
        recursive: Box<Node>,
        /// UNION rather than UNION ALL.
        distinct: bool,
    },
    /// A hash join (inner or left): the right side is read once into a hash table on its key
    /// expressions, and each left row probes it with its own; the rest of `predicate` is
    /// checked on every candidate pair. Output is the left row followed by the right row.
    HashJoin {
        /// Probe side.
        left: Box<Node>,
        /// Build side.
        right: Box<Node>,
        /// The condition's `a = b` conjuncts that split between the sides (see
        /// [`Expr::join_key`]): `a` over the left row, `b` over the right row.
        keys: Vec<(Expr, Expr)>,
        /// The whole join condition over the combined row.
        predicate: Expr,
        /// Inner or left.
        kind: JoinKind,
        /// Columns of the right side (for NULL padding).
        right_width: usize,
    },
    /// A nested-loop join; output is the left row followed by the right row.
    NestedLoopJoin {
        /// Outer side.
        left: Box<Node>,
        /// Inner side (read once and kept in memory).
        right: Box<Node>,
        /// Join condition over the combined row.
        predicate: Option<Expr>,
        /// Kind.
        kind: JoinKind,
        /// Columns of the left side (for NULL padding).
        left_width: usize,
        /// Columns of the right side (for NULL padding).
        right_width: usize,
    },
    /// A merge join on `left.left_key = right.right_key`: both inputs yield rows in the order
    /// of their key column (a table scan in primary-key order, an index scan), so each left
    /// row meets the run of right rows with its key. Inner or left; the whole condition is
    /// checked on every pair.
    MergeJoin {
        /// Left input, sorted by `left_key`.
        left: Box<Node>,
        /// Right input, sorted by `right_key`.
        right: Box<Node>,
        /// The key column of the left rows.
        left_key: usize,
        /// The key column of the right rows.
        right_key: usize,
        /// The whole join condition, over the combined row.
        predicate: Expr,
        /// Inner or left.
        kind: JoinKind,
        /// Columns of the right side (for NULL padding).
        right_width: usize,
    },
    /// A join with a LATERAL subquery: the right side runs once per left row, which is its
    /// innermost enclosing row ([`Expr::OuterColumn`] at depth 1). Inner or left.
    LateralJoin {
        /// The FROM items before the subquery.
        left: Box<Node>,
        /// The subquery.
        right: Box<Node>,
        /// Join condition over the combined row.
        predicate: Option<Expr>,
        /// Inner or left.
        kind: JoinKind,
        /// Columns of the right side (for NULL padding).
        right_width: usize,
    },
}

/// An output column of a query.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// Column name as PostgreSQL labels it (`?column?` for an unnamed expression).
    pub name: String,
    /// Type, when known.
    pub data_type: DataType,
}

/// A `RETURNING` clause: expressions over the table's row, and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Returning {
    /// One expression per output column.
    pub exprs: Vec<Expr>,
    /// Output columns.
    pub labels: Vec<Label>,
}

/// `INSERT ... ON CONFLICT`: which unique constraints count, and what to do on a conflict.
#[derive(Clone, Debug, PartialEq)]
pub struct OnConflict {
    /// The arbiters; empty means every unique constraint (allowed only with DO NOTHING).
    pub arbiters: Vec<Arbiter>,
    /// The action.
    pub action: ConflictAction,
}

/// A unique constraint that can arbitrate a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arbiter {
    /// The primary key.
    PrimaryKey,
    /// The unique index at this position in the table's indexes.
    Index(usize),
}

/// What to do with a proposed row that conflicts.
#[derive(Clone, Debug, PartialEq)]
pub enum ConflictAction {
    /// `DO NOTHING`: skip the row.
    Nothing,
    /// `DO UPDATE SET ... [WHERE ...]`, over the existing row followed by the proposed one
    /// (`EXCLUDED`).
    Update {
        /// New values by column position.
        assignments: Vec<(usize, Expr)>,
        /// Rows not satisfying this are left as they are.
        filter: Option<Expr>,
    },
}

/// One operation of ALTER TABLE.
#[derive(Clone, Debug, PartialEq)]
pub enum AlterOp {
    /// `ADD [COLUMN] [IF NOT EXISTS]`, with the default existing rows get.
    AddColumn {
        /// The column.
        column: crate::catalog::Column,
        /// Its DEFAULT, bound.
        default: Option<Expr>,
        /// `IF NOT EXISTS`
        if_not_exists: bool,
    },
    /// `DROP [COLUMN] [IF EXISTS]`
    DropColumn {
        /// The column.
        name: String,
        /// `IF EXISTS`
        if_exists: bool,
    },
    /// `RENAME [COLUMN] old TO new`
    RenameColumn {
        /// Current name.
        old: String,
        /// New name.
        new: String,
    },
    /// `ADD [CONSTRAINT name] CHECK (...)`: existing rows must satisfy it.
    AddCheck {
        /// The constraint as stored.
        check: crate::catalog::Check,
        /// Its expression, bound over the table's row.
        expr: Expr,
    },
    /// `ADD [CONSTRAINT name] FOREIGN KEY (...) REFERENCES ...`: existing rows must have
    /// their parents.
    AddForeignKey(crate::catalog::ForeignKey),
    /// `DROP CONSTRAINT [IF EXISTS] name` (CHECK, UNIQUE and FOREIGN KEY constraints).
    DropConstraint {
        /// The constraint.
        name: String,
        /// `IF EXISTS`
        if_exists: bool,
    },
    /// `RENAME TO new`
    RenameTable {
        /// New name.
        new: String,
    },
    /// `ALTER [COLUMN] c SET DEFAULT e` / `DROP DEFAULT`
    SetDefault {
        /// The column.
        column: String,
        /// The default's SQL text, or none.
        default: Option<String>,
    },
    /// `ALTER [COLUMN] c SET NOT NULL` / `DROP NOT NULL`
    SetNotNull {
        /// The column.
        column: String,
        /// SET rather than DROP.
        not_null: bool,
    },
    /// `ADD [CONSTRAINT name] PRIMARY KEY (columns)` on a table keyed by hidden row ids: the
    /// columns become NOT NULL and the rows are re-keyed by them.
    AddPrimaryKey {
        /// The constraint's name (for the duplicate-key error).
        name: String,
        /// The columns' names.
        columns: Vec<String>,
    },
}

/// A relation's name, resolved to the schema it is (or is to be) in.
#[derive(Clone, Debug, PartialEq)]
pub struct RelationName {
    /// Its database and schema.
    pub ns: crate::keys::Namespace,
    /// Its name within the schema.
    pub name: String,
}

impl fmt::Display for RelationName {
    /// The bare name, as PostgreSQL's messages give it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A planned statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// A query.
    Select {
        /// The rows.
        root: Node,
        /// Output columns.
        labels: Vec<Label>,
    },
    /// `INSERT`
    Insert {
        /// Target.
        table: Arc<Table>,
        /// For each column of the table, the source column feeding it, or `None` for its
        /// default.
        targets: Vec<Option<usize>>,
        /// Defaults, bound, one per table column.
        defaults: Vec<Option<Expr>>,
        /// Rows to insert.
        source: Node,
        /// `RETURNING`, over the new row.
        returning: Option<Returning>,
        /// `ON CONFLICT`.
        on_conflict: Option<OnConflict>,
        /// CHECK constraints, bound over the new row, by name.
        checks: Vec<(String, Expr)>,
    },
    /// `UPDATE`
    Update {
        /// Target.
        table: Arc<Table>,
        /// How the target rows are found (a scan, or a lookup the optimizer chose).
        source: Node,
        /// Which rows.
        filter: Option<Expr>,
        /// New values by column position, over the old row (and the FROM row).
        assignments: Vec<(usize, Expr)>,
        /// `RETURNING`, over the new row.
        returning: Option<Returning>,
        /// `FROM`: each target row is paired with the first of these rows meeting the filter.
        from: Option<Node>,
        /// CHECK constraints, bound over the new row, by name.
        checks: Vec<(String, Expr)>,
    },
    /// `DELETE`
    Delete {
        /// Target.
        table: Arc<Table>,
        /// How the target rows are found.
        source: Node,
        /// Which rows.
        filter: Option<Expr>,
        /// `RETURNING`, over the deleted row.
        returning: Option<Returning>,
        /// `USING`: a target row is deleted if some row of these meets the filter with it.
        using: Option<Node>,
    },
    /// `CREATE SEQUENCE`
    CreateSequence {
        /// The definition (its id is assigned at execution).
        sequence: crate::sequence::Sequence,
        /// `IF NOT EXISTS`
        if_not_exists: bool,
    },
    /// `DROP SEQUENCE`
    DropSequence {
        /// Names.
        names: Vec<RelationName>,
        /// `IF EXISTS`
        if_exists: bool,
    },
    /// `ALTER TABLE`
    AlterTable {
        /// The table's name.
        table: RelationName,
        /// The operations, applied in order.
        ops: Vec<AlterOp>,
    },
    /// `ANALYZE [table]`: gathers statistics of the tables (every table of the database if
    /// `None`); `skipped` are relations named that are not tables (warned about).
    Analyze {
        /// The tables.
        names: Option<Vec<RelationName>>,
        /// Named relations that are not tables.
        skipped: Vec<String>,
    },
    /// `TRUNCATE`
    Truncate {
        /// The tables.
        names: Vec<RelationName>,
        /// `CASCADE`: tables referencing them by foreign keys too.
        cascade: bool,
    },
    /// `CREATE TABLE`
    CreateTable {
        /// The definition (its id is assigned at execution).
        table: Table,
        /// `IF NOT EXISTS`
        if_not_exists: bool,
        /// Unique indexes enforcing UNIQUE constraints.
        unique: Vec<Index>,
        /// Sequences of SERIAL columns, owned by the table.
        sequences: Vec<crate::sequence::Sequence>,
    },
    /// `CREATE TABLE ... AS` and `SELECT ... INTO`: a new table with the query's columns,
    /// filled with its rows.
    CreateTableAs {
        /// The definition (its id is assigned at execution).
        table: Table,
        /// `IF NOT EXISTS`
        if_not_exists: bool,
        /// The rows.
        source: Node,
        /// Whether the rows are inserted (not `WITH NO DATA`).
        with_data: bool,
        /// The columns whose type is the binder's guess: each takes the type its values
        /// meet in with it ([`DataType::common`]), so that no value is cast to a narrower
        /// type than its own.
        guessed: Vec<bool>,
    },
    /// `CREATE [UNIQUE] INDEX`
    CreateIndex {
        /// The table.
        table: RelationName,
        /// The index (its id is assigned at execution).
        index: Index,
        /// `IF NOT EXISTS`
        if_not_exists: bool,
    },
    /// `CREATE [OR REPLACE] VIEW`
    CreateView {
        /// The view.
        view: View,
        /// `OR REPLACE`
        or_replace: bool,
    },
    /// `DROP VIEW`
    DropView {
        /// Names.
        names: Vec<RelationName>,
        /// `IF EXISTS`
        if_exists: bool,
        /// `CASCADE`: drop the views that depend on them too.
        cascade: bool,
    },
    /// `DROP INDEX`
    DropIndex {
        /// Names.
        names: Vec<RelationName>,
        /// `IF EXISTS`
        if_exists: bool,
    },
    /// `DROP TABLE`
    DropTable {
        /// Names.
        names: Vec<RelationName>,
        /// `IF EXISTS`
        if_exists: bool,
        /// `CASCADE`: drop the views that depend on them too.
        cascade: bool,
    },
    /// A statement on roles or databases.
    Admin(super::admin::Admin),
    /// `CREATE SCHEMA`
    CreateSchema {
        /// Its name.
        name: String,
        /// `AUTHORIZATION`: the owning role (else the current user).
        owner: Option<String>,
        /// `IF NOT EXISTS`
        if_not_exists: bool,
    },
    /// `DROP SCHEMA`
    DropSchema {
        /// Names.
        names: Vec<String>,
        /// `IF EXISTS`
        if_exists: bool,
        /// `CASCADE`: drop what is in them too.
        cascade: bool,
    },
    /// `ALTER SCHEMA ... RENAME TO` / `OWNER TO`
    AlterSchema {
        /// Its name.
        name: String,
        /// The new name.
        rename: Option<String>,
        /// The new owner.
        owner: Option<String>,
    },
    /// `COMMENT ON`
    Comment {
        /// What kind of object.
        on: CommentOn,
        /// The relation's name.
        name: RelationName,
        /// The column, for `COMMENT ON COLUMN`.
        column: Option<String>,
        /// The text; `None` (or `''`) removes the comment.
        text: Option<String>,
    },
    /// `EXPLAIN`
    Explain(Box<Plan>),
    /// `EXPLAIN ANALYZE`: runs the query and shows rows and time per node.
    ExplainAnalyze(Box<Plan>),
}

impl Node {
    /// The expressions a node evaluates itself.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Node::Nothing => vec![],
            Node::Scan { filter, .. }
            | Node::KeyLookup { filter, .. }
            | Node::IndexScan { filter, .. } => filter.iter().collect(),
            Node::LookupBy { key, filter, .. } => key.iter().chain(filter).collect(),
            Node::Values { rows } => rows.iter().flatten().collect(),
            Node::Filter { predicate, .. } => vec![predicate],
            Node::Project { exprs, .. } => exprs.iter().collect(),
            Node::Aggregate {
                group_by,
                aggregates,
                ..
            } => group_by
                .iter()
                .chain(aggregates.iter().flat_map(Aggregate::exprs))
                .collect(),
            Node::Order { keys, .. } => keys.iter().map(|k| &k.expr).collect(),
            Node::Limit { .. }
            | Node::Distinct { .. }
            | Node::DistinctOn { .. }
            | Node::SetOperation { .. }
            | Node::WorkTable { .. }
            | Node::SystemView { .. }
            | Node::RecursiveCte { .. } => vec![],
            Node::GenerateSeries { start, stop, step } => std::iter::once(start)
                .chain(std::iter::once(stop))
                .chain(step.iter())
                .collect(),
            Node::ProjectSet { calls, .. } => calls.iter().flat_map(|(_, args)| args).collect(),
            Node::Window { functions, .. } => functions
                .iter()
                .flat_map(|f| {
                    f.args
                        .iter()
                        .chain(&f.partition_by)
                        .chain(f.order_by.iter().map(|k| &k.expr))
                })
                .collect(),
            Node::LockRows {
                filter,
                project,
                order,
                ..
            } => filter
                .iter()
                .chain(project)
                .chain(order.iter().map(|k| &k.expr))
                .collect(),
            Node::NestedLoopJoin { predicate, .. } | Node::LateralJoin { predicate, .. } => {
                predicate.iter().collect()
            }
            Node::MergeJoin { predicate, .. } => vec![predicate],
            Node::HashJoin {
                keys, predicate, ..
            } => keys
                .iter()
                .flat_map(|(a, b)| [a, b])
                .chain([predicate])
                .collect(),
        }
    }
    /// This node with `f` applied to each expression it evaluates itself (not its children's).
    pub fn map_exprs(self, f: &dyn Fn(Expr) -> Expr) -> Node {
        let all = |v: Vec<Expr>| v.into_iter().map(f).collect();
        match self {
            Node::Scan {
                table,
                filter,
                columns,
            } => Node::Scan {
                table,
                filter: filter.map(f),
                columns,
            },
            Node::KeyLookup {
                table,
                keys,
                filter,
            } => Node::KeyLookup {
                table,
                keys,
                filter: filter.map(f),
            },
            Node::IndexScan {
                table,
                index,
                prefixes,
                lower,
                upper,
                backward,
                filter,
            } => Node::IndexScan {
                table,
                index,
                prefixes,
                lower,
                upper,
                backward,
                filter: filter.map(f),
            },
            Node::LookupBy {
                table,
                index,
                key,
                filter,
            } => Node::LookupBy {
                table,
                index,
                key: all(key),
                filter: filter.map(f),
            },
            Node::Values { rows } => Node::Values {
                rows: rows.into_iter().map(all).collect(),
            },
            Node::Filter { source, predicate } => Node::Filter {
                source,
                predicate: f(predicate),
            },
            Node::Project { source, exprs } => Node::Project {
                source,
                exprs: all(exprs),
            },
            Node::Order { source, keys } => Node::Order {
                source,
                keys: keys
                    .into_iter()
                    .map(|k| SortKey {
                        expr: f(k.expr),
                        ..k
                    })
                    .collect(),
            },
            Node::NestedLoopJoin {
                left,
                right,
                predicate,
                kind,
                left_width,
                right_width,
            } => Node::NestedLoopJoin {
                left,
                right,
                predicate: predicate.map(f),
                kind,
                left_width,
                right_width,
            },
            Node::LateralJoin {
                left,
                right,
                predicate,
                kind,
                right_width,
            } => Node::LateralJoin {
                left,
                right,
                predicate: predicate.map(f),
                kind,
                right_width,
            },
            Node::MergeJoin {
                left,
                right,
                left_key,
                right_key,
                predicate,
                kind,
                right_width,
            } => Node::MergeJoin {
                left,
                right,
                left_key,
                right_key,
                predicate: f(predicate),
                kind,
                right_width,
            },
            Node::HashJoin {
                left,
                right,
                keys,
                predicate,
                kind,
                right_width,
            } => Node::HashJoin {
                left,
                right,
                keys: keys.into_iter().map(|(a, b)| (f(a), f(b))).collect(),
                predicate: f(predicate),
                kind,
                right_width,
            },
            // Aggregates keep their expressions as bound: folding inside them is not needed for
            // correctness and their arguments are rarely constant.
            node => node,
        }
    }
    /// Whether this plan reads a recursive CTE's working table (and so cannot be cached).
    pub fn reads_work_table(&self) -> bool {
        matches!(self, Node::WorkTable { .. })
            || self.children().into_iter().any(Node::reads_work_table)
    }

    /// Whether anything in this plan refers to a row `level` or more queries out.
    pub fn refers_outward(&self, level: usize) -> bool {
        // A lateral subquery's depth 1 is the join's left row, not an enclosing query.
        if let Node::LateralJoin {
            left,
            right,
            predicate,
            ..
        } = self
        {
            return left.refers_outward(level)
                || right.refers_outward(level + 1)
                || predicate.iter().any(|p| p.refers_outward(level));
        }
        self.exprs().into_iter().any(|e| e.refers_outward(level))
            || self.children().into_iter().any(|c| c.refers_outward(level))
    }

    pub(super) fn children(&self) -> Vec<&Node> {
        match self {
            Node::GenerateSeries { .. } | Node::SystemView { .. } => vec![],
            Node::Nothing
            | Node::Scan { .. }
            | Node::KeyLookup { .. }
            | Node::IndexScan { .. }
            | Node::LookupBy { .. }
            | Node::Values { .. } => vec![],
            Node::Filter { source, .. }
            | Node::Project { source, .. }
            | Node::Aggregate { source, .. }
            | Node::Order { source, .. }
            | Node::Limit { source, .. }
            | Node::Distinct { source } => vec![source],
            Node::NestedLoopJoin { left, right, .. }
            | Node::LateralJoin { left, right, .. }
            | Node::MergeJoin { left, right, .. }
            | Node::HashJoin { left, right, .. }
            | Node::SetOperation { left, right, .. } => vec![left, right],
            Node::RecursiveCte {
                anchor, recursive, ..
            } => vec![anchor, recursive],
            Node::LockRows { access, .. } => vec![access],
            Node::Window { source, .. }
            | Node::DistinctOn { source, .. }
            | Node::ProjectSet { source, .. } => vec![source],
            Node::WorkTable { .. } => vec![],
        }
    }
}

impl Plan {
    /// Whether it changes the catalog (anything but reading and writing rows): prepared
    /// statements' kept plans are then stale once it commits.
    pub fn changes_catalog(&self) -> bool {
        !matches!(
            self,
            Plan::Select { .. }
                | Plan::Insert { .. }
                | Plan::Update { .. }
                | Plan::Delete { .. }
                | Plan::Explain(_)
                | Plan::ExplainAnalyze(_)
        )
    }

    /// Whether it creates, renames or drops schemas (CREATE and DROP DATABASE do too).
    pub fn changes_schemas(&self) -> bool {
        use super::admin::Admin;
        matches!(
            self,
            Plan::CreateSchema { .. }
                | Plan::DropSchema { .. }
                | Plan::AlterSchema { .. }
                | Plan::Admin(Admin::CreateDatabase { .. } | Admin::DropDatabase { .. })
        )
    }
}
