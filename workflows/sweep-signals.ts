/**
 * Signals and queries of the sweep workflows, defined once here so that the workflows and
 * the orchestrator (CLI, client code) use the same definitions. Their names are those of
 * `SWEEP_SIGNALS` / `SWEEP_QUERIES` in orchestrator/sweep/contract.ts (workflow code may
 * not import values from orchestrator/, so the names are repeated here;
 * test/workflows/sweep-replay.test.ts checks that they agree).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SweepProgress } from '../orchestrator/sweep/contract.ts';

/**
 * Stop starting new work units; the running ones finish. Idempotent. Send it without an
 * argument: the number is internal (the sweep forwards its pause epoch to its shards, which
 * acknowledge that epoch with {@link shardPausedSignal}). A signal returns before the shards
 * have seen it; use {@link pauseUpdate} to wait until the pause has taken effect.
 */
export const pauseSignal = defineSignal<[number?]>('pause');

/**
 * Pause and wait: the update completes once the pause has taken effect — every running shard
 * has acknowledged it and has no work unit running — and returns the progress then. From that
 * moment until `resume`, no work unit of the sweep starts (the guarantee the `pause` signal
 * alone cannot give, since it reaches the shards asynchronously). With work units that take
 * hours it waits that long: callers that only want to stop new work send the signal.
 */
export const pauseUpdate = defineUpdate<SweepProgress, []>('pauseAndDrain');

/** Start work units again after {@link pauseSignal}. Idempotent. */
export const resumeSignal = defineSignal('resume');

/**
 * Stop starting new work units, let the running ones finish, then set the sweep's status to
 * `cancelled` and complete normally (the progress is the workflow's result). Resume a
 * cancelled sweep by starting its workflow again with the same id.
 */
export const cancelSignal = defineSignal('cancel');

/**
 * Change the number of work units running at once per shard: rounded down and clamped to
 * [1, MAX_WINDOW] (workflows/limits.ts); a non-number is ignored. The sweep forwards it to
 * its running shards and passes it to the shards it starts later.
 */
export const setWindowSignal = defineSignal<[number]>('setWindow');

/**
 * The sweep's control state as each of its shards must hold it (internal to the workflows).
 * The sweep sends it to its shards after every pause, resume, cancel and setWindow, instead of
 * forwarding those signals one by one: signals from one workflow to another are not delivered
 * in the order they were sent, so a forwarded `resume` could overtake the `setWindow` before it
 * (or a `pause`, leaving a shard paused in a running sweep). A shard applies a control only
 * when its `seq` is newer than the last one it applied, whatever the order of arrival.
 */
export interface ShardControl {
  /** Increases with every control the sweep sends (carried across continue-as-new). */
  readonly seq: number;
  readonly paused: boolean;
  /** The pause epoch the shard acknowledges with `shardPaused` once nothing runs. */
  readonly pauseEpoch: number;
  readonly window: number;
  readonly cancelled: boolean;
}
export const shardControlSignal = defineSignal<[ShardControl]>('shardControl');

/** The sweep's (or one shard's) progress: totals, running work units, paused or not. */
export const progressQuery = defineQuery<SweepProgress>('progress');

/** What a shard reports to its parent sweep (internal to the workflows). */
export interface ShardReport {
  /** Index of the shard within the sweep. */
  readonly shard: number;
  /** The shard's counters so far, including those carried across continue-as-new. */
  readonly progress: SweepProgress;
}

/**
 * Internal: a shard reports its counters to its parent sweep now and then, so the sweep's
 * progress query can add up its running shards without querying them (a query handler
 * cannot wait for anything).
 */
export const shardReportSignal = defineSignal<[ShardReport]>('shardReport');

/** What a shard sends its parent once a forwarded pause has taken effect there. */
export interface ShardPaused {
  readonly shard: number;
  /** The pause epoch the parent forwarded with the `pause` signal. */
  readonly epoch: number;
}

/**
 * Internal: a shard tells its parent that it is paused with nothing running, for the pause
 * epoch it was sent. The parent's {@link pauseUpdate} waits for these.
 */
export const shardPausedSignal = defineSignal<[ShardPaused]>('shardPaused');
