//! One application process of the many-processes test (`tests/pgbouncer_processes.rs`): a
//! pool of its own, every connection of it checked out at once, each running transactions
//! through PgBouncer until the parent closes this process's stdin.
//!
//! Usage: `bouncer_worker URL POOL_SIZE`. Prints `busy` once every connection is out, and
//! `done N` (transactions committed) at the end.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Barrier;

use dbapi::{params, Connection, Cursor};
use dbapi_postgres::Postgres;
use dbpool_core::Pool;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: bouncer_worker URL POOL_SIZE");
    let size: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .expect("usage: bouncer_worker URL POOL_SIZE");
    let pool = Pool::builder(Postgres::from_dsn(&url).expect("valid URL").pgbouncer(true))
        .max_size(size)
        .build()
        .expect("pool");
    let all_out = Barrier::new(size + 1);
    let stop = AtomicBool::new(false);
    let committed = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..size {
            scope.spawn(|| {
                let mut conn = pool.get().expect("a connection through PgBouncer");
                all_out.wait();
                while !stop.load(SeqCst) {
                    let mut cur = conn.cursor().expect("cursor");
                    cur.execute("SELECT pg_sleep(0.005)", &params![])
                        .expect("a transaction's statement");
                    drop(cur);
                    conn.commit().expect("commit");
                    committed.fetch_add(1, SeqCst);
                }
            });
        }
        all_out.wait();
        assert_eq!(pool.stats().in_use, size, "every connection is out");
        println!("busy");
        // Runs until the parent closes stdin.
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        stop.store(true, SeqCst);
    });
    println!("done {}", committed.load(SeqCst));
}
