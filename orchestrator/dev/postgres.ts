/**
 * The embedded PostgreSQL cluster: initdb into `<home>/pg` on first use, then a
 * `postgres` process listening on 127.0.0.1 only. Runs as an unprivileged user when
 * faithsweep runs as root (PostgreSQL refuses root).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { launchDetached, runningPid, stopByPidFile, tailLog } from './processes.ts';
import type { ServiceHealth, StackService } from './service.ts';
import { waitHealthy } from './service.ts';

/** Superuser and database created in the embedded cluster. */
export const EMBEDDED_PG_USER = 'faithsweep';
export const EMBEDDED_PG_DATABASE = 'faithsweep';
/** PostgreSQL's fast shutdown can wait on a checkpoint; 30 s covers a busy cluster. */
const PG_STOP_GRACE_MS = 30_000;
/** First start includes crash recovery when the last stop was not clean. */
const PG_START_TIMEOUT_MS = 60_000;

/** Options of the embedded PostgreSQL service. */
export interface PostgresOptions {
  readonly home: string;
  readonly cacheDir: string;
  readonly binDir: string;
  /** Unix user that owns and runs the cluster when we are root; null to run as ourselves. */
  readonly runAs: string | null;
  readonly port: number;
}

/** The URL of the embedded database on `port`. */
export function embeddedDatabaseUrl(port: number, database = EMBEDDED_PG_DATABASE): string {
  return `postgresql://${EMBEDDED_PG_USER}@127.0.0.1:${port}/${database}`;
}

function lookupUser(name: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) {
    throw new FaithsweepError(ErrorCode.TOOL_MISSING, `user ${name} (to run PostgreSQL as) does not exist`, { hint: 'rerun scripts/setup' });
  }
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Creates the embedded PostgreSQL service. */
export function createPostgresService(opts: PostgresOptions): StackService {
  const runDir = join(opts.home, 'run');
  const pidFile = join(runDir, 'postgres.pid');
  const logFile = join(opts.home, 'logs', 'postgres.log');
  const ids = opts.runAs ? lookupUser(opts.runAs) : null;
  const dataDir = join(opts.home, 'pg');
  const url = embeddedDatabaseUrl(opts.port);

  /** Makes sure `<home>/pg` exists, is reachable by the cluster's user, and is initialised. */
  function ensureDataDir(): void {
    if (existsSync(join(dataDir, 'PG_VERSION'))) return;
    mkdirSync(opts.home, { recursive: true });
    let target = dataDir;
    if (ids && !reachableBy(opts.home, ids)) {
      // The checkout is in a folder the unprivileged user cannot enter (e.g. under /root):
      // keep the cluster in the cache and link it from <home>/pg.
      const key = createHash('sha256').update(opts.home).digest('hex').slice(0, 12);
      target = join('/var/tmp', `faithsweep-pg-${key}`);
      if (!existsSync(dataDir)) symlinkSync(target, dataDir);
    }
    mkdirSync(target, { recursive: true, mode: 0o700 });
    if (ids) chownSync(target, ids.uid, ids.gid);
    if (existsSync(join(target, 'PG_VERSION'))) return;
    const r = spawnSync(join(opts.binDir, 'initdb'), ['-D', target, '-U', EMBEDDED_PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C'], {
      encoding: 'utf8',
      ...(ids ?? {}),
    });
    if (r.status !== 0) {
      throw new FaithsweepError(ErrorCode.SERVICE_START_FAILED, `initdb failed for ${target}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`, {
        hint: `check that ${opts.runAs ?? 'this user'} can write there`,
      });
    }
  }

  async function probe(): Promise<ServiceHealth> {
    const pid = runningPid(pidFile);
    const client = new pg.Client({ connectionString: embeddedDatabaseUrl(opts.port, 'postgres'), connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const r = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      return { state: 'healthy', pid, endpoint: url, detail: `PostgreSQL ${r.rows[0]?.v ?? '?'}` };
    } catch (err) {
      if (pid === null) return { state: 'stopped', endpoint: url };
      return { state: 'unhealthy', pid, endpoint: url, reason: (err as Error).message };
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async function ensureDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: embeddedDatabaseUrl(opts.port, 'postgres') });
    await client.connect();
    try {
      const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_PG_DATABASE]);
      if (r.rowCount === 0) await client.query(`CREATE DATABASE "${EMBEDDED_PG_DATABASE}"`);
    } finally {
      await client.end();
    }
  }

  return {
    name: 'postgres',
    managed: true,
    async start() {
      if (runningPid(pidFile) === null) {
        ensureDataDir();
        launchDetached({
          command: join(opts.binDir, 'postgres'),
          // TCP on loopback only; no unix socket (the data dir may be unreadable to others).
          args: ['-D', dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'synchronous_commit=off'],
          logFile,
          pidFile,
          ...(ids ?? {}),
        });
      }
      const h = await waitHealthy(probe, () => runningPid(pidFile) !== null, PG_START_TIMEOUT_MS);
      if (h.state !== 'healthy') {
        throw new FaithsweepError(ErrorCode.SERVICE_START_FAILED, `PostgreSQL did not become healthy on port ${opts.port}`, {
          hint: `see ${logFile}:\n${tailLog(logFile)}`,
        });
      }
      await ensureDatabase();
    },
    // SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
    stop: () => stopByPidFile(pidFile, 'SIGINT', PG_STOP_GRACE_MS),
    health: probe,
  };
}

/** Whether the user `ids` can traverse every directory from / down to `dir`. */
function reachableBy(dir: string, ids: { uid: number; gid: number }): boolean {
  const r = spawnSync('test', ['-x', dir], { ...ids });
  return r.status === 0;
}
