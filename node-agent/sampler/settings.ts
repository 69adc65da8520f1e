/**
 * Sampler settings: a request's overrides on top of the model card's defaults, validated
 * once (BAD_SAMPLER naming the field) into a frozen {@link SamplerConfig}.
 */
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { Remasking as ProtoRemasking } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ModelCard } from '../model/card.ts';

/** The remasking strategies by name (the one list: the spec schema and the agent use it). */
export const REMASKINGS = ['low_confidence', 'random', 'entropy', 'topk_margin'] as const;

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
  /** Fast-dLLM confidence threshold, or null when off. */
  readonly threshold: number | null;
}

const FROM_PROTO: Record<number, Remasking | undefined> = {
  [ProtoRemasking.LOW_CONFIDENCE]: 'low_confidence',
  [ProtoRemasking.RANDOM]: 'random',
  [ProtoRemasking.ENTROPY]: 'entropy',
  [ProtoRemasking.TOPK_MARGIN]: 'topk_margin',
};

/** Sampler settings before validation (a request's, or a spec's overrides on the card's defaults). */
export interface SamplerValues {
  readonly genLength: number;
  readonly steps: number;
  readonly blockLength: number;
  readonly remasking: string | undefined;
  readonly temperature: number;
  readonly threshold?: number | null;
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
  if (!v.remasking || !(REMASKINGS as readonly string[]).includes(v.remasking)) out.push(`remasking must be one of ${REMASKINGS.join(', ')}`);
  if (!(v.temperature >= 0) || !Number.isFinite(v.temperature)) out.push(`temperature must be >= 0 (got ${v.temperature})`);
  const t = v.threshold ?? null;
  if (t !== null && !(t > 0 && t <= 1)) out.push(`confidence_threshold must be in (0, 1] (got ${t})`);
  return out;
}

/** Resolves and validates settings; throws BAD_SAMPLER. */
export function resolveSampler(card: ModelCard, s: Partial<SamplerSettings> | undefined): SamplerConfig {
  const bad = (msg: string) => new AgentError(AgentErrorCode.BAD_SAMPLER, msg);
  const genLength = s?.genLength || card.defaults.gen_length;
  const steps = s?.steps || card.defaults.steps;
  const blockLength = s?.blockLength || (s?.genLength ? genLength : card.defaults.block_length);
  const remasking = s?.remasking ? FROM_PROTO[s.remasking] : (card.defaults.remasking as Remasking);
  const temperature = s?.temperature ?? card.defaults.temperature;
  const threshold = s?.confidenceThreshold ?? null;
  const problems = samplerProblems({ genLength, steps, blockLength, remasking, temperature, threshold });
  if (problems.length) throw bad(problems.join('; '));
  const blocks = genLength / blockLength;
  return Object.freeze({ genLength, steps, blockLength, stepsPerBlock: steps / blocks, remasking: remasking!, temperature, threshold });
}
