//! Reading a result set: column descriptions from the driver, then every row, each column
//! read whole with `SQLGetData` (long text and blobs in pieces, never truncated).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use dbapi::{Column, Error, Result, Row, TypeCode, TypeObject, Value};
use odbc_api::buffers::{BufferDesc, ColumnarDynBuffer};
use odbc_api::sys::{Date, Timestamp};
use odbc_api::{Bit, BlockCursor, Cursor, DataType, Nullability, Nullable, ResultSetMetadata};

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
) -> Result<(Column, Reader, Option<BufferDesc>), odbc_api::Error> {
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
    Ok((column, reader, buffer_desc(data_type, reader)))
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

/// The longest value, in bytes, a column may declare and still be fetched in batches;
/// longer or unbounded columns are read value by value, in pieces.
const BATCH_MAX_BYTES: usize = 4096;

/// The fewest rows fetched per round trip, whatever `arraysize` says (DB-API's default
/// `arraysize` of 1 would make every row a round trip).
pub(crate) const MIN_BATCH_ROWS: usize = 64;

/// A result set's description, how to read each column, and — when every column has a
/// bounded size — the buffers to fetch it in batches.
pub(crate) struct SetShape {
    pub(crate) columns: Arc<[Column]>,
    readers: Vec<Reader>,
    pub(crate) batch: Option<Vec<BufferDesc>>,
}

/// Describes the cursor's current result set.
pub(crate) fn describe_set(cursor: &mut impl ResultSetMetadata) -> Result<SetShape, Failure> {
    let count = u16::try_from(cursor.num_result_cols()?).unwrap_or(0);
    let mut columns = Vec::with_capacity(usize::from(count));
    let mut readers = Vec::with_capacity(usize::from(count));
    let mut batch = Some(Vec::with_capacity(usize::from(count)));
    for index in 1..=count {
        let (column, reader, desc) = describe(cursor, index)?;
        columns.push(column);
        readers.push(reader);
        match (desc, batch.as_mut()) {
            (Some(desc), Some(descs)) => descs.push(desc),
            _ => batch = None,
        }
    }
    Ok(SetShape {
        columns: columns.into(),
        readers,
        batch,
    })
}

/// The batch buffer for a column, when its values have a bounded size.
fn buffer_desc(data_type: DataType, reader: Reader) -> Option<BufferDesc> {
    let size = data_type.column_size().map(std::num::NonZeroUsize::get);
    let nullable = true;
    match reader {
        Reader::Int => Some(BufferDesc::I64 { nullable }),
        Reader::Float => Some(BufferDesc::F64 { nullable }),
        // MariaDB Connector/ODBC 3.1 writes BIT arrays past their buffer: booleans are
        // read value by value.
        Reader::Bool => None,
        Reader::Date => Some(BufferDesc::Date { nullable }),
        Reader::Timestamp => Some(BufferDesc::Timestamp { nullable }),
        // Digits, a sign and a point; times as text (`-838:59:59.999999`).
        Reader::Decimal => size.map(|n| BufferDesc::Text { max_str_len: n + 2 }),
        Reader::Time => Some(BufferDesc::Text { max_str_len: 32 }),
        // Up to four UTF-8 bytes per character.
        Reader::Text => size
            .filter(|n| n * 4 <= BATCH_MAX_BYTES)
            .map(|n| BufferDesc::Text { max_str_len: n * 4 }),
        Reader::Bytes => size
            .filter(|n| *n <= BATCH_MAX_BYTES)
            .map(|n| BufferDesc::Binary { max_bytes: n }),
    }
}

/// Reads every row of the current result set value by value (`SQLGetData`): long values
/// arrive whole, in as many pieces as they take.
pub(crate) fn read_rows(
    cursor: &mut impl Cursor,
    shape: &SetShape,
) -> Result<VecDeque<Row>, Failure> {
    let mut rows = VecDeque::new();
    let mut buffer = Vec::new();
    while let Some(mut row) = cursor.next_row()? {
        rows.push_back(Row::try_from_fn(Arc::clone(&shape.columns), |i| {
            // `describe_set` keeps at most `u16::MAX` columns: every position fits.
            let index = u16::try_from(i + 1).unwrap_or(u16::MAX);
            read_value(
                &mut row,
                index,
                shape.readers[i],
                &mut buffer,
                &shape.columns,
            )
        })?);
    }
    Ok(rows)
}

/// Reads every row of the current result set in batches of bound column buffers. A value
/// longer than its column declared is an error naming the column, never a silent cut.
pub(crate) fn read_batches<C: Cursor>(
    block: &mut BlockCursor<C, ColumnarDynBuffer>,
    shape: &SetShape,
) -> Result<VecDeque<Row>, Failure> {
    let mut rows = VecDeque::new();
    loop {
        let batch = match block.fetch_with_truncation_check(true) {
            Ok(Some(batch)) => batch,
            Ok(None) => return Ok(rows),
            Err(odbc_api::Error::TooLargeValueForBuffer {
                buffer_index,
                indicator,
            }) => {
                let name = shape.columns.get(buffer_index).map_or("?", |c| &*c.name);
                return Err(Failure::Decode(Error::data(format!(
                    "column {name:?} holds a value of {} bytes, longer than the size its driver declared: the value was not cut; cast the column to a longer type",
                    indicator.map_or_else(|| "unknown".to_owned(), |n| n.to_string())
                ))));
            }
            Err(other) => return Err(Failure::Driver(other)),
        };
        // Each column's values, taken one per row below.
        let mut columns: Vec<std::vec::IntoIter<Value>> = Vec::with_capacity(shape.readers.len());
        for (index, reader) in shape.readers.iter().enumerate() {
            columns.push(
                batch_values(batch.column(index), *reader, &shape.columns[index])?.into_iter(),
            );
        }
        for _ in 0..batch.num_rows() {
            rows.push_back(Row::try_from_fn(Arc::clone(&shape.columns), |i| {
                columns[i].next().ok_or_else(|| {
                    Failure::Decode(Error::new(
                        dbapi::ErrorKind::Internal,
                        "a batch column holds fewer values than the batch has rows",
                    ))
                })
            })?);
        }
    }
}

/// One column of a fetched batch as values.
fn batch_values(
    slice: odbc_api::buffers::AnyColumnBufferSlice<'_>,
    reader: Reader,
    column: &Column,
) -> Result<Vec<Value>, Failure> {
    let wrong = || {
        Failure::Decode(Error::new(
            dbapi::ErrorKind::Internal,
            format!(
                "column {:?}: the batch buffer has an unexpected type",
                column.name
            ),
        ))
    };
    let values = match reader {
        Reader::Int => slice
            .as_nullable_slice::<i64>()
            .ok_or_else(wrong)?
            .map(|v| v.map_or(Value::Null, |v| Value::Int(*v)))
            .collect(),
        Reader::Float => slice
            .as_nullable_slice::<f64>()
            .ok_or_else(wrong)?
            .map(|v| v.map_or(Value::Null, |v| Value::Float(*v)))
            .collect(),
        // Never batched (see `buffer_desc`).
        Reader::Bool => return Err(wrong()),
        Reader::Date => slice
            .as_nullable_slice::<Date>()
            .ok_or_else(wrong)?
            .map(|v| v.map_or(Ok(Value::Null), |d| date_value(*d)))
            .collect::<Result<_, _>>()?,
        Reader::Timestamp => slice
            .as_nullable_slice::<Timestamp>()
            .ok_or_else(wrong)?
            .map(|v| v.map_or(Ok(Value::Null), |t| timestamp_value(*t)))
            .collect::<Result<_, _>>()?,
        Reader::Bytes => slice
            .as_binary()
            .ok_or_else(wrong)?
            .iter()
            .map(|v| v.map_or(Value::Null, |b| Value::Bytes(b.to_vec())))
            .collect(),
        Reader::Text | Reader::Decimal | Reader::Time => slice
            .as_text()
            .ok_or_else(wrong)?
            .iter()
            .map(|v| v.map_or(Ok(Value::Null), |t| text_value(t, reader, column)))
            .collect::<Result<_, _>>()?,
    };
    Ok(values)
}

/// Text bytes as the reader's value.
fn text_value(bytes: &[u8], reader: Reader, column: &Column) -> Result<Value, Failure> {
    let s = String::from_utf8(bytes.to_vec()).map_err(|_| {
        Failure::Decode(Error::data(format!(
            "column {:?} holds text that is not UTF-8: set the driver's character set to UTF-8",
            column.name
        )))
    })?;
    Ok(match reader {
        Reader::Decimal => Value::Decimal(s),
        Reader::Time => parse_time(&s).unwrap_or(Value::Text(s)),
        _ => Value::Text(s),
    })
}

fn date_value(d: Date) -> Result<Value, Failure> {
    Value::date(i32::from(d.year), narrow(d.month), narrow(d.day)).map_err(Failure::Decode)
}

fn timestamp_value(t: Timestamp) -> Result<Value, Failure> {
    dbapi::Date::new(i32::from(t.year), narrow(t.month), narrow(t.day))
        .and_then(|date| {
            dbapi::Time::new(
                narrow(t.hour),
                narrow(t.minute),
                narrow(t.second),
                t.fraction,
            )
            .map(|time| Value::Timestamp(dbapi::Timestamp::new(date, time)))
        })
        .map_err(Failure::Decode)
}

fn read_value(
    row: &mut odbc_api::CursorRow<'_>,
    index: u16,
    reader: Reader,
    buffer: &mut Vec<u8>,
    columns: &[Column],
) -> Result<Value, Failure> {
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
            v.into_opt().map_or(Ok(Value::Null), date_value)?
        }
        Reader::Timestamp => {
            let mut v = Nullable::<Timestamp>::null();
            row.get_data(index, &mut v)?;
            v.into_opt().map_or(Ok(Value::Null), timestamp_value)?
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
            if row.get_text(index, buffer)? {
                text_value(buffer, reader, &columns[usize::from(index) - 1])?
            } else {
                Value::Null
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
    use super::{buffer_desc, parse_time, Reader, BATCH_MAX_BYTES};
    use dbapi::Value;
    use odbc_api::buffers::BufferDesc;
    use odbc_api::DataType;
    use std::num::NonZeroUsize;

    fn desc(data_type: DataType) -> Option<BufferDesc> {
        buffer_desc(data_type, Reader::for_type(data_type))
    }

    #[test]
    fn bounded_columns_get_batch_buffers_and_long_ones_do_not() {
        let len = |n| NonZeroUsize::new(n);
        assert_eq!(
            desc(DataType::BigInt),
            Some(BufferDesc::I64 { nullable: true })
        );
        assert_eq!(
            desc(DataType::Double),
            Some(BufferDesc::F64 { nullable: true })
        );
        // Four bytes per character: a VARCHAR(12) needs 48.
        assert_eq!(
            desc(DataType::Varchar { length: len(12) }),
            Some(BufferDesc::Text { max_str_len: 48 })
        );
        assert_eq!(
            desc(DataType::Numeric {
                precision: 10,
                scale: 2
            }),
            Some(BufferDesc::Text { max_str_len: 12 })
        );
        // Unbounded or long: read value by value, never cut.
        assert_eq!(desc(DataType::Varchar { length: None }), None);
        assert_eq!(desc(DataType::LongVarchar { length: len(8190) }), None);
        assert_eq!(
            desc(DataType::Varbinary {
                length: len(BATCH_MAX_BYTES + 1)
            }),
            None
        );
        // Booleans stay value by value (a driver's BIT arrays corrupt memory).
        assert_eq!(desc(DataType::Bit), None);
    }

    #[test]
    fn times_parse_with_and_without_fractions() {
        let time = |nanos| dbapi::Time::new(13, 45, 0, nanos).ok().map(Value::Time);
        assert_eq!(parse_time("13:45:00"), time(0));
        assert_eq!(parse_time("13:45:00.25"), time(250_000_000));
        assert_eq!(parse_time("-838:59:59"), None);
        assert_eq!(parse_time("25:00:00"), None);
    }
}
