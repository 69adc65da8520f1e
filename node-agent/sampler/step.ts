/**
 * One denoising step of faithsweep's samplers (docs/sampler.md) for one branch, given that
 * branch's scores from a batched forward pass. Three modes, each named after the reference
 * code it follows:
 *
 * - `llada` — LLaDA's `generate()` (ML-GSAI/LLaDA, generate.py; Nie et al. 2025, "Large Language
 *   Diffusion Models"): Gumbel-max x0, softmax confidence of x0 (or a seeded uniform for
 *   `random`), per-step quota ceil(m / R) with m masked positions up to the end of the current
 *   block and R steps left in the block (this one included). On a clean run this is exactly
 *   LLaDA's precomputed schedule (n // S per step, the remainder spread over the first steps);
 *   after an intervention it stays well defined. Options: end-token confidence lowest
 *   (LLaDA's `confidence_eos_eot_inf`, done right: see {@link SamplerConfig.endConfidence}),
 *   end tokens suppressed (`logits_eos_inf`) and classifier-free guidance ({@link guideScores}).
 * - `dream` — Dream's `diffusion_generate` (HKUNLP/Dream, generation_utils.py `_sample` and
 *   `sample_tokens`; Ye et al. 2025, "Dream 7B"): logits divided by the temperature and top-p
 *   filtered *before* the confidence (`maskgit_plus` = max prob, `topk_margin` = top1 − top2,
 *   `entropy` = Σ p log(p + 1e-10)), and the number committed at block step k follows the
 *   float32 time grid t = linspace(1, eps, S + 1): int(m · (1 − t[k+1] / t[k])), the rest at
 *   the last step (so with S = gen_length step 0 commits nothing).
 * - `fast-dllm` — Fast-dLLM's parallel decoding (NVlabs/Fast-dLLM, llada/generate.py
 *   `get_transfer_index` and `get_transfer_index_dynamic`; Wu et al. 2025): float64 softmax
 *   confidences; each step commits the most confident candidate plus every candidate whose
 *   confidence reaches the threshold (or, with the factor rule, the largest n whose n-th
 *   confidence is at least 1 − factor / (n + 1)); `steps` does not bound it: the step grid has
 *   block_length steps per block (one token per step at worst) and a block's remaining steps
 *   are no-ops once it is full.
 *
 * Ties: candidates are ranked by confidence, then lower position first; with `tieBreak:
 * 'model'` confidences are first rounded to float32, the precision of the model's logits.
 */
import type { Scores } from '../model/onnx-model.ts';
import { RANDOM_REMASK_STREAM, rowKey, uniformFromKey } from './rng.ts';
import type { SamplerConfig } from '../../common/sampler/settings.ts';

/** A sequence being denoised. */
export interface BranchState {
  /** Full sequence: prompt then generated region. */
  readonly x: Int32Array;
  /** Per generated position: the step that committed it, or -1 while masked. */
  readonly commit: Int32Array;
  /**
   * Optional, per step: the float64 confidence margin at the quota cut (confidence of the last
   * committed candidate minus that of the best candidate left masked; +Infinity when every
   * candidate was committed, NaN where the step made no decision). Filled when present.
   */
  readonly margins?: Float64Array;
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
  /** The card's end tokens (EOS / end of turn), for `endConfidence` and `suppressEnd`. */
  readonly endIds?: ReadonlySet<number>;
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

/**
 * Dream's float32 time grid: `torch.linspace(1, eps, n + 1)` as PyTorch's CPU kernel computes
 * it (step = (end − start) / n in float32; the first half from the start, the second from the end).
 */
export function dreamGrid(n: number, eps: number): Float32Array {
  const f = Math.fround;
  const start = 1;
  const end = f(eps);
  const out = new Float32Array(n + 1);
  const step = f(f(end - start) / n);
  const half = Math.floor((n + 1) / 2);
  for (let i = 0; i <= n; i++) out[i] = i < half ? f(start + f(step * i)) : f(end - f(step * (n - i)));
  return out;
}

/**
 * The most positions step `s` may commit given `m` candidates: LLaDA's ceil(m / R); Dream's
 * time-grid count (0 is possible at early steps); Fast-dLLM's m (its rule picks how many of
 * them, at least one). 0 means the step is a no-op.
 */
export function quota(ctx: StepContext, s: number, m: number): number {
  if (m === 0) return 0;
  const { cfg } = ctx;
  const k = s % cfg.stepsPerBlock;
  const left = cfg.stepsPerBlock - k;
  if (cfg.mode === 'fast-dllm') return m;
  if (cfg.mode === 'dream') {
    if (left === 1) return m;
    const t = dreamGrid(cfg.stepsPerBlock, cfg.eps);
    const f = Math.fround;
    return Math.trunc(f(m * f(1 - f(t[k + 1]! / t[k]!))));
  }
  return Math.ceil(m / left);
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

/**
 * Classifier-free guidance as LLaDA's `generate()` defines it: un + (s + 1)(cond − un), entry by
 * entry, in float32 as LLaDA computes it in the logits' dtype (`cond` from the prompted sequence, `un` from the same sequence with every
 * prompt position masked). Full logits only (`ids` null). s = 0 returns `cond`'s values exactly.
 * Throws RangeError on mismatched or partial (top-k) scores.
 */
export function guideScores(cond: Scores, un: Scores, scale: number): Scores {
  if (cond.ids || un.ids || cond.width !== un.width || cond.values.length !== un.values.length || cond.normalized || un.normalized) {
    throw new RangeError('classifier-free guidance needs full, unnormalised logits of equal shape');
  }
  if (scale === 0) return cond;
  const f = Math.fround;
  const out = new Float32Array(cond.values.length);
  const k = f(scale + 1);
  for (let i = 0; i < out.length; i++) {
    const u = un.values[i]!;
    out[i] = f(u + f(k * f(cond.values[i]! - u)));
  }
  return { values: out, ids: null, width: cond.width, normalized: false };
}

/** The logit of entry k, with end tokens at -Infinity when the config suppresses them. */
function logitAt(scores: Scores, off: number, k: number, ctx: StepContext): number {
  if (ctx.cfg.suppressEnd && ctx.endIds?.has(tokenAt(scores, off, k))) return -Infinity;
  return scores.values[off + k]!;
}

/** Float64 softmax of `l` (exp(l - max) / sum, summed sequentially by entry, the reference's order). */
function softmax(l: Float64Array, out: Float64Array, normalized: boolean): void {
  const w = l.length;
  if (normalized) {
    for (let k = 0; k < w; k++) out[k] = Math.exp(l[k]!);
    return;
  }
  let max = -Infinity;
  for (let k = 0; k < w; k++) max = Math.max(max, l[k]!);
  let sum = 0;
  for (let k = 0; k < w; k++) {
    const e = l[k] === -Infinity ? 0 : Math.exp(l[k]! - max);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < w; k++) out[k] = out[k]! / sum;
}

/**
 * Dream's top-p filter (`top_p_logits`) in place: entries sorted by logit (descending, ties to
 * the lower entry) are kept up to and including the first whose cumulative probability exceeds
 * `topP`; the others become -Infinity.
 */
function topPFilter(l: Float64Array, topP: number, p: Float64Array): void {
  if (!(topP < 1)) return;
  softmax(l, p, false);
  const order = Array.from(l.keys()).sort((i, j) => (l[j]! > l[i]! ? 1 : l[j]! < l[i]! ? -1 : i - j));
  let cum = 0;
  let removing = false;
  for (const k of order) {
    if (removing) l[k] = -Infinity;
    cum += p[k]!;
    if (cum > topP) removing = true;
  }
}

/** The chosen token and its confidence for one candidate. */
interface Pick {
  token: number;
  conf: number;
}

/** x0 and its confidence for the candidate at absolute position `pos` whose scores start at `off`. */
function pick(scores: Scores, off: number, ctx: StepContext, s: number, pos: number, l: Float64Array, p: Float64Array): Pick {
  const { cfg, seed } = ctx;
  const w = scores.width;
  const key = rowKey(seed, s, pos);
  const dream = cfg.mode === 'dream';
  for (let k = 0; k < w; k++) l[k] = logitAt(scores, off, k, ctx);
  if (dream) {
    if (cfg.temperature > 0) for (let k = 0; k < w; k++) l[k] = l[k]! / cfg.temperature;
    topPFilter(l, cfg.topP, p);
  }
  // Gumbel-max on the (scaled) logits samples from their softmax: LLaDA's add_gumbel_noise and
  // Dream's Categorical draw are both this distribution; the noise is the seeded counter stream.
  let best = 0;
  let bestV = -Infinity;
  for (let k = 0; k < w; k++) {
    let v = l[k]!;
    if (v === -Infinity) continue;
    if (cfg.temperature > 0) {
      const g = -Math.log(-Math.log(uniformFromKey(key, tokenAt(scores, off, k))));
      v = dream ? v + g : v + cfg.temperature * g;
    }
    if (v > bestV) {
      bestV = v;
      best = k;
    }
  }
  const token = tokenAt(scores, off, best);
  let conf: number;
  if (cfg.remasking === 'random') conf = uniformFromKey(key, RANDOM_REMASK_STREAM);
  else {
    softmax(l, p, scores.normalized && !dream);
    if (cfg.remasking === 'entropy') {
      conf = 0;
      if (dream) for (let k = 0; k < w; k++) conf += p[k]! * Math.log(p[k]! + 1e-10);
      else for (let k = 0; k < w; k++) if (p[k]! > 0) conf += p[k]! * Math.log(p[k]!);
    } else if (cfg.remasking === 'topk_margin') {
      let a = 0;
      let b = 0;
      for (let k = 0; k < w; k++) {
        const v = p[k]!;
        if (v > a) {
          b = a;
          a = v;
        } else if (v > b) b = v;
      }
      conf = a - b;
    } else conf = p[best]!;
  }
  if (cfg.endConfidence === 'lowest' && ctx.endIds?.has(token)) conf = -Infinity;
  return { token, conf };
}

/** How many of the ranked candidates (confidences `sorted`, descending) Fast-dLLM commits. */
function fastDllmCount(cfg: SamplerConfig, sorted: readonly number[]): number {
  if (cfg.threshold !== null) {
    let n = 1;
    while (n < sorted.length && sorted[n]! >= cfg.threshold) n++;
    return n;
  }
  // get_transfer_index_dynamic: the n-th (1-based) most confident must reach 1 − factor/(n + 1),
  // the first always passes; upstream also commits everything when it stops at the last one.
  const factor = cfg.thresholdFactor!;
  const len = sorted.length;
  let i = 0;
  for (; i < len; i++) if (i > 0 && sorted[i]! < 1 - factor / (i + 2)) break;
  if (i === len) i = len - 1;
  return i === 0 || i === len - 1 ? i + 1 : i;
}

/**
 * Runs step `s` on branch `b` whose scores are batch row `row`. Commits positions in place
 * (recording the cut's margin in `b.margins` when present) and returns how many were committed.
 */
export function applyStep(b: BranchState, ctx: StepContext, s: number, scores: Scores, row: number): number {
  const cand = candidates(b, ctx, s);
  const limit = quota(ctx, s, cand.length);
  if (limit === 0) return 0;
  const { cfg } = ctx;
  const l = new Float64Array(scores.width);
  const p = new Float64Array(scores.width);
  const x0 = new Int32Array(cand.length);
  const conf = new Float64Array(cand.length);
  for (let c = 0; c < cand.length; c++) {
    const r = pick(scores, scoreOffset(scores, ctx, row, cand[c]!), ctx, s, cand[c]!, l, p);
    x0[c] = r.token;
    conf[c] = cfg.tieBreak === 'model' ? Math.fround(r.conf) : r.conf;
  }
  const order = Array.from(cand.keys()).sort((i, j) => (conf[j]! > conf[i]! ? 1 : conf[j]! < conf[i]! ? -1 : cand[i]! - cand[j]!));
  const q = cfg.mode === 'fast-dllm' ? fastDllmCount(cfg, order.map((i) => conf[i]!)) : limit;
  for (let r = 0; r < q; r++) {
    const c = order[r]!;
    const pos = cand[c]!;
    b.x[pos] = x0[c]!;
    b.commit[pos - ctx.promptLen] = s;
  }
  if (b.margins && s < b.margins.length) {
    // Two -Infinity confidences (end tokens ranked last) at the cut are a tie: margin 0.
    const gap = q < order.length ? conf[order[q - 1]!]! - conf[order[q]!]! : Infinity;
    b.margins[s] = Number.isNaN(gap) ? 0 : gap;
  }
  return q;
}

/**
 * A commit decision whose margin at the quota cut is below this is a near-tie (docs/sampler.md
 * "Ties"): below float32's resolution near 1 (6e-8 relative, so float32 confidences would tie),
 * and far above the 1e-12–1e-10 gaps measured on the organisms. Also used by SQL (the
 * `near_tie_margin` of migration 20261209000000_commit_margins).
 */
export const NEAR_TIE_MARGIN = 1e-6;
