//! DBUtils' `PersistentDB`: one dedicated connection per thread, kept open across uses.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use dbapi::{Connection, Error, Module, Params, Result};

use crate::PooledCursor;

thread_local! {
    /// This thread's connections, one per `PersistentDB`, keyed by its id.
    static SLOTS: RefCell<HashMap<u64, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A thread's connection and how often it was used. Dropping it — replaced, broken, or
/// with the thread's storage when the thread ends — closes the connection through the
/// contract.
struct Slot<C: Connection> {
    conn: C,
    /// Statements run on it (`max_usage` counts them).
    uses: Cell<u64>,
}

impl<C: Connection> Drop for Slot<C> {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.conn.close()));
    }
}

/// A thread's entry: its idle connection, or a marker that it is in use.
enum Entry<C: Connection> {
    Idle(Slot<C>),
    Out,
}

struct Shared<M> {
    id: u64,
    module: M,
    max_usage: Option<u64>,
    init_sql: Vec<String>,
    opened: AtomicU64,
}

/// DBUtils' `PersistentDB`: each thread gets a connection of its own the first time it asks,
/// and the same connection every time after, until the thread ends (when it is closed) or
/// the connection breaks or reaches `max_usage` (when a new one is opened). No locking
/// between threads and no connect per request: the fit for a fixed set of worker threads.
///
/// Returning the connection (dropping the guard) keeps it for the thread; an open
/// transaction is rolled back first, so each use starts clean. A thread's connection lives
/// in that thread's storage until the thread ends, even after the `PersistentDB` is dropped:
/// use it with long-lived worker threads, as DBUtils intends.
///
/// ```
/// use dbapi::{params, Connection};
/// use dbapi_sqlite::Sqlite;
/// use dbpool_core::PersistentDB;
///
/// let db = PersistentDB::new(Sqlite::memory());
/// let mut conn = db.connection()?;
/// conn.execute("CREATE TEMP TABLE t (x)", &params![])?;
/// conn.commit()?;
/// drop(conn);
/// // Same thread, same connection: the temp table is still there.
/// db.connection()?.execute("SELECT * FROM t", &params![])?;
/// assert_eq!(db.opened(), 1);
/// # Ok::<(), dbapi::Error>(())
/// ```
pub struct PersistentDB<M: Module> {
    shared: Arc<Shared<M>>,
}

impl<M: Module> Clone for PersistentDB<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<M: Module> PersistentDB<M> {
    /// Thread-affine connections of `module`.
    #[must_use]
    pub fn new(module: M) -> Self {
        Self::with(module, None, Vec::new())
    }

    fn with(module: M, max_usage: Option<u64>, init_sql: Vec<String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Relaxed),
                module,
                max_usage,
                init_sql,
                opened: AtomicU64::new(0),
            }),
        }
    }

    /// A builder for the DBUtils options (`maxusage`, `setsession`).
    pub fn builder(module: M) -> PersistentBuilder<M> {
        PersistentBuilder {
            module,
            max_usage: None,
            init_sql: Vec::new(),
        }
    }

    /// Connections opened so far, over all threads.
    #[must_use]
    pub fn opened(&self) -> u64 {
        self.shared.opened.load(Relaxed)
    }

    fn open(&self) -> Result<Slot<M::Connection>> {
        let mut conn = self.shared.module.connect()?;
        for sql in &self.shared.init_sql {
            conn.execute(sql, &Params::None)?;
        }
        if !self.shared.init_sql.is_empty() {
            conn.commit()?;
        }
        self.shared.opened.fetch_add(1, Relaxed);
        Ok(Slot {
            conn,
            uses: Cell::new(0),
        })
    }

    /// This thread's connection, opened on first use or when the old one broke or was used
    /// up.
    ///
    /// # Errors
    /// The driver's connect error; an Interface error when this thread already holds its
    /// connection (a second, simultaneous use from the same thread).
    pub fn connection(&self) -> Result<PersistentConnection<M>> {
        let id = self.shared.id;
        let taken = SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            let Some(entry) = slots.get_mut(&id) else {
                slots.insert(id, Box::new(Entry::<M::Connection>::Out));
                return Ok(None);
            };
            let entry = entry.downcast_mut::<Entry<M::Connection>>().ok_or_else(|| {
                Error::new(dbapi::ErrorKind::Internal, "a persistent slot of another type")
            })?;
            match std::mem::replace(entry, Entry::Out) {
                Entry::Idle(slot) => Ok(Some(slot)),
                Entry::Out => Err(Error::interface(
                    "this thread already holds its persistent connection; use that one, or drop it first",
                )),
            }
        })?;
        let usable = |slot: &Slot<M::Connection>| {
            !slot.conn.is_broken()
                && self
                    .shared
                    .max_usage
                    .is_none_or(|max| slot.uses.get() < max)
        };
        let slot = match taken {
            Some(slot) if usable(&slot) => slot,
            Some(old) => {
                drop(old); // closes it
                self.open_or_release()?
            }
            None => self.open_or_release()?,
        };
        Ok(PersistentConnection {
            db: self.clone(),
            slot: Some(slot),
            broken: Cell::new(false),
        })
    }

    /// Opens a connection; on failure, frees this thread's entry so the next call retries.
    fn open_or_release(&self) -> Result<Slot<M::Connection>> {
        self.open().inspect_err(|_| {
            let _ = SLOTS.try_with(|slots| slots.borrow_mut().remove(&self.shared.id));
        })
    }
}

/// Builds a [`PersistentDB`] with DBUtils' options.
#[must_use = "a builder does nothing until build() is called"]
pub struct PersistentBuilder<M: Module> {
    module: M,
    max_usage: Option<u64>,
    init_sql: Vec<String>,
}

impl<M: Module> PersistentBuilder<M> {
    /// Opens a fresh connection for a thread once its connection has run this many
    /// statements (DBUtils' `maxusage`: see [`crate::Builder::max_usage`] for the one
    /// meaning every mode shares), at the next [`PersistentDB::connection`].
    pub fn max_usage(mut self, uses: u64) -> Self {
        self.max_usage = Some(uses.max(1));
        self
    }

    /// A statement run (and committed) on every new connection (DBUtils' `setsession`).
    pub fn init_sql(mut self, sql: impl Into<String>) -> Self {
        self.init_sql.push(sql.into());
        self
    }

    /// The configured `PersistentDB`.
    #[must_use]
    pub fn build(self) -> PersistentDB<M> {
        PersistentDB::with(self.module, self.max_usage, self.init_sql)
    }
}

impl<M: Module> fmt::Debug for PersistentBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentBuilder")
            .field("target", &self.module.target())
            .field("max_usage", &self.max_usage)
            .field("init_sql", &self.init_sql.len())
            .finish()
    }
}

impl<M: Module> fmt::Debug for PersistentDB<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentDB")
            .field("target", &self.shared.module.target())
            .field("opened", &self.opened())
            .finish()
    }
}

/// This thread's persistent connection; dropping it keeps it for the thread's next
/// [`PersistentDB::connection`].
#[must_use = "dropping it hands the connection back to this thread's slot"]
pub struct PersistentConnection<M: Module> {
    db: PersistentDB<M>,
    slot: Option<Slot<M::Connection>>,
    /// Set when a call failed with a disconnect error: the connection is not kept.
    broken: Cell<bool>,
}

impl<M: Module> Drop for PersistentConnection<M> {
    fn drop(&mut self) {
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        let clean = !std::thread::panicking()
            && !self.broken.get()
            && !slot.conn.is_broken()
            && (slot.conn.in_transaction() == Some(false) || slot.conn.rollback().is_ok());
        let id = self.db.shared.id;
        let kept = clean
            && SLOTS
                .try_with(|slots| {
                    slots.borrow_mut().insert(id, Box::new(Entry::Idle(slot)));
                })
                .is_ok();
        if !kept {
            let _ = SLOTS.try_with(|slots| slots.borrow_mut().remove(&id));
        }
    }
}

impl<M: Module> Deref for PersistentConnection<M> {
    type Target = M::Connection;
    fn deref(&self) -> &M::Connection {
        match &self.slot {
            Some(slot) => &slot.conn,
            None => panic!("{}", Error::closed("connection")),
        }
    }
}

impl<M: Module> DerefMut for PersistentConnection<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        match &mut self.slot {
            Some(slot) => &mut slot.conn,
            None => panic!("{}", Error::closed("connection")),
        }
    }
}

impl<M: Module> fmt::Debug for PersistentConnection<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentConnection")
            .field("uses", &self.slot.as_ref().map(|s| s.uses.get()))
            .finish()
    }
}

impl<M: Module> PersistentConnection<M> {
    fn slot_mut(&mut self) -> Result<&mut Slot<M::Connection>> {
        self.slot
            .as_mut()
            .ok_or_else(|| Error::closed("connection"))
    }

    fn watch<T>(&self, result: Result<T>) -> Result<T> {
        if result.as_ref().is_err_and(Error::is_disconnect) {
            self.broken.set(true);
        }
        result
    }
}

/// The thread's connection through the contract: statements are counted for `max_usage`,
/// disconnect errors keep a dead connection from being kept. `close()` is DBUtils'
/// `PersistentDB` close: ignored, the thread keeps its connection.
impl<M: Module> Connection for PersistentConnection<M> {
    type Cursor<'c> = PooledCursor<'c, M::Connection>;

    fn cursor(&mut self) -> Result<PooledCursor<'_, M::Connection>> {
        let Self { slot, broken, .. } = self;
        let slot = slot.as_mut().ok_or_else(|| Error::closed("connection"))?;
        let Slot { conn, uses } = slot;
        PooledCursor::open(conn, broken, uses)
    }

    fn commit(&mut self) -> Result<()> {
        let result = self.slot_mut().and_then(|s| s.conn.commit());
        self.watch(result).map_err(dbapi::Error::commit_failed)
    }

    fn rollback(&mut self) -> Result<()> {
        let result = self.slot_mut().and_then(|s| s.conn.rollback());
        self.watch(result)
    }

    fn rollback_pipelined(&mut self) -> Result<()> {
        let result = self.slot_mut().and_then(|s| s.conn.rollback_pipelined());
        self.watch(result)
    }

    fn close(&mut self) -> Result<()> {
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.slot.is_none()
    }

    fn execute(&mut self, sql: &str, params: &Params) -> Result<i64> {
        let result = self.slot_mut().and_then(|s| {
            s.uses.set(s.uses.get() + 1);
            s.conn.execute(sql, params)
        });
        self.watch(result)
    }

    fn ping(&mut self) -> Result<()> {
        let result = self.slot_mut().and_then(|s| s.conn.ping());
        self.watch(result)
    }

    fn reset_session(&mut self) -> Result<()> {
        let result = self.slot_mut().and_then(|s| s.conn.reset_session());
        self.watch(result)
    }

    fn is_broken(&self) -> bool {
        self.broken.get() || self.slot.as_ref().is_none_or(|s| s.conn.is_broken())
    }

    fn set_autocommit(&mut self, autocommit: bool) -> Result<()> {
        let result = self
            .slot_mut()
            .and_then(|s| s.conn.set_autocommit(autocommit));
        self.watch(result)
    }

    fn in_transaction(&self) -> Option<bool> {
        self.slot.as_ref().and_then(|s| s.conn.in_transaction())
    }
}
