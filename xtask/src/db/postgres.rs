//! PostgreSQL from Debian's `postgresql` package (installed with apt-get when running as
//! root and it is missing). As root, the server runs as the `postgres` system user, since
//! `initdb` and `pg_ctl` refuse to run as root. Readiness is polled with `pg_isready`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::certs::make_certificates;
use super::{apt_install, db_root, free_port, is_root, pipe_sql, secret, wait_until};
use super::{pgbouncer, replica};
use crate::run::status;

fn pg_dir() -> PathBuf {
    db_root().join("pg")
}

/// Where the server's files go: `target/db/pg`, unless the `postgres` user cannot reach it
/// (a checkout under a private home directory), then a folder of its own under /tmp.
fn pg_dir_for(root: bool) -> Result<PathBuf, String> {
    let dir = pg_dir();
    if !root {
        return Ok(dir);
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    status(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
    let reachable = Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-w"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if reachable {
        return Ok(dir);
    }
    let fallback = std::env::temp_dir().join(format!("dbpool-pg-{}", std::process::id()));
    eprintln!(
        "xtask: the postgres user cannot reach {}; using {}",
        dir.display(),
        fallback.display()
    );
    Ok(fallback)
}

fn find_pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn pg_bin() -> Result<PathBuf, String> {
    if let Some(bin) = find_pg_bin() {
        return Ok(bin);
    }
    apt_install(&["postgresql", "postgresql-client"])?;
    find_pg_bin().ok_or_else(|| "postgresql installed but no initdb found".to_owned())
}

/// A command run as the `postgres` user when we are root.
pub(super) fn as_pg_user(program: &Path, root: bool) -> Command {
    if root {
        let mut cmd = Command::new("runuser");
        // From a folder the postgres user may enter, whatever ours is.
        cmd.args(["-u", "postgres", "--"])
            .arg(program)
            .current_dir("/");
        cmd
    } else {
        Command::new(program)
    }
}

pub(super) fn wait_ready(bin: &Path, port: u16, log: &Path) -> Result<(), String> {
    wait_until(&format!("PostgreSQL on port {port}"), log, || {
        Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Starts PostgreSQL; returns its environment.
pub fn up() -> Result<Vec<(&'static str, String)>, String> {
    let bin = pg_bin()?;
    let root = is_root();
    let dir = pg_dir_for(root)?;
    let data = dir.join("data");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let superuser_password = secret("su");
    let password = secret("pw");
    let pwfile = dir.join("pwfile");
    fs::write(&pwfile, format!("{superuser_password}\n")).map_err(|e| e.to_string())?;
    if root {
        status(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir),
        )?;
    }
    status(
        as_pg_user(&bin.join("initdb"), root)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(std::process::Stdio::null()),
    )?;
    let (ca, cert, key) = make_certificates(&dir, root.then_some("postgres"))?;
    let port = free_port()?;
    let options = format!(
        "-c listen_addresses=127.0.0.1,127.0.0.2 -p {port} -k {} -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        dir.display(),
        cert.display(),
        key.display()
    );
    status(
        as_pg_user(&bin.join("pg_ctl"), root)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-o", &options, "-W", "start"])
            .stdout(std::process::Stdio::null()),
    )?;
    wait_ready(&bin, port, &dir.join("log"))?;
    // SQL goes in on stdin so the role's password never shows in a process list or log.
    let script = format!(
        "CREATE ROLE dbpool LOGIN PASSWORD '{password}';\nCREATE DATABASE dbpool_test OWNER dbpool;\nCREATE DATABASE {} OWNER dbpool;\n",
        pgbouncer::DATABASE
    );
    pipe_sql(
        Command::new(bin.join("psql"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .args([
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-f",
                "-",
            ])
            .env("PGPASSWORD", &superuser_password),
        &script,
    )
    .map_err(|e| format!("creating the test role and database failed: {e}"))?;
    let mut env = vec![
        (
            "DBPOOL_PG_URL",
            format!("postgres://dbpool:{password}@127.0.0.1:{port}/dbpool_test"),
        ),
        (
            "DBPOOL_PG_ADMIN_URL",
            format!("postgres://postgres:{superuser_password}@127.0.0.1:{port}/postgres"),
        ),
        ("DBPOOL_PG_BIN", bin.display().to_string()),
        ("DBPOOL_PG_SSLROOTCERT", ca.display().to_string()),
        ("DBPOOL_PG_DATA", data.display().to_string()),
        // What a test that stops the server needs to start it again as it was.
        ("DBPOOL_PG_OPTIONS", options.clone()),
        ("DBPOOL_PG_LOG", dir.join("log").display().to_string()),
        ("DBPOOL_PG_DIR", dir.display().to_string()),
        (
            "DBPOOL_PG_RUNAS",
            if root { "postgres" } else { "" }.to_owned(),
        ),
    ];
    eprintln!("xtask: PostgreSQL ready on 127.0.0.1:{port}");
    let beside = replica::up(&replica::Primary {
        bin: &bin,
        dir: &dir,
        port,
        superuser_password: &superuser_password,
        password: &password,
        root,
    })
    .and_then(|mut more| {
        more.extend(pgbouncer::up(&pgbouncer::Upstream {
            dir: &dir,
            port,
            password: &password,
            run_as_postgres: root,
        })?);
        Ok(more)
    });
    match beside {
        Ok(more) => {
            env.extend(more);
            Ok(env)
        }
        Err(err) => {
            // Nothing is left running when a part fails to start.
            let known: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            down(&|key| known.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
            Err(err)
        }
    }
}

/// Stops PgBouncer and the server (by its data directory) and removes their files.
pub fn down(get: &dyn Fn(&str) -> Option<String>) {
    pgbouncer::down(get);
    if let Some(bin) = get("DBPOOL_PG_BIN") {
        let root = get("DBPOOL_PG_RUNAS").is_some_and(|r| !r.is_empty());
        for data in [get("DBPOOL_PG_REPLICA_DATA"), get("DBPOOL_PG_DATA")]
            .into_iter()
            .flatten()
        {
            let _ = status(
                as_pg_user(&Path::new(&bin).join("pg_ctl"), root)
                    .arg("-D")
                    .arg(&data)
                    .args(["-m", "immediate", "stop"])
                    .stdout(std::process::Stdio::null()),
            );
        }
    }
    if let Some(dir) = get("DBPOOL_PG_DIR") {
        let _ = fs::remove_dir_all(dir);
    }
    let _ = fs::remove_dir_all(pg_dir());
}
