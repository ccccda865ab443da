//! The pool behaviour matrix through the ODBC adapter, on PostgreSQL via psqlODBC: the
//! scenarios the ODBC issue names, counted on the server as for the native adapter.

dbpool_tests::pool_matrix!(@tests dbpool_tests::PgOdbc, "needs PostgreSQL and psqlODBC: cargo xtask test";
    max_size_is_honoured_on_the_server_under_32_threads,
    connections_are_reused_and_clean_after_put,
    a_session_killed_while_idle_is_evicted,
    a_session_killed_while_checked_out_is_evicted,
    a_wrong_password_fails_at_once_with_an_authentication_error,
    a_closed_port_fails_within_connect_timeout,
    a_silent_listener_gives_connect_timeout,
    async_and_sync_share_one_pool_on_the_server,
    sixteen_threads_share_two_connections_without_interleaving,
    a_commit_cut_off_by_a_lost_connection_has_an_unknown_outcome,
    evict_all_replaces_every_session,
    a_pooled_cursor_streams_as_the_driver_does,
);
