//! The MariaDB server restarted under load. In a test binary of its own, so no other test
//! runs while the server goes down.

#[test]
#[ignore = "needs MariaDB: cargo xtask test"]
fn the_pool_recovers_by_itself_from_a_server_restart() {
    dbpool_tests::matrix::the_pool_recovers_by_itself_from_a_server_restart::<dbpool_tests::MariaDb>(
    );
}
