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
    answer_from(&*socket)
}

/// Reads one answer packet from `source`.
fn answer_from(mut source: impl Read) -> io::Result<Answer> {
    // One read takes a whole OK packet (a dozen bytes) as a rule: the server sends nothing
    // but this answer, so there is never more to take than the packet itself.
    let mut first = [0u8; 64];
    let mut got = 0;
    while got < 4 {
        match source.read(&mut first[got..])? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => got += n,
        }
    }
    let len = usize::from(first[0]) | usize::from(first[1]) << 8 | usize::from(first[2]) << 16;
    if len == 0 || len > MOST || first[3] != 1 || got > 4 + len {
        return Err(not_an_answer());
    }
    let mut longer = Vec::new();
    let payload: &[u8] = if got == 4 + len {
        &first[4..got]
    } else {
        longer.extend_from_slice(&first[4..got]);
        let have = longer.len();
        longer.resize(len, 0);
        source.read_exact(&mut longer[have..])?;
        &longer
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes in reads of at most `step`, as a socket may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn packet(payload: &[u8]) -> Vec<u8> {
        let len = payload.len().to_le_bytes();
        let mut bytes = vec![len[0], len[1], len[2], 1];
        bytes.extend_from_slice(payload);
        bytes
    }

    fn answer(bytes: &[u8], step: usize) -> io::Result<Answer> {
        answer_from(Trickle { bytes, step })
    }

    #[test]
    fn an_ok_packet_is_done_in_one_read_or_in_pieces() {
        let ok = packet(&[0x00, 0, 0, 0x02, 0, 0, 0]);
        for step in [64, 5, 3, 1] {
            assert!(
                matches!(answer(&ok, step), Ok(Answer::Done)),
                "reads of {step}"
            );
        }
    }

    #[test]
    fn an_error_packet_longer_than_the_first_read_is_read_whole() {
        let message = "x".repeat(200);
        let mut payload = vec![0xff, 0x15, 0x04, b'#'];
        payload.extend_from_slice(b"08S01");
        payload.extend_from_slice(message.as_bytes());
        for step in [1024, 64, 7] {
            match answer(&packet(&payload), step) {
                Ok(Answer::Refused(code, text)) => {
                    assert_eq!(code, 1045);
                    assert_eq!(text, message);
                }
                other => panic!("reads of {step}: {other:?}"),
            }
        }
    }

    #[test]
    fn anything_but_one_whole_answer_is_an_error() {
        let ok = packet(&[0x00, 0, 0, 0x02, 0, 0, 0]);
        let mut two = ok.clone();
        two.extend_from_slice(&ok);
        let mut wrong_sequence = ok.clone();
        wrong_sequence[3] = 0;
        let cases: [(&str, &[u8]); 5] = [
            ("nothing", &[]),
            ("a cut header", &ok[..2]),
            ("a cut payload", &ok[..6]),
            ("two packets", &two),
            ("sequence id 0", &wrong_sequence),
        ];
        for (what, bytes) in cases {
            assert!(answer(bytes, 64).is_err(), "{what}");
        }
        assert!(answer(&packet(&[0x01, 0]), 64).is_err(), "not OK or error");
    }
}
