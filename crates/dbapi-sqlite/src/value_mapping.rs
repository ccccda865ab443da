//! dbapi values ⇄ SQLite storage classes, guided by the column's declared type.
//!
//! SQLite stores five classes (NULL, INTEGER, REAL, TEXT, BLOB). Like Python's
//! `detect_types=PARSE_DECLTYPES`, a column declared `BOOLEAN`, `DATE`, `TIME`,
//! `TIMESTAMP`/`DATETIME` or `DECIMAL` reads back as the matching [`Value`] variant.

use std::borrow::Cow;

use dbapi::{Error, Result, TypeCode, TypeObject, Value};
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};

/// How a declared column type reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// No special reading: storage class decides.
    Plain,
    /// `BOOL…`: integers read as `Value::Bool`.
    Bool,
    /// `DATE`: ISO text reads as `Value::Date`.
    Date,
    /// `TIME`: ISO text reads as `Value::Time`.
    Time,
    /// `TIMESTAMP`/`DATETIME`: ISO text reads as `Value::Timestamp`.
    Timestamp,
    /// `DECIMAL…`: reads as `Value::Decimal` text.
    Decimal,
}

impl Declared {
    /// Classifies a declared type name.
    #[must_use]
    pub fn of(decl: Option<&str>) -> Self {
        let Some(decl) = decl else { return Self::Plain };
        let upper = decl.to_ascii_uppercase();
        match upper.split('(').next().unwrap_or("").trim() {
            "BOOL" | "BOOLEAN" => Self::Bool,
            "DATE" => Self::Date,
            "TIME" => Self::Time,
            "TIMESTAMP" | "DATETIME" => Self::Timestamp,
            "DECIMAL" => Self::Decimal,
            _ => Self::Plain,
        }
    }
}

/// The DB-API type code of a column: from its declared type by SQLite's affinity rules, or,
/// for expressions, from the first value's storage class.
#[must_use]
pub fn type_code(decl: Option<&str>, first: Option<&Value>) -> TypeCode {
    match decl {
        Some(decl) => {
            let upper = decl.to_ascii_uppercase();
            let family = if upper.contains("DATE") || upper.contains("TIME") {
                TypeObject::Datetime
            } else if upper.contains("INT")
                || upper.contains("REAL")
                || upper.contains("FLOA")
                || upper.contains("DOUB")
                || upper.contains("BOOL")
                || upper.contains("DEC")
                || upper.contains("NUM")
            {
                TypeObject::Number
            } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
                TypeObject::String
            } else {
                TypeObject::Binary
            };
            TypeCode::new(decl.to_owned(), Some(family))
        }
        None => TypeCode::new(Cow::Borrowed(""), first.and_then(Value::type_object)),
    }
}

fn text(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes)
        .map_err(|_| Error::data("a TEXT value is not valid UTF-8; store binary data as BLOB"))
}

/// Reads one SQLite value as a dbapi [`Value`].
///
/// # Errors
/// A Data error for TEXT that is not UTF-8.
#[inline]
pub fn read(value: ValueRef<'_>, declared: Declared) -> Result<Value> {
    Ok(match (value, declared) {
        (ValueRef::Null, _) => Value::Null,
        (ValueRef::Integer(i), Declared::Bool) => Value::Bool(i != 0),
        (ValueRef::Integer(i), Declared::Decimal) => Value::Decimal(i.to_string()),
        (ValueRef::Real(r), Declared::Decimal) => Value::Decimal(r.to_string()),
        (ValueRef::Text(t), Declared::Decimal) => Value::Decimal(text(t)?.to_owned()),
        (ValueRef::Text(t), Declared::Date) => {
            let t = text(t)?;
            t.parse()
                .map_or_else(|_| Value::Text(t.to_owned()), Value::Date)
        }
        (ValueRef::Text(t), Declared::Time) => {
            let t = text(t)?;
            t.parse()
                .map_or_else(|_| Value::Text(t.to_owned()), Value::Time)
        }
        (ValueRef::Text(t), Declared::Timestamp) => {
            let t = text(t)?;
            t.parse()
                .map_or_else(|_| Value::Text(t.to_owned()), Value::Timestamp)
        }
        (ValueRef::Integer(i), _) => Value::Int(i),
        (ValueRef::Real(r), _) => Value::Float(r),
        (ValueRef::Text(t), _) => Value::Text(text(t)?.to_owned()),
        (ValueRef::Blob(b), _) => Value::Bytes(b.to_vec()),
    })
}

/// A dbapi [`Value`] bound as an SQLite parameter.
pub struct Bind<'a>(pub &'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Owned(Owned::Integer(i64::from(*b))),
            Value::Int(i) => ToSqlOutput::Owned(Owned::Integer(*i)),
            Value::Float(f) => ToSqlOutput::Owned(Owned::Real(*f)),
            Value::Text(s) | Value::Decimal(s) => {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Date(d) => ToSqlOutput::Owned(Owned::Text(d.to_string())),
            Value::Time(t) => ToSqlOutput::Owned(Owned::Text(t.to_string())),
            Value::Timestamp(ts) => ToSqlOutput::Owned(Owned::Text(ts.to_string())),
        })
    }
}
