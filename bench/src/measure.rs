//! The two ways of measuring: a tight single-thread loop (ns per cycle, median of rounds)
//! and a fixed-time run on N threads (throughput and latency of the get).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::histogram::Histogram;

/// Nanoseconds per call of `cycle` over one timed loop of `iterations` calls.
pub fn timed(iterations: u64, mut cycle: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        cycle();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// A contender of a single-threaded workload: runs its timed loop for a number of
/// iterations and returns nanoseconds per cycle.
pub type Round<'a> = Box<dyn FnMut(u64) -> f64 + 'a>;

/// Median nanoseconds per cycle of each contender, with the rounds interleaved (contender
/// A, B, C, A, B, C, …) so that a noisy machine slows them all alike and ratios hold.
pub fn interleaved(
    rounds: usize,
    iterations: u64,
    mut contenders: Vec<(String, Round<'_>)>,
) -> Vec<(String, f64)> {
    // Warm up caches and lazily opened connections.
    for (_, run) in &mut contenders {
        run(iterations / 10);
    }
    let mut results: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); contenders.len()];
    for _ in 0..rounds {
        for ((_, run), out) in contenders.iter_mut().zip(&mut results) {
            out.push(run(iterations));
        }
    }
    contenders
        .into_iter()
        .zip(results)
        .map(|((name, _), mut times)| {
            times.sort_by(f64::total_cmp);
            (name, times[times.len() / 2])
        })
        .collect()
}

/// What a fixed-time run on several threads measured.
#[derive(Clone)]
pub struct Contended {
    pub ops_per_sec: f64,
    pub latency: Histogram,
}

/// Runs `get` then `work` with the result on `threads` threads for `duration`; the latency
/// of `get` alone is recorded.
pub fn contended<G>(
    threads: usize,
    duration: Duration,
    get: impl Fn() -> G + Sync,
    work: impl Fn(&mut G) + Sync,
) -> Contended {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    let (histograms, elapsed) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut histogram = Histogram::new();
                    start.wait();
                    while !stop.load(Relaxed) {
                        let t0 = Instant::now();
                        let mut guard = get();
                        let t1 = Instant::now();
                        histogram.record((t1 - t0).as_nanos() as u64);
                        work(&mut guard);
                        drop(black_box(guard));
                    }
                    histogram
                })
            })
            .collect();
        start.wait();
        let began = Instant::now();
        std::thread::sleep(duration);
        stop.store(true, Relaxed);
        let histograms: Vec<Histogram> = handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect();
        (histograms, began.elapsed())
    });
    let mut latency = Histogram::new();
    for h in &histograms {
        latency.merge(h);
    }
    Contended {
        ops_per_sec: latency.count() as f64 / elapsed.as_secs_f64(),
        latency,
    }
}
