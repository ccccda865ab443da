//! One maintenance thread for every pool of the process: it sleeps until the earliest
//! deadline any pool asked for (an idle connection's expiry, a top-up to `min_size`, an async
//! waiter's timeout), does what is due, and sleeps again. No thread per pool, no polling loop.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Weak;
use std::task::Waker;
use std::time::Instant;

use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};

/// A pool as the maintenance thread sees it.
pub(crate) trait Maintained: Send + Sync {
    /// Expires idle connections, starts top-ups, and returns the next deadline, if any.
    fn maintain(&self, now: Instant) -> Option<Instant>;
}

/// What is due at a deadline.
enum Task {
    /// A pool's maintenance.
    Pool(Weak<dyn Maintained>),
    /// An async waiter's timeout: wake its task so it sees the deadline has passed.
    Wake(Waker),
}

struct Entry {
    deadline: Instant,
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

/// Asks the maintenance thread to call `pool.maintain` at `deadline`.
pub(crate) fn schedule(deadline: Instant, pool: Weak<dyn Maintained>) {
    push(deadline, Task::Pool(pool));
}

/// Asks the maintenance thread to wake `waker` at `deadline` (async wait timeouts, without
/// depending on any runtime's timer).
pub(crate) fn wake_at(deadline: Instant, waker: Waker) {
    push(deadline, Task::Wake(waker));
}

fn push(deadline: Instant, task: Task) {
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
            let Some(Reverse(first)) = schedule.heap.peek() else {
                self.changed.wait(&mut schedule);
                continue;
            };
            let deadline = first.deadline;
            let now = Instant::now();
            if deadline > now {
                self.changed.wait_until(&mut schedule, deadline);
                continue;
            }
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
    }
}
