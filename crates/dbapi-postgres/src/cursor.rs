//! [`PgCursor`]: executes statements with `$n` parameters and buffers their rows.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use dbapi::{Column, Cursor, CursorState, Error, Params, Result, Row, Value};
use tokio_postgres::types::{Kind, ToSql, Type};
use tokio_postgres::Statement;

use crate::decode::{self, Raw};
use crate::error_mapping::from_postgres;
use crate::params::PgParam;
use crate::PgConnection;

/// Rows fetched per round trip by a streaming cursor.
const STREAM_BATCH: usize = 1000;

/// Names server-side cursors apart.
static NEXT_STREAM: AtomicU64 = AtomicU64::new(0);

/// A cursor on a [`PgConnection`]. Results are read completely by `execute`, or — with
/// [`Cursor::set_streaming`] — through a server-side cursor, 1000 rows per
/// round trip.
pub struct PgCursor<'c> {
    conn: &'c mut PgConnection,
    state: CursorState,
    stream: Option<Stream>,
}

/// A query streamed through a server-side cursor (`DECLARE … NO SCROLL CURSOR`).
struct Stream {
    name: String,
    fetch: Statement,
    columns: Arc<[Column]>,
    batch: VecDeque<Row>,
    done: bool,
    fetched: i64,
    /// Autocommit was on: the stream runs in a transaction of its own, committed at its end.
    own_transaction: bool,
}

impl<'c> PgCursor<'c> {
    pub(crate) fn new(conn: &'c mut PgConnection) -> Self {
        Self {
            conn,
            state: CursorState::new(),
            stream: None,
        }
    }

    /// Closes the server-side cursor of a stream in progress (and commits the transaction
    /// it opened for itself).
    fn end_stream(&mut self) -> Result<()> {
        let Some(stream) = self.stream.take() else {
            return Ok(());
        };
        let Stream {
            name,
            fetch,
            own_transaction,
            ..
        } = stream;
        drop(fetch);
        let session = self.conn.session_mut()?;
        session.runtime().block_on(async {
            let closed = session.batch(false, &format!("CLOSE {name}")).await;
            if own_transaction {
                session.batch(false, "COMMIT").await?;
            }
            closed
        })
    }

    /// Runs a query through a server-side cursor (statements that return no rows run to the
    /// end as usual).
    fn run_streaming(&mut self, sql: &str, values: &[Value]) -> Result<()> {
        let own_transaction = self.conn.outside_transaction();
        if own_transaction {
            // The stream's own transaction begins with its first request.
            self.conn.defer_begin();
        }
        let runtime = self.conn.session_mut()?.runtime();
        let started = runtime.block_on(self.declare(sql, values, own_transaction));
        if started.is_err() && own_transaction && !self.conn.take_begin() {
            let _ = runtime.block_on(self.conn.session_mut()?.batch(false, "ROLLBACK"));
        }
        started
    }

    async fn declare(&mut self, sql: &str, values: &[Value], own_transaction: bool) -> Result<()> {
        let prepared = self.conn.prepared(sql).await?;
        if prepared.statement.columns().is_empty() {
            self.run_prepared(sql, values).await?;
            if own_transaction {
                self.conn.session_mut()?.batch(false, "COMMIT").await?;
            }
            return Ok(());
        }
        let text = crate::markers::to_dollar(sql)?;
        let name = format!("dbpool_stream_{}", NEXT_STREAM.fetch_add(1, Relaxed));
        let params: Vec<PgParam<'_>> = values.iter().map(PgParam).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let begin = self.conn.take_begin();
        let session = self.conn.session_mut()?;
        let declare = session
            .prepare(
                begin,
                &format!("DECLARE {name} NO SCROLL CURSOR FOR {text}"),
            )
            .await?;
        session.execute(false, &declare, &refs).await?;
        let fetch = session
            .prepare(false, &format!("FETCH FORWARD {STREAM_BATCH} FROM {name}"))
            .await?;
        self.state
            .set_result(Arc::clone(&prepared.columns), VecDeque::new());
        self.state.set_rowcount(-1);
        self.stream = Some(Stream {
            name,
            fetch,
            columns: prepared.columns,
            batch: VecDeque::new(),
            done: false,
            fetched: 0,
            own_transaction,
        });
        Ok(())
    }

    /// The next row of the stream in progress, fetching the next batch when needed.
    fn next_streamed(&mut self) -> Result<Option<Row>> {
        let Some(stream) = &mut self.stream else {
            return Ok(None);
        };
        if stream.batch.is_empty() && !stream.done {
            let session = self.conn.session_mut()?;
            let rows = session
                .runtime()
                .block_on(session.query(false, &stream.fetch, &[]))?;
            stream.done = rows.len() < STREAM_BATCH;
            for row in &rows {
                stream.batch.push_back(decode_row(&stream.columns, row)?);
            }
        }
        if let Some(row) = stream.batch.pop_front() {
            stream.fetched += 1;
            return Ok(Some(row));
        }
        let fetched = stream.fetched;
        self.end_stream()?;
        self.state.set_rowcount(fetched);
        Ok(None)
    }

    /// What every execute does first: the cursor's state reset, the parameters checked,
    /// the statement's transaction opened (or its transaction control noted).
    fn begin<'p>(&mut self, sql: &str, params: &'p Params) -> Result<&'p [Value]> {
        self.state.begin_execute()?;
        let values: &[Value] =
            match params {
                Params::None => &[],
                Params::Positional(values) => values,
                Params::Named(_) => return Err(Error::not_supported(
                    "PostgreSQL takes positional parameters ($1, $2, …); pass Params::Positional",
                )),
            };
        self.conn.before_statement(sql)?;
        Ok(values)
    }

    /// [`Cursor::execute`] as a future, for [`dbapi::Nonblocking`] (no streaming: the
    /// cursor is new).
    pub(crate) async fn execute_nonblocking(&mut self, sql: &str, params: &Params) -> Result<()> {
        let values = self.begin(sql, params)?;
        self.run(sql, values).await
    }

    /// Runs `sql` to the end, its rows buffered.
    async fn run(&mut self, sql: &str, values: &[Value]) -> Result<()> {
        if self.conn.pgbouncer() && self.conn.outside_transaction() {
            return self.run_unnamed(sql, values).await;
        }
        let knew = self.conn.pgbouncer();
        match self.run_prepared(sql, values).await {
            Err(err) if !knew && lost_under_pooler(&err) => {
                self.conn.found_pooler();
                if self.conn.outside_transaction() {
                    // Nothing ran: the statement never found its plan. Run it as a pooler
                    // needs it.
                    self.state.begin_execute()?;
                    return self.run_unnamed(sql, values).await;
                }
                Err(Error::new(
                    err.kind(),
                    format!(
                        "{}: the server session changed under this connection between \
                         transactions, so a transaction pooler such as PgBouncer is in \
                         between. The transaction is lost: roll back and run it again. This \
                         connection (and the next ones of its module) now run in PgBouncer \
                         mode; put pgbouncer=true in the URL to start that way",
                        err.message()
                    ),
                )
                .with_sqlstate(err.sqlstate().unwrap_or("26000").to_owned())
                .with_source(err))
            }
            outcome => outcome,
        }
    }

    /// Runs `sql` as a prepared statement (cached by the connection, except behind a
    /// pooler).
    async fn run_prepared(&mut self, sql: &str, values: &[Value]) -> Result<()> {
        let prepared = self.conn.prepared(sql).await?;
        let stmt = &prepared.statement;
        if stmt.params().len() != values.len() {
            return Err(Error::programming(format!(
                "the statement has {} parameters ($1…${}) but {} values were given",
                stmt.params().len(),
                stmt.params().len(),
                values.len()
            )));
        }
        let params: Vec<PgParam<'_>> = values.iter().map(PgParam).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let begin = self.conn.take_begin();
        let session = self.conn.session_mut()?;
        if stmt.columns().is_empty() {
            let changed = session.execute(begin, stmt, &refs).await?;
            self.state
                .set_rowcount(i64::try_from(changed).unwrap_or(i64::MAX));
            return Ok(());
        }
        let rows = session.query(begin, stmt, &refs).await?;
        let columns = prepared.columns;
        let mut buffered = VecDeque::with_capacity(rows.len());
        for row in &rows {
            buffered.push_back(decode_row(&columns, row)?);
        }
        self.state.set_result(columns, buffered);
        Ok(())
    }

    /// Runs `sql` as one unnamed statement — parse, bind and execute in a single round trip,
    /// nothing left on the server — with every parameter's type left to the server, as a
    /// transaction pooler needs outside a transaction.
    async fn run_unnamed(&mut self, sql: &str, values: &[Value]) -> Result<()> {
        let text = crate::markers::to_dollar(sql)?;
        let unspecified = Type::new(
            "unknown".to_owned(),
            0,
            Kind::Pseudo,
            "pg_catalog".to_owned(),
        );
        let params: Vec<PgParam<'_>> = values.iter().map(PgParam).collect();
        let typed = params
            .iter()
            .map(|p| (p as &(dyn ToSql + Sync), unspecified.clone()));
        let (rows, affected) = self
            .conn
            .session_mut()?
            .query_unnamed(&text, typed)
            .await
            .map_err(parameter_count_error)?;
        let mut columns: Option<Arc<[Column]>> = None;
        let mut buffered = VecDeque::new();
        for row in rows {
            let columns = columns.get_or_insert_with(|| {
                row.columns()
                    .iter()
                    .map(|c| Column::new(c.name(), decode::type_code(c.type_())))
                    .collect()
            });
            buffered.push_back(decode_row(columns, &row)?);
        }
        let affected = affected.map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        match columns {
            Some(columns) => self.state.set_result(columns, buffered),
            // An empty result: its columns are not known here (see `Postgres::pgbouncer`).
            None if returns_rows(sql) => self.state.set_result(Arc::from([]), buffered),
            None => self.state.set_rowcount(affected),
        }
        Ok(())
    }
}

/// One row, its values decoded by their column types (a row of one value allocates nothing
/// of its own).
fn decode_row(columns: &Arc<[Column]>, row: &tokio_postgres::Row) -> Result<Row> {
    Row::check_width(columns, row.len())?;
    Row::try_from_fn(Arc::clone(columns), |i| {
        let raw: Raw<'_> = row.try_get(i).map_err(from_postgres)?;
        decode::decode(row.columns()[i].type_(), raw)
    })
}

/// A statement of this adapter's went missing on the server, or one of its names was
/// taken: the mark of a transaction pooler handing out another server session.
fn lost_under_pooler(err: &Error) -> bool {
    matches!(err.sqlstate(), Some("26000" | "42P05"))
        && err.message().contains("prepared statement \"s")
}

/// A wrong number of parameters for an unnamed statement is the server's protocol error
/// (class 08, which reads as a lost connection): it is the caller's mistake, and the
/// session is fine.
fn parameter_count_error(err: Error) -> Error {
    if err.sqlstate() == Some("08P01") && err.message().contains("bind message supplies") {
        Error::programming(format!(
            "wrong number of parameters for the statement: {}",
            err.message()
        ))
    } else {
        err
    }
}

/// Whether a statement can go through a server-side cursor (a query).
fn streamable(sql: &str) -> bool {
    dbapi::starts_with_keyword(sql, &["SELECT", "WITH", "VALUES", "TABLE"])
}

/// Whether a statement returns rows (for an empty result of an unnamed statement, whose
/// description the client does not pass on): queries, and anything with `RETURNING`.
fn returns_rows(sql: &str) -> bool {
    dbapi::starts_with_keyword(
        sql,
        &[
            "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "FETCH", "EXPLAIN",
        ],
    ) || sql.to_ascii_uppercase().contains("RETURNING")
}

impl Drop for PgCursor<'_> {
    fn drop(&mut self) {
        let _ = self.end_stream();
    }
}

impl Cursor for PgCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.end_stream()?;
        let values = self.begin(sql, params)?;
        if self.state.streaming() && streamable(sql) {
            return self.run_streaming(sql, values);
        }
        let runtime = self.conn.session_mut()?.runtime();
        runtime.block_on(self.run(sql, values))
    }

    dbapi::delegate_cursor_state!(state, without fetch_next and close);

    fn fetch_next(&mut self) -> Result<Option<Row>> {
        if self.stream.is_none() {
            return self.state.fetch_next();
        }
        self.state.check_open()?;
        self.next_streamed()
    }

    fn close(&mut self) -> Result<()> {
        let ended = self.end_stream();
        self.state.close();
        ended
    }

    /// Streams queries (`SELECT`, `WITH`, `VALUES`, `TABLE`) through a server-side cursor
    /// (`DECLARE … NO SCROLL CURSOR`, then `FETCH FORWARD 1000` as rows are read), inside
    /// the current transaction — or, with autocommit on, a transaction of its own that ends
    /// with the stream. Other statements run to the end as usual.
    fn set_streaming(&mut self, on: bool) -> Result<()> {
        self.state.set_streaming(on)
    }

    /// Calls a function: `SELECT * FROM procname($1, …)`; its result is fetchable.
    fn callproc(&mut self, procname: &str, params: &Params) -> Result<()> {
        let procname = dbapi::check_procname(procname)?;
        let markers: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
        self.execute(
            &format!("SELECT * FROM {procname}({})", markers.join(", ")),
            params,
        )
    }
}
