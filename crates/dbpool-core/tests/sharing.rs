//! Shareable connections (DBUtils' `maxshared`), over real SQLite counted by a wrapper that
//! declares `threadsafety` 2.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use dbapi::{params, Connection, Cursor};
use dbapi_sqlite::Sqlite;
use dbpool_core::{ConfigError, Pool, PoolError, SharedConnection, SimplePooledDB};
use support::counted::{Counted, Shareable};

fn shareable() -> (Shareable, Arc<support::counted::Counts>) {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    (Shareable(module), counts)
}

fn count(conn: &mut impl Connection, sql: &str) -> i64 {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, &params![]).expect(sql);
    cur.fetchone()
        .expect("fetch")
        .expect("row")
        .get::<i64>(0)
        .expect("int")
}

#[test]
fn shared_handles_are_clone_send_and_sync() {
    fn assert_shareable<T: Clone + Send + Sync>() {}
    assert_shareable::<SharedConnection<Shareable>>();
    assert_shareable::<SharedConnection<Sqlite>>();
}

#[test]
fn handles_go_to_the_least_shared_connection_and_the_last_one_returns_it() {
    let (module, counts) = shareable();
    let pool = Pool::builder(module)
        .max_size(4)
        .max_shared(2)
        .build()
        .expect("pool");
    let handles: Vec<_> = (0..16)
        .map(|_| pool.get_shared().expect("shared"))
        .collect();
    assert_eq!(counts.opened(), 2, "max_shared connections, no more");
    assert_eq!(pool.size(), 2);
    let first = handles
        .iter()
        .filter(|h| h.same_connection(&handles[0]))
        .count();
    assert_eq!(first, 8, "spread evenly: the least shared goes first");
    assert_eq!(handles[0].share_count(), 8);
    assert_eq!(pool.stats().idle, 0, "shared connections are checked out");
    drop(handles);
    assert_eq!(
        pool.stats().idle,
        2,
        "the last handle returned each connection"
    );
    assert_eq!(counts.alive(), 2);
}

#[test]
fn a_clone_is_one_more_share_of_the_same_connection() {
    let (module, _) = shareable();
    let pool = Pool::builder(module).max_shared(1).build().expect("pool");
    let a = pool.get_shared().expect("shared");
    let b = a.clone();
    assert!(a.same_connection(&b));
    assert_eq!(a.share_count(), 2);
    drop(b);
    assert_eq!(a.share_count(), 1);
    drop(a);
    assert_eq!(pool.stats().idle, 1);
}

#[test]
fn sixteen_threads_on_two_shared_connections_never_interleave_a_transaction() {
    let (module, counts) = shareable();
    let pool = Pool::builder(module)
        .max_size(4)
        .max_shared(2)
        .build()
        .expect("pool");
    // Which thread holds each connection (by the counted driver's id) inside a transaction.
    let holders: Arc<Vec<AtomicUsize>> = Arc::new((0..8).map(|_| AtomicUsize::new(0)).collect());
    let start = Arc::new(Barrier::new(16));
    let workers: Vec<_> = (1..=16)
        .map(|me| {
            let (pool, start, holders) = (pool.clone(), Arc::clone(&start), Arc::clone(&holders));
            thread::spawn(move || {
                let shared = pool.get_shared().expect("shared");
                start.wait();
                for _ in 0..20 {
                    let mut tx = shared.begin().expect("begin");
                    let holder = &holders[tx.id];
                    assert_eq!(holder.swap(me, SeqCst), 0, "another thread is inside");
                    tx.execute(
                        "CREATE TABLE IF NOT EXISTS t (owner INT, state TEXT)",
                        &params![],
                    )
                    .expect("create");
                    tx.execute("INSERT INTO t VALUES (?, 'open')", &params![me as i64])
                        .expect("insert");
                    thread::yield_now();
                    let others = count(
                        &mut *tx,
                        &format!("SELECT count(*) FROM t WHERE state = 'open' AND owner <> {me}"),
                    );
                    assert_eq!(
                        others, 0,
                        "uncommitted rows of another thread in this transaction"
                    );
                    tx.execute(
                        "UPDATE t SET state = 'done' WHERE owner = ?",
                        &params![me as i64],
                    )
                    .expect("update");
                    assert_eq!(holder.swap(0, SeqCst), me);
                    tx.commit().expect("commit");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    assert_eq!(counts.opened(), 2, "16 threads ran on 2 connections");
    assert_eq!(counts.max_alive(), 2);
    assert_eq!(pool.stats().idle, 2);
}

#[test]
fn a_connection_inside_a_transaction_is_not_handed_to_new_sharers() {
    let (module, _) = shareable();
    let pool = Pool::builder(module)
        .max_size(3)
        .max_shared(2)
        .wait_timeout(Duration::from_millis(20))
        .build()
        .expect("pool");
    let a = pool.get_shared().expect("a");
    let b = pool.get_shared().expect("b");
    assert!(
        !a.same_connection(&b),
        "room for a second shared connection"
    );
    let tx_a = a.begin().expect("begin");
    let c = pool.get_shared().expect("c");
    let d = pool.get_shared().expect("d");
    assert!(
        c.same_connection(&b) && d.same_connection(&b),
        "a is inside a transaction"
    );
    let tx_b = b.begin().expect("begin b");
    let err = pool
        .get_shared()
        .expect_err("both shared connections are in transactions");
    assert!(matches!(err, PoolError::Timeout { .. }), "{err}");
    let dedicated = pool
        .get()
        .expect("a dedicated connection is always available");
    drop(dedicated);
    drop(tx_a);
    let e = pool.get_shared().expect("e");
    assert!(e.same_connection(&a), "a left its transaction");
    drop(tx_b);
}

#[test]
fn uncommitted_work_is_rolled_back_when_the_guard_drops() {
    let (module, counts) = shareable();
    let pool = Pool::builder(module).max_shared(1).build().expect("pool");
    let shared = pool.get_shared().expect("shared");
    {
        let mut conn = shared.lock().expect("lock");
        conn.execute("CREATE TABLE t (x INT)", &params![])
            .expect("create");
        conn.commit().expect("commit");
        conn.execute("INSERT INTO t VALUES (1)", &params![])
            .expect("insert");
    }
    let rollbacks = counts.rollbacks();
    assert!(rollbacks >= 1);
    let mut conn = shared.lock().expect("lock again");
    assert_eq!(count(&mut *conn, "SELECT count(*) FROM t"), 0);
    drop(conn);
    assert_eq!(
        counts.rollbacks(),
        rollbacks,
        "a clean connection is not rolled back"
    );
}

#[test]
fn a_broken_shared_connection_is_replaced_at_the_next_lock() {
    let (module, counts) = shareable();
    let pool = Pool::builder(module)
        .max_size(1)
        .max_shared(1)
        .build()
        .expect("pool");
    let shared = pool.get_shared().expect("shared");
    let other = shared.clone();
    let first = shared.lock().expect("lock").id;
    shared.lock().expect("lock").mark_broken();
    let second = other.lock().expect("lock").id;
    assert_ne!(first, second, "a new connection in place of the broken one");
    assert_eq!(counts.opened(), 2);
    assert_eq!(pool.size(), 1, "the broken one's slot was freed for it");
    drop((shared, other));
    drop(pool);
    counts.assert_each_closed_once();
}

#[test]
fn drivers_below_threadsafety_two_refuse_sharing() {
    let err = Pool::builder(Counted::new(Sqlite::memory()))
        .max_shared(1)
        .build()
        .expect_err("level 1");
    assert!(
        matches!(
            err,
            PoolError::Config(ConfigError::NotShareable { level: 1, .. })
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("threadsafety 1") && message.contains("max_shared 0"),
        "{message}"
    );
    let pool = Pool::new(Counted::new(Sqlite::memory())).expect("pool");
    let err = pool.get_shared().expect_err("level 1");
    assert!(matches!(
        err,
        PoolError::Config(ConfigError::NotShareable { .. })
    ));
    assert_eq!(pool.size(), 0, "nothing opened");
}

#[test]
fn max_shared_above_max_size_is_a_config_error() {
    let (module, _) = shareable();
    let err = Pool::builder(module)
        .max_size(2)
        .max_shared(3)
        .build()
        .expect_err("3 > 2");
    assert!(matches!(
        err,
        PoolError::Config(ConfigError::SharedAboveMax {
            max_shared: 3,
            max_size: 2
        })
    ));
}

#[test]
fn with_max_shared_zero_each_handle_has_a_connection_of_its_own() {
    let (module, counts) = shareable();
    let pool = Pool::new(module).expect("pool");
    let a = pool.get_shared().expect("a");
    let b = pool.get_shared().expect("b");
    assert!(!a.same_connection(&b));
    assert_eq!(a.share_count(), 1);
    let a2 = a.clone();
    assert_eq!(a2.share_count(), 2, "a clone still shares");
    drop((a, a2, b));
    assert_eq!(counts.opened(), 2);
    assert_eq!(pool.stats().idle, 2);
}

#[test]
fn a_non_blocking_pool_fails_at_once_when_nothing_can_be_shared() {
    let (module, _) = shareable();
    let pool = Pool::builder(module)
        .max_size(1)
        .max_shared(1)
        .blocking(false)
        .build()
        .expect("pool");
    let a = pool.get_shared().expect("a");
    let _tx = a.begin().expect("begin");
    let err = pool.get_shared().expect_err("inside a transaction");
    assert!(matches!(err, PoolError::Exhausted { .. }), "{err}");
}

#[test]
fn simple_pooled_db_shares_connections_of_a_threadsafe_driver() {
    let dbpool = SimplePooledDB::new(Sqlite::memory(), 2).expect("simple");
    let handles: Vec<_> = (0..4)
        .map(|_| dbpool.shared_connection().expect("shared"))
        .collect();
    assert_eq!(dbpool.pool().size(), 2);
    assert_eq!(handles[0].share_count(), 2);
    let mut conn = handles[3].lock().expect("lock");
    conn.execute("SELECT 1", &params![]).expect("query");
}
