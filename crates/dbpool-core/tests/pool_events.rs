//! Event hooks and leak detection.

mod support;

use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;
use std::time::Duration;

use dbapi_sqlite::Sqlite;
use dbpool_core::{CloseReason, Pool, PoolError, PoolEvent};
use support::fault_driver::FaultDriver;
use support::{wait_until_waiting, PATIENCE};

/// A hook that forwards a description of every event.
fn recorder(tx: Sender<String>) -> impl Fn(&PoolEvent<'_>) + Send + Sync + 'static {
    let tx = Mutex::new(tx);
    move |event| {
        let text = match event {
            PoolEvent::Connected => "connected".to_owned(),
            PoolEvent::ConnectFailed { error } => format!("connect failed: {}", error.message()),
            PoolEvent::ConnectTimedOut { .. } => "connect timed out".to_owned(),
            PoolEvent::Closed { reason } => format!("closed: {reason:?}"),
            PoolEvent::Waited { .. } => "waited".to_owned(),
            PoolEvent::TimedOut { .. } => "timed out".to_owned(),
            PoolEvent::LeakSuspected { checked_out_at, .. } => format!(
                "leak at {}:{}",
                checked_out_at.file(),
                checked_out_at.line()
            ),
            other => format!("{other:?}"),
        };
        let _ = tx.lock().expect("lock").send(text);
    }
}

#[test]
fn slow_path_events_are_reported() {
    let (tx, rx) = channel();
    let driver = FaultDriver::default();
    let pool = Pool::builder(driver.clone())
        .max_size(1)
        .max_idle(Duration::ZERO)
        .connect_timeout(None)
        .on_event(recorder(tx))
        .build()
        .expect("pool");
    driver
        .plan
        .fail_connects
        .store(1, std::sync::atomic::Ordering::SeqCst);
    assert!(pool.get().is_err());
    let held = pool.get().expect("get");
    let waiter = {
        let pool = pool.clone();
        std::thread::spawn(move || drop(pool.get().expect("served")))
    };
    wait_until_waiting(&pool, 1);
    drop(held);
    waiter.join().expect("waiter");
    let _held = pool.get().expect("get");
    assert!(matches!(
        pool.get_timeout(Duration::from_millis(1)),
        Err(PoolError::Timeout { .. })
    ));
    let events: Vec<String> = rx.try_iter().collect();
    for expected in [
        "connect failed: fault driver: connection refused (planned)",
        "connected",
        "closed: Idle",
        "waited",
        "timed out",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected:?} missing from {events:?}"
        );
    }
}

#[test]
fn a_connection_held_too_long_is_reported_with_its_checkout_site() {
    let (tx, rx) = channel();
    let pool = Pool::builder(Sqlite::memory())
        .leak_detection(Duration::from_millis(5))
        .on_event(recorder(tx))
        .build()
        .expect("pool");
    let held = pool.get().expect("get"); // the site to report
    let line = line!() - 1;
    // The maintenance thread reports it once the threshold has passed.
    let leak = loop {
        let event = rx.recv_timeout(PATIENCE).expect("a leak report");
        if event.starts_with("leak") {
            break event;
        }
    };
    assert_eq!(leak, format!("leak at {}:{line}", file!()));
    assert_eq!(pool.stats().leaks_suspected, 1);
    drop(held);
    assert_eq!(
        pool.stats().leaks_suspected,
        1,
        "reported once, not again on return"
    );
}

#[test]
fn a_panicking_hook_does_not_hurt_the_pool() {
    let pool = Pool::builder(Sqlite::memory())
        .max_idle(Duration::ZERO)
        .on_event(|_| panic!("bug in the hook"))
        .build()
        .expect("pool");
    drop(pool.get().expect("get"));
    assert_eq!(pool.stats().closed(CloseReason::Idle), 1);
    assert_eq!(pool.size(), 0);
}

#[test]
fn a_hook_may_use_the_pool_it_reports_on() {
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let slot: std::sync::Arc<Mutex<Option<Pool<Sqlite>>>> = std::sync::Arc::new(Mutex::new(None));
    let (hook_slot, hook_seen) = (std::sync::Arc::clone(&slot), std::sync::Arc::clone(&seen));
    let pool = Pool::builder(Sqlite::memory())
        .max_size(1)
        .max_idle(Duration::ZERO)
        .on_event(move |event| {
            // Reading the pool's stats from the hook must not deadlock on the pool's lock.
            if let Some(pool) = hook_slot.lock().expect("lock").as_ref() {
                let stats = pool.stats();
                hook_seen
                    .lock()
                    .expect("lock")
                    .push(format!("{event:?} open={}", stats.open));
            }
        })
        .build()
        .expect("pool");
    *slot.lock().expect("lock") = Some(pool.clone());
    let held = pool.get().expect("get");
    assert!(matches!(
        pool.get_timeout(Duration::from_millis(1)),
        Err(PoolError::Timeout { .. })
    ));
    drop(held);
    let seen = seen.lock().expect("lock").clone();
    assert!(seen.iter().any(|e| e.starts_with("Connected")), "{seen:?}");
    assert!(seen.iter().any(|e| e.starts_with("TimedOut")), "{seen:?}");
    assert!(seen.iter().any(|e| e.starts_with("Closed")), "{seen:?}");
    slot.lock().expect("lock").take();
}
