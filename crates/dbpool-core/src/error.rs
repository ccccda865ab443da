//! Errors of the pool itself, each saying what to change.

use std::time::Duration;

/// An error from a pool operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// The driver's `connect()` took longer than `connect_timeout` (eventlet's
    /// `ConnectTimeout`). The late connection, if it ever arrives, is closed and its slot freed.
    #[error("connecting to {target} took longer than connect_timeout ({timeout:?}); check the server is reachable, or raise connect_timeout")]
    ConnectTimeout {
        /// Where the pool connects (never with a password).
        target: String,
        /// The configured connect timeout.
        timeout: Duration,
    },
    /// The driver failed to connect (wrong password, unreachable host, ...). Its slot was
    /// freed at once.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// Where the pool connects (never with a password).
        target: String,
        /// The driver's error.
        #[source]
        source: dbapi::Error,
    },
    /// No connection became free within the wait timeout.
    #[error("timed out after {waited:?} waiting for a connection to {target}: all {max_size} connections are in use ({waiting} callers waiting){}; raise max_size, return connections sooner, or raise wait_timeout", last_error_note(.last_connect_error))]
    Timeout {
        /// Where the pool connects.
        target: String,
        /// How long the caller waited.
        waited: Duration,
        /// The pool's `max_size`.
        max_size: usize,
        /// Connections checked out when the wait ended.
        in_use: usize,
        /// Callers still waiting.
        waiting: usize,
        /// The last connection error the pool saw, if any.
        last_connect_error: Option<String>,
    },
    /// The pool is exhausted and was built with `blocking(false)` (DBUtils'
    /// `TooManyConnections`), or `try_get` found it exhausted.
    #[error("all {max_size} connections to {target} are in use and the pool does not wait (blocking = false); raise max_size or use a blocking pool")]
    Exhausted {
        /// Where the pool connects.
        target: String,
        /// The pool's `max_size`.
        max_size: usize,
    },
    /// A connection was put back into a pool it did not come from. It went back to its own pool.
    #[error("this connection belongs to another pool ({owner}); put it back into the pool it came from (it has been returned there)")]
    WrongPool {
        /// The pool the connection came from.
        owner: String,
    },
    /// The pool was closed with [`crate::Pool::close`].
    #[error("the pool for {target} is closed; build a new pool")]
    Closed {
        /// Where the pool connected.
        target: String,
    },
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn last_error_note(last: &Option<String>) -> String {
    last.as_ref()
        .map(|e| format!("; the last connection attempt failed: {e}"))
        .unwrap_or_default()
}

impl PoolError {
    /// True for [`PoolError::ConnectTimeout`].
    #[must_use]
    pub fn is_connect_timeout(&self) -> bool {
        matches!(self, Self::ConnectTimeout { .. })
    }
}

impl From<PoolError> for dbapi::Error {
    /// So a handler can `?` both `pool.get()` and the connection's calls into one
    /// `dbapi::Result`. Timeouts and exhaustion are Operational errors; misuse and bad
    /// configuration are Interface errors; a failed connect keeps the driver's kind,
    /// SQLSTATE, native code and disconnect flag. The pool error stays the source.
    fn from(err: PoolError) -> Self {
        let (kind, sqlstate, code, disconnect) = match &err {
            PoolError::Connect { source, .. } => (
                source.kind(),
                source.sqlstate().map(str::to_owned),
                source.native_code(),
                source.is_disconnect(),
            ),
            PoolError::WrongPool { .. } | PoolError::Config(_) | PoolError::Closed { .. } => {
                (dbapi::ErrorKind::Interface, None, None, false)
            }
            _ => (dbapi::ErrorKind::Operational, None, None, false),
        };
        let mut out = dbapi::Error::new(kind, err.to_string());
        if let Some(sqlstate) = sqlstate {
            out = out.with_sqlstate(sqlstate);
        }
        if let Some(code) = code {
            out = out.with_native_code(code);
        }
        out.with_disconnect(disconnect).with_source(err)
    }
}

/// An invalid pool configuration, found by [`crate::Builder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_size` was 0.
    #[error("max_size must be at least 1 (it is the number of connections the pool may open)")]
    ZeroMaxSize,
    /// `min_size` was larger than `max_size`.
    #[error("min_size ({min_size}) is larger than max_size ({max_size}); lower min_size or raise max_size")]
    MinAboveMax {
        /// The configured `min_size`.
        min_size: usize,
        /// The configured `max_size`.
        max_size: usize,
    },
    /// `max_connecting` was 0.
    #[error("max_connecting must be at least 1 (it is how many connects may run at once)")]
    ZeroMaxConnecting,
    /// `max_usage` was 0.
    #[error("max_usage must be at least 1, or None for unlimited reuse")]
    ZeroMaxUsage,
    /// `max_shared` was larger than `max_size`.
    #[error("max_shared ({max_shared}) is larger than max_size ({max_size}); shared connections count against max_size, so lower max_shared or raise max_size")]
    SharedAboveMax {
        /// The configured `max_shared`.
        max_shared: usize,
        /// The configured `max_size`.
        max_size: usize,
    },
    /// Connection sharing was asked of a driver whose module declares `threadsafety` below 2.
    #[error("{driver} declares threadsafety {level}: its connections may not be shared between threads; use dedicated connections (Pool::get, max_shared 0)")]
    NotShareable {
        /// The driver's module type.
        driver: String,
        /// The `threadsafety` level it declares.
        level: u8,
    },
    /// `max_age_jitter` was not in [0, 1).
    #[error("max_age_jitter is {0}; it must be a fraction from 0 (no jitter) to below 1")]
    BadJitter(String),
}
