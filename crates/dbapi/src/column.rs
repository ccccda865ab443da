//! The seven-field column description of DB-API's `cursor.description`.

use std::sync::Arc;

use crate::TypeCode;

/// One entry of `cursor.description`: DB-API's seven fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name (or alias).
    pub name: Arc<str>,
    /// Its type, comparable with the type objects (`STRING`, `NUMBER`, ...).
    pub type_code: TypeCode,
    /// The display size, when the backend reports it.
    pub display_size: Option<i64>,
    /// The internal size, when the backend reports it.
    pub internal_size: Option<i64>,
    /// The precision of numeric columns, when known.
    pub precision: Option<i64>,
    /// The scale of numeric columns, when known.
    pub scale: Option<i64>,
    /// Whether the column accepts `NULL`, when known.
    pub null_ok: Option<bool>,
}

impl Column {
    /// A column with a name and a type code; the five optional fields are `None`.
    #[must_use]
    pub fn new(name: impl Into<Arc<str>>, type_code: TypeCode) -> Self {
        Self {
            name: name.into(),
            type_code,
            display_size: None,
            internal_size: None,
            precision: None,
            scale: None,
            null_ok: None,
        }
    }
}
