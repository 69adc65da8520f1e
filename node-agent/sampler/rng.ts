/**
 * The sampler's counter-based RNG, bit-identical to models/reference/rng.py (the sampler
 * contract in models/README.md). A draw is a pure function of (seed, step, position,
 * stream), so every branch of a work unit sees exactly the noise the clean run saw at the
 * same (step, position), whatever order branches run in.
 */

/** Stream id of the priority draws of `random` remasking. */
export const RANDOM_REMASK_STREAM = 0xffffffff;
/** Stream id of the draw that picks a `replace` intervention's random token. */
export const REPLACE_TOKEN_STREAM = 0xfffffffe;

/** 32-bit integer hash (a bijection on uint32). */
export function h32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** Hash state after mixing in seed, step and position (reused across a row's streams). */
export function rowKey(seed: number, step: number, pos: number): number {
  let h = h32((seed ^ 0x9e3779b9) >>> 0);
  h = h32((h ^ step) >>> 0);
  return h32((h ^ pos) >>> 0);
}

/** Uniform float64 in (0, 1) with 53 random bits for a row key and a stream. */
export function uniformFromKey(key: number, stream: number): number {
  const h = h32((key ^ stream) >>> 0);
  const hi = h32((h ^ 0x85ebca6b) >>> 0);
  const lo = h32((hi ^ 0xc2b2ae35) >>> 0);
  return ((hi >>> 5) * 67108864 + (lo >>> 6) + 0.5) / 9007199254740992;
}

/** Uniform float64 in (0, 1) for (seed, step, absolute position, stream). */
export function uniform(seed: number, step: number, pos: number, stream: number): number {
  return uniformFromKey(rowKey(seed, step, pos), stream);
}
