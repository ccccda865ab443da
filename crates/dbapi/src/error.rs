//! One error type for every driver, classified by DB-API 2 kind.

use std::fmt;

/// The convenient result alias used across the DB-API traits.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The DB-API 2 exception hierarchy, flattened into a kind.
///
/// `Warning` is deliberately absent: DB-API warnings are reported (see
/// [`crate::Cursor::warnings`]), never raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Misuse of the interface itself: a closed connection or cursor, fetching before
    /// `execute`, a bad DSN, a connection returned to the wrong pool.
    Interface,
    /// A database error that fits no narrower kind.
    Database,
    /// Problems with the processed data: division by zero, numeric overflow, bad casts.
    Data,
    /// Errors in the database's operation that are not the programmer's fault: lost
    /// connections, failed authentication, serialization failures, timeouts.
    Operational,
    /// Relational integrity is affected: duplicate keys, foreign key violations.
    Integrity,
    /// The database hit an internal error: an invalid cursor or transaction state.
    Internal,
    /// Programming errors: syntax errors, missing tables, wrong number of parameters.
    Programming,
    /// The driver or the database does not support the requested operation.
    NotSupported,
}

impl ErrorKind {
    /// The DB-API 2 exception name of this kind, e.g. `"ProgrammingError"`.
    #[must_use]
    pub const fn dbapi_name(self) -> &'static str {
        match self {
            Self::Interface => "InterfaceError",
            Self::Database => "DatabaseError",
            Self::Data => "DataError",
            Self::Operational => "OperationalError",
            Self::Integrity => "IntegrityError",
            Self::Internal => "InternalError",
            Self::Programming => "ProgrammingError",
            Self::NotSupported => "NotSupportedError",
        }
    }

    /// Classifies a five-character SQLSTATE the way psycopg2 does, by its class (first two
    /// characters). Unknown classes map to [`ErrorKind::Database`].
    #[must_use]
    pub fn from_sqlstate(sqlstate: &str) -> Self {
        let b = sqlstate.as_bytes();
        let (c0, c1) = match b {
            [c0, c1, ..] => (c0.to_ascii_uppercase(), c1.to_ascii_uppercase()),
            _ => return Self::Database,
        };
        match (c0, c1) {
            (b'0', b'8') => Self::Operational,
            (b'0', b'A') => Self::NotSupported,
            (b'2', b'0' | b'1') => Self::Programming,
            (b'2', b'2') => Self::Data,
            (b'2', b'3') => Self::Integrity,
            (b'2', b'4' | b'5' | b'B' | b'D' | b'F') => Self::Internal,
            (b'2', b'6' | b'7' | b'8') => Self::Operational,
            (b'3', b'4') => Self::Operational,
            (b'3', b'8' | b'9' | b'B') => Self::Internal,
            (b'3', b'D' | b'F') => Self::Programming,
            (b'4', b'0') => Self::Operational,
            (b'4', b'2' | b'4') => Self::Programming,
            (b'5', _) => Self::Operational,
            (b'F' | b'P' | b'X', _) => Self::Internal,
            (b'H', _) => Self::Operational,
            _ => Self::Database,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dbapi_name())
    }
}

/// Whether a SQLSTATE says the session is gone: class 08 (connection exception) or
/// 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now).
#[must_use]
pub fn sqlstate_is_disconnect(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A DB-API error: a kind, a message, and whatever the driver knows (SQLSTATE, native code,
/// the underlying error).
///
/// Messages never contain passwords: adapters build them from server messages and redacted
/// [`crate::ConnectParams`].
///
/// One pointer wide: the details are boxed, so every `Result` of the DB-API is as small as
/// its success value allows and comes back in registers where that fits (`Result<()>` is
/// one word), instead of through memory on every call of the hot path.
#[derive(thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<Details>);

/// What an [`Error`] carries.
#[derive(thiserror::Error)]
struct Details {
    kind: ErrorKind,
    message: String,
    sqlstate: Option<String>,
    native_code: Option<i64>,
    disconnect: bool,
    not_sent: bool,
    outcome_unknown: bool,
    #[source]
    source: Option<Source>,
}

impl Error {
    /// A new error of `kind` with a message saying what happened and, where it helps, what
    /// to do about it.
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Details {
            kind,
            message: message.into(),
            sqlstate: None,
            native_code: None,
            disconnect: false,
            not_sent: false,
            outcome_unknown: false,
            source: None,
        }))
    }

    /// An [`ErrorKind::Interface`] error.
    #[must_use]
    pub fn interface(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Interface, message)
    }

    /// An [`ErrorKind::NotSupported`] error.
    #[must_use]
    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotSupported, message)
    }

    /// An [`ErrorKind::Programming`] error.
    #[must_use]
    pub fn programming(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Programming, message)
    }

    /// An [`ErrorKind::Operational`] error.
    #[must_use]
    pub fn operational(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Operational, message)
    }

    /// An [`ErrorKind::Data`] error.
    #[must_use]
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }

    /// The error for any call on a connection or cursor after `close()`.
    #[must_use]
    pub fn closed(what: &str) -> Self {
        Self::interface(format!(
            "the {what} is closed; open a new one (or get one from the pool) instead"
        ))
    }

    /// The error for a statement not sent because the connection was already found dead:
    /// Operational, a disconnect, and [`Error::is_not_sent`].
    #[must_use]
    pub fn dead_before_send() -> Self {
        Self::operational(
            "the connection to the server was found closed before the statement was sent \
             (nothing ran); use a new connection",
        )
        .with_disconnect(true)
        .with_not_sent(true)
    }

    /// An error classified from a SQLSTATE (psycopg2's table), which also sets
    /// [`Error::is_disconnect`] for connection-loss states.
    #[must_use]
    pub fn from_sqlstate(sqlstate: impl Into<String>, message: impl Into<String>) -> Self {
        let sqlstate = sqlstate.into();
        let mut err = Self::new(ErrorKind::from_sqlstate(&sqlstate), message);
        err.0.disconnect = sqlstate_is_disconnect(&sqlstate);
        err.0.sqlstate = Some(sqlstate);
        err
    }

    /// Sets the SQLSTATE without changing the kind.
    #[must_use]
    pub fn with_sqlstate(mut self, sqlstate: impl Into<String>) -> Self {
        let sqlstate = sqlstate.into();
        self.0.disconnect |= sqlstate_is_disconnect(&sqlstate);
        self.0.sqlstate = Some(sqlstate);
        self
    }

    /// Sets the driver's native error code (SQLite result code, MySQL errno, ...).
    #[must_use]
    pub fn with_native_code(mut self, code: i64) -> Self {
        self.0.native_code = Some(code);
        self
    }

    /// Keeps the underlying error as this error's [`std::error::Error::source`].
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Marks the error as proof that the connection is dead (an I/O error, a closed socket).
    #[must_use]
    pub fn with_disconnect(mut self, disconnect: bool) -> Self {
        self.0.disconnect = disconnect;
        self
    }

    /// Marks the error as raised before the request was sent: the driver found the
    /// connection dead first (Go's `driver.ErrBadConn` rule). Set it only when the statement
    /// provably never reached the server.
    #[must_use]
    pub fn with_not_sent(mut self, not_sent: bool) -> Self {
        self.0.not_sent = not_sent;
        self
    }

    /// True when the statement (or commit, or rollback) provably never reached the server:
    /// the connection was found dead before anything was written. Running it again on
    /// another connection cannot run it twice, so it is safe to retry outside a transaction
    /// ([`crate::Connection::check_alive`] failures are of this kind). False whenever the
    /// request may have been sent, even if the connection then died.
    #[must_use]
    pub fn is_not_sent(&self) -> bool {
        self.0.not_sent
    }

    /// Marks the error of a `commit()` whose outcome cannot be known: the connection was
    /// lost after the `COMMIT` may have reached the server, so the transaction may or may
    /// not have been committed. [`Error::commit_failed`] sets it where it applies.
    #[must_use]
    pub fn with_outcome_unknown(mut self, unknown: bool) -> Self {
        self.0.outcome_unknown = unknown;
        self
    }

    /// The error of a failed `commit()`, marked as [`Error::is_outcome_unknown`] when it is a
    /// disconnect and the `COMMIT` may have been sent (not [`Error::is_not_sent`]). Drivers
    /// and wrappers call it on every commit error; it is idempotent.
    #[must_use]
    pub fn commit_failed(mut self) -> Self {
        if self.0.disconnect && !self.0.not_sent && !self.0.outcome_unknown {
            self.0.outcome_unknown = true;
            self.0.message.push_str(
                "; the connection was lost during COMMIT, so the transaction may or may not \
                 have been committed: check the data before running it again",
            );
        }
        self
    }

    /// True for a `commit()` that failed because the connection was lost after the `COMMIT`
    /// may have reached the server: the transaction may or may not have been committed, so
    /// an application should check (for example by a unique key it wrote) instead of
    /// retrying blindly. Any other commit error means the transaction was not committed.
    #[must_use]
    pub fn is_outcome_unknown(&self) -> bool {
        self.0.outcome_unknown
    }

    /// The DB-API kind.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, without kind or SQLSTATE.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The five-character SQLSTATE, when the driver reported one.
    #[must_use]
    pub fn sqlstate(&self) -> Option<&str> {
        self.0.sqlstate.as_deref()
    }

    /// The driver's native error code, when it has one.
    #[must_use]
    pub fn native_code(&self) -> Option<i64> {
        self.0.native_code
    }

    /// True when the error proves the connection is unusable (SQLSTATE class 08,
    /// 57P01–57P03, I/O errors). Pools evict such connections.
    #[must_use]
    pub fn is_disconnect(&self) -> bool {
        self.0.disconnect
    }
}

impl fmt::Display for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(state) = &self.sqlstate {
            write!(f, " (SQLSTATE {state})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("sqlstate", &self.sqlstate)
            .field("native_code", &self.native_code)
            .field("disconnect", &self.disconnect)
            .field("not_sent", &self.not_sent)
            .field("outcome_unknown", &self.outcome_unknown)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer_so_results_stay_small() {
        use std::mem::size_of;
        assert_eq!(size_of::<Error>(), size_of::<usize>());
        assert_eq!(size_of::<crate::Result<()>>(), size_of::<usize>());
        assert_eq!(
            size_of::<crate::Result<crate::Row>>(),
            size_of::<crate::Row>()
        );
    }

    #[test]
    fn the_drivers_error_stays_the_source() {
        use std::error::Error as _;
        let io = std::io::Error::other("socket closed");
        let err = Error::operational("lost").with_source(io);
        assert_eq!(err.to_string(), "OperationalError: lost");
        let source = err.source().expect("kept");
        assert_eq!(source.to_string(), "socket closed");
    }

    #[test]
    fn sqlstate_classes_follow_psycopg2() {
        assert_eq!(ErrorKind::from_sqlstate("42601"), ErrorKind::Programming);
        assert_eq!(ErrorKind::from_sqlstate("23505"), ErrorKind::Integrity);
        assert_eq!(ErrorKind::from_sqlstate("22003"), ErrorKind::Data);
        assert_eq!(ErrorKind::from_sqlstate("08006"), ErrorKind::Operational);
        assert_eq!(ErrorKind::from_sqlstate("0A000"), ErrorKind::NotSupported);
        assert_eq!(ErrorKind::from_sqlstate("40001"), ErrorKind::Operational);
        assert_eq!(ErrorKind::from_sqlstate("25P02"), ErrorKind::Internal);
        assert_eq!(ErrorKind::from_sqlstate("57P01"), ErrorKind::Operational);
        assert_eq!(ErrorKind::from_sqlstate("XX000"), ErrorKind::Internal);
        assert_eq!(ErrorKind::from_sqlstate(""), ErrorKind::Database);
    }

    #[test]
    fn disconnect_states_are_flagged() {
        assert!(Error::from_sqlstate("08006", "gone").is_disconnect());
        assert!(Error::from_sqlstate("57P01", "admin shutdown").is_disconnect());
        assert!(!Error::from_sqlstate("57014", "query canceled").is_disconnect());
        assert!(!Error::from_sqlstate("23505", "dup").is_disconnect());
    }

    #[test]
    fn only_a_commit_cut_off_after_sending_has_an_unknown_outcome() {
        let lost = Error::from_sqlstate("08006", "connection lost").commit_failed();
        assert!(lost.is_outcome_unknown());
        assert!(lost
            .message()
            .contains("may or may not have been committed"));
        let twice = lost.commit_failed();
        assert_eq!(
            twice.message().matches("may or may not").count(),
            1,
            "idempotent"
        );
        assert!(!Error::dead_before_send()
            .commit_failed()
            .is_outcome_unknown());
        assert!(!Error::from_sqlstate("23505", "dup")
            .commit_failed()
            .is_outcome_unknown());
    }

    #[test]
    fn display_names_kind_and_sqlstate() {
        let err = Error::from_sqlstate("42P01", "relation \"x\" does not exist");
        assert_eq!(
            err.to_string(),
            "ProgrammingError: relation \"x\" does not exist (SQLSTATE 42P01)"
        );
    }
}
