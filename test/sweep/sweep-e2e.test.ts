// THE sweep acceptance tests: real PostgreSQL, NATS and Temporal (a dev server with its
// state on disk), two real agents on the trained organisms, the worker and the CLI as
// separate processes. Every sweep must end with exactly its plan in the Cell table —
// after an agent is SIGKILLed, the worker is SIGKILLed, the sweep is cancelled and
// resumed, the Temporal server restarts, or PostgreSQL or NATS is down for 20 s — and a bad
// spec must change nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporalClient } from '../../orchestrator/cli/commands/services.ts';
import { resolvePaths } from '../../common/config/paths.ts';
import { createLocalStack } from '../../orchestrator/dev/stack.ts';
import type { LocalStack } from '../../orchestrator/dev/stack.ts';
import { TEST_HOME, testTools } from '../helpers/stack.ts';
import type { Cluster } from './cluster.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import { compareWithPlan, smallSpec, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';


/** How long the outage tests keep PostgreSQL or NATS down: longer than nats.js's default reconnect budget (10 × 2 s). */
const OUTAGE_MS = 20_000;

/** One service of the shared test stack (test/helpers/stack.ts), to stop and start it. */
function sharedService(name: 'postgres' | 'nats'): Promise<LocalStack> {
  return createLocalStack({ home: TEST_HOME, cacheDir: resolvePaths(process.env).cacheDir, tools: testTools(), external: {}, services: [name] });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A sweep of this size takes ~10-30 s on two CPU cores. */
const SWEEP_TIMEOUT_MS = 240_000;

async function launch(c: Cluster, name: string, prompts: number, window = 2): Promise<void> {
  const r = await c.cli(['launch', c.writeSpec(name, smallSpec(name, prompts, window)), '--task-queue', c.taskQueue, '--json']);
  assert.equal(r.code, 0, `launch failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { sweepId: string; workflow: string; workUnits: number };
  assert.equal(out.sweepId, name);
  assert.equal(out.workUnits, prompts * 2);
}

async function completes(c: Cluster, name: string): Promise<void> {
  try {
    await until(`sweep ${name} to complete`, async () => (await sweepState(c, name)).status === 'completed', SWEEP_TIMEOUT_MS, 500);
  } catch (err) {
    const state = await sweepState(c, name);
    throw new Error(`${(err as Error).message}\nstate: ${JSON.stringify(state)}\nunfinished:\n${await unfinishedUnits(c, name)}\nworker log (tail):\n${c.workerLog().slice(-4000)}`, { cause: err });
  }
}

async function midway(c: Cluster, name: string, minDone = 2): Promise<void> {
  const s = await until(`sweep ${name} to get going`, async () => {
    const st = await sweepState(c, name);
    return st.done >= minDone ? st : null;
  }, SWEEP_TIMEOUT_MS, 200);
  assert.ok(s.done < s.units, `the sweep was still running when the failure was injected (${s.done}/${s.units} units done)`);
}

async function assertExactlyThePlan(c: Cluster, name: string): Promise<void> {
  const cmp = await compareWithPlan(c, name);
  assert.equal(cmp.unitsWithoutTrajectory, 0, 'every work unit has its clean trajectory');
  assert.deepEqual({ missing: cmp.missing, extra: cmp.extra }, { missing: [], extra: [] });
  assert.equal(cmp.rows, cmp.distinct, 'no duplicate cell');
  assert.equal(cmp.rows, cmp.planned);
  const units = await c.db.sql.query<{ n: string }>(`SELECT count(*) AS n FROM "WorkUnit" WHERE "sweepId" = $1 AND (status <> 'done' OR "doneCells" <> "plannedCells")`, [name]);
  assert.equal(Number(units.rows[0]!.n), 0, 'every work unit is done with all its planned cells');
}

describe('sweeps end to end (real Temporal, NATS, PostgreSQL, agents, worker)', { timeout: 900_000 }, () => {
  let c: Cluster;

  before(async () => {
    requirePrerequisites('the sweep-e2e suite', ['arith-cot', 'arith-cot-decoupled']);
    c = await startCluster('sweep-e2e');
    await Promise.all([c.startAgent('agent-a'), c.startAgent('agent-b'), c.startWorker()]);
  });
  after(async () => {
    await c?.close();
  });

  it('completes a sweep whose cell rows equal the plan, key for key', async () => {
    await launch(c, 'plain', 3, 4);
    await completes(c, 'plain');
    await assertExactlyThePlan(c, 'plain');
    // The arithmetic organisms always print a 27-character CoT: 9 positions × 3 steps + 3 probes per unit.
    const per = await c.db.sql.query<{ n: string }>('SELECT count(*) AS n FROM "Cell" WHERE "sweepId" = $1 GROUP BY "workUnitId"', ['plain']);
    assert.deepEqual(per.rows.map((r) => Number(r.n)), Array(6).fill(30));
    // Every cell has its measured time (docs/sql.md: Cell.durationMs), and it is no longer than its work unit's.
    const timed = await c.db.sql.query<{ untimed: string; over: string }>(`SELECT count(*) FILTER (WHERE c."durationMs" IS NULL OR c."durationMs" < 0) AS untimed,
      count(*) FILTER (WHERE c."durationMs" > w."durationMs") AS over FROM "Cell" c JOIN "WorkUnit" w ON w.id = c."workUnitId" WHERE c."sweepId" = $1`, ['plain']);
    assert.deepEqual(timed.rows[0], { untimed: '0', over: '0' });
    const status = await c.cli(['status', 'plain', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { units: { done: number; total: number }; cells: { written: number; planned: number } };
    assert.deepEqual({ done: s.units.done, total: s.units.total, written: s.cells.written, planned: s.cells.planned }, { done: 6, total: 6, written: 180, planned: 180 });
    // Launching the same spec again writes nothing and re-runs nothing.
    const again = await c.cli(['launch', join(c.home, 'plain.yaml'), '--task-queue', c.taskQueue, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { created: boolean }).created, false);
    await completes(c, 'plain');
    await assertExactlyThePlan(c, 'plain');
  });

  it('keeps one model listed twice with two samplers as distinct work units, all done', async () => {
    const spec = [
      'name: two-samplers',
      'models:',
      '  - {name: arith-cot, sampler: {block_length: 8, steps: 40}}',
      '  - arith-cot',
      'dataset: {generator: arith, seed: 77, count: 4}',
      'grid: {positions: [all], steps: [7, 15, 39], kinds: [remask, {replace: second}]}',
      'options: {window: 4}',
      '',
    ].join('\n');
    const r = await c.cli(['launch', c.writeSpec('two-samplers', spec), '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, `launch failed: ${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as { workUnits: number }).workUnits, 8);
    await completes(c, 'two-samplers');
    await assertExactlyThePlan(c, 'two-samplers');
    const units = await c.db.sql.query<{ modelIndex: number; n: string; cells: string }>(
      'SELECT "modelIndex", count(*) AS n, sum("doneCells") AS cells FROM "WorkUnit" WHERE "sweepId" = $1 GROUP BY 1 ORDER BY 1', ['two-samplers']);
    assert.deepEqual(units.rows.map((u) => [u.modelIndex, Number(u.n), Number(u.cells)]), [[0, 4, 960], [1, 4, 960]]);
    const blocks = await c.db.sql.query<{ block: number }>(
      `SELECT DISTINCT t."blockLength" AS block FROM "Trajectory" t WHERE t."sweepId" = $1 ORDER BY 1`, ['two-samplers']);
    assert.deepEqual(blocks.rows.map((b) => b.block), [8, 40], 'each entry ran with its own sampler');

    // A work unit whose ordinal lies past the count (a gap) is still run: reset one to pending
    // at ordinal 100 and resume; the sweep is completed only once the database has no pending unit.
    const [unit] = (await c.db.sql.query<{ id: string }>('SELECT id FROM "WorkUnit" WHERE "sweepId" = $1 AND ordinal = 3', ['two-samplers'])).rows;
    await c.db.sql.query('DELETE FROM "Cell" WHERE "workUnitId" = $1', [unit!.id]);
    await c.db.sql.query(`UPDATE "WorkUnit" SET ordinal = 100, status = 'pending', "doneCells" = 0 WHERE id = $1`, [unit!.id]);
    await c.db.sql.query(`UPDATE "Sweep" SET status = 'partial' WHERE id = $1`, ['two-samplers']);
    const resumed = await c.cli(['resume', 'two-samplers', '--task-queue', c.taskQueue]);
    assert.equal(resumed.code, 0, resumed.stderr);
    await completes(c, 'two-samplers');
    const after = await c.db.sql.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM "WorkUnit" WHERE "sweepId" = $1 GROUP BY 1', ['two-samplers']);
    assert.deepEqual(after.rows.map((x) => [x.status, Number(x.n)]), [['done', 8]]);
    const cells = await c.db.sql.query<{ n: string }>('SELECT count(*) AS n FROM "Cell" WHERE "sweepId" = $1', ['two-samplers']);
    assert.equal(Number(cells.rows[0]!.n), 1920);
  });

  it('completes when one of two agents is SIGKILLed mid-sweep', async () => {
    await launch(c, 'agent-dies', 6);
    await midway(c, 'agent-dies');
    const victim = c.agents.get('agent-b')!;
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    await completes(c, 'agent-dies');
    await assertExactlyThePlan(c, 'agent-dies');
    await c.startAgent('agent-b');
  });

  it('completes when the worker process is SIGKILLed mid-sweep and a new one starts', async () => {
    await launch(c, 'worker-dies', 6);
    await midway(c, 'worker-dies');
    const w = c.worker!;
    w.child.kill('SIGKILL');
    await w.exited;
    const before = await sweepState(c, 'worker-dies');
    assert.notEqual(before.status, 'completed');
    await c.startWorker();
    await completes(c, 'worker-dies');
    await assertExactlyThePlan(c, 'worker-dies');
  });

  it('cancel mid-sweep stops it short of the plan; resume completes it with exactly the plan', async () => {
    await launch(c, 'cancel-resume', 6, 1);
    await midway(c, 'cancel-resume');
    const cancel = await c.cli(['cancel', 'cancel-resume', '--wait']);
    assert.equal(cancel.code, 0, cancel.stderr);
    const stopped = await sweepState(c, 'cancel-resume');
    assert.equal(stopped.status, 'cancelled');
    assert.ok(stopped.done < stopped.units, `cancelled before the end (${stopped.done}/${stopped.units})`);
    const cmp = await compareWithPlan(c, 'cancel-resume');
    assert.equal(cmp.extra.length, 0);
    const resume = await c.cli(['resume', 'cancel-resume']);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /workflow started again/);
    await completes(c, 'cancel-resume');
    await assertExactlyThePlan(c, 'cancel-resume');
  });

  it('completes when the Temporal server is stopped and restarted (state on disk) mid-sweep', async () => {
    await launch(c, 'temporal-restarts', 6);
    await midway(c, 'temporal-restarts');
    const down = await c.temporal.down();
    assert.deepEqual(down.map((d) => d.stopped), [true]);
    await new Promise((r) => setTimeout(r, 2000));
    await c.temporal.up();
    await completes(c, 'temporal-restarts');
    await assertExactlyThePlan(c, 'temporal-restarts');
  });

  it("refuses at launch a spec the agent would reject (its given token is the mask id), writing nothing", async () => {
    // Token 1 is the organisms' mask id: the agent's own token check runs at plan (plan.ts gridProblems).
    const spec = smallSpec('bad-input', 2).replace('kinds: [replace, probe]', 'kinds: [{replace: {token: 1}}]');
    const r = await c.cli(['launch', c.writeSpec('bad-input', spec), '--task-queue', c.taskQueue]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BAD_SPEC.*:\d+:\d+: grid\.kinds\[0\]\.replace\.token: token 1 is not a non-special token/);
    const units = await c.db.sql.query('SELECT 1 FROM "Sweep" WHERE id = $1', ['bad-input']);
    assert.equal(units.rows.length, 0, 'nothing written');
  });

  it('rejects a spec with errors: non-zero exit, file:line messages, nothing written, no workflow', async () => {
    const bad = c.writeSpec('bad', [
      'name: bad-spec',
      'models: [arith-cot, no-such-model]',
      'dataset: {generator: arith, seed: 1, count: 0}',
      'grid:',
      '  positions: [cot, "9-3"]',
      '  steps: [1.5]',
      '  kinds: [explode]',
      'colour: blue',
      '',
    ].join('\n'));
    const before = await c.db.sql.query<{ s: string; w: string; m: string; p: string }>(
      'SELECT (SELECT count(*) FROM "Sweep") AS s, (SELECT count(*) FROM "WorkUnit") AS w, (SELECT count(*) FROM "Model") AS m, (SELECT count(*) FROM "Prompt") AS p');
    const r = await c.cli(['launch', bad, '--task-queue', c.taskQueue]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error\[BAD_SPEC\]/m);
    for (const want of [/bad\.yaml:3:\d+: dataset\.count: must be an integer in \[1, 2147483647\] \(got 0\)/, /bad\.yaml:5:\d+: grid\.positions\[1\]/, /bad\.yaml:6:\d+: grid\.steps\[0\]/, /bad\.yaml:7:\d+: grid\.kinds\[0\]/, /bad\.yaml:8:\d+: \(spec\)\.colour: unknown key/]) {
      assert.match(r.stderr, want);
    }
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    // A spec that parses but names a missing model fails the same way, before anything is written.
    const missingModel = c.writeSpec('missing-model', smallSpec('missing-model', 2).replace('arith-cot-decoupled', 'no-such-model'));
    const r2 = await c.cli(['launch', missingModel, '--task-queue', c.taskQueue]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /error\[MODEL_NOT_FOUND\]: .*missing-model\.yaml:2:\d+: models\[1\]: no model 'no-such-model'/);
    const afterRows = await c.db.sql.query('SELECT (SELECT count(*) FROM "Sweep") AS s, (SELECT count(*) FROM "WorkUnit") AS w, (SELECT count(*) FROM "Model") AS m, (SELECT count(*) FROM "Prompt") AS p');
    assert.deepEqual(afterRows.rows[0], before.rows[0], 'nothing written');
    const client = await temporalClient(c.temporal.endpoints.temporalAddress);
    try {
      for (const id of ['sweep-bad-spec', 'sweep-missing-model']) {
        await assert.rejects(client.workflow.getHandle(id).describe(), WorkflowNotFoundError, `${id} was never started`);
      }
    } finally {
      await client.connection.close();
    }
  });

  // The outage tests come last: after a NATS restart the agents re-register within seconds, and a
  // test that counts work-unit attempts right after one would count failed agent leases too.
  /** Stops one shared service for OUTAGE_MS in the middle of a sweep, starts it again, and checks the sweep and every process. */
  async function survivesOutage(service: 'postgres' | 'nats', name: string): Promise<void> {
    await launch(c, name, 6, 2);
    await midway(c, name);
    const s = await sharedService(service);
    await s.down();
    await sleep(OUTAGE_MS);
    await s.up();
    if (service === 'postgres') await c.db.reconnect();
    await completes(c, name);
    await assertExactlyThePlan(c, name);
    assert.equal(c.worker?.child.exitCode, null, `the worker survived the outage; its log:\n${c.workerLog().slice(-2000)}`);
    for (const [agent, a] of c.agents) assert.equal(a.child.exitCode, null, `agent ${agent} survived the outage`);
  }

  it('completes when PostgreSQL is stopped for 20 s mid-sweep and started again; no process dies', () => survivesOutage('postgres', 'pg-outage'));

  it('completes when NATS is stopped for 20 s mid-sweep and started again; agents stay registered', () => survivesOutage('nats', 'nats-outage'));
});
