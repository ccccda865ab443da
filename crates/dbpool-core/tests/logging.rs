//! The pool logs its slow paths through `tracing`, naming the pool by its target and never
//! a password; the fast path logs nothing.

mod support;

use std::io::Write;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbpool_core::Pool;
use support::fault_driver::FaultDriver;
use support::wait_until_waiting;

/// A writer into a shared buffer, for a subscriber in one test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("buffer")).into_owned()
    }
}

/// Runs `f` with every `dbpool` event of this thread, at DEBUG and above, captured.
fn capture(f: impl FnOnce()) -> String {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    out.text()
}

#[test]
fn slow_paths_are_logged_with_the_pool_named() {
    let driver = FaultDriver::default();
    let log = capture(|| {
        let pool = Pool::builder(driver.clone())
            .max_size(1)
            .build()
            .expect("pool");
        let conn = pool.get().expect("opens one");
        conn.discard();
        driver.plan.fail_connects.store(1, SeqCst);
        assert!(pool.get().is_err());
    });
    assert!(log.contains("connection opened"), "{log}");
    assert!(
        log.contains("connection closed") && log.contains("Discarded"),
        "{log}"
    );
    assert!(
        log.contains("cannot connect") && log.contains("connection refused"),
        "{log}"
    );
    assert!(log.contains("fault://test"), "the pool is named: {log}");
}

#[test]
fn the_fast_path_logs_nothing() {
    let driver = FaultDriver::default();
    let pool = Pool::new(driver).expect("pool");
    drop(pool.get().expect("warm"));
    let log = capture(|| {
        for _ in 0..100 {
            drop(pool.get().expect("idle"));
        }
    });
    assert!(log.is_empty(), "{log}");
}

#[test]
fn a_wait_over_the_threshold_and_a_timeout_are_warnings() {
    let driver = FaultDriver::default();
    let log = capture(|| {
        let pool = Pool::builder(driver)
            .max_size(1)
            .slow_wait_threshold(Duration::ZERO)
            .build()
            .expect("pool");
        let held = pool.get().expect("only");
        assert!(pool.get_timeout(Duration::from_millis(5)).is_err());
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| drop(pool.get().expect("served")));
            wait_until_waiting(&pool, 1);
            drop(held);
            waiter.join().expect("waiter");
        });
    });
    assert!(log.contains("gave up waiting"), "{log}");
    assert!(log.contains("WARN"), "{log}");
}

#[cfg(feature = "postgres")]
#[test]
fn a_failed_connect_names_host_and_database_but_never_the_password() {
    let module =
        dbpool_core::postgres::Postgres::from_dsn("postgres://app:s3cr3t-pw@127.0.0.1:1/shopdb")
            .expect("dsn");
    let log = capture(|| {
        let pool = Pool::builder(module).build().expect("pool");
        assert!(pool.get().is_err(), "nothing listens on port 1");
    });
    assert!(log.contains("cannot connect"), "{log}");
    assert!(log.contains("127.0.0.1") && log.contains("shopdb"), "{log}");
    assert!(!log.contains("s3cr3t-pw"), "a password in the log: {log}");
}
