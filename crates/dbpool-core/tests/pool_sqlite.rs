//! The pool's seed behaviours on real SQLite connections (counted by a thin wrapper).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use dbapi::{params, Connection, Cursor, ErrorKind, Value};
use dbapi_sqlite::Sqlite;
use dbpool_core::{
    Cleanup, CloseReason, ConfigError, DatabaseConnector, Fairness, Pool, PoolError,
};
use support::counted::Counted;
use support::{wait_until_waiting, PATIENCE};

fn file_db() -> (tempfile::TempDir, Sqlite) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pool.db").to_string_lossy().into_owned();
    (dir, Sqlite::file(path))
}

fn counted_pool(max_size: usize) -> (Pool<Counted>, Arc<support::counted::Counts>) {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module)
        .max_size(max_size)
        .build()
        .expect("valid pool");
    (pool, counts)
}

/// A counted pool with eventlet's strict first-come, first-served order.
fn fifo_pool(max_size: usize) -> Pool<Counted> {
    Pool::builder(Counted::new(Sqlite::memory()))
        .max_size(max_size)
        .fairness(Fairness::Fifo)
        .build()
        .expect("valid pool")
}

#[test]
fn a_pooled_cursor_streams() {
    let pool = Pool::builder(Sqlite::memory())
        .max_size(1)
        .build()
        .expect("pool");
    let mut conn = pool.get().expect("get");
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true)
        .expect("the pool passes streaming on to SQLite");
    cur.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT x FROM n",
        &params![],
    )
    .expect("query");
    assert_eq!(
        cur.rowcount(),
        -1,
        "streaming: unknown until the rows are read"
    );
    let rows: Vec<Value> = cur
        .fetchall()
        .expect("fetch")
        .iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(rows, (1..=5).map(Value::Int).collect::<Vec<_>>());
    assert_eq!(cur.rowcount(), 5);
}

#[test]
fn defaults_are_eventlets() {
    let pool = Pool::new(Sqlite::memory()).expect("defaults are valid");
    assert_eq!(pool.max_size(), 4);
    assert_eq!(pool.size(), 0, "min_size 0 opens nothing");
    assert_eq!(pool.free(), 4);
    let text = format!("{:?}", Pool::builder(Sqlite::memory()));
    for part in [
        "min_size: 0",
        "max_size: 4",
        "max_idle: Some(10s)",
        "max_age: Some(30s)",
        "connect_timeout: Some(5s)",
        "cleanup: Rollback",
        "wait_timeout: None",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
}

#[test]
fn invalid_configuration_fails_at_build() {
    let err = Pool::builder(Sqlite::memory())
        .max_size(0)
        .build()
        .expect_err("max_size 0");
    assert!(
        matches!(err, PoolError::Config(ConfigError::ZeroMaxSize)),
        "{err}"
    );
    let err = Pool::builder(Sqlite::memory())
        .min_size(5)
        .max_size(2)
        .build()
        .expect_err("min > max");
    assert!(
        matches!(
            err,
            PoolError::Config(ConfigError::MinAboveMax {
                min_size: 5,
                max_size: 2
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("lower min_size or raise max_size"));
    let err = Pool::builder(Sqlite::memory())
        .max_usage(0)
        .build()
        .expect_err("max_usage 0");
    assert!(matches!(err, PoolError::Config(ConfigError::ZeroMaxUsage)));
}

#[test]
fn reuse_is_lifo() {
    let (pool, counts) = counted_pool(4);
    let a = pool.get().expect("a");
    let b = pool.get().expect("b");
    let (a_id, b_id) = (a.id, b.id);
    assert_ne!(a_id, b_id);
    drop(a);
    drop(b);
    let next = pool.get().expect("reuse");
    assert_eq!(
        next.id, b_id,
        "the most recently returned connection comes first"
    );
    let after = pool.get().expect("reuse");
    assert_eq!(after.id, a_id);
    assert_eq!(counts.opened(), 2, "no new connection was opened");
}

#[test]
fn connection_is_reused_not_reopened() {
    let (pool, counts) = counted_pool(4);
    for _ in 0..100 {
        let mut conn = pool.get().expect("get");
        let mut cur = conn.cursor().expect("cursor");
        cur.execute("SELECT 1", &params![]).expect("select");
    }
    assert_eq!(counts.opened(), 1);
    assert_eq!(pool.stats().created, 1);
}

#[test]
fn waiters_are_served_in_arrival_order_by_direct_hand_off() {
    let pool = fifo_pool(1);
    let held = pool.get().expect("the only connection");
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for i in 0..8 {
        let waiter_pool = pool.clone();
        let order = Arc::clone(&order);
        handles.push(thread::spawn(move || {
            let pool = waiter_pool;
            let conn = pool.get().expect("served eventually");
            order.lock().expect("lock").push(i);
            drop(conn);
        }));
        wait_until_waiting(&pool, i + 1);
    }
    drop(held);
    // Direct hand-off: the connection went to the oldest waiter, so nobody can barge in.
    // (Each waiter returns it at once, so by now it may have moved down the queue; the
    // order check below is what proves FIFO.)
    for handle in handles {
        handle.join().expect("waiter thread");
    }
    assert_eq!(*order.lock().expect("lock"), (0..8).collect::<Vec<_>>());
}

#[test]
fn a_returned_connection_cannot_be_taken_by_a_newcomer_while_someone_waits() {
    let pool = fifo_pool(1);
    let held = pool.get().expect("the only connection");
    let (got_tx, got_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || {
            let conn = pool.get().expect("waiter served");
            got_tx.send(()).expect("report");
            release_rx.recv().expect("told to release");
            drop(conn);
        })
    };
    wait_until_waiting(&pool, 1);
    drop(held);
    assert!(
        pool.try_get().expect("no connect needed").is_none(),
        "a newcomer took the connection the waiter was promised"
    );
    got_rx.recv_timeout(PATIENCE).expect("waiter got it");
    release_tx.send(()).expect("release");
    waiter.join().expect("waiter");
    assert!(pool.try_get().expect("free now").is_some());
}

#[test]
fn wait_timeout_error_says_why() {
    let (pool, _counts) = counted_pool(1);
    let _held = pool.get().expect("the only connection");
    let err = pool
        .get_timeout(Duration::from_millis(20))
        .expect_err("exhausted");
    let err_text = err.to_string();
    match err {
        PoolError::Timeout {
            waited,
            max_size,
            in_use,
            waiting,
            ..
        } => {
            assert!(waited >= Duration::from_millis(20));
            assert_eq!((max_size, in_use, waiting), (1, 1, 0));
        }
        other => panic!("expected Timeout, got {other}"),
    }
    let text = err_text;
    assert!(text.contains("all 1 connections are in use"), "{text}");
    assert!(text.contains("raise max_size"), "{text}");
    assert_eq!(pool.waiting(), 0, "the timed-out waiter left the queue");
    assert_eq!(pool.stats().timeouts, 1);
    assert_eq!(pool.stats().waited, 0, "a timeout is not a served wait");
}

#[test]
fn try_get_and_non_blocking_pools_do_not_wait() {
    let (pool, _counts) = counted_pool(1);
    let held = pool.get().expect("first");
    assert!(pool.try_get().expect("no connect").is_none());
    drop(held);
    assert!(pool.try_get().expect("idle one").is_some());

    let pool = Pool::builder(Sqlite::memory())
        .max_size(1)
        .blocking(false)
        .build()
        .expect("pool");
    let _held = pool.get().expect("first");
    let err = pool.get().expect_err("non-blocking and exhausted");
    assert!(
        matches!(err, PoolError::Exhausted { max_size: 1, .. }),
        "{err}"
    );
}

#[test]
fn put_close_and_drop_all_return() {
    let (pool, counts) = counted_pool(4);
    let a = pool.get().expect("a");
    pool.put(a).expect("put");
    assert_eq!(pool.stats().idle, 1);
    let b = pool.get().expect("b");
    b.close();
    assert_eq!(pool.stats().idle, 1);
    let c = pool.get().expect("c");
    drop(c);
    assert_eq!(pool.stats().idle, 1);
    assert_eq!(counts.opened(), 1);
}

#[test]
fn put_into_the_wrong_pool_is_an_error_and_loses_nothing() {
    let (pool_a, _) = counted_pool(2);
    let (pool_b, _) = counted_pool(2);
    let conn = pool_a.get().expect("from a");
    let err = pool_b.put(conn).expect_err("wrong pool");
    assert!(matches!(err, PoolError::WrongPool { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("put it back into the pool it came from"));
    assert_eq!(pool_a.stats().idle, 1, "it went back to its own pool");
    assert_eq!(pool_a.size(), 1);
    assert_eq!(pool_b.size(), 0);
    assert_eq!(pool_b.free(), 2);
}

#[test]
fn discard_frees_the_slot_for_a_waiter_who_opens_anew() {
    let (pool, counts) = counted_pool(1);
    let held = pool.get().expect("only");
    let held_id = held.id;
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|c| c.id))
    };
    wait_until_waiting(&pool, 1);
    held.discard();
    let new_id = waiter.join().expect("waiter").expect("got a connection");
    assert_ne!(new_id, held_id, "a fresh connection");
    assert_eq!(counts.opened(), 2);
    assert_eq!(pool.stats().closed(CloseReason::Discarded), 1);
    assert_eq!(pool.size(), 1);
}

#[test]
fn ten_uncommitted_inserts_are_gone_after_put() {
    let (_dir, module) = file_db();
    let pool = Pool::builder(module).max_size(1).build().expect("pool");
    {
        let mut conn = pool.get().expect("get");
        conn.execute("CREATE TABLE t (x INTEGER)", &params![])
            .expect("create");
        conn.commit().expect("commit");
        for i in 0..10 {
            conn.execute("INSERT INTO t VALUES (?)", &params![i])
                .expect("insert");
        }
        assert_eq!(conn.in_transaction(), Some(true));
    }
    let mut conn = pool.get().expect("same connection");
    assert_eq!(conn.in_transaction(), Some(false), "rolled back on return");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT count(*) FROM t", &params![])
        .expect("count");
    assert_eq!(cur.fetchone().expect("f").expect("row")[0], Value::Int(0));
}

#[test]
fn cleanup_none_keeps_the_session_and_custom_cleanup_runs() {
    let (_dir, module) = file_db();
    let pool = Pool::builder(module)
        .max_size(1)
        .cleanup(Cleanup::None)
        .build()
        .expect("pool");
    {
        let mut conn = pool.get().expect("get");
        conn.execute("CREATE TABLE t (x)", &params![])
            .expect("create");
    }
    assert_eq!(
        pool.get().expect("again").in_transaction(),
        Some(true),
        "Cleanup::None left the transaction open"
    );

    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let pool = Pool::builder(Sqlite::memory())
        .cleanup(Cleanup::custom(
            move |conn: &mut dbapi_sqlite::SqliteConnection| {
                seen.fetch_add(1, SeqCst);
                conn.rollback()
            },
        ))
        .build()
        .expect("pool");
    drop(pool.get().expect("get"));
    assert_eq!(calls.load(SeqCst), 1);
}

#[test]
fn cleanup_can_be_chosen_per_return() {
    let (_dir, module) = file_db();
    let pool = Pool::builder(module).max_size(1).build().expect("pool");
    let mut conn = pool.get().expect("get");
    conn.execute("CREATE TABLE t (x)", &params![])
        .expect("create");
    pool.put_with(conn, Cleanup::None)
        .expect("put with no cleanup");
    assert_eq!(pool.get().expect("again").in_transaction(), Some(true));
    // item(cleanup=...) presets the cleanup at checkout.
    let (_dir, module) = file_db();
    let pool = Pool::builder(module).max_size(1).build().expect("pool");
    let mut conn = pool.item(Cleanup::None).expect("item");
    conn.execute("CREATE TABLE t (x)", &params![])
        .expect("create");
    drop(conn);
    assert_eq!(pool.get().expect("again").in_transaction(), Some(true));
}

#[test]
fn rollback_round_trip_is_skipped_when_provably_clean() {
    let (pool, counts) = counted_pool(1);
    drop(pool.get().expect("untouched"));
    assert_eq!(counts.rollbacks(), 0, "nothing ran: no rollback");
    {
        let mut conn = pool.get().expect("read only");
        conn.execute("SELECT 1", &params![]).expect("select");
    }
    assert_eq!(
        counts.rollbacks(),
        0,
        "the driver reports no open transaction"
    );
    {
        let mut conn = pool.get().expect("writer");
        conn.execute("CREATE TEMP TABLE t (x)", &params![])
            .expect("create");
    }
    assert_eq!(counts.rollbacks(), 1, "an open transaction is rolled back");
}

#[test]
fn max_idle_or_max_age_zero_close_on_return() {
    let pool = Pool::builder(Counted::new(Sqlite::memory()))
        .max_idle(Duration::ZERO)
        .build()
        .expect("pool");
    drop(pool.get().expect("get"));
    assert_eq!(pool.size(), 0);
    assert_eq!(pool.stats().closed(CloseReason::Idle), 1);

    let pool = Pool::builder(Counted::new(Sqlite::memory()))
        .max_age(Duration::ZERO)
        .build()
        .expect("pool");
    drop(pool.get().expect("get"));
    assert_eq!(pool.size(), 0);
    assert_eq!(pool.stats().closed(CloseReason::Age), 1);
}

#[test]
fn age_is_checked_on_return() {
    // Any connection is older than a nanosecond by the time it is returned.
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module)
        .max_age(Duration::from_nanos(1))
        .build()
        .expect("pool");
    let conn = pool.get().expect("get");
    assert_eq!(
        counts.alive(),
        1,
        "max_age never closes a checked-out connection"
    );
    drop(conn);
    assert_eq!(counts.alive(), 0);
    assert_eq!(pool.stats().closed(CloseReason::Age), 1);
}

#[test]
fn a_waiter_wakes_when_an_expired_connection_is_put_back() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module)
        .max_size(1)
        .max_idle(Duration::ZERO)
        .build()
        .expect("pool");
    let held = pool.get().expect("only");
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|c| c.id))
    };
    wait_until_waiting(&pool, 1);
    drop(held); // closed at once (max_idle 0): the slot goes to the waiter
    let id = waiter.join().expect("waiter").expect("served");
    assert_eq!(id, 2, "the waiter opened a new connection");
    assert_eq!(counts.max_alive(), 1);
}

#[test]
fn idle_connections_expire_on_the_maintenance_thread() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let closed = counts.close_events();
    let pool = Pool::builder(module)
        .max_idle(Duration::from_millis(1))
        .build()
        .expect("pool");
    drop(pool.get().expect("get"));
    closed
        .recv_timeout(PATIENCE)
        .expect("the idle connection was closed");
    assert_eq!(pool.stats().closed(CloseReason::Idle), 1);
    assert_eq!(pool.size(), 0);
    assert_eq!(pool.free(), 4);
}

#[test]
fn min_size_is_opened_at_build_and_topped_up_after_expiry() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let opened = counts.open_events();
    let pool = Pool::builder(module)
        .min_size(2)
        .max_idle(Duration::from_millis(1))
        .build()
        .expect("pool");
    assert_eq!(opened.recv_timeout(PATIENCE).expect("warm-up"), 1);
    assert_eq!(opened.recv_timeout(PATIENCE).expect("warm-up"), 2);
    // Both expire after 1 ms; maintenance opens replacements to get back to min_size.
    assert_eq!(opened.recv_timeout(PATIENCE).expect("top-up"), 3);
    assert_eq!(opened.recv_timeout(PATIENCE).expect("top-up"), 4);
    assert!(pool.stats().closed(CloseReason::Idle) >= 2);
}

#[test]
fn clear_after_min_size_warm_up_fixes_the_count() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module)
        .min_size(2)
        .max_size(4)
        .max_idle(None)
        .max_age(None)
        .build()
        .expect("pool");
    assert_eq!((pool.size(), pool.stats().idle, pool.free()), (2, 2, 4));
    let out = pool.get().expect("one out");
    assert_eq!(pool.free(), 3);
    let opened = counts.open_events();
    pool.clear();
    assert_eq!(
        pool.stats().closed(CloseReason::Cleared),
        1,
        "only the idle one"
    );
    assert!(counts.alive() >= 1, "the checked-out connection stays open");
    // min_size is restored in the background: one replacement for the cleared one.
    opened.recv_timeout(PATIENCE).expect("top-up after clear");
    drop(out);
    assert!(pool.size() <= 4);
    assert_eq!(pool.waiting(), 0);
}

#[test]
fn one_maintenance_thread_serves_every_pool() {
    let pools: Vec<_> = (0..5)
        .map(|_| {
            Pool::builder(Sqlite::memory())
                .max_idle(Duration::from_secs(60))
                .build()
                .expect("pool")
        })
        .collect();
    for pool in &pools {
        drop(pool.get().expect("get")); // schedules an expiry
    }
    let maintenance_threads = std::fs::read_dir("/proc/self/task")
        .expect("linux /proc")
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with("dbpool-maint"))
        })
        .count();
    assert_eq!(maintenance_threads, 1);
}

#[test]
fn stats_report_the_pool() {
    let (pool, _) = counted_pool(2);
    let a = pool.get().expect("a");
    let b = pool.get().expect("b");
    drop(b);
    let stats = pool.stats();
    assert_eq!(
        (stats.open, stats.idle, stats.in_use, stats.waiting),
        (2, 1, 1, 0)
    );
    assert_eq!(stats.created, 2);
    drop(a);
    let _ = pool.get_timeout(Duration::from_millis(1)).expect("free");
    assert_eq!(pool.stats().timeouts, 0);
}

#[test]
fn a_panic_while_checked_out_discards_and_never_poisons() {
    let (pool, counts) = counted_pool(1);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut conn = pool.get().expect("get");
        conn.execute("CREATE TEMP TABLE t (x)", &params![])
            .expect("create");
        panic!("user code fails mid-transaction");
    }));
    assert!(result.is_err());
    assert_eq!(pool.stats().closed(CloseReason::Panicked), 1);
    assert_eq!(counts.alive(), 0);
    assert_eq!(pool.size(), 0);
    let mut conn = pool.get().expect("the pool still works");
    conn.execute("SELECT 1", &params![]).expect("query");
}

#[test]
fn the_wrapper_is_a_dbapi_connection() {
    fn count_rows<C: Connection>(conn: &mut C) -> dbapi::Result<i64> {
        let mut cur = conn.cursor()?;
        cur.execute("SELECT count(*) FROM sqlite_master", &params![])?;
        cur.fetchone()?.map_or(Ok(0), |row| row.get::<i64>(0))
    }
    let pool = Pool::new(Sqlite::memory()).expect("pool");
    let mut conn = pool.get().expect("get");
    assert!(conn.is_usable(), "eventlet's bool(conn)");
    assert_eq!(count_rows(&mut conn).expect("generic use"), 0);
    // Driver-specific calls through Deref.
    conn.executescript("CREATE TABLE a (x); CREATE TABLE b (y);")
        .expect("native call");
    assert_eq!(count_rows(&mut conn).expect("generic use"), 2);
    // DB-API close() through the trait returns it; every later call is an Interface error.
    Connection::close(&mut conn).expect("close returns it");
    assert!(!conn.is_usable());
    assert_eq!(pool.stats().idle, 1);
    let err = conn.cursor().map(|_| ()).expect_err("used after return");
    assert_eq!(err.kind(), ErrorKind::Interface);
    assert!(err.message().contains("returned to the pool"), "{err}");
    assert_eq!(
        conn.commit().expect_err("commit").kind(),
        ErrorKind::Interface
    );
    Connection::close(&mut conn).expect("closing twice is harmless");
    drop(conn);
    assert_eq!(pool.stats().idle, 1, "returned once, not twice");
    assert_eq!(pool.size(), 1);
}

#[test]
fn pools_are_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Pool<Sqlite>>();
    fn assert_send<T: Send>() {}
    assert_send::<dbpool_core::PooledConnection<Sqlite>>();
    let pool = Pool::new(Sqlite::memory()).expect("pool");
    let clone = pool.clone();
    drop(pool.get().expect("get"));
    assert_eq!(clone.stats().idle, 1, "clones share one pool");
}

#[test]
fn with_returns_the_connection_after_the_closure() {
    let (pool, _) = counted_pool(1);
    let n = pool
        .with(|conn| {
            let mut cur = conn.cursor().expect("cursor");
            cur.execute("SELECT 41 + 1", &params![]).expect("select");
            cur.fetchone().expect("f").expect("row").get::<i64>(0)
        })
        .expect("got a connection")
        .expect("read");
    assert_eq!(n, 42);
    assert_eq!(pool.stats().idle, 1);
}

#[test]
fn served_waits_are_counted_timed_and_bucketed() {
    let (pool, _) = counted_pool(1);
    let held = pool.get().expect("only");
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || drop(pool.get().expect("served")))
    };
    wait_until_waiting(&pool, 1);
    drop(held);
    waiter.join().expect("waiter");
    let stats = pool.stats();
    assert_eq!(stats.waited, 1);
    assert!(stats.wait_time > Duration::ZERO);
    assert_eq!(stats.wait_histogram.iter().sum::<u64>(), 1);
}

#[test]
fn init_sql_max_usage_and_max_cached() {
    let pool = Pool::builder(Counted::new(Sqlite::memory()))
        .init_sql("CREATE TEMP TABLE session_marker (x)")
        .max_usage(3)
        .build()
        .expect("pool");
    for _ in 0..3 {
        let mut conn = pool.get().expect("get");
        conn.execute("SELECT * FROM session_marker", &params![])
            .expect("init_sql ran on this connection");
    }
    assert_eq!(pool.stats().closed(CloseReason::MaxUsage), 1);
    assert_eq!(pool.stats().created, 1);
    drop(pool.get().expect("a fresh one"));
    assert_eq!(pool.stats().created, 2);

    let pool = Pool::builder(Sqlite::memory())
        .max_cached(1)
        .build()
        .expect("pool");
    let (a, b) = (pool.get().expect("a"), pool.get().expect("b"));
    drop(a);
    drop(b);
    assert_eq!(pool.stats().idle, 1);
    assert_eq!(pool.stats().closed(CloseReason::OverCached), 1);

    let err = Pool::builder(Sqlite::memory())
        .init_sql("SELEKT")
        .build()
        .and_then(|p| p.get().map(|_| ()))
        .expect_err("bad init_sql");
    assert!(err.to_string().contains("init_sql"), "{err}");
}

#[test]
fn database_connector_is_a_pool_of_pools_with_default_credentials() {
    let credentials = [(
        "default",
        dbapi::ConnectParams::from_pairs("sqlite", [("user", "any")]).expect("params"),
    )];
    let connector = DatabaseConnector::new(credentials, |params| {
        assert_eq!(params.host(), Some("db1"));
        Ok(Sqlite::memory())
    })
    .with_pool_settings(|b| b.max_size(3));
    let a = connector.get("db1", "app").expect("pool");
    let b = connector.get("db1", "app").expect("same pool");
    drop(a.get().expect("conn"));
    assert_eq!(b.stats().idle, 1, "one pool per (host, db)");
    assert_eq!(a.max_size(), 3);

    let strict = DatabaseConnector::new(
        [(
            "known",
            dbapi::ConnectParams::from_pairs("sqlite", [("user", "u")]).expect("params"),
        )],
        |_| Ok(Sqlite::memory()),
    );
    assert!(strict.credentials_for("unknown").is_none());
    let err = strict.get("unknown", "db").expect_err("no credentials");
    assert!(err.to_string().contains("no credentials"), "{err}");
}

#[test]
fn thirty_two_threads_never_exceed_max_size() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module).max_size(4).build().expect("pool");
    let threads = 32;
    let cycles = 10_000;
    let start = Arc::new(Barrier::new(threads));
    let in_use = Arc::new(AtomicUsize::new(0));
    let max_in_use = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    for _ in 0..threads {
        let (pool, start, done) = (pool.clone(), Arc::clone(&start), done_tx.clone());
        let (in_use, max_in_use) = (Arc::clone(&in_use), Arc::clone(&max_in_use));
        thread::spawn(move || {
            start.wait();
            for _ in 0..cycles {
                let conn = pool.get().expect("get");
                let now = in_use.fetch_add(1, SeqCst) + 1;
                max_in_use.fetch_max(now, SeqCst);
                in_use.fetch_sub(1, SeqCst);
                drop(conn);
            }
            done.send(()).expect("report");
        });
    }
    for _ in 0..threads {
        // A lost wake-up would hang a thread forever: fail instead of hanging.
        done_rx
            .recv_timeout(Duration::from_secs(300))
            .expect("a thread is stuck: lost wake-up or deadlock");
    }
    assert!(
        counts.max_alive() <= 4,
        "opened {} at once",
        counts.max_alive()
    );
    assert!(max_in_use.load(SeqCst) <= 4);
    assert_eq!(pool.size(), counts.alive());
    assert_eq!(pool.waiting(), 0);
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn eventual_fairness_wakes_a_waiter_that_can_then_take_the_returned_connection() {
    let (pool, counts) = {
        let module = Counted::new(Sqlite::memory());
        let counts = Arc::clone(&module.counts);
        let pool = Pool::builder(module)
            .max_size(1)
            .fairness(Fairness::Eventual(Duration::from_secs(60)))
            .build()
            .expect("pool");
        (pool, counts)
    };
    let held = pool.get().expect("only");
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || pool.get().map(|c| c.id))
    };
    wait_until_waiting(&pool, 1);
    drop(held); // back to the idle stack; the waiter is woken to try again
    assert_eq!(waiter.join().expect("waiter").expect("served"), 1);
    assert_eq!(counts.opened(), 1);
    assert_eq!(pool.waiting(), 0);
}

#[test]
fn eventual_fairness_hands_off_directly_once_the_bound_has_passed() {
    // A bound of a nanosecond has always passed by the time a connection is returned.
    let pool = Pool::builder(Counted::new(Sqlite::memory()))
        .max_size(1)
        .fairness(Fairness::Eventual(Duration::from_nanos(1)))
        .build()
        .expect("pool");
    let held = pool.get().expect("only");
    let (got_tx, got_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let waiter = {
        let pool = pool.clone();
        thread::spawn(move || {
            let conn = pool.get().expect("served");
            got_tx.send(()).expect("report");
            release_rx.recv().expect("release");
            drop(conn);
        })
    };
    wait_until_waiting(&pool, 1);
    drop(held);
    assert!(
        pool.try_get().expect("no connect").is_none(),
        "the waiter was past the bound: the connection was handed to it"
    );
    got_rx.recv_timeout(PATIENCE).expect("waiter served");
    release_tx.send(()).expect("release");
    waiter.join().expect("waiter");
}

#[test]
fn eventual_fairness_under_32_threads_loses_no_wake_up() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module)
        .max_size(4)
        .fairness(Fairness::Eventual(Duration::from_millis(1)))
        .wait_timeout(None)
        .build()
        .expect("pool");
    let start = Arc::new(Barrier::new(32));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    for _ in 0..32 {
        let (pool, start, done) = (pool.clone(), Arc::clone(&start), done_tx.clone());
        thread::spawn(move || {
            start.wait();
            for _ in 0..5_000 {
                drop(pool.get().expect("get"));
            }
            done.send(()).expect("report");
        });
    }
    for _ in 0..32 {
        done_rx
            .recv_timeout(Duration::from_secs(300))
            .expect("a thread is stuck: lost wake-up");
    }
    assert!(counts.max_alive() <= 4);
    assert_eq!(pool.waiting(), 0);
    assert_eq!(pool.stats().in_use, 0);
}

#[test]
fn close_gracefully_waits_for_checked_out_connections() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let pool = Pool::builder(module).max_size(2).build().expect("pool");
    let out = pool.get().expect("one out");
    drop(pool.get().expect("one idle"));
    assert!(
        !pool.close_gracefully(Duration::from_millis(1)),
        "one connection is still out"
    );
    assert_eq!(counts.alive(), 1, "the idle one was closed at once");
    let closer = {
        let pool = pool.clone();
        thread::spawn(move || pool.close_gracefully(PATIENCE))
    };
    drop(out); // closed on return, which ends the drain
    assert!(closer.join().expect("closer"), "drained");
    assert_eq!((pool.size(), counts.alive()), (0, 0));
    assert!(matches!(pool.get(), Err(PoolError::Closed { .. })));
}
