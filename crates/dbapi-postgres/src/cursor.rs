//! [`PgCursor`]: executes statements with `$n` parameters and buffers their rows.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Cursor, CursorState, Error, Params, Result, Row, Value};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{Kind, ToSql, Type};

use crate::decode::{self, Raw};
use crate::error_mapping::from_postgres;
use crate::params::PgParam;
use crate::PgConnection;

/// A cursor on a [`PgConnection`]. Results are read completely by `execute`.
pub struct PgCursor<'c> {
    conn: &'c mut PgConnection,
    state: CursorState,
}

impl<'c> PgCursor<'c> {
    pub(crate) fn new(conn: &'c mut PgConnection) -> Self {
        Self {
            conn,
            state: CursorState::new(),
        }
    }

    fn run(&mut self, sql: &str, values: &[Value]) -> Result<()> {
        self.conn.before_statement(sql)?;
        if self.conn.pgbouncer() && self.conn.outside_transaction() {
            return self.run_unnamed(sql, values);
        }
        let knew = self.conn.pgbouncer();
        match self.run_prepared(sql, values) {
            Err(err) if !knew && lost_under_pooler(&err) => {
                self.conn.found_pooler();
                if self.conn.outside_transaction() {
                    // Nothing ran: the statement never found its plan. Run it as a pooler
                    // needs it.
                    self.state.begin_execute()?;
                    return self.run_unnamed(sql, values);
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
    fn run_prepared(&mut self, sql: &str, values: &[Value]) -> Result<()> {
        let prepared = self.conn.prepared(sql)?;
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
        let client = self.conn.native_mut()?;
        if stmt.columns().is_empty() {
            let changed = client.execute(stmt, &refs).map_err(from_postgres)?;
            self.state
                .set_rowcount(i64::try_from(changed).unwrap_or(i64::MAX));
            return Ok(());
        }
        let rows = client.query(stmt, &refs).map_err(from_postgres)?;
        let columns = prepared.columns;
        let mut buffered = VecDeque::with_capacity(rows.len());
        for row in &rows {
            buffered.push_back(Row::new(Arc::clone(&columns), decode_row(row)?)?);
        }
        self.state.set_result(columns, buffered);
        Ok(())
    }

    /// Runs `sql` as one unnamed statement — parse, bind and execute in a single round trip,
    /// nothing left on the server — with every parameter's type left to the server, as a
    /// transaction pooler needs outside a transaction.
    fn run_unnamed(&mut self, sql: &str, values: &[Value]) -> Result<()> {
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
        let client = self.conn.native_mut()?;
        let mut rows = client
            .query_typed_raw(&text, typed)
            .map_err(|e| parameter_count_error(from_postgres(e)))?;
        let mut columns: Option<Arc<[Column]>> = None;
        let mut buffered = VecDeque::new();
        while let Some(row) = rows.next().map_err(from_postgres)? {
            let columns = columns.get_or_insert_with(|| {
                row.columns()
                    .iter()
                    .map(|c| Column::new(c.name(), decode::type_code(c.type_())))
                    .collect()
            });
            buffered.push_back(Row::new(Arc::clone(columns), decode_row(&row)?)?);
        }
        let affected = rows
            .rows_affected()
            .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX));
        match columns {
            Some(columns) => self.state.set_result(columns, buffered),
            // An empty result: its columns are not known here (see `Postgres::pgbouncer`).
            None if returns_rows(sql) => self.state.set_result(Arc::from([]), buffered),
            None => self.state.set_rowcount(affected),
        }
        Ok(())
    }
}

/// One row's values, decoded by their column types.
fn decode_row(row: &postgres::Row) -> Result<Vec<Value>> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let raw: Raw<'_> = row.try_get(i).map_err(from_postgres)?;
        values.push(decode::decode(column.type_(), raw)?);
    }
    Ok(values)
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

/// Whether a statement returns rows (for an empty result of an unnamed statement, whose
/// description the client does not pass on): queries, and anything with `RETURNING`.
fn returns_rows(sql: &str) -> bool {
    let sql = sql.trim_start();
    let end = sql
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(sql.len());
    let keyword = &sql[..end];
    [
        "SELECT", "WITH", "VALUES", "TABLE", "SHOW", "FETCH", "EXPLAIN",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(keyword))
        || sql.to_ascii_uppercase().contains("RETURNING")
}

impl Cursor for PgCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.state.begin_execute()?;
        match params {
            Params::None => self.run(sql, &[]),
            Params::Positional(values) => self.run(sql, values),
            Params::Named(_) => Err(Error::not_supported(
                "PostgreSQL takes positional parameters ($1, $2, …); pass Params::Positional",
            )),
        }
    }

    dbapi::delegate_cursor_state!(state);

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
