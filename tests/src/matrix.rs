//! The pool behaviour matrix, written once over [`Backend`]: every claim about the pool,
//! counted on the server side. [`pool_matrix!`](crate::pool_matrix) instantiates it as
//! `#[test]`s for one backend.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use dbapi::{params, Connection, Cursor, ErrorKind, Module, Value};
use dbpool_core::{AsyncPool, CloseReason, Pool, PoolError, SteadyConnection};

use crate::{assert_returns_immediately, scalar, wait_until, Backend, PATIENCE};

/// A tag unique to this test process.
#[must_use]
pub fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// Under 32 threads the server never sees more than `max_size` connections of the pool, and
/// the pool's own count matches the server's.
pub fn max_size_is_honoured_on_the_server_under_32_threads<B: Backend>() {
    let tag = unique("mx-max-size");
    let pool = Pool::builder(B::module(&tag))
        .max_size(4)
        .build()
        .expect("pool");
    let start = Arc::new(Barrier::new(32));
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let (pool, start, tag) = (pool.clone(), Arc::clone(&start), tag.clone());
            thread::spawn(move || {
                start.wait();
                let mut most = 0;
                for _ in 0..25 {
                    let mut conn = pool.get().expect("get");
                    most = most.max(B::sessions(&mut *conn, &tag));
                }
                most
            })
        })
        .collect();
    let most = handles
        .into_iter()
        .map(|h| h.join().expect("worker"))
        .max()
        .unwrap_or(0);
    assert!(
        most <= 4,
        "the server saw {most} connections from a pool of 4"
    );
    assert!(most >= 1);
    let mut obs = B::observer();
    assert_eq!(pool.size() as i64, B::sessions(&mut obs, &tag));
}

/// A returned connection comes back to the next user (the same server session), with the
/// last user's uncommitted work rolled back.
pub fn connections_are_reused_and_clean_after_put<B: Backend>() {
    let tag = unique("mx-reuse");
    let pool = Pool::builder(B::module(&tag))
        .max_size(1)
        .build()
        .expect("pool");
    let table = format!("matrix_reuse_{}", std::process::id());
    let id = {
        let mut conn = pool.get().expect("get");
        conn.execute(&format!("CREATE TABLE {table} (x int)"), &params![])
            .expect("create");
        conn.commit().expect("commit");
        for i in 0..10 {
            conn.execute(&format!("INSERT INTO {table} VALUES ({i})"), &params![])
                .expect("insert");
        }
        assert_eq!(conn.in_transaction(), Some(true));
        B::session_id(&mut *conn)
    };
    let mut conn = pool.get().expect("again");
    assert_eq!(conn.in_transaction(), Some(false), "returned clean");
    assert_eq!(B::session_id(&mut *conn), id, "the same session came back");
    let count = scalar(
        &mut *conn,
        &format!("SELECT count(*) FROM {table}"),
        &params![],
    );
    assert_eq!(count, 0, "uncommitted inserts were rolled back on return");
    conn.execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
    conn.commit().expect("commit");
    assert_eq!(pool.stats().created, 1);
}

/// A session ended by the server while idle in the pool fails its next use as a disconnect,
/// is evicted, and the next `get()` works; with validation on checkout the user never sees it.
pub fn a_session_killed_while_idle_is_evicted<B: Backend>() {
    let tag = unique("mx-kill-idle");
    let pool = Pool::builder(B::module(&tag))
        .max_size(2)
        .build()
        .expect("pool");
    let id = B::session_id(&mut *pool.get().expect("get"));
    let mut obs = B::observer();
    B::kill(&mut obs, id);
    {
        // The pool cannot know before using it; the first use fails as a disconnect...
        let mut conn = pool.get().expect("get the dead one");
        let err = conn
            .execute("SELECT 1", &params![])
            .expect_err("dead session");
        assert!(err.is_disconnect(), "{err}");
        assert_eq!(err.kind(), ErrorKind::Operational);
    }
    // ...which evicts it, and the next get() works.
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    let mut conn = pool.get().expect("a new connection");
    assert_ne!(B::session_id(&mut *conn), id);
    drop(conn);

    // With validation on checkout, the dead connection is replaced before the user sees it.
    let validated = Pool::builder(B::module(&tag))
        .max_size(1)
        .test_on_checkout(Duration::ZERO)
        .build()
        .expect("pool");
    let id = B::session_id(&mut *validated.get().expect("get"));
    B::kill(&mut obs, id);
    let mut conn = validated.get().expect("replaced transparently");
    assert_ne!(B::session_id(&mut *conn), id);
}

/// A session the server ended while it was checked out, returned dirty without another
/// use: the rollback on return finds it over — a pipelined one reads the server's last
/// words before the return ends — so it is closed, never handed to the next user.
/// `module` opens the tag's connections (a pipelining adapter's, where that differs).
pub fn a_session_ended_before_a_dirty_return_is_not_reused<B: Backend>(
    module: impl FnOnce(&str) -> B::Module,
) {
    let tag = unique("mx-ended-dirty");
    let pool = Pool::builder(module(&tag))
        .max_size(1)
        .build()
        .expect("pool");
    let mut observer = B::observer();
    let mut conn = pool.get().expect("get");
    conn.execute("SELECT 1", &params![])
        .expect("opens a transaction");
    let id = B::session_id(&mut *conn);
    B::kill(&mut observer, id);
    drop(conn);
    assert_eq!(pool.stats().closed(CloseReason::CleanupFailed), 1);
    assert_eq!(pool.size(), 0, "no slot leaked");
    let mut conn = pool.get().expect("a new connection");
    assert_ne!(B::session_id(&mut *conn), id);
    assert_eq!(B::sessions(&mut observer, &tag), 1);
}

/// A session ended by the server while checked out fails as a disconnect, its slot is
/// freed, and the server holds exactly the one replacement afterwards.
pub fn a_session_killed_while_checked_out_is_evicted<B: Backend>() {
    let tag = unique("mx-kill-out");
    let pool = Pool::builder(B::module(&tag))
        .max_size(1)
        .build()
        .expect("pool");
    let mut obs = B::observer();
    let old_id;
    {
        let mut conn = pool.get().expect("get");
        old_id = B::session_id(&mut *conn);
        B::kill(&mut obs, old_id);
        let mut cur = conn.cursor().expect("cursor");
        let err = cur.execute("SELECT 1", &params![]).expect_err("killed");
        assert!(err.is_disconnect(), "{err}");
    }
    assert_eq!(pool.stats().closed(CloseReason::Broken), 1);
    assert_eq!(pool.size(), 0, "no slot leaked");
    let mut conn = pool.get().expect("next get works");
    assert_ne!(B::session_id(&mut *conn), old_id);
    assert_eq!(B::sessions(&mut obs, &tag), 1);
}

/// A pooled connection's cursor passes `set_streaming` on to the driver's: where the driver
/// streams, the pooled cursor streams too (`rowcount` unknown until the rows are read, every
/// row in order); where it cannot, the pooled cursor answers NotSupported as the driver does.
pub fn a_pooled_cursor_streams_as_the_driver_does<B: Backend>() {
    let module = B::module("matrix_streaming");
    let direct = {
        let mut conn = module.connect().expect("connect");
        let mut cur = conn.cursor().expect("cursor");
        cur.set_streaming(true).map_err(|e| e.kind())
    };
    let pool = Pool::builder(module).max_size(1).build().expect("pool");
    let mut conn = pool.get().expect("get");
    let mut cur = conn.cursor().expect("cursor");
    let pooled = cur.set_streaming(true).map_err(|e| e.kind());
    assert_eq!(pooled, direct, "the pool passes the driver's answer on");
    if pooled.is_ok() {
        cur.execute(
            "SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3",
            &params![],
        )
        .expect("query");
        assert_eq!(
            cur.rowcount(),
            -1,
            "streaming: unknown until the rows are read"
        );
        let rows: Vec<i64> = cur
            .fetchall()
            .expect("fetch")
            .iter()
            .map(|row| row.get::<i64>(0).expect("an integer"))
            .collect();
        assert_eq!(rows, [1, 2, 3]);
        assert_eq!(cur.rowcount(), 3);
    }
}

/// A wrong password is the server's authentication error at once (no retrying until the
/// wait timeout), with the password redacted.
pub fn a_wrong_password_fails_at_once_with_an_authentication_error<B: Backend>() {
    let pool = Pool::builder(B::with_password("NotThePassword99"))
        .connect_timeout(Duration::from_secs(30))
        .wait_timeout(Duration::from_secs(30))
        .build()
        .expect("pool");
    let err = pool.get().expect_err("wrong password");
    match &err {
        PoolError::Connect { source, .. } => B::assert_authentication_error(source),
        other => panic!("expected an authentication error, got {other}"),
    }
    assert!(!err.to_string().contains("NotThePassword99"), "{err}");
    assert!(err.to_string().contains("***"), "{err}");
    assert_eq!(pool.size(), 0);
}

/// Nothing listening: a clear Operational connect error, well within the connect timeout.
pub fn a_closed_port_fails_within_connect_timeout<B: Backend>() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }; // closed again: nothing listens there now
    let timeout = Duration::from_secs(5);
    let pool = Pool::builder(B::at_port(port))
        .connect_timeout(timeout)
        .build()
        .expect("pool");
    let started = Instant::now();
    let err = pool.get().expect_err("nothing listens");
    assert!(started.elapsed() < timeout, "took {:?}", started.elapsed());
    assert!(
        matches!(&err, PoolError::Connect { source, .. } if source.kind() == ErrorKind::Operational),
        "{err}"
    );
    assert_eq!(pool.size(), 0);
}

/// A listener that accepts and never answers: `ConnectTimeout`. The late attempt keeps its
/// slot (so the server never sees more than `max_size`) until it ends: by the driver's own
/// handshake timeout where it has one, or else when the listener hangs up.
pub fn a_silent_listener_gives_connect_timeout<B: Backend>() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (hang_up, hung_up) = std::sync::mpsc::channel::<()>();
    // Accept one connection and never answer it, until told to hang up.
    let silent = thread::spawn(move || {
        let held = listener.accept();
        let _ = hung_up.recv();
        drop(held);
    });
    let pool = Pool::builder(B::at_port(port))
        .max_size(1)
        .connect_timeout(Duration::from_millis(500))
        .build()
        .expect("pool");
    let err = pool.get().expect_err("never answers");
    assert!(err.is_connect_timeout(), "{err}");
    let slot_freed = || wait_until("the late connect gives its slot back", || pool.size() == 0);
    if B::BOUNDED_HANDSHAKE {
        slot_freed();
    }
    hang_up.send(()).expect("the listener is waiting");
    silent.join().expect("listener");
    slot_freed();
    assert_eq!(pool.stats().in_use, 0);
}

/// The seed's `test_returns_immediately`: a slow query through [`AsyncPool`] leaves the
/// executor free, under whatever executor `block_on` is.
pub fn returns_immediately<B: Backend>(block_on: impl FnOnce(&AsyncPool<B::Module>) -> Value) {
    let pool = AsyncPool::new(
        Pool::builder(B::module(&unique("mx-async")))
            .max_size(2)
            .build()
            .expect("pool"),
    );
    assert_eq!(block_on(&pool), Value::Int(42));
}

/// The slow query of [`returns_immediately`], awaited.
pub async fn slow_42<B: Backend>(pool: &AsyncPool<B::Module>) -> Value {
    assert_returns_immediately(pool, B::SLOW_42).await
}

/// The sync and async front-ends share one pool: a connection returned by one is reused by
/// the other.
pub fn async_and_sync_share_one_pool_on_the_server<B: Backend>() {
    let pool = AsyncPool::new(
        Pool::builder(B::module(&unique("mx-async-shared")))
            .max_size(2)
            .build()
            .expect("pool"),
    );
    let sync_id = B::session_id(&mut *pool.pool().get().expect("sync get"));
    let async_id = futures::executor::block_on(async {
        let mut conn = pool.get().await.expect("async get");
        conn.query_one(B::SESSION_ID, params![])
            .await
            .expect("session id")
            .expect("row")
            .get::<i64>(0)
            .expect("int")
    });
    assert_eq!(
        sync_id, async_id,
        "the idle connection was reused across front-ends"
    );
}

/// DBUtils' `maxshared` on the server: 16 threads share 2 connections (the server sees 2),
/// and no statement of another thread lands inside a transaction — a row one thread leaves
/// uncommitted ('open') is never visible to another thread's transaction.
pub fn sixteen_threads_share_two_connections_without_interleaving<B: Backend>() {
    let tag = unique("mx-shared");
    let table = format!("matrix_shared_{}", std::process::id());
    let mut observer = B::observer();
    observer
        .execute(
            &format!("CREATE TABLE {table} (id int PRIMARY KEY, owner int, state varchar(8))"),
            &params![],
        )
        .expect("create");
    observer.commit().expect("commit");
    let pool = Pool::builder(B::module(&tag))
        .max_size(4)
        .max_shared(2)
        .build()
        .expect("pool");
    let holding = Arc::new(Barrier::new(17));
    let go = Arc::new(Barrier::new(17));
    let workers: Vec<_> = (1..=16_i64)
        .map(|me| {
            let (pool, holding, go, table) = (
                pool.clone(),
                Arc::clone(&holding),
                Arc::clone(&go),
                table.clone(),
            );
            thread::spawn(move || {
                let shared = pool.get_shared().expect("shared");
                holding.wait();
                go.wait();
                for i in 0..10 {
                    let id = me * 100 + i;
                    let mut tx = shared.begin().expect("begin");
                    tx.execute(
                        &format!("INSERT INTO {table} VALUES (?, ?, 'open')"),
                        &params![id, me],
                    )
                    .expect("insert");
                    let others = scalar(
                        &mut *tx,
                        &format!(
                            "SELECT count(*) FROM {table} WHERE state = 'open' AND owner <> ?"
                        ),
                        &params![me],
                    );
                    assert_eq!(
                        others, 0,
                        "another thread's statement ran inside this transaction"
                    );
                    tx.execute(
                        // By primary key: InnoDB locks that row only.
                        &format!("UPDATE {table} SET state = 'done' WHERE id = ?"),
                        &params![id],
                    )
                    .expect("update");
                    tx.commit().expect("commit");
                }
            })
        })
        .collect();
    holding.wait();
    assert_eq!(
        B::sessions(&mut observer, &tag),
        2,
        "16 handles on 2 server connections"
    );
    assert_eq!(pool.size(), 2);
    go.wait();
    for worker in workers {
        worker.join().expect("worker");
    }
    let done = scalar(
        &mut observer,
        &format!("SELECT count(*) FROM {table} WHERE state = 'done'"),
        &params![],
    );
    assert_eq!(done, 160, "every transaction committed");
    observer
        .execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
    observer.commit().expect("commit");
    assert_eq!(
        pool.stats().idle,
        2,
        "the last handles returned both connections"
    );
}

/// SteadyDB's safe retry on the server: a session ended while idle between transactions is
/// replaced before the next statement is sent (the caller sees nothing); one ended inside a
/// transaction is never replaced silently — calls fail until `rollback()`.
pub fn steady_connection_retries_only_what_was_not_sent<B: Backend>() {
    let tag = unique("mx-steady");
    let mut observer = B::observer();
    let mut db = SteadyConnection::new(B::module_checking_every_use(&tag)).expect("connect");
    db.execute("SELECT 1", &params![]).expect("first");
    db.commit().expect("commit");
    let first = B::session_id(&mut db);
    db.commit().expect("commit");
    B::kill(&mut observer, first);
    db.execute("SELECT 1", &params![])
        .expect("the ended session was replaced before sending");
    assert_eq!(db.reconnects(), 1);
    let second = B::session_id(&mut db);
    assert_ne!(first, second, "a new session");
    // Inside a transaction (the DB-API opened one with the last statement): no retry.
    assert_eq!(db.in_transaction(), Some(true));
    B::kill(&mut observer, second);
    let err = db
        .execute("SELECT 1", &params![])
        .expect_err("the transaction is lost");
    assert!(err.is_disconnect(), "{err}");
    assert_eq!(db.reconnects(), 1, "not replaced inside a transaction");
    assert!(db.commit().is_err(), "a lost transaction cannot commit");
    db.rollback().expect("acknowledges the loss and reconnects");
    db.execute("SELECT 1", &params![]).expect("works again");
    assert_eq!(db.reconnects(), 2);
    assert_eq!(
        B::sessions(&mut observer, &tag),
        1,
        "the dead sessions are gone"
    );
}

/// A commit cut off by a lost connection says its outcome is unknown (the server ended the
/// session between the last statement and the commit), and the transaction is not there.
pub fn a_commit_cut_off_by_a_lost_connection_has_an_unknown_outcome<B: Backend>() {
    let tag = unique("mx-commit-lost");
    let table = format!("matrix_commit_lost_{}", std::process::id());
    let mut observer = B::observer();
    observer
        .execute(&format!("CREATE TABLE {table} (x int)"), &params![])
        .expect("create");
    observer.commit().expect("commit");
    let pool = Pool::builder(B::module(&tag))
        .max_size(1)
        .build()
        .expect("pool");
    let mut conn = pool.get().expect("get");
    conn.execute(&format!("INSERT INTO {table} VALUES (1)"), &params![])
        .expect("insert");
    let id = B::session_id(&mut *conn);
    B::kill(&mut observer, id);
    let err = conn.commit().expect_err("the session is gone");
    assert!(err.is_disconnect(), "{err}");
    assert!(err.is_outcome_unknown(), "{err}");
    drop(conn);
    let rows = scalar(
        &mut observer,
        &format!("SELECT count(*) FROM {table}"),
        &params![],
    );
    assert_eq!(rows, 0, "here the transaction did not commit");
    observer
        .execute(&format!("DROP TABLE {table}"), &params![])
        .expect("drop");
    observer.commit().expect("commit");
    let mut again = pool.get().expect("a new connection");
    assert_ne!(B::session_id(&mut *again), id);
}

/// Soft eviction on the server: after `evict_all()`, no session opened before it is handed
/// out again (session ids compared); the idle ones are gone from the server at once and the
/// checked-out one when it comes back.
pub fn evict_all_replaces_every_session<B: Backend>() {
    let tag = unique("mx-evict");
    let pool = Pool::builder(B::module(&tag))
        .max_size(3)
        .build()
        .expect("pool");
    let mut held: Vec<_> = (0..3).map(|_| pool.get().expect("get")).collect();
    let old: Vec<i64> = held.iter_mut().map(|c| B::session_id(&mut **c)).collect();
    let kept = held.pop().expect("one stays out");
    drop(held);
    pool.evict_all();
    let mut observer = B::observer();
    wait_until("the idle sessions are closed", || {
        B::sessions(&mut observer, &tag) <= 1
    });
    let mut fresh: Vec<_> = (0..2).map(|_| pool.get().expect("get")).collect();
    for conn in &mut fresh {
        let id = B::session_id(&mut **conn);
        assert!(
            !old.contains(&id),
            "session {id} was opened before evict_all"
        );
    }
    drop(kept);
    drop(fresh);
    for _ in 0..6 {
        let mut conn = pool.get().expect("get");
        let id = B::session_id(&mut *conn);
        assert!(
            !old.contains(&id),
            "session {id} was opened before evict_all"
        );
    }
    assert_eq!(pool.stats().closed_evicted, 3);
    assert_eq!(B::sessions(&mut observer, &tag), pool.size() as i64);
}

/// The server restarted under 16 threads: every failure is a clear Operational error, every
/// thread recovers by itself, and no slot or server connection leaks. Run it in a test
/// binary of its own, so no other test sees the server go down.
pub fn the_pool_recovers_by_itself_from_a_server_restart<B: Backend>() {
    let tag = unique("mx-restart");
    let max_size = 4;
    let pool = Pool::builder(B::module(&tag))
        .max_size(max_size)
        .connect_timeout(Duration::from_secs(5))
        .wait_timeout(Duration::from_secs(30))
        .build()
        .expect("pool");
    let threads = 16;
    let started = Arc::new(Barrier::new(threads + 1));
    let restarted = Arc::new(AtomicBool::new(false));
    let recovered = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (pool, started) = (pool.clone(), Arc::clone(&started));
            let (restarted, recovered) = (Arc::clone(&restarted), Arc::clone(&recovered));
            thread::spawn(move || {
                let mut successes_after = 0;
                let mut failures = 0;
                let mut first = true;
                let deadline = Instant::now() + PATIENCE * 2;
                while successes_after < 20 {
                    assert!(Instant::now() < deadline, "never recovered");
                    let result = pool
                        .get()
                        .map_err(dbapi::Error::from)
                        .and_then(|mut conn| conn.execute("SELECT 1", &params![]).map(|_| ()));
                    if first {
                        first = false;
                        started.wait();
                    }
                    match result {
                        Ok(()) if restarted.load(SeqCst) => successes_after += 1,
                        Ok(()) => {}
                        Err(err) => {
                            failures += 1;
                            assert_eq!(
                                err.kind(),
                                ErrorKind::Operational,
                                "every failure is a clear Operational error: {err}"
                            );
                        }
                    }
                }
                recovered.fetch_add(1, SeqCst);
                failures
            })
        })
        .collect();
    started.wait();
    B::restart();
    restarted.store(true, SeqCst);
    let failures: usize = handles.into_iter().map(|h| h.join().expect("worker")).sum();
    assert_eq!(recovered.load(SeqCst), threads);
    let mut obs = B::observer();
    let on_server = B::sessions(&mut obs, &tag);
    assert!(
        on_server <= max_size as i64,
        "{on_server} connections on the server"
    );
    assert_eq!(
        on_server,
        pool.size() as i64,
        "the pool counts what the server has"
    );
    assert_eq!(pool.waiting(), 0);
    let stats = pool.stats();
    assert_eq!(stats.in_use, 0, "no slot leaked: {stats:?}");
    eprintln!("restart: {failures} calls failed cleanly, stats {stats:?}");
}

/// Instantiates the matrix for one backend as `#[test]`s, ignored under plain `cargo test`
/// with the given reason (`cargo xtask test` runs them with `--include-ignored`). The
/// restart scenario is left out: it belongs in a test binary of its own.
#[macro_export]
macro_rules! pool_matrix {
    ($backend:ty, $needs:literal) => {
        $crate::pool_matrix!(@tests $backend, $needs;
            max_size_is_honoured_on_the_server_under_32_threads,
            connections_are_reused_and_clean_after_put,
            a_session_killed_while_idle_is_evicted,
            a_session_killed_while_checked_out_is_evicted,
            a_wrong_password_fails_at_once_with_an_authentication_error,
            a_closed_port_fails_within_connect_timeout,
            a_silent_listener_gives_connect_timeout,
            async_and_sync_share_one_pool_on_the_server,
            sixteen_threads_share_two_connections_without_interleaving,
            steady_connection_retries_only_what_was_not_sent,
            a_commit_cut_off_by_a_lost_connection_has_an_unknown_outcome,
            evict_all_replaces_every_session,
            a_pooled_cursor_streams_as_the_driver_does,
        );

        #[test]
        #[ignore = $needs]
        fn returns_immediately_under_tokio_current_thread() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
                .expect("runtime");
            $crate::matrix::returns_immediately::<$backend>(|pool| {
                runtime.block_on($crate::matrix::slow_42::<$backend>(pool))
            });
        }

        #[test]
        #[ignore = $needs]
        fn returns_immediately_under_futures_executor() {
            $crate::matrix::returns_immediately::<$backend>(|pool| {
                futures::executor::block_on($crate::matrix::slow_42::<$backend>(pool))
            });
        }
    };
    (@tests $backend:ty, $needs:literal; $($name:ident),* $(,)?) => {
        $(
            #[test]
            #[ignore = $needs]
            fn $name() {
                $crate::matrix::$name::<$backend>();
            }
        )*
    };
}
