//! Test support for dbpool-core's own tests.

pub mod counted;
pub mod fault_driver;

use std::time::{Duration, Instant};

use dbapi::Module;
use dbpool_core::Pool;

/// Generous bound for waiting on an event, so a bug fails the test instead of hanging it.
#[allow(dead_code)]
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A handshake on the pool's own state, not a sleep: spins until `n` callers are queued.
#[allow(dead_code)]
pub fn wait_until_waiting<M: Module>(pool: &Pool<M>, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while pool.waiting() < n {
        assert!(Instant::now() < deadline, "waiters never queued");
        std::thread::yield_now();
    }
}
