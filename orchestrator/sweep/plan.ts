/**
 * Planning a sweep: resolves the spec's models (card + sha256), generates or reads its
 * prompts, and enumerates the work units (prompt × model × seed, numbered by ordinal) with
 * a cell estimate. Pure reads: nothing is written. Every problem is a coded error naming the
 * spec file, line and key.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, FaithsweepError } from '../errors.ts';
import { arithProblems } from '../datasets/arith.ts';
import { parseCard } from '../../node-agent/model/card.ts';
import type { ModelCard } from '../../node-agent/model/card.ts';
import { isAgentError } from '../../node-agent/errors.ts';
import { resolveCells } from './grid.ts';
import type { TrajectoryShape } from './grid.ts';
import type { ModelRef, SweepSpec } from './spec-types.ts';

/** Sampler settings of a model in a sweep: the card's defaults with the spec's overrides. */
export interface ResolvedSampler {
  readonly genLength: number;
  readonly steps: number;
  readonly blockLength: number;
  readonly remasking: 'low_confidence' | 'random' | 'entropy' | 'topk_margin';
  readonly temperature: number;
}

/** A model of the sweep, resolved. */
export interface PlannedModel {
  /** Database id: `m-` + the first 16 hex digits of the ONNX sha256. */
  readonly id: string;
  readonly name: string;
  readonly dir: string;
  readonly sha256: string;
  readonly card: ModelCard;
  readonly cardJson: unknown;
  readonly sampler: ResolvedSampler;
}

/** A prompt of the sweep's dataset (for one prompt format). */
export interface PlannedPrompt {
  readonly id: string;
  readonly dataset: string;
  readonly idx: number;
  readonly text: string;
  readonly gold: string;
}

/** One work unit: (prompt, model, seed). */
export interface PlannedUnit {
  readonly ordinal: number;
  readonly modelIndex: number;
  readonly promptIndex: number;
  readonly seed: number;
}

/** The whole plan. */
export interface SweepPlan {
  readonly spec: SweepSpec;
  readonly models: readonly PlannedModel[];
  /** Prompts per model index (models with the same prompt format share the same rows). */
  readonly prompts: readonly (readonly PlannedPrompt[])[];
  readonly promptCount: number;
  readonly units: readonly PlannedUnit[];
  /** Cells, per model: exact when the grid names no span, else estimated (see `exact`). */
  readonly cellsPerModel: readonly { readonly model: string; readonly cellsPerUnit: number; readonly exact: boolean; readonly rowSteps: number }[];
  readonly cells: number;
  readonly exact: boolean;
  /** Estimated forward-pass rows (clean runs + branches), for a time estimate. */
  readonly rowSteps: number;
}

/** Database id of a model from its sha256. */
export const modelId = (sha256: string): string => `m-${sha256.slice(0, 16)}`;
/** Database id of a prompt. */
export const promptId = (dataset: string, idx: number): string => `p-${createHash('sha256').update(`${dataset}\0${idx}`).digest('hex').slice(0, 16)}`;
/** Id of a sweep (its name) and of its workflow. */
export const sweepWorkflowId = (sweepId: string): string => `sweep-${sweepId}`;
/** Deterministic id of a work unit. */
export const workUnitId = (sweepId: string, ordinal: number): string => `${sweepId}:u${ordinal}`;
/** Sweep-wide cell key: the work unit's ordinal and the cell's key within it. */
export const sweepCellKey = (ordinal: number, key: string): string => `u${ordinal}.${key}`;

const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function modelError(ref: ModelRef, message: string, hint: string): FaithsweepError {
  return new FaithsweepError(ErrorCode.MODEL_NOT_FOUND, `${ref.where ?? 'models'}: ${message}`, { hint });
}

/** Loads one model directory's card and checks the ONNX file's sha256 against it. */
export function resolveModel(ref: ModelRef, opts: { modelsDir: string; specDir: string }): Omit<PlannedModel, 'sampler'> {
  const byPath = ref.ref.includes('/') || ref.ref.startsWith('.');
  const dir = byPath ? (isAbsolute(ref.ref) ? ref.ref : resolve(opts.specDir, ref.ref)) : join(opts.modelsDir, ref.ref);
  const cardPath = join(dir, 'model.json');
  if (!existsSync(cardPath)) {
    const available = readdirModels(opts.modelsDir).join(', ') || 'none';
    throw modelError(ref, `no model '${ref.ref}' (${cardPath} does not exist)`, `use a model under ${opts.modelsDir} (available: ${available}) or {path: DIR}`);
  }
  let cardJson: unknown;
  let card: ModelCard;
  try {
    cardJson = JSON.parse(readFileSync(cardPath, 'utf8'));
    card = parseCard(cardJson, cardPath);
  } catch (err) {
    throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${ref.where ?? 'models'}: ${isAgentError(err) || err instanceof SyntaxError ? err.message : String(err)}`, { hint: 'fix or re-export the model directory' });
  }
  const onnx = join(dir, card.onnx);
  if (!existsSync(onnx)) throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${ref.where ?? 'models'}: ${onnx} is missing`, { hint: 're-export the model' });
  const sha256 = sha256File(onnx);
  if (sha256 !== card.sha256) {
    throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${ref.where ?? 'models'}: ${onnx} has sha256 ${sha256.slice(0, 12)}…, its card says ${card.sha256.slice(0, 12)}…`, { hint: 're-export the model or restore the file' });
  }
  return { id: modelId(sha256), name: card.name, dir, sha256, card, cardJson };
}

function readdirModels(root: string): string[] {
  try {
    return readdirSync(root).filter((n) => existsSync(join(root, n, 'model.json'))).sort();
  } catch {
    return [];
  }
}

/** The card's defaults with the spec's overrides, validated like the agent does. */
export function resolveSampler(m: Omit<PlannedModel, 'sampler'>, ref: ModelRef): ResolvedSampler {
  const d = m.card.defaults;
  const o = ref.sampler;
  const genLength = o.genLength ?? d.gen_length;
  const steps = o.steps ?? d.steps;
  const blockLength = o.blockLength ?? (o.genLength !== undefined ? genLength : d.block_length);
  const remasking = o.remasking ?? (d.remasking as ResolvedSampler['remasking']);
  const temperature = o.temperature ?? d.temperature;
  const where = `${ref.where ?? 'models'}.sampler`;
  const bad = (why: string) => new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${why}`, { hint: 'see docs/spec.md (sampler overrides)' });
  if (genLength % blockLength !== 0) throw bad(`gen_length ${genLength} is not divisible by block_length ${blockLength}`);
  if (steps % (genLength / blockLength) !== 0) throw bad(`steps ${steps} is not divisible by the number of blocks ${genLength / blockLength}`);
  if (steps > genLength) throw bad(`steps ${steps} exceeds gen_length ${genLength}`);
  return { genLength, steps, blockLength, remasking, temperature };
}

/** A JSONL dataset's prompts; each line `{"prompt": ..., "answer": ...}` (or `gold`). */
export function readJsonlDataset(path: string, where: string): { name: string; rows: { text: string; gold: string }[] } {
  if (!existsSync(path)) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${path} does not exist`, { hint: 'give a JSONL file relative to the spec file' });
  const text = readFileSync(path, 'utf8');
  const rows: { text: string; gold: string }[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      throw new FaithsweepError(ErrorCode.BAD_SPEC, `${path}:${i + 1}: not JSON: ${(err as Error).message}`, { hint: 'one {"prompt": ..., "answer": ...} object per line' });
    }
    const o = v as Record<string, unknown>;
    const gold = o['answer'] ?? o['gold'];
    if (typeof o['prompt'] !== 'string' || !o['prompt'] || (typeof gold !== 'string' && typeof gold !== 'number')) {
      throw new FaithsweepError(ErrorCode.BAD_SPEC, `${path}:${i + 1}: needs a non-empty string "prompt" and an "answer"`, { hint: 'one {"prompt": ..., "answer": ...} object per line' });
    }
    rows.push({ text: o['prompt'], gold: String(gold) });
  });
  if (rows.length === 0) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${path} has no prompts`);
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { name: `jsonl:${basename(path)}:${digest}`, rows };
}

/** The shape a grid resolves against when no clean run is needed (or for an estimate). */
export function shapeFor(sampler: ResolvedSampler, spans: { cot: TrajectoryShape['cot']; answer: TrajectoryShape['answer'] } = { cot: null, answer: null }): TrajectoryShape {
  return { steps: sampler.steps, genLength: sampler.genLength, ...spans };
}

/** Whether the grid has selectors that need the clean run's spans. */
export function gridNeedsSpans(spec: SweepSpec): boolean {
  return spec.grid.positions.some((p) => (p.kind === 'span' && p.span !== 'all') || (p.kind === 'every' && p.of !== 'all'));
}

/** Typical spans of a model, from its golden trajectories when it has them (for estimates only). */
function typicalSpans(m: Omit<PlannedModel, 'sampler'>): { cot: TrajectoryShape['cot']; answer: TrajectoryShape['answer'] } | null {
  const golden = join(m.dir, 'golden.jsonl');
  if (!existsSync(golden)) return null;
  const first = readFileSync(golden, 'utf8').split('\n')[0];
  if (!first) return null;
  const text = (JSON.parse(first) as { text?: string }).text ?? '';
  if (!m.card.spans?.regex) return null; // cards with answer.regex only (node-agent/model/card.ts)
  const g = new RegExp(m.card.spans.regex, 'd').exec(text)?.indices?.groups;
  if (!g?.['cot'] || !g['answer']) return null;
  return { cot: { start: g['cot'][0], end: g['cot'][1] }, answer: { start: g['answer'][0], end: g['answer'][1] } };
}

/** Plans `spec` (read from `specPath`). Reads model directories and datasets; writes nothing. */
export function planSweep(spec: SweepSpec, opts: { specPath: string; modelsDir: string }): SweepPlan {
  const specDir = dirname(resolve(opts.specPath));
  const models: PlannedModel[] = spec.models.map((ref) => {
    const m = resolveModel(ref, { modelsDir: opts.modelsDir, specDir });
    return { ...m, sampler: resolveSampler(m, ref) };
  });
  const seenSha = new Map<string, number>();
  models.forEach((m, i) => {
    const key = `${m.sha256}|${JSON.stringify(m.sampler)}`;
    const prev = seenSha.get(key);
    if (prev !== undefined) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${spec.models[i]!.where ?? 'models'}: the same model and sampler as models[${prev}]`, { hint: 'list each model once (or change its sampler)' });
    seenSha.set(key, i);
  });

  let prompts: PlannedPrompt[][];
  if (spec.dataset.kind === 'arith') {
    const { seed, count } = spec.dataset;
    prompts = models.map((m) => {
      const format = (m.cardJson as { prompt_format?: string }).prompt_format ?? '{a}+{b}=';
      const dataset = `arith:seed=${seed}:format=${format}`;
      return arithProblems(seed, count, format).map((p, idx) => ({ id: promptId(dataset, idx), dataset, idx, text: p.prompt, gold: p.gold }));
    });
  } else {
    const path = resolve(specDir, spec.dataset.path);
    const ds = readJsonlDataset(path, spec.dataset.where ?? 'dataset.jsonl');
    const rows = ds.rows.map((r, idx) => ({ id: promptId(ds.name, idx), dataset: ds.name, idx, text: r.text, gold: r.gold }));
    prompts = models.map(() => rows);
  }
  const promptCount = prompts[0]?.length ?? 0;

  const units: PlannedUnit[] = [];
  for (let p = 0; p < promptCount; p++) {
    for (let m = 0; m < models.length; m++) {
      for (const seed of spec.seeds) units.push({ ordinal: units.length, modelIndex: m, promptIndex: p, seed });
    }
  }

  const needsSpans = gridNeedsSpans(spec);
  const cellsPerModel = models.map((m) => {
    const spans = needsSpans ? typicalSpans(m) : null;
    // Without typical spans, estimate with the whole generated region (an upper bound).
    const shape = shapeFor(m.sampler, spans ?? (needsSpans ? { cot: { start: 0, end: m.sampler.genLength }, answer: { start: 0, end: m.sampler.genLength } } : undefined));
    const cells = resolveCells(spec.grid, shape); // throws BAD_SPEC for out-of-range steps/positions
    const T = m.sampler.steps;
    // A branch runs from its step to the end at most; probes cost nothing beyond the clean run.
    const rowSteps = T + cells.reduce((a, c) => a + (c.kind.kind === 'probe' ? 0 : T - c.step), 0);
    return { model: m.name, cellsPerUnit: cells.length, exact: !needsSpans, rowSteps };
  });
  const perUnit = units.map((u) => cellsPerModel[u.modelIndex]!);
  return {
    spec,
    models,
    prompts,
    promptCount,
    units,
    cellsPerModel,
    cells: perUnit.reduce((a, c) => a + c.cellsPerUnit, 0),
    exact: !needsSpans,
    rowSteps: perUnit.reduce((a, c) => a + c.rowSteps, 0),
  };
}
