//! A fake driver for faults SQLite cannot produce on demand: failing, slow (gated) and
//! panicking connects, failing rollbacks and pings, disconnect errors, broken connections.
//! Used only by dbpool-core's own tests.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use dbapi::{
    Column, Connection, Cursor, Error, Module, ParamStyle, Params, Result, Row, ThreadSafety,
};

#[derive(Default)]
pub struct Plan {
    pub fail_connects: AtomicUsize,
    pub panic_connects: AtomicUsize,
    pub fail_rollback: AtomicBool,
    pub fail_ping: AtomicUsize,
    pub opened: AtomicUsize,
    pub alive: AtomicUsize,
    pub rollbacks: AtomicUsize,
    pub pings: AtomicUsize,
    /// Statements that reached the (fake) server.
    pub executed: AtomicUsize,
    /// The next so many statements find the connection dead before sending (not sent).
    pub not_sent: AtomicUsize,
    /// The next so many `check_alive` calls find the session ended while idle.
    pub ended_while_idle: AtomicUsize,
    /// The next commit fails: the connection is lost after the COMMIT went out.
    pub lose_commit: AtomicBool,
    /// When set, connect() blocks until a message arrives.
    gate: Mutex<Option<Receiver<()>>>,
    /// Told when a gated connect has started.
    gate_entered: Mutex<Option<Sender<()>>>,
    closed_tx: Mutex<Option<Sender<usize>>>,
}

impl Plan {
    /// Makes the next connect block until the returned sender sends (or is dropped); the
    /// second receiver reports that the connect has started.
    pub fn gate_next_connect(&self) -> (Sender<()>, Receiver<()>) {
        let (open_tx, open_rx) = channel();
        let (entered_tx, entered_rx) = channel();
        *self.gate.lock().expect("lock") = Some(open_rx);
        *self.gate_entered.lock().expect("lock") = Some(entered_tx);
        (open_tx, entered_rx)
    }
    pub fn close_events(&self) -> Receiver<usize> {
        let (tx, rx) = channel();
        *self.closed_tx.lock().expect("lock") = Some(tx);
        rx
    }
    pub fn alive(&self) -> usize {
        self.alive.load(SeqCst)
    }
    pub fn executed(&self) -> usize {
        self.executed.load(SeqCst)
    }
}

#[derive(Clone, Default)]
pub struct FaultDriver {
    pub plan: Arc<Plan>,
}

pub struct FaultConnection {
    pub id: usize,
    plan: Arc<Plan>,
    closed: bool,
    in_transaction: bool,
    pub broken: bool,
}

pub struct FaultCursor<'c> {
    conn: &'c mut FaultConnection,
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Module for FaultDriver {
    type Connection = FaultConnection;
    const THREADSAFETY: ThreadSafety = ThreadSafety::Module;
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<FaultConnection> {
        let gate = self.plan.gate.lock().expect("lock").take();
        if let Some(gate) = gate {
            if let Some(entered) = self.plan.gate_entered.lock().expect("lock").take() {
                let _ = entered.send(());
            }
            let _ = gate.recv();
        }
        if take_one(&self.plan.panic_connects) {
            panic!("fault driver: connect panics as planned");
        }
        if take_one(&self.plan.fail_connects) {
            return Err(
                Error::operational("fault driver: connection refused (planned)")
                    .with_sqlstate("08001"),
            );
        }
        let id = self.plan.opened.fetch_add(1, SeqCst) + 1;
        self.plan.alive.fetch_add(1, SeqCst);
        Ok(FaultConnection {
            id,
            plan: Arc::clone(&self.plan),
            closed: false,
            in_transaction: false,
            broken: false,
        })
    }

    fn target(&self) -> String {
        "fault://test".to_owned()
    }
}

impl Drop for FaultConnection {
    fn drop(&mut self) {
        self.plan.alive.fetch_sub(1, SeqCst);
        if let Some(tx) = &*self.plan.closed_tx.lock().expect("lock") {
            let _ = tx.send(self.id);
        }
    }
}

impl Connection for FaultConnection {
    type Cursor<'c> = FaultCursor<'c>;
    fn cursor(&mut self) -> Result<FaultCursor<'_>> {
        if self.closed {
            return Err(Error::closed("connection"));
        }
        Ok(FaultCursor { conn: self })
    }
    fn commit(&mut self) -> Result<()> {
        self.in_transaction = false;
        if self.plan.lose_commit.swap(false, SeqCst) {
            self.broken = true;
            return Err(Error::from_sqlstate(
                "08006",
                "fault driver: connection lost during COMMIT (planned)",
            ));
        }
        Ok(())
    }
    fn rollback(&mut self) -> Result<()> {
        self.plan.rollbacks.fetch_add(1, SeqCst);
        if self.plan.fail_rollback.load(SeqCst) {
            return Err(Error::operational("fault driver: rollback fails (planned)"));
        }
        self.in_transaction = false;
        Ok(())
    }
    fn close(&mut self) -> Result<()> {
        self.closed = true;
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.closed
    }
    fn ping(&mut self) -> Result<()> {
        self.plan.pings.fetch_add(1, SeqCst);
        if take_one(&self.plan.fail_ping) {
            return Err(
                Error::operational("fault driver: ping fails (planned)").with_disconnect(true)
            );
        }
        Ok(())
    }
    fn is_broken(&self) -> bool {
        self.closed || self.broken
    }
    fn in_transaction(&self) -> Option<bool> {
        Some(self.in_transaction)
    }
    fn check_alive(&mut self) -> Result<()> {
        if take_one(&self.plan.ended_while_idle) {
            self.broken = true;
        }
        if self.closed {
            Err(Error::closed("connection"))
        } else if self.broken {
            Err(Error::dead_before_send())
        } else {
            Ok(())
        }
    }
}

impl Cursor for FaultCursor<'_> {
    /// A planned "not sent" fails before anything is sent; otherwise `DISCONNECT` fails with
    /// a disconnect error (after reaching the server), `PANIC` panics, anything else succeeds
    /// and opens a transaction.
    fn execute(&mut self, sql: &str, _params: &Params) -> Result<()> {
        if take_one(&self.conn.plan.not_sent) {
            self.conn.broken = true;
            return Err(Error::dead_before_send());
        }
        self.conn.plan.executed.fetch_add(1, SeqCst);
        match sql {
            "DISCONNECT" => Err(Error::from_sqlstate(
                "57P01",
                "terminating connection due to administrator command",
            )),
            "PANIC" => panic!("fault driver: execute panics as planned"),
            _ => {
                self.conn.in_transaction = true;
                Ok(())
            }
        }
    }
    fn description(&self) -> Option<&[Column]> {
        None
    }
    fn rowcount(&self) -> i64 {
        -1
    }
    fn fetch_next(&mut self) -> Result<Option<Row>> {
        Ok(None)
    }
    fn arraysize(&self) -> usize {
        1
    }
    fn set_arraysize(&mut self, _size: usize) {}
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}
