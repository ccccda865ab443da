//! A commit cut off by a lost connection says its outcome is unknown, so an application can
//! check instead of retrying blindly; every other failed commit is known not to have
//! committed. Over the fault driver; the same on PostgreSQL and MariaDB is in the matrix.

mod support;

use std::sync::atomic::Ordering::SeqCst;

use dbapi::{params, Connection};
use dbpool_core::{Pool, SteadyConnection};
use support::fault_driver::FaultDriver;

#[test]
fn a_commit_lost_with_its_connection_has_an_unknown_outcome() {
    let driver = FaultDriver::default();
    let pool = Pool::new(driver.clone()).expect("pool");
    let mut conn = pool.get().expect("get");
    conn.execute("INSERT", &params![]).expect("insert");
    driver.plan.lose_commit.store(true, SeqCst);
    let err = conn.commit().expect_err("lost");
    assert!(err.is_disconnect(), "{err}");
    assert!(err.is_outcome_unknown(), "{err}");
    assert!(
        err.to_string()
            .contains("may or may not have been committed"),
        "{err}"
    );
    drop(conn);
    assert_eq!(
        pool.stats().idle,
        0,
        "the lost connection was closed, not kept"
    );
}

#[test]
fn a_commit_refused_before_sending_is_known_not_committed() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    db.execute("INSERT", &params![])
        .expect("opens a transaction");
    driver.plan.ended_while_idle.store(1, SeqCst);
    let err = db
        .commit()
        .expect_err("the transaction died with the connection");
    assert!(err.is_disconnect(), "{err}");
    assert!(!err.is_outcome_unknown(), "nothing was sent: {err}");
}

#[test]
fn a_commit_that_succeeds_or_fails_for_another_reason_is_not_unknown() {
    let driver = FaultDriver::default();
    let pool = Pool::new(driver).expect("pool");
    let mut conn = pool.get().expect("get");
    conn.execute("INSERT", &params![]).expect("insert");
    conn.commit().expect("commits");
    let refused = dbapi::Error::from_sqlstate("23505", "duplicate key").commit_failed();
    assert!(
        !refused.is_outcome_unknown(),
        "a refused commit did not commit"
    );
}
