//! Opening a connection within `connect_timeout`, even when the driver hangs.
//!
//! With a timeout, the driver's `connect` runs on a helper thread. If it is late, the caller
//! gets `ConnectTimeout` and the helper keeps the slot: when the connection finally arrives
//! it is closed and only then is the slot freed, so the pool never has more than `max_size`
//! connections open on the server, even for a moment.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbapi::{Connection, Error, Module, Params};
use parking_lot::{Condvar, Mutex};

/// The outcome of one attempt, as the helper thread reports it.
enum Handoff<C> {
    Pending,
    Done(dbapi::Result<C>),
    Abandoned,
}

struct Rendezvous<C> {
    state: Mutex<Handoff<C>>,
    ready: Condvar,
}

/// What the pool gets back from [`connect`].
pub(crate) enum Connected<C> {
    /// A new connection.
    Ok(C),
    /// The driver failed (or panicked); the caller frees the slot.
    Failed(Error),
    /// Too late: the helper thread owns the slot now and will free it.
    TimedOut,
}

/// Calls the driver, turning a panic into an error, and runs the pool's init statements.
pub(crate) fn connect_now<M: Module>(
    module: &M,
    timeout: Option<Duration>,
    init_sql: &[String],
) -> dbapi::Result<M::Connection> {
    let attempt = catch_unwind(AssertUnwindSafe(|| match timeout {
        Some(timeout) => module.connect_with_timeout(timeout),
        None => module.connect(),
    }));
    let mut conn = attempt.unwrap_or_else(|_| {
        Err(Error::operational(
            "the driver panicked while connecting; see the panic message above",
        ))
    })?;
    for sql in init_sql {
        if let Err(err) = conn.execute(sql, &Params::None) {
            let _ = conn.close();
            return Err(Error::new(
                err.kind(),
                format!(
                    "init_sql {sql:?} failed on a new connection: {}",
                    err.message()
                ),
            )
            .with_source(err));
        }
    }
    if !init_sql.is_empty() {
        // Session setup is part of the connection, not of the first user's transaction.
        if let Err(err) = conn.commit() {
            let _ = conn.close();
            return Err(err);
        }
    }
    Ok(conn)
}

/// The bound given to the driver's own connect: a quarter longer than the pool waits, so a
/// server that never answers is reported by the pool's deadline (`ConnectTimeout`), not by
/// whichever of two equal deadlines happens to fire first; the driver's bound then ends the
/// late attempt, and frees its slot, soon after.
fn driver_bound(timeout: Duration) -> Duration {
    timeout.saturating_add(timeout / 4)
}

/// Opens a connection for a reserved slot. `late` runs on the helper thread when a
/// timed-out attempt finishes: it must close the connection (if any) and free the slot.
pub(crate) fn connect<M, F>(
    module: Arc<M>,
    timeout: Option<Duration>,
    init_sql: Arc<[String]>,
    late: F,
) -> Connected<M::Connection>
where
    M: Module,
    F: FnOnce(Option<M::Connection>) + Send + 'static,
{
    let Some(timeout) = timeout else {
        return match connect_now(&*module, None, &init_sql) {
            Ok(conn) => Connected::Ok(conn),
            Err(err) => Connected::Failed(err),
        };
    };
    let rendezvous = Arc::new(Rendezvous {
        state: Mutex::new(Handoff::Pending),
        ready: Condvar::new(),
    });
    let helper = Arc::clone(&rendezvous);
    let spawned = std::thread::Builder::new()
        .name("dbpool-connect".to_owned())
        .spawn(move || {
            let result = connect_now(&*module, Some(driver_bound(timeout)), &init_sql);
            let mut state = helper.state.lock();
            if matches!(*state, Handoff::Abandoned) {
                drop(state);
                late(result.ok());
            } else {
                *state = Handoff::Done(result);
                drop(state);
                helper.ready.notify_one();
            }
        });
    if let Err(err) = spawned {
        return Connected::Failed(Error::operational(format!(
            "cannot start a thread to connect on: {err}"
        )));
    }
    let deadline = crate::clock::deadline(Instant::now(), timeout);
    let mut state = rendezvous.state.lock();
    loop {
        match std::mem::replace(&mut *state, Handoff::Pending) {
            Handoff::Done(Ok(conn)) => return Connected::Ok(conn),
            Handoff::Done(Err(err)) => return Connected::Failed(err),
            Handoff::Pending | Handoff::Abandoned => {}
        }
        let timed_out = match deadline {
            Some(deadline) => rendezvous
                .ready
                .wait_until(&mut state, deadline)
                .timed_out(),
            None => {
                rendezvous.ready.wait(&mut state);
                false
            }
        };
        if timed_out {
            match std::mem::replace(&mut *state, Handoff::Abandoned) {
                Handoff::Done(Ok(conn)) => return Connected::Ok(conn),
                Handoff::Done(Err(err)) => return Connected::Failed(err),
                Handoff::Pending | Handoff::Abandoned => return Connected::TimedOut,
            }
        }
    }
}
