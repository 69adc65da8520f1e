/**
 * Sampler settings: overrides (a spec's or a request's) on top of the model card's defaults,
 * resolved and validated by one function, {@link resolveSamplerSettings}, that both `faithsweep
 * plan` (orchestrator/sweep/plan.ts) and the agent ({@link resolveSampler}, BAD_SAMPLER naming
 * the field) call, so the two can never disagree; plus the one table between remasking names and
 * the request's enum, and the one conversion of planned settings into a request
 * ({@link samplerToProto}).
 */
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { Remasking as ProtoRemasking } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode } from '../agent-errors.ts';
import type { CardSamplerOptions, ModelCard } from '../model/card.ts';
import type { ParaphraseRemask } from '../paraphrase/settings.ts';
import { paraphraseFromOptions, paraphraseFromProto, paraphraseProblems, paraphraseToProto } from '../paraphrase/settings.ts';

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

/** Each remasking name's value in the request (proto `Remasking`): the one table between the two. */
export const REMASKING_PROTO: Readonly<Record<Remasking, ProtoRemasking>> = Object.freeze({
  low_confidence: ProtoRemasking.LOW_CONFIDENCE,
  random: ProtoRemasking.RANDOM,
  entropy: ProtoRemasking.ENTROPY,
  topk_margin: ProtoRemasking.TOPK_MARGIN,
  maskgit_plus: ProtoRemasking.MASKGIT_PLUS,
});

/** Whether `name` is a remasking strategy's name. */
export function isRemasking(name: string): name is Remasking {
  return (REMASKINGS as readonly string[]).includes(name);
}

const FROM_PROTO: ReadonlyMap<number, Remasking> = new Map(REMASKINGS.map((r) => [REMASKING_PROTO[r], r]));

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

/**
 * Sampler overrides from any source, in the spec's camelCase (undefined = not given, take the
 * card's default): a spec's `models[].sampler` or a request's fields (where proto zero values
 * mean "not given"). `extras` holds the mode and its options as given.
 */
export interface SamplerOverrides {
  readonly genLength?: number | undefined;
  readonly steps?: number | undefined;
  readonly blockLength?: number | undefined;
  readonly remasking?: string | undefined;
  readonly temperature?: number | undefined;
  readonly extras?: Partial<Omit<SamplerExtras, 'mode'>> & { readonly mode?: string | undefined };
}

/** Settings resolved by {@link resolveSamplerSettings}: `config` is meaningful only when `problems` is empty. */
export interface SamplerResolution {
  readonly config: SamplerConfig;
  /** Every problem, one sentence each, in the spec's snake_case names (empty when valid). */
  readonly problems: readonly string[];
}

/** `o` without its undefined fields (so that a spread does not overwrite a default with undefined). */
function given<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The one resolution of sampler settings: `o` over `extras` over the card's `defaults` (and
 * `defaults.sampler`); a `gen_length` given without `block_length` means one block. Validated by
 * {@link samplerProblems}. Fast-dLLM's `steps` is no bound (a block is decoded until full, at
 * worst one token per step), so its resolved step grid is gen_length steps. Never throws.
 */
export function resolveSamplerSettings(card: ModelCard, o: SamplerOverrides, extras: Partial<SamplerExtras> = {}): SamplerResolution {
  const d = card.defaults;
  const genLength = o.genLength ?? d.gen_length;
  const steps = o.steps ?? d.steps;
  const blockLength = o.blockLength ?? (o.genLength !== undefined ? genLength : d.block_length);
  const remasking = o.remasking ?? d.remasking;
  const temperature = o.temperature ?? d.temperature;
  const x = samplerExtras({ ...extrasFromOptions(d.sampler), ...given(extras), ...given(o.extras) });
  const problems = samplerProblems({ genLength, steps, blockLength, remasking, temperature, ...x });
  const grid = x.mode === 'fast-dllm' ? genLength : steps;
  const config: SamplerConfig = Object.freeze({
    genLength, steps: grid, blockLength, stepsPerBlock: grid / (genLength / blockLength), remasking: remasking as Remasking, temperature, eps: DREAM_EPS, ...x,
  });
  return { config, problems };
}

/** A request's sampler fields as {@link SamplerOverrides} (proto zero values: not given; an unknown remasking value is named). */
export function overridesFromProto(s: Partial<SamplerSettings> | undefined): SamplerOverrides {
  if (!s) return {};
  return {
    genLength: s.genLength || undefined,
    steps: s.steps || undefined,
    blockLength: s.blockLength || undefined,
    remasking: s.remasking ? FROM_PROTO.get(s.remasking) ?? `enum value ${s.remasking}` : undefined,
    temperature: s.temperature,
    extras: {
      mode: s.mode || undefined,
      threshold: s.confidenceThreshold,
      thresholdFactor: s.thresholdFactor,
      topP: s.topP,
      endConfidence: (s.endConfidence || undefined) as SamplerExtras['endConfidence'] | undefined,
      suppressEnd: s.suppressEnd || undefined,
      cfgScale: s.cfgScale || undefined,
      tieBreak: (s.tieBreak || undefined) as TieBreak | undefined,
      paraphrase: s.paraphrase ? paraphraseFromProto(s.paraphrase) : undefined,
    },
  };
}

/**
 * The agent's resolution of a request's settings: {@link resolveSamplerSettings} of the request
 * (over `extras`, over the card's defaults); throws BAD_SAMPLER naming every problem.
 */
export function resolveSampler(card: ModelCard, s: Partial<SamplerSettings> | undefined, extras: Partial<SamplerExtras> = {}): SamplerConfig {
  const r = resolveSamplerSettings(card, overridesFromProto(s), extras);
  if (r.problems.length) throw new AgentError(AgentErrorCode.BAD_SAMPLER, r.problems.join('; '));
  return r.config;
}

/**
 * Sampler settings as a sweep plan stores them and a request carries them (the fields of
 * {@link SamplerConfig} a request sends; `steps` is the resolved step grid). `extras` is absent
 * on plans stored before sampler modes (llada, every option off).
 */
export interface PlannedSampler {
  readonly genLength: number;
  readonly steps: number;
  readonly blockLength: number;
  readonly remasking: Remasking;
  readonly temperature: number;
  readonly extras?: SamplerExtras;
}

/** The {@link PlannedSampler} of resolved settings. */
export function plannedSampler(c: SamplerConfig): PlannedSampler {
  const { genLength, steps, blockLength, remasking, temperature, mode, threshold, thresholdFactor, topP, endConfidence, suppressEnd, cfgScale, tieBreak, paraphrase } = c;
  return { genLength, steps, blockLength, remasking, temperature, extras: { mode, threshold, thresholdFactor, topP, endConfidence, suppressEnd, cfgScale, tieBreak, paraphrase } };
}

/** The request's sampler fields of planned settings: what the agent resolves back to the same {@link SamplerConfig}. */
export function samplerToProto(s: PlannedSampler): SamplerSettings {
  const x = s.extras;
  return {
    genLength: s.genLength, steps: s.steps, blockLength: s.blockLength, remasking: REMASKING_PROTO[s.remasking], temperature: s.temperature,
    mode: x?.mode ?? '', endConfidence: x?.endConfidence ?? '', suppressEnd: x?.suppressEnd ?? false, cfgScale: x?.cfgScale ?? 0, tieBreak: x?.tieBreak ?? '',
    ...(x && x.threshold !== null ? { confidenceThreshold: x.threshold } : {}),
    ...(x && x.thresholdFactor !== null ? { thresholdFactor: x.thresholdFactor } : {}),
    ...(x && x.topP < 1 ? { topP: x.topP } : {}),
    ...(x?.paraphrase ? { paraphrase: paraphraseToProto(x.paraphrase) } : {}),
  };
}
