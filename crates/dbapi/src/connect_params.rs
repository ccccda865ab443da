//! Connection parameters from a URL/DSN or an eventlet-style key/value map.

use std::collections::BTreeMap;
use std::fmt;

use crate::{Error, Result, Secret};

/// Where and how to connect: parsed from a DSN (`postgres://user:pw@host:5432/db`) or from
/// eventlet-style keyword arguments (`host`, `port`, `user`, `passwd`, `db`).
///
/// The password is a [`Secret`]: `Debug` and `Display` print it as `***`, and parse errors
/// never quote it.
///
/// ```
/// use dbapi::ConnectParams;
/// let p = ConnectParams::parse("postgres://app:s3cret@[::1]:5433/shop?connect_timeout=5")?;
/// assert_eq!(p.host(), Some("::1"));
/// assert_eq!(p.port(), Some(5433));
/// assert_eq!(p.database(), Some("shop"));
/// assert_eq!(p.option("connect_timeout"), Some("5"));
/// assert_eq!(p.to_string(), "postgres://app:***@[::1]:5433/shop?connect_timeout=5");
/// # Ok::<(), dbapi::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ConnectParams {
    scheme: String,
    host: Option<String>,
    port: Option<u16>,
    /// The hosts after the first, in a libpq host list (`h1:p1,h2:p2`).
    more_hosts: Vec<(String, Option<u16>)>,
    user: Option<String>,
    password: Option<Secret>,
    database: Option<String>,
    options: BTreeMap<String, String>,
    odbc: Option<Secret>,
}

fn dsn_error(what: impl fmt::Display) -> Error {
    Error::interface(format!("malformed DSN: {what}"))
}

fn percent_decode(text: &str, part: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    dsn_error(format!(
                        "bad percent-encoding in the {part}: '%' must be followed by two hex digits"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        dsn_error(format!(
            "the {part} is not valid UTF-8 after percent-decoding"
        ))
    })
}

fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_port(text: &str) -> Result<u16> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(dsn_error(format!(
            "invalid port {text:?}: expected a number from 1 to 65535"
        ))),
    }
}

fn is_password_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "password" | "passwd" | "pwd"
    )
}

impl ConnectParams {
    /// Parses a DSN:
    /// - `sqlite::memory:`, `sqlite:///abs/path.db`, `sqlite://relative.db`, `sqlite:file.db`
    /// - `postgres://user:pass@host:5432/db?key=value` (also `postgresql://`)
    /// - `mysql://…` (also `mariadb://`)
    /// - `odbc:` followed by a raw ODBC connection string (`odbc:Driver={SQLite3};Database=x.db`)
    ///
    /// Percent-encoded user names, passwords, database names and option values are decoded;
    /// IPv6 hosts are written in brackets; unknown query keys are kept for the driver.
    ///
    /// # Errors
    /// An Interface error naming the malformed part (never quoting the password).
    pub fn parse(dsn: &str) -> Result<Self> {
        let (scheme, rest) = dsn.split_once(':').ok_or_else(|| {
            dsn_error(
                "no scheme; write it as a URL such as postgres://user@host/db or sqlite::memory:",
            )
        })?;
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
        {
            return Err(dsn_error(
                "the scheme before ':' must be a name such as postgres, mysql, sqlite or odbc",
            ));
        }
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "postgresql" | "pgsql" => "postgres".to_owned(),
            "mariadb" => "mysql".to_owned(),
            "sqlite3" => "sqlite".to_owned(),
            other => other.to_owned(),
        };
        match scheme.as_str() {
            "odbc" => Self::parse_odbc(rest),
            "sqlite" => Self::parse_sqlite(rest),
            _ => Self::parse_url(scheme, rest),
        }
    }

    fn parse_odbc(rest: &str) -> Result<Self> {
        let raw = rest.strip_prefix("//").unwrap_or(rest);
        if raw.trim().is_empty() {
            return Err(dsn_error(
                "odbc: needs a connection string, e.g. odbc:Driver={SQLite3};Database=app.db",
            ));
        }
        let mut params = Self {
            scheme: "odbc".to_owned(),
            odbc: Some(Secret::new(raw)),
            ..Self::default()
        };
        for pair in raw.split(';').filter(|p| !p.trim().is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(dsn_error(
                    "an ODBC connection string is a list of key=value pairs separated by ';'",
                ));
            };
            let key = key.trim();
            let value = value.trim().trim_start_matches('{').trim_end_matches('}');
            params.set(key, value)?;
        }
        Ok(params)
    }

    fn parse_sqlite(rest: &str) -> Result<Self> {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = match path {
            ":memory:" | "//:memory:" => ":memory:".to_owned(),
            p => {
                let p = p.strip_prefix("//").unwrap_or(p);
                percent_decode(p, "database path")?
            }
        };
        if path.is_empty() {
            return Err(dsn_error(
                "sqlite: needs a path (sqlite:///abs/path.db, sqlite://relative.db) or :memory:",
            ));
        }
        let mut params = Self {
            scheme: "sqlite".to_owned(),
            database: Some(path),
            ..Self::default()
        };
        params.parse_query(query)?;
        Ok(params)
    }

    fn parse_url(scheme: String, rest: &str) -> Result<Self> {
        let rest = rest.strip_prefix("//").ok_or_else(|| {
            dsn_error(format!(
                "expected '//' after '{scheme}:', as in {scheme}://user@host:port/database"
            ))
        })?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], &before_query[i + 1..]),
            None => (before_query, ""),
        };
        let mut params = Self {
            scheme,
            ..Self::default()
        };
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !user.is_empty() {
                    params.user = Some(percent_decode(user, "user name")?);
                }
                if let Some(p) = password {
                    params.password = Some(Secret::new(percent_decode(p, "password")?));
                }
                hostport
            }
            None => authority,
        };
        // libpq's host list: `h1:p1,h2:p2` (the first is `host()`/`port()`).
        for (i, part) in hostport.split(',').enumerate() {
            let (host, port) = parse_host_port(part)?;
            if i == 0 {
                params.host = host;
                params.port = port;
            } else {
                let host = host.ok_or_else(|| {
                    dsn_error(format!("an empty host in the host list {hostport:?}"))
                })?;
                params.more_hosts.push((host, port));
            }
        }
        if !path.is_empty() {
            params.database = Some(percent_decode(path, "database name")?);
        }
        params.parse_query(query)?;
        Ok(params)
    }

    fn parse_query(&mut self, query: &str) -> Result<()> {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key, "option name")?;
            let part = if is_password_key(&key) {
                "password".to_owned()
            } else {
                format!("value of option {key:?}")
            };
            let value = percent_decode(value, &part)?;
            self.set(&key, &value)?;
        }
        Ok(())
    }

    /// Builds parameters from eventlet-style keyword arguments, for `scheme` (`"postgres"`,
    /// `"mysql"`, ...): `host`, `port`, `user`, `passwd`/`password`, `db`/`dbname`/`database`;
    /// other keys are kept as driver options.
    ///
    /// ```
    /// use dbapi::ConnectParams;
    /// let p = ConnectParams::from_pairs("mysql", [("host", "localhost"), ("user", "root"), ("passwd", "")])?;
    /// assert_eq!(p.user(), Some("root"));
    /// # Ok::<(), dbapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// An Interface error for a bad port.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        scheme: &str,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self> {
        let mut params = Self {
            scheme: scheme.to_ascii_lowercase(),
            ..Self::default()
        };
        for (key, value) in pairs {
            params.set(key.as_ref(), value.as_ref())?;
        }
        Ok(params)
    }

    /// Sets one parameter by its eventlet/libpq/ODBC name; unknown keys become options.
    ///
    /// # Errors
    /// An Interface error for a bad port.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key.to_ascii_lowercase().as_str() {
            "host" | "server" | "hostname" => self.host = Some(value.to_owned()),
            "port" => self.port = Some(parse_port(value)?),
            "user" | "username" | "uid" => self.user = Some(value.to_owned()),
            k if is_password_key(k) => self.password = Some(Secret::new(value)),
            "db" | "dbname" | "database" => self.database = Some(value.to_owned()),
            _ => {
                self.options.insert(key.to_owned(), value.to_owned());
            }
        }
        Ok(())
    }

    /// The normalised scheme: `sqlite`, `postgres`, `mysql`, `odbc`, or what was given.
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
    /// The host name or IP address (IPv6 without brackets).
    #[must_use]
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
    /// The port.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// Every host of a libpq-style host list (`postgres://h1:5432,h2:5433/db`), in order,
    /// each with its port if one was written; one entry for a single host, none when the
    /// DSN names no host.
    ///
    /// ```
    /// use dbapi::ConnectParams;
    /// let p = ConnectParams::parse("postgres://u@primary:5432,[::1],replica:5433/db")?;
    /// let hosts: Vec<_> = p.hosts().collect();
    /// assert_eq!(hosts, [("primary", Some(5432)), ("::1", None), ("replica", Some(5433))]);
    /// assert_eq!(p.to_string(), "postgres://u@primary:5432,[::1],replica:5433/db");
    /// # Ok::<(), dbapi::Error>(())
    /// ```
    pub fn hosts(&self) -> impl Iterator<Item = (&str, Option<u16>)> {
        self.host
            .as_deref()
            .map(|host| (host, self.port))
            .into_iter()
            .chain(self.more_hosts.iter().map(|(h, p)| (h.as_str(), *p)))
    }
    /// The user name.
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
    /// The password, as a [`Secret`].
    #[must_use]
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }
    /// The database name, or for SQLite the file path (`:memory:` for an in-memory database).
    #[must_use]
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }
    /// A driver option (a query parameter or unknown key).
    #[must_use]
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }
    /// Every driver option, sorted by key.
    #[must_use]
    pub fn options(&self) -> &BTreeMap<String, String> {
        &self.options
    }
    /// For `odbc:` DSNs, the raw connection string (a [`Secret`]: it may contain `PWD=`).
    #[must_use]
    pub fn odbc_connection_string(&self) -> Option<&Secret> {
        self.odbc.as_ref()
    }
    /// Sets the host.
    #[must_use]
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }
    /// Sets the database name.
    #[must_use]
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }
}

impl fmt::Display for ConnectParams {
    /// The DSN with the password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scheme == "odbc" {
            f.write_str("odbc:")?;
            let mut first = true;
            for (key, value) in self
                .host
                .iter()
                .map(|h| ("Server", h.as_str()))
                .chain(self.port_text().as_deref().map(|p| ("Port", p)))
                .chain(self.user.iter().map(|u| ("UID", u.as_str())))
                .chain(self.password.iter().map(|_| ("PWD", "***")))
                .chain(self.database.iter().map(|d| ("Database", d.as_str())))
                .chain(self.options.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            {
                if !first {
                    f.write_str(";")?;
                }
                first = false;
                write!(f, "{key}={value}")?;
            }
            return Ok(());
        }
        if self.scheme == "sqlite" {
            match self.database.as_deref() {
                Some(":memory:") | None => f.write_str("sqlite::memory:")?,
                Some(path) => write!(f, "sqlite://{}", percent_encode(path, b"/"))?,
            }
        } else {
            write!(f, "{}://", self.scheme)?;
            if let Some(user) = &self.user {
                f.write_str(&percent_encode(user, b""))?;
                if self.password.is_some() {
                    f.write_str(":***")?;
                }
                f.write_str("@")?;
            } else if self.password.is_some() {
                f.write_str(":***@")?;
            }
            match self.host.as_deref() {
                Some(h) => write_host(f, h, self.port)?,
                None => {
                    if let Some(port) = self.port {
                        write!(f, ":{port}")?;
                    }
                }
            }
            for (host, port) in &self.more_hosts {
                f.write_str(",")?;
                write_host(f, host, *port)?;
            }
            if let Some(db) = &self.database {
                write!(f, "/{}", percent_encode(db, b""))?;
            }
        }
        let mut sep = '?';
        for (key, value) in &self.options {
            write!(
                f,
                "{sep}{}={}",
                percent_encode(key, b""),
                percent_encode(value, b"")
            )?;
            sep = '&';
        }
        Ok(())
    }
}

/// One `host[:port]` of the authority (an IPv6 address in brackets).
fn parse_host_port(hostport: &str) -> Result<(Option<String>, Option<u16>)> {
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| dsn_error("an IPv6 host opened with '[' has no closing ']'"))?;
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.' || b == b'%')
        {
            return Err(dsn_error(format!("invalid IPv6 host [{host}]")));
        }
        let port = if let Some(port) = after.strip_prefix(':') {
            Some(parse_port(port)?)
        } else if after.is_empty() {
            None
        } else {
            return Err(dsn_error(format!(
                "unexpected {after:?} after the IPv6 host; write [addr]:port"
            )));
        };
        return Ok((Some(host.to_owned()), port));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    };
    if host.contains(':') {
        return Err(dsn_error(
            "an IPv6 host must be written in brackets: [::1]:5432",
        ));
    }
    let host = if host.is_empty() {
        None
    } else {
        Some(percent_decode(host, "host")?)
    };
    Ok((host, port.map(parse_port).transpose()?))
}

fn write_host(f: &mut fmt::Formatter<'_>, host: &str, port: Option<u16>) -> fmt::Result {
    if host.contains(':') {
        write!(f, "[{host}]")?;
    } else {
        f.write_str(&percent_encode(host, b""))?;
    }
    match port {
        Some(port) => write!(f, ":{port}"),
        None => Ok(()),
    }
}

impl ConnectParams {
    fn port_text(&self) -> Option<String> {
        self.port.map(|p| p.to_string())
    }
}

impl fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectParams")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("more_hosts", &self.more_hosts)
            .field("user", &self.user)
            .field("password", &self.password)
            .field("database", &self.database)
            .field("options", &self.options)
            .field("odbc", &self.odbc)
            .finish()
    }
}
