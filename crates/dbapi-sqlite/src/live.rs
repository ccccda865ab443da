//! [`LiveConnection`]: an open rusqlite connection and the statements the DB-API prepared on
//! it, each kept with the shape of its result.
//!
//! rusqlite's own statement cache (`prepare_cached`) hands a statement out and takes it back
//! on every use, and knows nothing of what the DB-API builds for a result (column names,
//! declared types, how values read back). Checking a separately cached shape against the
//! statement on every `execute` cost more than the query itself. Here a statement and its
//! shape live in one entry, looked up once per `execute`; the shape is rebuilt exactly when
//! SQLite re-prepares the statement for a schema change (its `REPREPARE` counter moves), and
//! a statement is never replaced behind the entry's back, so no other check is needed.

use std::collections::VecDeque;
use std::rc::Rc;

use dbapi::{Error, ErrorKind, Result, Row};
use hashbrown::hash_map::EntryRef;
use hashbrown::HashMap;
use rusqlite::StatementStatus;

use crate::error_mapping::from_rusqlite;
use crate::shapes::Shape;

/// At most this many statements are kept per connection; past it, one is finalized to make
/// room for the next.
const CAPACITY: usize = 128;

/// A statement prepared by the DB-API, with the shape of its result.
pub(crate) struct Prepared {
    /// Borrows the connection of the [`LiveConnection`] it was prepared by (see there).
    pub(crate) stmt: rusqlite::Statement<'static>,
    /// The shape of the result, when the statement has returned one.
    shape: Option<Shape>,
    /// The statement's `REPREPARE` count when `shape` was built.
    reprepares: i32,
}

/// The shape of a [`Prepared`] statement's result, split from the statement so that it can be
/// read while the statement is being stepped.
pub(crate) struct ShapeSlot<'p> {
    shape: &'p mut Option<Shape>,
    reprepares: &'p mut i32,
}

impl Prepared {
    /// The statement, and the slot its result's shape is kept in.
    pub(crate) fn parts(&mut self) -> (&mut rusqlite::Statement<'static>, ShapeSlot<'_>) {
        (
            &mut self.stmt,
            ShapeSlot {
                shape: &mut self.shape,
                reprepares: &mut self.reprepares,
            },
        )
    }
}

impl ShapeSlot<'_> {
    /// The shape of `stmt`'s result. Call it after the statement's first step: SQLite
    /// re-prepares a statement for a schema change there, and the shape is rebuilt then.
    pub(crate) fn get(&mut self, stmt: &rusqlite::Statement<'_>) -> &mut Shape {
        let reprepares = stmt.get_status(StatementStatus::RePrepare);
        if *self.reprepares != reprepares {
            *self.reprepares = reprepares;
            *self.shape = None;
        }
        self.shape.get_or_insert_with(|| Shape::of(stmt))
    }
}

/// The most rows a buffer kept for the next result may have room for: a buffer grown by a
/// large result is freed rather than kept for the connection's lifetime.
const SPARE_ROWS: usize = 256;

/// An open rusqlite connection with the DB-API's prepared statements.
pub(crate) struct LiveConnection {
    // Declared before `conn`, so dropped before it: each statement borrows the connection.
    statements: HashMap<String, Prepared>,
    /// An emptied row buffer from the last cursor, for the next result to fill.
    spare_rows: Option<VecDeque<Row>>,
    /// In an `Rc`, not a `Box`: the statements hold shared references into it while it is
    /// moved, which a `Box` (a unique owner) does not allow. Never cloned: the count stays 1.
    conn: Rc<rusqlite::Connection>,
}

// SAFETY: the statements refer only to `conn`, which moves with them: a `LiveConnection` is
// sent to another thread whole, as rusqlite sends a `Connection` together with the statements
// of its own cache. The `Rc` is never cloned, so no count is shared across threads, and
// nothing in a `LiveConnection` is reachable from outside it while it moves.
#[allow(unsafe_code)]
unsafe impl Send for LiveConnection {}

impl LiveConnection {
    pub(crate) fn new(conn: rusqlite::Connection) -> Self {
        Self {
            statements: HashMap::default(),
            spare_rows: None,
            conn: Rc::new(conn),
        }
    }

    /// The connection.
    pub(crate) fn conn(&self) -> &rusqlite::Connection {
        &self.conn
    }

    /// The connection, mutably: the prepared statements are finalized first (they borrow it).
    pub(crate) fn conn_mut(&mut self) -> Result<&mut rusqlite::Connection> {
        self.statements.clear();
        Rc::get_mut(&mut self.conn).ok_or_else(shared)
    }

    /// The connection, with its prepared statements finalized.
    pub(crate) fn into_conn(mut self) -> Result<rusqlite::Connection> {
        self.statements.clear();
        Rc::try_unwrap(self.conn).map_err(|_| shared())
    }

    /// Keeps an emptied row buffer for the next result (unless it grew large, or a roomier
    /// one is kept already).
    pub(crate) fn keep_rows(&mut self, rows: VecDeque<Row>) {
        debug_assert!(rows.is_empty(), "a kept row buffer is empty");
        let roomier = self
            .spare_rows
            .as_ref()
            .is_none_or(|spare| rows.capacity() > spare.capacity());
        if rows.capacity() <= SPARE_ROWS && roomier {
            self.spare_rows = Some(rows);
        }
    }

    /// The connection, the prepared statement for `sql` (prepared now if it is not kept),
    /// found with one look-up, and the kept row buffer (see [`LiveConnection::keep_rows`]).
    ///
    /// # Errors
    /// SQLite's error when the statement does not prepare.
    pub(crate) fn prepared(
        &mut self,
        sql: &str,
    ) -> Result<(
        &rusqlite::Connection,
        &mut Prepared,
        &mut Option<VecDeque<Row>>,
    )> {
        if self.statements.len() >= CAPACITY && !self.statements.contains_key(sql) {
            self.make_room();
        }
        let prepared = match self.statements.entry_ref(sql) {
            EntryRef::Occupied(entry) => entry.into_mut(),
            EntryRef::Vacant(entry) => entry.insert(prepare(&self.conn, sql)?),
        };
        Ok((&self.conn, prepared, &mut self.spare_rows))
    }

    /// Takes the prepared statement for `sql` out, for a caller that steps it across calls;
    /// [`LiveConnection::put_back`] returns it.
    ///
    /// # Errors
    /// SQLite's error when the statement does not prepare.
    pub(crate) fn take(&mut self, sql: &str) -> Result<(String, Prepared)> {
        match self.statements.remove_entry(sql) {
            Some(entry) => Ok(entry),
            None => Ok((sql.into(), prepare(&self.conn, sql)?)),
        }
    }

    /// Keeps a statement taken out with [`LiveConnection::take`] again, reset and with its
    /// parameters cleared.
    pub(crate) fn put_back(&mut self, sql: String, mut prepared: Prepared) {
        // A `Rows` resets its statement when dropped.
        drop(prepared.stmt.raw_query());
        prepared.stmt.clear_bindings();
        self.make_room();
        self.statements.insert(sql, prepared);
    }

    /// Finalizes one kept statement when the cache is full.
    fn make_room(&mut self) {
        if self.statements.len() >= CAPACITY {
            let mut first = true;
            self.statements.retain(|_, _| !std::mem::take(&mut first));
        }
    }
}

/// Prepares `sql` on the connection of a [`LiveConnection`] (`conn` is its field).
#[allow(unsafe_code)]
fn prepare(conn: &Rc<rusqlite::Connection>, sql: &str) -> Result<Prepared> {
    let stmt = conn.prepare(sql).map_err(from_rusqlite)?;
    // SAFETY: the statement borrows the connection in `conn`'s heap allocation, which lives
    // as long as the `LiveConnection` whose field `conn` is (the `Rc` is never cloned or
    // replaced). The statement is kept in that `LiveConnection`'s `statements`, or handed out
    // by `take` to a cursor that borrows the connection mutably, so it is finalized before
    // the connection is dropped, closed or lent out mutably (`conn_mut` and `into_conn`
    // finalize every kept statement first).
    let stmt = unsafe {
        std::mem::transmute::<rusqlite::Statement<'_>, rusqlite::Statement<'static>>(stmt)
    };
    Ok(Prepared {
        stmt,
        shape: None,
        reprepares: 0,
    })
}

/// The error for an `Rc` that is found shared, which this module never lets happen.
fn shared() -> Error {
    Error::new(
        ErrorKind::Internal,
        "the SQLite connection is shared with its statements; this is a bug in dbapi-sqlite, please report it",
    )
}
