//! [`PgConnection`]: DB-API transactions and session reset over a [`Session`].

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbapi::{
    BoxFuture, Column, Connection, Cursor, Error, Nonblocking, Params, ResetLevel, Result, Row,
};
use tokio_postgres::Statement;

use crate::decode;
use crate::module::Settings;
use crate::{PgCursor, Session};

const CLEAN_SQL: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
                         SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;";

/// The most statements kept prepared per connection.
const STATEMENT_CACHE: usize = 256;

/// An open PostgreSQL connection.
///
/// Transactions follow the DB-API (and psycopg2): with autocommit off (the default) the
/// first statement opens a transaction (`BEGIN`, sent with that statement in one round
/// trip), which lasts until `commit()` or `rollback()`; a transaction that sent nothing ends
/// without a round trip. Statements are prepared once per connection and cached — except behind a
/// transaction pooler ([`crate::Postgres::pgbouncer`]), where nothing outlives a transaction.
pub struct PgConnection {
    session: Option<Session>,
    statements: HashMap<String, Prepared>,
    /// Behind a transaction pooler (PgBouncer): no statement is kept across transactions.
    pooled: bool,
    /// Shared with the module: set when a connection finds itself behind a pooler, so the
    /// module's later connections start in that mode.
    pooler_seen: Arc<AtomicBool>,
    in_transaction: bool,
    /// The transaction is open for the DB-API but its `BEGIN` is not sent yet: it goes out
    /// with the next request.
    begin_pending: bool,
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
            .field("open", &self.session.is_some())
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
    pub(crate) fn new(session: Session, settings: &Settings, pooler_seen: Arc<AtomicBool>) -> Self {
        Self {
            session: Some(session),
            statements: HashMap::new(),
            pooled: settings.pgbouncer || pooler_seen.load(Relaxed),
            pooler_seen,
            in_transaction: false,
            begin_pending: false,
            autocommit: settings.autocommit,
            default_autocommit: settings.autocommit,
            reset: settings.reset,
            dead: false,
            listening: false,
            last_used: Instant::now(),
            check_alive_after: settings.check_alive_after,
        }
    }

    /// The [`Session`] (a `tokio_postgres::Client` and its I/O), for driver-specific calls
    /// (`COPY`, notifications, ...). A `BEGIN` the DB-API transaction has not sent yet is
    /// sent first, so what runs here runs inside it.
    ///
    /// # Errors
    /// An Interface error after `close()`; the server's error if the pending `BEGIN` fails.
    pub fn native_mut(&mut self) -> Result<&mut Session> {
        if self.begin_pending {
            let begin = self.take_begin();
            let session = self.session_mut()?;
            session.runtime().block_on(session.batch(begin, ""))?;
        }
        self.session_mut()
    }

    /// The session, as is (a pending `BEGIN` stays pending).
    pub(crate) fn session_mut(&mut self) -> Result<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))
    }

    /// Has a `BEGIN` go out with the next request (a streaming cursor's own transaction).
    pub(crate) fn defer_begin(&mut self) {
        self.begin_pending = true;
    }

    /// Whether a `BEGIN` must go out with the next request; the caller sends it.
    pub(crate) fn take_begin(&mut self) -> bool {
        std::mem::take(&mut self.begin_pending)
    }

    /// Whether autocommit is on.
    #[must_use]
    pub fn autocommit(&self) -> bool {
        self.autocommit
    }

    /// Opens the implicit transaction when needed, and tracks explicit transaction control.
    pub(crate) fn before_statement(&mut self, sql: &str) -> Result<()> {
        if self.wire_closed()? || self.dead {
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
            // An explicit end of a transaction whose BEGIN never went out: nothing to end,
            // but the statement still runs (the server warns, as it would anyway).
            self.begin_pending = false;
            self.in_transaction = false;
            return Ok(());
        }
        if !self.autocommit && !self.in_transaction {
            // Sent with this statement, in the same write.
            self.begin_pending = true;
            self.in_transaction = true;
        }
        Ok(())
    }

    /// Whether the client knows the session is over (an Interface error after `close()`).
    fn wire_closed(&self) -> Result<bool> {
        self.session
            .as_ref()
            .map(Session::is_closed)
            .ok_or_else(|| Error::closed("connection"))
    }

    /// The prepared statement for `sql` and its result columns, prepared on first use —
    /// or, behind a transaction pooler, prepared for this use only (closed when dropped,
    /// inside the transaction that prepared it).
    pub(crate) async fn prepared(&mut self, sql: &str) -> Result<Prepared> {
        if let Some(prepared) = self.statements.get(sql) {
            return Ok(prepared.clone());
        }
        // `?` markers become `$n` once, when the statement is first prepared.
        let text = crate::markers::to_dollar(sql)?;
        let begin = self.take_begin();
        let statement = self.session_mut()?.prepare(begin, &text).await?;
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

    async fn end_transaction(&mut self, verb: &str) -> Result<()> {
        match self.transaction_to_end()? {
            Some(session) => session.batch(false, verb).await,
            None => Ok(()),
        }
    }

    /// [`PgConnection::end_transaction`], blocking on the connection's runtime.
    fn end_transaction_now(&mut self, verb: &str) -> Result<()> {
        let runtime = self.session_mut()?.runtime();
        runtime.block_on(self.end_transaction(verb))
    }

    /// The session, when a transaction is open on the server: it is over, as far as this
    /// connection knows, whatever the server answers to the statement that ends it. `None`
    /// when nothing was sent in it (nothing to end on the server).
    fn transaction_to_end(&mut self) -> Result<Option<&mut Session>> {
        let begin = self.take_begin();
        self.session_mut()?;
        let open = self.in_transaction && !begin;
        self.in_transaction = false;
        if !open {
            return Ok(None);
        }
        self.last_used = Instant::now();
        self.session_mut().map(Some)
    }
}

impl Connection for PgConnection {
    type Cursor<'c> = PgCursor<'c>;

    fn cursor(&mut self) -> Result<PgCursor<'_>> {
        self.wire_closed()?;
        Ok(PgCursor::new(self))
    }

    /// A commit cut off by a lost connection is [`Error::is_outcome_unknown`].
    fn commit(&mut self) -> Result<()> {
        self.end_transaction_now("COMMIT")
            .map_err(Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        self.end_transaction_now("ROLLBACK")
    }

    /// Sends the `ROLLBACK` without waiting for its answer, which the session reads with its
    /// next request. What the server sent before is read first: a session it ended is
    /// found over here, not by the connection's next user.
    fn rollback_pipelined(&mut self) -> Result<()> {
        match self.transaction_to_end()? {
            Some(session) => session.send_unawaited("ROLLBACK"),
            None => Ok(()),
        }
    }

    fn close(&mut self) -> Result<()> {
        self.statements.clear();
        self.begin_pending = false;
        self.in_transaction = false;
        if let Some(session) = self.session.take() {
            session.close();
        }
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.session.is_none()
    }

    /// An empty simple query: one round trip, no parsing.
    fn ping(&mut self) -> Result<()> {
        // A BEGIN waiting for its statement keeps waiting.
        let session = self.session_mut()?;
        session
            .runtime()
            .block_on(session.simple_query(""))
            .map(|_| ())
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
                let session = self.session_mut()?;
                session.runtime().block_on(session.batch(false, CLEAN_SQL))
            }
            ResetLevel::Full => {
                self.statements.clear();
                self.listening = false;
                let session = self.session_mut()?;
                session
                    .runtime()
                    .block_on(session.batch(false, "DISCARD ALL"))
            }
        }
    }

    /// Closed, or the client (or a check) saw the connection end.
    fn is_broken(&self) -> bool {
        self.dead || self.session.as_ref().is_none_or(Session::is_closed)
    }

    /// Reads what the server sent unasked, without sending anything: a session the server
    /// ended while idle (`pg_terminate_backend`, a shutdown, an idle timeout) shows up as
    /// its FATAL message or the end of the stream. The look reads what has already arrived
    /// and does not wait, and happens only for a connection unused for
    /// [`crate::Postgres::check_alive_after`];
    /// otherwise only what the client already knows is checked. On a session that ran
    /// `LISTEN` through this adapter it never looks, so no notification is taken from the
    /// client's queue. (A `LISTEN` sent through [`PgConnection::native_mut`] is not seen: a
    /// notification arriving there may be consumed by this check.)
    fn check_alive(&mut self) -> Result<()> {
        let look = !self.listening && self.last_used.elapsed() >= self.check_alive_after;
        let session = self.session_mut()?;
        let mut failure = None;
        if look && !session.is_closed() {
            // The session's I/O only turns while it waits, so give it a moment.
            if let Err(err) = session.io.look(Duration::ZERO) {
                failure = Some(err);
            }
        }
        if failure.is_none() && (session.is_closed() || self.dead) {
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

    /// Always: the session's calls are futures, awaited in the caller's task when a tokio
    /// runtime runs it (see [`Nonblocking::available`]).
    fn nonblocking(&mut self) -> Option<&mut dyn Nonblocking> {
        Some(self)
    }
}

/// The statements of [`Connection`] in the caller's tokio task: the session's socket moves
/// to the caller's runtime for the call (and back to the connection's own with the next
/// blocking call), so no thread waits on it.
impl Nonblocking for PgConnection {
    /// Inside a tokio runtime (any flavour).
    fn available(&self) -> bool {
        tokio::runtime::Handle::try_current().is_ok()
    }

    fn execute_async<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<i64>> {
        Box::pin(async move {
            let mut cursor = self.cursor()?;
            cursor.execute_nonblocking(sql, params).await?;
            Ok(cursor.rowcount())
        })
    }

    fn query_async<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move {
            let mut cursor = self.cursor()?;
            cursor.execute_nonblocking(sql, params).await?;
            cursor.fetchall()
        })
    }

    fn commit_async(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            self.end_transaction("COMMIT")
                .await
                .map_err(Error::commit_failed)
        })
    }

    fn rollback_async(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.end_transaction("ROLLBACK"))
    }
}
