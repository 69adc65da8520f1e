/**
 * Sampler settings: a request's overrides on top of the model card's defaults, validated
 * once (BAD_SAMPLER naming the field) into a frozen {@link SamplerConfig}.
 */
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { Remasking as ProtoRemasking } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode } from '../agent-errors.ts';
import type { CardSamplerOptions, ModelCard } from '../model/card.ts';
import type { ParaphraseRemask } from '../paraphrase/settings.ts';
import { paraphraseFromOptions, paraphraseFromProto, paraphraseProblems } from '../paraphrase/settings.ts';

/** The remasking strategies by name (the one list: the spec schema and the agent use it). */
export const REMASKINGS = ['low_confidence', 'random', 'entropy', 'topk_margin', 'maskgit_plus'] as const;

/** The sampler modes, each named after the reference code it follows (docs/sampler.md). */
export const SAMPLER_MODES = ['llada', 'dream', 'fast-dllm'] as const;

/** A sampler mode. */
export type SamplerMode = (typeof SAMPLER_MODES)[number];

/** The remasking (confidence) rules each mode accepts: LLaDA's names, Dream's `alg` names, Fast-dLLM's. */
export const MODE_REMASKINGS: Readonly<Record<SamplerMode, readonly Remasking[]>> = {
  llada: ['low_confidence', 'random', 'entropy', 'topk_margin'],
  dream: ['maskgit_plus', 'topk_margin', 'entropy'],
  'fast-dllm': ['low_confidence'],
};

/** Dream's default `eps`, the end of its time grid (generation_utils.py `DreamGenerationConfig`). */
export const DREAM_EPS = 1e-3;

/** How equal confidences are ordered (docs/sampler.md "Ties"). */
export type TieBreak = 'float64' | 'model';

/** How a step ranks the masked positions it may commit. */
export type Remasking = (typeof REMASKINGS)[number];

/** Validated sampler settings. */
export interface SamplerConfig {
  readonly genLength: number;
  readonly steps: number;
  readonly blockLength: number;
  readonly stepsPerBlock: number;
  readonly remasking: Remasking;
  readonly temperature: number;
  /** Which reference the step follows (see node-agent/sampler/step.ts). @default 'llada' */
  readonly mode: SamplerMode;
  /** Fast-dLLM confidence threshold, or null when off. */
  readonly threshold: number | null;
  /** Fast-dLLM's factor rule (get_transfer_index_dynamic), or null when off. */
  readonly thresholdFactor: number | null;
  /** Dream's nucleus (top-p) filter, applied before the confidence; 1 = off. @default 1 */
  readonly topP: number;
  /** End of Dream's time grid. @default 1e-3 */
  readonly eps: number;
  /** `lowest`: a position whose x0 is an end token gets confidence -Infinity (LLaDA's confidence_eos_eot_inf, fixed). @default 'model' */
  readonly endConfidence: 'model' | 'lowest';
  /** End tokens never sampled (LLaDA's logits_eos_inf). @default false */
  readonly suppressEnd: boolean;
  /** Classifier-free guidance scale s (LLaDA's cfg_scale); 0 = off. @default 0 */
  readonly cfgScale: number;
  /** Tie rule for confidences. @default 'float64' */
  readonly tieBreak: TieBreak;
  /** Paraphrase-remask sampling (docs/paraphrase.md), or null when off. @default null */
  readonly paraphrase: ParaphraseRemask | null;
}

const FROM_PROTO: Record<number, Remasking | undefined> = {
  [ProtoRemasking.LOW_CONFIDENCE]: 'low_confidence',
  [ProtoRemasking.RANDOM]: 'random',
  [ProtoRemasking.ENTROPY]: 'entropy',
  [ProtoRemasking.TOPK_MARGIN]: 'topk_margin',
  [ProtoRemasking.MASKGIT_PLUS]: 'maskgit_plus',
};

/** Sampler settings before validation (a request's, or a spec's overrides on the card's defaults). */
export interface SamplerValues {
  readonly genLength: number;
  readonly steps: number;
  readonly blockLength: number;
  readonly remasking: string | undefined;
  readonly temperature: number;
  readonly threshold?: number | null;
  readonly mode?: string | undefined;
  readonly thresholdFactor?: number | null;
  readonly topP?: number;
  readonly endConfidence?: string;
  readonly cfgScale?: number;
  readonly tieBreak?: string;
  readonly paraphrase?: ParaphraseRemask | null;
}

/** The options a request or spec may add to gen_length … temperature, with their defaults. */
export interface SamplerExtras {
  readonly mode: SamplerMode;
  readonly threshold: number | null;
  readonly thresholdFactor: number | null;
  readonly topP: number;
  readonly endConfidence: 'model' | 'lowest';
  readonly suppressEnd: boolean;
  readonly cfgScale: number;
  readonly tieBreak: TieBreak;
  /** Paraphrase-remask sampling, or null when off (absent on plans stored before it: off). */
  readonly paraphrase: ParaphraseRemask | null;
}

/** Defaults of {@link SamplerExtras}; a threshold or factor without a mode means `fast-dllm`. */
export function samplerExtras(v: Partial<Omit<SamplerExtras, 'mode'>> & { mode?: string | undefined }): SamplerExtras {
  const threshold = v.threshold ?? null;
  const thresholdFactor = v.thresholdFactor ?? null;
  const mode = (v.mode || (threshold !== null || thresholdFactor !== null ? 'fast-dllm' : 'llada')) as SamplerMode;
  return {
    mode,
    threshold,
    thresholdFactor,
    topP: v.topP ?? 1,
    endConfidence: v.endConfidence ?? 'model',
    suppressEnd: v.suppressEnd ?? false,
    cfgScale: v.cfgScale ?? 0,
    tieBreak: v.tieBreak ?? 'float64',
    paraphrase: v.paraphrase ?? null,
  };
}

/**
 * Every problem of `v`, one sentence each (empty when valid): the agent's whole check of a
 * request's sampler, shared with `faithsweep plan` (orchestrator/sweep/plan.ts) so that a
 * spec the agent would refuse is refused before anything is written.
 */
export function samplerProblems(v: SamplerValues): string[] {
  const out: string[] = [];
  const ints = Object.entries({ gen_length: v.genLength, steps: v.steps, block_length: v.blockLength });
  for (const [k, n] of ints) if (!Number.isInteger(n) || n <= 0) out.push(`${k} must be a positive integer (got ${n})`);
  if (out.length === 0) {
    if (v.genLength % v.blockLength !== 0) out.push(`gen_length ${v.genLength} is not divisible by block_length ${v.blockLength}`);
    else {
      const blocks = v.genLength / v.blockLength;
      if (v.steps % blocks !== 0) out.push(`steps ${v.steps} is not divisible by the number of blocks ${blocks} (gen_length / block_length)`);
    }
  }
  const mode = v.mode ?? 'llada';
  if (!(SAMPLER_MODES as readonly string[]).includes(mode)) out.push(`mode must be one of ${SAMPLER_MODES.join(', ')} (got ${mode})`);
  else {
    const allowed = MODE_REMASKINGS[mode as SamplerMode] as readonly string[];
    if (!v.remasking || !allowed.includes(v.remasking)) out.push(`remasking must be one of ${allowed.join(', ')} in mode ${mode} (got ${v.remasking ?? 'none'})`);
  }
  if (!(v.temperature >= 0) || !Number.isFinite(v.temperature)) out.push(`temperature must be >= 0 (got ${v.temperature})`);
  const t = v.threshold ?? null;
  if (t !== null && !(t > 0 && t <= 1)) out.push(`confidence_threshold must be in (0, 1] (got ${t})`);
  const f = v.thresholdFactor ?? null;
  if (f !== null && !(f > 0 && Number.isFinite(f))) out.push(`threshold_factor must be > 0 (got ${f})`);
  if (mode === 'fast-dllm' && (t === null) === (f === null)) out.push('mode fast-dllm needs exactly one of confidence_threshold and threshold_factor');
  if (mode !== 'fast-dllm' && (t !== null || f !== null)) out.push(`confidence_threshold and threshold_factor belong to mode fast-dllm (mode is ${mode})`);
  if (v.topP !== undefined && !(v.topP > 0 && v.topP <= 1)) out.push(`top_p must be in (0, 1] (got ${v.topP})`);
  if (v.topP !== undefined && v.topP < 1 && mode !== 'dream') out.push(`top_p belongs to mode dream (mode is ${mode})`);
  if (v.endConfidence !== undefined && !['model', 'lowest'].includes(v.endConfidence)) out.push(`end_confidence must be 'model' or 'lowest' (got ${v.endConfidence})`);
  if (v.cfgScale !== undefined && !(v.cfgScale >= 0 && Number.isFinite(v.cfgScale))) out.push(`cfg_scale must be >= 0 (got ${v.cfgScale})`);
  if (v.cfgScale !== undefined && v.cfgScale > 0 && mode !== 'llada') out.push(`cfg_scale belongs to mode llada (mode is ${mode})`);
  if (v.tieBreak !== undefined && !['float64', 'model'].includes(v.tieBreak)) out.push(`tie_break must be 'float64' or 'model' (got ${v.tieBreak})`);
  if (v.paraphrase) out.push(...paraphraseProblems(v.paraphrase, v.genLength, mode));
  return out;
}

/** {@link SamplerExtras} fields given in snake_case options (a card's `defaults.sampler`, a spec's `sampler`). */
export function extrasFromOptions(o: CardSamplerOptions | undefined): Partial<SamplerExtras> & { mode?: string } {
  if (!o) return {};
  return {
    ...(o.mode !== undefined ? { mode: o.mode as SamplerMode } : {}),
    ...(o.confidence_threshold !== undefined ? { threshold: o.confidence_threshold } : {}),
    ...(o.threshold_factor !== undefined ? { thresholdFactor: o.threshold_factor } : {}),
    ...(o.top_p !== undefined ? { topP: o.top_p } : {}),
    ...(o.end_confidence !== undefined ? { endConfidence: o.end_confidence } : {}),
    ...(o.suppress_end !== undefined ? { suppressEnd: o.suppress_end } : {}),
    ...(o.cfg_scale !== undefined ? { cfgScale: o.cfg_scale } : {}),
    ...(o.tie_break !== undefined ? { tieBreak: o.tie_break } : {}),
    ...(o.paraphrase !== undefined ? { paraphrase: paraphraseFromOptions(o.paraphrase) } : {}),
  };
}

/** Resolves and validates settings (request over `extras` over the card's `defaults.sampler`); throws BAD_SAMPLER. */
export function resolveSampler(card: ModelCard, s: Partial<SamplerSettings> | undefined, extras: Partial<SamplerExtras> = {}): SamplerConfig {
  const bad = (msg: string) => new AgentError(AgentErrorCode.BAD_SAMPLER, msg);
  const genLength = s?.genLength || card.defaults.gen_length;
  const steps = s?.steps || card.defaults.steps;
  const blockLength = s?.blockLength || (s?.genLength ? genLength : card.defaults.block_length);
  const remasking = s?.remasking ? FROM_PROTO[s.remasking] : (card.defaults.remasking as Remasking);
  const temperature = s?.temperature ?? card.defaults.temperature;
  extras = { ...extrasFromOptions(card.defaults.sampler), ...extras };
  const x = samplerExtras({
    mode: s?.mode || extras.mode,
    threshold: s?.confidenceThreshold ?? extras.threshold ?? null,
    thresholdFactor: s?.thresholdFactor ?? extras.thresholdFactor ?? null,
    topP: s?.topP ?? extras.topP,
    endConfidence: (s?.endConfidence || extras.endConfidence) as SamplerExtras['endConfidence'] | undefined,
    suppressEnd: s?.suppressEnd || extras.suppressEnd,
    cfgScale: s?.cfgScale || extras.cfgScale,
    tieBreak: (s?.tieBreak || extras.tieBreak) as TieBreak | undefined,
    paraphrase: s?.paraphrase ? paraphraseFromProto(s.paraphrase) : extras.paraphrase ?? null,
  });
  const problems = samplerProblems({ genLength, steps, blockLength, remasking, temperature, ...x });
  if (problems.length) throw bad(problems.join('; '));
  const blocks = genLength / blockLength;
  // Fast-dLLM's steps are not a bound: a block is decoded until full, at worst one token per step.
  const grid = x.mode === 'fast-dllm' ? genLength : steps;
  return Object.freeze({ genLength, steps: grid, blockLength, stepsPerBlock: grid / blocks, remasking: remasking!, temperature, eps: DREAM_EPS, ...x });
}
