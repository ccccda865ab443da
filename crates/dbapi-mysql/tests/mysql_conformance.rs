//! The dbapi20-style conformance suite on a real MariaDB server (started by
//! `cargo xtask test`). Each check uses tables of its own, dropped afterwards, so checks run
//! in parallel on one database.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use dbapi::{Connection, Module, Params};
use dbapi_conformance::{Capabilities, Context, SqlType};
use dbapi_mysql::Mysql;

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct MyContext {
    module: Mysql,
    id: usize,
    names: RefCell<Vec<String>>,
}

fn url() -> String {
    std::env::var("DBPOOL_MY_URL")
        .expect("DBPOOL_MY_URL is not set: run the MariaDB tests with `cargo xtask test`")
}

impl Context for MyContext {
    type Module = Mysql;

    fn setup() -> Self {
        Self {
            module: Mysql::from_dsn(&url()).expect("valid DBPOOL_MY_URL"),
            id: NEXT.fetch_add(1, Ordering::SeqCst),
            names: RefCell::new(Vec::new()),
        }
    }

    fn module(&self) -> &Mysql {
        &self.module
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // Stored procedures, called with CALL.
            callproc: true,
            // Several statements in one execute, and a procedure's results.
            nextset: true,
            // AUTO_INCREMENT.
            lastrowid: true,
            // The mysql crate binds `:name` markers.
            named_params: true,
            ..Capabilities::default()
        }
    }

    fn table(&self, base: &str) -> String {
        let name = format!("dbapi20_{base}_{}_{}", std::process::id(), self.id);
        self.names.borrow_mut().push(name.clone());
        name
    }

    fn sql_type(&self, ty: SqlType) -> &'static str {
        match ty {
            // BOOLEAN is TINYINT(1), indistinguishable from a small integer; BIT(1) is a
            // real two-valued type.
            SqlType::Bool => "BIT(1)",
            SqlType::Int => "BIGINT",
            SqlType::Float => "DOUBLE",
            SqlType::Text => "TEXT",
            SqlType::Bytes => "LONGBLOB",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME(6)",
            SqlType::Timestamp => "DATETIME(6)",
            // DECIMAL has a fixed scale: values come back padded with zeros.
            SqlType::Decimal => "DECIMAL(30,10)",
        }
    }

    fn data_error_setup(&self) -> Vec<String> {
        let table = self.table("data_error");
        vec![format!("CREATE TABLE {table} (v VARCHAR(2))")]
    }

    fn data_error_sql(&self) -> String {
        // Strict mode (MariaDB's default): error 1406, data too long.
        let table = self.names.borrow().last().cloned().unwrap_or_default();
        format!("INSERT INTO {table} VALUES ('too long')")
    }

    fn callproc_fixture(&self) -> (Vec<String>, String) {
        let name = self.table("lower");
        (
            vec![format!(
                "CREATE PROCEDURE {name}(IN s TEXT) SELECT LOWER(s)"
            )],
            name,
        )
    }
}

impl Drop for MyContext {
    fn drop(&mut self) {
        let names = self.names.borrow();
        if names.is_empty() {
            return;
        }
        if let Ok(mut conn) = self.module.connect() {
            for name in names.iter() {
                let _ = conn.execute(&format!("DROP TABLE IF EXISTS {name}"), &Params::None);
                let _ = conn.execute(&format!("DROP PROCEDURE IF EXISTS {name}"), &Params::None);
            }
            let _ = conn.commit();
        }
    }
}

dbapi_conformance::conformance_tests!(MyContext, #[ignore = "needs MariaDB: cargo xtask test"]);
