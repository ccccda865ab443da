//! The DB-API 2 (PEP 249) driver contract for Rust.
//!
//! Write database code once against [`Module`], [`Connection`] and [`Cursor`]; run it on any
//! driver that implements them (SQLite, PostgreSQL, MySQL/MariaDB and ODBC adapters exist in
//! this workspace), and pool it with `dbpool-core`.
//!
//! ```
//! use dbapi::{params, Connection, ConnectParams, Cursor, Result};
//!
//! /// Works on every driver: only the DB-API traits are used.
//! fn names_longer_than<C: Connection>(conn: &mut C, min: i64) -> Result<Vec<String>> {
//!     let mut cur = conn.cursor()?;
//!     cur.execute("SELECT name FROM users WHERE length(name) > ?", &params![min])?;
//!     cur.fetchall()?.iter().map(|row| row.get::<String>("name")).collect()
//! }
//!
//! // Connection parameters come from a DSN or from eventlet-style keywords; the password
//! // never shows in Debug or Display output.
//! let dsn = ConnectParams::parse("postgres://app:hunter2@db.internal:5432/shop")?;
//! assert_eq!(dsn.to_string(), "postgres://app:***@db.internal:5432/shop");
//! assert!(!format!("{dsn:?}").contains("hunter2"));
//! # let _ = names_longer_than::<NoDriver>;
//! # struct NoDriver;
//! # impl Connection for NoDriver {
//! #     type Cursor<'c> = NoCursor;
//! #     fn cursor(&mut self) -> Result<NoCursor> { Ok(NoCursor) }
//! #     fn commit(&mut self) -> Result<()> { Ok(()) }
//! #     fn rollback(&mut self) -> Result<()> { Ok(()) }
//! #     fn close(&mut self) -> Result<()> { Ok(()) }
//! # }
//! # struct NoCursor;
//! # impl Cursor for NoCursor {
//! #     fn execute(&mut self, _: &str, _: &dbapi::Params) -> Result<()> { Ok(()) }
//! #     fn description(&self) -> Option<&[dbapi::Column]> { None }
//! #     fn rowcount(&self) -> i64 { -1 }
//! #     fn fetch_next(&mut self) -> Result<Option<dbapi::Row>> { Ok(None) }
//! #     fn arraysize(&self) -> usize { 1 }
//! #     fn set_arraysize(&mut self, _: usize) {}
//! #     fn close(&mut self) -> Result<()> { Ok(()) }
//! # }
//! # Ok::<(), dbapi::Error>(())
//! ```
//!
//! # The contract
//! - [`Module`] opens connections and declares `APILEVEL`, [`ThreadSafety`] and
//!   [`ParamStyle`].
//! - [`Connection`]: `cursor`, `commit`, `rollback`, `close` are required; `ping`,
//!   `reset_session`, `is_broken`, `check_alive`, `set_autocommit`, `in_transaction` and
//!   `rollback_pipelined` are optional capabilities with documented defaults (Go's
//!   `database/sql/driver` lesson); so is [`Connection::nonblocking`], a driver's
//!   [`Nonblocking`] face for async pools.
//! - [`Cursor`]: `execute`, `description`, `rowcount`, one fetch primitive and `arraysize`
//!   are required; `fetchone`/`fetchmany`/`fetchall`, `executemany`, `callproc`, `nextset`,
//!   `setinputsizes`, `setoutputsize` and `lastrowid` are provided.
//! - Every failure is an [`Error`] with a DB-API [`ErrorKind`], SQLSTATE, native code and
//!   source; [`Error::is_disconnect`] tells pools a connection is dead.

#![warn(missing_docs)]

mod column;
mod connect_params;
mod connection;
mod cursor;
mod cursor_state;
mod datetime;
mod error;
mod from_value;
mod keyword;
mod module;
mod nonblocking;
mod params;
mod reset_level;
mod row;
mod secret;
mod ssl_mode;
mod type_object;
mod value;

pub use column::Column;
pub use connect_params::ConnectParams;
pub use connection::Connection;
pub use cursor::{check_procname, Cursor};
pub use cursor_state::CursorState;
pub use datetime::{Date, Time, Timestamp};
pub use error::{sqlstate_is_disconnect, Error, ErrorKind, Result};
pub use from_value::{FromValue, FromValueError};
pub use keyword::{first_keyword, starts_with_keyword};
pub use module::{Module, ParamStyle, ThreadSafety};
pub use nonblocking::{BoxFuture, Nonblocking};
pub use params::Params;
pub use reset_level::ResetLevel;
pub use row::{Row, RowIndex};
pub use secret::Secret;
pub use ssl_mode::SslMode;
pub use type_object::{TypeCode, TypeObject, BINARY, DATETIME, NUMBER, ROWID, STRING};
pub use value::Value;
