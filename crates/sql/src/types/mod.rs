//! PostgreSQL's type system over [`Value`](zizhu_types::Value): data types, casts, text input
//! and output, operators.

mod datatype;

pub use datatype::DataType;
