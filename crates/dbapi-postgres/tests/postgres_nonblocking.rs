//! The adapter's `Nonblocking` face on the real server: the same results, errors and
//! transactions as the blocking DB-API, on one session that both faces share.

use dbapi::{params, Connection, Cursor, ErrorKind, Nonblocking, Params, Row, Value};
use dbapi_postgres::PgConnection;

mod support;

use support::connect;

/// A current-thread runtime with I/O: the face needs one to wait on.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime")
}

fn blocking(conn: &mut PgConnection, sql: &str, params: &Params) -> Vec<Row> {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    cur.fetchall().expect("fetchall")
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn the_face_is_available_inside_a_tokio_runtime_only() {
    let mut conn = connect();
    let face = conn.nonblocking().expect("the adapter has the face");
    assert!(
        !face.available(),
        "no runtime: the caller must block elsewhere"
    );
    runtime().block_on(async {
        let face = conn.nonblocking().expect("the face");
        assert!(face.available());
    });
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn rows_and_row_counts_match_the_blocking_cursor() {
    let mut conn = connect();
    let sql = "SELECT $1::int8 AS n, $2::text AS t, NULL::int4 AS nothing, true AS yes, \
               12.50::numeric AS price, '\\x0102'::bytea AS raw";
    let values = params![41_i64, "naïve 'quoted'"];
    let expected = blocking(&mut conn, sql, &values);
    let (rows, inserted, updated) = runtime().block_on(async {
        let rows = conn.query_async(sql, &values).await.expect("query");
        conn.execute_async("CREATE TEMP TABLE nb (x int)", &Params::None)
            .await
            .expect("create");
        let inserted = conn
            .execute_async("INSERT INTO nb SELECT generate_series(1, 5)", &Params::None)
            .await
            .expect("insert");
        let updated = conn
            .execute_async("UPDATE nb SET x = x + 1 WHERE x > ?", &params![3_i64])
            .await
            .expect("update with a ? marker");
        (rows, inserted, updated)
    });
    assert_eq!(rows, expected, "the same rows as the blocking cursor");
    assert_eq!(rows[0].get::<i64>("n").expect("n"), 41);
    assert_eq!(rows[0][2], Value::Null);
    assert_eq!(
        (inserted, updated),
        (5, 2),
        "row counts from the command tags"
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_statement_prepared_by_one_face_is_reused_by_the_other() {
    let mut conn = connect();
    conn.set_autocommit(true).expect("autocommit");
    let sql = "SELECT $1::int8 * 2";
    runtime().block_on(async {
        let rows = conn.query_async(sql, &params![4_i64]).await.expect("async");
        assert_eq!(rows[0][0], Value::Int(8));
    });
    assert_eq!(
        blocking(&mut conn, sql, &params![5_i64])[0][0],
        Value::Int(10)
    );
    let prepared = blocking(
        &mut conn,
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
        &params![sql],
    );
    assert_eq!(
        prepared[0][0],
        Value::Int(1),
        "prepared once, on the one session"
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn transactions_and_errors_follow_the_db_api() {
    let mut conn = connect();
    assert!(!conn.autocommit(), "the DB-API default");
    let in_tx = runtime().block_on(async {
        conn.execute_async("CREATE TEMP TABLE nbt (x int)", &Params::None)
            .await
            .expect("create");
        conn.commit_async().await.expect("commit the DDL");
        conn.execute_async("INSERT INTO nbt VALUES (1)", &Params::None)
            .await
            .expect("insert");
        conn.rollback_async().await.expect("rollback");
        conn.execute_async("INSERT INTO nbt VALUES (2)", &Params::None)
            .await
            .expect("insert");
        let in_tx = conn.in_transaction();
        conn.commit_async().await.expect("commit");
        let err = conn
            .query_async("SELECT $1::int8", &Params::None)
            .await
            .expect_err("a parameter missing");
        assert_eq!(err.kind(), ErrorKind::Programming, "{err}");
        let err = conn
            .query_async("SELECT * FROM no_such_table_nb", &Params::None)
            .await
            .expect_err("no such table");
        assert_eq!(err.sqlstate(), Some("42P01"), "{err}");
        conn.rollback_async()
            .await
            .expect("rollback the failed transaction");
        in_tx
    });
    assert_eq!(in_tx, Some(true), "the implicit transaction was open");
    assert_eq!(conn.in_transaction(), Some(false));
    let rows = blocking(&mut conn, "SELECT x FROM nbt", &Params::None);
    assert_eq!(rows.len(), 1, "only the committed row");
    assert_eq!(rows[0][0], Value::Int(2));
}
