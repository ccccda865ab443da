//! The conformance suite through psqlODBC (Debian's `odbc-postgresql`, the Unicode driver)
//! against the project's PostgreSQL: every check the native adapter passes.

mod common;

use dbapi_conformance::{Capabilities, SqlType};

struct PsqlOdbc;

impl common::Driver for PsqlOdbc {
    const ENV: &'static str = "DBPOOL_ODBC_PG";

    fn capabilities() -> Capabilities {
        Capabilities {
            // PostgreSQL functions, through ODBC's {CALL …} escape.
            callproc: true,
            // SQLMoreResults.
            nextset: true,
            ..Capabilities::default()
        }
    }

    fn sql_type(ty: SqlType) -> &'static str {
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

    fn data_error(_table: &str) -> (Vec<String>, String) {
        (
            Vec::new(),
            "SELECT CAST('not a number' AS integer)".to_owned(),
        )
    }
}

dbapi_conformance::conformance_tests!(
    common::OdbcContext<PsqlOdbc>,
    #[ignore = "needs PostgreSQL and psqlODBC: cargo xtask test"]
);
