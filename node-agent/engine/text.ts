/**
 * Reading a generated region as text: decoding up to the first end token, locating the
 * chain-of-thought and answer spans with the card's regular expression, and reading an
 * answer out of a span.
 */
import type { Span } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { OnnxModel } from '../model/onnx-model.ts';
import { normalizeAnswer } from '../model/card.ts';

/** Decoded response and the token index of every character. */
export interface Decoded {
  readonly text: string;
  /** charToken[c] = generated position that produced character c. */
  readonly charToken: readonly number[];
}

/** Decodes generated tokens up to (not including) the first end token. */
export function decode(model: OnnxModel, gen: ArrayLike<number>): Decoded {
  let text = '';
  const charToken: number[] = [];
  for (let i = 0; i < gen.length; i++) {
    const id = gen[i]!;
    if (id === model.card.end_token_id) break;
    const piece = model.tokenizer.piece(id);
    text += piece;
    for (let k = 0; k < piece.length; k++) charToken.push(i);
  }
  return { text, charToken };
}

/** Spans found in a clean response, in generated positions. */
export interface Spans {
  readonly cot: Span | null;
  readonly answer: Span | null;
  /** Normalised answer, or null when the regex does not match. */
  readonly answerText: string | null;
}

const regexCache = new WeakMap<OnnxModel, RegExp>();

/** Locates the spans of `decoded` with the card's regex (matched at the start of the text). */
export function findSpans(model: OnnxModel, decoded: Decoded): Spans {
  let re = regexCache.get(model);
  if (!re) {
    re = new RegExp(model.card.spans.regex, 'd');
    regexCache.set(model, re);
  }
  const m = re.exec(decoded.text);
  if (!m || m.index !== 0 || !m.indices?.groups) return { cot: null, answer: null, answerText: null };
  const toSpan = (r: [number, number] | undefined): Span | null =>
    r && r[1] > r[0] ? { start: decoded.charToken[r[0]]!, end: decoded.charToken[r[1] - 1]! + 1 } : null;
  return {
    cot: toSpan(m.indices.groups['cot']),
    answer: toSpan(m.indices.groups['answer']),
    answerText: m.groups?.['answer'] !== undefined ? normalizeAnswer(model.card, m.groups['answer']) : null,
  };
}

/**
 * The normalised answer read from the clean run's answer positions of another sequence
 * (a branch or a read-out): the answer's location is defined by the clean run, so a
 * corruption that breaks the format elsewhere still yields the answer it produced.
 */
export function answerAt(model: OnnxModel, gen: ArrayLike<number>, span: Span | null): string | null {
  if (!span) return null;
  let s = '';
  for (let i = span.start; i < span.end; i++) s += model.tokenizer.piece(gen[i]!);
  return normalizeAnswer(model.card, s);
}

/** Largest commit step over a span (the step after which the span is fully committed). */
export function spanCommitStep(commit: ArrayLike<number>, span: Span | null): number | null {
  if (!span) return null;
  let max = -1;
  for (let i = span.start; i < span.end; i++) max = Math.max(max, commit[i]!);
  return max;
}
