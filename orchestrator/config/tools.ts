/**
 * The programs the local stack runs, as found by `scripts/setup` (which writes
 * `<home>/tools.json`), with environment overrides on top.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { ToolOverrides } from '../../common/cli/context.ts';

/** Paths of the external programs. */
export interface Tools {
  /** Directory holding initdb, postgres, pg_ctl (env `FAITHSWEEP_PG_BIN_DIR`); null when only DATABASE_URL is used. */
  readonly pgBinDir: string | null;
  /** Unprivileged user that runs PostgreSQL when faithsweep runs as root; null otherwise. */
  readonly pgRunAs: string | null;
  /** nats-server binary (env `FAITHSWEEP_NATS_BIN`). */
  readonly natsServer: string;
  /** Temporal CLI binary (env `FAITHSWEEP_TEMPORAL_BIN`). */
  readonly temporal: string;
}

/**
 * Loads the tool paths: `<home>/tools.json`, else `<cacheDir>/tools.json` (set-up writes both,
 * so a fresh `FAITHSWEEP_HOME` finds the programs set-up already located or built for this
 * user), then the environment's overrides on top. Throws `TOOL_MISSING` naming both files when
 * set-up has not run yet.
 */
export function loadTools(home: string, overrides: ToolOverrides, cacheDir?: string): Tools {
  const candidates = [join(home, 'tools.json'), ...(cacheDir ? [join(cacheDir, 'tools.json')] : [])];
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    throw new FaithsweepError(ErrorCode.TOOL_MISSING, `no ${candidates.join(' nor ')}: the local stack's programs have not been located yet`, {
      hint: 'run `npm run setup` (scripts/setup) once',
    });
  }
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<Tools>;
  return Object.freeze({
    pgBinDir: overrides.pgBinDir || raw.pgBinDir || null,
    pgRunAs: raw.pgRunAs ?? null,
    natsServer: overrides.natsServer || raw.natsServer || 'nats-server',
    temporal: overrides.temporal || raw.temporal || 'temporal',
  });
}
