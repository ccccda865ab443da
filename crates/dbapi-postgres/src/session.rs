//! [`Session`]: a `tokio_postgres` client and the I/O that drives it — what
//! `postgres::Client` is, with two things more: requests made together go out in one
//! write, so the implicit `BEGIN` rides with the first statement of a transaction instead
//! of costing a round trip of its own; and every call is a future, run either to completion
//! on a single-threaded runtime of the connection's own (the blocking DB-API), or awaited in
//! the caller's tokio task ([`dbapi::Nonblocking`]), the socket following
//! ([`crate::socket::Homed`]).

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::{Stream, TryStreamExt};
use tokio_postgres::config::Host;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{
    AsyncMessage, Client, Error, Notification, Row, SimpleQueryMessage, Statement,
};

use crate::own_runtime::OwnRuntime;
use crate::relay::Relay;
use crate::socket::Homed;

/// Statement parameters as the client takes them.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// The connection's server messages: replies, notifications, notices.
type Messages = Pin<Box<dyn Stream<Item = Result<AsyncMessage, Error>> + Send>>;

/// How long closing waits for the server to take the goodbye.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// An open PostgreSQL session: the [`tokio_postgres::Client`] and what turns its I/O.
///
/// Reach it with [`crate::PgConnection::native_mut`] for what the DB-API does not cover;
/// [`Session::run`] runs client calls to completion:
///
/// ```no_run
/// # fn demo(conn: &mut dbapi_postgres::PgConnection) -> Result<(), Box<dyn std::error::Error>> {
/// let session = conn.native_mut()?;
/// session.run(|client| Box::pin(client.batch_execute("LISTEN jobs")))?;
/// for note in session.notifications(std::time::Duration::from_secs(1))? {
///     println!("{}: {}", note.channel(), note.payload());
/// }
/// # Ok(())
/// # }
/// ```
pub struct Session {
    pub(crate) client: Client,
    pub(crate) io: Io,
}

/// The runtime and the message stream of one session (the client's other half).
pub(crate) struct Io {
    /// Shared with the blocking calls that run a future borrowing the session on it.
    runtime: Arc<OwnRuntime>,
    inbox: Inbox,
    /// The waker the calls are polled with.
    relay: Relay,
    /// Requests waited for, see [`Session::round_trips`].
    round_trips: u64,
}

/// What the server sends: the stream, and what reading it left behind.
struct Inbox {
    messages: Messages,
    /// Notifications read while waiting for replies, kept for [`Session::notifications`].
    notifications: VecDeque<Notification>,
    /// The stream ended or failed: the session is over.
    ended: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}

/// A boxed client call, as [`Session::run`] takes it.
pub type ClientCall<'c, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + 'c>>;

impl Session {
    /// Connects to the host of `config` (its first) as `config` says, with `tls`;
    /// `timeout` bounds the whole connect — TCP, TLS and the startup exchange
    /// (authentication included).
    pub(crate) fn connect<T>(
        config: &tokio_postgres::Config,
        mut tls: T,
        timeout: Option<Duration>,
    ) -> Result<Self, ConnectError>
    where
        T: MakeTlsConnect<Homed> + Send + 'static,
        T::Stream: Send + 'static,
    {
        let runtime = OwnRuntime::new().map_err(ConnectError::Runtime)?;
        let connected = runtime.block_on(async {
            let connect = async {
                let socket = Homed::connect(config).await.map_err(ConnectError::Socket)?;
                let host = match config.get_hosts().first() {
                    Some(Host::Tcp(host)) => host.as_str(),
                    _ => "",
                };
                let tls = tls
                    .make_tls_connect(host)
                    .map_err(|e| ConnectError::Tls(e.into()))?;
                config
                    .connect_raw(socket, tls)
                    .await
                    .map_err(ConnectError::Postgres)
            };
            match timeout {
                Some(limit) => tokio::time::timeout(limit, connect)
                    .await
                    .map_err(|_| ConnectError::TimedOut(limit))?,
                None => connect.await,
            }
        })?;
        let (client, mut connection) = connected;
        let messages: Messages = Box::pin(futures_util::stream::poll_fn(move |cx| {
            connection.poll_message(cx)
        }));
        Ok(Self {
            client,
            io: Io {
                runtime: Arc::new(runtime),
                inbox: Inbox {
                    messages,
                    notifications: VecDeque::new(),
                    ended: false,
                },
                relay: Relay::new(),
                round_trips: 0,
            },
        })
    }

    /// The connection's own runtime, to run this session's futures on from blocking code:
    /// `session.runtime().block_on(session.batch(false, "COMMIT"))`.
    pub(crate) fn runtime(&self) -> Arc<OwnRuntime> {
        Arc::clone(&self.io.runtime)
    }

    /// The client, for calls made with [`Session::run`].
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs a client call to completion, turning the session's I/O meanwhile:
    /// `session.run(|client| Box::pin(client.simple_query("SHOW server_version")))`.
    ///
    /// # Errors
    /// The call's error, or the session's if it ended meanwhile.
    pub fn run<T>(
        &mut self,
        call: impl for<'c> FnOnce(&'c Client) -> ClientCall<'c, T>,
    ) -> dbapi::Result<T> {
        let Self { client, io } = self;
        let runtime = Arc::clone(&io.runtime);
        runtime.block_on(io.drive(call(client)))
    }

    /// Notifications (`LISTEN`/`NOTIFY`) received so far, waiting up to `wait` for one when
    /// none is queued.
    ///
    /// # Errors
    /// The session's error if it ended.
    pub fn notifications(&mut self, wait: Duration) -> dbapi::Result<Vec<Notification>> {
        if self.io.inbox.notifications.is_empty() {
            self.io.look(wait)?;
        }
        Ok(self.io.inbox.notifications.drain(..).collect())
    }

    /// Runs `sql` (simple protocol, no result), after a `BEGIN` sent with it when `begin`.
    pub(crate) async fn batch(&mut self, begin: bool, sql: &str) -> dbapi::Result<()> {
        let Self { client, io } = self;
        io.drive(after_begin(client, begin, client.batch_execute(sql)))
            .await
    }

    /// Sends `sql` (simple protocol) and returns without waiting for its answer, which the
    /// client reads, and drops, on the way to its next request's. The request is written
    /// out before this returns (unless the socket is full: then with the next request), and
    /// what the server sent meanwhile is read: a session it ended is an error now.
    pub(crate) fn send_unawaited(&mut self, sql: &str) -> dbapi::Result<()> {
        let Self { client, io } = self;
        {
            let call = client.batch_execute(sql);
            let mut call = pin!(call);
            // Its first poll hands the request to the client's I/O; dropping it after that
            // leaves the answer to be read and dropped there.
            let queued = io
                .runtime
                .block_on(poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))));
            if let Poll::Ready(Err(err)) = queued {
                return Err(crate::from_postgres(err));
            }
        }
        // A turn of the I/O without waiting: writes the request, reads what has arrived.
        io.look(Duration::ZERO)?;
        if io.inbox.ended {
            return Err(session_over());
        }
        Ok(())
    }

    /// Prepares `text`, after a `BEGIN` sent with it when `begin`.
    pub(crate) async fn prepare(&mut self, begin: bool, text: &str) -> dbapi::Result<Statement> {
        let Self { client, io } = self;
        io.drive(after_begin(client, begin, client.prepare(text)))
            .await
    }

    /// Runs a query, after a `BEGIN` sent with it when `begin`.
    pub(crate) async fn query(
        &mut self,
        begin: bool,
        statement: &Statement,
        params: &Params<'_>,
    ) -> dbapi::Result<Vec<Row>> {
        let Self { client, io } = self;
        io.drive(after_begin(client, begin, client.query(statement, params)))
            .await
    }

    /// Runs a statement for its row count, after a `BEGIN` sent with it when `begin`.
    pub(crate) async fn execute(
        &mut self,
        begin: bool,
        statement: &Statement,
        params: &Params<'_>,
    ) -> dbapi::Result<u64> {
        let Self { client, io } = self;
        io.drive(after_begin(
            client,
            begin,
            client.execute(statement, params),
        ))
        .await
    }

    /// Runs `sql` with the simple protocol, returning its messages.
    pub(crate) async fn simple_query(
        &mut self,
        sql: &str,
    ) -> dbapi::Result<Vec<SimpleQueryMessage>> {
        let Self { client, io } = self;
        io.drive(client.simple_query(sql)).await
    }

    /// Parses, binds and runs `text` as one unnamed statement, parameters typed as given:
    /// its rows, and its row count when the command tag has one.
    pub(crate) async fn query_unnamed<'a>(
        &mut self,
        text: &str,
        params: impl IntoIterator<Item = (&'a (dyn ToSql + Sync), Type)> + Send,
    ) -> dbapi::Result<(Vec<Row>, Option<u64>)> {
        let Self { client, io } = self;
        io.drive(async {
            let stream = client.query_typed_raw(text, params).await?;
            let mut stream = pin!(stream);
            let mut rows = Vec::new();
            while let Some(row) = stream.try_next().await? {
                rows.push(row);
            }
            Ok((rows, stream.rows_affected()))
        })
        .await
    }

    /// How many times this session waited for the server: one per call that needed an
    /// answer, however many requests went out together in it (a pipelined `BEGIN` and its
    /// statement are one).
    #[must_use]
    pub fn round_trips(&self) -> u64 {
        self.io.round_trips
    }

    /// Whether the session is known to be over (the client's channel is closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.io.inbox.ended || self.client.is_closed()
    }

    /// Says goodbye to the server (a `Terminate` message) and waits, briefly, for it to be
    /// written.
    pub(crate) fn close(self) {
        let Self { client, mut io } = self;
        drop(client);
        io.finish();
    }
}

impl Io {
    /// Runs `call`, reading the server's messages meanwhile (notifications are kept): on
    /// the connection's runtime under its `block_on`, or in the caller's task.
    pub(crate) async fn drive<T>(
        &mut self,
        call: impl Future<Output = Result<T, Error>>,
    ) -> dbapi::Result<T> {
        let mut call = pin!(call);
        self.round_trips += 1;
        let Self { inbox, relay, .. } = self;
        poll_fn(|cx| {
            relay.poll(cx, |cx| {
                if let Some(err) = inbox.read(cx) {
                    return Poll::Ready(Err(crate::from_postgres(err)));
                }
                match call.as_mut().poll(cx) {
                    Poll::Ready(done) => Poll::Ready(done.map_err(crate::from_postgres)),
                    // The stream is over: no reply is coming.
                    Poll::Pending if inbox.ended => Poll::Ready(Err(session_over())),
                    Poll::Pending => Poll::Pending,
                }
            })
        })
        .await
    }

    /// Waits up to `wait` for a message the server sends unasked — a notification, or the
    /// `FATAL` error and end of stream of a session it ended. `Duration::ZERO` reads what has
    /// already arrived and does not wait.
    pub(crate) fn look(&mut self, wait: Duration) -> dbapi::Result<()> {
        let before = self.inbox.notifications.len();
        self.read_for(wait, |inbox| inbox.notifications.len() > before)
            .map_err(crate::from_postgres)
    }

    /// Turns the I/O until the stream ends (after the client is gone: the goodbye). Inside
    /// a tokio runtime (a connection dropped in a task) it cannot block: the socket just
    /// closes, and the server ends the session when it reads the end of the stream.
    fn finish(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            let _ = self.read_for(CLOSE_WAIT, |_| false);
        }
        // Over either way: a second call (the drop after a close) does not wait again.
        self.inbox.ended = true;
    }

    /// Reads the server's messages, with no call of ours waiting, until the stream ends or
    /// fails, `enough` says so, or `limit` passes.
    fn read_for(&mut self, limit: Duration, enough: impl Fn(&Inbox) -> bool) -> Result<(), Error> {
        let Self { runtime, inbox, .. } = self;
        if inbox.ended {
            return Ok(());
        }
        // `Some` once there is an outcome; `None` while there is none yet.
        let mut outcome = |cx: &mut std::task::Context<'_>| match inbox.read(cx) {
            Some(err) => Some(Err(err)),
            None if inbox.ended || enough(inbox) => Some(Ok(())),
            None => None,
        };
        runtime.block_on(async {
            if limit.is_zero() {
                // What has already arrived, with no wait: a read, one turn of the I/O driver
                // without blocking (a yield makes the runtime poll it for the events the
                // kernel holds), and a second read.
                if let Some(first) = poll_fn(|cx| Poll::Ready(outcome(cx))).await {
                    return first;
                }
                tokio::task::yield_now().await;
                return poll_fn(|cx| Poll::Ready(outcome(cx)))
                    .await
                    .unwrap_or(Ok(()));
            }
            let done = poll_fn(|cx| outcome(cx).map_or(Poll::Pending, Poll::Ready));
            tokio::time::timeout(limit, done).await.unwrap_or(Ok(()))
        })
    }
}

impl Inbox {
    /// Reads every message ready now: notifications are kept, notices dropped (the server's
    /// log has them). Returns the session's failure if the stream failed; `ended` is set
    /// when the stream is over either way. Reads nothing once it is over.
    fn read(&mut self, cx: &mut std::task::Context<'_>) -> Option<Error> {
        while !self.ended {
            match self.messages.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(AsyncMessage::Notification(note)))) => {
                    self.notifications.push_back(note);
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(err))) => {
                    self.ended = true;
                    return Some(err);
                }
                Poll::Ready(None) => self.ended = true,
                Poll::Pending => break,
            }
        }
        None
    }
}

/// `call`, preceded — in the same write — by `BEGIN` when `begin`: the client queues both
/// requests before its I/O turns, so they cost one round trip.
async fn after_begin<T>(
    client: &Client,
    begin: bool,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    if !begin {
        return call.await;
    }
    let (began, done) = futures_util::future::join(client.batch_execute("BEGIN"), call).await;
    began?;
    done
}

impl Drop for Io {
    fn drop(&mut self) {
        // Reached with the client already dropped (fields drop in order): say goodbye so
        // the server ends the session now rather than at its next read.
        self.finish();
    }
}

/// The session's stream ended with a reply outstanding.
fn session_over() -> dbapi::Error {
    dbapi::Error::operational(
        "the connection to the PostgreSQL server is closed; get a new connection",
    )
    .with_disconnect(true)
}

/// Why a connect failed.
pub(crate) enum ConnectError {
    /// The connection's runtime could not start.
    Runtime(std::io::Error),
    /// The connect took longer than `connect_timeout`.
    TimedOut(Duration),
    /// The socket could not connect.
    Socket(std::io::Error),
    /// TLS could not be set up for the host.
    Tls(Box<dyn std::error::Error + Send + Sync>),
    /// The server or the network said no.
    Postgres(Error),
}
