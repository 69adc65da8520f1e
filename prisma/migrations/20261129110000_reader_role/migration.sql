-- The role `faithsweep query`, `export` and `report` log in as: it can read the tables and
-- the views and nothing else. It is not a superuser, so it cannot read server files
-- (pg_read_file, server-side lo_import need superuser or pg_read_server_files), cannot signal
-- other roles' backends (pg_cancel_backend / pg_terminate_backend), and since it holds only
-- SELECT, `SET TRANSACTION READ WRITE` or `COMMIT; DELETE …` tricks still cannot write.
-- The role is cluster-wide: created once, tolerated when it exists already (another database
-- of the same cluster), and skipped with a notice where this user may not create roles
-- (a managed database: create it there by hand, see docs/sql.md).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'faithsweep_reader') THEN
    CREATE ROLE faithsweep_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
  WHEN insufficient_privilege THEN RAISE NOTICE 'faithsweep_reader not created (no CREATEROLE): faithsweep query needs it';
END $$;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'faithsweep_reader') THEN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO faithsweep_reader', current_database());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO faithsweep_reader', current_schema());
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO faithsweep_reader', current_schema());
    -- Tables and views that later migrations create (as this same user) are readable too.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO faithsweep_reader', current_schema());
  END IF;
END $$;
