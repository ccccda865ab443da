//! Project automation, one binary with subcommands (rust-analyzer's xtask pattern):
//!
//! - `cargo xtask test`: every test of the workspace, server-backed ones included.
//! - `cargo xtask lint`: `cargo fmt --check`, clippy with `-D warnings`, `cargo doc` with
//!   `-D warnings`.
//! - `cargo xtask ci`: lint, then test (what `.ci/run` runs).
//! - `cargo xtask db up|down|env`: throwaway servers under `target/db/`.
//! - `cargo xtask bench [--quick]`: the benchmark report, PostgreSQL included.
//! - `cargo xtask soak [--minutes N]`: the chaos soak on PostgreSQL and MariaDB.
//! - `cargo xtask model`: the pool's hand-off model-checked under loom.

mod db;
mod run;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test     run every test of the workspace (server-backed tests included)
  lint     cargo fmt --check, clippy -D warnings, cargo doc -D warnings
  ci       lint, then test
  db up    start PostgreSQL and MariaDB under target/db and configure three ODBC drivers
           there (installing what is missing when root)
  db down  stop them and remove their data
  db env   print the servers' environment as shell exports
  bench    run the benchmarks (release build, the servers started) and write
           target/bench/report.md and target/bench/w2_contended.svg; --quick for a smoke run
  soak     the chaos soak (servers started): faults injected while 16 threads and 16
           tokio tasks commit,
           invariants checked; --minutes N (default 1) per server, --server postgres|mariadb,
           --seed S; writes target/soak/report.md
  model    the pool's hand-off model-checked under loom (every interleaving of small
           scenarios, preemption bound 4 or LOOM_MAX_PREEMPTIONS)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => run::test(&args[1..]),
        Some("lint") => run::lint(),
        Some("ci") => run::lint().and_then(|()| run::test(&[])),
        Some("bench") => run::bench(&args[1..]),
        Some("soak") => run::soak(&args[1..]),
        Some("model") => run::model(),
        Some("db") => match args.get(1).map(String::as_str) {
            Some("up") => db::up(),
            Some("down") => db::down(),
            Some("env") => db::print_env(),
            _ => Err(format!("usage: cargo xtask db up|down|env\n\n{USAGE}")),
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command {:?}\n\n{USAGE}", other.unwrap_or("(none)"));
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
