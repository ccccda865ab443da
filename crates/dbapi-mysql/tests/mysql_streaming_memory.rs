//! Five million rows from MariaDB through a streaming cursor and `fetchmany(1000)`, with
//! the process's peak memory under 100 MB (this test binary runs alone in its process).

use dbapi::{params, Connection, Cursor, Module};
use dbapi_conformance::streaming::assert_streams_in_bounded_memory;
use dbapi_mysql::Mysql;

const ROWS: i64 = 5_000_000;

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn five_million_rows_stream_through_fetchmany_in_bounded_memory() {
    let url = std::env::var("DBPOOL_MY_URL")
        .expect("DBPOOL_MY_URL is not set: run the MariaDB tests with `cargo xtask test`");
    let mut conn = Mysql::from_dsn(&url)
        .expect("dsn")
        .connect()
        .expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("MySQL streams");
    // MariaDB's Sequence engine generates the rows as they are sent; with a parameter, the
    // statement runs over the binary protocol.
    cur.execute(
        &format!(
            "SELECT seq AS x, CONCAT('row number ', seq) AS label FROM seq_1_to_{ROWS} WHERE seq <= ?"
        ),
        &params![ROWS],
    )
    .expect("query");
    let peak = assert_streams_in_bounded_memory(&mut cur, ROWS);
    drop(cur);
    conn.commit().expect("commit");
    println!("{ROWS} rows streamed, peak RSS {} MB", peak / (1024 * 1024));
}
