//! A result set read as it is fetched, over MySQL's unbuffered protocol (MySQLdb's
//! `SSCursor`): the server sends the rows and the connection reads one per fetch, so memory
//! holds only the rows in hand.
//!
//! While a stream is open its connection can do nothing else; ending it early reads and
//! discards the rows left, as the protocol requires (the `mysql` crate does this when the
//! result is dropped).

use dbapi::Row;
use mysql::prelude::Protocol;
use mysql::QueryResult;

use crate::results::{read_all, Failure, Outcome, SetShape};

/// The rows of a statement's first result set, read as they are fetched.
pub(crate) trait RowStream {
    /// The next row; `None` at the end of the set.
    ///
    /// # Errors
    /// The driver's or the decoder's.
    fn next_row(&mut self) -> Result<Option<Row>, Failure>;

    /// Reads the statement's results after the streamed set (for `nextset`), ending the
    /// stream. Call it once `next_row` has returned `None`.
    ///
    /// # Errors
    /// The driver's or the decoder's.
    fn rest(self: Box<Self>) -> Result<Vec<Outcome>, Failure>;
}

/// A [`RowStream`] over either protocol.
pub(crate) struct Stream<'c, P: Protocol> {
    result: QueryResult<'c, 'c, 'c, P>,
    shape: SetShape,
}

impl<'c, P: Protocol> Stream<'c, P> {
    /// A stream of `result`'s current set, or `Err(result)` back when that set has no
    /// columns (nothing to stream).
    pub(crate) fn new(
        result: QueryResult<'c, 'c, 'c, P>,
    ) -> std::result::Result<Self, QueryResult<'c, 'c, 'c, P>> {
        match SetShape::of(&result) {
            Some(shape) => Ok(Self { result, shape }),
            None => Err(result),
        }
    }

    /// The streamed set's description.
    pub(crate) fn columns(&self) -> &std::sync::Arc<[dbapi::Column]> {
        &self.shape.columns
    }
}

impl<P: Protocol> RowStream for Stream<'_, P> {
    fn next_row(&mut self) -> Result<Option<Row>, Failure> {
        // At the end of the set the crate moves on to the next one: this stream stops
        // there, and `rest` reads the others.
        match self.result.next() {
            Some(row) => self.shape.row(row).map(Some),
            None => Ok(None),
        }
    }

    fn rest(self: Box<Self>) -> Result<Vec<Outcome>, Failure> {
        read_all(self.result)
    }
}
