//! Connection pools for any [`dbapi`] driver, modelled on eventlet's `db_pool` and DBUtils'
//! `PooledDB`: connection reuse, a hard limit on connections per database, and exact
//! accounting under load and faults.
//!
//! ```
//! use std::time::Duration;
//! use dbapi::{params, Connection, Cursor};
//! use dbpool_core::Pool;
//! use dbapi_sqlite::Sqlite;
//!
//! // eventlet: ConnectionPool(sqlite3, max_size=4, max_idle=10, max_age=30, connect_timeout=5)
//! let pool = Pool::builder(Sqlite::shared_memory("docs_example"))
//!     .min_size(1)
//!     .max_size(4)
//!     .max_idle(Duration::from_secs(10))
//!     .max_age(Duration::from_secs(30))
//!     .connect_timeout(Duration::from_secs(5))
//!     .build()?;
//!
//! let mut conn = pool.get()?;
//! conn.execute("CREATE TABLE IF NOT EXISTS beer (name TEXT)", &params![])?;
//! conn.execute("INSERT INTO beer VALUES (?)", &params!["Coopers"])?;
//! conn.commit()?;
//! {
//!     let mut cur = conn.cursor()?;
//!     cur.execute("SELECT name FROM beer", &params![])?;
//!     assert_eq!(cur.fetchall()?.len(), 1);
//! }
//! pool.put(conn)?; // or drop(conn), or conn.close()
//! assert_eq!(pool.free(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # eventlet and DBUtils names
//! | eventlet / DBUtils | here |
//! |---|---|
//! | `ConnectionPool(module, min_size, max_size, max_idle, max_age, connect_timeout, cleanup)` | [`Pool::builder`] with the same names and defaults |
//! | `get()` / `put(conn)` / `item()` | [`Pool::get`] (drop returns), [`Pool::put`], [`Pool::item`], [`Pool::with`] |
//! | `put(None)` | [`PooledConnection::discard`] |
//! | `free()`, `waiting()`, `clear()` | [`Pool::free`], [`Pool::waiting`], [`Pool::clear`] |
//! | `ConnectTimeout` | [`PoolError::ConnectTimeout`] |
//! | `RawConnectionPool` | [`Pool`] (plain connections, blocking callers) |
//! | `TpooledConnectionPool` (eventlet's default `ConnectionPool`) | [`AsyncPool`]: the same core for async tasks, driver calls on a [`ThreadPool`] |
//! | `DatabaseConnector(module, credentials)` | [`DatabaseConnector`] |
//! | PooledDB `maxusage`, `maxcached`, `maxshared`, `blocking`, `setsession`, `ping` | [`Builder::max_usage`], [`Builder::max_cached`], [`Builder::max_shared`], [`Builder::blocking`], [`Builder::init_sql`], [`Builder::test_on_checkout`] |
//! | PooledDB `connection(shareable=True)` / `dedicated_connection()` | [`Pool::get_shared`] ([`SharedConnection`]) / [`Pool::get`] |
//! | DBUtils `SimplePooledDB` | [`SimplePooledDB`] |
//! | DBUtils `PersistentDB` (thread-affine) | [`PersistentDB`] |
//! | DBUtils `SteadyDB` (reconnects) | [`SteadyConnection`] |
//!
//! # Semantics
//! - Idle connections are reused last-in first-out. Waiters are served by the
//!   [`Fairness`] policy: by default a returned connection may be taken by a running caller
//!   while the oldest waiter is woken to try again, and once that waiter has waited
//!   [`Fairness::DEFAULT_BOUND`] it gets the next returned connection directly — the
//!   throughput of a barging pool with a bound on how long anyone is passed over.
//!   [`Fairness::Fifo`] gives eventlet's strict first-come, first-served order.
//! - `max_size` counts every open connection: idle, checked out, and being opened.
//! - Age is checked on return; idle and age expiry happen on one maintenance thread shared by
//!   every pool of the process, which sleeps until the next deadline.
//! - A failed or timed-out connect frees its slot and wakes a waiter; a connection arriving
//!   after `connect_timeout` is closed before its slot is freed, so the server never sees more
//!   than `max_size` connections.
//! - Returned connections are cleaned (rollback by default, skipped when provably clean); a
//!   failing cleanup closes the connection. A panic while a connection is out discards it.
//! - A connection that fails with a disconnect error is closed, and every idle connection
//!   older than that failure is pinged before its next use.
//! - A get/put cycle allocates nothing and reads no clock (time settings of whole seconds
//!   use a coarse clock the maintenance thread keeps); it wakes a thread only when one waits.

#![warn(missing_docs)]

mod async_pool;
mod cleanup;
mod clock;
mod config;
mod connector;
mod database_connector;
mod error;
mod events;
mod guard;
mod instruments;
mod logging;
mod maintenance;
mod nonblocking_call;
mod persistent;
mod policy;
mod pool;
mod provided;
mod router;
mod sharing;
mod simple;
mod stats;
mod steady;
mod sync;
mod tpool;
mod waiter;

pub use async_pool::{AsyncConnection, AsyncGet, AsyncPool, Run, TpooledConnectionPool};
pub use cleanup::{Cleanup, CleanupFn};
pub use config::Builder;
pub use database_connector::DatabaseConnector;
pub use error::{ConfigError, PoolError};
pub use events::{EventHook, PoolEvent};
pub use guard::{PooledConnection, PooledCursor};
pub use persistent::{PersistentBuilder, PersistentConnection, PersistentDB};
pub use policy::Fairness;
pub use pool::Pool;
pub use provided::Provided;
pub use router::{LagProbe, ReadBalance, ReplicaHealth, Router, RouterBuilder};
pub use sharing::{SharedConnection, SharedGuard};
pub use simple::SimplePooledDB;
pub use stats::{CloseReason, Stats, WAIT_BUCKETS};
pub use steady::SteadyConnection;
pub use tpool::{Oneshot, ThreadPool};

pub use dbapi;

/// The SQLite adapter (feature `sqlite`).
#[cfg(feature = "sqlite")]
pub use dbapi_sqlite as sqlite;

/// The PostgreSQL adapter (feature `postgres`).
#[cfg(feature = "postgres")]
pub use dbapi_postgres as postgres;

/// The MySQL / MariaDB adapter (feature `mysql`).
#[cfg(feature = "mysql")]
pub use dbapi_mysql as mysql;

/// The ODBC adapter (feature `odbc`).
#[cfg(feature = "odbc")]
pub use dbapi_odbc as odbc;
