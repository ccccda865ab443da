//! Connect storms: while the server refuses connections, 32 callers retrying in a loop
//! cause a few attempts (at most `max_connecting` at a time, then a backoff), each caller
//! still gets the real error, and the pool recovers once the server is back.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use dbpool_core::{Pool, PoolError};
use support::fault_driver::FaultDriver;
use support::{until, PATIENCE};

const DOWN: usize = 1_000_000;

#[test]
fn a_server_that_is_down_sees_a_few_attempts_not_a_storm() {
    let driver = FaultDriver::default();
    driver.plan.fail_connects.store(DOWN, SeqCst);
    let pool = Pool::builder(driver.clone())
        .max_size(8)
        .connect_backoff(Duration::from_millis(50), Duration::from_millis(500))
        .build()
        .expect("pool");
    let stop = AtomicBool::new(false);
    let errors = AtomicU64::new(0);
    thread::scope(|scope| {
        for _ in 0..32 {
            scope.spawn(|| {
                while !stop.load(SeqCst) {
                    match pool.get() {
                        Ok(_) => panic!("the server is down"),
                        Err(PoolError::Connect { source, .. }) => {
                            assert!(
                                source.message().contains("connection refused"),
                                "the real error: {source}"
                            );
                            errors.fetch_add(1, SeqCst);
                        }
                        Err(other) => panic!("unexpected: {other}"),
                    }
                }
            });
        }
        // The measurement window: two seconds of callers retrying as fast as they can.
        thread::sleep(Duration::from_secs(2));
        stop.store(true, SeqCst);
    });
    let attempts = DOWN - driver.plan.fail_connects.load(SeqCst);
    assert!(
        attempts <= 40,
        "{attempts} connect attempts for {} failed calls in 2 s",
        errors.load(SeqCst)
    );
    assert!(
        errors.load(SeqCst) > attempts as u64,
        "callers shared the failures"
    );
    assert_eq!(pool.size(), 0, "no slot leaked");

    // The server is back: the pool recovers by itself, without a storm.
    driver.plan.fail_connects.store(0, SeqCst);
    until("the pool recovered", || pool.get().is_ok());
    assert_eq!(
        driver.plan.opened.load(SeqCst),
        1,
        "one connection, no storm of them"
    );
    assert_eq!(pool.stats().idle, 1);
}

#[test]
fn one_failed_connect_is_retried_at_once() {
    let driver = FaultDriver::default();
    driver.plan.fail_connects.store(1, SeqCst);
    let pool = Pool::new(driver).expect("pool");
    assert!(pool.get().is_err());
    drop(
        pool.get()
            .expect("a single failure does not start a backoff"),
    );
}

#[test]
fn at_most_max_connecting_connects_run_at_once() {
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .max_size(4)
        .max_connecting(1)
        .build()
        .expect("pool");
    let (release, entered) = driver.plan.gate_next_connect();
    thread::scope(|scope| {
        let first = scope.spawn(|| pool.get().map(drop));
        entered
            .recv_timeout(PATIENCE)
            .expect("the first connect started");
        // A second caller must wait for the first connect rather than start its own.
        let second = scope.spawn(|| pool.get().map(drop));
        support::wait_until_waiting(&pool, 1);
        assert_eq!(driver.plan.opened.load(SeqCst), 0, "nothing opened yet");
        drop(release);
        first.join().expect("first").expect("connected");
        second.join().expect("second").expect("served");
    });
    assert!(pool.stats().created <= 2);
}

#[test]
fn max_connecting_zero_is_a_config_error() {
    let err = Pool::builder(FaultDriver::default())
        .max_connecting(0)
        .build()
        .expect_err("zero");
    assert!(err.to_string().contains("max_connecting"), "{err}");
}
