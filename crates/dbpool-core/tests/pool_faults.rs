//! Pool behaviour under faults SQLite cannot produce on demand, with the fault-injecting
//! test driver: failing, slow and panicking connects, failing cleanups and pings, disconnect
//! errors and broken connections. Every test checks the accounting afterwards.

mod support;

use std::sync::atomic::Ordering::SeqCst;
use std::thread;
use std::time::Duration;

use dbapi::{params, Connection, Cursor, ErrorKind};
use dbpool_core::{CloseReason, Pool, PoolError};
use support::fault_driver::FaultDriver;
use support::{wait_until_waiting, PATIENCE};

fn pool(driver: &FaultDriver, max_size: usize) -> Pool<FaultDriver> {
    Pool::builder(driver.clone())
        .max_size(max_size)
        .connect_timeout(None)
        .build()
        .expect("pool")
}

#[test]
fn a_failing_connect_loses_no_slot() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    driver.plan.fail_connects.store(1, SeqCst);
    let err = pool.get().expect_err("planned failure");
    match &err {
        PoolError::Connect { source, .. } => {
            assert_eq!(source.kind(), ErrorKind::Operational);
            assert!(source.is_disconnect());
        }
        other => panic!("expected Connect, got {other}"),
    }
    assert!(err.to_string().contains("connection refused"), "{err}");
    assert_eq!((pool.size(), pool.free()), (0, 1), "the slot is free again");
    assert_eq!(pool.stats().connect_failures, 1);
    drop(pool.get().expect("the next attempt works"));
    assert_eq!(pool.size(), 1);
}

#[test]
fn a_failing_connect_hands_its_slot_to_a_waiter() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    let held = pool.get().expect("only");
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|c| c.id))
    };
    wait_until_waiting(&pool, 1);
    // The waiter is handed the slot by the discard, and its own connect fails once...
    driver.plan.fail_connects.store(1, SeqCst);
    held.discard();
    let first = waiter.join().expect("waiter");
    assert!(matches!(first, Err(PoolError::Connect { .. })));
    // ...which leaves the slot free rather than leaked.
    assert_eq!(pool.size(), 0);
    assert!(pool.get().is_ok());
}

#[test]
fn the_timeout_error_reports_the_last_connect_error() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    driver.plan.fail_connects.store(1, SeqCst);
    let _ = pool.get().expect_err("fails");
    let _held = pool.get().expect("works");
    let err = pool
        .get_timeout(Duration::from_millis(5))
        .expect_err("exhausted");
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[test]
fn a_panicking_connect_is_an_error_and_frees_its_slot() {
    let driver = FaultDriver::default();
    for timeout in [None, Some(PATIENCE)] {
        let pool = Pool::builder(driver.clone())
            .max_size(1)
            .connect_timeout(timeout)
            .build()
            .expect("pool");
        driver.plan.panic_connects.store(1, SeqCst);
        let err = pool.get().expect_err("planned panic");
        assert!(err.to_string().contains("panicked"), "{err}");
        assert_eq!(pool.size(), 0);
        assert!(pool.get().is_ok(), "no poisoning");
    }
}

#[test]
fn connect_timeout_fires_and_the_late_connection_is_closed() {
    let driver = FaultDriver::default();
    let closed = driver.plan.close_events();
    let pool = Pool::builder(driver.clone())
        .max_size(1)
        .connect_timeout(Duration::from_millis(20))
        .build()
        .expect("pool");
    let (release, entered) = driver.plan.gate_next_connect();
    let err = pool.get().expect_err("the driver hangs");
    assert!(err.is_connect_timeout(), "{err}");
    assert!(err.to_string().contains("connect_timeout"), "{err}");
    entered
        .recv_timeout(PATIENCE)
        .expect("the connect did start");
    assert_eq!(pool.size(), 1, "the hung attempt still holds its slot");
    release.send(()).expect("let the driver finish");
    let id = closed
        .recv_timeout(PATIENCE)
        .expect("the late connection was closed");
    assert_eq!(id, 1);
    // The slot is released right after the close.
    let deadline = std::time::Instant::now() + PATIENCE;
    while pool.size() != 0 {
        assert!(std::time::Instant::now() < deadline, "slot leaked");
        thread::yield_now();
    }
    assert_eq!(pool.stats().closed(CloseReason::LateConnect), 1);
    assert_eq!(driver.plan.alive(), 0);
    let conn = pool.get().expect("works again");
    assert_eq!(conn.id, 2);
}

#[test]
fn a_timed_out_connect_wakes_a_waiter_when_it_finally_gives_up_its_slot() {
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .max_size(1)
        .connect_timeout(Duration::from_millis(20))
        .build()
        .expect("pool");
    let (release, entered) = driver.plan.gate_next_connect();
    assert!(pool.get().expect_err("hangs").is_connect_timeout());
    entered.recv_timeout(PATIENCE).expect("started");
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|c| c.id))
    };
    wait_until_waiting(&pool, 1);
    release.send(()).expect("finish");
    assert_eq!(waiter.join().expect("waiter").expect("served"), 2);
}

#[test]
fn a_failing_cleanup_closes_the_connection() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 2);
    driver.plan.fail_rollback.store(true, SeqCst);
    {
        let mut conn = pool.get().expect("get");
        conn.execute("INSERT", &params![])
            .expect("opens a transaction");
    }
    assert_eq!(pool.stats().closed(CloseReason::CleanupFailed), 1);
    assert_eq!((pool.size(), driver.plan.alive()), (0, 0));
}

#[test]
fn a_panicking_cleanup_closes_the_connection() {
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .cleanup(dbpool_core::Cleanup::custom(|_| panic!("cleanup bug")))
        .build()
        .expect("pool");
    drop(pool.get().expect("get"));
    assert_eq!(pool.stats().closed(CloseReason::CleanupFailed), 1);
    assert_eq!(pool.size(), 0);
}

#[test]
fn a_disconnect_error_marks_the_connection_broken() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    let first_id;
    {
        let mut conn = pool.get().expect("get");
        first_id = conn.id;
        let err = conn
            .cursor()
            .expect("cursor")
            .execute("DISCONNECT", &params![])
            .expect_err("planned");
        assert!(err.is_disconnect());
        assert!(!conn.is_usable());
        assert!(
            Connection::is_broken(&conn),
            "the pooled connection knows it is broken"
        );
        assert!(!Connection::is_broken(&*conn), "the driver itself does not");
    }
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    let conn = pool.get().expect("a fresh connection");
    assert_ne!(
        conn.id, first_id,
        "a broken connection is never handed out again"
    );
}

#[test]
fn a_connection_the_driver_reports_broken_is_not_reused() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    {
        let mut conn = pool.get().expect("get");
        conn.broken = true;
    }
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    assert_eq!(pool.size(), 0);
}

#[test]
fn a_panic_inside_a_driver_call_does_not_poison_the_pool() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut conn = pool.get().expect("get");
        let _ = conn.execute("PANIC", &params![]);
    }));
    assert!(result.is_err());
    assert_eq!(pool.stats().closed(CloseReason::Panicked), 1);
    assert_eq!((pool.size(), driver.plan.alive()), (0, 0));
    assert!(pool.get().is_ok());
}

#[test]
fn test_on_checkout_replaces_a_connection_that_fails_its_ping() {
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .max_size(1)
        .test_on_checkout(Duration::ZERO)
        .build()
        .expect("pool");
    drop(pool.get().expect("first"));
    driver.plan.fail_ping.store(1, SeqCst);
    let conn = pool.get().expect("replaced transparently");
    assert_eq!(conn.id, 2);
    assert_eq!(driver.plan.pings.load(SeqCst), 1);
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    drop(conn);
    let _ = pool.get().expect("pinged and reused");
    assert_eq!(driver.plan.pings.load(SeqCst), 2);

    let lazy = Pool::builder(driver.clone()).build().expect("pool");
    drop(lazy.get().expect("get"));
    let pings = driver.plan.pings.load(SeqCst);
    drop(lazy.get().expect("get"));
    assert_eq!(
        driver.plan.pings.load(SeqCst),
        pings,
        "no ping unless configured"
    );
}

#[test]
fn close_fails_waiters_and_later_gets() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    let held = pool.get().expect("only");
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|_| ()))
    };
    wait_until_waiting(&pool, 1);
    pool.close();
    assert!(matches!(
        waiter.join().expect("waiter"),
        Err(PoolError::Closed { .. })
    ));
    drop(held);
    assert_eq!((pool.size(), driver.plan.alive()), (0, 0));
    assert!(matches!(pool.get(), Err(PoolError::Closed { .. })));
}

#[test]
fn errors_convert_to_dbapi_errors() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 1);
    driver.plan.fail_connects.store(1, SeqCst);
    let err: dbapi::Error = pool.get().expect_err("fails").into();
    assert_eq!(err.kind(), ErrorKind::Operational);
    let _held = pool.get().expect("get");
    let err: dbapi::Error = pool
        .get_timeout(Duration::from_millis(1))
        .expect_err("timeout")
        .into();
    assert_eq!(err.kind(), ErrorKind::Operational);
}

#[test]
fn a_dead_connection_makes_older_idle_connections_suspect() {
    let driver = FaultDriver::default();
    let pool = pool(&driver, 2);
    let mut first = pool.get().expect("first");
    let second = pool.get().expect("second");
    let second_id = second.id;
    drop(second); // idle, opened before the failure below
    let err = first
        .execute("DISCONNECT", &params![])
        .expect_err("planned");
    assert!(err.is_disconnect());
    drop(first);
    let pings = driver.plan.pings.load(SeqCst);
    let again = pool.get().expect("the idle one, checked first");
    assert_eq!(again.id, second_id, "it answered its ping, so it is kept");
    assert_eq!(driver.plan.pings.load(SeqCst), pings + 1, "suspect: pinged");
    drop(again);
    drop(pool.get().expect("again"));
    assert_eq!(
        driver.plan.pings.load(SeqCst),
        pings + 1,
        "validated after the failure: not pinged again"
    );

    // A suspect connection that fails its ping is replaced before anyone sees it.
    let mut third = pool.get().expect("get");
    let _ = third.execute("DISCONNECT", &params![]);
    let suspect = pool.get().expect("the other one");
    let suspect_id = suspect.id;
    drop(suspect);
    drop(third);
    driver.plan.fail_ping.store(1, SeqCst);
    let replaced = pool.get().expect("replaced transparently");
    assert_ne!(replaced.id, suspect_id);
}
