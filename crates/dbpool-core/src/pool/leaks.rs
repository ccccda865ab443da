//! Leak detection: where and when each connection now checked out was taken.

use super::*;

/// Where and when each connection now checked out was taken (leak detection).
#[derive(Default)]
pub(super) struct Checkouts {
    pub(super) next_id: u64,
    out: std::collections::HashMap<u64, Checkout>,
    /// The earliest pending leak deadline handed to the maintenance thread.
    scheduled: Option<u64>,
}

struct Checkout {
    site: &'static Location<'static>,
    taken_at: u64,
    reported: bool,
}

impl<M: Module> Pool<M> {
    /// Registers a checkout for leak detection; `None` when detection is off.
    #[inline]
    pub(crate) fn begin_checkout(&self, site: &'static Location<'static>) -> Option<u64> {
        let threshold = self.shared.times.leak_threshold?;
        self.register_checkout(site, threshold)
    }

    #[cold]
    #[inline(never)]
    fn register_checkout(&self, site: &'static Location<'static>, threshold: u64) -> Option<u64> {
        let taken_at = self.now();
        let mut checkouts = self.shared.checkouts.lock();
        checkouts.next_id += 1;
        let id = checkouts.next_id;
        checkouts.out.insert(
            id,
            Checkout {
                site,
                taken_at,
                reported: false,
            },
        );
        let schedule = checkouts.scheduled.is_none();
        if schedule {
            checkouts.scheduled = Some(taken_at.saturating_add(threshold));
        }
        drop(checkouts);
        if schedule {
            self.schedule_maintenance(taken_at.saturating_add(threshold));
        }
        Some(id)
    }

    /// The checkout `id` ended (returned, discarded or lost to a panic).
    pub(crate) fn end_checkout(&self, id: u64) {
        self.shared.checkouts.lock().out.remove(&id);
    }

    /// Reports checkouts held longer than the threshold; returns the next leak deadline.
    pub(super) fn detect_leaks(&self, now: u64) -> Option<u64> {
        let threshold = self.shared.times.leak_threshold?;
        let mut reports = Vec::new();
        let mut checkouts = self.shared.checkouts.lock();
        let mut next: Option<u64> = None;
        for checkout in checkouts.out.values_mut().filter(|c| !c.reported) {
            let due = checkout.taken_at.saturating_add(threshold);
            if due <= now {
                checkout.reported = true;
                reports.push((checkout.site, now.saturating_sub(checkout.taken_at)));
            } else {
                next = Some(next.map_or(due, |n: u64| n.min(due)));
            }
        }
        checkouts.scheduled = next;
        drop(checkouts);
        for (site, held) in reports {
            self.shared.counters.leak_suspected();
            self.shared.config.hook.emit(|| PoolEvent::LeakSuspected {
                checked_out_at: site,
                held: Duration::from_nanos(held),
            });
        }
        next
    }
}
