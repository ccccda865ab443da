//! DBUtils' `SteadyDB`: one connection that reopens itself when it breaks.

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};

use dbapi::{Connection, Error, Module, Result};

use crate::PooledCursor;

/// DBUtils' `SteadyDBConnection`: a "hardened" connection that opens a new connection in
/// place of a broken one the next time it is used, and after `maxusage` uses.
///
/// It never repeats a statement on its own (a statement may have run before the connection
/// died): the call that meets the dead connection fails with its disconnect error, and the
/// next call gets a fresh connection. A transaction in flight is lost with the connection, so
/// `commit()` on a broken connection is an error, while `rollback()` succeeds (there is
/// nothing left to roll back).
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

    /// The live connection, reopened first if it is broken or used up.
    ///
    /// # Errors
    /// The driver's connect error (the next call tries again).
    pub fn ensure(&mut self) -> Result<&mut M::Connection> {
        if self.needs_new() {
            if let Some(mut old) = self.conn.take() {
                let _ = old.close();
            }
            let fresh = self.module.connect()?;
            self.broken.set(false);
            self.uses.set(0);
            self.reconnects += 1;
            self.conn = Some(fresh);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))
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

    fn commit(&mut self) -> Result<()> {
        if self.is_dead() {
            return Err(Error::operational(
                "the connection broke during the transaction, which is lost; run it again",
            )
            .with_disconnect(true));
        }
        let result = self.ensure().and_then(Connection::commit);
        self.watch(result)
    }

    fn rollback(&mut self) -> Result<()> {
        if self.is_dead() {
            // The transaction died with the connection: nothing is left to roll back.
            return self.ensure().map(|_| ());
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
