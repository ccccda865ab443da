//! Logging through the `tracing` facade: what the pool's slow paths report, named by the
//! pool's target (host and database, never a password). Nothing is logged on the get/put
//! fast path.
//!
//! Targets and levels (filter on the `dbpool` target):
//! - INFO: a connection opened; closed by `clear`/`close` or evicted.
//! - DEBUG: closed as routine (idle, age, `max_usage`, over `max_cached`, discarded); a wait
//!   shorter than the slow-wait threshold.
//! - WARN: a connect failure (with the driver's error) or timeout; a connection closed
//!   broken, after a failed cleanup, a panic, or a late connect; a wait over the threshold;
//!   a wait timeout; a suspected leak (with where it was checked out).

use std::time::Duration;

use tracing::{debug, info, warn};

use crate::{CloseReason, PoolEvent};

/// Whether any event of the pool would be logged now (a cheap, cached check).
#[inline]
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "dbpool", tracing::Level::WARN)
}

/// Logs `event` of the pool connecting to `pool` (its target, without a password).
pub(crate) fn log(pool: &str, slow_wait: Duration, event: &PoolEvent<'_>) {
    match event {
        PoolEvent::Connected => info!(target: "dbpool", pool, "connection opened"),
        PoolEvent::ConnectFailed { error } => {
            warn!(target: "dbpool", pool, %error, "cannot connect");
        }
        PoolEvent::ConnectTimedOut { timeout } => {
            warn!(target: "dbpool", pool, ?timeout, "connect timed out");
        }
        PoolEvent::Closed { reason } => match reason {
            CloseReason::Broken
            | CloseReason::CleanupFailed
            | CloseReason::Panicked
            | CloseReason::LateConnect => {
                warn!(target: "dbpool", pool, ?reason, "connection closed");
            }
            CloseReason::Cleared | CloseReason::Evicted => {
                info!(target: "dbpool", pool, ?reason, "connection closed");
            }
            _ => debug!(target: "dbpool", pool, ?reason, "connection closed"),
        },
        PoolEvent::Waited { waited } if *waited >= slow_wait => {
            warn!(target: "dbpool", pool, ?waited, "slow wait for a connection");
        }
        PoolEvent::Waited { waited } => {
            debug!(target: "dbpool", pool, ?waited, "waited for a connection");
        }
        PoolEvent::TimedOut { waited } => {
            warn!(target: "dbpool", pool, ?waited, "gave up waiting for a connection");
        }
        PoolEvent::LeakSuspected {
            checked_out_at,
            held,
        } => {
            warn!(
                target: "dbpool",
                pool,
                checked_out_at = %checked_out_at,
                ?held,
                "connection held longer than the leak threshold"
            );
        }
    }
}
