//! `cargo xtask db up|down|env`: throwaway database servers on loopback under `target/db/`.
//!
//! PostgreSQL comes from Debian's `postgresql` package (installed with apt-get when running as
//! root and it is missing). As root, the server runs as the `postgres` system user, since
//! `initdb` and `pg_ctl` refuse to run as root. Readiness is polled with `pg_isready`.

use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::run::{status, workspace_root};

/// The file holding the running servers' environment (`KEY=value` lines).
fn env_file() -> PathBuf {
    db_root().join("env")
}

fn db_root() -> PathBuf {
    workspace_root().join("target").join("db")
}

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

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
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

fn pg_bin() -> Result<PathBuf, String> {
    if let Some(bin) = find_pg_bin() {
        return Ok(bin);
    }
    apt_install(&["postgresql", "postgresql-client"])?;
    find_pg_bin().ok_or_else(|| "postgresql installed but no initdb found".to_owned())
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

/// A command run as the `postgres` user when we are root.
fn as_pg_user(program: &Path, root: bool) -> Command {
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

fn wait_ready(bin: &Path, port: u16, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "PostgreSQL did not become ready on port {port}; see {}",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A throwaway CA and a server certificate it signs for 127.0.0.1 and localhost, so the TLS
/// tests are real (`verify-ca` and `verify-full` trust the CA). Returns (CA, cert, key).
fn make_certificates(dir: &Path, root: bool) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    if Command::new("openssl").arg("version").output().is_err() {
        apt_install(&["openssl"])?;
    }
    let path = |name: &str| dir.join(name);
    let quiet = |cmd: &mut Command| status(cmd.stderr(std::process::Stdio::null()));
    quiet(
        Command::new("openssl")
            .args([
                "req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-days", "7",
            ])
            .args(["-subj", "/CN=dbpool test CA", "-keyout"])
            .arg(path("ca.key"))
            .arg("-out")
            .arg(path("ca.crt")),
    )?;
    quiet(
        Command::new("openssl")
            .args([
                "req",
                "-new",
                "-nodes",
                "-newkey",
                "rsa:2048",
                "-subj",
                "/CN=127.0.0.1",
            ])
            .arg("-keyout")
            .arg(path("server.key"))
            .arg("-out")
            .arg(path("server.csr")),
    )?;
    fs::write(
        path("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    quiet(
        Command::new("openssl")
            .args(["x509", "-req", "-days", "7", "-CAcreateserial", "-in"])
            .arg(path("server.csr"))
            .arg("-CA")
            .arg(path("ca.crt"))
            .arg("-CAkey")
            .arg(path("ca.key"))
            .arg("-extfile")
            .arg(path("server.ext"))
            .arg("-out")
            .arg(path("server.crt")),
    )?;
    status(Command::new("chmod").arg("600").arg(path("server.key")))?;
    if root {
        status(
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(path("server.crt"))
                .arg(path("server.key")),
        )?;
    }
    Ok((path("ca.crt"), path("server.crt"), path("server.key")))
}

/// Starts PostgreSQL and writes `target/db/env`.
pub fn up() -> Result<(), String> {
    if env_file().exists() {
        down()?;
    }
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
    let (ca, cert, key) = make_certificates(&dir, root)?;
    let port = free_port()?;
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
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
        "CREATE ROLE dbpool LOGIN PASSWORD '{password}';\nCREATE DATABASE dbpool_test OWNER dbpool;\n"
    );
    let mut psql = Command::new(bin.join("psql"))
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
        .env("PGPASSWORD", &superuser_password)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if let Some(mut stdin) = psql.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| format!("cannot write to psql: {e}"))?;
    }
    let created = psql.wait().map_err(|e| e.to_string())?;
    if !created.success() {
        return Err(format!(
            "creating the test role and database failed: {created}"
        ));
    }
    let env = [
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
        ("DBPOOL_PG_DIR", dir.display().to_string()),
        (
            "DBPOOL_PG_RUNAS",
            if root { "postgres" } else { "" }.to_owned(),
        ),
    ];
    let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    fs::write(env_file(), text).map_err(|e| e.to_string())?;
    eprintln!("xtask: PostgreSQL ready on 127.0.0.1:{port}");
    Ok(())
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

/// Stops the servers by their data directories and removes them.
pub fn down() -> Result<(), String> {
    let vars = vars().unwrap_or_default();
    let get = |key: &str| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    if let (Some(bin), Some(data)) = (get("DBPOOL_PG_BIN"), get("DBPOOL_PG_DATA")) {
        let root = get("DBPOOL_PG_RUNAS").is_some_and(|r| !r.is_empty());
        let _ = status(
            as_pg_user(&Path::new(&bin).join("pg_ctl"), root)
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "stop"])
                .stdout(std::process::Stdio::null()),
        );
    }
    let _ = fs::remove_file(env_file());
    if let Some(dir) = get("DBPOOL_PG_DIR") {
        let _ = fs::remove_dir_all(dir);
    }
    let _ = fs::remove_dir_all(pg_dir());
    Ok(())
}
