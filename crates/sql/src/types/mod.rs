//! PostgreSQL's type system over [`Value`](zizhu_types::Value): data types, casts, text input
//! and output, operators.
//!
//! Everything here is checked against PostgreSQL 15; the unit tests quote the `psql` queries
//! their expectations come from. Design choices:
//!
//! - **Values carry no type modifiers.** A `Value` is `text` whether it came from `text`,
//!   `varchar(n)` or `char(n)`, and `numeric` whatever its `(p, s)`; the modifier is applied when
//!   a value enters a typed place ([`parse_text`], [`cast`], [`assign`]), as PostgreSQL applies
//!   `typmod` coercions. `char(n)` values are stored blank-padded.
//! - **Exact numerics keep their display scale** inside `BigDecimal` (`1.50` stays `1.50`), and
//!   the arithmetic in `numeric.rs` works on `(BigInt, scale)` so that each result scale is
//!   PostgreSQL's (`*`: sum of scales, `/`: `select_div_scale`).
//! - **Infinite dates and timestamps** are stored as PostgreSQL stores them, as the extreme
//!   integers, so ordering needs no special case.
//! - **The session time zone is UTC** for now: `timestamptz` input honours explicit offsets and
//!   output prints `+00`.
//! - **Errors** carry PostgreSQL's condition codes and message texts, so that clients and the
//!   regression tests see what PostgreSQL would report.
//! - **NULL** is handled here only as far as SQL defines it for these functions: casts and
//!   operators return NULL for NULL input, [`ops::compare`] returns `None`, and [`to_text`]
//!   returns the empty string (the caller must check for NULL when the difference matters).
//!
//! Layout: [`array`](mod@array) (arrays in their text form), [`pg_type`] (type OIDs and names), `text.rs` (input/output functions and string lengths), `numeric.rs` (numeric and
//! float arithmetic and formatting), `datetime.rs` (calendar, date/time input/output),
//! `interval.rs` (interval input/output/arithmetic), `cast.rs` ([`cast`], [`assign`]) and
//! [`ops`] (comparison and arithmetic operators).

pub mod array;
mod cast;
mod datatype;
mod datetime;
mod interval;
pub mod json;
mod numeric;
pub mod ops;
pub mod pg_type;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_datetime;
#[cfg(test)]
mod tests_ops;
mod text;

pub use cast::{assign, cast};
pub use datatype::{DataType, OidAlias};
pub use text::{parse_text, to_text};
