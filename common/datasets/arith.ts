/**
 * The built-in arithmetic dataset: additions of two 2-to-4-digit numbers in the bundled
 * organisms' prompt format (`{a}+{b}=`, gold answer `String(a + b)`; models/README.md),
 * generated deterministically from a seed.
 */
import { mulberry32 } from '../random/mulberry32.ts';

/** One problem. */
export interface ArithProblem {
  readonly a: number;
  readonly b: number;
  readonly prompt: string;
  readonly gold: string;
}


/** A number with 2 to 4 digits, the digit count uniform. */
function operand(rand: () => number): number {
  const digits = 2 + Math.floor(rand() * 3);
  const lo = 10 ** (digits - 1);
  return lo + Math.floor(rand() * (9 * lo));
}

/** The organisms' default prompt format (a model card's `prompt_format` overrides it). */
export const DEFAULT_PROMPT_FORMAT = '{a}+{b}=';

/**
 * Fills a model card's `prompt_format` (Python format syntax, as models/task.py writes it):
 * `{a}`, `{b}`, and zero-padded `{a:04d}` / `{b:04d}`. Throws on any other field.
 */
export function formatPrompt(format: string, a: number, b: number): string {
  return format.replace(/\{([ab])(?::0(\d+)d)?\}/g, (_, name: string, width?: string) => {
    const v = String(name === 'a' ? a : b);
    return width ? v.padStart(Number(width), '0') : v;
  });
}

/** Throws unless `format` uses only the fields {@link formatPrompt} fills. */
export function checkPromptFormat(format: string): void {
  if (/\{(?![ab](?::0\d+d)?\})/.test(format)) throw new Error(`unsupported prompt_format ${JSON.stringify(format)}: only {a}, {b}, {a:0Nd}, {b:0Nd}`);
}

/**
 * The problems of `seed` one at a time, the first `count` of them (all of them: without end),
 * their prompts in `format`: the same sequence as {@link arithProblems}, in constant memory.
 * Throws at once (not at the first problem) on an unsupported format.
 */
export function arithStream(seed: number, count = Infinity, format = DEFAULT_PROMPT_FORMAT): Generator<ArithProblem, void, undefined> {
  checkPromptFormat(format);
  return (function* () {
    const rand = mulberry32(seed);
    for (let i = 0; i < count; i++) {
      const a = operand(rand);
      const b = operand(rand);
      yield { a, b, prompt: formatPrompt(format, a, b), gold: String(a + b) };
    }
  })();
}

/** `count` problems from `seed`, their prompts in `format`. */
export function arithProblems(seed: number, count: number, format = DEFAULT_PROMPT_FORMAT): ArithProblem[] {
  return [...arithStream(seed, count, format)];
}

/** A field of a prompt format as a regular expression: padded fields have exactly their width. */
function fieldPattern(width: string | undefined, loose: boolean): string {
  if (loose) return '(\\d+)';
  return width ? `(\\d{${Number(width)}})` : '(0|[1-9]\\d*)';
}

function formatRegex(format: string, loose: boolean): RegExp {
  let out = '';
  let last = 0;
  for (const m of format.matchAll(/\{([ab])(?::0(\d+)d)?\}/g)) {
    out += format.slice(last, m.index).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + fieldPattern(m[2], loose);
    last = m.index + m[0].length;
  }
  out += format.slice(last).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${out}$`);
}

/**
 * Whether `prompt` is written in the card's `prompt_format` (the fields {@link formatPrompt}
 * fills): null when it is, else one sentence naming the format and, when the prompt has the
 * format's shape with other digit counts (e.g. `347+1285=` for `{a:04d}+{b:04d}=`), the prompt
 * in the format (`0347+1285=`). The organisms were trained only on their format; another one
 * is accepted but answered by a model that never saw it.
 */
export function promptFormatMismatch(format: string, prompt: string): string | null {
  checkPromptFormat(format);
  if (formatRegex(format, false).test(prompt)) return null;
  const loose = formatRegex(format, true).exec(prompt);
  const names = [...format.matchAll(/\{([ab])/g)].map((m) => m[1]);
  let suggestion = '';
  if (loose) {
    const v: Record<string, number> = {};
    names.forEach((n, i) => { v[n!] = Number(loose[i + 1]); });
    const fixed = formatPrompt(format, v['a'] ?? 0, v['b'] ?? 0);
    if (formatRegex(format, false).test(fixed)) suggestion = ` (in that format: ${JSON.stringify(fixed)})`;
  }
  return `prompt ${JSON.stringify(prompt)} does not match the model card's prompt_format ${JSON.stringify(format)}${suggestion}`;
}
