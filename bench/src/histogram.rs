//! A log-linear latency histogram: fixed size, no allocation while recording, about 6%
//! relative precision (16 sub-buckets per power of two).

/// Latencies in nanoseconds.
#[derive(Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
}

const SUB: u32 = 16;

impl Histogram {
    pub fn new() -> Self {
        Self {
            buckets: vec![0; (64 * SUB) as usize],
            count: 0,
        }
    }

    fn index(ns: u64) -> usize {
        if ns < u64::from(SUB) {
            return ns as usize;
        }
        let exp = 63 - ns.leading_zeros();
        let sub = (ns >> (exp - 4)) & u64::from(SUB - 1);
        ((exp - 3) * SUB) as usize + sub as usize
    }

    fn lower_bound(index: usize) -> u64 {
        let index = index as u64;
        if index < u64::from(SUB) {
            return index;
        }
        let exp = index / u64::from(SUB) + 3;
        let sub = index % u64::from(SUB);
        (1 << exp) + (sub << (exp - 4))
    }

    pub fn record(&mut self, ns: u64) {
        self.buckets[Self::index(ns)] += 1;
        self.count += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The latency at quantile `q` (0–1), in nanoseconds.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::lower_bound(index);
            }
        }
        Self::lower_bound(self.buckets.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::Histogram;

    #[test]
    fn quantiles_are_within_a_bucket() {
        let mut h = Histogram::new();
        for ns in 1..=10_000u64 {
            h.record(ns);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 5000.0).abs() / 5000.0 < 0.07, "{p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 9900.0).abs() / 9900.0 < 0.07, "{p99}");
        assert_eq!(h.count(), 10_000);
    }
}
