//! PostgreSQL-specific behaviour beyond the conformance suite, on the real server that
//! `cargo xtask test` starts.

use dbapi::{named_params, params, ConnectParams, Connection, Cursor, ErrorKind, Module, Value};
use dbapi_postgres::{PgConnection, Postgres};

mod support;

use support::{connect, Direct, Server};

fn one(conn: &mut PgConnection, sql: &str) -> Value {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, &params![])
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    cur.fetchone().expect("fetch").expect("a row")[0].clone()
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn types_map_to_values() {
    let mut conn = connect();
    assert_eq!(one(&mut conn, "SELECT 7::int2"), Value::Int(7));
    assert_eq!(one(&mut conn, "SELECT 7::int4"), Value::Int(7));
    assert_eq!(one(&mut conn, "SELECT 1.5::float4"), Value::Float(1.5));
    assert_eq!(
        one(&mut conn, "SELECT 123456789012345678901234.567890::numeric"),
        Value::Decimal("123456789012345678901234.567890".to_owned())
    );
    assert_eq!(one(&mut conn, "SELECT 'x'::varchar(3)"), Value::from("x"));
    assert_eq!(one(&mut conn, "SELECT 'ab'::char(3)"), Value::from("ab "));
    assert_eq!(
        one(
            &mut conn,
            "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"
        ),
        Value::from("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    );
    assert_eq!(
        one(&mut conn, "SELECT '{\"a\": 1}'::json"),
        Value::from("{\"a\": 1}")
    );
    assert_eq!(
        one(&mut conn, "SELECT '{\"a\": 1}'::jsonb"),
        Value::from("{\"a\": 1}")
    );
    assert_eq!(
        one(&mut conn, "SELECT '2024-02-29 12:00:00+02'::timestamptz AT TIME ZONE 'UTC' = '2024-02-29 10:00:00'"),
        Value::Bool(true)
    );
    for null in [
        "SELECT NULL::int8",
        "SELECT NULL::text",
        "SELECT NULL::interval",
        "SELECT NULL::point",
    ] {
        assert_eq!(one(&mut conn, null), Value::Null, "{null}");
    }
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn unmapped_types_are_a_clear_not_supported_error() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute("SELECT '1 day'::interval", &params![])
        .expect_err("interval is not mapped");
    assert_eq!(err.kind(), ErrorKind::NotSupported);
    assert!(err.message().contains("interval"), "{err}");
    assert!(err.message().contains("::text"), "{err}");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn parameters_are_typed_by_the_statement() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT $1::int2 + 1, $2::numeric * 2, $3::date, $4::bytea, $5::bool",
        &params![
            41,
            Value::Decimal("0.25".to_owned()),
            Value::date(2020, 1, 31).expect("date"),
            vec![0u8, 1, 2],
            true
        ],
    )
    .expect("typed parameters");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::Int(42));
    assert_eq!(row[1], Value::Decimal("0.50".to_owned()));
    assert_eq!(row[2], Value::date(2020, 1, 31).expect("date"));
    assert_eq!(row[3], Value::Bytes(vec![0, 1, 2]));
    assert_eq!(row[4], Value::Bool(true));
    let err = cur
        .execute("SELECT :a", &named_params! {"a" => 1})
        .expect_err("named");
    assert_eq!(err.kind(), ErrorKind::NotSupported);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn errors_keep_sqlstate_detail_and_hint() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute("SELECT * FROM no_such_table_anywhere", &params![])
        .expect_err("missing");
    assert_eq!(err.sqlstate(), Some("42P01"));
    assert_eq!(err.kind(), ErrorKind::Programming);
    drop(cur);
    conn.rollback().expect("rollback");
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute("SELECT 1/0", &params![])
        .expect_err("division by zero");
    assert_eq!(
        (err.sqlstate(), err.kind()),
        (Some("22012"), ErrorKind::Data)
    );
    // Inside the failed transaction, everything fails until rollback (25P02).
    let err = cur.execute("SELECT 1", &params![]).expect_err("aborted");
    assert_eq!(err.sqlstate(), Some("25P02"));
    drop(cur);
    conn.rollback().expect("rollback");
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute("SELECT to_char(1, 'X', 'Y')", &params![])
        .expect_err("no such function");
    assert!(err.message().contains("hint:"), "{err}");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn transactions_follow_the_dbapi() {
    let mut conn = connect();
    assert_eq!(conn.in_transaction(), Some(false));
    conn.execute("SELECT 1", &params![]).expect("select");
    assert_eq!(
        conn.in_transaction(),
        Some(true),
        "psycopg2 opens a transaction"
    );
    conn.rollback().expect("rollback");
    assert_eq!(conn.in_transaction(), Some(false));
    conn.set_autocommit(true).expect("autocommit");
    conn.execute("SELECT 1", &params![]).expect("select");
    assert_eq!(conn.in_transaction(), Some(false));
    conn.execute("BEGIN", &params![]).expect("explicit begin");
    assert_eq!(conn.in_transaction(), Some(true));
    conn.execute("COMMIT", &params![]).expect("explicit commit");
    assert_eq!(conn.in_transaction(), Some(false));
}

fn round_trips(conn: &mut PgConnection) -> u64 {
    conn.native_mut().expect("open").round_trips()
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn the_implicit_begin_goes_out_with_the_first_statement() {
    let mut conn = connect();
    let check = "SELECT $1::int";
    // Prepared (and cached) once, in a transaction of its own.
    conn.execute(check, &params![1]).expect("prepare");
    conn.rollback().expect("rollback");

    // A cached statement opening a transaction: one round trip, BEGIN included.
    let before = round_trips(&mut conn);
    conn.execute(check, &params![2]).expect("select");
    assert_eq!(round_trips(&mut conn) - before, 1);
    assert_eq!(conn.in_transaction(), Some(true));
    conn.rollback().expect("rollback");

    // The first statement does run inside the transaction: a rollback undoes it.
    conn.execute("CREATE TEMP TABLE pipelined (x int)", &params![])
        .expect("create");
    conn.rollback().expect("rollback");
    let err = conn
        .execute("SELECT x FROM pipelined", &params![])
        .expect_err("rolled back with its transaction");
    assert_eq!(err.sqlstate(), Some("42P01"), "{err}");
    conn.rollback().expect("rollback");

    // A transaction whose statement never went out costs nothing to end.
    let before = round_trips(&mut conn);
    let err = conn
        .execute(check, &params![])
        .expect_err("its parameter is missing");
    assert_eq!(err.kind(), ErrorKind::Programming, "{err}");
    assert_eq!(conn.in_transaction(), Some(true));
    conn.rollback().expect("rollback");
    assert_eq!(round_trips(&mut conn), before, "nothing was sent");
    assert_eq!(conn.in_transaction(), Some(false));

    // What runs through native_mut runs inside the DB-API transaction (BEGIN sent first):
    // now() is the transaction's start, earlier than the native statement.
    conn.execute(check, &params![3])
        .expect("opens a transaction");
    let same = conn
        .native_mut()
        .expect("open")
        .run(|client| Box::pin(client.simple_query("SELECT now() = statement_timestamp()")))
        .expect("native")
        .iter()
        .find_map(|message| match message {
            dbapi_postgres::tokio_postgres::SimpleQueryMessage::Row(row) => {
                row.get(0).map(str::to_owned)
            }
            _ => None,
        });
    assert_eq!(same.as_deref(), Some("f"));
    conn.rollback().expect("rollback");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn ping_and_is_broken() {
    let mut conn = connect();
    conn.ping().expect("ping");
    assert!(!conn.is_broken());
    conn.close().expect("close");
    assert!(conn.is_broken());
    assert_eq!(
        conn.ping().expect_err("closed").kind(),
        ErrorKind::Interface
    );
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn a_wrong_password_is_an_authentication_error_without_the_password() {
    let params = ConnectParams::parse(&Direct::url()).expect("url");
    let bad = format!(
        "postgres://{}:Wr0ngPassw0rdXyz@{}:{}/{}",
        params.user().expect("user"),
        params.host().expect("host"),
        params.port().expect("port"),
        params.database().expect("db")
    );
    let err = Postgres::from_dsn(&bad)
        .expect("valid dsn")
        .connect()
        .expect_err("wrong password");
    assert_eq!(err.kind(), ErrorKind::Operational);
    assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
    assert!(!err.to_string().contains("Wr0ngPassw0rdXyz"));
    assert!(!format!("{err:?}").contains("Wr0ngPassw0rdXyz"));
}

#[test]
fn dsn_options_are_checked() {
    let pg = Postgres::from_dsn(
        "postgres://u:hunter2@db:6543/x?connect_timeout=3&application_name=a&sslmode=disable",
    )
    .expect("valid");
    assert!(!format!("{pg:?}").contains("hunter2"));
    assert_eq!(
        pg.target(),
        "postgres://u:***@db:6543/x?application_name=a&connect_timeout=3&sslmode=disable"
    );
    #[cfg(not(feature = "tls"))]
    {
        let err = Postgres::from_dsn("postgres://u@db/x?sslmode=require").expect_err("no TLS");
        assert_eq!(err.kind(), ErrorKind::NotSupported);
        assert!(err.message().contains("`tls` feature"), "{err}");
    }
    #[cfg(feature = "tls")]
    {
        let err = Postgres::from_dsn("postgres://u@db/x?sslmode=verify-full")
            .expect_err("verify-full without a root certificate");
        assert_eq!(err.kind(), ErrorKind::Interface);
        assert!(err.message().contains("sslrootcert"), "{err}");
    }
    let err = Postgres::from_dsn("postgres://u@db/x?sslmode=sometimes").expect_err("bad sslmode");
    assert!(err.message().contains("sslmode"), "{err}");
    let err = Postgres::from_dsn("postgres://u@db/x?bogus=1").expect_err("unknown option");
    assert!(err.message().contains("bogus"), "{err}");
    let err =
        Postgres::from_dsn("postgres://u@db/x?connect_timeout=soon").expect_err("bad timeout");
    assert!(err.message().contains("connect_timeout"), "{err}");
    assert!(Postgres::from_dsn("mysql://u@db/x").is_err());
}

#[cfg(feature = "tls")]
fn ssl_in_use(dsn: &str) -> bool {
    let mut conn = Postgres::from_dsn(dsn)
        .expect("dsn")
        .connect()
        .unwrap_or_else(|e| panic!("connect with {}: {e}", dsn.split('?').nth(1).unwrap_or("")));
    one(
        &mut conn,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    ) == Value::Bool(true)
}

#[cfg(feature = "tls")]
#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn tls_modes_encrypt_and_verify() {
    let root = std::env::var("DBPOOL_PG_SSLROOTCERT")
        .expect("DBPOOL_PG_SSLROOTCERT is not set: run with `cargo xtask test`");
    let base = Direct::url();
    assert!(!ssl_in_use(&format!("{base}?sslmode=disable")));
    assert!(ssl_in_use(&format!("{base}?sslmode=prefer")));
    assert!(ssl_in_use(&format!("{base}?sslmode=require")));
    assert!(ssl_in_use(&format!(
        "{base}?sslmode=verify-ca&sslrootcert={root}"
    )));
    assert!(ssl_in_use(&format!(
        "{base}?sslmode=verify-full&sslrootcert={root}"
    )));
    // The server's certificate does not name this host: verify-full refuses, verify-ca does not.
    let other_host = base.replace("127.0.0.1", "127.0.0.2");
    assert!(ssl_in_use(&format!(
        "{other_host}?sslmode=verify-ca&sslrootcert={root}"
    )));
    let err = Postgres::from_dsn(&format!(
        "{other_host}?sslmode=verify-full&sslrootcert={root}"
    ))
    .expect("dsn")
    .connect()
    .expect_err("host name mismatch");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn question_mark_markers_work_as_on_every_backend() {
    let mut conn = connect();
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        "SELECT ?::int8 + ?, '?' || ?, '{\"a\":1}'::jsonb ?? 'a', '{\"a\":1}'::jsonb ??| array['b'] -- done?",
        &params![40, 2, "!"],
    )
    .expect("? markers");
    let row = cur.fetchone().expect("fetch").expect("row");
    assert_eq!(row[0], Value::Int(42));
    assert_eq!(row[1], Value::from("?!"));
    assert_eq!(row[2], Value::Bool(true));
    assert_eq!(row[3], Value::Bool(false));
    // The native style still works; mixing the two is a clear error.
    cur.execute("SELECT $1::int8", &params![7])
        .expect("$n markers");
    assert_eq!(
        cur.fetchone().expect("fetch").expect("row")[0],
        Value::Int(7)
    );
    let err = cur
        .execute("SELECT $1::int8 + ?", &params![1, 2])
        .expect_err("mixed markers");
    assert_eq!(err.kind(), ErrorKind::Programming, "{err}");
}

#[test]
fn connect_timeout_bounds_a_server_that_never_answers_the_startup() {
    // The kernel completes the TCP handshake into the listen backlog; nobody ever answers
    // the startup message — a hung or overloaded server, as seen from the client.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    let err = Postgres::from_dsn(&format!(
        "postgres://app:hunter2@127.0.0.1:{port}/shop?connect_timeout=1"
    ))
    .expect("valid url")
    .connect()
    .expect_err("no startup answer");
    assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
    assert!(err.message().contains("connect_timeout"), "{err}");
    assert!(err.is_disconnect());
    assert!(!format!("{err} {err:?}").contains("hunter2"));
    drop(silent);
}

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn notifications_arrive_through_the_native_session() {
    let mut listener = connect();
    listener.set_autocommit(true).expect("autocommit");
    listener
        .execute("LISTEN dbpool_jobs", &params![])
        .expect("listen");
    let mut sender = connect();
    sender
        .execute("SELECT pg_notify('dbpool_jobs', 'job 7')", &params![])
        .expect("notify");
    sender.commit().expect("commit sends the notification");
    // Waits for the notification (up to the bound), no longer once it is there.
    let notes = listener
        .native_mut()
        .expect("open")
        .notifications(std::time::Duration::from_secs(30))
        .expect("notifications");
    let got: Vec<(&str, &str)> = notes.iter().map(|n| (n.channel(), n.payload())).collect();
    assert_eq!(got, [("dbpool_jobs", "job 7")]);
    // The check that looks for a server's goodbye leaves a listening session's queue alone.
    listener.check_alive().expect("alive");
}
