//! SQLite-specific behaviour beyond the shared conformance suite.

use std::time::Duration;

use dbapi::{named_params, params, Connection, Cursor, ErrorKind, Module, Value};
use dbapi_sqlite::Sqlite;

#[test]
fn memory_databases_are_private_per_connection() {
    let module = Sqlite::memory();
    let mut a = module.connect().expect("a");
    let mut b = module.connect().expect("b");
    a.execute("CREATE TABLE t (x)", &params![])
        .expect("create in a");
    let err = b
        .execute("SELECT * FROM t", &params![])
        .expect_err("b has its own database");
    assert_eq!(err.kind(), ErrorKind::Programming);
}

#[test]
fn shared_memory_is_shared_between_connections() {
    let module = Sqlite::shared_memory("dbapi_sqlite_shared_test");
    let mut a = module.connect().expect("a");
    let mut b = module.connect().expect("b");
    a.execute("CREATE TABLE t (x)", &params![])
        .expect("create in a");
    a.commit().expect("commit");
    b.execute("SELECT * FROM t", &params![])
        .expect("b sees a's table");
}

#[test]
fn named_parameters_accept_each_prefix() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT :a, @b, $c",
        &named_params! {"a" => 1, "b" => "two", "c" => 3.5},
    )
    .expect("named");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(
        row.values(),
        [Value::Int(1), Value::from("two"), Value::Float(3.5)]
    );
    let err = cur
        .execute("SELECT :a", &named_params! {"zzz" => 1})
        .expect_err("unknown name");
    assert_eq!(err.kind(), ErrorKind::Programming);
    assert!(err.message().contains("zzz"), "{err}");
}

#[test]
fn lastrowid_and_rowcount_follow_sqlite() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x)", &params![])
        .expect("create");
    cur.executemany(
        "INSERT INTO t (x) VALUES (?)",
        &[params![1], params![2], params![3]],
    )
    .expect("executemany");
    assert_eq!(cur.rowcount(), 3, "executemany sums changes");
    assert_eq!(cur.lastrowid(), Some(3));
    cur.execute("UPDATE t SET x = x + 1 WHERE id > 1", &params![])
        .expect("update");
    assert_eq!(cur.rowcount(), 2);
}

#[test]
fn dsn_options_configure_the_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("opts.db");
    let dsn = format!(
        "sqlite://{}?busy_timeout=250&pragma.foreign_keys=ON",
        path.display()
    );
    let mut conn = Sqlite::from_dsn(&dsn)
        .expect("dsn")
        .connect()
        .expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("PRAGMA foreign_keys", &params![])
        .expect("pragma");
    assert_eq!(
        cur.fetchone().expect("fetch").expect("row")[0],
        Value::Int(1)
    );
    let err = Sqlite::from_dsn("sqlite::memory:?bogus=1").expect_err("unknown option");
    assert!(err.message().contains("bogus"), "{err}");
    let err = Sqlite::from_dsn("postgres://h/db").expect_err("other scheme");
    assert_eq!(err.kind(), ErrorKind::Interface);
}

#[test]
fn busy_timeout_turns_lock_waits_into_operational_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let module = Sqlite::file(dir.path().join("busy.db").to_string_lossy().into_owned())
        .busy_timeout(Duration::from_millis(20));
    let mut writer = module.connect().expect("writer");
    writer
        .execute("CREATE TABLE t (x)", &params![])
        .expect("create");
    writer.commit().expect("commit");
    writer
        .execute("INSERT INTO t VALUES (1)", &params![])
        .expect("insert holds the write lock");
    let mut other = module.connect().expect("other");
    let err = other
        .execute("INSERT INTO t VALUES (2)", &params![])
        .expect_err("locked");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    assert_eq!(err.native_code().map(|c| c & 0xff), Some(5), "SQLITE_BUSY");
}

#[test]
fn autocommit_and_transaction_state() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    assert_eq!(conn.in_transaction(), Some(false));
    conn.execute("CREATE TABLE t (x)", &params![])
        .expect("create");
    assert_eq!(conn.in_transaction(), Some(true), "DDL opens a transaction");
    conn.commit().expect("commit");
    conn.execute("SELECT * FROM t", &params![]).expect("read");
    assert_eq!(conn.in_transaction(), Some(false), "reads do not");
    conn.set_autocommit(true).expect("autocommit");
    conn.execute("INSERT INTO t VALUES (1)", &params![])
        .expect("insert");
    assert_eq!(conn.in_transaction(), Some(false));
}

#[test]
fn reset_session_rolls_back_and_restores_settings() {
    let mut conn = Sqlite::memory()
        .pragma("foreign_keys", "ON")
        .connect()
        .expect("connect");
    conn.execute("CREATE TABLE t (x)", &params![])
        .expect("create");
    conn.commit().expect("commit");
    conn.execute("PRAGMA foreign_keys = OFF", &params![])
        .expect("change a pragma");
    conn.set_autocommit(true).expect("autocommit on");
    conn.execute("BEGIN", &params![])
        .expect("explicit transaction");
    conn.execute("INSERT INTO t VALUES (1)", &params![])
        .expect("insert");
    assert_eq!(conn.in_transaction(), Some(true));
    conn.reset_session().expect("reset");
    assert!(!conn.autocommit());
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT count(*) FROM t", &params![])
        .expect("count");
    assert_eq!(cur.fetchone().expect("f").expect("row")[0], Value::Int(0));
    cur.execute("PRAGMA foreign_keys", &params![])
        .expect("pragma");
    assert_eq!(cur.fetchone().expect("f").expect("row")[0], Value::Int(1));
}

#[test]
fn executescript_runs_several_statements() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    conn.executescript("CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1);")
        .expect("script");
    let err = conn
        .execute("SELECT 1; SELECT 2", &params![])
        .expect_err("execute takes one statement");
    assert_eq!(err.kind(), ErrorKind::Programming);
}

#[test]
fn unopenable_path_is_operational_error() {
    let err = Sqlite::file("/nonexistent-dir/for/sure/x.db")
        .connect()
        .expect_err("cannot open");
    assert_eq!(err.kind(), ErrorKind::Operational);
    assert!(err.message().contains("/nonexistent-dir"), "{err}");
}
