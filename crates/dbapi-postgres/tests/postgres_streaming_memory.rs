//! Five million rows from PostgreSQL through a streaming cursor and `fetchmany(1000)`, with
//! the process's peak memory under 100 MB (this test binary runs alone in its process).

use dbapi::{params, Connection, Cursor, Module};
use dbapi_postgres::Postgres;

const ROWS: i64 = 5_000_000;

/// The process's peak resident set, in bytes (`VmHWM` in `/proc/self/status`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in kB");
    kb * 1024
}

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
    assert_eq!(cur.rowcount(), -1, "not known while streaming");
    let (mut seen, mut sum) = (0_i64, 0_i64);
    loop {
        let batch = cur.fetchmany(Some(1000)).expect("fetchmany");
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            seen += 1;
            sum += row.get::<i64>("x").expect("x");
        }
    }
    assert_eq!(seen, ROWS);
    assert_eq!(sum, ROWS * (ROWS + 1) / 2, "every row, once");
    assert_eq!(cur.rowcount(), ROWS, "known once exhausted");
    drop(cur);
    conn.commit().expect("commit");
    let peak = peak_rss();
    assert!(
        peak < 100 * 1024 * 1024,
        "peak RSS {} MB for {ROWS} streamed rows",
        peak / (1024 * 1024)
    );
    println!("{ROWS} rows streamed, peak RSS {} MB", peak / (1024 * 1024));
}
