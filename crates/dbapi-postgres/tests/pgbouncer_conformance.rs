//! The dbapi20-style conformance suite through PgBouncer in transaction-pooling mode (started
//! in front of the project's PostgreSQL by `cargo xtask test`), in the adapter's PgBouncer
//! mode: every check runs as it does on the server itself.

mod support;

use support::{Bouncer, PgContext};

dbapi_conformance::conformance_tests!(PgContext<Bouncer>, #[ignore = "needs PgBouncer: cargo xtask test"]);
