/**
 * Parses and validates a sweep spec (YAML). Every problem is reported with the file, line
 * and column, the key path, and what is allowed; unknown keys are errors. All problems are
 * collected and thrown together as one BAD_SPEC error, before anything is written.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { ErrorCode, FaithsweepError } from '../errors.ts';
import type { DatasetSpec, FewshotSpec, KindSpec, ModelRef, PositionSelector, PromptingSpec, SamplerOverrides, StepSelector, SweepSpec } from './spec-types.ts';

/** Running work units at once when the spec does not say: well below Temporal's 2,000 pending activities. */
export const DEFAULT_WINDOW = 32;
/** Sweep names become workflow ids and file names. */
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

class Problems {
  readonly list: string[] = [];
  constructor(private readonly file: string, private readonly lines: LineCounter) {}
  add(node: YamlNode | null | undefined, path: string, message: string): void {
    this.list.push(`${this.at(node)}: ${path}: ${message}`);
  }
  /** `file:line:col` of a node (line 1 when it has no position). */
  at(node: YamlNode | null | undefined): string {
    const pos = node?.range ? this.lines.linePos(node.range[0]) : { line: 1, col: 1 };
    return `${this.file}:${pos.line}:${pos.col}`;
  }
}

type Obj = Map<string, { key: YamlNode; value: YamlNode | null }>;

function entries(node: YamlNode | null, path: string, allowed: readonly string[], p: Problems): Obj | null {
  if (!isMap(node)) {
    p.add(node, path, 'must be a mapping');
    return null;
  }
  const out: Obj = new Map();
  for (const item of node.items) {
    const key = isScalar(item.key) ? String(item.key.value) : '?';
    if (!allowed.includes(key)) p.add(item.key as YamlNode, `${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
    else out.set(key, { key: item.key as YamlNode, value: (item.value as YamlNode | null) ?? null });
  }
  return out;
}

function scalar(node: YamlNode | null): unknown {
  return isScalar(node) ? node.value : undefined;
}

function int(node: YamlNode | null, path: string, p: Problems, min = 0): number | undefined {
  const v = scalar(node);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    p.add(node, path, `must be an integer >= ${min} (got ${JSON.stringify(v ?? null)})`);
    return undefined;
  }
  return v;
}

function list(node: YamlNode | null, path: string, p: Problems): YamlNode[] {
  if (!isSeq(node) || node.items.length === 0) {
    p.add(node, path, 'must be a non-empty list');
    return [];
  }
  return node.items as YamlNode[];
}

const SPANS = ['cot', 'answer', 'all'] as const;
const RANGE_RE = /^(\d+)-(\d+)$/;

function position(node: YamlNode, path: string, p: Problems): PositionSelector | undefined {
  const v = scalar(node);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { kind: 'index', value: v };
  if (typeof v === 'string') {
    if ((SPANS as readonly string[]).includes(v)) return { kind: 'span', span: v as (typeof SPANS)[number] };
    const m = RANGE_RE.exec(v);
    if (m && Number(m[1]) <= Number(m[2])) return { kind: 'range', from: Number(m[1]), to: Number(m[2]) };
  }
  if (isMap(node)) {
    const o = entries(node, path, ['every', 'of'], p);
    const k = o?.get('every') ? int(o.get('every')!.value, `${path}.every`, p, 1) : undefined;
    const of = o?.get('of') ? scalar(o.get('of')!.value) : 'all';
    if (!(SPANS as readonly string[]).includes(String(of))) p.add(o?.get('of')?.value, `${path}.of`, `must be one of ${SPANS.join(', ')}`);
    else if (k !== undefined) return { kind: 'every', k, of: of as (typeof SPANS)[number] };
    return undefined;
  }
  p.add(node, path, 'allowed: a position (integer), a range "a-b", cot, answer, all, or {every: k, of: cot|answer|all}');
  return undefined;
}

function step(node: YamlNode, path: string, p: Problems): StepSelector | undefined {
  const v = scalar(node);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { kind: 'index', value: v };
  if (typeof v === 'number' && v > 0 && v < 1) return { kind: 'fraction', value: v };
  if (v === 'all') return { kind: 'all' };
  if (typeof v === 'string') {
    const m = RANGE_RE.exec(v);
    if (m && Number(m[1]) <= Number(m[2])) return { kind: 'range', from: Number(m[1]), to: Number(m[2]) };
  }
  if (isMap(node)) {
    const o = entries(node, path, ['every'], p);
    const k = o?.get('every') ? int(o.get('every')!.value, `${path}.every`, p, 1) : undefined;
    return k === undefined ? undefined : { kind: 'every', k };
  }
  p.add(node, path, 'allowed: a step (integer), a fraction of T in (0, 1), a range "a-b", all, or {every: k}');
  return undefined;
}

function kind(node: YamlNode, path: string, p: Problems): KindSpec | undefined {
  const v = scalar(node);
  if (v === 'remask' || v === 'probe') return { kind: v };
  if (v === 'replace') return { kind: 'replace', variant: 'random' };
  if (isMap(node)) {
    const o = entries(node, path, ['replace'], p);
    const r = o?.get('replace')?.value ?? null;
    const rv = scalar(r);
    if (rv === 'random' || rv === 'second' || rv === 'end') return { kind: 'replace', variant: rv };
    if (isMap(r)) {
      const t = entries(r, `${path}.replace`, ['token'], p);
      const token = t?.get('token') ? int(t.get('token')!.value, `${path}.replace.token`, p) : undefined;
      return token === undefined ? undefined : { kind: 'replace', variant: 'given', token };
    }
    p.add(r, `${path}.replace`, 'allowed: random, second, end, or {token: N}');
    return undefined;
  }
  p.add(node, path, 'allowed: replace, {replace: random|second|end|{token: N}}, remask, probe');
  return undefined;
}

const REMASKINGS = ['low_confidence', 'random', 'entropy', 'topk_margin'] as const;

function sampler(node: YamlNode | null, path: string, p: Problems): SamplerOverrides {
  const o = entries(node, path, ['gen_length', 'steps', 'block_length', 'remasking', 'temperature'], p);
  if (!o) return {};
  const out: { -readonly [K in keyof SamplerOverrides]: SamplerOverrides[K] } = {};
  if (o.has('gen_length')) out.genLength = int(o.get('gen_length')!.value, `${path}.gen_length`, p, 1);
  if (o.has('steps')) out.steps = int(o.get('steps')!.value, `${path}.steps`, p, 1);
  if (o.has('block_length')) out.blockLength = int(o.get('block_length')!.value, `${path}.block_length`, p, 1);
  if (o.has('remasking')) {
    const r = scalar(o.get('remasking')!.value);
    if ((REMASKINGS as readonly unknown[]).includes(r)) out.remasking = r as (typeof REMASKINGS)[number];
    else p.add(o.get('remasking')!.value, `${path}.remasking`, `allowed: ${REMASKINGS.join(', ')}`);
  }
  if (o.has('temperature')) {
    const t = scalar(o.get('temperature')!.value);
    if (typeof t === 'number' && t >= 0) out.temperature = t;
    else p.add(o.get('temperature')!.value, `${path}.temperature`, 'must be a number >= 0');
  }
  return out;
}

function model(node: YamlNode, path: string, p: Problems): ModelRef | undefined {
  const v = scalar(node);
  if (typeof v === 'string' && v) return { ref: v, sampler: {}, where: `${p.at(node)}: ${path}` };
  const o = entries(node, path, ['name', 'path', 'sampler'], p);
  if (!o) return undefined;
  const ref = scalar(o.get('name')?.value ?? o.get('path')?.value ?? null);
  if (typeof ref !== 'string' || !ref || (o.has('name') && o.has('path'))) {
    p.add(node, path, 'give exactly one of name (a model under the models folder) or path (a model directory)');
    return undefined;
  }
  return { ref, sampler: o.has('sampler') ? sampler(o.get('sampler')!.value, `${path}.sampler`, p) : {}, where: `${p.at(node)}: ${path}` };
}

function str(node: YamlNode | null, path: string, p: Problems, what = 'a non-empty string'): string | undefined {
  const v = scalar(node);
  if (typeof v === 'string' && v) return v;
  p.add(node, path, `must be ${what} (got ${JSON.stringify(v ?? null)})`);
  return undefined;
}

/**
 * Checks an `answer_regex`: a valid JavaScript regular expression with a named group
 * `answer`. The empty alternative makes it match '' so that `groups` lists every named group.
 */
function answerRegex(node: YamlNode | null, path: string, p: Problems): string | undefined {
  const src = str(node, path, p, 'a regular expression with a named group answer');
  if (src === undefined) return undefined;
  let groups: Record<string, string> | undefined;
  try {
    groups = new RegExp(`(?:${src})|`).exec('')?.groups;
  } catch (err) {
    p.add(node, path, `is not a valid JavaScript regular expression: ${(err as Error).message}`);
    return undefined;
  }
  if (!groups || !('answer' in groups)) {
    p.add(node, path, 'must have a named group answer, e.g. \'#### (?<answer>.+)\'');
    return undefined;
  }
  return src;
}

const DATASET_KEYS = ['generator', 'seed', 'count', 'jsonl', 'prompt', 'answer', 'answer_regex', 'fewshot'] as const;
const JSONL_ONLY = ['prompt', 'answer', 'answer_regex', 'fewshot'] as const;

function fields(o: Obj, path: string, p: Problems): { prompt?: string; answer?: string } {
  const out: { prompt?: string; answer?: string } = {};
  for (const k of ['prompt', 'answer'] as const) {
    if (!o.has(k)) continue;
    const v = str(o.get(k)!.value, `${path}.${k}`, p, 'a field name');
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function fewshot(node: YamlNode | null, p: Problems): FewshotSpec | undefined {
  const o = entries(node, 'dataset.fewshot', ['jsonl', 'count', 'prompt', 'answer'], p);
  if (!o) return undefined;
  if (!o.has('jsonl')) p.add(node, 'dataset.fewshot.jsonl', 'is required: a JSONL file of examples, relative to the spec file');
  if (!o.has('count')) p.add(node, 'dataset.fewshot.count', 'is required: how many examples (the first N records of the file)');
  const path = o.has('jsonl') ? str(o.get('jsonl')!.value, 'dataset.fewshot.jsonl', p, 'a file path') : undefined;
  const count = o.has('count') ? int(o.get('count')!.value, 'dataset.fewshot.count', p, 1) : undefined;
  const f = fields(o, 'dataset.fewshot', p);
  if (path === undefined || count === undefined) return undefined;
  return { path, count, ...f, where: `${p.at(node)}: dataset.fewshot` };
}

function dataset(node: YamlNode | null, p: Problems): DatasetSpec | undefined {
  const o = entries(node, 'dataset', DATASET_KEYS, p);
  if (!o) return undefined;
  if (o.has('jsonl')) {
    if (o.has('generator') || o.has('seed')) p.add(node, 'dataset', 'give either jsonl or generator, not both');
    const path = str(o.get('jsonl')!.value, 'dataset.jsonl', p, 'a file path');
    const f = fields(o, 'dataset', p);
    const regex = o.has('answer_regex') ? answerRegex(o.get('answer_regex')!.value, 'dataset.answer_regex', p) : undefined;
    const count = o.has('count') ? int(o.get('count')!.value, 'dataset.count', p, 1) : undefined;
    const shots = o.has('fewshot') ? fewshot(o.get('fewshot')!.value, p) : undefined;
    if (path === undefined) return undefined;
    return {
      kind: 'jsonl',
      path,
      ...(Object.keys(f).length ? { fields: f } : {}),
      ...(regex !== undefined ? { answerRegex: regex } : {}),
      ...(count !== undefined ? { count } : {}),
      ...(shots ? { fewshot: shots } : {}),
      where: `${p.at(o.get('jsonl')!.value)}: dataset.jsonl`,
    };
  }
  for (const k of JSONL_ONLY) if (o.has(k)) p.add(o.get(k)!.key, `dataset.${k}`, 'only applies to a jsonl dataset (give jsonl: PATH)');
  if (scalar(o.get('generator')?.value ?? null) !== 'arith') {
    p.add(o.get('generator')?.value ?? node, 'dataset.generator', "allowed: arith (or give jsonl: PATH)");
    return undefined;
  }
  const seed = o.has('seed') ? int(o.get('seed')!.value, 'dataset.seed', p) : 0;
  const count = o.has('count') ? int(o.get('count')!.value, 'dataset.count', p, 1) : undefined;
  if (!o.has('count')) p.add(node, 'dataset.count', 'is required for a generator');
  return seed === undefined || count === undefined ? undefined : { kind: 'arith', seed, count };
}

function prompting(node: YamlNode | null, p: Problems): PromptingSpec | undefined {
  const o = entries(node, 'prompting', ['system'], p);
  if (!o) return undefined;
  const system = o.has('system') ? str(o.get('system')!.value, 'prompting.system', p) : undefined;
  return { ...(system !== undefined ? { system } : {}), where: `${p.at(node)}: prompting` };
}

/** Parses `text` (the contents of `file`); throws BAD_SPEC listing every problem with file:line:col. */
export function parseSpec(text: string, file: string): SweepSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const p = new Problems(file, lines);
  for (const e of doc.errors) p.list.push(`${file}:${lines.linePos(e.pos[0]).line}:${lines.linePos(e.pos[0]).col}: YAML: ${e.message.split('\n')[0]}`);
  if (p.list.length) throw specError(p);
  const root = entries(doc.contents as YamlNode | null, '(spec)', ['name', 'models', 'dataset', 'prompting', 'seeds', 'grid', 'options'], p);
  const get = (k: string) => root?.get(k)?.value ?? null;
  const name = scalar(get('name'));
  if (typeof name !== 'string' || !NAME_RE.test(name)) p.add(get('name') ?? (doc.contents as YamlNode), 'name', 'required: lower-case letters, digits, . _ - (at most 63)');
  const models = list(get('models'), 'models', p).map((n, i) => model(n, `models[${i}]`, p));
  const ds = dataset(get('dataset'), p);
  const prompt = root?.has('prompting') ? prompting(get('prompting'), p) : undefined;
  const seedNodes = root?.has('seeds') ? list(get('seeds'), 'seeds', p) : [];
  const seeds = root?.has('seeds') ? seedNodes.map((n, i) => int(n, `seeds[${i}]`, p)) : [0];
  // A work unit is (prompt, model, seed): a repeated seed would be the same unit twice.
  seeds.forEach((s, i) => {
    const first = seeds.indexOf(s);
    if (s !== undefined && first < i) p.add(seedNodes[i], `seeds[${i}]`, `repeats seeds[${first}] (${s}): list each seed once`);
  });
  const grid = entries(get('grid'), 'grid', ['positions', 'steps', 'kinds'], p);
  const positions = list(grid?.get('positions')?.value ?? null, 'grid.positions', p).map((n, i) => position(n, `grid.positions[${i}]`, p));
  const steps = list(grid?.get('steps')?.value ?? null, 'grid.steps', p).map((n, i) => step(n, `grid.steps[${i}]`, p));
  const kinds = list(grid?.get('kinds')?.value ?? null, 'grid.kinds', p).map((n, i) => kind(n, `grid.kinds[${i}]`, p));
  const opts = root?.has('options') ? entries(get('options'), 'options', ['window', 'film_strip_prompts', 'copied_seeds'], p) : null;
  const window = opts?.has('window') ? int(opts.get('window')!.value, 'options.window', p, 1) : DEFAULT_WINDOW;
  const filmStripPrompts = opts?.has('film_strip_prompts') ? int(opts.get('film_strip_prompts')!.value, 'options.film_strip_prompts', p) : 0;
  // Seeds of a deterministic sweep are copies of each other (plan.ts seedCopies): collapse or run them.
  const copiedNode = opts?.get('copied_seeds')?.value ?? null;
  const copiedSeeds = copiedNode === null ? undefined : scalar(copiedNode);
  if (copiedSeeds !== undefined && copiedSeeds !== 'collapse' && copiedSeeds !== 'run') p.add(copiedNode, 'options.copied_seeds', 'must be collapse (the default: run the first seed only) or run (run every seed)');
  if (p.list.length) throw specError(p);
  return Object.freeze({
    name: name as string,
    models: models as ModelRef[],
    dataset: ds!,
    ...(prompt ? { prompting: prompt } : {}),
    seeds: seeds as number[],
    grid: { positions: positions as PositionSelector[], steps: steps as StepSelector[], kinds: kinds as KindSpec[] },
    options: { window: window!, filmStripPrompts: filmStripPrompts!, ...(copiedSeeds !== undefined ? { copiedSeeds: copiedSeeds as 'collapse' | 'run' } : {}) },
  });
}

function specError(p: Problems): FaithsweepError {
  const [first, ...rest] = p.list;
  return new FaithsweepError(ErrorCode.BAD_SPEC, [first, ...rest].join('\n'), { hint: 'see docs/spec.md for the spec format' });
}
