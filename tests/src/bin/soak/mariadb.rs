//! The soak on the project's MariaDB: a user of its own (`PROCESSLIST` lists users), sessions
//! ended with `KILL CONNECTION`, the limit squeezed with `MAX_USER_CONNECTIONS`. Sessions are
//! threads of one server process, so none can be frozen alone.

use dbapi_mysql::{Mysql, MysqlConnection};
use dbpool_tests::{my_url, Backend, MariaDb};

use crate::server::{id_list, throwaway_password, Admin, SoakServer};

const USER: &str = "dbpool_soak";

/// The project's MariaDB, through an admin connection that reconnects after restarts.
pub struct MariaDbSoak {
    admin: Admin<MysqlConnection>,
    password: String,
}

impl MariaDbSoak {
    pub fn new() -> Self {
        Self {
            admin: Admin::new(dbpool_tests::my_admin),
            password: throwaway_password(),
        }
    }

    fn database() -> String {
        dbapi::ConnectParams::parse(&my_url())
            .expect("DBPOOL_MY_URL")
            .database()
            .expect("a database in DBPOOL_MY_URL")
            .to_owned()
    }

    /// Runs `sql` as admin; `tolerate` accepts a failure (a session that already ended).
    fn run(&mut self, sql: &str, tolerate: bool) {
        if let Err(err) = self.admin.run(sql) {
            assert!(tolerate, "{sql}: {err}");
        }
    }
}

impl SoakServer for MariaDbSoak {
    type Module = Mysql;
    const CAN_FREEZE: bool = false;
    const NAME: &'static str = "MariaDB";

    fn prepare(&mut self) -> Mysql {
        let password = self.password.clone();
        let database = Self::database();
        self.run(
            &format!("CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{password}'"),
            false,
        );
        self.run(
            &format!(
                "ALTER USER '{USER}'@'%' IDENTIFIED BY '{password}' WITH MAX_USER_CONNECTIONS 0"
            ),
            false,
        );
        self.run(&format!("DROP TABLE IF EXISTS {database}.soak_rows"), false);
        self.run(
            &format!(
                "CREATE TABLE {database}.soak_rows (id bigint PRIMARY KEY, worker int NOT NULL) \
                 ENGINE=InnoDB"
            ),
            false,
        );
        self.run(
            &format!("GRANT SELECT, INSERT ON {database}.soak_rows TO '{USER}'@'%'"),
            false,
        );
        let params = dbapi::ConnectParams::parse(&my_url()).expect("DBPOOL_MY_URL");
        Mysql::from_dsn(&format!(
            "mysql://{USER}:{password}@{}:{}/{database}",
            params.host().expect("host"),
            params.port().expect("port"),
        ))
        .expect("soak DSN")
    }

    fn sessions(&mut self, ending: &[i64]) -> i64 {
        let excluded = if ending.is_empty() {
            String::new()
        } else {
            format!(" AND ID NOT IN ({})", id_list(ending))
        };
        self.admin
            .ids(&format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{USER}'{excluded}"
        ))
            .first()
            .copied()
            .unwrap_or(0)
    }

    fn backends(&mut self) -> Vec<i64> {
        self.admin.ids(&format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{USER}'"
        ))
    }

    fn terminate(&mut self, id: i64) {
        // The session may have ended on its own meanwhile.
        self.run(&format!("KILL CONNECTION {id}"), true);
    }

    fn restart(&mut self) {
        self.admin.forget();
        MariaDb::restart();
    }

    fn freeze(&mut self, _id: i64, _frozen: bool) -> bool {
        false
    }

    fn limit(&mut self, connections: Option<u32>) {
        let limit = connections.unwrap_or(0);
        self.run(
            &format!("ALTER USER '{USER}'@'%' WITH MAX_USER_CONNECTIONS {limit}"),
            false,
        );
    }

    fn committed_ids(&mut self) -> Vec<i64> {
        let database = Self::database();
        self.admin
            .ids(&format!("SELECT id FROM {database}.soak_rows"))
    }
}
