//! The SQLite adapter for the [`dbapi`] contract, over [`rusqlite`] with its bundled SQLite
//! (no system library needed).
//!
//! ```
//! use dbapi::{params, Connection, Cursor, Module};
//! use dbapi_sqlite::Sqlite;
//!
//! let mut conn = Sqlite::memory().connect()?;
//! let mut cur = conn.cursor()?;
//! cur.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", &params![])?;
//! cur.execute("INSERT INTO users (name) VALUES (?)", &params!["ada"])?;
//! assert_eq!(cur.lastrowid(), Some(1));
//! cur.execute("SELECT id, name FROM users", &params![])?;
//! let row = cur.fetchone()?.expect("one row");
//! assert_eq!(row.get::<String>("name")?, "ada");
//! drop(cur);
//! conn.commit()?;
//! # Ok::<(), dbapi::Error>(())
//! ```
//!
//! - `paramstyle` is `qmark` (`?`); named parameters (`:name`, `@name`, `$name`) work with
//!   [`dbapi::Params::Named`].
//! - `threadsafety` is 1: connections are `Send` (a pool may move them between threads) but
//!   not `Sync`.
//! - Columns declared `BOOLEAN`, `DATE`, `TIME`, `TIMESTAMP`/`DATETIME` or `DECIMAL` read back
//!   as the matching [`dbapi::Value`]; other columns by storage class.
//! - `:memory:` gives every connection its own database: see [`Sqlite`] before pooling one.

#![warn(missing_docs)]

mod connection;
mod cursor;
mod error_mapping;
mod live;
mod module;
mod shapes;
mod value_mapping;

pub use connection::SqliteConnection;
pub use cursor::SqliteCursor;
pub use error_mapping::{from_rusqlite, kind_of_code};
pub use module::Sqlite;
pub use rusqlite;
