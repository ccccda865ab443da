//! mysql errors → DB-API errors: server error codes first (the SQLSTATEs MySQL sends are too
//! coarse: `42000` covers both a syntax error and an unknown database, `HY000` covers most
//! things), then the SQLSTATE class as psycopg2 reads it; a lost connection is a disconnect.

use dbapi::{Error, ErrorKind};
use mysql::{DriverError, MySqlError};

/// The DB-API kind a server error code has, where the code decides it (the mapping of
/// mysqlclient's `_mysql` error tables, for the codes a pool and an application meet).
fn kind_of_code(code: u16) -> Option<ErrorKind> {
    Some(match code {
        // Access denied, unknown database, too many connections, lock wait timeout,
        // deadlock, server shutdown, connection killed, query interrupted, read-only.
        1040 | 1044 | 1045 | 1049 | 1053 | 1205 | 1213 | 1290 | 1317 | 1792 | 1927 | 4031 => {
            ErrorKind::Operational
        }
        // Duplicate key, foreign key violations, NOT NULL, CHECK constraints.
        1022 | 1048 | 1062 | 1169 | 1216 | 1217 | 1451 | 1452 | 1557 | 1586 | 3819 | 4025 => {
            ErrorKind::Integrity
        }
        // Data too long, out of range, bad value, division by zero, truncated.
        1264 | 1265 | 1292 | 1365 | 1366 | 1406 | 1411 | 1416 | 3140 => ErrorKind::Data,
        // Syntax, unknown table/column, wrong parameter count, no such function.
        1054 | 1064 | 1091 | 1096 | 1110 | 1146 | 1149 | 1210 | 1305 | 1630 => {
            ErrorKind::Programming
        }
        1235 | 1289 => ErrorKind::NotSupported,
        _ => return None,
    })
}

/// Server error codes that mean the session is over.
fn code_is_disconnect(code: u16) -> bool {
    // Server shutdown, connection killed, idle client timed out (MySQL 8).
    matches!(code, 1053 | 1927 | 4031)
}

/// Converts a server error.
fn from_server(err: MySqlError) -> Error {
    let kind = kind_of_code(err.code).unwrap_or_else(|| match err.state.as_str() {
        // MySQL's "general error", not a SQLSTATE class of its own.
        "HY000" => ErrorKind::Database,
        state => ErrorKind::from_sqlstate(state),
    });
    let disconnect = code_is_disconnect(err.code) || dbapi::sqlstate_is_disconnect(&err.state);
    Error::new(kind, err.message.clone())
        .with_sqlstate(err.state.clone())
        .with_native_code(i64::from(err.code))
        .with_disconnect(disconnect)
        .with_source(err)
}

/// Converts a `mysql` error.
pub fn from_mysql(err: mysql::Error) -> Error {
    match err {
        mysql::Error::MySqlError(server) => from_server(server),
        mysql::Error::IoError(_) | mysql::Error::CodecError(_) => Error::operational(format!(
            "the connection to the MySQL server was lost ({err}); get a new connection"
        ))
        .with_disconnect(true)
        .with_source(err),
        mysql::Error::DriverError(ref driver) => {
            let (kind, disconnect) = match driver {
                DriverError::MismatchedStmtParams(..)
                | DriverError::Params(_)
                | DriverError::MixedParams => (ErrorKind::Programming, false),
                DriverError::PacketOutOfSync
                | DriverError::UnexpectedPacket
                | DriverError::PacketTooLarge
                | DriverError::ConnectTimeout
                | DriverError::CouldNotConnect(_)
                | DriverError::Timeout => (ErrorKind::Operational, true),
                DriverError::TlsNotSupported => (ErrorKind::NotSupported, false),
                _ => (ErrorKind::Operational, false),
            };
            Error::new(kind, err.to_string())
                .with_disconnect(disconnect)
                .with_source(err)
        }
        #[cfg(feature = "tls")]
        mysql::Error::TlsError(_) => Error::operational(format!("TLS failed: {err}"))
            .with_disconnect(true)
            .with_source(err),
        mysql::Error::FromValueError(_) | mysql::Error::FromRowError(_) => {
            Error::data(err.to_string()).with_source(err)
        }
        mysql::Error::UrlError(_) => Error::interface(err.to_string()).with_source(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16, state: &str) -> Error {
        from_mysql(mysql::Error::MySqlError(MySqlError {
            state: state.to_owned(),
            message: format!("error {code}"),
            code,
        }))
    }

    #[test]
    fn codes_decide_over_coarse_sqlstates() {
        // 1049 arrives as 42000, which would read as a Programming error.
        assert_eq!(server(1049, "42000").kind(), ErrorKind::Operational);
        assert_eq!(server(1064, "42000").kind(), ErrorKind::Programming);
        assert_eq!(server(1205, "HY000").kind(), ErrorKind::Operational);
        assert_eq!(server(1366, "HY000").kind(), ErrorKind::Data);
        let dup = server(1062, "23000");
        assert_eq!(dup.kind(), ErrorKind::Integrity);
        assert_eq!(dup.native_code(), Some(1062));
        assert_eq!(dup.sqlstate(), Some("23000"));
        assert!(!dup.is_disconnect());
    }

    #[test]
    fn unknown_codes_fall_back_to_the_sqlstate_class() {
        assert_eq!(server(9999, "22003").kind(), ErrorKind::Data);
        assert_eq!(server(9999, "HY000").kind(), ErrorKind::Database);
        assert!(server(9999, "08S01").is_disconnect());
    }

    #[test]
    fn lost_connections_are_disconnects() {
        assert!(server(1927, "70100").is_disconnect());
        let io = from_mysql(mysql::Error::IoError(std::io::Error::from(
            std::io::ErrorKind::UnexpectedEof,
        )));
        assert!(io.is_disconnect());
        assert_eq!(io.kind(), ErrorKind::Operational);
    }
}
