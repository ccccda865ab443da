//! The DB-API connection: cursors, transactions, and the optional capabilities a pool uses.

use crate::{Cursor, Error, Nonblocking, Params, Result};

/// A DB-API connection.
///
/// Required: [`cursor`](Connection::cursor), [`commit`](Connection::commit),
/// [`rollback`](Connection::rollback), [`close`](Connection::close). Everything else has a
/// documented default, so a driver implements only what it can do better.
///
/// Cursors borrow the connection mutably: one live cursor at a time per connection. This is a
/// deliberate choice: it lets adapters wrap drivers whose statements borrow the connection
/// (rusqlite, postgres) without locks or reference counting. Cursors buffer their result set,
/// so a cursor can be dropped and another created while its rows are being used.
pub trait Connection {
    /// The cursor type, borrowing this connection.
    type Cursor<'c>: Cursor
    where
        Self: 'c;

    /// Opens a cursor.
    ///
    /// # Errors
    /// An Interface error after [`close`](Connection::close).
    fn cursor(&mut self) -> Result<Self::Cursor<'_>>;

    /// Commits the current transaction.
    ///
    /// # Errors
    /// The database's error, or an Interface error after `close`.
    fn commit(&mut self) -> Result<()>;

    /// Rolls the current transaction back. Must succeed (as a no-op) when no transaction is
    /// open.
    ///
    /// # Errors
    /// The database's error, or an Interface error after `close`.
    fn rollback(&mut self) -> Result<()>;

    /// Rolls the current transaction back as [`rollback`](Connection::rollback) does, for a
    /// caller that does not wait on the outcome (a pool taking the connection back): a
    /// driver may return once the rollback is sent, and read the server's answer with the
    /// connection's next request — the pipelining `tokio-postgres` does for a dropped
    /// transaction. The server ends the transaction, and releases its locks, when it reads
    /// the message, which may be a moment after this returns. A driver that cannot
    /// pipeline waits, as `rollback()`. Default: [`rollback`](Connection::rollback).
    ///
    /// # Errors
    /// As [`rollback`](Connection::rollback); with a pipelined rollback, only what is known
    /// when it is sent (a session the server already ended, a closed connection).
    fn rollback_pipelined(&mut self) -> Result<()> {
        self.rollback()
    }

    /// Closes the connection now; every later call fails with an Interface error. Closing a
    /// closed connection is a no-op.
    ///
    /// # Errors
    /// The driver's error while closing (the connection is unusable either way).
    fn close(&mut self) -> Result<()>;

    /// True after [`close`](Connection::close). Default: `false` (a driver whose connections
    /// cannot be closed early).
    fn is_closed(&self) -> bool {
        false
    }

    /// Runs one statement on a fresh cursor and returns its `rowcount`: the shortcut of
    /// Python's `sqlite3.Connection.execute`.
    ///
    /// # Errors
    /// As [`Cursor::execute`].
    fn execute(&mut self, sql: &str, params: &Params) -> Result<i64> {
        let mut cursor = self.cursor()?;
        cursor.execute(sql, params)?;
        Ok(cursor.rowcount())
    }

    /// Checks the connection works with a round trip. Default: `SELECT 1` on a new cursor.
    /// Drivers with a cheaper ping (an empty query, `COM_PING`) override it.
    ///
    /// # Errors
    /// The error that proves the connection unusable.
    fn ping(&mut self) -> Result<()> {
        let mut cursor = self.cursor()?;
        cursor.execute("SELECT 1", &Params::None)?;
        while cursor.fetchone()?.is_some() {}
        Ok(())
    }

    /// Makes the session as clean as a fresh connection's, as far as the driver can.
    /// Default: [`rollback`](Connection::rollback) (transaction state only). Drivers override
    /// it with their full reset (`DISCARD ALL`, `COM_RESET_CONNECTION`, ...).
    ///
    /// # Errors
    /// The driver's error; pools then close the connection.
    fn reset_session(&mut self) -> Result<()> {
        self.rollback()
    }

    /// True when the connection is known to be unusable, decided without blocking or a round
    /// trip (a closed socket, a previous fatal error). Default: [`is_closed`](Connection::is_closed).
    fn is_broken(&self) -> bool {
        self.is_closed()
    }

    /// Checks, without blocking and without a round trip, that the server has not ended the
    /// connection while it sat unused — a closed socket, or the server's last words waiting
    /// in it (go-sql-driver's connection check). Nothing is sent, so a failure proves that
    /// nothing after it was sent either: it is a disconnect error with
    /// [`Error::is_not_sent`], and the connection is then [`is_broken`](Connection::is_broken).
    /// Default: an error only when `is_broken()` says so.
    ///
    /// A success is no promise: the server may still go away before the next statement.
    ///
    /// # Errors
    /// A disconnect error marked not sent; an Interface error after `close()`.
    fn check_alive(&mut self) -> Result<()> {
        if self.is_closed() {
            Err(Error::closed("connection"))
        } else if self.is_broken() {
            Err(Error::dead_before_send())
        } else {
            Ok(())
        }
    }

    /// Turns autocommit on or off. Default: a NotSupported error.
    ///
    /// # Errors
    /// NotSupported where the driver has no autocommit switch.
    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        let _ = autocommit;
        Err(Error::not_supported(
            "this driver has no autocommit switch; use explicit commit() and rollback()",
        ))
    }

    /// Whether a transaction is open, when the driver knows without a round trip.
    /// Default: `None` (unknown), which makes pools roll back on return to be safe.
    fn in_transaction(&self) -> Option<bool> {
        None
    }

    /// The connection's [`Nonblocking`] face, when its driver can wait on the caller's
    /// executor instead of blocking a thread: async pools then run statements in the
    /// calling task. Default: `None` (async pools use a thread pool).
    fn nonblocking(&mut self) -> Option<&mut dyn Nonblocking> {
        None
    }
}
