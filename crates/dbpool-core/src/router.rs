//! Read/write routing over a primary and its replicas, each with a pool of its own: writes
//! go to the primary, reads to a healthy replica that is not too far behind, and to the
//! primary when no replica qualifies.
//!
//! A replica's health is checked at most once per [`RouterBuilder::check_every`], on the
//! reading thread, with the connection about to be handed out: getting it must succeed, and
//! it must answer a ping — or, with a lag probe ([`RouterBuilder::max_lag`]), the probe, whose
//! lag must be within the bound. An unhealthy replica is passed over until its next check, so a lost replica costs
//! one failed attempt per interval, not one per read.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbapi::Module;
use parking_lot::Mutex;

use crate::{Pool, PoolError, PooledConnection};

/// Measures how far a replica's session is behind its primary (for PostgreSQL:
/// `dbapi_postgres::replica_lag`).
pub type LagProbe<C> = Arc<dyn Fn(&mut C) -> dbapi::Result<Duration> + Send + Sync>;

/// How reads are spread over the healthy replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadBalance {
    /// In turn (the default).
    #[default]
    RoundRobin,
    /// To the replica with the fewest connections in use.
    LeastBusy,
}

/// What the router last found out about a replica.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaHealth {
    /// The replica's pool target (no password).
    pub target: String,
    /// Whether reads go to it (until its next check).
    pub healthy: bool,
    /// The lag its last check measured, with a probe.
    pub lag: Option<Duration>,
    /// Why it was last found unhealthy.
    pub problem: Option<String>,
}

struct Replica<M: Module> {
    pool: Pool<M>,
    health: Mutex<(ReplicaHealth, Option<Instant>)>,
}

/// Writes to the primary, reads to the replicas.
///
/// A replica's health is checked at most once per [`RouterBuilder::check_every`], on the
/// reading thread, with the connection about to be handed out: getting it must succeed, and
/// it must answer a ping — or, with a lag probe ([`RouterBuilder::max_lag`]), the probe,
/// whose lag must be within the bound. An unhealthy replica is passed over until its next
/// check, so a lost replica costs one failed attempt per interval, not one per read; with
/// no replica qualifying, reads go to the primary.
///
/// ```
/// use dbpool_core::{Pool, Router};
/// use dbapi_sqlite::Sqlite;
///
/// // Real use: a PostgreSQL primary and replicas, with `dbapi_postgres::replica_lag` as
/// // the lag probe. Here any pools show the routing.
/// let primary = Pool::builder(Sqlite::memory()).build()?;
/// let replica = Pool::builder(Sqlite::memory()).build()?;
/// let router = Router::builder(primary.clone()).replica(replica.clone()).build();
/// drop(router.write()?);
/// drop(router.read()?);
/// assert_eq!((primary.stats().created, replica.stats().created), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Router<M: Module> {
    primary: Pool<M>,
    replicas: Vec<Replica<M>>,
    balance: ReadBalance,
    check_every: Duration,
    max_lag: Option<(Duration, LagProbe<M::Connection>)>,
    next: AtomicUsize,
}

impl<M: Module> fmt::Debug for Router<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("primary", &self.primary.target())
            .field("replicas", &self.health())
            .field("balance", &self.balance)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Router`].
#[must_use = "a builder does nothing until build()"]
pub struct RouterBuilder<M: Module> {
    primary: Pool<M>,
    replicas: Vec<Pool<M>>,
    balance: ReadBalance,
    check_every: Duration,
    max_lag: Option<(Duration, LagProbe<M::Connection>)>,
}

impl<M: Module> Router<M> {
    /// A router writing to `primary`; add replicas with [`RouterBuilder::replica`].
    pub fn builder(primary: Pool<M>) -> RouterBuilder<M> {
        RouterBuilder {
            primary,
            replicas: Vec::new(),
            balance: ReadBalance::default(),
            check_every: Duration::from_secs(5),
            max_lag: None,
        }
    }

    /// A connection to the primary, for writes (and reads that must see them).
    ///
    /// # Errors
    /// As [`Pool::get`] on the primary's pool.
    #[track_caller]
    pub fn write(&self) -> Result<PooledConnection<M>, PoolError> {
        self.primary.get()
    }

    /// A connection for reads: from a healthy replica within the lag bound, spread as
    /// [`RouterBuilder::balance`] says — one with a connection free now first, else waiting
    /// on the first healthy one — and from the primary when no replica qualifies.
    ///
    /// # Errors
    /// As [`Pool::get`] on the primary's pool, when it is the fallback.
    #[track_caller]
    pub fn read(&self) -> Result<PooledConnection<M>, PoolError> {
        let order = self.order();
        for wait in [false, true] {
            for &index in &order {
                if let Some(conn) = self.try_replica(&self.replicas[index], wait) {
                    return Ok(conn);
                }
            }
        }
        self.primary.get()
    }

    /// What the router last found out about each replica, in the order they were added.
    #[must_use]
    pub fn health(&self) -> Vec<ReplicaHealth> {
        self.replicas
            .iter()
            .map(|replica| replica.health.lock().0.clone())
            .collect()
    }

    /// The primary's pool.
    #[must_use]
    pub fn primary(&self) -> &Pool<M> {
        &self.primary
    }

    /// The replicas to try, best first.
    fn order(&self) -> Vec<usize> {
        let count = self.replicas.len();
        match self.balance {
            ReadBalance::RoundRobin => {
                let start = self.next.fetch_add(1, Relaxed);
                (0..count).map(|i| (start + i) % count.max(1)).collect()
            }
            ReadBalance::LeastBusy => {
                let mut order: Vec<(usize, usize)> = self
                    .replicas
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (r.pool.stats().in_use, i))
                    .collect();
                order.sort_unstable();
                order.into_iter().map(|(_, i)| i).collect()
            }
        }
    }

    /// A connection from `replica` if it is healthy (checking it when its last check is
    /// older than `check_every`); without `wait`, only one that is free now (a busy
    /// replica is not unhealthy).
    fn try_replica(&self, replica: &Replica<M>, wait: bool) -> Option<PooledConnection<M>> {
        let due = {
            let health = replica.health.lock();
            let due = health.1.is_none_or(|at| at.elapsed() >= self.check_every);
            if !due && !health.0.healthy {
                return None;
            }
            due
        };
        let outcome = if wait {
            replica.pool.get().map(Some)
        } else {
            replica.pool.try_get()
        };
        let outcome = match outcome {
            Ok(None) => return None,
            Ok(Some(conn)) => Ok(conn),
            Err(err) => Err(err.to_string()),
        };
        if !due {
            return outcome.ok();
        }
        let mut conn = match outcome {
            Ok(conn) => conn,
            Err(problem) => {
                Self::record(replica, false, None, Some(problem));
                return None;
            }
        };
        let Some((bound, probe)) = &self.max_lag else {
            // No lag probe: the check is a ping, so a dead session is not handed out.
            return match dbapi::Connection::ping(&mut *conn) {
                Ok(()) => {
                    Self::record(replica, true, None, None);
                    Some(conn)
                }
                Err(err) => {
                    Self::record(replica, false, None, Some(err.to_string()));
                    None
                }
            };
        };
        match probe(&mut *conn) {
            Ok(lag) if lag <= *bound => {
                Self::record(replica, true, Some(lag), None);
                Some(conn)
            }
            Ok(lag) => {
                let problem = format!("{lag:?} behind, more than the {bound:?} allowed");
                Self::record(replica, false, Some(lag), Some(problem));
                None
            }
            Err(err) => {
                Self::record(replica, false, None, Some(err.to_string()));
                None
            }
        }
    }

    fn record(replica: &Replica<M>, healthy: bool, lag: Option<Duration>, problem: Option<String>) {
        let mut health = replica.health.lock();
        health.0.healthy = healthy;
        health.0.lag = lag;
        health.0.problem = problem;
        health.1 = Some(Instant::now());
    }
}

impl<M: Module> RouterBuilder<M> {
    /// Adds a replica's pool; reads go to the replicas in the order they were added
    /// (round-robin) or by how busy they are ([`ReadBalance::LeastBusy`]).
    pub fn replica(mut self, pool: Pool<M>) -> Self {
        self.replicas.push(pool);
        self
    }

    /// How reads are spread over the healthy replicas. Default [`ReadBalance::RoundRobin`].
    pub fn balance(mut self, balance: ReadBalance) -> Self {
        self.balance = balance;
        self
    }

    /// How long a replica's health is trusted before it is checked again. Default 5 s.
    pub fn check_every(mut self, interval: Duration) -> Self {
        self.check_every = interval;
        self
    }

    /// Replicas further behind than `bound`, as `probe` measures on one of their
    /// connections, get no reads until a later check finds them caught up.
    pub fn max_lag(
        mut self,
        bound: Duration,
        probe: impl Fn(&mut M::Connection) -> dbapi::Result<Duration> + Send + Sync + 'static,
    ) -> Self {
        self.max_lag = Some((bound, Arc::new(probe)));
        self
    }

    /// The router.
    #[must_use]
    pub fn build(self) -> Router<M> {
        Router {
            replicas: self
                .replicas
                .into_iter()
                .map(|pool| Replica {
                    health: Mutex::new((
                        ReplicaHealth {
                            target: pool.target().to_owned(),
                            healthy: true,
                            lag: None,
                            problem: None,
                        },
                        None,
                    )),
                    pool,
                })
                .collect(),
            primary: self.primary,
            balance: self.balance,
            check_every: self.check_every,
            max_lag: self.max_lag,
            next: AtomicUsize::new(0),
        }
    }
}
