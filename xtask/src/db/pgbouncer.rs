//! PgBouncer (Debian's `pgbouncer`, installed with apt-get when running as root and it is
//! missing) in transaction-pooling mode in front of the project's PostgreSQL, for the
//! database `dbpool_bouncer` only, so the server's sessions of the bouncer are counted
//! apart from every other test's. As root it runs as the `postgres` user (PgBouncer refuses
//! root), with its files beside the server's.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{apt_install, free_port, wait_until};
use crate::run::status;

/// The server connections PgBouncer keeps for the test database: the figure the
/// many-processes test checks the server never exceeds.
pub const POOL_SIZE: u16 = 4;

/// The test database behind the bouncer.
pub const DATABASE: &str = "dbpool_bouncer";

/// A second entry, for the main test database, with a pool of server sessions of its own:
/// for the tests of the adapter's default mode, whose prepared statements stay behind on the
/// server sessions (the point of those tests) and must not reach the other tests'.
const DEFAULT_MODE_ALIAS: &str = "dbpool_bouncer_default";

fn binary() -> Result<PathBuf, String> {
    let path = PathBuf::from("/usr/sbin/pgbouncer");
    if !path.exists() {
        apt_install(&["pgbouncer"])?;
    }
    if path.exists() {
        Ok(path)
    } else {
        Err("pgbouncer installed but /usr/sbin/pgbouncer is missing".to_owned())
    }
}

/// What PgBouncer needs from the PostgreSQL it fronts.
pub struct Upstream<'a> {
    /// The folder of the server's files (PgBouncer's go beside them).
    pub dir: &'a Path,
    /// The server's port.
    pub port: u16,
    /// The `dbpool` role's password.
    pub password: &'a str,
    /// Run as the `postgres` user (we are root).
    pub run_as_postgres: bool,
}

/// Starts PgBouncer; returns its environment.
pub fn up(upstream: &Upstream<'_>) -> Result<Vec<(&'static str, String)>, String> {
    let bin = binary()?;
    let dir = upstream.dir.join("pgbouncer");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let port = free_port()?;
    let ini = dir.join("pgbouncer.ini");
    let userlist = dir.join("userlist.txt");
    let log = dir.join("pgbouncer.log");
    let pidfile = dir.join("pgbouncer.pid");
    fs::write(&userlist, format!("\"dbpool\" \"{}\"\n", upstream.password))
        .map_err(|e| e.to_string())?;
    fs::write(
        &ini,
        format!(
            "[databases]\n\
             {DATABASE} = host=127.0.0.1 port={upstream_port} dbname={DATABASE}\n\
             {DEFAULT_MODE_ALIAS} = host=127.0.0.1 port={upstream_port} dbname=dbpool_test\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = scram-sha-256\n\
             auth_file = {userlist}\n\
             pool_mode = transaction\n\
             default_pool_size = {POOL_SIZE}\n\
             min_pool_size = 0\n\
             reserve_pool_size = 0\n\
             max_client_conn = 500\n\
             admin_users = dbpool\n\
             server_reset_query =\n\
             ignore_startup_parameters = extra_float_digits\n\
             logfile = {log}\n\
             pidfile = {pidfile}\n",
            upstream_port = upstream.port,
            userlist = userlist.display(),
            log = log.display(),
            pidfile = pidfile.display(),
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut start = if upstream.run_as_postgres {
        status(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir),
        )?;
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"])
            .arg(&bin)
            .current_dir("/");
        cmd
    } else {
        Command::new(&bin)
    };
    status(start.arg("-d").arg(&ini))?;
    wait_until(&format!("PgBouncer on port {port}"), &log, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    })?;
    eprintln!("xtask: PgBouncer (transaction pooling, {POOL_SIZE} server connections) ready on 127.0.0.1:{port}");
    Ok(vec![
        (
            "DBPOOL_PGBOUNCER_URL",
            format!(
                "postgres://dbpool:{}@127.0.0.1:{port}/{DATABASE}?sslmode=disable",
                upstream.password
            ),
        ),
        (
            "DBPOOL_PGBOUNCER_DEFAULT_MODE_URL",
            format!(
                "postgres://dbpool:{}@127.0.0.1:{port}/{DEFAULT_MODE_ALIAS}?sslmode=disable",
                upstream.password
            ),
        ),
        (
            "DBPOOL_PGBOUNCER_ADMIN_URL",
            format!(
                "postgres://dbpool:{}@127.0.0.1:{port}/pgbouncer?sslmode=disable",
                upstream.password
            ),
        ),
        ("DBPOOL_PGBOUNCER_POOL_SIZE", POOL_SIZE.to_string()),
        ("DBPOOL_PGBOUNCER_PIDFILE", pidfile.display().to_string()),
    ])
}

/// Stops PgBouncer (its files go with the server's).
pub fn down(get: &dyn Fn(&str) -> Option<String>) {
    let Some(pidfile) = get("DBPOOL_PGBOUNCER_PIDFILE") else {
        return;
    };
    if let Ok(pid) = fs::read_to_string(&pidfile) {
        let _ = Command::new("kill").args(["-INT", pid.trim()]).status();
    }
}
