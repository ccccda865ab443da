//! The ODBC adapter against the driver manager and real drivers (configured by
//! `cargo xtask test`): bad input gets a clear error, secrets stay secret, named data sources
//! and long values work.

use dbapi::{params, Connection, Cursor, ErrorKind, Module, Value};
use dbapi_odbc::Odbc;

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| panic!("{key} is not set: run with `cargo xtask test`"))
}

/// The connection string with its password replaced.
fn with_password(text: &str, password: &str) -> String {
    text.split(';')
        .map(|part| {
            if part.to_ascii_uppercase().starts_with("PWD=") {
                format!("PWD={password}")
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

#[test]
#[ignore = "needs the ODBC drivers: cargo xtask test"]
fn an_unknown_data_source_is_an_interface_error_naming_odbc_ini() {
    let _ = env("ODBCINI");
    let err = Odbc::from_dsn("odbc://no_such_data_source")
        .expect("a well-formed DSN")
        .connect()
        .expect_err("no such DSN");
    assert_eq!(err.kind(), ErrorKind::Interface, "{err}");
    assert_eq!(err.sqlstate(), Some("IM002"), "{err}");
    assert!(
        err.message().contains("odbc.ini"),
        "says where DSNs live: {err}"
    );
    assert!(
        err.message().contains("no_such_data_source"),
        "names the DSN: {err}"
    );
}

#[test]
#[ignore = "needs the ODBC drivers: cargo xtask test"]
fn a_missing_driver_library_is_an_interface_error_saying_what_to_check() {
    let _ = env("ODBCSYSINI");
    let err = Odbc::from_dsn("odbc:Driver=/nonexistent/libnodriver.so;Database=x")
        .expect("a well-formed DSN")
        .connect()
        .expect_err("no such library");
    assert_eq!(err.kind(), ErrorKind::Interface, "{err}");
    assert!(err.message().contains("odbcinst.ini"), "{err}");
}

#[test]
#[ignore = "needs the ODBC drivers: cargo xtask test"]
fn wrong_passwords_are_operational_and_never_shown() {
    for key in ["DBPOOL_ODBC_PG", "DBPOOL_ODBC_MY"] {
        let text = with_password(&env(key), "NotThePassword99");
        let module = Odbc::connection_string(&text).expect("well-formed");
        let shown = format!("{module:?} {}", module.target());
        assert!(
            !shown.contains("NotThePassword99") && shown.contains("PWD=***"),
            "{shown}"
        );
        let err = module.connect().expect_err("wrong password");
        assert_eq!(err.kind(), ErrorKind::Operational, "{key}: {err}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("NotThePassword99"), "{text}");
        assert!(
            !err.is_disconnect(),
            "a refused login is not a lost session: {err}"
        );
    }
}

#[test]
fn malformed_connection_strings_are_interface_errors_naming_the_fault() {
    for (dsn, says) in [
        ("odbc:Driver={SQLite3;Database=x", "never closes"),
        ("odbc:Driver=x;Database", "has no '='"),
        ("odbc:", "empty"),
        ("odbc://", "data source name"),
        ("sqlite::memory:", "odbc:"),
    ] {
        let err = Odbc::from_dsn(dsn).expect_err(dsn);
        assert_eq!(err.kind(), ErrorKind::Interface, "{dsn}: {err}");
        assert!(err.message().contains(says), "{dsn}: {err}");
    }
    let module = Odbc::from_dsn("odbc://app:Sup3rSecret@warehouse").expect("dsn form");
    let shown = format!("{module:?} {}", module.target());
    assert!(
        !shown.contains("Sup3rSecret") && shown.contains("DSN=warehouse"),
        "{shown}"
    );
}

#[test]
#[ignore = "needs the ODBC drivers: cargo xtask test"]
fn a_named_data_source_connects() {
    let _ = env("ODBCINI");
    let mut conn = Odbc::from_dsn("odbc://dbpool_sqlite")
        .expect("dsn")
        .connect()
        .expect("the data source in odbc.ini");
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT 40 + 2", &params![]).expect("select");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0].to_string(), "42");
}

#[test]
#[ignore = "needs PostgreSQL and psqlODBC: cargo xtask test"]
fn long_values_are_never_truncated() {
    let mut conn = Odbc::connection_string(&env("DBPOOL_ODBC_PG"))
        .expect("dsn")
        .connect()
        .expect("connect");
    let text: String = "🦀 crab ".repeat(150_000);
    let bytes: Vec<u8> = (0..2_000_000_u32).map(|i| (i % 251) as u8).collect();
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT CAST(? AS text), CAST(? AS bytea), length(CAST(? AS text))",
        &params![text.as_str(), Value::Bytes(bytes.clone()), text.as_str()],
    )
    .expect("select");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::Text(text.clone()));
    assert_eq!(row[1], Value::Bytes(bytes));
    assert_eq!(
        row[2],
        Value::Int(i64::try_from(text.chars().count()).expect("fits"))
    );
}

#[test]
#[ignore = "needs PostgreSQL and psqlODBC: cargo xtask test"]
fn statement_errors_carry_sqlstate_kinds_through_psqlodbc() {
    let mut conn = Odbc::connection_string(&env("DBPOOL_ODBC_PG"))
        .expect("dsn")
        .connect()
        .expect("connect");
    for (sql, kind, state) in [
        ("SELEKT 1", ErrorKind::Programming, "42601"),
        (
            "SELECT * FROM no_such_table_here",
            ErrorKind::Programming,
            "42P01",
        ),
        ("SELECT 1/0", ErrorKind::Data, "22012"),
    ] {
        let mut cur = conn.cursor().expect("cursor");
        let err = cur.execute(sql, &params![]).expect_err(sql);
        assert_eq!(err.kind(), kind, "{sql}: {err}");
        assert_eq!(err.sqlstate(), Some(state), "{sql}: {err}");
        drop(cur);
        conn.rollback().expect("rollback");
    }
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute("SELECT ? + ?", &params![1])
        .expect_err("one value for two markers");
    assert_eq!(err.kind(), ErrorKind::Programming, "{err}");
}

#[test]
#[ignore = "needs PostgreSQL and psqlODBC: cargo xtask test"]
fn bounded_columns_are_fetched_in_batches_whatever_the_arraysize() {
    let mut conn = Odbc::connection_string(&env("DBPOOL_ODBC_PG"))
        .expect("dsn")
        .connect()
        .expect("connect");
    for arraysize in [1, 7, 500] {
        let mut cur = conn.cursor().expect("cursor");
        cur.set_arraysize(arraysize);
        cur.execute(
            "SELECT g::int8, g / 2.0::float8, CAST('row ' || g AS varchar(12)), \
             CAST(g AS numeric(10,2)), DATE '2024-01-01' + g, \
             CASE WHEN g % 3 = 0 THEN NULL ELSE g END \
             FROM generate_series(1, 1000) AS s(g) ORDER BY s.g",
            &params![],
        )
        .expect("select");
        let rows = cur.fetchall().expect("fetchall");
        assert_eq!(rows.len(), 1000, "arraysize {arraysize}");
        let last = &rows[999];
        assert_eq!(last[0], Value::Int(1000));
        assert_eq!(last[1], Value::Float(500.0));
        assert_eq!(last[2], Value::from("row 1000"));
        assert_eq!(last[3], Value::Decimal("1000.00".to_owned()));
        assert_eq!(last[4], Value::date(2026, 9, 27).expect("date"));
        assert_eq!(rows[2][5], Value::Null);
        assert_eq!(rows[3][5], Value::Int(4));
    }
}

#[test]
#[ignore = "needs the ODBC drivers: cargo xtask test"]
fn a_value_longer_than_its_declared_size_is_an_error_naming_the_column() {
    // SQLite keeps whatever it is given; its driver reports the declared VARCHAR(4).
    let mut conn = Odbc::connection_string(&env("DBPOOL_ODBC_SQLITE"))
        .expect("dsn")
        .autocommit(true)
        .connect()
        .expect("connect");
    let table = format!("odbc_overlong_{}", std::process::id());
    conn.execute(
        &format!("CREATE TABLE {table} (short_text VARCHAR(4))"),
        &params![],
    )
    .expect("create");
    conn.execute(
        &format!("INSERT INTO {table} VALUES (?)"),
        &params!["far longer than four"],
    )
    .expect("insert");
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute(&format!("SELECT short_text FROM {table}"), &params![])
        .expect_err("the value does not fit the declared size");
    assert_eq!(err.kind(), ErrorKind::Data, "{err}");
    assert!(
        err.message().contains("\"short_text\""),
        "names the column: {err}"
    );
    drop(cur);
    conn.execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
}
