//! [`OdbcCursor`]: executes a statement and buffers every result set it returns.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Cursor, CursorState, Error, Params, Result, Row};

use odbc_api::handles::StatementRef;
use odbc_api::{Cursor as _, CursorImpl, ResultSetMetadata as _};

use odbc_api::buffers::ColumnarDynBuffer;

use crate::fetch::{describe_set, read_batches, read_rows, Failure, MIN_BATCH_ROWS};
use crate::params::to_odbc;
use crate::OdbcConnection;

/// One result of a statement, read completely.
enum Outcome {
    /// A result set.
    Rows(Arc<[Column]>, VecDeque<Row>),
    /// A statement without one: the driver's row count, when it has one.
    Done(Option<usize>),
}

/// A cursor on an [`OdbcConnection`]. `execute` runs the statement with its `?` parameters
/// bound by type, and reads every result set it returns; [`Cursor::nextset`] moves to the
/// next one where the driver has several (`SQLMoreResults`).
pub struct OdbcCursor<'c> {
    conn: &'c mut OdbcConnection,
    state: CursorState,
    pending: VecDeque<Outcome>,
}

impl<'c> OdbcCursor<'c> {
    pub(crate) fn new(conn: &'c mut OdbcConnection) -> Self {
        Self {
            conn,
            state: CursorState::new(),
            pending: VecDeque::new(),
        }
    }

    /// Makes the next pending result current; `false` when there is none.
    fn advance(&mut self) -> Result<bool> {
        let Some(outcome) = self.pending.pop_front() else {
            return Ok(false);
        };
        // A fresh state for the next result (arraysize kept).
        self.state.begin_execute()?;
        match outcome {
            Outcome::Rows(columns, rows) => self.state.set_result(columns, rows),
            Outcome::Done(count) => self
                .state
                .set_rowcount(count.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX))),
        }
        Ok(true)
    }
}

/// Runs `sql` and reads all its results. A statement with parameters is prepared first, so
/// a wrong number of values is caught against the driver's count of markers (ODBC would
/// silently ignore extra bindings).
fn run(
    conn: &odbc_api::Connection<'static>,
    sql: &str,
    params: &[crate::params::Param],
    batch_rows: usize,
) -> Result<Vec<Outcome>, Failure> {
    let mut outcomes = Vec::new();
    if params.is_empty() {
        let mut statement = conn.preallocate()?;
        if let Some(cursor) = statement.execute(sql, ())? {
            read_all(cursor, batch_rows, &mut outcomes)?;
        }
        if outcomes.is_empty() {
            outcomes.push(Outcome::Done(statement.row_count()?));
        }
        return Ok(outcomes);
    }
    let mut prepared = conn.prepare(sql)?;
    let markers = prepared.num_params()?;
    if usize::from(markers) != params.len() {
        return Err(Failure::Decode(Error::programming(format!(
            "the statement has {markers} parameter marker(s) but {} value(s) were given",
            params.len()
        ))));
    }
    if let Some(cursor) = prepared.execute(params)? {
        read_all(cursor, batch_rows, &mut outcomes)?;
    }
    if outcomes.is_empty() {
        outcomes.push(Outcome::Done(prepared.row_count()?));
    }
    Ok(outcomes)
}

/// Reads every result set of a cursor, following `SQLMoreResults`, in batches of at least
/// `batch_rows` rows where every column has a bounded size. Results without columns (a
/// procedure's status, a statement's count between result sets) are skipped.
fn read_all(
    mut cursor: CursorImpl<StatementRef<'_>>,
    batch_rows: usize,
    outcomes: &mut Vec<Outcome>,
) -> Result<(), Failure> {
    loop {
        let shape = match cursor.num_result_cols() {
            Ok(0) => Ok(None),
            Ok(_) => describe_set(&mut cursor).map(Some),
            Err(err) => Err(Failure::Driver(err)),
        };
        let read = match shape {
            Ok(None) => Ok(None),
            Ok(Some(shape)) => match shape.batch.clone() {
                None => read_rows(&mut cursor, &shape).map(|rows| Some((shape.columns, rows))),
                Some(descs) => {
                    let buffer = ColumnarDynBuffer::try_from_descs(batch_rows, descs)?;
                    let mut block = cursor.bind_buffer(buffer)?;
                    let rows = read_batches(&mut block, &shape);
                    cursor = block.unbind()?.0;
                    rows.map(|rows| Some((shape.columns, rows)))
                }
            },
            Err(failure) => Err(failure),
        };
        match read {
            Ok(Some((columns, rows))) => outcomes.push(Outcome::Rows(columns, rows)),
            Ok(None) => {}
            Err(failure) => {
                // odbc-api panics when closing a cursor fails, which some drivers do after
                // an error; freeing the statement handle closes it without that check.
                let _ = cursor.into_stmt();
                return Err(failure);
            }
        }
        match cursor.more_results()? {
            Some(next) => cursor = next,
            None => return Ok(()),
        }
    }
}

impl Cursor for OdbcCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.state.begin_execute()?;
        self.pending.clear();
        let params = to_odbc(params)?;
        self.conn.before_statement();
        let batch_rows = self.state.arraysize().max(MIN_BATCH_ROWS);
        let outcomes = run(self.conn.native()?, sql, &params, batch_rows);
        let outcomes = outcomes.map_err(|failure| match failure {
            Failure::Driver(e) => self.conn.check(e),
            Failure::Decode(e) => e,
        })?;
        self.pending = outcomes.into();
        self.advance().map(drop)
    }

    dbapi::delegate_cursor_state!(state);

    /// ODBC's call escape, `{CALL procname(?, …)}`, which each driver translates to its
    /// database's syntax; its result sets are fetchable.
    fn callproc(&mut self, procname: &str, params: &Params) -> Result<()> {
        if !self.conn.has_procedures() {
            return Err(Error::not_supported(format!(
                "callproc({procname:?}): this data source has no stored procedures (Odbc::procedures(false)); execute a statement instead"
            )));
        }
        let procname = dbapi::check_procname(procname)?;
        let markers = vec!["?"; params.len()].join(", ");
        self.execute(&format!("{{CALL {procname}({markers})}}"), params)
    }

    fn nextset(&mut self) -> Result<bool> {
        self.state.check_open()?;
        self.advance()
    }
}
