//! A fetched row: values by index or column name, typed reads through [`FromValue`].

use std::fmt;
use std::ops::Index;
use std::sync::Arc;

use crate::{Column, Error, FromValue, Result, Value};

/// One row of a result set. Rows of one result share their column description.
#[derive(Clone, PartialEq)]
pub struct Row {
    columns: Arc<[Column]>,
    values: Values,
}

/// A row's values. A single value is kept in the row itself, so the rows of a one-column
/// query (`SELECT count(*)`, `SELECT id …`) take no allocation of their own; more go in a
/// vector. A row of one value is always `One`, so the derived equality compares values.
#[derive(Clone, PartialEq)]
enum Values {
    One(Value),
    Many(Vec<Value>),
}

impl Values {
    fn from_vec(mut values: Vec<Value>) -> Self {
        if values.len() == 1 {
            if let Some(only) = values.pop() {
                return Self::One(only);
            }
        }
        Self::Many(values)
    }

    #[inline]
    fn as_slice(&self) -> &[Value] {
        match self {
            Self::One(value) => std::slice::from_ref(value),
            Self::Many(values) => values,
        }
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("columns", &self.columns)
            .field("values", &self.values())
            .finish()
    }
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
        Self::check_width(&columns, values.len())?;
        Ok(Self {
            columns,
            values: Values::from_vec(values),
        })
    }

    /// Checks that a driver's row of `values` values fits `columns`, before an adapter
    /// builds it value by value with [`Row::try_from_fn`] ([`Row::new`] checks by itself).
    ///
    /// # Errors
    /// An Interface error when the counts differ.
    #[inline]
    pub fn check_width(columns: &[Column], values: usize) -> Result<()> {
        if columns.len() == values {
            Ok(())
        } else {
            Err(mismatch(values, columns.len()))
        }
    }

    /// A row described by `columns` whose value at each position `i` is `value(i)`, read
    /// in column order; the first error stops it. For adapters decoding rows: a row of one
    /// value is built without an allocation.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use dbapi::{Column, Row, TypeCode, Value, NUMBER};
    /// let cols: Arc<[Column]> = vec![Column::new("n", TypeCode::new("INTEGER", Some(NUMBER)))].into();
    /// let row = Row::try_from_fn(cols, |i| Ok::<_, dbapi::Error>(Value::Int(7 + i as i64)))?;
    /// assert_eq!(row.get::<i64>("n")?, 7);
    /// # Ok::<(), dbapi::Error>(())
    /// ```
    ///
    /// # Errors
    /// The first error `value` returns.
    #[inline]
    pub fn try_from_fn<E>(
        columns: Arc<[Column]>,
        mut value: impl FnMut(usize) -> std::result::Result<Value, E>,
    ) -> std::result::Result<Self, E> {
        let values = if columns.len() == 1 {
            Values::One(value(0)?)
        } else {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                values.push(value(i)?);
            }
            Values::Many(values)
        };
        Ok(Self { columns, values })
    }

    /// The number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values().len()
    }

    /// True when the row has no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values().is_empty()
    }

    /// The column description shared by the rows of this result.
    #[must_use]
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The values, in column order.
    #[must_use]
    pub fn values(&self) -> &[Value] {
        self.values.as_slice()
    }

    /// Consumes the row and returns its values.
    #[must_use]
    pub fn into_values(self) -> Vec<Value> {
        match self.values {
            Values::One(value) => vec![value],
            Values::Many(values) => values,
        }
    }

    /// The raw value at a position or column name.
    ///
    /// # Errors
    /// An Interface error when the column does not exist.
    pub fn value(&self, index: impl RowIndex) -> Result<&Value> {
        Ok(&self.values()[index.position(self)?])
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
        T::from_value(&self.values()[pos])
            .map_err(|e| Error::data(format!("column {:?} {e}", &*self.columns[pos].name)))
    }
}

impl Index<usize> for Row {
    type Output = Value;
    fn index(&self, index: usize) -> &Value {
        &self.values()[index]
    }
}

/// The error of a row built with as many values as its columns.
#[cold]
#[inline(never)]
fn mismatch(values: usize, columns: usize) -> Error {
    Error::interface(format!("row has {values} values for {columns} columns"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TypeCode, NUMBER, STRING};

    fn columns(n: usize) -> Arc<[Column]> {
        (0..n)
            .map(|i| Column::new(format!("c{i}"), TypeCode::new("INTEGER", Some(NUMBER))))
            .collect()
    }

    #[test]
    fn rows_built_either_way_are_equal_whatever_their_width() {
        for width in 0..4 {
            let values: Vec<Value> = (0..width).map(|i| Value::Int(i as i64)).collect();
            let from_vec = Row::new(columns(width), values.clone()).expect("row");
            let from_fn =
                Row::try_from_fn(columns(width), |i| Ok::<_, Error>(Value::Int(i as i64)))
                    .expect("row");
            assert_eq!(from_vec, from_fn, "{width} values");
            assert_eq!(from_fn.values(), &values[..]);
            assert_eq!(from_fn.len(), width);
            assert_eq!(from_fn.clone().into_values(), values);
        }
    }

    #[test]
    fn a_row_of_one_value_reads_like_any_other() {
        let cols: Arc<[Column]> =
            vec![Column::new("name", TypeCode::new("TEXT", Some(STRING)))].into();
        let row = Row::new(cols, vec![Value::Text("ada".into())]).expect("row");
        assert_eq!(row.get::<String>("name").expect("name"), "ada");
        assert_eq!(row[0], Value::Text("ada".into()));
        assert!(row.value(1).is_err());
        assert_eq!(
            format!("{row:?}"),
            format!(
                "Row {{ columns: {:?}, values: [Text(\"ada\")] }}",
                row.columns()
            ),
            "the values show as a list"
        );
    }

    #[test]
    fn a_row_of_the_wrong_width_is_refused_whichever_way_it_is_built() {
        assert!(Row::check_width(&columns(2), 2).is_ok());
        let err = Row::check_width(&columns(2), 3).expect_err("3 values for 2 columns");
        assert_eq!(err.message(), "row has 3 values for 2 columns");
        assert!(Row::new(columns(2), vec![Value::Null]).is_err());
    }

    #[test]
    fn try_from_fn_stops_at_the_first_error() {
        let mut asked = Vec::new();
        let failed = Row::try_from_fn(columns(3), |i| {
            asked.push(i);
            if i == 1 {
                Err("bad value")
            } else {
                Ok(Value::Int(0))
            }
        });
        assert_eq!(failed, Err("bad value"));
        assert_eq!(asked, [0, 1]);
    }
}
