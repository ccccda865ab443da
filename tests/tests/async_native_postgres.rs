//! `AsyncPool` on PostgreSQL inside tokio: statements run in the calling task through the
//! adapter's `Nonblocking` face — no thread-pool hand-off — with the session's socket
//! following whichever runtime polls it, and the pool's accounting exact on the server.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use dbapi::{params, Connection, ErrorKind, Nonblocking, Value};
use dbapi_postgres::Postgres;
use dbpool_core::{AsyncPool, CloseReason, Pool, ThreadPool};
use dbpool_tests::matrix::unique;
use dbpool_tests::{scalar, wait_until, Backend, Pg, PATIENCE};

/// A multi-threaded runtime of two workers, I/O and timers enabled.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A pool of `size` connections of `module`, all opened by this thread before any task
/// comes (connecting is blocking work: it would start the thread pool).
fn warmed(module: Postgres, size: usize) -> AsyncPool<Postgres> {
    let pool = Pool::builder(module).max_size(size).build().expect("pool");
    let held: Vec<_> = (0..size).map(|_| pool.get().expect("open")).collect();
    drop(held);
    AsyncPool::with_thread_pool(pool, ThreadPool::new(4))
}

/// The session's backend pid, asked in the task — failing, not hanging, if the answer never
/// comes (a socket left registered with a runtime nobody drives would never wake the task).
async fn backend_pid(pool: &AsyncPool<Postgres>) -> i64 {
    tokio::time::timeout(PATIENCE, ask_backend_pid(pool))
        .await
        .unwrap_or_else(|_| panic!("no answer within {PATIENCE:?}"))
}

async fn ask_backend_pid(pool: &AsyncPool<Postgres>) -> i64 {
    let mut conn = pool.get().await.expect("get");
    let row = conn
        .query_one("SELECT pg_backend_pid()::int8", params![])
        .await
        .expect("query")
        .expect("a row");
    conn.commit().await.expect("commit");
    row.get::<i64>(0).expect("pid")
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn statements_run_in_the_calling_task_with_no_thread_hand_off() {
    let tag = unique("async-native");
    let pool = warmed(Pg::module(&tag), 2);
    let runtime = runtime();
    let tasks: Vec<_> = (0..8_i64)
        .map(|task| {
            let pool = pool.clone();
            runtime.spawn(async move {
                for i in 0..25_i64 {
                    let mut conn = pool.get().await.expect("get");
                    let rows = conn
                        .query("SELECT $1::int8 * 100 + $2::int8", params![task, i])
                        .await
                        .expect("query");
                    assert_eq!(rows.len(), 1);
                    assert_eq!(rows[0][0], Value::Int(task * 100 + i));
                    let changed = conn
                        .execute("SELECT generate_series(1, $1::int4)", params![3_i64])
                        .await
                        .expect("execute");
                    assert_eq!(changed, 3, "rowcount of a three-row SELECT");
                    conn.commit().await.expect("commit");
                }
            })
        })
        .collect();
    for task in tasks {
        runtime.block_on(task).expect("task");
    }
    assert_eq!(
        pool.thread_pool().threads(),
        0,
        "no statement, commit or return went to the thread pool"
    );
    let stats = pool.pool().stats();
    assert_eq!(stats.closed_total(), 0, "no connection was lost");
    let mut observer = Pg::observer();
    assert_eq!(
        Pg::sessions(&mut observer, &tag),
        2,
        "the two sessions, no more"
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_transaction_in_the_task_rolls_back_and_commits() {
    let tag = unique("async-native-tx");
    let table = tag.replace('-', "_");
    let mut observer = Pg::observer();
    observer
        .execute(&format!("CREATE TABLE {table} (x int)"), &params![])
        .expect("create");
    let pool = warmed(Pg::module(&tag), 1);
    runtime().block_on(async {
        let mut conn = pool.get().await.expect("get");
        let insert = format!("INSERT INTO {table} VALUES ($1)");
        conn.execute(insert.clone(), params![1_i64])
            .await
            .expect("insert 1");
        conn.rollback().await.expect("rollback");
        conn.execute(insert.clone(), params![2_i64])
            .await
            .expect("insert 2");
        conn.commit().await.expect("commit");
        conn.execute(insert, params![3_i64])
            .await
            .expect("insert 3");
        // Returned inside a transaction: the pool's cleanup rolls it back.
    });
    let rows = scalar(
        &mut observer,
        &format!("SELECT coalesce(sum(x), 0)::int8 * 10 + count(*) FROM {table}"),
        &params![],
    );
    assert_eq!(rows, 21, "only the committed row (2), once");
    observer
        .execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn one_connection_moves_between_runtimes_and_threads() {
    let tag = unique("async-native-move");
    let pool = warmed(Pg::module(&tag), 1);
    let pid = Pg::session_id(&mut *pool.pool().get().expect("sync get"));
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let multi = runtime();
    for round in 0..3 {
        assert_eq!(
            current.block_on(backend_pid(&pool)),
            pid,
            "current-thread, {round}"
        );
        assert_eq!(
            Pg::session_id(&mut *pool.pool().get().expect("sync get")),
            pid,
            "a thread, {round}"
        );
        assert_eq!(
            multi.block_on(backend_pid(&pool)),
            pid,
            "multi-thread, {round}"
        );
    }
    // The runtimes the socket was registered with are gone: blocking calls and a new
    // runtime still reach the same session.
    drop(current);
    drop(multi);
    assert_eq!(
        Pg::session_id(&mut *pool.pool().get().expect("sync get")),
        pid
    );
    assert_eq!(runtime().block_on(backend_pid(&pool)), pid);
    assert_eq!(pool.pool().stats().closed_total(), 0);
    let mut observer = Pg::observer();
    assert_eq!(
        Pg::sessions(&mut observer, &tag),
        1,
        "one session throughout"
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_call_dropped_in_flight_closes_its_connection() {
    let tag = unique("async-native-drop");
    let pool = warmed(Pg::module(&tag), 1);
    let pid = Pg::session_id(&mut *pool.pool().get().expect("sync get"));
    let runtime = runtime();
    runtime.block_on(async {
        let mut conn = pool.get().await.expect("get");
        {
            let query = conn.query("SELECT pg_sleep(0.2)", params![]);
            let mut query = pin!(query);
            // One poll sends the statement; the answer is not there yet.
            let first = futures::future::poll_fn(|cx| Poll::Ready(query.as_mut().poll(cx))).await;
            assert!(first.is_pending(), "the statement is in flight");
        }
        assert!(
            !conn.is_usable(),
            "a call cut off mid-statement marks the connection"
        );
    });
    wait_until("the cut-off connection is closed", || {
        pool.pool().stats().closed(CloseReason::Broken) == 1
    });
    let next = runtime.block_on(backend_pid(&pool));
    assert_ne!(next, pid, "a new session, not the cut-off one");
    let mut observer = Pg::observer();
    wait_until("only the new session is left on the server", || {
        Pg::sessions(&mut observer, &tag) == 1
    });
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn errors_in_the_task_are_typed_and_a_killed_session_is_evicted() {
    let tag = unique("async-native-err");
    let pool = warmed(Pg::module(&tag), 1);
    let mut observer = Pg::observer();
    let runtime = runtime();
    let pid = runtime.block_on(async {
        let mut conn = pool.get().await.expect("get");
        let err = conn
            .query("SELEKT 1", params![])
            .await
            .expect_err("a syntax error");
        assert_eq!(err.kind(), ErrorKind::Programming, "{err}");
        assert_eq!(err.sqlstate(), Some("42601"));
        conn.rollback().await.expect("rollback");
        assert!(
            conn.is_usable(),
            "an SQL error leaves the connection usable"
        );
        let row = conn
            .query_one("SELECT pg_backend_pid()::int8", params![])
            .await
            .expect("the next statement runs")
            .expect("a row");
        conn.commit().await.expect("commit");
        row.get::<i64>(0).expect("pid")
    });
    Pg::kill(&mut observer, pid);
    runtime.block_on(async {
        let mut conn = pool.get().await.expect("get");
        let err = conn
            .query("SELECT 1", params![])
            .await
            .expect_err("the session is gone");
        assert!(err.is_disconnect(), "{err}");
        assert!(!conn.is_usable(), "a lost session marks the connection");
    });
    wait_until("the dead connection is closed", || {
        pool.pool().stats().closed(CloseReason::Broken) == 1
    });
    assert_ne!(runtime.block_on(backend_pid(&pool)), pid, "a new session");
    wait_until("one session on the server", || {
        Pg::sessions(&mut observer, &tag) == 1
    });
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn with_nonblocking_off_a_runtime_without_io_is_served_by_the_thread_pool() {
    let tag = unique("async-native-off");
    let pool = warmed(Pg::module(&tag), 1).nonblocking(false);
    let bare = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let pid = bare.block_on(ask_backend_pid(&pool));
    assert!(pid > 0);
    assert!(
        pool.thread_pool().threads() > 0,
        "the statements ran on the thread pool"
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_connection_used_and_dropped_in_a_task_ends_its_session() {
    use dbapi::Module;
    let tag = unique("async-native-dropped");
    let mut conn = Pg::module(&tag).connect().expect("connect");
    let mut observer = Pg::observer();
    assert_eq!(Pg::sessions(&mut observer, &tag), 1);
    let rows = runtime()
        .block_on(tokio_task(async move {
            let rows = conn
                .query_async("SELECT 7::int8", &params![])
                .await
                .expect("query");
            // Dropped here, inside the runtime: it cannot block to say goodbye, and must
            // not panic; the server sees the socket close.
            drop(conn);
            rows
        }))
        .expect("the task ran to its end");
    assert_eq!(rows[0][0], Value::Int(7));
    wait_until("the dropped connection's session ends", || {
        Pg::sessions(&mut observer, &tag) == 0
    });
}

/// Runs `future` as a task of the current runtime, so a panic in it is an error here.
async fn tokio_task<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::spawn(future).await
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_pooled_connection_forwards_the_face_where_it_can_run() {
    let tag = unique("async-native-forward");
    let pool = warmed(Pg::module(&tag), 1);
    let mut conn = pool.pool().get().expect("get");
    assert!(
        conn.nonblocking().is_none(),
        "outside a runtime there is none to offer"
    );
    let rows = runtime().block_on(async {
        let face = conn.nonblocking().expect("inside a runtime");
        face.query_async("SELECT 5::int8", &params![])
            .await
            .expect("query")
    });
    assert_eq!(rows[0][0], Value::Int(5));
    drop(conn);
    assert_eq!(
        pool.pool().stats().closed_total(),
        0,
        "returned, not closed"
    );
}
