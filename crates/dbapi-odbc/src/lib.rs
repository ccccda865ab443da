//! The ODBC adapter for the [`dbapi`] contract, over [`odbc_api`] and the system's driver
//! manager (unixODBC on Linux): one adapter for every database with an ODBC driver.
//!
//! ```no_run
//! use dbapi::{params, Connection, Cursor, Module};
//! use dbapi_odbc::Odbc;
//!
//! let odbc = Odbc::from_dsn("odbc:Driver={SQLite3};Database=/tmp/app.db")?;
//! let mut conn = odbc.connect()?;
//! let mut cur = conn.cursor()?;
//! cur.execute("SELECT ? + 1", &params![41_i64])?;
//! assert_eq!(cur.fetchone()?.expect("a row").get::<i64>(0)?, 42);
//! # Ok::<(), dbapi::Error>(())
//! ```
//!
//! - One ODBC environment per process (ODBC 3.80), created on the first connect; the
//!   driver manager's own connection pooling stays off, since the pools of `dbpool-core` do
//!   that job. `odbc-api` is built without its default features, which pull a GUI prompt
//!   stack for Windows logins.
//! - Connect with `odbc:<connection string>` or `odbc://[user[:password]@]dsn` (see
//!   [`Odbc::from_dsn`]); `PWD=` is redacted in every message, `Debug` and `target()`.
//! - `paramstyle` is `qmark`; each value is bound with its own SQL type. `rowcount` is the
//!   driver's row count (`-1` when it has none); `nextset` follows `SQLMoreResults`.
//! - Rows are read with `SQLGetData`, column by column: long text and binary values are
//!   fetched in pieces and never truncated. Exact numbers come back as `Value::Decimal`
//!   text; `TIME` values as `Value::Time` (or text when outside one day).
//! - Errors come from the diagnostic records, classified by SQLSTATE: `08` is Operational
//!   and `is_disconnect()`, `23` Integrity, `22` Data, `42` Programming, `HYT00`/`HYT01`
//!   Operational, and the driver manager's `IM` class Interface with what to fix (an unknown
//!   DSN, a driver library that does not load).
//! - Autocommit is off; `commit` and `rollback` are `SQLEndTran`. `ping` runs `SELECT 1`
//!   (see [`Odbc::ping_sql`]); `is_broken` also asks the driver's `SQL_ATTR_CONNECTION_DEAD`.

#![warn(missing_docs)]

mod connection;
mod connection_string;
mod cursor;
mod error_mapping;
mod fetch;
mod module;
mod params;

pub use connection::OdbcConnection;
pub use cursor::OdbcCursor;
pub use error_mapping::from_odbc;
pub use module::Odbc;
pub use odbc_api;
