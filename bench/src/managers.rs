//! r2d2 managers for the real drivers, written here (a few lines each) so r2d2 runs on
//! exactly the same rusqlite, postgres and mysql versions as dbpool.

use dbapi_mysql::mysql;

/// r2d2 over an in-memory rusqlite database.
pub struct SqliteManager;

impl r2d2::ManageConnection for SqliteManager {
    type Connection = rusqlite::Connection;
    type Error = rusqlite::Error;
    fn connect(&self) -> Result<rusqlite::Connection, rusqlite::Error> {
        rusqlite::Connection::open_in_memory()
    }
    fn is_valid(&self, conn: &mut rusqlite::Connection) -> Result<(), rusqlite::Error> {
        conn.execute_batch("")
    }
    fn has_broken(&self, _: &mut rusqlite::Connection) -> bool {
        false
    }
}

/// r2d2 over the postgres crate, validating with an empty query as r2d2-postgres does.
pub struct PostgresManager(pub postgres::Config);

impl r2d2::ManageConnection for PostgresManager {
    type Connection = postgres::Client;
    type Error = postgres::Error;
    fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        self.0.connect(postgres::NoTls)
    }
    fn is_valid(&self, client: &mut postgres::Client) -> Result<(), postgres::Error> {
        client.simple_query("").map(|_| ())
    }
    fn has_broken(&self, client: &mut postgres::Client) -> bool {
        client.is_closed()
    }
}

/// r2d2 over the mysql crate, validating with `COM_PING` as r2d2_mysql does.
pub struct MysqlManager(pub mysql::Opts);

impl r2d2::ManageConnection for MysqlManager {
    type Connection = mysql::Conn;
    type Error = mysql::Error;
    fn connect(&self) -> Result<mysql::Conn, mysql::Error> {
        mysql::Conn::new(self.0.clone())
    }
    fn is_valid(&self, conn: &mut mysql::Conn) -> Result<(), mysql::Error> {
        conn.ping()
    }
    fn has_broken(&self, _: &mut mysql::Conn) -> bool {
        false
    }
}
