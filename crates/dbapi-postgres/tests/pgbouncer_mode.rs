//! Behind PgBouncer in transaction mode (started by `cargo xtask test`): what breaks in the
//! adapter's default mode, that its PgBouncer mode does not break, and that the default mode
//! finds the pooler out by itself.
//!
//! The server switch is forced, not hoped for: another client holds the server session a
//! connection used last inside an open transaction, so the connection's next transaction
//! must run on another server session.

use std::sync::{Mutex, MutexGuard, PoisonError};

use dbapi::{params, Connection, Cursor, Module, Value};
use dbapi_postgres::{PgConnection, Postgres};

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the PostgreSQL tests with `cargo xtask test`")
    })
}

/// A module through PgBouncer in its PgBouncer mode.
fn pgbouncer_mode() -> Postgres {
    Postgres::from_dsn(&format!("{}&pgbouncer=true", env("DBPOOL_PGBOUNCER_URL")))
        .expect("valid url")
}

/// The tests of the default mode leave prepared statements behind on the server sessions
/// (that is what they show), so they take turns on a database alias of their own, each
/// starting on fresh server sessions.
static DEFAULT_MODE: Mutex<()> = Mutex::new(());

/// A module through PgBouncer in the adapter's default mode, on fresh server sessions (the
/// guard keeps the other default-mode test out meanwhile).
fn default_mode() -> (Postgres, MutexGuard<'static, ()>) {
    let turn = DEFAULT_MODE.lock().unwrap_or_else(PoisonError::into_inner);
    let mut admin = postgres::Client::connect(&env("DBPOOL_PGBOUNCER_ADMIN_URL"), postgres::NoTls)
        .expect("PgBouncer's admin console");
    admin
        .simple_query("RECONNECT dbpool_bouncer_default")
        .expect("fresh server sessions");
    let module = Postgres::from_dsn(&format!(
        "{}&pgbouncer=false",
        env("DBPOOL_PGBOUNCER_DEFAULT_MODE_URL")
    ))
    .expect("valid url");
    (module, turn)
}

fn one(conn: &mut PgConnection, sql: &str) -> dbapi::Result<Value> {
    let mut cur = conn.cursor()?;
    cur.execute(sql, &params![])?;
    Ok(cur.fetchone()?.expect("a row")[0].clone())
}

/// The server session of `conn`'s current transaction.
fn backend(conn: &mut PgConnection) -> Value {
    one(conn, "SELECT pg_backend_pid()::int8").expect("backend pid")
}

/// Runs one transaction with a cached statement on `conn`, then makes another client hold
/// that server session in an open transaction (returned, so the caller keeps it held).
fn pin_last_session(conn: &mut PgConnection, other: &mut PgConnection) -> Value {
    let first = backend(conn);
    conn.commit().expect("commit");
    // PgBouncer hands out the most recently used server session first: the other client
    // gets it, and keeps it while its transaction stays open.
    let held = backend(other);
    assert_eq!(
        held, first,
        "the other client got the session just released"
    );
    held
}

#[test]
#[ignore = "needs PgBouncer: cargo xtask test"]
fn the_default_mode_loses_its_cached_statements_and_says_why() {
    let (module, _turn) = default_mode();
    let mut conn = module.connect().expect("connect");
    let mut other = module.clone().pgbouncer(true).connect().expect("connect");
    assert!(!conn.pgbouncer());
    let held = pin_last_session(&mut conn, &mut other);
    // The cached statement lives on the held session; this transaction runs on another.
    let err = one(&mut conn, "SELECT pg_backend_pid()::int8")
        .expect_err("the cached statement is not on this server session");
    assert_eq!(err.sqlstate(), Some("26000"), "{err}");
    assert!(err.to_string().contains("PgBouncer"), "{err}");
    assert!(
        conn.pgbouncer(),
        "the connection switched to PgBouncer mode"
    );
    conn.rollback().expect("roll back the lost transaction");
    let now = backend(&mut conn);
    assert_ne!(now, held, "another server session");
    conn.commit().expect("commit");
    // The module's next connections start in PgBouncer mode.
    assert!(module.connect().expect("connect").pgbouncer());
    other.rollback().expect("release");
}

#[test]
#[ignore = "needs PgBouncer: cargo xtask test"]
fn the_pgbouncer_mode_runs_every_transaction_wherever_it_lands() {
    let module = pgbouncer_mode();
    let mut conn = module.connect().expect("connect");
    let mut other = module.connect().expect("connect");
    assert!(conn.pgbouncer());
    let held = pin_last_session(&mut conn, &mut other);
    for _ in 0..3 {
        assert_ne!(backend(&mut conn), held, "another server session");
        assert_eq!(
            one(
                &mut conn,
                "SELECT count(*) /* mode-marker */ FROM pg_prepared_statements \
                 WHERE statement LIKE '%mode-marker%'"
            )
            .expect("count"),
            Value::Int(1),
            "only this statement, running now, is prepared: none of the earlier runs' is left"
        );
        conn.commit().expect("commit");
    }
    other.rollback().expect("release");
}

#[test]
#[ignore = "needs PgBouncer: cargo xtask test"]
fn autocommit_statements_leave_nothing_prepared_and_keep_their_types() {
    let mut conn = pgbouncer_mode()
        .autocommit(true)
        .connect()
        .expect("connect");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT $1::int8 + 1 AS n, $2::text AS t, $3::bytea AS b",
        &params![41_i64, "x", Value::Bytes(vec![0, 255])],
    )
    .expect("typed parameters, inferred by the server");
    let names: Vec<String> = cur
        .description()
        .expect("columns")
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, ["n", "t", "b"]);
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::Int(42));
    assert_eq!(row[1], Value::from("x"));
    assert_eq!(row[2], Value::Bytes(vec![0, 255]));
    for _ in 0..3 {
        cur.execute(
            "SELECT count(*) /* autocommit-marker */ FROM pg_prepared_statements \
             WHERE statement LIKE '%autocommit-marker%'",
            &params![],
        )
        .expect("count");
        assert_eq!(
            cur.fetchone().expect("fetch").expect("row")[0],
            Value::Int(0),
            "an unnamed statement leaves nothing prepared"
        );
    }
    cur.execute("SELECT 1 WHERE false", &params![])
        .expect("an empty result");
    assert_eq!(cur.fetchall().expect("fetch"), Vec::new());
    let err = cur
        .execute("SELECT $1::int8", &params![])
        .expect_err("a missing parameter");
    assert_eq!(err.kind(), dbapi::ErrorKind::Programming, "{err}");
    assert!(!err.is_disconnect(), "the session is fine: {err}");
    cur.execute("SELECT 2::int8", &params![])
        .expect("the connection still works");
}

#[test]
#[ignore = "needs PgBouncer: cargo xtask test"]
fn an_autocommit_statement_that_finds_the_pooler_is_rerun_at_once() {
    let (module, _turn) = default_mode();
    let mut conn = module.clone().autocommit(true).connect().expect("connect");
    let mut other = module.pgbouncer(true).connect().expect("connect");
    let first = backend(&mut conn);
    let held = backend(&mut other);
    assert_eq!(
        held, first,
        "the other client got the session just released"
    );
    // Cached on the held session; rerun, unnamed, on another one.
    let now = backend(&mut conn);
    assert_ne!(now, held);
    assert!(conn.pgbouncer(), "switched to PgBouncer mode");
    other.rollback().expect("release");
}
