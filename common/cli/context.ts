/**
 * What every CLI command receives: configuration parsed once from the environment, and
 * the terminal. Inner code never reads `process.env`.
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

/** Configuration and output for a command run. */
export interface CliContext {
  readonly paths: Paths;
  readonly external: ExternalServices;
  /** The raw environment, only for locating tools (see config/tools.ts). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Machine-readable output requested (`--json`). */
  readonly json: boolean;
  /** Prints a line of human output to stdout. */
  out(line: string): void;
  /** Prints a line of diagnostics to stderr. */
  err(line: string): void;
}

/** Builds the context from the process environment (called once, in main). */
export function contextFromEnv(env: Readonly<Record<string, string | undefined>>): CliContext {
  return {
    paths: resolvePaths(env),
    external: Object.freeze({
      databaseUrl: env['DATABASE_URL'] || undefined,
      natsUrl: env['NATS_URL'] || undefined,
      temporalAddress: env['TEMPORAL_ADDRESS'] || undefined,
      queryDatabaseUrl: env['FAITHSWEEP_QUERY_DATABASE_URL'] || undefined,
    }),
    env,
    json: false,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  };
}
