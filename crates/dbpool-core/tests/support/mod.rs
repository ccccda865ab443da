//! Test support for dbpool-core's own tests.

pub mod counted;
pub mod fault_driver;

use std::time::{Duration, Instant};

use dbapi::Module;
use dbpool_core::Pool;

/// Generous bound for waiting on an event, so a bug fails the test instead of hanging it.
#[allow(dead_code)]
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `done` (yielding, never sleeping) until it holds, failing after [`PATIENCE`].
#[allow(dead_code)]
pub fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::yield_now();
    }
}

/// A handshake on the pool's own state, not a sleep: spins until `n` callers are queued.
#[allow(dead_code)]
pub fn wait_until_waiting<M: Module>(pool: &Pool<M>, n: usize) {
    until("waiters queued", || pool.waiting() >= n);
}
