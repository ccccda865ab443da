//! The pool behaviour matrix on a real PostgreSQL server (see `dbpool_tests::matrix`), and
//! what only PostgreSQL sessions carry: roles, search paths, prepared statements, LISTEN.

use dbapi::{params, Connection, Cursor, Value};
use dbapi_postgres::ResetLevel;
use dbpool_core::{Cleanup, Pool};
use dbpool_tests::matrix::unique;
use dbpool_tests::{pg_admin, Backend, Pg};

dbpool_tests::pool_matrix!(Pg, "needs PostgreSQL: cargo xtask test");

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_full_reset_hides_everything_the_last_user_left() {
    let app = unique("matrix-reset");
    let role = format!("matrix_other_{}", std::process::id());
    let mut su = pg_admin();
    su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![])
        .expect("drop role");
    su.execute(&format!("CREATE ROLE {role}"), &params![])
        .expect("create role");
    su.execute(&format!("GRANT {role} TO dbpool"), &params![])
        .expect("grant");
    let pool = Pool::builder(Pg::module(&app).reset_level(ResetLevel::Full))
        .max_size(1)
        .cleanup(Cleanup::Reset)
        .build()
        .expect("pool");
    let pid = {
        let mut conn = pool.get().expect("first user");
        conn.set_autocommit(true).expect("autocommit");
        for sql in [
            "SET search_path TO pg_catalog".to_owned(),
            format!("SET ROLE {role}"),
            "CREATE TEMP TABLE left_behind (x int)".to_owned(),
            "PREPARE left_stmt AS SELECT 1".to_owned(),
            "SELECT pg_advisory_lock(4242)".to_owned(),
            "LISTEN left_channel".to_owned(),
        ] {
            conn.execute(&sql, &params![])
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        Pg::session_id(&mut *conn)
    };
    let mut conn = pool.get().expect("next user");
    assert_eq!(Pg::session_id(&mut *conn), pid, "the same connection");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT current_setting('search_path'), current_user::text, \
         to_regclass('pg_temp.left_behind') IS NULL, \
         (SELECT count(*) FROM pg_prepared_statements WHERE name = 'left_stmt'), \
         (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), \
         (SELECT count(*) FROM pg_listening_channels())",
        &params![],
    )
    .expect("inspect the session");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::from("\"$user\", public"), "search_path");
    assert_eq!(row[1], Value::from("dbpool"), "role");
    assert_eq!(row[2], Value::Bool(true), "temp table");
    assert_eq!(row[3], Value::Int(0), "prepared statement");
    assert_eq!(row[4], Value::Int(0), "advisory lock");
    assert_eq!(row[5], Value::Int(0), "LISTEN");
    drop(cur);
    drop(conn);
    drop(pool);
    su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![])
        .expect("drop role");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn the_clean_reset_level_keeps_statements_prepared() {
    let app = unique("matrix-clean");
    let pool = Pool::builder(Pg::module(&app).reset_level(ResetLevel::Clean))
        .max_size(1)
        .cleanup(Cleanup::Reset)
        .build()
        .expect("pool");
    {
        let mut conn = pool.get().expect("get");
        conn.execute("SET search_path TO pg_catalog", &params![])
            .expect("set");
        conn.execute("CREATE TEMP TABLE t (x int)", &params![])
            .expect("temp");
    }
    let mut conn = pool.get().expect("get");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT current_setting('search_path'), to_regclass('pg_temp.t') IS NULL",
        &params![],
    )
    .expect("inspect");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::from("\"$user\", public"));
    assert_eq!(row[1], Value::Bool(true));
}

/// Idle keepalive against the server's `idle_session_timeout`: without it the server ends
/// the idle session; with it the same session is still there long after the timeout.
/// (The sleep is the subject: the server's timeout must run out while nothing is sent.)
#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn keepalive_outlives_idle_session_timeout() {
    use std::time::Duration;
    let timeout = "SET idle_session_timeout = '1s'";
    let bare_tag = unique("matrix-no-keepalive");
    let bare = Pool::builder(Pg::module(&bare_tag))
        .init_sql(timeout)
        .build()
        .expect("pool");
    let kept_tag = unique("matrix-keepalive");
    let kept = Pool::builder(Pg::module(&kept_tag))
        .init_sql(timeout)
        .keepalive(Duration::from_millis(250))
        .build()
        .expect("pool");
    drop(bare.get().expect("get"));
    let id = Pg::session_id(&mut *kept.get().expect("get"));
    std::thread::sleep(Duration::from_secs(3));
    let mut observer = Pg::observer();
    dbpool_tests::wait_until("the server ends the idle session", || {
        Pg::sessions(&mut observer, &bare_tag) == 0
    });
    assert_eq!(Pg::sessions(&mut observer, &kept_tag), 1, "kept alive");
    assert_eq!(
        Pg::session_id(&mut *kept.get().expect("get")),
        id,
        "the same session, three timeouts later"
    );
    assert_eq!(kept.stats().closed_total(), 0);
}

/// Credential rotation: a provider consulted on every new connection. After `ALTER ROLE …
/// PASSWORD`, the provider's new password is used by the next connection, the old session
/// keeps working, and `evict_all` retires it.
#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_rotated_password_takes_effect_without_rebuilding_the_pool() {
    use dbapi_postgres::Postgres;
    use dbpool_core::Provided;
    use std::sync::{Arc, Mutex};

    let role = format!("matrix_rotate_{}", std::process::id());
    let mut su = pg_admin();
    su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![])
        .expect("drop role");
    su.execute(
        &format!("CREATE ROLE {role} LOGIN PASSWORD 'first-pw'"),
        &params![],
    )
    .expect("create role");
    let url = dbpool_tests::pg_url();
    let (_, server) = url.split_once('@').expect("user@host");
    let password = Arc::new(Mutex::new(String::from("first-pw")));
    let source = Arc::clone(&password);
    let (user, server) = (role.clone(), server.to_owned());
    let pool = Pool::builder(Provided::new("rotating role", move || {
        let password = source.lock().expect("lock").clone();
        Postgres::from_dsn(&format!("postgres://{user}:{password}@{server}"))
    }))
    .max_size(3)
    .build()
    .expect("pool");
    let mut old = pool.get().expect("with the first password");
    let old_id = Pg::session_id(&mut *old);
    su.execute(
        &format!("ALTER ROLE {role} PASSWORD 'second-pw'"),
        &params![],
    )
    .expect("rotate");
    let err = pool
        .get()
        .expect_err("the provider still has the old password");
    assert!(err.to_string().contains("password"), "{err}");
    *password.lock().expect("lock") = String::from("second-pw");
    let mut new = pool
        .get()
        .expect("the next connection uses the new password");
    assert_ne!(Pg::session_id(&mut *new), old_id);
    old.execute("SELECT 1", &params![])
        .expect("the old session keeps working");
    pool.evict_all();
    drop(old);
    drop(new);
    for _ in 0..3 {
        assert_ne!(
            Pg::session_id(&mut *pool.get().expect("get")),
            old_id,
            "retired"
        );
    }
    assert!(pool.stats().closed_evicted >= 1);
    drop(pool);
    su.execute(
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"),
        &params![],
    )
    .expect("end sessions");
    let _ = su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![]);
}

/// Connect storms on the real server: while it refuses the role (`CONNECTION LIMIT 0`), 32
/// callers retrying for 2 s make a few attempts (counted by the pool), each caller gets the
/// server's own error, and the pool recovers once the limit is lifted.
#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_refusing_server_sees_a_few_attempts_not_a_storm() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::time::Duration;

    use dbapi_postgres::Postgres;
    use dbpool_core::PoolError;

    let role = format!("matrix_storm_{}", std::process::id());
    let mut su = pg_admin();
    su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![])
        .expect("drop role");
    su.execute(
        &format!("CREATE ROLE {role} LOGIN PASSWORD 'storm-pw' CONNECTION LIMIT 0"),
        &params![],
    )
    .expect("create role");
    let url = dbpool_tests::pg_url();
    let (_, server) = url.split_once('@').expect("user@host");
    let module = Postgres::from_dsn(&format!("postgres://{role}:storm-pw@{server}")).expect("dsn");
    let pool = Pool::builder(module)
        .max_size(8)
        .connect_backoff(Duration::from_millis(50), Duration::from_millis(500))
        .build()
        .expect("pool");
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..32 {
            scope.spawn(|| {
                while !stop.load(SeqCst) {
                    match pool.get() {
                        Err(PoolError::Connect { source, .. }) => {
                            assert_eq!(source.sqlstate(), Some("53300"), "{source}");
                        }
                        other => panic!("the server refuses the role: {other:?}"),
                    }
                }
            });
        }
        // The measurement window: two seconds of callers retrying as fast as they can.
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, SeqCst);
    });
    let stats = pool.stats();
    let attempts = stats.created + stats.connect_failures;
    assert!(attempts <= 40, "{attempts} connect attempts in 2 s");
    su.execute(
        &format!("ALTER ROLE {role} CONNECTION LIMIT -1"),
        &params![],
    )
    .expect("lift the limit");
    dbpool_tests::wait_until("the pool recovers", || pool.get().is_ok());
    drop(pool);
    let _ = su.execute(
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"),
        &params![],
    );
    let _ = su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![]);
}

/// Transaction-scoped advisory locks that backend `pid` holds now.
fn xact_locks(observer: &mut dbapi_postgres::PgConnection, pid: i64) -> i64 {
    dbpool_tests::scalar(
        observer,
        &format!("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = {pid}"),
        &params![],
    )
}

/// How many times the session behind `conn` waited for the server.
fn round_trips(conn: &mut dbapi_postgres::PgConnection) -> u64 {
    conn.native_mut().expect("open").round_trips()
}

/// The default cleanup pipelines its `ROLLBACK`: the return sends it and does not wait for
/// the answer, yet the server ends the transaction (its lock goes) while nobody uses the
/// connection; the next user's first statement reads that answer on its way.
/// `Cleanup::RollbackAndWait` waits for it: one round trip more.
#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_dirty_return_rolls_back_without_waiting_for_the_server() {
    let mut observer = Pg::observer();
    for (cleanup, waits) in [(Cleanup::Rollback, 0), (Cleanup::RollbackAndWait, 1)] {
        let pool = Pool::builder(Pg::module(&unique("matrix-pipelined-rollback")))
            .max_size(1)
            .cleanup(cleanup)
            .build()
            .expect("pool");
        let mut conn = pool.get().expect("get");
        let pid = Pg::session_id(&mut *conn);
        conn.execute("SELECT pg_advisory_xact_lock(4243)", &params![])
            .expect("lock in a transaction");
        assert_eq!(xact_locks(&mut observer, pid), 1);
        let before = round_trips(&mut conn);
        drop(conn);
        dbpool_tests::wait_until("the ROLLBACK reaches the server", || {
            xact_locks(&mut observer, pid) == 0
        });
        let mut conn = pool.get().expect("the same connection");
        assert_eq!(
            round_trips(&mut conn) - before,
            waits,
            "waits for the ROLLBACK's answer: {waits}"
        );
        assert_eq!(conn.in_transaction(), Some(false));
        assert_eq!(
            Pg::session_id(&mut *conn),
            pid,
            "the same session, still in step"
        );
        assert_eq!(pool.stats().created, 1);
    }
}

/// See [`dbpool_tests::matrix::a_session_ended_before_a_dirty_return_is_not_reused`].
#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_session_ended_before_a_dirty_return_is_not_reused() {
    dbpool_tests::matrix::a_session_ended_before_a_dirty_return_is_not_reused::<Pg>(Pg::module);
}
