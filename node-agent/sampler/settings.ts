/**
 * Sampler settings: a request's overrides on top of the model card's defaults, validated
 * once (BAD_SAMPLER naming the field) into a frozen {@link SamplerConfig}.
 */
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { Remasking as ProtoRemasking } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ModelCard } from '../model/card.ts';

/** How a step ranks the masked positions it may commit. */
export type Remasking = 'low_confidence' | 'random' | 'entropy' | 'topk_margin';

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

/** The remasking strategies by name. */
export const REMASKINGS: readonly Remasking[] = ['low_confidence', 'random', 'entropy', 'topk_margin'];

/** Resolves and validates settings; throws BAD_SAMPLER. */
export function resolveSampler(card: ModelCard, s: Partial<SamplerSettings> | undefined): SamplerConfig {
  const bad = (msg: string) => new AgentError(AgentErrorCode.BAD_SAMPLER, msg);
  const genLength = s?.genLength || card.defaults.gen_length;
  const steps = s?.steps || card.defaults.steps;
  const blockLength = s?.blockLength || (s?.genLength ? genLength : card.defaults.block_length);
  const remasking = s?.remasking ? FROM_PROTO[s.remasking] : (card.defaults.remasking as Remasking);
  const temperature = s?.temperature ?? card.defaults.temperature;
  const threshold = s?.confidenceThreshold ?? null;
  for (const [k, v] of Object.entries({ genLength, steps, blockLength })) {
    if (!Number.isInteger(v) || v <= 0) throw bad(`${k} must be a positive integer (got ${v})`);
  }
  if (genLength % blockLength !== 0) throw bad(`gen_length ${genLength} is not divisible by block_length ${blockLength}`);
  const blocks = genLength / blockLength;
  if (steps % blocks !== 0) throw bad(`steps ${steps} is not divisible by the number of blocks ${blocks} (gen_length / block_length)`);
  if (!remasking || !REMASKINGS.includes(remasking)) throw bad(`remasking must be one of ${REMASKINGS.join(', ')}`);
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw bad(`temperature must be >= 0 (got ${temperature})`);
  if (threshold !== null && !(threshold > 0 && threshold <= 1)) throw bad(`confidence_threshold must be in (0, 1] (got ${threshold})`);
  return Object.freeze({ genLength, steps, blockLength, stepsPerBlock: steps / blocks, remasking, temperature, threshold });
}
