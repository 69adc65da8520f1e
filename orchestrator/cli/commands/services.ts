/**
 * Connections the sweep commands share (endpoints are resolved in ./endpoints.ts): the Temporal client, the agents' shared token, and the spec file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { assertSchemaCurrent, readMigrations } from '../../db/migrate.ts';
import type { CliContext } from '../../../common/cli/context.ts';
import { ErrorCode, FaithsweepError } from '../../../common/errors.ts';
import { parseSpec } from '../../sweep/spec.ts';
import type { SweepSpec } from '../../sweep/spec-types.ts';
import { tokenProblem } from '../../../common/grpc/auth.ts';

/** Task queue of the sweep workflows when none is configured. */
export { DEFAULT_TASK_QUEUE } from '../../worker/create-worker.ts';

/** A Temporal client; close its connection with `client.connection.close()`. */
export async function temporalClient(address: string): Promise<Client> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 5000 });
    return new Client({ connection });
  } catch (err) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to Temporal at ${address}: ${(err as Error).message}`, {
      hint: "start the local stack with 'npx faithsweep dev up', or fix TEMPORAL_ADDRESS",
    });
  }
}

/** Path of the local stack's agent token (created on first use). */
export function localTokenPath(home: string): string {
  return join(home, 'agent-token');
}

/** The agents refuse a token that breaks {@link tokenProblem}'s rule: refuse it here too, before anything starts. */
function checkedToken(token: string, where: string): string {
  const problem = tokenProblem(token);
  if (problem !== null) {
    throw new FaithsweepError(ErrorCode.BAD_ARGS, `${where}: ${problem}`, {
      hint: "use the token the agents were started with (the local stack's is .faithsweep/agent-token)",
    });
  }
  return token;
}

/**
 * The agents' shared token: `--token-file`, else FAITHSWEEP_AGENT_TOKEN, else the local
 * stack's token file (created, mode 600, when `create` is set).
 */
export function agentToken(ctx: CliContext, tokenFile: string | undefined, create = false): string {
  if (tokenFile) {
    const p = resolve(tokenFile);
    if (!existsSync(p)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--token-file ${p} does not exist`);
    if (statSync(p).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--token-file ${p} is a directory, not a file`, { hint: 'give the file that holds the agents\' shared token' });
    return checkedToken(readFileSync(p, 'utf8').trim(), `--token-file ${p}`);
  }
  if (ctx.agentToken) return checkedToken(ctx.agentToken, 'FAITHSWEEP_AGENT_TOKEN');
  const p = localTokenPath(ctx.paths.home);
  if (!existsSync(p)) {
    if (!create) {
      throw new FaithsweepError(ErrorCode.BAD_ARGS, 'no agent token: pass --token-file or set FAITHSWEEP_AGENT_TOKEN', { hint: `or let 'faithsweep demo' create ${p}` });
    }
    mkdirSync(ctx.paths.home, { recursive: true });
    writeFileSync(p, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
    chmodSync(p, 0o600);
  }
  return readFileSync(p, 'utf8').trim();
}

/** Reads and validates a spec file; BAD_ARGS when it cannot be read. */
export function readSpec(path: string | undefined): { spec: SweepSpec; path: string } {
  if (!path) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'missing SPEC: the path of a sweep spec (YAML)', { hint: 'e.g. examples/demo.yaml; see docs/spec.md' });
  const p = resolve(path);
  if (!existsSync(p)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `spec file ${path} does not exist`, { hint: 'e.g. examples/demo.yaml' });
  if (statSync(p).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_ARGS, `spec file ${path} is a directory, not a YAML file`, { hint: 'e.g. examples/demo.yaml' });
  return { spec: parseSpec(readFileSync(p, 'utf8'), path), path: p };
}

/** The positional SWEEP argument (a sweep name, which is also its id). */
export function sweepArg(positionals: readonly string[]): string {
  const s = positionals[0];
  if (!s) throw new FaithsweepError(ErrorCode.BAD_ARGS, 'missing SWEEP: the name of a sweep', { hint: "'faithsweep list' shows them" });
  if (positionals.length > 1) throw new FaithsweepError(ErrorCode.BAD_ARGS, `unexpected argument '${positionals[1]}'`);
  return s;
}

/** Connects to the database and throws SCHEMA_OUTDATED when migrations are pending. */
export async function checkSchema(ctx: CliContext, databaseUrl: string): Promise<void> {
  const sql = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await sql.connect();
  } catch (err) {
    throw new FaithsweepError(ErrorCode.SERVICE_UNAVAILABLE, `cannot connect to the database: ${(err as Error).message}`, { hint: "run 'npx faithsweep dev up', or fix DATABASE_URL" });
  }
  try {
    await assertSchemaCurrent(sql, readMigrations(ctx.paths.migrationsDir));
  } finally {
    await sql.end();
  }
}
