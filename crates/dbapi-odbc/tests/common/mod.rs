//! What the ODBC test binaries share: the connection strings `cargo xtask test` exports, and
//! the conformance context, generic over the driver.

#![allow(dead_code)]

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use dbapi::{Connection, Module, Params};
use dbapi_conformance::{Capabilities, Context, SqlType};
use dbapi_odbc::Odbc;

/// One real ODBC driver, as the suite needs to know it.
pub trait Driver {
    /// The variable holding its connection string.
    const ENV: &'static str;
    /// Its real differences from the suite's defaults.
    fn capabilities() -> Capabilities;
    /// The column type of each kind of value.
    fn sql_type(ty: SqlType) -> &'static str;
    /// The statements, after `data_error_setup` made `table`, that fail with a Data error.
    fn data_error(table: &str) -> (Vec<String>, String);
    /// The module's settings for this driver.
    fn module(odbc: Odbc) -> Odbc {
        odbc
    }
    /// What `callproc` calls, and how to create it.
    fn callproc_fixture(name: &str) -> (Vec<String>, String) {
        let _ = name;
        (Vec::new(), "lower".to_owned())
    }
}

/// The connection string of `D`'s data source.
pub fn connection_string<D: Driver>() -> String {
    std::env::var(D::ENV).unwrap_or_else(|_| {
        panic!(
            "{} is not set: run the ODBC tests with `cargo xtask test`",
            D::ENV
        )
    })
}

/// The module for `D`'s data source.
pub fn module<D: Driver>() -> Odbc {
    D::module(
        Odbc::connection_string(&connection_string::<D>()).expect("a valid connection string"),
    )
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The conformance context: tables of its own, dropped afterwards.
pub struct OdbcContext<D: Driver> {
    module: Odbc,
    id: usize,
    names: RefCell<Vec<String>>,
    procedures: RefCell<Vec<String>>,
    driver: PhantomData<D>,
}

impl<D: Driver> Context for OdbcContext<D> {
    type Module = Odbc;

    fn setup() -> Self {
        Self {
            module: module::<D>(),
            id: NEXT.fetch_add(1, Ordering::SeqCst),
            names: RefCell::new(Vec::new()),
            procedures: RefCell::new(Vec::new()),
            driver: PhantomData,
        }
    }

    fn module(&self) -> &Odbc {
        &self.module
    }

    fn capabilities(&self) -> Capabilities {
        D::capabilities()
    }

    fn table(&self, base: &str) -> String {
        let name = format!("dbapi20_{base}_{}_{}", std::process::id(), self.id);
        self.names.borrow_mut().push(name.clone());
        name
    }

    fn sql_type(&self, ty: SqlType) -> &'static str {
        D::sql_type(ty)
    }

    fn data_error_setup(&self) -> Vec<String> {
        let table = self.table("data_error");
        D::data_error(&table).0
    }

    fn data_error_sql(&self) -> String {
        let table = self.names.borrow().last().cloned().unwrap_or_default();
        D::data_error(&table).1
    }

    fn callproc_fixture(&self) -> (Vec<String>, String) {
        let name = format!("dbapi20_lower_{}_{}", std::process::id(), self.id);
        let (setup, called) = D::callproc_fixture(&name);
        if !setup.is_empty() {
            self.procedures.borrow_mut().push(name);
        }
        (setup, called)
    }
}

impl<D: Driver> Drop for OdbcContext<D> {
    fn drop(&mut self) {
        let (names, procedures) = (self.names.borrow(), self.procedures.borrow());
        if names.is_empty() && procedures.is_empty() {
            return;
        }
        if let Ok(mut conn) = self.module.connect() {
            for name in names.iter() {
                let _ = conn.execute(&format!("DROP TABLE IF EXISTS {name}"), &Params::None);
                let _ = conn.commit();
            }
            for name in procedures.iter() {
                let _ = conn.execute(&format!("DROP PROCEDURE IF EXISTS {name}"), &Params::None);
                let _ = conn.commit();
            }
        }
    }
}
