//! [`SqliteCursor`]: executes statements and buffers their rows.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Cursor, CursorState, Error, Params, Result, Row};

use crate::error_mapping::from_rusqlite;
use crate::live::{LiveConnection, Prepared};
use crate::shapes::Shape;
use crate::value_mapping::{self, Bind, Declared};

/// A cursor on a [`crate::SqliteConnection`]. Result sets are read completely by `execute`
/// and buffered, so `rowcount` after a `SELECT` is exact.
pub struct SqliteCursor<'c> {
    /// The connection and its prepared statements (each with its result's shape).
    live: &'c mut LiveConnection,
    autocommit: bool,
    state: CursorState,
    lastrowid: Option<i64>,
    /// A streaming query in progress (boxed: a buffering cursor stays small to build and
    /// move).
    stream: Option<Box<Stream>>,
}

/// A query whose rows are read as they are fetched: its statement, taken out of the
/// connection's kept statements while it is stepped one row per fetch.
struct Stream {
    sql: String,
    prepared: Prepared,
    columns: Arc<[dbapi::Column]>,
    kinds: Box<[Declared]>,
    /// The first row, read by `execute` (it tells the expression columns' types).
    first: Option<Row>,
    fetched: i64,
}

impl Stream {
    /// The next row: the statement is stepped once. A fresh `Rows` continues from where
    /// the statement stands (rusqlite resets a statement only when its `Rows` is dropped or
    /// runs out), so the `Rows` of a row in hand is forgotten, not dropped.
    fn next(&mut self) -> Result<Option<Row>> {
        if let Some(first) = self.first.take() {
            self.fetched += 1;
            return Ok(Some(first));
        }
        let mut rows = self.prepared.stmt.raw_query();
        let step = match rows.next() {
            Ok(Some(row)) => read_row(row, &self.columns, &self.kinds).map(Some),
            Ok(None) => Ok(None),
            Err(err) => Err(from_rusqlite(err)),
        };
        match step {
            Ok(Some(row)) => {
                // Keeps the statement on this row for the next step (no heap to leak).
                std::mem::forget(rows);
                self.fetched += 1;
                Ok(Some(row))
            }
            // Done, or failed: dropping the `Rows` resets the statement.
            other => other.map(|_| None),
        }
    }

    /// Ends the query: the connection keeps the statement again.
    fn end(self: Box<Self>, live: &mut LiveConnection) {
        let Self { sql, prepared, .. } = *self;
        live.put_back(sql, prepared);
    }
}

/// Statements that must not be wrapped in an implicit `BEGIN`.
fn controls_transactions(sql: &str) -> bool {
    const KEYWORDS: [&str; 10] = [
        "BEGIN",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "PRAGMA",
        "VACUUM",
        "ATTACH",
        "DETACH",
    ];
    dbapi::starts_with_keyword(sql, &KEYWORDS)
}

/// One row, its values read as its columns declare.
#[inline]
fn read_row(row: &rusqlite::Row<'_>, columns: &Arc<[Column]>, kinds: &[Declared]) -> Result<Row> {
    Row::try_from_fn(Arc::clone(columns), |i| {
        value_mapping::read(row.get_ref(i).map_err(from_rusqlite)?, kinds[i])
    })
}

/// A result's first row, whose values settle the expression columns' types (see
/// [`Shape::fit_first_row`]).
fn read_first_row(row: &rusqlite::Row<'_>, shape: &mut Shape) -> Result<Row> {
    let first = read_row(row, &shape.columns, &shape.kinds)?;
    shape.fit_first_row(Some(first.values()));
    if std::ptr::eq(first.columns(), &*shape.columns) {
        Ok(first)
    } else {
        // The columns were rebuilt for these values: the row takes the new ones.
        Row::new(Arc::clone(&shape.columns), first.into_values())
    }
}

/// Binds every parameter of a kept statement. A kept statement holds no values between runs
/// (each run clears them when it ends, and a failed bind its partial ones here), so none is
/// left over from an earlier run.
fn bind(stmt: &mut rusqlite::Statement<'_>, params: &Params) -> Result<()> {
    let bound = bind_each(stmt, params);
    if bound.is_err() {
        stmt.clear_bindings();
    }
    bound
}

fn bind_each(stmt: &mut rusqlite::Statement<'_>, params: &Params) -> Result<()> {
    let expected = stmt.parameter_count();
    if params.len() != expected {
        return Err(Error::programming(format!(
            "the statement has {expected} parameter markers but {} values were given",
            params.len()
        )));
    }
    match params {
        Params::None => {}
        Params::Positional(values) => {
            for (i, value) in values.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, Bind(value))
                    .map_err(from_rusqlite)?;
            }
        }
        Params::Named(values) => {
            for (name, value) in values {
                let index = [':', '@', '$']
                    .iter()
                    .find_map(|prefix| {
                        stmt.parameter_index(&format!("{prefix}{name}"))
                            .ok()
                            .flatten()
                    })
                    .ok_or_else(|| {
                        Error::programming(format!("the statement has no parameter named :{name}"))
                    })?;
                stmt.raw_bind_parameter(index, Bind(value))
                    .map_err(from_rusqlite)?;
            }
        }
    }
    Ok(())
}

impl<'c> SqliteCursor<'c> {
    pub(crate) fn new(live: &'c mut LiveConnection, autocommit: bool) -> Self {
        Self {
            live,
            autocommit,
            state: CursorState::new(),
            lastrowid: None,
            stream: None,
        }
    }

    /// Ends a streaming query in progress, if any.
    #[inline]
    fn end_stream(&mut self) {
        if let Some(stream) = self.stream.take() {
            stream.end(self.live);
        }
    }

    fn run(&mut self, sql: &str, params: &Params) -> Result<()> {
        let (conn, prepared, spare_rows) = self.live.prepared(sql)?;
        let (stmt, mut shape) = prepared.parts();
        bind(stmt, params)?;
        let writes = !stmt.readonly();
        if !self.autocommit && writes && conn.is_autocommit() && !controls_transactions(sql) {
            if let Err(err) = conn.execute_batch("BEGIN") {
                stmt.clear_bindings();
                return Err(from_rusqlite(err));
            }
        }
        if stmt.column_count() == 0 {
            let changed = stmt.raw_execute().map_err(from_rusqlite);
            stmt.clear_bindings();
            self.state
                .set_rowcount(i64::try_from(changed?).unwrap_or(i64::MAX));
            self.lastrowid = Some(conn.last_insert_rowid());
            return Ok(());
        }
        if self.state.streaming() && !writes {
            return self.start_stream(sql);
        }
        // The cursor's own buffer from its last result, else the connection's kept one.
        let mut buffered = self
            .state
            .take_rows()
            .or_else(|| spare_rows.take())
            .unwrap_or_default();
        let mut rows = stmt.raw_query();
        // The shape is taken after the first step: a statement re-prepared for a schema
        // change reports its new columns only then.
        let columns = match rows.next().map_err(from_rusqlite)? {
            Some(row) => {
                let shape = shape.get(row.as_ref());
                buffered.push_back(read_first_row(row, shape)?);
                while let Some(row) = rows.next().map_err(from_rusqlite)? {
                    buffered.push_back(read_row(row, &shape.columns, &shape.kinds)?);
                }
                Some(Arc::clone(&shape.columns))
            }
            None => None,
        };
        drop(rows);
        if !params.is_empty() {
            stmt.clear_bindings();
        }
        let columns = columns.unwrap_or_else(|| {
            // No rows: the statement, stepped once, describes its columns.
            let shape = shape.get(stmt);
            shape.fit_first_row(None);
            Arc::clone(&shape.columns)
        });
        self.state.set_result(columns, buffered);
        if writes {
            self.state
                .set_rowcount(i64::try_from(conn.changes()).unwrap_or(i64::MAX));
            self.lastrowid = Some(conn.last_insert_rowid());
        }
        Ok(())
    }

    /// Starts streaming a read-only query whose statement is prepared and bound: reads its
    /// first row (which tells the expression columns' types) and keeps the statement for
    /// the fetches.
    fn start_stream(&mut self, sql: &str) -> Result<()> {
        let (sql, mut prepared) = self.live.take(sql)?;
        match first_row(&mut prepared) {
            Ok(Some((first, columns, kinds))) => {
                self.state.set_result(Arc::clone(&columns), VecDeque::new());
                self.state.set_rowcount(-1);
                self.stream = Some(Box::new(Stream {
                    sql,
                    prepared,
                    columns,
                    kinds,
                    first: Some(first),
                    fetched: 0,
                }));
                Ok(())
            }
            Ok(None) => {
                // No rows: the statement, stepped once, describes its columns.
                let (stmt, mut shape) = prepared.parts();
                let shape = shape.get(stmt);
                shape.fit_first_row(None);
                self.state
                    .set_result(Arc::clone(&shape.columns), VecDeque::new());
                self.live.put_back(sql, prepared);
                Ok(())
            }
            Err(err) => {
                self.live.put_back(sql, prepared);
                Err(err)
            }
        }
    }
}

/// The first row of a streaming query, its columns and how they read back; the statement
/// stays on that row for the next step. `None` (the statement reset) when there are no rows.
type FirstRow = (Row, Arc<[dbapi::Column]>, Box<[Declared]>);

fn first_row(prepared: &mut Prepared) -> Result<Option<FirstRow>> {
    let (stmt, mut shape) = prepared.parts();
    let mut rows = stmt.raw_query();
    let Some(row) = rows.next().map_err(from_rusqlite)? else {
        return Ok(None);
    };
    let shape = shape.get(row.as_ref());
    let first = read_first_row(row, shape)?;
    // The statement stays on its first row for the next fetch.
    std::mem::forget(rows);
    Ok(Some((
        first,
        Arc::clone(&shape.columns),
        shape.kinds.clone(),
    )))
}

impl Drop for SqliteCursor<'_> {
    fn drop(&mut self) {
        self.end_stream();
        if let Some(rows) = self.state.take_rows() {
            self.live.keep_rows(rows);
        }
    }
}

impl Cursor for SqliteCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.end_stream();
        self.state.begin_execute()?;
        self.run(sql, params)
    }

    dbapi::delegate_cursor_state!(state, without fetch_next and close);

    fn fetch_next(&mut self) -> Result<Option<Row>> {
        let Some(stream) = &mut self.stream else {
            return self.state.fetch_next();
        };
        self.state.check_open()?;
        match stream.next() {
            Ok(Some(row)) => Ok(Some(row)),
            other => {
                // Exhausted (or failed): the row count is known now.
                let fetched = stream.fetched;
                self.end_stream();
                self.state.set_rowcount(fetched);
                other
            }
        }
    }

    fn close(&mut self) -> Result<()> {
        self.end_stream();
        self.state.close();
        Ok(())
    }

    /// Streams read-only queries (see the trait); statements that write are always run to
    /// the end by `execute`.
    fn set_streaming(&mut self, on: bool) -> Result<()> {
        self.state.set_streaming(on)
    }

    fn lastrowid(&self) -> Option<i64> {
        self.lastrowid
    }
}
