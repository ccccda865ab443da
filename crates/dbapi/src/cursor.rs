//! The DB-API cursor: execute, describe, fetch.

use crate::{Column, Error, Params, Result, Row};

/// A DB-API cursor.
///
/// Required: [`execute`](Cursor::execute), [`description`](Cursor::description),
/// [`rowcount`](Cursor::rowcount), the fetch primitive [`fetch_next`](Cursor::fetch_next),
/// [`arraysize`](Cursor::arraysize)/[`set_arraysize`](Cursor::set_arraysize) and
/// [`close`](Cursor::close). `fetchone`, `fetchmany`, `fetchall`, `executemany` and the rest
/// are provided.
pub trait Cursor {
    /// Prepares and runs one statement with `params`.
    ///
    /// # Errors
    /// The database's error, classified by kind (syntax: Programming, duplicate key:
    /// Integrity, bad cast: Data, ...); an Interface error on a closed cursor.
    fn execute(&mut self, sql: &str, params: &Params) -> Result<()>;

    /// The columns of the current result set; `None` when the last statement returned no
    /// rows (DDL, DML) or nothing was executed yet.
    fn description(&self) -> Option<&[Column]>;

    /// Rows changed by the last DML statement, rows of the last query where known, or -1
    /// when unknown (DDL, nothing executed).
    fn rowcount(&self) -> i64;

    /// The next row of the current result set, `None` when it is exhausted.
    ///
    /// # Errors
    /// A Programming error when there is no result set (nothing executed, or the last
    /// statement was not a query); an Interface error on a closed cursor.
    fn fetch_next(&mut self) -> Result<Option<Row>>;

    /// The number of rows [`fetchmany`](Cursor::fetchmany) returns by default (DB-API: 1).
    fn arraysize(&self) -> usize;

    /// Sets the default [`fetchmany`](Cursor::fetchmany) size.
    fn set_arraysize(&mut self, size: usize);

    /// Closes the cursor now; every later call fails with an Interface error.
    ///
    /// # Errors
    /// The driver's error while releasing resources.
    fn close(&mut self) -> Result<()>;

    /// Turns streaming on or off for the next `execute`. With streaming on, `execute` reads
    /// at most a first batch of rows, and `fetchone`/`fetchmany` pull the rest from the
    /// server as they are read, so memory holds only the rows in hand, whatever the size of
    /// the result (psycopg's named cursors, MySQLdb's `SSCursor`); `rowcount` is -1 until the
    /// result is exhausted. Off by default: a buffered result is faster for small results and
    /// knows its `rowcount` at once. The default refuses to turn it on (NotSupported).
    ///
    /// # Errors
    /// NotSupported where the driver cannot stream; an Interface error on a closed cursor.
    fn set_streaming(&mut self, on: bool) -> Result<()> {
        if on {
            Err(Error::not_supported(
                "this driver buffers every result: streaming is not supported",
            ))
        } else {
            Ok(())
        }
    }

    /// DB-API `fetchone()`.
    ///
    /// # Errors
    /// As [`fetch_next`](Cursor::fetch_next).
    fn fetchone(&mut self) -> Result<Option<Row>> {
        self.fetch_next()
    }

    /// DB-API `fetchmany(size)`: up to `size` rows (default [`arraysize`](Cursor::arraysize));
    /// an empty vector once the result set is exhausted.
    ///
    /// # Errors
    /// As [`fetch_next`](Cursor::fetch_next).
    fn fetchmany(&mut self, size: Option<usize>) -> Result<Vec<Row>> {
        let size = size.unwrap_or_else(|| self.arraysize());
        let mut rows = Vec::with_capacity(size.min(1024));
        while rows.len() < size {
            match self.fetch_next()? {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        Ok(rows)
    }

    /// DB-API `fetchall()`: every remaining row.
    ///
    /// # Errors
    /// As [`fetch_next`](Cursor::fetch_next).
    fn fetchall(&mut self) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        while let Some(row) = self.fetch_next()? {
            rows.push(row);
        }
        Ok(rows)
    }

    /// DB-API `executemany()`: runs `sql` once per parameter set. The default loops over
    /// [`execute`](Cursor::execute); drivers may batch.
    ///
    /// # Errors
    /// The first failing execution's error; earlier executions are not undone.
    fn executemany(&mut self, sql: &str, param_sets: &[Params]) -> Result<()> {
        for params in param_sets {
            self.execute(sql, params)?;
        }
        Ok(())
    }

    /// DB-API `callproc()`. Default: NotSupported.
    ///
    /// # Errors
    /// NotSupported where the backend has no stored procedures.
    fn callproc(&mut self, procname: &str, params: &Params) -> Result<()> {
        let _ = params;
        Err(Error::not_supported(format!(
            "callproc({procname:?}) is not supported by this driver; execute a CALL or SELECT statement instead"
        )))
    }

    /// DB-API `nextset()`: moves to the next result set, returning `false` when there is
    /// none. Default: NotSupported.
    ///
    /// # Errors
    /// NotSupported where the backend has no multiple result sets.
    fn nextset(&mut self) -> Result<bool> {
        Err(Error::not_supported(
            "nextset() is not supported: this driver returns one result set per execute",
        ))
    }

    /// DB-API `setinputsizes()`: a hint drivers may ignore (the default does).
    ///
    /// # Errors
    /// None by default.
    fn setinputsizes(&mut self, sizes: &[Option<usize>]) -> Result<()> {
        let _ = sizes;
        Ok(())
    }

    /// DB-API `setoutputsize()`: a hint drivers may ignore (the default does).
    ///
    /// # Errors
    /// None by default.
    fn setoutputsize(&mut self, size: usize, column: Option<usize>) -> Result<()> {
        let _ = (size, column);
        Ok(())
    }

    /// The row id of the last inserted row, where the backend has one. Default: `None`.
    fn lastrowid(&self) -> Option<i64> {
        None
    }

    /// DB-API warnings from the last statement: reported here, never raised. Default: none.
    fn warnings(&self) -> &[String] {
        &[]
    }
}

/// Checks a `callproc` procedure name before an adapter writes it into SQL: letters, digits,
/// `_`, `$` and `.` (a schema prefix) only, so a name can never carry SQL of its own.
///
/// ```
/// assert_eq!(dbapi::check_procname("public.lower").ok(), Some("public.lower"));
/// assert!(dbapi::check_procname("p(); DROP TABLE t; --").is_err());
/// assert!(dbapi::check_procname("").is_err());
/// ```
///
/// # Errors
/// A Programming error naming the refused name.
pub fn check_procname(procname: &str) -> Result<&str> {
    let plain = !procname.is_empty()
        && procname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'));
    if plain {
        Ok(procname)
    } else {
        Err(Error::programming(format!(
            "callproc needs a plain procedure name (letters, digits, _ $ and a schema prefix), got {procname:?}"
        )))
    }
}
