//! The waiting policy: who gets a connection that comes back while callers wait.
//!
//! Two policies share one core:
//!
//! - **Strict FIFO** ([`Fairness::Fifo`], eventlet's order): a returned connection goes
//!   straight to the oldest waiter. No caller is ever passed over, but when threads outnumber
//!   cores every return costs a wake-up of a parked thread (microseconds), while the thread
//!   returning the connection — already running — must wait for one in turn. Throughput
//!   collapses to the rate of context switches.
//! - **Bounded barging** ([`Fairness::Eventual`], the default): a returned connection goes
//!   back to the idle stack, where a running caller takes it without a context switch, and
//!   the oldest waiter is woken to try again (one wake-up in flight at a time, so no
//!   thundering herd; a woken waiter that finds nothing keeps its place at the head of the
//!   queue). Once the oldest waiter has waited longer than the bound, the next returned
//!   connection is handed to it directly, as in FIFO. So no waiter is passed over for more
//!   than about the bound plus one hold time, and while waiters are served within the bound
//!   the pool runs at the speed of a barging pool (r2d2's), which is what a server with more
//!   threads than cores needs.
//!
//! The bound is measured with the precise clock, read only when a connection comes back
//! while callers wait: an uncontended get/put cycle reads no clock.

use std::time::Duration;

use crate::clock;

/// How returned connections are shared out when callers are waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fairness {
    /// Strict first come, first served: a returned connection goes straight to the oldest
    /// waiter, and no newcomer can take it first (eventlet's exact order). The fairest
    /// policy; under heavy oversubscription every hand-off costs a thread wake-up, which
    /// limits throughput.
    Fifo,
    /// Eventually fair (the default, with [`Fairness::DEFAULT_BOUND`]): a returned connection
    /// goes back to the idle stack, where a running caller may take it before the oldest
    /// waiter (who is woken to try again, keeping its place at the head of the queue); once
    /// the oldest waiter has waited this long, it gets the next returned connection
    /// directly. Throughput of a barging pool when threads far outnumber cores, with no
    /// waiter passed over for much longer than this bound.
    Eventual(Duration),
}

impl Fairness {
    /// The bound of the default policy: how long the oldest waiter may be passed over.
    ///
    /// 100 µs: long enough that a returned connection is usually taken by a running thread
    /// (a hand-off to a parked one costs a wake-up, several µs, and the returning thread's
    /// core), short enough that the slowest gets stay under a barging pool's (W2: p99.9 at
    /// 8 threads on 2 cores at or below r2d2's, where 250 µs was above it, with throughput
    /// still 3.6–4× r2d2's).
    pub const DEFAULT_BOUND: Duration = Duration::from_micros(100);
}

impl Default for Fairness {
    fn default() -> Self {
        Self::Eventual(Self::DEFAULT_BOUND)
    }
}

/// The policy in clock units, as the pool core applies it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// `None` for strict FIFO.
    bound: Option<u64>,
}

impl Policy {
    pub(crate) fn new(fairness: Fairness) -> Self {
        Self {
            bound: match fairness {
                Fairness::Fifo => None,
                Fairness::Eventual(bound) => Some(clock::span(bound)),
            },
        }
    }

    /// Whether a freed connection wakes the oldest waiter to try again instead of being
    /// handed to it (the barging policy).
    #[inline]
    pub(crate) fn retries(self) -> bool {
        self.bound.is_some()
    }

    /// Whether a connection coming back goes straight to the oldest waiter, who queued at
    /// `queued_at` (precise clock). Reads the clock only for the barging policy.
    #[inline]
    pub(crate) fn hands_off(self, queued_at: u64) -> bool {
        self.bound
            .is_none_or(|_| self.passed_over_enough(queued_at, clock::precise()))
    }

    /// Whether a waiter queued at `queued_at` has waited the bound by `now`.
    fn passed_over_enough(self, queued_at: u64, now: u64) -> bool {
        self.bound
            .is_none_or(|bound| now.saturating_sub(queued_at) >= bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_always_hands_off() {
        let policy = Policy::new(Fairness::Fifo);
        assert!(!policy.retries());
        assert!(policy.hands_off(clock::precise()));
    }

    #[test]
    fn eventual_hands_off_only_past_the_bound() {
        let policy = Policy::new(Fairness::Eventual(Duration::from_millis(2)));
        assert!(policy.retries());
        let ms = clock::span(Duration::from_millis(1));
        assert!(!policy.passed_over_enough(10 * ms, 11 * ms), "1 ms < 2 ms");
        assert!(
            policy.passed_over_enough(10 * ms, 12 * ms),
            "2 ms: served next"
        );
        assert!(
            !policy.passed_over_enough(10 * ms, 5 * ms),
            "a clock behind the queue"
        );
    }

    #[test]
    fn the_default_is_eventually_fair() {
        assert_eq!(
            Fairness::default(),
            Fairness::Eventual(Fairness::DEFAULT_BOUND)
        );
    }
}
