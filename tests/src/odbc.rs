//! PostgreSQL through psqlODBC: the same server as [`crate::Pg`], reached through the ODBC
//! adapter, with connections told apart by `application_name` (psqlODBC's `pqopt`).

use dbapi::{params, Connection, Error, ErrorKind, Module};
use dbapi_odbc::{Odbc, OdbcConnection};

use crate::postgres::{sessions, terminate};
use crate::{env, scalar, Backend, Pg};

/// The psqlODBC backend of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct PgOdbc;

/// The psqlODBC connection string `cargo xtask test` exports (`DBPOOL_ODBC_PG`).
///
/// # Panics
/// When the variable is missing: the test must fail, not pass, without its server.
#[must_use]
pub fn pg_odbc_connection_string() -> String {
    env("DBPOOL_ODBC_PG")
}

/// The connection string with attribute `key` set to `value` (replaced or appended).
fn with_attribute(text: &str, key: &str, value: &str) -> String {
    let mut parts: Vec<String> = text
        .split(';')
        .filter(|part| {
            !part
                .split_once('=')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(key))
        })
        .map(str::to_owned)
        .collect();
    parts.push(format!("{key}={value}"));
    parts.join(";")
}

fn module_for(text: &str) -> Odbc {
    Odbc::connection_string(text).expect("a valid connection string")
}

impl Backend for PgOdbc {
    type Module = Odbc;

    fn module(tag: &str) -> Odbc {
        module_for(&with_attribute(
            &pg_odbc_connection_string(),
            "pqopt",
            &format!("{{application_name={tag}}}"),
        ))
    }

    fn observer() -> OdbcConnection {
        Self::module("dbpool-observer")
            .autocommit(true)
            .connect()
            .expect("observer connects")
    }

    fn sessions<C: Connection>(conn: &mut C, tag: &str) -> i64 {
        sessions(conn, tag)
    }

    fn session_id<C: Connection>(conn: &mut C) -> i64 {
        scalar(conn, Self::SESSION_ID, &params![])
    }

    fn kill<C: Connection>(observer: &mut C, id: i64) {
        terminate(observer, id);
    }

    fn with_password(password: &str) -> Odbc {
        module_for(&with_attribute(
            &pg_odbc_connection_string(),
            "PWD",
            password,
        ))
    }

    fn assert_authentication_error(err: &Error) {
        assert_eq!(err.kind(), ErrorKind::Operational, "{err}");
        assert!(
            err.message().contains("password authentication failed"),
            "the server's reason is kept: {err}"
        );
    }

    fn at_port(port: u16) -> Odbc {
        module_for(&with_attribute(
            &with_attribute(&pg_odbc_connection_string(), "Server", "127.0.0.1"),
            "Port",
            &port.to_string(),
        ))
    }

    fn restart() {
        Pg::restart();
    }

    // psqlODBC's login timeout covers the startup exchange.
    const BOUNDED_HANDSHAKE: bool = true;

    const SLOW_42: &'static str = Pg::SLOW_42;

    const SESSION_ID: &'static str = Pg::SESSION_ID;
}
