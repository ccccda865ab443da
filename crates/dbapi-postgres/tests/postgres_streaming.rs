//! Streaming cursors on PostgreSQL (server-side cursors): the rows of the buffered result,
//! in batches, inside the caller's transaction or one of their own under autocommit, and
//! through PgBouncer.

use dbapi::{params, Connection, Cursor, Module, Row};
use dbapi_postgres::{PgConnection, Postgres};

const SERIES: &str = "SELECT x FROM generate_series(1::int8, $1) AS x";

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the PostgreSQL tests with `cargo xtask test`")
    })
}

fn connect(url: &str, autocommit: bool) -> PgConnection {
    Postgres::from_dsn(url)
        .expect("dsn")
        .autocommit(autocommit)
        .connect()
        .expect("connect")
}

fn ints(rows: &[Row]) -> Vec<i64> {
    rows.iter().map(|r| r.get::<i64>(0).expect("int")).collect()
}

/// The adapter's server-side cursors still open in the session.
fn server_cursors_left(cur: &mut impl Cursor) -> i64 {
    cur.execute(
        "SELECT count(*) FROM pg_cursors WHERE name LIKE 'dbpool_stream%'",
        &params![],
    )
    .expect("cursors left");
    cur.fetchone()
        .expect("fetch")
        .expect("row")
        .get::<i64>(0)
        .expect("a count")
}

/// Streams `SERIES` up to `n` on `conn` and returns every row, checking the description.
fn stream_all(conn: &mut PgConnection, n: i64) -> Vec<i64> {
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("stream");
    cur.execute(SERIES, &params![n]).expect("query");
    assert_eq!(cur.description().expect("columns")[0].name.as_ref(), "x");
    let rows = ints(&cur.fetchall().expect("fetch"));
    assert_eq!(cur.rowcount(), n);
    rows
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_streamed_result_crosses_batches_in_order() {
    let mut conn = connect(&env("DBPOOL_PG_URL"), false);
    let rows = stream_all(&mut conn, 2500);
    assert_eq!(rows, (1..=2500).collect::<Vec<_>>());
    assert_eq!(
        conn.in_transaction(),
        Some(true),
        "inside the caller's transaction"
    );
    conn.commit().expect("commit");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn under_autocommit_a_stream_has_a_transaction_of_its_own() {
    let mut conn = connect(&env("DBPOOL_PG_URL"), true);
    assert_eq!(stream_all(&mut conn, 1200).len(), 1200);
    let mut cur = conn.cursor().expect("cursor");
    assert_eq!(server_cursors_left(&mut cur), 0);
    let err = cur
        .execute("SAVEPOINT probe", &params![])
        .expect_err("no transaction block is open");
    assert_eq!(
        err.sqlstate(),
        Some("25P01"),
        "the stream's transaction ended with it: {err}"
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_new_execute_mid_stream_closes_the_server_cursor() {
    let mut conn = connect(&env("DBPOOL_PG_URL"), false);
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("stream");
    cur.execute(SERIES, &params![5000_i64]).expect("query");
    assert_eq!(ints(&cur.fetchmany(Some(3)).expect("fetch")), [1, 2, 3]);
    cur.set_streaming(false).expect("buffered again");
    assert_eq!(server_cursors_left(&mut cur), 0);
    drop(cur);
    conn.rollback().expect("rollback");
}

#[test]
#[ignore = "needs PgBouncer: cargo xtask test"]
fn streaming_works_through_pgbouncer() {
    let url = format!("{}&pgbouncer=true", env("DBPOOL_PGBOUNCER_URL"));
    let mut conn = connect(&url, true);
    assert_eq!(stream_all(&mut conn, 2100).len(), 2100);
    let mut conn = connect(&url, false);
    assert_eq!(stream_all(&mut conn, 2100).len(), 2100);
    conn.commit().expect("commit");
}
