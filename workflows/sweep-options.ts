/**
 * Constants, activity proxies and input checks shared by the sweep workflows
 * (workflows/sweep.ts and workflows/shard.ts).
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { SweepActivities } from '../orchestrator/sweep/contract.ts';

/**
 * Failure types after which retrying a work unit cannot help: the work unit is recorded as
 * failed instead. The same strings as `ErrorCode` in common/errors.ts (workflow code
 * may not import values from orchestrator/).
 */
export const NON_RETRYABLE_TYPES = ['BAD_INTERVENTION', 'MODEL_NOT_FOUND', 'BAD_SPEC', 'PARAPHRASE_FAILED'] as const;

/**
 * Failure type of a bug: a failure that is neither bad input nor an outage (a programming
 * error, a constraint violation, an agent's INTERNAL status; orchestrator/activities/sweep.ts
 * `isBug`). Not retried by the activity's retry policy; the shard workflow runs the work unit
 * again at most {@link MAX_BUG_RUNS} times in all, then records it as failed with the reason,
 * so a sweep always terminates. The same string as `ErrorCode.INTERNAL`.
 */
export const BUG_TYPE = 'INTERNAL';

/** Runs of a work unit that may fail with a bug before it is recorded as failed. */
export const MAX_BUG_RUNS = 3;

/** Wait before the second run after a bug (doubled before the third). */
export const DEFAULT_BUG_RETRY_MS = 10_000;

/** Failure type of a workflow input that cannot be run (same string as `ErrorCode.BAD_ARGS`). */
export const BAD_ARGS = 'BAD_ARGS';

export { DEFAULT_WINDOW, MAX_WINDOW } from './limits.ts';
import { MAX_WINDOW } from './limits.ts';

/** Default work units per shard (the contract's documented default). */
export const DEFAULT_SHARD_SIZE = 5000;

/**
 * A workflow continues as new once its history has this many events (or earlier, when the
 * server suggests it). Well under Temporal's 10,240-event warning and 51,200-event limit,
 * and small enough that replaying one run on a worker stays cheap.
 */
export const DEFAULT_MAX_HISTORY_EVENTS = 4000;

/**
 * Smallest history threshold accepted: a fresh run needs a few dozen events before it has
 * done anything, so a lower threshold could continue-as-new forever without progress.
 */
export const MIN_HISTORY_EVENTS = 50;

/**
 * Retries of every sweep activity: fast at first (a lost agent is usually replaced within
 * seconds), then at most every 30 s, and never giving up — a sweep waits out an outage
 * rather than losing work; bad input fails at once through the non-retryable types.
 */
const RETRY = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, BUG_TYPE],
} satisfies ActivityOptions['retry'];

/** runWorkUnit: a whole (model, prompt, seed) group on an agent; it heartbeats. */
export const { runWorkUnit } = proxyActivities<Pick<SweepActivities, 'runWorkUnit'>>({
  // One run of a work unit: its agent calls are each bounded (the worker's --call-ms) and it
  // returns incomplete before this timeout when cells are left (the workflow runs it again),
  // so a work unit of any size runs across as many calls and runs as it needs.
  startToCloseTimeout: '10 minutes',
  // The activity heartbeats every 2 s; 20 s of silence means its worker is gone, and the
  // work unit is retried elsewhere (cells already written are kept and skipped).
  heartbeatTimeout: '20 seconds',
  retry: RETRY,
});

/** Book-keeping activities: one SQL statement each. */
export const { countWorkUnits, pendingWorkUnits, failWorkUnit, setSweepStatus, finishSweep } = proxyActivities<
  Omit<SweepActivities, 'runWorkUnit'>
>({
  // One query on an indexed table: seconds even on a loaded database.
  startToCloseTimeout: '1 minute',
  retry: RETRY,
});

/** The type of an activity's failure (an ApplicationFailure's type), or undefined. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** One line that says why a work unit failed, from the activity's failure. */
export function failureReason(err: unknown): string {
  const cause = err instanceof ActivityFailure ? (err.cause ?? err) : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'Error'}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * `value` if it is an integer ≥ `min`, `fallback` if it is undefined; anything else fails
 * the workflow with a non-retryable `BAD_ARGS` failure naming `name`.
 */
export function intOption(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw ApplicationFailure.nonRetryable(`${name} must be an integer ≥ ${min}, got ${String(value)}`, BAD_ARGS);
  }
  return value;
}

/** A window from a signal or an input: clamped to [1, MAX_WINDOW]; undefined when not a number. */
export function clampWindow(n: unknown): number | undefined {
  if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
  return Math.min(MAX_WINDOW, Math.max(1, Math.floor(n)));
}
