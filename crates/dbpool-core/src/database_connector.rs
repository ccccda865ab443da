//! eventlet's `DatabaseConnector`: a pool of pools, one [`Pool`] per (host, database).

use std::collections::HashMap;
use std::fmt;

use dbapi::{ConnectParams, Error, Module};
use parking_lot::Mutex;

use crate::{Builder, Pool, PoolError};

type MakeModule<M> = dyn Fn(ConnectParams) -> dbapi::Result<M> + Send + Sync;
type Configure<M> = dyn Fn(Builder<M>) -> Builder<M> + Send + Sync;

/// A pool of pools: one [`Pool`] for every (host, database) asked for, built from per-host
/// credentials with a `"default"` fallback, as eventlet's `DatabaseConnector`.
///
/// ```
/// use dbapi::ConnectParams;
/// use dbpool_core::DatabaseConnector;
/// use dbapi_sqlite::Sqlite;
///
/// let credentials = [
///     ("db.internal.example.com", ConnectParams::from_pairs("sqlite", [("user", "internal"), ("passwd", "s33kr1t")])?),
///     ("default", ConnectParams::from_pairs("sqlite", [("user", "root")])?),
/// ];
/// // How to turn one host's parameters into a module; here every "host" is an in-memory db.
/// let connector = DatabaseConnector::new(credentials, |_params| Ok(Sqlite::memory()))
///     .with_pool_settings(|builder| builder.max_size(2));
/// let pool = connector.get("localhost", "app")?; // uses the "default" credentials
/// assert_eq!(pool.max_size(), 2);
/// assert!(connector.get("localhost", "app")?.size() == pool.size()); // the same pool
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DatabaseConnector<M: Module> {
    credentials: HashMap<String, ConnectParams>,
    make_module: Box<MakeModule<M>>,
    configure: Box<Configure<M>>,
    pools: Mutex<HashMap<(String, String), Pool<M>>>,
}

impl<M: Module> DatabaseConnector<M> {
    /// A connector from `credentials` (host name → connection parameters; the host
    /// `"default"` serves hosts without an entry) and a function building a module from the
    /// parameters of one (host, database).
    pub fn new<H: Into<String>>(
        credentials: impl IntoIterator<Item = (H, ConnectParams)>,
        make_module: impl Fn(ConnectParams) -> dbapi::Result<M> + Send + Sync + 'static,
    ) -> Self {
        Self {
            credentials: credentials
                .into_iter()
                .map(|(host, params)| (host.into(), params))
                .collect(),
            make_module: Box::new(make_module),
            configure: Box::new(|builder| builder),
            pools: Mutex::new(HashMap::new()),
        }
    }

    /// Settings applied to every pool this connector builds (eventlet passes its extra
    /// constructor arguments on to each `ConnectionPool`).
    #[must_use]
    pub fn with_pool_settings(
        mut self,
        configure: impl Fn(Builder<M>) -> Builder<M> + Send + Sync + 'static,
    ) -> Self {
        self.configure = Box::new(configure);
        self
    }

    /// The credentials used for `host`: its own entry, else the `"default"` entry.
    #[must_use]
    pub fn credentials_for(&self, host: &str) -> Option<&ConnectParams> {
        self.credentials
            .get(host)
            .or_else(|| self.credentials.get("default"))
    }

    /// The pool for `host` and `dbname`, built on first use.
    ///
    /// # Errors
    /// [`PoolError::Connect`] with an Interface error when `host` has no credentials and
    /// there is no `"default"` entry, or the module cannot be built from them; any error of
    /// [`Builder::build`].
    pub fn get(&self, host: &str, dbname: &str) -> Result<Pool<M>, PoolError> {
        let key = (host.to_owned(), dbname.to_owned());
        let mut pools = self.pools.lock();
        if let Some(pool) = pools.get(&key) {
            return Ok(pool.clone());
        }
        let target = format!("{host}/{dbname}");
        let params = self
            .credentials_for(host)
            .ok_or_else(|| PoolError::Connect {
                target: target.clone(),
                source: Error::interface(format!(
                    "no credentials for host {host:?} and no \"default\" entry; add one of them"
                )),
            })?
            .clone()
            .with_host(host)
            .with_database(dbname);
        let module = (self.make_module)(params).map_err(|source| PoolError::Connect {
            target: target.clone(),
            source,
        })?;
        let pool = (self.configure)(Pool::builder(module)).build()?;
        pools.insert(key, pool.clone());
        Ok(pool)
    }
}

impl<M: Module> fmt::Debug for DatabaseConnector<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hosts: Vec<&String> = self.credentials.keys().collect();
        hosts.sort();
        f.debug_struct("DatabaseConnector")
            .field("hosts", &hosts)
            .field("pools", &self.pools.lock().len())
            .finish()
    }
}
