//! The server a soak runs against, and how the fault injector disturbs it.

use dbapi::Module;

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
