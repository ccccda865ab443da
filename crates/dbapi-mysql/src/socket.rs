//! Socket timeouts on a connected `mysql::Conn`, which the crate fixes at connect time.

use std::io;
#[cfg(unix)]
use std::mem::MaybeUninit;
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

/// What a look at an idle connection's socket found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Nothing to read: the connection looks alive.
    Quiet,
    /// The server closed the socket (or it was reset).
    Closed,
    /// Bytes the client did not ask for: on a plain connection, the server's last words
    /// before it hangs up (an idle-timeout error packet).
    Unasked,
}

/// Peeks at the socket without blocking and without consuming anything: go-sql-driver's
/// connection check, made before a statement is sent on a connection that sat idle. One
/// `recv(MSG_PEEK | MSG_DONTWAIT)`: the socket's own blocking mode is left alone (switching
/// it and back took four more system calls). A peek that fails for any reason but "nothing
/// there yet" finds the connection gone.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn look(conn: &Conn) -> Idle {
    use std::os::fd::{AsRawFd, BorrowedFd};
    // SAFETY: as in `set_timeouts`: the descriptor belongs to `conn`'s open socket, kept
    // open for the whole borrow; it is only peeked at (nothing is consumed or closed).
    let fd = unsafe { BorrowedFd::borrow_raw(conn.as_raw_fd()) };
    let socket = socket2::SockRef::from(&fd);
    let mut byte = [MaybeUninit::<u8>::uninit()];
    let peeked = socket.recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
    match peeked {
        Ok(0) => Idle::Closed,
        Ok(_) => Idle::Unasked,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            Idle::Quiet
        }
        Err(_) => Idle::Closed,
    }
}

/// Elsewhere nothing is checked.
#[cfg(not(unix))]
pub fn look(_conn: &Conn) -> Idle {
    Idle::Quiet
}
