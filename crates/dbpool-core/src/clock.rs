//! The pool's clock: nanoseconds since a process epoch, read either precisely or from a
//! coarse copy that the maintenance thread refreshes every [`TICK`].
//!
//! A precise read costs 20–50 ns on the build machines, a coarse one a single relaxed load.
//! Pools whose time settings are all whole seconds or more (eventlet's defaults) use the
//! coarse clock, so a get/put cycle reads no clock at all; pools with sub-second settings
//! read the precise clock once per return.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;

/// How often the maintenance thread refreshes the coarse clock while pools exist.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// Settings at least this long are measured with the coarse clock.
pub(crate) const COARSE_ENOUGH: Duration = Duration::from_secs(1);

static EPOCH: Lazy<Instant> = Lazy::new(Instant::now);
static COARSE: AtomicU64 = AtomicU64::new(0);

/// Nanoseconds since the epoch, read now.
pub(crate) fn precise() -> u64 {
    u64::try_from(EPOCH.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds since the epoch as of the last tick (at most [`TICK`] old while pools exist).
#[inline]
pub(crate) fn coarse() -> u64 {
    COARSE.load(Relaxed)
}

/// Reads the precise clock and publishes it as the coarse one.
pub(crate) fn tick() -> u64 {
    let now = precise();
    COARSE.fetch_max(now, Relaxed);
    now
}

/// The `Instant` of a clock reading.
pub(crate) fn instant(nanos: u64) -> Instant {
    *EPOCH + Duration::from_nanos(nanos)
}

/// The clock reading of an `Instant`.
pub(crate) fn nanos(instant: Instant) -> u64 {
    u64::try_from(instant.saturating_duration_since(*EPOCH).as_nanos()).unwrap_or(u64::MAX)
}

/// A duration in clock units.
#[inline]
pub(crate) fn span(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// `from + timeout`, or `None` — no limit — when that instant is beyond what the platform's
/// clock can represent (`Duration::MAX` means "forever").
pub(crate) fn deadline(from: Instant, timeout: Duration) -> Option<Instant> {
    from.checked_add(timeout)
}
