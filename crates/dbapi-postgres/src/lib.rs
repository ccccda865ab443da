//! The PostgreSQL adapter for the [`dbapi`] contract, over [`tokio_postgres`] driven on a
//! runtime of each connection's own (as the `postgres` crate does), so that a transaction's
//! `BEGIN` goes out with its first statement.
//!
//! ```no_run
//! use dbapi::{params, Connection, Cursor, Module};
//! use dbapi_postgres::Postgres;
//!
//! let mut conn = Postgres::from_dsn("postgres://app:secret@127.0.0.1/shop")?.connect()?;
//! let mut cur = conn.cursor()?;
//! cur.execute("SELECT id, name FROM users WHERE id > $1", &params![10_i64])?;
//! for row in cur.fetchall()? {
//!     println!("{} {}", row.get::<i64>("id")?, row.get::<String>("name")?);
//! }
//! # Ok::<(), dbapi::Error>(())
//! ```
//!
//! - `paramstyle` is `$n` ([`dbapi::ParamStyle::Dollar`]), and `?` is accepted too, so one
//!   SQL text runs on every adapter: `?` markers are numbered `$1, $2, …` when the statement
//!   is first prepared, leaving alone those in string literals, quoted identifiers,
//!   comments and dollar-quoted bodies; `??` is a literal `?` (write `??|` for the JSON
//!   operator `?|`, as with pgjdbc). Mixing `?` and `$n` in one statement is a Programming
//!   error. Named parameters are rejected
//!   with NotSupported rather than rewritten. Parameters are sent as text and typed by the
//!   server from the statement, so write `$1::int8` where the statement gives no type
//!   (a bare `SELECT $1` is `text`).
//! - Errors are classified from SQLSTATE as psycopg2 does and keep the server's message,
//!   detail and hint; class 08 and 57P01–57P03 are disconnects.
//! - Types: `int2/4/8`, `float4/8`, `numeric` (exact, as [`dbapi::Value::Decimal`] text),
//!   `text`/`varchar`/`char`, `bytea`, `bool`, `date`, `time`, `timestamp`, `timestamptz`
//!   (UTC), `uuid` and `json`/`jsonb` as text, `NULL` of any type. Other types are a clear
//!   NotSupported error naming the type.
//! - `rowcount` comes from the command tag; `ping` is an empty query; `is_broken` asks the
//!   client without blocking; `reset_session` does what [`ResetLevel`] says.
//! - TLS with rustls behind the `tls` feature (`sslmode` `prefer`, `require`, `verify-ca`,
//!   `verify-full`, `sslrootcert`); without it, `sslmode=require` is a NotSupported error.
//! - [`dbapi::Nonblocking`]: inside a tokio runtime (with I/O enabled), `execute_async`,
//!   `query_async`, `commit_async` and `rollback_async` await the server in the caller's task
//!   instead of blocking a thread; `dbpool_core::AsyncPool` uses them. The socket is
//!   registered with whichever runtime polls it, so one connection serves threads and tasks
//!   of any runtime in turn. A connection dropped inside a runtime closes its socket without
//!   waiting for the server's goodbye.

#![warn(missing_docs)]

mod connection;
mod cursor;
mod decode;
mod error_mapping;
mod hosts;
mod markers;
mod module;
mod own_runtime;
mod params;
mod relay;
mod session;
mod socket;
#[cfg(feature = "tls")]
mod tls;

pub use connection::PgConnection;
pub use cursor::PgCursor;
pub use dbapi::ResetLevel;
pub use error_mapping::from_postgres;
pub use hosts::{replica_lag, TargetSessionAttrs};
pub use module::Postgres;
pub use session::{ClientCall, Session};
pub use tokio_postgres;
