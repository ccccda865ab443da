//! Suspend and resume (HikariCP's `suspendPool`): a maintenance window during which nothing
//! is handed out, while connections already out finish their work.

use super::*;

impl<M: Module> Pool<M> {
    /// Stops handing out connections: new [`Pool::get`] calls wait (up to their timeout; a
    /// non-blocking pool fails at once) and [`Pool::try_get`] finds nothing, while
    /// checked-out connections finish and come back to the idle stack. For maintenance
    /// windows: a failover, a schema change. [`Pool::resume`] serves the waiters.
    pub fn suspend(&self) {
        self.shared.state.lock().suspended = true;
    }

    /// Hands out connections again, first to the callers that waited, in their order.
    pub fn resume(&self) {
        let mut state = self.shared.state.lock();
        if !state.suspended {
            return;
        }
        state.suspended = false;
        let mut wakeups = Vec::new();
        while !state.waiters.is_empty() {
            let grant = if let Some(idle) = state.idle.pop() {
                Grant::Conn(idle.live)
            } else if self.reserve_connect(&mut state) {
                Grant::Slot
            } else {
                break;
            };
            if let Some(waiter) = state.waiters.pop_front() {
                wakeups.push(waiter.grant(grant));
            }
        }
        drop(state);
        wakeups.into_iter().for_each(Wakeup::wake);
    }

    /// Whether the pool is [suspended](Pool::suspend).
    #[must_use]
    pub fn is_suspended(&self) -> bool {
        self.shared.state.lock().suspended
    }
}
