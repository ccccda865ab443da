//! What an adapter tells the suite about itself: how to get a fresh database, which SQL
//! types to use, and which optional DB-API features it has.

use dbapi::{Module, ParamStyle};

/// Optional DB-API features. A check of a feature the backend lacks asserts the documented
/// fallback (a NotSupported error) instead of being skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct Capabilities {
    /// `callproc` works (otherwise it must fail with NotSupported).
    pub callproc: bool,
    /// `nextset` works (otherwise it must fail with NotSupported).
    pub nextset: bool,
    /// `lastrowid` is reported after an insert.
    pub lastrowid: bool,
    /// Named parameters are accepted.
    pub named_params: bool,
    /// Decimals keep every digit (SQLite's NUMERIC affinity does not).
    pub exact_decimal: bool,
    /// `rowcount` after a `SELECT` is the number of rows (otherwise -1 is accepted).
    pub rowcount_after_select: bool,
    /// Errors carry a SQLSTATE that tells their kind. A driver that reports every error
    /// under one catch-all state (SQLite's ODBC driver: `HY000`) sets this to `false`, and
    /// the error checks accept DatabaseError, still demanding an error.
    pub classified_errors: bool,
    /// The driver describes and converts columns by their declared type. SQLite's ODBC
    /// driver describes `BLOB` and `DECIMAL` columns as `CHAR` and converts doubles through
    /// 15-digit text; with `false`, the description check accepts STRING for the binary
    /// column, decimal and float round trips compare what such a driver keeps (the value as
    /// text, 15 significant digits), and the byte round trip is not run: bytes cannot come
    /// back as bytes from a column described as text.
    pub typed_columns: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            callproc: false,
            nextset: false,
            lastrowid: false,
            named_params: false,
            exact_decimal: true,
            rowcount_after_select: true,
            classified_errors: true,
            typed_columns: true,
        }
    }
}

/// The column types the suite needs, named per backend by [`Context::sql_type`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    /// A boolean column.
    Bool,
    /// A 64-bit integer column.
    Int,
    /// A double-precision column.
    Float,
    /// A text column.
    Text,
    /// A binary column able to hold 1 MiB.
    Bytes,
    /// A date column.
    Date,
    /// A time column.
    Time,
    /// A timestamp column.
    Timestamp,
    /// An exact decimal column.
    Decimal,
}

/// An adapter's description of itself for the suite. Each check calls
/// [`Context::setup`] for a fresh, isolated database and drops the context at the end.
pub trait Context: Sized {
    /// The module under test.
    type Module: Module;

    /// A fresh context. Server-backed adapters read their server's URL from the environment
    /// here and panic with a message naming `cargo xtask test` when it is missing.
    fn setup() -> Self;

    /// The module under test, connected to this context's database.
    fn module(&self) -> &Self::Module;

    /// The optional features the backend has.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// A table name unique to this context (so checks may run in parallel on one server).
    fn table(&self, base: &str) -> String;

    /// The backend's name for a column type.
    fn sql_type(&self, ty: SqlType) -> &'static str;

    /// Statements that create what [`Context::data_error_sql`] needs.
    fn data_error_setup(&self) -> Vec<String>;

    /// A statement that fails with a Data error (an overflow or a bad cast).
    fn data_error_sql(&self) -> String;

    /// The parameter marker for the `n`th (1-based) parameter.
    fn placeholder(&self, n: usize) -> String {
        match <Self::Module as Module>::PARAMSTYLE {
            ParamStyle::Qmark => "?".to_owned(),
            ParamStyle::Numeric => format!(":{n}"),
            ParamStyle::Named => format!(":p{n}"),
            ParamStyle::Format | ParamStyle::Pyformat => "%s".to_owned(),
            ParamStyle::Dollar => format!("${n}"),
        }
    }

    /// What `callproc` calls in the suite, for backends with [`Capabilities::callproc`]:
    /// statements that create it, and its name. It takes one text argument and returns one
    /// row holding it in lower case. Default: no setup and the built-in function `lower`
    /// (PostgreSQL calls functions); backends that call stored procedures create one with
    /// a name from [`Context::table`], so it is dropped with the context.
    fn callproc_fixture(&self) -> (Vec<String>, String) {
        (Vec::new(), "lower".to_owned())
    }

    /// A named-parameter marker, for backends with [`Capabilities::named_params`].
    fn named_placeholder(&self, name: &str) -> String {
        format!(":{name}")
    }
}
