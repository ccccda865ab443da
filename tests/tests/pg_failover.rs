//! libpq host lists on the project's PostgreSQL primary and its streaming replica (both
//! started by `cargo xtask test`): `target_session_attrs` picks the right server, and a pool
//! over `primary,replica` fails over when the primary stops and comes back to it after.
//!
//! The failover test stops the primary: it lives in this binary of its own, and a guard
//! starts the primary again whatever happens.

use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use dbapi::{params, Connection, Module, Value};
use dbapi_postgres::{PgConnection, Postgres};
use dbpool_core::Pool;
use dbpool_tests::{env, pg_ctl, scalar, PATIENCE};

/// The failover test stops the primary the others use: the tests of this binary take turns.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `user:password@host:port` of a URL, and the rest (`/db?…`).
fn split(url: &str) -> (String, String, String) {
    let (scheme_user, rest) = url.split_once('@').expect("user@host");
    let (hostport, tail) = rest.split_at(rest.find('/').expect("/db"));
    (scheme_user.to_owned(), hostport.to_owned(), tail.to_owned())
}

fn primary() -> String {
    split(&env("DBPOOL_PG_URL")).1
}

fn replica() -> String {
    split(&env("DBPOOL_PG_REPLICA_URL")).1
}

/// A module over `hosts` (`h1:p1,h2:p2`) with `options` (`target_session_attrs=…`).
fn over(hosts: &str, options: &str) -> Postgres {
    let (user, _, tail) = split(&env("DBPOOL_PG_URL"));
    let sep = if tail.contains('?') { '&' } else { '?' };
    Postgres::from_dsn(&format!("{user}@{hosts}{tail}{sep}{options}")).expect("valid DSN")
}

fn in_recovery<C: Connection>(conn: &mut C) -> bool {
    let mut cur = conn.cursor().expect("cursor");
    dbapi::Cursor::execute(&mut cur, "SELECT pg_is_in_recovery()", &params![])
        .expect("pg_is_in_recovery");
    let row = dbapi::Cursor::fetchone(&mut cur)
        .expect("fetch")
        .expect("row");
    row[0] == Value::Bool(true)
}

fn lands_on_replica(module: &Postgres) -> bool {
    let mut conn: PgConnection = module.connect().expect("a server of the list");
    in_recovery(&mut conn)
}

fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn target_session_attrs_pick_the_server_libpq_would() {
    let _turn = turn();
    let (p, r) = (primary(), replica());
    let both = format!("{p},{r}");
    let reversed = format!("{r},{p}");
    assert!(!lands_on_replica(&over(&both, "target_session_attrs=any")));
    assert!(lands_on_replica(&over(
        &reversed,
        "target_session_attrs=any"
    )));
    assert!(!lands_on_replica(&over(
        &reversed,
        "target_session_attrs=read-write"
    )));
    assert!(!lands_on_replica(&over(
        &reversed,
        "target_session_attrs=primary"
    )));
    assert!(lands_on_replica(&over(
        &both,
        "target_session_attrs=read-only"
    )));
    assert!(lands_on_replica(&over(
        &both,
        "target_session_attrs=standby"
    )));
    assert!(lands_on_replica(&over(
        &both,
        "target_session_attrs=prefer-standby"
    )));
    // prefer-standby takes any server when no standby answers.
    assert!(!lands_on_replica(&over(
        &p,
        "target_session_attrs=prefer-standby"
    )));
    // A host that refuses is passed over.
    let refused_first = format!("{},{p}", closed_port());
    assert!(!lands_on_replica(&over(
        &refused_first,
        "connect_timeout=2"
    )));
    // Writes reach the primary.
    let mut writer = over(&reversed, "target_session_attrs=read-write")
        .connect()
        .expect("connect");
    writer
        .execute("CREATE TEMP TABLE failover_write (x int)", &params![])
        .expect("a write on the primary");
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn no_server_of_the_kind_asked_for_is_a_clear_error() {
    let _turn = turn();
    let err = over(&primary(), "target_session_attrs=standby")
        .connect()
        .expect_err("the primary is not a standby");
    let text = err.to_string();
    assert!(text.contains("target_session_attrs=standby"), "{text}");
    assert!(text.contains(&primary()), "names the host: {text}");
    assert!(text.contains("a primary"), "says why: {text}");
    let (user, _, _) = split(&env("DBPOOL_PG_URL"));
    let password = user.rsplit_once(':').expect("user:password").1;
    assert!(!text.contains(password), "no password: {text}");
    let bad = Postgres::from_dsn(&format!(
        "postgres://u@{}/db?target_session_attrs=writable",
        primary()
    ))
    .expect_err("an unknown value");
    assert!(bad.to_string().contains("read-write"), "{bad}");
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn random_load_balancing_spreads_connects_over_the_hosts() {
    let _turn = turn();
    let module = over(
        &format!("{},{}", primary(), replica()),
        "load_balance_hosts=random",
    );
    let on_replica = (0..40).filter(|_| lands_on_replica(&module)).count();
    assert!(
        (1..40).contains(&on_replica),
        "{on_replica} of 40 connects on the replica: both hosts should be used"
    );
}

/// Runs `pg_ctl` on the primary's data directory.
fn primary_ctl(args: &[&str]) {
    pg_ctl(&env("DBPOOL_PG_DATA"), args);
}

/// The primary, stopped until this guard starts it again (on drop too, so a failing test
/// does not leave the other tests without their server).
struct Stopped {
    started: bool,
}

impl Stopped {
    fn primary() -> Self {
        primary_ctl(&["-m", "fast", "-w", "stop"]);
        Self { started: false }
    }

    fn start(&mut self) {
        if !self.started {
            self.started = true;
            let (options, log) = (env("DBPOOL_PG_OPTIONS"), env("DBPOOL_PG_LOG"));
            primary_ctl(&["-o", &options, "-l", &log, "-w", "start"]);
        }
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        self.start();
    }
}

/// Takes connections until one works and says whether it is on the replica.
fn next_working<M: Module<Connection = PgConnection>>(pool: &Pool<M>) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(mut conn) = pool.get() {
            let mut cur = match conn.cursor() {
                Ok(cur) => cur,
                Err(_) => continue,
            };
            if dbapi::Cursor::execute(&mut cur, "SELECT pg_is_in_recovery()", &params![]).is_ok() {
                if let Ok(Some(row)) = dbapi::Cursor::fetchone(&mut cur) {
                    return row[0] == Value::Bool(true);
                }
            }
        }
        assert!(Instant::now() < deadline, "no working connection");
        std::thread::yield_now();
    }
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn a_pool_fails_over_to_the_replica_and_returns_to_the_primary() {
    let _turn = turn();
    let pool = Pool::builder(over(
        &format!("{},{}", primary(), replica()),
        "target_session_attrs=any&connect_timeout=2",
    ))
    .max_size(2)
    .build()
    .expect("pool");
    assert!(!next_working(&pool), "the primary first");
    let mut outage = Stopped::primary();
    assert!(
        next_working(&pool),
        "with the primary stopped, the pool serves from the replica, no restart needed"
    );
    let mut conn = pool.get().expect("a replica connection");
    assert_eq!(
        scalar(&mut *conn, "SELECT 40 + 2", &params![]),
        42,
        "reads work"
    );
    drop(conn);
    outage.start();
    // Connections to the replica stay until retired; evict_all retires them, and new
    // connections go to the primary again.
    pool.evict_all();
    assert!(!next_working(&pool), "back on the primary");
}
