//! A driver whose connections do nothing, so W1 and W2 measure the pools alone; and the
//! same "connection" for r2d2 and deadpool.

use dbapi::{Column, Connection, Cursor, Module, ParamStyle, Params, Result, Row, ThreadSafety};

/// The no-op DB-API module.
pub struct NoopModule;

/// A connection that does nothing.
pub struct NoopConnection;

/// A cursor that does nothing.
pub struct NoopCursor;

impl Module for NoopModule {
    type Connection = NoopConnection;
    const THREADSAFETY: ThreadSafety = ThreadSafety::Cursors;
    const PARAMSTYLE: ParamStyle = ParamStyle::Qmark;
    fn connect(&self) -> Result<NoopConnection> {
        Ok(NoopConnection)
    }
}

impl Connection for NoopConnection {
    type Cursor<'c> = NoopCursor;
    fn cursor(&mut self) -> Result<NoopCursor> {
        Ok(NoopCursor)
    }
    fn commit(&mut self) -> Result<()> {
        Ok(())
    }
    fn rollback(&mut self) -> Result<()> {
        Ok(())
    }
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
    fn in_transaction(&self) -> Option<bool> {
        Some(false)
    }
}

impl Cursor for NoopCursor {
    fn execute(&mut self, _: &str, _: &Params) -> Result<()> {
        Ok(())
    }
    fn description(&self) -> Option<&[Column]> {
        None
    }
    fn rowcount(&self) -> i64 {
        -1
    }
    fn fetch_next(&mut self) -> Result<Option<Row>> {
        Ok(None)
    }
    fn arraysize(&self) -> usize {
        1
    }
    fn set_arraysize(&mut self, _: usize) {}
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// r2d2's manager for the no-op connection; `is_valid` is free, so `test_on_check_out`
/// costs only r2d2's own bookkeeping.
pub struct NoopManager;

impl r2d2::ManageConnection for NoopManager {
    type Connection = NoopConnection;
    type Error = dbapi::Error;
    fn connect(&self) -> Result<NoopConnection> {
        Ok(NoopConnection)
    }
    fn is_valid(&self, _: &mut NoopConnection) -> Result<()> {
        Ok(())
    }
    fn has_broken(&self, _: &mut NoopConnection) -> bool {
        false
    }
}
