//! Result columns are built once per query and reused; these tests show that a reused
//! description is never stale: a table rebuilt by another connection, an expression whose
//! type changes between runs, and a result that comes back empty are all described anew.

use dbapi::{params, Connection, Cursor, Module, TypeObject, Value};
use dbapi_sqlite::Sqlite;

/// The type family and value of the single column of `sql`'s first row, read twice through
/// the same connection (the second read reuses the cached shape).
fn family_and_value(
    conn: &mut dbapi_sqlite::SqliteConnection,
    sql: &str,
    params: &dbapi::Params,
) -> (Option<TypeObject>, Option<Value>) {
    let mut cur = conn.cursor().expect("cursor");
    cur.execute(sql, params).expect("query");
    let family = cur.description().expect("a result")[0].type_code.family;
    let value = cur
        .fetchone()
        .expect("fetch")
        .map(|row| row.values()[0].clone());
    (family, value)
}

#[test]
fn a_table_rebuilt_by_another_connection_is_described_and_read_as_declared_now() {
    let module = Sqlite::shared_memory("result_shapes_rebuilt");
    let mut reader = module.connect().expect("reader");
    let mut writer = module.connect().expect("writer");
    writer
        .execute("CREATE TABLE t (d TEXT)", &params![])
        .expect("create");
    writer
        .execute("INSERT INTO t VALUES ('2024-02-29')", &params![])
        .expect("insert");
    writer.commit().expect("commit");
    let sql = "SELECT d FROM t";
    for _ in 0..2 {
        let (family, value) = family_and_value(&mut reader, sql, &params![]);
        assert_eq!(family, Some(TypeObject::String));
        assert_eq!(value, Some(Value::Text("2024-02-29".into())));
    }
    reader.commit().expect("end the read");
    writer.execute("DROP TABLE t", &params![]).expect("drop");
    writer
        .execute("CREATE TABLE t (d DATE)", &params![])
        .expect("recreate as DATE");
    writer
        .execute("INSERT INTO t VALUES ('2024-02-29')", &params![])
        .expect("insert");
    writer.commit().expect("commit");
    let (family, value) = family_and_value(&mut reader, sql, &params![]);
    assert_eq!(family, Some(TypeObject::Datetime), "the new declared type");
    assert!(
        matches!(value, Some(Value::Date(_))),
        "read as the new declaration says: {value:?}"
    );
}

#[test]
fn an_expression_whose_type_changes_between_runs_is_described_by_each_run() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let sql = "SELECT ? AS v";
    let (family, _) = family_and_value(&mut conn, sql, &params![1_i64]);
    assert_eq!(family, Some(TypeObject::Number));
    let (family, _) = family_and_value(&mut conn, sql, &params!["text"]);
    assert_eq!(family, Some(TypeObject::String));
    let (family, value) = family_and_value(&mut conn, sql, &params![Value::Null]);
    assert_eq!((family, value), (None, Some(Value::Null)));
}

#[test]
fn an_empty_result_after_a_full_one_describes_its_expression_columns_as_unknown() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    let sql = "SELECT 1 AS one WHERE ? = 1";
    let (family, value) = family_and_value(&mut conn, sql, &params![1_i64]);
    assert_eq!(
        (family, value),
        (Some(TypeObject::Number), Some(Value::Int(1)))
    );
    let (family, value) = family_and_value(&mut conn, sql, &params![0_i64]);
    assert_eq!(
        (family, value),
        (None, None),
        "no row, no first value to tell"
    );
}

#[test]
fn renamed_columns_are_described_by_their_new_names() {
    let mut conn = Sqlite::memory().connect().expect("connect");
    conn.execute("CREATE TABLE t (a INTEGER)", &params![])
        .expect("create");
    conn.execute("INSERT INTO t VALUES (1)", &params![])
        .expect("insert");
    let names = |conn: &mut dbapi_sqlite::SqliteConnection| {
        let mut cur = conn.cursor().expect("cursor");
        cur.execute("SELECT * FROM t", &params![]).expect("query");
        cur.description().expect("a result")[0].name.to_string()
    };
    assert_eq!(names(&mut conn), "a");
    conn.execute("ALTER TABLE t RENAME COLUMN a TO b", &params![])
        .expect("rename");
    assert_eq!(names(&mut conn), "b");
}
