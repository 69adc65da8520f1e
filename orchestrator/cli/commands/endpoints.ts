/**
 * The one resolution of the service endpoints every command uses: each endpoint from its
 * environment variable (parsed once into `ctx.external`, common/cli/context.ts), else the
 * local stack's (`<home>/stack.json`, written by `faithsweep dev up`). Each endpoint is resolved
 * on its own, so a command that needs only the database works with DATABASE_URL alone
 * (`DATABASE_URL=… faithsweep status` as `query`), and a missing one is named.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../../../common/cli/context.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { endpointsFor, loadOrAllocatePorts } from '../../dev/stack.ts';
import type { Endpoints } from '../../dev/stack.ts';
import { readerUrl } from '../../results/connect.ts';

/** An endpoint that can come from the environment. */
export type EndpointKey = 'databaseUrl' | 'natsUrl' | 'temporalAddress';

/** The environment variable of each endpoint. */
export const ENDPOINT_VARIABLES: Readonly<Record<EndpointKey, string>> = Object.freeze({
  databaseUrl: 'DATABASE_URL',
  natsUrl: 'NATS_URL',
  temporalAddress: 'TEMPORAL_ADDRESS',
});

const SERVICE: Readonly<Record<EndpointKey, string>> = { databaseUrl: 'database', natsUrl: 'NATS server', temporalAddress: 'Temporal server' };

/** The local stack's endpoints with the environment's over them, or null when the stack was never started (no ports are allocated then). */
async function localEndpoints(ctx: CliContext): Promise<Endpoints | null> {
  if (!existsSync(join(ctx.paths.home, 'stack.json'))) return null;
  return endpointsFor(await loadOrAllocatePorts(ctx.paths.home), ctx.external);
}

/** One endpoint, or undefined when neither its variable nor a local stack gives it (never throws). */
export async function configuredEndpoint(ctx: CliContext, key: EndpointKey): Promise<string | undefined> {
  return ctx.external[key] ?? (await localEndpoints(ctx))?.[key];
}

/** One endpoint; throws SERVICE_UNAVAILABLE naming its variable when neither it nor a local stack gives it. */
export async function endpointFor(ctx: CliContext, key: EndpointKey): Promise<string> {
  const url = await configuredEndpoint(ctx, key);
  if (url === undefined) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `no ${SERVICE[key]}: ${ENDPOINT_VARIABLES[key]} is not set and the local stack was never started`, {
      hint: `run 'npx faithsweep dev up' first, or set ${ENDPOINT_VARIABLES[key]}`,
    });
  }
  if (key === 'databaseUrl') checkPostgresUrl(url, ENDPOINT_VARIABLES[key]);
  return url;
}

/** BAD_CONFIG naming `variable` unless `url` is a postgres:// or postgresql:// URL (node-postgres reads anything else as a host name). */
function checkPostgresUrl(url: string, variable: string): void {
  let ok: boolean;
  try {
    ok = /^postgres(ql)?:$/.test(new URL(url).protocol);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new FaithsweepError(ErrorCode.BAD_CONFIG, `${variable} must be a postgresql:// URL (got '${url.length > 80 ? `${url.slice(0, 80)}…` : url}')`, {
      hint: `e.g. ${variable}=postgresql://user@host:5432/faithsweep; unset it to use the local stack`,
    });
  }
}

/** Every endpoint, each as {@link endpointFor} resolves it (the Temporal UI only for the local stack's Temporal). */
export async function endpointsFromContext(ctx: CliContext): Promise<Endpoints> {
  const [databaseUrl, natsUrl, temporalAddress] = await Promise.all([endpointFor(ctx, 'databaseUrl'), endpointFor(ctx, 'natsUrl'), endpointFor(ctx, 'temporalAddress')]);
  const temporalUiUrl = ctx.external.temporalAddress ? null : (await localEndpoints(ctx))?.temporalUiUrl ?? null;
  return Object.freeze({ databaseUrl, natsUrl, temporalAddress, temporalUiUrl });
}

/** The database URL (DATABASE_URL, else the local stack's); throws SERVICE_UNAVAILABLE when there is neither. */
export function databaseUrlFor(ctx: CliContext): Promise<string> {
  return endpointFor(ctx, 'databaseUrl');
}

/**
 * The URL the results commands (query, export, report) read with: FAITHSWEEP_QUERY_DATABASE_URL,
 * else the database URL logged in as the read-only role (see results/connect.ts readerUrl).
 */
export async function readerDatabaseUrlFor(ctx: CliContext): Promise<string> {
  if (ctx.external.queryDatabaseUrl !== undefined) {
    checkPostgresUrl(ctx.external.queryDatabaseUrl, 'FAITHSWEEP_QUERY_DATABASE_URL');
    return ctx.external.queryDatabaseUrl;
  }
  return readerUrl(await databaseUrlFor(ctx));
}
