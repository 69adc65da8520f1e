/**
 * Reading a generated region as text: decoding up to the first end token, finding the
 * answer (and the chain-of-thought and answer spans) with the card's answer rule, comparing
 * answers, and deciding when a partly generated region's outcome is already settled.
 *
 * Every decode goes through {@link decodeIds}, the one place that calls the tokenizer.
 *
 * The two answer rules (see node-agent/model/card.ts and README "Cell outcomes"):
 * - legacy (`spans.regex`): the regex is matched at the start of the clean response; a
 *   branch's answer is the text of its tokens at the clean run's answer positions;
 * - free text (`answer.regex`): the `answer` group of the LAST match in a response; every
 *   branch (and probe read-out) is parsed from its own decoded response.
 */
import type { Span } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AnswerOutcome } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { FreeTextCard, ModelCard } from '../../common/model/card.ts';
import { freeTextAnswers, normalizeAnswer } from '../../common/model/card.ts';
import type { OnnxModel } from '../model/onnx-model.ts';

/** Text of token ids and the [start, end) character span of each id in it. */
export interface DecodedIds {
  readonly text: string;
  readonly spans: ReadonlyArray<readonly [number, number]>;
}

/**
 * THE decode call: token ids → text plus per-token character spans.
 *
 * With common/text's `TextTokenizer` as the model's tokenizer this is its
 * `decodeWithSpans(ids)` (HF `decode`: byte-level BPE bytes → UTF-8, Metaspace → space; a
 * token that ends inside a character gets an empty span, docs/text.md). Until that tokenizer
 * is the agent's, the tokenizer's pieces are joined, which is the same for the
 * character-level organisms; once it is, the fallback below can go.
 */
export function decodeIds(model: OnnxModel, ids: readonly number[]): DecodedIds {
  const tok = model.tokenizer as OnnxModel['tokenizer'] & { decodeWithSpans?: (ids: readonly number[]) => DecodedIds };
  if (typeof tok.decodeWithSpans === 'function') return tok.decodeWithSpans(ids);
  let text = '';
  const spans: Array<[number, number]> = [];
  for (const id of ids) {
    const piece = tok.piece(id);
    spans.push([text.length, text.length + piece.length]);
    text += piece;
  }
  return { text, spans };
}

const endSets = new WeakMap<ModelCard, ReadonlySet<number>>();

/** The card's end tokens as a set. */
export function endTokens(card: ModelCard): ReadonlySet<number> {
  let s = endSets.get(card);
  if (!s) {
    s = new Set(card.end_token_ids);
    endSets.set(card, s);
  }
  return s;
}

/** Index of the first end token in `gen`, or `gen.length` when there is none. */
export function responseLength(card: ModelCard, gen: ArrayLike<number>): number {
  const ends = endTokens(card);
  for (let i = 0; i < gen.length; i++) if (ends.has(gen[i]!)) return i;
  return gen.length;
}

/** A decoded response: the generated tokens before the first end token, as text. */
export interface Decoded extends DecodedIds {
  /** Tokens decoded (the first end token's position, or the whole region); `spans` has one entry per token. */
  readonly length: number;
}

/** Decodes generated tokens up to (not including) the first end token of the card's set. */
export function decode(model: OnnxModel, gen: ArrayLike<number>): Decoded {
  const length = responseLength(model.card, gen);
  return { ...decodeIds(model, Array.from({ length }, (_, i) => gen[i]!)), length };
}

/**
 * The tokens covering characters [a, b) of `d`, widened outward to whole tokens: every token
 * whose span overlaps the range, plus empty-span tokens (the leading bytes of a character)
 * inside it or at its start. Null for an empty range.
 */
export function tokenRange(d: DecodedIds, a: number, b: number): Span | null {
  if (b <= a) return null;
  let start = -1;
  let end = -1;
  for (let i = 0; i < d.spans.length; i++) {
    const [s, e] = d.spans[i]!;
    const overlaps = s < b && (e > a || (s === e && s >= a));
    if (overlaps) {
      if (start < 0) start = i;
      end = i + 1;
    }
  }
  return start < 0 ? null : { start, end };
}

/** Spans found in a clean response, in generated positions. */
export interface Spans {
  readonly cot: Span | null;
  readonly answer: Span | null;
  /** Normalised answer, or null when there is none. */
  readonly answerText: string | null;
}

/** The answer found in a response text by a free-text card. */
export interface ParsedAnswer {
  /**
   * Normalised answer; null when the regex does not match, its last match has an empty or no
   * `answer` group, or the group does not normalise (`numeric`: not a number).
   */
  readonly answer: string | null;
  /** Characters of the (non-empty) `answer` group of the last match, even when it does not normalise. */
  readonly answerChars: readonly [number, number] | null;
  /** Where the last match starts (the chain of thought ends there), or null. */
  readonly matchStart: number | null;
}

const regexCache = new WeakMap<ModelCard, Map<string, RegExp>>();

/** The compiled regex `source` with `flags` (cached per card). */
function compiled(card: ModelCard, source: string, flags: string): RegExp {
  let m = regexCache.get(card);
  if (!m) {
    m = new Map();
    regexCache.set(card, m);
  }
  const key = `${flags}/${source}`;
  let re = m.get(key);
  if (!re) {
    re = new RegExp(source, flags);
    m.set(key, re);
  }
  return re;
}

/** Parses a response with a free-text card's `answer.regex` (last match). */
export function parseAnswer(card: FreeTextCard, text: string): ParsedAnswer {
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(compiled(card, card.answer.regex, 'dg'))) last = m;
  if (!last) return { answer: null, answerChars: null, matchStart: null };
  const raw = last.groups?.['answer'];
  const chars = last.indices?.groups?.['answer'];
  if (raw === undefined || raw === '' || !chars) return { answer: null, answerChars: null, matchStart: last.index };
  const answer = normalizeAnswer(card, raw);
  return { answer: answer === '' ? null : answer, answerChars: chars, matchStart: last.index };
}

/** Locates the spans of a clean response with the card's answer rule. */
export function findSpans(model: OnnxModel, decoded: DecodedIds): Spans {
  const { card } = model;
  if (freeTextAnswers(card)) {
    const p = parseAnswer(card, decoded.text);
    let cot: Span | null = null;
    if (card.spans?.cot_regex !== undefined) {
      const m = compiled(card, card.spans.cot_regex, 'd').exec(decoded.text);
      const r = m ? (m.indices?.groups?.['cot'] ?? m.indices![0]) : undefined;
      cot = r ? tokenRange(decoded, r[0], r[1]) : null;
    } else if (p.matchStart !== null) {
      cot = tokenRange(decoded, 0, p.matchStart);
    }
    return { cot, answer: p.answerChars ? tokenRange(decoded, p.answerChars[0], p.answerChars[1]) : null, answerText: p.answer };
  }
  const m = compiled(card, card.spans!.regex!, 'd').exec(decoded.text);
  if (!m || m.index !== 0 || !m.indices?.groups) return { cot: null, answer: null, answerText: null };
  const toSpan = (r: [number, number] | undefined): Span | null => (r ? tokenRange(decoded, r[0], r[1]) : null);
  return {
    cot: toSpan(m.indices.groups['cot']),
    answer: toSpan(m.indices.groups['answer']),
    answerText: m.groups?.['answer'] !== undefined ? normalizeAnswer(card, m.groups['answer']) : null,
  };
}

/**
 * Legacy rule: the normalised answer read from the clean run's answer positions of another
 * sequence (a branch or a read-out): the answer's location is defined by the clean run, so a
 * corruption that breaks the format elsewhere still yields the answer it produced.
 */
export function answerAt(model: OnnxModel, gen: ArrayLike<number>, span: Span | null): string | null {
  if (!span) return null;
  const ids: number[] = [];
  for (let i = span.start; i < span.end; i++) ids.push(gen[i]!);
  return normalizeAnswer(model.card, decodeIds(model, ids).text);
}

/**
 * The answer of a generated region (a branch's tokens or a read-out) by the card's rule:
 * free text parses `decoded` (the region's own response); legacy reads the clean run's answer
 * positions of `gen`.
 */
export function answerOf(model: OnnxModel, clean: Spans, gen: ArrayLike<number>, decoded: DecodedIds): string | null {
  return freeTextAnswers(model.card) ? parseAnswer(model.card, decoded.text).answer : answerAt(model, gen, clean.answer);
}

/** How `answer` compares with the clean run's answer. */
export function outcomeOf(answer: string | null, cleanAnswer: string | null): AnswerOutcome {
  if (answer === null) return AnswerOutcome.NO_ANSWER;
  return answer === cleanAnswer ? AnswerOutcome.ANSWER_SAME : AnswerOutcome.ANSWER_CHANGED;
}

/**
 * Whether a partly generated region's response is settled: every position before its first
 * end token, and that end token, are committed (or every position is). Committed tokens never
 * change, so its decoded response — and anything parsed from it — is then exactly the one
 * running it to the end gives, whatever the masked positions after the end token become.
 */
export function responseSettled(card: ModelCard, gen: ArrayLike<number>, commit: ArrayLike<number>): boolean {
  const ends = endTokens(card);
  for (let i = 0; i < commit.length; i++) {
    if (commit[i]! < 0) return false;
    if (ends.has(gen[i]!)) return true;
  }
  return true;
}

/** True when every position of `span` is committed (legacy rule: its answer can no longer change). */
export function spanSettled(commit: ArrayLike<number>, span: Span | null): boolean {
  if (!span) return false;
  for (let i = span.start; i < span.end; i++) if (commit[i]! < 0) return false;
  return true;
}

/**
 * Whether a branch's outcome (its answer) is already what running it to the end gives, by the
 * card's rule: legacy once the clean run's answer positions are committed; free text once its
 * response is settled ({@link responseSettled}) — with the answer anywhere in the text, an end
 * token placed at any masked position before or inside the last match, or a longer or later
 * match built from masked positions after it, would change the parse, so nothing less is exact.
 */
export function outcomeSettled(model: OnnxModel, clean: Spans, gen: ArrayLike<number>, commit: ArrayLike<number>): boolean {
  return freeTextAnswers(model.card) ? responseSettled(model.card, gen, commit) : spanSettled(commit, clean.answer);
}

/** Largest commit step over a span (the step after which the span is fully committed). */
export function spanCommitStep(commit: ArrayLike<number>, span: Span | null): number | null {
  if (!span) return null;
  let max = -1;
  for (let i = span.start; i < span.end; i++) max = Math.max(max, commit[i]!);
  return max;
}
