//! The fault injector: every 1–5 s, one fault of a random kind.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

use crate::server::SoakServer;

/// A small, seedable generator (xorshift64*): the soak prints its seed so a run can be
/// repeated.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// The kinds of fault, as named in the report.
pub const KINDS: [&str; 4] = [
    "sessions ended by the server (pg_terminate_backend, KILL CONNECTION)",
    "server restart",
    "session frozen (SIGSTOP) for less than the wait timeout",
    "connection limit squeezed below max_size (CONNECTION LIMIT, MAX_USER_CONNECTIONS)",
];

/// Runs faults until `stop`; the session ids being ended go to `ending` (the monitor leaves
/// them out of its count while they exit). Returns the faults injected by kind.
pub fn inject<S: SoakServer>(
    server: &Mutex<S>,
    stop: &AtomicBool,
    ending: &Mutex<Vec<i64>>,
    rng: &mut Rng,
    max_size: u32,
    freeze_for: Duration,
) -> BTreeMap<&'static str, u64> {
    let mut done: BTreeMap<&'static str, u64> = BTreeMap::new();
    let pause = |stop: &AtomicBool, duration: Duration| {
        // Sleeping is the point here (the pace of faults), checked often so stop is prompt.
        let step = Duration::from_millis(50);
        let mut left = duration;
        while !stop.load(SeqCst) && !left.is_zero() {
            let now = left.min(step);
            std::thread::sleep(now);
            left -= now;
        }
    };
    loop {
        pause(stop, Duration::from_millis(rng.between(1000, 5000)));
        if stop.load(SeqCst) {
            return done;
        }
        let kinds: Vec<usize> = (0..KINDS.len())
            .filter(|&k| k != 2 || S::CAN_FREEZE)
            .collect();
        let kind = kinds[usize::try_from(rng.next()).unwrap_or(0) % kinds.len()];
        match kind {
            0 => {
                let mut server = server.lock().expect("server");
                let count = usize::try_from(rng.between(1, 3)).unwrap_or(1);
                for id in server.backends().into_iter().take(count) {
                    ending.lock().expect("ending").push(id);
                    server.terminate(id);
                }
            }
            1 => {
                let mut server = server.lock().expect("server");
                ending.lock().expect("ending").extend(server.backends());
                server.restart();
            }
            2 => {
                let id = {
                    let mut server = server.lock().expect("server");
                    let backends = server.backends();
                    if backends.is_empty() {
                        continue;
                    }
                    let id = backends[usize::try_from(rng.next()).unwrap_or(0) % backends.len()];
                    if !server.freeze(id, true) {
                        continue;
                    }
                    id
                };
                // Thawed whatever happens, even when the soak is stopping.
                pause(&AtomicBool::new(false), freeze_for);
                server.lock().expect("server").freeze(id, false);
            }
            _ => {
                server.lock().expect("server").limit(Some(max_size / 2));
                pause(
                    &AtomicBool::new(false),
                    Duration::from_millis(rng.between(1000, 3000)),
                );
                server.lock().expect("server").limit(None);
            }
        }
        *done.entry(KINDS[kind]).or_default() += 1;
    }
}
