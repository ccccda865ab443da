//! The pool's state machine: idle connections (LIFO), the open count, and the FIFO queue of
//! waiters. Every front-end (blocking threads here, async tasks in `tpool`) drives it through
//! the same three steps: [`Pool::start_acquire`], waiting on a [`Waiter`] if queued, and
//! [`Pool::finish_acquire`].

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use dbapi::{Connection, Module};
use parking_lot::{Condvar, Mutex};

use crate::clock;
use crate::config::{Config, Fairness};
use crate::connector::{self, Connected};
use crate::maintenance::{self, Maintained};
use crate::sharing::Registry;
use crate::stats::Counters;
use crate::waiter::{Notify, Waiter, Wakeup};
#[cfg(test)]
use crate::ConfigError;
use crate::{Builder, Cleanup, CloseReason, PoolError, PoolEvent, PooledConnection, Stats};

/// A connection the pool owns, with its history. Boxed, so that handing it in and out of
/// the pool moves one pointer, not the driver's connection (hundreds of bytes for some).
pub(crate) type Live<C> = Box<Conn<C>>;

/// What a [`Live`] points to.
pub(crate) struct Conn<C> {
    pub(crate) raw: C,
    /// When `max_age` (less its jitter) runs out, in [`clock`] nanoseconds.
    pub(crate) expires: Option<u64>,
    /// When it was last known to work: opened, or pinged successfully. 0 once another
    /// connection was found dead since (it is then pinged before it is handed out).
    validated: u64,
    uses: u64,
}

struct Idle<C> {
    live: Live<C>,
    since: u64,
}

/// What a waiter is handed.
pub(crate) enum Grant<C> {
    /// A connection returned by someone else.
    Conn(Live<C>),
    /// A freed slot: open a new connection in it.
    Slot,
    /// The pool was closed while waiting.
    Closed,
    /// Try again (eventually fair pools): a connection went back to the idle stack; the
    /// waiter keeps its place at the head of the queue if it has to wait again.
    Retry,
}

/// What an acquisition attempt found.
pub(crate) enum Start<C> {
    /// Served at once (an idle connection with its idle-since time, or a slot).
    Ready(Grant<C>, Option<u64>),
    /// Queued: wait on the waiter.
    Queued(Arc<Waiter<Grant<C>>>),
}

struct State<C> {
    idle: Vec<Idle<C>>,
    open: usize,
    waiters: VecDeque<Arc<Waiter<Grant<C>>>>,
    scheduled: Option<u64>,
    last_connect_error: Option<String>,
    closed: bool,
    /// A `Retry` grant is on its way to a waiter (eventually fair pools wake one at a time).
    retry_in_flight: bool,
    /// Connections last known to work before this time are suspect: a connection was found
    /// dead then (a server restart kills them all).
    suspect_before: u64,
}

/// A well-mixed 64-bit value from `seed` (splitmix64), for `max_age` jitter.
fn spread(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Where and when each connection now checked out was taken (leak detection).
#[derive(Default)]
struct Checkouts {
    next_id: u64,
    out: std::collections::HashMap<u64, Checkout>,
    /// The earliest pending leak deadline handed to the maintenance thread.
    scheduled: Option<u64>,
}

struct Checkout {
    site: &'static Location<'static>,
    taken_at: u64,
    reported: bool,
}

/// The time settings in clock units, and which clock they need.
struct Times {
    coarse: bool,
    max_idle: Option<u64>,
    max_age: Option<u64>,
    /// The most `max_age` is shortened by, per connection, to spread reconnects.
    max_age_jitter: u64,
    check_window: Option<u64>,
    /// `None` for strict FIFO; the hand-off bound of an eventually fair pool.
    fairness_bound: Option<u64>,
    leak_threshold: Option<u64>,
}

impl Times {
    fn new<C>(config: &Config<C>) -> Self {
        let bound = match config.fairness {
            Fairness::Fifo => None,
            Fairness::Eventual(bound) => Some(bound),
        };
        let settings = [
            config.max_idle,
            config.max_age,
            config.test_on_checkout,
            bound,
            config.leak_threshold,
        ];
        Self {
            coarse: settings
                .iter()
                .flatten()
                .all(|d| d.is_zero() || *d >= clock::COARSE_ENOUGH),
            max_idle: config.max_idle.map(clock::span),
            max_age: config.max_age.map(clock::span),
            max_age_jitter: config
                .max_age
                .map_or(0, |age| clock::span(age.mul_f64(config.max_age_jitter))),
            check_window: config.test_on_checkout.map(clock::span),
            fairness_bound: bound.map(clock::span),
            leak_threshold: config.leak_threshold.map(clock::span),
        }
    }
}

pub(crate) struct Shared<M: Module> {
    module: Arc<M>,
    target: String,
    times: Times,
    config: Config<M::Connection>,
    init_sql: Arc<[String]>,
    state: Mutex<State<M::Connection>>,
    /// Notified when a closed pool's last connection is gone.
    drained: Condvar,
    /// Checked-out connections, when leak detection is on.
    checkouts: Mutex<Checkouts>,
    counters: Counters,
    /// The connections shared between threads (`max_shared`).
    sharing: Registry<M>,
    this: Weak<Shared<M>>,
}

/// A connection pool over any [`dbapi::Module`] — eventlet's `ConnectionPool` /
/// `RawConnectionPool`, for threads. Cheap to clone: clones share one pool.
///
/// ```
/// use dbapi::{params, Connection, Cursor};
/// use dbpool_core::Pool;
/// use dbapi_sqlite::Sqlite;
///
/// let pool = Pool::builder(Sqlite::memory()).max_size(2).build()?;
/// let mut conn = pool.get()?;            // a new connection: the pool was empty
/// conn.execute("SELECT 1", &params![])?;
/// drop(conn);                            // back to the pool (rolled back if needed)
/// assert_eq!(pool.stats().idle, 1);
/// let _again = pool.get()?;              // the same connection, reused
/// assert_eq!(pool.stats().created, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Pool<M: Module> {
    shared: Arc<Shared<M>>,
}

impl<M: Module> Clone for Pool<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M: Module> fmt::Debug for Pool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats();
        f.debug_struct("Pool")
            .field("target", &self.shared.target)
            .field("max_size", &self.shared.config.max_size)
            .field("open", &stats.open)
            .field("idle", &stats.idle)
            .field("waiting", &stats.waiting)
            .finish()
    }
}

impl<M: Module> Pool<M> {
    /// A builder with eventlet's defaults (see [`Builder`]).
    pub fn builder(module: M) -> Builder<M> {
        Builder::new(module)
    }

    /// A pool with eventlet's defaults: `min_size` 0, `max_size` 4, `max_idle` 10 s,
    /// `max_age` 30 s, `connect_timeout` 5 s, rollback on return.
    ///
    /// # Errors
    /// As [`Builder::build`].
    pub fn new(module: M) -> Result<Self, PoolError> {
        Builder::new(module).build()
    }

    pub(crate) fn from_parts(module: M, config: Config<M::Connection>) -> Result<Self, PoolError> {
        let target = module.target();
        let init_sql: Arc<[String]> = config.init_sql.clone().into();
        let min_size = config.min_size;
        maintenance::pool_created();
        let shared = Arc::new_cyclic(|this| Shared {
            module: Arc::new(module),
            target,
            times: Times::new(&config),
            init_sql,
            state: Mutex::new(State {
                idle: Vec::with_capacity(config.max_size),
                open: 0,
                waiters: VecDeque::new(),
                scheduled: None,
                last_connect_error: None,
                closed: false,
                retry_in_flight: false,
                suspect_before: 0,
            }),
            config,
            drained: Condvar::new(),
            checkouts: Mutex::new(Checkouts::default()),
            counters: Counters::default(),
            sharing: Registry::default(),
            this: this.clone(),
        });
        let pool = Self { shared };
        // Warm up: eventlet opens min_size connections in the constructor.
        let mut warm = Vec::with_capacity(min_size);
        for _ in 0..min_size {
            match pool.start_acquire(None::<fn() -> Notify>, false, None)? {
                Start::Ready(grant, since) => warm.push(pool.finish_acquire(grant, since)?),
                Start::Queued(_) => break,
            }
        }
        for live in warm {
            pool.check_in(live);
        }
        Ok(pool)
    }

    pub(crate) fn config(&self) -> &Config<M::Connection> {
        &self.shared.config
    }

    pub(crate) fn sharing(&self) -> &Registry<M> {
        &self.shared.sharing
    }

    /// A reported timeout error for a wait that began at `started`.
    pub(crate) fn timeout_now(&self, started: Instant) -> PoolError {
        let state = self.shared.state.lock();
        let err = self.timeout_error(&state, started);
        drop(state);
        self.report_timeout(err)
    }

    pub(crate) fn exhausted_error(&self) -> PoolError {
        PoolError::Exhausted {
            target: self.shared.target.clone(),
            max_size: self.shared.config.max_size,
        }
    }

    pub(crate) fn record_wait(&self, waited: Duration) {
        self.shared.counters.waited(waited);
        self.shared
            .config
            .hook
            .emit(|| PoolEvent::Waited { waited });
    }

    /// Registers a checkout for leak detection; `None` when detection is off.
    pub(crate) fn begin_checkout(&self, site: &'static Location<'static>) -> Option<u64> {
        let threshold = self.shared.times.leak_threshold?;
        let taken_at = self.now();
        let mut checkouts = self.shared.checkouts.lock();
        checkouts.next_id += 1;
        let id = checkouts.next_id;
        checkouts.out.insert(
            id,
            Checkout {
                site,
                taken_at,
                reported: false,
            },
        );
        let schedule = checkouts.scheduled.is_none();
        if schedule {
            checkouts.scheduled = Some(taken_at.saturating_add(threshold));
        }
        drop(checkouts);
        if schedule {
            self.schedule_maintenance(taken_at.saturating_add(threshold));
        }
        Some(id)
    }

    /// The checkout `id` ended (returned, discarded or lost to a panic).
    pub(crate) fn end_checkout(&self, id: u64) {
        self.shared.checkouts.lock().out.remove(&id);
    }

    /// Reports checkouts held longer than the threshold; returns the next leak deadline.
    fn detect_leaks(&self, now: u64) -> Option<u64> {
        let threshold = self.shared.times.leak_threshold?;
        let mut reports = Vec::new();
        let mut checkouts = self.shared.checkouts.lock();
        let mut next: Option<u64> = None;
        for checkout in checkouts.out.values_mut().filter(|c| !c.reported) {
            let due = checkout.taken_at.saturating_add(threshold);
            if due <= now {
                checkout.reported = true;
                reports.push((checkout.site, now.saturating_sub(checkout.taken_at)));
            } else {
                next = Some(next.map_or(due, |n: u64| n.min(due)));
            }
        }
        checkouts.scheduled = next;
        drop(checkouts);
        for (site, held) in reports {
            self.shared.counters.leak_suspected();
            self.shared.config.hook.emit(|| PoolEvent::LeakSuspected {
                checked_out_at: site,
                held: Duration::from_nanos(held),
            });
        }
        next
    }

    /// Where this pool connects (from [`Module::target`]; never with a password).
    #[must_use]
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    /// The module connections are opened with.
    #[must_use]
    pub fn module(&self) -> &M {
        &self.shared.module
    }

    /// Takes a connection: the most recently returned idle one (LIFO), else a new one while
    /// fewer than `max_size` are open, else waits — first come, first served — for one to be
    /// returned, for up to `wait_timeout` (forever by default).
    ///
    /// # Errors
    /// [`PoolError::Connect`] or [`PoolError::ConnectTimeout`] when a new connection cannot
    /// be opened; [`PoolError::Timeout`] after `wait_timeout`; [`PoolError::Exhausted`] for a
    /// non-blocking pool; [`PoolError::Closed`] after [`Pool::close`].
    #[track_caller]
    pub fn get(&self) -> Result<PooledConnection<M>, PoolError> {
        self.get_inner(
            self.shared.config.wait_timeout,
            self.shared.config.blocking,
            None,
        )
    }

    /// As [`Pool::get`], waiting at most `timeout` whatever `wait_timeout` says.
    ///
    /// # Errors
    /// As [`Pool::get`].
    #[track_caller]
    pub fn get_timeout(&self, timeout: Duration) -> Result<PooledConnection<M>, PoolError> {
        self.get_inner(Some(timeout), true, None)
    }

    /// Takes a connection without waiting: `Ok(None)` when all `max_size` are in use.
    ///
    /// # Errors
    /// As [`Pool::get`] for opening a new connection.
    #[track_caller]
    pub fn try_get(&self) -> Result<Option<PooledConnection<M>>, PoolError> {
        match self.get_inner(None, false, None) {
            Ok(conn) => Ok(Some(conn)),
            Err(PoolError::Exhausted { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// eventlet's `item(cleanup=…)`: a connection whose return runs `cleanup` instead of the
    /// pool's.
    ///
    /// # Errors
    /// As [`Pool::get`].
    #[track_caller]
    pub fn item(&self, cleanup: Cleanup<M::Connection>) -> Result<PooledConnection<M>, PoolError> {
        self.get_inner(
            self.shared.config.wait_timeout,
            self.shared.config.blocking,
            Some(cleanup),
        )
    }

    /// Runs `f` with a connection and returns it afterwards, even if `f` panics.
    ///
    /// # Errors
    /// As [`Pool::get`]; `f`'s own result is returned inside `Ok`.
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(&mut PooledConnection<M>) -> R) -> Result<R, PoolError> {
        let mut conn = self.get()?;
        Ok(f(&mut conn))
    }

    /// eventlet's `put(conn)`: returns a connection, running the pool's cleanup. Dropping the
    /// connection or calling its `close()` does the same.
    ///
    /// # Errors
    /// [`PoolError::WrongPool`] when `conn` came from another pool (it is returned to its own).
    pub fn put(&self, conn: PooledConnection<M>) -> Result<(), PoolError> {
        self.check_owner(&conn)?;
        drop(conn);
        Ok(())
    }

    /// eventlet's `put(conn, cleanup=…)`: returns a connection with a one-off cleanup.
    ///
    /// # Errors
    /// [`PoolError::WrongPool`] when `conn` came from another pool (it is returned to its own
    /// with its own cleanup).
    pub fn put_with(
        &self,
        mut conn: PooledConnection<M>,
        cleanup: Cleanup<M::Connection>,
    ) -> Result<(), PoolError> {
        self.check_owner(&conn)?;
        conn.set_cleanup(cleanup);
        drop(conn);
        Ok(())
    }

    fn check_owner(&self, conn: &PooledConnection<M>) -> Result<(), PoolError> {
        if Arc::ptr_eq(&conn.pool().shared, &self.shared) {
            Ok(())
        } else {
            Err(PoolError::WrongPool {
                owner: conn.pool().target().to_owned(),
            })
        }
    }

    /// eventlet's `free()`: how many more connections could be handed out without waiting
    /// (idle ones plus unopened slots: `idle + max_size - open`).
    #[must_use]
    pub fn free(&self) -> usize {
        let state = self.shared.state.lock();
        state.idle.len() + self.shared.config.max_size - state.open
    }

    /// eventlet's `waiting()`: callers blocked in `get()` now.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.shared.state.lock().waiters.len()
    }

    /// Connections open now (idle, checked out, or being opened).
    #[must_use]
    pub fn size(&self) -> usize {
        self.shared.state.lock().open
    }

    /// The pool's `max_size`.
    #[must_use]
    pub fn max_size(&self) -> usize {
        self.shared.config.max_size
    }

    /// A snapshot of the pool's state and counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let state = self.shared.state.lock();
        let (open, idle, waiting) = (state.open, state.idle.len(), state.waiters.len());
        drop(state);
        self.shared.counters.snapshot(open, idle, waiting)
    }

    /// eventlet's `clear()`: closes every idle connection and takes it off the size count
    /// (eventlet bug #139 left it counted). Checked-out connections are not touched.
    /// `min_size` is restored by the maintenance thread.
    pub fn clear(&self) {
        let mut state = self.shared.state.lock();
        let idle = std::mem::take(&mut state.idle);
        state.open -= idle.len();
        let top_up = !state.closed && state.open < self.shared.config.min_size;
        drop(state);
        for entry in idle {
            self.close_live(entry.live, CloseReason::Cleared);
        }
        if top_up {
            self.schedule_maintenance(clock::precise());
        }
    }

    /// Closes the pool: idle connections are closed now, waiters fail with
    /// [`PoolError::Closed`], checked-out connections are closed when returned, and later
    /// `get()` calls fail.
    pub fn close(&self) {
        let mut state = self.shared.state.lock();
        state.closed = true;
        let waiters = std::mem::take(&mut state.waiters);
        let wakeups: Vec<Wakeup> = waiters.iter().map(|w| w.grant(Grant::Closed)).collect();
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
        self.clear();
    }

    /// A graceful drain: [`Pool::close`], then wait up to `timeout` for the connections still
    /// checked out (or being opened) to come back and be closed. Returns `true` when every
    /// connection is closed, `false` when some were still out at the deadline (they are
    /// closed whenever they come back).
    #[must_use = "false means connections were still out at the deadline"]
    pub fn close_gracefully(&self, timeout: Duration) -> bool {
        self.close();
        let deadline = clock::deadline(Instant::now(), timeout);
        let mut state = self.shared.state.lock();
        while state.open > 0 {
            match deadline {
                Some(deadline) => {
                    if self
                        .shared
                        .drained
                        .wait_until(&mut state, deadline)
                        .timed_out()
                    {
                        return state.open == 0;
                    }
                }
                None => self.shared.drained.wait(&mut state),
            }
        }
        true
    }

    #[track_caller]
    fn get_inner(
        &self,
        timeout: Option<Duration>,
        blocking: bool,
        cleanup: Option<Cleanup<M::Connection>>,
    ) -> Result<PooledConnection<M>, PoolError> {
        let site = Location::caller();
        let mut requeue = None;
        let mut waiting_since: Option<Instant> = None;
        let (grant, since) = loop {
            let notify = Some(|| Notify::Thread(thread::current()));
            match self.start_acquire(notify, blocking, requeue)? {
                Start::Ready(grant, since) => break (grant, since),
                Start::Queued(waiter) => {
                    let started = *waiting_since.get_or_insert_with(Instant::now);
                    let deadline = timeout.and_then(|t| clock::deadline(started, t));
                    match self.wait_blocking(&waiter, deadline, started)? {
                        Grant::Retry => requeue = Some(waiter.queued_at()),
                        grant => break (grant, None),
                    }
                }
            }
        };
        if let Some(started) = waiting_since {
            self.record_wait(started.elapsed());
        }
        let live = match grant {
            // The fast path: an idle connection that needs no validation.
            Grant::Conn(live) if !self.must_validate(&live, since) => live,
            grant => self.finish_acquire(grant, since)?,
        };
        Ok(PooledConnection::new(self.clone(), live, cleanup, site))
    }

    /// Step 1: take an idle connection, reserve a slot, or queue a waiter (when `notify` is
    /// given and the pool may wait).
    pub(crate) fn start_acquire(
        &self,
        notify: Option<impl FnOnce() -> Notify>,
        may_wait: bool,
        requeue: Option<u64>,
    ) -> Result<Start<M::Connection>, PoolError> {
        let mut state = self.shared.state.lock();
        if state.closed {
            return Err(self.closed_error());
        }
        if requeue.is_some() {
            // This caller is the woken waiter of an eventually fair pool.
            state.retry_in_flight = false;
        }
        let ready = if let Some(idle) = state.idle.pop() {
            Some(Start::Ready(Grant::Conn(idle.live), Some(idle.since)))
        } else if state.open < self.shared.config.max_size {
            state.open += 1;
            Some(Start::Ready(Grant::Slot, None))
        } else {
            None
        };
        if let Some(ready) = ready {
            // Pass the wake-up on if more is free and others wait.
            let wakeup = self.wake_next_retry(&mut state);
            drop(state);
            if let Some(wakeup) = wakeup {
                wakeup.wake();
            }
            return Ok(ready);
        }
        match notify {
            Some(notify) if may_wait => {
                let waiter = match requeue {
                    Some(queued_at) => {
                        let waiter = Arc::new(Waiter::new(notify(), queued_at));
                        state.waiters.push_front(Arc::clone(&waiter));
                        waiter
                    }
                    None => {
                        let waiter = Arc::new(Waiter::new(notify(), self.now()));
                        state.waiters.push_back(Arc::clone(&waiter));
                        waiter
                    }
                };
                Ok(Start::Queued(waiter))
            }
            _ => Err(self.exhausted_error()),
        }
    }

    /// In an eventually fair pool, wakes the oldest waiter to try again when something is
    /// free and no other wake-up is on its way (one at a time: no thundering herd).
    #[inline]
    fn wake_next_retry(&self, state: &mut State<M::Connection>) -> Option<Wakeup> {
        self.shared.times.fairness_bound?;
        self.wake_next_retry_slow(state)
    }

    fn wake_next_retry_slow(&self, state: &mut State<M::Connection>) -> Option<Wakeup> {
        let free = !state.idle.is_empty() || state.open < self.shared.config.max_size;
        if state.retry_in_flight || !free {
            return None;
        }
        let waiter = state.waiters.pop_front()?;
        state.retry_in_flight = true;
        Some(waiter.grant(Grant::Retry))
    }

    /// A `Retry` grant was not used (its waiter gave up): pass it on.
    fn pass_retry(&self) {
        let mut state = self.shared.state.lock();
        state.retry_in_flight = false;
        let wakeup = self.wake_next_retry(&mut state);
        drop(state);
        if let Some(wakeup) = wakeup {
            wakeup.wake();
        }
    }

    fn wait_blocking(
        &self,
        waiter: &Arc<Waiter<Grant<M::Connection>>>,
        deadline: Option<Instant>,
        started: Instant,
    ) -> Result<Grant<M::Connection>, PoolError> {
        loop {
            if let Some(grant) = waiter.take_grant() {
                return Ok(grant);
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return self.abandon_wait(waiter, started);
                    }
                    thread::park_timeout(deadline - now);
                }
            }
        }
    }

    /// Gives up waiting: leaves the queue, or — if a grant arrived meanwhile — takes it, so
    /// nothing handed to this waiter is lost.
    pub(crate) fn abandon_wait(
        &self,
        waiter: &Arc<Waiter<Grant<M::Connection>>>,
        started: Instant,
    ) -> Result<Grant<M::Connection>, PoolError> {
        let mut state = self.shared.state.lock();
        if let Some(pos) = state.waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            state.waiters.remove(pos);
            let err = self.timeout_error(&state, started);
            drop(state);
            return Err(self.report_timeout(err));
        }
        drop(state);
        // Not queued any more: it was served under the lock we just held, so the grant is
        // already stored.
        match waiter.take_grant() {
            Some(Grant::Retry) => {
                self.pass_retry();
                let state = self.shared.state.lock();
                let err = self.timeout_error(&state, started);
                drop(state);
                Err(self.report_timeout(err))
            }
            Some(grant) => Ok(grant),
            None => Err(self.closed_error()),
        }
    }

    /// The timeout error, built under the pool lock from its state.
    fn timeout_error(&self, state: &State<M::Connection>, started: Instant) -> PoolError {
        PoolError::Timeout {
            target: self.shared.target.clone(),
            waited: started.elapsed(),
            max_size: self.shared.config.max_size,
            in_use: state.open - state.idle.len(),
            waiting: state.waiters.len(),
            last_connect_error: state.last_connect_error.clone(),
        }
    }

    /// Counts and reports a timeout, with the pool lock released (a hook may use the pool).
    fn report_timeout(&self, err: PoolError) -> PoolError {
        self.shared.counters.timed_out();
        if let PoolError::Timeout { waited, .. } = &err {
            let waited = *waited;
            self.shared
                .config
                .hook
                .emit(|| PoolEvent::TimedOut { waited });
        }
        err
    }

    /// Cancels a queued or served acquisition (an async `get()` dropped mid-wait): whatever
    /// was granted goes back to the pool.
    pub(crate) fn cancel_wait(&self, waiter: &Arc<Waiter<Grant<M::Connection>>>) {
        let mut state = self.shared.state.lock();
        if let Some(pos) = state.waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            state.waiters.remove(pos);
            return;
        }
        drop(state);
        match waiter.take_grant() {
            Some(Grant::Conn(live)) => self.check_in(live),
            Some(Grant::Slot) => self.release_slot(),
            Some(Grant::Retry) => self.pass_retry(),
            Some(Grant::Closed) | None => {}
        }
    }

    /// Step 3: turn a grant into a live connection, opening or validating as needed.
    pub(crate) fn finish_acquire(
        &self,
        grant: Grant<M::Connection>,
        idle_since: Option<u64>,
    ) -> Result<Live<M::Connection>, PoolError> {
        match grant {
            Grant::Closed | Grant::Retry => Err(self.closed_error()),
            Grant::Slot => self.open_in_slot(),
            Grant::Conn(mut live) => {
                if !self.must_validate(&live, idle_since) {
                    return Ok(live);
                }
                if live.raw.ping().is_err() {
                    // Keep the slot; replace the connection.
                    self.suspect_older();
                    self.close_quietly(live.raw, CloseReason::Broken);
                    return self.open_in_slot();
                }
                // Precise, so a validated connection is never older than a later suspicion.
                live.validated = clock::precise().max(1);
                Ok(live)
            }
        }
    }

    /// Opens a connection in a slot already counted in `open`.
    fn open_in_slot(&self) -> Result<Live<M::Connection>, PoolError> {
        let shared = &self.shared;
        let late_pool = self.clone();
        let outcome = connector::connect(
            Arc::clone(&shared.module),
            shared.config.connect_timeout,
            Arc::clone(&shared.init_sql),
            move |conn| {
                late_pool.shared.counters.connect_failed();
                if conn.is_some() {
                    late_pool.shared.config.hook.emit(|| PoolEvent::Connected);
                }
                if let Some(conn) = conn {
                    late_pool.close_quietly(conn, CloseReason::LateConnect);
                }
                late_pool.release_slot();
            },
        );
        match outcome {
            Connected::Ok(raw) => {
                shared.counters.created();
                shared.config.hook.emit(|| PoolEvent::Connected);
                let now = self.now();
                let times = &shared.times;
                let jitter = match times.max_age_jitter {
                    0 => 0,
                    span => spread(now ^ shared.counters.created_so_far()) % span.saturating_add(1),
                };
                Ok(Box::new(Conn {
                    raw,
                    expires: times
                        .max_age
                        .map(|age| now.saturating_add(age.saturating_sub(jitter))),
                    validated: now.max(1),
                    uses: 0,
                }))
            }
            Connected::Failed(source) => {
                shared.counters.connect_failed();
                shared
                    .config
                    .hook
                    .emit_ref(&PoolEvent::ConnectFailed { error: &source });
                shared.state.lock().last_connect_error = Some(source.to_string());
                self.release_slot();
                Err(PoolError::Connect {
                    target: shared.target.clone(),
                    source,
                })
            }
            Connected::TimedOut => {
                let timeout = shared.config.connect_timeout.unwrap_or_default();
                shared
                    .config
                    .hook
                    .emit(|| PoolEvent::ConnectTimedOut { timeout });
                shared.state.lock().last_connect_error =
                    Some(format!("connect timed out after {timeout:?}"));
                Err(PoolError::ConnectTimeout {
                    target: shared.target.clone(),
                    timeout,
                })
            }
        }
    }

    /// Returns a checked-out connection: checks, cleanup, then hand-off or idle.
    pub(crate) fn release(
        &self,
        mut live: Live<M::Connection>,
        cleanup: Option<&Cleanup<M::Connection>>,
        broken: bool,
        touched: bool,
        uses: u64,
    ) {
        if broken || live.raw.is_broken() {
            self.suspect_older();
            return self.discard_live(live, CloseReason::Broken);
        }
        let cleanup = cleanup.unwrap_or(&self.shared.config.cleanup);
        let cleaned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cleanup.run(&mut live.raw, touched)
        }));
        if !matches!(cleaned, Ok(Ok(()))) {
            return self.discard_live(live, CloseReason::CleanupFailed);
        }
        live.uses = live.uses.saturating_add(uses);
        if self
            .shared
            .config
            .max_usage
            .is_some_and(|max| live.uses >= max)
        {
            return self.discard_live(live, CloseReason::MaxUsage);
        }
        self.check_in(live);
    }

    /// Puts a clean connection back: to the oldest waiter, else onto the idle stack.
    pub(crate) fn check_in(&self, mut live: Live<M::Connection>) {
        let config = &self.shared.config;
        let times = &self.shared.times;
        if times.max_idle == Some(0) {
            return self.discard_live(live, CloseReason::Idle);
        }
        let now = self.now();
        if live.expires.is_some_and(|expires| now >= expires) {
            return self.discard_live(live, CloseReason::Age);
        }
        let mut state = self.shared.state.lock();
        if state.closed {
            drop(state);
            return self.discard_live(live, CloseReason::Cleared);
        }
        if live.validated < state.suspect_before {
            live.validated = 0;
        }
        let hand_off = state.waiters.front().is_some_and(|oldest| {
            self.shared
                .times
                .fairness_bound
                .is_none_or(|bound| now.saturating_sub(oldest.queued_at()) >= bound)
        });
        if hand_off {
            if let Some(waiter) = state.waiters.pop_front() {
                let wakeup = waiter.grant(Grant::Conn(live));
                drop(state);
                return wakeup.wake();
            }
        }
        if config.max_cached.is_some_and(|max| state.idle.len() >= max) {
            drop(state);
            return self.discard_live(live, CloseReason::OverCached);
        }
        let expiry = self.expiry(&live, now);
        state.idle.push(Idle { live, since: now });
        let retry = self.wake_next_retry(&mut state);
        let reschedule = match (expiry, state.scheduled) {
            (Some(expiry), Some(scheduled)) if expiry >= scheduled => None,
            (Some(expiry), _) => {
                state.scheduled = Some(expiry);
                Some(expiry)
            }
            (None, _) => None,
        };
        drop(state);
        if let Some(retry) = retry {
            retry.wake();
        }
        if let Some(deadline) = reschedule {
            self.schedule_maintenance(deadline);
        }
    }

    /// Whether an idle connection must be pinged before it is handed out: it is suspect
    /// (another connection was found dead since it was last known good) or idle longer
    /// than `test_on_checkout`.
    #[inline]
    pub(crate) fn must_validate(
        &self,
        live: &Live<M::Connection>,
        idle_since: Option<u64>,
    ) -> bool {
        if live.validated == 0 {
            return true;
        }
        match self.shared.times.check_window {
            None => false,
            Some(window) => {
                idle_since.is_some_and(|since| self.now().saturating_sub(since) >= window)
            }
        }
    }

    /// A connection turned out dead: every connection not validated since is suspect, and
    /// is pinged before its next use (HikariCP evicts them; pinging keeps the live ones).
    #[cold]
    #[inline(never)]
    fn suspect_older(&self) {
        // Precise: a connection opened in the same coarse tick before the failure is suspect
        // too (at worst one needless ping for one opened just after it). Checked-out ones
        // are marked when they come back.
        let now = clock::precise();
        let mut state = self.shared.state.lock();
        state.suspect_before = state.suspect_before.max(now);
        for entry in &mut state.idle {
            entry.live.validated = 0;
        }
    }

    /// The clock reading for this pool's bookkeeping: coarse when its settings allow.
    fn now(&self) -> u64 {
        if self.shared.times.coarse {
            clock::coarse()
        } else {
            clock::precise()
        }
    }

    fn expiry(&self, live: &Live<M::Connection>, idle_since: u64) -> Option<u64> {
        let times = &self.shared.times;
        let idle = times.max_idle.map(|d| idle_since.saturating_add(d));
        let age = live.expires;
        match (idle, age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Closes a connection that was checked out (or handed over) and frees its slot.
    #[cold]
    #[inline(never)]
    #[allow(clippy::boxed_local)] // callers hold the box; unboxing would copy the connection
    pub(crate) fn discard_live(&self, live: Live<M::Connection>, reason: CloseReason) {
        self.close_quietly(live.raw, reason);
        self.release_slot();
    }

    #[allow(clippy::boxed_local)] // callers hold the box; unboxing would copy the connection
    fn close_live(&self, live: Live<M::Connection>, reason: CloseReason) {
        self.close_quietly(live.raw, reason);
    }

    fn close_quietly(&self, mut raw: M::Connection, reason: CloseReason) {
        // The connection is going away either way; a failing close has nothing to report to.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| raw.close()));
        self.shared.counters.closed(reason);
        self.shared
            .config
            .hook
            .emit(|| PoolEvent::Closed { reason });
        drop(raw);
    }

    /// A slot became free: hand it to the oldest waiter (who opens a new connection in it),
    /// or take it off the count.
    fn release_slot(&self) {
        let mut state = self.shared.state.lock();
        if let Some(waiter) = state.waiters.pop_front() {
            let wakeup = waiter.grant(Grant::Slot);
            drop(state);
            return wakeup.wake();
        }
        state.open -= 1;
        if state.closed && state.open == 0 {
            self.shared.drained.notify_all();
        }
        let top_up = !state.closed && state.open < self.shared.config.min_size;
        drop(state);
        if top_up {
            self.schedule_maintenance(clock::precise());
        }
    }

    fn schedule_maintenance(&self, deadline: u64) {
        let weak: Weak<dyn Maintained> = self.shared.this.clone();
        maintenance::schedule(deadline, weak);
    }

    fn closed_error(&self) -> PoolError {
        PoolError::Closed {
            target: self.shared.target.clone(),
        }
    }

    /// Opens connections until `min_size` are open (on a thread of its own, so the shared
    /// maintenance thread never waits on a driver).
    fn top_up(&self) {
        let pool = self.clone();
        let _ = thread::Builder::new()
            .name("dbpool-top-up".to_owned())
            .spawn(move || loop {
                {
                    let mut state = pool.shared.state.lock();
                    if state.closed || state.open >= pool.shared.config.min_size {
                        return;
                    }
                    state.open += 1;
                }
                match pool.open_in_slot() {
                    Ok(live) => pool.check_in(live),
                    Err(_) => {
                        // Try again later rather than spinning on a server that is down.
                        let retry = clock::precise() + clock::span(Duration::from_secs(1));
                        pool.schedule_maintenance(retry);
                        return;
                    }
                }
            });
    }
}

impl<M: Module> Drop for Shared<M> {
    /// The last handle is gone: the idle connections are closed through the contract (a
    /// driver's close may do more than drop: a protocol goodbye, an ODBC disconnect).
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.state.get_mut().idle);
        for entry in idle {
            let mut raw = entry.live.raw;
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| raw.close()));
        }
        maintenance::pool_dropped();
    }
}

impl<M: Module> Maintained for Shared<M> {
    fn maintain(&self, now: u64) -> Option<u64> {
        let pool = Pool {
            shared: self.this.upgrade()?,
        };
        let mut expired = Vec::new();
        let mut state = self.state.lock();
        let mut next: Option<u64> = None;
        let mut index = 0;
        while index < state.idle.len() {
            let (expires, since) = {
                let entry = &state.idle[index];
                (entry.live.expires, entry.since)
            };
            let reason = if expires.is_some_and(|expires| now >= expires) {
                Some(CloseReason::Age)
            } else if self
                .times
                .max_idle
                .is_some_and(|d| now >= since.saturating_add(d))
            {
                Some(CloseReason::Idle)
            } else {
                None
            };
            if let Some(reason) = reason {
                expired.push((state.idle.remove(index), reason));
                continue;
            }
            let expiry = pool.expiry(&state.idle[index].live, since);
            next = match (next, expiry) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            index += 1;
        }
        state.open -= expired.len();
        state.scheduled = next;
        let top_up = !state.closed && state.open < self.config.min_size;
        drop(state);
        for (entry, reason) in expired {
            pool.close_live(entry.live, reason);
        }
        if top_up {
            pool.top_up();
        }
        match (next, pool.detect_leaks(now)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbapi_sqlite::Sqlite;

    #[test]
    fn max_age_jitter_spreads_expiry_within_its_bounds() {
        let age = Duration::from_secs(100);
        let pool = Pool::builder(Sqlite::memory())
            .max_size(16)
            .max_age(age)
            .max_age_jitter(0.5)
            .build()
            .expect("pool");
        let before = clock::precise();
        let conns: Vec<_> = (0..16).map(|_| pool.get().expect("get")).collect();
        let after = clock::precise();
        let expiries: Vec<u64> = conns
            .iter()
            .map(|c| c.expires().expect("max_age set"))
            .collect();
        let (earliest, latest) = (
            before.saturating_sub(clock::span(clock::TICK)) + clock::span(age / 2),
            after + clock::span(age),
        );
        assert!(expiries.iter().all(|&e| e >= earliest && e <= latest));
        let mut distinct = expiries.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 8, "jitter spreads expiries: {distinct:?}");
    }

    #[test]
    fn no_jitter_means_eventlets_exact_max_age() {
        let pool = Pool::builder(Sqlite::memory())
            .max_age(Duration::from_secs(100))
            .build()
            .expect("pool");
        let conn = pool.get().expect("get");
        let now = clock::precise();
        let expires = conn.expires().expect("max_age set");
        assert!(expires <= now + clock::span(Duration::from_secs(100)));
        assert!(
            expires + clock::span(clock::TICK) * 2 >= now + clock::span(Duration::from_secs(100))
        );
    }

    #[test]
    fn jitter_outside_zero_to_one_is_a_config_error() {
        for bad in [-0.1, 1.0, f64::NAN] {
            let err = Pool::builder(Sqlite::memory())
                .max_age_jitter(bad)
                .build()
                .expect_err("bad jitter");
            assert!(
                matches!(err, PoolError::Config(ConfigError::BadJitter(_))),
                "{err}"
            );
        }
    }

    #[test]
    fn spread_is_well_mixed() {
        let values: Vec<u64> = (0..64).map(spread).collect();
        let mut distinct = values.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 64);
        assert!(values.iter().any(|v| v % 2 == 0) && values.iter().any(|v| v % 2 == 1));
    }
}
