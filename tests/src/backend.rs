//! What the pool matrix needs from a server: connections it can count and end, a module
//! with a wrong password or an unreachable address, a restart, and a slow query.

use dbapi::{Connection, Error, Module};

/// A database server started by `cargo xtask test`, as the pool matrix sees it.
///
/// Every method that runs SQL is generic over the connection, so a scenario can ask through
/// a pooled connection or through [`Backend::observer`] alike.
pub trait Backend {
    /// The adapter's module.
    type Module: Module;

    /// A module whose connections the server lists under `tag` (an application name or a
    /// user of its own), so one test's connections are counted exactly.
    fn module(tag: &str) -> Self::Module;

    /// As [`Backend::module`], with connections whose `check_alive` looks at the server's
    /// side every time (the PostgreSQL adapter looks only after a second unused, by default).
    fn module_checking_every_use(tag: &str) -> Self::Module {
        Self::module(tag)
    }

    /// A connection, outside any pool, that sees every session and may end it.
    fn observer() -> <Self::Module as Module>::Connection;

    /// How many connections the server has open under `tag`.
    fn sessions<C: Connection>(conn: &mut C, tag: &str) -> i64;

    /// The server's id for the session of `conn`.
    fn session_id<C: Connection>(conn: &mut C) -> i64;

    /// Ends the session `id` on the server and waits until the server no longer lists it.
    fn kill<C: Connection>(observer: &mut C, id: i64);

    /// The test user's module with `password` instead of the right one.
    fn with_password(password: &str) -> Self::Module;

    /// Asserts that `err` is the server's "wrong password" answer.
    fn assert_authentication_error(err: &Error);

    /// A module for 127.0.0.1:`port`, where no server of this kind answers.
    fn at_port(port: u16) -> Self::Module;

    /// Restarts the server and returns once it accepts connections again.
    fn restart();

    /// Whether the driver bounds the whole handshake by the connect timeout (and not only
    /// the TCP connect), so a silent listener cannot hold a pool slot past it.
    const BOUNDED_HANDSHAKE: bool;

    /// A query that takes half a second on the server and returns the integer 42.
    const SLOW_42: &'static str;

    /// A query returning the session id as an 8-byte integer.
    const SESSION_ID: &'static str;
}
