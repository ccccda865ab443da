//! The soak on the project's MariaDB: a user of its own (`PROCESSLIST` lists users), sessions
//! ended with `KILL CONNECTION`, the limit squeezed with `MAX_USER_CONNECTIONS`. Sessions are
//! threads of one server process, so none can be frozen alone.

use dbapi::{params, Connection, Cursor};
use dbapi_mysql::{Mysql, MysqlConnection};
use dbpool_tests::{my_url, Backend, MariaDb};

use crate::server::{id_list, throwaway_password, SoakServer};

const USER: &str = "dbpool_soak";

/// The project's MariaDB, through an admin connection that reconnects after restarts.
pub struct MariaDbSoak {
    admin: Option<MysqlConnection>,
    password: String,
}

impl MariaDbSoak {
    pub fn new() -> Self {
        Self {
            admin: None,
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

    fn admin(&mut self) -> &mut MysqlConnection {
        if self.admin.as_ref().is_none_or(Connection::is_broken) {
            self.admin = Some(dbpool_tests::my_admin());
        }
        self.admin.as_mut().expect("just opened")
    }

    /// Runs `sql` as admin, once more on a fresh connection if the first attempt failed
    /// (a restart may have ended the last one). `tolerate` accepts a second failure.
    fn run(&mut self, sql: &str, tolerate: bool) {
        if self.admin().execute(sql, &params![]).is_err() {
            self.admin = None;
            if let Err(err) = self.admin().execute(sql, &params![]) {
                assert!(tolerate, "{sql}: {err}");
            }
        }
    }

    fn ids(&mut self, sql: &str) -> Vec<i64> {
        for attempt in 0..2 {
            let result = (|| {
                let mut cur = self.admin().cursor()?;
                cur.execute(sql, &params![])?;
                let rows = cur.fetchall()?;
                rows.iter().map(|r| r.get::<i64>(0)).collect()
            })();
            match result {
                Ok(ids) => return ids,
                Err(err) if attempt == 0 && err.is_disconnect() => self.admin = None,
                Err(err) => panic!("{sql}: {err}"),
            }
        }
        unreachable!("two attempts")
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
        self.ids(&format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '{USER}'{excluded}"
        ))
        .first()
        .copied()
        .unwrap_or(0)
    }

    fn backends(&mut self) -> Vec<i64> {
        self.ids(&format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{USER}'"
        ))
    }

    fn terminate(&mut self, id: i64) {
        // The session may have ended on its own meanwhile.
        self.run(&format!("KILL CONNECTION {id}"), true);
    }

    fn restart(&mut self) {
        self.admin = None;
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
        self.ids(&format!("SELECT id FROM {database}.soak_rows"))
    }
}
