/**
 * Planning a sweep: resolves the spec's models (card + sha256), generates or reads its
 * prompts, and enumerates the work units (prompt × model × seed, numbered by ordinal) with
 * a cell estimate. Pure reads: nothing is written. Every problem is a coded error naming the
 * spec file, line and key.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, FaithsweepError, WarningCode } from '../../common/errors.ts';
import type { FaithsweepWarning } from '../../common/errors.ts';
import { DEFAULT_PROMPT_FORMAT, arithStream, checkPromptFormat, formatPrompt, promptFormatMismatch } from '../../common/datasets/arith.ts';
import { displayPath, drain, readJsonl, scanJsonl, sha256File } from '../datasets/jsonl.ts';
import { parseCard } from '../../common/model/card.ts';
import type { ModelCard } from '../../common/model/card.ts';
import { isAgentError } from '../../common/agent-errors.ts';
import { loadAgentTokenizer } from '../../common/model/tokenizer.ts';
import { interventionChecks } from '../../common/interventions/checks.ts';
import type { PlannedSampler } from '../../common/sampler/settings.ts';
import { extrasFromOptions, plannedSampler, resolveSamplerSettings } from '../../common/sampler/settings.ts';
import { paraphraserNameProblem } from '../../common/paraphrase/settings.ts';
import { loadTokenizer } from '../../common/text/tokenizer.ts';
import type { TextTokenizer } from '../../common/text/tokenizer.ts';
import { resolveModelCells } from './grid.ts';
import type { TrajectoryShape } from './grid.ts';
import { chatRenderer, promptTemplate } from './render.ts';
import type { ChatRenderer, FewshotTurn, PromptTemplate } from './render.ts';
import type { AnyKindSpec, ModelRef, PositionSelector, SweepSpec } from './spec-types.ts';
import { LARGE_PROMPT_COUNT, MAX_WORK_UNITS } from './spec-schema.ts';

/**
 * Sampler settings of a model in a sweep: the card's defaults with the spec's overrides, as
 * common/sampler/settings.ts resolves them for the agent too ({@link PlannedSampler}).
 */
export type ResolvedSampler = PlannedSampler;

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
  /** How its prompts are presented: `raw` text, or rendered with its `chat` template (card `prompt.template`). */
  readonly template: PromptTemplate;
}

/** What a Prompt row's `meta` holds: where the prompt came from and how it was presented. */
export interface PromptMeta {
  /** The dataset before rendering (`arith:…`, `jsonl:…`): rows of the same source and idx ask the same question. */
  readonly source: string;
  /** 1-based line of the record in its JSONL file. */
  readonly line?: number;
  readonly template: PromptTemplate;
  /** For chat prompts: the system message, if any. */
  readonly system?: string;
  /** For chat prompts: the few-shot file (its dataset name) and how many examples. */
  readonly fewshot?: { readonly source: string; readonly count: number };
}

/** A prompt of the sweep, as one model is given it (models that see the same text share it). */
export interface PlannedPrompt {
  readonly id: string;
  /** Dataset name: the source's, plus `|chat=<12 hex>` for chat-rendered prompts (the rendering's hash). */
  readonly dataset: string;
  readonly idx: number;
  /** The prompt itself (the user message of a chat prompt). */
  readonly text: string;
  readonly gold: string;
  /** Exactly the text the model is given: the chat-rendered prompt, or `text` for raw prompts. */
  readonly renderedText: string;
  /** Token ids of `renderedText`, sent to the agent; empty for raw prompts (the agent tokenizes `text`). */
  readonly promptIds: readonly number[];
  readonly meta: PromptMeta;
}

/** The first prompt of one model as the model sees it (for `plan`). */
export interface PromptExample {
  readonly model: string;
  readonly template: PromptTemplate;
  readonly text: string;
  /** Token ids (chat prompts only; raw prompts are tokenized by the agent). */
  readonly promptIds: readonly number[];
}

/**
 * The whole plan, counted rather than listed: work units are prompts × models × seeds, and the
 * prompts themselves are produced again, one at a time, by {@link SweepPlan.promptRows} (for
 * `launch`), so a plan of millions of prompts holds none of them.
 */
export interface SweepPlan {
  readonly spec: SweepSpec;
  readonly models: readonly PlannedModel[];
  /** Per model index: the dataset name of its prompts (models given the same text share the same rows). */
  readonly datasets: readonly string[];
  readonly promptCount: number;
  /** Per model: its first prompt as it sees it. */
  readonly examples: readonly PromptExample[];
  /** Work units: promptCount × models × seeds that run (`seedCopies.run`), ordinals 0..workUnits-1 ({@link unitOrdinal}). */
  readonly workUnits: number;
  /** Cells, per model: exact when the grid names no span, else estimated (see `exact`). */
  readonly cellsPerModel: readonly { readonly model: string; readonly cellsPerUnit: number; readonly exact: boolean; readonly rowSteps: number }[];
  readonly cells: number;
  readonly exact: boolean;
  /** Estimated forward-pass rows (clean runs + branches), for a time estimate. */
  readonly rowSteps: number;
  /** Whether the listed seeds repeat the same runs, and which seeds run ({@link seedCopies}). */
  readonly seedCopies: SeedCopies;
  /**
   * Accepted but probably not meant: PROMPT_FORMAT_MISMATCH when prompts of a JSONL dataset do
   * not follow the `prompt_format` of a raw-prompt model's card (one warning per model).
   */
  readonly warnings: readonly FaithsweepWarning[];
  /**
   * The prompts in order, one prompt index at a time from `from` (default 0): per model index,
   * the row that model is given. Chat prompts are rendered again and a JSONL file is read again,
   * in bounded memory; throws BAD_SPEC (once its end is reached) if the file changed since it
   * was planned. Close it early with `return()` (a `for … of` with `break` does).
   */
  promptRows(from?: number): Generator<readonly PlannedPrompt[], void, undefined>;
  /** Throws BAD_SPEC when a data file the prompts are read from changed since it was planned. */
  checkFiles(): void;
}

/**
 * Ordinal of the work unit (prompt, model, seed), by index into the plan's prompts, models and
 * seeds: prompt-major, then model, then seed, as the plan has always numbered them.
 */
export function unitOrdinal(counts: { readonly models: number; readonly seeds: number }, promptIndex: number, modelIndex: number, seedIndex: number): number {
  return (promptIndex * counts.models + modelIndex) * counts.seeds + seedIndex;
}

/** Every prompt of a plan, per model index: for tests and small sweeps (it holds them all). */
export function collectPrompts(plan: SweepPlan): PlannedPrompt[][] {
  const out: PlannedPrompt[][] = plan.models.map(() => []);
  for (const rows of plan.promptRows()) rows.forEach((r, m) => out[m]!.push(r));
  return out;
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
  const template = promptTemplate(cardJson, `${ref.where ?? 'models'}: ${cardPath}`);
  return { id: modelId(sha256), name: card.name, dir, sha256, card, cardJson, template };
}

function readdirModels(root: string): string[] {
  try {
    return readdirSync(root).filter((n) => existsSync(join(root, n, 'model.json'))).sort();
  } catch {
    return [];
  }
}

/**
 * The card's defaults with the spec's overrides, resolved and checked by the agent's own
 * resolution ({@link resolveSamplerSettings}, common/sampler/settings.ts: the settings the agent
 * would run are the settings planned) plus `plan`'s own checks: steps must not exceed gen_length
 * (later steps would commit nothing), the paraphraser must exist, and gen_length must leave room
 * for a prompt. Returns the settings and every problem, each as
 * `file:line:col: models[i].sampler: why` (empty when valid).
 */
export function resolveSampler(m: Omit<PlannedModel, 'sampler'>, ref: ModelRef): { sampler: ResolvedSampler; problems: string[] } {
  const d = m.card.defaults;
  const o = ref.sampler;
  if (m.card.kind === 'autoregressive') {
    // One token per step: steps = gen_length, block_length = 1 (what the Trajectory stores).
    const genLength = o.genLength ?? d.gen_length;
    const temperature = o.temperature ?? d.temperature;
    const where = `${ref.where ?? 'models'}.sampler`;
    const problems = (['steps', 'blockLength', 'remasking'] as const).filter((k) => o[k] !== undefined)
      .map((k) => `${where}: ${k === 'blockLength' ? 'block_length' : k} applies to diffusion models only (${m.name} is autoregressive: give gen_length and temperature)`);
    if (o.options?.paraphrase) problems.push(`${where}: paraphrase-remask applies to diffusion models only (${m.name} is autoregressive: use the paraphrase intervention)`);
    return { sampler: { genLength, steps: genLength, blockLength: 1, remasking: 'low_confidence', temperature }, problems };
  }
  const r = resolveSamplerSettings(m.card, {
    genLength: o.genLength, steps: o.steps, blockLength: o.blockLength, remasking: o.remasking, temperature: o.temperature, extras: extrasFromOptions(o.options),
  });
  const c = r.config;
  const problems = [...r.problems];
  const badParaphraser = c.paraphrase ? paraphraserNameProblem(c.paraphrase.paraphraser) : null;
  if (badParaphraser) problems.push(badParaphraser);
  if (problems.length === 0 && c.steps > c.genLength) problems.push(`steps ${c.steps} exceeds gen_length ${c.genLength}`);
  // The agent refuses prompt + gen_length > max_seq_len; a prompt has at least one token.
  if (c.genLength >= m.card.max_seq_len) problems.push(`gen_length ${c.genLength} leaves no room for a prompt in the model's max_seq_len ${m.card.max_seq_len} (prompt tokens + gen_length must fit)`);
  const where = `${ref.where ?? 'models'}.sampler`;
  return { sampler: plannedSampler(c), problems: problems.map((why) => `${where}: ${why}`) };
}

/** `file:line:col: key.path` of a spec entry (the key path alone when the spec has no positions). */
function at(spec: SweepSpec, path: string): string {
  const w = spec.where?.[path];
  return w ? `${w}: ${path}` : path;
}

/**
 * The agent's checks of an intervention ({@link interventionChecks}, node-agent/engine/prepare.ts)
 * on every explicit grid step, position and given token of `spec`, for each model: one line per
 * problem, `file:line:col: grid.steps[i]: why (model, models[m])`. Fractions, spans and every-k
 * selectors always resolve inside a trajectory and need no check. `specialIds`: per model, its
 * tokenizer's special token ids (null when the grid gives no token).
 */
export function gridProblems(spec: SweepSpec, models: readonly PlannedModel[], specialIds: readonly (ReadonlySet<number> | null)[]): string[] {
  const out: string[] = [];
  const ends = (v: { kind: string; value?: number; from?: number; to?: number }): number[] =>
    v.kind === 'index' ? [v.value!] : v.kind === 'range' ? [v.from!, v.to!] : [];
  const positionsOf = (sels: readonly PositionSelector[] | undefined, key: string, m: PlannedModel, of: string): void => {
    (sels ?? []).forEach((sel, i) => {
      for (const p of ends(sel)) {
        const bad = interventionChecks.position(p, m.sampler);
        if (bad) out.push(`${at(spec, `${key}.positions[${i}]`)}: ${bad}${of}`);
      }
    });
  };
  const tokensOf = (kinds: readonly AnyKindSpec[], key: string, m: PlannedModel, mi: number, of: string): void => {
    kinds.forEach((k, i) => {
      if (k.kind !== 'replace' || k.variant !== 'given') return;
      const bad = interventionChecks.givenToken(k.token, m.card, specialIds[mi] ?? new Set());
      if (bad) out.push(`${at(spec, `${key}.kinds[${i}].replace.token`)}: ${bad}${of}`);
    });
  };
  models.forEach((m, mi) => {
    const where = spec.models[mi]?.where ?? `models[${mi}]`;
    if (m.card.kind === 'autoregressive') {
      const of = ` for model ${m.name} (models[${mi}]: autoregressive, gen_length ${m.sampler.genLength})`;
      if (!spec.arGrid) {
        out.push(`${where}: ${m.name} is an autoregressive model: give ar_grid (truncate, replace, paraphrase, filler); grid is for diffusion models`);
        return;
      }
      positionsOf(spec.arGrid.positions, 'ar_grid', m, of);
      tokensOf(spec.arGrid.kinds, 'ar_grid', m, mi, of);
      return;
    }
    const of = ` for model ${m.name} (models[${mi}]: steps ${m.sampler.steps}, gen_length ${m.sampler.genLength})`;
    if (!spec.grid) {
      out.push(`${where}: ${m.name} is a diffusion model: give grid (positions, steps, kinds); ar_grid is for autoregressive models`);
      return;
    }
    spec.grid.steps.forEach((sel, i) => {
      for (const t of ends(sel)) {
        const bad = interventionChecks.step(t, m.sampler);
        if (bad) out.push(`${at(spec, `grid.steps[${i}]`)}: ${bad}${of}`);
      }
    });
    positionsOf(spec.grid.positions, 'grid', m, of);
    tokensOf(spec.grid.kinds, 'grid', m, mi, of);
  });
  return out;
}

/** The shape a grid resolves against when no clean run is needed (or for an estimate). */
export function shapeFor(sampler: ResolvedSampler, spans: { cot: TrajectoryShape['cot']; answer: TrajectoryShape['answer'] } = { cot: null, answer: null }): TrajectoryShape {
  return { steps: sampler.steps, genLength: sampler.genLength, ...spans };
}

/**
 * Whether the grid of a model's kind has selectors that need the clean run's spans (without
 * `autoregressive`: whether either grid has).
 */
export function gridNeedsSpans(spec: Pick<SweepSpec, 'grid' | 'arGrid'>, autoregressive?: boolean): boolean {
  const named = (sels: readonly PositionSelector[] | undefined) => (sels ?? []).some((p) => (p.kind === 'span' && p.span !== 'all') || (p.kind === 'every' && p.of !== 'all'));
  if (autoregressive === undefined) return named(spec.grid?.positions) || named(spec.arGrid?.positions);
  return autoregressive ? named(spec.arGrid?.positions) : named(spec.grid?.positions);
}

/** Every intervention kind the spec lists, in both grids. */
function allKinds(spec: SweepSpec): AnyKindSpec[] {
  return [...(spec.grid?.kinds ?? []), ...(spec.arGrid?.kinds ?? [])];
}

/** Typical spans of a model, from its golden trajectories when it has them (for estimates only). */
function typicalSpans(m: Omit<PlannedModel, 'sampler'>): { cot: TrajectoryShape['cot']; answer: TrajectoryShape['answer'] } | null {
  const golden = join(m.dir, 'golden.jsonl');
  if (!existsSync(golden)) return null;
  const first = readFileSync(golden, 'utf8').split('\n')[0];
  if (!first) return null;
  const text = (JSON.parse(first) as { text?: string }).text ?? '';
  const regex = (m.cardJson as { spans?: { regex?: unknown } }).spans?.regex;
  if (typeof regex !== 'string') return null;
  const g = new RegExp(regex, 'd').exec(text)?.indices?.groups;
  if (!g?.['cot'] || !g['answer']) return null;
  return { cot: { start: g['cot'][0], end: g['cot'][1] }, answer: { start: g['answer'][0], end: g['answer'][1] } };
}

/** A prompt before any rendering: the same for every model with the same prompt format. */
interface SourcePrompt {
  readonly idx: number;
  readonly text: string;
  readonly gold: string;
  readonly line?: number;
}

/** The sweep's prompts before rendering, as one model reads them (arith prompts follow the card's prompt_format). */
interface Source {
  readonly name: string;
  /** The prompts in order, from the first, in bounded memory; checks the data (once at its end) as it goes. */
  readonly stream: () => Generator<SourcePrompt, void, undefined>;
  /** How to name a prompt in errors: `data.jsonl:12` or `arith #3`. */
  readonly at: (p: SourcePrompt) => string;
}

const sha256Text = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Per prompt index: rows already made for a dataset name (models given the same text share them). */
type RowCache = Map<string, PlannedPrompt>;

/** How one model is given its prompts. */
interface Presenter {
  /** Dataset name of its rows. */
  readonly dataset: string;
  /**
   * The row of one source prompt. Chat models: renders it (or takes the row of another model
   * with the same dataset from `cache`) and checks its ids against the card; throws a coded
   * error naming the model (spec file:line) and the prompt.
   */
  row(p: SourcePrompt, cache: RowCache): PlannedPrompt;
  /** Chat models: whether a row and the sampler's gen_length exceed the model's max_seq_len. */
  tooLong(row: PlannedPrompt): boolean;
}

function rawPresenter(src: Source): Presenter {
  return {
    dataset: src.name,
    row: (p, cache) => {
      const hit = cache.get(src.name);
      if (hit) return hit;
      const row: PlannedPrompt = {
        id: promptId(src.name, p.idx), dataset: src.name, idx: p.idx, text: p.text, gold: p.gold,
        renderedText: p.text, promptIds: [],
        meta: { source: src.name, ...(p.line !== undefined ? { line: p.line } : {}), template: 'raw' },
      };
      cache.set(src.name, row);
      return row;
    },
    tooLong: () => false,
  };
}

/**
 * Presents prompts of `src` with `model`'s chat template: the system message, the few-shot
 * turns, the prompt as the user turn, and the generation prompt.
 */
function chatPresenter(model: PlannedModel, ref: ModelRef, renderer: ChatRenderer, src: Source, system: string | undefined, shots: { source: string; turns: readonly FewshotTurn[] } | undefined): Presenter {
  const rendering = sha256Text(JSON.stringify({ renderer: renderer.key, system: system ?? null, fewshot: shots ? { source: shots.source, count: shots.turns.length } : null })).slice(0, 12);
  const dataset = `${src.name}|chat=${rendering}`;
  const meta = { source: src.name, template: 'chat' as const, ...(system !== undefined ? { system } : {}), ...(shots ? { fewshot: { source: shots.source, count: shots.turns.length } } : {}) };
  const where = `${ref.where ?? 'models'} (${model.name})`;
  return {
    dataset,
    row(p, cache) {
      let row = cache.get(dataset);
      if (!row) {
        const rendered = renderer.render({ system, fewshot: shots?.turns ?? [], prompt: p.text }, `${where}, prompt ${src.at(p)}`);
        row = {
          id: promptId(dataset, p.idx), dataset, idx: p.idx, text: p.text, gold: p.gold, renderedText: rendered.text, promptIds: rendered.ids,
          meta: { ...meta, ...(p.line !== undefined ? { line: p.line } : {}) },
        };
        cache.set(dataset, row);
      }
      const outside = row.promptIds.find((id) => id >= model.card.vocab_size || id === model.card.mask_token_id);
      if (outside !== undefined) {
        throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${where}, prompt ${src.at(p)}: its tokenizer gave id ${outside}, ${outside === model.card.mask_token_id ? "the card's mask_token_id" : `outside the card's vocab_size ${model.card.vocab_size}`}`, {
          hint: "the model's tokenizer files and its card disagree; re-export the model",
        });
      }
      return row;
    },
    tooLong: (row) => row.promptIds.length + model.sampler.genLength > model.card.max_seq_len,
  };
}

/** Too-long prompts of one model: the first 20 named, the rest counted. */
class TooLong {
  count = 0;
  readonly listed: string[] = [];
  add(at: string): void {
    if (this.count++ < 20) this.listed.push(at);
  }
  error(model: PlannedModel, ref: ModelRef): FaithsweepError {
    const where = `${ref.where ?? 'models'} (${model.name})`;
    return new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${this.count} rendered prompt(s) + gen_length ${model.sampler.genLength} exceed the model's max_seq_len ${model.card.max_seq_len}:\n${this.listed.join('\n')}${this.count > 20 ? `\n… and ${this.count - 20} more` : ''}`, {
      hint: 'lower gen_length (models[].sampler), use fewer few-shot examples, or drop these prompts',
    });
  }
}

/**
 * Every source prompt, one index at a time: per distinct source (by name), its prompt at that
 * index. Reads each source to its end afterwards so that its checks run; closes them when stopped.
 */
function* sourcePrompts(sources: readonly Source[], count: number): Generator<ReadonlyMap<string, SourcePrompt>, void, undefined> {
  const streams = new Map<string, Generator<SourcePrompt, void, undefined>>();
  for (const s of sources) if (!streams.has(s.name)) streams.set(s.name, s.stream());
  try {
    for (let i = 0; i < count; i++) {
      const at = new Map<string, SourcePrompt>();
      for (const [name, stream] of streams) {
        const next = stream.next();
        if (next.done) throw new FaithsweepError(ErrorCode.BAD_SPEC, `dataset ${name} ended after ${i} prompt(s), ${count} were planned`, { hint: 'do not change the dataset while a sweep is launched' });
        at.set(name, next.value);
      }
      yield at;
    }
    for (const stream of streams.values()) while (!stream.next().done);
  } finally {
    for (const stream of streams.values()) stream.return();
  }
}

/** What {@link seedCopies} found. */
export interface SeedCopies {
  /** Every run of the sweep is a function of (model, prompt) alone: no randomness depends on the seed. */
  readonly deterministic: boolean;
  /** The spec's seeds. */
  readonly listed: readonly number[];
  /** The seeds that run (the first one only when collapsed). */
  readonly run: readonly number[];
  readonly collapsed: boolean;
  /** One line for `plan`, or null when there is nothing to say. */
  readonly note: string | null;
}

/**
 * Whether extra seeds repeat the same runs. The seed feeds only the sampler's Gumbel noise
 * (temperature > 0), `random` remasking and `replace: random` tokens (docs/experiment.md); with
 * none of them every seed gives the same clean run and the same cells, so extra seeds are copies
 * that the intervals would count as independent. Then the plan runs the first seed only, unless
 * the spec asks for every seed (`options.copied_seeds: run`). A sweep where only some models are
 * deterministic keeps its seeds (work units are prompts × models × seeds) and says so.
 */
export function seedCopies(spec: SweepSpec, samplers: readonly ResolvedSampler[]): SeedCopies {
  const randomKind = allKinds(spec).some((k) => k.kind === 'replace' && k.variant === 'random');
  const fixed = samplers.map((s) => s.temperature === 0 && s.remasking !== 'random');
  const deterministic = !randomKind && fixed.every(Boolean);
  const listed = spec.seeds;
  if (listed.length < 2) return { deterministic, listed, run: listed, collapsed: false, note: null };
  if (!deterministic) {
    const some = !randomKind && fixed.some(Boolean);
    return { deterministic, listed, run: listed, collapsed: false, note: some ? `seeds: models ${samplers.map((_, i) => i).filter((i) => fixed[i]).map((i) => `models[${i}]`).join(', ')} are deterministic (temperature 0, no random remasking), so their ${listed.length} seeds repeat the same runs; the views count distinct runs (n_runs)` : null };
  }
  if (spec.options.copiedSeeds === 'run') {
    return { deterministic, listed, run: listed, collapsed: false, note: `seeds: temperature 0, no random remasking or replacement: the ${listed.length} seeds repeat the same runs; running every one as asked (options.copied_seeds: run); the views count distinct runs (n_runs)` };
  }
  return { deterministic, listed, run: [listed[0]!], collapsed: true, note: `seeds: temperature 0, no random remasking or replacement: the ${listed.length} seeds would repeat the same runs, so only seed ${listed[0]} runs (options.copied_seeds: run runs them all)` };
}

/**
 * Plans `spec` (read from `specPath`). Reads model directories, datasets and tokenizers;
 * writes nothing. Every problem is a coded error naming the spec file and line. Memory does
 * not grow with the number of prompts: prompts are generated or read (and, for chat models,
 * rendered to check them) one at a time, and only counted.
 */
export async function planSweep(spec: SweepSpec, opts: { specPath: string; modelsDir: string }): Promise<SweepPlan> {
  const specDir = dirname(resolve(opts.specPath));
  // Every check the agent makes on a request runs here first, on every model, and every
  // problem is reported together: a spec the agent would refuse is never scheduled.
  const problems: string[] = [];
  const models: PlannedModel[] = spec.models.map((ref) => {
    const m = resolveModel(ref, { modelsDir: opts.modelsDir, specDir });
    const r = resolveSampler(m, ref);
    problems.push(...r.problems);
    return { ...m, sampler: r.sampler };
  });
  const seenSha = new Map<string, number>();
  models.forEach((m, i) => {
    const key = `${m.sha256}|${JSON.stringify(m.sampler)}`;
    const prev = seenSha.get(key);
    if (prev !== undefined) problems.push(`${spec.models[i]!.where ?? 'models'}: the same model and sampler as models[${prev}]: list each model once (or change its sampler)`);
    else seenSha.set(key, i);
  });
  if (problems.length === 0) {
    const givesToken = allKinds(spec).some((k) => k.kind === 'replace' && k.variant === 'given');
    const specialIds = await Promise.all(models.map(async (m) => (givesToken ? (await tokenizerOf(m)).specialIds : null)));
    problems.push(...gridProblems(spec, models, specialIds));
  }
  if (problems.length) {
    throw new FaithsweepError(ErrorCode.BAD_SPEC, problems.join('\n'), { hint: 'fix these entries of the spec (docs/spec.md); nothing was written' });
  }

  // The prompts before rendering (per model: arith prompts follow each card's prompt_format).
  let sources: Source[];
  let promptCount: number;
  let shots: { source: string; turns: FewshotTurn[] } | undefined;
  const files: { path: string; sha256: string; where: string }[] = [];
  const ds = spec.dataset;
  if (ds.kind === 'arith') {
    promptCount = ds.count;
    sources = models.map((m) => {
      const format = (m.cardJson as { prompt_format?: string }).prompt_format ?? '{a}+{b}=';
      const name = `arith:seed=${ds.seed}:format=${format}`;
      checkPromptFormat(format);
      return {
        name,
        *stream() {
          let idx = 0;
          for (const p of arithStream(ds.seed, ds.count, format)) yield { idx: idx++, text: p.prompt, gold: p.gold };
        },
        at: (p) => `arith #${p.idx}`,
      };
    });
  } else {
    const path = resolve(specDir, ds.path);
    const where = ds.where ?? 'dataset.jsonl';
    const readOpts = {
      promptField: ds.fields?.prompt, answerField: ds.fields?.answer, answerRegex: ds.answerRegex, limit: ds.count, where,
      hint: `one {"${ds.fields?.prompt ?? 'prompt'}": ..., "${ds.fields?.answer ?? 'answer'}": ...} object per line`,
    };
    // Every line is read and checked here; the records are read again when they are needed.
    const file = drain(scanJsonl(path, readOpts));
    files.push({ path, sha256: file.sha256, where });
    promptCount = file.count;
    const shown = ds.path;
    const source: Source = {
      name: file.name,
      *stream() {
        const records = scanJsonl(path, readOpts);
        for (let idx = 0; ; idx++) {
          const next = records.next();
          if (next.done) {
            if (next.value.sha256 !== file.sha256) throw changedFile(where, path);
            return;
          }
          yield { idx, text: next.value.prompt, gold: next.value.gold, line: next.value.line };
        }
      },
      at: (p) => `${shown}:${p.line}`,
    };
    sources = models.map(() => source);
    if (ds.fewshot) {
      const f = ds.fewshot;
      const fewFile = readJsonl(resolve(specDir, f.path), {
        promptField: f.prompt ?? ds.fields?.prompt, answerField: f.answer ?? ds.fields?.answer, limit: f.count, where: f.where ?? 'dataset.fewshot',
        hint: 'few-shot examples: one JSON object per line with the prompt and answer fields',
      });
      if (fewFile.records.length < f.count) {
        throw new FaithsweepError(ErrorCode.BAD_SPEC, `${f.where ?? 'dataset.fewshot'}: ${f.path} has ${fewFile.records.length} record(s), fewer than count ${f.count}`, { hint: 'lower dataset.fewshot.count or add examples' });
      }
      shots = { source: fewFile.name, turns: fewFile.records.map((r) => ({ prompt: r.prompt, answer: r.answer })) };
    }
  }
  // Checked before any prompt is rendered: a count the database cannot number is refused, a very
  // large one is planned with a warning (it may be a typo).
  const copies = seedCopies(spec, models.map((m) => m.sampler));
  const sizeWarnings = sizeCheck(spec, promptCount, models.length * copies.run.length);

  // Raw models get the prompt text as it is; system messages and few-shot turns need a chat
  // template. Problems are reported for the first model (in spec order) that has one, as if
  // each model's prompts were checked in turn: `failed` is that model's index so far.
  const system = spec.prompting?.system;
  const needsChat = [
    ...(system !== undefined ? [`${spec.prompting?.where ?? 'prompting'}.system`] : []),
    ...(ds.kind === 'jsonl' && ds.fewshot ? [ds.fewshot.where ?? 'dataset.fewshot'] : []),
  ];
  const errors: unknown[] = models.map(() => undefined);
  let failed = models.length;
  const presenters: Presenter[] = [];
  const renderers = new Map<string, ChatRenderer>(); // by model directory: a model listed twice loads once
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!;
    const ref = spec.models[i]!;
    if (m.template === 'raw') {
      if (needsChat.length) {
        errors[i] = new FaithsweepError(ErrorCode.BAD_SPEC, `${ref.where ?? 'models'}: model ${m.name} takes raw prompts (its card has no prompt.template: chat), so it cannot take ${needsChat.join(' or ')}`, {
          hint: 'drop prompting.system / dataset.fewshot, or use models whose card says prompt: {template: chat}',
        });
        failed = i;
        break;
      }
      presenters.push(rawPresenter(sources[i]!));
    } else {
      try {
        const renderer = renderers.get(m.dir) ?? (await chatRenderer(m, ref.where ?? 'models'));
        renderers.set(m.dir, renderer);
        presenters.push(chatPresenter(m, ref, renderer, sources[i]!, system, shots));
      } catch (err) {
        errors[i] = err;
        failed = i;
        break;
      }
    }
  }
  // Chat models: render every prompt once to check it (template, ids, length), holding none.
  const tooLong = models.map(() => new TooLong());
  const checked = () => models.slice(0, failed).some((m) => m.template === 'chat');
  if (checked()) {
    for (const at of sourcePrompts(sources, promptCount)) {
      const cache: RowCache = new Map();
      for (let i = 0; i < failed; i++) {
        if (models[i]!.template !== 'chat') continue;
        const p = at.get(sources[i]!.name)!;
        try {
          const row = presenters[i]!.row(p, cache);
          if (presenters[i]!.tooLong(row)) tooLong[i]!.add(`${sources[i]!.at(p)}: ${row.promptIds.length} tokens`);
        } catch (err) {
          errors[i] = err;
          failed = i;
        }
      }
      if (!checked()) break;
    }
  }
  for (let i = 0; i < models.length; i++) {
    if (errors[i] !== undefined) throw errors[i];
    if (tooLong[i]!.count) throw tooLong[i]!.error(models[i]!, spec.models[i]!);
  }
  await checkRawPrompts(spec, models, sources);

  const warnings = [...sizeWarnings, ...(ds.kind === 'jsonl' ? promptFormatWarnings(spec, models, sources[0]!) : [])];

  function* promptRows(from = 0): Generator<readonly PlannedPrompt[], void, undefined> {
    let i = 0;
    for (const at of sourcePrompts(sources, promptCount)) {
      if (i++ < from) continue;
      const cache: RowCache = new Map();
      yield presenters.map((pr, m) => pr.row(at.get(sources[m]!.name)!, cache));
    }
  }

  let first: readonly PlannedPrompt[] | undefined;
  for (const rows of promptRows()) {
    first = rows;
    break;
  }
  const examples: PromptExample[] = models.map((m, i) => {
    const row = first![i]!;
    return { model: m.name, template: m.template, text: row.renderedText, promptIds: row.promptIds };
  });

  const needsSpans = gridNeedsSpans(spec);
  const cellsPerModel = models.map((m) => {
    const ar = m.card.kind === 'autoregressive';
    const spans = needsSpans ? typicalSpans(m) : null;
    // Without typical spans, estimate with the whole generated region (an upper bound).
    const shape = shapeFor(m.sampler, spans ?? (needsSpans ? { cot: { start: 0, end: m.sampler.genLength }, answer: { start: 0, end: m.sampler.genLength } } : undefined));
    const cells = resolveModelCells(spec, ar, shape); // throws BAD_SPEC for out-of-range steps/positions
    const T = m.sampler.steps;
    // A branch runs from its step to the end at most (autoregressive: from its position); probes cost nothing beyond the clean run.
    const rowSteps = T + cells.reduce((a, c) => a + (c.kind.kind === 'probe' ? 0 : T - (ar ? Math.max(0, c.position) : c.step)), 0);
    return { model: m.name, cellsPerUnit: cells.length, exact: !needsSpans, rowSteps };
  });
  // Every prompt has one work unit per model and seed (copied seeds collapsed unless asked for).
  // The spec keeps the listed seeds (its hash must change when they do); work units use copies.run.
  const perPrompt = copies.run.length;
  return {
    spec,
    warnings,
    seedCopies: copies,
    models,
    datasets: presenters.map((p) => p.dataset),
    promptCount,
    examples,
    workUnits: promptCount * models.length * perPrompt,
    cellsPerModel,
    cells: promptCount * perPrompt * cellsPerModel.reduce((a, c) => a + c.cellsPerUnit, 0),
    exact: !needsSpans,
    rowSteps: promptCount * perPrompt * cellsPerModel.reduce((a, c) => a + c.rowSteps, 0),
    promptRows,
    checkFiles() {
      for (const f of files) if (sha256File(f.path) !== f.sha256) throw changedFile(f.where, f.path);
    },
  };
}

/**
 * The size of a sweep against what the database can number: BAD_SPEC at dataset.count when
 * prompts × models × seeds exceeds {@link MAX_WORK_UNITS}; a LARGE_PROMPT_COUNT warning from
 * {@link LARGE_PROMPT_COUNT} prompts on. `unitsPerPrompt` is models × seeds run.
 */
function sizeCheck(spec: SweepSpec, promptCount: number, unitsPerPrompt: number): FaithsweepWarning[] {
  const key = spec.where?.['dataset.count'] !== undefined || spec.dataset.kind === 'arith' ? 'dataset.count' : 'dataset.jsonl';
  const where = `${spec.where?.[key] ?? spec.where?.['dataset'] ?? 'dataset'}: ${key}`;
  const units = promptCount * unitsPerPrompt;
  if (units > MAX_WORK_UNITS) {
    throw new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${promptCount} prompts × ${unitsPerPrompt} (models × seeds) = ${units} work units, more than the ${MAX_WORK_UNITS} a sweep can have (work units are numbered in an int4 column)`, {
      hint: `use at most ${Math.floor(MAX_WORK_UNITS / unitsPerPrompt)} prompts with ${unitsPerPrompt} model(s) × seed(s), or split the sweep; nothing was written`,
    });
  }
  if (promptCount < LARGE_PROMPT_COUNT) return [];
  return [{ code: WarningCode.LARGE_PROMPT_COUNT, message: `${where}: ${promptCount} prompts (${units} work units): a very large sweep; lower the count if you did not mean it` }];
}

/** Bad raw prompts listed per model in a BAD_SPEC error; the rest are counted. */
const LISTED_BAD_PROMPTS = 20;

/**
 * The agent's checks of a raw prompt, run at plan on every prompt a raw-prompt model will be
 * given, with the agent's own tokenizer (node-agent/model/tokenizer.ts): a character that a
 * character-level vocabulary cannot represent (the agent would refuse it, BAD_REQUEST), and
 * prompt tokens + gen_length beyond the card's max_seq_len. Generated (arith) prompts are
 * checked through the longest one the card's format can give (4-digit operands). Throws one
 * BAD_SPEC listing every problem (the first {@link LISTED_BAD_PROMPTS} per model), each naming
 * the spec's `file:line:col` of the dataset and the model, and the prompt (`DATA_FILE:LINE`).
 */
async function checkRawPrompts(spec: SweepSpec, models: readonly PlannedModel[], sources: readonly Source[]): Promise<void> {
  const problems: string[] = [];
  const dsWhere = spec.dataset.kind === 'jsonl' ? (spec.dataset.where ?? 'dataset.jsonl') : at(spec, 'dataset');
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!;
    if (m.template !== 'raw') continue;
    let tok: TextTokenizer;
    try {
      tok = await loadAgentTokenizer(m.dir, m.card.tokenizer, m.card.tokenizer_config);
    } catch (err) {
      throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${spec.models[i]!.where ?? 'models'}: ${(err as Error).message}`, { hint: 'fix or re-export the model directory' });
    }
    const of = `model ${m.name} (${spec.models[i]!.where ?? `models[${i}]`})`;
    let count = 0;
    const check = (text: string, name: string): void => {
      let why: string | null = null;
      try {
        const n = tok.encode(text).length;
        if (n + m.sampler.genLength > m.card.max_seq_len) why = `${n} prompt tokens + gen_length ${m.sampler.genLength} exceed the max_seq_len ${m.card.max_seq_len} of ${of}`;
      } catch (err) {
        if (!isAgentError(err)) throw err;
        why = `${err.message.replace("the model's vocabulary", 'the vocabulary')} of ${of}`;
      }
      if (why && count++ < LISTED_BAD_PROMPTS) problems.push(`${dsWhere}: ${name}: ${why}`);
    };
    const format = (m.cardJson as { prompt_format?: string }).prompt_format ?? DEFAULT_PROMPT_FORMAT;
    if (spec.dataset.kind === 'arith') check(formatPrompt(format, 9999, 9999), `the longest generated prompt ${JSON.stringify(formatPrompt(format, 9999, 9999))}`);
    else for (const p of sources[i]!.stream()) check(p.text, sources[i]!.at(p));
    if (count > LISTED_BAD_PROMPTS) problems.push(`${dsWhere}: … and ${count - LISTED_BAD_PROMPTS} more prompt(s) for ${of}`);
  }
  if (problems.length) {
    throw new FaithsweepError(ErrorCode.BAD_SPEC, problems.join('\n'), { hint: "write the prompts in the model's vocabulary and prompt_format, or lower gen_length (models[].sampler); nothing was written" });
  }
}

/** Mismatching prompts named in a PROMPT_FORMAT_MISMATCH warning; the rest are counted. */
const FORMAT_EXAMPLES = 3;

/**
 * PROMPT_FORMAT_MISMATCH warnings for the raw-prompt models whose card has a `prompt_format`
 * (the arithmetic organisms): the prompts of a JSONL dataset that do not follow it, counted, the
 * first {@link FORMAT_EXAMPLES} named by `FILE:LINE`. Generated (arith) prompts always follow it.
 * Reads the dataset once more, in bounded memory.
 */
function promptFormatWarnings(spec: SweepSpec, models: readonly PlannedModel[], source: Source): FaithsweepWarning[] {
  const checks = models.flatMap((m, i) => {
    const format = (m.cardJson as { prompt_format?: unknown }).prompt_format;
    if (m.template !== 'raw' || typeof format !== 'string') return [];
    try {
      checkPromptFormat(format);
    } catch {
      return []; // a format the generator cannot fill is not one this check can read either
    }
    return [{ model: m, index: i, format, count: 0, total: 0, examples: [] as string[] }];
  });
  if (checks.length === 0) return [];
  for (const p of source.stream()) {
    for (const c of checks) {
      c.total++;
      const why = promptFormatMismatch(c.format, p.text);
      if (why && c.count++ < FORMAT_EXAMPLES) c.examples.push(`${source.at(p)}: ${why}`);
    }
  }
  const where = spec.dataset.kind === 'jsonl' ? (spec.dataset.where ?? 'dataset.jsonl') : 'dataset';
  return checks.filter((c) => c.count > 0).map((c) => ({
    code: WarningCode.PROMPT_FORMAT_MISMATCH,
    message: `${where}: ${c.count} of ${c.total} prompt(s) do not match the prompt_format ${JSON.stringify(c.format)} of model ${c.model.name} (${spec.models[c.index]!.where ?? `models[${c.index}]`}):\n  ${c.examples.join('\n  ')}${c.count > FORMAT_EXAMPLES ? `\n  … and ${c.count - FORMAT_EXAMPLES} more` : ''}`,
    hint: 'the model was trained on its prompt_format only: write the prompts in it (they still run as they are)',
  }));
}

/** A model's tokenizer (for its special token ids); MODEL_INVALID when its files do not load. */
async function tokenizerOf(m: PlannedModel): Promise<TextTokenizer> {
  try {
    return await loadTokenizer(join(m.dir, m.card.tokenizer), m.card.tokenizer_config === undefined ? undefined : join(m.dir, m.card.tokenizer_config));
  } catch (err) {
    throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${m.dir}: ${err instanceof Error ? err.message : String(err)}`, { hint: 'fix or re-export the model directory' });
  }
}

function changedFile(where: string, path: string): FaithsweepError {
  return new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${displayPath(path)} changed since the sweep was planned`, {
    hint: 'leave the dataset file as it is while a sweep is launched; launch again to register it',
  });
}
