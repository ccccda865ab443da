//! Every path that ends a connection calls `Connection::close()` on it exactly once: a
//! driver's close may do more than drop (a protocol goodbye, an ODBC disconnect, a counter).

mod support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use dbapi::{params, Connection};
use dbapi_sqlite::Sqlite;
use dbpool_core::{PersistentDB, Pool, SimplePooledDB, SteadyConnection};
use support::counted::{Counted, Counts};
use support::PATIENCE;

/// Waits until `n` connections have been dropped: the last handle of a pool may be let go
/// on the maintenance thread, a thread's storage after its join handle returns.
fn wait_dropped(counts: &Counts, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    while counts.dropped() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} dropped",
            counts.dropped()
        );
        thread::yield_now();
    }
    assert_eq!(counts.dropped(), n);
}

fn counted() -> (Counted, Arc<Counts>) {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    (module, counts)
}

#[test]
fn dropping_the_last_pool_handle_closes_its_idle_connections() {
    let (module, counts) = counted();
    let pool = Pool::builder(module).max_size(3).build().expect("pool");
    let held: Vec<_> = (0..3).map(|_| pool.get().expect("get")).collect();
    drop(held);
    assert_eq!(pool.stats().idle, 3);
    drop(pool);
    wait_dropped(&counts, 3);
    counts.assert_each_closed_once();
}

#[test]
fn clear_discard_and_close_close_once() {
    let (module, counts) = counted();
    let pool = Pool::builder(module).max_size(3).build().expect("pool");
    let held: Vec<_> = (0..3).map(|_| pool.get().expect("get")).collect();
    let mut held = held.into_iter();
    held.next().expect("one").discard();
    drop(held);
    pool.clear();
    assert_eq!(counts.dropped(), 3);
    let out = pool.get().expect("a new one");
    pool.close();
    drop(out); // returned to a closed pool: closed
    assert_eq!(counts.dropped(), 4);
    counts.assert_each_closed_once();
}

#[test]
fn expiry_closes_once() {
    let (module, counts) = counted();
    let closed = counts.close_events();
    let pool = Pool::builder(module)
        .max_size(1)
        .max_idle(Duration::from_millis(1))
        .build()
        .expect("pool");
    pool.get()
        .expect("get")
        .execute("SELECT 1", &params![])
        .expect("select");
    closed
        .recv_timeout(PATIENCE)
        .expect("the maintenance thread expires it");
    assert_eq!(pool.stats().open, 0);
    counts.assert_each_closed_once();
}

#[test]
fn a_persistent_connection_is_closed_when_its_thread_ends() {
    let (module, counts) = counted();
    let db = PersistentDB::new(module);
    let db1 = db.clone();
    thread::spawn(move || {
        db1.connection()
            .expect("this thread's")
            .execute("SELECT 1", &params![])
            .expect("select");
    })
    .join()
    .expect("thread");
    // The thread's storage goes with the thread.
    wait_dropped(&counts, 1);
    // Dropping the PersistentDB too: the connection a thread keeps goes when the thread does.
    let db2 = db.clone();
    thread::spawn(move || {
        db2.connection()
            .expect("conn")
            .execute("SELECT 1", &params![])
            .expect("select");
        drop(db2);
    })
    .join()
    .expect("thread");
    drop(db);
    wait_dropped(&counts, 2);
    counts.assert_each_closed_once();
}

#[test]
fn a_steady_connection_and_a_simple_pool_close_on_drop() {
    let (module, counts) = counted();
    let mut steady = SteadyConnection::new(module).expect("steady");
    steady.execute("SELECT 1", &params![]).expect("select");
    drop(steady);
    assert_eq!(counts.dropped(), 1);
    counts.assert_each_closed_once();

    let (module, counts) = counted();
    let simple = SimplePooledDB::new(module, 2).expect("simple");
    let a = simple.connection().expect("a");
    let b = simple.connection().expect("b");
    drop((a, b));
    drop(simple);
    wait_dropped(&counts, 2);
    counts.assert_each_closed_once();
}
