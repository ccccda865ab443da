//! The seed's `test_returns_immediately` on SQLite (a long recursive CTE), under two
//! executors.

use dbapi::Value;
use dbapi_sqlite::Sqlite;
use dbpool_core::{AsyncPool, Pool};
use dbpool_tests::assert_returns_immediately;

const SLOW_QUERY: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c";

fn pool() -> AsyncPool<Sqlite> {
    AsyncPool::new(
        Pool::builder(Sqlite::memory())
            .max_size(2)
            .build()
            .expect("pool"),
    )
}

#[test]
fn returns_immediately_under_tokio_current_thread() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let value = runtime.block_on(assert_returns_immediately(&pool(), SLOW_QUERY));
    assert_eq!(value, Value::Int(300_000));
}

#[test]
fn returns_immediately_under_futures_executor() {
    let value = futures::executor::block_on(assert_returns_immediately(&pool(), SLOW_QUERY));
    assert_eq!(value, Value::Int(300_000));
}
