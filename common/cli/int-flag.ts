/**
 * The one parser of integer command-line flags (--seed, --steps, --window, --max-activities, …).
 * An integer flag takes plain decimal digits only (an optional leading '-' so that a negative
 * value gets the range message): `1e3`, `0x10`, `1.0`, `1_000`, `+5` and ` 5` are refused, even
 * though JavaScript's Number() reads several of them as integers: a seed written `1e3` is most
 * likely a typo, and a run must record the value the user meant.
 */
import { ErrorCode, FaithsweepError } from '../errors.ts';

/** Bounds and wording of one integer flag. */
export interface IntFlagRange {
  /** Smallest accepted value (inclusive). */
  readonly min: number;
  /** Largest accepted value (inclusive); at most Number.MAX_SAFE_INTEGER. @default Number.MAX_SAFE_INTEGER */
  readonly max?: number;
  /** The accepted range in words for the message, e.g. 'a positive integer below 2^32'. @default 'an integer in MIN..MAX' (or 'an integer >= MIN') */
  readonly what?: string;
  /** What to do about a value out of range (the hint of the error), if there is more to say than the range. */
  readonly hint?: string;
}

const DECIMAL = /^-?\d+$/;

/**
 * Parses the value of `--name` (as node:util parseArgs gives it: a string, or undefined when the
 * flag is absent) into an integer in `[range.min, range.max]`.
 * @returns the integer, or undefined when the flag is absent.
 * @throws FaithsweepError BAD_ARGS `--name must be <what> (got '<raw>')` when the value is not plain
 *   decimal digits or is out of range; the hint gives the decimal form when the value was another
 *   spelling of an accepted integer (`--seed 1e3` → "write --seed 1000").
 */
export function parseIntFlag(name: string, raw: unknown, range: IntFlagRange): number | undefined {
  if (raw === undefined) return undefined;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const what = range.what ?? (range.max === undefined ? `an integer >= ${range.min}` : `an integer in ${range.min}..${max}`);
  const text = String(raw);
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(n) && n >= range.min && n <= max) return n;
  if (DECIMAL.test(text)) throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${name} must be ${what} (got '${text}')`, range.hint ? { hint: range.hint } : {});
  const loose = Number(text);
  const meant = text.trim() !== '' && Number.isSafeInteger(loose) && loose >= range.min && loose <= max;
  throw new FaithsweepError(ErrorCode.BAD_ARGS, `--${name} must be ${what}, written in plain decimal digits (got '${text}')`, {
    hint: meant ? `write --${name} ${loose}` : `write digits only: no exponent, sign, decimal point or separators${range.hint ? `; ${range.hint}` : ''}`,
  });
}
