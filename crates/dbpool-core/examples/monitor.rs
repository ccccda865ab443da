//! A live view of a pool at work: `cargo run -p dbpool-core --features postgres --example
//! monitor [URL] [--seconds N] [--threads N]`. Runs a load — SQLite in memory by default, the
//! PostgreSQL server at URL when given — and shows the pool refreshing in place: open, idle,
//! in use and waiting, the wait-time histogram and the throughput, under a progress bar
//! over the run. Without a terminal (piped, in CI) it prints one summary line per second.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use dbapi::{params, Connection, Module};
use dbapi_sqlite::Sqlite;
use dbpool_core::postgres::Postgres;
use dbpool_core::{Pool, Stats};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

const MAX_SIZE: usize = 4;

struct Args {
    url: Option<String>,
    seconds: u64,
    threads: usize,
}

fn args() -> Args {
    let mut args = Args {
        url: None,
        seconds: 10,
        threads: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => args.seconds = it.next().and_then(|v| v.parse().ok()).unwrap_or(10),
            "--threads" => args.threads = it.next().and_then(|v| v.parse().ok()).unwrap_or(8),
            url => args.url = Some(url.to_owned()),
        }
    }
    args
}

/// The wait-time histogram as one line: a block per power-of-two bucket of microseconds.
fn histogram(stats: &Stats) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let last = stats
        .wait_histogram
        .iter()
        .rposition(|&n| n > 0)
        .map_or(0, |i| i + 1);
    let most = stats
        .wait_histogram
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let bars: String = stats.wait_histogram[..last]
        .iter()
        .map(|&n| {
            if n == 0 {
                ' '
            } else {
                BLOCKS[(n * 7 / most) as usize]
            }
        })
        .collect();
    format!("waits by 2^n µs [{bars}]")
}

/// The load: every thread takes a connection, runs a statement and holds it a moment.
fn load<M: Module>(pool: &Pool<M>, stop: &AtomicBool, done: &AtomicU64) {
    while !stop.load(Relaxed) {
        match pool.get() {
            Ok(mut conn) => {
                let _ = conn.execute("SELECT 1", &params![]);
                std::thread::sleep(Duration::from_millis(2));
                done.fetch_add(1, Relaxed);
            }
            Err(err) => eprintln!("{err}"),
        }
    }
}

fn run<M: Module>(pool: &Pool<M>, args: &Args) {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let tty = std::io::stdout().is_terminal();
    let bars = MultiProgress::new();
    let gauge = |name: &str, len: usize| {
        let bar = bars.add(ProgressBar::new(len as u64));
        bar.set_style(
            ProgressStyle::with_template(&format!("{name:>8} [{{bar:30}}] {{pos}}/{{len}}"))
                .expect("template")
                .progress_chars("█▌ "),
        );
        bar
    };
    let (open, idle, in_use, waiting) = (
        gauge("open", MAX_SIZE),
        gauge("idle", MAX_SIZE),
        gauge("in use", MAX_SIZE),
        gauge("waiting", args.threads),
    );
    let info = bars.add(ProgressBar::new_spinner());
    let run = bars.add(ProgressBar::new(args.seconds));
    run.set_style(
        ProgressStyle::with_template("     run [{bar:30}] {pos}/{len} s")
            .expect("template")
            .progress_chars("=> "),
    );
    if !tty {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let began = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..args.threads {
            scope.spawn(|| load(pool, &stop, &done));
        }
        let mut last = (0, Instant::now());
        let mut next_line = Duration::from_secs(1);
        while began.elapsed() < Duration::from_secs(args.seconds) {
            std::thread::sleep(Duration::from_millis(100));
            let stats = pool.stats();
            let ops = done.load(Relaxed);
            let rate = (ops - last.0) as f64 / last.1.elapsed().as_secs_f64();
            last = (ops, Instant::now());
            open.set_position(stats.open as u64);
            idle.set_position(stats.idle as u64);
            in_use.set_position(stats.in_use as u64);
            waiting.set_position(stats.waiting as u64);
            info.set_message(format!("{rate:>8.0} ops/s   {}", histogram(&stats)));
            run.set_position(began.elapsed().as_secs());
            if !tty && began.elapsed() >= next_line {
                next_line += Duration::from_secs(1);
                println!(
                    "{:>3} s  open {} idle {} in use {} waiting {}  {rate:.0} ops/s  {}",
                    began.elapsed().as_secs(),
                    stats.open,
                    stats.idle,
                    stats.in_use,
                    stats.waiting,
                    histogram(&stats)
                );
            }
        }
        stop.store(true, Relaxed);
    });
    for bar in [&open, &idle, &in_use, &waiting, &info, &run] {
        bar.finish();
    }
    let stats = pool.stats();
    println!(
        "done: {} operations, {} connections created, {} waits ({:?} in all)",
        done.load(Relaxed),
        stats.created,
        stats.waited,
        stats.wait_time
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    match &args.url {
        Some(url) => {
            let pool = Pool::builder(Postgres::from_dsn(url)?)
                .max_size(MAX_SIZE)
                .build()?;
            println!("monitoring a pool of {MAX_SIZE} on {}", pool.target());
            run(&pool, &args);
        }
        None => {
            let pool = Pool::builder(Sqlite::memory()).max_size(MAX_SIZE).build()?;
            println!("monitoring a pool of {MAX_SIZE} on SQLite in memory");
            run(&pool, &args);
        }
    }
    Ok(())
}
