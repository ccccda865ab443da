//! Many application processes, one server: several OS processes, each with a pool of its
//! own with every connection checked out and running transactions, share one PgBouncer in
//! transaction mode — and the server sees no more sessions than PgBouncer's pool size,
//! counted on the server itself (`pg_stat_activity`) while all the processes' pools are busy.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use dbapi::{params, Connection, Cursor, Module, Value};
use dbapi_postgres::Postgres;
use dbpool_tests::env;

/// Application processes, and the pool size of each.
const PROCESSES: usize = 3;
const POOL_SIZE: usize = 4;

struct Worker {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bouncer_worker"))
            .args([url, &POOL_SIZE.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a worker process");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self { child, stdout }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("a line from the worker");
        line.trim().to_owned()
    }

    /// Closes its stdin (the signal to stop) and returns how many transactions it committed.
    fn finish(mut self) -> u64 {
        drop(self.child.stdin.take());
        let done = self.line();
        let status = self.child.wait().expect("wait for the worker");
        assert!(status.success(), "the worker failed: {status}");
        done.strip_prefix("done ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected last line {done:?}"))
    }
}

fn scalar<C: Connection>(conn: &mut C, sql: &str) -> i64 {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, &params![]).expect(sql);
    match cur.fetchone().expect("fetch").expect("a row")[0] {
        Value::Int(n) => n,
        ref other => panic!("{sql}: {other:?}"),
    }
}

#[test]
#[ignore = "needs PgBouncer: cargo xtask test"]
fn many_processes_share_pgbouncers_server_sessions() {
    let url = format!("{}&pgbouncer=true", env("DBPOOL_PGBOUNCER_URL"));
    let bouncer_pool: i64 = env("DBPOOL_PGBOUNCER_POOL_SIZE").parse().expect("a number");
    let mut server = Postgres::from_dsn(&env("DBPOOL_PG_ADMIN_URL"))
        .expect("admin DSN")
        .autocommit(true)
        .connect()
        .expect("the server itself");
    let mut workers: Vec<Worker> = (0..PROCESSES).map(|_| Worker::start(&url)).collect();
    for worker in &mut workers {
        assert_eq!(worker.line(), "busy", "every connection of its pool is out");
    }
    // Every process's pool is busy: 12 client sessions run transactions through PgBouncer.
    let mut most = 0;
    for _ in 0..50 {
        let sessions = scalar(
            &mut server,
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = 'dbpool_bouncer' AND backend_type = 'client backend'",
        );
        assert!(
            sessions <= bouncer_pool,
            "{sessions} server sessions for {} busy client connections: more than PgBouncer's {bouncer_pool}",
            PROCESSES * POOL_SIZE
        );
        most = most.max(sessions);
    }
    assert!(most >= 1, "the transactions ran on the server");
    let committed: Vec<u64> = workers.into_iter().map(Worker::finish).collect();
    println!(
        "{PROCESSES} processes x {POOL_SIZE} busy connections = {} client sessions; \
         at most {most} server sessions seen (PgBouncer's pool: {bouncer_pool}); \
         transactions committed per process: {committed:?}",
        PROCESSES * POOL_SIZE
    );
    assert!(
        committed.iter().all(|&n| n > 0),
        "every process committed transactions: {committed:?}"
    );
}
