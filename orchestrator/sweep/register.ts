/**
 * Writing a planned sweep to the database, idempotently: models (by sha256), the Sweep row,
 * and its prompts and work units, streamed from the plan in batches of their own transactions
 * (memory does not grow with the sweep). The Sweep row says `registering` until every work unit
 * is in, and no workflow starts for a sweep in that state; a launch that stopped half-way is
 * completed by launching again. Launching the same spec twice writes nothing new; launching a
 * changed spec under an existing name is refused.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import type { PlannedPrompt, ResolvedSampler, SweepPlan } from './plan.ts';
import { unitOrdinal, workUnitId } from './plan.ts';
import type { SweepSpec } from './spec-types.ts';
import type { ModelKind } from '../../common/model/card.ts';

/** What the Sweep row's `spec` column holds: the validated spec and its resolved models. */
export interface StoredSpec {
  readonly format: 'faithsweep.sweep/v1';
  readonly spec: SweepSpec;
  /** `kind`: the card's (absent in sweeps stored before autoregressive models: diffusion). */
  readonly models: readonly { readonly id: string; readonly name: string; readonly sha256: string; readonly sampler: ResolvedSampler; readonly kind?: ModelKind }[];
  /** Estimated cells at launch (exact when `exact`). */
  readonly estimate: { readonly cells: number; readonly exact: boolean };
}

/** JSON with object keys sorted and `where` (file positions) dropped: the hashed form of a spec. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).filter((k) => k !== 'where').sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/**
 * sha256 of a plan's spec and resolved models: what makes two launches "the same sweep".
 * When the prompts come from a file or are rendered by a chat template, the datasets' names
 * (which carry the file's and the rendering's hashes) count too, so a changed JSONL file or
 * template under the same sweep name is refused rather than mixed in.
 */
export function specHash(plan: SweepPlan): string {
  const derived = plan.spec.dataset.kind !== 'arith' || plan.models.some((m) => m.template !== 'raw');
  const body = {
    spec: plan.spec,
    models: plan.models.map((m) => ({ sha256: m.sha256, sampler: m.sampler })),
    ...(derived ? { datasets: plan.datasets } : {}),
  };
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

/** The Sweep row's spec column for a plan. */
export function storedSpec(plan: SweepPlan): StoredSpec {
  return {
    format: 'faithsweep.sweep/v1',
    spec: canonical(plan.spec) as SweepSpec,
    models: plan.models.map((m) => ({ id: m.id, name: m.name, sha256: m.sha256, sampler: m.sampler, ...(m.card.kind === 'autoregressive' ? { kind: m.card.kind } : {}) })),
    estimate: { cells: plan.cells, exact: plan.exact },
  };
}

/**
 * Status of a Sweep row whose prompts and work units are still being written: no workflow
 * starts for it ({@link startSweepWorkflow} refuses), and launching the spec again completes it.
 */
export const REGISTERING = 'registering';

/** Work units per batch (one transaction, one INSERT of prompts and one of work units). */
const UNITS_PER_BATCH = 25_000;

/** Result of {@link registerSweep}. */
export interface Registration {
  readonly sweepId: string;
  /** False when the sweep already existed with the same spec. */
  readonly created: boolean;
  /** True when this call completed the registration of a sweep that an earlier launch left unfinished. */
  readonly resumed: boolean;
  readonly workUnits: number;
}

/** Options of {@link registerSweep}. */
export interface RegisterOptions {
  /** Work units per batch transaction. @default 25000 */
  readonly batchUnits?: number;
  /** Called after each batch with the work units registered so far (of `total`). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Shortened JSON of a value, for a message. */
const brief = (v: unknown): string => {
  const t = v === undefined ? 'absent' : JSON.stringify(v) ?? String(v);
  return t.length > 60 ? `${t.slice(0, 60)}…` : t;
};

/**
 * The first place, in key order, where two stored specs differ, as `path: old → new`
 * (e.g. `spec.options.window: 2 → 8`); null when they are equal (the difference is then in
 * what the hash adds: a dataset file's records).
 */
export function firstDifference(before: unknown, after: unknown, path = ''): string | null {
  if (JSON.stringify(before) === JSON.stringify(after)) return null;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(before) && isObj(after) && Array.isArray(before) === Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    for (const k of keys) {
      const d = firstDifference(before[k], after[k], Array.isArray(before) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  return `${path || '(spec)'}: ${brief(before)} → ${brief(after)}`;
}

/** The Sweep row's hash, status and stored spec, or undefined. */
async function readStoredSweep(sql: pg.ClientBase, sweepId: string): Promise<{ specHash: string; status: string; spec: unknown } | undefined> {
  return (await sql.query<{ specHash: string; status: string; spec: unknown }>('SELECT "specHash", status, spec FROM "Sweep" WHERE id = $1', [sweepId])).rows[0];
}

/**
 * What differs between a stored spec and this plan's (the estimate is derived, not chosen, so
 * it is left out), and whether `options.window` is all that differs.
 */
function differenceFrom(plan: SweepPlan, stored: unknown): { first: string | null; windowOnly: boolean } {
  const strip = (x: unknown) => (typeof x === 'object' && x !== null ? { ...(x as Record<string, unknown>), estimate: undefined } : x);
  const now = strip(JSON.parse(JSON.stringify(storedSpec(plan)))) as { spec?: { options?: Record<string, unknown> } };
  const before = strip(stored);
  const first = firstDifference(before, now);
  // The stored spec with this plan's window: equal to this plan's when nothing else changed.
  const rewindowed = JSON.parse(JSON.stringify(before ?? null)) as { spec?: { options?: Record<string, unknown> } } | null;
  if (rewindowed?.spec?.options && now.spec?.options) rewindowed.spec.options['window'] = now.spec.options['window'];
  return { first, windowOnly: first !== null && firstDifference(rewindowed, now) === null };
}

function differentSpec(sweepId: string, status: string | undefined, difference: { first: string | null; windowOnly: boolean } | null): FaithsweepError {
  const what = difference?.first ? `: ${difference.first}` : ' (the spec reads the same, but the records of its dataset file changed)';
  const windowOnly = difference?.windowOnly === true;
  return new FaithsweepError(ErrorCode.BAD_SPEC, `a sweep named '${sweepId}' already exists with a different spec${what}`, {
    hint: status === REGISTERING
      ? `its registration never finished (status registering, no workflow, no results): 'faithsweep cancel ${sweepId}' removes it, then launch again; or give the changed spec a new name`
      : windowOnly
        ? `to change only the window of the existing sweep: 'faithsweep resume ${sweepId} --window N'`
        : `give the changed spec a new name, or run 'faithsweep resume ${sweepId}' to finish the existing one`,
  });
}

/**
 * The PostgreSQL advisory lock (session level) a launch holds while it registers a sweep: when
 * the launch's process dies, its connection closes and the lock goes with it, so a `registering`
 * sweep whose lock is free has no launch writing it (docs/architecture.md "Sweep statuses").
 */
const LOCK_ARGS = (sweepId: string) => ['faithsweep.register', sweepId];
const LOCK_KEY = 'hashtext($1), hashtext($2)';

/** Result of {@link discardRegistration}. */
export interface DiscardedRegistration {
  /** True when the sweep was removed. */
  readonly removed: boolean;
  /** Why not: `busy` (a launch holds its registration lock: it is being written now) or `not-registering` (absent, or registered). */
  readonly reason?: 'busy' | 'not-registering';
  /** Work units that were written before the registration stopped (removed with it). */
  readonly workUnits: number;
}

/**
 * Removes a sweep whose registration never finished (status `registering`: a launch killed
 * half-way), with its work units (ON DELETE CASCADE); prompts and models stay (other sweeps may
 * share them). Such a sweep never had a workflow, so it has no cells. Refuses (`busy`) while a
 * launch still holds the sweep's registration lock. `sql` must not be inside a transaction.
 */
export async function discardRegistration(sql: pg.ClientBase, sweepId: string): Promise<DiscardedRegistration> {
  const got = (await sql.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`, LOCK_ARGS(sweepId))).rows[0]!.ok;
  if (!got) return { removed: false, reason: 'busy', workUnits: 0 };
  try {
    const r = await sql.query<{ n: number }>(
      `WITH gone AS (DELETE FROM "Sweep" WHERE id = $1 AND status = $2 RETURNING id)
       SELECT (SELECT count(*)::int FROM "WorkUnit" WHERE "sweepId" = $1) AS n FROM gone`, [sweepId, REGISTERING]);
    return r.rowCount === 1 ? { removed: true, workUnits: r.rows[0]!.n } : { removed: false, reason: 'not-registering', workUnits: 0 };
  } finally {
    await sql.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, LOCK_ARGS(sweepId));
  }
}

/** `{1,2,3}`: an INTEGER[] literal. */
const intArray = (ids: readonly number[]): string => `{${ids.join(',')}}`;

/**
 * Writes the plan: models, the Sweep row (status `registering`), then prompts and work units
 * in batches, each batch one transaction, then the status `planned`. Throws BAD_SPEC when a
 * sweep of that name exists with a different spec. Safe to repeat and to run again after a
 * crash: every insert skips rows that exist, and a sweep whose work units are all in is left
 * as it is. `sql` must not be inside a transaction.
 */
export async function registerSweep(sql: pg.ClientBase, plan: SweepPlan, opts: RegisterOptions = {}): Promise<Registration> {
  const sweepId = plan.spec.name;
  const hash = specHash(plan);
  const total = plan.workUnits;
  const readSweep = () => readStoredSweep(sql, sweepId);
  const existing = await readSweep();
  if (existing && existing.specHash !== hash) throw differentSpec(sweepId, existing.status, differenceFrom(plan, existing.spec));
  if (existing && existing.status !== REGISTERING) return { sweepId, created: false, resumed: false, workUnits: total };
  plan.checkFiles();
  // Held until the registration ends (or this process dies): another launch of the same sweep
  // waits here, then finds it registered; `cancel` of a registering sweep is refused meanwhile.
  await sql.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, LOCK_ARGS(sweepId));
  try {
    return await registerLocked(sql, plan, opts);
  } finally {
    await sql.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, LOCK_ARGS(sweepId)).catch(() => undefined);
  }
}

/** {@link registerSweep} under the sweep's registration lock. */
async function registerLocked(sql: pg.ClientBase, plan: SweepPlan, opts: RegisterOptions): Promise<Registration> {
  const sweepId = plan.spec.name;
  const hash = specHash(plan);
  const total = plan.workUnits;
  const readSweep = () => readStoredSweep(sql, sweepId);

  await sql.query(
    `INSERT INTO "Model" (id, name, path, sha256, card)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) ON CONFLICT DO NOTHING`,
    [plan.models.map((m) => m.id), plan.models.map((m) => m.name), plan.models.map((m) => m.dir), plan.models.map((m) => m.sha256), plan.models.map((m) => JSON.stringify(m.cardJson))]);
  const inserted = await sql.query(
    `INSERT INTO "Sweep" (id, name, spec, "specHash", status, "plannedCells", "updatedAt")
     VALUES ($1, $1, $2, $3, $4, $5, now() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING`,
    [sweepId, JSON.stringify(storedSpec(plan)), hash, REGISTERING, plan.cells]);
  const created = inserted.rowCount === 1;
  if (!created) {
    // Another launch of the same name got there first (or an earlier one stopped half-way).
    const existing = await readSweep();
    if (!existing || existing.specHash !== hash) throw differentSpec(sweepId, existing?.status, existing ? differenceFrom(plan, existing.spec) : null);
    if (existing.status !== REGISTERING) return { sweepId, created: false, resumed: false, workUnits: total };
  }

  // Batches commit in ordinal order, so after a crash the work units are a prefix 0..n-1:
  // start at its first prompt not wholly in (an insert that finds its row skips it anyway).
  const counts = { models: plan.models.length, seeds: plan.seedCopies.run.length };
  const perPrompt = counts.models * counts.seeds;
  const have = (await sql.query<{ n: number; last: number }>(
    'SELECT count(*)::int AS n, coalesce(max(ordinal), -1)::int AS last FROM "WorkUnit" WHERE "sweepId" = $1', [sweepId])).rows[0]!;
  const from = have.n === have.last + 1 ? Math.floor(have.n / perPrompt) : 0;
  const batchPrompts = Math.max(1, Math.floor((opts.batchUnits ?? UNITS_PER_BATCH) / perPrompt));

  const modelIds = plan.models.map((m) => m.id);
  let prompts = new Map<string, PlannedPrompt>();
  let units = { id: [] as string[], ordinal: [] as number[], modelId: [] as string[], modelIndex: [] as number[], promptId: [] as string[], seed: [] as number[] };
  let inBatch = 0;
  let done = from * perPrompt;
  const flush = async (): Promise<void> => {
    if (!inBatch) return;
    const rows = [...prompts.values()];
    await sql.query('BEGIN');
    try {
      await sql.query(
        `INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer", "renderedText", "promptIds", meta)
         SELECT id, dataset, idx, text, gold, rendered, ids::int[], meta::jsonb
           FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(id, dataset, idx, text, gold, rendered, ids, meta)
         ON CONFLICT DO NOTHING`,
        [rows.map((p) => p.id), rows.map((p) => p.dataset), rows.map((p) => p.idx), rows.map((p) => p.text), rows.map((p) => p.gold),
          rows.map((p) => p.renderedText), rows.map((p) => intArray(p.promptIds)), rows.map((p) => JSON.stringify(p.meta))]);
      await sql.query(
        `INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "modelIndex", "promptId", seed, "updatedAt")
         SELECT id, $1, ordinal, "modelId", "modelIndex", "promptId", seed, now() AT TIME ZONE 'UTC'
           FROM unnest($2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::int[]) AS u(id, ordinal, "modelId", "modelIndex", "promptId", seed)
         ON CONFLICT DO NOTHING`,
        [sweepId, units.id, units.ordinal, units.modelId, units.modelIndex, units.promptId, units.seed]);
      await sql.query('COMMIT');
    } catch (err) {
      await sql.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    done += units.id.length;
    opts.onProgress?.(done, total);
    prompts = new Map();
    units = { id: [], ordinal: [], modelId: [], modelIndex: [], promptId: [], seed: [] };
    inBatch = 0;
  };

  let p = from;
  for (const rows of plan.promptRows(from)) {
    rows.forEach((row, m) => {
      prompts.set(row.id, row);
      plan.seedCopies.run.forEach((seed, s) => {
        const ordinal = unitOrdinal(counts, p, m, s);
        units.id.push(workUnitId(sweepId, ordinal));
        units.ordinal.push(ordinal);
        units.modelId.push(modelIds[m]!);
        units.modelIndex.push(m);
        units.promptId.push(row.id);
        units.seed.push(seed);
      });
    });
    p++;
    if (++inBatch >= batchPrompts) await flush();
  }
  await flush();

  // Every work unit is in: only now may a workflow start.
  const marked = await sql.query<{ n: number }>(
    `UPDATE "Sweep" s SET status = 'planned', "updatedAt" = now() AT TIME ZONE 'UTC'
       FROM (SELECT count(*)::int AS n FROM "WorkUnit" WHERE "sweepId" = $1) c
      WHERE s.id = $1 AND s.status = $2 AND c.n = $3 RETURNING c.n`,
    [sweepId, REGISTERING, total]);
  if (marked.rowCount !== 1) {
    const now = await readSweep();
    if (now?.status === REGISTERING) {
      const n = (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM "WorkUnit" WHERE "sweepId" = $1', [sweepId])).rows[0]!.n;
      throw new FaithsweepError(ErrorCode.INTERNAL, `sweep '${sweepId}': ${n} of ${total} work units registered after writing them all`, { hint: 'launch the spec again; report this if it persists' });
    }
    // Another launch of the same spec finished the registration first.
  }
  return { sweepId, created, resumed: !created, workUnits: total };
}
