//! A real driver (SQLite) wrapped to count what happens to its connections: opened, alive,
//! the most alive at once, rollbacks, and a channel of close events to wait on.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use dbapi::{Connection, Module, ParamStyle, Result, ThreadSafety};
use dbapi_sqlite::{Sqlite, SqliteConnection};

#[derive(Default)]
pub struct Counts {
    pub opened: AtomicUsize,
    pub alive: AtomicUsize,
    pub max_alive: AtomicUsize,
    pub rollbacks: AtomicUsize,
    /// For each connection dropped so far, how many times `close()` had been called on it.
    pub close_calls_at_drop: Mutex<Vec<usize>>,
    /// The name of the thread each connection was opened on.
    pub connect_threads: Mutex<Vec<String>>,
    closed_tx: Mutex<Option<Sender<usize>>>,
    opened_tx: Mutex<Option<Sender<usize>>>,
}

impl Counts {
    pub fn opened(&self) -> usize {
        self.opened.load(SeqCst)
    }
    pub fn alive(&self) -> usize {
        self.alive.load(SeqCst)
    }
    pub fn max_alive(&self) -> usize {
        self.max_alive.load(SeqCst)
    }
    pub fn rollbacks(&self) -> usize {
        self.rollbacks.load(SeqCst)
    }
    /// Every connection dropped so far was closed through the contract exactly once.
    pub fn assert_each_closed_once(&self) {
        let calls = self.close_calls_at_drop.lock().expect("lock");
        assert!(
            calls.iter().all(|&n| n == 1),
            "close() calls per dropped connection: {calls:?}"
        );
    }

    /// How many connections have been dropped.
    pub fn dropped(&self) -> usize {
        self.close_calls_at_drop.lock().expect("lock").len()
    }

    /// Every connection closed from now on sends its id here.
    pub fn close_events(&self) -> Receiver<usize> {
        let (tx, rx) = channel();
        *self.closed_tx.lock().expect("lock") = Some(tx);
        rx
    }
    /// Every connection opened from now on sends its id here.
    pub fn open_events(&self) -> Receiver<usize> {
        let (tx, rx) = channel();
        *self.opened_tx.lock().expect("lock") = Some(tx);
        rx
    }
}

pub struct Counted {
    pub inner: Sqlite,
    pub counts: Arc<Counts>,
}

impl Counted {
    pub fn new(inner: Sqlite) -> Self {
        Self {
            inner,
            counts: Arc::new(Counts::default()),
        }
    }
}

pub struct CountedConnection {
    pub id: usize,
    pub inner: SqliteConnection,
    counts: Arc<Counts>,
    close_calls: usize,
}

impl Module for Counted {
    type Connection = CountedConnection;
    const THREADSAFETY: ThreadSafety = ThreadSafety::Module;
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<CountedConnection> {
        let inner = self.inner.connect()?;
        self.counts.connect_threads.lock().expect("lock").push(
            std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_owned(),
        );
        let id = self.counts.opened.fetch_add(1, SeqCst) + 1;
        let alive = self.counts.alive.fetch_add(1, SeqCst) + 1;
        self.counts.max_alive.fetch_max(alive, SeqCst);
        if let Some(tx) = &*self.counts.opened_tx.lock().expect("lock") {
            let _ = tx.send(id);
        }
        Ok(CountedConnection {
            id,
            inner,
            counts: Arc::clone(&self.counts),
            close_calls: 0,
        })
    }

    fn target(&self) -> String {
        self.inner.target()
    }
}

impl Drop for CountedConnection {
    fn drop(&mut self) {
        self.counts
            .close_calls_at_drop
            .lock()
            .expect("lock")
            .push(self.close_calls);
        self.counts.alive.fetch_sub(1, SeqCst);
        if let Some(tx) = &*self.counts.closed_tx.lock().expect("lock") {
            let _ = tx.send(self.id);
        }
    }
}

impl Connection for CountedConnection {
    type Cursor<'c> = <SqliteConnection as Connection>::Cursor<'c>;

    fn cursor(&mut self) -> Result<Self::Cursor<'_>> {
        self.inner.cursor()
    }
    fn commit(&mut self) -> Result<()> {
        self.inner.commit()
    }
    fn rollback(&mut self) -> Result<()> {
        self.counts.rollbacks.fetch_add(1, SeqCst);
        self.inner.rollback()
    }
    fn close(&mut self) -> Result<()> {
        self.close_calls += 1;
        self.inner.close()
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
    fn reset_session(&mut self) -> Result<()> {
        self.inner.reset_session()
    }
    fn in_transaction(&self) -> Option<bool> {
        self.inner.in_transaction()
    }
}

/// The counted driver declaring `threadsafety` 2, so pools may share its connections.
pub struct Shareable(pub Counted);

impl Module for Shareable {
    type Connection = CountedConnection;
    const THREADSAFETY: ThreadSafety = ThreadSafety::Connections;
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<CountedConnection> {
        self.0.connect()
    }

    fn target(&self) -> String {
        self.0.target()
    }
}
