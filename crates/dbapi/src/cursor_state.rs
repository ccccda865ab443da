//! [`CursorState`]: the bookkeeping every buffering cursor needs, so adapters write only
//! the part that talks to their driver.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::{Column, Error, Result, Row};

/// The state of a cursor that reads each result completely on `execute`: open or closed,
/// the current result's columns and remaining rows, `rowcount` and `arraysize`.
///
/// An adapter's cursor embeds one and forwards `description`, `rowcount`, `fetch_next`,
/// `arraysize`, `set_arraysize` and `close` to it, by hand or with
/// [`delegate_cursor_state!`](crate::delegate_cursor_state):
///
/// ```
/// use std::sync::Arc;
/// use dbapi::{Column, CursorState, Row, TypeCode, Value, NUMBER};
///
/// let mut state = CursorState::new();
/// assert!(state.fetch_next().is_err(), "nothing executed yet");
/// state.begin_execute()?;
/// let columns: Arc<[Column]> = vec![Column::new("n", TypeCode::new("int", Some(NUMBER)))].into();
/// let row = Row::new(columns.clone(), vec![Value::Int(1)])?;
/// state.set_result(columns, vec![row].into());
/// assert_eq!(state.rowcount(), 1);
/// assert!(state.fetch_next()?.is_some());
/// assert!(state.fetch_next()?.is_none());
/// state.close();
/// assert!(state.begin_execute().is_err(), "closed");
/// # Ok::<(), dbapi::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CursorState {
    closed: bool,
    description: Option<Arc<[Column]>>,
    /// The current result's remaining rows; `None` when the cursor holds no buffer (none
    /// made yet, or taken back with [`CursorState::take_rows`]), so that a cursor ending
    /// without one runs no buffer code at all.
    rows: Option<VecDeque<Row>>,
    has_result: bool,
    rowcount: i64,
    arraysize: usize,
    streaming: bool,
}

impl Default for CursorState {
    fn default() -> Self {
        Self::new()
    }
}

impl CursorState {
    /// An open cursor with nothing executed: `rowcount` -1, `arraysize` 1.
    #[must_use]
    pub fn new() -> Self {
        Self {
            closed: false,
            description: None,
            rows: None,
            has_result: false,
            rowcount: -1,
            arraysize: 1,
            streaming: false,
        }
    }

    /// An Interface error when the cursor is closed.
    ///
    /// # Errors
    /// When [`CursorState::close`] was called.
    #[inline]
    pub fn check_open(&self) -> Result<()> {
        if self.closed {
            Err(Error::closed("cursor"))
        } else {
            Ok(())
        }
    }

    /// Starts an `execute`: checks the cursor is open and forgets the previous result.
    ///
    /// # Errors
    /// An Interface error on a closed cursor.
    #[inline]
    pub fn begin_execute(&mut self) -> Result<()> {
        self.check_open()?;
        self.description = None;
        if let Some(rows) = &mut self.rows {
            clear(rows);
        }
        self.has_result = false;
        self.rowcount = -1;
        Ok(())
    }

    /// Records the outcome of a statement without a result set (DDL, DML).
    #[inline]
    pub fn set_rowcount(&mut self, rowcount: i64) {
        self.rowcount = rowcount;
    }

    /// Records a result set; `rowcount` becomes its number of rows (override it with
    /// [`CursorState::set_rowcount`], e.g. for `INSERT … RETURNING`).
    #[inline]
    pub fn set_result(&mut self, columns: Arc<[Column]>, rows: VecDeque<Row>) {
        self.rowcount = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        self.description = Some(columns);
        self.rows = Some(rows);
        self.has_result = true;
    }

    /// Takes the row buffer, emptied, for an adapter to fill again: a buffer kept between
    /// results (and between cursors) lets a statement seen before allocate only its rows.
    /// `None` when the cursor holds no buffer with room for a row.
    #[must_use]
    #[inline]
    pub fn take_rows(&mut self) -> Option<VecDeque<Row>> {
        let mut rows = self.rows.take().filter(|rows| rows.capacity() > 0)?;
        clear(&mut rows);
        Some(rows)
    }

    /// For `Cursor::description`.
    #[must_use]
    pub fn description(&self) -> Option<&[Column]> {
        self.description.as_deref()
    }

    /// For `Cursor::rowcount`.
    #[must_use]
    pub fn rowcount(&self) -> i64 {
        self.rowcount
    }

    /// For `Cursor::fetch_next`.
    ///
    /// # Errors
    /// An Interface error on a closed cursor; a Programming error when there is no result
    /// set (nothing executed, or the last statement returned no rows).
    #[inline]
    pub fn fetch_next(&mut self) -> Result<Option<Row>> {
        self.check_open()?;
        if !self.has_result {
            return Err(Error::programming(
                "no result set to fetch from: execute a query that returns rows first",
            ));
        }
        Ok(self.rows.as_mut().and_then(VecDeque::pop_front))
    }

    /// For `Cursor::arraysize`.
    #[must_use]
    pub fn arraysize(&self) -> usize {
        self.arraysize
    }

    /// For `Cursor::set_arraysize`.
    pub fn set_arraysize(&mut self, size: usize) {
        self.arraysize = size;
    }

    /// For `Cursor::set_streaming`, in a cursor that can stream: records the setting for the
    /// next `execute` (read it with [`CursorState::streaming`]).
    ///
    /// # Errors
    /// An Interface error on a closed cursor.
    pub fn set_streaming(&mut self, on: bool) -> Result<()> {
        self.check_open()?;
        self.streaming = on;
        Ok(())
    }

    /// Whether the next `execute` streams (off until [`CursorState::set_streaming`]).
    #[must_use]
    #[inline]
    pub fn streaming(&self) -> bool {
        self.streaming
    }

    /// For `Cursor::close`: later calls fail with an Interface error.
    pub fn close(&mut self) {
        self.closed = true;
        self.rows = None;
        self.description = None;
        self.has_result = false;
    }
}

/// Empties a row buffer, keeping its room; an empty one is left alone (clearing runs the
/// buffer's drop code even when there is nothing to drop).
#[inline]
fn clear(rows: &mut VecDeque<Row>) {
    if !rows.is_empty() {
        rows.clear();
    }
}

/// Writes the [`Cursor`](crate::Cursor) methods that only read or update a [`CursorState`]
/// field (`description`, `rowcount`, `fetch_next`, `arraysize`, `set_arraysize`, `close`),
/// and an `executemany` whose `rowcount` is the total over every execution, inside an
/// `impl Cursor for …` block:
///
/// ```
/// use dbapi::{Cursor, CursorState, Params, Result};
///
/// struct Echo {
///     state: CursorState,
/// }
///
/// impl Cursor for Echo {
///     fn execute(&mut self, _sql: &str, _params: &Params) -> Result<()> {
///         self.state.begin_execute()?;
///         self.state.set_rowcount(0);
///         Ok(())
///     }
///     dbapi::delegate_cursor_state!(state);
/// }
///
/// let mut cursor = Echo { state: CursorState::new() };
/// cursor.execute("anything", &Params::None)?;
/// assert_eq!(cursor.rowcount(), 0);
/// # Ok::<(), dbapi::Error>(())
/// ```
///
/// A cursor that streams writes `fetch_next` and `close` itself and delegates the rest with
/// `delegate_cursor_state!(state, without fetch_next and close)`.
#[macro_export]
macro_rules! delegate_cursor_state {
    ($field:ident) => {
        fn fetch_next(&mut self) -> $crate::Result<::std::option::Option<$crate::Row>> {
            self.$field.fetch_next()
        }
        fn close(&mut self) -> $crate::Result<()> {
            self.$field.close();
            ::std::result::Result::Ok(())
        }
        $crate::delegate_cursor_state!($field, without fetch_next and close);
    };
    ($field:ident, without fetch_next and close) => {
        fn description(&self) -> ::std::option::Option<&[$crate::Column]> {
            self.$field.description()
        }
        fn rowcount(&self) -> i64 {
            self.$field.rowcount()
        }
        fn arraysize(&self) -> usize {
            self.$field.arraysize()
        }
        fn set_arraysize(&mut self, size: usize) {
            self.$field.set_arraysize(size);
        }
        fn executemany(&mut self, sql: &str, param_sets: &[$crate::Params]) -> $crate::Result<()> {
            let mut total = 0;
            for params in param_sets {
                self.execute(sql, params)?;
                total += self.$field.rowcount().max(0);
            }
            self.$field.set_rowcount(total);
            ::std::result::Result::Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TypeCode, Value, NUMBER};

    fn result(n: i64) -> (Arc<[Column]>, VecDeque<Row>) {
        let columns: Arc<[Column]> =
            vec![Column::new("n", TypeCode::new("int", Some(NUMBER)))].into();
        let rows = (0..n)
            .map(|i| Row::new(Arc::clone(&columns), vec![Value::Int(i)]).expect("row"))
            .collect();
        (columns, rows)
    }

    #[test]
    fn take_rows_hands_back_the_buffer_emptied_with_its_room_once() {
        let mut state = CursorState::new();
        assert!(state.take_rows().is_none(), "no buffer before a result");
        state.begin_execute().expect("open");
        let (columns, rows) = result(3);
        state.set_result(columns, rows);
        assert!(state.fetch_next().expect("fetch").is_some());
        let buffer = state.take_rows().expect("the result's buffer");
        assert!(buffer.is_empty(), "the rows left are dropped");
        assert!(buffer.capacity() >= 3, "its room is kept");
        assert!(state.take_rows().is_none(), "taken once");
        assert_eq!(
            state.fetch_next().expect("fetch"),
            None,
            "nothing left to fetch"
        );
    }

    #[test]
    fn a_buffer_without_room_is_not_handed_back() {
        let mut state = CursorState::new();
        state.begin_execute().expect("open");
        let (columns, _) = result(0);
        state.set_result(columns, VecDeque::new());
        assert!(state.take_rows().is_none());
    }

    #[test]
    fn a_new_execute_forgets_the_rows_left() {
        let mut state = CursorState::new();
        state.begin_execute().expect("open");
        let (columns, rows) = result(2);
        state.set_result(columns, rows);
        state.begin_execute().expect("open");
        assert!(state.fetch_next().is_err(), "no result set yet");
        assert_eq!(state.rowcount(), -1);
        assert!(state.take_rows().is_some_and(|rows| rows.is_empty()));
    }
}
