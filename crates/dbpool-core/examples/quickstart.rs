//! The main job on the embedded default, SQLite: a pool, a table, parameterised inserts,
//! rows read back through the `dbapi` traits, then eight threads sharing a pool of three
//! connections, and what the pool did.
//!
//! Run it: `cargo run --example quickstart`

use std::time::Duration;

use dbapi::{params, Connection, Cursor};
use dbapi_sqlite::Sqlite;
use dbpool_core::Pool;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One in-memory database shared by the pool's connections (a plain `:memory:` database
    // would be private to each connection).
    let pool = Pool::builder(Sqlite::shared_memory("quickstart"))
        .min_size(1)
        .max_size(3)
        .max_idle(Duration::from_secs(10))
        .build()?;
    println!("pool ready: {pool:?}");

    let mut conn = pool.get()?;
    conn.execute(
        "CREATE TABLE beers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, abv REAL)",
        &params![],
    )?;
    let mut cur = conn.cursor()?;
    cur.executemany(
        "INSERT INTO beers (name, abv) VALUES (?, ?)",
        &[
            params!["Coopers Pale Ale", 4.5],
            params!["Victoria Bitter", 4.9],
            params!["Little Creatures", 5.2],
        ],
    )?;
    println!(
        "inserted {} rows, last row id {:?}",
        cur.rowcount(),
        cur.lastrowid()
    );
    drop(cur);
    conn.commit()?;
    drop(conn); // back to the pool

    // Another checkout reuses the same connection: no new connect.
    let mut conn = pool.get()?;
    let mut cur = conn.cursor()?;
    cur.execute(
        "SELECT name, abv FROM beers WHERE abv > ? ORDER BY abv",
        &params![4.6],
    )?;
    let names: Vec<&str> = cur
        .description()
        .map(|cols| cols.iter().map(|c| &*c.name).collect())
        .unwrap_or_default();
    println!("columns: {names:?}");
    for row in cur.fetchall()? {
        println!(
            "  {:<18} {:.1}%",
            row.get::<String>("name")?,
            row.get::<f64>("abv")?
        );
    }
    drop(cur);
    drop(conn);

    // The pool at work: eight threads, 200 checkouts each, through at most `max_size`
    // connections; returned connections are reused, and waiters are served first come,
    // first served.
    let lookups = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                let pool = &pool;
                // One error type for pool and driver errors: `dbapi::Result`.
                scope.spawn(move || -> dbapi::Result<u64> {
                    let mut found = 0;
                    for i in 0..200_i64 {
                        let mut conn = pool.get()?;
                        let mut cur = conn.cursor()?;
                        cur.execute(
                            "SELECT count(*) FROM beers WHERE abv > ?",
                            &params![4.0 + ((worker + i) % 3) as f64 / 2.0],
                        )?;
                        found += u64::from(cur.fetchone()?.is_some());
                    }
                    Ok(found)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(dbapi::Error::operational("a worker panicked")))
            })
            .sum::<Result<u64, _>>()
    })?;
    println!("8 threads ran {lookups} lookups through the pool");

    let stats = pool.stats();
    println!(
        "pool stats: {} open (max_size {}), {} idle, {} created in total, {} of {} gets had to wait, {:?} waited in all",
        stats.open,
        pool.max_size(),
        stats.idle,
        stats.created,
        stats.waited,
        lookups + 2,
        stats.wait_time
    );
    // What the run shows, checked (CI runs this example): connections were reused, never
    // more than max_size of them.
    if stats.created > pool.max_size() as u64 || stats.open > pool.max_size() {
        return Err(format!("the pool opened more than max_size connections: {stats:?}").into());
    }
    Ok(())
}
