//! [`MysqlCursor`]: executes statements and buffers every result set they return.

use std::collections::{HashMap, VecDeque};

use dbapi::{Cursor, CursorState, Params, Result, Row};
use mysql::prelude::{Protocol, Queryable};
use mysql::{Conn, QueryResult};

use crate::params::to_mysql;
use crate::results::{read_all, Failure, Outcome};
use crate::stream::{RowStream, Stream};
use crate::MysqlConnection;

/// A cursor on a [`MysqlConnection`]. `execute` reads every result the statement returns;
/// [`Cursor::nextset`] moves from one to the next (several statements separated by `;`, or
/// a stored procedure's results).
///
/// Statements without parameters go over the text protocol (one round trip, several
/// statements allowed); statements with parameters are prepared once per connection and
/// cached, then run over the binary protocol.
///
/// With [`Cursor::set_streaming`] on, a query's first result set is read as it is fetched
/// instead (MySQL's unbuffered protocol, as MySQLdb's `SSCursor`); the results after it are
/// read when it ends. Until the streamed set is read to its end or the cursor moves on, the
/// connection can do nothing else, and moving on early reads and discards the rows left.
pub struct MysqlCursor<'c> {
    conn: &'c mut MysqlConnection,
    state: CursorState,
    pending: VecDeque<Outcome>,
    lastrowid: Option<i64>,
    /// The streamed result set in progress: it borrows the connection's `Conn` (see
    /// `start_stream`), so the cursor reaches `conn` only once it is gone.
    stream: Option<Box<dyn RowStream + 'c>>,
    /// Rows fetched from the stream so far.
    streamed: i64,
}

impl<'c> MysqlCursor<'c> {
    pub(crate) fn new(conn: &'c mut MysqlConnection) -> Self {
        Self {
            conn,
            state: CursorState::new(),
            pending: VecDeque::new(),
            lastrowid: None,
            stream: None,
            streamed: 0,
        }
    }

    fn run(&mut self, sql: &str, params: mysql::Params) -> Result<()> {
        self.conn.before_statement(sql)?;
        if self.state.streaming() {
            return self.start_stream(sql, params);
        }
        let native = self.conn.native_mut()?;
        let outcomes = match params {
            mysql::Params::Empty => native
                .query_iter(sql)
                .map_err(Failure::Driver)
                .and_then(read_all),
            params => native
                .exec_iter(sql, params)
                .map_err(Failure::Driver)
                .and_then(read_all),
        };
        let outcomes = outcomes.map_err(|failure| self.fail(failure))?;
        self.pending = outcomes.into();
        self.advance().map(drop)
    }

    /// Runs a statement whose first result set streams: its rows stay on the connection
    /// until they are fetched. A statement whose first result has no columns is read
    /// completely, as without streaming.
    #[allow(unsafe_code)]
    fn start_stream(&mut self, sql: &str, params: mysql::Params) -> Result<()> {
        let native: *mut Conn = self.conn.native_mut()?;
        // SAFETY: `native` is the `Conn` of the connection this cursor borrows mutably for
        // `'c`, so nothing but this cursor can reach it, and it cannot move or drop, until
        // `'c` ends. The `&'c mut` made here goes to the stream alone: while the stream lives
        // the cursor does not touch `self.conn` (every path that does — `execute`, `close`,
        // a failure, the end of the set — drops the stream first), and the stream is a field
        // of the cursor, so it is dropped no later than the cursor.
        let native: &'c mut Conn = unsafe { &mut *native };
        let started = match params {
            mysql::Params::Empty => native.query_iter(sql).map(stream_or_read),
            params => native.exec_iter(sql, params).map(stream_or_read),
        };
        match started.map_err(Failure::Driver).and_then(|started| started) {
            Ok(Started::Stream(stream, columns)) => {
                self.state.set_result(columns, VecDeque::new());
                self.state.set_rowcount(-1);
                self.stream = Some(stream);
                self.streamed = 0;
                Ok(())
            }
            Ok(Started::Read(outcomes)) => {
                self.pending = outcomes.into();
                self.advance().map(drop)
            }
            Err(failure) => Err(self.fail(failure)),
        }
    }

    /// The error of a failed read; a lost connection marks the connection broken.
    fn fail(&mut self, failure: Failure) -> dbapi::Error {
        match failure {
            Failure::Driver(e) => self.conn.check(e),
            Failure::Decode(e) => e,
        }
    }

    /// The next row of the streamed set; at its end, the results after it are read and the
    /// stream ends.
    fn fetch_streamed(&mut self) -> Result<Option<Row>> {
        let Some(stream) = &mut self.stream else {
            return self.state.fetch_next();
        };
        match stream.next_row() {
            Ok(Some(row)) => {
                self.streamed += 1;
                Ok(Some(row))
            }
            Ok(None) => {
                let rest = self.stream.take().map_or(Ok(Vec::new()), RowStream::rest);
                self.state.set_rowcount(self.streamed);
                self.pending = rest.map_err(|failure| self.fail(failure))?.into();
                Ok(None)
            }
            Err(failure) => {
                self.stream = None;
                Err(self.fail(failure))
            }
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
            Outcome::Done {
                affected,
                insert_id,
            } => {
                self.state
                    .set_rowcount(i64::try_from(affected).unwrap_or(i64::MAX));
                self.lastrowid = Some(i64::try_from(insert_id).unwrap_or(i64::MAX));
            }
        }
        Ok(true)
    }
}

/// A statement started with streaming on.
enum Started<'c> {
    /// Its first result set, to be read as it is fetched, and that set's description.
    Stream(Box<dyn RowStream + 'c>, std::sync::Arc<[dbapi::Column]>),
    /// Its results, read completely: the first had no columns.
    Read(Vec<Outcome>),
}

fn stream_or_read<'c, P: Protocol + 'c>(
    result: QueryResult<'c, 'c, 'c, P>,
) -> Result<Started<'c>, Failure> {
    match Stream::new(result) {
        Ok(stream) => {
            let columns = std::sync::Arc::clone(stream.columns());
            Ok(Started::Stream(Box::new(stream), columns))
        }
        Err(result) => read_all(result).map(Started::Read),
    }
}

impl Cursor for MysqlCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        // Ends a stream in progress (its rows left are read and discarded).
        self.stream = None;
        self.state.begin_execute()?;
        self.pending.clear();
        self.lastrowid = None;
        let native = match params {
            Params::None => mysql::Params::Empty,
            Params::Positional(values) if values.is_empty() => mysql::Params::Empty,
            Params::Positional(values) => {
                mysql::Params::Positional(values.iter().map(to_mysql).collect::<Result<_>>()?)
            }
            Params::Named(pairs) => mysql::Params::Named(
                pairs
                    .iter()
                    .map(|(name, value)| Ok((name.as_bytes().to_vec(), to_mysql(value)?)))
                    .collect::<Result<HashMap<_, _>>>()?,
            ),
        };
        self.run(sql, native)
    }

    dbapi::delegate_cursor_state!(state, without fetch_next and close);

    fn fetch_next(&mut self) -> Result<Option<Row>> {
        self.state.check_open()?;
        self.fetch_streamed()
    }

    fn close(&mut self) -> Result<()> {
        self.stream = None;
        self.pending.clear();
        self.state.close();
        Ok(())
    }

    /// Streams the first result set of each query (see [`MysqlCursor`]).
    fn set_streaming(&mut self, on: bool) -> Result<()> {
        self.state.set_streaming(on)
    }

    /// `CALL procname(?, …)`; the procedure's result sets are fetchable, one after another
    /// with [`Cursor::nextset`].
    fn callproc(&mut self, procname: &str, params: &Params) -> Result<()> {
        let procname = dbapi::check_procname(procname)?;
        let markers = vec!["?"; params.len()].join(", ");
        self.execute(&format!("CALL {procname}({markers})"), params)
    }

    fn nextset(&mut self) -> Result<bool> {
        self.state.check_open()?;
        self.advance()
    }

    /// The `AUTO_INCREMENT` value of the last insert (0 when the table has none), after a
    /// statement that returned no rows.
    fn lastrowid(&self) -> Option<i64> {
        self.lastrowid
    }
}
