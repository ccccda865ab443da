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

/// Where events go: the optional hook and the log, cheap to test for.
#[derive(Clone, Default)]
pub(crate) struct Hook {
    hook: Option<EventHook>,
    /// The pool's target, for log lines (set when the pool is built).
    target: Arc<str>,
    /// The pool's name, for metrics labels (its target unless the builder names it).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) name: Arc<str>,
    /// Waits at least this long are logged as slow.
    pub(crate) slow_wait: Duration,
}

impl Hook {
    pub(crate) fn new(hook: EventHook) -> Self {
        Self {
            hook: Some(hook),
            ..Self::default()
        }
    }

    /// No hook; waits from `slow_wait` on are logged as slow.
    pub(crate) fn with_slow_wait(slow_wait: Duration) -> Self {
        Self {
            slow_wait,
            ..Self::default()
        }
    }

    /// Names the pool in log lines (by its target) and metrics (by `name`, else its target).
    pub(crate) fn set_names(&mut self, target: &str, name: Option<&str>) {
        self.target = target.into();
        self.name = name.unwrap_or(target).into();
    }

    /// Reports `event` to the hook and the log, building it only if one of them wants it;
    /// a panicking hook is contained.
    pub(crate) fn emit(&self, event: impl FnOnce() -> PoolEvent<'static>) {
        if self.hook.is_some() || crate::logging::enabled() || cfg!(feature = "metrics") {
            self.emit_ref(&event());
        }
    }

    /// As [`Hook::emit`], for events that borrow.
    pub(crate) fn emit_ref(&self, event: &PoolEvent<'_>) {
        #[cfg(feature = "metrics")]
        crate::instruments::record(&self.name, event);
        if crate::logging::enabled() {
            crate::logging::log(&self.target, self.slow_wait, event);
        }
        if let Some(hook) = &self.hook {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(event)));
        }
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.hook.is_some() {
            "Some(..)"
        } else {
            "None"
        })
    }
}
