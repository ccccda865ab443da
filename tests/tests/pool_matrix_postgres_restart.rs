//! The PostgreSQL server restarted under load. In a test binary of its own, so no other
//! test runs while the server goes down.

#[test]
#[ignore = "needs PostgreSQL: cargo xtask test"]
fn the_pool_recovers_by_itself_from_a_server_restart() {
    dbpool_tests::matrix::the_pool_recovers_by_itself_from_a_server_restart::<dbpool_tests::Pg>();
}
