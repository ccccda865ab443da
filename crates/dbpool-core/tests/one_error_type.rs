//! A handler returns one error type: `pool.get()?` and the connection's calls both `?` into
//! `dbapi::Result`, keeping a meaningful DB-API kind and the pool error as the source.

mod support;

use std::error::Error as _;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

use dbapi::{params, Connection, Cursor, ErrorKind};
use dbapi_sqlite::Sqlite;
use dbpool_core::{Pool, PoolError};
use support::fault_driver::FaultDriver;

/// What a web handler looks like: one error type for everything.
fn count_users<M: dbapi::Module>(pool: &Pool<M>) -> dbapi::Result<i64> {
    let mut conn = pool.get()?;
    let mut cur = conn.cursor()?;
    cur.execute("SELECT count(*) FROM users", &params![])?;
    cur.fetchone()?
        .ok_or_else(|| dbapi::Error::programming("no row"))?
        .get::<i64>(0)
        .map_err(|e| dbapi::Error::data(e.to_string()))
}

#[test]
fn pool_and_driver_errors_compose_with_question_mark() {
    let pool = Pool::builder(Sqlite::memory())
        .max_size(1)
        .build()
        .expect("pool");
    // A driver error passes through as it is.
    let err = count_users(&pool).expect_err("no table");
    assert_eq!(err.kind(), ErrorKind::Programming, "{err}");
    // A pool timeout is Operational, with the pool error as its source.
    let timeout = Pool::builder(Sqlite::memory())
        .max_size(1)
        .wait_timeout(Duration::ZERO)
        .build()
        .expect("pool");
    let _busy = timeout.get().expect("the only connection");
    let err = count_users(&timeout).expect_err("exhausted");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    let source = err.source().and_then(|s| s.downcast_ref::<PoolError>());
    assert!(matches!(source, Some(PoolError::Timeout { .. })), "{err:?}");
}

#[test]
fn bad_configuration_is_an_interface_error() {
    let err: dbapi::Error = Pool::builder(Sqlite::memory())
        .max_size(0)
        .build()
        .map(drop)
        .map_err(dbapi::Error::from)
        .expect_err("max_size 0");
    assert_eq!(err.kind(), ErrorKind::Interface, "{err}");
    assert!(err.message().contains("max_size"), "{err}");
}

#[test]
fn a_failed_connect_keeps_the_drivers_kind_and_disconnect_flag() {
    let driver = FaultDriver::default();
    driver.plan.fail_connects.store(1, SeqCst);
    let pool = Pool::builder(driver.clone())
        .connect_timeout(None)
        .build()
        .expect("pool");
    let pool_err = pool.get().map(drop).expect_err("planned failure");
    let driver_disconnect = match &pool_err {
        PoolError::Connect { source, .. } => source.is_disconnect(),
        other => panic!("expected a connect error, got {other}"),
    };
    let err = dbapi::Error::from(pool_err);
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    assert_eq!(err.sqlstate(), Some("08001"), "{err}");
    assert_eq!(err.is_disconnect(), driver_disconnect);
    assert!(err.message().contains("connection refused"), "{err}");
    assert!(err.source().is_some());
}
