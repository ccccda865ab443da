//! [`Homed`]: the session's socket, registered with whichever tokio runtime polls it.
//!
//! A blocking call turns the I/O on the connection's own single-threaded runtime; a
//! [`dbapi::Nonblocking`] call turns it on the caller's. Tokio delivers a socket's readiness
//! only to the runtime it is registered with, so the socket moves: on the first poll from
//! another runtime, its registration there is dropped and a new one made here. The socket
//! itself stays owned outside any runtime, and each registration holds a duplicate of its
//! descriptor, so a registration that cannot be undone (its runtime is gone) never costs
//! the connection. Calls that stay on one runtime pay nothing.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::{Handle, Id};
use tokio_postgres::config::Host;

/// The session's socket, and its registration with the runtime that last polled it.
pub(crate) struct Homed {
    owned: Owned,
    registered: Option<(Id, Registered)>,
}

/// The socket, owned (closed when the session ends).
enum Owned {
    Tcp(std::net::TcpStream),
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixStream),
}

/// A duplicate of the socket's descriptor, registered with one runtime.
enum Registered {
    Tcp(tokio::net::TcpStream),
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
}

impl Homed {
    /// Connects to the host and port of `config` (its first), as `tokio_postgres` would:
    /// every address the name resolves to, in turn; `TCP_NODELAY` and the configured
    /// keepalives on TCP. Runs on the connection's runtime; `connect_timeout` is the
    /// caller's to apply.
    pub(crate) async fn connect(config: &tokio_postgres::Config) -> io::Result<Self> {
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let owned = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
                stream.set_nodelay(true)?;
                let stream = stream.into_std()?;
                keep_alive(&stream, config)?;
                Owned::Tcp(stream)
            }
            #[cfg(unix)]
            Some(Host::Unix(dir)) => {
                let path = dir.join(format!(".s.PGSQL.{port}"));
                Owned::Unix(tokio::net::UnixStream::connect(path).await?.into_std()?)
            }
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "no host to connect to",
                ))
            }
        };
        Ok(Self {
            owned,
            registered: None,
        })
    }

    /// The socket's registration with the runtime polling it now — made here if it was
    /// made elsewhere. Outside any runtime, the last one.
    fn here(&mut self) -> io::Result<&mut Registered> {
        if let Ok(handle) = Handle::try_current() {
            let id = handle.id();
            if self.registered.as_ref().is_none_or(|(home, _)| *home != id) {
                // Dropping the old registration undoes it (where its runtime still runs).
                self.registered = None;
                self.registered = Some((id, self.owned.register()?));
            }
        }
        match &mut self.registered {
            Some((_, registered)) => Ok(registered),
            None => Err(io::Error::other(
                "the PostgreSQL session's I/O was polled outside a tokio runtime",
            )),
        }
    }
}

/// The DSN's keepalive settings (tokio-postgres's defaults unless changed), on `stream`.
fn keep_alive(stream: &std::net::TcpStream, config: &tokio_postgres::Config) -> io::Result<()> {
    if !config.get_keepalives() {
        return Ok(());
    }
    let mut keepalive = socket2::TcpKeepalive::new().with_time(config.get_keepalives_idle());
    #[cfg(not(any(target_os = "openbsd", target_os = "redox", target_os = "solaris")))]
    if let Some(interval) = config.get_keepalives_interval() {
        keepalive = keepalive.with_interval(interval);
    }
    #[cfg(not(any(
        target_os = "openbsd",
        target_os = "redox",
        target_os = "solaris",
        target_os = "windows"
    )))]
    if let Some(retries) = config.get_keepalives_retries() {
        keepalive = keepalive.with_retries(retries);
    }
    let socket = socket2::SockRef::from(stream);
    socket.set_tcp_keepalive(&keepalive)?;
    #[cfg(target_os = "linux")]
    if let Some(limit) = config.get_tcp_user_timeout() {
        socket.set_tcp_user_timeout(Some(*limit))?;
    }
    Ok(())
}

impl Owned {
    /// A duplicate of the descriptor, registered with the current runtime.
    fn register(&self) -> io::Result<Registered> {
        Ok(match self {
            Self::Tcp(s) => Registered::Tcp(tokio::net::TcpStream::from_std(s.try_clone()?)?),
            #[cfg(unix)]
            Self::Unix(s) => Registered::Unix(tokio::net::UnixStream::from_std(s.try_clone()?)?),
        })
    }
}

/// Forwards a poll to the registration here.
macro_rules! forward {
    ($self:ident, |$s:ident| $call:expr) => {
        match $self.get_mut().here() {
            Ok(Registered::Tcp($s)) => $call,
            #[cfg(unix)]
            Ok(Registered::Unix($s)) => $call,
            Err(err) => Poll::Ready(Err(err)),
        }
    };
}

impl AsyncRead for Homed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        forward!(self, |s| Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Homed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        forward!(self, |s| Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(self, |s| Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        forward!(self, |s| Pin::new(s).poll_shutdown(cx))
    }
}
