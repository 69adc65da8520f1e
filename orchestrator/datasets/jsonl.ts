/**
 * JSONL datasets: one JSON object per line, with a field mapping (which field holds the
 * prompt, which the gold answer) and an optional regular expression that extracts the gold
 * answer from its field (GSM8K's `... #### 42`). Every bad line (not JSON, not an object, a
 * missing or non-text field, an answer the regex does not match) is collected, and all of
 * them are reported together as one BAD_SPEC error naming `file:line`.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative } from 'node:path';
import { ErrorCode, FaithsweepError } from '../../common/errors.ts';

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

/** What a scan of a JSONL file ends with, once every line is read and checked. */
export interface JsonlSummary {
  /** As {@link JsonlFile.name}. */
  readonly name: string;
  readonly path: string;
  /** sha256 (hex) of the whole file. */
  readonly sha256: string;
  /** Records read (at most `limit`). */
  readonly count: number;
}

/**
 * The bad lines of a file: the first {@link LISTED} in full, the others as runs of line
 * numbers per kind of problem, so that a file of millions of bad lines is reported in bounded
 * memory (unless its kinds of problem alternate line by line).
 */
class BadLines {
  count = 0;
  private readonly listed: string[] = [];
  private readonly runs = new Map<string, [number, number][]>();
  constructor(private readonly shown: string) {}
  add(line: number, kind: string, detail: string): void {
    this.count++;
    if (this.listed.length < LISTED) {
      this.listed.push(`${this.shown}:${line}: ${detail}`);
      return;
    }
    const runs = this.runs.get(kind) ?? [];
    this.runs.set(kind, runs);
    const last = runs.at(-1);
    if (last && last[1] === line - 1) last[1] = line;
    else runs.push([line, line]);
  }
  error(where: string, hint: string): FaithsweepError {
    const msg = [...this.listed];
    const rest = this.count - this.listed.length;
    if (rest) {
      const text = (runs: [number, number][]) => runs.map(([a, b]) => (b > a ? `${a}-${b}` : String(a))).join(', ');
      msg.push(`${this.shown}: ${rest} more bad line(s): ${[...this.runs].map(([k, runs]) => `${k} on line(s) ${text(runs)}`).join('; ')}`);
    }
    return new FaithsweepError(ErrorCode.BAD_SPEC, `${where}: ${this.shown} has ${this.count} bad line(s):\n${msg.join('\n')}`, { hint });
  }
}

/** Bytes read from a file at a time. */
const CHUNK_BYTES = 1 << 20;

/** The lines of a file (split at `\n`, as bytes: a line is decoded whole), with the sha256 of every byte read. */
function* fileLines(path: string, hash: Hash, split = true): Generator<Buffer, void, undefined> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let carry: Buffer[] = [];
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      if (!split) continue;
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (carry.length) {
          const line = Buffer.concat([...carry, piece]);
          carry = [];
          yield line;
        } else yield piece;
      }
      // `buf` is read into again: keep a copy of the unfinished line.
      if (start < n) carry.push(Buffer.from(chunk.subarray(start)));
    }
    if (split) yield Buffer.concat(carry);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads `path` (absolute) record by record, in bounded memory: yields each good record and,
 * when the whole file has been read, returns its {@link JsonlSummary}. Throws BAD_SPEC when
 * the file is missing or has no records, or (after the last line) listing every bad line as
 * `file:line: what is wrong` (the first {@link LISTED} in full, the others by line number and
 * kind of problem). With `limit`, lines after the `limit`-th record are not checked, but every
 * byte is hashed.
 */
export function* scanJsonl(path: string, opts: JsonlReadOptions): Generator<JsonlRecord, JsonlSummary, undefined> {
  const shown = displayPath(path);
  const hint = `${opts.hint ?? 'one JSON object per line'}; see docs/spec.md (datasets)`;
  if (!existsSync(path)) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${opts.where}: ${shown} does not exist`, { hint: 'give a JSONL file relative to the spec file' });
  if (statSync(path).isDirectory()) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${opts.where}: ${shown} is a directory, not a JSONL file`, { hint: 'give a JSONL file relative to the spec file' });
  const promptField = opts.promptField ?? 'prompt';
  const re = opts.answerRegex === undefined ? undefined : globalRegex(opts.answerRegex);
  const hash = createHash('sha256');
  const bad = new BadLines(shown);
  let count = 0;
  let line = 0;
  for (const bytes of fileLines(path, hash)) {
    line++;
    if (opts.limit !== undefined && count >= opts.limit) continue; // only hashed
    const raw = bytes.toString('utf8').replace(/\r$/, '');
    if (!raw.trim()) continue;
    const at = line;
    const fail = (kind: string, detail: string): void => bad.add(at, kind, detail);
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
    count++;
    // Records are not yielded once the file is known to be bad: nothing downstream sees them.
    if (!bad.count) yield { line: at, prompt: prompt as string, answer: answer!, gold };
  }
  if (bad.count) throw bad.error(opts.where, hint);
  if (count === 0) throw new FaithsweepError(ErrorCode.BAD_SPEC, `${opts.where}: ${shown} has no records`, { hint });
  const sha256 = hash.digest('hex');
  // A non-default field mapping or regex reads different prompts or golds from the same file.
  const mapping = { prompt: promptField, answer: opts.answerField ?? 'answer', regex: opts.answerRegex ?? null };
  const custom = mapping.prompt !== 'prompt' || mapping.answer !== 'answer' || mapping.regex !== null;
  const suffix = custom ? `:read=${createHash('sha256').update(JSON.stringify(mapping)).digest('hex').slice(0, 8)}` : '';
  return { name: `jsonl:${basename(path)}:${sha256.slice(0, 12)}${suffix}`, path, sha256, count };
}

/** sha256 (hex) of a file, read a chunk at a time. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  for (const _ of fileLines(path, hash, false)) { /* hashing only */ }
  return hash.digest('hex');
}

/** Runs `gen` to its end, giving each value to `each`; returns what it returns. */
export function drain<T, R>(gen: Generator<T, R, undefined>, each: (value: T) => void = () => undefined): R {
  for (;;) {
    const next = gen.next();
    if (next.done) return next.value;
    each(next.value);
  }
}

/** Reads all of `path` (absolute) into memory: {@link scanJsonl}'s records and summary. */
export function readJsonl(path: string, opts: JsonlReadOptions): JsonlFile {
  const records: JsonlRecord[] = [];
  const { name, sha256 } = drain(scanJsonl(path, opts), (r) => records.push(r));
  return { name, path, sha256, records };
}
