//! The SQL layer's error type. The protocol edge maps each variant to a SQLSTATE, once.

/// Errors of the SQL layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The statement text is not valid SQL (SQLSTATE 42601).
    #[error("{message}")]
    Syntax {
        /// PostgreSQL-style message, e.g. `syntax error at or near "SELEC"`.
        message: String,
        /// What the parser expected, when it knows.
        detail: Option<String>,
        /// 1-based character position in the statement text, as PostgreSQL reports it.
        position: Option<usize>,
    },
    /// Nesting too deep to parse safely (SQLSTATE 54001, `statement_too_complex`).
    #[error("statement is too complex: nesting exceeds the parser's limit")]
    TooComplex,
}

/// SQL layer result.
pub type Result<T> = std::result::Result<T, Error>;
