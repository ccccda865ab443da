//! Socket timeouts on a connected `mysql::Conn`, which the crate fixes at connect time.

use std::io;
use std::time::Duration;

use mysql::Conn;

/// Sets the socket's read timeout to `read` and clears its write timeout, after a handshake
/// that ran under the connect timeout.
///
/// # Errors
/// The operating system's error.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn set_timeouts(conn: &Conn, read: Option<Duration>) -> io::Result<()> {
    use std::os::fd::{AsRawFd, BorrowedFd};
    // SAFETY: the descriptor belongs to `conn`'s open socket, which `conn` keeps open for
    // the whole borrow (we hold `&conn`); it is only used to set two socket options, never
    // closed or read from here.
    let fd = unsafe { BorrowedFd::borrow_raw(conn.as_raw_fd()) };
    let socket = socket2::SockRef::from(&fd);
    socket.set_read_timeout(read)?;
    socket.set_write_timeout(None)
}

/// Elsewhere the handshake's timeouts stay on the connection.
#[cfg(not(unix))]
pub fn set_timeouts(_conn: &Conn, _read: Option<Duration>) -> io::Result<()> {
    Ok(())
}
