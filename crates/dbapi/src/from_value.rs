//! Typed reads of [`Value`]s: `row.get::<i64>("id")`.

use std::fmt;

use crate::{Date, Time, Timestamp, Value};

/// Why a value could not be read as the requested Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromValueError {
    /// The value is `NULL` and the target type is not an `Option`.
    UnexpectedNull,
    /// The value's variant cannot become the target type.
    Mismatch {
        /// The variant found (`"Text"`, ...).
        found: &'static str,
        /// The Rust type requested.
        expected: &'static str,
    },
    /// The value fits the type family but not its range (`300` into `u8`).
    OutOfRange {
        /// The value found, as text.
        value: String,
        /// The Rust type requested.
        expected: &'static str,
    },
}

impl fmt::Display for FromValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedNull => f.write_str("is NULL; read it as Option<T> to accept NULL"),
            Self::Mismatch { found, expected } => {
                write!(
                    f,
                    "holds a {found} value, which cannot be read as {expected}"
                )
            }
            Self::OutOfRange { value, expected } => {
                write!(f, "holds {value}, which is out of range for {expected}")
            }
        }
    }
}

/// Conversion from a borrowed [`Value`] into a Rust type.
pub trait FromValue: Sized {
    /// Reads `value` as `Self`.
    ///
    /// # Errors
    /// [`FromValueError`] when the value is `NULL` (and `Self` is not an `Option`), of another
    /// type, or out of range.
    fn from_value(value: &Value) -> Result<Self, FromValueError>;
}

fn mismatch<T>(value: &Value) -> Result<T, FromValueError> {
    Err(match value {
        Value::Null => FromValueError::UnexpectedNull,
        other => FromValueError::Mismatch {
            found: other.variant_name(),
            expected: std::any::type_name::<T>(),
        },
    })
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Int(v) => Ok(*v),
            Value::Bool(v) => Ok(i64::from(*v)),
            other => mismatch(other),
        }
    }
}

macro_rules! from_value_narrow_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, FromValueError> {
                let wide = i64::from_value(value).map_err(|e| match e {
                    FromValueError::Mismatch { found, .. } => FromValueError::Mismatch {
                        found,
                        expected: stringify!($t),
                    },
                    other => other,
                })?;
                <$t>::try_from(wide).map_err(|_| FromValueError::OutOfRange {
                    value: wide.to_string(),
                    expected: stringify!($t),
                })
            }
        }
    )*};
}
from_value_narrow_int!(i8, i16, i32, u8, u16, u32, u64, usize);

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Float(v) => Ok(*v),
            // Integers are numbers too; i64 -> f64 may round above 2^53, as in every DB-API.
            Value::Int(v) => Ok(*v as f64),
            Value::Decimal(text) => text.parse().map_err(|_| FromValueError::OutOfRange {
                value: text.clone(),
                expected: "f64",
            }),
            other => mismatch(other),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Bool(v) => Ok(*v),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Int(v) => Err(FromValueError::OutOfRange {
                value: v.to_string(),
                expected: "bool",
            }),
            other => mismatch(other),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Text(v) | Value::Decimal(v) => Ok(v.clone()),
            other => mismatch(other),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, FromValueError> {
        match value {
            Value::Bytes(v) => Ok(v.clone()),
            other => mismatch(other),
        }
    }
}

macro_rules! from_value_temporal {
    ($($t:ident),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, FromValueError> {
                match value {
                    Value::$t(v) => Ok(*v),
                    Value::Text(text) => text.parse().map_err(|_| FromValueError::Mismatch {
                        found: "Text",
                        expected: stringify!($t),
                    }),
                    other => mismatch(other),
                }
            }
        }
    )*};
}
from_value_temporal!(Date, Time, Timestamp);
