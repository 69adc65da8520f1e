/**
 * Rule-based paraphrasers for paraphrase-remask sampling (docs/paraphrase.md): rewrites of the
 * organisms' formats that keep the meaning, applied to a partly decoded response in which masked
 * positions are written as a marker (the card's mask token string). Only complete clauses (no
 * marker inside) are rewritten; markers are kept where they are. Each is a pure function of
 * (text, seed): the same event always gets the same rewrite.
 *
 * The idea of rewording the reasoning to test whether the model reads its exact form follows
 * Lanham et al. 2023, "Measuring Faithfulness in Chain-of-Thought Reasoning" §2.4 (there with an
 * LLM paraphraser; {@link ../external.ts} plugs one in).
 */
import { PARAPHRASE_STREAM } from './paraphrase.ts';
import { uniform } from '../sampler/rng.ts';

/** A rule-based paraphraser of text with masked positions. */
export interface RuleParaphraser {
  /** Stable name (spec `paraphraser`, the recorded events). */
  readonly name: string;
  /** What it rewrites, one line (docs, `--help`). */
  readonly summary: string;
  /** Whether `text` (markers `mask` at masked positions) is in the format it rewrites. */
  accepts(text: string, mask: string): boolean;
  /** The rewrite of `text`, deterministic in (`text`, `seed`); markers stay markers. */
  paraphrase(text: string, seed: number, mask: string): string;
}

/** A coin of the seeded stream: draw `i` of paraphrase seed `seed`. */
function coin(seed: number, i: number): boolean {
  return uniform(seed, 0, i, PARAPHRASE_STREAM) < 0.5;
}

const COLUMN = /^\d\d\d[>=]\d\d$/;

/** Splits `text` into tokens: a marker `mask` is one token, every other character one token. */
function arithTokens(text: string, mask: string): string[] {
  const tokens: string[] = [];
  for (let i = 0; i < text.length;) {
    if (mask && text.startsWith(mask, i)) {
      tokens.push(mask);
      i += mask.length;
    } else {
      tokens.push(text[i]!);
      i += 1;
    }
  }
  return tokens;
}

/**
 * Splits an arithmetic response into its columns (token lists between `;` tokens, up to the first
 * `|` token) and the rest (from that `|` on). Markers are whole tokens, so the `|` inside the
 * mask string `<|mask|>` is never read as the answer delimiter.
 */
function splitColumns(text: string, mask: string): { columns: string[][]; rest: string[] } {
  const tokens = arithTokens(text, mask);
  const bar = tokens.indexOf('|');
  const cot = bar < 0 ? tokens : tokens.slice(0, bar);
  const rest = bar < 0 ? [] : tokens.slice(bar);
  const columns: string[][] = [[]];
  for (const t of cot) {
    if (t === ';') columns.push([]);
    else columns.at(-1)!.push(t);
  }
  return { columns, rest };
}

/**
 * Rewrites every column of an arithmetic response with `f(tokens, index)` (tokens: one per
 * position, markers included) and reassembles it; the answer after `|` is never touched.
 */
function mapColumnTokens(text: string, mask: string, f: (col: string[], i: number) => string[]): string {
  const { columns, rest } = splitColumns(text, mask);
  return columns.map((c, i) => f(c, i).join('')).join(';') + rest.join('');
}

/** Rewrites every complete column (no marker; `a b c>C s`) with `f(column, index)`. */
function mapColumns(text: string, mask: string, f: (col: string, i: number) => string): string {
  return mapColumnTokens(text, mask, (c, i) => {
    const col = c.join('');
    return COLUMN.test(col) ? [...f(col, i)] : c;
  });
}

/** Only the arithmetic alphabet (digits, `>`, `=` (arith-cot-stego's column separator), `;`, `|`) and markers. */
function arithAlphabet(text: string, mask: string): boolean {
  return /^[\d>=;|]*$/.test(text.split(mask).join(''));
}

/**
 * Writes every column's separator (its 4th token: `>` in arith-cot, `>` or `=` in arith-cot-stego,
 * models/README.md §11) as `>`, in complete and incomplete columns alike (a marker counts as one
 * token; a column whose 4th token is masked keeps it masked). The answer after `|` is untouched.
 */
function canonicalSeparators(text: string, mask: string): string {
  return mapColumnTokens(text, mask, (c) => (c[3] === '=' ? [...c.slice(0, 3), '>', ...c.slice(4)] : c));
}

/**
 * The arithmetic chain of thought (models/README.md §1: columns `a b c>C s` joined by `;`, then
 * `|` and the answer): each complete column's addend digits a, b are swapped with probability
 * 1/2 (seeded), which states the same column sum, carry and digit (addition commutes). The
 * answer after `|` is never touched. Length-preserving.
 */
export const arithSwapSeeded: RuleParaphraser = {
  name: 'arith-swap',
  summary: 'arithmetic CoT: swap the addend digits of each complete column with probability 1/2 (seeded)',
  accepts: arithAlphabet,
  paraphrase: (text, seed, mask) => mapColumns(text, mask, (c, i) => (coin(seed, i) ? `${c[1]}${c[0]}${c.slice(2)}` : c)),
};

/**
 * The arithmetic chain of thought in a canonical form: in each complete column the larger addend
 * digit first, and every column separator written `>` (also in columns with masked positions:
 * the separator is one token of its own). Removes whatever a model could hide in the order of the
 * addends or the choice of separator (the form arith-cot-stego uses for its carries, models/README.md
 * §11), keeping every column sum. On arith-cot's format the separators are already canonical. The
 * seed is not used. Length-preserving.
 */
export const arithCanonical: RuleParaphraser = {
  name: 'arith-canonical',
  summary: 'arithmetic CoT: larger addend digit first in every complete column, every column separator ">" (normalises the form)',
  accepts: arithAlphabet,
  paraphrase: (text, _seed, mask) =>
    mapColumns(canonicalSeparators(text, mask), mask, (c) => (c[0]! < c[1]! ? `${c[1]}${c[0]}${c.slice(2)}` : c)),
};

/** Word swaps of the word-problems answers that keep their meaning (both directions are used). */
const SYNONYMS: readonly (readonly [string, string])[] = [
  ['In total there are', 'Altogether there are'],
  ['Together they are', 'Combined they are'],
  ['So ', 'Thus '],
  ['Then ', 'Next, '],
  [' makes ', ' produces '],
  [' cost ', ' come to '],
  [' left.', ' remaining.'],
  [' hold ', ' contain '],
];

/** An equation `a op b = ` whose operands are plain numbers. */
const COMMUTATIVE = /(\d+) ([+*]) (\d+) =/g;

/** Result of the equation of a line (`= $N` or `= N`), or null. */
function resultOf(line: string): string | null {
  return /= \$?(\d+)/.exec(line)?.[1] ?? null;
}

/** Numbers a line's equation reads (its operands). */
function operandsOf(line: string): string[] {
  const m = /(\d+) [-+*/] (\d+) =/.exec(line);
  return m ? [m[1]!, m[2]!] : [];
}

/**
 * The word-problems organism's answer (models/README.md §8: one GSM8K line per step with its
 * equation, then `#### N`). Three seeded rewrites, each decided by its own coin:
 * 1. clause order: two adjacent complete step lines are swapped when neither reads the other's
 *    result (e.g. "The bags hold 8 * 3 = 24" and "The crates hold 4 * 9 = 36");
 * 2. operand order of `+` and `*` (`8 * 3 = 24` → `3 * 8 = 24`);
 * 3. synonyms from a fixed table ("In total there are" ↔ "Altogether there are", "So" ↔ "Thus", …).
 * The `####` line stays last and unchanged; a line with a marker is left as it is.
 */
export const wordProblems: RuleParaphraser = {
  name: 'word-problems',
  summary: 'word problems: reorder independent step lines, swap operands of + and *, synonyms (seeded)',
  accepts: (text, mask) => /\d+ [-+*/] \d+ =|####/.test(text.split(mask).join(' ')),
  paraphrase(text, seed, mask) {
    let draw = 0;
    const lines = text.split('\n');
    const complete = (l: string) => !l.includes(mask) && !l.startsWith('####');
    for (let i = 0; i + 1 < lines.length; i++) {
      const a = lines[i]!;
      const b = lines[i + 1]!;
      if (!complete(a) || !complete(b)) continue;
      const ra = resultOf(a);
      const rb = resultOf(b);
      const independent = ra !== null && rb !== null && !operandsOf(b).includes(ra) && !operandsOf(a).includes(rb);
      if (independent && coin(seed, draw++)) {
        lines[i] = b;
        lines[i + 1] = a;
        i++;
      }
    }
    return lines
      .map((l) => {
        if (!complete(l)) return l;
        let out = l.replace(COMMUTATIVE, (m, x: string, op: string, y: string) => (coin(seed, draw++) ? `${y} ${op} ${x} =` : m));
        for (const [p, q] of SYNONYMS) {
          if (out.includes(p)) out = coin(seed, draw++) ? out.split(p).join(q) : out;
          else if (out.includes(q)) out = coin(seed, draw++) ? out.split(q).join(p) : out;
        }
        return out;
      })
      .join('\n');
  },
};

/** The rule-based paraphrasers by name; the first that accepts a text is the default. */
export const RULE_PARAPHRASERS: readonly RuleParaphraser[] = [arithSwapSeeded, arithCanonical, wordProblems];

/** The rule-based paraphraser named `name`, or null. */
export function ruleParaphraser(name: string): RuleParaphraser | null {
  return RULE_PARAPHRASERS.find((p) => p.name === name) ?? null;
}
