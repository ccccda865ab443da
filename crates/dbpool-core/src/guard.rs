//! [`PooledConnection`]: the RAII guard a pool hands out, and [`PooledCursor`], which watches
//! for errors that prove the connection dead.

use std::cell::Cell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

use dbapi::{Column, Connection, Cursor, Error, Module, Nonblocking, Params, Result, Row};

use crate::pool::{Conn, Live};
use crate::{Cleanup, CloseReason, Pool};

/// A connection checked out of a [`Pool`] (eventlet's `PooledConnectionWrapper`).
///
/// - Dropping it returns it to the pool, running the cleanup (rollback by default);
///   [`close`](PooledConnection::close) and [`Pool::put`] say so explicitly. After that, the
///   wrapper is gone (moved), so it cannot be used or returned twice.
/// - It implements [`dbapi::Connection`] by forwarding, so code generic over `Connection`
///   takes it as is. Called through that trait, `close()` returns the connection and every
///   later call is an Interface error, as in eventlet.
/// - It derefs to the driver's connection type for driver-specific calls.
/// - An error whose [`Error::is_disconnect`] is true, from the connection or one of its
///   cursors, marks it broken: it is closed on return, never handed out again.
/// - If its thread panics while it is checked out, it is discarded, never returned dirty.
#[must_use = "dropping the connection returns it to the pool at once"]
pub struct PooledConnection<M: Module> {
    pool: Pool<M>,
    /// The connection, with this checkout's [`Checkout`] record; `None` once given back.
    live: Option<Live<M::Connection>>,
}

/// What one checkout records about its connection. It is kept in the connection's box, not
/// in the guard, so that the guard is two pointers: handing it out and returning it moves
/// nothing more, and the uncontended get + return stays near a bare lock's cost.
pub(crate) struct Checkout<C> {
    /// The cleanup to run on return instead of the pool's.
    cleanup: Option<Cleanup<C>>,
    touched: Cell<bool>,
    broken: Cell<bool>,
    /// Statements run through this checkout (`max_usage` counts them).
    uses: Cell<u64>,
    site: &'static Location<'static>,
    /// The leak-detection registration, when detection is on.
    registration: Option<u64>,
}

impl<C> Checkout<C> {
    /// The record of a connection not checked out yet.
    #[track_caller]
    pub(crate) fn none() -> Self {
        Self {
            cleanup: None,
            touched: Cell::new(false),
            broken: Cell::new(false),
            uses: Cell::new(0),
            site: Location::caller(),
            registration: None,
        }
    }
}

fn returned() -> Error {
    Error::interface(
        "this connection was already returned to the pool with close(); get a new one from the pool",
    )
}

impl<M: Module> PooledConnection<M> {
    #[inline]
    pub(crate) fn new(
        pool: Pool<M>,
        mut live: Live<M::Connection>,
        cleanup: Option<Cleanup<M::Connection>>,
        site: &'static Location<'static>,
    ) -> Self {
        let checkout = &mut live.checkout;
        checkout.cleanup = cleanup;
        checkout.touched.set(false);
        checkout.broken.set(false);
        checkout.uses.set(0);
        checkout.site = site;
        checkout.registration = pool.begin_checkout(site);
        Self {
            pool,
            live: Some(live),
        }
    }

    /// This checkout's record, while the connection is held.
    fn held(&self) -> Option<&Checkout<M::Connection>> {
        self.live.as_ref().map(|live| &live.checkout)
    }

    /// Notes that the connection was (or may have been) used.
    fn touch(&self) {
        if let Some(held) = self.held() {
            held.touched.set(true);
        }
    }

    /// Ends the leak-detection registration, if any (once).
    fn end_checkout(&mut self) {
        let registration = self
            .live
            .as_mut()
            .and_then(|live| live.checkout.registration.take());
        if let Some(id) = registration {
            self.pool.end_checkout(id);
        }
    }

    /// Hands the connection back to the pool (returned, or closed for `panicked`).
    fn give_back(&mut self, panicked: bool) {
        self.end_checkout();
        let Some(mut live) = self.live.take() else {
            return;
        };
        if panicked {
            // The holder panicked mid-use: the session state is unknown. Never reuse it.
            self.pool.discard_live(live, CloseReason::Panicked);
        } else {
            let held = &mut live.checkout;
            // Tested before taken: the usual `None` is read as its tag alone (a whole-value
            // move of the just-written field stalls the return on store forwarding).
            let cleanup = if held.cleanup.is_some() {
                held.cleanup.take()
            } else {
                None
            };
            let (broken, touched, uses) = (held.broken.get(), held.touched.get(), held.uses.get());
            self.pool
                .release(live, cleanup.as_ref(), broken, touched, uses);
        }
    }

    /// Returns the connection now if that needs no driver call (nothing to clean up, not
    /// broken, not used up); otherwise gives back the rest of the work — the whole return,
    /// or closing a connection the pool would not keep — for a thread that may block.
    pub(crate) fn give_back_without_driver(mut self) -> Option<Box<dyn FnOnce() + Send>>
    where
        M: 'static,
    {
        let calls_driver = self.live.as_ref().is_some_and(|live| {
            let held = &live.checkout;
            self.pool.release_calls_driver(
                live,
                held.cleanup.as_ref(),
                held.broken.get(),
                held.touched.get(),
                held.uses.get(),
            )
        });
        if calls_driver {
            return Some(Box::new(move || drop(self)));
        }
        self.end_checkout();
        let mut live = self.live.take()?;
        // Nothing to run: the cleanup (if any) is not needed, and is not kept either.
        live.checkout.cleanup = None;
        let uses = live.checkout.uses.get();
        let (live, reason) = self.pool.release_without_driver(live, uses)?;
        let pool = self.pool.clone();
        Some(Box::new(move || pool.discard_live(live, reason)))
    }

    /// Returns the connection to its pool now (the DB-API spelling of dropping it).
    pub fn close(self) {
        drop(self);
    }

    /// eventlet's `put(None)`: closes the connection instead of returning it. Its slot is
    /// freed and the longest waiter, if any, opens a fresh connection in it.
    pub fn discard(self) {
        self.discard_as(CloseReason::Discarded);
    }

    /// Closes the connection for `reason` and frees its slot.
    pub(crate) fn discard_as(mut self, reason: CloseReason) {
        self.end_checkout();
        if let Some(live) = self.live.take() {
            self.pool.discard_live(live, reason);
        }
    }

    /// Marks the connection broken: it will be closed, not reused, when returned.
    pub fn mark_broken(&self) {
        if let Some(held) = self.held() {
            held.broken.set(true);
        }
    }

    /// Replaces the cleanup run when this connection is returned (eventlet's
    /// `put(conn, cleanup=…)`).
    pub fn set_cleanup(&mut self, cleanup: Cleanup<M::Connection>) {
        if let Some(live) = &mut self.live {
            live.checkout.cleanup = Some(cleanup);
        }
    }

    /// eventlet's `bool(conn)`: true while the wrapper holds a connection not known to be
    /// broken.
    #[must_use]
    pub fn is_usable(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|live| !live.checkout.broken.get() && !live.raw.is_broken())
    }

    /// The pool this connection belongs to.
    #[must_use]
    pub fn pool(&self) -> &Pool<M> {
        &self.pool
    }

    /// Where this connection was checked out (`get()`'s caller), for leak reports. Once it
    /// was returned through [`Connection::close`], that is no longer kept: this gives the
    /// location of this call instead.
    #[must_use]
    #[track_caller]
    pub fn checkout_site(&self) -> &'static Location<'static> {
        self.held().map_or_else(Location::caller, |held| held.site)
    }

    /// When this connection's `max_age` runs out (for the pool's own tests).
    #[cfg(test)]
    pub(crate) fn expires(&self) -> Option<u64> {
        self.live.as_ref().and_then(|live| live.expires)
    }

    fn raw(&self) -> Result<&M::Connection> {
        self.live.as_ref().map(|l| &l.raw).ok_or_else(returned)
    }

    fn raw_mut(&mut self) -> Result<&mut M::Connection> {
        self.touch();
        self.live.as_mut().map(|l| &mut l.raw).ok_or_else(returned)
    }

    /// Marks the connection broken when `result` proves it dead.
    pub(crate) fn watch<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(err) = &result {
            if err.is_disconnect() {
                self.mark_broken();
            }
        }
        result
    }

    /// The driver's [`Nonblocking`] face, when it has one that can run on the executor
    /// polling now; `statement` counts the use toward `max_usage`, as a cursor's execute
    /// does.
    pub(crate) fn nonblocking_face(&mut self, statement: bool) -> Option<&mut dyn Nonblocking> {
        let live = self.live.as_mut()?;
        let Conn { raw, checkout, .. } = &mut **live;
        let face = raw.nonblocking().filter(|face| face.available())?;
        checkout.touched.set(true);
        if statement {
            checkout.uses.set(checkout.uses.get() + 1);
        }
        Some(face)
    }
}

impl<M: Module> Drop for PooledConnection<M> {
    fn drop(&mut self) {
        self.give_back(std::thread::panicking());
    }
}

impl<M: Module> Deref for PooledConnection<M> {
    type Target = M::Connection;

    /// # Panics
    /// After `Connection::close()` was called on this wrapper through the trait (the
    /// connection is back in the pool). Prefer the consuming [`PooledConnection::close`].
    fn deref(&self) -> &M::Connection {
        // The driver may run statements through a shared reference (rusqlite does).
        match &self.live {
            Some(live) => {
                live.checkout.touched.set(true);
                &live.raw
            }
            None => panic!("{}", returned()),
        }
    }
}

impl<M: Module> DerefMut for PooledConnection<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        match &mut self.live {
            Some(live) => {
                live.checkout.touched.set(true);
                &mut live.raw
            }
            None => panic!("{}", returned()),
        }
    }
}

impl<M: Module> fmt::Debug for PooledConnection<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("pool", &self.pool.target())
            .field(
                "checked_out_at",
                &self.held().map(|held| format!("{}", held.site)),
            )
            .field("returned", &self.live.is_none())
            .field("broken", &self.held().is_some_and(|held| held.broken.get()))
            .finish()
    }
}

impl<M: Module> Connection for PooledConnection<M> {
    type Cursor<'c> = PooledCursor<'c, M::Connection>;

    fn cursor(&mut self) -> Result<PooledCursor<'_, M::Connection>> {
        let live = self.live.as_mut().ok_or_else(returned)?;
        let Conn { raw, checkout, .. } = &mut **live;
        checkout.touched.set(true);
        PooledCursor::open(raw, &checkout.broken, &checkout.uses)
    }

    /// A commit cut off by a lost connection is [`Error::is_outcome_unknown`], whatever
    /// the driver says.
    fn commit(&mut self) -> Result<()> {
        let result = self.raw_mut().and_then(Connection::commit);
        self.watch(result).map_err(Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        let result = self.raw_mut().and_then(Connection::rollback);
        self.watch(result)
    }

    fn rollback_pipelined(&mut self) -> Result<()> {
        let result = self.raw_mut().and_then(Connection::rollback_pipelined);
        self.watch(result)
    }

    /// Returns the connection to the pool; later calls are Interface errors.
    fn close(&mut self) -> Result<()> {
        self.give_back(false);
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.live.is_none()
    }

    fn execute(&mut self, sql: &str, params: &Params) -> Result<i64> {
        if let Some(held) = self.held() {
            held.uses.set(held.uses.get() + 1);
        }
        let result = self.raw_mut().and_then(|c| c.execute(sql, params));
        self.watch(result)
    }

    fn ping(&mut self) -> Result<()> {
        let result = self.raw_mut().and_then(Connection::ping);
        self.watch(result)
    }

    fn reset_session(&mut self) -> Result<()> {
        let result = self.raw_mut().and_then(Connection::reset_session);
        self.watch(result)
    }

    fn is_broken(&self) -> bool {
        self.held().is_none_or(|held| held.broken.get())
            || self.raw().map_or(true, Connection::is_broken)
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        let result = self.raw_mut().and_then(|c| c.set_autocommit(autocommit));
        self.watch(result)
    }

    fn in_transaction(&self) -> Option<bool> {
        self.raw().ok().and_then(Connection::in_transaction)
    }

    /// The driver's face when it can run on the executor polling now (`None` otherwise, and
    /// after `close()`). Errors through it are not watched by this wrapper: a session the
    /// driver finds lost shows as [`Connection::is_broken`] when the connection is returned.
    /// [`crate::AsyncConnection`] watches its own calls.
    fn nonblocking(&mut self) -> Option<&mut dyn Nonblocking> {
        self.nonblocking_face(false)
    }
}

/// A cursor of a [`PooledConnection`] (or a [`crate::SteadyConnection`]): the driver's
/// cursor, watched for disconnect errors.
pub struct PooledCursor<'c, C: Connection + 'c> {
    inner: C::Cursor<'c>,
    broken: &'c Cell<bool>,
    uses: &'c Cell<u64>,
}

impl<'c, C: Connection + 'c> PooledCursor<'c, C> {
    /// Opens a cursor on `conn` that sets `broken` when an operation (its opening included)
    /// fails with a disconnect error, and counts each statement it runs in `uses` (the
    /// meaning of `max_usage` in every mode).
    pub(crate) fn open(
        conn: &'c mut C,
        broken: &'c Cell<bool>,
        uses: &'c Cell<u64>,
    ) -> Result<Self> {
        match conn.cursor() {
            Ok(inner) => Ok(Self {
                inner,
                broken,
                uses,
            }),
            Err(err) => {
                if err.is_disconnect() {
                    broken.set(true);
                }
                Err(err)
            }
        }
    }

    fn watch<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(err) = &result {
            if err.is_disconnect() {
                self.broken.set(true);
            }
        }
        result
    }

    /// The driver's own cursor.
    pub fn inner(&mut self) -> &mut C::Cursor<'c> {
        &mut self.inner
    }
}

impl<'c, C: Connection + 'c> Cursor for PooledCursor<'c, C> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.uses.set(self.uses.get() + 1);
        let result = self.inner.execute(sql, params);
        self.watch(result)
    }
    fn description(&self) -> Option<&[Column]> {
        self.inner.description()
    }
    fn rowcount(&self) -> i64 {
        self.inner.rowcount()
    }
    fn fetch_next(&mut self) -> Result<Option<Row>> {
        let result = self.inner.fetch_next();
        self.watch(result)
    }
    fn arraysize(&self) -> usize {
        self.inner.arraysize()
    }
    fn set_arraysize(&mut self, size: usize) {
        self.inner.set_arraysize(size);
    }
    fn close(&mut self) -> Result<()> {
        self.inner.close()
    }
    fn set_streaming(&mut self, on: bool) -> Result<()> {
        self.inner.set_streaming(on)
    }
    fn fetchone(&mut self) -> Result<Option<Row>> {
        let result = self.inner.fetchone();
        self.watch(result)
    }
    fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>> {
        let result = self.inner.fetchmany(size);
        self.watch(result)
    }
    fn fetchall(&mut self) -> Result<Vec<Row>> {
        let result = self.inner.fetchall();
        self.watch(result)
    }
    fn executemany(&mut self, sql: &str, param_sets: &[Params]) -> Result<()> {
        self.uses.set(self.uses.get() + 1);
        let result = self.inner.executemany(sql, param_sets);
        self.watch(result)
    }
    fn callproc(&mut self, procname: &str, params: &Params) -> Result<()> {
        self.uses.set(self.uses.get() + 1);
        let result = self.inner.callproc(procname, params);
        self.watch(result)
    }
    fn nextset(&mut self) -> Result<bool> {
        let result = self.inner.nextset();
        self.watch(result)
    }
    fn setinputsizes(&mut self, sizes: &[Option<usize>]) -> Result<()> {
        self.inner.setinputsizes(sizes)
    }
    fn setoutputsize(&mut self, size: usize, column: Option<usize>) -> Result<()> {
        self.inner.setoutputsize(size, column)
    }
    fn lastrowid(&self) -> Option<i64> {
        self.inner.lastrowid()
    }
    fn warnings(&self) -> &[String] {
        self.inner.warnings()
    }
}
