/** Resolving the SWEEP argument of results commands (a sweep name or id). */
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { Queryable } from './queryable.ts';

/** A sweep as results code refers to it. */
export interface SweepRef {
  readonly id: string;
  readonly name: string;
}

/**
 * Finds a sweep by name (preferred) or id. Throws `SWEEP_NOT_FOUND`, naming a few existing
 * sweeps in the hint, when there is none.
 */
export async function resolveSweep(db: Queryable, ref: string): Promise<SweepRef> {
  const { rows } = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM "Sweep" WHERE name = $1 OR id = $1 ORDER BY (name = $1) DESC LIMIT 1`,
    [ref],
  );
  const hit = rows[0];
  if (hit) return { id: hit.id, name: hit.name };
  const known = await db.query<{ name: string }>(`SELECT name FROM "Sweep" ORDER BY "createdAt" DESC LIMIT 5`);
  const names = known.rows.map((r) => r.name);
  throw new FaithsweepError(ErrorCode.SWEEP_NOT_FOUND, `no sweep named or with id '${ref}'`, {
    hint: names.length ? `existing sweeps include: ${names.join(', ')}` : 'the database has no sweeps yet: launch one first',
  });
}
