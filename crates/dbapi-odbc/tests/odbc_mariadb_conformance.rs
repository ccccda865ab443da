//! The conformance suite through MariaDB Connector/ODBC (Debian's `odbc-mariadb`) against
//! the project's MariaDB.

mod common;

use dbapi_conformance::{Capabilities, SqlType};

struct MariaDbOdbc;

impl common::Driver for MariaDbOdbc {
    const ENV: &'static str = "DBPOOL_ODBC_MY";

    fn capabilities() -> Capabilities {
        Capabilities {
            // Stored procedures, through ODBC's {CALL …} escape.
            callproc: true,
            // SQLMoreResults.
            nextset: true,
            ..Capabilities::default()
        }
    }

    fn sql_type(ty: SqlType) -> &'static str {
        match ty {
            // BOOLEAN is TINYINT(1); BIT(1) is a real two-valued type (SQL_BIT).
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

    fn data_error(table: &str) -> (Vec<String>, String) {
        // Strict mode (MariaDB's default): data too long (SQLSTATE 22001).
        (
            vec![format!("CREATE TABLE {table} (v VARCHAR(2))")],
            format!("INSERT INTO {table} VALUES ('too long')"),
        )
    }

    fn callproc_fixture(name: &str) -> (Vec<String>, String) {
        (
            vec![format!(
                "CREATE PROCEDURE {name}(IN s TEXT) SELECT LOWER(s)"
            )],
            name.to_owned(),
        )
    }
}

dbapi_conformance::conformance_tests!(
    common::OdbcContext<MariaDbOdbc>,
    #[ignore = "needs MariaDB and its ODBC driver: cargo xtask test"]
);
