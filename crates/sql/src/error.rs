//! The SQL layer's error type.
//!
//! Every user-facing error carries an [`ErrorCode`], named after PostgreSQL's condition name;
//! the protocol edge maps codes to SQLSTATEs in one place. Build errors with [`errinput!`](crate::errinput):
//! `errinput!(UndefinedTable, "relation \"{name}\" does not exist")`.

use std::fmt;

/// The error conditions the SQL layer reports, named as in PostgreSQL's errcodes table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 42601
    SyntaxError,
    /// 22025
    InvalidEscapeSequence,
    /// 55P02
    CantChangeRuntimeParam,
    /// 58030
    IoError,
    /// 54000
    ProgramLimitExceeded,
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
    /// 42830
    InvalidForeignKey,
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
    /// 428C9
    GeneratedAlways,
    /// 2201E
    InvalidArgumentForLogarithm,
    /// 2201B
    InvalidRegularExpression,
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
    /// 42809
    WrongObjectType,
    /// 42P16
    InvalidTableDefinition,
    /// 55000
    ObjectNotInPrerequisiteState,
    /// 2200H
    SequenceGeneratorLimitExceeded,
    /// 42P20
    WindowingError,
    /// 42P02
    UndefinedParameter,
    /// 26000
    InvalidSqlStatementName,
    /// 42P05
    DuplicatePreparedStatement,
    /// 08P01
    ProtocolViolation,
    /// 22P03
    InvalidBinaryRepresentation,
    /// 22021
    CharacterNotInRepertoire,
    /// 22P04
    BadCopyFileFormat,
    /// 57014
    QueryCanceled,
    /// 42P04
    DuplicateDatabase,
    /// 3D000
    InvalidCatalogName,
    /// 55006
    ObjectInUse,
    /// 28000
    InvalidAuthorizationSpecification,
    /// 42939
    ReservedName,
    /// 22P05
    UntranslatableCharacter,
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
        /// What to do about it (PostgreSQL's HINT line).
        hint: Option<String>,
        /// 1-based character position of the offending part of the statement, if known.
        position: Option<usize>,
    },
    /// The transaction layer failed (serialization failure, deadlock, lock timeout, storage).
    #[error(transparent)]
    Txn(#[from] zizhu_txn::Error),
    /// Opening or managing the data directory failed (keys, encryption, locking).
    #[error(transparent)]
    DataDir(#[from] zizhu_datadir::Error),
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
            Error::Txn(_) | Error::DataDir(_) | Error::Internal(_) => None,
        }
    }

    /// Adds a DETAIL line.
    pub fn with_detail(mut self, text: impl fmt::Display) -> Self {
        if let Error::Input { detail, .. } = &mut self {
            *detail = Some(text.to_string());
        }
        self
    }

    /// Adds a HINT line.
    pub fn with_hint(mut self, text: impl fmt::Display) -> Self {
        if let Error::Input { hint, .. } = &mut self {
            *hint = Some(text.to_string());
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
            hint: None,
            position: None,
        }
    };
}

/// Builds an [`Error::Internal`]: `errinternal!("plan node {node:?} has no schema")`.
#[macro_export]
macro_rules! errinternal {
    ($($args:tt)*) => { $crate::Error::Internal(format!($($args)*)) };
}

impl ErrorCode {
    /// The SQLSTATE of this condition.
    pub fn sqlstate(self) -> &'static str {
        use ErrorCode::*;
        match self {
            SyntaxError => "42601",
            CantChangeRuntimeParam => "55P02",
            IoError => "58030",
            ProgramLimitExceeded => "54000",
            UndefinedTable => "42P01",
            UndefinedColumn => "42703",
            UndefinedFunction => "42883",
            DuplicateTable => "42P07",
            DuplicateColumn => "42701",
            AmbiguousColumn => "42702",
            DatatypeMismatch => "42804",
            CannotCoerce => "42846",
            GroupingError => "42803",
            InvalidColumnReference => "42P10",
            IndeterminateDatatype => "42P18",
            UndefinedObject => "42704",
            InvalidForeignKey => "42830",
            DuplicateObject => "42710",
            DuplicateSchema => "42P06",
            InvalidSchemaName => "3F000",
            InvalidTextRepresentation => "22P02",
            InvalidEscapeSequence => "22025",
            InvalidDatetimeFormat => "22007",
            DatetimeFieldOverflow => "22008",
            NumericValueOutOfRange => "22003",
            DivisionByZero => "22012",
            StringDataRightTruncation => "22001",
            InvalidParameterValue => "22023",
            UndefinedParameter => "42P02",
            InvalidSqlStatementName => "26000",
            DuplicatePreparedStatement => "42P05",
            ProtocolViolation => "08P01",
            InvalidBinaryRepresentation => "22P03",
            CharacterNotInRepertoire => "22021",
            BadCopyFileFormat => "22P04",
            QueryCanceled => "57014",
            DuplicateDatabase => "42P04",
            InvalidCatalogName => "3D000",
            ObjectInUse => "55006",
            InvalidAuthorizationSpecification => "28000",
            ReservedName => "42939",
            UntranslatableCharacter => "22P05",
            GeneratedAlways => "428C9",
            InvalidArgumentForLogarithm => "2201E",
            InvalidRegularExpression => "2201B",
            InvalidArgumentForPowerFunction => "2201F",
            NullValueNotAllowed => "22004",
            CardinalityViolation => "21000",
            NotNullViolation => "23502",
            UniqueViolation => "23505",
            ForeignKeyViolation => "23503",
            CheckViolation => "23514",
            FeatureNotSupported => "0A000",
            ActiveSqlTransaction => "25001",
            NoActiveSqlTransaction => "25P01",
            InFailedSqlTransaction => "25P02",
            DependentObjectsStillExist => "2BP01",
            StatementTooComplex => "54001",
            InsufficientPrivilege => "42501",
            NameTooLong => "42622",
            WrongObjectType => "42809",
            InvalidTableDefinition => "42P16",
            ObjectNotInPrerequisiteState => "55000",
            SequenceGeneratorLimitExceeded => "2200H",
            WindowingError => "42P20",
        }
    }
}

impl Error {
    /// The SQLSTATE to report for this error: the one mapping from every layer's errors to
    /// SQLSTATEs, used by the protocol edge (and by tests that check codes).
    pub fn sqlstate(&self) -> &'static str {
        use zizhu_engine::Error as Engine;
        use zizhu_txn::Error as Txn;
        match self {
            Error::Syntax { .. } => "42601",
            Error::TooComplex => "54001",
            Error::Input { code, .. } => code.sqlstate(),
            Error::Txn(err) => match err {
                Txn::Serialization(_) => "40001",
                Txn::Deadlock(_) => "40P01",
                Txn::LockNotAvailable | Txn::LockTimeout => "55P03",
                Txn::Canceled => "57014",
                Txn::ReadOnly(_) => "25006",
                Txn::NoSuchSavepoint(_) => "3B001",
                Txn::Aborted => "25P02",
                Txn::Engine(Engine::Corruption(_)) => "XX001",
                Txn::Engine(Engine::Io(_)) => "58030",
                Txn::Engine(Engine::Locked(_)) => "55006",
                Txn::Engine(Engine::Poisoned(_) | Engine::Internal(_)) | Txn::Internal(_) => {
                    "XX000"
                }
            },
            Error::DataDir(err) => {
                use zizhu_crypto::Error as Crypto;
                use zizhu_datadir::Error as Dir;
                match err {
                    Dir::Locked(_) => "55006",
                    Dir::Engine(Engine::Corruption(_)) | Dir::Key(Crypto::Authentication(_)) => {
                        "XX001"
                    }
                    Dir::Engine(Engine::Io(_)) | Dir::Io(_) | Dir::Key(Crypto::Io(_)) => "58030",
                    Dir::Engine(Engine::Locked(_)) => "55006",
                    Dir::Engine(_) | Dir::Key(Crypto::Internal(_)) => "XX000",
                    Dir::Setup(_) | Dir::Key(_) => "55000",
                }
            }
            Error::Internal(_) => "XX000",
        }
    }

    /// The 1-based character position in the statement the error refers to, if known.
    pub fn position(&self) -> Option<usize> {
        match self {
            Error::Syntax { position, .. } | Error::Input { position, .. } => *position,
            _ => None,
        }
    }
}
