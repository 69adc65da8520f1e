/**
 * The contract between the sweep workflows (workflows/, deterministic) and the sweep
 * activities (orchestrator/activities/). Workflow code imports this file as types only.
 *
 * Work units of a sweep are numbered by `WorkUnit.ordinal` (0..n-1 when registered by
 * `launch`), so a workflow can shard and page through them by range without holding their
 * ids in its history. The workflows never rely on the ordinals being dense: they cover
 * [0, maxOrdinal + 1), and a sweep is `completed` only when the database says that no
 * registered work unit is still pending ({@link SweepActivities.finishSweep}).
 */

/** Input of the top-level sweep workflow (workflow id `sweep-<sweepId>`). */
export interface SweepWorkflowInput {
  readonly sweepId: string;
  /** Running work units at once, per shard. @default 32 */
  readonly window?: number;
  /** Work units per child workflow. @default 5000 */
  readonly shardSize?: number;
}

/** Input of one shard (a child workflow over ordinals [from, to)). */
export interface ShardWorkflowInput {
  readonly sweepId: string;
  readonly from: number;
  readonly to: number;
  readonly window: number;
  /** Resume point carried across continue-as-new: ordinals below it are already handled. */
  readonly cursor?: number;
  /** Counters carried across continue-as-new. */
  readonly carried?: SweepProgress;
}

/** Progress, as the `progress` query answers it. */
export interface SweepProgress {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly cells: number;
  readonly paused: boolean;
}

/** A page of work units still missing cells, in ordinal order. */
export interface PendingPage {
  readonly units: readonly { readonly workUnitId: string; readonly ordinal: number }[];
  /** Ordinal to continue from, or null at the end of the range. */
  readonly next: number | null;
}

/** Outcome of one work unit. */
export interface WorkUnitOutcome {
  readonly workUnitId: string;
  readonly cellsWritten: number;
  readonly cellsTotal: number;
  readonly agentId: string;
  /**
   * False when the run ended with cells left because its time ran out (the activity's
   * start-to-close timeout came near): the workflow runs the work unit again at once, which
   * goes on from the cells and clean run already stored. Absent (histories from before it
   * existed) means complete.
   */
  readonly complete?: boolean;
}

/** The activities the sweep workflows call. */
export interface SweepActivities {
  /**
   * The end of the sweep's ordinal range: its largest work-unit ordinal + 1 (0 when it has
   * none). Equal to the number of work units when the ordinals are dense, as `launch`
   * registers them; larger when they have gaps, so that no work unit falls outside every shard.
   */
  countWorkUnits(input: { sweepId: string }): Promise<number>;
  /** Work units with ordinal in [from, to) that still miss cells, at most `limit`. */
  pendingWorkUnits(input: { sweepId: string; from: number; to: number; limit: number }): Promise<PendingPage>;
  /**
   * Runs one work unit on an agent and writes its trajectory and cells idempotently.
   * Retryable failures (agent lost, RESOURCE_EXHAUSTED, timeouts) throw; bad input throws a
   * non-retryable ApplicationFailure of type BAD_INTERVENTION / MODEL_NOT_FOUND.
   */
  runWorkUnit(input: { sweepId: string; workUnitId: string }): Promise<WorkUnitOutcome>;
  /** Records the work unit as failed with a reason (after non-retryable errors). */
  failWorkUnit(input: { sweepId: string; workUnitId: string; reason: string }): Promise<void>;
  /** Sets the sweep's status. */
  setSweepStatus(input: { sweepId: string; status: 'running' | 'paused' | 'cancelled' | 'completed' | 'failed' }): Promise<void>;
  /**
   * Called when every shard has run: reads the work units' states from the database and sets
   * the sweep's final status from them, in one statement — `completed` when no work unit is
   * pending or running (failed ones included: they are counted and `status` lists them),
   * `partial` otherwise (a resume runs what is missing). Returns the counts it saw.
   */
  finishSweep(input: { sweepId: string }): Promise<SweepOutcome>;
}

/** The database's view of a sweep's work units when its workflow finished (see finishSweep). */
export interface SweepOutcome {
  readonly status: 'completed' | 'partial';
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  /** Work units still pending or running: non-zero means the sweep is `partial`. */
  readonly pending: number;
}

/** Signal and query names of the sweep workflows. */
export const SWEEP_SIGNALS = { pause: 'pause', resume: 'resume', cancel: 'cancel', setWindow: 'setWindow' } as const;
export const SWEEP_QUERIES = { progress: 'progress' } as const;
