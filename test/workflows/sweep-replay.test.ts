// Replays committed histories of the sweep workflows (recorded by record-histories.ts: a
// small sweep with pause, setWindow, resume, a failed work unit, shard reports and
// continue-as-new) against today's workflow code, so that a non-deterministic change to
// workflows/ fails here instead of in the sweeps running when it is deployed.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { bundleWorkflows, installTemporalRuntime } from '../../orchestrator/worker/create-worker.ts';
import { SWEEP_QUERIES, SWEEP_SIGNALS } from '../../orchestrator/sweep/contract.ts';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal, setWindowSignal } from '../../workflows/sweep-signals.ts';
import { BUG_TYPE, NON_RETRYABLE_TYPES } from '../../workflows/sweep-options.ts';
import { ErrorCode } from '../../common/errors.ts';
import { historyFromObject } from './sweep-harness.ts';

async function recorded(name: string): Promise<ReturnType<typeof historyFromObject>> {
  return historyFromObject(JSON.parse(await readFile(new URL(`histories/${name}`, import.meta.url), 'utf8')));
}

describe('the sweep workflows', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;
  before(async () => {
    // The expected nondeterminism below is logged at WARN.
    installTemporalRuntime('ERROR');
    workflowBundle = await bundleWorkflows();
  });

  for (const [name, workflowId] of [['sweep.json', 'sweep-replay'], ['shard.json', 'sweep-replay-shard-0']] as const) {
    it(`replay the recorded history ${name} deterministically`, async () => {
      const history = await recorded(name);
      assert.ok((history.events?.length ?? 0) > 40, 'the recorded history is not trivial');
      await Worker.runReplayHistory({ workflowBundle }, history, workflowId);
    });
  }

  it('fail to replay a history whose commands no longer match', async () => {
    const history = await recorded('sweep.json');
    // Rename the first activity the sweep scheduled (countWorkUnits): the code schedules a different one.
    const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
    assert.ok(scheduled?.activityType);
    scheduled.activityType.name = 'somethingElse';
    await assert.rejects(Worker.runReplayHistory({ workflowBundle }, history, 'sweep-replay'), /[Nn]ondeterminism|DeterminismViolation/);
  });

  it('use the signal and query names of the contract', () => {
    assert.deepEqual(
      { pause: pauseSignal.name, resume: resumeSignal.name, cancel: cancelSignal.name, setWindow: setWindowSignal.name },
      SWEEP_SIGNALS,
    );
    assert.deepEqual({ progress: progressQuery.name }, SWEEP_QUERIES);
  });

  it('name as failure types only error codes (workflow code keeps its own copy of the strings)', () => {
    const codes = new Set<string>(Object.values(ErrorCode));
    for (const type of [...NON_RETRYABLE_TYPES, BUG_TYPE]) assert.ok(codes.has(type), `${type} is not an ErrorCode of common/errors.ts`);
    assert.equal(BUG_TYPE, ErrorCode.INTERNAL);
  });
});
