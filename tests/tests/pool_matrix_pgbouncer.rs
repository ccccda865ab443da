//! The pool behaviour matrix through PgBouncer in transaction mode (see
//! `dbpool_tests::pgbouncer`): every scenario that does not end server sessions.

dbpool_tests::pool_matrix!(@tests dbpool_tests::PgBouncer, "needs PgBouncer: cargo xtask test";
    max_size_is_honoured_on_the_server_under_32_threads,
    connections_are_reused_and_clean_after_put,
    a_wrong_password_fails_at_once_with_an_authentication_error,
    a_closed_port_fails_within_connect_timeout,
    a_silent_listener_gives_connect_timeout,
    async_and_sync_share_one_pool_on_the_server,
    sixteen_threads_share_two_connections_without_interleaving,
    evict_all_replaces_every_session,
);
