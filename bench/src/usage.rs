//! What the bench process used while a contender ran: CPU time and context switches of all
//! its threads (`getrusage(RUSAGE_SELF)`), so that a run shows what an operation costs the
//! client, not only how many fit in a second. The servers' own CPU is not in it.

use std::time::Duration;

/// The process's totals at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// User and system CPU time.
    pub cpu: Duration,
    /// Voluntary and involuntary context switches.
    pub switches: u64,
}

impl Usage {
    /// The totals now (zero where the system cannot tell).
    #[allow(unsafe_code)]
    pub fn now() -> Self {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `getrusage` writes a whole `rusage` into the pointer it is given, which
        // points to one we own; `RUSAGE_SELF` is a valid target. The struct is read only
        // when the call succeeded (and it is zeroed before, so it is initialised either way).
        let usage = unsafe {
            if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
                return Self::default();
            }
            usage.assume_init()
        };
        let time = |t: libc::timeval| {
            Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
                + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
        };
        let count = |n: libc::c_long| u64::try_from(n).unwrap_or(0);
        Self {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            switches: count(usage.ru_nvcsw) + count(usage.ru_nivcsw),
        }
    }

    /// What was used from `earlier` to this moment.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }
}
