//! The pool's state machine: idle connections (LIFO), the open count, and the queue of
//! waiters, served by the [`crate::Fairness`] policy. Every front-end (blocking threads
//! here, async tasks in `tpool`) drives it through the same three steps:
//! [`Pool::start_acquire`], waiting on a [`Waiter`] if queued, and [`Pool::finish_acquire`].
//!
//! The code follows a connection's life, one file per part: `acquire` (take, or queue and
//! wait), `open` (open in a reserved slot, validate), `release` (check, clean, hand off
//! or keep idle), `close` (discard, expire, evict, clear, drain), `suspend` (maintenance
//! windows) and `leaks` (checkout registry). This file holds the state and the public API.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use dbapi::{Connection, Module};

use crate::clock;
use crate::config::Config;
use crate::connector::{self, Connected};
use crate::guard::Checkout;
use crate::maintenance::{self, Maintained};
use crate::policy::Policy;
use crate::sharing::Registry;
use crate::stats::Counters;
use crate::sync::{thread, Condvar, Mutex};
use crate::waiter::{Notify, Waiter, Wakeup};
#[cfg(test)]
use crate::ConfigError;
use crate::{Builder, Cleanup, CloseReason, PoolError, PoolEvent, PooledConnection, Stats};

mod acquire;
mod close;
mod connects;
mod leaks;
mod open;
mod release;
mod suspend;

use leaks::Checkouts;

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
    /// The pool's eviction generation when it was opened.
    generation: u64,
    /// The current (or last) checkout's record.
    pub(crate) checkout: Checkout<C>,
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
    /// The connect attempt this waiter waited on failed, and nothing else can serve it
    /// before the backoff ends: the failure, shared.
    Failed(connects::Failure),
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
    /// Raised by every eviction: connections of an older generation are closed.
    generation: u64,
    /// [`Pool::suspend`]ed: nothing is handed out until [`Pool::resume`].
    suspended: bool,
    /// Connect attempts in flight (their slots are counted in `open`).
    connecting: usize,
    /// No connect starts before this time (precise clock); 0 when no backoff runs.
    backoff_until: u64,
    /// The current backoff interval, doubled by each failure; 0 after a success.
    backoff_interval: u64,
    /// Connect failures in a row (a success resets it).
    failures: u32,
    /// The last connect failure, shared with callers while the backoff runs.
    last_failure: Option<connects::Failure>,
}

/// The time settings in clock units, and which clock they need.
struct Times {
    coarse: bool,
    max_idle: Option<u64>,
    max_age: Option<u64>,
    /// The most `max_age` is shortened by, per connection, to spread reconnects.
    max_age_jitter: u64,
    check_window: Option<u64>,
    /// Who gets a connection that comes back while callers wait.
    policy: Policy,
    leak_threshold: Option<u64>,
    /// Idle connections are pinged this long after they were last known to work.
    keepalive: Option<u64>,
}

impl Times {
    fn new<C>(config: &Config<C>) -> Self {
        // The policy's bound is not among them: it reads the precise clock itself, and only
        // when callers wait.
        let settings = [
            config.max_idle,
            config.max_age,
            config.test_on_checkout,
            config.leak_threshold,
            config.keepalive,
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
            policy: Policy::new(config.fairness),
            leak_threshold: config.leak_threshold.map(clock::span),
            keepalive: config.keepalive.map(clock::span),
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

    pub(crate) fn from_parts(
        module: M,
        mut config: Config<M::Connection>,
    ) -> Result<Self, PoolError> {
        let target = module.target();
        config.hook.set_names(&target, config.name.as_deref());
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
                generation: 0,
                suspended: false,
                connecting: 0,
                backoff_until: 0,
                backoff_interval: 0,
                failures: 0,
                last_failure: None,
            }),
            config,
            drained: Condvar::new(),
            checkouts: Mutex::new(Checkouts::default()),
            counters: Counters::default(),
            sharing: Registry::default(),
            this: this.clone(),
        });
        let pool = Self { shared };
        #[cfg(feature = "metrics")]
        pool.report_gauges();
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

    /// Sets the metrics gauges every `metrics_interval` from a thread of its own, until the
    /// pool is dropped.
    #[cfg(feature = "metrics")]
    fn report_gauges(&self) {
        let weak = Arc::downgrade(&self.shared);
        let interval = self.shared.config.metrics_interval;
        let name = std::sync::Arc::clone(&self.shared.config.hook.name);
        let _ = std::thread::Builder::new()
            .name("dbpool-metrics".to_owned())
            .spawn(move || {
                while let Some(shared) = weak.upgrade() {
                    let pool = Pool { shared };
                    crate::instruments::gauges(&name, &pool.stats(), pool.max_size());
                    drop(pool);
                    // Pacing, not synchronisation: gauges are sampled once per interval.
                    std::thread::sleep(interval);
                }
            });
    }

    pub(crate) fn record_wait(&self, waited: Duration) {
        self.shared.counters.waited(waited);
        self.shared
            .config
            .hook
            .emit(|| PoolEvent::Waited { waited });
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

    /// The clock reading for this pool's bookkeeping: coarse when its settings allow.
    fn now(&self) -> u64 {
        if self.shared.times.coarse {
            clock::coarse()
        } else {
            clock::precise()
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
}

#[cfg(test)]
mod tests {
    use super::open::spread;
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
