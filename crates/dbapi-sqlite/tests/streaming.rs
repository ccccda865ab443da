//! Streaming results: with `set_streaming(true)`, rows come from SQLite as they are
//! fetched. Five million rows go through `fetchmany(1000)` with the process's peak memory
//! under 100 MB (this test binary runs alone in its process, so the peak is its own).

use dbapi::{params, Connection, Cursor, Module};
use dbapi_conformance::streaming::assert_streams_in_bounded_memory;
use dbapi_sqlite::Sqlite;

const ROWS: i64 = 5_000_000;

#[test]
fn five_million_rows_stream_through_fetchmany_in_bounded_memory() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("SQLite streams");
    cur.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) \
         SELECT x, 'row number ' || x AS label FROM n",
        &params![ROWS],
    )
    .expect("query");
    let peak = assert_streams_in_bounded_memory(&mut cur, ROWS);
    println!("{ROWS} rows streamed, peak RSS {} MB", peak / (1024 * 1024));
}
