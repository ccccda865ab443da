//! Event hooks: what happened in a pool, reported from its slow paths only (a get or put
//! served from the idle stack reports nothing), and leak detection.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::CloseReason;

/// Something that happened in a pool, passed to the hook set with
/// [`crate::Builder::on_event`].
#[derive(Debug)]
#[non_exhaustive]
pub enum PoolEvent<'a> {
    /// A new connection was opened.
    Connected,
    /// Opening a connection failed.
    ConnectFailed {
        /// The driver's error.
        error: &'a dbapi::Error,
    },
    /// Opening a connection took longer than `connect_timeout`.
    ConnectTimedOut {
        /// The configured timeout.
        timeout: Duration,
    },
    /// A connection was closed.
    Closed {
        /// Why.
        reason: CloseReason,
    },
    /// A `get()` waited for a connection and got one.
    Waited {
        /// How long it waited.
        waited: Duration,
    },
    /// A `get()` gave up after the wait timeout.
    TimedOut {
        /// How long it waited.
        waited: Duration,
    },
    /// A connection has been checked out longer than the leak-detection threshold.
    LeakSuspected {
        /// Where it was checked out.
        checked_out_at: &'static Location<'static>,
        /// How long it has been out.
        held: Duration,
    },
}

/// The hook: called on the thread where the event happens, never with the pool lock held.
pub type EventHook = Arc<dyn Fn(&PoolEvent<'_>) + Send + Sync>;

/// An optional hook, cheap to test for.
#[derive(Clone, Default)]
pub(crate) struct Hook(Option<EventHook>);

impl Hook {
    pub(crate) fn new(hook: EventHook) -> Self {
        Self(Some(hook))
    }

    /// Reports `event` if a hook is set; a panicking hook is contained.
    pub(crate) fn emit(&self, event: impl FnOnce() -> PoolEvent<'static>) {
        if let Some(hook) = &self.0 {
            let event = event();
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&event)));
        }
    }

    /// As [`Hook::emit`], for events that borrow.
    pub(crate) fn emit_ref(&self, event: &PoolEvent<'_>) {
        if let Some(hook) = &self.0 {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(event)));
        }
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}
