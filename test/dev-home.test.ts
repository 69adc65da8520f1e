// A fresh FAITHSWEEP_HOME on a machine where set-up has run: `dev status` finds the programs
// set-up located (through the per-user cache's tools.json) instead of failing with
// TOOL_MISSING, and when a default port is held by another program the stack says which port
// it chose instead. Nothing is started: `dev status` only reads and probes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, resolvePaths } from '../common/config/paths.ts';
import { DEFAULT_PORTS, portNotes } from '../orchestrator/dev/stack.ts';
import type { StackPorts } from '../orchestrator/dev/stack.ts';

const cacheDir = resolvePaths(process.env).cacheDir;
let dir: string;
let holder: Server | undefined;

function cli(env: Record<string, string>, ...args: string[]) {
  const base: NodeJS.ProcessEnv = { ...process.env, FAITHSWEEP_DEBUG: '' };
  for (const k of ['DATABASE_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'FAITHSWEEP_PG_BIN_DIR', 'FAITHSWEEP_NATS_BIN', 'FAITHSWEEP_TEMPORAL_BIN']) delete base[k];
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...base, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Holds 127.0.0.1:`port` for the test, unless another program holds it already (then it is taken anyway). */
function hold(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'faithsweep-fresh-home-'));
  holder = await hold(DEFAULT_PORTS.nats);
});
after(async () => {
  await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a fresh FAITHSWEEP_HOME', () => {
  it('set-up leaves the tools it located in the per-user cache too', () => {
    const file = join(cacheDir, 'tools.json');
    assert.ok(existsSync(file), `${file} is missing: run npm run setup (scripts/setup)`);
    const tools = JSON.parse(readFileSync(file, 'utf8')) as { natsServer: string; temporal: string };
    assert.ok(tools.natsServer && tools.temporal, JSON.stringify(tools));
  });

  it('finds those tools, and names the port it took instead of the held default NATS port', () => {
    const home = join(dir, 'home');
    const r = cli({ FAITHSWEEP_HOME: home }, 'dev', 'status', '--json');
    assert.doesNotMatch(r.stderr, /TOOL_MISSING/);
    assert.equal(r.code, 3, `nothing runs in a fresh home, so status says unhealthy (3):\n${r.stderr}`);
    const ports = (JSON.parse(readFileSync(join(home, 'stack.json'), 'utf8')) as { ports: StackPorts }).ports;
    assert.notEqual(ports.nats, DEFAULT_PORTS.nats, 'the held default port is not chosen');
    const note = `nats ${ports.nats} (default ${DEFAULT_PORTS.nats} was taken)`;
    assert.ok(r.stderr.includes(`note: not every default port was free, so the local stack uses others (kept in ${join(home, 'stack.json')})`), r.stderr);
    assert.ok(r.stderr.includes(note), r.stderr);
    const json = JSON.parse(r.stdout) as { portNotes: string[]; endpoints: { natsUrl: string } };
    assert.ok(json.portNotes.includes(note), JSON.stringify(json.portNotes));
    assert.equal(json.endpoints.natsUrl, `nats://127.0.0.1:${ports.nats}`);
  });

  it('status of a stack that is not running ends with the command that starts it; down says once that nothing runs', () => {
    const home = join(dir, 'home');
    const r = cli({ FAITHSWEEP_HOME: home }, 'dev', 'status');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^postgres +stopped /m);
    assert.ok(r.stdout.endsWith('\nstart it with: npx faithsweep dev up\n'), r.stdout);
    for (let i = 0; i < 2; i++) {
      const d = cli({ FAITHSWEEP_HOME: home }, 'dev', 'down');
      assert.equal(d.code, 0, d.stderr);
      assert.equal(d.stdout, 'the local stack was not running: nothing to stop (temporal, nats, postgres)\n');
    }
    assert.deepEqual(JSON.parse(cli({ FAITHSWEEP_HOME: home }, 'dev', 'down', '--json').stdout), [
      { name: 'temporal', stopped: false }, { name: 'nats', stopped: false }, { name: 'postgres', stopped: false },
    ]);
  });

  it('fails with TOOL_MISSING naming both places when set-up has not run for this user either', () => {
    const home = join(dir, 'home2');
    const cache = join(dir, 'empty-cache');
    const r = cli({ FAITHSWEEP_HOME: home, FAITHSWEEP_CACHE_DIR: cache }, 'dev', 'status');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[TOOL_MISSING\]: no .*home2\/tools\.json nor .*empty-cache\/tools\.json/);
    assert.match(r.stderr, /hint: run `npm run setup`/);
  });
});

describe('port notes', () => {
  it('name only the ports of managed services that differ from the defaults', () => {
    const ports: StackPorts = { ...DEFAULT_PORTS, postgres: 40001, temporalUi: 40002 };
    assert.deepEqual(portNotes(DEFAULT_PORTS, ['postgres', 'nats', 'temporal']), []);
    assert.deepEqual(portNotes(ports, ['postgres', 'nats', 'temporal']), ['postgres 40001 (default 55432 was taken)', 'temporalUi 40002 (default 8233 was taken)']);
    assert.deepEqual(portNotes(ports, ['nats']), [], 'an external service has no port of ours');
  });
});
