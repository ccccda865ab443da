//! [`MysqlConnection`]: DB-API transactions and session reset over a `mysql::Conn`.

use std::fmt;

use dbapi::{Connection, Error, ResetLevel, Result};
use mysql::prelude::Queryable;
use mysql::Conn;

use crate::error_mapping::from_mysql;
use crate::socket::Idle;
use crate::MysqlCursor;

/// An open MySQL or MariaDB connection.
///
/// Transactions follow the DB-API (and MySQLdb): the session runs with `autocommit=0`, so
/// the server opens a transaction with the first statement, without a `BEGIN` round trip,
/// and it lasts until `commit()` or `rollback()`.
///
/// `in_transaction` is tracked here, not read from the server's status flags: the `mysql`
/// crate does not expose them (and clears them on every error). It is `true` from the first
/// statement after a commit or rollback (or an explicit `BEGIN` in autocommit mode), which
/// is exact for what a pool needs: a connection that ran nothing since its last commit is
/// returned without a `ROLLBACK` round trip.
pub struct MysqlConnection {
    conn: Option<Conn>,
    in_transaction: bool,
    autocommit: bool,
    default_autocommit: bool,
    reset: ResetLevel,
    broken: bool,
    /// No TLS: bytes waiting on an idle socket can only be the server's last words.
    plain: bool,
    /// No TLS and no compression: a `ROLLBACK` can be sent, and its answer read, on the
    /// socket itself ([`Connection::rollback_pipelined`]).
    pipelines: bool,
    /// A pipelined `ROLLBACK`'s answer is still on its way: read before the next request.
    answer_due: bool,
}

impl fmt::Debug for MysqlConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlConnection")
            .field("open", &self.conn.is_some())
            .field(
                "connection_id",
                &self.conn.as_ref().map(Conn::connection_id),
            )
            .field("in_transaction", &self.in_transaction)
            .field("autocommit", &self.autocommit)
            .field("broken", &self.broken)
            .field("answer_due", &self.answer_due)
            .finish()
    }
}

impl MysqlConnection {
    pub(crate) fn new(
        conn: Conn,
        reset: ResetLevel,
        autocommit: bool,
        plain: bool,
        compressed: bool,
    ) -> Self {
        Self {
            conn: Some(conn),
            in_transaction: false,
            autocommit,
            default_autocommit: autocommit,
            reset,
            broken: false,
            plain,
            pipelines: cfg!(unix) && plain && !compressed,
            answer_due: false,
        }
    }

    /// The `mysql::Conn`, for driver-specific calls (after reading the answer to a
    /// pipelined `ROLLBACK`, if one is due).
    ///
    /// # Errors
    /// An Interface error after `close()`; an Operational disconnect error when the
    /// answer shows the session lost.
    pub fn native_mut(&mut self) -> Result<&mut Conn> {
        if self.answer_due {
            self.read_answer()?;
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))
    }

    /// Whether the answer to a pipelined `ROLLBACK` is still to be read (it is read
    /// before the connection's next request).
    #[must_use]
    pub fn answer_due(&self) -> bool {
        self.answer_due
    }

    #[cfg(unix)]
    fn read_answer(&mut self) -> Result<()> {
        use crate::pipeline::{read_answer, Answer};
        self.answer_due = false;
        let conn = self
            .conn
            .as_ref()
            .ok_or_else(|| Error::closed("connection"))?;
        let failure = match read_answer(conn) {
            Ok(Answer::Done) => return Ok(()),
            Ok(Answer::Refused(code, message)) => format!("error {code}: {message}"),
            Err(e) => e.to_string(),
        };
        // The session may be gone, or out of step: either way it cannot be used.
        self.broken = true;
        Err(Error::operational(format!(
            "the server did not end the last transaction cleanly ({failure}); nothing was \
             sent since: use a new connection"
        ))
        .with_disconnect(true)
        .with_not_sent(true))
    }

    #[cfg(not(unix))]
    fn read_answer(&mut self) -> Result<()> {
        Ok(())
    }

    /// The server's id for this session (`CONNECTION_ID()`), known without a round trip.
    #[must_use]
    pub fn connection_id(&self) -> Option<u32> {
        self.conn.as_ref().map(Conn::connection_id)
    }

    /// Whether autocommit is on.
    #[must_use]
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Converts a driver error, remembering a lost connection for [`Connection::is_broken`].
    pub(crate) fn check(&mut self, err: mysql::Error) -> Error {
        let err = from_mysql(err);
        if err.is_disconnect() {
            self.broken = true;
        }
        err
    }

    /// Runs a statement that returns nothing, on the text protocol.
    fn run(&mut self, sql: &str) -> Result<()> {
        let result = self.native_mut()?.query_drop(sql);
        result.map_err(|e| self.check(e))
    }

    /// Refuses to send on a connection already found lost, then tracks the transaction a
    /// statement opens or ends.
    pub(crate) fn before_statement(&mut self, sql: &str) -> Result<()> {
        self.native_mut()?;
        if self.broken {
            return Err(Error::dead_before_send());
        }
        let keyword = dbapi::first_keyword(sql);
        let is = |word: &str| keyword.eq_ignore_ascii_case(word);
        if is("COMMIT") || is("ROLLBACK") {
            // `ROLLBACK TO SAVEPOINT` keeps the transaction: stay conservative.
            self.in_transaction = !self.autocommit && sql.to_ascii_uppercase().contains(" TO ");
        } else if !self.autocommit || is("BEGIN") || is("START") {
            self.in_transaction = true;
        }
        Ok(())
    }

    fn end_transaction(&mut self, verb: &str) -> Result<()> {
        self.native_mut()?;
        if !self.in_transaction {
            return Ok(());
        }
        // The transaction is over whatever the server answers.
        self.in_transaction = false;
        self.run(verb)
    }
}

impl Connection for MysqlConnection {
    type Cursor<'c> = MysqlCursor<'c>;

    fn cursor(&mut self) -> Result<MysqlCursor<'_>> {
        self.native_mut()?;
        Ok(MysqlCursor::new(self))
    }

    /// A commit cut off by a lost connection is [`Error::is_outcome_unknown`].
    fn commit(&mut self) -> Result<()> {
        self.end_transaction("COMMIT").map_err(Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        self.end_transaction("ROLLBACK")
    }

    /// On a plain, uncompressed connection: sends `ROLLBACK` and returns, after a look at
    /// the socket that finds a session the server already ended; the answer is read before
    /// the next request ([`MysqlConnection::answer_due`]). Otherwise as `rollback()`.
    fn rollback_pipelined(&mut self) -> Result<()> {
        #[cfg(unix)]
        if self.pipelines && self.in_transaction {
            self.check_alive()?;
            self.in_transaction = false;
            let conn = self.native_mut()?;
            if let Err(e) = crate::pipeline::send_rollback(conn) {
                self.broken = true;
                return Err(
                    Error::operational(format!("cannot send ROLLBACK: {e}")).with_disconnect(true)
                );
            }
            self.answer_due = true;
            return Ok(());
        }
        self.rollback()
    }

    /// Closes the prepared statements and says goodbye (`COM_QUIT`), after reading the
    /// answer to a pipelined `ROLLBACK` still due.
    fn close(&mut self) -> Result<()> {
        if self.answer_due {
            // Read before closing: a socket closed with unread bytes is reset, not shut
            // down, and the server counts an aborted connection.
            let _ = self.read_answer();
        }
        drop(self.conn.take());
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.conn.is_none()
    }

    /// The protocol's `COM_PING`: one round trip, no statement.
    fn ping(&mut self) -> Result<()> {
        let result = self.native_mut()?.ping();
        result.map_err(|e| self.check(e))
    }

    /// As configured by [`crate::Mysql::reset_level`]: `Rollback` rolls back an open
    /// transaction and restores the autocommit setting; `Clean` and `Full` send
    /// `COM_RESET_CONNECTION` (falling back to `COM_CHANGE_USER` on servers without it),
    /// which also drops user variables, session settings, temporary tables, named locks and
    /// prepared statements.
    fn reset_session(&mut self) -> Result<()> {
        self.rollback()?;
        match self.reset {
            ResetLevel::Rollback => {
                if self.autocommit != self.default_autocommit {
                    self.set_autocommit(self.default_autocommit)?;
                }
            }
            ResetLevel::Clean | ResetLevel::Full => {
                // Also re-runs the module's init statements (`SET autocommit=0`).
                let result = self.native_mut()?.reset();
                result.map_err(|e| self.check(e))?;
                self.autocommit = self.default_autocommit;
            }
        }
        Ok(())
    }

    /// Closed, or a previous call found the connection lost.
    fn is_broken(&self) -> bool {
        self.conn.is_none() || self.broken
    }

    /// A non-blocking peek at the socket (nothing sent, nothing consumed): the server closed
    /// it, or — on a connection without TLS — left its last words there (the idle-timeout
    /// error packet). With TLS, unasked bytes are not taken as proof.
    fn check_alive(&mut self) -> Result<()> {
        let plain = self.plain;
        let look = crate::socket::look(self.native_mut()?);
        let dead = match look {
            Idle::Quiet => self.broken,
            Idle::Unasked => plain || self.broken,
            Idle::Closed => true,
        };
        if dead {
            self.broken = true;
            Err(Error::dead_before_send())
        } else {
            Ok(())
        }
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        if autocommit == self.autocommit {
            return self.native_mut().map(|_| ());
        }
        if autocommit {
            self.commit()?;
        }
        self.run(if autocommit {
            "SET autocommit=1"
        } else {
            "SET autocommit=0"
        })?;
        self.autocommit = autocommit;
        Ok(())
    }

    fn in_transaction(&self) -> Option<bool> {
        Some(self.in_transaction)
    }
}
