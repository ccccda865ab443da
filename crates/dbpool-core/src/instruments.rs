//! Metrics through the `metrics` facade (feature `metrics`), labelled `pool = <name>`:
//!
//! | metric | kind | what |
//! |---|---|---|
//! | `dbpool_connections_open` | gauge | open: idle, in use or being opened |
//! | `dbpool_connections_idle` | gauge | idle in the pool |
//! | `dbpool_connections_in_use` | gauge | checked out (or being opened) |
//! | `dbpool_waiting` | gauge | callers waiting |
//! | `dbpool_max_size` | gauge | the pool's `max_size` |
//! | `dbpool_connections_created_total` | counter | connections opened |
//! | `dbpool_connections_closed_total` | counter | closed, with a `reason` label |
//! | `dbpool_connect_failures_total` | counter | failed or timed-out connects |
//! | `dbpool_wait_timeouts_total` | counter | `get()`s that gave up |
//! | `dbpool_leaks_suspected_total` | counter | connections held past the leak threshold |
//! | `dbpool_wait_seconds` | histogram | how long `get()`s waited, when they waited |
//!
//! Counters and the histogram are updated on the slow paths where their events happen; the
//! gauges are set together from one snapshot of the pool by a reporter thread, once per
//! [`crate::Builder::metrics_interval`], so a get/put cycle costs nothing more.

#[cfg(feature = "metrics")]
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "metrics")]
use crate::{PoolEvent, Stats};

/// Records one event under the pool's `name`.
#[cfg(feature = "metrics")]
pub(crate) fn record(name: &Arc<str>, event: &PoolEvent<'_>) {
    let pool = Arc::clone(name);
    match event {
        PoolEvent::Connected => {
            metrics::counter!("dbpool_connections_created_total", "pool" => pool).increment(1);
        }
        PoolEvent::ConnectFailed { .. } | PoolEvent::ConnectTimedOut { .. } => {
            metrics::counter!("dbpool_connect_failures_total", "pool" => pool).increment(1);
        }
        PoolEvent::Closed { reason } => {
            let reason = format!("{reason:?}");
            metrics::counter!("dbpool_connections_closed_total", "pool" => pool, "reason" => reason)
                .increment(1);
        }
        PoolEvent::Waited { waited } => {
            metrics::histogram!("dbpool_wait_seconds", "pool" => pool).record(waited.as_secs_f64());
        }
        PoolEvent::TimedOut { waited } => {
            metrics::counter!("dbpool_wait_timeouts_total", "pool" => Arc::clone(&pool))
                .increment(1);
            metrics::histogram!("dbpool_wait_seconds", "pool" => pool).record(waited.as_secs_f64());
        }
        PoolEvent::LeakSuspected { .. } => {
            metrics::counter!("dbpool_leaks_suspected_total", "pool" => pool).increment(1);
        }
    }
}

/// Sets the gauges from one snapshot.
#[cfg(feature = "metrics")]
pub(crate) fn gauges(name: &Arc<str>, stats: &Stats, max_size: usize) {
    let set = |metric: &'static str, value: usize| {
        #[allow(clippy::cast_precision_loss)] // pool sizes are far below 2^52
        metrics::gauge!(metric, "pool" => Arc::clone(name)).set(value as f64);
    };
    set("dbpool_connections_open", stats.open);
    set("dbpool_connections_idle", stats.idle);
    set("dbpool_connections_in_use", stats.in_use);
    set("dbpool_waiting", stats.waiting);
    set("dbpool_max_size", max_size);
}

/// The default interval between gauge updates.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
