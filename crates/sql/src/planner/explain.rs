//! How plans print: the tree `EXPLAIN` shows and the tests compare, one line per node.

use std::fmt;
use std::ops::Bound;

use zizhu_types::Value;

use super::plan::*;

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let distinct = |d: &bool| if *d { "DISTINCT " } else { "" };
        match self {
            Aggregate::CountStar => f.write_str("count(*)"),
            Aggregate::Count(e, d) => write!(f, "count({}{e})", distinct(d)),
            Aggregate::Sum(e, d) => write!(f, "sum({}{e})", distinct(d)),
            Aggregate::Avg(e, d) => write!(f, "avg({}{e})", distinct(d)),
            Aggregate::Min(e) => write!(f, "min({e})"),
            Aggregate::Max(e) => write!(f, "max({e})"),
            Aggregate::StringAgg(e, sep, d) => write!(f, "string_agg({}{e}, {sep})", distinct(d)),
            Aggregate::BoolAnd(e) => write!(f, "bool_and({e})"),
            Aggregate::BoolOr(e) => write!(f, "bool_or({e})"),
            Aggregate::Statistic(e, s, d) => {
                let name = format!("{s:?}").to_lowercase().replace("samp", "_samp");
                let name = name.replace("pop", "_pop");
                write!(f, "{name}({}{e})", distinct(d))
            }
            Aggregate::ArrayAgg(e) => write!(f, "array_agg({e})"),
            Aggregate::JsonAgg(e, false) => write!(f, "json_agg({e})"),
            Aggregate::JsonAgg(e, true) => write!(f, "jsonb_agg({e})"),
            Aggregate::Filtered(inner, condition) => {
                write!(f, "{inner} FILTER (WHERE {condition})")
            }
            Aggregate::Ordered(inner, keys) => {
                write!(f, "{inner} ORDER BY ")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", k.expr)?;
                    match (k.descending, k.nulls_first) {
                        (true, true) => f.write_str(" DESC")?,
                        (true, false) => f.write_str(" DESC NULLS LAST")?,
                        (false, true) => f.write_str(" NULLS FIRST")?,
                        (false, false) => {}
                    }
                }
                Ok(())
            }
        }
    }
}

/// A value as a SQL literal, as expressions print constants.
fn literal(v: &Value) -> String {
    Expr::Constant(v.clone()).to_string()
}

/// Column names as a key prints them: `a`, or `(a, b)`.
fn tuple_names(names: &[&str]) -> String {
    match names {
        [one] => one.to_string(),
        _ => format!("({})", names.join(", ")),
    }
}

impl Node {
    fn title(&self) -> String {
        let list = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(", ");
        match self {
            Node::Nothing => "Result".into(),
            Node::Scan {
                table,
                filter,
                columns,
            } => {
                let mut title = format!("Scan: {}", table.name);
                if let Some(columns) = columns {
                    // Column pruning: only these are decoded.
                    let read: Vec<&str> = table
                        .columns
                        .iter()
                        .zip(columns)
                        .filter(|(_, read)| **read)
                        .map(|(c, _)| c.name.as_str())
                        .collect();
                    match read.is_empty() {
                        true => title.push_str(" [reads no column]"),
                        false => title.push_str(&format!(" [reads {}]", read.join(", "))),
                    }
                }
                if let Some(p) = filter {
                    title.push_str(&format!(" where {p}"));
                }
                title
            }
            Node::KeyLookup {
                table,
                keys,
                filter,
            } => {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|k| k.iter().map(literal).collect::<Vec<_>>().join(", "))
                    .collect();
                let filter = filter
                    .as_ref()
                    .map(|f| format!(" where {f}"))
                    .unwrap_or_default();
                format!("KeyLookup: {} ({}){filter}", table.name, keys.join("; "))
            }
            Node::LookupBy {
                table,
                index,
                key,
                filter,
            } => {
                let columns = index.as_ref().map_or(&table.primary_key, |i| &i.columns);
                let names: Vec<&str> = columns
                    .iter()
                    .take(key.len())
                    .filter_map(|&c| table.columns.get(c).map(|c| c.name.as_str()))
                    .collect();
                let values: Vec<String> = key.iter().map(|e| e.to_string()).collect();
                let target = match index {
                    Some(index) => format!("{}.{}", table.name, index.name),
                    None => format!("{} by primary key", table.name),
                };
                let filter = filter
                    .as_ref()
                    .map(|f| format!(" where {f}"))
                    .unwrap_or_default();
                format!(
                    "LookupBy: {target} [{} = {}]{filter}",
                    tuple_names(&names),
                    match values.as_slice() {
                        [one] => one.clone(),
                        many => format!("({})", many.join(", ")),
                    }
                )
            }
            Node::IndexScan {
                table,
                index,
                prefixes,
                lower,
                upper,
                backward,
                filter,
            } => {
                let columns = index.as_ref().map_or(&table.primary_key, |i| &i.columns);
                let name = |i: usize| {
                    columns
                        .get(i)
                        .and_then(|&c| table.columns.get(c))
                        .map_or("?", |c| c.name.as_str())
                };
                let mut conditions = Vec::new();
                let width = prefixes.first().map_or(0, Vec::len);
                if width > 0 {
                    let tuple = |values: &[Value]| {
                        let values: Vec<String> = values.iter().map(literal).collect();
                        match values.as_slice() {
                            [one] => one.clone(),
                            _ => format!("({})", values.join(", ")),
                        }
                    };
                    let names: Vec<&str> = (0..width).map(name).collect();
                    let names = tuple_names(&names);
                    conditions.push(match prefixes.as_slice() {
                        [one] => format!("{names} = {}", tuple(one)),
                        many => format!(
                            "{names} IN ({})",
                            many.iter().map(|p| tuple(p)).collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
                for (bound, below, at) in [(lower, ">", ">="), (upper, "<", "<=")] {
                    match bound {
                        Bound::Included(v) => {
                            conditions.push(format!("{} {at} {}", name(width), literal(v)))
                        }
                        Bound::Excluded(v) => {
                            conditions.push(format!("{} {below} {}", name(width), literal(v)))
                        }
                        Bound::Unbounded => {}
                    }
                }
                let range = if conditions.is_empty() {
                    "all".to_string()
                } else {
                    conditions.join(" AND ")
                };
                let target = match index {
                    Some(index) => format!("{}.{}", table.name, index.name),
                    None => format!("{} by primary key", table.name),
                };
                let backward = if *backward { " backward" } else { "" };
                let filter = filter
                    .as_ref()
                    .map(|f| format!(" where {f}"))
                    .unwrap_or_default();
                format!("IndexScan: {target} [{range}]{backward}{filter}")
            }
            Node::Values { rows } => format!("Values: {} rows", rows.len()),
            Node::Filter { predicate, .. } => format!("Filter: {predicate}"),
            Node::Project { exprs, .. } => format!(
                "Project: {}",
                list(&mut exprs.iter().map(|e| e.to_string()))
            ),
            Node::Aggregate {
                group_by,
                aggregates,
                ..
            } => {
                let mut items = group_by
                    .iter()
                    .map(|e| e.to_string())
                    .chain(aggregates.iter().map(|a| a.to_string()));
                format!("Aggregate: {}", list(&mut items))
            }
            Node::Order { keys, .. } => {
                let mut items = keys.iter().map(|k| {
                    let dir = if k.descending { " desc" } else { "" };
                    let nulls = match (k.descending, k.nulls_first) {
                        (false, true) => " nulls first",
                        (true, false) => " nulls last",
                        _ => "",
                    };
                    format!("{}{dir}{nulls}", k.expr)
                });
                format!("Order: {}", list(&mut items))
            }
            Node::Limit { limit, offset, .. } => match (limit, offset) {
                (Some(l), 0) => format!("Limit: {l}"),
                (Some(l), o) => format!("Limit: {l} offset {o}"),
                (None, o) => format!("Offset: {o}"),
            },
            Node::Distinct { .. } => "Distinct".into(),
            Node::GenerateSeries { .. } => "GenerateSeries".into(),
            Node::SystemView { view } => format!("SystemView: {}", view.name()),
            Node::DistinctOn { columns, .. } => format!("DistinctOn: {columns:?}"),
            Node::WorkTable { id } => format!("WorkTable: {id}"),
            Node::ProjectSet { calls, .. } => {
                let names: Vec<String> = calls.iter().map(|(f, _)| f.name().to_string()).collect();
                format!("ProjectSet: {}", names.join(", "))
            }
            Node::Window { functions, .. } => {
                let names: Vec<String> = functions
                    .iter()
                    .map(|f| format!("{:?}", f.func).to_lowercase())
                    .collect();
                format!("Window: {}", names.join(", "))
            }
            Node::LockRows { mode, wait, .. } => format!("LockRows: {mode:?} {wait:?}"),
            Node::RecursiveCte { id, distinct, .. } => {
                format!(
                    "RecursiveCte: {id}{}",
                    if *distinct { " distinct" } else { "" }
                )
            }
            Node::SetOperation { op, all, .. } => {
                format!("{op:?}{}", if *all { " all" } else { "" })
            }
            Node::HashJoin {
                predicate, kind, ..
            } => format!("HashJoin: {} on {predicate}", kind.name()),
            Node::NestedLoopJoin {
                predicate, kind, ..
            } => {
                let kind = kind.name();
                match predicate {
                    Some(p) => format!("NestedLoopJoin: {kind} on {p}"),
                    None => format!("NestedLoopJoin: {kind}"),
                }
            }
            Node::MergeJoin {
                predicate, kind, ..
            } => format!("MergeJoin: {} on {predicate}", kind.name()),
            Node::LateralJoin {
                predicate, kind, ..
            } => {
                let kind = kind.name();
                match predicate {
                    Some(p) => format!("LateralJoin: {kind} on {p}"),
                    None => format!("LateralJoin: {kind}"),
                }
            }
        }
    }

    fn write_tree(
        &self,
        out: &mut Vec<String>,
        prefix: &str,
        child_prefix: &str,
        annotate: &dyn Fn(&Node) -> Option<String>,
    ) {
        let note = annotate(self)
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        out.push(format!("{prefix}{}{note}", self.title()));
        let children = self.children();
        for (i, child) in children.iter().enumerate() {
            let last = i + 1 == children.len();
            let (p, c) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            child.write_tree(
                out,
                &format!("{child_prefix}{p}"),
                &format!("{child_prefix}{c}"),
                annotate,
            );
        }
    }
}

/// Relation names as a list: `a, b`.
fn list(names: &[RelationName]) -> String {
    let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
    names.join(", ")
}

impl Plan {
    /// The plan as lines of a tree, as `EXPLAIN` prints it.
    pub fn explain_lines(&self) -> Vec<String> {
        self.explain_lines_with(&|_| None)
    }

    /// The plan as lines of a tree, each node followed by `annotate`'s note for it if any
    /// (`EXPLAIN ANALYZE` notes rows and time).
    pub fn explain_lines_with(&self, annotate: &dyn Fn(&Node) -> Option<String>) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            Plan::Select { root, .. } => root.write_tree(&mut out, "", "", annotate),
            Plan::Insert { table, source, .. } => {
                out.push(format!("Insert: {}", table.name));
                source.write_tree(&mut out, "└─ ", "   ", annotate);
            }
            Plan::Update {
                table,
                source,
                assignments,
                ..
            } => {
                let sets: Vec<_> = assignments
                    .iter()
                    .map(|(i, e)| format!("{} = {e}", table.columns[*i].name))
                    .collect();
                out.push(format!("Update: {} ({})", table.name, sets.join(", ")));
                source.write_tree(&mut out, "└─ ", "   ", annotate);
            }
            Plan::Delete { table, source, .. } => {
                out.push(format!("Delete: {}", table.name));
                source.write_tree(&mut out, "└─ ", "   ", annotate);
            }
            Plan::CreateTable { table, .. } => out.push(format!("CreateTable: {}", table.name)),
            Plan::CreateTableAs { table, source, .. } => {
                out.push(format!("CreateTableAs: {}", table.name));
                source.write_tree(&mut out, "└─ ", "   ", annotate);
            }
            Plan::Truncate { names, .. } => out.push(format!("Truncate: {}", list(names))),
            Plan::Analyze { names, .. } => out.push(match names {
                Some(names) => format!("Analyze: {}", list(names)),
                None => "Analyze: all tables".to_string(),
            }),
            Plan::CreateSequence { sequence, .. } => {
                out.push(format!("CreateSequence: {}", sequence.name))
            }
            Plan::DropSequence { names, .. } => out.push(format!("DropSequence: {}", list(names))),
            Plan::AlterTable { table, ops } => {
                out.push(format!("AlterTable: {table} ({} operations)", ops.len()))
            }
            Plan::DropTable { names, .. } => out.push(format!("DropTable: {}", list(names))),
            Plan::CreateIndex { table, index, .. } => {
                out.push(format!("CreateIndex: {} on {table}", index.name))
            }
            Plan::DropIndex { names, .. } => out.push(format!("DropIndex: {}", list(names))),
            Plan::CreateView { view, .. } => out.push(format!("CreateView: {}", view.name)),
            Plan::DropView { names, .. } => out.push(format!("DropView: {}", list(names))),
            Plan::CreateSchema { name, .. } => out.push(format!("CreateSchema: {name}")),
            Plan::DropSchema { names, .. } => out.push(format!("DropSchema: {}", names.join(", "))),
            Plan::AlterSchema { name, .. } => out.push(format!("AlterSchema: {name}")),
            Plan::Admin(admin) => out.push(admin.explain()),
            Plan::Comment { on, name, .. } => out.push(format!("Comment: {on:?} {name}")),
            Plan::Explain(plan) | Plan::ExplainAnalyze(plan) => {
                out.extend(plan.explain_lines_with(annotate))
            }
        }
        out
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain_lines().join("\n"))
    }
}
