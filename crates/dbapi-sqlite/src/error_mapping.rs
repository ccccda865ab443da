//! rusqlite errors → DB-API error kinds, by SQLite result code.

use dbapi::{Error, ErrorKind};
use rusqlite::ffi;

/// SQLite's `SQLITE_CONSTRAINT_DATATYPE`: a STRICT table refused a value of the wrong type.
const CONSTRAINT_DATATYPE: i32 = 3091;

/// The DB-API kind of an SQLite (extended) result code.
#[must_use]
pub fn kind_of_code(extended_code: i32) -> ErrorKind {
    if extended_code == CONSTRAINT_DATATYPE {
        return ErrorKind::Data;
    }
    match extended_code & 0xff {
        ffi::SQLITE_ERROR => ErrorKind::Programming,
        ffi::SQLITE_INTERNAL => ErrorKind::Internal,
        ffi::SQLITE_CONSTRAINT => ErrorKind::Integrity,
        ffi::SQLITE_MISMATCH | ffi::SQLITE_TOOBIG => ErrorKind::Data,
        ffi::SQLITE_RANGE => ErrorKind::Programming,
        ffi::SQLITE_MISUSE => ErrorKind::Interface,
        ffi::SQLITE_NOLFS => ErrorKind::NotSupported,
        _ => ErrorKind::Operational,
    }
}

/// Converts a rusqlite error, keeping the SQLite result code as the native code and the
/// original as the source.
pub fn from_rusqlite(err: rusqlite::Error) -> Error {
    use rusqlite::Error as E;
    let (kind, message, code) = match &err {
        E::SqliteFailure(failure, msg) => (
            kind_of_code(failure.extended_code),
            msg.clone().unwrap_or_else(|| failure.to_string()),
            Some(failure.extended_code),
        ),
        E::SqlInputError {
            error, msg, offset, ..
        } => (
            kind_of_code(error.extended_code),
            format!("{msg} (at byte {offset} of the statement)"),
            Some(error.extended_code),
        ),
        E::MultipleStatement => (
            ErrorKind::Programming,
            "execute() runs one statement; use SqliteConnection::executescript for several"
                .to_owned(),
            None,
        ),
        E::InvalidParameterName(name) => (
            ErrorKind::Programming,
            format!("the statement has no parameter named {name:?}"),
            None,
        ),
        E::InvalidParameterCount(given, expected) => (
            ErrorKind::Programming,
            format!("the statement has {expected} parameters but {given} were given"),
            None,
        ),
        E::Utf8Error(..) | E::FromSqlConversionFailure(..) | E::IntegralValueOutOfRange(..) => {
            (ErrorKind::Data, err.to_string(), None)
        }
        E::InvalidPath(_) => (
            ErrorKind::Interface,
            "the database path is not valid UTF-8".to_owned(),
            None,
        ),
        _ => (ErrorKind::Database, err.to_string(), None),
    };
    let mut mapped = Error::new(kind, message);
    if let Some(code) = code {
        mapped = mapped.with_native_code(i64::from(code));
    }
    mapped.with_source(err)
}
