//! A DB-API 2 conformance suite for [`dbapi`] drivers: a port of what Stuart Bishop's
//! `dbapi20.py` checks (as used by psycopg2 and mysqlclient), as macros that expand to one
//! `#[test]` per check.
//!
//! An adapter implements [`Context`] (a fresh database per check, its SQL type names, its
//! [`Capabilities`]) and instantiates the suite in an integration test:
//!
//! ```
//! use dbapi_conformance::{checks, Context, SqlType};
//! use dbapi_sqlite::Sqlite;
//!
//! struct MemoryContext(Sqlite);
//!
//! impl Context for MemoryContext {
//!     type Module = Sqlite;
//!     fn setup() -> Self { MemoryContext(Sqlite::memory()) }
//!     fn module(&self) -> &Sqlite { &self.0 }
//!     fn table(&self, base: &str) -> String { format!("t_{base}") }
//!     fn sql_type(&self, _: SqlType) -> &'static str { "TEXT" }
//!     fn data_error_setup(&self) -> Vec<String> { Vec::new() }
//!     fn data_error_sql(&self) -> String { String::new() }
//! }
//!
//! // In an integration test file, this line expands to one #[test] per check:
//! // dbapi_conformance::conformance_core_tests!(MemoryContext);
//! // Server-backed adapters add an ignore reason so plain `cargo test` lists them as ignored:
//! // dbapi_conformance::conformance_tests!(PgContext, #[ignore = "needs PostgreSQL: cargo xtask test"]);
//!
//! // Each check is also a plain function:
//! checks::fetch_mixed::<MemoryContext>();
//! checks::use_after_close_is_interface_error::<MemoryContext>();
//! ```
//!
//! Backend differences are capability flags, never skipped assertions: a backend without
//! `callproc` must fail it with NotSupported, and the check asserts exactly that.

#![warn(missing_docs)]

pub mod checks;
mod context;
pub mod streaming;

pub use context::{Capabilities, Context, SqlType};

/// Expands to one `#[test]` per listed check, each running `checks::<name>::<Ctx>()`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_checks {
    ($ctx:ty, $attrs:tt, $($name:ident),* $(,)?) => {
        $( $crate::__conformance_check!($ctx, $attrs, $name); )*
    };
}

/// One `#[test]` for one check.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_check {
    ($ctx:ty, [$(#[$attr:meta])*], $name:ident) => {
        #[test]
        $(#[$attr])*
        fn $name() {
            $crate::checks::$name::<$ctx>();
        }
    };
}

/// The checks every driver must pass, even a minimal third-party one.
#[macro_export]
macro_rules! conformance_core_tests {
    ($ctx:ty $(, #[$attr:meta])* $(,)?) => {
        $crate::__conformance_checks!($ctx, [$(#[$attr])*],
            module_constants,
            connect_and_ping,
            check_alive_on_a_working_connection,
            syntax_error_is_programming,
            commit_persists,
            rollback_discards,
            pipelined_rollback_discards,
            commit_and_rollback_without_transaction,
            use_after_close_is_interface_error,
            cursor_use_after_close_is_interface_error,
            description_none_without_result,
            rowcount_after_ddl,
            rowcount_after_dml,
            params_with_quotes,
            params_null,
            params_unicode,
            executemany_inserts_each,
            fetchone_then_none,
            fetch_before_execute_is_error,
            fetch_after_non_query_is_error,
            fetchmany_default_arraysize,
            fetchmany_explicit_then_empty,
            fetchall_returns_everything,
            fetch_mixed,
            nextset_supported_or_not,
            callproc_supported_or_not,
            setinputsizes_setoutputsize_harmless,
            cursors_in_sequence,
        );
    };
}

/// The whole suite: the core checks plus error classification, descriptions, isolation,
/// named parameters and a round trip of every [`dbapi::Value`] variant.
#[macro_export]
macro_rules! conformance_tests {
    ($ctx:ty $(, #[$attr:meta])* $(,)?) => {
        $crate::conformance_core_tests!($ctx $(, #[$attr])*);
        $crate::__conformance_checks!($ctx, [$(#[$attr])*],
            missing_table_is_programming,
            duplicate_key_is_integrity,
            bad_data_is_data_error,
            errors_carry_details,
            isolation_uncommitted_invisible,
            description_after_select,
            rowcount_after_select,
            wrong_parameter_count_is_programming,
            named_params,
            execute_replaces_result,
            lastrowid_after_insert,
            round_trip_int,
            round_trip_float,
            round_trip_bool,
            round_trip_text_empty_vs_null,
            round_trip_bytes_and_1mib_blob,
            round_trip_temporal,
            round_trip_decimal,
        );
    };
}
