//! The MySQL adapter against a real MariaDB server (started by `cargo xtask test`): every
//! error code the DB-API kinds are promised for, every type through both protocols,
//! transactions, sessions, DSNs and TLS.

use std::sync::{Arc, Barrier};
use std::thread;

use dbapi::{params, Connection, Cursor, Error, ErrorKind, Module, Params, ResetLevel, Value};
use dbapi_mysql::{Mysql, MysqlConnection, RowCount};

fn url() -> String {
    std::env::var("DBPOOL_MY_URL")
        .expect("DBPOOL_MY_URL is not set: run the MariaDB tests with `cargo xtask test`")
}

fn connect() -> MysqlConnection {
    Mysql::from_dsn(&url())
        .expect("dsn")
        .connect()
        .expect("connect")
}

fn admin() -> MysqlConnection {
    let url = std::env::var("DBPOOL_MY_ADMIN_URL").expect("DBPOOL_MY_ADMIN_URL: cargo xtask test");
    Mysql::from_dsn(&url)
        .expect("dsn")
        .autocommit(true)
        .connect()
        .expect("admin connects")
}

fn one(conn: &mut MysqlConnection, sql: &str, params: &Params) -> Value {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    cur.fetchone().expect("fetch").expect("a row")[0].clone()
}

fn fails(conn: &mut MysqlConnection, sql: &str, params: &Params) -> Error {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params).expect_err(sql)
}

fn unique(base: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{base}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A table dropped when the test ends, whatever happens. Create it before the connections
/// that use it: they are then dropped (and their transactions rolled back) first, so the
/// `DROP TABLE` never waits on a metadata lock they still hold.
struct Table(String);

impl Table {
    fn create(columns: &str) -> Self {
        let name = unique("adapter");
        admin()
            .execute(
                &format!("CREATE TABLE {name} ({columns}) ENGINE=InnoDB"),
                &params![],
            )
            .expect("create table");
        Self(name)
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        let _ = admin().execute(&format!("DROP TABLE IF EXISTS {}", self.0), &params![]);
    }
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn connect_errors_are_operational_with_their_codes_and_no_password() {
    let params = dbapi::ConnectParams::parse(&url()).expect("url");
    let (host, port) = (params.host().expect("host"), params.port().expect("port"));
    let wrong = format!("mysql://dbpool:NotThePassword99@{host}:{port}/dbpool_test");
    let err = Mysql::from_dsn(&wrong)
        .expect("dsn")
        .connect()
        .expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    assert_eq!(err.native_code(), Some(1045), "{err}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("NotThePassword99"), "{text}");
    assert!(
        err.message().contains("***"),
        "the target is named, redacted: {err}"
    );

    let base = url();
    let (prefix, _) = base.rsplit_once('/').expect("a database in the url");
    let err = Mysql::from_dsn(&format!("{prefix}/no_such_database"))
        .expect("dsn")
        .connect()
        .expect_err("unknown database");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    assert!(
        err.native_code() == Some(1049) || err.native_code() == Some(1044),
        "{err}"
    );
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn statement_errors_map_to_their_dbapi_kinds() {
    let table = Table::create("id INT PRIMARY KEY, code VARCHAR(3), n INT");
    let mut conn = connect();
    let t = &table.0;
    conn.execute(&format!("INSERT INTO {t} VALUES (1, 'a', 1)"), &params![])
        .expect("insert");
    let cases: [(&str, Params, ErrorKind, i64); 5] = [
        (
            &format!("INSERT INTO {t} VALUES (1, 'b', 2)"),
            params![],
            ErrorKind::Integrity,
            1062,
        ),
        ("SELEKT 1", params![], ErrorKind::Programming, 1064),
        (
            "SELECT * FROM no_such_table_here",
            params![],
            ErrorKind::Programming,
            1146,
        ),
        (
            &format!("INSERT INTO {t} VALUES (2, 'toolong', 1)"),
            params![],
            ErrorKind::Data,
            1406,
        ),
        (
            &format!("INSERT INTO {t} VALUES (3, 'c', 'not a number')"),
            params![],
            ErrorKind::Data,
            1366,
        ),
    ];
    for (sql, params, kind, code) in cases {
        let err = fails(&mut conn, sql, &params);
        assert_eq!(
            (err.kind(), err.native_code()),
            (kind, Some(code)),
            "{sql}: {err}"
        );
        assert!(err.sqlstate().is_some(), "{err}");
        assert!(!err.is_disconnect(), "{err}");
        assert!(
            !conn.is_broken(),
            "a statement error leaves the connection usable"
        );
    }
    // Through the binary protocol too.
    let err = fails(
        &mut conn,
        &format!("INSERT INTO {t} VALUES (?, ?, ?)"),
        &params![1, "x", 1],
    );
    assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
    let err = fails(
        &mut conn,
        &format!("SELECT * FROM {t} WHERE id = ?"),
        &params![1, 2],
    );
    assert_eq!(
        err.kind(),
        ErrorKind::Programming,
        "wrong parameter count: {err}"
    );
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn lock_wait_timeouts_and_deadlocks_are_operational() {
    let table = Table::create("id INT PRIMARY KEY, v INT");
    let mut setup = connect();
    let t = table.0.clone();
    setup
        .execute(
            &format!("INSERT INTO {t} VALUES (1, 0), (2, 0)"),
            &params![],
        )
        .expect("rows");
    setup.commit().expect("commit");

    // Lock wait timeout: a row held by another transaction.
    let mut holder = connect();
    holder
        .execute(&format!("UPDATE {t} SET v = 1 WHERE id = 1"), &params![])
        .expect("hold row 1");
    let mut waiter = connect();
    waiter
        .execute("SET SESSION innodb_lock_wait_timeout = 1", &params![])
        .expect("short wait");
    let err = fails(
        &mut waiter,
        &format!("UPDATE {t} SET v = 2 WHERE id = 1"),
        &params![],
    );
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Operational, Some(1205)),
        "{err}"
    );
    holder.rollback().expect("release");
    waiter.rollback().expect("rollback");

    // Deadlock: two transactions take two rows in opposite orders.
    let both_hold = Arc::new(Barrier::new(2));
    let run = |first: i32, second: i32| {
        let (t, both_hold) = (t.clone(), Arc::clone(&both_hold));
        thread::spawn(move || {
            let mut conn = connect();
            conn.execute(
                &format!("UPDATE {t} SET v = v + 1 WHERE id = {first}"),
                &params![],
            )
            .expect("first row");
            both_hold.wait();
            let result = conn.execute(
                &format!("UPDATE {t} SET v = v + 1 WHERE id = {second}"),
                &params![],
            );
            let _ = conn.rollback();
            result.err()
        })
    };
    let (a, b) = (run(1, 2), run(2, 1));
    let errors: Vec<Error> = [a, b]
        .into_iter()
        .filter_map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "exactly one side is chosen as the victim: {errors:?}"
    );
    assert_eq!(
        (errors[0].kind(), errors[0].native_code()),
        (ErrorKind::Operational, Some(1213))
    );
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_killed_session_is_a_disconnect_and_the_connection_reports_broken() {
    let mut conn = connect();
    let id = conn.connection_id().expect("open");
    assert_eq!(
        one(&mut conn, "SELECT CONNECTION_ID()", &params![]),
        Value::Int(i64::from(id))
    );
    admin()
        .execute(&format!("KILL CONNECTION {id}"), &params![])
        .expect("kill");
    let err = fails(&mut conn, "SELECT 1", &params![]);
    assert!(err.is_disconnect(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Operational);
    assert!(conn.is_broken());
    assert!(conn.ping().is_err());
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn check_alive_leaves_the_socket_blocking_and_finds_a_killed_session() {
    let mut conn = connect();
    conn.check_alive().expect("a fresh connection is alive");
    // The look peeks without blocking but does not switch the socket's mode: an answer that
    // takes the server a while is still waited for, not failed as "would block".
    assert_eq!(
        one(&mut conn, "SELECT SLEEP(0.2)", &params![]),
        Value::Int(0)
    );
    conn.check_alive().expect("still alive after a statement");
    let id = conn.connection_id().expect("open");
    admin()
        .execute(&format!("KILL CONNECTION {id}"), &params![])
        .expect("kill");
    // The server closes the socket once its thread sees the kill, after KILL has answered:
    // look until then (bounded, so a look that never sees it fails the test).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let err = loop {
        match conn.check_alive() {
            Err(err) => break err,
            Ok(()) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "check_alive never saw the killed session"
                );
                thread::yield_now();
            }
        }
    };
    assert!(err.is_disconnect(), "{err}");
    assert!(conn.is_broken());
    let err = fails(&mut conn, "SELECT 1", &params![]);
    assert!(err.is_disconnect(), "{err}");
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn every_type_round_trips_through_both_protocols() {
    let columns = "k INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, \
         tu TINYINT UNSIGNED, bu BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec_ DECIMAL(40,20), \
         b1 BIT(1), b8 BIT(8), c CHAR(3), vc VARCHAR(20), tx TEXT, bin BINARY(3), bl BLOB, \
         dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, js JSON, nul INT";
    let table = Table::create(columns);
    let mut conn = connect();
    let t = &table.0;
    let date = Value::date(2024, 2, 29).expect("date");
    let time = Value::Time(dbapi::Time::new(23, 59, 58, 123_456_000).expect("time"));
    let stamp = Value::Timestamp(dbapi::Timestamp::new(
        dbapi::Date::new(1999, 12, 31).expect("date"),
        dbapi::Time::new(23, 59, 59, 999_999_000).expect("time"),
    ));
    let values = vec![
        Value::Int(1),
        Value::Int(-128),
        Value::Int(-32768),
        Value::Int(-8_388_608),
        Value::Int(i64::from(i32::MIN)),
        Value::Int(i64::MIN),
        Value::Int(255),
        Value::Decimal(u64::MAX.to_string()),
        Value::Float(1.5),
        Value::Float(f64::MIN_POSITIVE),
        Value::Decimal("12345678901234567890.12345678901234567890".to_owned()),
        Value::Bool(true),
        Value::Int(0xA5),
        Value::from("abc"),
        Value::from("Grüße, 世界 🍺"),
        Value::from("🦀".repeat(1000)),
        Value::binary([0_u8, 255, 10]),
        Value::binary((0..=255_u8).collect::<Vec<_>>()),
        date.clone(),
        time.clone(),
        stamp.clone(),
        stamp.clone(),
        Value::from(r#"{"a": [1, 2]}"#),
        Value::Null,
    ];
    let markers = vec!["?"; values.len()].join(", ");
    conn.execute(
        &format!("INSERT INTO {t} VALUES ({markers})"),
        &Params::Positional(values.clone()),
    )
    .expect("insert through the binary protocol");
    let select = format!("SELECT * FROM {t} WHERE k = 1");
    for params in [params![], params![1]] {
        let sql = if params.is_empty() {
            select.clone()
        } else {
            format!("SELECT * FROM {t} WHERE k = ?")
        };
        let mut cur = conn.cursor().expect("cursor");
        cur.execute(&sql, &params).expect("select");
        let row = cur.fetchone().expect("fetch").expect("row");
        let protocol = if params.is_empty() { "text" } else { "binary" };
        for (i, want) in values.iter().enumerate() {
            assert_eq!(
                &row[i],
                want,
                "column {} over the {protocol} protocol",
                row.columns()[i].name
            );
        }
    }
    // BIT(8) was written as an integer and reads back as one; BIT(1) as a boolean.
    assert_eq!(
        one(
            &mut conn,
            &format!("SELECT b1 = 1, b8 FROM {t}"),
            &params![]
        ),
        Value::Int(1)
    );
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn times_outside_one_day_round_trip_as_text() {
    let table = Table::create("k INT PRIMARY KEY, tm TIME(6)");
    let mut conn = connect();
    let t = &table.0;
    for (k, text) in [
        (1, "-838:59:59.000000"),
        (2, "100:00:00.500000"),
        (3, "-00:00:01.000000"),
    ] {
        conn.execute(&format!("INSERT INTO {t} VALUES (?, ?)"), &params![k, text])
            .expect("insert");
        for params in [params![], params![k]] {
            let sql = if params.is_empty() {
                format!("SELECT tm FROM {t} WHERE k = {k}")
            } else {
                format!("SELECT tm FROM {t} WHERE k = ?")
            };
            assert_eq!(one(&mut conn, &sql, &params), Value::from(text), "{sql}");
        }
    }
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn descriptions_name_mysql_types_and_families() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT 1 AS i, CAST(1 AS UNSIGNED) AS u, 1.5e0 AS f, CAST(1.5 AS DECIMAL(4,2)) AS d, \
         'x' AS s, CAST('x' AS BINARY) AS b, CURDATE() AS dt, NOW(6) AS ts",
        &params![],
    )
    .expect("select");
    let description = cur.description().expect("columns");
    let got: Vec<(&str, Option<dbapi::TypeObject>)> = description
        .iter()
        .map(|c| (&*c.name, c.type_code.family))
        .collect();
    use dbapi::TypeObject::{Binary, Datetime, Number, String as Text};
    assert_eq!(
        got,
        [
            ("i", Some(Number)),
            ("u", Some(Number)),
            ("f", Some(Number)),
            ("d", Some(Number)),
            ("s", Some(Text)),
            ("b", Some(Binary)),
            ("dt", Some(Datetime)),
            ("ts", Some(Datetime)),
        ]
    );
    assert_eq!(description[3].type_code.name, "DECIMAL");
    assert_eq!(
        (description[3].precision, description[3].scale),
        (Some(4), Some(2))
    );
    assert_eq!(description[0].null_ok, Some(false));
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn rowcount_counts_found_rows_by_default_and_changed_rows_on_request() {
    let table = Table::create("id INT PRIMARY KEY, v INT");
    let mut conn = connect();
    let t = &table.0;
    conn.execute(
        &format!("INSERT INTO {t} VALUES (1, 5), (2, 5), (3, 6)"),
        &params![],
    )
    .expect("rows");
    conn.commit().expect("commit");
    let update = format!("UPDATE {t} SET v = 5 WHERE id <= 3");
    assert_eq!(
        conn.execute(&update, &params![]).expect("update"),
        3,
        "found rows"
    );
    conn.rollback().expect("rollback");
    let mut changed = Mysql::from_dsn(&url())
        .expect("dsn")
        .rowcount(RowCount::Changed)
        .connect()
        .expect("connect");
    assert_eq!(
        changed.execute(&update, &params![]).expect("update"),
        1,
        "changed rows"
    );
    changed.rollback().expect("rollback");
    let mut via_dsn = Mysql::from_dsn(&format!("{}?rowcount=changed", url()))
        .expect("dsn")
        .connect()
        .expect("connect");
    assert_eq!(via_dsn.execute(&update, &params![]).expect("update"), 1);
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn lastrowid_and_several_result_sets() {
    let table = Table::create("id INT AUTO_INCREMENT PRIMARY KEY, v INT");
    let mut conn = connect();
    let t = &table.0;
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(&format!("INSERT INTO {t} (v) VALUES (?)"), &params![10])
        .expect("insert");
    assert_eq!(cur.lastrowid(), Some(1));
    cur.execute(&format!("INSERT INTO {t} (v) VALUES (20)"), &params![])
        .expect("insert");
    assert_eq!(cur.lastrowid(), Some(2));
    cur.execute(
        &format!("SELECT v FROM {t} ORDER BY id; UPDATE {t} SET v = v + 1; SELECT 'done'"),
        &params![],
    )
    .expect("three statements");
    assert_eq!(cur.fetchall().expect("first set").len(), 2);
    assert!(cur.nextset().expect("second"));
    assert!(cur.description().is_none());
    assert_eq!(cur.rowcount(), 2);
    assert!(cur.nextset().expect("third"));
    assert_eq!(
        cur.fetchone().expect("fetch").expect("row")[0],
        Value::from("done")
    );
    assert!(!cur.nextset().expect("no fourth"));
    // An error in a later statement surfaces from execute.
    let err = cur
        .execute("SELECT 1; SELEKT 2", &params![])
        .expect_err("second fails");
    assert_eq!(err.kind(), ErrorKind::Programming);
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn transactions_follow_the_dbapi_without_a_begin_round_trip() {
    let table = Table::create("v INT");
    let mut conn = connect();
    assert_eq!(conn.in_transaction(), Some(false));
    assert_eq!(
        one(&mut conn, "SELECT @@autocommit", &params![]),
        Value::Int(0)
    );
    assert_eq!(
        conn.in_transaction(),
        Some(true),
        "the first statement opened one"
    );
    conn.commit().expect("commit");
    assert_eq!(conn.in_transaction(), Some(false));
    conn.rollback()
        .expect("rollback without a transaction is a no-op");

    let t = &table.0;
    conn.execute(&format!("INSERT INTO {t} VALUES (1)"), &params![])
        .expect("insert");
    let mut other = connect();
    assert_eq!(
        one(&mut other, &format!("SELECT COUNT(*) FROM {t}"), &params![]),
        Value::Int(0)
    );
    conn.commit().expect("commit");
    other.rollback().expect("new snapshot");
    assert_eq!(
        one(&mut other, &format!("SELECT COUNT(*) FROM {t}"), &params![]),
        Value::Int(1)
    );

    conn.set_autocommit(true).expect("autocommit on");
    assert_eq!(
        one(&mut conn, "SELECT @@autocommit", &params![]),
        Value::Int(1)
    );
    assert_eq!(conn.in_transaction(), Some(false));
    conn.execute("START TRANSACTION", &params![])
        .expect("explicit");
    assert_eq!(conn.in_transaction(), Some(true));
    conn.rollback().expect("rollback");
    assert_eq!(conn.in_transaction(), Some(false));
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn reset_session_levels() {
    let probe = "SELECT CONCAT_WS('/', IFNULL(CAST(@left AS CHAR), 'none'), @@session.sql_mode = @@global.sql_mode, @@autocommit + 0)";
    // Rollback: the transaction goes, the session stays, autocommit is restored.
    let mut conn = connect();
    conn.set_autocommit(true).expect("autocommit");
    conn.execute("SET @left = 'x'", &params![])
        .expect("user variable");
    conn.reset_session().expect("rollback level");
    assert!(!conn.autocommit());
    assert_eq!(one(&mut conn, probe, &params![]), Value::from("x/1/0"));
    // Full: COM_RESET_CONNECTION; the connection id stays the same.
    let mut conn = Mysql::from_dsn(&url())
        .expect("dsn")
        .reset_level(ResetLevel::Full)
        .connect()
        .expect("connect");
    let id = conn.connection_id();
    conn.execute("SET @left = 'x'", &params![])
        .expect("user variable");
    conn.execute("SET SESSION sql_mode = 'ANSI'", &params![])
        .expect("session variable");
    conn.reset_session().expect("full level");
    assert_eq!(conn.connection_id(), id);
    assert_eq!(one(&mut conn, probe, &params![]), Value::from("none/1/0"));
    // The session's character set survives the reset.
    assert_eq!(
        one(&mut conn, "SELECT ?", &params!["🦀"]),
        Value::from("🦀")
    );
    // Prepared statements are gone on the server; the driver prepares again.
    assert_eq!(one(&mut conn, "SELECT ?", &params![7]), Value::Int(7));
    conn.reset_session().expect("again");
    assert_eq!(one(&mut conn, "SELECT ?", &params![8]), Value::Int(8));
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn ping_and_close() {
    let mut conn = connect();
    conn.ping().expect("COM_PING");
    assert!(!conn.is_broken());
    conn.close().expect("close");
    assert!(conn.is_closed() && conn.is_broken());
    assert_eq!(
        conn.cursor().err().map(|e| e.kind()),
        Some(ErrorKind::Interface)
    );
    conn.close().expect("closing twice is a no-op");
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn mysqldb_keywords_the_mariadb_scheme_and_the_unix_socket() {
    let params = dbapi::ConnectParams::parse(&url()).expect("url");
    let password = params.password().expect("password").expose().to_owned();
    let port = params.port().expect("port").to_string();
    let keywords = dbapi::ConnectParams::from_pairs(
        "mysql",
        [
            ("host", "127.0.0.1"),
            ("port", port.as_str()),
            ("user", "dbpool"),
            ("passwd", password.as_str()),
            ("db", "dbpool_test"),
            ("connect_timeout", "5"),
            ("charset", "utf8mb4"),
        ],
    )
    .expect("keywords");
    let mut conn = Mysql::from_params(&keywords)
        .expect("module")
        .connect()
        .expect("connect");
    assert_eq!(
        one(&mut conn, "SELECT DATABASE()", &params![]),
        Value::from("dbpool_test")
    );

    let maria = url().replacen("mysql://", "mariadb://", 1);
    Mysql::from_dsn(&maria)
        .expect("mariadb scheme")
        .connect()
        .expect("connect");

    let socket = std::env::var("DBPOOL_MY_SOCKET").expect("DBPOOL_MY_SOCKET");
    let over_socket = dbapi::ConnectParams::from_pairs(
        "mysql",
        [
            ("user", "dbpool"),
            ("passwd", password.as_str()),
            ("db", "dbpool_test"),
            ("unix_socket", socket.as_str()),
        ],
    )
    .expect("keywords");
    let mut conn = Mysql::from_params(&over_socket)
        .expect("module")
        .connect()
        .expect("socket");
    assert_eq!(
        one(&mut conn, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'", &params![]),
        Value::from(""),
        "no TLS over a local socket"
    );
}

#[test]
fn dsn_options_are_checked_and_passwords_stay_secret() {
    let module =
        Mysql::from_dsn("mysql://app:Sup3rSecret@db:3307/shop?connect_timeout=5").expect("dsn");
    let shown = format!("{module:?} {}", module.target());
    assert!(
        !shown.contains("Sup3rSecret") && shown.contains("***"),
        "{shown}"
    );
    #[cfg(not(feature = "tls"))]
    {
        let err = Mysql::from_dsn("mysql://u@db/x?sslmode=require").expect_err("no TLS built in");
        assert_eq!(err.kind(), ErrorKind::NotSupported);
        assert!(err.message().contains("tls"), "{err}");
    }
    #[cfg(feature = "tls")]
    {
        let err =
            Mysql::from_dsn("mysql://u@db/x?sslmode=verify-full").expect_err("no root certificate");
        assert_eq!(err.kind(), ErrorKind::Interface);
        assert!(err.message().contains("sslrootcert"), "{err}");
    }
    for (dsn, named) in [
        ("mysql://u@db/x?sslmode=sometimes", "sslmode"),
        ("mysql://u@db/x?bogus=1", "bogus"),
        ("mysql://u@db/x?connect_timeout=soon", "connect_timeout"),
        ("mysql://u@db/x?charset=latin1", "charset"),
        ("mysql://u@db/x?rowcount=all", "rowcount"),
        ("postgres://u@db/x", "mysql://"),
    ] {
        let err = Mysql::from_dsn(dsn).expect_err(dsn);
        assert_eq!(err.kind(), ErrorKind::Interface, "{dsn}");
        assert!(err.message().contains(named), "{dsn}: {err}");
    }
}

#[cfg(feature = "tls")]
fn cipher(dsn: &str) -> dbapi::Result<String> {
    let mut conn = Mysql::from_dsn(dsn)?.connect()?;
    let mut cur = conn.cursor()?;
    cur.execute("SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_CIPHER'", &params![])?;
    Ok(cur
        .fetchone()?
        .map(|row| row.get::<String>(0))
        .transpose()?
        .unwrap_or_default())
}

#[cfg(feature = "tls")]
#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn tls_modes_encrypt_and_verify() {
    let base = url();
    let root = std::env::var("DBPOOL_MY_SSLROOTCERT").expect("DBPOOL_MY_SSLROOTCERT");
    assert_eq!(
        cipher(&format!("{base}?sslmode=disable")).expect("plain"),
        ""
    );
    for mode in ["prefer", "require"] {
        assert_ne!(
            cipher(&format!("{base}?sslmode={mode}")).expect(mode),
            "",
            "{mode} encrypts"
        );
    }
    for mode in ["verify-ca", "verify-full"] {
        assert_ne!(
            cipher(&format!("{base}?sslmode={mode}&sslrootcert={root}")).expect(mode),
            ""
        );
    }
    // The server also listens on 127.0.0.2, which its certificate does not name:
    // verify-ca accepts it, verify-full refuses it.
    let other_host = base.replace("127.0.0.1", "127.0.0.2");
    assert_ne!(
        cipher(&format!(
            "{other_host}?sslmode=verify-ca&sslrootcert={root}"
        ))
        .expect("ca only"),
        ""
    );
    let err = cipher(&format!(
        "{other_host}?sslmode=verify-full&sslrootcert={root}"
    ))
    .expect_err("host name mismatch");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    // A CA that did not sign the server's certificate is refused.
    let pg_root = std::env::var("DBPOOL_PG_SSLROOTCERT").expect("DBPOOL_PG_SSLROOTCERT");
    cipher(&format!("{base}?sslmode=verify-ca&sslrootcert={pg_root}")).expect_err("wrong CA");
}

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_host_list_is_tried_in_order() {
    let url = url();
    let (user, rest) = url.split_once('@').expect("user@host");
    let (server, tail) = rest.split_at(rest.find('/').expect("/db"));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut conn = Mysql::from_dsn(&format!("{user}@127.0.0.1:{closed},{server}{tail}"))
        .expect("dsn")
        .connect()
        .expect("the second host, past the refusing first");
    conn.execute("SELECT 1", &params![]).expect("works");
    let err = Mysql::from_dsn(&format!(
        "{user}@127.0.0.1:{closed},127.0.0.1:{closed}{tail}"
    ))
    .expect("dsn")
    .connect()
    .expect_err("no host accepts");
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{closed}")), "{text}");
    let password = user.rsplit_once(':').expect("user:password").1;
    assert!(!text.contains(password), "no password: {text}");
}

/// On a plain connection `rollback_pipelined` returns once `ROLLBACK` is sent; the answer
/// is read before the next request, and by `close`. Over TLS it waits, as `rollback`.
#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn a_pipelined_rollback_is_answered_before_the_next_request() {
    let table = Table::create("v INT");
    let t = &table.0;
    let plain = || {
        Mysql::from_dsn(&format!("{}?sslmode=disable", url()))
            .expect("dsn")
            .connect()
            .expect("connect")
    };
    let mut conn = plain();
    conn.rollback_pipelined()
        .expect("no transaction: nothing to send");
    assert!(!conn.answer_due());
    conn.execute(&format!("INSERT INTO {t} VALUES (1)"), &params![])
        .expect("insert");
    conn.rollback_pipelined().expect("sent");
    assert!(conn.answer_due(), "the answer is read later");
    assert_eq!(conn.in_transaction(), Some(false));
    assert_eq!(
        one(&mut conn, &format!("SELECT COUNT(*) FROM {t}"), &params![]),
        Value::Int(0),
        "rolled back, and the session in step"
    );
    assert!(!conn.answer_due());

    let mut closing = plain();
    closing
        .execute(&format!("INSERT INTO {t} VALUES (2)"), &params![])
        .expect("insert");
    closing.rollback_pipelined().expect("sent");
    closing.close().expect("reads the answer, then closes");
    assert!(!closing.answer_due());

    if cfg!(feature = "tls") {
        let mut tls = Mysql::from_dsn(&format!("{}?sslmode=require", url()))
            .expect("dsn")
            .connect()
            .expect("connect over TLS");
        tls.execute(&format!("INSERT INTO {t} VALUES (3)"), &params![])
            .expect("insert");
        tls.rollback_pipelined().expect("waits");
        assert!(
            !tls.answer_due(),
            "over TLS the rollback waits for its answer"
        );
    }
    assert_eq!(
        one(&mut conn, &format!("SELECT COUNT(*) FROM {t}"), &params![]),
        Value::Int(0)
    );
}
