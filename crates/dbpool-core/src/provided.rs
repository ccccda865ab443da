//! [`Provided`]: a module whose connect parameters come from a provider consulted on every
//! new connection — credential rotation without rebuilding the pool.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use dbapi::{Module, ParamStyle, Result, ThreadSafety};

/// A module built afresh for every new connection by `provide`, so that rotated credentials
/// (a password from a secrets manager, a token with an expiry) take effect at the next
/// connection without rebuilding the pool. Connections already open keep working until
/// they are replaced; [`crate::Pool::evict_all`] replaces them all.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use dbapi_sqlite::Sqlite;
/// use dbpool_core::{Pool, Provided};
///
/// let current = Arc::new(Mutex::new(String::from("app.db")));
/// let source = Arc::clone(&current);
/// let module = Provided::new("sqlite (rotating)", move || {
///     // e.g. read the current password from a vault; here a file name
///     let _name = source.lock().expect("lock").clone();
///     Ok(Sqlite::memory())
/// });
/// let pool = Pool::new(module)?;
/// *current.lock().expect("lock") = String::from("other.db"); // seen by the next connect
/// drop(pool.get()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Provided<M, F> {
    provide: F,
    target: String,
    module: PhantomData<fn() -> M>,
}

impl<M, F> Provided<M, F>
where
    M: Module,
    F: Fn() -> Result<M> + Send + Sync + 'static,
{
    /// A module that calls `provide` before every connection; `target` names it in messages
    /// and logs (never put a password in it).
    pub fn new(target: impl Into<String>, provide: F) -> Self {
        Self {
            provide,
            target: target.into(),
            module: PhantomData,
        }
    }
}

impl<M, F> Module for Provided<M, F>
where
    M: Module,
    F: Fn() -> Result<M> + Send + Sync + 'static,
{
    type Connection = M::Connection;
    const APILEVEL: &'static str = M::APILEVEL;
    const THREADSAFETY: ThreadSafety = M::THREADSAFETY;
    const PARAMSTYLE: ParamStyle = M::PARAMSTYLE;

    /// # Errors
    /// The provider's error, or the driver's connect error.
    fn connect(&self) -> Result<M::Connection> {
        (self.provide)()?.connect()
    }

    /// # Errors
    /// As [`Provided::connect`].
    fn connect_with_timeout(&self, timeout: Duration) -> Result<M::Connection> {
        (self.provide)()?.connect_with_timeout(timeout)
    }

    fn target(&self) -> String {
        self.target.clone()
    }
}

impl<M, F> fmt::Debug for Provided<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provided")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}
