//! [`PgCursor`]: executes statements with `$n` parameters and buffers their rows.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Cursor, CursorState, Error, Params, Result, Row, Value};
use postgres::types::ToSql;

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
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in stmt.columns().iter().enumerate() {
                let raw: Raw<'_> = row.try_get(i).map_err(from_postgres)?;
                values.push(decode::decode(column.type_(), raw)?);
            }
            buffered.push_back(Row::new(Arc::clone(&columns), values)?);
        }
        self.state.set_result(columns, buffered);
        Ok(())
    }
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
