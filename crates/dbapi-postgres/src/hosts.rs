//! libpq's host lists: `postgres://h1:p1,h2:p2/db?target_session_attrs=…`, hosts tried in
//! order (or shuffled with `load_balance_hosts=random`), each within `connect_timeout`, until
//! one gives a session of the kind asked for — libpq's failover, with its words and meanings.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use dbapi::{Error, Result};
use tokio_postgres::SimpleQueryMessage;

use crate::PgConnection;

/// What kind of session a connection must get (libpq's `target_session_attrs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetSessionAttrs {
    /// Any server that accepts the connection (the default).
    #[default]
    Any,
    /// A session that may write: not a standby, `default_transaction_read_only` off.
    ReadWrite,
    /// A session that may not write: a standby, or `default_transaction_read_only` on.
    ReadOnly,
    /// A server that is not in recovery (the primary).
    Primary,
    /// A server in recovery (a streaming replica).
    Standby,
    /// A standby if any host has one, otherwise any server.
    PreferStandby,
}

impl TargetSessionAttrs {
    /// From libpq's spelling (`any`, `read-write`, `read-only`, `primary`, `standby`,
    /// `prefer-standby`).
    ///
    /// # Errors
    /// An Interface error naming the accepted values.
    pub fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "any" => Self::Any,
            "read-write" => Self::ReadWrite,
            "read-only" => Self::ReadOnly,
            "primary" => Self::Primary,
            "standby" => Self::Standby,
            "prefer-standby" => Self::PreferStandby,
            other => {
                return Err(Error::interface(format!(
                    "target_session_attrs={other:?}: expected any, read-write, read-only, \
                     primary, standby or prefer-standby"
                )))
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::ReadWrite => "read-write",
            Self::ReadOnly => "read-only",
            Self::Primary => "primary",
            Self::Standby => "standby",
            Self::PreferStandby => "prefer-standby",
        }
    }

    /// The passes over the host list: `prefer-standby` first looks for a standby, then takes
    /// any server.
    pub(crate) fn passes(self) -> &'static [Self] {
        match self {
            Self::PreferStandby => &[Self::Standby, Self::Any],
            Self::Any => &[Self::Any],
            Self::ReadWrite => &[Self::ReadWrite],
            Self::ReadOnly => &[Self::ReadOnly],
            Self::Primary => &[Self::Primary],
            Self::Standby => &[Self::Standby],
        }
    }

    /// Whether `conn`'s session is of this kind: `None` when it is, else what it is instead.
    pub(crate) fn mismatch(self, conn: &mut PgConnection) -> Result<Option<&'static str>> {
        let wanted = match self {
            Self::Any | Self::PreferStandby => return Ok(None),
            Self::ReadWrite => ("SHOW transaction_read_only", "off", "read-only"),
            Self::ReadOnly => ("SHOW transaction_read_only", "on", "read-write"),
            Self::Primary => ("SELECT pg_is_in_recovery()", "f", "a standby"),
            Self::Standby => ("SELECT pg_is_in_recovery()", "t", "a primary"),
        };
        let (sql, expected, otherwise) = wanted;
        let answer = first_value(conn, sql)?;
        Ok((answer != expected).then_some(otherwise))
    }
}

impl fmt::Display for TargetSessionAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first column of the first row of a simple query (no statement is prepared, so this
/// works through any pooler).
fn first_value(conn: &mut PgConnection, sql: &str) -> Result<String> {
    let session = conn.session_mut()?;
    let messages = session.runtime().block_on(session.simple_query(sql))?;
    messages
        .iter()
        .find_map(|message| match message {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .ok_or_else(|| Error::operational(format!("{sql} returned no row")))
}

/// The hosts of a module, and how to pick among them.
#[derive(Debug, Clone)]
pub(crate) struct Hosts {
    pub(crate) list: Vec<(String, u16)>,
    pub(crate) attrs: TargetSessionAttrs,
    /// `load_balance_hosts=random`: each connect tries the hosts in a random order.
    pub(crate) random: bool,
}

impl Hosts {
    /// The order to try the hosts in for one connect.
    pub(crate) fn order(&self) -> Vec<&(String, u16)> {
        let mut order: Vec<&(String, u16)> = self.list.iter().collect();
        if self.random && order.len() > 1 {
            // A Fisher–Yates shuffle seeded from the clock: spreading load needs no more.
            let mut seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
            for i in (1..order.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let j = (seed % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
        }
        order
    }

    /// `h1:p1,h2:p2`, for messages.
    pub(crate) fn describe(&self) -> String {
        self.list
            .iter()
            .map(|(host, port)| format!("{host}:{port}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// How far the session's server is behind its primary: zero on a primary, and on a standby
/// that has replayed everything it received; otherwise the time since the last transaction
/// it replayed (`pg_last_xact_replay_timestamp()`). A lag probe for `dbpool_core::Router`.
/// Runs one simple query (nothing prepared, so it works through PgBouncer too).
///
/// # Errors
/// The server's error, or a lost connection.
pub fn replica_lag(conn: &mut PgConnection) -> Result<std::time::Duration> {
    let seconds = first_value(
        conn,
        "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 \
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
         ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END",
    )?;
    let seconds: f64 = seconds
        .parse()
        .map_err(|_| Error::data(format!("replication lag {seconds:?} is not a number")))?;
    Ok(std::time::Duration::from_secs_f64(seconds.max(0.0)))
}
