//! Streaming cursors on MariaDB (MySQL's unbuffered protocol): rows come as they are
//! fetched, over both protocols; the results after a streamed set are still there for
//! `nextset`; moving on mid-stream leaves the connection usable.

use dbapi::{params, Connection, Cursor, Module, Params, Row, Value};
use dbapi_mysql::{Mysql, MysqlConnection, MysqlCursor};

fn url(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set: run with `cargo xtask test`"))
}

fn connect() -> MysqlConnection {
    Mysql::from_dsn(&url("DBPOOL_MY_URL"))
        .expect("dsn")
        .connect()
        .expect("connect")
}

/// The administrator, who can see and end every session.
fn admin() -> MysqlConnection {
    Mysql::from_dsn(&url("DBPOOL_MY_ADMIN_URL"))
        .expect("dsn")
        .autocommit(true)
        .connect()
        .expect("admin")
}

/// A cursor on `conn` that has started streaming `sql`.
fn streaming<'c>(conn: &'c mut MysqlConnection, sql: &str, params: &Params) -> MysqlCursor<'c> {
    let mut cur = conn.cursor().expect("cursor");
    cur.set_streaming(true).expect("streaming");
    cur.execute(sql, params).expect("query");
    cur
}

fn ints(rows: &[Row]) -> Vec<i64> {
    rows.iter()
        .map(|row| row.get::<i64>(0).expect("an integer"))
        .collect()
}

/// Streams `sql` and returns its rows, checking `rowcount` is unknown until the end.
fn stream(conn: &mut MysqlConnection, sql: &str, params: &Params) -> Vec<i64> {
    let mut cur = streaming(conn, sql, params);
    assert_eq!(cur.rowcount(), -1, "unknown while streaming");
    assert_eq!(
        cur.description().expect("described at once")[0]
            .name
            .as_ref(),
        "x"
    );
    let mut all = Vec::new();
    loop {
        let batch = cur.fetchmany(Some(7)).expect("fetchmany");
        if batch.is_empty() {
            break;
        }
        all.extend(ints(&batch));
    }
    assert_eq!(cur.rowcount(), i64::try_from(all.len()).expect("count"));
    all
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_streamed_result_comes_in_order_over_both_protocols() {
    let mut conn = connect();
    let expected: Vec<i64> = (1..=100).collect();
    assert_eq!(
        stream(&mut conn, "SELECT seq AS x FROM seq_1_to_100", &params![]),
        expected,
        "text protocol"
    );
    assert_eq!(
        stream(
            &mut conn,
            "SELECT seq AS x FROM seq_1_to_1000 WHERE seq <= ?",
            &params![100_i64]
        ),
        expected,
        "binary protocol"
    );
    assert_eq!(
        stream(
            &mut conn,
            "SELECT seq AS x FROM seq_1_to_10 WHERE seq > 10",
            &params![]
        ),
        Vec::<i64>::new(),
        "an empty result"
    );
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn the_results_after_a_streamed_set_are_read_for_nextset() {
    let mut conn = connect();
    let mut cur = streaming(
        &mut conn,
        "SELECT seq AS x FROM seq_1_to_3; SELECT 'b' AS y",
        &params![],
    );
    assert_eq!(ints(&cur.fetchall().expect("first set")), [1, 2, 3]);
    assert!(cur.nextset().expect("nextset"), "a second result");
    let second = cur.fetchall().expect("second set");
    assert_eq!(second[0].values(), [Value::Text("b".into())]);
    assert!(!cur.nextset().expect("nextset"), "no third");
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn the_server_is_still_sending_while_the_client_reads_and_moving_on_leaves_it_usable() {
    let mut conn = connect();
    let id = conn.connection_id().expect("open");
    let mut admin = admin();
    {
        // Some 15 MB of rows: far more than the socket buffers hold, so the server cannot
        // have finished sending when the first row is in hand.
        let mut cur = streaming(
            &mut conn,
            "SELECT seq AS x FROM seq_1_to_1000000",
            &params![],
        );
        assert_eq!(ints(&[cur.fetchone().expect("fetch").expect("a row")]), [1]);
        let mut check = admin.cursor().expect("cursor");
        check
            .execute(
                "SELECT COMMAND FROM information_schema.PROCESSLIST WHERE ID = ?",
                &params![i64::from(id)],
            )
            .expect("processlist");
        let command = check.fetchone().expect("fetch").expect("the session");
        assert_eq!(
            command.values(),
            [Value::Text("Query".into())],
            "the query is still running: its rows were not all read by execute"
        );
        // A new execute mid-stream: the rows left are read and discarded first.
        cur.execute("SELECT 42 AS x", &params![])
            .expect("next query");
        assert_eq!(ints(&cur.fetchall().expect("fetch")), [42]);
    }
    {
        let mut cur = streaming(
            &mut conn,
            "SELECT seq AS x FROM seq_1_to_100000",
            &params![],
        );
        cur.fetchone().expect("fetch");
        // Dropped mid-stream.
    }
    conn.rollback().expect("rollback after an abandoned stream");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT 7", &params![])
        .expect("the connection works");
    assert_eq!(ints(&cur.fetchall().expect("fetch")), [7]);
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_statement_without_rows_runs_as_usual_with_streaming_on() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "CREATE TEMPORARY TABLE streamed_writes (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
        &params![],
    )
    .expect("create");
    cur.set_streaming(true).expect("streaming");
    cur.execute(
        "INSERT INTO streamed_writes (v) VALUES (?), (?)",
        &params![1_i64, 2_i64],
    )
    .expect("insert");
    assert_eq!(cur.rowcount(), 2);
    assert!(cur.lastrowid().is_some());
    assert!(cur.fetchone().is_err(), "no result set to fetch");
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_session_killed_mid_stream_is_a_disconnect_and_marks_the_connection_broken() {
    let mut conn = connect();
    let id = conn.connection_id().expect("open");
    let mut admin = admin();
    let mut cur = streaming(
        &mut conn,
        "SELECT seq AS x FROM seq_1_to_5000000",
        &params![],
    );
    assert!(cur.fetchone().expect("fetch").is_some());
    admin
        .execute(&format!("KILL CONNECTION {id}"), &params![])
        .expect("kill");
    // The rows already in the socket's buffers still come; then the closed socket.
    let err = loop {
        match cur.fetchmany(Some(10_000)) {
            Ok(rows) => assert!(!rows.is_empty(), "the stream ended cleanly after a kill"),
            Err(err) => break err,
        }
    };
    assert!(err.is_disconnect(), "{err}");
    drop(cur);
    assert!(conn.is_broken(), "a pool would close it, not reuse it");
}
