//! [`OwnRuntime`]: the single-threaded tokio runtime a connection's blocking calls run on.

use std::future::Future;
use std::pin::pin;

use tokio::runtime::{Handle, Runtime};

/// A connection's own runtime. Dropped inside another runtime — a connection dropped in an
/// async task — it shuts down without waiting (tokio forbids blocking there), instead of
/// panicking.
pub(crate) struct OwnRuntime(Option<Runtime>);

impl OwnRuntime {
    /// A current-thread runtime with I/O and timers.
    pub(crate) fn new() -> std::io::Result<Self> {
        tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map(|runtime| Self(Some(runtime)))
    }

    /// Runs `future` to completion on this thread, turning the runtime's I/O meanwhile.
    ///
    /// # Panics
    /// Inside another runtime's task, as [`Runtime::block_on`] does: blocking calls belong
    /// on threads (async callers use [`dbapi::Nonblocking`]).
    #[inline]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        // Pinned here, so tokio moves a pointer, not the future: a cursor's is kilobytes.
        let future = pin!(future);
        match &self.0 {
            Some(runtime) => runtime.block_on(future),
            None => unreachable!("the runtime is only taken by drop"),
        }
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            if Handle::try_current().is_ok() {
                runtime.shutdown_background();
            }
        }
    }
}
