//! What each worker saw: the ids whose commit succeeded, failed, or ended with an unknown
//! outcome, and the errors by kind.

use std::collections::BTreeMap;
use std::time::Duration;

/// One worker's record (merged at the end).
#[derive(Default)]
pub struct Ledger {
    pub committed: Vec<i64>,
    /// Ids whose transaction failed before or at commit with a known outcome: not committed.
    pub failed: Vec<i64>,
    /// Ids whose commit was cut off by a lost connection.
    pub unknown: Vec<i64>,
    /// Errors by where they happened and their kind.
    pub errors: BTreeMap<String, u64>,
    /// The longest single pool or database call.
    pub longest_call: Duration,
}

impl Ledger {
    pub fn error(&mut self, stage: &str, err: &dbapi::Error) {
        let mut key = format!("{stage}: {}", err.kind());
        if err.is_disconnect() {
            key.push_str(" (disconnect)");
        }
        *self.errors.entry(key).or_default() += 1;
    }

    pub fn pool_error(&mut self, err: &dbpool_core::PoolError) {
        let kind = match err {
            dbpool_core::PoolError::Timeout { .. } => "wait timeout",
            dbpool_core::PoolError::ConnectTimeout { .. } => "connect timeout",
            dbpool_core::PoolError::Connect { .. } => "connect failed",
            _ => "other",
        };
        *self.errors.entry(format!("get: {kind}")).or_default() += 1;
    }

    /// The insert of transaction `id`: whether it went in (the commit comes next).
    pub fn inserted(&mut self, id: i64, outcome: &dbapi::Result<i64>) -> bool {
        match outcome {
            Ok(_) => true,
            Err(err) => {
                self.error("insert", err);
                self.failed.push(id);
                false
            }
        }
    }

    /// The commit of transaction `id`.
    pub fn committed(&mut self, id: i64, outcome: &dbapi::Result<()>) {
        match outcome {
            Ok(()) => self.committed.push(id),
            Err(err) => {
                self.error("commit", err);
                if err.is_outcome_unknown() {
                    self.unknown.push(id);
                } else {
                    self.failed.push(id);
                }
            }
        }
    }

    pub fn timed(&mut self, took: Duration) {
        self.longest_call = self.longest_call.max(took);
    }

    pub fn merge(&mut self, other: Ledger) {
        self.committed.extend(other.committed);
        self.failed.extend(other.failed);
        self.unknown.extend(other.unknown);
        for (key, n) in other.errors {
            *self.errors.entry(key).or_default() += n;
        }
        self.longest_call = self.longest_call.max(other.longest_call);
    }
}
