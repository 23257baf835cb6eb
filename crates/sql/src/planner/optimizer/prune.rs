//! Column pruning: a table scan decodes only the columns something above it reads.
//!
//! Decoding a stored row costs per column, and a text column costs an allocation, so
//! `SELECT g, sum(v) FROM t GROUP BY g` should not decode `t`'s other columns. The rule walks
//! down from each plan root with the set of columns the consumer needs from a node's output:
//! - the root's consumer (the client, or a DML statement writing rows back) needs all of them;
//! - `Project` and `Aggregate` compute new rows, so below them only the columns their
//!   expressions read are needed;
//! - `Filter`, `Order` and `Limit` pass rows through, so below them the consumer's columns
//!   plus those their own expressions read are needed;
//! - every other node (joins, DISTINCT, windows, row locking, ...) needs all of its input.
//!
//! An expression with a subquery needs all columns: the subquery may read the row through
//! [`Expr::OuterColumn`], which this rule does not follow. A [`Node::Scan`] then gets the
//! mask of its needed columns (its own filter's included) in `columns`; the columns left out
//! read as NULL, which nothing above can observe.

use std::collections::BTreeSet;

use super::map_children;
use crate::planner::plan::{Expr, Node};

/// What a node's consumer reads from its rows.
#[derive(Clone, Debug)]
enum Needed {
    /// Every column.
    All,
    /// These column positions.
    Only(BTreeSet<usize>),
}

impl Needed {
    /// This plus the columns `exprs` read.
    fn with(self, exprs: &[&Expr]) -> Needed {
        let Needed::Only(mut set) = self else {
            return Needed::All;
        };
        for expr in exprs {
            if !columns_read(expr, &mut set) {
                return Needed::All;
            }
        }
        Needed::Only(set)
    }
}

/// Adds the input columns `expr` reads to `set`; false if it has a subquery, which may read
/// more of the row than can be seen here.
fn columns_read(expr: &Expr, set: &mut BTreeSet<usize>) -> bool {
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Column { index, .. } => {
                set.insert(*index);
            }
            Expr::Subquery(_)
            | Expr::Exists(_)
            | Expr::InSubquery(..)
            | Expr::Quantified { .. }
            | Expr::ArraySubquery(..) => return false,
            e => stack.extend(e.children()),
        }
    }
    true
}

/// The rule: prunes the scans of a plan root, whose consumer needs every column.
pub(super) fn prune_columns(node: Node) -> Node {
    prune(node, Needed::All)
}

fn prune(node: Node, needed: Needed) -> Node {
    match node {
        Node::Scan {
            table,
            filter,
            columns,
        } => {
            let needed = needed.with(&filter.iter().collect::<Vec<_>>());
            let columns = match needed {
                Needed::Only(set) if set.len() < table.columns.len() => {
                    Some((0..table.columns.len()).map(|c| set.contains(&c)).collect())
                }
                _ => columns,
            };
            Node::Scan {
                table,
                filter,
                columns,
            }
        }
        Node::Project { .. } | Node::Aggregate { .. } => {
            let below = Needed::Only(BTreeSet::new()).with(&node.exprs());
            with_source(node, below)
        }
        Node::Filter { .. } | Node::Order { .. } => {
            let below = needed.with(&node.exprs());
            with_source(node, below)
        }
        Node::Limit { .. } => with_source(node, needed),
        node => map_children(node, prune_columns, |n| n),
    }
}

/// `node` (one with a single `source`) with its source pruned for `needed`.
fn with_source(mut node: Node, needed: Needed) -> Node {
    if let Node::Project { source, .. }
    | Node::Aggregate { source, .. }
    | Node::Filter { source, .. }
    | Node::Order { source, .. }
    | Node::Limit { source, .. } = &mut node
    {
        let child = std::mem::replace(source.as_mut(), Node::Nothing);
        **source = prune(child, needed);
    }
    node
}
