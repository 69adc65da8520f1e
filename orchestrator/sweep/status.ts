/** A sweep's state from the database: counts by state, cells, rate, ETA and failures. */
import type pg from 'pg';
import { readUnitCounts } from './unit-counts.ts';

/** What `faithsweep status` reports. */
export interface SweepStatus {
  readonly sweepId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly units: { readonly total: number; readonly pending: number; readonly running: number; readonly done: number; readonly failed: number };
  readonly cells: {
    readonly written: number;
    /** Planned cells: exact for units whose clean run exists, the launch estimate for the rest. */
    readonly planned: number;
    readonly plannedExact: boolean;
  };
  /** Cells written per second over the last minute. */
  readonly rate: number;
  /** Seconds to go at that rate, or null. */
  readonly etaSeconds: number | null;
  readonly failures: readonly { readonly reason: string; readonly units: number }[];
  readonly perModel: readonly { readonly model: string; readonly units: number; readonly done: number; readonly cells: number }[];
  /** What a researcher can act on (the database's `sweep_state()`, as `sweep_summary` shows it). */
  readonly state: SweepState;
}

/**
 * A sweep's state as `sweep_state(sweep)` derives it (migration 20261203000001_sweep_states):
 * `completed`, `completed_with_failures`, `partial`, `waiting_for_agents`, or the status itself
 * (running, cancelled, failed, registering, planned).
 */
export interface SweepState {
  readonly name: string;
  /** One sentence: what happened and what to do; null when the name says it all. */
  readonly detail: string | null;
  /** Whether `faithsweep resume` can help (null while that question does not arise). */
  readonly resumeHelps: boolean | null;
  /** Models with work units waiting for an agent (waiting_for_agents only). */
  readonly waitingModels: readonly string[];
  /** Failed work units: on bad input (resume cannot help), otherwise (resume retries them). */
  readonly failedBadInput: number;
  readonly failedOther: number;
}

/** Reads `sweep_state(sweepId)`. */
export async function readSweepState(sql: pg.Pool | pg.Client, sweepId: string): Promise<SweepState> {
  const r = await sql.query<{ state: string; state_detail: string | null; resume_helps: boolean | null; waiting_models: string[] | null; failed_bad_input: number; failed_other: number }>(
    'SELECT * FROM sweep_state($1)', [sweepId]);
  const x = r.rows[0];
  return {
    name: x?.state ?? 'unknown', detail: x?.state_detail ?? null, resumeHelps: x?.resume_helps ?? null,
    waitingModels: x?.waiting_models ?? [], failedBadInput: x?.failed_bad_input ?? 0, failedOther: x?.failed_other ?? 0,
  };
}

/** The state as one short phrase: `completed with failures (2 bad input)`, `waiting for agents (arith-cot)`. */
export function stateLabel(s: SweepState): string {
  switch (s.name) {
    case 'completed_with_failures':
      return `completed with failures (${[s.failedBadInput ? `${s.failedBadInput} bad input` : '', s.failedOther ? `${s.failedOther} retryable` : ''].filter(Boolean).join(', ')})`;
    case 'waiting_for_agents':
      return `waiting for agents (${s.waitingModels.join(', ')})`;
    default:
      return s.name.replace(/_/g, ' ');
  }
}

/** Reads the status of `sweepId`, or null when there is no such sweep. */
export async function readSweepStatus(sql: pg.Pool | pg.Client, sweepId: string): Promise<SweepStatus | null> {
  const s = await sql.query<{ status: string; createdAt: Date; startedAt: Date | null; finishedAt: Date | null; spec: { estimate?: { cells: number; exact: boolean } } }>(
    'SELECT status, "createdAt", "startedAt", "finishedAt", spec FROM "Sweep" WHERE id = $1', [sweepId]);
  const sweep = s.rows[0];
  if (!sweep) return null;
  const { total, pending, running, done, failed } = await readUnitCounts(sql, sweepId);
  const units = { total, pending, running, done, failed };
  const p = await sql.query<{ planned: string | null; with_plan: string }>(
    'SELECT sum("plannedCells") AS planned, count(*) FILTER (WHERE "plannedCells" > 0) AS with_plan FROM "WorkUnit" WHERE "sweepId" = $1', [sweepId]);
  const plannedKnown = Number(p.rows[0]?.planned ?? 0);
  const c = await sql.query<{ written: string; recent: string }>(
    `SELECT count(*) AS written, count(*) FILTER (WHERE "createdAt" > now() - interval '60 seconds') AS recent FROM "Cell" WHERE "sweepId" = $1`, [sweepId]);
  const written = Number(c.rows[0]?.written ?? 0);
  const estimate = sweep.spec.estimate;
  const perUnit = estimate && units.total ? estimate.cells / units.total : 0;
  // Units with a plannedCells count are exact; estimate the others from the launch estimate.
  const withPlan = Number(p.rows[0]?.with_plan ?? 0);
  const planned = Math.round(plannedKnown + (units.total - withPlan) * perUnit);
  const plannedExact = Boolean(estimate?.exact) || withPlan === units.total;
  const elapsedRecent = sweep.startedAt ? Math.min(60, (Date.now() - sweep.startedAt.getTime()) / 1000) : 60;
  const rate = Number(c.rows[0]?.recent ?? 0) / Math.max(1, elapsedRecent);
  const remaining = Math.max(0, planned - written);
  // Reasons are grouped with the unit-specific parts (agent ids, cell keys) blanked out.
  const f = await sql.query<{ reason: string; n: string }>(
    `SELECT regexp_replace(regexp_replace(coalesce(error, '(no reason recorded)'), 'agent [^ ]+', 'agent *', 'g'), '''u[0-9]+[.][^'']*''', '''*''', 'g') AS reason,
            count(*) AS n FROM "WorkUnit" WHERE "sweepId" = $1 AND status = 'failed' GROUP BY 1 ORDER BY 2 DESC LIMIT 10`, [sweepId]);
  const m = await sql.query<{ model: string; units: string; done: string; cells: string }>(
    `SELECT m.name AS model, count(*) AS units, count(*) FILTER (WHERE w.status = 'done') AS done, sum(w."doneCells") AS cells
       FROM "WorkUnit" w JOIN "Model" m ON m.id = w."modelId" WHERE w."sweepId" = $1 GROUP BY m.name ORDER BY m.name`, [sweepId]);
  return {
    sweepId,
    status: sweep.status,
    createdAt: sweep.createdAt.toISOString(),
    startedAt: sweep.startedAt?.toISOString() ?? null,
    finishedAt: sweep.finishedAt?.toISOString() ?? null,
    units,
    cells: { written, planned, plannedExact },
    rate: Math.round(rate * 10) / 10,
    etaSeconds: remaining === 0 ? 0 : rate > 0 ? Math.round(remaining / rate) : null,
    failures: f.rows.map((r) => ({ reason: r.reason, units: Number(r.n) })),
    perModel: m.rows.map((r) => ({ model: r.model, units: Number(r.units), done: Number(r.done), cells: Number(r.cells ?? 0) })),
    state: await readSweepState(sql, sweepId),
  };
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A text progress bar of `width` characters. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}
