// Records the workflow histories that sweep-replay.test.ts replays, into histories/:
//   node --import tsx test/workflows/record-histories.ts
// Re-record only on purpose: a workflow change that makes the committed histories fail to
// replay would break the sweeps running when it is deployed (use `patched()` instead).
import { writeFile } from 'node:fs/promises';
import { pauseSignal, resumeSignal, setWindowSignal } from '../../workflows/sweep-signals.ts';
import type { SweepRunInput } from '../../workflows/sweep.ts';
import { allRuns, historyToObject, startSweepHarness, waitFor } from './sweep-harness.ts';

const h = await startSweepHarness('record-histories', 'ERROR');
try {
  const { sweepId, fake } = h.fake('replay', { units: 24, delayMs: 20, failing: new Map([[3, 'BAD_INTERVENTION']]) });
  const input: SweepRunInput = {
    sweepId, window: 3, shardSize: 10, maxConcurrentShards: 2, maxHistoryEvents: 50, shardMaxHistoryEvents: 50, shardReportEvery: 2,
  };
  const workflowId = 'sweep-replay';
  const handle = await h.client.workflow.start('sweepWorkflow', { taskQueue: h.taskQueue, workflowId, args: [input] });
  // Signals too, so that their handlers are part of the recorded histories.
  await waitFor('some starts', () => fake.totalStarts >= 4);
  await handle.signal(pauseSignal);
  await waitFor('the pause', () => fake.statuses.includes('paused'));
  await handle.signal(setWindowSignal, 2);
  await handle.signal(resumeSignal);
  await handle.result();

  const runs = await allRuns(h.client, workflowId, handle.firstExecutionRunId);
  const shardRuns = runs.filter((r) => r.workflowId === `${workflowId}-shard-0`);
  const out = { 'sweep.json': runs[0], 'shard.json': shardRuns[0] };
  for (const [name, run] of Object.entries(out)) {
    if (!run) throw new Error(`no run for ${name}`);
    const events = run.history.events ?? [];
    if (!events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) throw new Error(`${name}: the run did not continue as new`);
    await writeFile(new URL(`histories/${name}`, import.meta.url), JSON.stringify(historyToObject(run.history), null, 1) + '\n');
    process.stdout.write(`${name}: ${run.workflowId}, ${events.length} events\n`);
  }
} finally {
  await h.close();
}
