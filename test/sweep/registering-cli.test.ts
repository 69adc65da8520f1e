// A launch killed during registration leaves its sweep `registering` (no workflow, no results):
// `resume` refuses it before Temporal is asked and names both ways out; `cancel` removes it (its
// work units with it, prompts and models kept) without Temporal, unless a launch still holds the
// sweep's registration lock; a launch of a changed spec under that name names `cancel`; after the
// cancel the name registers anew. Real PostgreSQL; Temporal and NATS are unreachable on purpose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { REPO_ROOT, resolvePaths } from '../../common/config/paths.ts';
import { FaithsweepError } from '../../common/errors.ts';
import { planSweep } from '../../orchestrator/sweep/plan.ts';
import { parseSpec } from '../../orchestrator/sweep/spec.ts';
import { registerSweep } from '../../orchestrator/sweep/register.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;

describe('a sweep left registering by a killed launch', () => {
  let t: TestDatabase;
  let dir: string;
  before(async () => {
    t = await freshDatabase('registering');
    dir = mkdtempSync(join(tmpdir(), 'faithsweep-registering-'));
    // What a launch killed after its first batch leaves: the Sweep row `registering` and a prefix of its work units.
    await t.sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('ma', 'arith-cot', 'models/arith-cot', 'a', '{}')`);
    await t.sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") SELECT 'p' || i, 'd', i, '1+1=', '2' FROM generate_series(0, 2) i`);
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "updatedAt") VALUES ('reg', 'reg', '{"format": 1}', 'h', 'registering', now())`);
    await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") SELECT 'reg:u' || i, 'reg', i, 'ma', 'p' || i, 0, now() FROM generate_series(0, 2) i`);
  });
  after(async () => {
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function faithsweep(...args: string[]) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], {
      encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000,
      env: { ...process.env, FAITHSWEEP_MODELS: MODELS_DIR, DATABASE_URL: t.url, NATS_URL: 'nats://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1', FAITHSWEEP_DEBUG: '' },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const count = async (table: string, where = '"sweepId" = \'reg\'') => (await t.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE ${where}`)).rows[0]!.n;

  it('resume refuses it before asking Temporal, naming launch and cancel', () => {
    const r = faithsweep('resume', 'reg');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error\[BAD_ARGS\]: sweep 'reg' is not fully registered/);
    assert.match(r.stderr, /hint: run 'faithsweep launch SPEC' again with its spec: .*; or 'faithsweep cancel reg' removes it/);
  });

  it('a launch of a changed spec under its name says that cancel removes it', async () => {
    const path = join(dir, 'reg.yaml');
    const text = 'name: reg\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 2}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n';
    writeFileSync(path, text);
    const plan = await planSweep(parseSpec(text, path), { specPath: path, modelsDir: MODELS_DIR });
    await assert.rejects(registerSweep(t.sql, plan), (err: unknown) => err instanceof FaithsweepError && err.code === 'BAD_SPEC'
      && /never finished .*'faithsweep cancel reg' removes it, then launch again/.test(err.hint ?? ''));
    assert.equal(await count('WorkUnit'), 3, 'nothing written');
  });

  it('cancel is refused while a launch holds its registration lock, and writes nothing', async () => {
    const launch = new pg.Client({ connectionString: t.url });
    await launch.connect();
    try {
      await launch.query(`SELECT pg_advisory_lock(hashtext('faithsweep.register'), hashtext('reg'))`);
      const r = faithsweep('cancel', 'reg');
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error\[BAD_ARGS\]: sweep 'reg' is being registered by a launch that is still running\n {2}hint: let that launch finish/);
    } finally {
      await launch.end(); // the launch's process is gone: its lock goes with its connection
    }
    assert.equal(await count('WorkUnit'), 3);
  });

  it('cancel removes it once no launch holds it (without Temporal), keeping prompts and models; the name then registers anew', async () => {
    const r = faithsweep('cancel', 'reg', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { sweepId: 'reg', cancelled: true, removed: true, workUnits: 3 });
    assert.deepEqual([await count('Sweep', "id = 'reg'"), await count('WorkUnit'), await count('Prompt', 'true'), await count('Model', 'true')], [0, 0, 3, 1]);
    const again = faithsweep('cancel', 'reg');
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /^error\[SWEEP_NOT_FOUND\]: no sweep named 'reg'/);
    const path = join(dir, 'reg.yaml');
    const text = 'name: reg\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 2}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n';
    const reg = await registerSweep(t.sql, await planSweep(parseSpec(text, path), { specPath: path, modelsDir: MODELS_DIR }));
    assert.deepEqual([reg.created, reg.workUnits, await count('WorkUnit')], [true, 2, 2]);
    assert.equal((await t.sql.query<{ status: string }>(`SELECT status FROM "Sweep" WHERE id = 'reg'`)).rows[0]!.status, 'planned');
  });
});
