//! dbapi values as MySQL statement parameters (the binary protocol's typed values).

use dbapi::{Error, Result, Value};

/// Converts one parameter. Decimals go as text so every digit reaches the server, which
/// converts to the column's type; booleans as 0 and 1 (MySQL has no boolean type).
///
/// # Errors
/// A Data error for a date outside MySQL's years 0–9999.
pub fn to_mysql(value: &Value) -> Result<mysql::Value> {
    use mysql::Value as M;
    Ok(match value {
        Value::Null => M::NULL,
        Value::Bool(b) => M::Int(i64::from(*b)),
        Value::Int(i) => M::Int(*i),
        Value::Float(f) => M::Double(*f),
        Value::Text(s) | Value::Decimal(s) => M::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => M::Bytes(b.clone()),
        Value::Date(d) => M::Date(year(d.year())?, d.month(), d.day(), 0, 0, 0, 0),
        Value::Time(t) => M::Time(
            false,
            0,
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() / 1000,
        ),
        Value::Timestamp(ts) => {
            let (d, t) = (ts.date(), ts.time());
            M::Date(
                year(d.year())?,
                d.month(),
                d.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.nanosecond() / 1000,
            )
        }
    })
}

fn year(year: i32) -> Result<u16> {
    u16::try_from(year)
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(|| Error::data(format!("the year {year} is outside MySQL's range 0–9999")))
}
