//! [`OdbcConnection`]: one ODBC connection handle, its transaction and its health.

use std::fmt;

use dbapi::{Connection, Error, Result};

use crate::{from_odbc, OdbcCursor};

/// A connection through the ODBC driver manager. Autocommit is off unless the module said
/// otherwise; `commit` and `rollback` are ODBC's end-transaction call (`SQLEndTran`).
///
/// ODBC has no portable "is a transaction open" attribute, so the connection tracks it:
/// any statement with autocommit off opens one, `commit` and `rollback` end it. It errs on
/// the side of "open" (an extra rollback), never of "clean".
pub struct OdbcConnection {
    conn: Option<odbc_api::Connection<'static>>,
    autocommit: bool,
    in_transaction: bool,
    broken: bool,
    ping_sql: String,
    procedures: bool,
}

impl fmt::Debug for OdbcConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdbcConnection")
            .field("open", &self.conn.is_some())
            .field("autocommit", &self.autocommit)
            .field("in_transaction", &self.in_transaction)
            .field("broken", &self.broken)
            .finish()
    }
}

impl OdbcConnection {
    pub(crate) fn new(
        conn: odbc_api::Connection<'static>,
        autocommit: bool,
        ping_sql: String,
        procedures: bool,
    ) -> Result<Self> {
        conn.set_autocommit(autocommit).map_err(from_odbc)?;
        Ok(Self {
            conn: Some(conn),
            autocommit,
            in_transaction: false,
            broken: false,
            ping_sql,
            procedures,
        })
    }

    /// The `odbc-api` connection, for what the DB-API does not cover (catalog functions,
    /// driver information).
    ///
    /// # Errors
    /// An Interface error once the connection is closed.
    pub fn native(&self) -> Result<&odbc_api::Connection<'static>> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::closed("connection"))
    }

    /// Whether `callproc` may call stored procedures (see [`crate::Odbc::procedures`]).
    pub(crate) fn has_procedures(&self) -> bool {
        self.procedures
    }

    /// Whether the session runs in autocommit mode.
    #[must_use]
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Converts a driver error, marking the connection broken when the error says the
    /// session is gone.
    pub(crate) fn check(&mut self, err: odbc_api::Error) -> Error {
        let err = from_odbc(err);
        if err.is_disconnect()
            || self
                .conn
                .as_ref()
                .is_some_and(|c| c.is_dead().unwrap_or(false))
        {
            self.broken = true;
            return err.with_disconnect(true);
        }
        err
    }

    /// Called before every statement: with autocommit off, it opens a transaction.
    pub(crate) fn before_statement(&mut self) {
        if !self.autocommit {
            self.in_transaction = true;
        }
    }

    fn end_transaction(&mut self, commit: bool) -> Result<()> {
        let conn = self.native()?;
        if !self.in_transaction {
            return Ok(());
        }
        let result = if commit {
            conn.commit()
        } else {
            conn.rollback()
        };
        // The transaction is over whatever the driver answers.
        self.in_transaction = false;
        result.map_err(|e| self.check(e))
    }
}

impl Connection for OdbcConnection {
    type Cursor<'c> = OdbcCursor<'c>;

    fn cursor(&mut self) -> Result<OdbcCursor<'_>> {
        self.native()?;
        Ok(OdbcCursor::new(self))
    }

    /// A commit cut off by a lost connection is [`Error::is_outcome_unknown`].
    fn commit(&mut self) -> Result<()> {
        self.end_transaction(true).map_err(Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        self.end_transaction(false)
    }

    /// Rolls back an open transaction (ODBC refuses to disconnect in one) and disconnects.
    fn close(&mut self) -> Result<()> {
        if let Some(conn) = self.conn.take() {
            if self.in_transaction && !self.broken {
                let _ = conn.rollback();
            }
            self.in_transaction = false;
            drop(conn);
        }
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.conn.is_none()
    }

    /// Runs the module's ping statement (`SELECT 1` unless set with
    /// [`crate::Odbc::ping_sql`]) and reads its result.
    fn ping(&mut self) -> Result<()> {
        // Borrowed out and put back: no allocation on a pool's validation path.
        let sql = std::mem::take(&mut self.ping_sql);
        let result = self
            .cursor()
            .and_then(|mut cursor| dbapi::Cursor::execute(&mut cursor, &sql, &dbapi::Params::None));
        self.ping_sql = sql;
        result
    }

    /// Closed, a previous call found the session gone, or the driver reports the
    /// connection dead (`SQL_ATTR_CONNECTION_DEAD`, a local check).
    fn is_broken(&self) -> bool {
        match &self.conn {
            None => true,
            Some(conn) => self.broken || conn.is_dead().unwrap_or(false),
        }
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        if autocommit == self.autocommit {
            return self.native().map(|_| ());
        }
        if autocommit {
            self.commit()?;
        }
        let result = self.native()?.set_autocommit(autocommit);
        result.map_err(|e| self.check(e))?;
        self.autocommit = autocommit;
        if autocommit {
            self.in_transaction = false;
        }
        Ok(())
    }

    fn in_transaction(&self) -> Option<bool> {
        Some(self.in_transaction)
    }
}

impl Drop for OdbcConnection {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
