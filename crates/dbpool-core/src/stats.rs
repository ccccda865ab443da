//! Counters kept by the pool, and the snapshot [`Stats`] that reports them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Why the pool closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// Idle longer than `max_idle` (or `max_idle` is 0 and it was returned).
    Idle,
    /// Older than `max_age` (checked on return and while idle).
    Age,
    /// Broken: the driver said so, or an operation failed with a disconnect error.
    Broken,
    /// The cleanup on return failed or panicked.
    CleanupFailed,
    /// Closed by [`crate::Pool::clear`] or [`crate::Pool::close`].
    Cleared,
    /// Thrown away by the user ([`crate::PooledConnection::discard`]).
    Discarded,
    /// Used `max_usage` times.
    MaxUsage,
    /// Checked out while its thread panicked.
    Panicked,
    /// Arrived after `connect_timeout` had expired.
    LateConnect,
    /// More idle connections than `max_cached`.
    OverCached,
    /// Opened before [`crate::Pool::evict_all`] (or before a disconnect, with
    /// [`crate::Builder::evict_on_disconnect`]).
    Evicted,
}

const REASONS: usize = 11;

/// Buckets of [`Stats::wait_histogram`].
pub const WAIT_BUCKETS: usize = 26;

/// The histogram bucket of a wait: 0 below 1 µs, then one per power of two of microseconds,
/// the last one open-ended (2^24 µs, about 16.8 s, and more).
fn wait_bucket(wait: Duration) -> usize {
    let micros = u64::try_from(wait.as_micros()).unwrap_or(u64::MAX);
    let bucket = (u64::BITS - micros.leading_zeros()) as usize;
    bucket.min(WAIT_BUCKETS - 1)
}

impl CloseReason {
    fn index(self) -> usize {
        self as usize
    }
}

/// A snapshot of the pool's state and history (Go's `DBStats`, plus close reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_field_names)]
pub struct Stats {
    /// Connections open now: idle, checked out, or being opened.
    pub open: usize,
    /// Connections idle in the pool now.
    pub idle: usize,
    /// Connections checked out (or being opened) now.
    pub in_use: usize,
    /// Callers waiting for a connection now.
    pub waiting: usize,
    /// Connections opened since the pool was built.
    pub created: u64,
    /// Connection attempts that failed (errors, panics and timeouts).
    pub connect_failures: u64,
    /// Connections closed because idle too long.
    pub closed_idle: u64,
    /// Connections closed because too old.
    pub closed_age: u64,
    /// Connections closed because broken.
    pub closed_broken: u64,
    /// Connections closed because their cleanup failed.
    pub closed_cleanup_failed: u64,
    /// Connections closed by `clear()` or `close()`.
    pub closed_cleared: u64,
    /// Connections discarded by the user.
    pub closed_discarded: u64,
    /// Connections closed after `max_usage` uses.
    pub closed_max_usage: u64,
    /// Connections closed because their holder panicked.
    pub closed_panicked: u64,
    /// Connections closed because they arrived after `connect_timeout`.
    pub closed_late_connect: u64,
    /// Connections closed because more than `max_cached` were idle.
    pub closed_over_cached: u64,
    /// Connections closed because they were opened before an eviction.
    pub closed_evicted: u64,
    /// `get()` calls that had to wait.
    pub waited: u64,
    /// Total time spent waiting by those calls.
    pub wait_time: Duration,
    /// `get()` calls that gave up after the wait timeout.
    pub timeouts: u64,
    /// Connections reported as suspected leaks (see [`crate::Builder::leak_detection`]).
    pub leaks_suspected: u64,
    /// How long the `get()` calls that waited waited: bucket 0 counts waits under 1 µs,
    /// bucket `i` waits of 2^(i-1) to 2^i µs, the last bucket everything from 2^24 µs
    /// (about 16.8 s).
    pub wait_histogram: [u64; WAIT_BUCKETS],
}

impl Stats {
    /// The count of connections closed for `reason`.
    #[must_use]
    pub fn closed(&self, reason: CloseReason) -> u64 {
        match reason {
            CloseReason::Idle => self.closed_idle,
            CloseReason::Age => self.closed_age,
            CloseReason::Broken => self.closed_broken,
            CloseReason::CleanupFailed => self.closed_cleanup_failed,
            CloseReason::Cleared => self.closed_cleared,
            CloseReason::Discarded => self.closed_discarded,
            CloseReason::MaxUsage => self.closed_max_usage,
            CloseReason::Panicked => self.closed_panicked,
            CloseReason::LateConnect => self.closed_late_connect,
            CloseReason::OverCached => self.closed_over_cached,
            CloseReason::Evicted => self.closed_evicted,
        }
    }

    /// Connections closed for any reason.
    #[must_use]
    pub fn closed_total(&self) -> u64 {
        self.closed_idle
            + self.closed_age
            + self.closed_broken
            + self.closed_cleanup_failed
            + self.closed_cleared
            + self.closed_discarded
            + self.closed_max_usage
            + self.closed_panicked
            + self.closed_late_connect
            + self.closed_over_cached
            + self.closed_evicted
    }
}

/// The pool's live counters. Only slow paths touch them: a get served from the idle list and
/// a put back to it count nothing.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    created: AtomicU64,
    connect_failures: AtomicU64,
    closed: [AtomicU64; REASONS],
    waited: AtomicU64,
    wait_nanos: AtomicU64,
    timeouts: AtomicU64,
    leaks: AtomicU64,
    wait_histogram: [AtomicU64; WAIT_BUCKETS],
}

impl Counters {
    pub(crate) fn created(&self) {
        self.created.fetch_add(1, Relaxed);
    }
    pub(crate) fn created_so_far(&self) -> u64 {
        self.created.load(Relaxed)
    }
    pub(crate) fn connect_failed(&self) {
        self.connect_failures.fetch_add(1, Relaxed);
    }
    pub(crate) fn closed(&self, reason: CloseReason) {
        self.closed[reason.index()].fetch_add(1, Relaxed);
    }
    pub(crate) fn waited(&self, wait: Duration) {
        self.waited.fetch_add(1, Relaxed);
        let nanos = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
        self.wait_nanos.fetch_add(nanos, Relaxed);
        self.wait_histogram[wait_bucket(wait)].fetch_add(1, Relaxed);
    }
    pub(crate) fn timed_out(&self) {
        self.timeouts.fetch_add(1, Relaxed);
    }
    pub(crate) fn leak_suspected(&self) {
        self.leaks.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self, open: usize, idle: usize, waiting: usize) -> Stats {
        let closed = |r: CloseReason| self.closed[r.index()].load(Relaxed);
        Stats {
            open,
            idle,
            in_use: open - idle,
            waiting,
            created: self.created.load(Relaxed),
            connect_failures: self.connect_failures.load(Relaxed),
            closed_idle: closed(CloseReason::Idle),
            closed_age: closed(CloseReason::Age),
            closed_broken: closed(CloseReason::Broken),
            closed_cleanup_failed: closed(CloseReason::CleanupFailed),
            closed_cleared: closed(CloseReason::Cleared),
            closed_discarded: closed(CloseReason::Discarded),
            closed_max_usage: closed(CloseReason::MaxUsage),
            closed_panicked: closed(CloseReason::Panicked),
            closed_late_connect: closed(CloseReason::LateConnect),
            closed_over_cached: closed(CloseReason::OverCached),
            closed_evicted: closed(CloseReason::Evicted),
            waited: self.waited.load(Relaxed),
            wait_time: Duration::from_nanos(self.wait_nanos.load(Relaxed)),
            timeouts: self.timeouts.load(Relaxed),
            leaks_suspected: self.leaks.load(Relaxed),
            wait_histogram: std::array::from_fn(|i| self.wait_histogram[i].load(Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_buckets_are_powers_of_two_of_microseconds() {
        assert_eq!(wait_bucket(Duration::from_nanos(999)), 0);
        assert_eq!(wait_bucket(Duration::from_micros(1)), 1);
        assert_eq!(wait_bucket(Duration::from_micros(3)), 2);
        assert_eq!(wait_bucket(Duration::from_micros(4)), 3);
        assert_eq!(wait_bucket(Duration::from_secs(3600)), WAIT_BUCKETS - 1);
    }
}
