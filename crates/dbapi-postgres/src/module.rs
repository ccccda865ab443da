//! [`Postgres`]: the DB-API module, holding the server address and session settings.

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use dbapi::{ConnectParams, Error, Module, ParamStyle, Result, SslMode as Ssl, ThreadSafety};
use tokio_postgres::NoTls;

use crate::hosts::Hosts;
use crate::session::ConnectError;
use crate::{PgConnection, ResetLevel, Session, TargetSessionAttrs};

/// The default for [`Postgres::check_alive_after`].
const DEFAULT_CHECK_ALIVE_AFTER: Duration = Duration::from_secs(1);

/// The PostgreSQL DB-API module.
///
/// ```no_run
/// use dbapi::Module;
/// use dbapi_postgres::{Postgres, ResetLevel};
/// let pg = Postgres::from_dsn("postgres://app:secret@127.0.0.1:5432/shop?connect_timeout=5&application_name=web")?
///     .reset_level(ResetLevel::Full);
/// let conn = pg.connect()?;
/// # Ok::<(), dbapi::Error>(())
/// ```
#[derive(Clone)]
pub struct Postgres {
    /// Everything but the hosts, which are tried one at a time.
    config: tokio_postgres::Config,
    hosts: Hosts,
    target: String,
    settings: Settings,
    /// Set by a connection that finds a transaction pooler in between; shared by clones.
    pooler_seen: Arc<AtomicBool>,
    #[cfg(feature = "tls")]
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// What every connection of a module starts with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) reset: ResetLevel,
    pub(crate) autocommit: bool,
    pub(crate) check_alive_after: Duration,
    /// Run as a transaction pooler (PgBouncer) needs.
    pub(crate) pgbouncer: bool,
}

impl fmt::Debug for Postgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Postgres")
            .field("target", &self.target)
            .field("reset", &self.settings.reset)
            .field("autocommit", &self.settings.autocommit)
            .field("pgbouncer", &self.settings.pgbouncer)
            .field("target_session_attrs", &self.hosts.attrs)
            .field("tls", &cfg!(feature = "tls"))
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// From a DSN: `postgres://user:password@host:port/dbname?options`, or with libpq's host
    /// list `postgres://user:password@h1:p1,h2:p2/dbname?…`. Options: `connect_timeout`
    /// (seconds, per host), `application_name`, `options` (server `-c` settings),
    /// `target_session_attrs` (see [`TargetSessionAttrs`]), `load_balance_hosts`
    /// (`disable`, the default: hosts in order; `random`), `pgbouncer` (`true`/`false`, see
    /// [`Postgres::pgbouncer`]), `sslmode` and `sslrootcert`. With the `tls` feature, `sslmode` has libpq's meanings:
    /// `disable`; `prefer` (the default) and `require` encrypt without checking the
    /// certificate; `verify-ca` checks it against `sslrootcert`; `verify-full` also checks the
    /// host name. Without the feature, `require` and `verify-*` are a NotSupported error.
    ///
    /// # Errors
    /// An Interface error for a malformed DSN, another scheme, or an unknown option.
    pub fn from_dsn(dsn: &str) -> Result<Self> {
        Self::from_params(&ConnectParams::parse(dsn)?)
    }

    /// From parsed [`ConnectParams`] (see [`Postgres::from_dsn`]). The host defaults to
    /// `localhost`, the port to 5432, the user to `postgres`.
    ///
    /// # Errors
    /// An Interface error for another scheme or an unknown or invalid option; NotSupported
    /// for `sslmode=require` without TLS support.
    pub fn from_params(params: &ConnectParams) -> Result<Self> {
        if params.scheme() != "postgres" {
            return Err(Error::interface(format!(
                "the PostgreSQL module needs a postgres:// DSN, got a {}: one",
                params.scheme()
            )));
        }
        let mut config = tokio_postgres::Config::new();
        let mut ssl = Ssl::Prefer;
        let mut root_cert: Option<std::path::PathBuf> = None;
        let mut pgbouncer = false;
        let mut hosts = Hosts {
            list: params
                .hosts()
                .map(|(host, port)| (host.to_owned(), port.unwrap_or(5432)))
                .collect(),
            attrs: TargetSessionAttrs::Any,
            random: false,
        };
        if hosts.list.is_empty() {
            hosts
                .list
                .push(("localhost".to_owned(), params.port().unwrap_or(5432)));
        }
        config.user(params.user().unwrap_or("postgres"));
        if let Some(password) = params.password() {
            config.password(password.expose());
        }
        if let Some(dbname) = params.database() {
            config.dbname(dbname);
        }
        for (key, value) in params.options() {
            match key.as_str() {
                "connect_timeout" => {
                    let secs: u64 = value.parse().map_err(|_| {
                        Error::interface(format!(
                            "connect_timeout={value:?} is not a whole number of seconds"
                        ))
                    })?;
                    config.connect_timeout(Duration::from_secs(secs));
                }
                "application_name" => {
                    config.application_name(value);
                }
                "options" => {
                    config.options(value);
                }
                "sslmode" => ssl = Ssl::parse(value)?,
                "target_session_attrs" => hosts.attrs = TargetSessionAttrs::parse(value)?,
                "load_balance_hosts" => {
                    hosts.random = match value.as_str() {
                        "disable" => false,
                        "random" => true,
                        other => {
                            return Err(Error::interface(format!(
                                "load_balance_hosts={other:?}: expected disable or random"
                            )))
                        }
                    }
                }
                "pgbouncer" => {
                    pgbouncer = match value.as_str() {
                        "true" | "1" | "yes" | "on" => true,
                        "false" | "0" | "no" | "off" => false,
                        other => {
                            return Err(Error::interface(format!(
                                "pgbouncer={other:?}: expected true or false"
                            )))
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(std::path::PathBuf::from(value)),
                other => {
                    return Err(Error::interface(format!(
                        "unknown postgres DSN option {other:?}; known: connect_timeout, application_name, options, target_session_attrs, load_balance_hosts, pgbouncer, sslmode, sslrootcert"
                    )))
                }
            }
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = root_cert;
            ssl.check_supported_without_tls("dbapi-postgres")?;
        }
        config.ssl_mode(match ssl {
            Ssl::Disable => tokio_postgres::config::SslMode::Disable,
            Ssl::Prefer => tokio_postgres::config::SslMode::Prefer,
            Ssl::Require | Ssl::VerifyCa | Ssl::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
        Ok(Self {
            config,
            hosts,
            target: params.to_string(),
            settings: Settings {
                reset: ResetLevel::Rollback,
                autocommit: false,
                check_alive_after: DEFAULT_CHECK_ALIVE_AFTER,
                pgbouncer,
            },
            pooler_seen: Arc::new(AtomicBool::new(false)),
            #[cfg(feature = "tls")]
            tls: Self::tls_connector(ssl, root_cert.as_deref())?,
        })
    }

    #[cfg(feature = "tls")]
    fn tls_connector(
        ssl: Ssl,
        root_cert: Option<&std::path::Path>,
    ) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>> {
        use crate::tls::{connector, Verify};
        let verify = match ssl {
            Ssl::Disable => return Ok(None),
            Ssl::Prefer | Ssl::Require => Verify::Nothing,
            Ssl::VerifyCa => Verify::Chain,
            Ssl::VerifyFull => Verify::Full,
        };
        connector(verify, root_cert).map(Some)
    }

    /// What [`dbapi::Connection::reset_session`] does on this module's connections (pools
    /// call it with `Cleanup::Reset`). Default [`ResetLevel::Rollback`].
    #[must_use]
    pub fn reset_level(mut self, level: ResetLevel) -> Self {
        self.settings.reset = level;
        self
    }

    /// How long a connection must sit unused before [`dbapi::Connection::check_alive`] looks for
    /// the server's goodbye on its socket. The look does not wait, but it turns the
    /// session's I/O once (a system call), so a connection in steady use is not looked at
    /// more than once per this interval; a connection used within it is checked only for
    /// what the client already knows.
    /// Default 1 s; `Duration::ZERO` looks every time.
    #[must_use]
    pub fn check_alive_after(mut self, idle: Duration) -> Self {
        self.settings.check_alive_after = idle;
        self
    }

    /// Opens connections with autocommit on: every statement is its own transaction, with
    /// no `BEGIN` round trip and nothing to roll back on return. Default off, as the DB-API
    /// requires; `reset_session` restores this setting.
    #[must_use]
    pub fn autocommit(mut self, autocommit: bool) -> Self {
        self.settings.autocommit = autocommit;
        self
    }

    /// Runs behind a transaction pooler — PgBouncer with `pool_mode = transaction`, or
    /// anything that may hand each transaction a different server session (the DSN's
    /// `pgbouncer=true` says the same). Nothing is kept on the server past a transaction:
    ///
    /// - no prepared statement is cached: inside a transaction a statement is prepared,
    ///   run and closed before the transaction ends; outside one (autocommit) it goes as a
    ///   single unnamed statement (parse, bind, execute in one round trip), whose empty
    ///   result has no column description (the server's description of an unnamed
    ///   statement is not passed on by `tokio-postgres`);
    /// - `reset_session` only rolls back, whatever [`Postgres::reset_level`] says:
    ///   `DISCARD ALL` per checkout is wrong there, as it would run on whichever server
    ///   session the pooler picks for it — not the one the last user had, which has already
    ///   gone back to the pooler's own pool — and so resets nothing of ours while costing a
    ///   round trip (PgBouncer itself resets sessions only in session mode);
    /// - session state does not last: `SET` (use `SET LOCAL` inside a transaction),
    ///   `LISTEN`, advisory locks and temporary tables belong to one transaction at most.
    ///
    /// Without it, a connection that finds a cached statement gone from the server (SQLSTATE
    /// 26000: the pooler switched sessions under it) switches itself and its module's later
    /// connections to this mode; the statement that found out fails inside a transaction
    /// (the transaction is lost) and is rerun at once outside one. Default off.
    #[must_use]
    pub fn pgbouncer(mut self, on: bool) -> Self {
        self.settings.pgbouncer = on;
        self
    }

    /// Sets `application_name` (shown in `pg_stat_activity`).
    #[must_use]
    pub fn application_name(mut self, name: &str) -> Self {
        self.config.application_name(name);
        self
    }

    /// The underlying `tokio_postgres::Config`, for settings this module does not expose.
    pub fn config_mut(&mut self) -> &mut tokio_postgres::Config {
        &mut self.config
    }

    /// Connects to the first host (in the order [`Hosts::order`] gives) whose session is of
    /// the kind `target_session_attrs` asks for; for one host, exactly that host's outcome.
    fn open(&self, base: &tokio_postgres::Config) -> Result<PgConnection> {
        let order = self.hosts.order();
        let mut failures: Vec<String> = Vec::new();
        let mut last: Option<Error> = None;
        for &pass in self.hosts.attrs.passes() {
            for (host, port) in &order {
                let mut config = base.clone();
                config.host(host).port(*port);
                let mut conn = match self.open_one(&config) {
                    Ok(conn) => conn,
                    Err(err) if order.len() == 1 => return Err(err),
                    Err(err) => {
                        failures.push(format!("{host}:{port}: {}", err.message()));
                        last = Some(err);
                        continue;
                    }
                };
                match pass.mismatch(&mut conn) {
                    Ok(None) => return Ok(conn),
                    Ok(Some(instead)) => {
                        failures.push(format!("{host}:{port}: {instead}"));
                    }
                    Err(err) => {
                        failures.push(format!("{host}:{port}: {}", err.message()));
                        last = Some(err);
                    }
                }
                let _ = dbapi::Connection::close(&mut conn);
            }
        }
        let mut err = Error::operational(format!(
            "no server of {} gave a session for target_session_attrs={}: {}",
            self.hosts.describe(),
            self.hosts.attrs,
            failures.join("; ")
        ));
        if let Some(last) = last {
            err = err.with_disconnect(last.is_disconnect()).with_source(last);
        }
        Err(err)
    }

    /// Connects to the one host of `config`; its `connect_timeout` bounds the whole connect
    /// (TCP, TLS and startup), as libpq's does.
    fn open_one(&self, config: &tokio_postgres::Config) -> Result<PgConnection> {
        let timeout = config.get_connect_timeout().copied();
        #[cfg(feature = "tls")]
        let connected = match &self.tls {
            Some(tls) => Session::connect(config, tls.clone(), timeout),
            None => Session::connect(config, NoTls, timeout),
        };
        #[cfg(not(feature = "tls"))]
        let connected = Session::connect(config, NoTls, timeout);
        let session = connected.map_err(|failure| {
            let err = match failure {
                ConnectError::Postgres(e) => crate::from_postgres(e),
                ConnectError::TimedOut(limit) => Error::operational(format!(
                    "no session within connect_timeout ({limit:?}): the server did not finish \
                     the connection (TCP, TLS and authentication) in time; check that it is up \
                     and not overloaded, or raise connect_timeout"
                ))
                .with_disconnect(true),
                ConnectError::Socket(e) => {
                    Error::operational(format!("error connecting to server: {e}"))
                        .with_disconnect(true)
                        .with_source(e)
                }
                ConnectError::Tls(e) => {
                    Error::operational(format!("error setting up TLS for the server: {e}"))
                }
                ConnectError::Runtime(e) => {
                    Error::operational(format!("cannot start the connection's I/O runtime: {e}"))
                }
            };
            let mut wrapped = Error::new(
                err.kind(),
                format!("cannot connect to {}: {}", self.target, err.message()),
            )
            .with_disconnect(err.is_disconnect());
            if let Some(state) = err.sqlstate() {
                wrapped = wrapped.with_sqlstate(state.to_owned());
            }
            wrapped.with_source(err)
        })?;
        Ok(PgConnection::new(
            session,
            &self.settings,
            Arc::clone(&self.pooler_seen),
        ))
    }
}

impl Module for Postgres {
    type Connection = PgConnection;
    /// Level 2, as psycopg2: a [`Session`] is `Send`, so a connection may be used from
    /// any thread one call at a time, and a pool may share it behind a lock. Cursors borrow
    /// their connection, so they are not shared (not 3).
    const THREADSAFETY: ThreadSafety = ThreadSafety::Connections;
    /// `$1`, `$2`, … natively; `?` is accepted too (numbered before the statement is
    /// prepared). Named parameters are rejected with NotSupported.
    const PARAMSTYLE: ParamStyle = ParamStyle::Dollar;

    fn connect(&self) -> Result<PgConnection> {
        self.open(&self.config)
    }

    /// Uses the smaller of `timeout` and the DSN's `connect_timeout` for the TCP connect.
    fn connect_with_timeout(&self, timeout: Duration) -> Result<PgConnection> {
        let mut config = self.config.clone();
        let effective = config
            .get_connect_timeout()
            .map_or(timeout, |own| (*own).min(timeout));
        config.connect_timeout(effective);
        self.open(&config)
    }

    fn target(&self) -> String {
        self.target.clone()
    }
}
