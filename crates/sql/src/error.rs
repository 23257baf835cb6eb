//! The SQL layer's error type.
//!
//! Every user-facing error carries an [`ErrorCode`], named after PostgreSQL's condition name;
//! the protocol edge maps codes to SQLSTATEs in one place. Build errors with [`errinput!`]:
//! `errinput!(UndefinedTable, "relation \"{name}\" does not exist")`.

use std::fmt;

/// The error conditions the SQL layer reports, named as in PostgreSQL's errcodes table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 42601
    SyntaxError,
    /// 42P01
    UndefinedTable,
    /// 42703
    UndefinedColumn,
    /// 42883
    UndefinedFunction,
    /// 42P07
    DuplicateTable,
    /// 42701
    DuplicateColumn,
    /// 42702
    AmbiguousColumn,
    /// 42804
    DatatypeMismatch,
    /// 42846
    CannotCoerce,
    /// 42803
    GroupingError,
    /// 42P10
    InvalidColumnReference,
    /// 42P18
    IndeterminateDatatype,
    /// 42704
    UndefinedObject,
    /// 42710
    DuplicateObject,
    /// 42P06
    DuplicateSchema,
    /// 3F000
    InvalidSchemaName,
    /// 22P02
    InvalidTextRepresentation,
    /// 22007
    InvalidDatetimeFormat,
    /// 22008
    DatetimeFieldOverflow,
    /// 22003
    NumericValueOutOfRange,
    /// 22012
    DivisionByZero,
    /// 22001
    StringDataRightTruncation,
    /// 22023
    InvalidParameterValue,
    /// 2201E
    InvalidArgumentForLogarithm,
    /// 2201F
    InvalidArgumentForPowerFunction,
    /// 22004
    NullValueNotAllowed,
    /// 21000
    CardinalityViolation,
    /// 23502
    NotNullViolation,
    /// 23505
    UniqueViolation,
    /// 23503
    ForeignKeyViolation,
    /// 23514
    CheckViolation,
    /// 0A000
    FeatureNotSupported,
    /// 25001
    ActiveSqlTransaction,
    /// 25P01
    NoActiveSqlTransaction,
    /// 25P02
    InFailedSqlTransaction,
    /// 2BP01
    DependentObjectsStillExist,
    /// 54001
    StatementTooComplex,
    /// 42501
    InsufficientPrivilege,
    /// 42622
    NameTooLong,
}

/// Errors of the SQL layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The statement text is not valid SQL ([`ErrorCode::SyntaxError`]).
    #[error("{message}")]
    Syntax {
        /// PostgreSQL-style message, e.g. `syntax error at or near "SELEC"`.
        message: String,
        /// What the parser expected, when it knows.
        detail: Option<String>,
        /// 1-based character position in the statement text, as PostgreSQL reports it.
        position: Option<usize>,
    },
    /// Nesting too deep to parse safely ([`ErrorCode::StatementTooComplex`]).
    #[error("statement is too complex: nesting exceeds the parser's limit")]
    TooComplex,
    /// The statement is wrong for the data or schema it meets.
    #[error("{message}")]
    Input {
        /// The condition.
        code: ErrorCode,
        /// PostgreSQL-style message.
        message: String,
        /// Extra detail (PostgreSQL's DETAIL line).
        detail: Option<String>,
        /// 1-based character position of the offending part of the statement, if known.
        position: Option<usize>,
    },
    /// The transaction layer failed (serialization failure, deadlock, lock timeout, storage).
    #[error(transparent)]
    Txn(#[from] zizhu_txn::Error),
    /// An invariant was broken: this is a bug.
    #[error("internal error (this is a bug): {0}")]
    Internal(String),
}

impl Error {
    /// The error's condition, where the SQL layer decides it.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Syntax { .. } => Some(ErrorCode::SyntaxError),
            Error::TooComplex => Some(ErrorCode::StatementTooComplex),
            Error::Input { code, .. } => Some(*code),
            Error::Txn(_) | Error::Internal(_) => None,
        }
    }

    /// Adds a DETAIL line.
    pub fn with_detail(mut self, text: impl fmt::Display) -> Self {
        if let Error::Input { detail, .. } = &mut self {
            *detail = Some(text.to_string());
        }
        self
    }

    /// Adds a statement position, unless one is already set.
    pub fn at(mut self, pos: Option<usize>) -> Self {
        if let Error::Input { position, .. } = &mut self {
            if position.is_none() {
                *position = pos;
            }
        }
        self
    }
}

/// SQL layer result.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error::Input`]: `errinput!(DivisionByZero, "division by zero")`.
#[macro_export]
macro_rules! errinput {
    ($code:ident, $($args:tt)*) => {
        $crate::Error::Input {
            code: $crate::ErrorCode::$code,
            message: format!($($args)*),
            detail: None,
            position: None,
        }
    };
}

/// Builds an [`Error::Internal`]: `errinternal!("plan node {node:?} has no schema")`.
#[macro_export]
macro_rules! errinternal {
    ($($args:tt)*) => { $crate::Error::Internal(format!($($args)*)) };
}
