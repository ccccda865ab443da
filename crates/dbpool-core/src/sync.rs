//! The synchronisation the pool's hand-off is built from — its locks, its condition variable
//! and thread parking — in one place, so that a model checker can stand in for it.
//!
//! Ordinary builds re-export `parking_lot` and `std::thread` here: nothing is wrapped, and
//! the shipped code pays nothing for the seam. Built with `--cfg dbpool_loom`
//! (`cargo xtask model`), the same pool code runs on [`loom`](https://docs.rs/loom)'s
//! models instead, and the tests in `tests/model.rs` explore every interleaving of small
//! scenarios (within a preemption bound). Loom does not model time, so under it a timed
//! park or wait is a yield followed by a time-out: the model explores the grant arriving
//! before the waiter looks, while it gives up, and after — the races a timeout adds.

#[cfg(not(dbpool_loom))]
pub(crate) use parking_lot::{Condvar, Mutex};

#[cfg(dbpool_loom)]
pub(crate) use self::model::{Condvar, Mutex};

/// Thread parking: how a blocked `get()` sleeps until its grant arrives.
pub(crate) mod thread {
    use std::time::Instant;

    #[cfg(dbpool_loom)]
    pub(crate) use loom::thread::{current, park, yield_now, Thread};
    #[cfg(not(dbpool_loom))]
    pub(crate) use std::thread::{current, park, yield_now, Thread};

    /// Parks until unparked (or spuriously woken), or until `deadline`. `true` when the
    /// deadline had passed before parking: the caller gives up.
    #[cfg(not(dbpool_loom))]
    #[inline]
    pub(crate) fn park_until(deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::park_timeout(deadline - now);
        false
    }

    /// Under the model: a yield (others may serve the waiter meanwhile), then the time-out.
    #[cfg(dbpool_loom)]
    pub(crate) fn park_until(_deadline: Instant) -> bool {
        yield_now();
        true
    }
}

/// `parking_lot`'s API over loom's `std`-shaped models, for the model-checking build.
#[cfg(dbpool_loom)]
mod model {
    use std::ops::{Deref, DerefMut};
    use std::sync::PoisonError;
    use std::time::Instant;

    /// A model lock (poisoning ignored, as `parking_lot` has none).
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap_or_else(PoisonError::into_inner)
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard {
                lock: &self.0,
                held: Some(self.0.lock().unwrap_or_else(PoisonError::into_inner)),
            }
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Self::new(T::default())
        }
    }

    /// A held model lock; `None` only inside [`Condvar::wait`].
    pub(crate) struct MutexGuard<'a, T> {
        lock: &'a loom::sync::Mutex<T>,
        held: Option<loom::sync::MutexGuard<'a, T>>,
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            match &self.held {
                Some(guard) => guard,
                None => unreachable!("a guard is only empty inside Condvar::wait"),
            }
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            match &mut self.held {
                Some(guard) => guard,
                None => unreachable!("a guard is only empty inside Condvar::wait"),
            }
        }
    }

    /// Whether a timed wait timed out.
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(&self) -> bool {
            self.0
        }
    }

    /// A model condition variable.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            if let Some(held) = guard.held.take() {
                guard.held = Some(self.0.wait(held).unwrap_or_else(PoisonError::into_inner));
            }
        }

        /// A yield with the lock released, then the time-out (loom does not model time).
        pub(crate) fn wait_until<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _deadline: Instant,
        ) -> WaitTimeoutResult {
            drop(guard.held.take());
            loom::thread::yield_now();
            guard.held = Some(guard.lock.lock().unwrap_or_else(PoisonError::into_inner));
            WaitTimeoutResult(true)
        }
    }
}
