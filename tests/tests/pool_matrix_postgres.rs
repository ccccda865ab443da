//! The pool behaviour matrix on a real PostgreSQL server: every claim about the pool,
//! counted on the server side.

use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use dbapi::{params, Connection, Cursor, ErrorKind, Value};
use dbapi_postgres::ResetLevel;
use dbpool_core::{Cleanup, CloseReason, Pool, PoolError};
use dbpool_tests::{
    admin, backend_pid, observer, pg_module, pg_url, scalar, server_connections, terminate_backend,
};

fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn max_size_is_honoured_on_the_server_under_32_threads() {
    let app = unique("matrix-max-size");
    let pool = Pool::builder(pg_module(&app))
        .max_size(4)
        .build()
        .expect("pool");
    let start = Arc::new(Barrier::new(32));
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let (pool, start, app) = (pool.clone(), Arc::clone(&start), app.clone());
            thread::spawn(move || {
                start.wait();
                let mut most = 0;
                for _ in 0..25 {
                    let mut conn = pool.get().expect("get");
                    let seen = scalar(
                        &mut *conn,
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                        &params![app.as_str()],
                    );
                    most = most.max(seen);
                }
                most
            })
        })
        .collect();
    let most = handles
        .into_iter()
        .map(|h| h.join().expect("worker"))
        .max()
        .unwrap_or(0);
    assert!(
        most <= 4,
        "the server saw {most} connections from a pool of 4"
    );
    assert!(most >= 1);
    let mut obs = observer();
    assert!(server_connections(&mut obs, &app) <= 4);
    assert_eq!(pool.size() as i64, server_connections(&mut obs, &app));
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn connections_are_reused_and_clean_after_put() {
    let app = unique("matrix-reuse");
    let pool = Pool::builder(pg_module(&app))
        .max_size(1)
        .build()
        .expect("pool");
    let table = format!("matrix_reuse_{}", std::process::id());
    let pid = {
        let mut conn = pool.get().expect("get");
        conn.execute(&format!("CREATE TABLE {table} (x int)"), &params![])
            .expect("create");
        conn.commit().expect("commit");
        for i in 0..10 {
            conn.execute(&format!("INSERT INTO {table} VALUES ($1)"), &params![i])
                .expect("insert");
        }
        backend_pid(&mut *conn)
    };
    let mut conn = pool.get().expect("again");
    assert_eq!(backend_pid(&mut *conn), pid, "the same backend came back");
    assert_eq!(
        scalar(
            &mut *conn,
            &format!("SELECT count(*) FROM {table}"),
            &params![]
        ),
        0,
        "uncommitted inserts were rolled back on return"
    );
    conn.execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
    conn.commit().expect("commit");
    assert_eq!(pool.stats().created, 1);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_backend_killed_while_idle_is_evicted() {
    let app = unique("matrix-kill-idle");
    let pool = Pool::builder(pg_module(&app))
        .max_size(2)
        .build()
        .expect("pool");
    let pid = backend_pid(&mut *pool.get().expect("get"));
    let mut obs = observer();
    terminate_backend(&mut obs, pid);
    {
        // The pool cannot know before using it; the first use fails as a disconnect...
        let mut conn = pool.get().expect("get the dead one");
        let err = conn
            .execute("SELECT 1", &params![])
            .expect_err("dead backend");
        assert!(err.is_disconnect(), "{err}");
        assert_eq!(err.kind(), ErrorKind::Operational);
    }
    // ...which evicts it, and the next get() works.
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    let mut conn = pool.get().expect("a new connection");
    assert_ne!(backend_pid(&mut *conn), pid);

    // With validation on checkout, the dead connection is replaced before the user sees it.
    let validated = Pool::builder(pg_module(&app))
        .max_size(1)
        .test_on_checkout(Duration::ZERO)
        .build()
        .expect("pool");
    let pid = backend_pid(&mut *validated.get().expect("get"));
    terminate_backend(&mut obs, pid);
    let mut conn = validated.get().expect("replaced transparently");
    assert_ne!(backend_pid(&mut *conn), pid);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_backend_killed_while_checked_out_is_evicted() {
    let app = unique("matrix-kill-out");
    let pool = Pool::builder(pg_module(&app))
        .max_size(1)
        .build()
        .expect("pool");
    let mut obs = observer();
    let old_pid;
    {
        let mut conn = pool.get().expect("get");
        old_pid = backend_pid(&mut *conn);
        terminate_backend(&mut obs, old_pid);
        let mut cur = conn.cursor().expect("cursor");
        let err = cur.execute("SELECT 1", &params![]).expect_err("killed");
        assert!(err.is_disconnect(), "{err}");
    }
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    assert_eq!(pool.size(), 0, "no slot leaked");
    let mut conn = pool.get().expect("next get works");
    assert_ne!(backend_pid(&mut *conn), old_pid);
    assert_eq!(server_connections(&mut obs, &app), 1);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_wrong_password_fails_at_once_with_an_authentication_error() {
    let params = dbapi::ConnectParams::parse(&pg_url()).expect("url");
    let dsn = format!(
        "postgres://{}:NotThePassword99@{}:{}/{}",
        params.user().expect("user"),
        params.host().expect("host"),
        params.port().expect("port"),
        params.database().expect("db"),
    );
    let pool = Pool::builder(dbapi_postgres::Postgres::from_dsn(&dsn).expect("dsn"))
        .connect_timeout(Duration::from_secs(30))
        .wait_timeout(Duration::from_secs(30))
        .build()
        .expect("pool");
    let err = pool.get().expect_err("wrong password");
    match &err {
        PoolError::Connect { source, .. } => {
            assert_eq!(source.sqlstate(), Some("28P01"), "{source}");
            assert_eq!(source.kind(), ErrorKind::Operational);
        }
        other => panic!("expected an authentication error, got {other}"),
    }
    assert!(!err.to_string().contains("NotThePassword99"), "{err}");
    assert!(err.to_string().contains("***"), "{err}");
    assert_eq!(pool.size(), 0);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_closed_port_fails_within_connect_timeout() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }; // closed again: nothing listens there now
    let module =
        dbapi_postgres::Postgres::from_dsn(&format!("postgres://nobody:x@127.0.0.1:{port}/db"))
            .expect("dsn");
    let timeout = Duration::from_secs(5);
    let pool = Pool::builder(module)
        .connect_timeout(timeout)
        .build()
        .expect("pool");
    let started = Instant::now();
    let err = pool.get().expect_err("nothing listens");
    assert!(started.elapsed() < timeout, "took {:?}", started.elapsed());
    assert!(
        matches!(&err, PoolError::Connect { source, .. } if source.kind() == ErrorKind::Operational),
        "{err}"
    );
    assert_eq!(pool.size(), 0);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_silent_listener_gives_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Accept connections and never answer them.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        thread::park();
    });
    let module =
        dbapi_postgres::Postgres::from_dsn(&format!("postgres://nobody:x@127.0.0.1:{port}/db"))
            .expect("dsn");
    let timeout = Duration::from_millis(500);
    let pool = Pool::builder(module)
        .max_size(1)
        .connect_timeout(timeout)
        .build()
        .expect("pool");
    let started = Instant::now();
    let err = pool.get().expect_err("never answers");
    let took = started.elapsed();
    assert!(err.is_connect_timeout(), "{err}");
    assert!(took < timeout + Duration::from_secs(3), "took {took:?}");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_full_reset_hides_everything_the_last_user_left() {
    let app = unique("matrix-reset");
    let role = format!("matrix_other_{}", std::process::id());
    let mut su = admin();
    su.execute(&format!("DROP ROLE IF EXISTS {role}"), &params![])
        .expect("drop role");
    su.execute(&format!("CREATE ROLE {role}"), &params![])
        .expect("create role");
    su.execute(&format!("GRANT {role} TO dbpool"), &params![])
        .expect("grant");
    let pool = Pool::builder(pg_module(&app).reset_level(ResetLevel::Full))
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
        backend_pid(&mut *conn)
    };
    let mut conn = pool.get().expect("next user");
    assert_eq!(backend_pid(&mut *conn), pid, "the same connection");
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
    let pool = Pool::builder(pg_module(&app).reset_level(ResetLevel::Clean))
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
