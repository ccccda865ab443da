//! Close and drain: connections leave the pool (discarded, expired, cleared), slots are
//! freed to waiters, and a closed pool drains.

use super::*;

impl<M: Module> Pool<M> {
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

    /// Soft eviction (SQLAlchemy's pool invalidation): every connection that exists now is
    /// marked old — idle ones are closed at once, checked-out ones when they come back — so
    /// no connection opened before this call is handed out again. For after a failover, a
    /// password change or a server-side setting that only new sessions see. New connections
    /// are opened as needed (and up to `min_size` by the maintenance thread).
    pub fn evict_all(&self) {
        let mut state = self.shared.state.lock();
        state.generation += 1;
        let idle = std::mem::take(&mut state.idle);
        state.open -= idle.len();
        let top_up = !state.closed && state.open < self.shared.config.min_size;
        drop(state);
        for entry in idle {
            self.close_live(entry.live, CloseReason::Evicted);
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

    /// Closes a connection that was checked out (or handed over) and frees its slot.
    #[cold]
    #[inline(never)]
    #[allow(clippy::boxed_local)] // callers hold the box; unboxing would copy the connection
    pub(crate) fn discard_live(&self, live: Live<M::Connection>, reason: CloseReason) {
        self.close_quietly(live.raw, reason);
        self.release_slot();
    }

    #[allow(clippy::boxed_local)] // callers hold the box; unboxing would copy the connection
    pub(super) fn close_live(&self, live: Live<M::Connection>, reason: CloseReason) {
        self.close_quietly(live.raw, reason);
    }

    pub(super) fn close_quietly(&self, mut raw: M::Connection, reason: CloseReason) {
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
    pub(super) fn release_slot(&self) {
        let mut state = self.shared.state.lock();
        state.open -= 1;
        // The oldest waiter opens a connection in it, when a connect may start now.
        let wakeups = self.serve_waiters_with_slots(&mut state);
        if state.closed && state.open == 0 {
            self.shared.drained.notify_all();
        }
        let top_up = !state.closed && state.open < self.shared.config.min_size;
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
        if top_up {
            self.schedule_maintenance(clock::precise());
        }
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
        pool.backoff_over(now);
        let mut expired = Vec::new();
        let mut to_ping = Vec::new();
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
            if pool
                .keepalive_due(&state.idle[index].live, since)
                .is_some_and(|due| now >= due)
            {
                // Out of the idle stack while it is pinged (still counted as open).
                to_ping.push(state.idle.remove(index));
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
        if !to_ping.is_empty() {
            pool.keep_alive(to_ping);
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
