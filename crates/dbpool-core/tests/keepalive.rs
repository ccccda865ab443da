//! Idle keepalive: idle connections are pinged once they have sat unused for the configured
//! time, on a thread of their own; one that fails its ping is closed. (On PostgreSQL with
//! `idle_session_timeout`: the pool matrix.)

mod support;

use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use dbpool_core::Pool;
use support::fault_driver::FaultDriver;
use support::until;

/// A pool of 2 over `driver` whose idle connections are pinged after 20 ms.
fn keepalive_pool(driver: &FaultDriver) -> Pool<FaultDriver> {
    Pool::builder(driver.clone())
        .max_size(2)
        .keepalive(Duration::from_millis(20))
        .build()
        .expect("pool")
}

#[test]
fn idle_connections_are_pinged_and_kept() {
    let driver = FaultDriver::default();
    let pool = keepalive_pool(&driver);
    let id = pool.get().expect("get").id;
    until("two keepalive pings", || {
        driver.plan.pings.load(SeqCst) >= 2
    });
    until("the connection back in the idle stack", || {
        pool.stats().idle == 1
    });
    assert_eq!(
        pool.get().expect("again").id,
        id,
        "the same connection, kept"
    );
    assert_eq!(pool.stats().closed_total(), 0);
}

#[test]
fn a_connection_that_fails_its_keepalive_ping_is_closed() {
    let driver = FaultDriver::default();
    let pool = keepalive_pool(&driver);
    drop(pool.get().expect("get"));
    driver.plan.fail_ping.store(1, SeqCst);
    // Counted as closed first, then its slot is freed: wait for both.
    until("the dead connection closed and its slot freed", || {
        pool.stats().closed_broken == 1 && pool.size() == 0
    });
    assert_eq!(driver.plan.alive(), 0);
}

#[test]
fn without_keepalive_idle_connections_are_never_pinged() {
    let driver = FaultDriver::default();
    let pool = Pool::new(driver.clone()).expect("pool");
    drop(pool.get().expect("get"));
    drop(pool.get().expect("again"));
    assert_eq!(driver.plan.pings.load(SeqCst), 0);
}
