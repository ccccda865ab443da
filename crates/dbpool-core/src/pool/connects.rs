//! Connect attempts: at most `max_connecting` in flight, one failure shared by the callers
//! waiting on it, and an exponential backoff with jitter before the next attempt — so a
//! server that is down (or refusing) sees a trickle of attempts, not a storm, and the pool
//! recovers within one backoff interval of its return.

use super::*;

/// The error's kind, message, SQLSTATE, code and disconnect flag, without its source.
fn detached(error: &dbapi::Error) -> dbapi::Error {
    let mut copy =
        dbapi::Error::new(error.kind(), error.message()).with_disconnect(error.is_disconnect());
    if let Some(sqlstate) = error.sqlstate() {
        copy = copy.with_sqlstate(sqlstate);
    }
    if let Some(code) = error.native_code() {
        copy = copy.with_native_code(code);
    }
    copy
}

/// A connect failure shared by the callers waiting on it.
#[derive(Clone)]
pub(crate) struct Failure {
    error: Arc<dbapi::Error>,
    /// The attempt timed out (callers get [`PoolError::ConnectTimeout`]).
    timed_out: bool,
}

impl Failure {
    /// This failure as one caller's error.
    pub(super) fn to_error<M: Module>(&self, pool: &Pool<M>) -> PoolError {
        let target = pool.shared.target.clone();
        if self.timed_out {
            PoolError::ConnectTimeout {
                target,
                timeout: pool.shared.config.connect_timeout.unwrap_or_default(),
            }
        } else {
            PoolError::Connect {
                target,
                source: detached(&self.error).with_source(Arc::clone(&self.error)),
            }
        }
    }
}

impl<M: Module> Pool<M> {
    /// Whether a connect may start at `now` (under the lock): a slot is free, fewer than
    /// `max_connecting` are in flight, and no backoff runs.
    fn may_connect(&self, state: &State<M::Connection>, now: u64) -> bool {
        state.open < self.shared.config.max_size
            && state.connecting < self.shared.config.max_connecting
            && now >= state.backoff_until
    }

    /// Reserves a slot for a connect when one may start (under the lock). Out of line: a
    /// get served from the idle stack never comes here.
    #[cold]
    #[inline(never)]
    pub(super) fn reserve_connect(&self, state: &mut State<M::Connection>) -> bool {
        let now = if state.backoff_until == 0 {
            0
        } else {
            clock::precise()
        };
        if !self.may_connect(state, now) {
            return false;
        }
        state.open += 1;
        state.connecting += 1;
        true
    }

    /// Hands slots to the oldest waiters while connects may start (under the lock); the
    /// wake-ups are delivered once the lock is released.
    pub(super) fn serve_waiters_with_slots(&self, state: &mut State<M::Connection>) -> Vec<Wakeup> {
        let mut wakeups = Vec::new();
        while !state.suspended && !state.waiters.is_empty() && self.reserve_connect(state) {
            if let Some(waiter) = state.waiters.pop_front() {
                wakeups.push(waiter.grant(Grant::Slot));
            }
        }
        wakeups
    }

    /// The last connect failure, for a caller that cannot be served until the backoff ends:
    /// nothing is open (nothing can come back) and no attempt may start.
    pub(super) fn failing_fast(&self, state: &State<M::Connection>) -> Option<PoolError> {
        let failure = state.last_failure.as_ref()?;
        let nothing_open = state.open == 0;
        (nothing_open && state.backoff_until > clock::precise()).then(|| failure.to_error(self))
    }

    /// A connect attempt opened a connection: the backoff ends, and waiters held back by
    /// the in-flight limit may connect.
    pub(super) fn connect_succeeded(&self) {
        let mut state = self.shared.state.lock();
        state.connecting = state.connecting.saturating_sub(1);
        state.failures = 0;
        state.backoff_until = 0;
        state.backoff_interval = 0;
        state.last_failure = None;
        let wakeups = self.serve_waiters_with_slots(&mut state);
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
    }

    /// A connect attempt failed (or timed out: `finished` is false while the driver is
    /// still connecting, and its slot stays reserved until it returns). From the second
    /// failure in a row, the next attempt waits out a backoff — doubling from `connect_backoff`'s first interval up to its
    /// maximum, less a random tenth — and the waiters that nothing can serve meanwhile get
    /// this failure.
    pub(super) fn connect_failed(&self, error: &dbapi::Error, finished: bool) {
        let failure = Failure {
            error: Arc::new(detached(error)),
            timed_out: !finished,
        };
        let (first, most) = (
            clock::span(self.shared.config.connect_backoff.0),
            clock::span(self.shared.config.connect_backoff.1),
        );
        let mut state = self.shared.state.lock();
        if finished {
            state.connecting = state.connecting.saturating_sub(1);
            state.open -= 1;
        }
        state.failures = state.failures.saturating_add(1);
        if state.failures < 2 {
            // One failure may be a blip: the next caller tries again at once, as eventlet's
            // pool does; from the second failure in a row the server is taken to be down.
            let wakeups = self.serve_waiters_with_slots(&mut state);
            if state.closed && state.open == 0 {
                self.shared.drained.notify_all();
            }
            drop(state);
            wakeups.into_iter().for_each(Wakeup::wake);
            return;
        }
        let interval = if state.backoff_interval == 0 {
            first
        } else {
            state.backoff_interval.saturating_mul(2).min(most)
        };
        let now = clock::precise();
        let jitter = open::spread(now) % (interval / 10 + 1);
        state.backoff_interval = interval;
        state.backoff_until = now.saturating_add(interval - jitter);
        state.last_failure = Some(failure.clone());
        let until = state.backoff_until;
        let mut wakeups = Vec::new();
        if state.open == state.connecting {
            // Nothing open can come back to them: they share this outcome.
            while let Some(waiter) = state.waiters.pop_front() {
                wakeups.push(waiter.grant(Grant::Failed(failure.clone())));
            }
        }
        if state.closed && state.open == 0 {
            self.shared.drained.notify_all();
        }
        let retry = !state.closed;
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
        if retry {
            // Waiters (and min_size) get their next attempt when the backoff ends.
            self.schedule_maintenance(until);
        }
    }

    /// A connect that had timed out returned (its connection, if any, was closed): its slot
    /// is free and no longer in flight.
    pub(super) fn late_connect_finished(&self) {
        let mut state = self.shared.state.lock();
        state.connecting = state.connecting.saturating_sub(1);
        state.open -= 1;
        if state.closed && state.open == 0 {
            self.shared.drained.notify_all();
        }
        let wakeups = self.serve_waiters_with_slots(&mut state);
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
    }

    /// At the end of a backoff (from the maintenance thread): waiters may connect again.
    pub(super) fn backoff_over(&self, now: u64) {
        let mut state = self.shared.state.lock();
        if state.backoff_until == 0 || now < state.backoff_until {
            return;
        }
        let wakeups = self.serve_waiters_with_slots(&mut state);
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
    }
}
