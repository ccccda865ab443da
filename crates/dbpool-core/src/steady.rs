//! DBUtils' `SteadyDB`: one connection that reopens itself when it breaks.

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};

use dbapi::{Connection, Cursor, Error, Module, Params, Result};

use crate::PooledCursor;

/// DBUtils' `SteadyDBConnection`: a "hardened" connection that opens a new connection in
/// place of a broken one the next time it is used, and after `maxusage` uses.
///
/// DBUtils' SteadyDB reopens and retries a failed call once outside a transaction. Here the
/// retry is made safe with Go's `driver.ErrBadConn` rule: a statement is run again only when
/// it provably never reached the server.
/// - Before each use, the connection is checked without a round trip
///   ([`Connection::check_alive`]): one the server ended while it sat idle is replaced
///   before anything is sent.
/// - [`execute`](Connection::execute) on this connection runs a statement again, once, on a
///   new connection when the driver reports it [not sent](dbapi::Error::is_not_sent) and no
///   transaction was open.
/// - Never after the statement may have reached the server: a call that fails any other way
///   returns its error, and the next call gets a new connection.
/// - Never inside a transaction: a connection that breaks while a transaction is open loses
///   it, so every call fails with a disconnect error until [`rollback`](Connection::rollback)
///   acknowledges the loss (`commit()` fails, `rollback()` succeeds and reconnects).
///
/// ```
/// use dbapi::{params, Connection};
/// use dbapi_sqlite::Sqlite;
/// use dbpool_core::SteadyConnection;
///
/// let mut db = SteadyConnection::new(Sqlite::memory())?.max_usage(1000);
/// db.execute("SELECT 1", &params![])?;
/// assert_eq!(db.reconnects(), 0);
/// # Ok::<(), dbapi::Error>(())
/// ```
pub struct SteadyConnection<M: Module> {
    module: M,
    conn: Option<M::Connection>,
    broken: Cell<bool>,
    /// Statements run since the connection was opened (`max_usage` counts them).
    uses: Cell<u64>,
    max_usage: Option<u64>,
    reconnects: u64,
    /// The connection broke inside a transaction: calls fail until `rollback()`.
    lost_transaction: bool,
}

fn lost_transaction() -> Error {
    Error::operational(
        "the connection broke inside a transaction, which is lost with it; call rollback() \
         and run the transaction again",
    )
    .with_disconnect(true)
    .with_not_sent(true)
}

impl<M: Module> SteadyConnection<M> {
    /// Opens the first connection.
    ///
    /// # Errors
    /// The driver's connect error.
    pub fn new(module: M) -> Result<Self> {
        let conn = module.connect()?;
        Ok(Self {
            module,
            conn: Some(conn),
            broken: Cell::new(false),
            uses: Cell::new(0),
            max_usage: None,
            reconnects: 0,
            lost_transaction: false,
        })
    }

    /// Reopens the connection once it has run this many statements (DBUtils' `maxusage`:
    /// see [`crate::Builder::max_usage`] for the one meaning every mode shares), before the
    /// next cursor and never inside a transaction.
    #[must_use]
    pub fn max_usage(mut self, uses: u64) -> Self {
        self.max_usage = Some(uses.max(1));
        self
    }

    /// How many times the connection was reopened.
    #[must_use]
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The connection is gone (or was never opened).
    fn is_dead(&self) -> bool {
        self.broken.get() || self.conn.as_ref().is_none_or(Connection::is_broken)
    }

    /// It ran `max_usage` statements and no transaction is open.
    fn used_up(&self) -> bool {
        self.max_usage.is_some_and(|max| self.uses.get() >= max)
            && self.conn.as_ref().and_then(Connection::in_transaction) != Some(true)
    }

    fn needs_new(&self) -> bool {
        self.is_dead() || self.used_up()
    }

    /// The live connection: checked without a round trip, and reopened first if it is
    /// broken or used up — unless it broke inside a transaction.
    ///
    /// # Errors
    /// The driver's connect error (the next call tries again); a disconnect error while a
    /// lost transaction has not been rolled back.
    pub fn ensure(&mut self) -> Result<&mut M::Connection> {
        if self.lost_transaction {
            return Err(lost_transaction());
        }
        if !self.needs_new() {
            if let Some(conn) = self.conn.as_mut() {
                match conn.check_alive() {
                    Ok(()) => {}
                    // The server ended it while idle: nothing was sent.
                    Err(err) if err.is_disconnect() => self.broken.set(true),
                    Err(err) => return Err(err),
                }
            }
        }
        if self.needs_new() {
            let open = self.conn.as_ref().and_then(Connection::in_transaction);
            if self.conn.is_some() && self.is_dead() && open != Some(false) {
                self.lost_transaction = true;
                return Err(lost_transaction());
            }
            self.reopen()?;
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))
    }

    /// Closes the old connection and opens a new one.
    fn reopen(&mut self) -> Result<()> {
        if let Some(mut old) = self.conn.take() {
            let _ = old.close();
        }
        let fresh = self.module.connect()?;
        self.broken.set(false);
        self.uses.set(0);
        self.reconnects += 1;
        self.conn = Some(fresh);
        Ok(())
    }

    /// Runs one statement on the current connection, counted and watched.
    fn execute_once(&mut self, sql: &str, params: &Params) -> Result<i64> {
        let Self {
            conn, broken, uses, ..
        } = self;
        let conn = conn.as_mut().ok_or_else(|| Error::closed("connection"))?;
        let mut cursor = PooledCursor::open(conn, broken, uses)?;
        cursor.execute(sql, params)?;
        Ok(cursor.rowcount())
    }

    fn watch<T>(&self, result: Result<T>) -> Result<T> {
        if result.as_ref().is_err_and(Error::is_disconnect) {
            self.broken.set(true);
        }
        result
    }
}

impl<M: Module> Connection for SteadyConnection<M> {
    type Cursor<'c> = PooledCursor<'c, M::Connection>;

    fn cursor(&mut self) -> Result<PooledCursor<'_, M::Connection>> {
        self.ensure()?;
        let Self {
            conn, broken, uses, ..
        } = self;
        let conn = conn.as_mut().ok_or_else(|| Error::closed("connection"))?;
        PooledCursor::open(conn, broken, uses)
    }

    /// Runs `sql` once, or — when the driver reports it was not sent and no transaction was
    /// open — once more on a new connection.
    fn execute(&mut self, sql: &str, params: &Params) -> Result<i64> {
        self.ensure()?;
        let clean = self.in_transaction() == Some(false);
        match self.execute_once(sql, params) {
            Err(err) if err.is_not_sent() && clean => {
                // Nothing reached the server and no transaction was open: running it on a
                // new connection cannot run it twice.
                self.broken.set(true);
                self.ensure()?;
                self.execute_once(sql, params)
            }
            result => result,
        }
    }

    fn commit(&mut self) -> Result<()> {
        if self.lost_transaction || self.is_dead() {
            // Known, not unknown: nothing is sent, and the transaction died with the
            // connection.
            return Err(Error::operational(
                "the connection broke during the transaction, which is lost; run it again",
            )
            .with_disconnect(true)
            .with_not_sent(true));
        }
        let result = self.ensure().and_then(Connection::commit);
        self.watch(result).map_err(Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        if self.lost_transaction || self.is_dead() {
            // The transaction died with the connection: nothing is left to roll back.
            self.lost_transaction = false;
            return self.reopen();
        }
        let result = self.ensure().and_then(Connection::rollback);
        self.watch(result)
    }

    fn close(&mut self) -> Result<()> {
        match self.conn.take() {
            Some(mut conn) => conn.close(),
            None => Ok(()),
        }
    }

    fn is_closed(&self) -> bool {
        self.conn.is_none()
    }

    fn ping(&mut self) -> Result<()> {
        let result = self.ensure().and_then(Connection::ping);
        self.watch(result)
    }

    fn reset_session(&mut self) -> Result<()> {
        let result = self.ensure().and_then(Connection::reset_session);
        self.watch(result)
    }

    /// Never: a broken connection is replaced on its next use.
    fn is_broken(&self) -> bool {
        false
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        let result = self.ensure().and_then(|c| c.set_autocommit(autocommit));
        self.watch(result)
    }

    fn in_transaction(&self) -> Option<bool> {
        self.conn.as_ref().and_then(Connection::in_transaction)
    }
}

impl<M: Module> Deref for SteadyConnection<M> {
    type Target = M::Connection;

    /// # Panics
    /// After `close()`.
    fn deref(&self) -> &M::Connection {
        match &self.conn {
            Some(conn) => conn,
            None => panic!("{}", Error::closed("connection")),
        }
    }
}

impl<M: Module> DerefMut for SteadyConnection<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        match &mut self.conn {
            Some(conn) => conn,
            None => panic!("{}", Error::closed("connection")),
        }
    }
}

impl<M: Module> fmt::Debug for SteadyConnection<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SteadyConnection")
            .field("target", &self.module.target())
            .field("uses", &self.uses.get())
            .field("reconnects", &self.reconnects)
            .finish()
    }
}

impl<M: Module> Drop for SteadyConnection<M> {
    /// Closes the connection through the contract.
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.close()));
    }
}
