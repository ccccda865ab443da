//! [`Sqlite`]: the DB-API module, holding where and how to open connections.

use std::time::Duration;

use dbapi::{ConnectParams, Error, Module, ParamStyle, Result, ThreadSafety};
use rusqlite::OpenFlags;

use crate::error_mapping::from_rusqlite;
use crate::SqliteConnection;

/// The SQLite DB-API module: a database path (or `:memory:`) and connection settings.
///
/// # `:memory:` and pools
/// Every connection to `:memory:` opens its **own, private, empty** database, so a pool of
/// `Sqlite::memory()` connections is a pool of unrelated databases: a table created through
/// one pooled connection is invisible through another. To share one in-memory database
/// between the connections of a pool, use [`Sqlite::shared_memory`] (SQLite's shared cache;
/// the database lives while at least one connection to it is open, so give the pool
/// `min_size(1)` or keep one connection out), or use a file.
#[derive(Debug, Clone)]
pub struct Sqlite {
    path: String,
    uri: bool,
    read_only: bool,
    busy_timeout: Duration,
    pragmas: Vec<(String, String)>,
}

impl Sqlite {
    /// A private in-memory database per connection (see the type docs for pools).
    #[must_use]
    pub fn memory() -> Self {
        Self::file(":memory:")
    }

    /// One in-memory database named `name`, shared by every connection of this process that
    /// opens it, alive while at least one of them is open.
    #[must_use]
    pub fn shared_memory(name: &str) -> Self {
        let mut module = Self::file(format!("file:{name}?mode=memory&cache=shared"));
        module.uri = true;
        module
    }

    /// A database file, created if missing.
    #[must_use]
    pub fn file(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            uri: false,
            read_only: false,
            busy_timeout: Duration::from_secs(5),
            pragmas: Vec::new(),
        }
    }

    /// From a DSN: `sqlite::memory:`, `sqlite:///abs/path.db`, `sqlite://relative.db`.
    /// Options: `mode=ro|rw|rwc|memory`, `cache=shared|private` (opened as an SQLite URI),
    /// `busy_timeout=<ms>`, and `pragma.<name>=<value>` (run at connect).
    ///
    /// # Errors
    /// An Interface error for a malformed DSN, another scheme, or a bad option value.
    pub fn from_dsn(dsn: &str) -> Result<Self> {
        Self::from_params(&ConnectParams::parse(dsn)?)
    }

    /// From parsed [`ConnectParams`] (see [`Sqlite::from_dsn`] for the options).
    ///
    /// # Errors
    /// An Interface error for another scheme or a bad option value.
    pub fn from_params(params: &ConnectParams) -> Result<Self> {
        if params.scheme() != "sqlite" {
            return Err(Error::interface(format!(
                "the SQLite module needs a sqlite: DSN, got a {}: one",
                params.scheme()
            )));
        }
        let path = params.database().unwrap_or(":memory:");
        let mut uri_query = Vec::new();
        let mut module = Self::file(path);
        for (key, value) in params.options() {
            match key.as_str() {
                "mode" | "cache" | "immutable" | "vfs" => uri_query.push(format!("{key}={value}")),
                "busy_timeout" => {
                    let ms: u64 = value.parse().map_err(|_| {
                        Error::interface(format!(
                            "busy_timeout={value:?} is not a number of milliseconds"
                        ))
                    })?;
                    module.busy_timeout = Duration::from_millis(ms);
                }
                k => match k.strip_prefix("pragma.") {
                    Some(name) => module = module.pragma(name, value),
                    None => {
                        return Err(Error::interface(format!(
                            "unknown sqlite DSN option {key:?}; known: mode, cache, immutable, vfs, busy_timeout, pragma.<name>"
                        )))
                    }
                },
            }
        }
        if !uri_query.is_empty() {
            module.path = format!("file:{path}?{}", uri_query.join("&"));
            module.uri = true;
        }
        Ok(module)
    }

    /// How long a statement waits for a lock held by another connection before failing with
    /// `SQLITE_BUSY` (an Operational error). Default 5 s, as Python's `sqlite3`.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Opens connections read-only.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// A `PRAGMA name = value` run on every new connection and again by
    /// `reset_session` (e.g. `pragma("foreign_keys", "ON")`).
    #[must_use]
    pub fn pragma(mut self, name: &str, value: &str) -> Self {
        self.pragmas.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The path (or URI) connections open.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn apply_settings(&self, conn: &rusqlite::Connection) -> Result<()> {
        conn.busy_timeout(self.busy_timeout)
            .map_err(from_rusqlite)?;
        for (name, value) in &self.pragmas {
            conn.pragma_update(None, name, value)
                .map_err(from_rusqlite)?;
        }
        Ok(())
    }
}

impl Module for Sqlite {
    type Connection = SqliteConnection;
    /// Level 2: a connection may be used from any thread, one call at a time (rusqlite's
    /// `Connection` is `Send`; the bundled SQLite is built thread-safe), so a pool may share
    /// it behind a lock. Cursors borrow their connection, so they are not shared (not 3).
    const THREADSAFETY: ThreadSafety = ThreadSafety::Connections;
    /// `?` placeholders; `:name`, `@name` and `$name` are accepted with named parameters.
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<SqliteConnection> {
        let mut flags = if self.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        flags |= OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if self.uri {
            flags |= OpenFlags::SQLITE_OPEN_URI;
        }
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags).map_err(|e| {
            let err = from_rusqlite(e);
            Error::operational(format!(
                "cannot open SQLite database {:?}: {}; check the path exists and is writable",
                self.path,
                err.message()
            ))
            .with_source(err)
        })?;
        self.apply_settings(&conn)?;
        Ok(SqliteConnection::new(conn, self.clone()))
    }

    fn target(&self) -> String {
        format!("sqlite:{}", self.path)
    }
}
