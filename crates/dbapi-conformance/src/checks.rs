//! The checks, each a function generic over a [`Context`]. [`crate::conformance_tests!`]
//! turns each into a `#[test]`.

use dbapi::{
    Connection, Cursor, Error, ErrorKind, Module, Params, Row, ThreadSafety, Value, BINARY,
    DATETIME, NUMBER, STRING,
};

use crate::{Context, SqlType};

type Conn<C> = <<C as Context>::Module as Module>::Connection;

fn connect<C: Context>(ctx: &C) -> Conn<C> {
    ctx.module()
        .connect()
        .expect("connect to the test database")
}

fn run<C: Connection>(conn: &mut C, sql: &str, params: &Params) {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn query<C: Connection>(conn: &mut C, sql: &str, params: &Params) -> Vec<Row> {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    cur.fetchall().expect("fetchall")
}

/// As [`expect_kind`], for an error whose kind comes from the SQLSTATE: a driver without
/// [`crate::Capabilities::classified_errors`] may report DatabaseError instead.
fn expect_classified<C: Context, T>(
    ctx: &C,
    result: dbapi::Result<T>,
    kind: ErrorKind,
    what: &str,
) -> Error {
    match result {
        Err(e) if !ctx.capabilities().classified_errors && e.kind() == ErrorKind::Database => e,
        result => expect_kind(result, kind, what),
    }
}

fn expect_kind<T>(result: dbapi::Result<T>, kind: ErrorKind, what: &str) -> Error {
    match result {
        Ok(_) => panic!("{what}: expected a {kind}, got success"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{what}: wrong kind for {e}");
            e
        }
    }
}

/// `CREATE TABLE booze (name <text>)`, committed; returns the table name.
fn booze<C: Context>(ctx: &C, conn: &mut Conn<C>) -> String {
    let table = ctx.table("booze");
    run(
        conn,
        &format!(
            "CREATE TABLE {table} (name {})",
            ctx.sql_type(SqlType::Text)
        ),
        &Params::None,
    );
    conn.commit().expect("commit DDL");
    table
}

const SAMPLES: [&str; 6] = [
    "Carlton Cold",
    "Carlton Draft",
    "Mountain Goat",
    "Redback",
    "Victoria Bitter",
    "XXXX",
];

/// `booze` filled with the six dbapi20 sample beers, committed.
fn populated<C: Context>(ctx: &C, conn: &mut Conn<C>) -> String {
    let table = booze(ctx, conn);
    let sql = format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1));
    let sets: Vec<Params> = SAMPLES.iter().map(|s| Params::from([*s])).collect();
    conn.cursor()
        .expect("cursor")
        .executemany(&sql, &sets)
        .expect("executemany");
    conn.commit().expect("commit");
    table
}

fn names(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| r.get::<String>(0).expect("text column"))
        .collect();
    names.sort();
    names
}

/// `apilevel` is "2.0"; `threadsafety` and `paramstyle` are declared.
pub fn module_constants<C: Context>() {
    assert_eq!(<C::Module as Module>::APILEVEL, "2.0");
    let level = <C::Module as Module>::THREADSAFETY;
    assert!(level >= ThreadSafety::NotShared && level.level() <= 3);
    let style = <C::Module as Module>::PARAMSTYLE;
    assert!(!style.name().is_empty());
}

/// `connect()` returns a usable connection whose `ping` succeeds.
pub fn connect_and_ping<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    conn.ping().expect("ping a fresh connection");
    assert!(!conn.is_closed());
    assert!(!conn.is_broken());
}

/// `check_alive` passes on a working connection, before and after a statement, and a
/// closed connection fails it with an Interface error.
pub fn check_alive_on_a_working_connection<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    conn.check_alive().expect("a fresh connection is alive");
    conn.ping().expect("ping");
    conn.check_alive().expect("still alive after a round trip");
    assert!(!conn.is_broken());
    conn.close().expect("close");
    let err = conn.check_alive().expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Interface, "{err}");
}

/// A syntax error is a Programming error.
pub fn syntax_error_is_programming<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let mut cur = conn.cursor().expect("cursor");
    expect_classified(
        &ctx,
        cur.execute("SELEKT nonsense FROM", &Params::None),
        ErrorKind::Programming,
        "syntax error",
    );
}

/// A missing table is a Programming error.
pub fn missing_table_is_programming<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = ctx.table("never_created");
    let mut cur = conn.cursor().expect("cursor");
    expect_classified(
        &ctx,
        cur.execute(&format!("SELECT * FROM {table}"), &Params::None),
        ErrorKind::Programming,
        "missing table",
    );
}

/// A duplicate primary key is an Integrity error.
pub fn duplicate_key_is_integrity<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = ctx.table("uniq");
    run(
        &mut conn,
        &format!(
            "CREATE TABLE {table} (id {} PRIMARY KEY)",
            ctx.sql_type(SqlType::Int)
        ),
        &Params::None,
    );
    let insert = format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1));
    run(&mut conn, &insert, &Params::from([1]));
    let mut cur = conn.cursor().expect("cursor");
    expect_classified(
        &ctx,
        cur.execute(&insert, &Params::from([1])),
        ErrorKind::Integrity,
        "duplicate key",
    );
}

/// An overflow or bad cast is a Data error.
pub fn bad_data_is_data_error<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    for sql in ctx.data_error_setup() {
        run(&mut conn, &sql, &Params::None);
    }
    let mut cur = conn.cursor().expect("cursor");
    expect_classified(
        &ctx,
        cur.execute(&ctx.data_error_sql(), &Params::None),
        ErrorKind::Data,
        "overflow or bad cast",
    );
}

/// Errors keep their cause and a message.
pub fn errors_carry_details<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let mut cur = conn.cursor().expect("cursor");
    let err = cur
        .execute("SELEKT 1", &Params::None)
        .expect_err("syntax error");
    assert!(!err.message().is_empty());
    assert!(err.to_string().contains(err.kind().dbapi_name()));
    assert!(!err.is_disconnect(), "a syntax error is not a disconnect");
}

/// Committed rows are visible to another connection.
pub fn commit_persists<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    run(
        &mut conn,
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["Cooper's"]),
    );
    conn.commit().expect("commit");
    let mut other = connect(&ctx);
    let rows = query(
        &mut other,
        &format!("SELECT name FROM {table}"),
        &Params::None,
    );
    assert_eq!(names(&rows), ["Cooper's"]);
}

/// Rolled-back rows are gone.
pub fn rollback_discards<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    run(
        &mut conn,
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["Cooper's"]),
    );
    conn.rollback().expect("rollback");
    let rows = query(
        &mut conn,
        &format!("SELECT name FROM {table}"),
        &Params::None,
    );
    assert!(rows.is_empty(), "rolled back insert is still there");
}

/// A pipelined rollback (a pool's return) discards as `rollback()` does, and the session
/// stays in step: the next statements get their own answers, not the rollback's.
pub fn pipelined_rollback_discards<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let insert = format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1));
    run(&mut conn, &insert, &Params::from(["Cooper's"]));
    conn.rollback_pipelined().expect("pipelined rollback");
    let select = format!("SELECT name FROM {table}");
    assert!(
        query(&mut conn, &select, &Params::None).is_empty(),
        "rolled back insert is still there"
    );
    run(&mut conn, &insert, &Params::from(["Boag's"]));
    conn.commit().expect("commit after a pipelined rollback");
    let rows = query(&mut conn, &select, &Params::None);
    assert_eq!(rows.len(), 1, "only the committed row");
    assert_eq!(rows[0][0], dbapi::Value::from("Boag's"));
    conn.rollback_pipelined()
        .expect("pipelined rollback with nothing to roll back");
}

/// `rollback()` and `commit()` with no open transaction are harmless.
pub fn commit_and_rollback_without_transaction<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    conn.commit().expect("commit with nothing to commit");
    conn.rollback().expect("rollback with nothing to roll back");
}

/// Uncommitted rows are invisible to a second connection, and gone after rollback.
pub fn isolation_uncommitted_invisible<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    run(
        &mut conn,
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["Hidden"]),
    );
    let mut other = connect(&ctx);
    let seen = query(
        &mut other,
        &format!("SELECT name FROM {table}"),
        &Params::None,
    );
    assert!(seen.is_empty(), "another connection saw an uncommitted row");
    conn.rollback().expect("rollback");
    let after = query(
        &mut conn,
        &format!("SELECT name FROM {table}"),
        &Params::None,
    );
    assert!(after.is_empty());
}

/// Every call on a closed connection is an Interface error; closing twice is harmless.
pub fn use_after_close_is_interface_error<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    conn.close().expect("close");
    assert!(conn.is_closed());
    assert!(conn.is_broken(), "a closed connection is broken");
    expect_kind(
        conn.cursor().map(|_| ()),
        ErrorKind::Interface,
        "cursor after close",
    );
    expect_kind(conn.commit(), ErrorKind::Interface, "commit after close");
    expect_kind(
        conn.rollback(),
        ErrorKind::Interface,
        "rollback after close",
    );
    conn.close().expect("second close is a no-op");
}

/// Every call on a closed cursor is an Interface error.
pub fn cursor_use_after_close_is_interface_error<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let mut cur = conn.cursor().expect("cursor");
    cur.close().expect("close cursor");
    expect_kind(
        cur.execute("SELECT 1", &Params::None),
        ErrorKind::Interface,
        "execute on a closed cursor",
    );
    expect_kind(
        cur.fetchone(),
        ErrorKind::Interface,
        "fetch on a closed cursor",
    );
}

/// `description` is `None` after DDL and before any execute.
pub fn description_none_without_result<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = ctx.table("ddl");
    let mut cur = conn.cursor().expect("cursor");
    assert!(cur.description().is_none(), "description before execute");
    cur.execute(
        &format!(
            "CREATE TABLE {table} (name {})",
            ctx.sql_type(SqlType::Text)
        ),
        &Params::None,
    )
    .expect("create");
    assert!(cur.description().is_none(), "description after DDL");
}

/// `description` after a `SELECT` names the columns, with comparable type codes.
pub fn description_after_select<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = ctx.table("described");
    run(
        &mut conn,
        &format!(
            "CREATE TABLE {table} (id {}, name {}, data {}, at {})",
            ctx.sql_type(SqlType::Int),
            ctx.sql_type(SqlType::Text),
            ctx.sql_type(SqlType::Bytes),
            ctx.sql_type(SqlType::Timestamp),
        ),
        &Params::None,
    );
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        &format!("SELECT id, name, data, at FROM {table}"),
        &Params::None,
    )
    .expect("select");
    let desc = cur.description().expect("a SELECT has a description");
    let names: Vec<&str> = desc.iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["id", "name", "data", "at"]);
    assert_eq!(desc[0].type_code, NUMBER, "{:?}", desc[0].type_code);
    assert_eq!(desc[1].type_code, STRING, "{:?}", desc[1].type_code);
    if ctx.capabilities().typed_columns {
        assert_eq!(desc[2].type_code, BINARY, "{:?}", desc[2].type_code);
    } else {
        assert!(
            desc[2].type_code == BINARY || desc[2].type_code == STRING,
            "{:?}",
            desc[2].type_code
        );
    }
    assert_eq!(desc[3].type_code, DATETIME, "{:?}", desc[3].type_code);
    assert_ne!(desc[0].type_code, STRING);
}

/// `rowcount` is -1 or 0 after DDL.
pub fn rowcount_after_ddl<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = ctx.table("rc");
    let mut cur = conn.cursor().expect("cursor");
    assert_eq!(cur.rowcount(), -1, "rowcount before execute");
    cur.execute(
        &format!(
            "CREATE TABLE {table} (name {})",
            ctx.sql_type(SqlType::Text)
        ),
        &Params::None,
    )
    .expect("create");
    assert!(matches!(cur.rowcount(), -1 | 0), "got {}", cur.rowcount());
}

/// `rowcount` counts inserted, updated and deleted rows.
pub fn rowcount_after_dml<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["Coopers"]),
    )
    .expect("insert");
    assert_eq!(cur.rowcount(), 1, "insert");
    cur.execute(
        &format!(
            "UPDATE {table} SET name = name WHERE name LIKE {}",
            ctx.placeholder(1)
        ),
        &Params::from(["C%"]),
    )
    .expect("update");
    assert_eq!(cur.rowcount(), 3, "update of three rows");
    cur.execute(&format!("DELETE FROM {table}"), &Params::None)
        .expect("delete");
    assert_eq!(cur.rowcount(), 7, "delete of every row");
}

/// `rowcount` after a `SELECT` is the number of rows (or -1 where unknown).
pub fn rowcount_after_select<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(&format!("SELECT name FROM {table}"), &Params::None)
        .expect("select");
    if ctx.capabilities().rowcount_after_select {
        assert_eq!(cur.rowcount(), 6);
    } else {
        assert!(matches!(cur.rowcount(), -1 | 6));
    }
}

/// Parameters with quotes, backslashes and semicolons arrive unchanged.
pub fn params_with_quotes<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let tricky = [
        "Cooper's",
        "say \"hi\"",
        "back\\slash",
        "semi; DROP TABLE x; --",
    ];
    for value in tricky {
        run(
            &mut conn,
            &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
            &Params::from([value]),
        );
    }
    let rows = query(
        &mut conn,
        &format!("SELECT name FROM {table}"),
        &Params::None,
    );
    let mut expected: Vec<String> = tricky.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(names(&rows), expected);
}

/// `NULL` parameters are stored as NULL and compare with `IS NULL`.
pub fn params_null<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    run(
        &mut conn,
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::Positional(vec![Value::Null]),
    );
    let rows = query(
        &mut conn,
        &format!("SELECT name FROM {table} WHERE name IS NULL"),
        &Params::None,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], Value::Null);
    assert_eq!(
        rows[0].get::<Option<String>>(0).expect("nullable read"),
        None
    );
    let err = rows[0].get::<String>(0).expect_err("NULL into String");
    assert_eq!(err.kind(), ErrorKind::Data);
}

/// Unicode text (accents, CJK, emoji) round-trips.
pub fn params_unicode<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let text = "Grüße, 世界! 🍺";
    run(
        &mut conn,
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from([text]),
    );
    let rows = query(
        &mut conn,
        &format!(
            "SELECT name FROM {table} WHERE name = {}",
            ctx.placeholder(1)
        ),
        &Params::from([text]),
    );
    assert_eq!(names(&rows), [text]);
}

/// The wrong number of parameters is a Programming error.
pub fn wrong_parameter_count_is_programming<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    expect_kind(
        cur.execute(
            &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
            &Params::from(["a", "b"]),
        ),
        ErrorKind::Programming,
        "two values for one marker",
    );
}

/// Named parameters bind by name, or fail with NotSupported.
pub fn named_params<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let sql = format!(
        "INSERT INTO {table} VALUES ({})",
        ctx.named_placeholder("beer")
    );
    let params = Params::Named(vec![("beer".to_owned(), Value::from("Named Ale"))]);
    let mut cur = conn.cursor().expect("cursor");
    if ctx.capabilities().named_params {
        cur.execute(&sql, &params).expect("named insert");
        drop(cur);
        let rows = query(
            &mut conn,
            &format!("SELECT name FROM {table}"),
            &Params::None,
        );
        assert_eq!(names(&rows), ["Named Ale"]);
    } else {
        expect_kind(
            cur.execute(&sql, &params),
            ErrorKind::NotSupported,
            "named params",
        );
    }
}

/// `executemany` runs once per parameter set.
pub fn executemany_inserts_each<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let rows = query(
        &mut conn,
        &format!("SELECT name FROM {table}"),
        &Params::None,
    );
    assert_eq!(names(&rows), SAMPLES);
}

/// `fetchone` returns rows one by one, then `None`.
pub fn fetchone_then_none<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    run(
        &mut conn,
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["Victoria Bitter"]),
    );
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(&format!("SELECT name FROM {table}"), &Params::None)
        .expect("select");
    let row = cur.fetchone().expect("fetchone").expect("one row");
    assert_eq!(
        row.get::<String>("name").expect("by name"),
        "Victoria Bitter"
    );
    assert!(cur.fetchone().expect("fetchone").is_none());
    assert!(cur.fetchone().expect("again").is_none(), "stays exhausted");
}

/// Fetching before any execute is an error.
pub fn fetch_before_execute_is_error<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let mut cur = conn.cursor().expect("cursor");
    expect_kind(
        cur.fetchone(),
        ErrorKind::Programming,
        "fetchone before execute",
    );
    expect_kind(
        cur.fetchall(),
        ErrorKind::Programming,
        "fetchall before execute",
    );
}

/// Fetching after a statement that returns no rows is an error.
pub fn fetch_after_non_query_is_error<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["x"]),
    )
    .expect("insert");
    expect_kind(
        cur.fetchone(),
        ErrorKind::Programming,
        "fetchone after insert",
    );
    expect_kind(
        cur.fetchmany(None),
        ErrorKind::Programming,
        "fetchmany after insert",
    );
}

/// `arraysize` defaults to 1, and `fetchmany()` honours it.
pub fn fetchmany_default_arraysize<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    assert_eq!(cur.arraysize(), 1);
    cur.execute(&format!("SELECT name FROM {table}"), &Params::None)
        .expect("select");
    assert_eq!(cur.fetchmany(None).expect("fetchmany").len(), 1);
    cur.set_arraysize(4);
    assert_eq!(cur.fetchmany(None).expect("fetchmany").len(), 4);
    assert_eq!(cur.fetchmany(None).expect("fetchmany").len(), 1, "the rest");
}

/// `fetchmany(n)` returns up to n rows, then an empty vector.
pub fn fetchmany_explicit_then_empty<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(&format!("SELECT name FROM {table}"), &Params::None)
        .expect("select");
    assert_eq!(cur.fetchmany(Some(4)).expect("4").len(), 4);
    assert_eq!(cur.fetchmany(Some(4)).expect("rest").len(), 2);
    assert!(cur.fetchmany(Some(4)).expect("exhausted").is_empty());
}

/// `fetchall` returns every row, then nothing.
pub fn fetchall_returns_everything<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(&format!("SELECT name FROM {table}"), &Params::None)
        .expect("select");
    let rows = cur.fetchall().expect("fetchall");
    assert_eq!(names(&rows), SAMPLES);
    assert!(cur.fetchall().expect("again").is_empty());
    cur.execute(
        &format!("SELECT name FROM {table} WHERE 1 = 0"),
        &Params::None,
    )
    .expect("empty select");
    assert!(cur.fetchall().expect("no rows").is_empty());
}

/// `fetchone`, `fetchmany` and `fetchall` mixed on one result see each row once.
pub fn fetch_mixed<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(
        &format!("SELECT name FROM {table} ORDER BY name"),
        &Params::None,
    )
    .expect("select");
    let mut seen = vec![cur.fetchone().expect("one").expect("row")];
    seen.extend(cur.fetchmany(Some(2)).expect("two"));
    seen.extend(cur.fetchall().expect("rest"));
    let seen: Vec<String> = seen
        .iter()
        .map(|r| r.get::<String>(0).expect("text"))
        .collect();
    assert_eq!(seen, SAMPLES);
}

/// A new `execute` discards the previous result.
pub fn execute_replaces_result<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = populated(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(&format!("SELECT name FROM {table}"), &Params::None)
        .expect("first");
    cur.fetchone().expect("partial read");
    cur.execute(
        &format!(
            "SELECT name FROM {table} WHERE name = {}",
            ctx.placeholder(1)
        ),
        &Params::from(["XXXX"]),
    )
    .expect("second");
    assert_eq!(names(&cur.fetchall().expect("all")), ["XXXX"]);
}

/// `nextset` works or fails with NotSupported.
pub fn nextset_supported_or_not<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let mut cur = conn.cursor().expect("cursor");
    cur.execute("SELECT 1", &Params::None).expect("select");
    if ctx.capabilities().nextset {
        assert!(
            !cur.nextset().expect("nextset"),
            "a single result has no next set"
        );
    } else {
        expect_kind(cur.nextset(), ErrorKind::NotSupported, "nextset");
    }
}

/// `callproc` works or fails with NotSupported.
pub fn callproc_supported_or_not<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let mut cur = conn.cursor().expect("cursor");
    if !ctx.capabilities().callproc {
        expect_kind(
            cur.callproc("lower", &Params::from(["FOO"])),
            ErrorKind::NotSupported,
            "callproc",
        );
    } else {
        drop(cur);
        let (setup, procname) = ctx.callproc_fixture();
        for sql in setup {
            run(&mut conn, &sql, &Params::None);
        }
        let mut cur = conn.cursor().expect("cursor");
        cur.callproc(&procname, &Params::from(["FOO"]))
            .expect("callproc");
        let row = cur.fetchone().expect("fetch").expect("a row");
        assert_eq!(row.get::<String>(0).expect("text"), "foo");
    }
}

/// `setinputsizes` and `setoutputsize` are accepted and change nothing.
pub fn setinputsizes_setoutputsize_harmless<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    cur.setinputsizes(&[Some(25)]).expect("setinputsizes");
    cur.setoutputsize(1000, None).expect("setoutputsize");
    cur.setoutputsize(2000, Some(0))
        .expect("setoutputsize column");
    cur.execute(
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["after sizes"]),
    )
    .expect("insert");
    assert_eq!(cur.rowcount(), 1);
}

/// `lastrowid` after an insert, where the backend has one.
pub fn lastrowid_after_insert<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = booze(&ctx, &mut conn);
    let mut cur = conn.cursor().expect("cursor");
    assert_eq!(cur.lastrowid(), None, "nothing inserted yet");
    cur.execute(
        &format!("INSERT INTO {table} VALUES ({})", ctx.placeholder(1)),
        &Params::from(["x"]),
    )
    .expect("insert");
    if ctx.capabilities().lastrowid {
        assert!(cur.lastrowid().is_some());
    }
}

fn round_trip<C: Context>(ty: SqlType, values: &[Value]) {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    let table = ctx.table("roundtrip");
    run(
        &mut conn,
        &format!(
            "CREATE TABLE {table} (k {}, v {})",
            ctx.sql_type(SqlType::Int),
            ctx.sql_type(ty)
        ),
        &Params::None,
    );
    let insert = format!(
        "INSERT INTO {table} VALUES ({}, {})",
        ctx.placeholder(1),
        ctx.placeholder(2)
    );
    for (k, v) in values.iter().enumerate() {
        run(
            &mut conn,
            &insert,
            &Params::Positional(vec![Value::from(k as i64), v.clone()]),
        );
    }
    conn.commit().expect("commit");
    let rows = query(
        &mut conn,
        &format!("SELECT v FROM {table} ORDER BY k"),
        &Params::None,
    );
    let got: Vec<Value> = rows.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(got.len(), values.len());
    let typed = ctx.capabilities().typed_columns;
    for (got, want) in got.iter().zip(values) {
        if let (Value::Decimal(g), Value::Decimal(w)) = (got, want) {
            // Equal in value: a fixed-scale column (MySQL's DECIMAL(p,s)) pads with zeros.
            assert_eq!(decimal_value(g), decimal_value(w), "decimal round trip");
        } else if let (Value::Bytes(g), Value::Bytes(w)) = (got, want) {
            assert!(
                g == w,
                "bytes of length {} came back as length {}",
                w.len(),
                g.len()
            );
        } else if !typed {
            assert_eq!(
                loose(got),
                loose(want),
                "{ty:?} round trip (loosely typed driver)"
            );
        } else {
            assert_eq!(got, want, "{ty:?} round trip");
        }
    }
}

/// A decimal's text without trailing zeros after the point.
fn decimal_value(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Integers round-trip, including `i64::MIN`, `i64::MAX`, 0 and NULL.
pub fn round_trip_int<C: Context>() {
    round_trip::<C>(
        SqlType::Int,
        &[
            Value::Int(i64::MIN),
            Value::Int(-1),
            Value::Int(0),
            Value::Int(i64::MAX),
            Value::Null,
        ],
    );
}

/// Floats round-trip exactly (values exact in binary).
pub fn round_trip_float<C: Context>() {
    round_trip::<C>(
        SqlType::Float,
        &[
            Value::Float(0.0),
            Value::Float(-3.25),
            Value::Float(1e300),
            Value::Float(f64::MIN_POSITIVE),
        ],
    );
}

/// Booleans round-trip.
pub fn round_trip_bool<C: Context>() {
    round_trip::<C>(
        SqlType::Bool,
        &[Value::Bool(true), Value::Bool(false), Value::Null],
    );
}

/// Text round-trips, and the empty string stays distinct from NULL.
pub fn round_trip_text_empty_vs_null<C: Context>() {
    round_trip::<C>(
        SqlType::Text,
        &[
            Value::from(""),
            Value::Null,
            Value::from("x"),
            Value::from("ü"),
        ],
    );
}

/// Binary data round-trips, including empty and 1 MiB of every byte value.
pub fn round_trip_bytes_and_1mib_blob<C: Context>() {
    if !C::setup().capabilities().typed_columns {
        // The driver describes binary columns as text: bytes cannot come back as bytes.
        return;
    }
    let big: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    round_trip::<C>(
        SqlType::Bytes,
        &[
            Value::binary(Vec::new()),
            Value::binary([0u8, 255, 0, 10]),
            Value::Bytes(big),
        ],
    );
}

/// Dates, times and timestamps (DB-API constructors) round-trip.
pub fn round_trip_temporal<C: Context>() {
    round_trip::<C>(
        SqlType::Date,
        &[
            Value::date(2024, 2, 29).expect("date"),
            Value::date(1970, 1, 1).expect("date"),
        ],
    );
    round_trip::<C>(SqlType::Time, &[Value::time(23, 59, 58).expect("time")]);
    round_trip::<C>(
        SqlType::Timestamp,
        &[
            Value::timestamp(2001, 9, 9, 1, 46, 40).expect("timestamp"),
            Value::timestamp_from_ticks(0.0).expect("ticks"),
        ],
    );
}

/// Decimals round-trip as text, every digit kept where the backend is exact.
pub fn round_trip_decimal<C: Context>() {
    if ctx_exact_decimal::<C>() {
        round_trip::<C>(
            SqlType::Decimal,
            &[
                Value::Decimal("12345678901234.5678".to_owned()),
                Value::Decimal("-0.5".to_owned()),
            ],
        );
    } else {
        round_trip::<C>(SqlType::Decimal, &[Value::Decimal("12.5".to_owned())]);
    }
}

/// What a loosely typed driver keeps of a value: decimals and text as text, floats to 15
/// significant digits.
fn loose(value: &Value) -> Value {
    match value {
        Value::Decimal(s) | Value::Text(s) => Value::Text(decimal_value(s).to_owned()),
        Value::Float(f) => Value::Text(format!("{f:.14e}")),
        other => other.clone(),
    }
}

fn ctx_exact_decimal<C: Context>() -> bool {
    C::setup().capabilities().exact_decimal
}

/// A cursor can be dropped and another opened on the same connection.
pub fn cursors_in_sequence<C: Context>() {
    let ctx = C::setup();
    let mut conn = connect(&ctx);
    for i in 0..3_i64 {
        let mut cur = conn.cursor().expect("cursor");
        cur.execute(&format!("SELECT {i}"), &Params::None)
            .expect("select");
        let row = cur.fetchone().expect("fetch").expect("row");
        assert_eq!(row.get::<i64>(0).expect("int"), i);
    }
}
