// Endpoints are resolved one way for every command (orchestrator/cli/commands/endpoints.ts):
// with DATABASE_URL alone and no local stack, `status` reads the database as `query` does;
// with neither, both name the missing variable. Real PostgreSQL (a fresh database).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../common/config/paths.ts';
import { freshDatabase } from './helpers/db.ts';
import type { TestDatabase } from './helpers/db.ts';

describe('endpoints from the environment', () => {
  let database: TestDatabase;
  let home: string;

  before(async () => {
    database = await freshDatabase('cli_endpoints');
    await database.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "updatedAt") VALUES ('ep', 'ep', '{}', 'h', 'completed', now())`);
    // A home where the local stack was never started: no stack.json, so nothing but the environment names a service.
    home = mkdtempSync(join(tmpdir(), 'faithsweep-endpoints-'));
  });
  after(async () => {
    await database?.drop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** Runs the CLI with only `env` set of the service variables, in the fresh home. */
  function cli(env: Record<string, string>, ...args: string[]) {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'FAITHSWEEP_QUERY_DATABASE_URL'].includes(k)));
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...base, FAITHSWEEP_HOME: home, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('DATABASE_URL=… faithsweep status works like query, without NATS_URL or TEMPORAL_ADDRESS', () => {
    const env = { DATABASE_URL: database.url, FAITHSWEEP_QUERY_DATABASE_URL: database.url };
    const q = cli(env, 'query', `SELECT status FROM "Sweep" WHERE id = 'ep'`, '--json');
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /completed/);
    const s = cli(env, 'status', 'ep', '--json');
    assert.equal(s.code, 0, s.stderr);
    const status = JSON.parse(s.stdout) as { sweepId: string; status: string; units: { total: number } };
    assert.deepEqual([status.sweepId, status.status, status.units.total], ['ep', 'completed', 0]);
  });

  it('names the missing variable when neither it nor a local stack gives the database', () => {
    for (const args of [['status', 'ep'], ['query', 'SELECT 1']]) {
      const r = cli({}, ...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^error\[SERVICE_UNAVAILABLE\]: no database: DATABASE_URL is not set and the local stack was never started/, args.join(' '));
    }
  });
});
