//! [`Relay`]: the waker a session's calls are polled with.
//!
//! The client hands each request to the connection through a channel, and the connection
//! hands each reply back through another; each hand-over wakes the task that polls them —
//! the very poll that is running. Given to tokio, such a wake makes its scheduler yield to
//! the I/O driver (an `epoll_wait` that cannot find anything) before it polls again, once
//! per request. The relay notes the wake instead, and the poll makes another pass at once.
//! A wake from anywhere else (the I/O driver, with the poll parked) goes on to tokio.
//!
//! Under a multi-threaded runtime a wake can come from another thread while a pass runs,
//! or just as it ends: one atomic state decides, so such a wake is either seen by the pass
//! or passed on, never lost.

use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// The most passes one poll makes before it leaves the rest to the scheduler: a future that
/// keeps waking itself (tokio's cooperative budget running out does) must get back to it.
const MOST_PASSES: usize = 4;

/// Polls a session's calls, turning the wakes they make of themselves into passes.
pub(crate) struct Relay {
    shared: Arc<Shared>,
    waker: Waker,
}

/// No pass runs: a wake goes to the scheduler.
const IDLE: u8 = 0;
/// A pass runs: a wake is noted for it.
const POLLING: u8 = 1;
/// A pass runs and something woke the poll meanwhile: another pass follows.
const WOKEN: u8 = 2;

struct Shared {
    /// [`IDLE`], [`POLLING`] or [`WOKEN`].
    state: AtomicU8,
    /// The scheduler's waker, for wakes that come while no pass runs.
    outer: Mutex<Option<Waker>>,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Noted for the running pass, or already noted; only with no pass running does the
        // wake go on.
        if self.state.compare_exchange(POLLING, WOKEN, SeqCst, SeqCst) == Err(IDLE) {
            if let Some(outer) = &*self.outer.lock().unwrap_or_else(PoisonError::into_inner) {
                outer.wake_by_ref();
            }
        }
    }
}

impl Relay {
    pub(crate) fn new() -> Self {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(IDLE),
            outer: Mutex::new(None),
        });
        Self {
            waker: Waker::from(Arc::clone(&shared)),
            shared,
        }
    }

    /// Runs `pass` with the relay's waker until it is ready or made no wake of itself (at
    /// most [`MOST_PASSES`] times; then the scheduler is woken to poll again).
    pub(crate) fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        mut pass: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        {
            let mut outer = self
                .shared
                .outer
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !outer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *outer = Some(cx.waker().clone());
            }
        }
        let mut inner = Context::from_waker(&self.waker);
        for _ in 0..MOST_PASSES {
            self.shared.state.store(POLLING, SeqCst);
            let polled = pass(&mut inner);
            let woken = self.shared.state.swap(IDLE, SeqCst) == WOKEN;
            if polled.is_ready() || !woken {
                return polled;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts the wakes it gets.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    /// Polls `pass` through a new relay, with an outer waker that counts its wakes.
    fn poll<T>(pass: impl FnMut(&mut Context<'_>) -> Poll<T>) -> (Poll<T>, Arc<Counter>) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let polled = Relay::new().poll(&mut Context::from_waker(&waker), pass);
        (polled, counter)
    }

    #[test]
    fn a_wake_made_during_a_pass_is_another_pass_not_a_wake_of_the_scheduler() {
        let mut passes = 0;
        let (polled, outer) = poll(|inner| {
            passes += 1;
            if passes < 3 {
                inner.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(passes)
            }
        });
        assert_eq!(polled, Poll::Ready(3));
        assert_eq!(outer.0.load(SeqCst), 0);
    }

    #[test]
    fn a_pass_without_a_wake_leaves_the_poll_pending_and_a_later_wake_reaches_the_scheduler() {
        let mut kept = None;
        let (polled, outer) = poll(|inner| {
            kept = Some(inner.waker().clone());
            Poll::<()>::Pending
        });
        assert_eq!(polled, Poll::Pending);
        assert_eq!(outer.0.load(SeqCst), 0);
        kept.expect("registered").wake();
        assert_eq!(outer.0.load(SeqCst), 1, "woken while no pass runs");
    }

    #[test]
    fn a_wake_from_another_thread_as_a_pass_ends_is_never_lost() {
        for round in 0..500 {
            let counter = Arc::new(Counter(AtomicUsize::new(0)));
            let waker = Waker::from(Arc::clone(&counter));
            let start = Arc::new(std::sync::Barrier::new(2));
            let mut passes = 0;
            let mut waking = None;
            let polled = Relay::new().poll(&mut Context::from_waker(&waker), |inner| {
                passes += 1;
                if passes == 1 {
                    let (waker, other) = (inner.waker().clone(), Arc::clone(&start));
                    waking = Some(std::thread::spawn(move || {
                        other.wait();
                        waker.wake();
                    }));
                    // The wake now races the end of this pass.
                    start.wait();
                }
                Poll::<()>::Pending
            });
            waking.expect("spawned").join().expect("the waking thread");
            assert_eq!(polled, Poll::Pending);
            assert!(
                passes > 1 || counter.0.load(SeqCst) == 1,
                "round {round}: the wake reached neither a pass nor the scheduler"
            );
        }
    }

    #[test]
    fn a_pass_that_always_wakes_itself_goes_back_to_the_scheduler() {
        let mut passes = 0;
        let (polled, outer) = poll(|inner| {
            passes += 1;
            inner.waker().wake_by_ref();
            Poll::<()>::Pending
        });
        assert_eq!(polled, Poll::Pending);
        assert_eq!(passes, MOST_PASSES);
        assert_eq!(outer.0.load(SeqCst), 1, "the scheduler polls again");
    }
}
