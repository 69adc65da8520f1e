/**
 * A real Temporal dev server and a worker running the real workflow bundle with fake
 * sweep activities, shared by the tests of one file; plus helpers to wait and to read
 * every run's history of a sweep (parent, shards, continued runs).
 */
import { Worker } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { bundleWorkflows, installTemporalRuntime } from '../../orchestrator/worker/create-worker.ts';
import { temporalEnv, uniqueTaskQueue } from '../helpers/temporal.ts';
import { FakeSweep, fakeActivities, sleep } from './fake-sweep.ts';
import type { FakeSweepOptions } from './fake-sweep.ts';

/** The server, the worker and the fakes of one test file. */
export interface SweepHarness {
  readonly env: TestWorkflowEnvironment;
  readonly client: Client;
  readonly taskQueue: string;
  readonly bundle: WorkflowBundleWithSourceMap;
  /** Registers a fake sweep under a new id and returns both. */
  fake(label: string, opts: FakeSweepOptions): { sweepId: string; fake: FakeSweep };
  close(): Promise<void>;
}

/**
 * Starts the dev server and a worker on a unique task queue. `logLevel` is the SDK's (the
 * worker logs every failed activity attempt at WARN: tests that fail some on purpose pass
 * 'ERROR'); it applies to the whole test process.
 */
export async function startSweepHarness(label: string, logLevel: 'WARN' | 'ERROR' = 'WARN'): Promise<SweepHarness> {
  installTemporalRuntime(logLevel);
  const [env, bundle] = await Promise.all([temporalEnv(), bundleWorkflows()]);
  const taskQueue = uniqueTaskQueue(label);
  const fakes = new Map<string, FakeSweep>();
  const worker = await Worker.create({
    connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: fakeActivities(fakes),
  });
  const running = worker.run();
  return {
    env, client: env.client, taskQueue, bundle,
    fake(name, opts) {
      const sweepId = `${name}-${taskQueue}`;
      const fake = new FakeSweep(opts);
      fakes.set(sweepId, fake);
      return { sweepId, fake };
    },
    async close() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One run of a workflow with its history. */
export interface RunHistory {
  readonly workflowId: string;
  readonly runId: string;
  readonly history: History;
}

/**
 * Every run of the workflow `workflowId` from `firstRunId` on, following continue-as-new,
 * and, recursively, every run of the child workflows they started.
 */
export async function allRuns(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | null | undefined = firstRunId;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push({ workflowId, runId, history });
    runId = undefined;
    for (const e of history.events ?? []) {
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (child?.workflowId && child.runId) runs.push(...(await allRuns(client, child.workflowId, child.runId)));
      runId = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? runId;
    }
  }
  return runs;
}

// @temporalio/proto is CommonJS: its namespaces come through the default export.
const { temporal } = proto;
type History = proto.temporal.api.history.v1.IHistory;

/**
 * A history as a JSON-able object (protobufjs `toObject`: int64 and bytes as strings, enums
 * by name), and back. Not `historyToJSON`/`historyFromJSON` of @temporalio/common: in this
 * install they fail with "type must be a Type" (@temporalio/common and @temporalio/proto
 * each got their own copy of protobufjs).
 */
export function historyToObject(history: History): Record<string, unknown> {
  const H = temporal.api.history.v1.History;
  return H.toObject(H.fromObject(history), { longs: String, enums: String, bytes: String });
}

/** The inverse of {@link historyToObject}. */
export function historyFromObject(json: unknown): History {
  return temporal.api.history.v1.History.fromObject(json as Record<string, unknown>);
}
