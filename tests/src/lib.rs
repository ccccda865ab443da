//! The pool behaviour matrix, written once and run on every server `cargo xtask test`
//! starts: [`Backend`] says how to observe and disturb a server, [`matrix`] holds the
//! scenarios, and [`pool_matrix!`] turns them into tests for one backend.

#![warn(missing_docs)]

use std::cell::Cell;
use std::time::Duration;

use dbapi::{params, Connection, Cursor, Module, Value};
use dbpool_core::AsyncPool;

mod backend;
mod mariadb;
pub mod matrix;
mod odbc;
mod pgbouncer;
mod postgres;

pub use backend::Backend;
pub use mariadb::{my_admin, my_url, MariaDb};
pub use odbc::{pg_odbc_connection_string, PgOdbc};
pub use pgbouncer::{Bounced, PgBouncer};
pub use postgres::{pg_admin, pg_ctl, pg_url, Pg};

/// How long a test waits for the server to reach a state before failing (never a sleep:
/// the state is polled).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `done` (yielding the core between looks) until it is true.
///
/// # Panics
/// When it is still false after [`PATIENCE`]: `what` should have happened by then.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {PATIENCE:?}"
        );
        std::thread::yield_now();
    }
}

/// An environment variable `cargo xtask test` sets.
///
/// # Panics
/// When it is missing: the test must fail, not pass, without its server.
#[must_use]
pub fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the server-backed tests with `cargo xtask test`")
    })
}

/// Runs a query and returns its first column of its first row as an `i64`.
///
/// # Panics
/// When the query fails or returns no integer.
pub fn scalar<C: Connection>(conn: &mut C, sql: &str, params: &dbapi::Params) -> i64 {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    cur.fetchone()
        .expect("fetch")
        .expect("a row")
        .get::<i64>(0)
        .expect("an integer")
}

/// Yields once to whatever executor runs the task (runtime-agnostic).
pub async fn yield_now() {
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

/// eventlet's `test_returns_immediately`: while one task runs `slow_sql` through `pool`,
/// another task on the same single-threaded executor keeps making progress. Returns the
/// slow query's first value.
///
/// The proof is a counter, not a clock: had the query run on the executor thread, the
/// "started" and "done" flags would have flipped within one poll and the ticker would never
/// have seen the query in flight.
///
/// # Panics
/// When the ticker never ran while the query was in flight, or the query fails.
pub async fn assert_returns_immediately<M: Module>(pool: &AsyncPool<M>, slow_sql: &str) -> Value {
    let started = Cell::new(false);
    let done = Cell::new(false);
    let ticks = Cell::new(0u64);
    let slow = async {
        let mut conn = pool.get().await.expect("get");
        started.set(true);
        let row = conn
            .query_one(slow_sql, params![])
            .await
            .expect("slow query")
            .expect("a row");
        done.set(true);
        row[0].clone()
    };
    let ticker = async {
        while !done.get() {
            if started.get() {
                ticks.set(ticks.get() + 1);
            }
            yield_now().await;
        }
    };
    let (value, ()) = futures::join!(slow, ticker);
    assert!(
        ticks.get() > 0,
        "the executor was blocked while the query ran"
    );
    value
}
