// A sweep whose task queue no worker polls stands still; the commands must say so instead of
// hanging or failing with Temporal's own error: `launch` warns, `status` names the empty task queue, `resume`
// and `cancel --wait` refuse at once with SERVICE_UNAVAILABLE and what to start. Once a worker
// (and an agent) start, the same sweep completes with exactly its plan. Real Temporal,
// PostgreSQL, NATS, agent and worker processes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from './cluster.ts';
import { compareWithPlan, smallSpec, startCluster, sweepState, until } from './cluster.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import { Client, Connection } from '@temporalio/client';
import { sweepWorkflowId } from '../../orchestrator/sweep/plan.ts';

describe('a sweep with no worker on its task queue', { timeout: 600_000 }, () => {
  let c: Cluster;
  before(async () => {
    requirePrerequisites('the no-worker suite', ['arith-cot']);
    c = await startCluster('noworker');
    const r = await c.cli(['launch', c.writeSpec('idle', smallSpec('idle', 2)), '--task-queue', c.taskQueue]);
    assert.equal(r.code, 0, r.stderr);
    // launch says at once that nothing will run (as resume does).
    assert.equal(r.stderr, `warning[NO_WORKER]: no worker polls task queue '${c.taskQueue}', so the sweep's workflow cannot make progress or answer\n  hint: start one with 'npx faithsweep worker' (the local stack: 'npx faithsweep dev up'); the sweep waits for it\n`);
  });
  after(async () => {
    await c?.close();
  });

  it('status says that no worker polls the task queue', async () => {
    const r = await c.cli(['status', 'idle']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sweep idle: /m);
    assert.match(r.stdout, new RegExp(`worker +none polls task queue '${c.taskQueue}'.*npx faithsweep worker`));
    const j = await c.cli(['status', 'idle', '--json']);
    assert.deepEqual(JSON.parse(j.stdout).workers, { taskQueue: c.taskQueue, live: 0 });
  });

  it('resume and cancel --wait refuse at once, with the code and what to start', async () => {
    for (const args of [['resume', 'idle'], ['cancel', 'idle', '--wait']]) {
      const started = Date.now();
      const r = await c.cli(args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /error\[SERVICE_UNAVAILABLE\]: no worker polls task queue/);
      assert.match(r.stderr, /hint: start one with 'npx faithsweep worker'/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(Date.now() - started < 20_000, `${args.join(' ')} answered in ${Date.now() - started} ms`);
    }
    assert.equal((await sweepState(c, 'idle')).status, 'running', 'nothing was cancelled');
  });

  it('resume of a sweep whose workflow has ended starts it again (with the --window it was given), with a NO_WORKER warning (in --json: warnings[])', async () => {
    const end = async () => {
      const connection = await Connection.connect({ address: c.env['TEMPORAL_ADDRESS']! });
      try {
        await new Client({ connection }).workflow.getHandle(sweepWorkflowId('idle')).terminate('test: the workflow ended without a worker');
      } finally {
        await connection.close();
      }
    };
    await end();
    const r = await c.cli(['resume', 'idle', '--window', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `warning[NO_WORKER]: no worker polls task queue '${c.taskQueue}', so the sweep's workflow cannot make progress or answer\n  hint: start one with 'npx faithsweep worker' (the local stack: 'npx faithsweep dev up'); the sweep waits for it\n`);
    assert.match(r.stdout, /^sweep idle: workflow started again, window 3\. Follow it with: npx faithsweep watch idle$/m);
    await end();
    const j = await c.cli(['resume', 'idle', '--json', '--window', '2']);
    assert.equal(j.code, 0, j.stderr);
    const out = JSON.parse(j.stdout) as { result: string; window?: number; warnings: { code: string; message: string }[] };
    assert.deepEqual([out.result, out.window, out.warnings.map((w) => w.code)], ['workflow started again', 2, ['NO_WORKER']]);
    assert.doesNotMatch(j.stderr, /warning/, 'with --json the warning is in the output only');
  });

  it('completes with exactly its plan once a worker and an agent start; status no longer names a missing worker', async () => {
    await Promise.all([c.startAgent('agent-a'), c.startWorker()]);
    await until('the sweep completes', async () => (await sweepState(c, 'idle')).status === 'completed', 300_000, 1000);
    const cmp = await compareWithPlan(c, 'idle');
    assert.deepEqual({ missing: cmp.missingCount, extra: cmp.extraCount, duplicates: cmp.rows - cmp.distinct }, { missing: 0, extra: 0, duplicates: 0 });
    const r = await c.cli(['status', 'idle']);
    assert.doesNotMatch(r.stdout, /worker +none/);
    const l = await c.cli(['list']);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /idle/);
    assert.doesNotMatch(l.stderr, /DeprecationWarning|Warning:/, 'list runs one query at a time on its client');
  });
});
