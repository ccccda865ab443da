//! The server a soak runs against, and how the fault injector disturbs it.

use dbapi::{params, Connection, Cursor, Module};

/// What the soak needs from a server: a role of its own whose connections it can count,
/// end, freeze and limit, and the table of committed ids.
pub trait SoakServer {
    /// The adapter's module.
    type Module: Module;
    /// The server's name in the report.
    const NAME: &'static str;
    /// Whether one session can be frozen alone (a process per session).
    const CAN_FREEZE: bool;
    /// Creates the soak's role and table (both fresh) and returns the role's module.
    fn prepare(&mut self) -> Self::Module;
    /// The soak's sessions the server lists now, leaving out those being ended.
    fn sessions(&mut self, ending: &[i64]) -> i64;
    /// The soak's sessions by server id.
    fn backends(&mut self) -> Vec<i64>;
    /// Ends one session (without waiting for it to go).
    fn terminate(&mut self, id: i64);
    /// Restarts the server; returns once it accepts connections.
    fn restart(&mut self);
    /// Freezes (`true`) or thaws one session's server process; false where the server
    /// cannot (sessions are threads, not processes).
    fn freeze(&mut self, id: i64, frozen: bool) -> bool;
    /// Limits the soak role's connections (`None`: no limit).
    fn limit(&mut self, connections: Option<u32>);
    /// Every id in the soak's table.
    fn committed_ids(&mut self) -> Vec<i64>;
}

/// A throwaway password for a throwaway role on loopback, never printed.
pub fn throwaway_password() -> String {
    format!(
        "soak{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}

/// `id, id, …` for an SQL `IN` list.
pub fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// An administrator connection that reopens itself after a restart ended it, and runs each
/// statement once more on a fresh connection when the first attempt fails.
pub struct Admin<C: Connection> {
    conn: Option<C>,
    open: fn() -> C,
}

impl<C: Connection> Admin<C> {
    pub fn new(open: fn() -> C) -> Self {
        Self { conn: None, open }
    }

    fn conn(&mut self) -> &mut C {
        if self.conn.as_ref().is_none_or(Connection::is_broken) {
            self.conn = None;
        }
        self.conn.get_or_insert_with(self.open)
    }

    /// Forgets the connection (the server is about to restart).
    pub fn forget(&mut self) {
        self.conn = None;
    }

    /// Runs `sql`, once more on a fresh connection if the first attempt fails.
    ///
    /// # Errors
    /// The second attempt's error.
    pub fn run(&mut self, sql: &str) -> dbapi::Result<()> {
        if self.conn().execute(sql, &params![]).is_ok() {
            return Ok(());
        }
        self.forget();
        self.conn().execute(sql, &params![]).map(|_| ())
    }

    /// The first column of every row of `sql`, as integers; once more on a fresh connection
    /// after a disconnect.
    ///
    /// # Panics
    /// When the query fails otherwise.
    pub fn ids(&mut self, sql: &str) -> Vec<i64> {
        let query = |admin: &mut Self| -> dbapi::Result<Vec<i64>> {
            let mut cur = admin.conn().cursor()?;
            cur.execute(sql, &params![])?;
            let rows = cur.fetchall()?;
            rows.iter().map(|r| r.get::<i64>(0)).collect()
        };
        match query(self) {
            Ok(ids) => ids,
            Err(err) if err.is_disconnect() => {
                self.forget();
                query(self).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Err(err) => panic!("{sql}: {err}"),
        }
    }
}
