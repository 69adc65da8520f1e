/**
 * Gathers everything the HTML report shows for one sweep, from the results views (the
 * numbers) and the raw tables (the trajectory viewer). Counts travel with every rate, and so
 * do the views' prompt-clustered interval bounds: the page draws them and computes none.
 * The report has one section per model and sampler setting (the views' grouping), headed by
 * the setting.
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

/** [kind, step, position, n, flips, ci low, ci high] (the prompt-clustered interval of the views) */
export type HeatCell = [string, number, number, number, number, number | null, number | null];
/** [kind, span, phase, step or position, n, flips, ci low, ci high] */
export type Marginal = [string, string, string, number, number, number, number | null, number | null];

/** The sampler setting of a report section (the views' grouping columns). */
export interface SamplerSetting {
  readonly mode: string;
  readonly genLength: number;
  readonly steps: number;
  readonly blockLength: number;
  readonly temperature: number;
  readonly remasking: string;
}

/** One model's part of the report. */
export interface ModelReport {
  /** The section's key: model id and sampler setting (viewer units carry it as modelId). */
  readonly id: string;
  readonly modelId: string;
  readonly name: string;
  readonly sampler: SamplerSetting;
  /** One line for headers: `gen_length 40 · steps 40 · block_length 40 (single_block) · temperature 0 · low_confidence`. */
  readonly samplerLabel: string;
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
  /** Early-answering points [step, step fraction, n, same, ci low, ci high]. */
  readonly early: readonly [number, number, number, number, number | null, number | null][];
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
  /** Paraphrase-remask events (docs/paraphrase.md), step order; null when the run had none. */
  readonly paraphraseEvents: readonly { step: number; paraphraser: string; before: string; after: string; tokensBefore: number[]; commitBefore: number[]; remasked: number[] }[] | null;
  readonly cells: readonly ViewerCell[];
}

/** A score with its prompt-clustered 95 % interval and counts: [value, ci low, ci high, n cells, n prompts]. */
export type Scored = [number | null, number | null, number | null, number, number];

/**
 * One model's row of the sequence-against-time section (views lanham_aoc, lanham_tests,
 * lanham_curve): its kind, the dimension its early answering runs along (`sequence` for
 * autoregressive truncation, `time` for diffusion probes), the scores with intervals, clean
 * accuracy and the answer rules.
 */
export interface LanhamRow {
  readonly model: string;
  readonly kind: string;
  readonly dimension: string | null;
  readonly aoc: Scored | null;
  /** Adding mistakes: flip rate of `replace` cells in the chain of thought. */
  readonly mistakes: Scored | null;
  readonly paraphraseAccuracy: Scored | null;
  readonly fillerAccuracy: Scored | null;
  readonly cleanAccuracy: Scored | null;
  readonly answerRule: string;
  readonly forcedAnswerRule: string;
  /** Early-answering curve [x, same, n, ci low, ci high]. */
  readonly curve: readonly [number, number, number, number | null, number | null][];
}

/** One model's CoT flip rate before the answer commits, with its known faithfulness order (view known_faithfulness_flip_rates). */
export interface FaithfulnessRow {
  readonly model: string;
  /** 1 = the answer is computed from the chain of thought … 4 = the chain carries nothing; null for other models. */
  readonly order: number | null;
  readonly known: string | null;
  /** [flip rate, ci low, ci high, n cells, n prompts]. */
  readonly flipRate: Scored;
  readonly cleanAccuracy: number | null;
}

/** Clean accuracy of one model per paraphrase-remask setting (view paraphrase_accuracy). */
export interface ParaphraseAccuracyRow {
  readonly model: string;
  /** 'off' or the setting as JSON. */
  readonly paraphrase: string;
  /** [accuracy, ci low, ci high, n runs, n correct]. */
  readonly accuracy: Scored;
  readonly events: number;
}

/** Everything the report renders. */
export interface ReportData {
  /** Known faithfulness (docs/experiment.md): CoT flip rates ordered by known faithfulness, accuracy with and without paraphrase-remask. */
  readonly knownFaithfulness: { readonly flipRates: readonly FaithfulnessRow[]; readonly paraphraseAccuracy: readonly ParaphraseAccuracyRow[] };
  /** Sequence against time: one row per model with early-answering or Lanham cells (empty otherwise). */
  readonly lanham: readonly LanhamRow[];
  readonly generatedAt: string;
  readonly sweep: { readonly id: string; readonly name: string; readonly summary: Record<string, unknown> };
  readonly knownAnswer: KnownAnswerResult;
  readonly models: readonly ModelReport[];
  readonly viewer: readonly ViewerUnit[];
  readonly viewerUnitsPerModel: number;
}

/** The key of a (model, sampler setting) in the views' columns; viewer units compute the same from the Trajectory columns. */
const SETTING = `concat_ws('|', model_id, gen_length, total_steps, block_length, temperature, remasking)`;

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
  const S = `${SETTING} AS setting`;
  const shapes = (await db.query<{ model_id: string; setting: string; cot_start: number | null; cot_end: number | null; answer_start: number | null; answer_end: number | null; steps: number; gen_length: number; block_length: number; temperature: number; remasking: string; mode: string; correct: boolean }>(
    `SELECT model_id, ${S}, cot_start, cot_end, answer_start, answer_end, total_steps AS steps, gen_length, block_length, temperature, remasking, mode, correct
       FROM answer_commit WHERE sweep_id = $1`, [id])).rows;
  const heat = (await db.query(`SELECT ${S}, kind, step, position, n, flips, ci_low, ci_high FROM flip_rate_step_position WHERE sweep_id = $1 ORDER BY model_id, kind, step, position`, [id])).rows;
  const bySteps = (await db.query(`SELECT ${S}, kind, span, phase, step, n, flips, ci_low, ci_high FROM flip_rate_by_step WHERE sweep_id = $1 ORDER BY model_id, kind, span, phase, step`, [id])).rows;
  const byPos = (await db.query(`SELECT ${S}, kind, span, phase, position, n, flips, ci_low, ci_high FROM flip_rate_by_position WHERE sweep_id = $1 ORDER BY model_id, kind, span, phase, position`, [id])).rows;
  const commits = (await db.query(`SELECT ${S}, * FROM answer_commit_summary WHERE sweep_id = $1 ORDER BY n DESC`, [id])).rows;
  const early = (await db.query(`SELECT ${S}, step, step_frac, n, same, ci_low, ci_high FROM early_answering_curve WHERE sweep_id = $1 ORDER BY model_id, step`, [id])).rows;
  const aocs = (await db.query(`SELECT ${S}, aoc FROM early_answering_aoc WHERE sweep_id = $1`, [id])).rows;

  const units = (await db.query(
    `SELECT * FROM (
        SELECT t."workUnitId" AS id, concat_ws('|', t."modelId", t."genLength", t."steps", t."blockLength", t."temperature", t."remasking") AS model_id,
               p.idx AS prompt_idx, p.text AS prompt_text, p."goldAnswer" AS gold, t.seed,
               t."steps" AS total_steps, t.tokens, t."commitStep" AS commit, t."finalText" AS final_text, t.answer, t.correct,
               t."cotStart" AS cot_start, t."cotEnd" AS cot_end, t."answerStart" AS answer_start, t."answerEnd" AS answer_end,
               t."answerCommitStep" AS answer_commit_step, t."filmStrip" AS film_strip,
               t."paraphraseEvents" AS paraphrase_events,
               row_number() OVER (PARTITION BY t."modelId" ORDER BY p.idx, t.seed, t."workUnitId") AS rn
          FROM "Trajectory" t JOIN "Prompt" p ON p.id = t."promptId"
         WHERE t."sweepId" = $1) x
      WHERE rn <= $2 ORDER BY model_id, rn`, [id, perModel])).rows;
  const cells = (await db.query(
    `SELECT c.id, c."workUnitId" AS work_unit_id, c.kind, c.variant, c.step, c.position, c.flipped, c."finalAnswer" AS final_answer,
            NULLIF(COALESCE(c."finalText", c."partialText"), t."finalText") AS final_text, c."changedTokens" AS changed_tokens, c.skipped
       FROM "Cell" c JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId"
      WHERE c."sweepId" = $2 AND c."workUnitId" = ANY($1) AND c.kind <> 'probe'
      ORDER BY c.step, c.position, c.kind, c.id`, [units.map((u) => u['id']), id])).rows;

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
    paraphraseEvents: Array.isArray(u['paraphrase_events'])
      ? (u['paraphrase_events'] as { step: number; paraphraser: string; before: string; after: string; tokensBefore: number[]; commitBefore: number[]; remasked: number[] }[])
        .map((e) => ({ step: e.step, paraphraser: e.paraphraser, before: e.before, after: e.after, tokensBefore: e.tokensBefore, commitBefore: e.commitBefore, remasked: e.remasked }))
      : null,
    cells: cellsByUnit.get(String(u['id'])) ?? [],
  }));

  // One section per (model, sampler setting), in model name order.
  const sections = models.flatMap((m) => [...new Map(shapes.filter((s) => s.model_id === m.id).map((s) => [s.setting, s])).values()].map((s) => ({ m, s })));
  const reports: ModelReport[] = sections.map(({ m, s: setting }) => {
    const key = setting.setting;
    const mine = shapes.filter((s) => s.setting === key);
    const shape = mode(mine, (s) => `${s.cot_start},${s.cot_end},${s.answer_start},${s.answer_end}`);
    const T = setting.steps;
    const commit = commits.find((c) => c['setting'] === key);
    const heatRows = heat.filter((r) => r['setting'] === key);
    const samples = viewer.filter((v) => v.modelId === key).map((v) => ({ tokens: v.tokens, text: v.finalText }));
    const sampler: SamplerSetting = { mode: setting.mode, genLength: setting.gen_length, steps: setting.steps, blockLength: setting.block_length, temperature: Number(setting.temperature), remasking: setting.remasking };
    return {
      id: key,
      modelId: m.id,
      name: m.name,
      sampler,
      samplerLabel: `gen_length ${sampler.genLength} · steps ${sampler.steps} · block_length ${sampler.blockLength} (${sampler.mode}) · temperature ${sampler.temperature} · ${sampler.remasking}`,
      totalSteps: T,
      genLength: setting.gen_length,
      spans: { cot: shape ? span(shape.cot_start, shape.cot_end) : null, answer: shape ? span(shape.answer_start, shape.answer_end) : null },
      kinds: [...new Set(heatRows.map((r) => String(r['kind'])))].sort((a, b) => (a === 'all' ? -1 : b === 'all' ? 1 : a.localeCompare(b))),
      heatmap: heatRows.filter((r) => Number(r['n']) > 0).map((r): HeatCell => [String(r['kind']), Number(r['step']), Number(r['position']), Number(r['n']), Number(r['flips']), num(r['ci_low']), num(r['ci_high'])]),
      byStep: bySteps.filter((r) => r['setting'] === key).map((r): Marginal => [String(r['kind']), String(r['span']), String(r['phase']), Number(r['step']), Number(r['n']), Number(r['flips']), num(r['ci_low']), num(r['ci_high'])]),
      byPosition: byPos.filter((r) => r['setting'] === key).map((r): Marginal => [String(r['kind']), String(r['span']), String(r['phase']), Number(r['position']), Number(r['n']), Number(r['flips']), num(r['ci_low']), num(r['ci_high'])]),
      commit: commit
        ? Object.fromEntries(['n', 'median_answer_commit_step', 'median_answer_commit_frac', 'median_cot_commit_step', 'mean_answer_minus_cot_steps', 'share_answer_before_cot_complete',
            'n_before_cot', 'n_during_cot', 'n_after_cot', 'mean_cot_share_at_answer_commit'].map((k) => [k, num(commit[k])]))
        : null,
      early: early.filter((r) => r['setting'] === key)
        .map((r): [number, number, number, number, number | null, number | null] => [Number(r['step']), Number(r['step_frac']), Number(r['n']), Number(r['same']), num(r['ci_low']), num(r['ci_high'])]),
      aoc: num(aocs.find((a) => a['setting'] === key)?.['aoc']),
      vocab: modelVocab(m.path, m.card, samples),
      cleanRuns: mine.length,
      cleanAccuracy: mine.length ? mine.filter((s) => s.correct).length / mine.length : null,
    };
  });

  const knownAnswer: KnownAnswerResult = await knownAnswerValidation(db, id, opts.knownAnswer);
  const plainSummary = Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : !['sweep_id', 'sweep_name', 'status'].includes(k) && typeof v === 'string' && /^\d+$/.test(v) && Number.isSafeInteger(Number(v)) ? Number(v) : v]));
  return { generatedAt: new Date().toISOString(), sweep: { id, name: sweep.name, summary: plainSummary }, knownAnswer, knownFaithfulness: await knownFaithfulnessRows(db, id), lanham: await lanhamRows(db, id), models: reports, viewer, viewerUnitsPerModel: perModel };
}

/**
 * The known-faithfulness section's rows of a sweep: every model's CoT flip rate before the answer
 * commits, ordered by known faithfulness (models not in known_faithfulness_organisms last, by
 * name), and the clean accuracy per paraphrase-remask setting (views known_faithfulness_flip_rates,
 * paraphrase_accuracy; migration 20261213000000_known_faithfulness).
 */
export async function knownFaithfulnessRows(db: Queryable, sweepId: string): Promise<ReportData['knownFaithfulness']> {
  const flips = (await db.query(
    `SELECT model_name, faithfulness_order, known, flip_rate, ci_low, ci_high, n, n_prompts, clean_accuracy
       FROM known_faithfulness_flip_rates WHERE sweep_id = $1 AND n > 0
      ORDER BY faithfulness_order NULLS LAST, model_name, block_length, temperature, remasking`, [sweepId])).rows as Record<string, unknown>[];
  const para = (await db.query(
    `SELECT p.model_name, p.paraphrase, p.accuracy, p.ci_low, p.ci_high, p.n_runs, p.n_correct, p.paraphrase_events
       FROM paraphrase_accuracy p LEFT JOIN known_faithfulness_organisms k ON k.model = p.model_name
      WHERE p.sweep_id = $1 ORDER BY k.faithfulness_order NULLS LAST, p.model_name, p.paraphrase = 'off' DESC, p.paraphrase`, [sweepId])).rows as Record<string, unknown>[];
  return {
    flipRates: flips.map((r): FaithfulnessRow => ({
      model: String(r['model_name']), order: num(r['faithfulness_order']), known: r['known'] === null ? null : String(r['known']),
      flipRate: [num(r['flip_rate']), num(r['ci_low']), num(r['ci_high']), Number(r['n']), Number(r['n_prompts'])], cleanAccuracy: num(r['clean_accuracy']),
    })),
    paraphraseAccuracy: para.map((r): ParaphraseAccuracyRow => ({
      model: String(r['model_name']), paraphrase: String(r['paraphrase']),
      accuracy: [num(r['accuracy']), num(r['ci_low']), num(r['ci_high']), Number(r['n_runs']), Number(r['n_correct'])], events: Number(r['paraphrase_events']),
    })),
  };
}

/** The sequence-against-time rows of a sweep (see {@link LanhamRow}). */
export async function lanhamRows(db: Queryable, sweepId: string): Promise<LanhamRow[]> {
  const q = async (sql: string) => (await db.query(sql, [sweepId])).rows as Record<string, unknown>[];
  // In turn: `db` may be one client, which runs one query at a time (pg deprecates queueing on it).
  const rules = await q(`SELECT DISTINCT a.model_id, a.model_name, a.model_kind, a.answer_rule, a.forced_answer_rule FROM model_answer_rules a JOIN "WorkUnit" w ON w."modelId" = a.model_id WHERE w."sweepId" = $1 ORDER BY a.model_kind, a.model_name`);
  const aocs = await q(`SELECT * FROM lanham_aoc WHERE sweep_id = $1`);
  const tests = await q(`SELECT * FROM lanham_tests WHERE sweep_id = $1`);
  const curves = await q(`SELECT * FROM lanham_curve WHERE sweep_id = $1 ORDER BY model_id, x`);
  const scored = (r: Record<string, unknown> | undefined, v: string, lo: string, hi: string): Scored | null =>
    r ? [num(r[v]), num(r[lo]), num(r[hi]), Number(r['n_cells'] ?? 0), Number(r['n_prompts'] ?? 0)] : null;
  return rules.map((m): LanhamRow => {
    const id = m['model_id'];
    const aoc = aocs.find((a) => a['model_id'] === id);
    const test = (t: string) => tests.find((r) => r['model_id'] === id && r['test'] === t);
    const anyTest = tests.find((r) => r['model_id'] === id);
    return {
      model: String(m['model_name']),
      kind: String(m['model_kind']),
      dimension: aoc ? String(aoc['dimension']) : null,
      aoc: scored(aoc, 'aoc', 'ci_low', 'ci_high'),
      mistakes: scored(test('adding_mistakes'), 'flip_rate', 'ci_low', 'ci_high'),
      paraphraseAccuracy: scored(test('paraphrase'), 'accuracy', 'accuracy_ci_low', 'accuracy_ci_high'),
      fillerAccuracy: scored(test('filler'), 'accuracy', 'accuracy_ci_low', 'accuracy_ci_high'),
      cleanAccuracy: anyTest ? [num(anyTest['clean_accuracy']), num(anyTest['clean_accuracy_ci_low']), num(anyTest['clean_accuracy_ci_high']), Number(anyTest['n_runs']), Number(anyTest['n_prompts'])] : null,
      answerRule: String(m['answer_rule']),
      forcedAnswerRule: String(m['forced_answer_rule']),
      curve: curves.filter((c) => c['model_id'] === id).map((c): [number, number, number, number | null, number | null] => [Number(c['x']), Number(c['same']), Number(c['n_cells']), num(c['ci_low']), num(c['ci_high'])]),
    };
  }).filter((r) => r.aoc !== null || r.mistakes !== null);
}
