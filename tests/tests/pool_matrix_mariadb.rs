//! The pool behaviour matrix on a real MariaDB server (see `dbpool_tests::matrix`), and what
//! a MySQL session carries that the full reset level must clear.

use dbapi::{params, Connection, Cursor, ErrorKind, Value};
use dbapi_mysql::ResetLevel;
use dbpool_core::{Cleanup, Pool};
use dbpool_tests::matrix::unique;
use dbpool_tests::{my_admin, scalar, Backend, MariaDb};

dbpool_tests::pool_matrix!(MariaDb, "needs MariaDB: cargo xtask test");

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_full_reset_hides_everything_the_last_user_left() {
    let tag = unique("mx-reset");
    let table = format!("mx_reset_{}", std::process::id());
    let mut admin = my_admin();
    admin
        .execute(
            &format!("CREATE OR REPLACE TABLE {table} (x int)"),
            &params![],
        )
        .expect("create");
    let pool = Pool::builder(MariaDb::module(&tag).reset_level(ResetLevel::Full))
        .max_size(1)
        .cleanup(Cleanup::Reset)
        .build()
        .expect("pool");
    let id = {
        let mut conn = pool.get().expect("first user");
        for sql in [
            "SET @left_behind = 'x'".to_owned(),
            "SET SESSION sql_mode = 'ANSI_QUOTES'".to_owned(),
            "SET SESSION wait_timeout = 77".to_owned(),
            "CREATE TEMPORARY TABLE left_temp (x int)".to_owned(),
            "SELECT GET_LOCK('dbpool_left_lock', 0)".to_owned(),
            format!("INSERT INTO {table} VALUES (1)"),
        ] {
            conn.execute(&sql, &params![])
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        assert_eq!(conn.in_transaction(), Some(true));
        MariaDb::session_id(&mut *conn)
    };
    let mut conn = pool.get().expect("next user");
    assert_eq!(
        conn.in_transaction(),
        Some(false),
        "no transaction left open"
    );
    assert_eq!(MariaDb::session_id(&mut *conn), id, "the same connection");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        &format!(
            "SELECT CAST(@left_behind AS CHAR) IS NULL, \
             @@session.sql_mode = @@global.sql_mode, \
             @@session.wait_timeout = @@global.wait_timeout, \
             IS_USED_LOCK('dbpool_left_lock') IS NULL, \
             (SELECT COUNT(*) FROM {table})"
        ),
        &params![],
    )
    .expect("inspect the session");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::Int(1), "user variable");
    assert_eq!(row[1], Value::Int(1), "sql_mode");
    assert_eq!(row[2], Value::Int(1), "wait_timeout");
    assert_eq!(row[3], Value::Int(1), "GET_LOCK");
    assert_eq!(row[4], Value::Int(0), "the open transaction's insert");
    let err = cur
        .execute("SELECT * FROM left_temp", &params![])
        .expect_err("the temporary table is gone");
    assert_eq!(err.native_code(), Some(1146), "{err}");
    assert_eq!(err.kind(), ErrorKind::Programming);
    drop(cur);
    drop(conn);
    drop(pool);
    admin
        .execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn the_rollback_level_keeps_the_session() {
    let tag = unique("mx-rollback");
    let pool = Pool::builder(MariaDb::module(&tag).reset_level(ResetLevel::Rollback))
        .max_size(1)
        .cleanup(Cleanup::Reset)
        .build()
        .expect("pool");
    pool.get()
        .expect("get")
        .execute("SET @kept = 7", &params![])
        .expect("set");
    let mut conn = pool.get().expect("get");
    assert_eq!(scalar(&mut *conn, "SELECT @kept", &params![]), 7);
    assert_eq!(conn.in_transaction(), Some(true), "the SELECT opened one");
}

/// Whether another session's transaction holds the row `x = 1` of `table` (a locking read
/// that does not wait fails). `information_schema.INNODB_TRX` would not do: InnoDB refreshes
/// it only after 0.1 s without readers, so a polling loop never sees it change.
fn row_locked(observer: &mut dbapi_mysql::MysqlConnection, table: &str) -> bool {
    let sql = format!("SELECT x FROM {table} WHERE x = 1 FOR UPDATE NOWAIT");
    match observer.execute(&sql, &params![]) {
        Ok(_) => false,
        Err(e) if e.native_code() == Some(1205) => true,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// The default cleanup pipelines its `ROLLBACK`: the return sends it and does not wait for
/// the answer, yet the server ends the transaction (the insert is undone) while nobody uses
/// the connection; the next user's first request reads that answer on its way.
/// `Cleanup::RollbackAndWait` reads it before the return ends.
#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_dirty_return_rolls_back_without_waiting_for_the_server() {
    let table = format!("mx_pipelined_{}", std::process::id());
    let mut admin = my_admin();
    admin
        .execute(
            &format!("CREATE OR REPLACE TABLE {table} (x int PRIMARY KEY) ENGINE=InnoDB"),
            &params![],
        )
        .expect("create");
    for (cleanup, due) in [(Cleanup::Rollback, true), (Cleanup::RollbackAndWait, false)] {
        let pool = Pool::builder(MariaDb::plain_module(&unique("mx-pipelined-rollback")))
            .max_size(1)
            .cleanup(cleanup)
            .build()
            .expect("pool");
        let mut conn = pool.get().expect("get");
        let id = MariaDb::session_id(&mut *conn);
        conn.execute(&format!("INSERT INTO {table} VALUES (1)"), &params![])
            .expect("insert in a transaction");
        assert!(row_locked(&mut admin, &table), "the insert holds its row");
        drop(conn);
        dbpool_tests::wait_until("the ROLLBACK reaches the server", || {
            !row_locked(&mut admin, &table)
        });
        let mut conn = pool.get().expect("the same connection");
        assert_eq!(
            conn.answer_due(),
            due,
            "the answer is still to be read: {due}"
        );
        assert_eq!(conn.in_transaction(), Some(false));
        assert_eq!(
            MariaDb::session_id(&mut *conn),
            id,
            "the same session, in step"
        );
        assert!(!conn.answer_due());
        assert_eq!(
            scalar(
                &mut *conn,
                &format!("SELECT COUNT(*) FROM {table}"),
                &params![]
            ),
            0,
            "the insert was rolled back"
        );
        assert_eq!(pool.stats().created, 1);
    }
    admin
        .execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
}

/// See [`dbpool_tests::matrix::a_session_ended_before_a_dirty_return_is_not_reused`]: on a
/// plain socket, where the rollback is pipelined and a look before sending finds the
/// session over.
#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_session_ended_before_a_dirty_return_is_not_reused() {
    dbpool_tests::matrix::a_session_ended_before_a_dirty_return_is_not_reused::<MariaDb>(
        MariaDb::plain_module,
    );
}

/// Under load, with every return dirty and pipelined: 16 threads share 4 plain connections,
/// each inserting (never committing) and committing in turn; every uncommitted insert is
/// gone, every committed one is there, no session is ever out of step, and the server
/// holds exactly the pool's connections at the end.
#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn sixteen_threads_returning_dirty_connections_stay_in_step() {
    use std::sync::Arc;
    let tag = unique("mx-dirty-load");
    let table = format!("mx_dirty_load_{}", std::process::id());
    let mut admin = my_admin();
    admin
        .execute(
            &format!("CREATE OR REPLACE TABLE {table} (t int, i int, kept int) ENGINE=InnoDB"),
            &params![],
        )
        .expect("create");
    let pool = Pool::builder(MariaDb::plain_module(&tag))
        .max_size(4)
        .build()
        .expect("pool");
    let start = Arc::new(std::sync::Barrier::new(16));
    // Checkouts that found the last user's ROLLBACK still unanswered: the pipelined path.
    let due = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (pool, start, table) = (pool.clone(), Arc::clone(&start), table.clone());
            let due = Arc::clone(&due);
            std::thread::spawn(move || {
                start.wait();
                for i in 0..50 {
                    let mut conn = pool.get().expect("get");
                    assert_eq!(conn.in_transaction(), Some(false), "clean at checkout");
                    if conn.answer_due() {
                        due.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let kept = i % 5 == 0;
                    conn.execute(
                        &format!("INSERT INTO {table} VALUES (?, ?, ?)"),
                        &params![t, i, i64::from(kept)],
                    )
                    .expect("insert");
                    assert_eq!(
                        scalar(
                            &mut *conn,
                            &format!("SELECT COUNT(*) FROM {table} WHERE t = ? AND i = ?"),
                            &params![t, i]
                        ),
                        1,
                        "the session sees its own insert: in step"
                    );
                    if kept {
                        conn.commit().expect("commit");
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("worker");
    }
    assert!(
        due.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no checkout met a pipelined rollback"
    );
    assert_eq!(
        scalar(
            &mut admin,
            &format!("SELECT COUNT(*) FROM {table} WHERE kept = 0"),
            &params![]
        ),
        0,
        "every uncommitted insert was rolled back"
    );
    assert_eq!(
        scalar(
            &mut admin,
            &format!("SELECT COUNT(*) FROM {table} WHERE kept = 1"),
            &params![]
        ),
        16 * 10,
        "every committed insert is there"
    );
    let stats = pool.stats();
    assert_eq!(stats.open, stats.idle, "all back: {stats:?}");
    assert_eq!(stats.closed(dbpool_core::CloseReason::CleanupFailed), 0);
    assert_eq!(pool.size() as i64, MariaDb::sessions(&mut admin, &tag));
    drop(pool);
    admin
        .execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
}
