//! postgres errors → DB-API errors: SQLSTATE classified as psycopg2 does; the server's
//! message, detail and hint kept; lost connections flagged as disconnects.

use dbapi::{Error, ErrorKind};

/// Converts a `tokio_postgres` error.
pub fn from_postgres(err: tokio_postgres::Error) -> Error {
    if let Some(db) = err.as_db_error() {
        let mut message = db.message().to_owned();
        if let Some(detail) = db.detail() {
            message.push_str("; detail: ");
            message.push_str(detail);
        }
        if let Some(hint) = db.hint() {
            message.push_str("; hint: ");
            message.push_str(hint);
        }
        return Error::from_sqlstate(db.code().code(), message).with_source(err);
    }
    if err.is_closed() {
        return Error::operational(
            "the connection to the PostgreSQL server is closed; get a new connection",
        )
        .with_disconnect(true)
        .with_source(err);
    }
    let io = std::error::Error::source(&err)
        .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some());
    // The causes say what went wrong ("error performing TLS handshake: invalid peer
    // certificate: ..."); keep them in the message.
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    let kind = if text.starts_with("error serializing") || text.starts_with("error deserializing") {
        ErrorKind::Data
    } else {
        ErrorKind::Operational
    };
    Error::new(kind, text).with_disconnect(io).with_source(err)
}
