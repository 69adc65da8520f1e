/**
 * Planning a sweep: resolves the spec's models (card + sha256), generates or reads its
 * prompts, and enumerates the work units (prompt × model × seed, numbered by ordinal) with
 * a cell estimate. Pure reads: nothing is written. Every problem is a coded error naming the
 * spec file, line and key.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, FaithsweepError } from '../errors.ts';
import { arithProblems } from '../datasets/arith.ts';
import { readJsonl } from '../datasets/jsonl.ts';
import type { JsonlRecord } from '../datasets/jsonl.ts';
import { parseCard } from '../../node-agent/model/card.ts';
import type { ModelCard } from '../../node-agent/model/card.ts';
import { isAgentError } from '../../node-agent/errors.ts';
import { resolveCells } from './grid.ts';
import type { TrajectoryShape } from './grid.ts';
import { chatRenderer, promptTemplate } from './render.ts';
import type { ChatRenderer, FewshotTurn, PromptTemplate } from './render.ts';
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
  /** Prompts per model index (models given the same text share the same rows). */
  readonly prompts: readonly (readonly PlannedPrompt[])[];
  readonly promptCount: number;
  /** Per model: its first prompt as it sees it. */
  readonly examples: readonly PromptExample[];
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

/** The sweep's prompts before rendering, for one model (arith prompts follow the card's prompt_format). */
interface Source {
  readonly name: string;
  readonly prompts: readonly SourcePrompt[];
  /** How to name a prompt in errors: `data.jsonl:12` or `arith prompt 3`. */
  readonly at: (p: SourcePrompt) => string;
}

const sha256Text = (s: string): string => createHash('sha256').update(s).digest('hex');

function rawPrompts(src: Source): PlannedPrompt[] {
  return src.prompts.map((p) => ({
    id: promptId(src.name, p.idx), dataset: src.name, idx: p.idx, text: p.text, gold: p.gold,
    renderedText: p.text, promptIds: [],
    meta: { source: src.name, ...(p.line !== undefined ? { line: p.line } : {}), template: 'raw' },
  }));
}

/**
 * Renders every prompt of `src` with `model`'s chat template: the system message, the
 * few-shot turns, the prompt as the user turn, and the generation prompt. Throws BAD_SPEC
 * naming the model (spec file:line) and the template when rendering fails, and listing every
 * prompt that does not fit the model's context with the sampler's gen_length.
 */
function chatPrompts(model: PlannedModel, ref: ModelRef, renderer: ChatRenderer, src: Source, system: string | undefined, shots: { source: string; turns: readonly FewshotTurn[] } | undefined): PlannedPrompt[] {
  const rendering = sha256Text(JSON.stringify({ renderer: renderer.key, system: system ?? null, fewshot: shots ? { source: shots.source, count: shots.turns.length } : null })).slice(0, 12);
  const dataset = `${src.name}|chat=${rendering}`;
  const meta = { source: src.name, template: 'chat' as const, ...(system !== undefined ? { system } : {}), ...(shots ? { fewshot: { source: shots.source, count: shots.turns.length } } : {}) };
  const where = `${ref.where ?? 'models'} (${model.name})`;
  const tooLong: string[] = [];
  const rows = src.prompts.map((p): PlannedPrompt => {
    const rendered = renderer.render({ system, fewshot: shots?.turns ?? [], prompt: p.text }, `${where}, prompt ${src.at(p)}`);
    const outside = rendered.ids.find((id) => id >= model.card.vocab_size || id === model.card.mask_token_id);
    if (outside !== undefined) {
      throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${where}, prompt ${src.at(p)}: its tokenizer gave id ${outside}, ${outside === model.card.mask_token_id ? "the card's mask_token_id" : `outside the card's vocab_size ${model.card.vocab_size}`}`, {
        hint: "the model's tokenizer files and its card disagree; re-export the model",
      });
    }
    if (rendered.ids.length + model.sampler.genLength > model.card.max_seq_len) tooLong.push(`${src.at(p)}: ${rendered.ids.length} tokens`);
    return {
      id: promptId(dataset, p.idx), dataset, idx: p.idx, text: p.text, gold: p.gold, renderedText: rendered.text, promptIds: rendered.ids,
      meta: { ...meta, ...(p.line !== undefined ? { line: p.line } : {}) },
    };
  });
  if (tooLong.length) {
    throw new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${tooLong.length} rendered prompt(s) + gen_length ${model.sampler.genLength} exceed the model's max_seq_len ${model.card.max_seq_len}:\n${tooLong.slice(0, 20).join('\n')}${tooLong.length > 20 ? `\n… and ${tooLong.length - 20} more` : ''}`, {
      hint: 'lower gen_length (models[].sampler), use fewer few-shot examples, or drop these prompts',
    });
  }
  return rows;
}

/**
 * Plans `spec` (read from `specPath`). Reads model directories, datasets and tokenizers;
 * writes nothing. Every problem is a coded error naming the spec file and line.
 */
export async function planSweep(spec: SweepSpec, opts: { specPath: string; modelsDir: string }): Promise<SweepPlan> {
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

  // The prompts before rendering (per model: arith prompts follow each card's prompt_format).
  let sources: Source[];
  let shots: { source: string; turns: FewshotTurn[] } | undefined;
  const ds = spec.dataset;
  if (ds.kind === 'arith') {
    sources = models.map((m) => {
      const format = (m.cardJson as { prompt_format?: string }).prompt_format ?? '{a}+{b}=';
      const name = `arith:seed=${ds.seed}:format=${format}`;
      return { name, prompts: arithProblems(ds.seed, ds.count, format).map((p, idx) => ({ idx, text: p.prompt, gold: p.gold })), at: (p) => `arith #${p.idx}` };
    });
  } else {
    const file = readJsonl(resolve(specDir, ds.path), {
      promptField: ds.fields?.prompt, answerField: ds.fields?.answer, answerRegex: ds.answerRegex, limit: ds.count, where: ds.where ?? 'dataset.jsonl',
      hint: `one {"${ds.fields?.prompt ?? 'prompt'}": ..., "${ds.fields?.answer ?? 'answer'}": ...} object per line`,
    });
    const shown = ds.path;
    const source: Source = { name: file.name, prompts: file.records.map((r: JsonlRecord, idx) => ({ idx, text: r.prompt, gold: r.gold, line: r.line })), at: (p) => `${shown}:${p.line}` };
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

  // Raw models get the prompt text as it is; system messages and few-shot turns need a chat template.
  const system = spec.prompting?.system;
  const needsChat = [
    ...(system !== undefined ? [`${spec.prompting?.where ?? 'prompting'}.system`] : []),
    ...(ds.kind === 'jsonl' && ds.fewshot ? [ds.fewshot.where ?? 'dataset.fewshot'] : []),
  ];
  const prompts: PlannedPrompt[][] = [];
  const renderers = new Map<string, ChatRenderer>(); // by model directory: a model listed twice loads once
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!;
    const ref = spec.models[i]!;
    if (m.template === 'raw') {
      if (needsChat.length) {
        throw new FaithsweepError(ErrorCode.BAD_SPEC, `${ref.where ?? 'models'}: model ${m.name} takes raw prompts (its card has no prompt.template: chat), so it cannot take ${needsChat.join(' or ')}`, {
          hint: 'drop prompting.system / dataset.fewshot, or use models whose card says prompt: {template: chat}',
        });
      }
      prompts.push(rawPrompts(sources[i]!));
    } else {
      const renderer = renderers.get(m.dir) ?? (await chatRenderer(m, ref.where ?? 'models'));
      renderers.set(m.dir, renderer);
      prompts.push(chatPrompts(m, ref, renderer, sources[i]!, system, shots));
    }
  }
  const promptCount = prompts[0]?.length ?? 0;
  const examples: PromptExample[] = models.map((m, i) => {
    const first = prompts[i]![0]!;
    return { model: m.name, template: m.template, text: first.renderedText, promptIds: first.promptIds };
  });

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
    examples,
    units,
    cellsPerModel,
    cells: perUnit.reduce((a, c) => a + c.cellsPerUnit, 0),
    exact: !needsSpans,
    rowSteps: perUnit.reduce((a, c) => a + c.rowSteps, 0),
  };
}
