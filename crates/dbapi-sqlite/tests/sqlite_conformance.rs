//! The dbapi20-style conformance suite on SQLite, each check on its own temporary file
//! (a file, not `:memory:`, so the isolation checks can open a second connection).

use dbapi_conformance::{Capabilities, Context, SqlType};
use dbapi_sqlite::Sqlite;

struct SqliteContext {
    module: Sqlite,
    _dir: tempfile::TempDir,
}

impl Context for SqliteContext {
    type Module = Sqlite;

    fn setup() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("conformance.db");
        Self {
            module: Sqlite::file(path.to_string_lossy().into_owned()),
            _dir: dir,
        }
    }

    fn module(&self) -> &Sqlite {
        &self.module
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            lastrowid: true,
            named_params: true,
            exact_decimal: false,
            ..Capabilities::default()
        }
    }

    fn table(&self, base: &str) -> String {
        format!("dbapi20test_{base}")
    }

    fn sql_type(&self, ty: SqlType) -> &'static str {
        match ty {
            SqlType::Bool => "BOOLEAN",
            SqlType::Int => "INTEGER",
            SqlType::Float => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Bytes => "BLOB",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "TIMESTAMP",
            SqlType::Decimal => "DECIMAL(20, 4)",
        }
    }

    fn data_error_setup(&self) -> Vec<String> {
        vec!["CREATE TABLE dbapi20test_strict (v INTEGER) STRICT".to_owned()]
    }

    fn data_error_sql(&self) -> String {
        "INSERT INTO dbapi20test_strict VALUES ('not a number')".to_owned()
    }
}

dbapi_conformance::conformance_tests!(SqliteContext);
