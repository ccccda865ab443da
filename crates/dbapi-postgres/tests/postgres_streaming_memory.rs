//! Five million rows from PostgreSQL through a streaming cursor and `fetchmany(1000)`, with
//! the process's peak memory under 100 MB (this test binary runs alone in its process).

use dbapi::{params, Connection, Cursor, Module};
use dbapi_conformance::streaming::assert_streams_in_bounded_memory;
use dbapi_postgres::Postgres;

const ROWS: i64 = 5_000_000;

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn five_million_rows_stream_through_fetchmany_in_bounded_memory() {
    let url = std::env::var("DBPOOL_PG_URL")
        .expect("DBPOOL_PG_URL is not set: run the PostgreSQL tests with `cargo xtask test`");
    let mut conn = Postgres::from_dsn(&url)
        .expect("dsn")
        .connect()
        .expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("PostgreSQL streams");
    cur.execute(
        "SELECT x, 'row number ' || x AS label FROM generate_series(1::int8, $1) AS x",
        &params![ROWS],
    )
    .expect("query");
    let peak = assert_streams_in_bounded_memory(&mut cur, ROWS);
    drop(cur);
    conn.commit().expect("commit");
    println!("{ROWS} rows streamed, peak RSS {} MB", peak / (1024 * 1024));
}
