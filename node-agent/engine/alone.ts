/**
 * The naive path: one intervention run as its own full sampling run from scratch, batch 1
 * (the clean prefix re-computed, the corruption applied just before step t, then the rest).
 * It is the reference the forked path must equal and the baseline of the benchmark.
 */
import type { InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { applyStep, bestOtherAt, quota, candidates, scoreOffset } from '../sampler/step.ts';
import type { Branch } from './branches.ts';
import { finishBranch, replacementToken } from './branches.ts';
import type { CleanRun } from './clean-run.ts';
import { eventGroup, initialState } from './clean-run.ts';
import { applyParaphraseEvent, isEventStep } from '../paraphrase/remask.ts';
import type { PreparedGroup, PreparedIntervention } from './prepare.ts';
import { forwardStep } from './guided.ts';

/**
 * Runs `iv` alone. `clean` supplies only what defines the cell (the clean answer and spans
 * to compare with, and the clean final token a replacement must differ from); the
 * trajectory itself is recomputed. Probes are not supported (they need no run of their own).
 */
export async function runAlone(g: PreparedGroup, clean: CleanRun, iv: Exclude<PreparedIntervention, { kind: 'probe' }>): Promise<InterventionResult> {
  const { ctx, cfg, model } = g;
  const state = initialState(g);
  const P = ctx.promptLen;
  let token = -1;
  let computeSteps = 0;
  let committedBefore = false;
  const eg = eventGroup(g);
  for (let s = 0; s < cfg.steps; s++) {
    if (s === iv.step) {
      committedBefore = state.commit[iv.position]! >= 0;
      if (iv.kind === 'remask') {
        if (state.commit[iv.position]! >= 0) {
          state.x[P + iv.position] = ctx.maskId;
          state.commit[iv.position] = -1;
        }
      } else {
        if (iv.variant === 'second') {
          const scores = await forwardStep(model, ctx, state.x, 1);
          token = bestOtherAt(scores, scoreOffset(scores, ctx, 0, P + iv.position), clean.tokens[iv.position]!, model.tokenizer.specialIds);
        } else {
          token = replacementToken(g, clean, iv);
        }
        state.x[P + iv.position] = token;
        state.commit[iv.position] = s;
      }
    }
    if (quota(ctx, s, candidates(state, ctx, s).length) > 0) {
      const scores = await forwardStep(model, ctx, state.x, 1);
      if (s >= iv.step) computeSteps++;
      applyStep(state, ctx, s, scores, 0);
    }
    if (eg && isEventStep(cfg.paraphrase, cfg.steps, s)) {
      const r = await applyParaphraseEvent(eg, state, s, new AbortController().signal);
      if (s >= iv.step) computeSteps += r.passes;
    }
  }
  const branch: Branch = { iv, start: iv.step, state, token, computeSteps, ...(eg ? { positionCommittedBefore: committedBefore } : {}) };
  return finishBranch(g, clean, branch);
}
