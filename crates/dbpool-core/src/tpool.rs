//! eventlet's `tpool`: a pool of OS threads that runs blocking driver calls for async code,
//! and the one-shot channel that carries each result back to the waiting task.
//!
//! Runtime-agnostic: the result is delivered through a plain [`Waker`], so it works under
//! tokio, async-std, smol or `futures::executor::block_on` alike.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::{Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: VecDeque<Job>,
    idle: usize,
    threads: usize,
    shutdown: bool,
}

struct Inner {
    queue: Mutex<Queue>,
    available: Condvar,
    max_threads: usize,
}

/// A fixed-size pool of worker threads, started lazily (eventlet's `tpool`, which defaults
/// to 20 threads). Dropping the last handle lets the workers finish their jobs and exit.
#[derive(Clone)]
pub struct ThreadPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.inner.queue.lock();
        f.debug_struct("ThreadPool")
            .field("max_threads", &self.inner.max_threads)
            .field("threads", &queue.threads)
            .field("queued", &queue.jobs.len())
            .finish()
    }
}

impl ThreadPool {
    /// eventlet's default size.
    pub const DEFAULT_THREADS: usize = 20;

    /// A pool of at most `max_threads` workers (at least 1).
    #[must_use]
    pub fn new(max_threads: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                queue: Mutex::new(Queue {
                    jobs: VecDeque::new(),
                    idle: 0,
                    threads: 0,
                    shutdown: false,
                }),
                available: Condvar::new(),
                max_threads: max_threads.max(1),
            }),
        }
    }

    /// The most worker threads this pool runs.
    #[must_use]
    pub fn max_threads(&self) -> usize {
        self.inner.max_threads
    }

    /// Worker threads running now (started on demand, up to [`ThreadPool::max_threads`]).
    #[must_use]
    pub fn threads(&self) -> usize {
        self.inner.queue.lock().threads
    }

    /// Runs `f` on a worker thread; the returned future resolves to its result, or to `Err`
    /// with the panic message if it panicked. Dropping the future does not stop `f`.
    pub fn spawn<T, F>(&self, f: F) -> Oneshot<std::thread::Result<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot();
        self.execute(Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            // Nobody is waiting any more: the result is simply dropped here, on the worker.
            let _ = tx.send(result);
        }));
        rx
    }

    /// Queues a job, starting a worker when no idle one is left to take it and the pool is
    /// not full.
    pub(crate) fn execute(&self, job: Job) {
        if cfg!(dbpool_loom) {
            // Built for the model checker: its workers would be threads outside the model,
            // so the job runs on the caller (the hand-off is what the model checks).
            return job();
        }
        let mut queue = self.inner.queue.lock();
        queue.jobs.push_back(job);
        // A worker woken for an earlier job still counts as idle until it runs, so the idle
        // count alone would send two jobs to one worker, the second waiting out the first:
        // every queued job needs an idle worker of its own.
        if queue.jobs.len() > queue.idle && queue.threads < self.inner.max_threads {
            queue.threads += 1;
            drop(queue);
            let inner = Arc::clone(&self.inner);
            let spawned = std::thread::Builder::new()
                .name("dbpool-tpool".to_owned())
                .spawn(move || inner.work());
            if spawned.is_err() {
                self.inner.queue.lock().threads -= 1;
            }
        } else {
            drop(queue);
            self.inner.available.notify_one();
        }
    }
}

impl Inner {
    fn work(&self) {
        let mut queue = self.queue.lock();
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                drop(queue);
                // Jobs from `spawn` catch their own panics; this keeps the worker alive for
                // any other job too.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                queue = self.queue.lock();
                continue;
            }
            if queue.shutdown {
                queue.threads -= 1;
                return;
            }
            queue.idle += 1;
            self.available.wait(&mut queue);
            queue.idle -= 1;
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        if Arc::strong_count(&self.inner) == 1 {
            self.inner.queue.lock().shutdown = true;
            self.inner.available.notify_all();
        }
    }
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    receiver_alive: bool,
}

/// The sending half of a one-shot channel.
pub(crate) struct Sender<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

/// A future resolving to the value sent by a worker thread.
#[must_use = "futures do nothing unless polled"]
pub struct Oneshot<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> std::fmt::Debug for Oneshot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Oneshot")
    }
}

pub(crate) fn oneshot<T>() -> (Sender<T>, Oneshot<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        receiver_alive: true,
    }));
    (
        Sender {
            slot: Arc::clone(&slot),
        },
        Oneshot { slot },
    )
}

impl<T> Sender<T> {
    /// Delivers the value; gives it back when the receiver is gone.
    pub(crate) fn send(self, value: T) -> Result<(), T> {
        let mut slot = self.slot.lock();
        if !slot.receiver_alive {
            return Err(value);
        }
        slot.value = Some(value);
        let waker = slot.waker.take();
        drop(slot);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Future for Oneshot<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.lock();
        match slot.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                match &slot.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => slot.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Oneshot<T> {
    /// Stops receiving: a later `send` gets its value back. Returns a value that was sent
    /// but not yet received, so the caller can dispose of it properly.
    pub(crate) fn close(&mut self) -> Option<T> {
        let mut slot = self.slot.lock();
        slot.receiver_alive = false;
        slot.value.take()
    }
}

impl<T> Drop for Oneshot<T> {
    fn drop(&mut self) {
        self.slot.lock().receiver_alive = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::Barrier;
    use std::time::Duration;

    impl ThreadPool {
        fn idle(&self) -> usize {
            self.inner.queue.lock().idle
        }
    }

    /// Two jobs queued back to back while one worker is idle run side by side: the second
    /// starts a worker of its own rather than waiting behind the first.
    #[test]
    fn jobs_queued_together_do_not_wait_for_each_other() {
        let tpool = ThreadPool::new(4);
        let (done, finished) = mpsc::channel();
        tpool.execute(Box::new(move || {
            let _ = done.send(());
        }));
        finished.recv().expect("the first worker ran");
        while tpool.idle() != 1 {
            std::thread::yield_now();
        }
        // Each job waits for the other: they finish only if both run at once.
        let together = Arc::new(Barrier::new(2));
        let (started, starts) = mpsc::channel();
        for _ in 0..2 {
            let (together, started) = (Arc::clone(&together), started.clone());
            tpool.execute(Box::new(move || {
                let _ = started.send(());
                together.wait();
            }));
        }
        for job in 1..=2 {
            starts
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("job {job} of 2 never started"));
        }
    }
}
