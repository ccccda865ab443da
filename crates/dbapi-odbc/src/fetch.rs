//! Reading a result set: column descriptions from the driver, then every row, each column
//! read whole with `SQLGetData` (long text and blobs in pieces, never truncated).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Error, Result, Row, TypeCode, TypeObject, Value};
use odbc_api::sys::{Date, Timestamp};
use odbc_api::{Bit, Cursor, DataType, Nullability, Nullable, ResultSetMetadata};

/// How a column's values are read and turned into [`Value`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// Integers, as `i64`.
    Int,
    /// Floating point, as `f64`.
    Float,
    /// `BIT` / booleans.
    Bool,
    /// Exact numbers, as text (no digit lost).
    Decimal,
    /// Character data, as text.
    Text,
    /// Binary data.
    Bytes,
    /// Dates.
    Date,
    /// Times of day, read as text (SQL_TIME_STRUCT has no fractions).
    Time,
    /// Timestamps.
    Timestamp,
}

impl Reader {
    fn for_type(data_type: DataType) -> Self {
        match data_type {
            // Some drivers (SQLite's) report a C type code for 64-bit integers:
            // SQL_C_SBIGINT (-25) and SQL_C_UBIGINT (-27).
            DataType::Other { data_type, .. } if matches!(data_type.0, -25 | -27) => Self::Int,
            DataType::Integer | DataType::SmallInt | DataType::TinyInt | DataType::BigInt => {
                Self::Int
            }
            DataType::Float { .. } | DataType::Real | DataType::Double => Self::Float,
            DataType::Bit => Self::Bool,
            DataType::Numeric { .. } | DataType::Decimal { .. } => Self::Decimal,
            DataType::Binary { .. }
            | DataType::Varbinary { .. }
            | DataType::LongVarbinary { .. } => Self::Bytes,
            DataType::Date => Self::Date,
            DataType::Time { .. } => Self::Time,
            DataType::Timestamp { .. } => Self::Timestamp,
            _ => Self::Text,
        }
    }

    fn family(self) -> TypeObject {
        match self {
            Self::Int | Self::Float | Self::Bool | Self::Decimal => TypeObject::Number,
            Self::Text => TypeObject::String,
            Self::Bytes => TypeObject::Binary,
            Self::Date | Self::Time | Self::Timestamp => TypeObject::Datetime,
        }
    }
}

/// The SQL type's name, as ODBC calls it.
fn type_name(data_type: DataType) -> Cow<'static, str> {
    Cow::Borrowed(match data_type {
        DataType::Other { data_type, .. } if matches!(data_type.0, -25 | -27) => "BIGINT",
        DataType::Unknown => "UNKNOWN",
        DataType::Char { .. } => "CHAR",
        DataType::WChar { .. } => "WCHAR",
        DataType::Numeric { .. } => "NUMERIC",
        DataType::Decimal { .. } => "DECIMAL",
        DataType::Integer => "INTEGER",
        DataType::SmallInt => "SMALLINT",
        DataType::Float { .. } => "FLOAT",
        DataType::Real => "REAL",
        DataType::Double => "DOUBLE",
        DataType::Varchar { .. } => "VARCHAR",
        DataType::WVarchar { .. } => "WVARCHAR",
        DataType::LongVarchar { .. } => "LONGVARCHAR",
        DataType::WLongVarchar { .. } => "WLONGVARCHAR",
        DataType::LongVarbinary { .. } => "LONGVARBINARY",
        DataType::Date => "DATE",
        DataType::Time { .. } => "TIME",
        DataType::Timestamp { .. } => "TIMESTAMP",
        DataType::BigInt => "BIGINT",
        DataType::TinyInt => "TINYINT",
        DataType::Bit => "BIT",
        DataType::Varbinary { .. } => "VARBINARY",
        DataType::Binary { .. } => "BINARY",
        DataType::Other { .. } => "OTHER",
    })
}

/// The DB-API description of column `index` (1-based), and how to read it.
fn describe(
    cursor: &mut impl ResultSetMetadata,
    index: u16,
) -> Result<(Column, Reader), odbc_api::Error> {
    let data_type = cursor.col_data_type(index)?;
    let reader = Reader::for_type(data_type);
    let mut column = Column::new(
        cursor.col_name(index)?,
        TypeCode::new(type_name(data_type), Some(reader.family())),
    );
    column.internal_size = data_type
        .column_size()
        .and_then(|n| i64::try_from(n.get()).ok());
    column.display_size = cursor
        .col_display_size(index)?
        .and_then(|n| i64::try_from(n.get()).ok());
    if reader == Reader::Decimal {
        column.precision = Some(i64::try_from(cursor.col_precision(index)?).unwrap_or(0));
        column.scale = Some(i64::try_from(cursor.col_scale(index)?).unwrap_or(0));
    }
    column.null_ok = match cursor.col_nullability(index)? {
        Nullability::Nullable => Some(true),
        Nullability::NoNulls => Some(false),
        Nullability::Unknown => None,
    };
    Ok((column, reader))
}

/// Why reading failed.
pub(crate) enum Failure {
    /// The driver failed.
    Driver(odbc_api::Error),
    /// A value could not be turned into a [`Value`].
    Decode(Error),
}

impl From<odbc_api::Error> for Failure {
    fn from(err: odbc_api::Error) -> Self {
        Self::Driver(err)
    }
}

/// Describes and reads every row of the cursor's current result set.
pub(crate) fn read_set(
    cursor: &mut impl Cursor,
) -> Result<(Arc<[Column]>, VecDeque<Row>), Failure> {
    let count = u16::try_from(cursor.num_result_cols()?).unwrap_or(0);
    let mut columns = Vec::with_capacity(usize::from(count));
    let mut readers = Vec::with_capacity(usize::from(count));
    for index in 1..=count {
        let (column, reader) = describe(cursor, index)?;
        columns.push(column);
        readers.push(reader);
    }
    let columns: Arc<[Column]> = columns.into();
    let mut rows = VecDeque::new();
    let mut buffer = Vec::new();
    while let Some(mut row) = cursor.next_row()? {
        let mut values = Vec::with_capacity(readers.len());
        for (index, reader) in (1..=count).zip(&readers) {
            values.push(read_value(&mut row, index, *reader, &mut buffer, &columns)?);
        }
        rows.push_back(Row::new(Arc::clone(&columns), values).map_err(Failure::Decode)?);
    }
    Ok((columns, rows))
}

fn read_value(
    row: &mut odbc_api::CursorRow<'_>,
    index: u16,
    reader: Reader,
    buffer: &mut Vec<u8>,
    columns: &[Column],
) -> Result<Value, Failure> {
    let text = |buffer: &[u8]| -> Result<String, Failure> {
        String::from_utf8(buffer.to_vec()).map_err(|_| {
            Failure::Decode(Error::data(format!(
                "column {:?} holds text that is not UTF-8: set the driver's character set to UTF-8",
                columns[usize::from(index) - 1].name
            )))
        })
    };
    Ok(match reader {
        Reader::Int => {
            let mut v = Nullable::<i64>::null();
            row.get_data(index, &mut v)?;
            v.into_opt().map_or(Value::Null, Value::Int)
        }
        Reader::Float => {
            let mut v = Nullable::<f64>::null();
            row.get_data(index, &mut v)?;
            v.into_opt().map_or(Value::Null, Value::Float)
        }
        Reader::Bool => {
            let mut v = Nullable::<Bit>::null();
            row.get_data(index, &mut v)?;
            v.into_opt()
                .map_or(Value::Null, |b| Value::Bool(b.as_bool()))
        }
        Reader::Date => {
            let mut v = Nullable::<Date>::null();
            row.get_data(index, &mut v)?;
            match v.into_opt() {
                None => Value::Null,
                Some(d) => Value::date(i32::from(d.year), narrow(d.month), narrow(d.day))
                    .map_err(Failure::Decode)?,
            }
        }
        Reader::Timestamp => {
            let mut v = Nullable::<Timestamp>::null();
            row.get_data(index, &mut v)?;
            match v.into_opt() {
                None => Value::Null,
                Some(t) => dbapi::Date::new(i32::from(t.year), narrow(t.month), narrow(t.day))
                    .and_then(|date| {
                        dbapi::Time::new(
                            narrow(t.hour),
                            narrow(t.minute),
                            narrow(t.second),
                            t.fraction,
                        )
                        .map(|time| Value::Timestamp(dbapi::Timestamp::new(date, time)))
                    })
                    .map_err(Failure::Decode)?,
            }
        }
        Reader::Bytes => {
            buffer.clear();
            if row.get_binary(index, buffer)? {
                Value::Bytes(buffer.clone())
            } else {
                Value::Null
            }
        }
        Reader::Text | Reader::Decimal | Reader::Time => {
            buffer.clear();
            if !row.get_text(index, buffer)? {
                Value::Null
            } else {
                let s = text(buffer)?;
                match reader {
                    Reader::Decimal => Value::Decimal(s),
                    Reader::Time => parse_time(&s).unwrap_or(Value::Text(s)),
                    _ => Value::Text(s),
                }
            }
        }
    })
}

fn narrow(n: u16) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// `HH:MM:SS[.ffffff]` → a time of day; `None` for anything else (kept as text).
fn parse_time(s: &str) -> Option<Value> {
    let (hms, fraction) = match s.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (s, None),
    };
    let mut parts = hms.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u32>().ok()? * 10_u32.pow(9 - u32::try_from(f.len()).ok()?)
        }
        Some(_) => return None,
    };
    dbapi::Time::new(h, m, sec, nanos).ok().map(Value::Time)
}

#[cfg(test)]
mod tests {
    use super::parse_time;
    use dbapi::Value;

    #[test]
    fn times_parse_with_and_without_fractions() {
        let time = |nanos| dbapi::Time::new(13, 45, 0, nanos).ok().map(Value::Time);
        assert_eq!(parse_time("13:45:00"), time(0));
        assert_eq!(parse_time("13:45:00.25"), time(250_000_000));
        assert_eq!(parse_time("-838:59:59"), None);
        assert_eq!(parse_time("25:00:00"), None);
    }
}
