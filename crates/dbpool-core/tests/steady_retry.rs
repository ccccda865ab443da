//! SteadyDB's transparent retry, made safe (Go's `driver.ErrBadConn` rule): a statement is
//! run again only when it provably never reached the server and no transaction was open.
//! Over the fault driver; the same on PostgreSQL and MariaDB is in the pool matrix.

mod support;

use std::sync::atomic::Ordering::SeqCst;

use dbapi::{params, Connection, Cursor};
use dbpool_core::SteadyConnection;
use support::fault_driver::FaultDriver;

#[test]
fn a_statement_not_sent_outside_a_transaction_is_run_once_on_a_new_connection() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    driver.plan.not_sent.store(1, SeqCst);
    db.execute("SELECT", &params![])
        .expect("retried transparently");
    assert_eq!(db.reconnects(), 1);
    assert_eq!(
        driver.plan.executed(),
        1,
        "the statement reached the server once"
    );
    assert_eq!(driver.plan.alive(), 1, "the dead connection was closed");
}

#[test]
fn a_session_ended_while_idle_is_replaced_before_anything_is_sent() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    db.execute("SELECT", &params![]).expect("first");
    db.commit().expect("commit");
    driver.plan.ended_while_idle.store(1, SeqCst);
    db.cursor()
        .expect("a cursor on a new connection")
        .execute("SELECT", &params![])
        .expect("works");
    assert_eq!(db.reconnects(), 1);
    assert_eq!(driver.plan.executed(), 2);
}

#[test]
fn nothing_is_retried_inside_a_transaction() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    db.execute("INSERT", &params![])
        .expect("opens a transaction");
    driver.plan.not_sent.store(1, SeqCst);
    let err = db.execute("INSERT", &params![]).expect_err("not retried");
    assert!(err.is_disconnect() && err.is_not_sent(), "{err}");
    assert_eq!(db.reconnects(), 0);
    let err = db
        .execute("SELECT", &params![])
        .expect_err("the transaction is lost until rolled back");
    assert!(err.is_disconnect(), "{err}");
    assert!(err.message().contains("rollback()"), "{err}");
    assert_eq!(db.reconnects(), 0, "no silent new transaction");
    assert!(db.commit().is_err(), "the lost transaction cannot commit");
    db.rollback().expect("acknowledges the loss");
    assert_eq!(db.reconnects(), 1);
    db.execute("SELECT", &params![]).expect("works again");
    assert_eq!(
        driver.plan.executed(),
        2,
        "the first INSERT and the last SELECT"
    );
}

#[test]
fn a_session_ended_inside_a_transaction_is_not_replaced_silently() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    db.execute("INSERT", &params![])
        .expect("opens a transaction");
    driver.plan.ended_while_idle.store(1, SeqCst);
    let err = db.execute("INSERT", &params![]).expect_err("lost");
    assert!(err.is_disconnect(), "{err}");
    assert_eq!(db.reconnects(), 0);
    assert!(db.cursor().is_err(), "still lost");
    db.rollback().expect("rollback");
    db.execute("INSERT", &params![]).expect("a new transaction");
    assert_eq!(db.reconnects(), 1);
}

#[test]
fn a_statement_that_may_have_reached_the_server_is_not_retried() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    let err = db.execute("DISCONNECT", &params![]).expect_err("fails");
    assert!(err.is_disconnect() && !err.is_not_sent(), "{err}");
    assert_eq!(db.reconnects(), 0, "not retried");
    assert_eq!(driver.plan.executed(), 1);
}

#[test]
fn a_retry_is_tried_once() {
    let driver = FaultDriver::default();
    let mut db = SteadyConnection::new(driver.clone()).expect("connect");
    driver.plan.not_sent.store(2, SeqCst);
    let err = db.execute("SELECT", &params![]).expect_err("fails twice");
    assert!(err.is_not_sent());
    assert_eq!(db.reconnects(), 1, "one retry");
    assert_eq!(driver.plan.executed(), 0);
    db.execute("SELECT", &params![])
        .expect("the next call reconnects");
    assert_eq!(db.reconnects(), 2);
}
