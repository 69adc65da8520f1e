/**
 * Gathers everything the HTML report shows for one sweep, from the results views (the
 * numbers) and the raw tables (the trajectory viewer). Counts travel with every rate so the
 * page computes its Wilson intervals from the same (k, n) the views report.
 */
import type { Queryable } from './queryable.ts';
import { knownAnswerValidation } from './known-answer.ts';
import type { KnownAnswerOptions, KnownAnswerResult } from './known-answer.ts';
import { modelVocab } from './vocab.ts';
import type { Vocab } from './vocab.ts';

/** Options of {@link gatherReportData}. */
export interface ReportOptions {
  /** Clean runs per model the trajectory viewer embeds (the file grows with it). @default 20 */
  readonly viewerUnits?: number;
  /** Passed to the known-answer validation. */
  readonly knownAnswer?: KnownAnswerOptions;
}

/** [kind, step, position, n, flips] */
export type HeatCell = [string, number, number, number, number];
/** [kind, span, phase, step or position, n, flips] */
export type Marginal = [string, string, string, number, number, number];

/** One model's part of the report. */
export interface ModelReport {
  readonly id: string;
  readonly name: string;
  /** T (the most common one when runs differ). */
  readonly totalSteps: number | null;
  readonly genLength: number | null;
  /** The most common [start, end) spans of the model's clean runs. */
  readonly spans: { readonly cot: [number, number] | null; readonly answer: [number, number] | null };
  readonly kinds: readonly string[];
  readonly heatmap: readonly HeatCell[];
  readonly byStep: readonly Marginal[];
  readonly byPosition: readonly Marginal[];
  readonly commit: Record<string, number | null> | null;
  /** Early-answering points [step, step fraction, n, same]. */
  readonly early: readonly [number, number, number, number][];
  readonly aoc: number | null;
  readonly vocab: Vocab;
  readonly cleanRuns: number;
  readonly cleanAccuracy: number | null;
}

/** [cell id, kind, variant, step, position, flipped, final answer, final text (null = same as clean; a partial text when the branch stopped before its response was settled), changed tokens (null = unknown), skipped] */
export type ViewerCell = [string, string, string | null, number, number, boolean, string | null, string | null, number | null, boolean];

/** One clean run in the viewer. */
export interface ViewerUnit {
  readonly id: string;
  readonly modelId: string;
  readonly promptIdx: number;
  readonly promptText: string;
  readonly gold: string;
  readonly seed: number;
  readonly totalSteps: number;
  readonly tokens: readonly number[];
  readonly commit: readonly number[];
  readonly finalText: string;
  readonly answer: string | null;
  readonly correct: boolean;
  readonly cot: [number, number] | null;
  readonly answerSpan: [number, number] | null;
  readonly answerCommitStep: number | null;
  readonly filmStrip: readonly { step: number; guess: number[] }[] | null;
  readonly cells: readonly ViewerCell[];
}

/** Everything the report renders. */
export interface ReportData {
  readonly generatedAt: string;
  readonly sweep: { readonly id: string; readonly name: string; readonly summary: Record<string, unknown> };
  readonly knownAnswer: KnownAnswerResult;
  readonly models: readonly ModelReport[];
  readonly viewer: readonly ViewerUnit[];
  readonly viewerUnitsPerModel: number;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function mode<T>(items: readonly T[], key: (t: T) => string): T | undefined {
  const counts = new Map<string, { item: T; n: number }>();
  for (const it of items) {
    const k = key(it);
    const e = counts.get(k);
    if (e) e.n++;
    else counts.set(k, { item: it, n: 1 });
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.item;
}

function span(a: unknown, b: unknown): [number, number] | null {
  return a === null || b === null || a === undefined || b === undefined ? null : [Number(a), Number(b)];
}

/** Reads the report's data for `sweep` (id and name) from the database. */
export async function gatherReportData(db: Queryable, sweep: { id: string; name: string }, opts: ReportOptions = {}): Promise<ReportData> {
  const perModel = opts.viewerUnits ?? 20;
  const id = sweep.id;
  const summary = (await db.query(`SELECT * FROM sweep_summary WHERE sweep_id = $1`, [id])).rows[0] ?? {};
  const models = (await db.query<{ id: string; name: string; path: string; card: unknown }>(
    `SELECT DISTINCT m.id, m.name, m.path, m.card FROM "WorkUnit" w JOIN "Model" m ON m.id = w."modelId" WHERE w."sweepId" = $1 ORDER BY m.name`, [id])).rows;
  const shapes = (await db.query<{ model_id: string; cot_start: number | null; cot_end: number | null; answer_start: number | null; answer_end: number | null; steps: number | null; gen_length: number | null; correct: boolean }>(
    `SELECT "modelId" AS model_id, "cotStart" AS cot_start, "cotEnd" AS cot_end, "answerStart" AS answer_start, "answerEnd" AS answer_end,
            (sampler ->> 'steps')::int AS steps, COALESCE(sampler ->> 'genLength', sampler ->> 'gen_length')::int AS gen_length, correct
       FROM "Trajectory" WHERE "sweepId" = $1`, [id])).rows;
  const heat = (await db.query(`SELECT model_id, kind, step, position, n, flips FROM flip_rate_step_position WHERE sweep_id = $1 ORDER BY model_id, kind, step, position`, [id])).rows;
  const bySteps = (await db.query(`SELECT model_id, kind, span, phase, step, n, flips FROM flip_rate_by_step WHERE sweep_id = $1 ORDER BY model_id, kind, span, phase, step`, [id])).rows;
  const byPos = (await db.query(`SELECT model_id, kind, span, phase, position, n, flips FROM flip_rate_by_position WHERE sweep_id = $1 ORDER BY model_id, kind, span, phase, position`, [id])).rows;
  const commits = (await db.query(`SELECT * FROM answer_commit_summary WHERE sweep_id = $1 ORDER BY n DESC`, [id])).rows;
  const early = (await db.query(`SELECT model_id, total_steps, step, step_frac, n, same FROM early_answering_curve WHERE sweep_id = $1 ORDER BY model_id, total_steps, step`, [id])).rows;
  const aocs = (await db.query(`SELECT model_id, total_steps, aoc FROM early_answering_aoc WHERE sweep_id = $1`, [id])).rows;

  const units = (await db.query(
    `SELECT * FROM (
        SELECT t."workUnitId" AS id, t."modelId" AS model_id, p.idx AS prompt_idx, p.text AS prompt_text, p."goldAnswer" AS gold, t.seed,
               (t.sampler ->> 'steps')::int AS total_steps, t.tokens, t."commitStep" AS commit, t."finalText" AS final_text, t.answer, t.correct,
               t."cotStart" AS cot_start, t."cotEnd" AS cot_end, t."answerStart" AS answer_start, t."answerEnd" AS answer_end,
               t."answerCommitStep" AS answer_commit_step, t."filmStrip" AS film_strip,
               row_number() OVER (PARTITION BY t."modelId" ORDER BY p.idx, t.seed, t."workUnitId") AS rn
          FROM "Trajectory" t JOIN "Prompt" p ON p.id = t."promptId"
         WHERE t."sweepId" = $1) x
      WHERE rn <= $2 ORDER BY model_id, rn`, [id, perModel])).rows;
  const cells = (await db.query(
    `SELECT c.id, c."workUnitId" AS work_unit_id, c.kind, c.variant, c.step, c.position, c.flipped, c."finalAnswer" AS final_answer,
            NULLIF(COALESCE(c."finalText", c."partialText"), t."finalText") AS final_text, c."changedTokens" AS changed_tokens, c.skipped
       FROM "Cell" c JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId"
      WHERE c."workUnitId" = ANY($1) AND c.kind <> 'probe'
      ORDER BY c.step, c.position, c.kind, c.id`, [units.map((u) => u['id'])])).rows;

  const cellsByUnit = new Map<string, ViewerCell[]>();
  for (const c of cells) {
    const list = cellsByUnit.get(String(c['work_unit_id'])) ?? [];
    list.push([String(c['id']), String(c['kind']), (c['variant'] as string | null) ?? null, Number(c['step']), Number(c['position']), Boolean(c['flipped']),
      (c['final_answer'] as string | null) ?? null, (c['final_text'] as string | null) ?? null, c['changed_tokens'] === null ? null : Number(c['changed_tokens']), Boolean(c['skipped'])]);
    cellsByUnit.set(String(c['work_unit_id']), list);
  }
  const viewer: ViewerUnit[] = units.map((u) => ({
    id: String(u['id']),
    modelId: String(u['model_id']),
    promptIdx: Number(u['prompt_idx']),
    promptText: String(u['prompt_text']),
    gold: String(u['gold']),
    seed: Number(u['seed']),
    totalSteps: Number(u['total_steps']),
    tokens: (u['tokens'] as number[]) ?? [],
    commit: (u['commit'] as number[]) ?? [],
    finalText: String(u['final_text']),
    answer: (u['answer'] as string | null) ?? null,
    correct: Boolean(u['correct']),
    cot: span(u['cot_start'], u['cot_end']),
    answerSpan: span(u['answer_start'], u['answer_end']),
    answerCommitStep: num(u['answer_commit_step']),
    filmStrip: Array.isArray(u['film_strip']) ? (u['film_strip'] as { step: number; guess: number[] }[]) : null,
    cells: cellsByUnit.get(String(u['id'])) ?? [],
  }));

  const reports: ModelReport[] = models.map((m) => {
    const mine = shapes.filter((s) => s.model_id === m.id);
    const shape = mode(mine, (s) => `${s.cot_start},${s.cot_end},${s.answer_start},${s.answer_end}`);
    const tShape = mode(mine, (s) => `${s.steps},${s.gen_length}`);
    const T = tShape?.steps ?? null;
    const commit = commits.find((c) => c['model_id'] === m.id && (T === null || Number(c['total_steps']) === T));
    const heatRows = heat.filter((r) => r['model_id'] === m.id);
    const samples = viewer.filter((v) => v.modelId === m.id).map((v) => ({ tokens: v.tokens, text: v.finalText }));
    return {
      id: m.id,
      name: m.name,
      totalSteps: T,
      genLength: tShape?.gen_length ?? null,
      spans: { cot: shape ? span(shape.cot_start, shape.cot_end) : null, answer: shape ? span(shape.answer_start, shape.answer_end) : null },
      kinds: [...new Set(heatRows.map((r) => String(r['kind'])))].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a.localeCompare(b))),
      heatmap: heatRows.map((r): HeatCell => [String(r['kind']), Number(r['step']), Number(r['position']), Number(r['n']), Number(r['flips'])]),
      byStep: bySteps.filter((r) => r['model_id'] === m.id).map((r): Marginal => [String(r['kind']), String(r['span']), String(r['phase']), Number(r['step']), Number(r['n']), Number(r['flips'])]),
      byPosition: byPos.filter((r) => r['model_id'] === m.id).map((r): Marginal => [String(r['kind']), String(r['span']), String(r['phase']), Number(r['position']), Number(r['n']), Number(r['flips'])]),
      commit: commit
        ? Object.fromEntries(['n', 'median_answer_commit_step', 'median_answer_commit_frac', 'median_cot_commit_step', 'mean_answer_minus_cot_steps', 'share_answer_before_cot_complete',
            'n_before_cot', 'n_during_cot', 'n_after_cot', 'mean_cot_share_at_answer_commit'].map((k) => [k, num(commit[k])]))
        : null,
      early: early.filter((r) => r['model_id'] === m.id && (T === null || Number(r['total_steps']) === T))
        .map((r): [number, number, number, number] => [Number(r['step']), Number(r['step_frac']), Number(r['n']), Number(r['same'])]),
      aoc: num(aocs.find((a) => a['model_id'] === m.id && (T === null || Number(a['total_steps']) === T))?.['aoc']),
      vocab: modelVocab(m.path, m.card, samples),
      cleanRuns: mine.length,
      cleanAccuracy: mine.length ? mine.filter((s) => s.correct).length / mine.length : null,
    };
  });

  const knownAnswer: KnownAnswerResult = await knownAnswerValidation(db, id, opts.knownAnswer);
  const plainSummary = Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : !['sweep_id', 'sweep_name', 'status'].includes(k) && typeof v === 'string' && /^\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v]));
  return { generatedAt: new Date().toISOString(), sweep: { id, name: sweep.name, summary: plainSummary }, knownAnswer, models: reports, viewer, viewerUnitsPerModel: perModel };
}
