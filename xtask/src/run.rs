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

/// Runs a command, failing with its description when it fails.
pub fn status(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

/// `cargo xtask test [extra cargo test args]`.
pub fn test(extra: &[String]) -> Result<(), String> {
    status(
        cargo()
            .args(["test", "--workspace", "--all-targets"])
            .args(extra),
    )?;
    status(cargo().args(["test", "--workspace", "--doc"]))
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
