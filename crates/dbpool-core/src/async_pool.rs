//! The async front-end (eventlet's `TpooledConnectionPool`, its default `ConnectionPool`):
//! the same pool core, with waiting done by futures and every blocking driver call —
//! connecting included — run on a [`ThreadPool`] while the calling task yields.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use dbapi::{Connection, Cursor, Error, Module, Params, Row};

use crate::maintenance;
use crate::nonblocking_call::NativeCall;
use crate::pool::{Grant, Live, Start};
use crate::tpool::{oneshot, Oneshot, ThreadPool};
use crate::waiter::{Notify, Waiter};
use crate::{CloseReason, Pool, PoolError, PooledConnection};

/// eventlet's name for the async pool.
pub type TpooledConnectionPool<M> = AsyncPool<M>;

/// A pool for async code: `get().await` waits without blocking the executor, and
/// [`AsyncConnection`] runs driver calls on a thread pool — or, for a driver that can wait
/// on the caller's executor ([`dbapi::Nonblocking`]: PostgreSQL inside a tokio runtime), in
/// the calling task, with no thread hand-off (see [`AsyncPool::nonblocking`]).
///
/// It wraps a [`Pool`], so one pool serves threads (`pool.get()`) and tasks
/// (`async_pool.get().await`) at once, with one `max_size` and one FIFO queue.
/// Runtime-agnostic: tokio, async-std, smol, `futures::executor` — no runtime is required.
///
/// ```
/// use dbpool_core::{AsyncPool, Pool};
/// use dbapi::params;
/// use dbapi_sqlite::Sqlite;
///
/// let pool = AsyncPool::new(Pool::builder(Sqlite::memory()).max_size(2).build()?);
/// let rows = futures::executor::block_on(async {
///     let mut conn = pool.get().await?;
///     conn.query("SELECT 1 + 1 AS two", params![]).await
/// })?;
/// assert_eq!(rows[0].get::<i64>("two")?, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AsyncPool<M: Module> {
    pool: Pool<M>,
    tpool: ThreadPool,
    /// Statements go through a driver's [`dbapi::Nonblocking`] face when it offers one.
    nonblocking: bool,
}

impl<M: Module> Clone for AsyncPool<M> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            tpool: self.tpool.clone(),
            nonblocking: self.nonblocking,
        }
    }
}

impl<M: Module> fmt::Debug for AsyncPool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPool")
            .field("pool", &self.pool)
            .field("tpool", &self.tpool)
            .finish()
    }
}

impl<M: Module> AsyncPool<M> {
    /// An async front-end over `pool`, with a thread pool of
    /// [`ThreadPool::DEFAULT_THREADS`] (20, as eventlet's tpool).
    #[must_use]
    pub fn new(pool: Pool<M>) -> Self {
        Self::with_thread_pool(pool, ThreadPool::new(ThreadPool::DEFAULT_THREADS))
    }

    /// An async front-end over `pool` running driver calls on `tpool` (which may be shared
    /// by several pools).
    #[must_use]
    pub fn with_thread_pool(pool: Pool<M>, tpool: ThreadPool) -> Self {
        Self {
            pool,
            tpool,
            nonblocking: true,
        }
    }

    /// Whether [`AsyncConnection`]'s statements run in the calling task when the driver
    /// can wait on the caller's executor ([`dbapi::Connection::nonblocking`]; the PostgreSQL
    /// adapter can, inside a tokio runtime): no thread hand-off per call. Default: on.
    /// Turn it off to run every driver call on the thread pool — needed for a tokio runtime
    /// built without I/O (`enable_io`), where the PostgreSQL adapter cannot register its
    /// socket (tokio panics, saying so). Closures given to [`AsyncConnection::run`]
    /// always run on the thread pool.
    #[must_use]
    pub fn nonblocking(mut self, on: bool) -> Self {
        self.nonblocking = on;
        self
    }

    /// The underlying pool, for threads and for `stats()`, `free()`, `clear()`...
    #[must_use]
    pub fn pool(&self) -> &Pool<M> {
        &self.pool
    }

    /// The thread pool driver calls run on.
    #[must_use]
    pub fn thread_pool(&self) -> &ThreadPool {
        &self.tpool
    }

    /// Takes a connection, as [`Pool::get`] but without blocking the executor: waiting is a
    /// future, connecting runs on the thread pool. Dropping the future gives back whatever
    /// it was about to receive.
    #[track_caller]
    pub fn get(&self) -> AsyncGet<M> {
        AsyncGet {
            pool: self.pool.clone(),
            tpool: self.tpool.clone(),
            nonblocking: self.nonblocking,
            state: GetState::Start,
            deadline: None,
            started: None,
            requeue: None,
            site: Location::caller(),
        }
    }
}

type Finished<C> = Result<Live<C>, PoolError>;

enum GetState<C> {
    Start,
    Queued(Arc<Waiter<Grant<C>>>),
    Finishing(Oneshot<Finished<C>>),
    Done,
}

/// The future of [`AsyncPool::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct AsyncGet<M: Module> {
    pool: Pool<M>,
    tpool: ThreadPool,
    nonblocking: bool,
    state: GetState<M::Connection>,
    deadline: Option<Instant>,
    started: Option<Instant>,
    requeue: Option<u64>,
    site: &'static Location<'static>,
}

impl<M: Module> fmt::Debug for AsyncGet<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncGet")
            .field("pool", &self.pool.target())
            .finish_non_exhaustive()
    }
}

impl<M: Module> AsyncGet<M> {
    fn connection(&self, live: Live<M::Connection>) -> AsyncConnection<M> {
        AsyncConnection {
            guard: Some(PooledConnection::new(
                self.pool.clone(),
                live,
                None,
                self.site,
            )),
            tpool: self.tpool.clone(),
            nonblocking: self.nonblocking,
        }
    }

    /// Turns a grant into a connection: at once for an idle connection that needs no
    /// validation, otherwise on the thread pool (connecting or pinging blocks).
    fn finish(
        &mut self,
        grant: Grant<M::Connection>,
        since: Option<u64>,
    ) -> Option<Result<AsyncConnection<M>, PoolError>> {
        let blocks = match &grant {
            Grant::Slot => true,
            Grant::Conn(live) => self.pool.must_validate(live, since),
            Grant::Closed | Grant::Retry | Grant::Failed(_) => false,
        };
        if !blocks {
            self.state = GetState::Done;
            return Some(
                self.pool
                    .finish_acquire(grant, since)
                    .map(|live| self.connection(live)),
            );
        }
        let (tx, rx) = oneshot();
        let pool = self.pool.clone();
        self.tpool.execute(Box::new(move || {
            let finished = pool.finish_acquire(grant, since);
            if let Err(Ok(live)) = tx.send(finished) {
                // The get() was dropped meanwhile: the connection goes back to the pool.
                pool.check_in(live);
            }
        }));
        self.state = GetState::Finishing(rx);
        None
    }
}

impl<M: Module> Future for AsyncGet<M> {
    type Output = Result<AsyncConnection<M>, PoolError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                GetState::Start => {
                    let config = this.pool.config();
                    let started = this.pool.start_acquire(
                        Some(|| Notify::Waker(Some(cx.waker().clone()))),
                        config.blocking,
                        this.requeue.take(),
                    );
                    match started {
                        Err(err) => {
                            this.state = GetState::Done;
                            return Poll::Ready(Err(err));
                        }
                        Ok(Start::Ready(grant, since)) => {
                            if let Some(done) = this.finish(grant, since) {
                                return Poll::Ready(done);
                            }
                        }
                        Ok(Start::Queued(waiter)) => {
                            if this.started.is_none() {
                                let now = Instant::now();
                                this.started = Some(now);
                                if let Some(deadline) = this
                                    .pool
                                    .config()
                                    .wait_timeout
                                    .and_then(|timeout| crate::clock::deadline(now, timeout))
                                {
                                    this.deadline = Some(deadline);
                                    maintenance::wake_at(deadline, cx.waker().clone());
                                }
                            }
                            this.state = GetState::Queued(waiter);
                            return Poll::Pending;
                        }
                    }
                }
                GetState::Queued(waiter) => {
                    let waiter = Arc::clone(waiter);
                    let started = this.started.unwrap_or_else(Instant::now);
                    let grant = match waiter.take_grant_or_register(cx.waker()) {
                        Some(grant) => grant,
                        None => match this.deadline {
                            Some(deadline) if Instant::now() >= deadline => {
                                this.state = GetState::Done;
                                match this.pool.abandon_wait(&waiter, started) {
                                    Ok(grant) => grant,
                                    Err(err) => return Poll::Ready(Err(err)),
                                }
                            }
                            _ => return Poll::Pending,
                        },
                    };
                    if let Grant::Retry = grant {
                        // Eventually fair pool: try again, keeping the place in the queue.
                        this.requeue = Some(waiter.queued_at());
                        this.state = GetState::Start;
                        continue;
                    }
                    this.pool.record_wait(started.elapsed());
                    this.state = GetState::Done;
                    if let Some(done) = this.finish(grant, None) {
                        return Poll::Ready(done);
                    }
                }
                GetState::Finishing(rx) => {
                    let finished = match Pin::new(rx).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(finished) => finished,
                    };
                    this.state = GetState::Done;
                    return Poll::Ready(finished.map(|live| this.connection(live)));
                }
                GetState::Done => {
                    return Poll::Ready(Err(PoolError::Closed {
                        target: format!(
                            "{} (AsyncGet polled after completion)",
                            this.pool.target()
                        ),
                    }))
                }
            }
        }
    }
}

impl<M: Module> Drop for AsyncGet<M> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.state, GetState::Done) {
            GetState::Queued(waiter) => self.pool.cancel_wait(&waiter),
            GetState::Finishing(mut rx) => {
                if let Some(Ok(live)) = rx.close() {
                    self.pool.check_in(live);
                }
            }
            GetState::Start | GetState::Done => {}
        }
    }
}

/// A pooled connection for async code. Driver calls run on the pool's thread pool while the
/// task yields — except [`execute`](AsyncConnection::execute),
/// [`query`](AsyncConnection::query), [`query_one`](AsyncConnection::query_one),
/// [`commit`](AsyncConnection::commit) and [`rollback`](AsyncConnection::rollback) on a
/// driver with a [`dbapi::Nonblocking`] face usable here, which run in the task itself. A
/// future of those dropped mid-call (a timeout, a `select!`) leaves the connection's state
/// unknown: it is marked broken and closed on return.
///
/// Dropping it returns the connection: at once when that needs no driver call (nothing ran
/// since checkout, or the driver reports no open transaction), on the thread pool when the
/// cleanup has work to do or the connection is to be closed.
#[must_use = "dropping the connection returns it to the pool at once"]
pub struct AsyncConnection<M: Module> {
    guard: Option<PooledConnection<M>>,
    tpool: ThreadPool,
    nonblocking: bool,
}

impl<M: Module> fmt::Debug for AsyncConnection<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncConnection")
            .field("connection", &self.guard)
            .finish()
    }
}

type Ran<M, R> = (PooledConnection<M>, R);

impl<M: Module> AsyncConnection<M> {
    /// Runs `f` with the connection on the thread pool. Dropping the future lets `f` finish
    /// on its thread and then returns the connection to the pool; if `f` panics, the
    /// connection is discarded (never the pool poisoned) and this wrapper becomes unusable.
    ///
    /// # Errors
    /// An Interface error when the connection was discarded by an earlier panic; an Internal
    /// error when `f` panics.
    pub fn run<R, F>(&mut self, f: F) -> Run<'_, M, R>
    where
        R: Send + 'static,
        F: FnOnce(&mut PooledConnection<M>) -> R + Send + 'static,
    {
        let Some(mut guard) = self.guard.take() else {
            return Run {
                conn: self,
                rx: None,
            };
        };
        let (tx, rx) = oneshot::<Result<Ran<M, R>, Error>>();
        self.tpool.execute(Box::new(move || {
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut guard)));
            let outcome = match ran {
                Ok(value) => Ok((guard, value)),
                Err(_) => {
                    // The session state is unknown after a panic: close it, free the slot.
                    guard.discard_as(CloseReason::Panicked);
                    Err(Error::new(
                        dbapi::ErrorKind::Internal,
                        "the closure panicked; its connection was discarded",
                    ))
                }
            };
            // If the caller is gone, the guard is dropped here, on this worker: returned.
            let _ = tx.send(outcome);
        }));
        Run {
            conn: self,
            rx: Some(rx),
        }
    }

    /// Runs one statement and returns its `rowcount`.
    ///
    /// # Errors
    /// The driver's error, or as [`AsyncConnection::run`].
    pub async fn execute(&mut self, sql: impl Into<String>, params: Params) -> dbapi::Result<i64> {
        let sql = sql.into();
        if let Some(mut call) = self.native(true) {
            let done = async { call.face()?.execute_async(&sql, &params).await }.await;
            return call.finish(done);
        }
        self.run(move |conn| conn.execute(&sql, &params)).await?
    }

    /// Runs a query and fetches every row.
    ///
    /// # Errors
    /// The driver's error, or as [`AsyncConnection::run`].
    pub async fn query(
        &mut self,
        sql: impl Into<String>,
        params: Params,
    ) -> dbapi::Result<Vec<Row>> {
        let sql = sql.into();
        if let Some(mut call) = self.native(true) {
            let done = async { call.face()?.query_async(&sql, &params).await }.await;
            return call.finish(done);
        }
        self.run(move |conn| {
            let mut cursor = conn.cursor()?;
            cursor.execute(&sql, &params)?;
            cursor.fetchall()
        })
        .await?
    }

    /// Runs a query and fetches its first row.
    ///
    /// # Errors
    /// The driver's error, or as [`AsyncConnection::run`].
    pub async fn query_one(
        &mut self,
        sql: impl Into<String>,
        params: Params,
    ) -> dbapi::Result<Option<Row>> {
        let sql = sql.into();
        if let Some(mut call) = self.native(true) {
            let done = async { call.face()?.query_async(&sql, &params).await }.await;
            return call.finish(done).map(|rows| rows.into_iter().next());
        }
        self.run(move |conn| {
            let mut cursor = conn.cursor()?;
            cursor.execute(&sql, &params)?;
            cursor.fetchone()
        })
        .await?
    }

    /// Commits the current transaction.
    ///
    /// # Errors
    /// The driver's error, or as [`AsyncConnection::run`].
    pub async fn commit(&mut self) -> dbapi::Result<()> {
        if let Some(mut call) = self.native(false) {
            let done = async { call.face()?.commit_async().await }.await;
            return call.finish(done).map_err(Error::commit_failed);
        }
        self.run(|conn| conn.commit()).await?
    }

    /// Rolls the current transaction back.
    ///
    /// # Errors
    /// The driver's error, or as [`AsyncConnection::run`].
    pub async fn rollback(&mut self) -> dbapi::Result<()> {
        if let Some(mut call) = self.native(false) {
            let done = async { call.face()?.rollback_async().await }.await;
            return call.finish(done);
        }
        self.run(|conn| conn.rollback()).await?
    }

    /// A call through the driver's [`dbapi::Nonblocking`] face, when it offers one that
    /// runs on the executor polling now.
    fn native(&mut self, statement: bool) -> Option<NativeCall<'_, M>> {
        if !self.nonblocking {
            return None;
        }
        NativeCall::start(self.guard.as_mut()?, statement)
    }

    /// True while the wrapper holds a usable connection (eventlet's `bool(conn)`).
    #[must_use]
    pub fn is_usable(&self) -> bool {
        self.guard.as_ref().is_some_and(PooledConnection::is_usable)
    }
}

impl<M: Module> Drop for AsyncConnection<M> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            // A clean connection goes straight back (no thread hop, so the next get finds
            // it); cleanup (a rollback round trip) or a close runs on the thread pool.
            if let Some(rest) = guard.give_back_without_driver() {
                self.tpool.execute(rest);
            }
        }
    }
}

/// The future of [`AsyncConnection::run`].
#[must_use = "futures do nothing unless awaited"]
pub struct Run<'a, M: Module, R> {
    conn: &'a mut AsyncConnection<M>,
    rx: Option<Oneshot<Result<Ran<M, R>, Error>>>,
}

impl<M: Module, R> fmt::Debug for Run<'_, M, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("running", &self.rx.is_some())
            .finish()
    }
}

impl<M: Module, R> Future for Run<'_, M, R> {
    type Output = dbapi::Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(rx) = &mut this.rx else {
            return Poll::Ready(Err(Error::interface(
                "this connection was discarded after a panic; get a new one from the pool",
            )));
        };
        let outcome = match Pin::new(rx).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(outcome) => outcome,
        };
        this.rx = None;
        Poll::Ready(outcome.map(|(guard, value)| {
            this.conn.guard = Some(guard);
            value
        }))
    }
}

impl<M: Module, R> Drop for Run<'_, M, R> {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            if let Some(Ok((guard, _))) = rx.close() {
                // Finished but never collected: return the connection, blocking work off
                // the executor.
                if let Some(rest) = guard.give_back_without_driver() {
                    self.conn.tpool.execute(rest);
                }
            }
        }
    }
}
