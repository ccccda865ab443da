//! Soft eviction: every connection that exists when `evict_all()` runs is closed — idle ones
//! at once, checked-out ones when they come back — and never handed out again. Optionally
//! automatic after a disconnect.

mod support;

use std::sync::Arc;

use dbapi::{params, Connection};
use dbapi_sqlite::Sqlite;
use dbpool_core::Pool;
use support::counted::Counted;
use support::fault_driver::FaultDriver;

#[test]
fn evict_all_closes_idle_connections_now_and_checked_out_ones_on_return() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module).max_size(3).build().expect("pool");
    let a = pool.get().expect("a");
    let b = pool.get().expect("b");
    let c = pool.get().expect("c");
    let old = [a.id, b.id, c.id];
    drop((a, b));
    assert_eq!(pool.stats().idle, 2);
    pool.evict_all();
    let stats = pool.stats();
    assert_eq!((stats.idle, stats.open, stats.closed_evicted), (0, 1, 2));
    assert_eq!(counts.alive(), 1, "only the checked-out one is still open");
    let d = pool.get().expect("a new connection");
    assert!(!old.contains(&d.id));
    drop(c);
    assert_eq!(pool.stats().closed_evicted, 3, "closed when it came back");
    for _ in 0..5 {
        let conn = pool.get().expect("get");
        assert!(
            !old.contains(&conn.id),
            "an evicted connection was handed out"
        );
    }
    drop(d);
    drop(pool);
    counts.assert_each_closed_once();
}

#[test]
fn connections_opened_after_an_eviction_are_kept() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module).max_size(2).build().expect("pool");
    pool.evict_all();
    let id = pool.get().expect("get").id;
    assert_eq!(pool.get().expect("again").id, id, "reused");
    assert_eq!(pool.stats().closed_evicted, 0);
    assert_eq!(counts.opened(), 1);
}

#[test]
fn evict_on_disconnect_replaces_every_connection_without_pinging() {
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .max_size(3)
        .evict_on_disconnect(true)
        .build()
        .expect("pool");
    let mut conns: Vec<_> = (0..3).map(|_| pool.get().expect("get")).collect();
    let mut failing = conns.pop().expect("third");
    drop(conns);
    assert_eq!(pool.stats().idle, 2);
    let err = failing
        .execute("DISCONNECT", &params![])
        .expect_err("planned");
    assert!(err.is_disconnect());
    drop(failing);
    let stats = pool.stats();
    assert_eq!(stats.idle, 0, "the idle ones were evicted too");
    assert_eq!(stats.closed_evicted, 2);
    assert_eq!(stats.closed_broken, 1);
    assert_eq!(driver.plan.alive(), 0);
    drop(pool.get().expect("a new connection"));
    assert_eq!(
        driver.plan.pings.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn by_default_a_disconnect_only_makes_older_connections_suspect() {
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .max_size(2)
        .build()
        .expect("pool");
    let idle = pool.get().expect("idle");
    let mut failing = pool.get().expect("failing");
    drop(idle);
    let _ = failing.execute("DISCONNECT", &params![]);
    drop(failing);
    assert_eq!(pool.stats().idle, 1, "kept, to be pinged");
    drop(pool.get().expect("pinged, then handed out"));
    assert_eq!(
        driver.plan.pings.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(pool.stats().closed_evicted, 0);
}
