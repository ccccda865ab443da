//! The MariaDB server of `cargo xtask test`: connections told apart by a user of their own
//! (`information_schema.PROCESSLIST` lists users, not program names), ended with
//! `KILL CONNECTION`, restarted by signal and its start script.

use std::collections::HashSet;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use dbapi::{params, Connection, Error, ErrorKind, Module};
use dbapi_mysql::{Mysql, MysqlConnection};

use crate::{env, scalar, wait_until, Backend, PATIENCE};

/// The MariaDB backend of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct MariaDb;

/// The test user's URL (`DBPOOL_MY_URL`).
///
/// # Panics
/// When the variable is missing: the test must fail, not pass, without its server.
#[must_use]
pub fn my_url() -> String {
    env("DBPOOL_MY_URL")
}

/// An administrator connection (`DBPOOL_MY_ADMIN_URL`), autocommitting.
///
/// # Panics
/// When the server cannot be reached.
#[must_use]
pub fn my_admin() -> MysqlConnection {
    Mysql::from_dsn(&env("DBPOOL_MY_ADMIN_URL"))
        .expect("valid admin DSN")
        .autocommit(true)
        .connect()
        .expect("admin connects")
}

fn test_params() -> dbapi::ConnectParams {
    dbapi::ConnectParams::parse(&my_url()).expect("DBPOOL_MY_URL is a valid DSN")
}

fn url_for(user: &str, password: &str) -> String {
    let params = test_params();
    format!(
        "mysql://{user}:{password}@{}:{}/{}",
        params.host().expect("host"),
        params.port().expect("port"),
        params.database().expect("db"),
    )
}

/// The user a tag's connections log in as.
fn user_for(tag: &str) -> String {
    tag.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Creates (once per process) a user named `tag` with the test user's password and rights.
fn ensure_user(user: &str, password: &str) {
    static CREATED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut created = CREATED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !created
        .get_or_insert_with(HashSet::new)
        .insert(user.to_owned())
    {
        return;
    }
    let mut admin = my_admin();
    let database = test_params().database().expect("db").to_owned();
    for sql in [
        format!("CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'"),
        format!("GRANT ALL ON {database}.* TO '{user}'@'%'"),
    ] {
        admin
            .execute(&sql, &params![])
            .unwrap_or_else(|e| panic!("creating the test user {user}: {e}"));
    }
}

/// The module of a tag's user, with `options` (a URL query, or nothing) after its DSN.
fn module_for(tag: &str, options: &str) -> Mysql {
    let user = user_for(tag);
    let params = test_params();
    let password = params.password().expect("password").expose().to_owned();
    ensure_user(&user, &password);
    Mysql::from_dsn(&format!("{}{options}", url_for(&user, &password)))
        .expect("dsn")
        .program_name(tag)
}

/// Polls until the process `pid` has exited (or is a zombie awaiting its reaper).
fn wait_for_exit(pid: &str) {
    wait_until(&format!("mariadbd {pid} stops"), || {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        state.is_empty()
            || state
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'))
    });
}

impl MariaDb {
    /// As [`Backend::module`], without TLS even when the adapter is built with it (a
    /// pipelined `ROLLBACK` needs the plain socket).
    #[must_use]
    pub fn plain_module(tag: &str) -> Mysql {
        module_for(tag, "?sslmode=disable")
    }
}

impl Backend for MariaDb {
    type Module = Mysql;

    fn module(tag: &str) -> Mysql {
        module_for(tag, "")
    }

    fn observer() -> MysqlConnection {
        my_admin()
    }

    fn sessions<C: Connection>(conn: &mut C, tag: &str) -> i64 {
        let user = user_for(tag);
        scalar(
            conn,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?",
            &params![user],
        )
    }

    fn session_id<C: Connection>(conn: &mut C) -> i64 {
        scalar(conn, Self::SESSION_ID, &params![])
    }

    fn kill<C: Connection>(observer: &mut C, id: i64) {
        observer
            .execute(&format!("KILL CONNECTION {id}"), &params![])
            .unwrap_or_else(|e| panic!("KILL CONNECTION {id}: {e}"));
        wait_until(&format!("connection {id} goes away"), || {
            scalar(
                observer,
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?",
                &params![id],
            ) == 0
        });
    }

    fn with_password(password: &str) -> Mysql {
        let user = test_params().user().expect("user").to_owned();
        Mysql::from_dsn(&url_for(&user, password)).expect("dsn")
    }

    fn assert_authentication_error(err: &Error) {
        assert_eq!(err.native_code(), Some(1045), "{err}");
        assert_eq!(err.kind(), ErrorKind::Operational);
    }

    fn at_port(port: u16) -> Mysql {
        Mysql::from_dsn(&format!("mysql://nobody:x@127.0.0.1:{port}/db")).expect("dsn")
    }

    /// SIGTERM (a clean shutdown), then the start script `cargo xtask db up` wrote, then
    /// polling until the administrator connects.
    fn restart() {
        let pid_file = env("DBPOOL_MY_PIDFILE");
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("{pid_file}: {e}"))
            .trim()
            .to_owned();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {pid} failed: {status}");
        wait_for_exit(&pid);
        let status = Command::new("sh")
            .arg(env("DBPOOL_MY_START"))
            .status()
            .expect("run the start script");
        assert!(status.success(), "the start script failed: {status}");
        let admin = Mysql::from_dsn(&env("DBPOOL_MY_ADMIN_URL")).expect("valid admin DSN");
        let deadline = Instant::now() + PATIENCE;
        while let Err(err) = admin.connect() {
            assert!(
                Instant::now() < deadline,
                "MariaDB did not come back: {err}"
            );
            std::thread::yield_now();
        }
    }

    // The adapter bounds the handshake with socket read and write timeouts.
    const BOUNDED_HANDSHAKE: bool = true;

    const SLOW_42: &'static str = "SELECT SLEEP(0.5) + 42";

    const SESSION_ID: &'static str = "SELECT CONNECTION_ID()";
}
