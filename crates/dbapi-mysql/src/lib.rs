//! The MySQL / MariaDB adapter for the [`dbapi`] contract, over the [`mysql`] crate.
//!
//! ```no_run
//! use dbapi::{params, Connection, Cursor, Module};
//! use dbapi_mysql::Mysql;
//!
//! let mut conn = Mysql::from_dsn("mysql://app:secret@127.0.0.1/shop")?.connect()?;
//! let mut cur = conn.cursor()?;
//! cur.execute("SELECT id, name FROM users WHERE id > ?", &params![10_i64])?;
//! for row in cur.fetchall()? {
//!     println!("{} {}", row.get::<i64>("id")?, row.get::<String>("name")?);
//! }
//! # Ok::<(), dbapi::Error>(())
//! ```
//!
//! - `paramstyle` is `qmark` (`?`); named parameters (`:name`) are accepted too.
//!   Statements without parameters use the text protocol (several statements separated by
//!   `;` are allowed, read one after another with `nextset`); statements with parameters
//!   are prepared once per connection, cached (256 per connection), and run over the binary
//!   protocol.
//! - `rowcount` is the number of rows a statement matched (`CLIENT_FOUND_ROWS`), as on
//!   PostgreSQL and SQLite; [`RowCount::Changed`] gives the server's changed-rows count.
//!   `lastrowid` is the last `AUTO_INCREMENT` value.
//! - Errors are classified by the server's error code (1045 access denied and 1049 unknown
//!   database: Operational; 1062 duplicate key: Integrity; 1064 syntax and 1146 unknown
//!   table: Programming; 1205 lock wait timeout and 1213 deadlock: Operational; 1406 data
//!   too long and 1366 bad value: Data), then by SQLSTATE class; the code and SQLSTATE are
//!   kept. A lost connection (I/O errors, the server's 2006/2013 conditions, a killed
//!   session) is Operational with `is_disconnect()`.
//! - Types: see the table in [`decode`]. Unsigned BIGINT values above `i64::MAX` come back
//!   as exact `Decimal` text rather than wrapping; `TIME` values outside one day come back as
//!   MySQL-formatted text, which the server accepts back as a parameter.
//! - Autocommit is off (the session runs with `autocommit=0`: the first statement opens a
//!   transaction without a `BEGIN` round trip); `ping` is `COM_PING`; `reset_session` does
//!   what [`dbapi::ResetLevel`] says (`Full`: `COM_RESET_CONNECTION`, which the `mysql`
//!   crate replaces by `COM_CHANGE_USER` on servers without it).
//! - `in_transaction` costs no round trip, so pools skip the rollback of a clean
//!   connection. The `mysql` crate keeps the server's status flags private, so the adapter
//!   tracks the transaction itself: any statement with autocommit off, or `BEGIN` / `START
//!   TRANSACTION`, opens one; `COMMIT`, `ROLLBACK` and the DB-API calls end it. It errs on
//!   the side of "open" (an extra `ROLLBACK`), never of "clean".
//! - `rollback_pipelined` (a pool's rollback on return) sends `ROLLBACK` without waiting
//!   for the answer on a plain, uncompressed connection (Unix): the server ends the
//!   transaction and releases its locks when it reads it, and the answer is read before the
//!   connection's next request ([`MysqlConnection::answer_due`]). A look at the socket
//!   first finds a session the server already ended. The `mysql` crate cannot have two
//!   requests in flight, so a next request made at once still waits for that answer first.
//! - Streaming ([`dbapi::Cursor::set_streaming`]): a query's first result set is read as it
//!   is fetched, over the unbuffered protocol (MySQLdb's `SSCursor`); see [`MysqlCursor`].
//! - Pure Rust by default: the `mysql` crate's `minimal-rust` features (flate2's Rust back
//!   end), no OpenSSL and no C compiler. TLS is rustls (with ring, as in `dbapi-postgres`)
//!   behind this crate's `tls` feature, with libpq's `sslmode` meanings (see
//!   [`Mysql::from_dsn`]); without it `sslmode=require` is a NotSupported error.

#![warn(missing_docs)]

mod connection;
mod cursor;
pub mod decode;
mod error_mapping;
mod module;
mod params;
#[cfg(unix)]
mod pipeline;
mod results;
mod socket;
mod stream;

pub use connection::MysqlConnection;
pub use cursor::MysqlCursor;
/// How far `reset_session` goes: see [`Mysql::reset_level`].
pub use dbapi::ResetLevel;
pub use error_mapping::from_mysql;
pub use module::{Mysql, RowCount};
pub use mysql;
