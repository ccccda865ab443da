//! [`MysqlCursor`]: executes statements and buffers every result set they return.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use dbapi::{Column, Cursor, CursorState, Error, Params, Result, Row};
use mysql::prelude::{Protocol, Queryable};
use mysql::QueryResult;

use crate::decode::{self, Decoder};
use crate::params::to_mysql;
use crate::MysqlConnection;

/// One result of a statement, read completely.
enum Outcome {
    /// A result set.
    Rows(Arc<[Column]>, VecDeque<Row>),
    /// An OK packet: affected rows and the last insert id.
    Done { affected: u64, insert_id: u64 },
}

/// A cursor on a [`MysqlConnection`]. `execute` reads every result the statement returns;
/// [`Cursor::nextset`] moves from one to the next (several statements separated by `;`, or
/// a stored procedure's results).
///
/// Statements without parameters go over the text protocol (one round trip, several
/// statements allowed); statements with parameters are prepared once per connection and
/// cached, then run over the binary protocol.
pub struct MysqlCursor<'c> {
    conn: &'c mut MysqlConnection,
    state: CursorState,
    pending: VecDeque<Outcome>,
    lastrowid: Option<i64>,
}

impl<'c> MysqlCursor<'c> {
    pub(crate) fn new(conn: &'c mut MysqlConnection) -> Self {
        Self {
            conn,
            state: CursorState::new(),
            pending: VecDeque::new(),
            lastrowid: None,
        }
    }

    fn run(&mut self, sql: &str, params: mysql::Params) -> Result<()> {
        self.conn.before_statement(sql)?;
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
        let outcomes = outcomes.map_err(|failure| match failure {
            Failure::Driver(e) => self.conn.check(e),
            Failure::Decode(e) => e,
        })?;
        self.pending = outcomes.into();
        self.advance().map(drop)
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

/// Why reading a statement's results failed.
enum Failure {
    /// The driver or the server failed.
    Driver(mysql::Error),
    /// A value could not be decoded (the rest of the results are drained on drop).
    Decode(Error),
}

/// Reads every result of a statement.
fn read_all<P: Protocol>(mut result: QueryResult<'_, '_, '_, P>) -> Result<Vec<Outcome>, Failure> {
    let mut outcomes = Vec::new();
    while let Some(set) = result.iter() {
        let native_columns = set.columns();
        let native_columns = native_columns.as_ref();
        if native_columns.is_empty() {
            let done = Outcome::Done {
                affected: set.affected_rows(),
                insert_id: set.last_insert_id().unwrap_or(0),
            };
            // A set without columns is either a statement's OK or a later statement's
            // error; only iterating it tells which.
            for row in set {
                row.map_err(Failure::Driver)?;
            }
            outcomes.push(done);
            continue;
        }
        let decoders: Vec<Decoder> = native_columns.iter().map(Decoder::for_column).collect();
        let columns: Arc<[Column]> = native_columns
            .iter()
            .zip(&decoders)
            .map(|(c, d)| decode::column(c, *d))
            .collect();
        let mut rows = VecDeque::new();
        for row in set {
            let values = row
                .map_err(Failure::Driver)?
                .unwrap()
                .into_iter()
                .zip(&decoders)
                .map(|(value, decoder)| decoder.decode(value))
                .collect::<Result<Vec<_>>>()
                .and_then(|values| Row::new(Arc::clone(&columns), values));
            rows.push_back(values.map_err(Failure::Decode)?);
        }
        outcomes.push(Outcome::Rows(columns, rows));
    }
    Ok(outcomes)
}

impl Cursor for MysqlCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
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

    dbapi::delegate_cursor_state!(state);

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
