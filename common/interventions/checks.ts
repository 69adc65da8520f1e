/**
 * The checks an agent makes on each intervention of a request, in one place so that `plan`
 * refuses exactly what an agent would refuse (docs/spec.md: nothing is written for bad input).
 */
import type { ModelCard } from '../model/card.ts';
import type { SamplerConfig } from '../sampler/settings.ts';

/**
 * The agent's checks of one intervention's step, position and given token, one sentence
 * each (null when valid). Shared by the agent (node-agent/engine/prepare.ts) and `faithsweep
 * plan` (orchestrator/sweep/plan.ts), which runs them on the spec's explicit grid steps, positions and tokens before anything is written.
 */
export const interventionChecks = {
  /** `step` must be a denoising step of the sampler: [0, steps). */
  step: (step: number, cfg: Pick<SamplerConfig, 'steps'>): string | null =>
    Number.isInteger(step) && step >= 0 && step < cfg.steps ? null : `step ${step} is outside [0, ${cfg.steps})`,
  /** `position` must be a generated position: [0, gen_length). */
  position: (position: number, cfg: Pick<SamplerConfig, 'genLength'>): string | null =>
    Number.isInteger(position) && position >= 0 && position < cfg.genLength ? null : `position ${position} is outside [0, ${cfg.genLength})`,
  /**
   * A given replacement token must be a non-special token of the vocabulary or one of the
   * card's end tokens (truncation); never the mask token. `specialIds`: the tokenizer's.
   */
  givenToken: (token: number, card: Pick<ModelCard, 'vocab_size' | 'mask_token_id' | 'end_token_ids'>, specialIds: ReadonlySet<number>): string | null => {
    const isEnd = card.end_token_ids.includes(token);
    const ok = Number.isInteger(token) && token >= 0 && token < card.vocab_size && token !== card.mask_token_id && (!specialIds.has(token) || isEnd);
    return ok ? null : `token ${token} is not a non-special token of the vocabulary (vocab_size ${card.vocab_size}) nor one of the end tokens [${card.end_token_ids.join(', ')}]`;
  },
};
