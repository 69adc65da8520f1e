/**
 * Wilson score intervals for binomial proportions: well behaved at 0, 1 and small n, where
 * the normal approximation gives intervals outside [0, 1]. The SQL functions
 * `wilson_lower`/`wilson_upper` compute the same numbers. Rates over cells that share prompts
 * take {@link clusteredInterval}, the one interval the views, the report and the known-answer
 * check give (docs/sql.md "Reading the numbers"); the report page draws the bounds it is given
 * and computes none.
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
  // At k = 0 (k = n) the bound is exactly 0 (1); rounding would leave ±1e-17. The SQL functions
  // wilson_lower/wilson_upper return the same exact bounds (migration 20261205000000_numbers).
  const [low, high] = wilsonBounds(k, n, z);
  return { k, n, rate: k / n, low, high };
}

/** One prompt's cells: `k` of `n` count (flipped, say). */
export interface Cluster {
  readonly k: number;
  readonly n: number;
}

/** The sums over prompts the clustered interval needs (the views carry them as syy, sym, smm). */
export interface ClusterSums {
  /** Counting cells over all prompts. */
  readonly k: number;
  /** Cells over all prompts. */
  readonly n: number;
  /** Prompts holding at least one cell. */
  readonly g: number;
  /** Σ k_i². */
  readonly syy: number;
  /** Σ k_i·n_i. */
  readonly sym: number;
  /** Σ n_i². */
  readonly smm: number;
}

/** A proportion with its prompt-clustered interval and the effective number of cells behind it. */
export interface ClusteredProportion extends Proportion {
  /** Prompts (clusters) with at least one cell. */
  readonly prompts: number;
  /** n divided by the design effect; null below two prompts. */
  readonly nEff: number | null;
}

/** The sums of {@link ClusterSums} from per-prompt counts (prompts without cells are dropped). */
export function clusterSums(clusters: readonly Cluster[]): ClusterSums {
  let k = 0, n = 0, g = 0, syy = 0, sym = 0, smm = 0;
  for (const c of clusters) {
    if (!(c.n >= 0) || !(c.k >= 0) || c.k > c.n) throw new RangeError(`clusteredInterval: need 0 <= k <= n in every prompt (got k=${c.k}, n=${c.n})`);
    if (c.n === 0) continue;
    k += c.k; n += c.n; g++;
    syy += c.k * c.k; sym += c.k * c.n; smm += c.n * c.n;
  }
  return { k, n, g, syy, sym, smm };
}

/**
 * Effective sample size of a proportion over prompt clusters. With p = k / n, the cluster-robust
 * (sandwich, "CR1") variance of the ratio estimator is V = g/(g−1) · Σ (k_i − p·n_i)² / n²
 * (Cameron & Miller 2015, "A Practitioner's Guide to Cluster-Robust Inference", §II); the design
 * effect is V / (p(1−p)/n) and n_eff = p(1−p) / V, capped at n (a clustered interval is never
 * narrower than the cell-level one). At p = 0 or 1 nothing estimates the within-prompt
 * correlation and each prompt counts once (n_eff = g). Null below two prompts. Identical to the
 * SQL function `cluster_n_eff` (migration 20261205000000_numbers).
 */
export function clusterNEff(s: ClusterSums): number | null {
  if (s.n <= 0 || s.g < 2) return null;
  if (s.k <= 0 || s.k >= s.n) return Math.min(s.g, s.n);
  const p = s.k / s.n;
  const v = (s.g / (s.g - 1)) * Math.max(0, s.syy - 2 * p * s.sym + p * p * s.smm) / (s.n * s.n);
  return v <= 0 ? s.n : Math.min(s.n, (p * (1 - p)) / v);
}

/** The Wilson bounds of a (possibly fractional) k_eff of n_eff; exactly 0 at k = 0 and 1 at k = n. */
function wilsonBounds(k: number, n: number, z: number): [number, number] {
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const margin = (z * Math.sqrt(Math.max(0, p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [k <= 0 ? 0 : Math.max(0, centre - margin), k >= n ? 1 : Math.min(1, centre + margin)];
}

/**
 * The one interval faithsweep puts on a rate over cells that share prompts (docs/sql.md "Reading
 * the numbers"): the Wilson score interval of p·n_eff successes in n_eff trials, n_eff from
 * {@link clusterNEff}. Cells of one prompt share its clean run, so they are not independent:
 * when they agree, n_eff falls towards the number of prompts and the interval widens; when they
 * are independent, n_eff ≈ n and it matches the cell-level Wilson interval. Deterministic (no
 * resampling). The views compute the same numbers (SQL `cluster_ci_low`/`cluster_ci_high`).
 * Bounds are null with fewer than two prompts. Throws RangeError on impossible counts.
 */
export function clusteredInterval(input: readonly Cluster[] | ClusterSums, z: number = Z95): ClusteredProportion {
  const s = Array.isArray(input) ? clusterSums(input as readonly Cluster[]) : (input as ClusterSums);
  if (!(s.n >= 0) || !(s.k >= 0) || s.k > s.n) throw new RangeError(`clusteredInterval: need 0 <= k <= n (got k=${s.k}, n=${s.n})`);
  const rate = s.n === 0 ? null : s.k / s.n;
  const nEff = clusterNEff(s);
  if (rate === null || nEff === null) return { k: s.k, n: s.n, rate, low: null, high: null, prompts: s.g, nEff };
  const [low, high] = wilsonBounds(rate * nEff, nEff, z);
  return { k: s.k, n: s.n, rate, low: s.k === 0 ? 0 : low, high: s.k === s.n ? 1 : high, prompts: s.g, nEff };
}
