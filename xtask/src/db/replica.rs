//! A streaming replica of the project's PostgreSQL (`pg_basebackup -R`), on a port of its
//! own: a hot standby for the failover and read/write routing tests. It is stopped with the
//! primary's files by `down` (its data lives in the primary's folder).

use std::path::Path;
use std::process::Stdio;

use super::free_port;
use super::postgres::{as_pg_user, wait_ready};
use crate::run::status;

/// What the replica needs from its primary.
pub struct Primary<'a> {
    pub bin: &'a Path,
    /// The primary's folder (the replica's data goes in it).
    pub dir: &'a Path,
    pub port: u16,
    pub superuser_password: &'a str,
    /// The `dbpool` role's password (the replica has the same roles).
    pub password: &'a str,
    /// Run as the `postgres` user (we are root).
    pub root: bool,
}

/// Clones the primary and starts the copy as a hot standby; returns its environment.
pub fn up(primary: &Primary<'_>) -> Result<Vec<(&'static str, String)>, String> {
    let data = primary.dir.join("replica");
    let log = primary.dir.join("replica.log");
    status(
        as_pg_user(&primary.bin.join("pg_basebackup"), primary.root)
            .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
            .args(["-U", "postgres", "-D"])
            .arg(&data)
            .args(["-R", "-X", "stream", "-c", "fast"])
            .env("PGPASSWORD", primary.superuser_password)
            .stdout(Stdio::null()),
    )?;
    let port = free_port()?;
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=300 -c fsync=off -c hot_standby=on",
        primary.dir.display()
    );
    status(
        as_pg_user(&primary.bin.join("pg_ctl"), primary.root)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options, "-W", "start"])
            .stdout(Stdio::null()),
    )?;
    wait_ready(primary.bin, port, &log)?;
    eprintln!("xtask: PostgreSQL streaming replica ready on 127.0.0.1:{port}");
    Ok(vec![
        (
            "DBPOOL_PG_REPLICA_URL",
            format!(
                "postgres://dbpool:{}@127.0.0.1:{port}/dbpool_test",
                primary.password
            ),
        ),
        ("DBPOOL_PG_REPLICA_DATA", data.display().to_string()),
    ])
}
