//! `cargo xtask db up|down|env`: throwaway database servers on loopback under `target/db/`,
//! started once per `cargo xtask test` run and shared by every test binary through the
//! environment written to `target/db/env`.
//!
//! - [`postgres`]: PostgreSQL (`initdb` + `pg_ctl`), with a streaming [`replica`] beside it
//!   and [`pgbouncer`] in front of one of its databases.
//! - [`mariadb`]: MariaDB (`mariadb-install-db` + `mariadbd`).
//!
//! Debian packages are installed with apt-get when running as root and missing; readiness
//! is polled, never waited for with a fixed sleep.

mod certs;
mod mariadb;
mod odbc;
mod pgbouncer;
mod postgres;
mod replica;

use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::run::{describe, status, workspace_root};

/// The file holding the running servers' environment (`KEY=value` lines).
fn env_file() -> PathBuf {
    db_root().join("env")
}

fn db_root() -> PathBuf {
    workspace_root().join("target").join("db")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    if !is_root() {
        return Err(format!(
            "{} missing and not running as root: install them with apt-get (or run as root)",
            packages.join(", ")
        ));
    }
    status(Command::new("apt-get").arg("update").arg("-q"))?;
    status(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn secret(label: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{label}{:x}{:x}", nanos, std::process::id())
}

/// Runs a SQL client with `script` on its stdin, so passwords in the script never show in a
/// process list or a log.
fn pipe_sql(client: &mut Command, script: &str) -> Result<(), String> {
    let shown = describe(client);
    let mut child = client
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("cannot write to {shown}: {e}"))?;
    }
    let done = child.wait().map_err(|e| e.to_string())?;
    if done.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {done}"))
    }
}

/// Polls `ready` until it holds, for at most two minutes.
fn wait_until(what: &str, log: &Path, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!(
                "{what} did not become ready; see {}",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Starts every server and writes `target/db/env`.
pub fn up() -> Result<(), String> {
    if env_file().exists() {
        down()?;
    }
    let mut env = postgres::up()?;
    let text = |env: &[(&str, String)]| -> String {
        env.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    };
    // Written now, so `down` finds PostgreSQL if MariaDB fails to start.
    fs::write(env_file(), text(&env)).map_err(|e| e.to_string())?;
    match mariadb::up() {
        Ok(more) => env.extend(more),
        Err(err) => {
            let _ = down();
            return Err(err);
        }
    }
    fs::write(env_file(), text(&env)).map_err(|e| e.to_string())?;
    let url = |key: &str| {
        env.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    match odbc::up(&url("DBPOOL_PG_URL"), &url("DBPOOL_MY_URL")) {
        Ok(more) => env.extend(more),
        Err(err) => {
            let _ = down();
            return Err(err);
        }
    }
    fs::write(env_file(), text(&env)).map_err(|e| e.to_string())
}

/// The running servers' environment, as `(key, value)` pairs.
pub fn vars() -> Result<Vec<(String, String)>, String> {
    let text = fs::read_to_string(env_file())
        .map_err(|_| "no servers are running: run cargo xtask db up".to_owned())?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// Prints the environment as shell `export` lines: `eval "$(cargo xtask db env)"`.
pub fn print_env() -> Result<(), String> {
    for (key, value) in vars()? {
        println!("export {key}='{value}'");
    }
    Ok(())
}

/// Stops the servers and removes their data.
pub fn down() -> Result<(), String> {
    let vars = vars().unwrap_or_default();
    let get = |key: &str| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    postgres::down(&get);
    mariadb::down(&get);
    let _ = fs::remove_file(env_file());
    Ok(())
}
