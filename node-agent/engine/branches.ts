/**
 * Turning an intervention into a branch: the clean state just before step t, corrupted.
 * Interventions whose outcome is already determined are answered here without compute:
 * probes (read out from the clean pass at t), no-op corruptions (the branch would equal the
 * clean run), and — unless disabled — corruptions made after the clean run had committed
 * its whole answer span, where the answer cannot change any more (committed tokens never
 * change) except by the corruption itself.
 */
import type { InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { REPLACE_TOKEN_STREAM, uniform } from '../sampler/rng.ts';
import type { BranchState } from '../sampler/step.ts';
import type { CleanRun } from './clean-run.ts';
import type { PreparedGroup, PreparedIntervention } from './prepare.ts';
import { answerAt, decode } from './text.ts';

/** A branch to run from step `start`. */
export interface Branch {
  readonly iv: PreparedIntervention;
  readonly start: number;
  readonly state: BranchState;
  /** Token placed by a replacement, else -1. */
  readonly token: number;
  computeSteps: number;
}

/** The clean state just before step `t`. */
export function stateBefore(g: PreparedGroup, clean: CleanRun, t: number): BranchState {
  const P = g.ctx.promptLen;
  const x = new Int32Array(g.ctx.seqLen).fill(g.ctx.maskId);
  x.set(g.promptIds);
  const commit = new Int32Array(g.cfg.genLength).fill(-1);
  for (let i = 0; i < g.cfg.genLength; i++) {
    if (clean.commit[i]! < t) {
      x[P + i] = clean.tokens[i]!;
      commit[i] = clean.commit[i]!;
    }
  }
  return { x, commit };
}

/** Candidate tokens of a random replacement: non-special, ascending id. */
function replaceableTokens(g: PreparedGroup): number[] {
  const out: number[] = [];
  for (let id = 0; id < g.model.card.vocab_size; id++) if (!g.model.tokenizer.specialIds.has(id) && id !== g.ctx.maskId) out.push(id);
  return out;
}

/** The token a replacement puts at p: never the clean run's final token there. */
export function replacementToken(g: PreparedGroup, clean: CleanRun, iv: Extract<PreparedIntervention, { kind: 'replace' }>): number {
  if (iv.variant === 'given') return iv.token;
  if (iv.variant === 'second') return clean.secondChoice.get(`${iv.step}:${iv.position}`) ?? -1;
  const choices = replaceableTokens(g).filter((id) => id !== clean.tokens[iv.position]);
  const u = uniform(g.ctx.seed, iv.step, g.ctx.promptLen + iv.position, REPLACE_TOKEN_STREAM);
  return choices[Math.floor(u * choices.length)]!;
}

/** Either a branch to run or the result, when it is determined without compute. */
export function makeBranch(g: PreparedGroup, clean: CleanRun, iv: PreparedIntervention): Branch | InterventionResult {
  const t = iv.step;
  const answerCommittedBefore = clean.answerCommitStep !== null && clean.answerCommitStep < t;
  const cleanAnswer = clean.spans.answerText;
  const base = { key: iv.key, answerCommittedBefore, tokens: [] as number[] };
  const sameAsClean = (positionCommittedBefore: boolean, token: number): InterventionResult => ({
    ...base,
    answer: cleanAnswer ?? undefined,
    text: clean.message.text,
    flipped: false,
    correct: clean.message.correct,
    positionCommittedBefore,
    token,
    changedTokens: 0,
    computeSteps: 0,
    skipped: true,
    tokens: g.returnTokens ? [...clean.tokens] : [],
    stoppedEarly: false,
  });

  if (iv.kind === 'probe') {
    const readout = clean.readouts.get(t) ?? clean.tokens;
    const answer = answerAt(g.model, readout, clean.spans.answer);
    let changed = 0;
    for (let i = 0; i < readout.length; i++) if (readout[i] !== clean.tokens[i]) changed++;
    return {
      ...base,
      answer: answer ?? undefined,
      text: decode(g.model, readout).text,
      flipped: answer !== cleanAnswer,
      correct: g.gold !== null && answer === g.gold,
      positionCommittedBefore: false,
      token: -1,
      changedTokens: changed,
      computeSteps: clean.readouts.has(t) ? 1 : 0,
      skipped: false,
      tokens: g.returnTokens ? [...readout] : [],
      stoppedEarly: false,
    };
  }

  const p = iv.position;
  const positionCommittedBefore = clean.commit[p]! < t;
  const state = stateBefore(g, clean, t);
  let token = -1;
  if (iv.kind === 'remask') {
    if (!positionCommittedBefore) return sameAsClean(false, -1);
    state.x[g.ctx.promptLen + p] = g.ctx.maskId;
    state.commit[p] = -1;
  } else {
    token = replacementToken(g, clean, iv);
    if (positionCommittedBefore && token === clean.tokens[p]) return sameAsClean(true, token);
    state.x[g.ctx.promptLen + p] = token;
    state.commit[p] = t;
  }

  const inAnswer = clean.spans.answer !== null && p >= clean.spans.answer.start && p < clean.spans.answer.end;
  if (g.skipDetermined && answerCommittedBefore && (!inAnswer || iv.kind === 'replace')) {
    // Every answer position is committed and stays so; only a replacement inside the
    // span changes it, and to a known value. Other positions may still change: unknown.
    const answer = answerAt(g.model, state.x.subarray(g.ctx.promptLen), clean.spans.answer);
    return {
      ...base,
      answer: answer ?? undefined,
      text: '',
      flipped: answer !== cleanAnswer,
      correct: g.gold !== null && answer === g.gold,
      positionCommittedBefore,
      token,
      changedTokens: undefined,
      computeSteps: 0,
      skipped: true,
      tokens: [],
      stoppedEarly: false,
    };
  }
  return { iv, start: t, state, token, computeSteps: 0 };
}

/** True when every position of `span` is committed in `b`'s state (its answer can no longer change). */
export function answerSettled(b: Branch, span: { start: number; end: number } | null): boolean {
  if (!span) return false;
  for (let i = span.start; i < span.end; i++) if (b.state.commit[i]! < 0) return false;
  return true;
}

/** The result of a branch that ran to the end, or (`complete` false) stopped once its answer settled. */
export function finishBranch(g: PreparedGroup, clean: CleanRun, b: Branch, complete = true): InterventionResult {
  const gen = b.state.x.subarray(g.ctx.promptLen);
  const answer = answerAt(g.model, gen, clean.spans.answer);
  const p = b.iv.kind === 'probe' ? -1 : b.iv.position;
  let changed = 0;
  for (let i = 0; i < gen.length; i++) if (i !== p && gen[i] !== clean.tokens[i]) changed++;
  return {
    key: b.iv.key,
    answer: answer ?? undefined,
    text: decode(g.model, gen).text,
    flipped: answer !== clean.spans.answerText,
    correct: g.gold !== null && answer === g.gold,
    answerCommittedBefore: clean.answerCommitStep !== null && clean.answerCommitStep < b.start,
    positionCommittedBefore: p >= 0 && clean.commit[p]! < b.start,
    token: b.token,
    changedTokens: complete ? changed : undefined,
    computeSteps: b.computeSteps,
    skipped: false,
    tokens: g.returnTokens && complete ? [...gen] : [],
    stoppedEarly: !complete,
  };
}
