//! Every duration the API accepts, from zero to `Duration::MAX`, is valid: an instant that
//! would overflow means "no limit", never a panic. (Users write `Duration::MAX` for
//! "forever".)

mod support;

use std::thread;
use std::time::Duration;

use dbapi::{params, Connection};
use dbapi_sqlite::Sqlite;
use dbpool_core::{AsyncPool, Pool, PoolError};
use support::wait_until_waiting;

/// Durations at the edges: zero, tiny, ordinary, and every size near the type's limits.
fn edges() -> Vec<Duration> {
    vec![
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_millis(1),
        Duration::from_secs(1),
        Duration::from_secs(365 * 24 * 3600),
        Duration::from_nanos(u64::MAX),
        Duration::from_secs(u64::MAX / 2),
        Duration::MAX - Duration::from_nanos(1),
        Duration::MAX,
    ]
}

/// Whether a wait of `d` outlasts the test's hand-off (a thread that must be seen waiting).
fn long(d: Duration) -> bool {
    d >= Duration::from_secs(60)
}

/// Builds a pool with `d` in every duration setting and uses it: no call may panic.
fn use_pool_with(d: Duration) {
    {
        let pool = Pool::builder(Sqlite::memory())
            .max_size(1)
            .connect_timeout(d)
            .wait_timeout(d)
            .max_idle(d)
            .max_age(d)
            .test_on_checkout(d)
            .leak_detection(d)
            .build()
            .expect("any duration is a valid setting");
        match pool.get() {
            Ok(mut conn) => {
                conn.execute("SELECT 1", &params![]).expect("select");
            }
            // A connect timeout shorter than a connect is a timeout, not a panic.
            Err(err) if d < Duration::from_secs(1) && err.is_connect_timeout() => {}
            Err(err) => panic!("{d:?}: {err}"),
        }
        match pool.get_timeout(d) {
            Ok(_) => {}
            // A late connect may still hold the only slot.
            Err(err)
                if d < Duration::from_secs(1)
                    && (err.is_connect_timeout() || matches!(err, PoolError::Timeout { .. })) => {}
            Err(err) => panic!("{d:?}: {err}"),
        }
        let drained = pool.close_gracefully(d);
        assert!(
            drained || d < Duration::from_secs(1),
            "{d:?}: nothing was out"
        );
    }
}

#[test]
fn every_builder_duration_accepts_zero_to_max() {
    for d in edges() {
        use_pool_with(d);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn any_duration_in_every_setting_never_panics(
        secs in proptest::prop_oneof![0..5_u64, proptest::num::u64::ANY],
        nanos in 0..1_000_000_000_u32,
    ) {
        use_pool_with(Duration::new(secs, nanos));
    }
}

#[test]
fn a_waiter_with_any_timeout_is_served_or_times_out_cleanly() {
    for d in edges() {
        let pool = Pool::builder(Sqlite::memory())
            .max_size(1)
            .wait_timeout(d)
            .build()
            .expect("pool");
        let held = pool.get().expect("the only connection");
        let waiter = {
            let pool = pool.clone();
            thread::spawn(move || pool.get_timeout(d).map(drop))
        };
        if long(d) {
            wait_until_waiting(&pool, 1);
            drop(held);
            waiter.join().expect("no panic").expect("served");
        } else {
            let result = waiter.join().expect("no panic");
            drop(held);
            if let Err(err) = result {
                assert!(matches!(err, PoolError::Timeout { .. }), "{d:?}: {err}");
            }
        }
        assert_eq!(pool.stats().in_use, 0);
    }
}

#[test]
fn the_async_pool_accepts_any_wait_timeout() {
    for d in edges() {
        let pool = AsyncPool::new(
            Pool::builder(Sqlite::memory())
                .max_size(1)
                .wait_timeout(d)
                .build()
                .expect("pool"),
        );
        let held = pool.pool().get().expect("the only connection");
        if long(d) {
            let waiter = {
                let pool = pool.clone();
                thread::spawn(move || futures::executor::block_on(pool.get()).map(drop))
            };
            wait_until_waiting(pool.pool(), 1);
            drop(held);
            waiter.join().expect("no panic").expect("served");
        } else {
            let result = futures::executor::block_on(pool.get()).map(drop);
            drop(held);
            if let Err(err) = result {
                assert!(matches!(err, PoolError::Timeout { .. }), "{d:?}: {err}");
            }
        }
    }
}
