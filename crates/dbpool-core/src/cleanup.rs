//! What happens to a connection when it comes back to the pool.

use std::fmt;
use std::sync::Arc;

use dbapi::{Connection, Result};

/// A cleanup closure, shared by every return that uses it.
pub type CleanupFn<C> = Arc<dyn Fn(&mut C) -> Result<()> + Send + Sync>;

/// The cleanup run on a connection returned to the pool (eventlet's `cleanup=` argument).
/// A cleanup that fails (or panics) closes the connection and frees its slot.
pub enum Cleanup<C> {
    /// Roll back any open transaction (the default, as eventlet's `cleanup_rollback`). The
    /// round trip is skipped when nothing ran since checkout, or when the driver reports no
    /// open transaction. Where the driver can, the rollback is pipelined
    /// ([`Connection::rollback_pipelined`]): the return does not wait for the server's
    /// answer, which arrives with the connection's next request. The server still ends the
    /// transaction as soon as it reads the rollback, but a lock it held may be seen, for
    /// that moment, after the return; use [`Cleanup::RollbackAndWait`] where code relies
    /// on the locks being gone once the connection is back.
    Rollback,
    /// As [`Cleanup::Rollback`], waiting for the server's answer before the connection is
    /// back in the pool ([`Connection::rollback`]): one round trip more per dirty return.
    RollbackAndWait,
    /// Restore the session to a fresh connection's state with
    /// [`Connection::reset_session`] (skipped when nothing ran since checkout).
    Reset,
    /// Do nothing: the next user gets the session exactly as it was left.
    None,
    /// Run a closure.
    Custom(CleanupFn<C>),
}

impl<C> Cleanup<C> {
    /// A cleanup closure.
    #[must_use]
    pub fn custom(f: impl Fn(&mut C) -> Result<()> + Send + Sync + 'static) -> Self {
        Self::Custom(Arc::new(f))
    }
}

impl<C: Connection> Cleanup<C> {
    /// Runs the cleanup; `touched` says whether the connection was used since checkout.
    pub(crate) fn run(&self, conn: &mut C, touched: bool) -> Result<()> {
        if !self.calls_driver(conn, touched) {
            return Ok(());
        }
        match self {
            Self::Rollback => conn.rollback_pipelined(),
            Self::RollbackAndWait => conn.rollback(),
            Self::Reset => conn.reset_session(),
            Self::Custom(f) => f(conn),
            Self::None => Ok(()),
        }
    }

    /// Whether [`Cleanup::run`] would call the driver (a custom cleanup always may).
    pub(crate) fn calls_driver(&self, conn: &C, touched: bool) -> bool {
        match self {
            Self::Rollback | Self::RollbackAndWait => {
                touched && conn.in_transaction() != Some(false)
            }
            Self::Reset => touched,
            Self::Custom(_) => true,
            Self::None => false,
        }
    }
}

impl<C> Clone for Cleanup<C> {
    fn clone(&self) -> Self {
        match self {
            Self::Rollback => Self::Rollback,
            Self::RollbackAndWait => Self::RollbackAndWait,
            Self::Reset => Self::Reset,
            Self::None => Self::None,
            Self::Custom(f) => Self::Custom(Arc::clone(f)),
        }
    }
}

impl<C> fmt::Debug for Cleanup<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rollback => "Rollback",
            Self::RollbackAndWait => "RollbackAndWait",
            Self::Reset => "Reset",
            Self::None => "None",
            Self::Custom(_) => "Custom(..)",
        })
    }
}
