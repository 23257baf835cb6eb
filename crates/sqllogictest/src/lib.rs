//! A runner for SQLite's [sqllogictest](https://www.sqlite.org/sqllogictest/) format, the
//! conformance corpus ZizhuDB's SQL engine is held to.
//!
//! - [`parser`] reads a script into records (`statement`, `query`, `hash-threshold`, `halt`,
//!   with their `skipif` / `onlyif` conditions and line numbers); its docs describe the format.
//! - [`runner`] runs the records on an engine through the [`Connection`] trait, formats the
//!   engine's raw text values by the sqllogictest rules (`I` truncated to an integer, `R` as
//!   `%.3f`, `NULL`, `(empty)`), sorts (`nosort`, `rowsort`, `valuesort`), compares (values, or
//!   MD5 hashes for results over the hash threshold) and counts passed / failed records per file.
//!   Its docs say exactly how records are counted and how an engine plugs in.
//! - `postgres` (cargo feature `postgres`) is a [`Connection`] to a PostgreSQL server, each file
//!   in a fresh database, used to check the runner against PostgreSQL's published results.
//! - [`baseline`] reads a per-file results table (`BASELINE.md`) to hold a run to it.
//!
//! The binary `zizhu-slt` runs files or directories and prints a per-file table.
//!
//! ```
//! use zizhu_sqllogictest::{parser, Connection, Output, Runner};
//!
//! struct Constant;
//! impl Connection for Constant {
//!     fn run(&mut self, _sql: &str) -> Result<Output, String> {
//!         Ok(Output::Rows { types: None, rows: vec![vec![Some("2.5".into())]] })
//!     }
//! }
//!
//! let script = parser::parse("query I\nSELECT 5/2.0\n----\n2\n\nquery R\nSELECT 5/2.0\n----\n2.500\n")?;
//! let report = Runner::default().run_script(&script, &mut Constant);
//! assert_eq!((report.passed, report.failed), (2, 0));
//! # Ok::<(), parser::ParseError>(())
//! ```

pub mod baseline;
#[cfg(feature = "zizhu")]
pub mod embedded;
pub mod parser;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod runner;

pub use runner::{Connection, FileReport, Output, Runner, RunnerConfig, ValueKind};
