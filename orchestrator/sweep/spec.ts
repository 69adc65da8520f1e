/**
 * Parses and validates a sweep spec (YAML) against the spec's one schema (spec-schema.ts).
 * Every problem is reported with the file, line and column, the key path, and what is
 * allowed; unknown keys are errors. All problems are collected and thrown together as one
 * BAD_SPEC error, ordered by position, before anything is written.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';
import { sweepSpecSchema } from './spec-schema.ts';
import type { SweepSpec } from './spec-types.ts';

export { DEFAULT_WINDOW } from './spec-schema.ts';

type Key = string | number;

/** `models[1].sampler.steps`; `(spec)` for the root. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out || '(spec)';
}

interface Problem {
  readonly offset: number;
  readonly text: string;
}

/** File positions of a parsed YAML document. */
class Positions {
  constructor(private readonly file: string, private readonly lines: LineCounter, private readonly doc: Document) {}
  /** `file:line:col` of a character offset. */
  at(offset: number): string {
    const pos = this.lines.linePos(offset);
    return `${this.file}:${pos.line}:${pos.col}`;
  }
  /** The node at `path`, or its nearest ancestor that exists (a missing key: its mapping). */
  node(path: readonly Key[]): YamlNode | null {
    let node = (this.doc.contents as YamlNode | null) ?? null;
    for (const k of path) {
      const next = isMap(node) || isSeq(node) ? (node.get(k, true) as YamlNode | undefined) : undefined;
      if (!next || typeof next !== 'object') break;
      node = next;
    }
    return node;
  }
  /** The key node `key` of the mapping at `path` (for unknown keys). */
  keyNode(path: readonly Key[], key: string): YamlNode | null {
    const map = this.node(path);
    if (!isMap(map)) return map;
    const item = map.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
    return (item?.key as YamlNode | undefined) ?? map;
  }
  offset(node: YamlNode | null): number {
    return node?.range ? node.range[0] : 0;
  }
  /** Every node's `file:line:col` by key path. */
  all(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (node: unknown, path: Key[]) => {
      if (!node || typeof node !== 'object') return;
      const n = node as YamlNode;
      if (n.range) out[keyPath(path)] = this.at(n.range[0]);
      if (isMap(n)) for (const it of n.items) if (isScalar(it.key)) walk(it.value, [...path, String(it.key.value)]);
      if (isSeq(n)) n.items.forEach((it, i) => walk(it, [...path, i]));
    };
    walk(this.doc.contents, []);
    return out;
  }
}

/** One line per problem of a zod issue (an unknown-key issue names each key). */
function describe(iss: z.core.$ZodIssue, pos: Positions): Problem[] {
  const path = iss.path.filter((k): k is Key => typeof k === 'string' || typeof k === 'number');
  // A union none of whose forms fit: when exactly one form has the input's shape (its problems
  // are inside, not "expected a string" at the top), its own problems are the useful ones
  // (e.g. models[0].sampler.temperature), not the list of allowed forms.
  if (iss.code === 'invalid_union' && 'errors' in iss && Array.isArray(iss.errors)) {
    // A form that fails only at the top (a wrong type, not one of an enum's values) does not fit the
    // input's shape; one with a problem inside it, an unknown key or its own rule (custom) does.
    const shaped = iss.errors.filter((branch) => branch.some((b) => b.path.length > 0 || b.code === 'unrecognized_keys' || b.code === 'custom'));
    if (shaped.length === 1) return shaped[0]!.flatMap((b) => describe({ ...b, path: [...iss.path, ...b.path] } as z.core.$ZodIssue, pos));
  }
  if (iss.code === 'unrecognized_keys') {
    return iss.keys.map((k) => {
      const node = pos.keyNode(path, k);
      return { offset: pos.offset(node), text: `${pos.at(pos.offset(node))}: ${path.length ? keyPath([...path, k]) : `(spec).${k}`}: ${iss.message}` };
    });
  }
  if (iss.code === 'custom' && iss.params?.['at'] === 'key' && path.length) {
    const node = pos.keyNode(path.slice(0, -1), String(path[path.length - 1]));
    return [{ offset: pos.offset(node), text: `${pos.at(pos.offset(node))}: ${keyPath(path)}: ${iss.message}` }];
  }
  const node = pos.node(path);
  return [{ offset: pos.offset(node), text: `${pos.at(pos.offset(node))}: ${keyPath(path)}: ${iss.message}` }];
}

/**
 * Parses `text` (the contents of `file`); throws BAD_SPEC listing every problem with
 * file:line:col, in the order they appear in the file.
 */
export function parseSpec(text: string, file: string): SweepSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const pos = new Positions(file, lines, doc);
  if (doc.errors.length) throw specError(doc.errors.map((e) => `${pos.at(e.pos[0])}: YAML: ${e.message.split('\n')[0]}`));
  const parsed = sweepSpecSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((iss) => describe(iss, pos));
    const seen = new Set<string>();
    const sorted = problems.sort((a, b) => a.offset - b.offset).map((p) => p.text).filter((t) => !seen.has(t) && seen.add(t));
    throw specError(sorted);
  }
  const s = parsed.data;
  const where = pos.all();
  const at = (path: string) => `${where[path] ?? `${file}:1:1`}: ${path}`;
  const ds = s.dataset;
  return Object.freeze({
    ...s,
    models: s.models.map((m, i) => ({ ...m, where: at(`models[${i}]`) })),
    dataset: ds.kind === 'arith' ? ds : { ...ds, ...(ds.fewshot ? { fewshot: { ...ds.fewshot, where: at('dataset.fewshot') } } : {}), where: at('dataset.jsonl') },
    ...(s.prompting ? { prompting: { ...s.prompting, where: at('prompting') } } : {}),
    where,
  });
}

function specError(lines: readonly string[]): FaithsweepError {
  return new FaithsweepError(ErrorCode.BAD_SPEC, lines.join('\n'), { hint: 'see docs/spec.md for the spec format (and docs/spec.schema.json for editors)' });
}
