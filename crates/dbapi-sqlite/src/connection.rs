//! [`SqliteConnection`]: DB-API transactions over a rusqlite connection.

use dbapi::{Connection, Error, Result};

use crate::error_mapping::from_rusqlite;
use crate::live::LiveConnection;
use crate::{Sqlite, SqliteCursor};

/// An open SQLite connection.
///
/// Transactions follow the DB-API: with autocommit off (the default) the first statement
/// that writes opens a transaction implicitly, which lasts until `commit()` or `rollback()`;
/// reads run outside one. `set_autocommit(true)` commits and makes every statement its own
/// transaction.
pub struct SqliteConnection {
    /// The connection and the statements prepared on it; `None` once closed.
    live: Option<LiveConnection>,
    module: Sqlite,
    autocommit: bool,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("path", &self.module.path())
            .field("open", &self.live.is_some())
            .field("autocommit", &self.autocommit)
            .finish()
    }
}

impl SqliteConnection {
    pub(crate) fn new(conn: rusqlite::Connection, module: Sqlite) -> Self {
        Self {
            live: Some(LiveConnection::new(conn)),
            module,
            autocommit: false,
        }
    }

    /// The rusqlite connection, for driver-specific calls (functions, backups, blobs).
    ///
    /// # Errors
    /// An Interface error after `close()`.
    pub fn native(&self) -> Result<&rusqlite::Connection> {
        self.live().map(LiveConnection::conn)
    }

    /// Mutable access to the rusqlite connection (for `transaction()` and the like). The
    /// statements the DB-API prepared on it are finalized first, as they borrow it; later
    /// cursors prepare them again.
    ///
    /// # Errors
    /// An Interface error after `close()`.
    pub fn native_mut(&mut self) -> Result<&mut rusqlite::Connection> {
        self.live
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))?
            .conn_mut()
    }

    fn live(&self) -> Result<&LiveConnection> {
        self.live
            .as_ref()
            .ok_or_else(|| Error::closed("connection"))
    }

    /// Runs several `;`-separated statements (Python's `executescript`), without parameters.
    ///
    /// # Errors
    /// The first failing statement's error.
    pub fn executescript(&mut self, sql: &str) -> Result<()> {
        self.native()?.execute_batch(sql).map_err(from_rusqlite)
    }

    /// Whether autocommit is on.
    #[must_use]
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    fn end_transaction(&mut self, verb: &str) -> Result<()> {
        let conn = self.native()?;
        if !conn.is_autocommit() {
            conn.execute_batch(verb).map_err(from_rusqlite)?;
        }
        Ok(())
    }
}

impl Connection for SqliteConnection {
    type Cursor<'c> = SqliteCursor<'c>;

    fn cursor(&mut self) -> Result<SqliteCursor<'_>> {
        let live = self
            .live
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))?;
        Ok(SqliteCursor::new(live, self.autocommit))
    }

    fn commit(&mut self) -> Result<()> {
        self.end_transaction("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        self.end_transaction("ROLLBACK")
    }

    fn close(&mut self) -> Result<()> {
        match self.live.take() {
            Some(live) => live.into_conn()?.close().map_err(|(_, e)| from_rusqlite(e)),
            None => Ok(()),
        }
    }

    fn is_closed(&self) -> bool {
        self.live.is_none()
    }

    /// Rolls back, then re-applies the module's busy timeout and pragmas and turns
    /// autocommit off again: the settings a fresh connection would have.
    fn reset_session(&mut self) -> Result<()> {
        self.rollback()?;
        self.autocommit = false;
        let conn = self.native()?;
        self.module.apply_settings(conn)
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        if autocommit {
            self.commit()?;
        }
        self.autocommit = autocommit;
        Ok(())
    }

    fn in_transaction(&self) -> Option<bool> {
        self.live.as_ref().map(|live| !live.conn().is_autocommit())
    }
}
