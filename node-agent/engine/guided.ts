/**
 * The forward pass a sampler step reads: the model's scores for `n` sequences, or, with
 * classifier-free guidance on (`cfg_scale` > 0, mode llada), LLaDA's guided logits
 * un + (s + 1)(cond − un) where the unconditional pass is the same sequence with every
 * prompt position (chat template included) replaced by the mask token (ML-GSAI/LLaDA
 * generate.py; Nie et al. 2025 "Large Language Diffusion Models", appendix on CFG). Both
 * passes run as one batch of 2n rows: conditional rows first, unconditional after.
 */
import type { OnnxModel, Scores } from '../model/onnx-model.ts';
import type { StepContext } from '../sampler/step.ts';
import { guideScores } from '../sampler/step.ts';

/**
 * Scores of the `n` sequences of length `ctx.seqLen` in `tokens` (row-major, n × seqLen).
 * Shapes as {@link OnnxModel.forward}. Throws what the model's forward throws, and RangeError
 * when guidance meets top-k scores (prepare.ts refuses that combination first).
 */
export async function forwardStep(model: OnnxModel, ctx: StepContext, tokens: Int32Array, n: number): Promise<Scores> {
  const L = ctx.seqLen;
  if (ctx.cfg.cfgScale === 0) return model.forward(tokens.length === n * L ? tokens : tokens.subarray(0, n * L), n, L);
  const both = new Int32Array(2 * n * L);
  both.set(tokens.subarray(0, n * L));
  both.set(tokens.subarray(0, n * L), n * L);
  for (let r = 0; r < n; r++) both.fill(ctx.maskId, (n + r) * L, (n + r) * L + ctx.promptLen);
  const s = await model.forward(both, 2 * n, L);
  const half = n * L * s.width;
  const cond: Scores = { values: s.values.subarray(0, half), ids: null, width: s.width, normalized: s.normalized };
  const un: Scores = { values: s.values.subarray(half, 2 * half), ids: null, width: s.width, normalized: s.normalized };
  return guideScores(cond, un, ctx.cfg.cfgScale);
}
