//! The two ways of measuring: a tight single-thread loop (ns per cycle, median of rounds)
//! and a fixed-time run on N threads (throughput and latency of the get).

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::histogram::Histogram;
use crate::usage::Usage;

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
    /// Operations each thread completed.
    pub per_thread: Vec<u64>,
    /// What the process used while the operations in `latency` ran.
    pub used: Usage,
}

impl Contended {
    /// Jain's fairness index of the per-thread counts: 1 when every thread did as much,
    /// 1/n when one thread did everything.
    pub fn jain(&self) -> f64 {
        let n = self.per_thread.len() as f64;
        let sum: f64 = self.per_thread.iter().map(|&x| x as f64).sum();
        let squares: f64 = self
            .per_thread
            .iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum();
        if squares == 0.0 {
            1.0
        } else {
            sum * sum / (n * squares)
        }
    }

    /// Client CPU time per operation, in microseconds.
    pub fn cpu_us_per_op(&self) -> f64 {
        self.used.cpu.as_secs_f64() * 1e6 / self.latency.count().max(1) as f64
    }

    /// Context switches per operation.
    pub fn switches_per_op(&self) -> f64 {
        self.used.switches as f64 / self.latency.count().max(1) as f64
    }

    /// The fewest operations of a thread over the most.
    pub fn min_over_max(&self) -> f64 {
        let min = self.per_thread.iter().copied().min().unwrap_or(0);
        let max = self.per_thread.iter().copied().max().unwrap_or(0);
        if max == 0 {
            1.0
        } else {
            min as f64 / max as f64
        }
    }
}

/// Runs `get` then `work` with the result on `threads` threads for `duration`; the latency
/// of `get` alone is recorded. A warm-up of a tenth of `duration` runs first, unrecorded, so
/// every contender is measured warm: r2d2 opens its connections in `build()`, a dbpool pool
/// (`min_size` 0) on first demand, and opening them is not what W2, W4 and W5 measure.
pub fn contended<G>(
    threads: usize,
    duration: Duration,
    get: impl Fn() -> G + Sync,
    work: impl Fn(&mut G) + Sync,
) -> Contended {
    let stop = AtomicBool::new(false);
    let recording = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    let (histograms, elapsed, used) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut histogram = Histogram::new();
                    start.wait();
                    while !stop.load(Relaxed) {
                        let t0 = Instant::now();
                        let mut guard = get();
                        let t1 = Instant::now();
                        if recording.load(Relaxed) {
                            histogram.record((t1 - t0).as_nanos() as u64);
                        }
                        work(&mut guard);
                        drop(black_box(guard));
                    }
                    histogram
                })
            })
            .collect();
        start.wait();
        // Measurement windows, not synchronisation: the threads run freely meanwhile.
        std::thread::sleep(duration / 10);
        let before = Usage::now();
        recording.store(true, Relaxed);
        let began = Instant::now();
        std::thread::sleep(duration);
        stop.store(true, Relaxed);
        let used = Usage::now().since(before);
        let histograms: Vec<Histogram> = handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect();
        (histograms, began.elapsed(), used)
    });
    summary(&histograms, elapsed, used)
}

/// As [`contended`], but with `tasks` async callers on a multi-threaded tokio runtime of one
/// worker per core — how an async server runs them — instead of one thread each. `cycle`
/// makes one caller's get + work + return and resolves to the time its get took.
pub fn contended_tasks<F>(
    tasks: usize,
    duration: Duration,
    cycle: impl Fn() -> F + Send + Sync + 'static,
) -> Contended
where
    F: std::future::Future<Output = Duration> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let recording = Arc::new(AtomicBool::new(false));
    let cycle = Arc::new(cycle);
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (stop, recording, cycle) = (stop.clone(), recording.clone(), cycle.clone());
            runtime.spawn(async move {
                let mut histogram = Histogram::new();
                while !stop.load(Relaxed) {
                    let got = cycle().await;
                    if recording.load(Relaxed) {
                        histogram.record(got.as_nanos() as u64);
                    }
                }
                histogram
            })
        })
        .collect();
    // Measurement windows, not synchronisation: the tasks run freely meanwhile.
    std::thread::sleep(duration / 10);
    let before = Usage::now();
    recording.store(true, Relaxed);
    let began = Instant::now();
    std::thread::sleep(duration);
    stop.store(true, Relaxed);
    let used = Usage::now().since(before);
    let histograms: Vec<Histogram> = runtime.block_on(async {
        let mut out = Vec::with_capacity(handles.len());
        for handle in handles {
            out.push(handle.await.expect("bench task"));
        }
        out
    });
    let elapsed = began.elapsed();
    summary(&histograms, elapsed, used)
}

/// The figures of a run from each caller's get times, the run's length and what the
/// process used meanwhile.
fn summary(histograms: &[Histogram], elapsed: Duration, used: Usage) -> Contended {
    let mut latency = Histogram::new();
    for h in histograms {
        latency.merge(h);
    }
    Contended {
        ops_per_sec: latency.count() as f64 / elapsed.as_secs_f64(),
        latency,
        per_thread: histograms.iter().map(Histogram::count).collect(),
        used,
    }
}

/// A contender of a multi-threaded workload: runs [`contended`] for the window it is given.
pub type Window<'a> = Box<dyn FnMut(Duration) -> Contended + 'a>;

/// Each contender's figures over `rounds` windows of `run` each, the rounds interleaved
/// (A, B, C, A, B, C, …) as [`interleaved`] does for single-threaded workloads, so that a
/// machine that slows down for a while slows every contender alike: the median round's
/// throughput, the get times of all rounds, and each thread's operations over all rounds.
pub fn interleaved_contended<'a, N>(
    rounds: usize,
    run: Duration,
    mut contenders: Vec<(N, Window<'a>)>,
) -> Vec<(N, Contended)> {
    let rounds = rounds.max(1);
    let mut results: Vec<Vec<Contended>> = (0..contenders.len())
        .map(|_| Vec::with_capacity(rounds))
        .collect();
    for _ in 0..rounds {
        for ((_, measure), out) in contenders.iter_mut().zip(&mut results) {
            out.push(measure(run));
        }
    }
    contenders
        .into_iter()
        .zip(results)
        .map(|((name, _), rounds)| (name, combined(rounds)))
        .collect()
}

/// One figure from several rounds of a contender.
fn combined(mut rounds: Vec<Contended>) -> Contended {
    rounds.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
    let ops_per_sec = rounds[rounds.len() / 2].ops_per_sec;
    let mut latency = Histogram::new();
    let mut per_thread = vec![0; rounds[0].per_thread.len()];
    let mut used = Usage::default();
    for round in &rounds {
        latency.merge(&round.latency);
        used.cpu += round.used.cpu;
        used.switches += round.used.switches;
        for (total, ops) in per_thread.iter_mut().zip(&round.per_thread) {
            *total += ops;
        }
    }
    Contended {
        ops_per_sec,
        latency,
        per_thread,
        used,
    }
}
