//! The PostgreSQL server restarted under load. In a test binary of its own, so no other
//! test runs while the server goes down.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use dbapi::{params, Connection, ErrorKind};
use dbpool_core::Pool;
use dbpool_tests::{observer, pg_module, restart_postgres, server_connections, PATIENCE};

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn the_pool_recovers_by_itself_from_a_server_restart() {
    let app = format!("matrix-restart-{}", std::process::id());
    let max_size = 4;
    let pool = Pool::builder(pg_module(&app))
        .max_size(max_size)
        .connect_timeout(Duration::from_secs(5))
        .wait_timeout(Duration::from_secs(30))
        .build()
        .expect("pool");
    let threads = 16;
    let started = Arc::new(Barrier::new(threads + 1));
    let restarted = Arc::new(AtomicBool::new(false));
    let recovered = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (pool, started) = (pool.clone(), Arc::clone(&started));
            let (restarted, recovered) = (Arc::clone(&restarted), Arc::clone(&recovered));
            thread::spawn(move || {
                let mut successes_after = 0;
                let mut failures = 0;
                let mut first = true;
                let deadline = Instant::now() + PATIENCE * 2;
                while successes_after < 20 {
                    assert!(Instant::now() < deadline, "never recovered");
                    let result = pool
                        .get()
                        .map_err(dbapi::Error::from)
                        .and_then(|mut conn| conn.execute("SELECT 1", &params![]).map(|_| ()));
                    if first {
                        first = false;
                        started.wait();
                    }
                    match result {
                        Ok(()) if restarted.load(SeqCst) => successes_after += 1,
                        Ok(()) => {}
                        Err(err) => {
                            failures += 1;
                            assert_eq!(
                                err.kind(),
                                ErrorKind::Operational,
                                "every failure is a clear Operational error: {err}"
                            );
                        }
                    }
                }
                recovered.fetch_add(1, SeqCst);
                failures
            })
        })
        .collect();
    started.wait();
    restart_postgres();
    restarted.store(true, SeqCst);
    let failures: usize = handles.into_iter().map(|h| h.join().expect("worker")).sum();
    assert_eq!(recovered.load(SeqCst), threads);
    let mut obs = observer();
    let on_server = server_connections(&mut obs, &app);
    assert!(
        on_server <= max_size as i64,
        "{on_server} connections on the server"
    );
    assert!(pool.size() <= max_size);
    assert_eq!(pool.waiting(), 0);
    let stats = pool.stats();
    assert_eq!(stats.in_use, 0, "no slot leaked: {stats:?}");
    eprintln!("restart: {failures} calls failed cleanly, stats {stats:?}");
}
