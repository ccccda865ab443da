//! [`PgConnection`]: DB-API transactions and session reset over a `postgres::Client`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbapi::{Column, Connection, Error, ResetLevel, Result};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Statement};

use crate::decode;
use crate::error_mapping::from_postgres;
use crate::module::Settings;
use crate::PgCursor;

const CLEAN_SQL: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
                         SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";

/// The most statements kept prepared per connection.
const STATEMENT_CACHE: usize = 256;

/// An open PostgreSQL connection.
///
/// Transactions follow the DB-API (and psycopg2): with autocommit off (the default) the
/// first statement opens a transaction (`BEGIN`), which lasts until `commit()` or
/// `rollback()`. Statements are prepared once per connection and cached — except behind a
/// transaction pooler ([`crate::Postgres::pgbouncer`]), where nothing outlives a transaction.
pub struct PgConnection {
    client: Option<Client>,
    statements: HashMap<String, Prepared>,
    /// Behind a transaction pooler (PgBouncer): no statement is kept across transactions.
    pooled: bool,
    /// Shared with the module: set when a connection finds itself behind a pooler, so the
    /// module's later connections start in that mode.
    pooler_seen: Arc<AtomicBool>,
    in_transaction: bool,
    autocommit: bool,
    default_autocommit: bool,
    reset: ResetLevel,
    /// A check found the session ended by the server.
    dead: bool,
    /// The session ran `LISTEN`: notifications may arrive, so [`Connection::check_alive`]
    /// must not poll (it would take one from the client's queue).
    listening: bool,
    /// When a statement or transaction end was last sent.
    last_used: Instant,
    /// How long unused before `check_alive` looks at the socket.
    check_alive_after: Duration,
}

impl fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConnection")
            .field("open", &self.client.is_some())
            .field("in_transaction", &self.in_transaction)
            .field("autocommit", &self.autocommit)
            .field("cached_statements", &self.statements.len())
            .field("pgbouncer", &self.pooled)
            .finish()
    }
}

/// A prepared statement with its result columns, both built once per connection.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) statement: Statement,
    pub(crate) columns: Arc<[Column]>,
}

impl PgConnection {
    pub(crate) fn new(client: Client, settings: &Settings, pooler_seen: Arc<AtomicBool>) -> Self {
        Self {
            client: Some(client),
            statements: HashMap::new(),
            pooled: settings.pgbouncer || pooler_seen.load(Relaxed),
            pooler_seen,
            in_transaction: false,
            autocommit: settings.autocommit,
            default_autocommit: settings.autocommit,
            reset: settings.reset,
            dead: false,
            listening: false,
            last_used: Instant::now(),
            check_alive_after: settings.check_alive_after,
        }
    }

    /// The `postgres::Client`, for driver-specific calls (`COPY`, notifications, ...).
    ///
    /// # Errors
    /// An Interface error after `close()`.
    pub fn native_mut(&mut self) -> Result<&mut Client> {
        self.client
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))
    }

    /// Whether autocommit is on.
    #[must_use]
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Opens the implicit transaction when needed, and tracks explicit transaction control.
    pub(crate) fn before_statement(&mut self, sql: &str) -> Result<()> {
        if self.native_mut()?.is_closed() || self.dead {
            // The client knows the session is gone: the statement is not sent.
            self.dead = true;
            return Err(Error::dead_before_send());
        }
        self.last_used = Instant::now();
        if dbapi::starts_with_keyword(sql, &["LISTEN"]) {
            self.listening = true;
        } else if dbapi::starts_with_keyword(sql, &["BEGIN", "START"]) {
            self.in_transaction = true;
            return Ok(());
        } else if dbapi::starts_with_keyword(sql, &["COMMIT", "END", "ROLLBACK", "ABORT"]) {
            self.in_transaction = false;
            return Ok(());
        }
        if !self.autocommit && !self.in_transaction {
            self.native_mut()?
                .batch_execute("BEGIN")
                .map_err(from_postgres)?;
            self.in_transaction = true;
        }
        Ok(())
    }

    /// The prepared statement for `sql` and its result columns, prepared on first use —
    /// or, behind a transaction pooler, prepared for this use only (closed when dropped,
    /// inside the transaction that prepared it).
    pub(crate) fn prepared(&mut self, sql: &str) -> Result<Prepared> {
        if let Some(prepared) = self.statements.get(sql) {
            return Ok(prepared.clone());
        }
        // `?` markers become `$n` once, when the statement is first prepared.
        let text = crate::markers::to_dollar(sql)?;
        let statement = self.native_mut()?.prepare(&text).map_err(from_postgres)?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| Column::new(c.name(), decode::type_code(c.type_())))
            .collect();
        let prepared = Prepared { statement, columns };
        if self.pooled {
            return Ok(prepared);
        }
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }

    /// Whether statements run as a transaction pooler needs them
    /// ([`crate::Postgres::pgbouncer`], or found out by this connection or its module).
    #[must_use]
    pub fn pgbouncer(&self) -> bool {
        self.pooled
    }

    /// Whether a statement now runs outside any transaction (autocommit, none open).
    pub(crate) fn outside_transaction(&self) -> bool {
        !self.in_transaction
    }

    /// A cached statement was missing on the server: the server connection changed between
    /// transactions, so a transaction pooler is in between. From now on this connection,
    /// and the module's next ones, run as [`crate::Postgres::pgbouncer`] says.
    pub(crate) fn found_pooler(&mut self) {
        self.pooled = true;
        self.statements.clear();
        self.pooler_seen.store(true, Relaxed);
    }

    fn end_transaction(&mut self, verb: &str) -> Result<()> {
        if !self.in_transaction {
            self.native_mut()?;
            return Ok(());
        }
        // The transaction is over whatever the server answers.
        self.in_transaction = false;
        self.last_used = Instant::now();
        self.native_mut()?
            .batch_execute(verb)
            .map_err(from_postgres)
    }
}

impl Connection for PgConnection {
    type Cursor<'c> = PgCursor<'c>;

    fn cursor(&mut self) -> Result<PgCursor<'_>> {
        self.native_mut()?;
        Ok(PgCursor::new(self))
    }

    /// A commit cut off by a lost connection is [`Error::is_outcome_unknown`].
    fn commit(&mut self) -> Result<()> {
        self.end_transaction("COMMIT").map_err(Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        self.end_transaction("ROLLBACK")
    }

    fn close(&mut self) -> Result<()> {
        self.statements.clear();
        match self.client.take() {
            Some(client) => client.close().map_err(from_postgres),
            None => Ok(()),
        }
    }

    fn is_closed(&self) -> bool {
        self.client.is_none()
    }

    /// An empty simple query: one round trip, no parsing.
    fn ping(&mut self) -> Result<()> {
        self.native_mut()?
            .simple_query("")
            .map(|_| ())
            .map_err(from_postgres)
    }

    /// As configured by [`crate::Postgres::reset_level`]. Behind a transaction pooler only
    /// the rollback: past its transaction, the session this would clean is not this
    /// connection's (see [`crate::Postgres::pgbouncer`]).
    fn reset_session(&mut self) -> Result<()> {
        self.rollback()?;
        self.autocommit = self.default_autocommit;
        if self.pooled {
            return Ok(());
        }
        match self.reset {
            ResetLevel::Rollback => Ok(()),
            ResetLevel::Clean => {
                self.listening = false;
                self.native_mut()?
                    .batch_execute(CLEAN_SQL)
                    .map_err(from_postgres)
            }
            ResetLevel::Full => {
                self.statements.clear();
                self.listening = false;
                self.native_mut()?
                    .batch_execute("DISCARD ALL")
                    .map_err(from_postgres)
            }
        }
    }

    /// Closed, or the client (or a check) saw the connection end.
    fn is_broken(&self) -> bool {
        self.dead || self.client.as_ref().is_none_or(Client::is_closed)
    }

    /// Reads what the server sent unasked, without sending anything: a session the server
    /// ended while idle (`pg_terminate_backend`, a shutdown, an idle timeout) shows up as
    /// its FATAL message or the end of the stream. The look waits at most a millisecond,
    /// and only for a connection unused for [`crate::Postgres::check_alive_after`];
    /// otherwise only what the client already knows is checked. On a session that ran
    /// `LISTEN` through this adapter it never looks, so no notification is taken from the
    /// client's queue. (A `LISTEN` sent through [`PgConnection::native_mut`] is not seen: a
    /// notification arriving there may be consumed by this check.)
    fn check_alive(&mut self) -> Result<()> {
        let look = !self.listening && self.last_used.elapsed() >= self.check_alive_after;
        let client = self.native_mut()?;
        let mut failure = None;
        if look && !client.is_closed() {
            // The client's I/O driver only turns while it waits, so give it a moment.
            let mut notifications = client.notifications();
            let mut unasked = notifications.timeout_iter(Duration::from_millis(1));
            if let Err(err) = unasked.next() {
                failure = Some(from_postgres(err));
            }
        }
        if failure.is_none() && (client.is_closed() || self.dead) {
            failure = Some(Error::dead_before_send());
        }
        match failure {
            None => Ok(()),
            Some(err) => {
                self.dead = true;
                Err(err.with_disconnect(true).with_not_sent(true))
            }
        }
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        if autocommit {
            self.commit()?;
        }
        self.autocommit = autocommit;
        Ok(())
    }

    fn in_transaction(&self) -> Option<bool> {
        Some(self.in_transaction)
    }
}
