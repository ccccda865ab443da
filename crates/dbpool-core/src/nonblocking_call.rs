//! [`NativeCall`]: a statement an [`crate::AsyncConnection`] runs through its driver's
//! [`Nonblocking`] face, in the calling task, with the guard's bookkeeping.

use dbapi::{Error, Module, Nonblocking, Result};

use crate::PooledConnection;

/// One call through the driver's [`Nonblocking`] face. Dropped before
/// [`finish`](NativeCall::finish) — its future cancelled mid-statement — it marks the
/// connection broken: what the driver had sent is unknown, so the pool closes it on return.
pub(crate) struct NativeCall<'g, M: Module> {
    guard: &'g mut PooledConnection<M>,
    finished: bool,
}

impl<'g, M: Module> NativeCall<'g, M> {
    /// A call on `guard`'s connection, when its driver can run one on the executor polling
    /// now; `statement` counts toward `max_usage`.
    pub(crate) fn start(guard: &'g mut PooledConnection<M>, statement: bool) -> Option<Self> {
        guard.nonblocking_face(statement)?;
        Some(Self {
            guard,
            finished: false,
        })
    }

    /// The driver's face, to make the call with.
    ///
    /// # Errors
    /// An Internal error if the driver stopped offering it (a driver bug).
    pub(crate) fn face(&mut self) -> Result<&mut dyn Nonblocking> {
        self.guard.nonblocking_face(false).ok_or_else(|| {
            Error::new(
                dbapi::ErrorKind::Internal,
                "the driver withdrew its nonblocking face during a call",
            )
        })
    }

    /// The call's outcome; an error proving the connection dead marks it broken.
    pub(crate) fn finish<T>(mut self, result: Result<T>) -> Result<T> {
        self.finished = true;
        self.guard.watch(result)
    }
}

impl<M: Module> Drop for NativeCall<'_, M> {
    fn drop(&mut self) {
        if !self.finished {
            self.guard.mark_broken();
        }
    }
}
