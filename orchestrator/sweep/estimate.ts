/**
 * `plan`'s time estimate, calibrated from measured throughput when there is one.
 *
 * Sources, in order of preference:
 * 1. `sweep`: the last completed sweep in the database that ran the plan's models (the one that
 *    ran most of them, then the most recent): its cells divided by its busy time (the union of
 *    its done work units' [startedAt, finishedAt] intervals, so an outage or a cancel/resume
 *    gap does not count), on the number of distinct agents that ran it;
 * 2. `default`: the static figure {@link CPU_ROWS_PER_SECOND} applied to the plan's
 *    forward-pass rows (an upper bound: it ignores skipped and early-stopped branches, and
 *    was about 3× too slow on the arithmetic organisms).
 *
 * Cells per second depend on the grid (a probe is free, a late corruption runs few steps), so
 * a measured rate is a better guess than the static one for sweeps like the measured sweep,
 * and the estimate says which sweep it comes from so that a reader can judge that.
 */
import type pg from 'pg';
import type { SweepPlan } from './plan.ts';

/**
 * Forward-pass rows per second of one agent on this project's 2-core CPU machine (the
 * forked path of `npm run bench:agent`: 53,950 rows in 159 s). The uncalibrated default.
 */
export const CPU_ROWS_PER_SECOND = 340;

/**
 * Fewest cells a measured sweep needs to calibrate: below that, its rate is dominated by
 * start-up (model loading, the first clean runs) rather than throughput.
 */
export const MIN_MEASURED_CELLS = 100;

/** A sweep's measured throughput (see {@link measuredThroughput}). */
export interface MeasuredThroughput {
  readonly sweepId: string;
  readonly sweepName: string;
  readonly finishedAt: Date;
  /** Cells written by its done work units. */
  readonly cells: number;
  /** Seconds during which at least one of its work units was running. */
  readonly busySeconds: number;
  /** Distinct agents that ran its done work units (at least 1). */
  readonly agents: number;
  /** cells / busySeconds, over all its agents together. */
  readonly cellsPerSecond: number;
  /** How many of the plan's models it ran, of how many. */
  readonly modelsCovered: number;
  readonly modelsPlanned: number;
}

/** Where the plan's time estimate comes from. */
export interface PlanEstimate {
  readonly source: 'sweep' | 'default';
  /** Estimated wall time of the sweep in seconds. */
  readonly seconds: number;
  /** One line saying where the figure comes from (printed by `plan`). */
  readonly basis: string;
  /** The rate used: cells/s (`sweep`) or forward-pass rows/s (`default`). */
  readonly rate: number;
  readonly rateUnit: 'cells/s' | 'rows/s';
  /** Agents the rate was measured on (1 for the default: one CPU agent). */
  readonly agents: number;
  /** The measured sweep (source `sweep`). */
  readonly sweep?: { readonly id: string; readonly name: string; readonly finishedAt: string; readonly cells: number; readonly busySeconds: number };
  /** Why no measured figure was used (source `default`), e.g. "no database reachable". */
  readonly uncalibratedBecause?: string;
}

/**
 * The measured throughput of the last completed sweep that ran any of `modelIds` (preferring
 * the one that ran most of them, then the most recently finished), or null when there is none
 * with at least {@link MIN_MEASURED_CELLS} cells and a positive busy time. Reads only.
 * Throws what `pg` throws (no connection, no such table).
 */
export async function measuredThroughput(sql: pg.Client, modelIds: readonly string[]): Promise<MeasuredThroughput | null> {
  const ids = [...new Set(modelIds)];
  const { rows } = await sql.query<{ id: string; name: string; finishedAt: Date; covered: number; cells: string; busy: number | null; agents: number }>(
    `WITH candidates AS (
       SELECT s.id, s.name, s."finishedAt",
              (SELECT count(DISTINCT w."modelId") FROM "WorkUnit" w WHERE w."sweepId" = s.id AND w."modelId" = ANY($1))::int AS covered
         FROM "Sweep" s
        WHERE s.status = 'completed' AND s."finishedAt" IS NOT NULL
     ), best AS (
       SELECT * FROM candidates c
        WHERE c.covered > 0
          AND (SELECT coalesce(sum(w."doneCells"), 0) FROM "WorkUnit" w WHERE w."sweepId" = c.id AND w.status = 'done') >= $2
        ORDER BY c.covered DESC, c."finishedAt" DESC LIMIT 1
     ), units AS (
       SELECT w."startedAt" AS s, w."finishedAt" AS e, w."doneCells", w."agentId",
              -- a new island starts when this unit starts after every earlier one has finished
              CASE WHEN w."startedAt" <= max(w."finishedAt") OVER (ORDER BY w."startedAt", w."finishedAt" ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                   THEN 0 ELSE 1 END AS brk
         FROM "WorkUnit" w JOIN best b ON b.id = w."sweepId"
        WHERE w.status = 'done' AND w."startedAt" IS NOT NULL AND w."finishedAt" IS NOT NULL
     ), islands AS (
       SELECT min(s) AS s, max(e) AS e FROM (SELECT s, e, sum(brk) OVER (ORDER BY s, e) AS grp FROM units) x GROUP BY grp
     )
     SELECT b.id, b.name, b."finishedAt", b.covered,
            (SELECT coalesce(sum("doneCells"), 0) FROM units) AS cells,
            (SELECT sum(extract(epoch FROM e - s))::float8 FROM islands) AS busy,
            (SELECT count(DISTINCT "agentId")::int FROM units) AS agents
       FROM best b`,
    [ids, MIN_MEASURED_CELLS]);
  const r = rows[0];
  if (!r || !r.busy || r.busy <= 0) return null;
  const cells = Number(r.cells);
  if (cells < MIN_MEASURED_CELLS) return null;
  return {
    sweepId: r.id, sweepName: r.name, finishedAt: r.finishedAt, cells, busySeconds: r.busy,
    agents: Math.max(1, r.agents), cellsPerSecond: cells / r.busy, modelsCovered: r.covered, modelsPlanned: ids.length,
  };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Seconds as `6 min`, `45 s`, `2.1 h` (for the basis line). */
function short(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${round(seconds / 3600, 1)} h`;
}

/**
 * The plan's estimate from a measured throughput, or the uncalibrated default when `measured`
 * is null (`why` says why, e.g. "no database reachable"). The measured rate is assumed to hold
 * for this plan's cells on as many agents as it was measured on.
 */
export function planEstimate(plan: Pick<SweepPlan, 'cells' | 'rowSteps'>, measured: MeasuredThroughput | null, why = 'no completed sweep of these models measured'): PlanEstimate {
  if (measured) {
    const seconds = plan.cells / measured.cellsPerSecond;
    const rate = round(measured.cellsPerSecond, measured.cellsPerSecond < 10 ? 2 : 0);
    const of = measured.modelsCovered < measured.modelsPlanned ? ` (it ran ${measured.modelsCovered} of this plan's ${measured.modelsPlanned} models)` : '';
    return {
      source: 'sweep', seconds, rate, rateUnit: 'cells/s', agents: measured.agents,
      basis: `estimate: ${short(seconds)} from sweep '${measured.sweepName}' measured ${rate} cells/s on ${measured.agents} agent${measured.agents === 1 ? '' : 's'}${of}`,
      sweep: { id: measured.sweepId, name: measured.sweepName, finishedAt: measured.finishedAt.toISOString(), cells: measured.cells, busySeconds: round(measured.busySeconds, 1) },
    };
  }
  const seconds = plan.rowSteps / CPU_ROWS_PER_SECOND;
  return {
    source: 'default', seconds, rate: CPU_ROWS_PER_SECOND, rateUnit: 'rows/s', agents: 1, uncalibratedBecause: why,
    basis: `estimate: ${short(seconds)} uncalibrated default (${plan.rowSteps} forward-pass rows at ${CPU_ROWS_PER_SECOND} rows/s on one CPU agent; an upper bound: ${why})`,
  };
}
