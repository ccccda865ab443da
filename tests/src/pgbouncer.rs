//! PgBouncer in transaction mode in front of the PostgreSQL of `cargo xtask test`, as a
//! backend of the matrix. What a pool sees behind it is PgBouncer's client connections, so
//! they are what is counted (PgBouncer's own `SHOW CLIENTS`, by application name) and told
//! apart (each connection names itself `tag:n` on connect; PgBouncer carries the name to
//! whichever server session runs its transaction).
//!
//! Ending a server session does not end a client connection behind PgBouncer (PgBouncer
//! reports the error and keeps the client), and PgBouncer 1.18 cannot end one client, so
//! the scenarios that kill sessions are not run through it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dbapi::{params, Connection, Error, ErrorKind, Module, ParamStyle, ThreadSafety};
use dbapi_postgres::{PgConnection, Postgres};
use once_cell::sync::Lazy;

use crate::{env, scalar, Backend};

/// The matrix backend: the PostgreSQL adapter in its PgBouncer mode, through PgBouncer.
#[derive(Debug, Clone, Copy)]
pub struct PgBouncer;

/// The PostgreSQL module through PgBouncer, whose connections name themselves `tag:n`.
#[derive(Debug, Clone)]
pub struct Bounced {
    inner: Postgres,
    tag: String,
    next: Arc<AtomicU64>,
}

impl Bounced {
    fn new(inner: Postgres, tag: &str) -> Self {
        Self {
            inner: inner.pgbouncer(true),
            tag: tag.to_owned(),
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    fn named(&self, mut conn: PgConnection) -> dbapi::Result<PgConnection> {
        let n = self.next.fetch_add(1, Relaxed);
        conn.set_autocommit(true)?;
        conn.execute(
            &format!("SET application_name = '{}:{n}'", self.tag),
            &params![],
        )?;
        conn.set_autocommit(false)?;
        Ok(conn)
    }
}

impl Module for Bounced {
    type Connection = PgConnection;
    const THREADSAFETY: ThreadSafety = <Postgres as Module>::THREADSAFETY;
    const PARAMSTYLE: ParamStyle = <Postgres as Module>::PARAMSTYLE;

    fn connect(&self) -> dbapi::Result<PgConnection> {
        self.named(self.inner.connect()?)
    }

    fn connect_with_timeout(&self, timeout: Duration) -> dbapi::Result<PgConnection> {
        self.named(self.inner.connect_with_timeout(timeout)?)
    }

    fn target(&self) -> String {
        self.inner.target()
    }
}

fn bouncer_url(application_name: &str) -> String {
    format!(
        "{}&application_name={application_name}",
        env("DBPOOL_PGBOUNCER_URL")
    )
}

/// PgBouncer's admin console (simple protocol only), shared by the tests of a binary.
static CONSOLE: Lazy<Mutex<postgres::Client>> = Lazy::new(|| {
    Mutex::new(
        postgres::Client::connect(&env("DBPOOL_PGBOUNCER_ADMIN_URL"), postgres::NoTls)
            .expect("PgBouncer's admin console"),
    )
});

/// PgBouncer's client connections named `tag` (or `tag:n`).
fn clients(tag: &str) -> i64 {
    let mut console = CONSOLE.lock().unwrap_or_else(PoisonError::into_inner);
    let rows = console.simple_query("SHOW CLIENTS").expect("SHOW CLIENTS");
    let count = rows
        .iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .filter(|row| {
            // The name at connect, or the one the connection gave itself since.
            row.get("application_name").is_some_and(|name| {
                name == tag || name.strip_prefix(tag).is_some_and(|n| n.starts_with(':'))
            })
        })
        .count();
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Backend for PgBouncer {
    type Module = Bounced;

    fn module(tag: &str) -> Bounced {
        Bounced::new(
            Postgres::from_dsn(&bouncer_url(tag)).expect("DBPOOL_PGBOUNCER_URL is a valid DSN"),
            tag,
        )
    }

    fn observer() -> PgConnection {
        Self::module("dbpool-observer")
            .connect()
            .expect("observer connects")
    }

    /// Counted by PgBouncer (the connection passed in is not needed).
    fn sessions<C: Connection>(_conn: &mut C, tag: &str) -> i64 {
        clients(tag)
    }

    fn session_id<C: Connection>(conn: &mut C) -> i64 {
        scalar(conn, Self::SESSION_ID, &params![])
    }

    fn kill<C: Connection>(_observer: &mut C, _id: i64) {
        unreachable!("no scenario that ends sessions runs through PgBouncer")
    }

    fn with_password(password: &str) -> Bounced {
        let url = env("DBPOOL_PGBOUNCER_URL");
        let (_, server) = url.split_once('@').expect("user@host");
        Bounced::new(
            Postgres::from_dsn(&format!("postgres://dbpool:{password}@{server}")).expect("dsn"),
            "wrong-password",
        )
    }

    /// PgBouncer answers a wrong password itself, with the server's words.
    fn assert_authentication_error(err: &Error) {
        assert!(matches!(err.sqlstate(), Some("28P01" | "08P01")), "{err}");
        assert!(err.to_string().contains("authentication failed"), "{err}");
        assert_eq!(err.kind(), ErrorKind::Operational);
    }

    fn at_port(port: u16) -> Bounced {
        Bounced::new(
            Postgres::from_dsn(&format!("postgres://nobody:x@127.0.0.1:{port}/db")).expect("dsn"),
            "nobody",
        )
    }

    fn restart() {
        unreachable!("the restart scenario does not run through PgBouncer")
    }

    // The PostgreSQL adapter's: the whole connect is bounded.
    const BOUNDED_HANDSHAKE: bool = true;

    const SLOW_42: &'static str = "SELECT 42::int8 FROM pg_sleep(0.5)";

    /// The connection's own name, carried by PgBouncer across server sessions.
    const SESSION_ID: &'static str = "SELECT hashtext(current_setting('application_name'))::int8";
}
