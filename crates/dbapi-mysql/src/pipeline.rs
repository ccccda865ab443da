//! A `ROLLBACK` sent without waiting for its answer (for a pool taking a connection back),
//! and the answer read before the connection's next request.
//!
//! The `mysql` crate reads every reply as it sends, so the request is written, and its
//! answer read, on the socket itself, framed by hand. That is only sound on a plain,
//! uncompressed connection whose last command was answered in full — MySQL speaks only when
//! spoken to, so nothing else can be in the crate's buffers or on the wire — and with the
//! crate told nothing: each command restarts the packet sequence at 0.

use std::io::{self, Read, Write};

use mysql::Conn;

/// `COM_QUERY "ROLLBACK"`: a 3-byte little-endian length, sequence id 0, the command byte,
/// the statement.
const ROLLBACK: &[u8] = b"\x09\x00\x00\x00\x03ROLLBACK";

/// The longest answer to a `ROLLBACK` taken for one: an OK or error packet is a few dozen
/// bytes (a session-state block adds a few more).
const MOST: usize = 64 * 1024;

/// What the server answered.
#[derive(Debug)]
pub enum Answer {
    /// An OK packet: the transaction is over.
    Done,
    /// An error packet: the server's code and message.
    Refused(u16, String),
}

/// Sends `ROLLBACK` without reading the answer.
///
/// # Errors
/// The operating system's error while writing.
#[allow(unsafe_code)]
pub fn send_rollback(conn: &Conn) -> io::Result<()> {
    use std::os::fd::{AsRawFd, BorrowedFd};
    // SAFETY: as above; the bytes written are one whole request, sent between two of the
    // crate's commands (it has flushed everything it wrote and read everything it asked).
    let fd = unsafe { BorrowedFd::borrow_raw(conn.as_raw_fd()) };
    let socket = socket2::SockRef::from(&fd);
    (&*socket).write_all(ROLLBACK)
}

/// Reads the answer to the `ROLLBACK` [`send_rollback`] sent, waiting for it if it has not
/// come yet (under the socket's read timeout).
///
/// # Errors
/// The operating system's error, or `InvalidData` for an answer that is not one.
#[allow(unsafe_code)]
pub fn read_answer(conn: &Conn) -> io::Result<Answer> {
    use std::os::fd::{AsRawFd, BorrowedFd};
    // SAFETY: as above; the bytes read are the answer to our own request, which the crate
    // never asked for and so never reads.
    let fd = unsafe { BorrowedFd::borrow_raw(conn.as_raw_fd()) };
    let socket = socket2::SockRef::from(&fd);
    let mut header = [0u8; 4];
    (&*socket).read_exact(&mut header)?;
    let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    if len == 0 || len > MOST || header[3] != 1 {
        return Err(not_an_answer());
    }
    let mut payload = vec![0u8; len];
    (&*socket).read_exact(&mut payload)?;
    match payload[0] {
        0x00 | 0xfe => Ok(Answer::Done),
        0xff if len >= 3 => {
            let code = u16::from_le_bytes([payload[1], payload[2]]);
            // `#` and a five-character SQLSTATE come before the message (protocol 4.1).
            let text = match payload.get(3) {
                Some(b'#') => payload.get(9..).unwrap_or_default(),
                _ => &payload[3..],
            };
            Ok(Answer::Refused(
                code,
                String::from_utf8_lossy(text).into_owned(),
            ))
        }
        _ => Err(not_an_answer()),
    }
}

fn not_an_answer() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the answer to a pipelined ROLLBACK is not an OK or error packet",
    )
}
