//! The PostgreSQL server of `cargo xtask test`: connections told apart by
//! `application_name`, ended with `pg_terminate_backend`, restarted with `pg_ctl`.

use std::process::Command;
use std::time::Duration;

use dbapi::{params, Connection, Error, ErrorKind, Module};
use dbapi_postgres::{PgConnection, Postgres};

use crate::{env, scalar, wait_until, Backend};

/// The PostgreSQL backend of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Pg;

/// The test role's URL (`DBPOOL_PG_URL`).
///
/// # Panics
/// When the variable is missing: the test must fail, not pass, without its server.
#[must_use]
pub fn pg_url() -> String {
    env("DBPOOL_PG_URL")
}

/// A superuser connection (`DBPOOL_PG_ADMIN_URL`), autocommitting.
///
/// # Panics
/// When the server cannot be reached.
#[must_use]
pub fn pg_admin() -> PgConnection {
    let mut conn = Postgres::from_dsn(&env("DBPOOL_PG_ADMIN_URL"))
        .expect("valid admin DSN")
        .connect()
        .expect("admin connects");
    conn.set_autocommit(true).expect("autocommit");
    conn
}

/// Runs `pg_ctl -D data args…` as the user that owns the server's files (`DBPOOL_PG_BIN`,
/// `DBPOOL_PG_RUNAS`), output discarded.
///
/// # Panics
/// When `pg_ctl` fails.
pub fn pg_ctl(data: &str, args: &[&str]) {
    let pg_ctl = format!("{}/pg_ctl", env("DBPOOL_PG_BIN"));
    let runas = std::env::var("DBPOOL_PG_RUNAS").unwrap_or_default();
    let mut cmd = if runas.is_empty() {
        Command::new(&pg_ctl)
    } else {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", &runas, "--", &pg_ctl]).current_dir("/");
        cmd
    };
    let status = cmd
        .args(["-D", data])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run pg_ctl");
    assert!(status.success(), "pg_ctl {args:?} failed: {status}");
}

/// Connections with `application_name` `tag`, counted in `pg_stat_activity` (through any
/// adapter: the SQL has no parameter markers; tags are the tests' own words).
pub(crate) fn sessions<C: Connection>(conn: &mut C, tag: &str) -> i64 {
    assert!(!tag.contains('\''), "a tag is a plain word");
    scalar(
        conn,
        &format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{tag}'"),
        &params![],
    )
}

/// Terminates backend `id` and waits until the server no longer lists it.
pub(crate) fn terminate<C: Connection>(observer: &mut C, id: i64) {
    scalar(
        observer,
        &format!("SELECT count(*) FROM (SELECT pg_terminate_backend({id})) t"),
        &params![],
    );
    wait_until(&format!("backend {id} goes away"), || {
        scalar(
            observer,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {id}"),
            &params![],
        ) == 0
    });
}

fn test_params() -> dbapi::ConnectParams {
    dbapi::ConnectParams::parse(&pg_url()).expect("DBPOOL_PG_URL is a valid DSN")
}

impl Backend for Pg {
    type Module = Postgres;

    fn module(tag: &str) -> Postgres {
        Postgres::from_dsn(&pg_url())
            .expect("DBPOOL_PG_URL is a valid DSN")
            .application_name(tag)
    }

    fn module_checking_every_use(tag: &str) -> Postgres {
        Self::module(tag).check_alive_after(Duration::ZERO)
    }

    fn observer() -> PgConnection {
        let mut conn = Self::module("dbpool-observer")
            .connect()
            .expect("observer connects");
        conn.set_autocommit(true).expect("autocommit");
        conn
    }

    fn sessions<C: Connection>(conn: &mut C, tag: &str) -> i64 {
        sessions(conn, tag)
    }

    fn session_id<C: Connection>(conn: &mut C) -> i64 {
        scalar(conn, Self::SESSION_ID, &params![])
    }

    fn kill<C: Connection>(observer: &mut C, id: i64) {
        terminate(observer, id);
    }

    fn with_password(password: &str) -> Postgres {
        let params = test_params();
        let dsn = format!(
            "postgres://{}:{password}@{}:{}/{}",
            params.user().expect("user"),
            params.host().expect("host"),
            params.port().expect("port"),
            params.database().expect("db"),
        );
        Postgres::from_dsn(&dsn).expect("dsn")
    }

    fn assert_authentication_error(err: &Error) {
        assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Operational);
    }

    fn at_port(port: u16) -> Postgres {
        Postgres::from_dsn(&format!("postgres://nobody:x@127.0.0.1:{port}/db")).expect("dsn")
    }

    /// `pg_ctl restart -m fast`, which waits until the server accepts connections again, as
    /// the user that owns its data directory.
    fn restart() {
        pg_ctl(&env("DBPOOL_PG_DATA"), &["-m", "fast", "-w", "restart"]);
    }

    // The adapter bounds the whole connect (TCP, TLS, startup and authentication) by
    // `connect_timeout`, as libpq does.
    const BOUNDED_HANDSHAKE: bool = true;

    const SLOW_42: &'static str = "SELECT 42::int8 FROM pg_sleep(0.5)";

    const SESSION_ID: &'static str = "SELECT pg_backend_pid()::int8";
}
