//! `cargo xtask bench`: dbpool measured against r2d2 (validation on and off) and deadpool in
//! one process and one run, so ratios hold on a noisy machine.
//!
//! A small harness of its own rather than criterion: the workloads need multi-threaded
//! fixed-time runs with get-latency percentiles and one table of ratios across pools, which
//! criterion's one-function-at-a-time model does not give.
//!
//! Usage: `dbpool-bench [--quick] [--out DIR] [--only w1,w2,w3,w4]`. PostgreSQL and MariaDB workloads run when
//! `DBPOOL_PG_URL` is set (`cargo xtask bench` starts the server and sets it).

mod histogram;
mod managers;
mod measure;
mod noop;
mod report;
mod usage;
mod workloads;

use std::fmt::Write as _;
use std::path::PathBuf;

use workloads::{Effort, R2D2_CHECK};

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    format!("{cores} cores, {cpu}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let out_dir = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| PathBuf::from("target/bench"), PathBuf::from);
    let effort = if quick {
        Effort::quick()
    } else {
        Effort::full()
    };
    let only: Option<String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.to_ascii_lowercase());
    let wanted = |w: &str| only.as_ref().is_none_or(|o| o.split(',').any(|x| x == w));
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let profile = if cfg!(debug_assertions) {
        "debug build"
    } else {
        "release build"
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## dbpool benchmarks\n\n{} run, {date}, {}, {profile}. Ratios compare figures from this one run. \
         Contenders run in interleaved rounds (A, B, C, A, B, C, …) so that a machine slowing \
         down for a while slows them alike: single-threaded figures are the median round's; \
         multi-threaded ones warm up unrecorded, then give the median round's throughput and \
         the get times and per-thread counts of all rounds. Connection-per-request rows run \
         last, outside the rounds. Client CPU and context switches per operation are the \
         whole bench process's (all its threads, from `getrusage`) over the recorded windows; \
         the database server's own work is not in them.\n",
        if quick { "Quick (smoke)" } else { "Full" },
        machine()
    );

    eprintln!("W1: uncontended get + return…");
    let w1 = if wanted("w1") {
        workloads::w1_uncontended(effort)
    } else {
        Vec::new()
    };
    report::single_table(
        &mut md,
        "W1 — uncontended get + return, no-op driver",
        &w1,
        workloads::MUTEX_FLOOR,
    );

    eprintln!("W2: contended get + return…");
    let w2 = if wanted("w2") {
        workloads::w2_contended(effort)
    } else {
        Vec::new()
    };
    report::multi_table(
        &mut md,
        "W2 — contended get + return, no-op driver",
        &w2,
        R2D2_CHECK,
    );

    eprintln!("W3: SQLite…");
    let w3 = if wanted("w3") {
        workloads::w3_sqlite(effort)
    } else {
        Vec::new()
    };
    report::single_table(
        &mut md,
        "W3 — get + cached SELECT 1 + return, in-memory SQLite",
        &w3,
        "floor: rusqlite, no pool",
    );

    let w4 = std::env::var("DBPOOL_PG_URL")
        .ok()
        .filter(|_| wanted("w4"))
        .map(|url| {
            eprintln!("W4/W5: PostgreSQL…");
            let mut rows = workloads::w4_postgres(effort, &url);
            if let Ok(odbc) = std::env::var("DBPOOL_ODBC_PG") {
                eprintln!("W4: PostgreSQL through ODBC…");
                rows.extend(workloads::w4_postgres_odbc(effort, &odbc));
            }
            rows
        });
    match &w4 {
        Some(w4) => report::multi_table(
            &mut md,
            "W4/W5 — get + SELECT 1 + return on PostgreSQL (loopback TCP)",
            w4,
            R2D2_CHECK,
        ),
        None => md.push_str("### W4/W5 — PostgreSQL\n\nSkipped: DBPOOL_PG_URL is not set (run `cargo xtask bench`).\n\n"),
    }

    let w4_maria = std::env::var("DBPOOL_MY_URL")
        .ok()
        .filter(|_| wanted("w4"))
        .map(|url| {
            eprintln!("W4/W5: MariaDB…");
            workloads::w4_mariadb(effort, &url)
        });
    match &w4_maria {
        Some(w4) => report::multi_table(
            &mut md,
            "W4/W5 — get + SELECT 1 + return on MariaDB (loopback TCP)",
            w4,
            R2D2_CHECK,
        ),
        None => md.push_str("### W4/W5 — MariaDB\n\nSkipped: DBPOOL_MY_URL is not set (run `cargo xtask bench`).\n\n"),
    }

    let targets = report::targets(
        &w1,
        &w2,
        &w3,
        &[
            ("PostgreSQL", w4.as_deref()),
            ("MariaDB", w4_maria.as_deref()),
        ],
    );
    report::targets_table(&mut md, &targets);

    if let Err(err) = std::fs::create_dir_all(&out_dir) {
        eprintln!("cannot create {}: {err}", out_dir.display());
        std::process::exit(1);
    }
    let svg = report::svg(&w2, &format!("{date}, {}", machine()));
    let written = std::fs::write(out_dir.join("report.md"), &md)
        .and_then(|()| std::fs::write(out_dir.join("w2_contended.svg"), svg));
    if let Err(err) = written {
        eprintln!("cannot write the report: {err}");
        std::process::exit(1);
    }
    println!("{md}");
    println!("report: {}", out_dir.join("report.md").display());
    println!("chart:  {}", out_dir.join("w2_contended.svg").display());
}
