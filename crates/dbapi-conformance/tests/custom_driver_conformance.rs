//! The conformance suite's core checks on the third-party driver of
//! `examples/custom_driver.rs`: the extension point works for drivers outside this workspace.

#[allow(dead_code)]
#[path = "../examples/custom_driver.rs"]
mod custom_driver;

use custom_driver::TinyDriver;
use dbapi_conformance::{Context, SqlType};

struct TinyContext {
    module: TinyDriver,
    _dir: tempfile::TempDir,
}

impl Context for TinyContext {
    type Module = TinyDriver;

    fn setup() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("tiny.db").to_string_lossy().into_owned();
        Self {
            module: TinyDriver { path },
            _dir: dir,
        }
    }

    fn module(&self) -> &TinyDriver {
        &self.module
    }

    fn table(&self, base: &str) -> String {
        format!("tiny_{base}")
    }

    fn sql_type(&self, ty: SqlType) -> &'static str {
        match ty {
            SqlType::Int | SqlType::Bool => "INTEGER",
            SqlType::Float => "REAL",
            SqlType::Bytes => "BLOB",
            _ => "TEXT",
        }
    }

    fn data_error_setup(&self) -> Vec<String> {
        Vec::new()
    }

    fn data_error_sql(&self) -> String {
        String::new()
    }
}

dbapi_conformance::conformance_core_tests!(TinyContext);
