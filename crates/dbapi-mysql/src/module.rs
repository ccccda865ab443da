//! [`Mysql`]: the DB-API module, holding the server address and session settings.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use dbapi::{
    ConnectParams, Error, Module, ParamStyle, ResetLevel, Result, SslMode as Ssl, ThreadSafety,
};
use mysql::consts::CapabilityFlags;
use mysql::{Conn, OptsBuilder};

use crate::error_mapping::from_mysql;
use crate::MysqlConnection;

/// What `rowcount` counts after an `UPDATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowCount {
    /// Rows the `WHERE` clause matched, whether or not a value changed: what PostgreSQL
    /// and SQLite report, so one SQL text gives one `rowcount` on every backend
    /// (`CLIENT_FOUND_ROWS`, as Django's MySQL backend sets it).
    #[default]
    Found,
    /// Rows whose values actually changed (the MySQL server's own default).
    Changed,
}

/// The MySQL / MariaDB DB-API module.
///
/// ```no_run
/// use dbapi::{Module, ResetLevel};
/// use dbapi_mysql::Mysql;
/// let db = Mysql::from_dsn("mysql://app:secret@127.0.0.1:3306/shop?connect_timeout=5")?
///     .reset_level(ResetLevel::Full);
/// let conn = db.connect()?;
/// # Ok::<(), dbapi::Error>(())
/// ```
#[derive(Clone)]
pub struct Mysql {
    opts: OptsBuilder,
    /// A host list (`mysql://u@h1:3306,h2:3307/db`) is tried in order; empty for one host
    /// (then `opts` has it).
    hosts: Vec<(String, u16)>,
    target: String,
    reset: ResetLevel,
    autocommit: bool,
    read_timeout: Option<Duration>,
    ssl: Ssl,
}

impl fmt::Debug for Mysql {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mysql")
            .field("target", &self.target)
            .field("reset", &self.reset)
            .field("autocommit", &self.autocommit)
            .field("ssl", &self.ssl)
            .finish_non_exhaustive()
    }
}

fn seconds(key: &str, value: &str) -> Result<Duration> {
    value
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| Error::interface(format!("{key}={value:?} is not a whole number of seconds")))
}

impl Mysql {
    /// From a DSN: `mysql://user:password@host:port/dbname?options` (also `mariadb://`), or
    /// with a host list, `mysql://user:password@h1:3306,h2:3307/dbname`, whose hosts are tried
    /// in order (each within the connect timeout) until one accepts the connection.
    /// Options: `connect_timeout` and `read_timeout` (seconds), `unix_socket` (a path; the
    /// host is then ignored), `charset` (`utf8mb4`, the default, or `utf8`), `program_name`
    /// (shown in `performance_schema.session_connect_attrs`), `rowcount` (`found`, the
    /// default, or `changed`: see [`RowCount`]), `sslmode` and `sslrootcert`.
    ///
    /// With the `tls` feature, `sslmode` has libpq's meanings: `disable`; `prefer` (the
    /// default: TLS when the server offers it) and `require` encrypt without checking the
    /// certificate; `verify-ca` checks it against `sslrootcert`; `verify-full` also checks
    /// the host name. Without the feature, `require` and `verify-*` are a NotSupported error.
    ///
    /// # Errors
    /// An Interface error for a malformed DSN, another scheme, or an unknown option.
    pub fn from_dsn(dsn: &str) -> Result<Self> {
        Self::from_params(&ConnectParams::parse(dsn)?)
    }

    /// From parsed [`ConnectParams`], also built from MySQLdb's keyword names (`host`,
    /// `port`, `user`, `passwd`, `db`, `unix_socket`, `connect_timeout`, `charset`) with
    /// [`ConnectParams::from_pairs`]. The host defaults to `localhost` (over TCP), the port
    /// to 3306, the user to `root`.
    ///
    /// # Errors
    /// An Interface error for another scheme or an unknown or invalid option; NotSupported
    /// for `sslmode=require` without TLS support.
    pub fn from_params(params: &ConnectParams) -> Result<Self> {
        if params.scheme() != "mysql" {
            return Err(Error::interface(format!(
                "the MySQL module needs a mysql:// or mariadb:// DSN, got a {}: one",
                params.scheme()
            )));
        }
        let mut opts = OptsBuilder::new()
            .ip_or_hostname(Some(params.host().unwrap_or("localhost")))
            .tcp_port(params.port().unwrap_or(3306))
            .user(Some(params.user().unwrap_or("root")))
            .pass(params.password().map(|p| p.expose().to_owned()))
            .db_name(params.database())
            // Never switch to a Unix socket behind the caller's back: the address given is
            // the address used (and a pool's connect timeout covers it).
            .prefer_socket(false)
            .stmt_cache_size(256_usize)
            .additional_capabilities(CapabilityFlags::CLIENT_FOUND_ROWS);
        let hosts: Vec<(String, u16)> = params
            .hosts()
            .map(|(host, port)| (host.to_owned(), port.unwrap_or(3306)))
            .collect();
        let mut module = Self {
            opts: OptsBuilder::new(),
            hosts: if hosts.len() > 1 { hosts } else { Vec::new() },
            target: params.to_string(),
            reset: ResetLevel::Rollback,
            autocommit: false,
            read_timeout: None,
            ssl: Ssl::Prefer,
        };
        let mut root_cert: Option<std::path::PathBuf> = None;
        for (key, value) in params.options() {
            match key.as_str() {
                "connect_timeout" => {
                    opts = opts.tcp_connect_timeout(Some(seconds(key, value)?));
                }
                "read_timeout" => module.read_timeout = Some(seconds(key, value)?),
                "unix_socket" => opts = opts.socket(Some(value.as_str())),
                "charset" => match value.to_ascii_lowercase().as_str() {
                    "utf8mb4" => {}
                    "utf8" | "utf8mb3" => opts = opts.init(vec!["SET NAMES utf8mb3"]),
                    other => {
                        return Err(Error::interface(format!(
                            "charset={other:?} is not supported: this adapter reads text as UTF-8, so use utf8mb4 (the default) or utf8"
                        )))
                    }
                },
                "program_name" => {
                    opts = opts.connect_attrs(Some(HashMap::from([(
                        "program_name".to_owned(),
                        value.clone(),
                    )])));
                }
                "rowcount" => {
                    let count = match value.as_str() {
                        "found" => RowCount::Found,
                        "changed" => RowCount::Changed,
                        other => {
                            return Err(Error::interface(format!(
                                "rowcount={other:?} is not one of found, changed"
                            )))
                        }
                    };
                    opts = Self::with_rowcount(opts, count);
                }
                "sslmode" => module.ssl = Ssl::parse(value)?,
                "sslrootcert" => root_cert = Some(std::path::PathBuf::from(value)),
                other => {
                    return Err(Error::interface(format!(
                        "unknown mysql DSN option {other:?}; known: connect_timeout, read_timeout, unix_socket, charset, program_name, rowcount, sslmode, sslrootcert"
                    )))
                }
            }
        }
        module.opts = module.ssl_options(opts, root_cert.as_deref())?;
        Ok(module)
    }

    fn with_rowcount(opts: OptsBuilder, count: RowCount) -> OptsBuilder {
        opts.additional_capabilities(match count {
            RowCount::Found => CapabilityFlags::CLIENT_FOUND_ROWS,
            RowCount::Changed => CapabilityFlags::empty(),
        })
    }

    #[cfg(not(feature = "tls"))]
    fn ssl_options(
        &self,
        opts: OptsBuilder,
        _root: Option<&std::path::Path>,
    ) -> Result<OptsBuilder> {
        self.ssl.check_supported_without_tls("dbapi-mysql")?;
        Ok(opts)
    }

    #[cfg(feature = "tls")]
    fn ssl_options(
        &self,
        opts: OptsBuilder,
        root: Option<&std::path::Path>,
    ) -> Result<OptsBuilder> {
        let ssl = mysql::SslOpts::default();
        let ssl = match self.ssl {
            Ssl::Disable => return Ok(opts),
            Ssl::Prefer | Ssl::Require => ssl
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
            Ssl::VerifyCa | Ssl::VerifyFull => {
                let root = root.ok_or_else(|| {
                    Error::interface("sslmode=verify-ca and verify-full need sslrootcert=<path to the CA certificate>")
                })?;
                if !root.exists() {
                    return Err(Error::interface(format!(
                        "sslrootcert {} does not exist",
                        root.display()
                    )));
                }
                ssl.with_root_cert_path(Some(root.to_path_buf()))
                    .with_danger_skip_domain_validation(self.ssl == Ssl::VerifyCa)
            }
        };
        Ok(opts.ssl_opts(Some(ssl)))
    }

    /// What [`dbapi::Connection::reset_session`] does on this module's connections (pools
    /// call it with `Cleanup::Reset`). Default [`ResetLevel::Rollback`]; `Clean` and `Full`
    /// both send `COM_RESET_CONNECTION` (MySQL has no cheaper thorough reset).
    #[must_use]
    pub fn reset_level(mut self, level: ResetLevel) -> Self {
        self.reset = level;
        self
    }

    /// Opens connections with autocommit on: every statement is its own transaction, and
    /// nothing is left to roll back on return. Default off, as the DB-API requires;
    /// `reset_session` restores this setting.
    #[must_use]
    pub fn autocommit(mut self, autocommit: bool) -> Self {
        self.autocommit = autocommit;
        self
    }

    /// What `rowcount` counts after an `UPDATE` (default [`RowCount::Found`]).
    #[must_use]
    pub fn rowcount(mut self, count: RowCount) -> Self {
        self.opts = Self::with_rowcount(self.opts, count);
        self
    }

    /// Sets the `program_name` connection attribute (visible in
    /// `performance_schema.session_connect_attrs`).
    #[must_use]
    pub fn program_name(mut self, name: &str) -> Self {
        self.opts = self
            .opts
            .connect_attrs(Some(HashMap::from([("program_name", name)])));
        self
    }

    /// The underlying `mysql::OptsBuilder`, for settings this module does not expose.
    pub fn opts_mut(&mut self) -> &mut OptsBuilder {
        &mut self.opts
    }

    /// Connects to the module's host, or to the first of its host list that accepts the
    /// connection (each within the connect timeout).
    fn open(&self, timeout: Option<Duration>) -> Result<MysqlConnection> {
        if self.hosts.is_empty() {
            return self.open_at(self.opts.clone(), timeout);
        }
        let mut failures = Vec::new();
        let mut last = None;
        for (host, port) in &self.hosts {
            let opts = self
                .opts
                .clone()
                .ip_or_hostname(Some(host.as_str()))
                .tcp_port(*port);
            match self.open_at(opts, timeout) {
                Ok(conn) => return Ok(conn),
                Err(err) => {
                    failures.push(format!("{host}:{port}: {}", err.message()));
                    last = Some(err);
                }
            }
        }
        let mut err = Error::operational(format!(
            "no server of the host list accepted the connection: {}",
            failures.join("; ")
        ));
        if let Some(last) = last {
            err = err.with_disconnect(last.is_disconnect()).with_source(last);
        }
        Err(err)
    }

    fn open_at(&self, mut opts: OptsBuilder, timeout: Option<Duration>) -> Result<MysqlConnection> {
        if !self.autocommit {
            // Also re-run by COM_RESET_CONNECTION, which puts autocommit back on.
            let mut init = opts_init(&opts);
            init.push("SET autocommit=0".to_owned());
            opts = opts.init(init);
        }
        // The DSN's connect_timeout, or the pool's, whichever is smaller.
        let own = mysql::Opts::from(opts.clone()).get_tcp_connect_timeout();
        let handshake = match (own, timeout) {
            (Some(own), Some(timeout)) => Some(own.min(timeout)),
            (own, timeout) => own.or(timeout),
        };
        if let Some(limit) = handshake {
            // The whole handshake, not only the TCP connect, must finish in time: a server
            // that accepts and never answers would otherwise hold the connecting thread
            // (and a pool's slot) forever. Set back to `read_timeout` once connected.
            opts = opts
                .tcp_connect_timeout(Some(limit))
                .read_timeout(Some(limit))
                .write_timeout(Some(limit));
        } else {
            opts = opts.read_timeout(self.read_timeout);
        }
        let plain = mysql::Opts::from(opts.clone()).get_ssl_opts().is_none();
        let compressed = mysql::Opts::from(opts.clone()).get_compress().is_some();
        let conn = match Conn::new(opts.clone()) {
            #[cfg(feature = "tls")]
            Err(mysql::Error::DriverError(mysql::DriverError::TlsNotSupported))
                if self.ssl == Ssl::Prefer =>
            {
                Conn::new(opts.ssl_opts(None::<mysql::SslOpts>))
            }
            other => other,
        }
        .map_err(|e| self.connect_error(e))?;
        if handshake.is_some() {
            crate::socket::set_timeouts(&conn, self.read_timeout)
                .map_err(|e| Error::operational(format!("cannot set socket timeouts: {e}")))?;
        }
        Ok(MysqlConnection::new(
            conn,
            self.reset,
            self.autocommit,
            plain,
            compressed,
        ))
    }

    fn connect_error(&self, err: mysql::Error) -> Error {
        let err = from_mysql(err);
        let mut wrapped = Error::new(
            err.kind(),
            format!("cannot connect to {}: {}", self.target, err.message()),
        )
        .with_disconnect(err.is_disconnect());
        if let Some(state) = err.sqlstate() {
            wrapped = wrapped.with_sqlstate(state.to_owned());
        }
        if let Some(code) = err.native_code() {
            wrapped = wrapped.with_native_code(code);
        }
        wrapped.with_source(err)
    }
}

fn opts_init(opts: &OptsBuilder) -> Vec<String> {
    mysql::Opts::from(opts.clone()).get_init().to_vec()
}

impl Module for Mysql {
    type Connection = MysqlConnection;
    /// Level 2: `mysql::Conn` is `Send` (pure Rust, no thread-bound client library as
    /// MySQLdb's), so a connection may be used from any thread one call at a time, and a pool
    /// may share it behind a lock. Cursors borrow their connection, so they are not shared.
    const THREADSAFETY: ThreadSafety = ThreadSafety::Connections;
    /// `?`, natively.
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<MysqlConnection> {
        self.open(None)
    }

    /// Bounds the TCP connect and the whole handshake by `timeout` (and by the DSN's
    /// `connect_timeout` for the TCP connect, when smaller).
    fn connect_with_timeout(&self, timeout: Duration) -> Result<MysqlConnection> {
        self.open(Some(timeout))
    }

    fn target(&self) -> String {
        self.target.clone()
    }
}
