// A sweep whose task queue no worker polls stands still; the commands must say so instead of
// hanging or failing with Temporal's own error: `status` names the empty task queue, `resume`
// and `cancel --wait` refuse at once with SERVICE_UNAVAILABLE and what to start. Once a worker
// (and an agent) start, the same sweep completes with exactly its plan. Real Temporal,
// PostgreSQL, NATS, agent and worker processes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from './cluster.ts';
import { compareWithPlan, smallSpec, startCluster, sweepState, until } from './cluster.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';

describe('a sweep with no worker on its task queue', { timeout: 600_000 }, () => {
  let c: Cluster;
  before(async () => {
    requirePrerequisites('the no-worker suite', ['arith-cot']);
    c = await startCluster('noworker');
    const r = await c.cli(['launch', c.writeSpec('idle', smallSpec('idle', 2)), '--task-queue', c.taskQueue]);
    assert.equal(r.code, 0, r.stderr);
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
