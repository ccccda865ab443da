//! The cargo invocations behind `test`, `lint` and `ci`.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    cmd.current_dir(workspace_root());
    cmd
}

/// How a command is shown in logs: program and arguments, never its environment (which may
/// hold passwords).
pub fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs a command, failing with its description when it fails.
pub fn status(cmd: &mut Command) -> Result<(), String> {
    let shown = describe(cmd);
    eprintln!("xtask: running {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// `cargo xtask test [extra cargo test args]`: servers up, every test with the ignored
/// server-backed ones included, servers down (also when tests fail).
pub fn test(extra: &[String]) -> Result<(), String> {
    crate::db::up()?;
    let result = test_with_servers(extra);
    crate::db::down()?;
    result
}

fn test_with_servers(extra: &[String]) -> Result<(), String> {
    let vars = crate::db::vars()?;
    status(
        cargo()
            .args(["test", "--workspace", "--all-targets", "--all-features"])
            .args(extra)
            .args(["--", "--include-ignored"])
            .envs(vars.iter().map(|(k, v)| (k, v))),
    )?;
    // The adapters without their `tls` feature: the clear error for sslmode=require.
    for (package, test) in [
        ("dbapi-postgres", "postgres_adapter"),
        ("dbapi-mysql", "mysql_adapter"),
    ] {
        status(cargo().args(["test", "--package", package, "--test", test, "dsn_options"]))?;
    }
    status(cargo().args(["test", "--workspace", "--doc", "--all-features"]))?;
    model()?;
    // The live view runs as documented (two seconds, SQLite).
    status(cargo().args([
        "run",
        "--package",
        "dbpool-core",
        "--features",
        "postgres",
        "--example",
        "monitor",
        "--",
        "--seconds",
        "2",
    ]))?;
    // One minute of the chaos soak per server, last: it restarts the servers.
    soak_with_servers(&vars, &["--minutes".to_owned(), "1".to_owned()])
}

/// `cargo xtask soak [--minutes N] [--server postgres|mariadb|all] [--seed S]`: servers up,
/// the chaos soak, servers down. The report goes to `target/soak/report.md`.
pub fn soak(extra: &[String]) -> Result<(), String> {
    crate::db::up()?;
    let vars = crate::db::vars()?;
    let result = soak_with_servers(&vars, extra);
    crate::db::down()?;
    result
}

fn soak_with_servers(vars: &[(String, String)], extra: &[String]) -> Result<(), String> {
    let out = workspace_root().join("target").join("soak");
    status(
        cargo()
            .args(["run", "--package", "dbpool-tests", "--bin", "soak", "--"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .envs(vars.iter().map(|(k, v)| (k, v))),
    )
}

/// `cargo xtask model`: the pool's hand-off model-checked under loom
/// (`crates/dbpool-core/tests/model.rs`), built with `--cfg dbpool_loom` in a target
/// directory of its own so the ordinary build's cache stays valid.
pub fn model() -> Result<(), String> {
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.trim().is_empty() => format!("{flags} --cfg dbpool_loom"),
        _ => "--cfg dbpool_loom".to_owned(),
    };
    status(
        cargo()
            .args([
                "test",
                "--release",
                "--package",
                "dbpool-core",
                "--test",
                "model",
            ])
            .args(["--", "--nocapture"])
            .env("RUSTFLAGS", rustflags)
            .env(
                "CARGO_TARGET_DIR",
                workspace_root().join("target").join("loom"),
            ),
    )
}

/// `cargo xtask lint`.
pub fn lint() -> Result<(), String> {
    status(cargo().args(["fmt", "--all", "--", "--check"]))?;
    status(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    status(
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

/// `cargo xtask bench [--quick] [bench args]`: servers up, the benchmark binary in release
/// mode with the servers' environment, servers down.
pub fn bench(extra: &[String]) -> Result<(), String> {
    crate::db::up()?;
    let vars = crate::db::vars()?;
    let out = workspace_root().join("target").join("bench");
    let result = status(
        cargo()
            .args(["run", "--release", "--package", "dbpool-bench", "--"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .envs(vars.iter().map(|(k, v)| (k, v))),
    );
    crate::db::down()?;
    result
}
