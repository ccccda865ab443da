//! The connection keeps the statements the DB-API prepares (with their result shapes) for
//! later `execute`s. These tests show that keeping them changes nothing a user can see: no
//! parameter value is left over from an earlier run, the rusqlite connection can still be
//! borrowed mutably and closed, and more statements than are kept all still run.

use dbapi::{named_params, params, Connection, Cursor, Module, Params, Value};
use dbapi_sqlite::{Sqlite, SqliteConnection};

fn values(conn: &mut SqliteConnection, sql: &str, params: &Params) -> Vec<Value> {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params).expect("query");
    cur.fetchone()
        .expect("fetch")
        .expect("a row")
        .values()
        .to_vec()
}

#[test]
fn a_kept_statement_keeps_no_parameter_value_from_its_last_run() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let sql = "SELECT :a, :b";
    assert_eq!(
        values(&mut conn, sql, &named_params! {"a" => 1, "b" => 2}),
        [Value::Int(1), Value::Int(2)]
    );
    // Two values for `:a` and none for `:b`: the statement runs again with `:b` unbound
    // (NULL), not with the 2 of the run before.
    assert_eq!(
        values(&mut conn, sql, &named_params! {"a" => 5, "a" => 6}),
        [Value::Int(6), Value::Null]
    );
}

#[test]
fn a_failed_bind_leaves_no_value_for_the_next_run() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let sql = "SELECT :a, :b";
    {
        let mut cur = conn.cursor().expect("cursor");
        // `:a` is bound, then `:c` is not found.
        cur.execute(sql, &named_params! {"a" => 1, "c" => 2})
            .expect_err("no parameter :c");
    }
    assert_eq!(
        values(&mut conn, sql, &named_params! {"b" => 5, "b" => 6}),
        [Value::Null, Value::Int(6)],
        "the failed run's :a is not left bound"
    );
}

#[test]
fn a_kept_statement_runs_with_each_run_s_values() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    for i in 0..3_i64 {
        assert_eq!(
            values(&mut conn, "SELECT ? * 10", &params![i]),
            [Value::Int(i * 10)]
        );
    }
}

#[test]
fn native_mut_works_between_cursors_and_the_cursors_after_it_run_again() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    conn.execute("CREATE TABLE t (x INTEGER)", &params![])
        .expect("create");
    conn.execute("INSERT INTO t VALUES (1)", &params![])
        .expect("insert");
    conn.commit().expect("commit");
    let count = "SELECT count(*) FROM t";
    assert_eq!(values(&mut conn, count, &params![]), [Value::Int(1)]);
    {
        // rusqlite's `transaction` needs the connection mutably: the kept statements, which
        // borrow it, are finalized first.
        let native = conn.native_mut().expect("native");
        let tx = native.transaction().expect("transaction");
        tx.execute("INSERT INTO t VALUES (2)", []).expect("insert");
        tx.commit().expect("commit");
    }
    assert_eq!(values(&mut conn, count, &params![]), [Value::Int(2)]);
}

#[test]
fn a_connection_with_kept_statements_closes_even_after_an_abandoned_stream() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    conn.execute("SELECT 1", &params![]).expect("select");
    {
        let mut cur = conn.cursor().expect("cursor");
        cur.set_streaming(true).expect("streaming");
        cur.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n",
            &params![],
        )
        .expect("stream");
        assert!(cur.fetchone().expect("fetch").is_some());
        // Dropped with nine rows unread.
    }
    conn.close()
        .expect("close finalizes every kept statement first");
    assert!(conn.is_closed());
}

#[test]
fn more_distinct_statements_than_are_kept_all_run_and_run_again() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    for round in 0..2 {
        for i in 0..300_i64 {
            let sql = format!("SELECT {i} + ?");
            assert_eq!(
                values(&mut conn, &sql, &params![round]),
                [Value::Int(i + round)],
                "{sql} in round {round}"
            );
        }
    }
    conn.close().expect("close");
}

#[test]
fn a_statement_that_fails_to_prepare_is_not_kept_and_the_next_runs() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT * FROM missing", &params![])
        .expect_err("no such table");
    drop(cur);
    conn.execute("CREATE TABLE missing (x)", &params![])
        .expect("create");
    conn.execute("INSERT INTO missing VALUES (7)", &params![])
        .expect("insert");
    assert_eq!(
        values(&mut conn, "SELECT * FROM missing", &params![]),
        [Value::Int(7)]
    );
}
