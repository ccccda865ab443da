//! Shareable connections (DBUtils' `maxshared`): one connection used by several threads in
//! turn through [`SharedConnection`] handles.
//!
//! The pool keeps a registry of the connections it shares: each with the number of handles
//! on it and whether a handle holds it for a transaction. A new shared handle goes to a new
//! connection while fewer than `max_shared` are shared and one is free, else to the least
//! shared connection that is not inside a transaction. Uses are serialised by a lock on the
//! connection ([`SharedConnection::lock`]); a transaction never outlives the lock, so another
//! thread's statement can never land inside it.

use std::any::type_name;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Instant;

use dbapi::{Connection, Module, ThreadSafety};
use parking_lot::{Condvar, MappedMutexGuard, Mutex, MutexGuard};

use crate::{clock, ConfigError, Pool, PoolError, PooledConnection};

/// Refuses sharing for a driver whose module does not allow it.
pub(crate) fn check_shareable<M: Module>() -> Result<(), ConfigError> {
    if M::THREADSAFETY >= ThreadSafety::Connections {
        Ok(())
    } else {
        Err(ConfigError::NotShareable {
            driver: type_name::<M>().to_owned(),
            level: M::THREADSAFETY.level(),
        })
    }
}

/// The connections a pool shares now.
pub(crate) struct Registry<M: Module> {
    shares: Mutex<Shares<M>>,
    /// Notified when a shared connection leaves a transaction or the registry.
    changed: Condvar,
}

impl<M: Module> Default for Registry<M> {
    fn default() -> Self {
        Self {
            shares: Mutex::new(Shares {
                slots: Vec::new(),
                taking: 0,
            }),
            changed: Condvar::new(),
        }
    }
}

struct Shares<M: Module> {
    slots: Vec<Slot<M>>,
    /// Connections being taken from the pool to be shared (they count against `max_shared`).
    taking: usize,
}

struct Slot<M: Module> {
    entry: Arc<Entry<M>>,
    handles: usize,
    /// Handles holding the connection for a transaction ([`SharedConnection::begin`]).
    transactions: usize,
}

impl<M: Module> Shares<M> {
    fn position(&self, entry: &Arc<Entry<M>>) -> Option<usize> {
        self.slots.iter().position(|s| Arc::ptr_eq(&s.entry, entry))
    }

    /// The least shared connection not inside a transaction.
    fn least_shared(&self) -> Option<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.transactions == 0)
            .min_by_key(|(_, s)| s.handles)
            .map(|(i, _)| i)
    }

    fn share(&mut self, i: usize) -> Arc<Entry<M>> {
        let slot = &mut self.slots[i];
        slot.handles += 1;
        Arc::clone(&slot.entry)
    }
}

/// One shared connection. `None` after it was found broken and a new one could not be had.
struct Entry<M: Module> {
    conn: Mutex<Option<PooledConnection<M>>>,
}

impl<M: Module> Pool<M> {
    /// DBUtils' `connection(shareable=True)`: a handle on a connection that other threads may
    /// be using too, for drivers that allow it ([`dbapi::ThreadSafety::Connections`]).
    ///
    /// While fewer than [`crate::Builder::max_shared`] connections are shared, a free
    /// connection (idle or new) becomes a new shared one; otherwise the least shared
    /// connection that is not inside a transaction is handed out. When every shared
    /// connection is inside a transaction and no more may be shared, the call waits (up to
    /// `wait_timeout`) for one to finish. With `max_shared` 0 the handle gets a connection of
    /// its own, as in DBUtils. [`Pool::get`] always gives a dedicated connection.
    ///
    /// ```
    /// use dbapi::{params, Connection};
    /// use dbpool_core::Pool;
    /// use dbapi_sqlite::Sqlite;
    ///
    /// let pool = Pool::builder(Sqlite::memory()).max_size(4).max_shared(1).build()?;
    /// let a = pool.get_shared()?;
    /// let b = pool.get_shared()?; // the same connection: max_shared is 1
    /// assert_eq!(a.share_count(), 2);
    /// let mut conn = b.lock()?;   // uses are serialised: a.lock() waits until this drops
    /// conn.execute("SELECT 1", &params![])?;
    /// drop(conn);
    /// drop((a, b));               // the last handle returns the connection to the pool
    /// assert_eq!(pool.stats().idle, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`PoolError::Config`] with [`ConfigError::NotShareable`] for a driver below
    /// `threadsafety` 2; otherwise as [`Pool::get`] (a [`PoolError::Timeout`] also when every
    /// shared connection stayed inside a transaction for the whole wait).
    #[track_caller]
    pub fn get_shared(&self) -> Result<SharedConnection<M>, PoolError> {
        check_shareable::<M>()?;
        let max_shared = self.config().max_shared;
        if max_shared == 0 {
            let conn = self.get()?;
            return Ok(SharedConnection::new(self.clone(), Entry::new(conn), false));
        }
        let registry = self.sharing();
        let started = Instant::now();
        let deadline = self
            .config()
            .wait_timeout
            .and_then(|t| clock::deadline(started, t));
        let mut shares = registry.shares.lock();
        loop {
            let least = shares.least_shared();
            if shares.slots.len() + shares.taking < max_shared {
                // Room for one more shared connection: take a free one, waiting for it only
                // when there is nothing to share instead.
                shares.taking += 1;
                drop(shares);
                let got = if least.is_some() {
                    self.try_get()
                } else {
                    self.get_until(deadline).map(Some)
                };
                shares = registry.shares.lock();
                shares.taking -= 1;
                // Callers waiting for this one's outcome may now share, or take its place.
                registry.changed.notify_all();
                match got {
                    Ok(Some(conn)) => {
                        let entry = Entry::new(conn);
                        shares.slots.push(Slot {
                            entry: Arc::clone(&entry),
                            handles: 1,
                            transactions: 0,
                        });
                        return Ok(SharedConnection::new(self.clone(), entry, true));
                    }
                    Ok(None) => {
                        if let Some(i) = shares.least_shared() {
                            let entry = shares.share(i);
                            return Ok(SharedConnection::new(self.clone(), entry, true));
                        }
                    }
                    Err(err) => return Err(err),
                }
            } else if let Some(i) = least {
                let entry = shares.share(i);
                return Ok(SharedConnection::new(self.clone(), entry, true));
            } else if !self.config().blocking {
                return Err(self.exhausted_error());
            } else {
                // Every shared connection is inside a transaction (or being taken).
                let timed_out = match deadline {
                    Some(deadline) => registry
                        .changed
                        .wait_until(&mut shares, deadline)
                        .timed_out(),
                    None => {
                        registry.changed.wait(&mut shares);
                        false
                    }
                };
                if timed_out {
                    drop(shares);
                    return Err(self.timeout_now(started));
                }
            }
        }
    }

    /// As [`Pool::get`], waiting until `deadline` at most.
    #[track_caller]
    fn get_until(&self, deadline: Option<Instant>) -> Result<PooledConnection<M>, PoolError> {
        match deadline {
            Some(deadline) if self.config().blocking => {
                self.get_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            _ => self.get(),
        }
    }
}

impl<M: Module> Entry<M> {
    fn new(conn: PooledConnection<M>) -> Arc<Self> {
        Arc::new(Self {
            conn: Mutex::new(Some(conn)),
        })
    }
}

/// A handle on a connection that several threads may share (DBUtils'
/// `PooledSharedDBConnection`), from [`Pool::get_shared`]. `Clone + Send + Sync`: a clone is
/// one more share of the same connection.
///
/// - [`lock`](SharedConnection::lock) gives the connection to one thread at a time; the
///   others wait. Anything left uncommitted when the guard drops is rolled back, as when a
///   connection goes back to the pool: a transaction never spans two uses, so no other
///   thread's statement can run inside it.
/// - [`begin`](SharedConnection::begin) does the same and also keeps the connection from
///   being handed to new sharers until the guard drops.
/// - A connection found broken is replaced with a new one at the next `lock`.
/// - When the last handle on a connection drops, the connection goes back to the pool.
#[must_use = "dropping the last handle returns the connection to the pool"]
pub struct SharedConnection<M: Module> {
    pool: Pool<M>,
    entry: Arc<Entry<M>>,
    /// Whether the connection is in the pool's registry (false: a connection of its own).
    registered: bool,
}

impl<M: Module> SharedConnection<M> {
    fn new(pool: Pool<M>, entry: Arc<Entry<M>>, registered: bool) -> Self {
        Self {
            pool,
            entry,
            registered,
        }
    }

    /// Takes the connection for this thread, waiting while another handle uses it.
    ///
    /// # Errors
    /// When the connection was found broken and no new one could be had: as [`Pool::get`].
    #[track_caller]
    pub fn lock(&self) -> Result<SharedGuard<'_, M>, PoolError> {
        let mut conn = self.entry.conn.lock();
        if conn.as_ref().is_none_or(Connection::is_broken) {
            // Close the broken connection first: its slot may be the one the new one needs.
            drop(conn.take());
            *conn = Some(self.pool.get()?);
        }
        let conn = MutexGuard::try_map(conn, Option::as_mut).map_err(|_| PoolError::Closed {
            target: self.pool.target().to_owned(),
        })?;
        Ok(SharedGuard {
            conn,
            handle: self,
            transaction: false,
        })
    }

    /// As [`lock`](SharedConnection::lock), for a transaction: until the guard drops, the
    /// connection is not handed to new sharers (DBUtils never shares a connection inside a
    /// transaction). Commit through the guard; an uncommitted transaction is rolled back when
    /// it drops.
    ///
    /// # Errors
    /// As [`lock`](SharedConnection::lock).
    #[track_caller]
    pub fn begin(&self) -> Result<SharedGuard<'_, M>, PoolError> {
        self.mark_transaction(true);
        match self.lock() {
            Ok(mut guard) => {
                guard.transaction = true;
                Ok(guard)
            }
            Err(err) => {
                self.mark_transaction(false);
                Err(err)
            }
        }
    }

    /// How many handles share this connection now (1 when it is not shared).
    #[must_use]
    pub fn share_count(&self) -> usize {
        if !self.registered {
            return Arc::strong_count(&self.entry);
        }
        let shares = self.pool.sharing().shares.lock();
        shares
            .position(&self.entry)
            .map_or(1, |i| shares.slots[i].handles)
    }

    /// Whether `other` is a handle on the same connection.
    #[must_use]
    pub fn same_connection(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.entry, &other.entry)
    }

    /// The pool the connection belongs to.
    #[must_use]
    pub fn pool(&self) -> &Pool<M> {
        &self.pool
    }

    fn mark_transaction(&self, open: bool) {
        if !self.registered {
            return;
        }
        let registry = self.pool.sharing();
        let mut shares = registry.shares.lock();
        if let Some(i) = shares.position(&self.entry) {
            let slot = &mut shares.slots[i];
            if open {
                slot.transactions += 1;
            } else {
                slot.transactions = slot.transactions.saturating_sub(1);
                registry.changed.notify_all();
            }
        }
    }
}

impl<M: Module> Clone for SharedConnection<M> {
    fn clone(&self) -> Self {
        if self.registered {
            let mut shares = self.pool.sharing().shares.lock();
            if let Some(i) = shares.position(&self.entry) {
                shares.slots[i].handles += 1;
            }
        }
        Self::new(self.pool.clone(), Arc::clone(&self.entry), self.registered)
    }
}

impl<M: Module> Drop for SharedConnection<M> {
    fn drop(&mut self) {
        if !self.registered {
            return;
        }
        let registry = self.pool.sharing();
        let mut shares = registry.shares.lock();
        let Some(i) = shares.position(&self.entry) else {
            return;
        };
        shares.slots[i].handles -= 1;
        if shares.slots[i].handles == 0 {
            // The last handle: the connection leaves the registry, and goes back to the
            // pool when this handle's reference drops, outside the registry lock.
            let slot = shares.slots.swap_remove(i);
            registry.changed.notify_all();
            drop(shares);
            drop(slot);
        }
    }
}

impl<M: Module> fmt::Debug for SharedConnection<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedConnection")
            .field("pool", &self.pool.target())
            .field("registered", &self.registered)
            .finish_non_exhaustive()
    }
}

/// One thread's use of a [`SharedConnection`]: derefs to the [`PooledConnection`] (and from
/// there to the driver's connection). Other handles on the connection wait until it drops;
/// an open transaction is rolled back then.
#[must_use = "dropping the guard ends this use of the shared connection"]
pub struct SharedGuard<'a, M: Module> {
    conn: MappedMutexGuard<'a, PooledConnection<M>>,
    handle: &'a SharedConnection<M>,
    transaction: bool,
}

impl<M: Module> Deref for SharedGuard<'_, M> {
    type Target = PooledConnection<M>;

    fn deref(&self) -> &PooledConnection<M> {
        &self.conn
    }
}

impl<M: Module> DerefMut for SharedGuard<'_, M> {
    fn deref_mut(&mut self) -> &mut PooledConnection<M> {
        &mut self.conn
    }
}

impl<M: Module> Drop for SharedGuard<'_, M> {
    fn drop(&mut self) {
        if self.conn.in_transaction() != Some(false) {
            // A failed rollback of a dead connection marks it broken; the next lock replaces it.
            let _ = self.conn.rollback();
        }
        if self.transaction {
            self.handle.mark_transaction(false);
        }
    }
}

impl<M: Module> fmt::Debug for SharedGuard<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedGuard")
            .field("conn", &*self.conn)
            .field("transaction", &self.transaction)
            .finish()
    }
}
