//! DB-API values → ODBC input parameters, each bound with its own C and SQL type so drivers
//! that type-check parameters (psqlODBC) see integers as integers and dates as dates.

use dbapi::{Error, Params, Result, Value};
use odbc_api::parameter::{InputParameter, WithDataType};
use odbc_api::sys::{Date, Time, Timestamp};
use odbc_api::{Bit, DataType, IntoParameter};

/// A bound parameter.
pub(crate) type Param = Box<dyn InputParameter>;

/// The parameters of one execution, in marker order.
///
/// # Errors
/// A NotSupported error for named parameters (ODBC markers are positional `?`), a Data
/// error for a date outside ODBC's range.
pub(crate) fn to_odbc(params: &Params) -> Result<Vec<Param>> {
    match params {
        Params::None => Ok(Vec::new()),
        Params::Positional(values) => values.iter().map(to_param).collect(),
        Params::Named(_) => Err(Error::not_supported(
            "ODBC markers are positional: write ? and pass the values in order (params![...])",
        )),
    }
}

fn to_param(value: &Value) -> Result<Param> {
    Ok(match value {
        Value::Null => Box::new(Option::<String>::None.into_parameter()),
        Value::Bool(b) => Box::new(Bit::from_bool(*b)),
        Value::Int(i) => Box::new(*i),
        Value::Float(f) => Box::new(*f),
        Value::Text(s) | Value::Decimal(s) => Box::new(s.clone().into_parameter()),
        Value::Bytes(b) => Box::new(b.clone().into_parameter()),
        Value::Date(d) => Box::new(Date {
            year: year(d.year())?,
            month: u16::from(d.month()),
            day: u16::from(d.day()),
        }),
        // SQL_TIME_STRUCT has no fractions; a time with them travels as text.
        Value::Time(t) if t.nanosecond() != 0 => Box::new(value_text(value).into_parameter()),
        Value::Time(t) => Box::new(WithDataType {
            value: Time {
                hour: u16::from(t.hour()),
                minute: u16::from(t.minute()),
                second: u16::from(t.second()),
            },
            data_type: DataType::Time { precision: 0 },
        }),
        Value::Timestamp(ts) => {
            let (date, time) = (ts.date(), ts.time());
            Box::new(WithDataType {
                value: Timestamp {
                    year: year(date.year())?,
                    month: u16::from(date.month()),
                    day: u16::from(date.day()),
                    hour: u16::from(time.hour()),
                    minute: u16::from(time.minute()),
                    second: u16::from(time.second()),
                    fraction: time.nanosecond(),
                },
                // Microseconds, the finest most servers keep.
                data_type: DataType::Timestamp { precision: 6 },
            })
        }
    })
}

fn year(year: i32) -> Result<i16> {
    i16::try_from(year)
        .map_err(|_| Error::data(format!("the year {year} is outside ODBC's date range")))
}

/// A time of day as `HH:MM:SS.ffffff`, the literal form every SQL dialect reads.
fn value_text(value: &Value) -> String {
    match value {
        Value::Time(t) => format!(
            "{:02}:{:02}:{:02}.{:06}",
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() / 1000
        ),
        other => format!("{other:?}"),
    }
}
