/**
 * The top-level workflow of a sweep (workflow id `sweep-<sweepId>`): counts the work units,
 * splits them into shards of `shardSize` ordinals, runs the shards as child workflows a few
 * at a time, and keeps the sweep's status in the database up to date.
 */
import {
  ApplicationFailure, CancellationScope, allHandlersFinished, condition, continueAsNew, isCancellation, patched, setHandler, startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChildWorkflowHandle } from '@temporalio/workflow';
import type { SweepProgress, SweepWorkflowInput } from '../orchestrator/sweep/contract.ts';
import { shardWorkflow } from './shard.ts';
import type { ShardRunInput } from './shard.ts';
import {
  cancelSignal, pauseSignal, pauseUpdate, progressQuery, resumeSignal, setWindowSignal, shardControlSignal, shardPausedSignal, shardReportSignal,
} from './sweep-signals.ts';
import type { ShardControl } from './sweep-signals.ts';
import {
  DEFAULT_MAX_HISTORY_EVENTS, DEFAULT_SHARD_SIZE, DEFAULT_WINDOW, MIN_HISTORY_EVENTS, clampWindow, countWorkUnits,
  finishSweep, intOption, setSweepStatus,
} from './sweep-options.ts';

/**
 * Shards running at once: with the default window of 32 that is 128 work units in flight,
 * and each running shard adds only a few events per report to this workflow's history.
 */
export const DEFAULT_CONCURRENT_SHARDS = 4;

/** Failure type when a shard failed (a bug or an operator's terminate, not bad input). */
export const SHARD_FAILED = 'INTERNAL';

/** What one run of the sweep hands to the next when it continues as new. */
export interface SweepCarried {
  readonly total: number;
  /** Shards below it have completed. */
  readonly nextShard: number;
  /** Counters of the completed shards. */
  readonly done: number;
  readonly failed: number;
  readonly cells: number;
  readonly paused: boolean;
  /** The pause epoch (bumped each time the sweep goes from running to paused). */
  readonly pauseEpoch?: number;
  /** The last ShardControl.seq sent to the shards. */
  readonly controlSeq?: number;
}

/** Input of {@link sweepWorkflow}: the contract's, plus tuning options tests set small. */
export interface SweepRunInput extends SweepWorkflowInput {
  /** Shards running at once. @default 4 */
  readonly maxConcurrentShards?: number;
  /** This workflow continues as new once its history has this many events. @default 4000 */
  readonly maxHistoryEvents?: number;
  /** The shards' threshold (ShardRunInput.maxHistoryEvents). @default 4000 */
  readonly shardMaxHistoryEvents?: number;
  /** The shards' wait before re-running a work unit after a bug (ShardRunInput.bugRetryMs). @default 10000 */
  readonly shardBugRetryMs?: number;
  /** The shards' reporting period (ShardRunInput.reportEvery). @default 100 */
  readonly shardReportEvery?: number;
  /** Set by continue-as-new only. */
  readonly carried?: SweepCarried;
}

/** Workflow id of shard `index` of the sweep whose workflow id is `parentId`. */
export function shardWorkflowId(parentId: string, index: number): string {
  return `${parentId}-shard-${index}`;
}

/**
 * Runs the whole sweep and returns its progress. Status: `running` at the start, `paused`
 * / `running` on pause and resume, `cancelled` after `cancel` (the running work units
 * finish first), and, once every shard is done, what the database says (finishSweep):
 * `completed` when no registered work unit is pending — also when some failed: they are
 * counted in `failed`, recorded by failWorkUnit, and a resume (starting the workflow again)
 * retries them — or `partial` when some are still pending. If a shard workflow itself fails, the status becomes
 * `failed` and this workflow fails with a non-retryable `INTERNAL` failure. Even a sweep of
 * one shard runs it as a child workflow: one code path, and the child's continue-as-new
 * keeps this history small. Prefer the `cancel` signal to Temporal's cancellation: the
 * latter cancels the running work units too (the status still becomes `cancelled`).
 */
export async function sweepWorkflow(input: SweepRunInput): Promise<SweepProgress> {
  try {
    return await runSweep(input);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => setSweepStatus({ sweepId: input.sweepId, status: 'cancelled' }));
    }
    throw err;
  }
}

async function runSweep(input: SweepRunInput): Promise<SweepProgress> {
  const { sweepId, carried } = input;
  let window = clampWindow(intOption('window', input.window, DEFAULT_WINDOW)) ?? DEFAULT_WINDOW;
  const shardSize = intOption('shardSize', input.shardSize, DEFAULT_SHARD_SIZE);
  const maxShards = intOption('maxConcurrentShards', input.maxConcurrentShards, DEFAULT_CONCURRENT_SHARDS);
  const maxHistory = intOption('maxHistoryEvents', input.maxHistoryEvents, DEFAULT_MAX_HISTORY_EVENTS, MIN_HISTORY_EVENTS);
  let paused = carried?.paused ?? false;
  let pauseEpoch = carried?.pauseEpoch ?? 0;
  /** Per running shard, the last pause epoch it acknowledged (shardPausedSignal). */
  const acked = new Map<number, number>();
  let cancelled = false;
  let shardFailure: string | undefined;
  let { done, failed, cells } = carried ?? { done: 0, failed: 0, cells: 0 };
  let nextShard = carried?.nextShard ?? 0;
  const running = new Map<number, { handle?: ChildWorkflowHandle<typeof shardWorkflow>; report?: SweepProgress }>();
  let version = 0;
  const bump = (): void => { version++; };

  let total = carried?.total ?? 0;
  const progress = (): SweepProgress => {
    const reports = [...running.values()].map((s) => s.report ?? { done: 0, failed: 0, cells: 0, running: 0 });
    const sum = (k: 'done' | 'failed' | 'cells' | 'running'): number => reports.reduce((a, r) => a + r[k], 0);
    return { total, done: done + sum('done'), failed: failed + sum('failed'), running: sum('running'), cells: cells + sum('cells'), paused };
  };
  // A signal to a shard that has just completed fails; that is harmless.
  const forward = (send: (h: ChildWorkflowHandle<typeof shardWorkflow>) => Promise<void>): void => {
    for (const s of running.values()) if (s.handle) send(s.handle).catch(() => undefined);
  };
  // Runs recorded before ordered controls replay with the signals forwarded one by one.
  const ordered = patched('shard-control');
  let controlSeq = carried?.controlSeq ?? 0;
  const control = (): ShardControl => ({ seq: ++controlSeq, paused, pauseEpoch, window, cancelled });
  /** Sends the whole control state to the running shards (ordered), or `legacy` (histories before it). */
  const sendControl = (legacy: (h: ChildWorkflowHandle<typeof shardWorkflow>) => Promise<void>): void => {
    if (!ordered) return forward(legacy);
    const c = control();
    forward((h) => h.signal(shardControlSignal, c));
  };
  setHandler(progressQuery, progress);
  const pause = (): void => {
    if (!paused) pauseEpoch++;
    paused = true;
    bump();
    sendControl((h) => h.signal(pauseSignal, pauseEpoch));
  };
  setHandler(pauseSignal, pause);
  setHandler(pauseUpdate, async () => {
    pause();
    // Shards that complete leave `running`; a resume ends the wait (the pause is over).
    await condition(() => !paused || [...running.keys()].every((i) => acked.get(i) === pauseEpoch));
    return progress();
  });
  setHandler(shardPausedSignal, ({ shard, epoch }) => {
    if (running.has(shard)) acked.set(shard, epoch);
    bump();
  });
  setHandler(resumeSignal, () => { paused = false; bump(); sendControl((h) => h.signal(resumeSignal)); });
  setHandler(cancelSignal, () => { cancelled = true; bump(); sendControl((h) => h.signal(cancelSignal)); });
  setHandler(setWindowSignal, (n) => {
    window = clampWindow(n) ?? window;
    bump();
    sendControl((h) => h.signal(setWindowSignal, window));
  });
  setHandler(shardReportSignal, ({ shard, progress: p }) => {
    const s = running.get(shard);
    // Reports of shards that have completed (and were added up) arrive late sometimes.
    if (s) s.report = p;
  });

  if (!carried) {
    total = await countWorkUnits({ sweepId });
    await setSweepStatus({ sweepId, status: 'running' });
  }
  const shardCount = Math.ceil(total / shardSize);

  const startShard = async (index: number): Promise<void> => {
    const from = index * shardSize;
    const args: ShardRunInput = {
      sweepId, from, to: Math.min(total, from + shardSize), window, shard: index,
      maxHistoryEvents: input.shardMaxHistoryEvents, reportEvery: input.shardReportEvery,
      ...(input.shardBugRetryMs !== undefined ? { bugRetryMs: input.shardBugRetryMs } : {}),
    };
    const entry: { handle?: ChildWorkflowHandle<typeof shardWorkflow>; report?: SweepProgress } = {};
    running.set(index, entry);
    try {
      entry.handle = await startChild(shardWorkflow, { workflowId: shardWorkflowId(workflowInfo().workflowId, index), args: [args] });
    } catch (err) {
      shardFailure ??= `shard ${index} did not start: ${err instanceof Error ? err.message : String(err)}`;
      running.delete(index);
      return;
    }
    // Signals that came while the shard was starting were not forwarded to it.
    if (ordered) {
      if (paused || cancelled || window !== args.window) entry.handle.signal(shardControlSignal, control()).catch(() => undefined);
    } else {
      if (paused) entry.handle.signal(pauseSignal, pauseEpoch).catch(() => undefined);
      if (cancelled) entry.handle.signal(cancelSignal).catch(() => undefined);
      if (window !== args.window) entry.handle.signal(setWindowSignal, window).catch(() => undefined);
    }
    entry.handle.result()
      .then(
        (p) => { done += p.done; failed += p.failed; cells += p.cells; },
        (err: unknown) => { shardFailure ??= `shard ${index} failed: ${err instanceof Error ? err.message : String(err)}`; },
      )
      .finally(() => { running.delete(index); acked.delete(index); bump(); })
      .catch(() => undefined);
  };

  const historyFull = (): boolean => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxHistory;
  // The status in the database: what the previous run wrote (continue-as-new), else `running`,
  // written above. A pause (or resume) that came in this run's first activation or while the
  // sweep was counted is written below. Runs recorded before this patch took the current
  // `paused` as already written, continued runs included: they replay that way.
  let statusPaused = patched('status-paused-at-start') ? (carried ? carried.paused : false) : paused;
  for (;;) {
    if (!cancelled && statusPaused !== paused) {
      statusPaused = paused;
      await setSweepStatus({ sweepId, status: paused ? 'paused' : 'running' });
      continue;
    }
    while (!paused && !cancelled && !shardFailure && !historyFull() && running.size < maxShards && nextShard < shardCount) {
      await startShard(nextShard++);
    }
    const stopping = cancelled || shardFailure !== undefined || nextShard >= shardCount || historyFull();
    if (running.size === 0 && stopping) break;
    const seen = version;
    await condition(() => version !== seen);
  }

  // Let a pause update that is waiting see the shards gone and reply before this run ends.
  await condition(allHandlersFinished);
  if (shardFailure !== undefined) {
    await setSweepStatus({ sweepId, status: 'failed' });
    throw ApplicationFailure.nonRetryable(shardFailure, SHARD_FAILED);
  }
  if (cancelled) {
    await setSweepStatus({ sweepId, status: 'cancelled' });
  } else if (nextShard < shardCount) {
    await continueAsNew<typeof sweepWorkflow>({ ...input, window, carried: { total, nextShard, done, failed, cells, paused, pauseEpoch, ...(ordered ? { controlSeq } : {}) } });
  } else if (patched('finish-from-database')) {
    // The database, not this workflow's count, decides: `completed` only when no work unit is pending.
    await finishSweep({ sweepId });
  } else {
    await setSweepStatus({ sweepId, status: 'completed' });
  }
  return progress();
}
