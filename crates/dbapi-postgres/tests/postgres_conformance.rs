//! The dbapi20-style conformance suite on a real PostgreSQL server (started by
//! `cargo xtask test`).

mod support;

use support::{Direct, PgContext};

dbapi_conformance::conformance_tests!(PgContext<Direct>, #[ignore = "needs PostgreSQL: cargo xtask test"]);
