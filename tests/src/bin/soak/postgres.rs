//! The soak on the project's PostgreSQL: a role of its own, sessions counted in
//! `pg_stat_activity` by application name, frozen with SIGSTOP.

use std::process::Command;

use dbapi::{Connection, Module};
use dbapi_postgres::{PgConnection, Postgres};
use dbpool_tests::{Backend, Pg};

use crate::server::{id_list, throwaway_password, Admin, SoakServer};

/// The application name the soak's connections carry.
const TAG: &str = "dbpool-soak";

/// The project's PostgreSQL, through an admin connection that reconnects after restarts.
pub struct PgSoak {
    admin: Admin<PgConnection>,
    password: String,
}

/// A superuser connection to the test database, autocommitting.
fn open_admin() -> PgConnection {
    let url = std::env::var("DBPOOL_PG_ADMIN_URL")
        .expect("DBPOOL_PG_ADMIN_URL: run the soak with `cargo xtask soak`");
    let (server, _) = url.rsplit_once('/').expect("a database in the admin URL");
    let mut conn = Postgres::from_dsn(&format!("{server}/dbpool_test"))
        .expect("admin DSN")
        .application_name("dbpool-soak-admin")
        .connect()
        .expect("admin connects");
    conn.set_autocommit(true).expect("autocommit");
    conn
}

impl PgSoak {
    pub fn new() -> Self {
        Self {
            admin: Admin::new(open_admin),
            password: throwaway_password(),
        }
    }

    fn run(&mut self, sql: &str) {
        self.admin.run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl SoakServer for PgSoak {
    type Module = Postgres;
    const CAN_FREEZE: bool = true;
    const NAME: &'static str = "PostgreSQL";

    fn prepare(&mut self) -> Postgres {
        let password = self.password.clone();
        self.run(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dbpool_soak') \
             THEN CREATE ROLE dbpool_soak LOGIN; END IF; END $$",
        );
        self.run(&format!(
            "ALTER ROLE dbpool_soak PASSWORD '{password}' CONNECTION LIMIT -1"
        ));
        self.run("DROP TABLE IF EXISTS soak_rows");
        self.run("CREATE TABLE soak_rows (id bigint PRIMARY KEY, worker int NOT NULL)");
        self.run("GRANT SELECT, INSERT ON soak_rows TO dbpool_soak");
        let url = dbpool_tests::pg_url();
        let (_, server) = url.split_once('@').expect("user@host in DBPOOL_PG_URL");
        Postgres::from_dsn(&format!("postgres://dbpool_soak:{password}@{server}"))
            .expect("soak DSN")
            .application_name(TAG)
    }

    fn sessions(&mut self, ending: &[i64]) -> i64 {
        let excluded = if ending.is_empty() {
            String::new()
        } else {
            format!(" AND pid NOT IN ({})", id_list(ending))
        };
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{TAG}'{excluded}"
        );
        self.admin
            .ids(&format!("SELECT ({sql})::int8"))
            .first()
            .copied()
            .unwrap_or(0)
    }

    fn backends(&mut self) -> Vec<i64> {
        self.admin.ids(&format!(
            "SELECT pid::int8 FROM pg_stat_activity WHERE application_name = '{TAG}'"
        ))
    }

    fn terminate(&mut self, id: i64) {
        // The session may have ended on its own meanwhile.
        let _ = self
            .admin
            .run(&format!("SELECT pg_terminate_backend({id})"));
    }

    fn restart(&mut self) {
        self.admin.forget();
        Pg::restart();
    }

    fn freeze(&mut self, id: i64, frozen: bool) -> bool {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        Command::new("kill")
            .args([signal, &id.to_string()])
            .status()
            .is_ok_and(|s| s.success())
    }

    fn limit(&mut self, connections: Option<u32>) {
        let limit = connections.map_or(-1, i64::from);
        self.run(&format!("ALTER ROLE dbpool_soak CONNECTION LIMIT {limit}"));
    }

    fn committed_ids(&mut self) -> Vec<i64> {
        self.admin.ids("SELECT id FROM soak_rows")
    }
}
