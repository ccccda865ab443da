//! One maintenance thread for every pool of the process: it sleeps until the earliest
//! deadline any pool asked for (an idle connection's expiry, a top-up to `min_size`, an async
//! waiter's timeout), does what is due, and sleeps again. No thread per pool, no polling loop.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Weak;
use std::task::Waker;
use std::time::Instant;

use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};

use crate::clock;

/// A pool as the maintenance thread sees it.
pub(crate) trait Maintained: Send + Sync {
    /// Expires idle connections, starts top-ups, and returns the next deadline, if any
    /// (times in [`clock`] nanoseconds).
    fn maintain(&self, now: u64) -> Option<u64>;
}

/// What is due at a deadline.
enum Task {
    /// A pool's maintenance.
    Pool(Weak<dyn Maintained>),
    /// An async waiter's timeout: wake its task so it sees the deadline has passed.
    Wake(Waker),
}

struct Entry {
    deadline: u64,
    seq: u64,
    task: Task,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

struct Schedule {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Maintenance {
    schedule: Mutex<Schedule>,
    changed: Condvar,
}

/// Built for the model checker (`--cfg dbpool_loom`): no maintenance thread and no timers,
/// which loom cannot model; the model covers the hand-off, with time frozen.
const MODEL_CHECKED: bool = cfg!(dbpool_loom);

/// Pools alive in the process: while there are any, the thread keeps the coarse clock fresh.
static POOLS_ALIVE: AtomicUsize = AtomicUsize::new(0);

static MAINTENANCE: Lazy<&'static Maintenance> = Lazy::new(|| {
    let maintenance: &'static Maintenance = Box::leak(Box::new(Maintenance {
        schedule: Mutex::new(Schedule {
            heap: BinaryHeap::new(),
            seq: 0,
        }),
        changed: Condvar::new(),
    }));
    // If the thread cannot be spawned, pools still work; idle connections then expire only
    // when checked (on return and checkout).
    let _ = std::thread::Builder::new()
        .name("dbpool-maintenance".to_owned())
        .spawn(move || maintenance.run());
    maintenance
});

/// A pool was built: start the thread if needed and keep the coarse clock fresh.
pub(crate) fn pool_created() {
    POOLS_ALIVE.fetch_add(1, SeqCst);
    clock::tick();
    if MODEL_CHECKED {
        return;
    }
    let maintenance = *MAINTENANCE;
    maintenance.changed.notify_one();
}

/// A pool was dropped.
pub(crate) fn pool_dropped() {
    POOLS_ALIVE.fetch_sub(1, SeqCst);
}

/// Asks the maintenance thread to call `pool.maintain` at `deadline`.
pub(crate) fn schedule(deadline: u64, pool: Weak<dyn Maintained>) {
    push(deadline, Task::Pool(pool));
}

/// Asks the maintenance thread to wake `waker` at `deadline` (async wait timeouts, without
/// depending on any runtime's timer).
pub(crate) fn wake_at(deadline: Instant, waker: Waker) {
    push(clock::nanos(deadline), Task::Wake(waker));
}

fn push(deadline: u64, task: Task) {
    if MODEL_CHECKED {
        return;
    }
    let maintenance = *MAINTENANCE;
    let mut schedule = maintenance.schedule.lock();
    schedule.seq += 1;
    let seq = schedule.seq;
    let earliest = schedule
        .heap
        .peek()
        .is_none_or(|Reverse(first)| deadline < first.deadline);
    schedule.heap.push(Reverse(Entry {
        deadline,
        seq,
        task,
    }));
    drop(schedule);
    if earliest {
        maintenance.changed.notify_one();
    }
}

impl Maintenance {
    fn run(&self) {
        let mut schedule = self.schedule.lock();
        loop {
            let now = clock::tick();
            let first = schedule.heap.peek().map(|Reverse(first)| first.deadline);
            match first {
                Some(deadline) if deadline <= now => {
                    let Some(Reverse(entry)) = schedule.heap.pop() else {
                        continue;
                    };
                    drop(schedule);
                    match entry.task {
                        Task::Wake(waker) => waker.wake(),
                        Task::Pool(weak) => {
                            if let Some(pool) = weak.upgrade() {
                                if let Some(next) = pool.maintain(now) {
                                    self::schedule(next, weak);
                                }
                            }
                        }
                    }
                    schedule = self.schedule.lock();
                }
                _ => {
                    // Sleep until the next deadline, waking every TICK while pools exist to
                    // keep the coarse clock fresh.
                    let ticking = POOLS_ALIVE.load(SeqCst) > 0;
                    let wake = match (first, ticking) {
                        (Some(deadline), true) => {
                            Some(deadline.min(now + clock::span(clock::TICK)))
                        }
                        (Some(deadline), false) => Some(deadline),
                        (None, true) => Some(now + clock::span(clock::TICK)),
                        (None, false) => None,
                    };
                    match wake {
                        Some(at) => {
                            self.changed.wait_until(&mut schedule, clock::instant(at));
                        }
                        None => self.changed.wait(&mut schedule),
                    }
                }
            }
        }
    }
}
