//! [`SqliteCursor`]: executes statements and buffers their rows.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Cursor, CursorState, Error, Params, Result, Row, Value};

use crate::error_mapping::from_rusqlite;
use crate::value_mapping::{self, Bind, Declared};

/// A cursor on a [`crate::SqliteConnection`]. Result sets are read completely by `execute`
/// and buffered, so `rowcount` after a `SELECT` is exact.
pub struct SqliteCursor<'c> {
    conn: &'c rusqlite::Connection,
    autocommit: bool,
    state: CursorState,
    lastrowid: Option<i64>,
}

/// Statements that must not be wrapped in an implicit `BEGIN`.
fn controls_transactions(sql: &str) -> bool {
    let keyword: String = sql
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    matches!(
        keyword.as_str(),
        "BEGIN"
            | "COMMIT"
            | "END"
            | "ROLLBACK"
            | "SAVEPOINT"
            | "RELEASE"
            | "PRAGMA"
            | "VACUUM"
            | "ATTACH"
            | "DETACH"
    )
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
    pub(crate) fn new(conn: &'c rusqlite::Connection, autocommit: bool) -> Self {
        Self {
            conn,
            autocommit,
            state: CursorState::new(),
            lastrowid: None,
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
        let decls: Vec<(String, Option<String>)> = stmt
            .columns()
            .map(|c| (c.name().to_owned(), c.decl_type().map(str::to_owned)))
            .collect();
        let kinds: Vec<Declared> = decls
            .iter()
            .map(|(_, d)| Declared::of(d.as_deref()))
            .collect();
        let writes = !stmt.readonly();
        let mut values_by_row: Vec<Vec<Value>> = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().map_err(from_rusqlite)? {
            let mut values = Vec::with_capacity(kinds.len());
            for (i, kind) in kinds.iter().enumerate() {
                values.push(value_mapping::read(
                    row.get_ref(i).map_err(from_rusqlite)?,
                    *kind,
                )?);
            }
            values_by_row.push(values);
        }
        drop(rows);
        let columns: Arc<[Column]> = decls
            .iter()
            .enumerate()
            .map(|(i, (name, decl))| {
                let first = values_by_row.first().map(|r| &r[i]);
                Column::new(
                    name.as_str(),
                    value_mapping::type_code(decl.as_deref(), first),
                )
            })
            .collect();
        let rows = values_by_row
            .into_iter()
            .map(|values| Row::new(columns.clone(), values))
            .collect::<Result<VecDeque<_>>>()?;
        self.state.set_result(columns, rows);
        if writes {
            self.state
                .set_rowcount(i64::try_from(self.conn.changes()).unwrap_or(i64::MAX));
            self.lastrowid = Some(self.conn.last_insert_rowid());
        }
        Ok(())
    }
}

impl Cursor for SqliteCursor<'_> {
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()> {
        self.state.begin_execute()?;
        self.run(sql, params)
    }

    dbapi::delegate_cursor_state!(state);

    fn lastrowid(&self) -> Option<i64> {
        self.lastrowid
    }
}
