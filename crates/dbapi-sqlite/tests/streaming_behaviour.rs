//! Streaming cursors behave as buffered ones do, apart from when rows are read.

use dbapi::{params, Connection, Cursor, Module, Value};
use dbapi_sqlite::{Sqlite, SqliteConnection};

const COUNT: &str =
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) SELECT x FROM n";

fn connect() -> SqliteConnection {
    Sqlite::memory().connect().expect("connect")
}

fn ints(rows: &[dbapi::Row]) -> Vec<i64> {
    rows.iter().map(|r| r.get::<i64>(0).expect("int")).collect()
}

#[test]
fn a_streamed_result_has_the_buffered_rows_and_description() {
    let mut conn = connect();
    let buffered = {
        let mut cur = conn.cursor().expect("cursor");
        cur.execute(COUNT, &params![5_i64]).expect("query");
        let names: Vec<String> = cur
            .description()
            .expect("columns")
            .iter()
            .map(|c| c.name.to_string())
            .collect();
        (names, ints(&cur.fetchall().expect("fetch")))
    };
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("stream");
    cur.execute(COUNT, &params![5_i64]).expect("query");
    let names: Vec<String> = cur
        .description()
        .expect("columns")
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, buffered.0);
    assert_eq!(ints(&cur.fetchall().expect("fetch")), buffered.1);
    assert_eq!(cur.rowcount(), 5);
    assert_eq!(cur.fetchone().expect("fetch"), None, "exhausted");
}

#[test]
fn a_new_execute_or_close_mid_stream_starts_clean() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("stream");
    cur.execute(COUNT, &params![10_i64]).expect("query");
    assert_eq!(ints(&cur.fetchmany(Some(3)).expect("fetch")), [1, 2, 3]);
    // The same statement again, mid-stream: it starts from its first row.
    cur.execute(COUNT, &params![4_i64]).expect("again");
    assert_eq!(ints(&cur.fetchall().expect("fetch")), [1, 2, 3, 4]);
    cur.execute(COUNT, &params![10_i64]).expect("again");
    assert_eq!(ints(&cur.fetchmany(Some(2)).expect("fetch")), [1, 2]);
    cur.close().expect("close mid-stream");
    drop(cur);
    // The statement went back to the cache reset: a buffered run sees every row.
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(COUNT, &params![3_i64]).expect("buffered");
    assert_eq!(ints(&cur.fetchall().expect("fetch")), [1, 2, 3]);
}

#[test]
fn a_cursor_dropped_mid_stream_leaves_the_connection_usable() {
    let mut conn = connect();
    conn.execute("CREATE TABLE t (x INTEGER)", &params![])
        .expect("create");
    for i in 0..5 {
        conn.execute("INSERT INTO t VALUES (?)", &params![i])
            .expect("insert");
    }
    conn.commit().expect("commit");
    {
        let mut cur = conn.cursor().expect("cursor");
        cur.set_streaming(true).expect("stream");
        cur.execute("SELECT x FROM t ORDER BY x", &params![])
            .expect("query");
        assert_eq!(
            cur.fetchone().expect("fetch").expect("row")[0],
            Value::Int(0)
        );
    }
    conn.execute("INSERT INTO t VALUES (5)", &params![])
        .expect("a write after");
    conn.commit().expect("commit");
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("stream");
    cur.execute("SELECT x FROM t ORDER BY x", &params![])
        .expect("query");
    assert_eq!(ints(&cur.fetchall().expect("fetch")), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn statements_that_write_run_to_the_end_even_when_streaming() {
    let mut conn = connect();
    conn.execute("CREATE TABLE t (x INTEGER)", &params![])
        .expect("create");
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("stream");
    cur.execute("INSERT INTO t VALUES (1), (2) RETURNING x", &params![])
        .expect("insert … returning");
    assert_eq!(cur.rowcount(), 2, "run to the end");
    assert_eq!(ints(&cur.fetchall().expect("fetch")), [1, 2]);
    cur.execute("SELECT x FROM t WHERE x > 5", &params![])
        .expect("empty");
    assert!(cur.description().is_some());
    assert_eq!(cur.fetchall().expect("fetch"), Vec::new());
}
