//! Pool settings and the builder that validates them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dbapi::Module;

use crate::events::Hook;
use crate::{Cleanup, ConfigError, Fairness, Pool, PoolError, PoolEvent};

/// The settings of a pool, with eventlet's names and defaults.
pub(crate) struct Config<C> {
    pub(crate) min_size: usize,
    pub(crate) max_size: usize,
    pub(crate) max_idle: Option<Duration>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_age_jitter: f64,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) wait_timeout: Option<Duration>,
    pub(crate) cleanup: Cleanup<C>,
    pub(crate) blocking: bool,
    pub(crate) max_usage: Option<u64>,
    pub(crate) max_cached: Option<usize>,
    pub(crate) max_shared: usize,
    pub(crate) evict_on_disconnect: bool,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) name: Option<String>,
    pub(crate) max_connecting: usize,
    pub(crate) connect_backoff: (Duration, Duration),
    pub(crate) metrics_interval: Duration,
    pub(crate) test_on_checkout: Option<Duration>,
    pub(crate) init_sql: Vec<String>,
    pub(crate) fairness: Fairness,
    pub(crate) leak_threshold: Option<Duration>,
    pub(crate) hook: Hook,
}

impl<C> fmt::Debug for Config<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("min_size", &self.min_size)
            .field("max_size", &self.max_size)
            .field("max_idle", &self.max_idle)
            .field("max_age", &self.max_age)
            .field("max_age_jitter", &self.max_age_jitter)
            .field("connect_timeout", &self.connect_timeout)
            .field("wait_timeout", &self.wait_timeout)
            .field("cleanup", &self.cleanup)
            .field("blocking", &self.blocking)
            .field("max_usage", &self.max_usage)
            .field("max_cached", &self.max_cached)
            .field("max_shared", &self.max_shared)
            .field("evict_on_disconnect", &self.evict_on_disconnect)
            .field("keepalive", &self.keepalive)
            .field("name", &self.name)
            .field("max_connecting", &self.max_connecting)
            .field("connect_backoff", &self.connect_backoff)
            .field("metrics_interval", &self.metrics_interval)
            .field("test_on_checkout", &self.test_on_checkout)
            .field("init_sql", &self.init_sql.len())
            .field("fairness", &self.fairness)
            .field("leak_threshold", &self.leak_threshold)
            .field("on_event", &self.hook)
            .finish()
    }
}

/// Builds a [`Pool`]: `Pool::builder(module).max_size(8).build()?`.
///
/// Defaults are eventlet's: `min_size` 0, `max_size` 4, `max_idle` 10 s, `max_age` 30 s,
/// `connect_timeout` 5 s, cleanup [`Cleanup::Rollback`]; and, where eventlet has no such
/// setting, the behaviour it has: wait forever for a connection, never validate on checkout.
#[must_use = "a builder does nothing until build() is called"]
pub struct Builder<M: Module> {
    module: M,
    config: Config<M::Connection>,
}

impl<M: Module> fmt::Debug for Builder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("target", &self.module.target())
            .field("config", &self.config)
            .finish()
    }
}

impl<M: Module> Builder<M> {
    pub(crate) fn new(module: M) -> Self {
        Self {
            module,
            config: Config {
                min_size: 0,
                max_size: 4,
                max_idle: Some(Duration::from_secs(10)),
                max_age: Some(Duration::from_secs(30)),
                max_age_jitter: 0.0,
                connect_timeout: Some(Duration::from_secs(5)),
                wait_timeout: None,
                cleanup: Cleanup::Rollback,
                blocking: true,
                max_usage: None,
                max_cached: None,
                max_shared: 0,
                evict_on_disconnect: false,
                keepalive: None,
                name: None,
                max_connecting: 2,
                connect_backoff: (Duration::from_millis(50), Duration::from_secs(2)),
                metrics_interval: crate::instruments::DEFAULT_INTERVAL,
                test_on_checkout: None,
                init_sql: Vec::new(),
                fairness: Fairness::default(),
                leak_threshold: None,
                hook: Hook::with_slow_wait(Duration::from_secs(1)),
            },
        }
    }

    /// Connections opened when the pool is built, and kept open (topped up again after
    /// expiry). Default 0.
    pub fn min_size(mut self, min_size: usize) -> Self {
        self.config.min_size = min_size;
        self
    }

    /// The most connections open at once: idle, checked out and being opened together.
    /// Default 4. Must be at least 1.
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.config.max_size = max_size;
        self
    }

    /// How long a connection may sit idle in the pool before it is closed. `Duration::ZERO`
    /// closes every connection when it is returned; `None` never expires idle connections.
    /// Default 10 s. Checked-out connections are never affected.
    pub fn max_idle(mut self, max_idle: impl Into<Option<Duration>>) -> Self {
        self.config.max_idle = max_idle.into();
        self
    }

    /// The lifespan of a connection from its creation. A connection older than this is
    /// closed when returned, and while idle; checked-out connections are never affected.
    /// `Duration::ZERO` closes every connection when it is returned; `None` lets them live
    /// forever. Default 30 s.
    pub fn max_age(mut self, max_age: impl Into<Option<Duration>>) -> Self {
        self.config.max_age = max_age.into();
        self
    }

    /// Shortens each connection's `max_age` by a random part of up to this fraction of it
    /// (0 to below 1), so connections opened together are not all replaced at once (a burst
    /// of reconnects every `max_age`). Default 0: eventlet's exact `max_age`.
    pub fn max_age_jitter(mut self, fraction: f64) -> Self {
        self.config.max_age_jitter = fraction;
        self
    }

    /// How long `connect()` may take before `get()` fails with
    /// [`PoolError::ConnectTimeout`], even if the driver would hang. Also passed to the driver
    /// as its native connect timeout, a quarter longer, so that a server that never answers is
    /// reported as `ConnectTimeout` and the late attempt's slot is freed soon after. `None`
    /// waits as long as the driver does. Default 5 s.
    pub fn connect_timeout(mut self, connect_timeout: impl Into<Option<Duration>>) -> Self {
        self.config.connect_timeout = connect_timeout.into();
        self
    }

    /// How long `get()` waits for a free connection before failing with
    /// [`PoolError::Timeout`]. `None` (the default, as eventlet) waits forever.
    pub fn wait_timeout(mut self, wait_timeout: impl Into<Option<Duration>>) -> Self {
        self.config.wait_timeout = wait_timeout.into();
        self
    }

    /// The cleanup run when a connection is returned. Default [`Cleanup::Rollback`].
    pub fn cleanup(mut self, cleanup: Cleanup<M::Connection>) -> Self {
        self.config.cleanup = cleanup;
        self
    }

    /// Whether `get()` waits when the pool is exhausted (DBUtils' `blocking`). With `false`
    /// it fails at once with [`PoolError::Exhausted`]. Default `true`.
    pub fn blocking(mut self, blocking: bool) -> Self {
        self.config.blocking = blocking;
        self
    }

    /// Retire a connection once it has run this many statements (DBUtils' `maxusage`).
    /// `None` (default) reuses connections without limit.
    ///
    /// One meaning in every mode: a *use* is a statement run through a dbpool handle —
    /// `execute`, `executemany` or `callproc` on its cursors, or the connection's `execute`
    /// shortcut (statements run on the driver's connection reached through `Deref` are not
    /// seen). Once the count is reached the connection is replaced at the next point where
    /// that is safe: the pool closes it when it is returned, [`crate::SteadyConnection`]
    /// reopens before its next cursor and [`crate::PersistentDB`] at the thread's next
    /// `connection()` — never inside a transaction.
    pub fn max_usage(mut self, max_usage: impl Into<Option<u64>>) -> Self {
        self.config.max_usage = max_usage.into();
        self
    }

    /// The most idle connections kept (DBUtils' `maxcached`); extra returned connections are
    /// closed. `None` (default) keeps up to `max_size`.
    pub fn max_cached(mut self, max_cached: impl Into<Option<usize>>) -> Self {
        self.config.max_cached = max_cached.into();
        self
    }

    /// How many connections may be shared between threads (DBUtils' `maxshared`): callers of
    /// [`Pool::get_shared`] get a [`crate::SharedConnection`] over one of at most this many
    /// connections, the least shared first, once that many are open or the pool is full.
    /// 0 (default) shares none: each shared handle then has a connection of its own.
    /// [`Pool::get`] always gives a dedicated connection. Allowed only for drivers whose
    /// module declares [`dbapi::ThreadSafety::Connections`] or more.
    pub fn max_shared(mut self, max_shared: usize) -> Self {
        self.config.max_shared = max_shared;
        self
    }

    /// What a connection failing with a disconnect error does to the others. `false`
    /// (default): every idle connection last known good before the failure is pinged before
    /// its next use (a restarted server killed them all; a single killed session did not).
    /// `true`: [`Pool::evict_all`] — every connection that exists is replaced, idle ones at
    /// once and checked-out ones when they come back, without a ping (SQLAlchemy's
    /// invalidation after a disconnect; for failovers, where old sessions may still answer
    /// from the wrong server).
    pub fn evict_on_disconnect(mut self, evict: bool) -> Self {
        self.config.evict_on_disconnect = evict;
        self
    }

    /// The most connect attempts in flight at once (default 2). Callers that need a new
    /// connection while that many are being opened wait for one of them (or a returned
    /// connection), so a burst of callers, or a server that is down, sees a few attempts, not
    /// one per caller. At least 1.
    pub fn max_connecting(mut self, max_connecting: usize) -> Self {
        self.config.max_connecting = max_connecting;
        self
    }

    /// The backoff after failed connects: from the second failure in a row, no new attempt
    /// starts for `first` (less a random tenth), doubling with each further failure up to
    /// `max`; a success ends it. While it
    /// runs, a caller that nothing open can serve gets the last failure at once, and
    /// waiters share each failure instead of starting attempts of their own; the maintenance
    /// thread restarts the waiters (and `min_size` refills) when it ends. Default 50 ms to
    /// 2 s.
    pub fn connect_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.config.connect_backoff = (first, max.max(first));
        self
    }

    /// The pool's name in metrics labels (`pool = <name>`; feature `metrics`). Default: its
    /// target (host and database, never a password).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = Some(name.into());
        self
    }

    /// How often the metrics gauges (open, idle, in use, waiting, max) are set from a
    /// snapshot of the pool (feature `metrics`; counters and the wait histogram are updated
    /// as things happen). Default 1 s.
    pub fn metrics_interval(mut self, interval: Duration) -> Self {
        self.config.metrics_interval = interval;
        self
    }

    /// Pings idle connections that have not been used (or pinged) for this long, so that a
    /// firewall or the server's idle timeout (PostgreSQL's `idle_session_timeout`, MySQL's
    /// `wait_timeout`) does not cut them while they wait in the pool. The pings run on a
    /// thread of their own, never on the shared maintenance thread; a connection that fails
    /// its ping is closed. `max_idle` still counts from when the connection was returned.
    /// `None` (default) never pings idle connections.
    pub fn keepalive(mut self, every: impl Into<Option<Duration>>) -> Self {
        self.config.keepalive = every.into();
        self
    }

    /// Ping a connection on checkout when it has been idle at least this long; a failed ping
    /// replaces it with a new connection. `None` (default, as eventlet) never pings; a pool
    /// that pings costs one clock read more per checkout.
    pub fn test_on_checkout(mut self, idle_at_least: impl Into<Option<Duration>>) -> Self {
        self.config.test_on_checkout = idle_at_least.into();
        self
    }

    /// A statement run (and committed) on every new connection (DBUtils' `setsession`), e.g.
    /// `SET TIME ZONE 'UTC'`. May be given several times; they run in order.
    pub fn init_sql(mut self, sql: impl Into<String>) -> Self {
        self.config.init_sql.push(sql.into());
        self
    }

    /// How returned connections are shared out among waiting callers. Default
    /// [`Fairness::Eventual`] with [`Fairness::DEFAULT_BOUND`]; [`Fairness::Fifo`] for
    /// eventlet's strict order. See [`Fairness`] for the trade-off.
    pub fn fairness(mut self, fairness: Fairness) -> Self {
        self.config.fairness = fairness;
        self
    }

    /// Calls `hook` for what happens in the pool: connections opened, failed, timed out and
    /// closed (with the reason), waits, wait timeouts and suspected leaks. Only slow paths
    /// report: a get or put served from the idle stack costs nothing extra. The hook runs on
    /// the thread where the event happens, without the pool lock held; a panic in it is
    /// contained.
    pub fn on_event(mut self, hook: impl Fn(&PoolEvent<'_>) + Send + Sync + 'static) -> Self {
        let slow_wait = self.config.hook.slow_wait;
        self.config.hook = Hook::new(Arc::new(hook));
        self.config.hook.slow_wait = slow_wait;
        self
    }

    /// Waits for a connection at least this long are logged as slow (at WARN, target
    /// `dbpool`); shorter ones at DEBUG. Default 1 s. The pool logs through the `tracing`
    /// facade (and `log` with the `log` feature), from its slow paths only.
    pub fn slow_wait_threshold(mut self, threshold: Duration) -> Self {
        self.config.hook.slow_wait = threshold;
        self
    }

    /// Reports a [`PoolEvent::LeakSuspected`] (and counts it in
    /// [`crate::Stats::leaks_suspected`]) for every connection checked out longer than
    /// `threshold`, with the place it was checked out. Costs a registry update per get and
    /// put while enabled. Default: off.
    pub fn leak_detection(mut self, threshold: impl Into<Option<Duration>>) -> Self {
        self.config.leak_threshold = threshold.into();
        self
    }

    /// Validates the settings, opens `min_size` connections and returns the pool.
    ///
    /// # Errors
    /// [`PoolError::Config`] for invalid settings (`max_size` 0, `min_size` > `max_size`,
    /// `max_usage` 0, `max_shared` above `max_size`, or `max_shared` for a driver that does not
    /// allow sharing connections); the connect error when a `min_size` connection cannot be
    /// opened.
    pub fn build(self) -> Result<Pool<M>, PoolError> {
        let c = &self.config;
        if c.max_size == 0 {
            return Err(ConfigError::ZeroMaxSize.into());
        }
        if c.min_size > c.max_size {
            return Err(ConfigError::MinAboveMax {
                min_size: c.min_size,
                max_size: c.max_size,
            }
            .into());
        }
        if c.max_shared > 0 {
            crate::sharing::check_shareable::<M>()?;
        }
        if c.max_shared > c.max_size {
            return Err(ConfigError::SharedAboveMax {
                max_shared: c.max_shared,
                max_size: c.max_size,
            }
            .into());
        }
        if c.max_connecting == 0 {
            return Err(ConfigError::ZeroMaxConnecting.into());
        }
        if c.max_usage == Some(0) {
            return Err(ConfigError::ZeroMaxUsage.into());
        }
        if !(0.0..1.0).contains(&c.max_age_jitter) {
            return Err(ConfigError::BadJitter(c.max_age_jitter.to_string()).into());
        }
        Pool::from_parts(self.module, self.config)
    }
}
