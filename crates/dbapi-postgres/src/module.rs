//! [`Postgres`]: the DB-API module, holding the server address and session settings.

use std::fmt;
use std::time::Duration;

use dbapi::{ConnectParams, Error, Module, ParamStyle, Result, ThreadSafety};
use postgres::config::SslMode;
use postgres::NoTls;

use crate::error_mapping::from_postgres;
use crate::{PgConnection, ResetLevel};

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
    config: postgres::Config,
    target: String,
    reset: ResetLevel,
    autocommit: bool,
}

impl fmt::Debug for Postgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Postgres")
            .field("target", &self.target)
            .field("reset", &self.reset)
            .field("autocommit", &self.autocommit)
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// From a DSN: `postgres://user:password@host:port/dbname?options`. Options:
    /// `connect_timeout` (seconds), `application_name`, `sslmode` (`disable`, `prefer`;
    /// `require` needs TLS, which this build does not include), `options` (server `-c`
    /// settings).
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
        let mut config = postgres::Config::new();
        config
            .host(params.host().unwrap_or("localhost"))
            .port(params.port().unwrap_or(5432))
            .user(params.user().unwrap_or("postgres"));
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
                "sslmode" => {
                    let mode = match value.as_str() {
                        "disable" => SslMode::Disable,
                        "allow" | "prefer" => SslMode::Prefer,
                        "require" | "verify-ca" | "verify-full" => {
                            return Err(Error::not_supported(format!(
                                "sslmode={value} needs TLS, which this build of dbapi-postgres does not include; use sslmode=disable or prefer, or a TLS-terminating proxy"
                            )))
                        }
                        other => {
                            return Err(Error::interface(format!(
                                "sslmode={other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                            )))
                        }
                    };
                    config.ssl_mode(mode);
                }
                other => {
                    return Err(Error::interface(format!(
                        "unknown postgres DSN option {other:?}; known: connect_timeout, application_name, sslmode, options"
                    )))
                }
            }
        }
        Ok(Self {
            config,
            target: params.to_string(),
            reset: ResetLevel::Rollback,
            autocommit: false,
        })
    }

    /// What [`dbapi::Connection::reset_session`] does on this module's connections (pools
    /// call it with `Cleanup::Reset`). Default [`ResetLevel::Rollback`].
    #[must_use]
    pub fn reset_level(mut self, level: ResetLevel) -> Self {
        self.reset = level;
        self
    }

    /// Opens connections with autocommit on: every statement is its own transaction, with
    /// no `BEGIN` round trip and nothing to roll back on return. Default off, as the DB-API
    /// requires; `reset_session` restores this setting.
    #[must_use]
    pub fn autocommit(mut self, autocommit: bool) -> Self {
        self.autocommit = autocommit;
        self
    }

    /// Sets `application_name` (shown in `pg_stat_activity`).
    #[must_use]
    pub fn application_name(mut self, name: &str) -> Self {
        self.config.application_name(name);
        self
    }

    /// The underlying `postgres::Config`, for settings this module does not expose.
    pub fn config_mut(&mut self) -> &mut postgres::Config {
        &mut self.config
    }

    fn open(&self, config: &postgres::Config) -> Result<PgConnection> {
        let client = config.connect(NoTls).map_err(|e| {
            let err = from_postgres(e);
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
        Ok(PgConnection::new(client, self.reset, self.autocommit))
    }
}

impl Module for Postgres {
    type Connection = PgConnection;
    /// `postgres::Client` is `Send` but needs `&mut` for queries: connections move between
    /// threads (pools do that) but are not shared.
    const THREADSAFETY: ThreadSafety = ThreadSafety::Module;
    /// `$1`, `$2`, … natively. Named parameters are rejected with NotSupported.
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
