/**
 * JSONL datasets: one JSON object per line, with a field mapping (which field holds the
 * prompt, which the gold answer) and an optional regular expression that extracts the gold
 * answer from its field (GSM8K's `... #### 42`). Every bad line (not JSON, not an object, a
 * missing or non-text field, an answer the regex does not match) is collected, and all of
 * them are reported together as one BAD_SPEC error naming `file:line`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, relative } from 'node:path';
import { ErrorCode, FaithsweepError } from '../errors.ts';

/** How to read one JSONL file. */
export interface JsonlReadOptions {
  /** Field of the prompt text. @default 'prompt' */
  readonly promptField?: string;
  /** Field of the answer. @default 'answer', or 'gold' for a record without 'answer' */
  readonly answerField?: string;
  /**
   * JavaScript regular expression (source, no flags) with a named group `answer`; the gold
   * answer is that group of the LAST match in the answer field, trimmed (the rule a model
   * card's `answer.regex` follows). Absent: the whole field, trimmed.
   */
  readonly answerRegex?: string;
  /** Read only the first `limit` records (lines after them are not checked). */
  readonly limit?: number;
  /** What a problem with the file as a whole names: `spec.yaml:4:10: dataset.jsonl`. */
  readonly where: string;
  /** What one record is, for the hint. @default 'one JSON object per line' */
  readonly hint?: string;
}

/** One record of a JSONL file. */
export interface JsonlRecord {
  /** 1-based line of the record in its file. */
  readonly line: number;
  readonly prompt: string;
  /** The answer field as text (numbers as `String(n)`), untrimmed: what a few-shot assistant turn says. */
  readonly answer: string;
  /** The gold answer: the regex's `answer` group, or the answer field, trimmed. */
  readonly gold: string;
}

/** A JSONL file, read. */
export interface JsonlFile {
  /**
   * `jsonl:<file name>:<first 12 hex digits of the file's sha256>`, plus `:read=<8 hex>` (a
   * hash of the mapping) when the fields or the regex are not the defaults: a dataset name that
   * changes with the file and with how it is read.
   */
  readonly name: string;
  readonly path: string;
  /** sha256 (hex) of the whole file. */
  readonly sha256: string;
  readonly records: readonly JsonlRecord[];
}

/** Bad lines listed one by one in an error; the rest are summarised by line number. */
const LISTED = 20;

/** `path` as the user would type it: relative to the working directory when under it. */
export function displayPath(path: string): string {
  const r = relative(process.cwd(), path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

/** `3, 5-9, 12`: sorted line numbers with runs collapsed. */
function lineRuns(lines: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j]! + 1) j++;
    out.push(j > i ? `${lines[i]}-${lines[j]}` : String(lines[i]));
    i = j;
  }
  return out.join(', ');
}

/** Compiles an answer regex for searching every match (the spec parser has checked it). */
function globalRegex(source: string): RegExp {
  return new RegExp(source, 'g');
}

/** The `answer` group of the last match of `re` in `text`, or undefined. */
export function lastAnswerMatch(re: RegExp, text: string): string | undefined {
  let last: string | undefined;
  for (const m of text.matchAll(re)) {
    if (m.groups?.['answer'] !== undefined) last = m.groups['answer'];
    if (m[0] === '') break; // an empty match would not advance matchAll's position by itself
  }
  return last;
}

const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/**
 * Reads `path` (absolute). Throws BAD_SPEC when the file is missing or empty, or listing every
 * bad line as `file:line: what is wrong` (the first {@link LISTED} in full, the others by
 * line number and kind of problem).
 */
export function readJsonl(path: string, opts: JsonlReadOptions): JsonlFile {
  const shown = displayPath(path);
  const hint = `${opts.hint ?? 'one JSON object per line'}; see docs/spec.md (datasets)`;
  if (!existsSync(path)) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${opts.where}: ${shown} does not exist`, { hint: 'give a JSONL file relative to the spec file' });
  const bytes = readFileSync(path);
  const text = bytes.toString('utf8');
  const promptField = opts.promptField ?? 'prompt';
  const re = opts.answerRegex === undefined ? undefined : globalRegex(opts.answerRegex);
  const records: JsonlRecord[] = [];
  const bad: { line: number; kind: string; detail: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (opts.limit !== undefined && records.length >= opts.limit) break;
    const raw = lines[i]!.replace(/\r$/, '');
    if (!raw.trim()) continue;
    const line = i + 1;
    const fail = (kind: string, detail: string): void => void bad.push({ line, kind, detail });
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      fail('not JSON', `not JSON: ${(err as Error).message}`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      fail('not an object', `not a JSON object (got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)})`);
      continue;
    }
    const o = v as Record<string, unknown>;
    const answerField = opts.answerField ?? (o['answer'] === undefined && o['gold'] !== undefined ? 'gold' : 'answer');
    const prompt = o[promptField];
    const answer = textOf(o[answerField]);
    const problems: string[] = [];
    if (typeof prompt !== 'string' || !prompt.trim()) problems.push(`field "${promptField}" ${prompt === undefined ? 'is missing' : 'must be a non-empty string'}`);
    if (answer === undefined) problems.push(`field "${answerField}" ${o[answerField] === undefined ? 'is missing' : 'must be a string or a number'}`);
    if (problems.length) {
      fail(problems.join('; '), `${problems.join('; ')} (fields: ${Object.keys(o).map((k) => JSON.stringify(k)).join(', ') || 'none'})`);
      continue;
    }
    let gold = answer!.trim();
    if (re) {
      const m = lastAnswerMatch(re, answer!);
      if (m === undefined || !m.trim()) {
        const excerpt = answer!.length > 60 ? `…${JSON.stringify(answer!.slice(-60))}` : JSON.stringify(answer);
        fail('answer_regex does not match', `answer_regex /${opts.answerRegex}/ ${m === undefined ? 'does not match' : 'matches an empty answer in'} field "${answerField}": ${excerpt}`);
        continue;
      }
      gold = m.trim();
    }
    records.push({ line, prompt: prompt as string, answer: answer!, gold });
  }
  if (bad.length) {
    const msg = bad.slice(0, LISTED).map((b) => `${shown}:${b.line}: ${b.detail}`);
    const rest = bad.slice(LISTED);
    if (rest.length) {
      const kinds = new Map<string, number[]>();
      for (const b of rest) kinds.set(b.kind, [...(kinds.get(b.kind) ?? []), b.line]);
      msg.push(`${shown}: ${rest.length} more bad line(s): ${[...kinds].map(([k, ls]) => `${k} on line(s) ${lineRuns(ls)}`).join('; ')}`);
    }
    throw new FaithsweepError(ErrorCode.BAD_SPEC, `${opts.where}: ${shown} has ${bad.length} bad line(s):\n${msg.join('\n')}`, { hint });
  }
  if (records.length === 0) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${opts.where}: ${shown} has no records`, { hint });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // A non-default field mapping or regex reads different prompts or golds from the same file.
  const mapping = { prompt: promptField, answer: opts.answerField ?? 'answer', regex: opts.answerRegex ?? null };
  const custom = mapping.prompt !== 'prompt' || mapping.answer !== 'answer' || mapping.regex !== null;
  const suffix = custom ? `:read=${createHash('sha256').update(JSON.stringify(mapping)).digest('hex').slice(0, 8)}` : '';
  return { name: `jsonl:${basename(path)}:${sha256.slice(0, 12)}${suffix}`, path, sha256, records };
}
