/**
 * What every CLI command receives: configuration parsed once from the environment, at the
 * edge (bin/main.ts calls {@link contextFromEnv} once), and the terminal. Inner code never
 * reads `process.env`, and the context carries no raw environment: every variable faithsweep
 * reads is a typed field here (docs/architecture.md "Configuration").
 */
import type { Paths } from '../config/paths.ts';
import { resolvePaths } from '../config/paths.ts';

/** Services configured outside the embedded stack. */
export interface ExternalServices {
  /** env `DATABASE_URL` */
  readonly databaseUrl?: string | undefined;
  /** env `NATS_URL` */
  readonly natsUrl?: string | undefined;
  /** env `TEMPORAL_ADDRESS` */
  readonly temporalAddress?: string | undefined;
  /**
   * env `FAITHSWEEP_QUERY_DATABASE_URL`: the URL the results commands (query, export, report)
   * log in with. Default: the database URL with the read-only role `faithsweep_reader`.
   */
  readonly queryDatabaseUrl?: string | undefined;
}

/** Programs named in the environment, over what set-up found (orchestrator/config/tools.ts). */
export interface ToolOverrides {
  /** env `FAITHSWEEP_PG_BIN_DIR`: directory holding initdb, postgres, pg_ctl. */
  readonly pgBinDir?: string | undefined;
  /** env `FAITHSWEEP_NATS_BIN`: the nats-server binary. */
  readonly natsServer?: string | undefined;
  /** env `FAITHSWEEP_TEMPORAL_BIN`: the Temporal CLI binary. */
  readonly temporal?: string | undefined;
  /** env `PRISMA_SCHEMA_ENGINE_BINARY`: Prisma's schema engine (orchestrator/db/migrate.ts findSchemaEngine). */
  readonly prismaSchemaEngine?: string | undefined;
}

/** Configuration and output for a command run. */
export interface CliContext {
  readonly paths: Paths;
  readonly external: ExternalServices;
  /** env `FAITHSWEEP_AGENT_TOKEN` (trimmed; undefined when unset or blank): the agents' shared token. The one place it is read. */
  readonly agentToken: string | undefined;
  /** Program overrides (each undefined when its variable is unset). */
  readonly tools: ToolOverrides;
  /** env `NO_COLOR` set to a non-empty value: no ANSI colour even on a terminal. */
  readonly noColor: boolean;
  /**
   * The environment a child process the command starts inherits (this process's, as given to
   * {@link contextFromEnv}), with `extra` on top. For handing on, never for reading settings.
   */
  childEnv(extra?: Readonly<Record<string, string>>): Record<string, string | undefined>;
  /** Machine-readable output requested (`--json`). */
  readonly json: boolean;
  /** Prints a line of human output to stdout. */
  out(line: string): void;
  /** Prints a line of diagnostics to stderr. */
  err(line: string): void;
}

/** Builds the context from the process environment (called once, in main). */
export function contextFromEnv(env: Readonly<Record<string, string | undefined>>): CliContext {
  const set = (name: string): string | undefined => env[name]?.trim() || undefined;
  return {
    paths: resolvePaths(env),
    external: Object.freeze({
      databaseUrl: set('DATABASE_URL'),
      natsUrl: set('NATS_URL'),
      temporalAddress: set('TEMPORAL_ADDRESS'),
      queryDatabaseUrl: set('FAITHSWEEP_QUERY_DATABASE_URL'),
    }),
    agentToken: set('FAITHSWEEP_AGENT_TOKEN'),
    tools: Object.freeze({
      pgBinDir: set('FAITHSWEEP_PG_BIN_DIR'),
      natsServer: set('FAITHSWEEP_NATS_BIN'),
      temporal: set('FAITHSWEEP_TEMPORAL_BIN'),
      prismaSchemaEngine: set('PRISMA_SCHEMA_ENGINE_BINARY'),
    }),
    noColor: Boolean(env['NO_COLOR']),
    childEnv: (extra = {}) => ({ ...env, ...extra }),
    json: false,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  };
}
