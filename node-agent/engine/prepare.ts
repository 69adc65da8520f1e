/**
 * Validation of a RunGroup request against the loaded models, before any compute. Every
 * problem is an {@link AgentError} naming the bad field (and the intervention's key).
 */
import type { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import type { OnnxModel } from '../model/onnx-model.ts';
import { normalizeAnswer } from '../../common/model/card.ts';
import type { SamplerConfig } from '../../common/sampler/settings.ts';
import { resolveSampler } from '../../common/sampler/settings.ts';
import { interventionChecks } from '../../common/interventions/checks.ts';
import type { StepContext } from '../sampler/step.ts';
import type { ResolvedParaphraser } from '../paraphrase/remask.ts';
import { resolveParaphraser } from '../paraphrase/resolve.ts';

/**
 * A validated intervention. Positions are generated-region offsets. END_TOKEN becomes a
 * `given` replacement by the card's end_token_id.
 */
export type PreparedIntervention =
  | { readonly key: string; readonly kind: 'probe'; readonly step: number }
  | { readonly key: string; readonly kind: 'remask'; readonly step: number; readonly position: number }
  | { readonly key: string; readonly kind: 'replace'; readonly step: number; readonly position: number; readonly variant: 'random' | 'second' | 'given'; readonly token: number };

/** A validated work unit. */
export interface PreparedGroup {
  readonly model: OnnxModel;
  readonly cfg: SamplerConfig;
  readonly ctx: StepContext;
  readonly promptIds: readonly number[];
  readonly interventions: readonly PreparedIntervention[];
  /** Normalised gold answer, or null when unknown. */
  readonly gold: string | null;
  readonly filmStrip: boolean;
  readonly skipDetermined: boolean;
  readonly maxBatch: number;
  readonly returnTokens: boolean;
  /**
   * A stored clean run to resume from (RunGroupRequest.clean): final token and commit step per
   * generated position, both of length gen_length; null to run the clean trajectory.
   */
  readonly resume: { readonly tokens: Int32Array; readonly commit: Int32Array } | null;
  /** The paraphraser of paraphrase-remask sampling (`cfg.paraphrase`), or null when off. */
  readonly paraphraser: ResolvedParaphraser | null;
  /** Rewrites made in this work unit (by seed and text), shared by the clean run and its branches. */
  readonly rewrites: Map<string, { name: string; text: string }>;
}


/**
 * Validates `req`; throws MODEL_NOT_FOUND, BAD_SAMPLER, BAD_INTERVENTION or BAD_REQUEST.
 * `paraphraseCommands`: the external paraphrase commands configured on this agent (`cmd:NAME`).
 */
export function prepareGroup(models: ReadonlyMap<string, OnnxModel>, req: RunGroupRequest, agentMaxBatch: number, paraphraseCommands: ReadonlyMap<string, readonly string[]> = new Map()): PreparedGroup {
  const model = models.get(req.model);
  if (!model) {
    throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `model '${req.model}' is not loaded on this agent (loaded: ${[...models.keys()].join(', ') || 'none'})`);
  }
  const { card, tokenizer } = model;
  if (card.kind === 'autoregressive') {
    throw new AgentError(AgentErrorCode.BAD_REQUEST, `model '${req.model}' is autoregressive: the diffusion sampler cannot run it (the agent runs it with node-agent/engine/autoregressive.ts)`);
  }
  if (req.modelSha256 && req.modelSha256 !== card.sha256) {
    throw new AgentError(AgentErrorCode.MODEL_NOT_FOUND, `model '${req.model}' here has sha256 ${card.sha256.slice(0, 12)}…, the request asks for ${req.modelSha256.slice(0, 12)}…`);
  }
  const cfg = resolveSampler(card, req.sampler);
  if (model.fusedTopK) {
    // Under fused top-k the sampler sees only the K most probable tokens (log-probabilities over the
    // full vocabulary). Exact: temperature 0 with low_confidence, topk_margin (K >= 2) or random
    // remasking. Not exact, so refused rather than silently truncated: Gumbel sampling at
    // temperature > 0 (a token outside the K could win) and entropy (the tail's mass is missing).
    // docs/gpu.md "Vocabulary-sized memory".
    const why = cfg.temperature > 0 ? `temperature ${cfg.temperature} > 0 (sampling would be truncated to the top ${model.outputWidth})`
      : cfg.remasking === 'entropy' ? `remasking entropy (the entropy of the top ${model.outputWidth} is not the full vocabulary's)`
      : cfg.cfgScale > 0 ? `cfg_scale ${cfg.cfgScale} (guidance combines full logits; the top ${model.outputWidth} of the two passes differ)`
      : cfg.topP < 1 ? `top_p ${cfg.topP} (the nucleus needs the full distribution)` : null;
    if (why !== null) {
      throw new AgentError(AgentErrorCode.BAD_SAMPLER, `model '${req.model}' has fused top-${model.outputWidth} outputs, which are not exact for ${why}: use temperature 0 with low_confidence, topk_margin or random remasking, or a full-logit export of the model`);
    }
  }
  const promptIds = req.promptIds.length > 0 ? [...req.promptIds] : tokenizer.encode(req.prompt);
  if (promptIds.length === 0) throw new AgentError(AgentErrorCode.BAD_REQUEST, 'the prompt is empty');
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= card.vocab_size || id === card.mask_token_id) {
      throw new AgentError(AgentErrorCode.BAD_REQUEST, `prompt token id ${id} is not a valid non-mask token (vocab_size ${card.vocab_size})`);
    }
  }
  if (promptIds.length + cfg.genLength > card.max_seq_len) {
    throw new AgentError(AgentErrorCode.BAD_REQUEST, `prompt (${promptIds.length} tokens) + gen_length ${cfg.genLength} exceeds the model's max_seq_len ${card.max_seq_len}`);
  }
  const seen = new Set<string>();
  const interventions = req.interventions.map((iv, n): PreparedIntervention => {
    const bad = (why: string) => new AgentError(AgentErrorCode.BAD_INTERVENTION, `intervention #${n} (key '${iv.key}'): ${why}`);
    if (seen.has(iv.key)) throw bad('duplicate key');
    seen.add(iv.key);
    const badStep = interventionChecks.step(iv.step, cfg);
    if (badStep) throw bad(badStep);
    if (iv.kind === InterventionKind.PROBE) return { key: iv.key, kind: 'probe', step: iv.step };
    const badPosition = interventionChecks.position(iv.position, cfg);
    if (badPosition) throw bad(badPosition);
    if (iv.kind === InterventionKind.REMASK) return { key: iv.key, kind: 'remask', step: iv.step, position: iv.position };
    if (iv.kind !== InterventionKind.REPLACE) throw bad('kind must be REPLACE, REMASK or PROBE');
    switch (iv.variant) {
      case ReplaceVariant.RANDOM_TOKEN:
        return { key: iv.key, kind: 'replace', step: iv.step, position: iv.position, variant: 'random', token: -1 };
      case ReplaceVariant.SECOND_CHOICE:
        return { key: iv.key, kind: 'replace', step: iv.step, position: iv.position, variant: 'second', token: -1 };
      case ReplaceVariant.GIVEN_TOKEN: {
        const badToken = interventionChecks.givenToken(iv.token, card, tokenizer.specialIds);
        if (badToken) throw bad(badToken);
        return { key: iv.key, kind: 'replace', step: iv.step, position: iv.position, variant: 'given', token: iv.token };
      }
      case ReplaceVariant.END_TOKEN:
        return { key: iv.key, kind: 'replace', step: iv.step, position: iv.position, variant: 'given', token: card.end_token_id };
      default:
        throw bad('REPLACE needs a variant: RANDOM_TOKEN, SECOND_CHOICE, GIVEN_TOKEN or END_TOKEN');
    }
  });
  let resume: PreparedGroup['resume'] = null;
  if (req.clean) {
    const { tokens, commitStep } = req.clean;
    if (tokens.length !== cfg.genLength || commitStep.length !== cfg.genLength) {
      throw new AgentError(AgentErrorCode.BAD_REQUEST, `clean: ${tokens.length} tokens and ${commitStep.length} commit steps, expected gen_length ${cfg.genLength} of each`);
    }
    const badToken = tokens.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= card.vocab_size || id === card.mask_token_id);
    if (badToken >= 0) throw new AgentError(AgentErrorCode.BAD_REQUEST, `clean: token ${tokens[badToken]} at position ${badToken} is not a non-mask token of the vocabulary (vocab_size ${card.vocab_size})`);
    const badCommit = commitStep.findIndex((s) => !Number.isInteger(s) || s < 0 || s >= cfg.steps);
    if (badCommit >= 0) throw new AgentError(AgentErrorCode.BAD_REQUEST, `clean: commit step ${commitStep[badCommit]} at position ${badCommit} is outside [0, ${cfg.steps})`);
    resume = { tokens: Int32Array.from(tokens), commit: Int32Array.from(commitStep) };
  }
  const maxBatch = req.maxBatch > 0 ? Math.min(req.maxBatch, agentMaxBatch) : agentMaxBatch;
  const paraphraser = cfg.paraphrase ? resolveParaphraser(cfg.paraphrase, paraphraseCommands) : null;
  return {
    model,
    cfg,
    ctx: { cfg, seed: req.seed >>> 0, promptLen: promptIds.length, seqLen: promptIds.length + cfg.genLength, maskId: card.mask_token_id, shifted: card.logits_shifted, endIds: new Set(card.end_token_ids) },
    promptIds,
    interventions,
    gold: req.goldAnswer ? normalizeAnswer(card, req.goldAnswer) : null,
    filmStrip: req.recordFilmStrip,
    // Under paraphrase-remask committed tokens can change at a later event: no outcome is settled early.
    skipDetermined: !req.disableSkip && !cfg.paraphrase,
    maxBatch,
    returnTokens: req.returnTokens,
    // A stored clean run cannot be rebuilt from commit steps when events rewrote it: run it again (deterministic).
    resume: cfg.paraphrase ? null : resume,
    paraphraser,
    rewrites: new Map(),
  };
}
