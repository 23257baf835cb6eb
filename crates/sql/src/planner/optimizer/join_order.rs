//! Join order from table statistics.
//!
//! A tree of inner joins is flattened into its inputs and the conjuncts of its conditions,
//! and rebuilt in the order a dynamic program over subsets of the inputs finds cheapest: each
//! step joins one more input to the tree so far, on the right, or on the left when the tree
//! so far is the smaller side (a hash join hashes its right side). The estimates come from [`TableStats`](crate::catalog::stats::TableStats)
//! gathered by `ANALYZE`: an input's rows are its table's rows times the selectivity of its
//! filter ([`super::selectivity`]: most common values, histograms, null fractions), and a
//! join keeps 1/max(distinct) of the pairs for each `a = b` conjunct (a third
//! for any other). The cost of an order is what it reads, hashes and produces: each input's
//! rows, twice the rows of the smaller side of each join (a lookup per outer row instead when
//! there are few and the condition meets an index of the input's table), and each join's
//! output rows.
//!
//! Only trees of at most [`MAX_INPUTS`] inputs, each a table access with statistics or a
//! constant row source, and conditions without subqueries are reordered: anything else keeps
//! the order it was written in, as do tables never analyzed. A projection over the new tree
//! puts the columns back in the written order, so nothing above it changes.

use std::collections::HashMap;

use super::map_children;
use super::selectivity::{distinct, filter_selectivity, UNKNOWN};
use crate::catalog::Table;
use crate::planner::plan::{ColumnName, CompareOp, Expr, JoinKind, Node};

/// The most inputs a join tree may have to be reordered (the search is over their subsets).
const MAX_INPUTS: usize = 8;

/// Outer rows up to which a join to an indexed column is costed as lookups.
const FEW_OUTER_ROWS: f64 = 64.0;

/// Reorders trees of inner joins (see the [module docs](self)).
pub(super) fn order_joins(node: Node) -> Node {
    match node {
        join @ Node::NestedLoopJoin {
            kind: JoinKind::Inner,
            ..
        } if reorderable(&join) => {
            let mut inputs = Vec::new();
            let mut conjuncts = Vec::new();
            flatten(join, 0, &mut inputs, &mut conjuncts);
            let inputs = inputs
                .into_iter()
                .map(|input| Input {
                    node: order_joins(input.node),
                    ..input
                })
                .collect();
            reorder(inputs, conjuncts)
        }
        node => map_children(node, order_joins, |n| n),
    }
}

/// Whether the inner-join tree at `join` has 2 to [`MAX_INPUTS`] inputs with estimates and
/// conditions without subqueries.
fn reorderable(join: &Node) -> bool {
    fn walk<'a>(node: &'a Node, inputs: &mut Vec<&'a Node>) -> bool {
        match node {
            Node::NestedLoopJoin {
                left,
                right,
                predicate,
                kind: JoinKind::Inner,
                ..
            } => predicate.as_ref().is_none_or(plain) && walk(left, inputs) && walk(right, inputs),
            input => {
                inputs.push(input);
                true
            }
        }
    }
    let mut inputs = Vec::new();
    walk(join, &mut inputs)
        && (2..=MAX_INPUTS).contains(&inputs.len())
        && inputs.iter().all(|i| estimate(i).is_some())
        // Only statistics move joins: constant rows alone keep their written order.
        && inputs
            .iter()
            .any(|i| estimate(i).is_some_and(|e| e.table.is_some()))
}

/// One input of a join tree: its plan, its first column in the tree's row, and its width.
struct Input {
    node: Node,
    offset: usize,
    width: usize,
}

/// Splits a tree of inner joins into its inputs and its conditions' conjuncts (over the
/// whole tree's row).
fn flatten(node: Node, offset: usize, inputs: &mut Vec<Input>, conjuncts: &mut Vec<Expr>) {
    match node {
        Node::NestedLoopJoin {
            left,
            right,
            predicate,
            kind: JoinKind::Inner,
            left_width,
            right_width,
        } => {
            if let Some(p) = predicate {
                conjuncts.extend(p.conjuncts().cloned().map(|c| renumber(c, &|i| i + offset)));
            }
            for (child, at, width) in [
                (*left, offset, left_width),
                (*right, offset + left_width, right_width),
            ] {
                if matches!(
                    child,
                    Node::NestedLoopJoin {
                        kind: JoinKind::Inner,
                        ..
                    }
                ) {
                    flatten(child, at, inputs, conjuncts);
                } else {
                    inputs.push(Input {
                        node: child,
                        offset: at,
                        width,
                    });
                }
            }
        }
        node => inputs.push(Input {
            width: 0,
            offset,
            node,
        }),
    }
}

/// `e` with each column position `i` replaced by `to(i)`.
fn renumber(e: Expr, to: &dyn Fn(usize) -> usize) -> Expr {
    match e {
        Expr::Column { index, name } => Expr::Column {
            index: to(index),
            name,
        },
        e => e.map_children(&|c| renumber(c, to)),
    }
}

/// Whether `e` holds no subquery (whose references into the row could not be renumbered).
fn plain(e: &Expr) -> bool {
    !matches!(
        e,
        Expr::Subquery(_)
            | Expr::Exists(_)
            | Expr::ArraySubquery(..)
            | Expr::InSubquery(..)
            | Expr::Quantified { .. }
    ) && e.children().into_iter().all(plain)
}

/// What the planner knows of an input: its table (for column statistics) and estimated rows.
struct Estimate<'a> {
    table: Option<&'a Table>,
    rows: f64,
    /// Whether a lookup by its table's primary key or an index can replace reading it.
    indexed: bool,
}

/// The estimate of an input, if it is one the statistics cover.
fn estimate(node: &Node) -> Option<Estimate<'_>> {
    match node {
        Node::Nothing => Some(Estimate {
            table: None,
            rows: 1.0,
            indexed: false,
        }),
        Node::Values { rows } => Some(Estimate {
            table: None,
            rows: rows.len().max(1) as f64,
            indexed: false,
        }),
        Node::Scan { table, filter, .. } => {
            let stats = table.stats.as_ref()?;
            let selectivity = filter
                .as_ref()
                .map_or(1.0, |f| filter_selectivity(f, table));
            Some(Estimate {
                table: Some(table),
                rows: (stats.rows as f64 * selectivity).max(1.0),
                indexed: true,
            })
        }
        Node::Filter { source, predicate } => {
            let inner = estimate(source)?;
            let selectivity = inner
                .table
                .map_or(UNKNOWN, |t| filter_selectivity(predicate, t));
            Some(Estimate {
                rows: (inner.rows * selectivity).max(1.0),
                indexed: false,
                ..inner
            })
        }
        _ => None,
    }
}

/// A conjunct of the tree's conditions: which inputs it reads, how selective it is, and
/// whether it equates a column of one input to something of others (for index lookups).
struct Conjunct {
    inputs: u32,
    selectivity: f64,
    /// The input whose (table) column an `a = b` conjunct equates, and the column.
    keyed: Vec<(usize, usize)>,
}

fn reorder(inputs: Vec<Input>, conjuncts: Vec<Expr>) -> Node {
    let n = inputs.len();
    let estimates: Option<Vec<Estimate>> = inputs.iter().map(|i| estimate(&i.node)).collect();
    let (Some(estimates), true) = (
        estimates,
        (2..=MAX_INPUTS).contains(&n) && conjuncts.iter().all(plain),
    ) else {
        return rebuild(inputs, conjuncts, None);
    };
    let input_of = |column: usize| {
        inputs
            .iter()
            .position(|i| (i.offset..i.offset + i.width).contains(&column))
    };
    let described: Vec<Conjunct> = conjuncts
        .iter()
        .map(|c| {
            let mut columns = Vec::new();
            collect_columns(c, &mut columns);
            let inputs_read = columns
                .iter()
                .filter_map(|&col| input_of(col))
                .fold(0u32, |set, i| set | (1 << i));
            let mut keyed = Vec::new();
            let mut selectivity = UNKNOWN;
            if let Expr::Compare(CompareOp::Eq, a, b) = c {
                let side = |e: &Expr| match e {
                    Expr::Column { index, .. } => {
                        input_of(*index).map(|i| (i, *index - inputs[i].offset))
                    }
                    _ => None,
                };
                if let (Some((ia, ca)), Some((ib, cb))) = (side(a), side(b)) {
                    if ia != ib {
                        let d = |i: usize, c: usize| {
                            estimates[i]
                                .table
                                .and_then(|t| distinct(t, c))
                                .unwrap_or(estimates[i].rows)
                                .min(estimates[i].rows)
                                .max(1.0)
                        };
                        selectivity = 1.0 / d(ia, ca).max(d(ib, cb));
                        keyed = vec![(ia, ca), (ib, cb)];
                    }
                }
            }
            Conjunct {
                inputs: inputs_read,
                selectivity,
                keyed,
            }
        })
        .collect();
    // best[set] = (cost, rows, steps): each step an input and whether it is joined as the
    // left (probe) side, the rows so far being hashed instead.
    let mut best: HashMap<u32, Partial> = HashMap::new();
    for (i, e) in estimates.iter().enumerate() {
        best.insert(1 << i, (e.rows, e.rows, vec![(i, false)]));
    }
    let full = (1u32 << n) - 1;
    for size in 1..n {
        let sets: Vec<u32> = best
            .keys()
            .copied()
            .filter(|s| s.count_ones() as usize == size)
            .collect();
        for set in sets {
            let (cost, rows, steps) = best[&set].clone();
            for j in (0..n).filter(|j| set & (1 << j) == 0) {
                let with = set | (1 << j);
                let joining: Vec<&Conjunct> = described
                    .iter()
                    .filter(|c| {
                        c.inputs & (1 << j) != 0 && c.inputs & !with == 0 && c.inputs & set != 0
                    })
                    .collect();
                let selectivity: f64 = joining.iter().map(|c| c.selectivity).product();
                let input = estimates[j].rows;
                let out = (rows * input * selectivity).max(1.0);
                let lookup = estimates[j].indexed
                    && rows <= FEW_OUTER_ROWS
                    && joining.iter().any(|c| {
                        c.keyed.iter().any(|&(i, column)| {
                            i == j && estimates[j].table.is_some_and(|t| leads_a_path(t, column))
                        })
                    });
                // A lookup per outer row; else read the input and hash the smaller side.
                let (step, swap) = if lookup {
                    (rows, false)
                } else {
                    (input + 2.0 * rows.min(input), rows < input)
                };
                let total = cost + step + out;
                if best.get(&with).is_none_or(|(c, ..)| total < *c) {
                    let mut steps = steps.clone();
                    steps.push((j, swap));
                    best.insert(with, (total, out, steps));
                }
            }
        }
    }
    let steps = best.remove(&full).map(|(_, _, steps)| steps);
    rebuild(inputs, conjuncts, steps)
}

/// The cheapest way found to join a set of inputs: its cost, its rows, and its steps (an
/// input each, and whether it joins as the left side).
type Partial = (f64, f64, Vec<(usize, bool)>);

/// Whether `column` is the first column of `table`'s primary key or of one of its indexes.
fn leads_a_path(table: &Table, column: usize) -> bool {
    table.primary_key.first() == Some(&column)
        || table
            .indexes
            .iter()
            .any(|i| i.columns.first() == Some(&column))
}

fn collect_columns(e: &Expr, out: &mut Vec<usize>) {
    if let Expr::Column { index, .. } = e {
        out.push(*index);
    }
    for c in e.children() {
        collect_columns(c, out);
    }
}

/// The join tree over `inputs` joined in `steps` (the written order if `None`): each step
/// joins an input to the tree so far, as its right side or, if the step says so, as its left
/// (so that a hash join hashes the smaller tree). Each conjunct goes to the lowest join that
/// has its columns, and a projection on top puts the columns back in the written order if
/// they moved.
fn rebuild(inputs: Vec<Input>, conjuncts: Vec<Expr>, steps: Option<Vec<(usize, bool)>>) -> Node {
    let steps = steps.unwrap_or_else(|| (0..inputs.len()).map(|i| (i, false)).collect());
    let total: usize = inputs.iter().map(|i| i.width).sum();
    let mut names: Vec<Option<ColumnName>> = vec![None; total];
    let mut pending: Vec<(Expr, Vec<usize>)> = conjuncts
        .into_iter()
        .map(|c| {
            let mut columns = Vec::new();
            collect_columns(&c, &mut columns);
            (c, columns)
        })
        .collect();
    let mut slots: Vec<Option<Input>> = inputs.into_iter().map(Some).collect();
    // The written column at each position of the tree's row.
    let mut layout: Vec<usize> = Vec::new();
    let mut node: Option<Node> = None;
    for (i, swap) in steps {
        let Some(input) = slots[i].take() else {
            continue;
        };
        name_columns(&input, &mut names);
        let columns: Vec<usize> = (input.offset..input.offset + input.width).collect();
        node = Some(match node.take() {
            None => {
                layout = columns;
                input.node
            }
            Some(tree) => {
                let tree_width = layout.len();
                let (left, right, left_width, right_width) = if swap {
                    layout = columns
                        .iter()
                        .copied()
                        .chain(layout.iter().copied())
                        .collect();
                    (input.node, tree, input.width, tree_width)
                } else {
                    layout.extend(columns.iter().copied());
                    (tree, input.node, tree_width, input.width)
                };
                let placed = |c: &usize| layout.contains(c);
                let (here, later): (Vec<_>, Vec<_>) = pending
                    .into_iter()
                    .partition(|(_, columns)| columns.iter().all(placed));
                pending = later;
                let position = |g: usize| layout.iter().position(|&c| c == g).unwrap_or(g);
                Node::NestedLoopJoin {
                    left: Box::new(left),
                    right: Box::new(right),
                    predicate: here
                        .into_iter()
                        .map(|(c, _)| renumber(c, &position))
                        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b))),
                    kind: JoinKind::Inner,
                    left_width,
                    right_width,
                }
            }
        });
    }
    let mut node = node.unwrap_or(Node::Nothing);
    let position = |g: usize| layout.iter().position(|&c| c == g).unwrap_or(g);
    if let Some(rest) = pending
        .into_iter()
        .map(|(c, _)| renumber(c, &position))
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
    {
        node = Node::Filter {
            source: Box::new(node),
            predicate: rest,
        };
    }
    if layout.iter().enumerate().all(|(at, &c)| at == c) {
        return node;
    }
    Node::Project {
        source: Box::new(node),
        exprs: (0..total)
            .map(|c| Expr::Column {
                index: position(c),
                name: names[c]
                    .clone()
                    .unwrap_or_else(|| ColumnName(format!("#{c}"))),
            })
            .collect(),
    }
}

/// Display names of an input's columns (its table's `table.column`), for the projection.
fn name_columns(input: &Input, names: &mut [Option<ColumnName>]) {
    let mut node = &input.node;
    while let Node::Filter { source, .. } = node {
        node = source;
    }
    if let Node::Scan { table, .. } = node {
        for (c, column) in table.columns.iter().enumerate().take(input.width) {
            names[input.offset + c] = Some(ColumnName(format!("{}.{}", table.name, column.name)));
        }
    }
}
