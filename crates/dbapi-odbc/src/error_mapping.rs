//! odbc-api errors → DB-API errors: the diagnostic record's SQLSTATE classified as for the
//! other adapters, with ODBC's own classes (driver manager `IM`, timeouts `HYT`) on top.

use dbapi::{Error, ErrorKind};

/// Converts an `odbc-api` error. Connection-string text never reaches the message: odbc-api
/// does not echo it, and the driver manager's records name the DSN or driver, not the
/// password.
pub fn from_odbc(err: odbc_api::Error) -> Error {
    match &err {
        odbc_api::Error::Diagnostics { record, function } => {
            let state = String::from_utf8_lossy(&record.state.0).into_owned();
            let message = String::from_utf8_lossy(&record.message)
                .trim_end_matches('\0')
                .to_owned();
            let (kind, hint) = if state == "01000" && message.contains("Can't open lib") {
                // unixODBC's first record is this warning; IM003 follows it.
                classify("IM003")
            } else {
                classify(&state)
            };
            let text = match hint {
                Some(hint) => format!("{message} (SQLSTATE {state}, in {function}); {hint}"),
                None => format!("{message} (SQLSTATE {state}, in {function})"),
            };
            let mut out = Error::from_sqlstate(state.clone(), text);
            if out.kind() != kind {
                out = Error::new(kind, out.message().to_owned())
                    .with_sqlstate(state)
                    .with_disconnect(out.is_disconnect());
            }
            out.with_native_code(i64::from(record.native_error))
                .with_source(err)
        }
        odbc_api::Error::TooLargeValueForBuffer { .. } => {
            Error::data(format!("a value did not fit its fetch buffer: {err}")).with_source(err)
        }
        odbc_api::Error::FailedReadingInput(_) => {
            Error::operational(err.to_string()).with_source(err)
        }
        _ => Error::new(ErrorKind::Interface, err.to_string()).with_source(err),
    }
}

/// The DB-API kind of an ODBC SQLSTATE, and what to do about it where ODBC's own classes
/// need saying.
fn classify(state: &str) -> (ErrorKind, Option<&'static str>) {
    match state {
        "IM002" => (
            ErrorKind::Interface,
            Some("the data source name is not in odbc.ini (ODBCINI / ODBCSYSINI) and no Driver= was given: check the DSN or name a driver"),
        ),
        "IM003" => (
            ErrorKind::Interface,
            Some("the driver's library could not be loaded: check the Driver= path in odbcinst.ini and that the library is installed"),
        ),
        s if s.starts_with("IM") => (
            ErrorKind::Interface,
            Some("the ODBC driver manager refused the request: check the connection string and odbcinst.ini"),
        ),
        "HYT00" | "HYT01" => (ErrorKind::Operational, Some("the driver's timeout expired")),
        "HY000" => (ErrorKind::Database, None),
        "28000" => (
            ErrorKind::Operational,
            Some("the server refused the login: check UID and PWD"),
        ),
        s => (ErrorKind::from_sqlstate(s), None),
    }
}

#[cfg(test)]
mod tests {
    use super::classify;
    use dbapi::ErrorKind;

    #[test]
    fn odbc_classes_map_to_dbapi_kinds() {
        for (state, kind) in [
            ("08001", ErrorKind::Operational),
            ("08S01", ErrorKind::Operational),
            ("23505", ErrorKind::Integrity),
            ("22001", ErrorKind::Data),
            ("42S02", ErrorKind::Programming),
            ("42000", ErrorKind::Programming),
            ("HYT00", ErrorKind::Operational),
            ("HYT01", ErrorKind::Operational),
            ("IM002", ErrorKind::Interface),
            ("IM003", ErrorKind::Interface),
            ("28000", ErrorKind::Operational),
        ] {
            assert_eq!(classify(state).0, kind, "{state}");
        }
        assert!(dbapi::sqlstate_is_disconnect("08S01"));
    }
}
