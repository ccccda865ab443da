//! Bring your own driver: the three `dbapi` traits implemented by a third party, here over
//! rusqlite's plain API, in about 150 lines of code. Every pool in `dbpool-core` then works with
//! it, and `tests/custom_driver_conformance.rs` runs the conformance suite's core checks on it.
//!
//! Run it: `cargo run -p dbapi-conformance --example custom_driver`

use std::sync::Arc;

use dbapi::{
    Column, Connection, Cursor, CursorState, Error, Module, ParamStyle, Params, Result, Row,
    ThreadSafety, TypeCode, Value,
};

/// The module: where to connect.
pub struct TinyDriver {
    /// The database file (or `:memory:`).
    pub path: String,
}

/// A connection that is always inside a transaction (`BEGIN` after connect and after every
/// commit or rollback), the way psycopg2 behaves.
pub struct TinyConnection {
    db: Option<rusqlite::Connection>,
}

/// Reads its whole result on `execute`; `CursorState` does the DB-API bookkeeping.
pub struct TinyCursor<'c> {
    db: &'c rusqlite::Connection,
    state: CursorState,
}

fn driver_error(e: rusqlite::Error) -> Error {
    let kind = match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => dbapi::ErrorKind::Integrity,
        Some(rusqlite::ErrorCode::Unknown) | None => dbapi::ErrorKind::Programming,
        Some(_) => dbapi::ErrorKind::Operational,
    };
    Error::new(kind, e.to_string()).with_source(e)
}

impl Module for TinyDriver {
    type Connection = TinyConnection;
    const THREADSAFETY: ThreadSafety = ThreadSafety::Module;
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;

    fn connect(&self) -> Result<TinyConnection> {
        let db = rusqlite::Connection::open(&self.path).map_err(driver_error)?;
        db.execute_batch("BEGIN").map_err(driver_error)?;
        Ok(TinyConnection { db: Some(db) })
    }
}

impl TinyConnection {
    fn db(&self) -> Result<&rusqlite::Connection> {
        self.db.as_ref().ok_or_else(|| Error::closed("connection"))
    }
    fn end(&mut self, verb: &str) -> Result<()> {
        self.db()?
            .execute_batch(&format!("{verb}; BEGIN"))
            .map_err(driver_error)
    }
}

impl Connection for TinyConnection {
    type Cursor<'c> = TinyCursor<'c>;
    fn cursor(&mut self) -> Result<TinyCursor<'_>> {
        Ok(TinyCursor {
            db: self.db()?,
            state: CursorState::new(),
        })
    }
    fn commit(&mut self) -> Result<()> {
        self.end("COMMIT")
    }
    fn rollback(&mut self) -> Result<()> {
        self.end("ROLLBACK")
    }
    fn close(&mut self) -> Result<()> {
        self.db = None;
        Ok(())
    }
    fn is_closed(&self) -> bool {
        self.db.is_none()
    }
}

fn to_sql(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Null => V::Null,
        Value::Bool(b) => V::Integer(i64::from(*b)),
        Value::Int(i) => V::Integer(*i),
        Value::Float(f) => V::Real(*f),
        Value::Bytes(b) => V::Blob(b.clone()),
        other => V::Text(other.to_string()),
    }
}

fn from_sql(value: rusqlite::types::Value) -> Value {
    use rusqlite::types::Value as V;
    match value {
        V::Null => Value::Null,
        V::Integer(i) => Value::Int(i),
        V::Real(f) => Value::Float(f),
        V::Text(s) => Value::Text(s),
        V::Blob(b) => Value::Bytes(b),
    }
}

impl Cursor for TinyCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.state.begin_execute()?;
        let values = match params {
            Params::None => Vec::new(),
            Params::Positional(values) => values.iter().map(to_sql).collect(),
            Params::Named(_) => {
                return Err(Error::not_supported("TinyDriver takes ? parameters only"))
            }
        };
        let mut stmt = self.db.prepare(sql).map_err(driver_error)?;
        for (i, v) in values.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, v).map_err(driver_error)?;
        }
        if stmt.column_count() == 0 {
            let changed = stmt.raw_execute().map_err(driver_error)?;
            self.state.set_rowcount(changed as i64);
            return Ok(());
        }
        let columns: Arc<[Column]> = stmt
            .column_names()
            .map(|n| Column::new(n, TypeCode::new("", None)))
            .collect();
        let mut rows = stmt.raw_query();
        let mut buffered = std::collections::VecDeque::new();
        while let Some(row) = rows.next().map_err(driver_error)? {
            let values = (0..columns.len())
                .map(|i| row.get(i).map(from_sql).map_err(driver_error))
                .collect::<Result<Vec<_>>>()?;
            buffered.push_back(Row::new(columns.clone(), values)?);
        }
        self.state.set_result(columns, buffered);
        Ok(())
    }
    dbapi::delegate_cursor_state!(state);
}

fn main() -> Result<()> {
    let driver = TinyDriver {
        path: ":memory:".into(),
    };
    let mut conn = driver.connect()?;
    let mut cur = conn.cursor()?;
    cur.execute("SELECT ? || ' driver', ?", &dbapi::params!["tiny", 42])?;
    println!("{:?}", cur.fetchone()?.map(Row::into_values));
    Ok(())
}
