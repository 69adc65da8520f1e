// A 1,000-work-unit sweep on a real Temporal dev server with fake activities: four shards,
// continue-as-new in the parent and in the shards, every work unit run exactly once, and
// no run's history anywhere near Temporal's limits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { progressQuery } from '../../workflows/sweep-signals.ts';
import type { SweepRunInput } from '../../workflows/sweep.ts';
import { allRuns, startSweepHarness } from './sweep-harness.ts';
import type { SweepHarness } from './sweep-harness.ts';

/**
 * Bound on any single run's history: under Temporal's 10,240-event warning (the hard limit is
 * 51,200), so however large the sweep, no run nears the limits and replay stays cheap.
 */
const MAX_EVENTS = 10_000;

describe('a sweep of 1,000 work units', () => {
  let h: SweepHarness;
  before(async () => { h = await startSweepHarness('sweep-scale'); });
  after(async () => { await h?.close(); });

  it('runs every work unit exactly once across shards and continued runs, with small histories', async () => {
    const { sweepId, fake } = h.fake('scale', { units: 1000, cellsPerUnit: 3 });
    const input: SweepRunInput = {
      sweepId, shardSize: 300, window: 8,
      // Small thresholds so that both the parent and the shards continue as new: two shards of
      // 300 units reporting every 20 send the parent 30 signals, over its 60 events however
      // Temporal batches them into workflow tasks.
      maxConcurrentShards: 2, maxHistoryEvents: 60, shardMaxHistoryEvents: 400, shardReportEvery: 20,
    };
    const workflowId = `sweep-${sweepId}`;
    const handle = await h.client.workflow.start('sweepWorkflow', { taskQueue: h.taskQueue, workflowId, args: [input] });
    const result = await handle.result();

    const expected = { total: 1000, done: 1000, failed: 0, running: 0, cells: 3000, paused: false };
    assert.deepEqual(result, expected);
    assert.deepEqual(await h.client.workflow.getHandle(workflowId).query(progressQuery), expected);
    assert.equal(fake.complete.size, 1000);
    assert.deepEqual([...fake.starts.values()].filter((n) => n !== 1), [], 'a work unit ran more than once');
    assert.equal(fake.totalStarts, 1000);
    assert.ok(fake.maxRunning <= 2 * 8, `at most 2 shards × window 8 at once, saw ${fake.maxRunning}`);
    assert.deepEqual(fake.statuses, ['running', 'completed']);

    const runs = await allRuns(h.client, workflowId, handle.firstExecutionRunId);
    const parentRuns = runs.filter((r) => r.workflowId === workflowId);
    const shardIds = new Set(runs.filter((r) => r.workflowId !== workflowId).map((r) => r.workflowId));
    assert.deepEqual([...shardIds].sort(), [0, 1, 2, 3].map((i) => `${workflowId}-shard-${i}`));
    assert.ok(parentRuns.length > 1, 'the parent continued as new');
    assert.ok(runs.length - parentRuns.length > 4, 'the shards continued as new');
    for (const r of runs) {
      const events = r.history.events?.length ?? 0;
      assert.ok(events < MAX_EVENTS, `${r.workflowId}/${r.runId} has ${events} events`);
    }
  });
});
