//! The chaos soak: 32 callers — 16 threads through the pool, 16 tokio tasks through its
//! async front-end (statements in the task on PostgreSQL, on the thread pool on MariaDB) —
//! commit transactions through a pool of 8 while a fault injector ends sessions, restarts
//! the server, freezes sessions and squeezes the connection limit. Invariants are checked while it runs and at the end; a summary is
//! printed and written to `target/soak/report.md`.
//!
//! Run with `cargo xtask soak [--minutes N]` (the servers' environment is needed); `cargo
//! xtask test` runs one minute of it.

mod faults;
mod ledger;
mod mariadb;
mod postgres;
mod report;
mod server;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use dbapi::{params, Connection};
use dbpool_core::{AsyncPool, Pool};

use crate::faults::Rng;
use crate::ledger::Ledger;
use crate::mariadb::MariaDbSoak;
use crate::postgres::PgSoak;
use crate::report::{Invariant, Summary};
use crate::server::SoakServer;

/// Threads, and as many tasks.
const WORKERS: usize = 16;
const MAX_SIZE: usize = 8;
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a frozen session stays frozen: below the wait timeout.
const FREEZE: Duration = Duration::from_secs(2);
/// No single call may take longer: wait, connect and a frozen session, with room to spare.
const CALL_BOUND: Duration = Duration::from_secs(20);

struct Args {
    minutes: f64,
    /// `postgres`, `mariadb` or `all`.
    servers: String,
    out: PathBuf,
    seed: u64,
}

fn args() -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    Args {
        minutes: value("--minutes")
            .and_then(|m| m.parse().ok())
            .unwrap_or(1.0),
        servers: value("--server").unwrap_or_else(|| "all".to_owned()),
        out: value("--out").map_or_else(|| PathBuf::from("target/soak"), PathBuf::from),
        seed: value("--seed")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            }),
    }
}

/// One worker: transactions with ids of its own until `stop`.
fn work<M: dbapi::Module>(
    pool: &Pool<M>,
    worker: usize,
    stop: &AtomicBool,
    progress: &AtomicU64,
) -> Ledger {
    let mut ledger = Ledger::default();
    let mut seq = 0_i64;
    while !stop.load(SeqCst) {
        seq += 1;
        let id = worker_id(worker) * 1_000_000_000 + seq;
        let started = Instant::now();
        let got = pool.get();
        ledger.timed(started.elapsed());
        let mut conn = match got {
            Ok(conn) => conn,
            Err(err) => {
                ledger.pool_error(&err);
                // An application backs off a little after a failure.
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let started = Instant::now();
        let inserted = conn.execute(INSERT, &params![id, worker_id(worker)]);
        ledger.timed(started.elapsed());
        if !ledger.inserted(id, &inserted) {
            continue;
        }
        let started = Instant::now();
        let committed = conn.commit();
        ledger.timed(started.elapsed());
        ledger.committed(id, &committed);
        progress.fetch_add(1, SeqCst);
    }
    ledger
}

/// One task: [`work`] through the async front-end, ids after the threads'.
async fn work_async<M: dbapi::Module>(
    pool: AsyncPool<M>,
    worker: usize,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
) -> Ledger
where
    M::Connection: Send + 'static,
{
    let mut ledger = Ledger::default();
    let mut seq = 0_i64;
    while !stop.load(SeqCst) {
        seq += 1;
        let id = worker_id(worker) * 1_000_000_000 + seq;
        let started = Instant::now();
        let got = pool.get().await;
        ledger.timed(started.elapsed());
        let mut conn = match got {
            Ok(conn) => conn,
            Err(err) => {
                ledger.pool_error(&err);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let started = Instant::now();
        let inserted = conn.execute(INSERT, params![id, worker_id(worker)]).await;
        ledger.timed(started.elapsed());
        if !ledger.inserted(id, &inserted) {
            continue;
        }
        let started = Instant::now();
        let committed = conn.commit().await;
        ledger.timed(started.elapsed());
        ledger.committed(id, &committed);
        progress.fetch_add(1, SeqCst);
    }
    ledger
}

const INSERT: &str = "INSERT INTO soak_rows (id, worker) VALUES (?, ?)";

fn worker_id(worker: usize) -> i64 {
    i64::try_from(worker).unwrap_or(0)
}

fn soak<S: SoakServer + Send>(mut server: S, args: &Args) -> Summary
where
    <S::Module as dbapi::Module>::Connection: Send + 'static,
{
    let module = server.prepare();
    let pool = Pool::builder(module)
        .max_size(MAX_SIZE)
        .wait_timeout(WAIT_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .expect("pool");
    let server = Mutex::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let ending = Mutex::new(Vec::<i64>::new());
    let progress = Arc::new(AtomicU64::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let most_sessions = AtomicU64::new(0);
    let stalled = AtomicBool::new(false);
    let duration = Duration::from_secs_f64(args.minutes * 60.0);
    let mut rng = Rng::new(args.seed);
    let began = Instant::now();
    let (ledger, faults) = thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| {
                let (pool, stop, progress) = (&pool, &*stop, &*progress);
                scope.spawn(move || work(pool, worker, stop, progress))
            })
            .collect();
        let async_pool = AsyncPool::new(pool.clone());
        let tasks: Vec<_> = (WORKERS..2 * WORKERS)
            .map(|worker| {
                let pool = async_pool.clone();
                runtime.spawn(work_async(pool, worker, stop.clone(), progress.clone()))
            })
            .collect();
        let injector = scope
            .spawn(|| faults::inject(&server, &stop, &ending, &mut rng, MAX_SIZE as u32, FREEZE));
        // The monitor: server-side session count and progress, until the run is over.
        let mut last_progress = (0, Instant::now());
        while began.elapsed() < duration {
            let excluded = ending.lock().expect("ending").clone();
            let seen = server.lock().expect("server").sessions(&excluded);
            most_sessions.fetch_max(u64::try_from(seen).unwrap_or(0), SeqCst);
            let done = progress.load(SeqCst);
            if done != last_progress.0 {
                last_progress = (done, Instant::now());
            } else if last_progress.1.elapsed() > CALL_BOUND * 2 {
                stalled.store(true, SeqCst);
            }
            thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, SeqCst);
        let mut ledger = Ledger::default();
        for worker in workers {
            ledger.merge(worker.join().expect("a worker panicked"));
        }
        for task in tasks {
            ledger.merge(runtime.block_on(task).expect("a task panicked"));
        }
        (ledger, injector.join().expect("the injector panicked"))
    });
    let elapsed = began.elapsed();
    let stats = pool.stats();
    let mut server = server.into_inner().expect("server");
    let in_table: HashSet<i64> = server.committed_ids().into_iter().collect();
    let lost: Vec<i64> = ledger
        .committed
        .iter()
        .copied()
        .filter(|id| !in_table.contains(id))
        .collect();
    let phantom: Vec<i64> = ledger
        .failed
        .iter()
        .copied()
        .filter(|id| in_table.contains(id))
        .collect();
    let unknown_committed = ledger
        .unknown
        .iter()
        .filter(|id| in_table.contains(id))
        .count();
    let most = most_sessions.load(SeqCst);
    let invariants = vec![
        Invariant::new(
            format!("the server never saw more than max_size ({MAX_SIZE}) sessions of the soak"),
            most <= MAX_SIZE as u64,
            format!("most seen: {most}"),
        ),
        Invariant::new(
            "no panic, and no hang: every call returned within its bound".to_owned(),
            !stalled.load(SeqCst) && ledger.longest_call <= CALL_BOUND,
            format!(
                "longest call: {:.2} s (bound {} s)",
                ledger.longest_call.as_secs_f64(),
                CALL_BOUND.as_secs()
            ),
        ),
        Invariant::new(
            "every commit the client saw succeed is in the table".to_owned(),
            lost.is_empty(),
            format!(
                "{} committed, {} missing",
                ledger.committed.len(),
                lost.len()
            ),
        ),
        Invariant::new(
            "no row whose commit the client saw fail is in the table".to_owned(),
            phantom.is_empty(),
            format!("{} failed, {} present", ledger.failed.len(), phantom.len()),
        ),
        Invariant::new(
            "pool stats add up (open = idle + in use) and return to idle".to_owned(),
            stats.open == stats.idle + stats.in_use && stats.in_use == 0 && stats.waiting == 0,
            format!(
                "open {}, idle {}, in use {}, waiting {}",
                stats.open, stats.idle, stats.in_use, stats.waiting
            ),
        ),
    ];
    Summary {
        server: S::NAME,
        can_freeze: S::CAN_FREEZE,
        seed: args.seed,
        elapsed,
        committed: ledger.committed.len(),
        failed: ledger.failed.len(),
        unknown: ledger.unknown.len(),
        unknown_committed,
        connects: (stats.created, stats.connect_failures),
        faults,
        errors: ledger.errors,
        invariants,
    }
}

fn main() -> ExitCode {
    let args = args();
    let wanted = |name: &str| args.servers == "all" || args.servers == name;
    eprintln!(
        "soak: {} minute(s) per server ({}), seed {} (repeat with --seed)",
        args.minutes, args.servers, args.seed
    );
    let mut summaries = Vec::new();
    if wanted("postgres") {
        summaries.push(soak(PgSoak::new(), &args));
    }
    if wanted("mariadb") {
        summaries.push(soak(MariaDbSoak::new(), &args));
    }
    if summaries.is_empty() {
        eprintln!("soak: --server must be postgres, mariadb or all");
        return ExitCode::from(2);
    }
    let text: String = summaries
        .iter()
        .map(Summary::markdown)
        .collect::<Vec<_>>()
        .join("\n");
    println!("{text}");
    if let Err(err) = std::fs::create_dir_all(&args.out)
        .and_then(|()| std::fs::write(args.out.join("report.md"), &text))
    {
        eprintln!("soak: cannot write the report: {err}");
        return ExitCode::FAILURE;
    }
    if summaries.iter().all(Summary::held) {
        ExitCode::SUCCESS
    } else {
        eprintln!("soak: an invariant did not hold");
        ExitCode::FAILURE
    }
}
