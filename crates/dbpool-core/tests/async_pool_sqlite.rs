//! The async front-end on SQLite, under tokio's runtimes and
//! `futures::executor`. Progress is proven with channels, never with timings; the seed's
//! "returns immediately" test is in the behaviour matrix (`tests/tests/pool_matrix_async_*.rs`).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

mod support;

use dbapi::{params, Connection, ErrorKind, Value};
use dbapi_sqlite::Sqlite;
use dbpool_core::{AsyncPool, Cleanup, CloseReason, Fairness, Pool, PoolError, ThreadPool};
use support::counted::Counted;
use support::PATIENCE;

fn async_pool(max_size: usize) -> AsyncPool<Sqlite> {
    AsyncPool::new(
        Pool::builder(Sqlite::memory())
            .max_size(max_size)
            .build()
            .expect("pool"),
    )
}

#[test]
fn get_run_commit_and_reuse() {
    let pool = AsyncPool::new(
        Pool::builder(Sqlite::shared_memory("async_reuse"))
            .min_size(1)
            .max_size(1)
            .build()
            .expect("pool"),
    );
    futures::executor::block_on(async {
        let mut conn = pool.get().await.expect("get");
        conn.execute("CREATE TABLE t (x INTEGER)", params![])
            .await
            .expect("create");
        assert_eq!(
            conn.execute("INSERT INTO t VALUES (?)", params![7])
                .await
                .expect("insert"),
            1
        );
        conn.commit().await.expect("commit");
        let row = conn
            .query_one("SELECT x FROM t", params![])
            .await
            .expect("select")
            .expect("a row");
        assert_eq!(row.get::<i64>("x").expect("int"), 7);
        let in_txn = conn.run(|c| c.in_transaction()).await.expect("run");
        assert_eq!(in_txn, Some(false));
        drop(conn);
        let mut again = pool.get().await.expect("reuse");
        assert_eq!(
            again
                .query("SELECT count(*) FROM t", params![])
                .await
                .expect("count")[0][0],
            Value::Int(1)
        );
    });
    assert_eq!(pool.pool().stats().created, 1);
}

#[test]
fn dropping_a_waiting_get_leaves_no_phantom_waiter_and_no_leak() {
    let pool = async_pool(1);
    let held = pool.pool().get().expect("hold the only connection");
    let mut waiting = Box::pin(pool.get());
    assert!(
        futures::executor::block_on(futures::future::poll_immediate(&mut waiting)).is_none(),
        "nothing free: the get waits"
    );
    assert_eq!(pool.pool().waiting(), 1);
    drop(waiting);
    assert_eq!(pool.pool().waiting(), 0, "no phantom waiter");
    drop(held);
    assert_eq!(
        pool.pool().stats().idle,
        1,
        "the connection went back, not to a ghost"
    );
    assert!(pool.pool().try_get().expect("free").is_some());
}

#[test]
fn a_get_dropped_after_being_served_gives_the_connection_back() {
    let pool = async_pool(1);
    let held = pool.pool().get().expect("hold");
    let mut waiting = Box::pin(pool.get());
    assert!(futures::executor::block_on(futures::future::poll_immediate(&mut waiting)).is_none());
    drop(held); // handed straight to the queued future...
    drop(waiting); // ...which is dropped before it ever looks
    assert_eq!(pool.pool().waiting(), 0);
    assert_eq!(pool.pool().stats().idle, 1);
    assert_eq!(pool.pool().size(), 1);
}

#[test]
fn dropping_a_running_call_lets_it_finish_then_returns_the_connection() {
    let (returned_tx, returned_rx) = std::sync::mpsc::channel();
    let returned_tx = std::sync::Mutex::new(returned_tx);
    let pool = AsyncPool::new(
        Pool::builder(Sqlite::memory())
            .max_size(1)
            .cleanup(Cleanup::custom(move |_| {
                let _ = returned_tx.lock().expect("lock").send(());
                Ok(())
            }))
            .build()
            .expect("pool"),
    );
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let finished = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&finished);
    futures::executor::block_on(async {
        let mut conn = pool.get().await.expect("get");
        {
            let mut call = Box::pin(conn.run(move |_| {
                go_rx.recv().expect("go");
                seen.fetch_add(1, SeqCst);
            }));
            assert!(futures::future::poll_immediate(&mut call).await.is_none());
        } // the call's future is dropped while the closure is blocked
        drop(conn);
    });
    go_tx.send(()).expect("let the call finish");
    returned_rx
        .recv_timeout(PATIENCE)
        .expect("the connection was returned after the call");
    assert_eq!(finished.load(SeqCst), 1, "the call ran to completion");
    let deadline = std::time::Instant::now() + PATIENCE;
    while pool.pool().stats().idle != 1 {
        assert!(std::time::Instant::now() < deadline, "never returned");
        std::thread::yield_now();
    }
}

#[test]
fn a_panic_in_a_closure_poisons_only_that_connection() {
    let pool = async_pool(1);
    futures::executor::block_on(async {
        let mut conn = pool.get().await.expect("get");
        let err = conn
            .run(|_| -> () { panic!("bug in user code") })
            .await
            .expect_err("panicked");
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert!(!conn.is_usable());
        let err = conn.execute("SELECT 1", params![]).await.expect_err("gone");
        assert_eq!(err.kind(), ErrorKind::Interface);
        drop(conn);
        let mut fresh = pool.get().await.expect("the pool still works");
        fresh.execute("SELECT 1", params![]).await.expect("query");
    });
    assert_eq!(pool.pool().stats().closed(CloseReason::Panicked), 1);
}

#[test]
fn one_pool_serves_threads_and_tasks() {
    let pool = async_pool(1);
    let held = pool
        .pool()
        .get()
        .expect("a thread holds the only connection");
    let thread_pool = pool.pool().clone();
    let (queued_tx, queued_rx) = std::sync::mpsc::channel();
    let releaser = std::thread::spawn(move || {
        queued_rx.recv().expect("the task is queued");
        assert_eq!(thread_pool.waiting(), 1);
        drop(held);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut get = Box::pin(pool.get());
        assert!(futures::future::poll_immediate(&mut get).await.is_none());
        queued_tx.send(()).expect("tell the thread");
        let mut conn = get.await.expect("served by the thread's return");
        conn.execute("SELECT 1", params![]).await.expect("query");
    });
    releaser.join().expect("thread");
}

#[test]
fn async_wait_timeout_fires_without_a_runtime_timer() {
    let pool = AsyncPool::new(
        Pool::builder(Sqlite::memory())
            .max_size(1)
            .wait_timeout(Duration::from_millis(20))
            .build()
            .expect("pool"),
    );
    let _held = pool.pool().get().expect("hold");
    let result = futures::executor::block_on(pool.get());
    assert!(
        matches!(result, Err(PoolError::Timeout { max_size: 1, .. })),
        "{result:?}"
    );
    assert_eq!(pool.pool().waiting(), 0);
}

#[test]
fn connecting_and_driver_calls_happen_off_the_executor() {
    for connect_timeout in [None, Some(Duration::from_secs(30))] {
        let module = Counted::new(Sqlite::memory());
        let counts = Arc::clone(&module.counts);
        let pool = AsyncPool::new(
            Pool::builder(module)
                .connect_timeout(connect_timeout)
                .build()
                .expect("pool"),
        );
        std::thread::Builder::new()
            .name("the-executor".to_owned())
            .spawn(move || {
                let ran_on = futures::executor::block_on(async {
                    let mut conn = pool.get().await.expect("get");
                    conn.run(|_| std::thread::current().name().map(str::to_owned))
                        .await
                        .expect("run")
                });
                assert_eq!(ran_on.as_deref(), Some("dbpool-tpool"));
            })
            .expect("spawn")
            .join()
            .expect("executor thread");
        let connected_on = counts.connect_threads.lock().expect("lock").clone();
        assert_eq!(connected_on.len(), 1);
        assert!(
            connected_on[0].starts_with("dbpool-"),
            "connected on {:?}, not on a pool thread",
            connected_on[0]
        );
    }
}

#[test]
fn an_async_waiter_of_an_eventually_fair_pool_is_woken_to_retry() {
    let pool = AsyncPool::new(
        Pool::builder(Sqlite::memory())
            .max_size(1)
            .fairness(Fairness::Eventual(Duration::from_secs(60)))
            .build()
            .expect("pool"),
    );
    let held = pool.pool().get().expect("hold");
    let mut waiting = Box::pin(pool.get());
    assert!(futures::executor::block_on(futures::future::poll_immediate(&mut waiting)).is_none());
    drop(held);
    let mut conn = futures::executor::block_on(waiting).expect("served after the retry");
    futures::executor::block_on(conn.execute("SELECT 1", params![])).expect("query");
    drop(conn);
    assert_eq!(pool.pool().waiting(), 0);
}

#[test]
fn many_tasks_share_a_small_pool_under_tokio_multi_thread() {
    let pool = AsyncPool::new(
        Pool::builder(Sqlite::shared_memory("async_multi_thread"))
            .min_size(1)
            .max_size(2)
            .build()
            .expect("pool"),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let total: i64 = runtime.block_on(async {
        let tasks: Vec<_> = (0..16_i64)
            .map(|i| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let mut conn = pool.get().await.expect("get");
                    let row = conn
                        .query_one("SELECT ? * 2", params![i])
                        .await
                        .expect("query")
                        .expect("row");
                    row.get::<i64>(0).expect("int")
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("task");
        }
        total
    });
    assert_eq!(total, (0..16).map(|i| i * 2).sum::<i64>());
    assert!(
        pool.pool().stats().created <= 2,
        "never more than max_size opened"
    );
}

#[test]
fn a_clean_connection_is_back_on_drop_and_a_dirty_one_is_rolled_back_off_the_executor() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    // One worker thread, so that a job stuck on it holds up anything sent there after.
    let tpool = ThreadPool::new(1);
    let pool = AsyncPool::with_thread_pool(
        Pool::builder(module).max_size(1).build().expect("pool"),
        tpool.clone(),
    );
    futures::executor::block_on(async {
        let mut conn = pool.get().await.expect("get");
        conn.query("SELECT 1", params![]).await.expect("select");
        let (unblock, blocked) = std::sync::mpsc::channel::<()>();
        let stuck = tpool.spawn(move || blocked.recv());
        drop(conn);
        // No transaction was open: returned by the drop itself — no rollback, and no job on
        // the (now stuck) thread pool, or the connection would not be idle yet.
        assert_eq!(pool.pool().stats().idle, 1);
        assert_eq!(counts.rollbacks(), 0);
        unblock.send(()).expect("unblock");
        stuck.await.expect("no panic").expect("received");

        let mut conn = pool.get().await.expect("get again");
        conn.execute("CREATE TABLE t (x INTEGER)", params![])
            .await
            .expect("create");
        conn.execute("INSERT INTO t VALUES (1)", params![])
            .await
            .expect("insert");
        drop(conn);
        // The rollback is a round trip: it runs on the thread pool, and the connection comes
        // back once it is done (the pool holds one connection).
        let mut again = pool.get().await.expect("get after the rollback");
        assert_eq!(counts.rollbacks(), 1);
        assert_eq!(
            again.run(|c| c.in_transaction()).await.expect("run"),
            Some(false)
        );
    });
    assert_eq!(pool.pool().stats().created, 1);

    // Where the cleanup runs: a custom one always calls the driver, so always off the executor.
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let pool = AsyncPool::new(
        Pool::builder(Sqlite::memory())
            .cleanup(Cleanup::custom(
                move |c: &mut dbapi_sqlite::SqliteConnection| {
                    let name = std::thread::current().name().map(str::to_owned);
                    tx.lock().expect("lock").send(name).expect("send");
                    c.rollback()
                },
            ))
            .build()
            .expect("pool"),
    );
    std::thread::Builder::new()
        .name("the-executor".to_owned())
        .spawn(move || {
            futures::executor::block_on(async {
                let mut conn = pool.get().await.expect("get");
                conn.execute("CREATE TABLE t (x INTEGER)", params![])
                    .await
                    .expect("create");
            });
        })
        .expect("spawn")
        .join()
        .expect("executor thread");
    assert_eq!(
        rx.recv().expect("the cleanup ran").as_deref(),
        Some("dbpool-tpool")
    );
}
