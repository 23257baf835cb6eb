//! Optimizer rules: each rewrites a plan; [`optimize`] applies them in order.

use super::plan::{Node, Plan};

/// A rewrite rule.
type Rule = fn(Node) -> Node;

/// The rules, in the order they run.
const RULES: &[(&str, Rule)] = &[("filter pushdown into scans", push_filters_into_scans)];

/// Applies every rule to the plan's node trees.
pub fn optimize(plan: Plan) -> Plan {
    let run = |mut node: Node| {
        for (_, rule) in RULES {
            node = rule(node);
        }
        node
    };
    match plan {
        Plan::Select { root, labels } => Plan::Select {
            root: run(root),
            labels,
        },
        Plan::Insert {
            table,
            targets,
            defaults,
            source,
        } => Plan::Insert {
            table,
            targets,
            defaults,
            source: run(source),
        },
        Plan::Explain(plan) => Plan::Explain(Box::new(optimize(*plan))),
        other => other,
    }
}

/// `Filter(Scan)` becomes a scan that filters as it reads, so rejected rows are never
/// materialised as rows.
fn push_filters_into_scans(node: Node) -> Node {
    map_children(node, push_filters_into_scans, |node| match node {
        Node::Filter { source, predicate } => match *source {
            Node::Scan {
                table,
                filter: None,
            } => Node::Scan {
                table,
                filter: Some(predicate),
            },
            source => Node::Filter {
                source: Box::new(source),
                predicate,
            },
        },
        node => node,
    })
}

/// Rewrites the children of `node` with `child`, then `node` itself with `this`.
fn map_children(node: Node, child: fn(Node) -> Node, this: impl FnOnce(Node) -> Node) -> Node {
    let boxed = |n: Box<Node>| Box::new(child(*n));
    let node = match node {
        Node::Filter { source, predicate } => Node::Filter {
            source: boxed(source),
            predicate,
        },
        Node::Project { source, exprs } => Node::Project {
            source: boxed(source),
            exprs,
        },
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => Node::Aggregate {
            source: boxed(source),
            group_by,
            aggregates,
        },
        Node::Order { source, keys } => Node::Order {
            source: boxed(source),
            keys,
        },
        Node::Limit {
            source,
            limit,
            offset,
        } => Node::Limit {
            source: boxed(source),
            limit,
            offset,
        },
        Node::Distinct { source } => Node::Distinct {
            source: boxed(source),
        },
        Node::NestedLoopJoin {
            left,
            right,
            predicate,
            kind,
            right_width,
        } => Node::NestedLoopJoin {
            left: boxed(left),
            right: boxed(right),
            predicate,
            kind,
            right_width,
        },
        leaf @ (Node::Nothing | Node::Scan { .. } | Node::Values { .. }) => leaf,
    };
    this(node)
}
