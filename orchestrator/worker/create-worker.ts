/**
 * Builds the Temporal worker that runs faithsweep's workflows and activities. Activities
 * are created once from their dependencies; workflow code is bundled from workflows/.
 */
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { repeatFilter } from './log-repeats.ts';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ActivityDeps } from '../activities/index.ts';
import { createActivities } from '../activities/index.ts';

/** Path of the production workflows' entry module (the sweep and its shards). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Path of the smoke workflow, bundled on its own by the smoke check only (it writes a `smoke-…` Sweep row). */
export const SMOKE_WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/smoke.ts', import.meta.url));

/** Options of the worker. */
export interface WorkerOptions {
  /** Temporal frontend address, host:port. */
  readonly address: string;
  /** @default 'default' */
  readonly namespace?: string;
  /** Task queue to poll. @default 'faithsweep' */
  readonly taskQueue?: string;
  /** A pre-built workflow bundle (tests build it once); bundled from workflows/ otherwise. */
  readonly workflowBundle?: WorkflowBundleWithSourceMap;
  /** Dependencies of the activities. */
  readonly deps: ActivityDeps;
  /** Activities run at once (Temporal's default when absent). */
  readonly maxConcurrentActivities?: number;
}

/** The task queue used when none is configured. */
export const DEFAULT_TASK_QUEUE = 'faithsweep';

/** Bundles the workflows of `workflowsPath` (default: the production ones) once (webpack; takes a few seconds). */
export function bundleWorkflows(workflowsPath: string = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => process.stderr.write(m + '\n'), log() {} };

/** Connects to Temporal and creates a worker (call `run()` on it). */
export async function createWorker(opts: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowBundle: opts.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities(opts.deps),
    ...(opts.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities } : {}),
  });
  return { worker, connection };
}

let runtimeInstalled = false;
/**
 * Routes the Temporal SDK's own logs at `level` and above to stderr (the SDK's default
 * prints every worker state change); a failure that repeats (every attempt of every work unit
 * while no agent serves a model) is written once, without its stack, then as a count. Call once, before the first worker is created.
 */
export function installTemporalRuntime(level: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'WARN'): void {
  if (runtimeInstalled) return;
  // Failed attempts are said once per kind and 30 s, then counted (log-repeats.ts).
  const out = new DefaultLogger('TRACE');
  const repeats = repeatFilter({ write: (e) => out.log(e.level, e.message, e.meta) });
  Runtime.install({ logger: new DefaultLogger(level, repeats.log) });
  process.once('beforeExit', () => repeats.stop());
  runtimeInstalled = true;
}
