//! A caller waiting for a connection: a parked thread or an async task's `Waker`.
//!
//! The pool hands a waiter its grant (a connection, or a free slot to open one in) while
//! holding the pool lock, so a waiter that gives up can tell, under the same lock, whether it
//! is still queued (remove itself) or was already served (take what it was given). No grant
//! is ever lost, and no wake-up: the grant is stored before the wake.

use crate::sync::thread::Thread;
use crate::sync::Mutex;
use std::task::Waker;

/// How to wake a waiter.
#[derive(Debug)]
pub(crate) enum Notify {
    /// A thread blocked in `get()`: unparked.
    Thread(Thread),
    /// An async task: its latest waker is woken.
    Waker(Option<Waker>),
}

/// A wake-up to deliver after the pool lock is released.
#[must_use]
pub(crate) struct Wakeup(Option<Notify>);

impl Wakeup {
    pub(crate) fn wake(self) {
        match self.0 {
            Some(Notify::Thread(thread)) => thread.unpark(),
            Some(Notify::Waker(Some(waker))) => waker.wake(),
            Some(Notify::Waker(None)) | None => {}
        }
    }
}

#[derive(Debug)]
struct Slot<G> {
    grant: Option<G>,
    notify: Notify,
}

/// One queued caller.
#[derive(Debug)]
pub(crate) struct Waiter<G> {
    slot: Mutex<Slot<G>>,
    queued_at: u64,
}

impl<G> Waiter<G> {
    /// A waiter queued at `queued_at` (clock nanoseconds; kept when it re-queues).
    pub(crate) fn new(notify: Notify, queued_at: u64) -> Self {
        Self {
            slot: Mutex::new(Slot {
                grant: None,
                notify,
            }),
            queued_at,
        }
    }

    /// When this caller first queued.
    pub(crate) fn queued_at(&self) -> u64 {
        self.queued_at
    }

    /// Stores the grant (called with the pool lock held) and returns the wake-up to deliver
    /// once that lock is released.
    pub(crate) fn grant(&self, grant: G) -> Wakeup {
        let mut slot = self.slot.lock();
        slot.grant = Some(grant);
        Wakeup(Some(match &mut slot.notify {
            Notify::Thread(thread) => Notify::Thread(thread.clone()),
            Notify::Waker(waker) => Notify::Waker(waker.take()),
        }))
    }

    /// Takes the grant if it has arrived.
    pub(crate) fn take_grant(&self) -> Option<G> {
        self.slot.lock().grant.take()
    }

    /// For async waiters: takes the grant, or registers `waker` to be woken when it arrives.
    pub(crate) fn take_grant_or_register(&self, waker: &Waker) -> Option<G> {
        let mut slot = self.slot.lock();
        if let Some(grant) = slot.grant.take() {
            return Some(grant);
        }
        match &mut slot.notify {
            Notify::Waker(Some(old)) if old.will_wake(waker) => {}
            notify => *notify = Notify::Waker(Some(waker.clone())),
        }
        None
    }
}
