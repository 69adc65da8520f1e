// Signals and failures of the sweep workflows on a real Temporal dev server with fake
// activities: pause/resume/setWindow, cancel then resume by starting again, and a
// non-retryable work-unit failure that is recorded while the sweep completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cancelSignal, pauseSignal, pauseUpdate, progressQuery, resumeSignal, setWindowSignal, shardControlSignal } from '../../workflows/sweep-signals.ts';
import { shardWorkflowId } from '../../workflows/sweep.ts';
import type { SweepRunInput } from '../../workflows/sweep.ts';
import type { SweepProgress } from '../../orchestrator/sweep/contract.ts';
import { sleep } from './fake-sweep.ts';
import { startSweepHarness, waitFor } from './sweep-harness.ts';
import type { SweepHarness } from './sweep-harness.ts';

describe('sweep signals and failures', () => {
  let h: SweepHarness;
  before(async () => { h = await startSweepHarness('sweep-control', 'ERROR'); });
  after(async () => { await h?.close(); });

  const start = (sweepId: string, input: Omit<SweepRunInput, 'sweepId'>) =>
    h.client.workflow.start('sweepWorkflow', { taskQueue: h.taskQueue, workflowId: `sweep-${sweepId}`, args: [{ sweepId, ...input }] });

  it('pause stops new work units, resume continues them, and setWindow changes the concurrency', async () => {
    // Work units long enough (100 ms) for the worker to have a whole window running at once.
    const { sweepId, fake } = h.fake('pause', { units: 200, delayMs: 100 });
    const handle = await start(sweepId, { window: 8, shardSize: 1000, shardReportEvery: 10 });
    await waitFor('the window to fill', () => fake.maxRunning === 8 && fake.totalStarts >= 24);
    assert.equal(fake.maxRunning, 8, 'never more than the window');
    // The update returns once the pause has taken effect: every shard acknowledged it with
    // nothing running. From then on no work unit may start (no waiting, no race with the signal).
    const atPause = await handle.executeUpdate(pauseUpdate);
    assert.equal(atPause.paused, true);
    assert.equal(fake.running, 0, 'nothing runs once the pause is acknowledged');
    const startsWhenPaused = fake.totalStarts;
    await sleep(500);
    assert.equal(fake.totalStarts, startsWhenPaused, 'no work unit started while paused');
    assert.ok(startsWhenPaused < 200);
    assert.equal((await handle.query(progressQuery)).paused, true);
    // A second pause while paused is acknowledged at once.
    assert.equal((await handle.executeUpdate(pauseUpdate)).paused, true);
    await waitFor('the paused status', () => fake.statuses.at(-1) === 'paused');

    await handle.signal(setWindowSignal, 2);
    fake.maxRunning = 0;
    await handle.signal(resumeSignal);
    await waitFor('20 more starts', () => fake.totalStarts >= startsWhenPaused + 20);
    assert.equal(fake.maxRunning, 2, 'setWindow(2) limits the shard to 2 running work units');
    await handle.signal(setWindowSignal, 16);

    const result = await handle.result();
    assert.ok(fake.maxRunning > 2, `setWindow(16) raised the concurrency, saw ${fake.maxRunning}`);
    assert.deepEqual(result, { total: 200, done: 200, failed: 0, running: 0, cells: 600, paused: false });
    assert.deepEqual([...fake.starts.values()].filter((n) => n !== 1), []);
    assert.deepEqual(fake.statuses, ['running', 'paused', 'running', 'completed']);
  });

  it('writes the paused status when the pause comes with the start, before the sweep is counted', async () => {
    // signalWithStart: the pause is in the workflow's first activation, before countWorkUnits.
    const { sweepId, fake } = h.fake('pause-at-start', { units: 20, delayMs: 10 });
    const handle = await h.client.workflow.signalWithStart('sweepWorkflow', {
      taskQueue: h.taskQueue, workflowId: `sweep-${sweepId}`, args: [{ sweepId, window: 2, shardSize: 1000 }], signal: pauseSignal, signalArgs: [1],
    });
    await waitFor('the paused status', () => fake.statuses.at(-1) === 'paused');
    assert.equal(fake.totalStarts, 0, 'no work unit starts while paused');
    assert.equal((await handle.query(progressQuery)).paused, true);
    await handle.signal(resumeSignal);
    assert.deepEqual(await handle.result(), { total: 20, done: 20, failed: 0, running: 0, cells: 60, paused: false });
    assert.deepEqual(fake.statuses, ['running', 'paused', 'running', 'completed']);
  });

  it('a shard holds the newest control of its sweep whatever the order of arrival (signals between workflows are not ordered)', async () => {
    const { sweepId, fake } = h.fake('control-order', { units: 120, delayMs: 50 });
    const handle = await start(sweepId, { window: 8, shardSize: 1000 });
    await waitFor('the window to fill', () => fake.maxRunning === 8);
    const shard = h.client.workflow.getHandle(shardWorkflowId(`sweep-${sweepId}`, 0));
    // The newer control (window 2, running) arrives first; the older one (paused, window 8) after it.
    await shard.signal(shardControlSignal, { seq: 1001, paused: false, pauseEpoch: 0, window: 2, cancelled: false });
    await shard.signal(shardControlSignal, { seq: 1000, paused: true, pauseEpoch: 0, window: 8, cancelled: false });
    await waitFor('the running work units to drop to the new window', () => fake.running <= 2);
    fake.maxRunning = 0;
    const startsBefore = fake.totalStarts;
    await waitFor('20 more starts', () => fake.totalStarts >= startsBefore + 20);
    assert.equal(fake.maxRunning, 2, 'the older control (window 8, paused) was ignored');
    assert.equal((await shard.query(progressQuery)).paused, false);
    const result = await handle.result();
    assert.equal(result.done, 120);
  });

  it('cancel lets running work units finish, and starting the sweep again finishes exactly the rest', async () => {
    const { sweepId, fake } = h.fake('cancel', { units: 300, delayMs: 20 });
    const input = { window: 4, shardSize: 100, maxConcurrentShards: 2 };
    const first = await start(sweepId, input);
    await waitFor('60 starts', () => fake.totalStarts >= 60);
    await first.signal(cancelSignal);
    const cancelled: SweepProgress = await first.result();
    assert.equal(fake.running, 0, 'the cancelled run waited for its running work units');
    assert.equal(fake.statuses.at(-1), 'cancelled');
    assert.ok(fake.complete.size < 300, 'the cancel stopped the sweep early');
    assert.equal(cancelled.done, fake.complete.size);
    const doneBefore = fake.complete.size;

    const second = await start(sweepId, input);
    const result = await second.result();
    // `done` counts the work units found complete too; `cells` only those written by this run.
    assert.deepEqual(result, { total: 300, done: 300, failed: 0, running: 0, cells: 3 * (300 - doneBefore), paused: false });
    assert.equal(fake.totalStarts, 300, `the second run started only the ${300 - doneBefore} missing work units`);
    assert.deepEqual([...fake.starts.values()].filter((n) => n !== 1), []);
    assert.deepEqual(fake.statuses, ['running', 'cancelled', 'running', 'completed']);
  });

  it('records a non-retryable failure with failWorkUnit and still completes the sweep', async () => {
    const failing = new Map([[7, 'BAD_INTERVENTION'], [13, 'MODEL_NOT_FOUND']]);
    const { sweepId, fake } = h.fake('fail', { units: 50, failing, flaky: new Set([21]) });
    const result = await (await start(sweepId, { window: 4, shardSize: 20 })).result();

    assert.deepEqual(result, { total: 50, done: 48, failed: 2, running: 0, cells: 144, paused: false });
    assert.deepEqual(
      fake.failures.sort((a, b) => a.workUnitId.localeCompare(b.workUnitId)),
      [
        { workUnitId: 'wu-13', reason: 'MODEL_NOT_FOUND: work unit wu-13 is bad' },
        { workUnitId: 'wu-7', reason: 'BAD_INTERVENTION: work unit wu-7 is bad' },
      ],
    );
    assert.equal(fake.startsOf(7), 1, 'a non-retryable failure is not retried');
    assert.equal(fake.startsOf(21), 2, 'a retryable failure is retried');
    assert.ok(fake.complete.has(21));
    assert.deepEqual(fake.statuses, ['running', 'completed']);
  });

  it('re-runs a work unit that fails with a bug a bounded number of times, then records it failed with the reason; the sweep completes', async () => {
    const { sweepId, fake } = h.fake('bug', { units: 12, buggy: new Set([4]) });
    const result = await (await start(sweepId, { window: 3, shardSize: 5, shardBugRetryMs: 50 })).result();
    assert.deepEqual(result, { total: 12, done: 11, failed: 1, running: 0, cells: 33, paused: false });
    assert.equal(fake.startsOf(4), 3, 'three runs, then failed');
    assert.deepEqual(fake.failures, [{ workUnitId: 'wu-4', reason: 'INTERNAL: duplicate key value violates unique constraint (work unit wu-4) (failed the same way in 3 runs)' }]);
    assert.deepEqual(fake.statuses, ['running', 'completed']);
  });

  it('runs a work unit again at once while its runs return incomplete, until it is complete', async () => {
    const { sweepId, fake } = h.fake('incomplete', { units: 6, cellsPerUnit: 5, incompleteRuns: 3 });
    const result = await (await start(sweepId, { window: 2, shardSize: 10 })).result();
    assert.deepEqual(result, { total: 6, done: 6, failed: 0, running: 0, cells: 30, paused: false });
    for (let o = 0; o < 6; o++) assert.equal(fake.startsOf(o), 4, `work unit ${o}: 3 incomplete runs and the completing one`);
    assert.deepEqual(fake.failures, []);
  });

  it('the pause signal alone is acknowledged by the shards too, across several shards', async () => {
    const { sweepId, fake } = h.fake('pause-signal', { units: 120, delayMs: 50 });
    const handle = await start(sweepId, { window: 4, shardSize: 30, maxConcurrentShards: 3 });
    await waitFor('some starts', () => fake.totalStarts >= 12);
    await handle.signal(pauseSignal);
    const atPause = await handle.executeUpdate(pauseUpdate);
    assert.equal(atPause.running, 0);
    assert.equal(fake.running, 0);
    const starts = fake.totalStarts;
    await sleep(300);
    assert.equal(fake.totalStarts, starts, 'no work unit started while paused');
    await handle.signal(resumeSignal);
    const result = await handle.result();
    assert.equal(result.done, 120);
    assert.deepEqual([...fake.starts.values()].filter((n) => n !== 1), []);
  });

  it('runs every registered work unit when the ordinals have gaps, and completes only then', async () => {
    const ordinals = [0, 2, 4, 6, 9, 30, 31];
    const { sweepId, fake } = h.fake('gaps', { units: ordinals.length, ordinals });
    const result = await (await start(sweepId, { window: 2, shardSize: 4 })).result();
    assert.deepEqual([...fake.complete].sort((a, b) => a - b), ordinals);
    assert.equal(fake.totalStarts, ordinals.length);
    assert.equal(result.failed, 0);
    assert.deepEqual(fake.statuses, ['running', 'completed']);
  });

  it('ends partial, not completed, when the database still has a pending work unit', async () => {
    // pendingWorkUnits never returns ordinal 5 (as if it were registered after the shards
    // passed it): the workflow's own counts say done, the database does not.
    const { sweepId, fake } = h.fake('hidden', { units: 10 });
    const page = fake.pendingWorkUnits.bind(fake);
    fake.pendingWorkUnits = (from, to, limit) => {
      const p = page(from, to, limit);
      return { ...p, units: p.units.filter((u) => u.ordinal !== 5) };
    };
    await (await start(sweepId, { window: 2, shardSize: 4 })).result();
    assert.equal(fake.complete.has(5), false);
    assert.deepEqual(fake.statuses, ['running', 'partial']);
  });

  it('sets the status failed and fails when a shard workflow fails', async () => {
    const { sweepId, fake } = h.fake('shard-fails', { units: 60, delayMs: 20 });
    const handle = await start(sweepId, { window: 2, shardSize: 20, maxConcurrentShards: 2 });
    await waitFor('some starts', () => fake.totalStarts >= 4);
    await h.client.workflow.getHandle(`sweep-${sweepId}-shard-0`).terminate('an operator stopped it');
    await assert.rejects(handle.result(), (err: Error) => /shard 0 failed/.test(String((err.cause as Error | undefined)?.message)));
    assert.deepEqual(fake.statuses, ['running', 'failed']);
    assert.equal(fake.startsOf(59), 0, 'no shard started after the failure');
  });

  it('sets the status cancelled, recording no failures, when Temporal cancels the sweep', async () => {
    const { sweepId, fake } = h.fake('temporal-cancel', { units: 60, delayMs: 50 });
    const handle = await start(sweepId, { window: 2, shardSize: 20, maxConcurrentShards: 2 });
    await waitFor('some starts', () => fake.totalStarts >= 4);
    await handle.cancel();
    await assert.rejects(handle.result(), (err: Error) => err.cause?.constructor.name === 'CancelledFailure');
    assert.deepEqual(fake.statuses, ['running', 'cancelled']);
    assert.deepEqual(fake.failures, []);
  });
});
