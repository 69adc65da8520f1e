// `faithsweep dev up | status | down` on a stack of its own (a temporary FAITHSWEEP_HOME):
// three healthy services, the Temporal UI answering HTTP, nothing left running after
// `down`, and the data still there after `up` again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { REPO_ROOT, resolvePaths } from '../common/config/paths.ts';

const home = join(REPO_ROOT, '.faithsweep', `test-dev-${randomBytes(3).toString('hex')}`);

function cli(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, FAITHSWEEP_HOME: home };
  delete env['DATABASE_URL'];
  delete env['NATS_URL'];
  delete env['TEMPORAL_ADDRESS'];
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface StatusJson {
  endpoints: { databaseUrl: string; temporalUiUrl: string };
  services: { name: string; health: { state: string; pid?: number } }[];
}

function status(): StatusJson {
  return JSON.parse(cli('dev', 'status', '--json').stdout) as StatusJson;
}

function recordedPids(): number[] {
  const run = join(home, 'run');
  return readdirSync(run).map((f) => (JSON.parse(readFileSync(join(run, f), 'utf8')) as { pid: number }).pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the embedded local stack', () => {
  before(() => {
    mkdirSync(home, { recursive: true });
    copyFileSync(join(resolvePaths(process.env).home, 'tools.json'), join(home, 'tools.json'));
  });
  after(() => {
    cli('dev', 'down');
    rmSync(home, { recursive: true, force: true });
  });

  it('comes up healthy, serves the Temporal UI, stops cleanly and keeps its data', async () => {
    const up = cli('dev', 'up');
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Temporal UI: +http:\/\/127\.0\.0\.1:\d+/);
    assert.match(up.stdout, /psql: +psql "postgresql:\/\//);

    const s = status();
    assert.deepEqual(s.services.map((x) => [x.name, x.health.state]), [['postgres', 'healthy'], ['nats', 'healthy'], ['temporal', 'healthy']]);
    const ui = await fetch(s.endpoints.temporalUiUrl);
    assert.equal(ui.status, 200);

    const db = new pg.Client({ connectionString: s.endpoints.databaseUrl });
    await db.connect();
    await db.query('CREATE TABLE keep (x int); INSERT INTO keep VALUES (42)');
    await db.end();

    const pids = recordedPids();
    assert.equal(pids.length, 3);
    const down = cli('dev', 'down');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(pids.filter(alive), [], 'no service process survives dev down');
    assert.deepEqual(status().services.map((x) => x.health.state), ['stopped', 'stopped', 'stopped']);

    assert.equal(cli('dev', 'up').code, 0);
    const again = new pg.Client({ connectionString: status().endpoints.databaseUrl });
    await again.connect();
    const r = await again.query('SELECT x FROM keep');
    await again.end();
    assert.deepEqual(r.rows, [{ x: 42 }]);
  });
});
