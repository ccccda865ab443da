//! The main job on the embedded default, SQLite: a pool, a table, parameterised inserts,
//! rows read back through the `dbapi` traits, and what the pool did.
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
        .max_size(4)
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

    let stats = pool.stats();
    println!(
        "pool stats: {} open, {} idle, {} created in total, {} gets had to wait",
        stats.open, stats.idle, stats.created, stats.waited
    );
    Ok(())
}
