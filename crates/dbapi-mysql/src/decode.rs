//! MySQL result values → dbapi values.
//!
//! The text protocol (statements without parameters) sends every value as text and the
//! binary protocol (prepared statements) sends typed values; both decode to the same
//! [`Value`], decided once per column by [`Decoder::for_column`]:
//!
//! | MySQL | Value |
//! |---|---|
//! | TINYINT…BIGINT | `Int`; BIGINT UNSIGNED above `i64::MAX` is `Decimal` (its exact digits, never wrapped) |
//! | YEAR | `Int` |
//! | FLOAT, DOUBLE | `Float` |
//! | DECIMAL | `Decimal` (exact text) |
//! | BIT(1) | `Bool`; wider BIT is `Int` |
//! | CHAR, VARCHAR, TEXT, ENUM, SET, JSON | `Text` (utf8mb4) |
//! | BINARY, VARBINARY, BLOB, GEOMETRY | `Bytes` |
//! | DATE | `Date` |
//! | DATETIME, TIMESTAMP | `Timestamp` (microseconds kept) |
//! | TIME from 00:00:00 to 23:59:59.999999 | `Time` |
//! | TIME negative or over 24 hours | `Text` in MySQL's own form (`-838:59:59.000000`), which the server reads back as the same TIME |

use std::borrow::Cow;

use dbapi::{Date, Error, Result, Time, Timestamp, TypeCode, TypeObject, Value};
use mysql::consts::{ColumnFlags, ColumnType};
use mysql::Column;

/// The `binary` character set: marks BINARY/VARBINARY/BLOB columns (CHAR/TEXT carry a text one).
const BINARY_CHARSET: u16 = 63;

/// How one column's values are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// Signed integers.
    Int,
    /// Unsigned integers: `Int` up to `i64::MAX`, `Decimal` above.
    UInt,
    /// FLOAT and DOUBLE.
    Float,
    /// DECIMAL, as exact text.
    Decimal,
    /// BIT(1) as a boolean.
    Bool,
    /// Wider BIT as an integer (big-endian bytes).
    Bits,
    /// Character data.
    Text,
    /// Binary data.
    Bytes,
    /// DATE.
    Date,
    /// DATETIME and TIMESTAMP.
    Timestamp,
    /// TIME.
    Time,
    /// A column that only ever holds NULL.
    Null,
}

impl Decoder {
    /// The decoder for a result column.
    #[must_use]
    pub fn for_column(column: &Column) -> Self {
        use ColumnType::*;
        let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
        match column.column_type() {
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_INT24 | MYSQL_TYPE_LONG
            | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => {
                if unsigned {
                    Self::UInt
                } else {
                    Self::Int
                }
            }
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => Self::Float,
            MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Self::Decimal,
            MYSQL_TYPE_BIT if column.column_length() == 1 => Self::Bool,
            MYSQL_TYPE_BIT => Self::Bits,
            MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => Self::Date,
            MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_DATETIME2
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_TIMESTAMP2 => Self::Timestamp,
            MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Self::Time,
            MYSQL_TYPE_NULL => Self::Null,
            MYSQL_TYPE_JSON | MYSQL_TYPE_ENUM | MYSQL_TYPE_SET => Self::Text,
            MYSQL_TYPE_GEOMETRY | MYSQL_TYPE_VECTOR => Self::Bytes,
            _ if column.character_set() == BINARY_CHARSET => Self::Bytes,
            _ => Self::Text,
        }
    }

    /// Decodes one value of this column.
    ///
    /// # Errors
    /// A Data error for a value the server should never send for this type.
    pub fn decode(self, value: mysql::Value) -> Result<Value> {
        use mysql::Value as M;
        Ok(match (self, value) {
            (_, M::NULL) | (Self::Null, _) => Value::Null,
            (Self::Int | Self::UInt, M::Int(i)) => Value::Int(i),
            (Self::Int | Self::UInt, M::UInt(u)) => unsigned(u),
            (Self::Int, M::Bytes(b)) => Value::Int(parse(&b, "integer")?),
            (Self::UInt, M::Bytes(b)) => unsigned(parse(&b, "unsigned integer")?),
            (Self::Float, M::Float(f)) => Value::Float(f64::from(f)),
            (Self::Float, M::Double(f)) => Value::Float(f),
            (Self::Float, M::Bytes(b)) => Value::Float(parse(&b, "floating-point number")?),
            (Self::Decimal, M::Bytes(b)) => Value::Decimal(text(b)?),
            (Self::Bool, M::Bytes(b)) => Value::Bool(b.iter().any(|&byte| byte != 0)),
            (Self::Bits, M::Bytes(b)) => {
                let bits = b
                    .iter()
                    .fold(0_u64, |acc, &byte| (acc << 8) | u64::from(byte));
                unsigned(bits)
            }
            (Self::Text, M::Bytes(b)) => Value::Text(text(b)?),
            (Self::Bytes, M::Bytes(b)) => Value::Bytes(b),
            (Self::Date, M::Date(y, m, d, ..)) => Value::Date(date(y, m, d)?),
            (Self::Timestamp, M::Date(y, mo, d, h, mi, s, us)) => {
                Value::Timestamp(Timestamp::new(date(y, mo, d)?, time(h, mi, s, us)?))
            }
            (Self::Time, M::Time(negative, days, h, m, s, us)) => {
                time_value(negative, days, h, m, s, us)?
            }
            (Self::Date | Self::Timestamp | Self::Time, M::Bytes(b)) => temporal_text(self, &b)?,
            // A typed value where the column promised another (expressions): keep its value.
            (_, M::Int(i)) => Value::Int(i),
            (_, M::UInt(u)) => unsigned(u),
            (_, M::Float(f)) => Value::Float(f64::from(f)),
            (_, M::Double(f)) => Value::Float(f),
            (_, other) => {
                return Err(Error::data(format!(
                    "the server sent {other:?} for a {self:?} column"
                )))
            }
        })
    }
}

/// An unsigned value: `Int` when it fits, else its exact digits as `Decimal`.
fn unsigned(u: u64) -> Value {
    i64::try_from(u).map_or_else(|_| Value::Decimal(u.to_string()), Value::Int)
}

fn text(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| {
        Error::data("the server sent text that is not UTF-8: connect with charset=utf8mb4")
    })
}

fn parse<T: std::str::FromStr>(bytes: &[u8], what: &str) -> Result<T> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            Error::data(format!(
                "the server sent {:?} where a {what} was expected",
                String::from_utf8_lossy(bytes)
            ))
        })
}

fn date(year: u16, month: u8, day: u8) -> Result<Date> {
    Date::new(i32::from(year), month, day).map_err(|_| {
        Error::data(format!(
            "the date {year:04}-{month:02}-{day:02} has no calendar value (a zero date?): \
             store NULL instead, or set sql_mode to reject zero dates"
        ))
    })
}

fn time(hour: u8, minute: u8, second: u8, micros: u32) -> Result<Time> {
    Time::new(hour, minute, second, micros.saturating_mul(1000))
}

fn time_value(
    negative: bool,
    days: u32,
    hour: u8,
    minute: u8,
    second: u8,
    micros: u32,
) -> Result<Value> {
    if !negative && days == 0 {
        return time(hour, minute, second, micros).map(Value::Time);
    }
    let hours = u64::from(days) * 24 + u64::from(hour);
    let sign = if negative { "-" } else { "" };
    Ok(Value::Text(format!(
        "{sign}{hours:02}:{minute:02}:{second:02}.{micros:06}"
    )))
}

/// A temporal value sent as text (the text protocol): parsed from MySQL's own format.
fn temporal_text(decoder: Decoder, bytes: &[u8]) -> Result<Value> {
    let raw =
        std::str::from_utf8(bytes).map_err(|_| Error::data("a temporal value is not text"))?;
    let bad = || Error::data(format!("the server sent {raw:?} for a {decoder:?} column"));
    let numbers = |s: &str| -> Option<Vec<u32>> {
        s.split(['-', ':', ' ', '.'])
            .map(|part| part.parse().ok())
            .collect()
    };
    match decoder {
        Decoder::Date | Decoder::Timestamp => {
            let parts = numbers(raw).ok_or_else(bad)?;
            let part = |i: usize| parts.get(i).copied().unwrap_or(0);
            let small = |i: usize| u8::try_from(part(i)).map_err(|_| bad());
            let year = u16::try_from(part(0)).map_err(|_| bad())?;
            let day = date(year, small(1)?, small(2)?)?;
            if decoder == Decoder::Date {
                return Ok(Value::Date(day));
            }
            let micros = fraction_micros(raw.split_once('.').map(|(_, f)| f));
            Ok(Value::Timestamp(Timestamp::new(
                day,
                time(small(3)?, small(4)?, small(5)?, micros)?,
            )))
        }
        _ => {
            let (negative, body) = raw.strip_prefix('-').map_or((false, raw), |b| (true, b));
            let (clock, fraction) = body
                .split_once('.')
                .map_or((body, None), |(c, f)| (c, Some(f)));
            let parts = numbers(clock).ok_or_else(bad)?;
            let [hours, minute, second] = parts[..] else {
                return Err(bad());
            };
            let small = |n: u32| u8::try_from(n).map_err(|_| bad());
            time_value(
                negative,
                hours / 24,
                small(hours % 24)?,
                small(minute)?,
                small(second)?,
                fraction_micros(fraction),
            )
        }
    }
}

/// `"25"` after the point → 250000 microseconds.
fn fraction_micros(fraction: Option<&str>) -> u32 {
    let Some(fraction) = fraction else { return 0 };
    let digits: String = fraction.chars().take(6).collect();
    let width = u32::try_from(digits.len()).unwrap_or(6);
    digits.parse::<u32>().unwrap_or(0) * 10_u32.pow(6 - width)
}

/// The DB-API description of a result column: name, type code, sizes, precision and scale
/// of decimals, and nullability.
#[must_use]
pub fn column(native: &Column, decoder: Decoder) -> dbapi::Column {
    let mut column = dbapi::Column::new(native.name_str(), type_code(native, decoder));
    let length = i64::from(native.column_length());
    column.internal_size = Some(length);
    column.null_ok = Some(!native.flags().contains(ColumnFlags::NOT_NULL_FLAG));
    if decoder == Decoder::Decimal {
        // The server's length counts the sign and the point.
        let scale = i64::from(native.decimals());
        let signed = !native.flags().contains(ColumnFlags::UNSIGNED_FLAG);
        column.precision = Some(length - i64::from(scale > 0) - i64::from(signed));
        column.scale = Some(scale);
    }
    column
}

/// The DB-API type code of a column: the MySQL type name and its family.
#[must_use]
pub fn type_code(column: &Column, decoder: Decoder) -> TypeCode {
    let family = match decoder {
        Decoder::Int
        | Decoder::UInt
        | Decoder::Float
        | Decoder::Decimal
        | Decoder::Bool
        | Decoder::Bits => Some(TypeObject::Number),
        Decoder::Text => Some(TypeObject::String),
        Decoder::Bytes => Some(TypeObject::Binary),
        Decoder::Date | Decoder::Timestamp | Decoder::Time => Some(TypeObject::Datetime),
        Decoder::Null => None,
    };
    TypeCode::new(
        Cow::Borrowed(type_name(column.column_type(), decoder)),
        family,
    )
}

fn type_name(ty: ColumnType, decoder: Decoder) -> &'static str {
    use ColumnType::*;
    match ty {
        MYSQL_TYPE_TINY => "TINYINT",
        MYSQL_TYPE_SHORT => "SMALLINT",
        MYSQL_TYPE_INT24 => "MEDIUMINT",
        MYSQL_TYPE_LONG => "INT",
        MYSQL_TYPE_LONGLONG => "BIGINT",
        MYSQL_TYPE_YEAR => "YEAR",
        MYSQL_TYPE_FLOAT => "FLOAT",
        MYSQL_TYPE_DOUBLE => "DOUBLE",
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
        MYSQL_TYPE_BIT => "BIT",
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => "DATE",
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => "DATETIME",
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => "TIME",
        MYSQL_TYPE_JSON => "JSON",
        MYSQL_TYPE_ENUM => "ENUM",
        MYSQL_TYPE_SET => "SET",
        MYSQL_TYPE_GEOMETRY => "GEOMETRY",
        MYSQL_TYPE_NULL => "NULL",
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB => {
            if decoder == Decoder::Bytes {
                "BLOB"
            } else {
                "TEXT"
            }
        }
        MYSQL_TYPE_VAR_STRING | MYSQL_TYPE_VARCHAR => {
            if decoder == Decoder::Bytes {
                "VARBINARY"
            } else {
                "VARCHAR"
            }
        }
        MYSQL_TYPE_STRING => {
            if decoder == Decoder::Bytes {
                "BINARY"
            } else {
                "CHAR"
            }
        }
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_values_never_wrap() {
        assert_eq!(unsigned(5), Value::Int(5));
        assert_eq!(
            unsigned(u64::MAX),
            Value::Decimal("18446744073709551615".to_owned())
        );
    }

    #[test]
    fn text_protocol_times_outside_a_day_stay_exact() {
        assert_eq!(
            temporal_text(Decoder::Time, b"-838:59:59.000000").expect("time"),
            Value::Text("-838:59:59.000000".to_owned())
        );
        assert_eq!(
            temporal_text(Decoder::Time, b"12:30:05.25").expect("time"),
            Value::Time(Time::new(12, 30, 5, 250_000_000).expect("valid"))
        );
        assert_eq!(
            temporal_text(Decoder::Timestamp, b"2024-02-29 23:59:58.000001").expect("ts"),
            Value::Timestamp(Timestamp::new(
                Date::new(2024, 2, 29).expect("date"),
                Time::new(23, 59, 58, 1000).expect("time")
            ))
        );
    }

    #[test]
    fn binary_protocol_times_match_the_text_protocol() {
        assert_eq!(
            Decoder::Time
                .decode(mysql::Value::Time(true, 34, 22, 59, 59, 0))
                .expect("time"),
            Value::Text("-838:59:59.000000".to_owned())
        );
    }
}
