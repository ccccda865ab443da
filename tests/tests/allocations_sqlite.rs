//! What a statement seen before costs in heap allocations on SQLite, bare and through the
//! pool: the rows it returns (one block each for the values of a row of more than one, and
//! one per text or blob value; a row of one value is kept in the row itself) and nothing
//! else — no column names, declared types, statement or row buffer built again, and
//! nothing for the get and the return. Counted by a global allocator, on each test's own
//! thread only.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dbapi::{params, Connection, Cursor, Module};
use dbapi_sqlite::Sqlite;
use dbpool_core::Pool;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread's storage may already be gone while the thread exits.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting touches only
// a thread-local `Cell`, which allocates nothing.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc`, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations made on this thread by `f`.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A new cursor, the statement run and its rows fetched one by one.
fn run<C: Connection>(conn: &mut C, sql: &str) {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, &params![]).expect("execute");
    while let Some(row) = cur.fetchone().expect("fetch") {
        std::hint::black_box(row);
    }
}

/// The statements, and the allocations their rows need: one per row of more than one value,
/// and one per text or blob value.
const STATEMENTS: [(&str, u64); 5] = [
    // A row of one value: nothing.
    ("SELECT 1", 0),
    // Its text only.
    ("SELECT c FROM t WHERE a = 1", 1),
    // Two rows of four values; the first has a text and a blob.
    ("SELECT a, b, c, d FROM t ORDER BY a", 2 + 2),
    ("SELECT a, b FROM t ORDER BY a", 2),
    ("SELECT a FROM t WHERE a > 5", 0),
];

fn fill<C: Connection>(conn: &mut C) {
    conn.execute(
        "CREATE TABLE t (a INTEGER, b REAL, c TEXT, d BLOB)",
        &params![],
    )
    .expect("create");
    conn.execute(
        "INSERT INTO t VALUES (1, 2.5, 'x', x'00'), (2, 3.5, NULL, NULL)",
        &params![],
    )
    .expect("insert");
    conn.commit().expect("commit");
}

#[test]
fn a_statement_seen_before_allocates_only_its_rows() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    fill(&mut conn);
    for (sql, rows) in STATEMENTS {
        run(&mut conn, sql);
        let made = allocations(|| (0..100).for_each(|_| run(&mut conn, sql)));
        assert_eq!(
            made,
            100 * rows,
            "{sql}: only what its rows need, nothing else"
        );
    }
}

#[test]
fn a_pooled_get_statement_and_return_allocate_only_the_rows() {
    let pool = Pool::builder(Sqlite::memory())
        .max_size(1)
        .build()
        .expect("pool");
    fill(&mut *pool.get().expect("get"));
    for (sql, rows) in STATEMENTS {
        run(&mut *pool.get().expect("get"), sql);
        let made = allocations(|| {
            (0..100).for_each(|_| run(&mut *pool.get().expect("get"), sql));
        });
        assert_eq!(
            made,
            100 * rows,
            "{sql}: only what its rows need, nothing else"
        );
    }
}
