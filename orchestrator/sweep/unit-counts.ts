/**
 * A sweep's work units counted by state: the one count that `status`, the workflow's
 * `finishSweep` activity and the known-answer check read (one SQL text, so they cannot drift).
 * States are the WorkUnit.status values: pending, running, done, failed.
 */
import type { Queryable } from '../results/queryable.ts';

/** Work units of one sweep by state. */
export interface UnitCounts {
  readonly total: number;
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  /** Neither done nor failed (pending, running, or any state a later version adds). */
  readonly unfinished: number;
}

/**
 * One row of int columns total, pending, running, done, failed, unfinished for the sweep `$1`
 * (a SELECT that other statements may embed as a CTE).
 */
export const UNIT_COUNTS_SQL = `SELECT count(*)::int AS total,
       (count(*) FILTER (WHERE status = 'pending'))::int AS pending,
       (count(*) FILTER (WHERE status = 'running'))::int AS running,
       (count(*) FILTER (WHERE status = 'done'))::int AS done,
       (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
       (count(*) FILTER (WHERE status NOT IN ('done', 'failed')))::int AS unfinished
  FROM "WorkUnit" WHERE "sweepId" = $1`;

/** Reads the counts of `sweepId` (all zero for a sweep without work units). */
export async function readUnitCounts(db: Queryable, sweepId: string): Promise<UnitCounts> {
  const r = (await db.query<Record<keyof UnitCounts, number>>(UNIT_COUNTS_SQL, [sweepId])).rows[0];
  return { total: r?.total ?? 0, pending: r?.pending ?? 0, running: r?.running ?? 0, done: r?.done ?? 0, failed: r?.failed ?? 0, unfinished: r?.unfinished ?? 0 };
}
