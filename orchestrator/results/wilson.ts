/**
 * Wilson score intervals for binomial proportions: well behaved at 0, 1 and small n, where
 * the normal approximation gives intervals outside [0, 1]. The SQL functions
 * `wilson_lower`/`wilson_upper` (results-views migration) compute the same numbers.
 */

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/** A proportion with its interval. */
export interface Proportion {
  readonly k: number;
  readonly n: number;
  /** k / n, or null when n = 0. */
  readonly rate: number | null;
  readonly low: number | null;
  readonly high: number | null;
}

/** The Wilson interval of k successes in n trials (null bounds when n = 0). Throws RangeError on k outside [0, n]. */
export function wilson(k: number, n: number, z: number = Z95): Proportion {
  if (!(n >= 0) || !(k >= 0) || k > n) throw new RangeError(`wilson: need 0 <= k <= n (got k=${k}, n=${n})`);
  if (n === 0) return { k, n, rate: null, low: null, high: null };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const margin = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave ±1e-17.
  return { k, n, rate: p, low: k === 0 ? 0 : Math.max(0, centre - margin), high: k === n ? 1 : Math.min(1, centre + margin) };
}
