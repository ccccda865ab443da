//! A fetched row: values by index or column name, typed reads through [`FromValue`].

use std::ops::Index;
use std::sync::Arc;

use crate::{Column, Error, FromValue, Result, Value};

/// One row of a result set. Rows of one result share their column description.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[Column]>,
    values: Vec<Value>,
}

/// Something that picks a column of a [`Row`]: a `usize` position or a `&str` name.
pub trait RowIndex {
    /// The position of the column this index names.
    ///
    /// # Errors
    /// An [`crate::ErrorKind::Interface`] error when there is no such column.
    fn position(&self, row: &Row) -> Result<usize>;
}

impl RowIndex for usize {
    fn position(&self, row: &Row) -> Result<usize> {
        if *self < row.len() {
            Ok(*self)
        } else {
            Err(Error::interface(format!(
                "column index {self} is out of range: the row has {} columns",
                row.len()
            )))
        }
    }
}

impl RowIndex for &str {
    fn position(&self, row: &Row) -> Result<usize> {
        row.columns
            .iter()
            .position(|c| &*c.name == *self)
            .or_else(|| {
                row.columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(self))
            })
            .ok_or_else(|| {
                let names: Vec<&str> = row.columns.iter().map(|c| &*c.name).collect();
                Error::interface(format!("no column named {self:?}; the row has {names:?}"))
            })
    }
}

impl Row {
    /// A row of `values` described by `columns` (same length).
    ///
    /// # Errors
    /// An Interface error when the lengths differ.
    #[inline(always)]
    pub fn new(columns: Arc<[Column]>, values: Vec<Value>) -> Result<Self> {
        if columns.len() != values.len() {
            return Err(mismatch(values.len(), columns.len()));
        }
        Ok(Self { columns, values })
    }

    /// The number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the row has no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The column description shared by the rows of this result.
    #[must_use]
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The values, in column order.
    #[must_use]
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Consumes the row and returns its values.
    #[must_use]
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The raw value at a position or column name.
    ///
    /// # Errors
    /// An Interface error when the column does not exist.
    pub fn value(&self, index: impl RowIndex) -> Result<&Value> {
        Ok(&self.values[index.position(self)?])
    }

    /// The value at a position or column name, converted to `T`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use dbapi::{Column, Row, TypeCode, Value, NUMBER};
    /// let cols: Arc<[Column]> = vec![Column::new("id", TypeCode::new("INTEGER", Some(NUMBER)))].into();
    /// let row = Row::new(cols, vec![Value::Int(7)])?;
    /// assert_eq!(row.get::<i64>("id")?, 7);
    /// assert!(row.get::<String>(0).is_err()); // a clear type mismatch, not a panic
    /// # Ok::<(), dbapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// An Interface error for a missing column; a Data error when the value is `NULL` and `T`
    /// is not an `Option`, or cannot be read as `T`.
    pub fn get<T: FromValue>(&self, index: impl RowIndex) -> Result<T> {
        let pos = index.position(self)?;
        T::from_value(&self.values[pos])
            .map_err(|e| Error::data(format!("column {:?} {e}", &*self.columns[pos].name)))
    }
}

impl Index<usize> for Row {
    type Output = Value;
    fn index(&self, index: usize) -> &Value {
        &self.values[index]
    }
}

/// The error of a row built with as many values as its columns.
#[cold]
#[inline(never)]
fn mismatch(values: usize, columns: usize) -> Error {
    Error::interface(format!("row has {values} values for {columns} columns"))
}
