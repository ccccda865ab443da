//! Open and validate: a new connection in a reserved slot (under the connect timeout), and
//! idle connections checked before reuse when suspect or idle too long.

use super::*;

/// A well-mixed 64-bit value from `seed` (splitmix64), for `max_age` jitter.
pub(super) fn spread(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl<M: Module> Pool<M> {
    /// Step 3: turn a grant into a live connection, opening or validating as needed.
    pub(crate) fn finish_acquire(
        &self,
        grant: Grant<M::Connection>,
        idle_since: Option<u64>,
    ) -> Result<Live<M::Connection>, PoolError> {
        match grant {
            Grant::Closed | Grant::Retry => Err(self.closed_error()),
            Grant::Failed(failure) => Err(failure.to_error(self)),
            Grant::Slot => self.open_in_slot(),
            Grant::Conn(mut live) => {
                if !self.must_validate(&live, idle_since) {
                    return Ok(live);
                }
                if live.raw.ping().is_err() {
                    // Keep the slot; replace the connection.
                    self.after_disconnect();
                    self.close_quietly(live.raw, CloseReason::Broken);
                    return self.open_in_slot();
                }
                // Precise, so a validated connection is never older than a later suspicion.
                live.validated = clock::precise().max(1);
                Ok(live)
            }
        }
    }

    /// Opens a connection in a slot already counted in `open`.
    pub(super) fn open_in_slot(&self) -> Result<Live<M::Connection>, PoolError> {
        let shared = &self.shared;
        let late_pool = self.clone();
        let outcome = connector::connect(
            Arc::clone(&shared.module),
            shared.config.connect_timeout,
            Arc::clone(&shared.init_sql),
            move |conn| {
                late_pool.shared.counters.connect_failed();
                if conn.is_some() {
                    late_pool.shared.config.hook.emit(|| PoolEvent::Connected);
                }
                if let Some(conn) = conn {
                    late_pool.close_quietly(conn, CloseReason::LateConnect);
                }
                late_pool.late_connect_finished();
            },
        );
        match outcome {
            Connected::Ok(raw) => {
                self.connect_succeeded();
                shared.counters.created();
                shared.config.hook.emit(|| PoolEvent::Connected);
                let now = self.now();
                let times = &shared.times;
                let jitter = match times.max_age_jitter {
                    0 => 0,
                    span => spread(now ^ shared.counters.created_so_far()) % span.saturating_add(1),
                };
                // Opened now: of the generation current now (an eviction that ran while it
                // was connecting does not concern it).
                let generation = shared.state.lock().generation;
                Ok(Box::new(Conn {
                    raw,
                    expires: times
                        .max_age
                        .map(|age| now.saturating_add(age.saturating_sub(jitter))),
                    validated: now.max(1),
                    uses: 0,
                    generation,
                    checkout: Checkout::none(),
                }))
            }
            Connected::Failed(source) => {
                shared.counters.connect_failed();
                shared
                    .config
                    .hook
                    .emit_ref(&PoolEvent::ConnectFailed { error: &source });
                shared.state.lock().last_connect_error = Some(source.to_string());
                self.connect_failed(&source, true);
                Err(PoolError::Connect {
                    target: shared.target.clone(),
                    source,
                })
            }
            Connected::TimedOut => {
                let timeout = shared.config.connect_timeout.unwrap_or_default();
                shared
                    .config
                    .hook
                    .emit(|| PoolEvent::ConnectTimedOut { timeout });
                let message = format!("connect timed out after {timeout:?}");
                shared.state.lock().last_connect_error = Some(message.clone());
                // Still in flight (the driver has not returned): its slot stays reserved.
                self.connect_failed(&dbapi::Error::operational(message), false);
                Err(PoolError::ConnectTimeout {
                    target: shared.target.clone(),
                    timeout,
                })
            }
        }
    }

    /// Whether an idle connection must be pinged before it is handed out: it is suspect
    /// (another connection was found dead since it was last known good) or idle longer
    /// than `test_on_checkout`.
    #[inline]
    pub(crate) fn must_validate(
        &self,
        live: &Live<M::Connection>,
        idle_since: Option<u64>,
    ) -> bool {
        if live.validated == 0 {
            return true;
        }
        match self.shared.times.check_window {
            None => false,
            Some(window) => {
                idle_since.is_some_and(|since| self.now().saturating_sub(since) >= window)
            }
        }
    }

    /// Pings idle connections on a thread of its own (the maintenance thread never waits on
    /// a driver): those that answer go back to the idle stack, idle since when they were
    /// before; the others are closed.
    pub(super) fn keep_alive(&self, entries: Vec<Idle<M::Connection>>) {
        let batch = Arc::new(Mutex::new(entries));
        let (pool, for_thread) = (self.clone(), Arc::clone(&batch));
        let spawned = std::thread::Builder::new()
            .name("dbpool-keepalive".to_owned())
            .spawn(move || {
                let entries = std::mem::take(&mut *for_thread.lock());
                for Idle { mut live, since } in entries {
                    let pinged =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| live.raw.ping()));
                    if matches!(pinged, Ok(Ok(()))) {
                        live.validated = clock::precise().max(1);
                        pool.check_in_idle_since(live, Some(since));
                    } else {
                        pool.after_disconnect();
                        pool.discard_live(live, CloseReason::Broken);
                    }
                }
            });
        if spawned.is_err() {
            // No thread to ping on: back to the idle stack unpinged, never lost.
            for Idle { live, since } in std::mem::take(&mut *batch.lock()) {
                self.check_in_idle_since(live, Some(since));
            }
        }
    }

    /// A connection turned out dead: evict every connection that exists now
    /// ([`crate::Builder::evict_on_disconnect`]), or make the older ones suspect.
    pub(super) fn after_disconnect(&self) {
        if self.shared.config.evict_on_disconnect {
            self.evict_all();
        } else {
            self.suspect_older();
        }
    }

    /// A connection turned out dead: every connection not validated since is suspect, and
    /// is pinged before its next use (HikariCP evicts them; pinging keeps the live ones).
    #[cold]
    #[inline(never)]
    pub(super) fn suspect_older(&self) {
        // Precise: a connection opened in the same coarse tick before the failure is suspect
        // too (at worst one needless ping for one opened just after it). Checked-out ones
        // are marked when they come back.
        let now = clock::precise();
        let mut state = self.shared.state.lock();
        state.suspect_before = state.suspect_before.max(now);
        for entry in &mut state.idle {
            entry.live.validated = 0;
        }
    }

    /// Opens connections until `min_size` are open (on a thread of its own, so the shared
    /// maintenance thread never waits on a driver).
    pub(super) fn top_up(&self) {
        let pool = self.clone();
        let _ = std::thread::Builder::new()
            .name("dbpool-top-up".to_owned())
            .spawn(move || loop {
                {
                    let mut state = pool.shared.state.lock();
                    if state.closed
                        || state.open >= pool.shared.config.min_size
                        || !pool.reserve_connect(&mut state)
                    {
                        // Done, or connects are held back: the maintenance thread calls
                        // again when the backoff ends.
                        return;
                    }
                }
                if let Ok(live) = pool.open_in_slot() {
                    pool.check_in(live);
                } else {
                    // The failure set a backoff; the maintenance thread retries after it.
                    return;
                }
            });
    }
}
