//! Read/write routing (`dbpool_core::Router`) on the project's PostgreSQL primary and its
//! streaming replica (both started by `cargo xtask test`): writes reach the primary, reads
//! the replica; a replica held back past the lag bound, or stopped, sends reads to the
//! primary until it is back.
//!
//! One test stops the replica and one pauses its replay: the tests take turns, and guards
//! put the replica back whatever happens.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use dbapi::{params, Connection, Cursor, Module, Value};
use dbapi_postgres::{replica_lag, PgConnection, Postgres};
use dbpool_core::{Pool, PooledConnection, Router};
use dbpool_tests::{env, matrix::unique, pg_ctl, wait_until, PATIENCE};

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

fn pool(url: &str) -> Pool<Postgres> {
    Pool::builder(Postgres::from_dsn(url).expect("valid DSN"))
        .max_size(2)
        .build()
        .expect("pool")
}

/// The replica's superuser session (the primary's admin URL at the replica's address).
fn replica_admin() -> PgConnection {
    let admin = env("DBPOOL_PG_ADMIN_URL");
    let replica = env("DBPOOL_PG_REPLICA_URL");
    let at = |url: &str| -> String {
        let rest = url.split_once('@').expect("user@host").1;
        rest[..rest.find('/').expect("/db")].to_owned()
    };
    let mut conn = Postgres::from_dsn(&admin.replace(&at(&admin), &at(&replica)))
        .expect("valid DSN")
        .connect()
        .expect("the replica's superuser");
    conn.set_autocommit(true).expect("autocommit");
    conn
}

fn router(lag_bound: Duration) -> Router<Postgres> {
    Router::builder(pool(&env("DBPOOL_PG_URL")))
        .replica(pool(&env("DBPOOL_PG_REPLICA_URL")))
        .check_every(Duration::ZERO)
        .max_lag(lag_bound, replica_lag)
        .build()
}

fn on_replica(conn: &mut PooledConnection<Postgres>) -> bool {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT pg_is_in_recovery()", &params![])
        .expect("pg_is_in_recovery");
    cur.fetchone().expect("fetch").expect("row")[0] == Value::Bool(true)
}

/// Reads until one lands where `replica` says, within [`PATIENCE`].
fn reads_land_on(router: &Router<Postgres>, replica: bool, what: &str) {
    wait_until(what, || {
        router
            .read()
            .is_ok_and(|mut conn| on_replica(&mut conn) == replica)
    });
}

/// Writes a row on the primary and waits until the replica has replayed it.
fn write_and_replicate(router: &Router<Postgres>, table: &str) {
    let mut conn = router.write().expect("the primary");
    assert!(!on_replica(&mut conn), "writes go to the primary");
    conn.execute(&format!("INSERT INTO {table} VALUES (1)"), &params![])
        .expect("insert");
    conn.commit().expect("commit");
    drop(conn);
    let mut replica = Postgres::from_dsn(&env("DBPOOL_PG_REPLICA_URL"))
        .expect("dsn")
        .autocommit(true)
        .connect()
        .expect("replica");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut cur = replica.cursor().expect("cursor");
        if cur
            .execute(&format!("SELECT count(*) FROM {table}"), &params![])
            .is_ok()
        {
            if let Ok(Some(row)) = cur.fetchone() {
                if row[0] != Value::Int(0) {
                    return;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "the write never reached the replica"
        );
        std::thread::yield_now();
    }
}

fn create_table(router: &Router<Postgres>, base: &str) -> String {
    let table = unique(base).replace('-', "_");
    let mut conn = router.write().expect("the primary");
    conn.execute(&format!("CREATE TABLE {table} (x int)"), &params![])
        .expect("create");
    conn.commit().expect("commit");
    table
}

fn drop_table(router: &Router<Postgres>, table: &str) {
    let mut conn = router.write().expect("the primary");
    conn.execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
    conn.commit().expect("commit");
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn writes_reach_the_primary_and_reads_the_replica() {
    let _turn = turn();
    let router = router(Duration::from_secs(30));
    let table = create_table(&router, "route-rw");
    write_and_replicate(&router, &table);
    let mut read = router.read().expect("a read");
    assert!(on_replica(&mut read), "reads go to the replica");
    let mut cur = read.cursor().expect("cursor");
    cur.execute(&format!("SELECT count(*) FROM {table}"), &params![])
        .expect("the replicated table");
    assert_eq!(
        cur.fetchone().expect("fetch").expect("row")[0],
        Value::Int(1)
    );
    drop(cur);
    drop(read);
    let health = router.health();
    assert!(health[0].healthy, "{health:?}");
    assert!(health[0]
        .lag
        .is_some_and(|lag| lag <= Duration::from_secs(30)));
    drop_table(&router, &table);
}

/// Resumes the replica's replay on drop.
struct Paused(PgConnection);

impl Drop for Paused {
    fn drop(&mut self) {
        let _ = self.0.execute("SELECT pg_wal_replay_resume()", &params![]);
    }
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn a_replica_behind_the_lag_bound_gets_no_reads_until_it_catches_up() {
    let _turn = turn();
    let router = router(Duration::from_millis(1));
    let table = create_table(&router, "route-lag");
    // A transaction replayed, so the replica knows when it last replayed one.
    write_and_replicate(&router, &table);
    reads_land_on(&router, true, "a caught-up replica serving reads");
    let mut admin = replica_admin();
    admin
        .execute("SELECT pg_wal_replay_pause()", &params![])
        .expect("pause replay");
    let paused = Paused(admin);
    let mut conn = router.write().expect("the primary");
    conn.execute(&format!("INSERT INTO {table} VALUES (2)"), &params![])
        .expect("insert");
    conn.commit().expect("commit");
    drop(conn);
    reads_land_on(&router, false, "reads falling back to the primary");
    let health = router.health();
    assert!(!health[0].healthy, "{health:?}");
    assert!(
        health[0]
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("behind")),
        "{health:?}"
    );
    drop(paused);
    reads_land_on(&router, true, "the caught-up replica serving reads again");
    drop_table(&router, &table);
}

/// Runs `pg_ctl` on the replica's data directory.
fn replica_ctl(args: &[&str]) {
    pg_ctl(&env("DBPOOL_PG_REPLICA_DATA"), args);
}

/// The replica, stopped until dropped (then started again with the options it ran with).
struct ReplicaDown;

impl Drop for ReplicaDown {
    fn drop(&mut self) {
        replica_ctl(&["-w", "restart"]);
    }
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn a_lost_replica_sends_reads_to_the_primary_until_it_returns() {
    let _turn = turn();
    let router = router(Duration::from_secs(30));
    reads_land_on(&router, true, "the replica serving reads");
    replica_ctl(&["-m", "fast", "-w", "stop"]);
    let down = ReplicaDown;
    reads_land_on(&router, false, "reads falling back to the primary");
    assert!(!router.health()[0].healthy);
    drop(down);
    reads_land_on(&router, true, "the returned replica serving reads again");
}

#[test]
#[ignore = "needs PostgreSQL and its replica: cargo xtask test"]
fn the_replica_lag_probe_reads_zero_on_a_primary() {
    let _turn = turn();
    let mut primary = Postgres::from_dsn(&env("DBPOOL_PG_URL"))
        .expect("dsn")
        .connect()
        .expect("primary");
    assert_eq!(replica_lag(&mut primary).expect("lag"), Duration::ZERO);
}
