//! The DB-API module: the entry point a driver exposes, with its declared constants.

use std::time::Duration;

use crate::{Connection, Result};

/// How far connections and cursors may be shared between threads (DB-API `threadsafety`).
///
/// In Rust, "shared" means used from several threads in turn, serialised by a lock (the
/// connection is `Send`; its methods take `&mut self`). A level-1 connection may still be
/// *moved* to another thread, which is what a pool does; declare level 1 when a connection
/// must not be used by several threads even one call at a time (state tied to the thread
/// that opened it, a driver that is not thread-safe). Pools share connections (DBUtils'
/// `maxshared`) only at level 2 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ThreadSafety {
    /// 0: threads may not share the module.
    NotShared = 0,
    /// 1: threads may share the module, but not connections.
    Module = 1,
    /// 2: threads may share the module and connections.
    Connections = 2,
    /// 3: threads may share the module, connections and cursors.
    Cursors = 3,
}

impl ThreadSafety {
    /// The DB-API integer level, 0–3.
    #[must_use]
    pub const fn level(self) -> u8 {
        self as u8
    }
}

/// The parameter marker a driver understands (DB-API `paramstyle`, plus PostgreSQL's `$n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamStyle {
    /// `WHERE name = ?`
    Qmark,
    /// `WHERE name = :1`
    Numeric,
    /// `WHERE name = :name`
    Named,
    /// `WHERE name = %s`
    Format,
    /// `WHERE name = %(name)s`
    Pyformat,
    /// `WHERE name = $1` (PostgreSQL's native form)
    Dollar,
}

impl ParamStyle {
    /// The DB-API name (`"qmark"`, ...; `"dollar"` for `$n`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Qmark => "qmark",
            Self::Numeric => "numeric",
            Self::Named => "named",
            Self::Format => "format",
            Self::Pyformat => "pyformat",
            Self::Dollar => "dollar",
        }
    }
}

/// A database module: knows how to open connections to one database.
///
/// It holds the connection parameters (eventlet's `*args, **kwargs` to `connect`), so a pool
/// needs only the module to open as many connections as it wants.
pub trait Module: Send + Sync + 'static {
    /// The connection type this module opens.
    type Connection: Connection + Send + 'static;

    /// DB-API `apilevel`.
    const APILEVEL: &'static str = "2.0";
    /// DB-API `threadsafety`.
    const THREADSAFETY: ThreadSafety;
    /// DB-API `paramstyle`: the marker `execute` understands.
    const PARAMSTYLE: ParamStyle;

    /// Opens a new connection.
    ///
    /// # Errors
    /// An Operational error when the database cannot be reached or refuses the credentials;
    /// an Interface error for unusable parameters.
    fn connect(&self) -> Result<Self::Connection>;

    /// Opens a connection, giving the driver `timeout` as its native connect timeout where it
    /// has one. The default ignores the timeout and calls [`Module::connect`]; pools enforce
    /// the timeout themselves either way.
    ///
    /// # Errors
    /// As [`Module::connect`].
    fn connect_with_timeout(&self, timeout: Duration) -> Result<Self::Connection> {
        let _ = timeout;
        self.connect()
    }

    /// Where this module connects, for messages and logs: never contains a password.
    fn target(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }
}
