//! DB-API type objects (`STRING`, `BINARY`, `NUMBER`, `DATETIME`, `ROWID`) and the type codes
//! of result columns they compare equal to.

use std::borrow::Cow;
use std::fmt;

/// One of the five DB-API type objects. A column's [`TypeCode`] compares equal to the type
/// object of its family: `column.type_code == NUMBER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeObject {
    /// String-based columns (`CHAR`, `VARCHAR`, `TEXT`).
    String,
    /// Long binary columns (`BLOB`, `BYTEA`, `RAW`).
    Binary,
    /// Numeric columns (integers, floats, decimals, booleans).
    Number,
    /// Date and time columns.
    Datetime,
    /// Row id columns.
    Rowid,
}

/// DB-API `STRING`.
pub const STRING: TypeObject = TypeObject::String;
/// DB-API `BINARY`.
pub const BINARY: TypeObject = TypeObject::Binary;
/// DB-API `NUMBER`.
pub const NUMBER: TypeObject = TypeObject::Number;
/// DB-API `DATETIME`.
pub const DATETIME: TypeObject = TypeObject::Datetime;
/// DB-API `ROWID`.
pub const ROWID: TypeObject = TypeObject::Rowid;

/// The type of a result column: the backend's own name for it and, where known, its DB-API
/// family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeCode {
    /// The backend's type name (`"int8"`, `"TEXT"`, ...); empty when the backend does not say.
    pub name: Cow<'static, str>,
    /// The DB-API family, `None` when the backend cannot tell (an SQLite expression column
    /// whose first value is `NULL`).
    pub family: Option<TypeObject>,
}

impl TypeCode {
    /// A type code from a backend type name and its family.
    #[must_use]
    pub fn new(name: impl Into<Cow<'static, str>>, family: Option<TypeObject>) -> Self {
        Self {
            name: name.into(),
            family,
        }
    }
}

impl PartialEq<TypeObject> for TypeCode {
    fn eq(&self, other: &TypeObject) -> bool {
        self.family == Some(*other)
    }
}

impl PartialEq<TypeCode> for TypeObject {
    fn eq(&self, other: &TypeCode) -> bool {
        other == self
    }
}

impl fmt::Display for TypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
