//! The values that cross the driver boundary, and DB-API's constructors for them.

use std::fmt;

use crate::{Date, Result, Time, Timestamp, TypeObject};

/// A value sent as a parameter or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL` (DB-API's `None`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A double-precision float.
    Float(f64),
    /// Text. The empty string is not `NULL`.
    Text(String),
    /// Binary data (DB-API's `Binary`).
    Bytes(Vec<u8>),
    /// A calendar date.
    Date(Date),
    /// A time of day.
    Time(Time),
    /// A date and time without time zone.
    Timestamp(Timestamp),
    /// An exact decimal, kept as its text form (`"12.50"`) so no digit is lost.
    Decimal(String),
}

impl Value {
    /// DB-API `Date(year, month, day)`.
    ///
    /// # Errors
    /// A Data error for a date that does not exist.
    pub fn date(year: i32, month: u8, day: u8) -> Result<Self> {
        Date::new(year, month, day).map(Self::Date)
    }

    /// DB-API `Time(hour, minute, second)`.
    ///
    /// # Errors
    /// A Data error for an out-of-range part.
    pub fn time(hour: u8, minute: u8, second: u8) -> Result<Self> {
        Time::new(hour, minute, second, 0).map(Self::Time)
    }

    /// DB-API `Timestamp(year, month, day, hour, minute, second)`.
    ///
    /// # Errors
    /// A Data error for an out-of-range part.
    pub fn timestamp(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self> {
        Ok(Self::Timestamp(Timestamp::new(
            Date::new(year, month, day)?,
            Time::new(hour, minute, second, 0)?,
        )))
    }

    /// DB-API `DateFromTicks(ticks)`, in UTC.
    ///
    /// # Errors
    /// A Data error for non-finite ticks.
    pub fn date_from_ticks(ticks: f64) -> Result<Self> {
        Timestamp::from_ticks(ticks).map(|ts| Self::Date(ts.date()))
    }

    /// DB-API `TimeFromTicks(ticks)`, in UTC.
    ///
    /// # Errors
    /// A Data error for non-finite ticks.
    pub fn time_from_ticks(ticks: f64) -> Result<Self> {
        Timestamp::from_ticks(ticks).map(|ts| Self::Time(ts.time()))
    }

    /// DB-API `TimestampFromTicks(ticks)`, in UTC.
    ///
    /// # Errors
    /// A Data error for non-finite ticks.
    pub fn timestamp_from_ticks(ticks: f64) -> Result<Self> {
        Timestamp::from_ticks(ticks).map(Self::Timestamp)
    }

    /// DB-API `Binary(bytes)`.
    #[must_use]
    pub fn binary(bytes: impl Into<Vec<u8>>) -> Self {
        Self::Bytes(bytes.into())
    }

    /// True for [`Value::Null`].
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The DB-API type object this value belongs to (`None` for `NULL`).
    #[must_use]
    pub fn type_object(&self) -> Option<TypeObject> {
        Some(match self {
            Self::Null => return None,
            Self::Bool(_) | Self::Int(_) | Self::Float(_) | Self::Decimal(_) => TypeObject::Number,
            Self::Text(_) => TypeObject::String,
            Self::Bytes(_) => TypeObject::Binary,
            Self::Date(_) | Self::Time(_) | Self::Timestamp(_) => TypeObject::Datetime,
        })
    }

    /// A short name of the variant, for error messages (`"Int"`, `"Text"`, ...).
    #[must_use]
    pub fn variant_name(&self) -> &'static str {
        match self {
            Self::Null => "Null",
            Self::Bool(_) => "Bool",
            Self::Int(_) => "Int",
            Self::Float(_) => "Float",
            Self::Text(_) => "Text",
            Self::Bytes(_) => "Bytes",
            Self::Date(_) => "Date",
            Self::Time(_) => "Time",
            Self::Timestamp(_) => "Timestamp",
            Self::Decimal(_) => "Decimal",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("NULL"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
            Self::Text(v) | Self::Decimal(v) => f.write_str(v),
            Self::Bytes(v) => write!(f, "<{} bytes>", v.len()),
            Self::Date(v) => write!(f, "{v}"),
            Self::Time(v) => write!(f, "{v}"),
            Self::Timestamp(v) => write!(f, "{v}"),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Self::Int(i64::from(v)) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Self::Float(f64::from(v))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Self::Bytes(v.to_vec())
    }
}
impl From<Date> for Value {
    fn from(v: Date) -> Self {
        Self::Date(v)
    }
}
impl From<Time> for Value {
    fn from(v: Time) -> Self {
        Self::Time(v)
    }
}
impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Self::Timestamp(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
