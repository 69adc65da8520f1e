/**
 * One denoising step of the LLaDA sampler (docs/experiment.md "Sampler", models/README.md "Sampler
 * contract") for one branch, given that branch's scores from a batched forward pass.
 *
 * The per-step quota is recomputed from the state as ceil(m / R): m masked positions up to
 * the end of the current block, R steps left in the block (this one included). On a clean
 * run this is exactly LLaDA's schedule (n // S per step, the remainder spread over the
 * first steps); after an intervention it stays well defined (a re-masked position is
 * re-committed within the block's remaining steps).
 */
import type { Scores } from '../model/onnx-model.ts';
import { RANDOM_REMASK_STREAM, rowKey, uniformFromKey } from './rng.ts';
import type { SamplerConfig } from './settings.ts';

/** A sequence being denoised. */
export interface BranchState {
  /** Full sequence: prompt then generated region. */
  readonly x: Int32Array;
  /** Per generated position: the step that committed it, or -1 while masked. */
  readonly commit: Int32Array;
}

/** What a step needs besides the branch. */
export interface StepContext {
  readonly cfg: SamplerConfig;
  readonly seed: number;
  readonly promptLen: number;
  readonly seqLen: number;
  readonly maskId: number;
  /** Dream-style models: scores for position i come from row i - 1. */
  readonly shifted: boolean;
}

/** Absolute index one past the current block at step `s`. */
export function blockEnd(ctx: StepContext, s: number): number {
  return ctx.promptLen + (Math.floor(s / ctx.cfg.stepsPerBlock) + 1) * ctx.cfg.blockLength;
}

/** Masked absolute positions eligible at step `s` (every masked position before the block's end). */
export function candidates(b: BranchState, ctx: StepContext, s: number): number[] {
  const end = blockEnd(ctx, s);
  const out: number[] = [];
  for (let i = ctx.promptLen; i < end; i++) if (b.commit[i - ctx.promptLen]! < 0) out.push(i);
  return out;
}

/** Positions to commit at step `s` given `m` candidates (before any threshold). */
export function quota(ctx: StepContext, s: number, m: number): number {
  const left = ctx.cfg.stepsPerBlock - (s % ctx.cfg.stepsPerBlock);
  return m === 0 ? 0 : Math.ceil(m / left);
}

/** Offset of the scores of absolute position `pos` in batch row `row`. */
export function scoreOffset(scores: Scores, ctx: StepContext, row: number, pos: number): number {
  return (row * ctx.seqLen + (ctx.shifted ? pos - 1 : pos)) * scores.width;
}

/** Token of entry k. */
function tokenAt(scores: Scores, off: number, k: number): number {
  return scores.ids ? scores.ids[off + k]! : k;
}

/** The top-scoring token at `off` (ties: lowest entry, i.e. lowest id for full logits). */
export function argmaxAt(scores: Scores, off: number): number {
  let best = 0;
  let bestV = scores.values[off]!;
  for (let k = 1; k < scores.width; k++) {
    const v = scores.values[off + k]!;
    if (v > bestV) {
      bestV = v;
      best = k;
    }
  }
  return tokenAt(scores, off, best);
}

/** The highest-scoring token at `off` that is not special and differs from `exclude`; -1 if none. */
export function bestOtherAt(scores: Scores, off: number, exclude: number, special: ReadonlySet<number>): number {
  let best = -1;
  let bestV = -Infinity;
  for (let k = 0; k < scores.width; k++) {
    const tok = tokenAt(scores, off, k);
    if (tok === exclude || special.has(tok)) continue;
    const v = scores.values[off + k]!;
    if (v > bestV) {
      bestV = v;
      best = tok;
    }
  }
  return best;
}

/** Float64 probabilities at `off`: exp(l - max) / sum, summed sequentially by entry (the reference's order). */
function probabilities(scores: Scores, off: number, out: Float64Array): void {
  const w = scores.width;
  if (scores.normalized) {
    for (let k = 0; k < w; k++) out[k] = Math.exp(scores.values[off + k]!);
    return;
  }
  let max = -Infinity;
  for (let k = 0; k < w; k++) max = Math.max(max, scores.values[off + k]!);
  let sum = 0;
  for (let k = 0; k < w; k++) {
    const e = Math.exp(scores.values[off + k]! - max);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < w; k++) out[k] = out[k]! / sum;
}

/**
 * Runs step `s` on branch `b` whose scores are batch row `row`. Commits positions in place
 * and returns how many were committed.
 */
export function applyStep(b: BranchState, ctx: StepContext, s: number, scores: Scores, row: number): number {
  const cand = candidates(b, ctx, s);
  let q = quota(ctx, s, cand.length);
  if (q === 0) return 0;
  const { cfg, seed } = ctx;
  const w = scores.width;
  const p = new Float64Array(w);
  const x0 = new Int32Array(cand.length);
  const conf = new Float64Array(cand.length);
  for (let c = 0; c < cand.length; c++) {
    const pos = cand[c]!;
    const off = scoreOffset(scores, ctx, row, pos);
    const key = rowKey(seed, s, pos);
    let best = 0;
    if (cfg.temperature === 0) {
      let bestV = -Infinity;
      for (let k = 0; k < w; k++) {
        const v = scores.values[off + k]!;
        if (v > bestV) {
          bestV = v;
          best = k;
        }
      }
    } else {
      let bestV = -Infinity;
      for (let k = 0; k < w; k++) {
        const g = -Math.log(-Math.log(uniformFromKey(key, tokenAt(scores, off, k))));
        const v = scores.values[off + k]! + cfg.temperature * g;
        if (v > bestV) {
          bestV = v;
          best = k;
        }
      }
    }
    x0[c] = tokenAt(scores, off, best);
    switch (cfg.remasking) {
      case 'random':
        conf[c] = uniformFromKey(key, RANDOM_REMASK_STREAM);
        break;
      case 'low_confidence':
        probabilities(scores, off, p);
        conf[c] = p[best]!;
        break;
      case 'entropy': {
        probabilities(scores, off, p);
        let negH = 0;
        for (let k = 0; k < w; k++) if (p[k]! > 0) negH += p[k]! * Math.log(p[k]!);
        conf[c] = negH;
        break;
      }
      case 'topk_margin': {
        probabilities(scores, off, p);
        let a = 0;
        let bb = 0;
        for (let k = 0; k < w; k++) {
          const v = p[k]!;
          if (v > a) {
            bb = a;
            a = v;
          } else if (v > bb) bb = v;
        }
        conf[c] = a - bb;
        break;
      }
    }
  }
  const order = Array.from(cand.keys()).sort((i, j) => conf[j]! - conf[i]! || cand[i]! - cand[j]!);
  if (cfg.threshold !== null) {
    let above = 0;
    while (above < order.length && conf[order[above]!]! >= cfg.threshold) above++;
    q = Math.max(q, above);
  }
  for (let r = 0; r < q; r++) {
    const c = order[r]!;
    const pos = cand[c]!;
    b.x[pos] = x0[c]!;
    b.commit[pos - ctx.promptLen] = s;
  }
  return q;
}
