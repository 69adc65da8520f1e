/**
 * Writing a planned sweep to the database, idempotently: models (by sha256), prompts, the
 * Sweep row and its work units. Launching the same spec twice writes nothing new; launching
 * a changed spec under an existing name is refused.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../db/client.ts';
import { ErrorCode, FaithsweepError } from '../errors.ts';
import type { ResolvedSampler, SweepPlan } from './plan.ts';
import { workUnitId } from './plan.ts';
import type { SweepSpec } from './spec-types.ts';

/** What the Sweep row's `spec` column holds: the validated spec and its resolved models. */
export interface StoredSpec {
  readonly format: 'faithsweep.sweep/v1';
  readonly spec: SweepSpec;
  readonly models: readonly { readonly id: string; readonly name: string; readonly sha256: string; readonly sampler: ResolvedSampler }[];
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
    ...(derived ? { datasets: plan.prompts.map((ps) => ps[0]?.dataset ?? null) } : {}),
  };
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

/** The Sweep row's spec column for a plan. */
export function storedSpec(plan: SweepPlan): StoredSpec {
  return {
    format: 'faithsweep.sweep/v1',
    spec: canonical(plan.spec) as SweepSpec,
    models: plan.models.map((m) => ({ id: m.id, name: m.name, sha256: m.sha256, sampler: m.sampler })),
    estimate: { cells: plan.cells, exact: plan.exact },
  };
}

/** Rows per createMany call: well under PostgreSQL's 65,535 bind parameters. */
const CHUNK = 2000;

/** Result of {@link registerSweep}. */
export interface Registration {
  readonly sweepId: string;
  /** False when the sweep already existed with the same spec (nothing new written). */
  readonly created: boolean;
  readonly workUnits: number;
}

/**
 * Writes the plan in one transaction. Throws BAD_SPEC when a sweep of that name exists with
 * a different spec. Safe to repeat: every insert skips rows that exist.
 */
export async function registerSweep(db: PrismaClient, plan: SweepPlan): Promise<Registration> {
  const sweepId = plan.spec.name;
  const hash = specHash(plan);
  return db.$transaction(async (tx) => {
    const existing = await tx.sweep.findUnique({ where: { id: sweepId }, select: { specHash: true } });
    if (existing && existing.specHash !== hash) {
      throw new FaithsweepError(ErrorCode.BAD_SPEC, `a sweep named '${sweepId}' already exists with a different spec (or different model files)`, {
        hint: `give the changed spec a new name, or run 'faithsweep resume ${sweepId}' to finish the existing one`,
      });
    }
    await tx.model.createMany({
      data: plan.models.map((m) => ({ id: m.id, name: m.name, path: m.dir, sha256: m.sha256, card: m.cardJson as object })),
      skipDuplicates: true,
    });
    const prompts = new Map(plan.prompts.flat().map((p) => [p.id, p]));
    const promptRows = [...prompts.values()].map((p) => ({
      id: p.id, dataset: p.dataset, idx: p.idx, text: p.text, goldAnswer: p.gold,
      renderedText: p.renderedText, promptIds: [...p.promptIds], meta: p.meta as unknown as object,
    }));
    for (let i = 0; i < promptRows.length; i += CHUNK) await tx.prompt.createMany({ data: promptRows.slice(i, i + CHUNK), skipDuplicates: true });
    if (!existing) {
      await tx.sweep.create({
        data: { id: sweepId, name: sweepId, spec: storedSpec(plan) as unknown as object, specHash: hash, status: 'planned', plannedCells: plan.cells },
      });
    }
    const units = plan.units.map((u) => ({
      id: workUnitId(sweepId, u.ordinal),
      sweepId,
      ordinal: u.ordinal,
      modelId: plan.models[u.modelIndex]!.id,
      modelIndex: u.modelIndex,
      promptId: plan.prompts[u.modelIndex]![u.promptIndex]!.id,
      seed: u.seed,
    }));
    for (let i = 0; i < units.length; i += CHUNK) await tx.workUnit.createMany({ data: units.slice(i, i + CHUNK), skipDuplicates: true });
    return { sweepId, created: !existing, workUnits: units.length };
  }, { timeout: 300_000, maxWait: 30_000 });
}
