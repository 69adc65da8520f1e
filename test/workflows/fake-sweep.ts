/**
 * In-memory sweep activities for the workflow tests: the workflows are what those tests are
 * about, so the activities are plain functions over a set of done work units that record
 * how they were called (starts per unit, concurrency, failures, statuses).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PendingPage, SweepActivities, SweepOutcome, WorkUnitOutcome } from '../../orchestrator/sweep/contract.ts';

/** Options of one fake sweep. */
export interface FakeSweepOptions {
  /** Work units, ordinals 0..units-1. */
  readonly units: number;
  /** How long each runWorkUnit takes, in ms. @default 0 */
  readonly delayMs?: number;
  /** Cells written per work unit. @default 3 */
  readonly cellsPerUnit?: number;
  /** Ordinals whose runWorkUnit throws a non-retryable failure of the given type. */
  readonly failing?: ReadonlyMap<number, string>;
  /** Ordinals whose first attempt throws a retryable error. */
  readonly flaky?: ReadonlySet<number>;
  /** Ordinals whose every runWorkUnit throws a bug (a failure of type INTERNAL, as the real activity's `isBug`). */
  readonly buggy?: ReadonlySet<number>;
  /** Runs of each work unit that return incomplete (time ran out) before one completes it. @default 0 */
  readonly incompleteRuns?: number;
  /** The ordinals registered, when not 0..units-1 (a sweep whose ordinals have gaps). */
  readonly ordinals?: readonly number[];
}

/** One sweep's in-memory state and call log. */
export class FakeSweep {
  /** runWorkUnit calls per ordinal. */
  readonly starts = new Map<number, number>();
  /** Ordinals with all their cells written. */
  readonly complete = new Set<number>();
  readonly failures: { workUnitId: string; reason: string }[] = [];
  readonly statuses: string[] = [];
  running = 0;
  maxRunning = 0;
  totalStarts = 0;

  constructor(readonly opts: FakeSweepOptions) {}

  /** Sum of runWorkUnit calls. */
  startsOf(ordinal: number): number {
    return this.starts.get(ordinal) ?? 0;
  }

  /** The registered ordinals, ascending. */
  get ordinals(): readonly number[] {
    return this.opts.ordinals ?? Array.from({ length: this.opts.units }, (_, i) => i);
  }

  /** As the real activity: the largest ordinal + 1. */
  countWorkUnits(): number {
    return this.ordinals.length === 0 ? 0 : Math.max(...this.ordinals) + 1;
  }

  /** As the real activity: counts from the "database" (the set of complete / failed units). */
  finishSweep(): SweepOutcome {
    const failed = new Set(this.failures.map((f) => ordinalOf(f.workUnitId)));
    const done = this.ordinals.filter((o) => this.complete.has(o)).length;
    const nFailed = this.ordinals.filter((o) => !this.complete.has(o) && failed.has(o)).length;
    const pending = this.ordinals.length - done - nFailed;
    const status = pending > 0 ? 'partial' : 'completed';
    this.statuses.push(status);
    return { status, total: this.ordinals.length, done, failed: nFailed, pending };
  }

  pendingWorkUnits(from: number, to: number, limit: number): PendingPage {
    const units: { workUnitId: string; ordinal: number }[] = [];
    for (const o of this.ordinals) {
      if (o < from || o >= to || this.complete.has(o)) continue;
      if (units.length === limit) return { units, next: o };
      units.push({ workUnitId: workUnitId(o), ordinal: o });
    }
    return { units, next: null };
  }

  async runWorkUnit(id: string): Promise<WorkUnitOutcome> {
    const o = ordinalOf(id);
    this.starts.set(o, this.startsOf(o) + 1);
    this.totalStarts++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.opts.delayMs) await sleep(this.opts.delayMs);
      const type = this.opts.failing?.get(o);
      if (type) throw ApplicationFailure.create({ message: `work unit ${id} is bad`, type, nonRetryable: true });
      if (this.opts.buggy?.has(o)) throw ApplicationFailure.create({ message: `duplicate key value violates unique constraint (work unit ${id})`, type: 'INTERNAL', nonRetryable: true });
      if (this.opts.flaky?.has(o) && this.startsOf(o) === 1) throw new Error(`agent lost while running ${id}`);
      const cells = this.opts.cellsPerUnit ?? 3;
      // Incomplete runs write one cell each; the completing run writes the rest.
      const incomplete = this.opts.incompleteRuns ?? 0;
      if (this.startsOf(o) <= incomplete) return { workUnitId: id, cellsWritten: 1, cellsTotal: cells, agentId: 'fake-agent', complete: false };
      this.complete.add(o);
      return { workUnitId: id, cellsWritten: cells - Math.min(incomplete, cells), cellsTotal: cells, agentId: 'fake-agent', complete: true };
    } finally {
      this.running--;
    }
  }
}

/** Work unit id of an ordinal. */
export function workUnitId(ordinal: number): string {
  return `wu-${ordinal}`;
}

function ordinalOf(id: string): number {
  return Number(id.slice('wu-'.length));
}

/** Activities that route each call to the fake sweep registered under its sweep id. */
export function fakeActivities(fakes: ReadonlyMap<string, FakeSweep>): SweepActivities {
  const get = (sweepId: string): FakeSweep => {
    const f = fakes.get(sweepId);
    if (!f) throw ApplicationFailure.nonRetryable(`no fake sweep ${sweepId}`, 'BAD_SPEC');
    return f;
  };
  return {
    countWorkUnits: async ({ sweepId }) => get(sweepId).countWorkUnits(),
    pendingWorkUnits: async ({ sweepId, from, to, limit }) => get(sweepId).pendingWorkUnits(from, to, limit),
    runWorkUnit: ({ sweepId, workUnitId: id }) => get(sweepId).runWorkUnit(id),
    failWorkUnit: async ({ sweepId, workUnitId: id, reason }) => { get(sweepId).failures.push({ workUnitId: id, reason }); },
    setSweepStatus: async ({ sweepId, status }) => { get(sweepId).statuses.push(status); },
    finishSweep: async ({ sweepId }) => get(sweepId).finishSweep(),
  };
}

/** Resolves after `ms` milliseconds (node:timers is off limits under the workflows/ lint glob). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
