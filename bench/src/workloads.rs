//! W1–W5: the same workloads on dbpool, r2d2 (validation on and off) and, where it fits,
//! deadpool, in one process and one run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use dbapi::{params, Connection, Cursor, Module};
use dbapi_mysql::{mysql, mysql::prelude::Queryable, Mysql};
use dbapi_odbc::Odbc;
use dbapi_postgres::Postgres;
use dbapi_sqlite::Sqlite;
use dbpool_core::{AsyncPool, Fairness, Pool};

use crate::managers::{MysqlManager, PostgresManager, SqliteManager};
use crate::measure::{
    contended, contended_tasks, interleaved, interleaved_contended, timed, Contended, Round, Window,
};
use crate::noop::{NoopConnection, NoopManager, NoopModule};

/// How long and how often to measure.
#[derive(Clone, Copy)]
pub struct Effort {
    pub rounds: usize,
    pub iterations: u64,
    pub run: Duration,
}

impl Effort {
    pub fn quick() -> Self {
        Self {
            rounds: 3,
            iterations: 20_000,
            run: Duration::from_millis(40),
        }
    }
    pub fn full() -> Self {
        Self {
            rounds: 7,
            iterations: 1_000_000,
            run: Duration::from_millis(700),
        }
    }
}

/// One single-threaded figure.
pub struct Single {
    pub name: String,
    pub ns: f64,
}

/// One multi-threaded figure.
pub struct Multi {
    pub name: String,
    pub max_size: usize,
    pub threads: usize,
    pub result: Contended,
}

pub const DBPOOL: &str = "dbpool";
pub const DBPOOL_FIFO: &str = "dbpool (Fairness::Fifo)";
pub const R2D2_CHECK: &str = "r2d2 (test_on_check_out)";
pub const R2D2_NOCHECK: &str = "r2d2 (no check)";
/// W5's async callers as tasks on a multi-threaded runtime (the target's row).
pub const ASYNC_TASKS: &str = "dbpool async (AsyncPool, tokio tasks)";
/// W5's reference for the hand-off: each call of the sync pool in a task moved to tokio's
/// blocking threads (what deadpool's `SyncWrapper` does for a blocking driver).
pub const SPAWN_BLOCKING: &str = "dbpool sync pool via tokio spawn_blocking";
/// W5's async callers as OS threads each blocking on its own future.
pub const ASYNC_BLOCK_ON: &str = "dbpool async (AsyncPool, block_on per thread)";
pub const MUTEX_FLOOR: &str = "floor: Mutex<Vec> pop+push";
pub const QUEUE_FLOOR: &str = "floor: ArrayQueue pop+push";

fn noop_dbpool(max_size: usize) -> Pool<NoopModule> {
    Pool::builder(NoopModule)
        .max_size(max_size)
        .build()
        .expect("pool")
}

fn noop_r2d2(max_size: usize, check: bool) -> r2d2::Pool<NoopManager> {
    r2d2::Pool::builder()
        .max_size(max_size as u32)
        .test_on_check_out(check)
        .build(NoopManager)
        .expect("r2d2 pool")
}

/// W1: one thread, get + return, no-op driver.
pub fn w1_uncontended(effort: Effort) -> Vec<Single> {
    let (rounds, n) = (effort.rounds, effort.iterations);
    let dbpool = noop_dbpool(4);
    let r2d2_check = noop_r2d2(4, true);
    let r2d2_nocheck = noop_r2d2(4, false);
    let deadpool = deadpool::unmanaged::Pool::from(vec![NoopConnection, NoopConnection]);
    let mutex = Mutex::new(vec![NoopConnection, NoopConnection]);
    let queue = ArrayQueue::new(4);
    let _ = queue.push(NoopConnection);
    let contenders: Vec<(String, Round<'_>)> = vec![
        (
            DBPOOL.into(),
            Box::new(|n| timed(n, || drop(dbpool.get().expect("get")))),
        ),
        (
            R2D2_CHECK.into(),
            Box::new(|n| timed(n, || drop(r2d2_check.get().expect("get")))),
        ),
        (
            R2D2_NOCHECK.into(),
            Box::new(|n| timed(n, || drop(r2d2_nocheck.get().expect("get")))),
        ),
        (
            "deadpool unmanaged (try_get)".into(),
            Box::new(|n| timed(n, || drop(deadpool.try_get().expect("get")))),
        ),
        (
            MUTEX_FLOOR.into(),
            Box::new(|n| {
                timed(n, || {
                    let conn = mutex.lock().expect("lock").pop().expect("conn");
                    mutex.lock().expect("lock").push(std::hint::black_box(conn));
                })
            }),
        ),
        (
            QUEUE_FLOOR.into(),
            Box::new(|n| {
                timed(n, || {
                    let conn = queue.pop().expect("conn");
                    let _ = queue.push(std::hint::black_box(conn));
                })
            }),
        ),
    ];
    singles(interleaved(rounds, n, contenders))
}

fn singles(results: Vec<(String, f64)>) -> Vec<Single> {
    results
        .into_iter()
        .map(|(name, ns)| Single { name, ns })
        .collect()
}

pub const THREADS: [usize; 6] = [1, 2, 4, 8, 16, 32];

/// W2: 1–32 threads on pools of 4 and 16, get + return for a fixed time.
pub fn w2_contended(effort: Effort) -> Vec<Multi> {
    let mut out = Vec::new();
    for max_size in [4, 16] {
        for threads in THREADS {
            let eventual = noop_dbpool(max_size);
            let fifo = Pool::builder(NoopModule)
                .max_size(max_size)
                .fairness(Fairness::Fifo)
                .build()
                .expect("pool");
            let (r2d2_check, r2d2_nocheck) =
                (noop_r2d2(max_size, true), noop_r2d2(max_size, false));
            let contenders: Vec<(&str, Window<'_>)> = vec![
                (
                    DBPOOL,
                    Box::new(|run| {
                        contended(threads, run, || eventual.get().expect("get"), |_| {})
                    }),
                ),
                (
                    DBPOOL_FIFO,
                    Box::new(|run| contended(threads, run, || fifo.get().expect("get"), |_| {})),
                ),
                (
                    R2D2_CHECK,
                    Box::new(|run| {
                        contended(threads, run, || r2d2_check.get().expect("get"), |_| {})
                    }),
                ),
                (
                    R2D2_NOCHECK,
                    Box::new(|run| {
                        contended(threads, run, || r2d2_nocheck.get().expect("get"), |_| {})
                    }),
                ),
            ];
            // Three rounds, interleaved across the four contenders.
            for (name, result) in
                interleaved_contended(effort.rounds.min(3), effort.run, contenders)
            {
                out.push(Multi {
                    name: name.into(),
                    max_size,
                    threads,
                    result,
                });
            }
        }
    }
    out
}

fn sqlite_select_one(conn: &rusqlite::Connection) -> i64 {
    conn.prepare_cached("SELECT 1")
        .expect("prepare")
        .query_row([], |row| row.get(0))
        .expect("select")
}

/// W3: get + cached `SELECT 1` + return on in-memory SQLite.
pub fn w3_sqlite(effort: Effort) -> Vec<Single> {
    let (rounds, n) = (effort.rounds, effort.iterations / 4);
    let bare = rusqlite::Connection::open_in_memory().expect("sqlite");
    let dbpool = Pool::builder(Sqlite::memory())
        .max_size(1)
        .build()
        .expect("pool");
    let r2d2_check = r2d2::Pool::builder()
        .max_size(1)
        .build(SqliteManager)
        .expect("r2d2");
    let r2d2_nocheck = r2d2::Pool::builder()
        .max_size(1)
        .test_on_check_out(false)
        .build(SqliteManager)
        .expect("r2d2");
    let contenders: Vec<(String, Round<'_>)> = vec![
        (
            "floor: rusqlite, no pool".into(),
            Box::new(|n| {
                timed(n, || {
                    std::hint::black_box(sqlite_select_one(&bare));
                })
            }),
        ),
        (
            DBPOOL.into(),
            Box::new(|n| {
                timed(n, || {
                    let conn = dbpool.get().expect("get");
                    std::hint::black_box(sqlite_select_one(conn.native().expect("open")));
                })
            }),
        ),
        (
            "dbpool + dbapi cursor".into(),
            Box::new(|n| {
                timed(n, || {
                    let mut conn = dbpool.get().expect("get");
                    let mut cur = conn.cursor().expect("cursor");
                    cur.execute("SELECT 1", &params![]).expect("select");
                    std::hint::black_box(cur.fetchone().expect("fetch"));
                })
            }),
        ),
        (
            R2D2_CHECK.into(),
            Box::new(|n| {
                timed(n, || {
                    let conn = r2d2_check.get().expect("get");
                    std::hint::black_box(sqlite_select_one(&conn));
                })
            }),
        ),
        (
            R2D2_NOCHECK.into(),
            Box::new(|n| {
                timed(n, || {
                    let conn = r2d2_nocheck.get().expect("get");
                    std::hint::black_box(sqlite_select_one(&conn));
                })
            }),
        ),
    ];
    singles(interleaved(rounds, n, contenders))
}

fn select_one<C: Connection>(conn: &mut C) {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT 1", &params![]).expect("select");
    std::hint::black_box(cur.fetchone().expect("fetch"));
}

/// W4 (and W5) on PostgreSQL.
pub fn w4_postgres(effort: Effort, url: &str) -> Vec<Multi> {
    let module = Postgres::from_dsn(url)
        .expect("DBPOOL_PG_URL")
        .application_name("dbpool-bench");
    let r2d2_config: postgres::Config = url.parse().expect("postgres url");
    w4_server(
        effort,
        module.clone().autocommit(true),
        module,
        || PostgresManager(r2d2_config.clone()),
        |c| {
            std::hint::black_box(c.query_one("SELECT 1", &[]).expect("select"));
        },
    )
}

/// W4 rows for PostgreSQL through the ODBC adapter and psqlODBC: what the extra layer costs
/// next to the native adapter's rows.
pub fn w4_postgres_odbc(effort: Effort, connection_string: &str) -> Vec<Multi> {
    let module = Odbc::connection_string(connection_string)
        .expect("DBPOOL_ODBC_PG")
        .autocommit(true);
    [1, 16]
        .into_iter()
        .map(|threads| pooled_select_one("dbpool via ODBC (psqlODBC)", &module, threads, effort))
        .collect()
}

/// dbpool's W4 row: get + `SELECT 1` + return with `threads` callers on a pool of as many
/// connections, validating only after 500 ms idle.
fn pooled_select_one<M: Module + Clone>(
    name: &str,
    module: &M,
    threads: usize,
    effort: Effort,
) -> Multi {
    let max_size = threads.min(16);
    // Filled up front, as r2d2 fills its pools in `build()` (its `min_idle` defaults to
    // `max_size`): both are measured holding the same connections.
    let pool = Pool::builder(module.clone())
        .min_size(max_size)
        .max_size(max_size)
        .test_on_checkout(Duration::from_millis(500))
        .build()
        .expect("pool");
    Multi {
        name: name.into(),
        max_size,
        threads,
        result: contended(
            threads,
            effort.run,
            || pool.get().expect("get"),
            |c| select_one(&mut **c),
        ),
    }
}

/// W4 (and W5) on MariaDB, r2d2 over the same `mysql` crate version as the adapter.
pub fn w4_mariadb(effort: Effort, url: &str) -> Vec<Multi> {
    let module = Mysql::from_dsn(url)
        .expect("DBPOOL_MY_URL")
        .program_name("dbpool-bench");
    // Over TCP like the adapter: left to its default, the mysql crate reconnects to the
    // server's Unix socket when the address is a loopback one, which dbapi-mysql never does.
    let opts: mysql::Opts =
        mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url).expect("mysql url"))
            .prefer_socket(false)
            .into();
    w4_server(
        effort,
        module.clone().autocommit(true),
        module,
        || MysqlManager(opts.clone()),
        |c| {
            let one: Option<i64> = c.query_first("SELECT 1").expect("select");
            std::hint::black_box(one);
        },
    )
}

/// W4 (and W5): get + `SELECT 1` + return on a server, 1 and 16 threads: dbpool with
/// autocommit (`autocommit`) and with DB-API transactions (`transactional`), r2d2 over
/// the bare driver (`manager`, querying with `r2d2_select`), a connection per request, and
/// the async front-end.
fn w4_server<M, R>(
    effort: Effort,
    autocommit: M,
    transactional: M,
    manager: impl Fn() -> R,
    r2d2_select: fn(&mut R::Connection),
) -> Vec<Multi>
where
    M: Module + Clone,
    R: r2d2::ManageConnection,
{
    let mut out = Vec::new();
    let mut per_request = Vec::new();
    for threads in [1, 16] {
        let max_size = threads.min(16);
        // Every pool is filled up front, as r2d2 fills its pools in `build()` (its
        // `min_idle` defaults to `max_size`): all are measured holding the same connections.
        let filled = |module: &M| {
            Pool::builder(module.clone())
                .min_size(max_size)
                .max_size(max_size)
        };
        let validating = filled(&autocommit)
            .test_on_checkout(Duration::from_millis(500))
            .build()
            .expect("pool");
        let dbapi_default = filled(&transactional).build().expect("pool");
        let r2d2_pool = |check: bool| {
            r2d2::Pool::builder()
                .max_size(max_size as u32)
                .test_on_check_out(check)
                .build(manager())
                .expect("r2d2")
        };
        let (r2d2_check, r2d2_nocheck) = (r2d2_pool(true), r2d2_pool(false));
        let async_pool = AsyncPool::new(filled(&autocommit).build().expect("pool"));
        let contenders: Vec<(&str, Window<'_>)> = vec![
            (
                DBPOOL,
                Box::new(|run| {
                    contended(
                        threads,
                        run,
                        || validating.get().expect("get"),
                        |c| select_one(&mut **c),
                    )
                }),
            ),
            (
                "dbpool (DB-API transactions, rolled back on return)",
                Box::new(|run| {
                    contended(
                        threads,
                        run,
                        || dbapi_default.get().expect("get"),
                        |c| select_one(&mut **c),
                    )
                }),
            ),
            (
                R2D2_CHECK,
                Box::new(|run| {
                    contended(
                        threads,
                        run,
                        || r2d2_check.get().expect("get"),
                        |c| r2d2_select(c),
                    )
                }),
            ),
            (
                R2D2_NOCHECK,
                Box::new(|run| {
                    contended(
                        threads,
                        run,
                        || r2d2_nocheck.get().expect("get"),
                        |c| r2d2_select(c),
                    )
                }),
            ),
            (
                ASYNC_TASKS,
                Box::new(|run| {
                    let pool = async_pool.clone();
                    contended_tasks(threads, run, move || {
                        let pool = pool.clone();
                        async move {
                            let t0 = Instant::now();
                            let mut conn = pool.get().await.expect("get");
                            let got = t0.elapsed();
                            conn.query("SELECT 1", params![]).await.expect("select");
                            got
                        }
                    })
                }),
            ),
            (
                SPAWN_BLOCKING,
                Box::new(|run| {
                    let pool = validating.clone();
                    contended_tasks(threads, run, move || {
                        let pool = pool.clone();
                        async move {
                            tokio::task::spawn_blocking(move || {
                                let t0 = Instant::now();
                                let mut conn = pool.get().expect("get");
                                let got = t0.elapsed();
                                select_one(&mut *conn);
                                got
                            })
                            .await
                            .expect("blocking task")
                        }
                    })
                }),
            ),
            (
                ASYNC_BLOCK_ON,
                Box::new(|run| {
                    contended(
                        threads,
                        run,
                        || futures::executor::block_on(async_pool.get()).expect("get"),
                        |c| {
                            futures::executor::block_on(c.query("SELECT 1", params![]))
                                .expect("select");
                        },
                    )
                }),
            ),
        ];
        for (name, result) in interleaved_contended(effort.rounds.min(5), effort.run, contenders) {
            out.push(Multi {
                name: name.into(),
                max_size,
                threads,
                result,
            });
        }
        per_request.push(threads);
    }
    // Last: its hundreds of sessions are still ending on the server when it stops, and
    // would slow whatever ran next.
    for threads in per_request {
        let max_size = threads.min(16);
        out.push(Multi {
            name: "connection per request".into(),
            max_size,
            threads,
            result: contended(
                threads,
                effort.run,
                || autocommit.connect().expect("connect"),
                select_one,
            ),
        });
    }
    out
}
