//! The conformance suite through Debian's SQLite 3 ODBC driver (`libsqliteodbc`), on a
//! database file under `target/db/odbc/`.

mod common;

use dbapi_conformance::{Capabilities, SqlType};
use dbapi_odbc::Odbc;

struct SqliteOdbc;

impl common::Driver for SqliteOdbc {
    const ENV: &'static str = "DBPOOL_ODBC_SQLITE";

    fn capabilities() -> Capabilities {
        Capabilities {
            // SQLite stores NUMERIC as REAL or INTEGER: digits beyond a double are lost.
            exact_decimal: false,
            // SQLMoreResults, as for every ODBC driver.
            nextset: true,
            // Every error is HY000, with SQLite's message and code in the text.
            classified_errors: false,
            // BLOB and DECIMAL columns are described as CHAR; doubles pass through
            // 15-digit text.
            typed_columns: false,
            ..Capabilities::default()
        }
    }

    // SQLite has no stored procedures.
    fn module(odbc: Odbc) -> Odbc {
        odbc.procedures(false)
    }

    fn sql_type(ty: SqlType) -> &'static str {
        // The driver reports a column's SQL type from its declared type name.
        match ty {
            SqlType::Bool => "BIT",
            SqlType::Int => "BIGINT",
            SqlType::Float => "DOUBLE",
            SqlType::Text => "VARCHAR(2000000)",
            SqlType::Bytes => "BLOB",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Decimal => "DECIMAL(30,10)",
        }
    }

    fn data_error(table: &str) -> (Vec<String>, String) {
        // A STRICT table refuses text in an integer column (reported as HY000, see above).
        (
            vec![format!("CREATE TABLE {table} (v INTEGER) STRICT")],
            format!("INSERT INTO {table} VALUES ('not a number')"),
        )
    }
}

dbapi_conformance::conformance_tests!(
    common::OdbcContext<SqliteOdbc>,
    #[ignore = "needs the ODBC drivers: cargo xtask test"]
);
