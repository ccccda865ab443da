//! MariaDB from Debian's `mariadb-server` package (installed with apt-get when running as
//! root and it is missing): `mariadb-install-db` into `target/db/maria`, `mariadbd` on
//! 127.0.0.1 with a free port and a socket in the same folder, readiness polled with
//! `mariadb-admin ping`.
//!
//! The server is started by `target/db/maria/start.sh`, so a test that restarts it runs the
//! same command line; it is stopped by the pid in its pid file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::certs::make_certificates;
use super::{apt_install, db_root, free_port, is_root, pipe_sql, secret, wait_until};
use crate::run::status;

const SERVER: &str = "/usr/sbin/mariadbd";
const INSTALL_DB: &str = "/usr/bin/mariadb-install-db";
const ADMIN: &str = "/usr/bin/mariadb-admin";
const CLIENT: &str = "/usr/bin/mariadb";

fn maria_dir() -> PathBuf {
    db_root().join("maria")
}

fn ensure_installed() -> Result<(), String> {
    if [SERVER, INSTALL_DB, ADMIN, CLIENT]
        .iter()
        .all(|p| Path::new(p).exists())
    {
        return Ok(());
    }
    apt_install(&["mariadb-server", "mariadb-client"])
}

/// A Unix socket path must fit in 108 bytes; a deep checkout falls back to /tmp.
fn socket_path(dir: &Path) -> PathBuf {
    let inside = dir.join("mysqld.sock");
    if inside.as_os_str().len() < 100 {
        inside
    } else {
        std::env::temp_dir().join(format!("dbpool-maria-{}.sock", std::process::id()))
    }
}

fn ping(socket: &Path) -> bool {
    // `ping` succeeds whenever the server answers, even with access denied.
    Command::new(ADMIN)
        .arg("--no-defaults")
        .arg(format!("--socket={}", socket.display()))
        .args(["--user=root", "--connect-timeout=2", "ping"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts MariaDB; returns its environment.
pub fn up() -> Result<Vec<(&'static str, String)>, String> {
    ensure_installed()?;
    let dir = maria_dir();
    let data = dir.join("data");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let root = is_root();
    let os_user = if root {
        "root".to_owned()
    } else {
        std::env::var("USER").unwrap_or_else(|_| "nobody".to_owned())
    };
    status(
        Command::new(INSTALL_DB)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--user={os_user}"))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .stdout(Stdio::null()),
    )?;
    let (ca, cert, key) = make_certificates(&dir, None)?;
    let port = free_port()?;
    let socket = socket_path(&dir);
    let pid_file = dir.join("mariadbd.pid");
    let log = dir.join("log");
    let args = [
        "--no-defaults".to_owned(),
        format!("--datadir={}", data.display()),
        format!("--socket={}", socket.display()),
        format!("--port={port}"),
        "--bind-address=127.0.0.1,127.0.0.2".to_owned(),
        format!("--pid-file={}", pid_file.display()),
        format!("--log-error={}", log.display()),
        format!("--user={os_user}"),
        "--skip-name-resolve".to_owned(),
        "--max-connections=400".to_owned(),
        "--character-set-server=utf8mb4".to_owned(),
        "--collation-server=utf8mb4_general_ci".to_owned(),
        "--innodb-buffer-pool-size=128M".to_owned(),
        "--innodb-flush-log-at-trx-commit=0".to_owned(),
        "--max-allowed-packet=64M".to_owned(),
        format!("--ssl-ca={}", ca.display()),
        format!("--ssl-cert={}", cert.display()),
        format!("--ssl-key={}", key.display()),
    ];
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let start = dir.join("start.sh");
    fs::write(
        &start,
        format!(
            "#!/bin/sh\n# Starts this MariaDB in the background (xtask db up, and tests that restart it).\n{SERVER} {} >>'{}' 2>&1 &\n",
            quoted.join(" "),
            log.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    status(Command::new("sh").arg(&start))?;
    wait_until(&format!("MariaDB on port {port}"), &log, || ping(&socket))?;

    let password = secret("pw");
    let admin_password = secret("su");
    // A fresh data directory has anonymous ''@'localhost' users that shadow 'dbpool'@'%'
    // for logins from 127.0.0.1 (error 1045): they go first.
    let script = format!(
        "DELETE FROM mysql.global_priv WHERE User = '';\n\
         FLUSH PRIVILEGES;\n\
         CREATE DATABASE dbpool_test CHARACTER SET utf8mb4;\n\
         CREATE USER 'dbpool'@'%' IDENTIFIED BY '{password}';\n\
         GRANT ALL ON dbpool_test.* TO 'dbpool'@'%';\n\
         CREATE USER 'dbpool_admin'@'%' IDENTIFIED BY '{admin_password}';\n\
         GRANT ALL ON *.* TO 'dbpool_admin'@'%' WITH GRANT OPTION;\n\
         ALTER USER 'root'@'localhost' IDENTIFIED BY '{admin_password}';\n"
    );
    pipe_sql(
        Command::new(CLIENT)
            .arg("--no-defaults")
            .arg(format!("--socket={}", socket.display()))
            .arg("--user=root"),
        &script,
    )
    .map_err(|e| format!("creating the MariaDB test users failed: {e}"))?;
    eprintln!("xtask: MariaDB ready on 127.0.0.1:{port}");
    Ok(vec![
        (
            "DBPOOL_MY_URL",
            format!("mysql://dbpool:{password}@127.0.0.1:{port}/dbpool_test"),
        ),
        (
            "DBPOOL_MY_ADMIN_URL",
            format!("mysql://dbpool_admin:{admin_password}@127.0.0.1:{port}/dbpool_test"),
        ),
        ("DBPOOL_MY_SOCKET", socket.display().to_string()),
        ("DBPOOL_MY_SSLROOTCERT", ca.display().to_string()),
        ("DBPOOL_MY_START", start.display().to_string()),
        ("DBPOOL_MY_PIDFILE", pid_file.display().to_string()),
        ("DBPOOL_MY_ADMIN_BIN", ADMIN.to_owned()),
        ("DBPOOL_MY_DIR", dir.display().to_string()),
    ])
}

/// Whether a process runs (a zombie waiting for a parent that never reaps it does not).
fn is_running(pid: &str) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Stops the server by the pid in its pid file, and removes its files.
pub fn down(get: &dyn Fn(&str) -> Option<String>) {
    if let Some(pid) = get("DBPOOL_MY_PIDFILE")
        .and_then(|file| fs::read_to_string(file).ok())
        .map(|pid| pid.trim().to_owned())
    {
        let _ = status(Command::new("kill").args(["-TERM", &pid]));
        if wait_until("MariaDB's shutdown", Path::new("the server log"), || {
            !is_running(&pid)
        })
        .is_err()
        {
            let _ = status(Command::new("kill").args(["-KILL", &pid]));
        }
    }
    if let Some(socket) = get("DBPOOL_MY_SOCKET") {
        let _ = fs::remove_file(socket);
    }
    let _ = fs::remove_dir_all(maria_dir());
}
