//! Read routing when replicas are busy: a free replica is used before waiting on a busy
//! one, and with every replica busy a read waits on one rather than going to the primary.
//! (Health, lag and failover on the real primary and replica: `tests/tests/pg_routing.rs`.)

mod support;

use dbapi_sqlite::Sqlite;
use dbpool_core::{Pool, Router};
use support::{wait_until_waiting, PATIENCE};

fn pool(max_size: usize) -> Pool<Sqlite> {
    Pool::builder(Sqlite::memory())
        .max_size(max_size)
        .wait_timeout(PATIENCE)
        .build()
        .expect("pool")
}

#[test]
fn a_free_replica_serves_before_a_busy_one_is_waited_on() {
    let (primary, busy, free) = (pool(1), pool(1), pool(1));
    let router = Router::builder(primary.clone())
        .replica(busy.clone())
        .replica(free.clone())
        .build();
    let _held = busy.get().expect("the busy replica's only connection");
    for _ in 0..4 {
        let conn = router.read().expect("a read");
        assert_eq!(free.stats().in_use, 1, "served by the free replica");
        assert_eq!(busy.waiting(), 0, "nobody waits on the busy one");
        drop(conn);
    }
    assert_eq!(
        primary.stats().created,
        0,
        "the primary is not a read fallback for busy"
    );
    assert!(
        router.health().iter().all(|h| h.healthy),
        "busy is not unhealthy"
    );
}

#[test]
fn with_every_replica_busy_a_read_waits_on_one() {
    let (primary, replica) = (pool(1), pool(1));
    let router = Router::builder(primary.clone())
        .replica(replica.clone())
        .build();
    let held = replica.get().expect("the replica's only connection");
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| router.read().map(drop));
        wait_until_waiting(&replica, 1);
        drop(held);
        reader
            .join()
            .expect("reader")
            .expect("served once the replica is free");
    });
    assert_eq!(primary.stats().created, 0);
    assert_eq!(replica.stats().created, 1);
}
