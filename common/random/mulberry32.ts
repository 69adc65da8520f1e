/**
 * mulberry32: a small, fast, seeded 32-bit PRNG (Tommy Ettinger's public-domain generator, as
 * widely reproduced). Used where a reproducible stream matters and cryptographic quality does
 * not: the arith dataset's operands (common/datasets/arith.ts, so a dataset seed names the same
 * prompts forever), the tokenizer parity corpus and the soak test's fault schedule.
 * Not used by the sampler (node-agent draws its own per-seed streams).
 */

/**
 * A generator of floats in [0, 1) from `seed` (taken modulo 2^32). The same seed gives the same
 * sequence on every platform (32-bit integer arithmetic only).
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
