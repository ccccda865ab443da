//! DBUtils' modes over real SQLite (counted) and, for faults, the fault driver:
//! SimplePooledDB, PersistentDB (thread-affine) and SteadyDB (reconnecting).

mod support;

use std::sync::Arc;
use std::thread;

use dbapi::{params, Connection, Cursor, ErrorKind, Value};
use dbapi_sqlite::Sqlite;
use dbpool_core::{PersistentDB, SimplePooledDB, SteadyConnection};
use support::counted::Counted;
use support::fault_driver::FaultDriver;

#[test]
fn simple_pooled_db_opens_everything_up_front_and_reuses_it() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let dbpool = SimplePooledDB::new(module, 3).expect("pool");
    assert_eq!(counts.opened(), 3, "maxconnections opened at construction");
    let held: Vec<_> = (0..3).map(|_| dbpool.connection().expect("conn")).collect();
    assert!(
        dbpool.pool().try_get().expect("no connect").is_none(),
        "at most 3"
    );
    drop(held);
    let mut db = dbpool.connection().expect("reused");
    db.execute("SELECT 1", &params![]).expect("query");
    db.close();
    assert_eq!(
        counts.opened(),
        3,
        "close() returned it, nothing new opened"
    );
    assert_eq!(dbpool.pool().stats().idle, 3);
}

#[test]
fn persistent_db_gives_each_thread_its_own_connection() {
    let module = Counted::new(Sqlite::memory());
    let counts = Arc::clone(&module.counts);
    let db = PersistentDB::new(module);
    let first = db.connection().expect("conn").id;
    let again = db.connection().expect("conn").id;
    assert_eq!(first, again, "same thread, same connection");
    let other = {
        let db = db.clone();
        thread::spawn(move || db.connection().expect("conn").id)
            .join()
            .expect("thread")
    };
    assert_ne!(other, first, "another thread, another connection");
    assert_eq!(db.opened(), 2);
    assert_eq!(
        counts.alive(),
        1,
        "the other thread's connection closed when it ended"
    );
}

#[test]
fn persistent_db_keeps_the_session_but_not_the_transaction() {
    let db = PersistentDB::new(Sqlite::memory());
    {
        let mut conn = db.connection().expect("conn");
        conn.execute("CREATE TEMP TABLE t (x)", &params![])
            .expect("create");
        conn.commit().expect("commit");
        conn.execute("INSERT INTO t VALUES (1)", &params![])
            .expect("insert");
    }
    let mut conn = db.connection().expect("same connection");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT count(*) FROM t", &params![])
        .expect("the temp table survived");
    assert_eq!(
        cur.fetchone().expect("fetch").expect("row")[0],
        Value::Int(0),
        "the uncommitted insert was rolled back on return"
    );
}

#[test]
fn persistent_db_refuses_a_second_simultaneous_use_on_one_thread() {
    let db = PersistentDB::new(Sqlite::memory());
    let held = db.connection().expect("conn");
    let err = db.connection().expect_err("already held");
    assert_eq!(err.kind(), ErrorKind::Interface);
    drop(held);
    assert!(db.connection().is_ok(), "free again");
}

#[test]
fn persistent_db_reopens_after_max_usage_or_breakage() {
    let db = PersistentDB::builder(Counted::new(Sqlite::memory()))
        .max_usage(2)
        .init_sql("CREATE TEMP TABLE marker (x)")
        .build();
    let ids: Vec<usize> = (0..5)
        .map(|_| {
            let mut conn = db.connection().expect("conn");
            conn.execute("SELECT * FROM marker", &params![])
                .expect("init_sql ran on every new connection");
            conn.id
        })
        .collect();
    assert_eq!(ids, [1, 1, 2, 2, 3]);

    let faulty = PersistentDB::new(FaultDriver::default());
    let first = {
        let mut conn = faulty.connection().expect("conn");
        conn.broken = true;
        conn.id
    };
    assert_ne!(
        faulty.connection().expect("conn").id,
        first,
        "broken: replaced"
    );
}

#[test]
fn steady_connection_reopens_after_a_disconnect_without_repeating_the_statement() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    let err = db
        .cursor()
        .expect("cursor")
        .execute("DISCONNECT", &params![])
        .expect_err("planned");
    assert!(err.is_disconnect());
    assert_eq!(
        db.reconnects(),
        0,
        "no silent retry of the failed statement"
    );
    let err = db
        .commit()
        .expect_err("the transaction died with the connection");
    assert_eq!(err.kind(), ErrorKind::Operational);
    db.rollback().expect("nothing left to roll back");
    assert_eq!(db.reconnects(), 1, "the next use got a fresh connection");
    db.cursor()
        .expect("cursor")
        .execute("SELECT", &params![])
        .expect("works again");
    assert_eq!(driver.plan.alive(), 1, "the dead one was closed");
}

#[test]
fn steady_connection_honours_max_usage() {
    let module = Counted::new(Sqlite::memory());
    let mut db = SteadyConnection::new(module).expect("connect").max_usage(2);
    let mut ids = Vec::new();
    for _ in 0..5 {
        db.execute("SELECT 1", &params![]).expect("query");
        ids.push(db.id);
    }
    assert_eq!(ids, [1, 1, 2, 2, 3]);
    assert_eq!(db.reconnects(), 2);
}
