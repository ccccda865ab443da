//! unixODBC with three real drivers (SQLite 3, psqlODBC, MariaDB Connector/ODBC), configured
//! under `target/db/odbc/` through `ODBCSYSINI` and `ODBCINI`; `/etc` is never touched.

use std::fs;
use std::path::{Path, PathBuf};

use super::{apt_install, db_root};

/// The driver libraries, by the name the project's `odbcinst.ini` gives them.
const DRIVERS: [(&str, &str); 3] = [
    ("dbpool SQLite3", "libsqlite3odbc.so"),
    ("dbpool PostgreSQL", "psqlodbcw.so"),
    ("dbpool MariaDB", "libmaodbc.so"),
];

/// Where Debian puts ODBC drivers on this architecture, if they are installed.
fn driver_dir() -> Option<PathBuf> {
    let entries = fs::read_dir("/usr/lib").ok()?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path().join("odbc"))
        .find(|dir| DRIVERS.iter().all(|(_, lib)| dir.join(lib).exists()))
}

/// `libodbc.so` for linking (unixodbc-dev).
fn has_dev_library() -> bool {
    fs::read_dir("/usr/lib").is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.path().join("libodbc.so").exists())
    })
}

fn ensure_installed() -> Result<PathBuf, String> {
    if let (Some(dir), true) = (driver_dir(), has_dev_library()) {
        return Ok(dir);
    }
    apt_install(&[
        "unixodbc",
        "unixodbc-dev",
        "libsqliteodbc",
        "odbc-postgresql",
        "odbc-mariadb",
    ])?;
    driver_dir().ok_or_else(|| {
        "the ODBC driver libraries are still missing after apt-get install".to_owned()
    })
}

/// `scheme://user:password@host:port/database` → its parts.
fn url_parts(url: &str) -> Result<[String; 5], String> {
    let bad = || {
        format!(
            "cannot read the server URL {:?}",
            url.split('@').next_back()
        )
    };
    let rest = url.split_once("://").ok_or_else(bad)?.1;
    let (credentials, location) = rest.rsplit_once('@').ok_or_else(bad)?;
    let (user, password) = credentials.split_once(':').ok_or_else(bad)?;
    let (host_port, database) = location.split_once('/').ok_or_else(bad)?;
    let (host, port) = host_port.rsplit_once(':').ok_or_else(bad)?;
    Ok([user, password, host, port, database].map(str::to_owned))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Installs what is missing, writes the ini files, and returns the environment: the
/// driver manager's variables and one connection string per driver.
pub fn up(pg_url: &str, my_url: &str) -> Result<Vec<(&'static str, String)>, String> {
    let libs = ensure_installed()?;
    let dir = db_root().join("odbc");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut odbcinst = String::from("# Written by cargo xtask db up.\n");
    for (name, lib) in DRIVERS {
        odbcinst.push_str(&format!(
            "[{name}]\nDriver={}\nUsageCount=1\n\n",
            libs.join(lib).display()
        ));
    }
    write(&dir.join("odbcinst.ini"), &odbcinst)?;
    let sqlite_db = dir.join("sqlite.db");
    // A named data source, for the `odbc://name` form.
    write(
        &dir.join("odbc.ini"),
        &format!(
            "[dbpool_sqlite]\nDriver=dbpool SQLite3\nDatabase={}\nTimeout=30000\n",
            sqlite_db.display()
        ),
    )?;
    let [pg_user, pg_password, pg_host, pg_port, pg_db] = url_parts(pg_url)?;
    let [my_user, my_password, my_host, my_port, my_db] = url_parts(my_url)?;
    eprintln!("xtask: ODBC drivers configured in {}", dir.display());
    Ok(vec![
        ("ODBCSYSINI", dir.display().to_string()),
        ("ODBCINI", dir.join("odbc.ini").display().to_string()),
        ("DBPOOL_ODBC_DIR", dir.display().to_string()),
        (
            "DBPOOL_ODBC_SQLITE",
            format!(
                "Driver={{dbpool SQLite3}};Database={};Timeout=30000",
                sqlite_db.display()
            ),
        ),
        (
            "DBPOOL_ODBC_PG",
            format!(
                "Driver={{dbpool PostgreSQL}};Server={pg_host};Port={pg_port};Database={pg_db};UID={pg_user};PWD={pg_password};SSLMode=disable;BoolsAsChar=0"
            ),
        ),
        (
            "DBPOOL_ODBC_MY",
            format!(
                "Driver={{dbpool MariaDB}};Server={my_host};Port={my_port};Database={my_db};UID={my_user};PWD={my_password};Option=2"
            ),
        ),
    ])
}
