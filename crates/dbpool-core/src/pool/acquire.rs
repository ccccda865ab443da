//! Acquire and wait: take an idle connection, reserve a slot, or queue as a waiter and wait
//! for a grant — the three steps every front-end drives.

use super::*;

/// What is free: a grant, with the time its connection went idle (if it was idle).
type Ready<C> = (Grant<C>, Option<u64>);

/// How often a newcomer to a barging pool yields its core before it queues and parks.
const YIELDS_BEFORE_PARKING: u32 = 3;

impl<M: Module> Pool<M> {
    /// A reported timeout error for a wait that began at `started`.
    pub(crate) fn timeout_now(&self, started: Instant) -> PoolError {
        let state = self.shared.state.lock();
        let err = self.timeout_error(&state, started);
        drop(state);
        self.report_timeout(err)
    }

    pub(crate) fn exhausted_error(&self) -> PoolError {
        PoolError::Exhausted {
            target: self.shared.target.clone(),
            max_size: self.shared.config.max_size,
        }
    }

    #[track_caller]
    #[inline]
    pub(super) fn get_inner(
        &self,
        timeout: Option<Duration>,
        blocking: bool,
        cleanup: Option<Cleanup<M::Connection>>,
    ) -> Result<PooledConnection<M>, PoolError> {
        let site = Location::caller();
        // The fast path: an idle connection that needs no validation, taken under one lock
        // with nothing else built or moved.
        if let Some((live, since)) = self.take_idle() {
            let live = if self.must_validate(&live, Some(since)) {
                self.finish_acquire(Grant::Conn(live), Some(since))?
            } else {
                live
            };
            return Ok(PooledConnection::new(self.clone(), live, cleanup, site));
        }
        self.get_waiting(timeout, blocking, cleanup, site)
    }

    /// Takes the most recently returned idle connection, with its idle-since time; `None`
    /// when there is none to take (empty, closed or suspended: the full path decides).
    #[inline]
    fn take_idle(&self) -> Option<(Live<M::Connection>, u64)> {
        let mut state = self.shared.state.lock();
        if state.closed || state.suspended {
            return None;
        }
        let Idle { live, since } = state.idle.pop()?;
        let wakeup = self.wake_next_retry(&mut state);
        drop(state);
        if let Some(wakeup) = wakeup {
            wakeup.wake();
        }
        Some((live, since))
    }

    /// Everything but the fast path: reserve a slot and connect, or queue and wait.
    #[inline(never)]
    fn get_waiting(
        &self,
        timeout: Option<Duration>,
        blocking: bool,
        cleanup: Option<Cleanup<M::Connection>>,
        site: &'static Location<'static>,
    ) -> Result<PooledConnection<M>, PoolError> {
        let mut requeue = None;
        let mut waiting_since: Option<Instant> = None;
        let mut yields = 0;
        let (grant, since) = loop {
            if blocking
                && requeue.is_none()
                && yields < YIELDS_BEFORE_PARKING
                && self.shared.times.policy.retries()
            {
                // A barging pool: give the holders (descheduled, when threads outnumber
                // cores) a moment to bring a connection back before parking; a yield costs
                // far less than a park and a wake-up.
                if let Some(ready) = self.try_free()? {
                    break ready;
                }
                yields += 1;
                thread::yield_now();
                continue;
            }
            let notify = Some(|| Notify::Thread(thread::current()));
            match self.start_acquire(notify, blocking, requeue)? {
                Start::Ready(grant, since) => break (grant, since),
                Start::Queued(waiter) => {
                    let started = *waiting_since.get_or_insert_with(Instant::now);
                    let deadline = timeout.and_then(|t| clock::deadline(started, t));
                    match self.wait_blocking(&waiter, deadline, started)? {
                        Grant::Retry => requeue = Some(waiter.queued_at()),
                        grant => break (grant, None),
                    }
                }
            }
        };
        if let Some(started) = waiting_since {
            self.record_wait(started.elapsed());
        }
        let live = match grant {
            // The fast path: an idle connection that needs no validation.
            Grant::Conn(live) if !self.must_validate(&live, since) => live,
            grant => self.finish_acquire(grant, since)?,
        };
        Ok(PooledConnection::new(self.clone(), live, cleanup, site))
    }

    /// Step 1: take an idle connection, reserve a slot, or queue a waiter (when `notify` is
    /// given and the pool may wait).
    pub(crate) fn start_acquire(
        &self,
        notify: Option<impl FnOnce() -> Notify>,
        may_wait: bool,
        requeue: Option<u64>,
    ) -> Result<Start<M::Connection>, PoolError> {
        let mut state = self.shared.state.lock();
        if state.closed {
            return Err(self.closed_error());
        }
        if requeue.is_some() {
            // This caller is the woken waiter of an eventually fair pool.
            state.retry_in_flight = false;
        }
        if let Some(((grant, since), wakeup)) = self.take_free(&mut state) {
            drop(state);
            if let Some(wakeup) = wakeup {
                wakeup.wake();
            }
            return Ok(Start::Ready(grant, since));
        }
        if let Some(failure) = self.failing_fast(&state) {
            // A server that is down: share the last failure rather than wait on nothing.
            return Err(failure);
        }
        match notify {
            Some(notify) if may_wait => {
                let waiter = match requeue {
                    Some(queued_at) => {
                        let waiter = Arc::new(Waiter::new(notify(), queued_at));
                        state.waiters.push_front(Arc::clone(&waiter));
                        waiter
                    }
                    None => {
                        // Precise: the policy's bound is measured from here.
                        let waiter = Arc::new(Waiter::new(notify(), clock::precise()));
                        state.waiters.push_back(Arc::clone(&waiter));
                        waiter
                    }
                };
                Ok(Start::Queued(waiter))
            }
            _ => Err(self.exhausted_error()),
        }
    }

    /// Takes an idle connection or reserves a slot, with the retry wake-up to pass on when
    /// more is free and others wait (deliver it once the lock is released).
    #[inline]
    fn take_free(
        &self,
        state: &mut State<M::Connection>,
    ) -> Option<(Ready<M::Connection>, Option<Wakeup>)> {
        if state.suspended {
            return None;
        }
        let ready = if let Some(idle) = state.idle.pop() {
            (Grant::Conn(idle.live), Some(idle.since))
        } else if self.reserve_connect(state) {
            (Grant::Slot, None)
        } else {
            return None;
        };
        Some((ready, self.wake_next_retry(state)))
    }

    /// A newcomer's try that never queues: `None` when nothing is free.
    #[inline]
    fn try_free(&self) -> Result<Option<Ready<M::Connection>>, PoolError> {
        let mut state = self.shared.state.lock();
        if state.closed {
            return Err(self.closed_error());
        }
        let Some((ready, wakeup)) = self.take_free(&mut state) else {
            return match self.failing_fast(&state) {
                Some(failure) => Err(failure),
                None => Ok(None),
            };
        };
        drop(state);
        if let Some(wakeup) = wakeup {
            wakeup.wake();
        }
        Ok(Some(ready))
    }

    /// In an eventually fair pool, wakes the oldest waiter to try again when something is
    /// free and no other wake-up is on its way (one at a time: no thundering herd).
    #[inline]
    pub(super) fn wake_next_retry(&self, state: &mut State<M::Connection>) -> Option<Wakeup> {
        if !self.shared.times.policy.retries() || state.waiters.is_empty() {
            return None;
        }
        self.wake_next_retry_slow(state)
    }

    #[cold]
    #[inline(never)]
    pub(super) fn wake_next_retry_slow(&self, state: &mut State<M::Connection>) -> Option<Wakeup> {
        let free = !state.idle.is_empty()
            || (state.open < self.shared.config.max_size
                && state.connecting < self.shared.config.max_connecting
                && (state.backoff_until == 0 || state.backoff_until <= clock::precise()));
        if state.retry_in_flight || !free || state.suspended {
            return None;
        }
        let waiter = state.waiters.pop_front()?;
        state.retry_in_flight = true;
        Some(waiter.grant(Grant::Retry))
    }

    /// A `Retry` grant was not used (its waiter gave up): pass it on.
    pub(super) fn pass_retry(&self) {
        let mut state = self.shared.state.lock();
        state.retry_in_flight = false;
        let wakeup = self.wake_next_retry(&mut state);
        drop(state);
        if let Some(wakeup) = wakeup {
            wakeup.wake();
        }
    }

    pub(super) fn wait_blocking(
        &self,
        waiter: &Arc<Waiter<Grant<M::Connection>>>,
        deadline: Option<Instant>,
        started: Instant,
    ) -> Result<Grant<M::Connection>, PoolError> {
        loop {
            if let Some(grant) = waiter.take_grant() {
                return Ok(grant);
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    if thread::park_until(deadline) {
                        return self.abandon_wait(waiter, started);
                    }
                }
            }
        }
    }

    /// Gives up waiting: leaves the queue, or — if a grant arrived meanwhile — takes it, so
    /// nothing handed to this waiter is lost.
    pub(crate) fn abandon_wait(
        &self,
        waiter: &Arc<Waiter<Grant<M::Connection>>>,
        started: Instant,
    ) -> Result<Grant<M::Connection>, PoolError> {
        let mut state = self.shared.state.lock();
        if let Some(pos) = state.waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            state.waiters.remove(pos);
            let err = self.timeout_error(&state, started);
            drop(state);
            return Err(self.report_timeout(err));
        }
        drop(state);
        // Not queued any more: it was served under the lock we just held, so the grant is
        // already stored.
        match waiter.take_grant() {
            Some(Grant::Retry) => {
                self.pass_retry();
                let state = self.shared.state.lock();
                let err = self.timeout_error(&state, started);
                drop(state);
                Err(self.report_timeout(err))
            }
            Some(grant) => Ok(grant),
            None => Err(self.closed_error()),
        }
    }

    /// The timeout error, built under the pool lock from its state.
    pub(super) fn timeout_error(
        &self,
        state: &State<M::Connection>,
        started: Instant,
    ) -> PoolError {
        PoolError::Timeout {
            target: self.shared.target.clone(),
            waited: started.elapsed(),
            max_size: self.shared.config.max_size,
            in_use: state.open - state.idle.len(),
            waiting: state.waiters.len(),
            last_connect_error: state.last_connect_error.clone(),
        }
    }

    /// Counts and reports a timeout, with the pool lock released (a hook may use the pool).
    pub(super) fn report_timeout(&self, err: PoolError) -> PoolError {
        self.shared.counters.timed_out();
        if let PoolError::Timeout { waited, .. } = &err {
            let waited = *waited;
            self.shared
                .config
                .hook
                .emit(|| PoolEvent::TimedOut { waited });
        }
        err
    }

    /// Cancels a queued or served acquisition (an async `get()` dropped mid-wait): whatever
    /// was granted goes back to the pool.
    pub(crate) fn cancel_wait(&self, waiter: &Arc<Waiter<Grant<M::Connection>>>) {
        let mut state = self.shared.state.lock();
        if let Some(pos) = state.waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            state.waiters.remove(pos);
            return;
        }
        drop(state);
        match waiter.take_grant() {
            Some(Grant::Conn(live)) => self.check_in(live),
            Some(Grant::Slot) => self.release_slot(),
            Some(Grant::Retry) => self.pass_retry(),
            Some(Grant::Closed | Grant::Failed(_)) | None => {}
        }
    }
}
