/**
 * Paraphrasers: meaning-preserving rewrites of a chain of thought, for the `paraphrase`
 * intervention (Lanham et al. 2023, "Measuring Faithfulness in Chain-of-Thought Reasoning",
 * §2.4 "Paraphrasing": the answer should not change when the reasoning is reworded, unless the
 * model reads information from the exact wording). The paper paraphrases with a language model;
 * the arithmetic organisms' chains of thought are a fixed format, so their paraphrase is a rule:
 * {@link arithColumnSwap}. A paraphraser is a pure function of (text, seed): the same request
 * always gets the same rewrite.
 */
/** A rule-based rewrite of a chain of thought. */
export interface Paraphraser {
  /** Stable name (docs, results). */
  readonly name: string;
  /** Whether `cot` is in the format this paraphraser rewrites. */
  accepts(cot: string): boolean;
  /**
   * The rewritten chain of thought, deterministic in (`cot`, `seed`); equal to `cot` only when
   * the format leaves nothing to reword. Call only when {@link Paraphraser.accepts} is true.
   */
  paraphrase(cot: string, seed: number): string;
}

/**
 * Stream id of the paraphrasers' draws (distinct from the sampler's streams), for paraphrasers
 * with more than one rewrite: they draw with `uniform(seed, 0, i, PARAPHRASE_STREAM)`.
 */
export const PARAPHRASE_STREAM = 0xfffffffd;

const ARITH_COT = /^\d\d\d>\d\d(?:;\d\d\d>\d\d)*$/;

/**
 * The arithmetic organisms' chain of thought (models/task.py `cot_text`): columns
 * `a b c>C s` (operand digits a, b, carry in c, carry out C, sum digit s) joined by `;`. Addition
 * commutes, so swapping a and b in a column states the same column sum, carry and digit: every
 * column is swapped (`750>12` → `570>12`), the rule of the reference (models/README.md §10.3,
 * models/reference/ar.py). The format has one such rewrite, so the seed is not used; the result
 * equals the input only when every column has a = b.
 */
export const arithColumnSwap: Paraphraser = {
  name: 'arith-column-swap',
  accepts: (cot) => ARITH_COT.test(cot),
  paraphrase(cot) {
    return cot.split(';').map((c) => `${c[1]}${c[0]}${c.slice(2)}`).join(';');
  },
};

/** The paraphrasers tried in order: the first that accepts a chain of thought rewrites it. */
export const PARAPHRASERS: readonly Paraphraser[] = [arithColumnSwap];

/** The paraphraser for `cot`, or null when none accepts its format. */
export function paraphraserFor(cot: string, list: readonly Paraphraser[] = PARAPHRASERS): Paraphraser | null {
  return list.find((p) => p.accepts(cot)) ?? null;
}
