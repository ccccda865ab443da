//! [`SqliteCursor`]: executes statements and buffers their rows.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Cursor, CursorState, Error, Params, Result, Row, Value};

use crate::error_mapping::from_rusqlite;
use crate::shapes::Shapes;
use crate::value_mapping::{self, Bind, Declared};

/// A cursor on a [`crate::SqliteConnection`]. Result sets are read completely by `execute`
/// and buffered, so `rowcount` after a `SELECT` is exact.
pub struct SqliteCursor<'c> {
    conn: &'c rusqlite::Connection,
    /// The connection's result shapes: a query seen before builds no column metadata.
    shapes: &'c mut Shapes,
    autocommit: bool,
    state: CursorState,
    lastrowid: Option<i64>,
    /// Whether the next query streams ([`Cursor::set_streaming`]).
    streaming: bool,
    /// A streaming query in progress.
    stream: Option<Stream<'c>>,
}

/// A query whose rows are read as they are fetched: its statement, stepped one row per
/// fetch.
struct Stream<'c> {
    stmt: rusqlite::CachedStatement<'c>,
    columns: Arc<[dbapi::Column]>,
    kinds: Box<[Declared]>,
    /// The first row, read by `execute` (it tells the expression columns' types).
    first: Option<Row>,
    fetched: i64,
}

impl Stream<'_> {
    /// The next row: the statement is stepped once. A fresh `Rows` continues from where
    /// the statement stands (rusqlite resets a statement only when its `Rows` is dropped or
    /// runs out), so the `Rows` of a row in hand is forgotten, not dropped.
    fn next(&mut self) -> Result<Option<Row>> {
        if let Some(first) = self.first.take() {
            self.fetched += 1;
            return Ok(Some(first));
        }
        let mut rows = self.stmt.raw_query();
        let step = match rows.next() {
            Ok(Some(row)) => read_values(row, &self.kinds).map(Some),
            Ok(None) => Ok(None),
            Err(err) => Err(from_rusqlite(err)),
        };
        match step {
            Ok(Some(values)) => {
                // Keeps the statement on this row for the next step (no heap to leak).
                std::mem::forget(rows);
                self.fetched += 1;
                Row::new(Arc::clone(&self.columns), values).map(Some)
            }
            // Done, or failed: dropping the `Rows` resets the statement.
            other => other.map(|_| None),
        }
    }

    /// Abandons the query: the statement is reset before it goes back to the cache.
    fn end(mut self) {
        drop(self.stmt.raw_query());
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

/// One row's values, read as their columns declare.
fn read_values(row: &rusqlite::Row<'_>, kinds: &[Declared]) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        values.push(value_mapping::read(
            row.get_ref(i).map_err(from_rusqlite)?,
            *kind,
        )?);
    }
    Ok(values)
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &Params) -> Result<()> {
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
    pub(crate) fn new(
        conn: &'c rusqlite::Connection,
        autocommit: bool,
        shapes: &'c mut Shapes,
    ) -> Self {
        Self {
            conn,
            shapes,
            autocommit,
            state: CursorState::new(),
            lastrowid: None,
            streaming: false,
            stream: None,
        }
    }

    /// Ends a streaming query in progress, if any.
    fn end_stream(&mut self) {
        if let Some(stream) = self.stream.take() {
            stream.end();
        }
    }

    fn run(&mut self, sql: &str, params: &Params) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(from_rusqlite)?;
        bind(&mut stmt, params)?;
        if !self.autocommit
            && !stmt.readonly()
            && self.conn.is_autocommit()
            && !controls_transactions(sql)
        {
            self.conn.execute_batch("BEGIN").map_err(from_rusqlite)?;
        }
        if stmt.column_count() == 0 {
            let changed = stmt.raw_execute().map_err(from_rusqlite)?;
            self.state
                .set_rowcount(i64::try_from(changed).unwrap_or(i64::MAX));
            self.lastrowid = Some(self.conn.last_insert_rowid());
            return Ok(());
        }
        let writes = !stmt.readonly();
        if self.streaming && !writes {
            return self.start_stream(sql, stmt);
        }
        let mut buffered = VecDeque::new();
        let mut rows = stmt.raw_query();
        // The shape is taken after the first step: a statement re-prepared for a schema
        // change reports its new columns only then.
        let columns = match rows.next().map_err(from_rusqlite)? {
            Some(row) => {
                let shape = self.shapes.get(sql, row.as_ref());
                let values = read_values(row, &shape.kinds)?;
                shape.fit_first_row(Some(&values));
                buffered.push_back(Row::new(Arc::clone(&shape.columns), values)?);
                while let Some(row) = rows.next().map_err(from_rusqlite)? {
                    let values = read_values(row, &shape.kinds)?;
                    buffered.push_back(Row::new(Arc::clone(&shape.columns), values)?);
                }
                Some(Arc::clone(&shape.columns))
            }
            None => None,
        };
        drop(rows);
        let columns = columns.unwrap_or_else(|| {
            // No rows: the statement, stepped once, describes its columns.
            let shape = self.shapes.get(sql, &stmt);
            shape.fit_first_row(None);
            Arc::clone(&shape.columns)
        });
        self.state.set_result(columns, buffered);
        if writes {
            self.state
                .set_rowcount(i64::try_from(self.conn.changes()).unwrap_or(i64::MAX));
            self.lastrowid = Some(self.conn.last_insert_rowid());
        }
        Ok(())
    }
}

impl<'c> SqliteCursor<'c> {
    /// Starts streaming a read-only query: reads its first row (which tells the expression
    /// columns' types) and keeps the statement for the fetches.
    fn start_stream(&mut self, sql: &str, mut stmt: rusqlite::CachedStatement<'c>) -> Result<()> {
        let mut rows = stmt.raw_query();
        let first = match rows.next().map_err(from_rusqlite)? {
            Some(row) => {
                let shape = self.shapes.get(sql, row.as_ref());
                let values = read_values(row, &shape.kinds)?;
                shape.fit_first_row(Some(&values));
                Some((
                    Row::new(Arc::clone(&shape.columns), values)?,
                    Arc::clone(&shape.columns),
                    shape.kinds.clone(),
                ))
            }
            None => None,
        };
        let Some((first, columns, kinds)) = first else {
            drop(rows);
            let shape = self.shapes.get(sql, &stmt);
            shape.fit_first_row(None);
            self.state
                .set_result(Arc::clone(&shape.columns), VecDeque::new());
            return Ok(());
        };
        // The statement stays on its first row for the next fetch.
        std::mem::forget(rows);
        self.state.set_result(Arc::clone(&columns), VecDeque::new());
        self.state.set_rowcount(-1);
        self.stream = Some(Stream {
            stmt,
            columns,
            kinds,
            first: Some(first),
            fetched: 0,
        });
        Ok(())
    }
}

impl Drop for SqliteCursor<'_> {
    fn drop(&mut self) {
        self.end_stream();
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
                self.stream = None;
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
        self.state.check_open()?;
        self.streaming = on;
        Ok(())
    }

    fn lastrowid(&self) -> Option<i64> {
        self.lastrowid
    }
}
