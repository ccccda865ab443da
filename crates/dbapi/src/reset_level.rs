//! [`ResetLevel`]: how thoroughly an adapter's `reset_session` cleans a session.

/// How far [`crate::Connection::reset_session`] goes, from cheapest to most thorough. Each
/// adapter documents what a level means for its backend; pools call `reset_session` when
/// configured with their `Cleanup::Reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResetLevel {
    /// Roll back, and only when a transaction is open: no round trip otherwise. Session
    /// settings, temporary tables and locks survive.
    #[default]
    Rollback,
    /// Drop what the session accumulated (settings, temporary tables, locks) but keep
    /// server-side prepared statements, so statement caches stay warm. PostgreSQL:
    /// `CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *;
    /// pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES`. Backends with no such
    /// subset (MySQL) do a [`ResetLevel::Full`] reset.
    Clean,
    /// As fresh as a new connection, prepared statements included. PostgreSQL: `DISCARD
    /// ALL`; MySQL/MariaDB: `COM_RESET_CONNECTION` (`COM_CHANGE_USER` on older servers).
    Full,
}
