//! The conformance suite's context on a real PostgreSQL server (started by
//! `cargo xtask test`), reached directly or through PgBouncer. Each check uses tables of its
//! own, dropped afterwards, so checks run in parallel on one database.

#![allow(dead_code)]

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use dbapi::{Connection, Module, Params};
use dbapi_conformance::{Capabilities, Context, SqlType};
use dbapi_postgres::Postgres;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Where the server is reached.
pub trait Server {
    /// The DSN.
    fn url() -> String;
}

/// The server itself (`DBPOOL_PG_URL`).
pub struct Direct;

impl Server for Direct {
    fn url() -> String {
        std::env::var("DBPOOL_PG_URL")
            .expect("DBPOOL_PG_URL is not set: run the PostgreSQL tests with `cargo xtask test`")
    }
}

/// A connection to the server itself, as the module opens them by default.
///
/// # Panics
/// When the server cannot be reached.
pub fn connect() -> dbapi_postgres::PgConnection {
    Postgres::from_dsn(&Direct::url())
        .expect("valid url")
        .connect()
        .expect("connect")
}

/// PgBouncer in transaction mode in front of it (`DBPOOL_PGBOUNCER_URL`), in the adapter's
/// PgBouncer mode.
pub struct Bouncer;

impl Server for Bouncer {
    fn url() -> String {
        let url = std::env::var("DBPOOL_PGBOUNCER_URL").expect(
            "DBPOOL_PGBOUNCER_URL is not set: run the PostgreSQL tests with `cargo xtask test`",
        );
        format!("{url}&pgbouncer=true")
    }
}

/// A conformance context on the server `S` reaches.
pub struct PgContext<S> {
    module: Postgres,
    id: usize,
    tables: RefCell<Vec<String>>,
    server: PhantomData<S>,
}

impl<S: Server> Context for PgContext<S> {
    type Module = Postgres;

    fn setup() -> Self {
        Self {
            module: Postgres::from_dsn(&S::url()).expect("a valid DSN"),
            server: PhantomData,
            id: NEXT.fetch_add(1, Ordering::SeqCst),
            tables: RefCell::new(Vec::new()),
        }
    }

    fn module(&self) -> &Postgres {
        &self.module
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            callproc: true,
            ..Capabilities::default()
        }
    }

    fn table(&self, base: &str) -> String {
        let name = format!("dbapi20_{base}_{}_{}", std::process::id(), self.id);
        self.tables.borrow_mut().push(name.clone());
        name
    }

    fn sql_type(&self, ty: SqlType) -> &'static str {
        match ty {
            SqlType::Bool => "boolean",
            SqlType::Int => "bigint",
            SqlType::Float => "double precision",
            SqlType::Text => "text",
            SqlType::Bytes => "bytea",
            SqlType::Date => "date",
            SqlType::Time => "time",
            SqlType::Timestamp => "timestamp",
            SqlType::Decimal => "numeric",
        }
    }

    fn data_error_setup(&self) -> Vec<String> {
        Vec::new()
    }

    fn data_error_sql(&self) -> String {
        "SELECT CAST('not a number' AS integer)".to_owned()
    }
}

impl<S> Drop for PgContext<S> {
    fn drop(&mut self) {
        let tables = self.tables.borrow();
        if tables.is_empty() {
            return;
        }
        if let Ok(mut conn) = self.module.connect() {
            for table in tables.iter() {
                let _ = conn.execute(&format!("DROP TABLE IF EXISTS {table}"), &Params::None);
            }
            let _ = conn.commit();
        }
    }
}
