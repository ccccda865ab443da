//! DSN and key/value parsing, password redaction, and a property test that malformed input
//! is an Interface error, never a panic.

use dbapi::{ConnectParams, ErrorKind};
use proptest::prelude::*;

#[test]
fn sqlite_forms() {
    let mem = ConnectParams::parse("sqlite::memory:").expect("valid");
    assert_eq!((mem.scheme(), mem.database()), ("sqlite", Some(":memory:")));
    let abs = ConnectParams::parse("sqlite:///abs/path.db").expect("valid");
    assert_eq!(abs.database(), Some("/abs/path.db"));
    let rel = ConnectParams::parse("sqlite://relative.db?mode=ro").expect("valid");
    assert_eq!(rel.database(), Some("relative.db"));
    assert_eq!(rel.option("mode"), Some("ro"));
    assert_eq!(rel.to_string(), "sqlite://relative.db?mode=ro");
    assert_eq!(abs.to_string(), "sqlite:///abs/path.db");
}

#[test]
fn postgres_url_with_everything() {
    let p = ConnectParams::parse("postgresql://us%40er:p%3Ass@db.example.com:6543/my%20db?connect_timeout=5&application_name=x")
        .expect("valid");
    assert_eq!(p.scheme(), "postgres");
    assert_eq!(p.user(), Some("us@er"));
    assert_eq!(p.password().map(|s| s.expose()), Some("p:ss"));
    assert_eq!(p.host(), Some("db.example.com"));
    assert_eq!(p.port(), Some(6543));
    assert_eq!(p.database(), Some("my db"));
    assert_eq!(p.option("connect_timeout"), Some("5"));
    assert_eq!(p.option("application_name"), Some("x"));
}

#[test]
fn ipv6_hosts_and_mysql() {
    let p = ConnectParams::parse("mariadb://root@[2001:db8::1]:3307/test").expect("valid");
    assert_eq!(p.scheme(), "mysql");
    assert_eq!(p.host(), Some("2001:db8::1"));
    assert_eq!(p.port(), Some(3307));
    assert_eq!(p.to_string(), "mysql://root@[2001:db8::1]:3307/test");
    let e = ConnectParams::parse("mysql://root@::1:3306/x").expect_err("unbracketed IPv6");
    assert!(e.message().contains("brackets"), "{e}");
}

#[test]
fn odbc_raw_string_is_kept_and_redacted() {
    let p = ConnectParams::parse("odbc:Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;UID=u;PWD=topsecret;Database=d")
        .expect("valid");
    assert_eq!(p.scheme(), "odbc");
    assert_eq!(p.host(), Some("127.0.0.1"));
    assert_eq!(p.user(), Some("u"));
    assert_eq!(p.password().map(|s| s.expose()), Some("topsecret"));
    assert!(p
        .odbc_connection_string()
        .is_some_and(|s| s.expose().contains("PWD=topsecret")));
    assert!(!p.to_string().contains("topsecret"), "{p}");
    assert!(!format!("{p:?}").contains("topsecret"));
}

#[test]
fn eventlet_style_pairs() {
    let p = ConnectParams::from_pairs(
        "mysql",
        [
            ("host", "localhost"),
            ("user", "root"),
            ("passwd", "s33kr1t"),
            ("db", "app"),
            ("charset", "utf8mb4"),
        ],
    )
    .expect("valid");
    assert_eq!(p.host(), Some("localhost"));
    assert_eq!(p.database(), Some("app"));
    assert_eq!(p.option("charset"), Some("utf8mb4"));
    assert_eq!(p.password().map(|s| s.expose()), Some("s33kr1t"));
    let e = ConnectParams::from_pairs("postgres", [("port", "fivefourthreetwo")])
        .expect_err("bad port");
    assert_eq!(e.kind(), ErrorKind::Interface);
    assert!(e.message().contains("port"), "{e}");
}

#[test]
fn password_never_printed() {
    let secret = "Zq9-unguessable-Pw";
    for dsn in [
        format!("postgres://app:{secret}@h/db"),
        format!("mysql://app:{secret}@h:3306/db?password={secret}"),
        format!("postgres://h/db?password={secret}"),
    ] {
        let p = ConnectParams::parse(&dsn).expect("valid");
        assert!(!p.to_string().contains(secret), "Display leaked: {p}");
        assert!(!format!("{p:?}").contains(secret), "Debug leaked");
        assert!(!format!("{:?}", p.password()).contains(secret));
    }
    // A malformed DSN's error does not quote the password either.
    let err = ConnectParams::parse(&format!("postgres://app:{secret}@host:notaport/db"))
        .expect_err("bad port");
    assert!(!err.to_string().contains(secret), "{err}");
    assert!(!format!("{err:?}").contains(secret));
    let err = ConnectParams::parse(&format!("postgres://app:{secret}%zz@host/db"))
        .expect_err("bad escape");
    assert!(err.message().contains("password"), "{err}");
    assert!(!err.to_string().contains(secret), "{err}");
}

#[test]
fn malformed_dsns_name_the_bad_part() {
    let cases = [
        ("no-scheme-here", "scheme"),
        ("postgres:host/db", "'//'"),
        ("postgres://u@host:99999/db", "port"),
        ("postgres://u@host:0/db", "port"),
        ("postgres://[::1/db", "']'"),
        ("postgres://us%4@host/db", "user name"),
        ("sqlite:", "path"),
        ("odbc:", "connection string"),
        ("odbc:Driver", "key=value"),
        ("po stgres://x", "scheme"),
    ];
    for (dsn, part) in cases {
        let err = ConnectParams::parse(dsn).expect_err(dsn);
        assert_eq!(err.kind(), ErrorKind::Interface, "{dsn}");
        assert!(
            err.message().contains(part),
            "{dsn}: {err} should mention {part}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_input_never_panics(dsn in "\\PC{0,60}") {
        if let Err(err) = ConnectParams::parse(&dsn) {
            prop_assert_eq!(err.kind(), ErrorKind::Interface);
        }
    }

    #[test]
    fn url_shaped_input_never_panics(
        scheme in "(postgres|mysql|sqlite|odbc|x)",
        body in "[a-z0-9:@/\\[\\]%?&=.;{}-]{0,40}",
    ) {
        let _ = ConnectParams::parse(&format!("{scheme}://{body}"));
        let _ = ConnectParams::parse(&format!("{scheme}:{body}"));
    }

    #[test]
    fn generated_passwords_never_leak(
        user in "[a-z]{1,8}",
        password in "[A-Za-z0-9]{12,24}",
        host in "[a-z]{1,10}",
        port in 1u16..,
    ) {
        let encoded = format!("postgres://{user}:{password}@{host}:{port}/db");
        let p = ConnectParams::parse(&encoded).expect("valid");
        prop_assert_eq!(p.password().map(|s| s.expose().to_owned()), Some(password.clone()));
        prop_assert!(!p.to_string().contains(&password));
        let debug = format!("{p:?}");
        prop_assert!(!debug.contains(&password));
        let round = ConnectParams::parse(&p.to_string()).expect("display is parseable");
        prop_assert_eq!(round.host(), p.host());
        prop_assert_eq!(round.port(), p.port());
    }
}
