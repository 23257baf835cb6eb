//! Optimizer rules: each rewrites a plan; [`optimize`] applies them in order.

mod access;
mod join_order;
mod prune;
mod selectivity;

use zizhu_types::Value;

use super::plan::{CompareOp, Expr, Function, JoinKind, Node, Plan};

/// A rewrite rule.
type Rule = fn(Node) -> Node;

/// The rules, in the order they run.
const RULES: &[(&str, Rule)] = &[
    ("constant folding", fold_constants),
    (
        "predicate pushdown through inner joins",
        push_down_predicates,
    ),
    ("filter pushdown into scans", push_filters_into_scans),
    ("join order from statistics", join_order::order_joins),
    ("key lookups and index scans", access::use_keys_and_indexes),
    ("index order for ORDER BY", access::use_index_order),
    ("index nested-loop joins", access::use_index_joins),
    ("merge joins on sorted inputs", access::use_merge_joins),
    ("hash joins on equal columns", use_hash_joins),
    ("column pruning in scans", prune::prune_columns),
];

/// Applies every rule to the plan's node trees.
pub fn optimize(plan: Plan) -> Plan {
    plan.map_nodes(&|mut node: Node| {
        for (_, rule) in RULES {
            node = rule(node);
        }
        node
    })
}

/// A filter's conjuncts move down through inner joins to the lowest input that has every
/// column they read; a conjunct reading both inputs of a join becomes the join's predicate
/// (where the hash join rule can use it). `FROM a, b WHERE a.id = b.id AND b.x > 5` thus
/// filters `b` before joining and joins on the key, instead of filtering a cross product.
/// Conjuncts with subqueries or volatile calls stay where they are.
fn push_down_predicates(node: Node) -> Node {
    match node {
        Node::Filter { source, predicate } if is_inner_join(&source) => {
            let conjuncts = predicate.conjuncts().cloned().collect();
            distribute(*source, conjuncts)
        }
        Node::NestedLoopJoin { .. } if is_inner_join(&node) => distribute(node, Vec::new()),
        node => map_children(node, push_down_predicates, |n| n),
    }
}

fn is_inner_join(node: &Node) -> bool {
    matches!(
        node,
        Node::NestedLoopJoin {
            kind: JoinKind::Inner,
            ..
        }
    )
}

/// `node` with `predicates` (over its output columns) applied as low as they can go.
fn distribute(node: Node, predicates: Vec<Expr>) -> Node {
    match node {
        Node::NestedLoopJoin {
            left,
            right,
            predicate,
            kind: JoinKind::Inner,
            left_width,
            right_width,
        } => {
            let all = predicates
                .into_iter()
                .chain(predicate.iter().flat_map(|p| p.conjuncts().cloned()));
            let (mut to_left, mut to_right, mut here) = (Vec::new(), Vec::new(), Vec::new());
            for p in all {
                match p.side(left_width) {
                    Some(true) => to_left.push(p),
                    Some(false) => to_right.push(p.shift_columns(left_width)),
                    None => here.push(p),
                }
            }
            Node::NestedLoopJoin {
                left: Box::new(distribute(*left, to_left)),
                right: Box::new(distribute(*right, to_right)),
                predicate: conjunction(here),
                kind: JoinKind::Inner,
                left_width,
                right_width,
            }
        }
        Node::Filter { source, predicate } => {
            let mut all = predicates;
            all.extend(predicate.conjuncts().cloned());
            distribute(*source, all)
        }
        node => {
            let node = push_down_predicates(node);
            match conjunction(predicates) {
                Some(predicate) => Node::Filter {
                    source: Box::new(node),
                    predicate,
                },
                None => node,
            }
        }
    }
}

/// `a AND b AND ...`, or `None` for no conjuncts.
fn conjunction(predicates: Vec<Expr>) -> Option<Expr> {
    predicates
        .into_iter()
        .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

/// `Filter(Scan)` becomes a scan that filters as it reads, so rejected rows are never
/// materialised as rows.
fn push_filters_into_scans(node: Node) -> Node {
    map_children(node, push_filters_into_scans, |node| match node {
        Node::Filter { source, predicate } => match *source {
            Node::Scan {
                table,
                filter: None,
                columns,
            } => Node::Scan {
                table,
                filter: Some(predicate),
                columns,
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
pub(super) fn map_children(
    node: Node,
    child: impl Fn(Node) -> Node,
    this: impl FnOnce(Node) -> Node,
) -> Node {
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
        Node::SetOperation {
            left,
            right,
            op,
            all,
        } => Node::SetOperation {
            left: boxed(left),
            right: boxed(right),
            op,
            all,
        },
        Node::DistinctOn { source, columns } => Node::DistinctOn {
            source: boxed(source),
            columns,
        },
        Node::Window { source, functions } => Node::Window {
            source: boxed(source),
            functions,
        },
        Node::ProjectSet { source, calls } => Node::ProjectSet {
            source: boxed(source),
            calls,
        },
        Node::LockRows {
            access,
            filter,
            project,
            order,
            mode,
            wait,
        } => Node::LockRows {
            access: boxed(access),
            filter,
            project,
            order,
            mode,
            wait,
        },
        Node::RecursiveCte {
            id,
            anchor,
            recursive,
            distinct,
        } => Node::RecursiveCte {
            id,
            anchor: boxed(anchor),
            recursive: boxed(recursive),
            distinct,
        },
        Node::HashJoin {
            left,
            right,
            keys,
            predicate,
            kind,
            right_width,
        } => Node::HashJoin {
            left: boxed(left),
            right: boxed(right),
            keys,
            predicate,
            kind,
            right_width,
        },
        Node::NestedLoopJoin {
            left,
            right,
            predicate,
            kind,
            left_width,
            right_width,
        } => Node::NestedLoopJoin {
            left: boxed(left),
            right: boxed(right),
            predicate,
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
            left: boxed(left),
            right: boxed(right),
            predicate,
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
            left: boxed(left),
            right: boxed(right),
            left_key,
            right_key,
            predicate,
            kind,
            right_width,
        },
        leaf @ (Node::Nothing
        | Node::Scan { .. }
        | Node::KeyLookup { .. }
        | Node::IndexScan { .. }
        | Node::LookupBy { .. }
        | Node::Values { .. }
        | Node::WorkTable { .. }
        | Node::GenerateSeries { .. }
        | Node::SystemView { .. }) => leaf,
    };
    this(node)
}

/// Folds constants in every expression of the plan, bottom up: a strict operator (comparison,
/// arithmetic, `||`, `NOT`, unary minus) with a NULL operand is NULL without evaluating the
/// other operand, `AND` with FALSE is FALSE and `OR` with TRUE is TRUE, and an expression of
/// constants is evaluated now. Like PostgreSQL, this means `x / 0 = NULL` is NULL and never
/// divides. A constant expression whose evaluation fails is left for execution to report.
fn fold_constants(node: Node) -> Node {
    map_children(node, fold_constants, |node| node.map_exprs(&fold))
}

fn fold(expr: Expr) -> Expr {
    let null = || Expr::Constant(Value::Null);
    let is_null = |e: &Expr| matches!(e, Expr::Constant(Value::Null));
    let is_bool = |e: &Expr, b: bool| matches!(e, Expr::Constant(Value::Bool(x)) if *x == b);
    let expr = expr.map_children(&fold);
    match &expr {
        Expr::Compare(op, a, b)
            if !matches!(op, CompareOp::Distinct | CompareOp::NotDistinct)
                && (is_null(a) || is_null(b)) =>
        {
            return null()
        }
        Expr::Arith(_, a, b) | Expr::Concat(a, b) if is_null(a) || is_null(b) => return null(),
        Expr::Not(a) | Expr::Negate(a) if is_null(a) => return null(),
        Expr::And(a, b) if is_bool(a, false) || is_bool(b, false) => {
            return Expr::Constant(Value::Bool(false))
        }
        Expr::Or(a, b) if is_bool(a, true) || is_bool(b, true) => {
            return Expr::Constant(Value::Bool(true))
        }
        _ => {}
    }
    let constant = !matches!(expr, Expr::Constant(_))
        && !expr.children().is_empty()
        && expr
            .children()
            .iter()
            .all(|c| matches!(c, Expr::Constant(_)))
        && matches!(
            expr,
            Expr::Not(_)
                | Expr::Negate(_)
                | Expr::And(..)
                | Expr::Or(..)
                | Expr::Compare(..)
                | Expr::Arith(..)
                | Expr::Concat(..)
                | Expr::IsNull(_)
                | Expr::Cast(..)
                | Expr::Like { .. }
                | Expr::InList(..)
                | Expr::Case(..)
                | Expr::Function(..)
        );
    let volatile = match &expr {
        Expr::Function(f, _) if f.reads_state() => true,
        Expr::Function(Function::Builtin(name), _) => crate::functions::is_volatile(name),
        _ => false,
    };
    if constant && !volatile {
        let cache = crate::execution::SubqueryCache::default();
        let env = crate::execution::Env::new(&NoReads, &cache);
        if let Ok(value) = crate::execution::eval(&expr, &[], &env) {
            return Expr::Constant(value);
        }
    }
    expr
}

/// The reader for evaluating constant expressions, which read nothing.
struct NoReads;

impl crate::execution::Reader for NoReads {
    fn lock_row(
        &self,
        _: &[u8],
        _: zizhu_txn::LockMode,
        _: zizhu_txn::WaitPolicy,
    ) -> crate::Result<Option<zizhu_txn::RowLock>> {
        Err(crate::errinternal!("a constant expression locked a row"))
    }

    fn get(&self, _: &[u8]) -> crate::Result<Option<Vec<u8>>> {
        Err(crate::errinternal!(
            "a constant expression read the database"
        ))
    }

    fn get_advisory(&self, key: &[u8]) -> crate::Result<Option<Vec<u8>>> {
        self.get(key)
    }

    fn scan(
        &self,
        _: zizhu_engine::KeyRange,
        _: zizhu_engine::Direction,
    ) -> crate::Result<crate::execution::ScanRows<'_>> {
        Err(crate::errinternal!(
            "a constant expression read the database"
        ))
    }
}

/// An inner or left nested-loop join whose condition includes `a = b` conjuncts splitting
/// between the sides ([`Expr::join_key`]) becomes a hash join on them (the rest of the
/// condition is still checked).
fn use_hash_joins(node: Node) -> Node {
    map_children(node, use_hash_joins, |node| match node {
        Node::NestedLoopJoin {
            left,
            right,
            predicate: Some(predicate),
            kind: kind @ (JoinKind::Inner | JoinKind::Left),
            left_width,
            right_width,
        } => {
            let keys: Vec<_> = predicate
                .conjuncts()
                .filter_map(|c| c.join_key(left_width))
                .collect();
            if keys.is_empty() {
                return Node::NestedLoopJoin {
                    left,
                    right,
                    predicate: Some(predicate),
                    kind,
                    left_width,
                    right_width,
                };
            }
            Node::HashJoin {
                left,
                right,
                keys,
                predicate,
                kind,
                right_width,
            }
        }
        node => node,
    })
}
