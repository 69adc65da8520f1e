/**
 * One shard of a sweep: runs the pending work units with ordinals in [from, to), at most
 * `window` at once (a sliding window), and continues as new before its history grows large.
 */
import { condition, continueAsNew, getExternalWorkflowHandle, isCancellation, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { ShardWorkflowInput, SweepProgress } from '../orchestrator/sweep/contract.ts';
import { cancelSignal, pauseSignal, progressQuery, resumeSignal, setWindowSignal, shardControlSignal, shardPausedSignal, shardReportSignal } from './sweep-signals.ts';
import {
  BUG_TYPE, DEFAULT_BUG_RETRY_MS, DEFAULT_MAX_HISTORY_EVENTS, MAX_BUG_RUNS, MIN_HISTORY_EVENTS, clampWindow, failWorkUnit,
  failureReason, failureType, intOption, pendingWorkUnits, runWorkUnit,
} from './sweep-options.ts';

/** Work units asked for per `pendingWorkUnits` call: one indexed query, ~10 KiB of ids in history. */
export const PAGE_SIZE = 200;

/**
 * A shard signals its counters to its parent each time this many more work units are
 * handled: often enough for a useful progress query, rare enough that a 5,000-unit shard
 * adds only ~50 signals (~200 events) to the parent's history.
 */
export const REPORT_EVERY = 100;

/** A work unit failed with a bug in MAX_BUG_RUNS runs; `message` is its failure reason. */
class BugLimit extends Error {}

/** Input of {@link shardWorkflow}: the contract's, plus options the sweep passes on. */
export interface ShardRunInput extends ShardWorkflowInput {
  /** Index of the shard within its sweep, sent with its reports to the parent. @default 0 */
  readonly shard?: number;
  /** Start paused (the sweep was paused when this shard started). @default false */
  readonly paused?: boolean;
  /** Continue as new once the history has this many events. @default 4000 */
  readonly maxHistoryEvents?: number;
  /** Report to the parent each time this many more work units are handled. @default 100 */
  readonly reportEvery?: number;
  /**
   * Wait before running a work unit again after a bug (a failure of type INTERNAL), doubled
   * after each; the work unit is recorded as failed after {@link MAX_BUG_RUNS} such runs.
   * @default 10000 ms
   */
  readonly bugRetryMs?: number;
  /** The parent's pause epoch last forwarded to this shard (carried across continue-as-new). */
  readonly pauseEpoch?: number;
  /** The last ShardControl.seq applied (carried across continue-as-new): older controls are ignored. */
  readonly controlSeq?: number;
}

/**
 * Runs the shard's pending work units and returns its counters. `done` counts work units
 * run successfully here plus those already complete (skipped: `pendingWorkUnits` did not
 * return them); `failed` those recorded as failed after a non-retryable failure;
 * `cells` the cells written by this shard. On `cancel` it stops starting work units, lets
 * the running ones finish and returns; `pause`/`resume`/`setWindow` act at once.
 * Throws a non-retryable `BAD_ARGS` failure on an invalid range, window or threshold.
 */
export async function shardWorkflow(input: ShardRunInput): Promise<SweepProgress> {
  const { sweepId, from, to } = input;
  intOption('from', from, 0, 0);
  intOption('to', to, from, from);
  const maxHistory = intOption('maxHistoryEvents', input.maxHistoryEvents, DEFAULT_MAX_HISTORY_EVENTS, MIN_HISTORY_EVENTS);
  const shard = input.shard ?? 0;
  const reportEvery = intOption('reportEvery', input.reportEvery, REPORT_EVERY);
  const bugRetryMs = intOption('bugRetryMs', input.bugRetryMs, DEFAULT_BUG_RETRY_MS, 0);
  let window = clampWindow(intOption('window', input.window, 1)) ?? 1;
  let paused = input.paused ?? false;
  /** The pause epoch to acknowledge (forwarded by the parent with `pause`), and the last acknowledged. */
  let pauseEpoch = input.pauseEpoch;
  let ackedEpoch: number | undefined;
  let cancelled = false;
  let { done, failed, cells } = input.carried ?? { done: 0, failed: 0, cells: 0 };
  let running = 0;
  /** Every ordinal below it is started, finished or skipped. */
  let frontier = Math.max(from, input.cursor ?? from);
  /** Pending work units fetched but not started yet (all at or above the frontier). */
  let queue: { readonly workUnitId: string; readonly ordinal: number }[] = [];
  /** Where the next page starts; `null` once the range is exhausted. */
  let nextPage: number | null = frontier < to ? frontier : null;
  /** Bumped on every change the main loop waits for. */
  let version = 0;

  const progress = (): SweepProgress => ({ total: to - from, done, failed, running, cells, paused });
  setHandler(progressQuery, progress);
  setHandler(pauseSignal, (epoch) => {
    paused = true;
    if (typeof epoch === 'number') pauseEpoch = epoch;
    version++;
  });
  setHandler(resumeSignal, () => { paused = false; version++; });
  setHandler(cancelSignal, () => { cancelled = true; version++; });
  setHandler(setWindowSignal, (n) => { window = clampWindow(n) ?? window; version++; });
  // The parent's whole control state, newest first whatever the order of arrival (ShardControl).
  let controlSeq = input.controlSeq ?? -1;
  setHandler(shardControlSignal, (c) => {
    if (c.seq <= controlSeq) return;
    controlSeq = c.seq;
    paused = c.paused;
    pauseEpoch = c.pauseEpoch;
    if (c.cancelled) cancelled = true;
    window = clampWindow(c.window) ?? window;
    version++;
  });

  const parentId = workflowInfo().parent?.workflowId;
  let reportedAt = done + failed;
  let reporting = false;
  const report = (force = false): void => {
    if (parentId === undefined || reporting || (!force && done + failed - reportedAt < reportEvery)) return;
    reporting = true;
    reportedAt = done + failed;
    // A lost report only makes the parent's progress stale until the next one or the result.
    void getExternalWorkflowHandle(parentId).signal(shardReportSignal, { shard, progress: progress() })
      .catch(() => undefined)
      .finally(() => { reporting = false; });
  };

  /** Counts the ordinals in [frontier, ordinal) as complete: pendingWorkUnits skipped them. */
  const advance = (ordinal: number): void => {
    done += Math.max(0, ordinal - frontier);
    frontier = Math.max(frontier, ordinal);
  };
  const exhausted = (): boolean => queue.length === 0 && nextPage === null;
  /**
   * Runs a work unit until it is complete: again at once when a run returns incomplete (its
   * time ran out; the next run goes on from what is stored), and again after a wait when a run
   * fails with a bug, at most MAX_BUG_RUNS runs in all; then the bug is the work unit's failure.
   * Outages and absent agents never reach here: the activity's retry policy waits them out.
   */
  const runToEnd = async (workUnitId: string): Promise<void> => {
    for (let bugs = 0; ;) {
      try {
        const outcome = await runWorkUnit({ sweepId, workUnitId });
        cells += outcome.cellsWritten;
        if (outcome.complete !== false) return;
      } catch (err) {
        if (isCancellation(err) || failureType(err) !== BUG_TYPE) throw err;
        bugs++;
        if (bugs >= MAX_BUG_RUNS) throw new BugLimit(`${failureReason(err)} (failed the same way in ${bugs} runs)`);
        await sleep(bugRetryMs * 2 ** (bugs - 1));
      }
    }
  };
  const start = (unit: { workUnitId: string; ordinal: number }): void => {
    advance(unit.ordinal);
    frontier = unit.ordinal + 1;
    running++;
    runToEnd(unit.workUnitId)
      .then(
        () => { done++; },
        async (err: unknown) => {
          // Temporal's own cancellation (of the sweep, reaching its shards) is not the work unit's fault.
          if (isCancellation(err)) return;
          await failWorkUnit({ sweepId, workUnitId: unit.workUnitId, reason: err instanceof BugLimit ? err.message : failureReason(err) });
          failed++;
        },
      )
      // Once a pause has drained the window, tell the parent that nothing runs any more.
      .finally(() => { running--; version++; report(paused && running === 0); })
      .catch(() => undefined);
  };

  const historyFull = (): boolean => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxHistory;

  for (;;) {
    while (!paused && !cancelled && !historyFull() && running < window && !exhausted()) {
      if (queue.length === 0 && nextPage !== null) {
        advance(nextPage);
        const page = await pendingWorkUnits({ sweepId, from: nextPage, to, limit: PAGE_SIZE });
        queue = page.units.filter((u) => u.ordinal >= frontier && u.ordinal < to);
        // A `next` that does not move forward would loop for ever: treat it as the end.
        nextPage = page.next !== null && page.next < to && page.next > nextPage ? page.next : null;
      } else {
        const unit = queue.shift();
        if (unit) start(unit);
      }
      if (exhausted()) advance(to);
    }
    // The pause has taken effect here: nothing runs and, until resume, nothing starts. Only a
    // pause forwarded with an epoch is acknowledged (histories recorded before acks replay as before).
    if (paused && running === 0 && pauseEpoch !== undefined && ackedEpoch !== pauseEpoch && parentId !== undefined) {
      ackedEpoch = pauseEpoch;
      void getExternalWorkflowHandle(parentId).signal(shardPausedSignal, { shard, epoch: pauseEpoch }).catch(() => undefined);
    }
    if (running === 0 && (cancelled || exhausted() || historyFull())) break;
    const seen = version;
    await condition(() => version !== seen);
  }

  if (!cancelled && !exhausted()) {
    await continueAsNew<typeof shardWorkflow>({
      // Fetched but unstarted units lie at or above the frontier: the next run fetches them again.
      ...input, window, paused, pauseEpoch, cursor: frontier, carried: progress(), ...(controlSeq >= 0 ? { controlSeq } : {}),
    });
  }
  return progress();
}
