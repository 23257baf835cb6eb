//! Planning: binding the AST to plans, and the plan types.
//!
//! [`Plan`] and [`Node`] are plain enums that print as trees ([`Plan::explain_lines`]); the
//! binder ([`Binder`]) resolves names against the catalog. Optimizer rules are a list of
//! functions from plan to plan ([`optimize`]), applied in order.

pub mod admin;
mod binder;
mod explain;
mod expr;
mod optimizer;
mod params;
mod plan;

pub use binder::{data_type_from_ast, row_rules, type_by_name, type_of, Binder, Params, RowRules};
pub use optimizer::optimize;
pub use plan::{
    Aggregate, AlterOp, Arbiter, ArithOp, ColumnName, CommentOn, CompareOp, ConflictAction, Expr,
    Frame, FrameBound, Function, JoinKind, JsonSet, Label, Node, OnConflict, Plan, RelationName,
    Returning, SetFunction, SetOp, SortKey, Statistic, Subquery, WindowFunc, WindowFunction,
};
