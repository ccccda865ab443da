//! Reading a statement's results from the `mysql` crate's [`QueryResult`]: each result set's
//! columns and decoders, its rows decoded into [`Row`]s, and the OK packets between them.

use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Error, Result, Row};
use mysql::prelude::Protocol;
use mysql::QueryResult;

use crate::decode::{self, Decoder};

/// One result of a statement, read completely.
pub(crate) enum Outcome {
    /// A result set.
    Rows(Arc<[Column]>, VecDeque<Row>),
    /// An OK packet: affected rows and the last insert id.
    Done { affected: u64, insert_id: u64 },
}

/// Why reading a statement's results failed.
pub(crate) enum Failure {
    /// The driver or the server failed.
    Driver(mysql::Error),
    /// A value could not be decoded (the rest of the results are drained on drop).
    Decode(Error),
}

/// How the rows of one result set read back: its description and a decoder per column.
pub(crate) struct SetShape {
    pub(crate) columns: Arc<[Column]>,
    decoders: Vec<Decoder>,
}

impl SetShape {
    /// The shape of the current result set of `result`; `None` when it has no columns (an
    /// OK packet).
    pub(crate) fn of<P: Protocol>(result: &QueryResult<'_, '_, '_, P>) -> Option<Self> {
        let native_columns = result.columns();
        let native_columns = native_columns.as_ref();
        if native_columns.is_empty() {
            return None;
        }
        let decoders: Vec<Decoder> = native_columns.iter().map(Decoder::for_column).collect();
        let columns = native_columns
            .iter()
            .zip(&decoders)
            .map(|(c, d)| decode::column(c, *d))
            .collect();
        Some(Self { columns, decoders })
    }

    /// One row of the set, decoded (a row of one value allocates nothing of its own).
    pub(crate) fn row(&self, row: mysql::Result<mysql::Row>) -> Result<Row, Failure> {
        let mut values = row.map_err(Failure::Driver)?.unwrap();
        Row::check_width(&self.columns, values.len()).map_err(Failure::Decode)?;
        Row::try_from_fn(Arc::clone(&self.columns), |i| {
            self.decoders[i].decode(std::mem::replace(&mut values[i], mysql::Value::NULL))
        })
        .map_err(Failure::Decode)
    }
}

/// Reads every result of a statement, from the current one on.
pub(crate) fn read_all<P: Protocol>(
    mut result: QueryResult<'_, '_, '_, P>,
) -> Result<Vec<Outcome>, Failure> {
    let mut outcomes = Vec::new();
    while let Some(set) = result.iter() {
        let Some(shape) = SetShape::of(&set) else {
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
        };
        let mut rows = VecDeque::new();
        for row in set {
            rows.push_back(shape.row(row)?);
        }
        outcomes.push(Outcome::Rows(shape.columns, rows));
    }
    Ok(outcomes)
}
