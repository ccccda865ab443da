//! Return and clean: a connection coming back is checked, cleaned, and handed to a waiter
//! or pushed onto the idle stack.

use super::*;

impl<M: Module> Pool<M> {
    /// Returns a checked-out connection: checks, cleanup, then hand-off or idle.
    #[inline]
    pub(crate) fn release(
        &self,
        mut live: Live<M::Connection>,
        cleanup: Option<&Cleanup<M::Connection>>,
        broken: bool,
        touched: bool,
        uses: u64,
    ) {
        if broken || live.raw.is_broken() {
            self.after_disconnect();
            return self.discard_live(live, CloseReason::Broken);
        }
        let cleanup = cleanup.unwrap_or(&self.shared.config.cleanup);
        // Asked first: a cleanup with nothing to do (an untouched or clean connection) is
        // not called through `catch_unwind`, which the compiler cannot see through.
        if cleanup.calls_driver(&live.raw, touched) {
            let cleaned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                cleanup.run(&mut live.raw, touched)
            }));
            if !matches!(cleaned, Ok(Ok(()))) {
                return self.discard_live(live, CloseReason::CleanupFailed);
            }
        }
        live.uses = live.uses.saturating_add(uses);
        if self.used_up(&live) {
            return self.discard_live(live, CloseReason::MaxUsage);
        }
        self.check_in(live);
    }

    /// Whether returning `live` would call its driver: it is broken (closed), its cleanup
    /// has work to do, or it reached `max_usage` (closed). The async front-end returns a
    /// connection on its thread pool then, and at once otherwise.
    pub(crate) fn release_calls_driver(
        &self,
        live: &Live<M::Connection>,
        cleanup: Option<&Cleanup<M::Connection>>,
        broken: bool,
        touched: bool,
        uses: u64,
    ) -> bool {
        let cleanup = cleanup.unwrap_or(&self.shared.config.cleanup);
        broken
            || live.raw.is_broken()
            || cleanup.calls_driver(&live.raw, touched)
            || self
                .shared
                .config
                .max_usage
                .is_some_and(|max| live.uses.saturating_add(uses) >= max)
    }

    fn used_up(&self, live: &Live<M::Connection>) -> bool {
        self.shared
            .config
            .max_usage
            .is_some_and(|max| live.uses >= max)
    }

    /// Returns a connection whose [`Pool::release_calls_driver`] is false without calling
    /// its driver: hand-off or idle as [`Pool::check_in`], and a connection the pool will
    /// not keep (expired, pool cleared…) is given back with the reason to close it, for
    /// the caller to close where blocking is allowed.
    pub(crate) fn release_without_driver(
        &self,
        mut live: Live<M::Connection>,
        uses: u64,
    ) -> Option<(Live<M::Connection>, CloseReason)> {
        live.uses = live.uses.saturating_add(uses);
        let mut refused = None;
        self.check_in_or(live, None, |live, reason| refused = Some((live, reason)));
        refused
    }

    /// Puts a clean connection back: to the oldest waiter, else onto the idle stack.
    #[inline]
    pub(crate) fn check_in(&self, live: Live<M::Connection>) {
        self.check_in_idle_since(live, None);
    }

    /// As [`Pool::check_in`], for a connection that was idle since `idle_since` and stays
    /// so (back from a keepalive ping: `max_idle` still counts from then).
    pub(super) fn check_in_idle_since(&self, live: Live<M::Connection>, idle_since: Option<u64>) {
        self.check_in_or(live, idle_since, |live, reason| {
            self.discard_live(live, reason);
        });
    }

    /// Hand-off or idle; a connection the pool does not keep goes to `refuse` with the
    /// reason to close it.
    #[inline]
    fn check_in_or(
        &self,
        mut live: Live<M::Connection>,
        idle_since: Option<u64>,
        refuse: impl FnOnce(Live<M::Connection>, CloseReason),
    ) {
        let config = &self.shared.config;
        let times = &self.shared.times;
        if times.max_idle == Some(0) {
            return refuse(live, CloseReason::Idle);
        }
        let now = self.now();
        if live.expires.is_some_and(|expires| now >= expires) {
            return refuse(live, CloseReason::Age);
        }
        let mut state = self.shared.state.lock();
        if state.closed {
            drop(state);
            return refuse(live, CloseReason::Cleared);
        }
        if live.generation < state.generation {
            // Opened before an eviction: closed now that it is back.
            drop(state);
            return refuse(live, CloseReason::Evicted);
        }
        if live.validated < state.suspect_before {
            live.validated = 0;
        }
        let policy = self.shared.times.policy;
        let hand_off = !state.suspended
            && state
                .waiters
                .front()
                .is_some_and(|oldest| policy.hands_off(oldest.queued_at()));
        if hand_off {
            if let Some(waiter) = state.waiters.pop_front() {
                let wakeup = waiter.grant(Grant::Conn(live));
                drop(state);
                return wakeup.wake();
            }
        }
        if config.max_cached.is_some_and(|max| state.idle.len() >= max) {
            drop(state);
            return refuse(live, CloseReason::OverCached);
        }
        let since = idle_since.unwrap_or(now);
        let expiry = self.expiry(&live, since);
        state.idle.push(Idle { live, since });
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

    #[inline]
    pub(super) fn expiry(&self, live: &Live<M::Connection>, idle_since: u64) -> Option<u64> {
        let times = &self.shared.times;
        let idle = times.max_idle.map(|d| idle_since.saturating_add(d));
        let age = live.expires;
        let earliest = match (idle, age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.shared.times.keepalive.is_none() {
            return earliest;
        }
        match (earliest, self.keepalive_due(live, idle_since)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// When an idle connection is next due for a keepalive ping: `keepalive` after it was
    /// last known to work or became idle, whichever is later.
    pub(super) fn keepalive_due(&self, live: &Live<M::Connection>, idle_since: u64) -> Option<u64> {
        let every = self.shared.times.keepalive?;
        Some(idle_since.max(live.validated).saturating_add(every))
    }
}
