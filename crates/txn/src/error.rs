//! The transaction layer's error type.

use std::fmt;

/// Errors of the transaction layer. The SQL protocol edge maps each to a SQLSTATE; the mapping
/// is noted on each variant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A concurrent change makes this transaction's outcome non-serializable at its isolation
    /// level (SQLSTATE 40001). The application should retry the transaction.
    #[error("could not serialize access due to {0}")]
    Serialization(SerializationCause),
    /// This transaction was chosen as the victim of a deadlock (SQLSTATE 40P01).
    #[error("deadlock detected: {0}")]
    Deadlock(String),
    /// A row lock could not be taken without waiting, under NOWAIT (SQLSTATE 55P03).
    #[error("could not obtain lock on row")]
    LockNotAvailable,
    /// A row lock was not granted within `lock_timeout` (SQLSTATE 55P03).
    #[error("canceling statement due to lock timeout")]
    LockTimeout,
    /// The wait was cancelled by the session (statement timeout or cancel request; SQLSTATE
    /// 57014).
    #[error("canceling statement due to user request")]
    Canceled,
    /// A write in a transaction declared read-only (SQLSTATE 25006).
    #[error("cannot execute {0} in a read-only transaction")]
    ReadOnly(String),
    /// ROLLBACK TO or RELEASE named a savepoint that does not exist (SQLSTATE 3B001).
    #[error("savepoint \"{0}\" does not exist")]
    NoSuchSavepoint(String),
    /// The transaction can no longer be used (SQLSTATE 25P02).
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    Aborted,
    /// The storage engine failed (SQLSTATE by kind: XX001 for corruption, 58030 for I/O).
    #[error(transparent)]
    Engine(#[from] zizhu_engine::Error),
    /// An invariant was broken: this is a bug (SQLSTATE XX000).
    #[error("internal error (this is a bug): {0}")]
    Internal(String),
}

/// Why a transaction could not be serialized; PostgreSQL words its 40001 messages by cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerializationCause {
    /// The row was changed by a transaction that committed after this one's snapshot.
    ConcurrentUpdate,
    /// The row was deleted by a transaction that committed after this one's snapshot.
    ConcurrentDelete,
    /// SERIALIZABLE: something this transaction read was changed by a transaction that
    /// committed after its snapshot.
    ReadWriteDependencies,
}

impl fmt::Display for SerializationCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SerializationCause::ConcurrentUpdate => "concurrent update",
            SerializationCause::ConcurrentDelete => "concurrent delete",
            SerializationCause::ReadWriteDependencies => {
                "read/write dependencies among transactions"
            }
        })
    }
}

impl From<zizhu_keycode::Error> for Error {
    fn from(err: zizhu_keycode::Error) -> Self {
        Error::Engine(zizhu_engine::Error::Corruption(err.to_string()))
    }
}

/// Transaction layer result.
pub type Result<T> = std::result::Result<T, Error>;

/// Builds an [`Error::Internal`]: `errinternal!("lock table lost waiter {}", id)`.
macro_rules! errinternal {
    ($($args:tt)*) => { $crate::Error::Internal(format!($($args)*)) };
}
pub(crate) use errinternal;
