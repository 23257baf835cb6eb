//! Parameter values into a kept plan.
//!
//! A prepared statement keeps the plan it was bound to, with [`Expr::Param`] where its
//! parameters go (see `session::prepared`). Each execution puts its values in as constants
//! before the optimizer runs, so the access path, constant folding and everything else the
//! optimizer does is decided with the values, as for the same statement written with
//! literals (PostgreSQL's *custom plan*). Only the node trees the optimizer reads
//! ([`Plan::map_nodes`], which the optimizer uses too) and the expressions of their nodes are
//! rewritten; a parameter anywhere else (an UPDATE's assignments, RETURNING, an aggregate's
//! argument) is read from the statement's state when it is evaluated.

use zizhu_types::Value;

use super::optimizer::map_children;
use super::plan::{Expr, Node, Plan, Subquery};

impl Plan {
    /// This plan with `values` (`$1` first) in place of its parameters, where the optimizer
    /// will look at them.
    pub fn bind_params(self, values: &[Value]) -> Plan {
        self.map_nodes(&|n| node(n, values))
    }

    /// This optimized plan with every lookup of one primary key written as a
    /// [`Node::LookupBy`]: the optimizer makes a [`Node::KeyLookup`] of the key's values when
    /// they are constants (`id = 7`) and a `LookupBy` of expressions when they are
    /// parameters (`id = $1`), which read the same row. For comparing a custom plan with a
    /// generic one (`session::prepared`), both written so.
    pub fn as_generic(self) -> Plan {
        self.map_nodes(&key_lookups_as_lookups)
    }

    /// This plan with `f` applied to each of its node trees: a query's, the rows an INSERT
    /// takes, the rows an UPDATE or DELETE finds and its FROM / USING (and those of a plan
    /// EXPLAIN shows). Other plans have none.
    pub fn map_nodes(self, f: &dyn Fn(Node) -> Node) -> Plan {
        match self {
            Plan::Select { root, labels } => Plan::Select {
                root: f(root),
                labels,
            },
            Plan::CreateTableAs {
                table,
                if_not_exists,
                source,
                with_data,
                guessed,
            } => Plan::CreateTableAs {
                table,
                if_not_exists,
                source: f(source),
                with_data,
                guessed,
            },
            Plan::Insert {
                table,
                targets,
                defaults,
                source,
                returning,
                on_conflict,
                checks,
            } => Plan::Insert {
                table,
                targets,
                defaults,
                source: f(source),
                returning,
                on_conflict,
                checks,
            },
            Plan::Update {
                table,
                source,
                filter,
                assignments,
                returning,
                from,
                checks,
            } => Plan::Update {
                table,
                source: f(source),
                filter,
                assignments,
                returning,
                from: from.map(f),
                checks,
            },
            Plan::Delete {
                table,
                source,
                filter,
                returning,
                using,
            } => Plan::Delete {
                table,
                source: f(source),
                filter,
                returning,
                using: using.map(f),
            },
            Plan::Explain(plan) => Plan::Explain(Box::new(plan.map_nodes(f))),
            Plan::ExplainAnalyze(plan) => Plan::ExplainAnalyze(Box::new(plan.map_nodes(f))),
            other => other,
        }
    }
}

fn node(n: Node, values: &[Value]) -> Node {
    map_children(
        n,
        |child| node(child, values),
        |n| n.map_exprs(&|e| expr(e, values)),
    )
}

fn expr(e: Expr, values: &[Value]) -> Expr {
    let sub = |s: Box<Subquery>| {
        Box::new(Subquery {
            node: node(s.node, values),
            correlated: s.correlated,
        })
    };
    match e {
        Expr::Param { index, data_type } => match values.get(index) {
            Some(value) => Expr::Constant(value.clone()),
            None => Expr::Param { index, data_type },
        },
        Expr::Subquery(s) => Expr::Subquery(sub(s)),
        Expr::Exists(s) => Expr::Exists(sub(s)),
        Expr::ArraySubquery(s, ty) => Expr::ArraySubquery(sub(s), ty),
        Expr::InSubquery(a, s) => Expr::InSubquery(Box::new(expr(*a, values)), sub(s)),
        Expr::Quantified {
            op,
            left,
            subquery,
            all,
        } => Expr::Quantified {
            op,
            left: Box::new(expr(*left, values)),
            subquery: sub(subquery),
            all,
        },
        e => e.map_children(&|c| expr(c, values)),
    }
}

fn key_lookups_as_lookups(n: Node) -> Node {
    map_children(n, key_lookups_as_lookups, |n| match n {
        Node::KeyLookup {
            table,
            mut keys,
            filter,
        } if keys.len() == 1 => Node::LookupBy {
            table,
            index: None,
            key: keys.remove(0).into_iter().map(Expr::Constant).collect(),
            filter,
        },
        n => n,
    })
}
