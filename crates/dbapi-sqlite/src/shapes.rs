//! The shape of a statement's result: its columns (names, declared types, how each reads
//! back), built once per prepared statement and shared by every result it returns, instead
//! of allocated anew on every `execute` (see [`crate::live`] for when it is rebuilt).
//!
//! An expression column's type code comes from the first row's value; when that changes,
//! the columns are rebuilt.

use std::sync::Arc;

use dbapi::{Column, Value};

use crate::value_mapping::{self, Declared};

/// One query's result columns.
pub(crate) struct Shape {
    /// The declared types, as SQLite reports them (`None` for expressions).
    decls: Box<[Option<Box<str>>]>,
    /// The positions of the expression columns (no declared type), whose type codes the
    /// first row's values decide.
    expressions: Box<[usize]>,
    /// How each column's values read back.
    pub(crate) kinds: Box<[Declared]>,
    /// The description shared by the rows.
    pub(crate) columns: Arc<[Column]>,
}

impl Shape {
    /// The shape of `stmt`'s result.
    pub(crate) fn of(stmt: &rusqlite::Statement<'_>) -> Self {
        let decls: Box<[Option<Box<str>>]> = stmt
            .columns()
            .map(|c| c.decl_type().map(Box::from))
            .collect();
        let columns = stmt
            .columns()
            .zip(decls.iter())
            .map(|(c, decl)| Column::new(c.name(), value_mapping::type_code(decl.as_deref(), None)))
            .collect();
        Self {
            kinds: decls.iter().map(|d| Declared::of(d.as_deref())).collect(),
            expressions: (0..decls.len()).filter(|&i| decls[i].is_none()).collect(),
            decls,
            columns,
        }
    }

    /// Makes the expression columns' type codes those of `first` (the first row; `None`
    /// when there is none), rebuilding the columns only when one differs.
    pub(crate) fn fit_first_row(&mut self, first: Option<&[Value]>) {
        let family = |i: usize| first.and_then(|values| values.get(i)?.type_object());
        let stale = self
            .expressions
            .iter()
            .any(|&i| self.columns[i].type_code.family != family(i));
        if !stale {
            return;
        }
        self.columns = self
            .columns
            .iter()
            .zip(self.decls.iter())
            .enumerate()
            .map(|(i, (column, decl))| {
                let value = first.and_then(|values| values.get(i));
                Column::new(
                    Arc::clone(&column.name),
                    value_mapping::type_code(decl.as_deref(), value),
                )
            })
            .collect();
    }
}
