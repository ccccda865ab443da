//! The async pool on a real PostgreSQL server: the seed's `test_returns_immediately`, under
//! two executors.

use std::cell::Cell;

use dbapi::{params, Value};
use dbpool_core::{AsyncPool, Pool};
use dbpool_tests::pg_module;

async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

/// eventlet's `test_returns_immediately`: while one task sleeps half a second inside
/// PostgreSQL, another task on the same single-threaded executor keeps running.
async fn pg_sleep_does_not_block_the_executor(pool: AsyncPool<dbapi_postgres::Postgres>) {
    let started = Cell::new(false);
    let done = Cell::new(false);
    let ticks = Cell::new(0u64);
    let sleeper = async {
        let mut conn = pool.get().await.expect("get");
        started.set(true);
        let row = conn
            .query_one("SELECT 42::int8 FROM pg_sleep(0.5)", params![])
            .await
            .expect("pg_sleep")
            .expect("row");
        done.set(true);
        row
    };
    let ticker = async {
        while !done.get() {
            if started.get() {
                ticks.set(ticks.get() + 1);
            }
            yield_now().await;
        }
    };
    let (row, ()) = futures::join!(sleeper, ticker);
    assert_eq!(row[0], Value::Int(42));
    assert!(ticks.get() > 0, "the executor was blocked during pg_sleep");
}

fn pool(app: &str) -> AsyncPool<dbapi_postgres::Postgres> {
    AsyncPool::new(
        Pool::builder(pg_module(app))
            .max_size(2)
            .build()
            .expect("pool"),
    )
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn returns_immediately_under_tokio_current_thread() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(pg_sleep_does_not_block_the_executor(pool("async-tokio")));
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn returns_immediately_under_futures_executor() {
    futures::executor::block_on(pg_sleep_does_not_block_the_executor(pool("async-futures")));
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn async_and_sync_share_one_pool_on_the_server() {
    let pool = pool("async-shared");
    let sync_pid = {
        let mut conn = pool.pool().get().expect("sync get");
        dbpool_tests::backend_pid(&mut *conn)
    };
    let async_pid = futures::executor::block_on(async {
        let mut conn = pool.get().await.expect("async get");
        conn.query_one("SELECT pg_backend_pid()::int8", params![])
            .await
            .expect("pid")
            .expect("row")
            .get::<i64>(0)
            .expect("int")
    });
    assert_eq!(
        sync_pid, async_pid,
        "the idle connection was reused across front-ends"
    );
}
