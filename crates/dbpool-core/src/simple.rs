//! DBUtils' `SimplePooledDB`: a fixed set of connections, all opened up front and reused.

use std::fmt;

use dbapi::{Module, ThreadSafety};

use crate::{Pool, PoolError, PooledConnection, SharedConnection};

/// DBUtils' `SimplePooledDB` (`PooledDB(module, maxconnections, **connect_args)`): opens
/// `maxconnections` connections at construction and hands them out transparently;
/// [`PooledConnection::close`] (or dropping it) returns the connection instead of closing it.
///
/// A thin mode over [`Pool`]: connections never expire, open failures wait for no timeout,
/// and returned connections are rolled back (DBUtils' simple pool does not clean them; we
/// are safe by default — use [`SimplePooledDB::pool`] for other settings).
///
/// As the seed says, "if the DB-API 2 module is threadsafe, the connections will be shared
/// between threads": for a driver of `threadsafety` 2 or more, every connection may be
/// shared, and [`SimplePooledDB::shared_connection`] hands out a [`SharedConnection`] on the
/// least shared one (uses serialised on the connection). [`SimplePooledDB::connection`]
/// always gives a connection to one thread alone, as for a level-1 driver.
///
/// ```
/// use dbapi::{params, Connection};
/// use dbapi_sqlite::Sqlite;
/// use dbpool_core::SimplePooledDB;
///
/// let dbpool = SimplePooledDB::new(Sqlite::memory(), 5)?;
/// assert_eq!(dbpool.pool().size(), 5, "all opened up front");
/// let mut db = dbpool.connection()?;
/// db.execute("SELECT 1", &params![])?;
/// db.close(); // back to the pool, not closed
/// assert_eq!(dbpool.pool().stats().idle, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SimplePooledDB<M: Module> {
    pool: Pool<M>,
}

impl<M: Module> SimplePooledDB<M> {
    /// Opens `maxconnections` connections with `module`.
    ///
    /// # Errors
    /// [`PoolError::Config`] for 0 connections; the connect error when one cannot be opened.
    pub fn new(module: M, maxconnections: usize) -> Result<Self, PoolError> {
        let shareable = M::THREADSAFETY >= ThreadSafety::Connections;
        let pool = Pool::builder(module)
            .max_shared(if shareable { maxconnections } else { 0 })
            .min_size(maxconnections)
            .max_size(maxconnections)
            .max_idle(None)
            .max_age(None)
            .build()?;
        Ok(Self { pool })
    }

    /// DBUtils' `connection()`: a connection from the pool, waiting while all are in use.
    ///
    /// # Errors
    /// As [`Pool::get`].
    #[track_caller]
    pub fn connection(&self) -> Result<PooledConnection<M>, PoolError> {
        self.pool.get()
    }

    /// A connection shared with other threads (the seed's behaviour for a threadsafe
    /// driver): the least shared of the pool's connections; see [`Pool::get_shared`].
    ///
    /// # Errors
    /// As [`Pool::get_shared`]: a [`crate::ConfigError::NotShareable`] error for a driver
    /// below `threadsafety` 2.
    #[track_caller]
    pub fn shared_connection(&self) -> Result<SharedConnection<M>, PoolError> {
        self.pool.get_shared()
    }

    /// The underlying pool.
    #[must_use]
    pub fn pool(&self) -> &Pool<M> {
        &self.pool
    }
}

impl<M: Module> fmt::Debug for SimplePooledDB<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimplePooledDB")
            .field("pool", &self.pool)
            .finish()
    }
}
