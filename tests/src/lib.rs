//! Helpers for the pool behaviour matrix in `tests/tests/`: where the servers started by
//! `cargo xtask test` are, and how to observe and disturb them from a test.

#![warn(missing_docs)]

use std::process::Command;
use std::time::{Duration, Instant};

use std::cell::Cell;

use dbapi::{params, Connection, Cursor, Module, Value};
use dbapi_postgres::{PgConnection, Postgres};
use dbpool_core::AsyncPool;

/// How long a test waits for the server to reach a state before failing (never a sleep:
/// the state is polled).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The reason every server-backed test is ignored under plain `cargo test`.
pub const NEEDS_POSTGRES: &str = "needs PostgreSQL: cargo xtask test";

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the server-backed tests with `cargo xtask test`")
    })
}

/// The test role's URL (`DBPOOL_PG_URL`).
///
/// # Panics
/// When the variable is missing: the test must fail, not pass, without its server.
#[must_use]
pub fn pg_url() -> String {
    env("DBPOOL_PG_URL")
}

/// A PostgreSQL module whose connections carry `application_name`, so the server-side count
/// of one test's connections is exact.
///
/// # Panics
/// When `DBPOOL_PG_URL` is missing or malformed.
#[must_use]
pub fn pg_module(application_name: &str) -> Postgres {
    Postgres::from_dsn(&pg_url())
        .expect("DBPOOL_PG_URL is a valid DSN")
        .application_name(application_name)
}

/// A plain connection for observing the server, outside any pool.
///
/// # Panics
/// When the server cannot be reached.
#[must_use]
pub fn observer() -> PgConnection {
    let mut conn = pg_module("dbpool-observer")
        .connect()
        .expect("observer connects");
    conn.set_autocommit(true).expect("autocommit");
    conn
}

/// A superuser connection (`DBPOOL_PG_ADMIN_URL`), autocommitting.
///
/// # Panics
/// When the server cannot be reached.
#[must_use]
pub fn admin() -> PgConnection {
    let mut conn = Postgres::from_dsn(&env("DBPOOL_PG_ADMIN_URL"))
        .expect("valid admin DSN")
        .connect()
        .expect("admin connects");
    conn.set_autocommit(true).expect("autocommit");
    conn
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

/// Connections the server has open for `application_name`, counted in `pg_stat_activity`.
#[must_use]
pub fn server_connections(observer: &mut PgConnection, application_name: &str) -> i64 {
    scalar(
        observer,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
        &params![application_name],
    )
}

/// The backend pid of a connection.
pub fn backend_pid<C: Connection>(conn: &mut C) -> i64 {
    scalar(conn, "SELECT pg_backend_pid()", &params![])
}

/// Terminates a backend and waits until the server no longer lists it.
///
/// # Panics
/// When the backend survives [`PATIENCE`].
pub fn terminate_backend(observer: &mut PgConnection, pid: i64) {
    scalar(
        observer,
        "SELECT count(*) FROM (SELECT pg_terminate_backend($1::int4)) t",
        &params![pid],
    );
    let deadline = Instant::now() + PATIENCE;
    while scalar(
        observer,
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int4",
        &params![pid],
    ) > 0
    {
        assert!(Instant::now() < deadline, "backend {pid} did not go away");
        std::thread::yield_now();
    }
}

/// Restarts the server (`pg_ctl restart -m fast`, which waits until it accepts connections
/// again), as the user that owns its data directory.
///
/// # Panics
/// When `pg_ctl` fails.
pub fn restart_postgres() {
    let pg_ctl = format!("{}/pg_ctl", env("DBPOOL_PG_BIN"));
    let runas = std::env::var("DBPOOL_PG_RUNAS").unwrap_or_default();
    let mut cmd = if runas.is_empty() {
        Command::new(&pg_ctl)
    } else {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", &runas, "--", &pg_ctl]).current_dir("/");
        cmd
    };
    let status = cmd
        .args(["-D", &env("DBPOOL_PG_DATA"), "-m", "fast", "-w", "restart"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl restart failed: {status}");
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
