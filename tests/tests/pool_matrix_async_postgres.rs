//! The async pool on a real PostgreSQL server: the seed's `test_returns_immediately`, under
//! two executors.

use dbapi::{params, Value};
use dbpool_core::{AsyncPool, Pool};
use dbpool_tests::{assert_returns_immediately, pg_module};

const PG_SLEEP: &str = "SELECT 42::int8 FROM pg_sleep(0.5)";

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
    let pool = pool("async-tokio");
    let value = runtime.block_on(assert_returns_immediately(&pool, PG_SLEEP));
    assert_eq!(value, Value::Int(42));
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn returns_immediately_under_futures_executor() {
    let pool = pool("async-futures");
    let value = futures::executor::block_on(assert_returns_immediately(&pool, PG_SLEEP));
    assert_eq!(value, Value::Int(42));
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
