//! Suspend and resume: while suspended nothing is handed out — callers wait, up to their
//! timeout — and checked-out connections come back; resume serves the waiters in order.

mod support;

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use dbapi_sqlite::Sqlite;
use dbpool_core::{Pool, PoolError};
use support::counted::Counted;
use support::wait_until_waiting;

#[test]
fn a_suspended_pool_hands_out_nothing_until_resumed() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module).max_size(2).build().expect("pool");
    let out = pool.get().expect("checked out before the suspension");
    pool.suspend();
    assert!(pool.is_suspended());
    assert!(
        pool.try_get().expect("no connect").is_none(),
        "a free slot is not handed out while suspended"
    );
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|c| c.id))
    };
    wait_until_waiting(&pool, 1);
    drop(out); // finishes its work: back to the idle stack, not to the waiter
    let stats = pool.stats();
    assert_eq!((stats.idle, stats.waiting), (1, 1), "still suspended");
    pool.resume();
    assert!(!pool.is_suspended());
    let id = waiter.join().expect("waiter").expect("served after resume");
    assert_eq!(id, 1, "the idle connection went to the waiter");
    assert_eq!(counts.opened(), 1);
    assert_eq!(pool.waiting(), 0);
}

#[test]
fn a_wait_during_a_suspension_times_out_with_the_usual_error() {
    let pool = Pool::new(Sqlite::memory()).expect("pool");
    pool.suspend();
    let err = pool
        .get_timeout(Duration::from_millis(10))
        .expect_err("suspended");
    assert!(matches!(err, PoolError::Timeout { .. }), "{err}");
    assert_eq!(pool.waiting(), 0, "the timed-out caller left the queue");
    pool.resume();
    drop(pool.get().expect("works again"));
}

#[test]
fn resume_serves_several_waiters_with_free_slots() {
    let pool = Pool::builder(Sqlite::memory())
        .max_size(3)
        .build()
        .expect("pool");
    pool.suspend();
    let mut waiters = Vec::new();
    for i in 0..3 {
        let waiter_pool = pool.clone();
        waiters.push(thread::spawn(move || waiter_pool.get().map(drop)));
        wait_until_waiting(&pool, i + 1);
    }
    pool.resume();
    for waiter in waiters {
        waiter.join().expect("waiter").expect("served");
    }
}
