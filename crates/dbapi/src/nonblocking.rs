//! [`Nonblocking`]: the optional face of a connection whose driver does its I/O without
//! blocking, on the caller's executor — so an async pool can run its statements in the
//! calling task instead of handing them to a thread.

use std::future::Future;
use std::pin::Pin;

use crate::{Params, Result, Row};

/// A boxed, sendable future, as [`Nonblocking`] returns them (boxed so the trait stays
/// object-safe: a pool reaches it as `&mut dyn Nonblocking`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A connection's statements as futures that wait on the caller's executor, not on a
/// thread. Offered through [`Connection::nonblocking`](crate::Connection::nonblocking); a
/// driver without it is run on a thread pool by async pools, as before.
///
/// Each method does what its blocking namesake does, with the same transaction rules and
/// errors; a connection may mix both faces freely. A future dropped before it finishes
/// leaves the connection in a state only the driver knows: callers (pools) then discard
/// the connection.
pub trait Nonblocking: Send {
    /// Whether the futures can make progress on the executor polling this call now
    /// (for a tokio-based driver: whether a tokio runtime is current). When `false`, the
    /// caller runs the blocking methods elsewhere instead.
    fn available(&self) -> bool;

    /// [`Connection::execute`](crate::Connection::execute): one statement, its `rowcount`.
    ///
    /// # Errors
    /// As [`Cursor::execute`](crate::Cursor::execute).
    fn execute_async<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<i64>>;

    /// One statement and every row it returns (`execute` then `fetchall`).
    ///
    /// # Errors
    /// As [`Cursor::execute`](crate::Cursor::execute) and
    /// [`Cursor::fetchall`](crate::Cursor::fetchall).
    fn query_async<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a Params,
    ) -> BoxFuture<'a, Result<Vec<Row>>>;

    /// [`Connection::commit`](crate::Connection::commit).
    ///
    /// # Errors
    /// As [`Connection::commit`](crate::Connection::commit).
    fn commit_async(&mut self) -> BoxFuture<'_, Result<()>>;

    /// [`Connection::rollback`](crate::Connection::rollback).
    ///
    /// # Errors
    /// As [`Connection::rollback`](crate::Connection::rollback).
    fn rollback_async(&mut self) -> BoxFuture<'_, Result<()>>;
}
