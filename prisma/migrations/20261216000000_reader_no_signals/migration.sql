-- PostgreSQL lets a role signal its own backends, so two sessions of faithsweep_reader (two
-- `faithsweep query` runs, or a query and a report) could cancel or end each other with
-- pg_cancel_backend / pg_terminate_backend, which every role may call (EXECUTE is granted to
-- PUBLIC). In this database the two functions are left to superusers (and to roles granted
-- EXECUTE on them by hand); faithsweep itself never calls them: `query` stops its own statement
-- with the protocol's cancel request, which needs no privilege.
-- Only the functions' owner (a superuser) may revoke: elsewhere (a managed database) the
-- migration prints a notice and the readers can still signal each other (docs/sql.md).
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    REVOKE EXECUTE ON FUNCTION pg_catalog.pg_cancel_backend(integer) FROM PUBLIC;
    REVOKE EXECUTE ON FUNCTION pg_catalog.pg_terminate_backend(integer, bigint) FROM PUBLIC;
  ELSE
    RAISE NOTICE 'pg_cancel_backend/pg_terminate_backend left callable by PUBLIC (not a superuser): faithsweep_reader sessions can signal each other';
  END IF;
END $$;
