//! `max_usage` has one meaning in every mode: statements run through dbpool's handles
//! (DBUtils counts uses of the connection the same way).

mod support;

use dbapi::{params, Connection, Cursor};
use dbapi_sqlite::Sqlite;
use dbpool_core::{CloseReason, PersistentDB, Pool, SteadyConnection};
use support::counted::Counted;

#[test]
fn the_pool_counts_statements_not_checkouts() {
    let pool = Pool::builder(Counted::new(Sqlite::memory()))
        .max_usage(3)
        .build()
        .expect("pool");
    // Checkouts that run nothing do not use the connection up.
    for _ in 0..5 {
        drop(pool.get().expect("get"));
    }
    assert_eq!(pool.stats().closed(CloseReason::MaxUsage), 0);
    // Three statements in one checkout do: it is closed when returned.
    {
        let mut conn = pool.get().expect("get");
        conn.execute("SELECT 1", &params![]).expect("one");
        let mut cur = conn.cursor().expect("cursor");
        cur.execute("SELECT 2", &params![]).expect("two");
        cur.executemany("SELECT ?", &[params![3]]).expect("three");
    }
    assert_eq!(pool.stats().closed(CloseReason::MaxUsage), 1);
    assert_eq!(pool.stats().created, 1);
    // Two statements, then one more in the next checkout: used up across checkouts.
    pool.get()
        .expect("get")
        .execute("SELECT 1", &params![])
        .expect("1");
    pool.get()
        .expect("get")
        .execute("SELECT 1", &params![])
        .expect("2");
    assert_eq!(pool.stats().closed(CloseReason::MaxUsage), 1);
    pool.get()
        .expect("get")
        .execute("SELECT 1", &params![])
        .expect("3");
    assert_eq!(pool.stats().closed(CloseReason::MaxUsage), 2);
}

#[test]
fn a_steady_connection_counts_statements_and_waits_for_the_transaction() {
    let mut db = SteadyConnection::new(Counted::new(Sqlite::memory()))
        .expect("connect")
        .max_usage(2);
    {
        let mut cur = db.cursor().expect("cursor");
        cur.execute("SELECT 1", &params![]).expect("1");
        cur.execute("SELECT 2", &params![]).expect("2");
        cur.execute("SELECT 3", &params![])
            .expect("a cursor is not cut off mid-use");
    }
    let first = db.id;
    db.execute("SELECT 1", &params![]).expect("reopened first");
    assert_ne!(
        db.id, first,
        "used up: a fresh connection for the next cursor"
    );
    assert_eq!(db.reconnects(), 1);
    // Inside a transaction the connection is kept, however often it is used.
    db.execute("CREATE TEMP TABLE t (x)", &params![])
        .expect("ddl");
    assert_eq!(db.in_transaction(), Some(true), "autocommit is off");
    let in_tx = db.id;
    db.execute("INSERT INTO t VALUES (1)", &params![])
        .expect("insert");
    db.execute("INSERT INTO t VALUES (2)", &params![])
        .expect("insert");
    assert_eq!(db.id, in_tx, "never replaced inside a transaction");
    db.commit().expect("commit");
    db.execute("SELECT 1", &params![]).expect("after commit");
    assert_ne!(db.id, in_tx, "replaced once the transaction ended");
}

#[test]
fn a_persistent_connection_counts_statements() {
    let db = PersistentDB::builder(Counted::new(Sqlite::memory()))
        .max_usage(2)
        .build();
    // Checkouts alone do not count…
    let first = db.connection().expect("conn").id;
    assert_eq!(db.connection().expect("conn").id, first);
    {
        // …statements do.
        let mut conn = db.connection().expect("conn");
        conn.execute("SELECT 1", &params![]).expect("1");
        let mut cur = conn.cursor().expect("cursor");
        cur.execute("SELECT 2", &params![]).expect("2");
    }
    assert_ne!(
        db.connection().expect("conn").id,
        first,
        "used up: reopened"
    );
}
