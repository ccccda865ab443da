//! The pool's hand-off, model-checked.
//!
//! Built with `--cfg dbpool_loom` (`cargo xtask model`, part of `cargo xtask test`), the pool
//! core runs on [loom]'s models of its locks, condition variable and thread parking (see
//! `src/sync.rs`), and every scenario below is run in **every interleaving** loom can reach
//! within its preemption bound (4 unless `LOOM_MAX_PREEMPTIONS` says otherwise). In an
//! ordinary build the same scenarios run on real threads, many times over: a stress test.
//!
//! Checked in every interleaving:
//! - **no lost wake-up**: no caller stays parked while a connection or slot is free — loom
//!   fails the run as a deadlock when every thread is blocked;
//! - **no grant lost**: every connection handed to a waiter that gave up, timed out or was
//!   cancelled comes back (the pool settles with every slot idle and counted);
//! - **never more than `max_size`**: the driver's count of live connections, checked by
//!   every caller while it holds one;
//! - **every slot returned**: once all callers are done, open = idle, nothing is in use or
//!   waiting, and the pool's count is the driver's.
//!
//! Not covered (loom cannot model them): time (a timed wait is modelled as a yield followed
//! by the time-out, so the model explores the grant arriving before, during and after the
//! give-up, but not how long anything takes), the maintenance thread and its timers, and
//! the connect-timeout helper thread (connects here run on the caller); under the model the
//! async pool's worker threads run their jobs on the caller too.
//!
//! [loom]: https://docs.rs/loom

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use dbpool_core::{AsyncPool, Fairness, Pool, PoolError};
use support::fault_driver::{FaultDriver, Plan};

#[cfg(dbpool_loom)]
use loom::thread;
#[cfg(not(dbpool_loom))]
use std::thread;

/// How often an ordinary build repeats each scenario on real threads.
#[cfg(not(dbpool_loom))]
const STRESS_RUNS: usize = 200;

/// Runs `scenario` in every interleaving (under loom), or many times on real threads.
fn model(scenario: impl Fn() + Send + Sync + 'static) {
    #[cfg(dbpool_loom)]
    {
        use std::sync::atomic::AtomicUsize;
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(4);
        }
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        builder.check(move || {
            counted.fetch_add(1, SeqCst);
            scenario();
        });
        let runs = runs.load(SeqCst);
        println!("explored {runs} interleavings");
        assert!(
            runs > 1,
            "loom explored a single interleaving: nothing was checked"
        );
    }
    #[cfg(not(dbpool_loom))]
    for _ in 0..STRESS_RUNS {
        scenario();
    }
}

/// The three ways a pool can share out returned connections: strict FIFO, eventually fair
/// with every waiter past its bound (hand-off and retry wake-ups both in play), and
/// eventually fair with no waiter ever past it (retry wake-ups only).
const POLICIES: [Fairness; 3] = [
    Fairness::Fifo,
    Fairness::Eventual(Duration::ZERO),
    Fairness::Eventual(Duration::from_secs(3600)),
];

/// A pool of `max_size` over the fault driver, with nothing that needs a timer.
fn pool(max_size: usize, fairness: Fairness) -> (Pool<FaultDriver>, Arc<Plan>) {
    let driver = FaultDriver::default();
    let plan = Arc::clone(&driver.plan);
    let pool = Pool::builder(driver)
        .max_size(max_size)
        .connect_timeout(None)
        .wait_timeout(None)
        .max_idle(None)
        .max_age(None)
        .fairness(fairness)
        .build()
        .expect("a valid pool");
    (pool, plan)
}

/// Takes a connection, checks the bound while holding it, and gives it back.
fn use_once(pool: &Pool<FaultDriver>, plan: &Plan, max_size: usize) {
    let conn = pool.get().expect("a connection");
    assert!(
        plan.alive() <= max_size,
        "more than max_size connections open"
    );
    drop(conn);
}

/// Every caller is done: nothing waits, nothing is in use, every open slot is idle and
/// counted by the driver too.
fn assert_settled(pool: &Pool<FaultDriver>, plan: &Plan) {
    let stats = pool.stats();
    assert_eq!(stats.waiting, 0, "a caller was left queued: {stats:?}");
    assert_eq!(stats.in_use, 0, "a slot was never returned: {stats:?}");
    assert_eq!(stats.open, stats.idle, "open != idle: {stats:?}");
    assert_eq!(
        plan.alive(),
        stats.open,
        "pool and driver disagree: {stats:?}"
    );
}

#[test]
fn three_callers_on_one_connection_never_exceed_it_and_all_return() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(1, fairness);
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let (pool, plan) = (pool.clone(), Arc::clone(&plan));
                    thread::spawn(move || use_once(&pool, &plan, 1))
                })
                .collect();
            use_once(&pool, &plan, 1);
            for caller in callers {
                caller.join().expect("caller");
            }
            assert_settled(&pool, &plan);
            assert_eq!(pool.stats().open, 1);
        });
    }
}

#[test]
fn three_callers_on_two_connections_never_exceed_them_and_all_return() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(2, fairness);
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let (pool, plan) = (pool.clone(), Arc::clone(&plan));
                    thread::spawn(move || use_once(&pool, &plan, 2))
                })
                .collect();
            use_once(&pool, &plan, 2);
            for caller in callers {
                caller.join().expect("caller");
            }
            assert_settled(&pool, &plan);
        });
    }
}

#[test]
fn a_get_timing_out_while_a_connection_comes_back_loses_nothing() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(1, fairness);
            let held = pool.get().expect("the only connection");
            let returner = thread::spawn(move || drop(held));
            let waiter = {
                let pool = pool.clone();
                thread::spawn(move || match pool.get_timeout(Duration::from_millis(1)) {
                    Ok(conn) => drop(conn),
                    Err(PoolError::Timeout { .. }) => {}
                    Err(other) => panic!("neither a connection nor a timeout: {other}"),
                })
            };
            returner.join().expect("returner");
            waiter.join().expect("waiter");
            assert_settled(&pool, &plan);
            assert_eq!(pool.stats().open, 1, "the connection was lost");
        });
    }
}

/// A waker that records that it was woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn an_async_get_dropped_while_a_connection_is_handed_to_it_loses_nothing() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(1, fairness);
            let held = pool.get().expect("the only connection");
            let async_pool = AsyncPool::new(pool.clone());
            let mut get = Box::pin(async_pool.get());
            let flag = Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(Arc::clone(&flag));
            let polled = get.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(
                polled.is_pending(),
                "the only connection is held: the get waits"
            );
            let returner = thread::spawn(move || drop(held));
            drop(get);
            returner.join().expect("returner");
            assert_settled(&pool, &plan);
            assert_eq!(pool.stats().open, 1, "the connection was lost");
        });
    }
}

/// A waker that unparks the thread blocked on its future.
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking between polls until its waker is called (a lost
/// wake-up leaves the thread parked: a deadlock under loom).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

#[test]
fn an_async_get_waiting_for_a_returned_connection_is_woken_and_gets_it() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(1, fairness);
            let held = pool.get().expect("the only connection");
            let async_pool = AsyncPool::new(pool.clone());
            let returner = thread::spawn(move || drop(held));
            // Parks between polls until woken: a lost wake-up is a deadlock loom reports.
            let conn = block_on(async_pool.get()).expect("the returned connection");
            assert!(plan.alive() <= 1, "more than max_size connections open");
            drop(conn);
            returner.join().expect("returner");
            // An async connection goes back from the async pool's worker thread (on the
            // caller, under the model).
            support::until("the async connection returned", || pool.stats().in_use == 0);
            assert_settled(&pool, &plan);
        });
    }
}

#[test]
fn a_retry_wake_up_is_passed_on_when_its_waiter_gives_up() {
    // Retry wake-ups only: a returned connection is never handed over directly.
    let fairness = Fairness::Eventual(Duration::from_secs(3600));
    model(move || {
        let (pool, plan) = pool(1, fairness);
        let held = pool.get().expect("the only connection");
        let quitter = {
            let pool = pool.clone();
            thread::spawn(move || match pool.get_timeout(Duration::from_millis(1)) {
                Ok(conn) => drop(conn),
                Err(PoolError::Timeout { .. }) => {}
                Err(other) => panic!("neither a connection nor a timeout: {other}"),
            })
        };
        let patient = {
            let (pool, plan) = (pool.clone(), Arc::clone(&plan));
            thread::spawn(move || use_once(&pool, &plan, 1))
        };
        drop(held);
        quitter.join().expect("quitter");
        patient.join().expect("the patient waiter must be served");
        assert_settled(&pool, &plan);
    });
}

#[test]
fn closing_while_callers_wait_fails_them_and_drains_every_connection() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(1, fairness);
            let held = pool.get().expect("the only connection");
            let waiter = {
                let pool = pool.clone();
                thread::spawn(move || match pool.get() {
                    Ok(conn) => drop(conn),
                    Err(PoolError::Closed { .. }) => {}
                    Err(other) => panic!("neither a connection nor closed: {other}"),
                })
            };
            let closer = {
                let pool = pool.clone();
                thread::spawn(move || pool.close_gracefully(Duration::MAX))
            };
            drop(held);
            waiter.join().expect("waiter");
            assert!(closer.join().expect("closer"), "the drain did not finish");
            let stats = pool.stats();
            assert_eq!((stats.open, stats.waiting), (0, 0), "{stats:?}");
            assert_eq!(plan.alive(), 0, "a connection outlived its closed pool");
        });
    }
}

#[test]
fn a_failing_connect_frees_its_slot_for_the_next_caller() {
    for fairness in POLICIES {
        model(move || {
            let (pool, plan) = pool(1, fairness);
            plan.fail_connects.store(1, SeqCst);
            let other = {
                let pool = pool.clone();
                thread::spawn(move || pool.get().map(drop))
            };
            let mine = pool.get().map(drop);
            let theirs = other.join().expect("caller");
            let failed = [&mine, &theirs]
                .iter()
                .filter(|outcome| matches!(outcome, Err(PoolError::Connect { .. })))
                .count();
            let served = [&mine, &theirs].iter().filter(|o| o.is_ok()).count();
            assert_eq!(
                (failed, served),
                (1, 1),
                "one planned failure, one connection: {mine:?} / {theirs:?}"
            );
            assert_settled(&pool, &plan);
            assert_eq!(pool.stats().open, 1);
        });
    }
}
