//! [`Odbc`]: the module; where and how to connect through the ODBC driver manager.

use std::fmt;
use std::time::Duration;

use dbapi::{Error, Module, ParamStyle, Result, Secret, ThreadSafety};
use odbc_api::ConnectionOptions;

use crate::connection_string::{self, redacted};
use crate::{from_odbc, OdbcConnection};

/// An ODBC data source: a connection string (or a DSN from `odbc.ini`) and the session
/// defaults. Cloning is cheap; the process-wide ODBC environment is created on the first
/// connect and shared.
///
/// ```no_run
/// use dbapi::{Connection, Module};
/// use dbapi_odbc::Odbc;
///
/// let odbc = Odbc::from_dsn("odbc:Driver={PostgreSQL Unicode};Server=db;Database=shop;UID=app;PWD=secret")?;
/// assert!(!odbc.target().contains("secret"));
/// let conn = odbc.connect()?;
/// # Ok::<(), dbapi::Error>(())
/// ```
#[derive(Clone)]
pub struct Odbc {
    /// The connection string followed by a NUL that is not part of it: see
    /// [`Odbc::connection_text`].
    connection_string: Secret,
    target: String,
    autocommit: bool,
    login_timeout: Option<u32>,
    ping_sql: String,
    procedures: bool,
}

impl fmt::Debug for Odbc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Odbc")
            .field("target", &self.target)
            .field("autocommit", &self.autocommit)
            .field("login_timeout", &self.login_timeout)
            .field("ping_sql", &self.ping_sql)
            .field("procedures", &self.procedures)
            .finish_non_exhaustive()
    }
}

impl Odbc {
    /// From a DSN: `odbc:<connection string>` (`odbc:Driver={…};Server=…;UID=…;PWD=…`), or
    /// `odbc://[user[:password]@]name` for a data source named in `odbc.ini`.
    ///
    /// # Errors
    /// An Interface error for another scheme or a malformed connection string (an
    /// unbalanced `{`, an attribute without `=`), naming the fault.
    pub fn from_dsn(dsn: &str) -> Result<Self> {
        if let Some(rest) = dsn.strip_prefix("odbc://") {
            let (credentials, name) = match rest.rsplit_once('@') {
                Some((credentials, name)) => (Some(credentials), name),
                None => (None, rest),
            };
            if name.is_empty() {
                return Err(Error::interface(
                    "odbc:// needs a data source name, e.g. odbc://app:secret@warehouse",
                ));
            }
            let mut text = format!("DSN={}", connection_string::quote(name));
            if let Some(credentials) = credentials {
                let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
                text.push_str(&format!(";UID={}", connection_string::quote(user)));
                if !password.is_empty() {
                    text.push_str(&format!(";PWD={}", connection_string::quote(password)));
                }
            }
            return Self::connection_string(&text);
        }
        match dsn.strip_prefix("odbc:") {
            Some(raw) => Self::connection_string(raw),
            None => Err(Error::interface(
                "an ODBC DSN starts with odbc: (a connection string) or odbc:// (a data source name)",
            )),
        }
    }

    /// From a raw ODBC connection string, handed to the driver manager as it is.
    ///
    /// # Errors
    /// An Interface error for an empty or malformed connection string.
    pub fn connection_string(text: &str) -> Result<Self> {
        let attributes = connection_string::parse(text)?;
        Ok(Self {
            connection_string: Secret::new(format!("{text}\0")),
            target: format!("odbc:{}", redacted(&attributes)),
            autocommit: false,
            login_timeout: None,
            ping_sql: "SELECT 1".to_owned(),
            procedures: true,
        })
    }

    /// Opens sessions in autocommit mode (DB-API's default, and this one's, is off).
    #[must_use]
    pub fn autocommit(mut self, autocommit: bool) -> Self {
        self.autocommit = autocommit;
        self
    }

    /// The driver's login timeout (`SQL_ATTR_LOGIN_TIMEOUT`), in whole seconds rounded up.
    #[must_use]
    pub fn login_timeout(mut self, timeout: Duration) -> Self {
        self.login_timeout = Some(whole_seconds(timeout));
        self
    }

    /// The statement [`dbapi::Connection::ping`] runs (default `SELECT 1`; Oracle wants
    /// `SELECT 1 FROM DUAL`).
    #[must_use]
    pub fn ping_sql(mut self, sql: &str) -> Self {
        sql.clone_into(&mut self.ping_sql);
        self
    }

    /// Whether the data source has stored procedures for `callproc` (default `true`:
    /// `callproc` sends ODBC's `{CALL name(?, …)}` escape). With `false`, `callproc` is a
    /// NotSupported error, as DB-API asks of backends without procedures (SQLite).
    #[must_use]
    pub fn procedures(mut self, procedures: bool) -> Self {
        self.procedures = procedures;
        self
    }

    /// The connection string as the driver is given it: an explicit length, and — kept in
    /// memory just past that length — a NUL. ODBC passes strings with their length, but
    /// MariaDB Connector/ODBC 3.1 reads a connection string on to a terminating NUL
    /// (`strlen`/`strncpy` in its `SQLDriverConnect`); without one it parsed whatever the
    /// allocator had put after the string, and under concurrent connects that corrupted
    /// the heap (glibc `malloc assertion failure` aborts, seen in the conformance suite).
    fn connection_text(&self) -> &str {
        let text = self.connection_string.expose();
        text.strip_suffix('\0').unwrap_or(text)
    }

    fn open(&self, login_timeout: Option<u32>) -> Result<OdbcConnection> {
        let environment = odbc_api::environment().map_err(from_odbc)?;
        let options = ConnectionOptions {
            login_timeout_sec: login_timeout,
            ..ConnectionOptions::default()
        };
        let conn = environment
            .connect_with_connection_string(self.connection_text(), options)
            .map_err(|e| {
                let err = from_odbc(e);
                Error::new(
                    err.kind(),
                    format!("cannot connect to {}: {}", self.target, err.message()),
                )
                .with_sqlstate(err.sqlstate().unwrap_or("HY000").to_owned())
                .with_native_code(err.native_code().unwrap_or(0))
                // A connection that never opened was not lost.
                .with_disconnect(false)
            })?;
        OdbcConnection::new(
            conn,
            self.autocommit,
            self.ping_sql.clone(),
            self.procedures,
        )
    }
}

/// Seconds for an ODBC timeout attribute: at least one (zero would mean "wait forever").
fn whole_seconds(timeout: Duration) -> u32 {
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

impl Module for Odbc {
    type Connection = OdbcConnection;
    /// Level 2: ODBC 3 requires drivers to be thread-safe, and a connection handle may be
    /// used from any thread one call at a time, so a pool may share it behind a lock. Cursors
    /// borrow their connection, so they are not shared.
    const THREADSAFETY: ThreadSafety = ThreadSafety::Connections;
    /// `?`, as every ODBC driver understands.
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<OdbcConnection> {
        self.open(self.login_timeout)
    }

    /// Gives the driver `timeout` as its login timeout (or the module's own, if smaller).
    fn connect_with_timeout(&self, timeout: Duration) -> Result<OdbcConnection> {
        let secs = whole_seconds(timeout);
        self.open(Some(self.login_timeout.map_or(secs, |own| own.min(secs))))
    }

    fn target(&self) -> String {
        self.target.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::Odbc;

    #[test]
    fn the_driver_finds_a_nul_just_past_the_connection_string() {
        let odbc = Odbc::connection_string("Driver={MariaDB};Server=db;PWD=x").expect("parses");
        let text = odbc.connection_text();
        assert_eq!(text, "Driver={MariaDB};Server=db;PWD=x");
        let stored = odbc.connection_string.expose();
        assert_eq!(stored.as_bytes().get(text.len()), Some(&0));
        assert_eq!(stored.as_ptr(), text.as_ptr());
    }
}
