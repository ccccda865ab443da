//! Result shapes of statements seen before: the columns of a query (names, declared types,
//! how each reads back) built once per connection and shared by every result of that query,
//! instead of allocated anew on every `execute`.
//!
//! A cached shape is checked against the prepared statement on every use (names and
//! declared types, read without allocating), so a schema change — here or by another
//! connection — is picked up at once. An expression column's type code comes from the first
//! row's value; when that changes, the columns are rebuilt.

use std::collections::HashMap;
use std::sync::Arc;

use dbapi::{Column, Value};

use crate::value_mapping::{self, Declared};

/// At most this many shapes are kept per connection; past it the cache starts over.
const CAPACITY: usize = 256;

/// One query's result columns.
pub(crate) struct Shape {
    /// The declared types, as SQLite reports them (`None` for expressions).
    decls: Box<[Option<Box<str>>]>,
    /// How each column's values read back.
    pub(crate) kinds: Box<[Declared]>,
    /// The description shared by the rows.
    pub(crate) columns: Arc<[Column]>,
}

impl Shape {
    fn of(stmt: &rusqlite::Statement<'_>) -> Self {
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
            decls,
            columns,
        }
    }

    /// Whether the statement still has these columns (names and declared types).
    fn fits(&self, stmt: &rusqlite::Statement<'_>) -> bool {
        stmt.column_count() == self.columns.len()
            && stmt
                .columns()
                .zip(self.columns.iter().zip(self.decls.iter()))
                .all(|(c, (column, decl))| {
                    c.name() == &*column.name && c.decl_type() == decl.as_deref()
                })
    }

    /// Makes the expression columns' type codes those of `first` (the first row; `None`
    /// when there is none), rebuilding the columns only when one differs.
    pub(crate) fn fit_first_row(&mut self, first: Option<&[Value]>) {
        let family = |i: usize| first.and_then(|values| values.get(i)?.type_object());
        let stale = self
            .decls
            .iter()
            .enumerate()
            .any(|(i, decl)| decl.is_none() && self.columns[i].type_code.family != family(i));
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

/// The shapes of one connection's queries, by SQL text.
#[derive(Default)]
pub(crate) struct Shapes {
    by_sql: HashMap<Box<str>, Shape>,
}

impl Shapes {
    /// The shape of `sql`'s result: the cached one when it still fits `stmt`, else a new one.
    pub(crate) fn get(&mut self, sql: &str, stmt: &rusqlite::Statement<'_>) -> &mut Shape {
        let fits = self.by_sql.get(sql).is_some_and(|shape| shape.fits(stmt));
        if !fits {
            if self.by_sql.len() >= CAPACITY {
                self.by_sql.clear();
            }
            self.by_sql.insert(sql.into(), Shape::of(stmt));
        }
        match self.by_sql.get_mut(sql) {
            Some(shape) => shape,
            None => unreachable!("inserted above"),
        }
    }
}
