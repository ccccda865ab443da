//! The soak's summary table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// One invariant and what was measured for it.
pub struct Invariant {
    text: String,
    held: bool,
    measured: String,
}

impl Invariant {
    pub fn new(text: String, held: bool, measured: String) -> Self {
        Self {
            text,
            held,
            measured,
        }
    }
}

/// Everything a run saw.
pub struct Summary {
    pub server: &'static str,
    /// Whether the server can freeze one session (else that fault does not apply).
    pub can_freeze: bool,
    pub seed: u64,
    pub elapsed: Duration,
    pub committed: usize,
    pub failed: usize,
    pub unknown: usize,
    pub unknown_committed: usize,
    /// Connections the pool opened, and its failed attempts.
    pub connects: (u64, u64),
    pub faults: BTreeMap<&'static str, u64>,
    pub errors: BTreeMap<String, u64>,
    pub invariants: Vec<Invariant>,
}

impl Summary {
    pub fn held(&self) -> bool {
        self.invariants.iter().all(|i| i.held)
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "## Chaos soak on {}\n\n{:.0} s, {} threads and {} tokio tasks, pool of {}, seed {}.\n",
            self.server,
            self.elapsed.as_secs_f64(),
            crate::WORKERS,
            crate::WORKERS,
            crate::MAX_SIZE,
            self.seed
        );
        let _ = writeln!(md, "| transactions | count |\n|---|---:|");
        let _ = writeln!(md, "| committed | {} |", self.committed);
        let _ = writeln!(md, "| failed (known not committed) | {} |", self.failed);
        let _ = writeln!(
            md,
            "| outcome unknown (commit cut off by a lost connection) | {} ({} committed, {} not) |",
            self.unknown,
            self.unknown_committed,
            self.unknown - self.unknown_committed
        );
        let _ = writeln!(
            md,
            "| connect attempts by the pool | {} ({} opened, {} failed) |\n",
            self.connects.0 + self.connects.1,
            self.connects.0,
            self.connects.1
        );
        let _ = writeln!(md, "| fault | injected |\n|---|---:|");
        for (i, kind) in crate::faults::KINDS.iter().enumerate() {
            if i == 2 && !self.can_freeze {
                let _ = writeln!(md, "| {kind} | not applicable: sessions are threads |");
            } else {
                let count = self.faults.get(kind).copied().unwrap_or(0);
                let _ = writeln!(md, "| {kind} | {count} |");
            }
        }
        let _ = writeln!(
            md,
            "\n| error seen by the application | count |\n|---|---:|"
        );
        for (kind, count) in &self.errors {
            let _ = writeln!(md, "| {kind} | {count} |");
        }
        let _ = writeln!(md, "\n| invariant | measured | held |\n|---|---|:---:|");
        for inv in &self.invariants {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                inv.text,
                inv.measured,
                if inv.held { "yes" } else { "**no**" }
            );
        }
        md
    }
}
