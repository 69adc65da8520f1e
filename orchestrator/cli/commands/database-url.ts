/** The database URL a command should use: DATABASE_URL, else the embedded stack's. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../../../common/cli/context.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { endpointsFor, loadOrAllocatePorts } from '../../dev/stack.ts';
import { readerUrl } from '../../results/connect.ts';

/**
 * The URL the results commands (query, export, report) read with: FAITHSWEEP_QUERY_DATABASE_URL,
 * else the database URL logged in as the read-only role (see results/connect.ts readerUrl).
 */
export async function readerDatabaseUrlFor(ctx: CliContext): Promise<string> {
  return ctx.external.queryDatabaseUrl ?? readerUrl(await databaseUrlFor(ctx));
}

/** Resolves the database URL; throws `SERVICE_UNAVAILABLE` when there is neither. */
export async function databaseUrlFor(ctx: CliContext): Promise<string> {
  if (ctx.external.databaseUrl) return ctx.external.databaseUrl;
  if (!existsSync(join(ctx.paths.home, 'stack.json'))) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, 'no database: DATABASE_URL is not set and the local stack was never started', {
      hint: "run 'npx faithsweep dev up' first, or set DATABASE_URL",
    });
  }
  return endpointsFor(await loadOrAllocatePorts(ctx.paths.home), ctx.external).databaseUrl;
}
