/**
 * Turning an intervention into a branch: the clean state just before step t, corrupted.
 * Interventions whose outcome is already determined are answered here without compute:
 * probes (read out from the clean pass at t), no-op corruptions (the branch would equal the
 * clean run), and — unless disabled — corruptions after which the branch's outcome is
 * already settled by the card's answer rule ({@link outcomeSettled}): committed tokens never
 * change, so the answer is then exactly what running the branch to the end would give.
 */
import type { InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { REPLACE_TOKEN_STREAM, uniform } from '../sampler/rng.ts';
import type { BranchState } from '../sampler/step.ts';
import type { CleanRun } from './clean-run.ts';
import type { PreparedGroup, PreparedIntervention } from './prepare.ts';
import { anyMasked } from './clean-run.ts';
import { answerOf, decode, outcomeOf, outcomeSettled, responseSettled } from './text.ts';

/** A branch to run from step `start`. */
export interface Branch {
  readonly iv: PreparedIntervention;
  readonly start: number;
  readonly state: BranchState;
  /** Token placed by a replacement, else -1. */
  readonly token: number;
  /** The position was committed in the clean state before `start` (paraphrase-remask: read from that state). */
  readonly positionCommittedBefore?: boolean;
  computeSteps: number;
}

/** The clean state just before step `t`. */
export function stateBefore(g: PreparedGroup, clean: CleanRun, t: number): BranchState {
  if (clean.before) {
    // Paraphrase-remask: the recorded state (events rewrote tokens; past the run's end, the final state).
    const at = clean.before[t];
    if (at) return { x: at.x.slice(), commit: at.commit.slice() };
    const x = new Int32Array(g.ctx.seqLen);
    x.set(g.promptIds);
    x.set(clean.tokens, g.ctx.promptLen);
    return { x, commit: clean.commit.slice() };
  }
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

/** How a branch ended. */
interface Ending {
  /** Answered without compute. */
  readonly skipped: boolean;
  /** Stopped with masked positions left because its outcome was settled. */
  readonly stoppedEarly: boolean;
}

/**
 * The result of a branch from its state: final when nothing is masked, else (skipped or
 * stopped early) its settled outcome, with `changed_tokens` absent and the text marked
 * partial unless its response is settled too.
 */
function branchResult(g: PreparedGroup, clean: CleanRun, b: Branch, end: Ending): InterventionResult {
  const gen = b.state.x.subarray(g.ctx.promptLen);
  const complete = !anyMasked(b.state);
  const decoded = decode(g.model, gen);
  const answer = answerOf(g.model, clean.spans, gen, decoded);
  const p = b.iv.kind === 'probe' ? -1 : b.iv.position;
  let changed = 0;
  for (let i = 0; i < gen.length; i++) if (i !== p && gen[i] !== clean.tokens[i]) changed++;
  return {
    key: b.iv.key,
    answer: answer ?? undefined,
    text: decoded.text,
    flipped: answer !== clean.spans.answerText,
    correct: g.gold !== null && answer === g.gold,
    answerCommittedBefore: clean.answerCommitStep !== null && clean.answerCommitStep < b.start,
    positionCommittedBefore: b.positionCommittedBefore ?? (p >= 0 && clean.commit[p]! < b.start),
    token: b.token,
    changedTokens: complete ? changed : undefined,
    computeSteps: b.computeSteps,
    skipped: end.skipped,
    tokens: g.returnTokens && complete ? [...gen] : [],
    stoppedEarly: end.stoppedEarly,
    textPartial: !complete && !responseSettled(g.model.card, gen, b.state.commit),
    outcome: outcomeOf(answer, clean.spans.answerText),
  };
}

/** Either a branch to run or the result, when it is determined without compute. */
export function makeBranch(g: PreparedGroup, clean: CleanRun, iv: PreparedIntervention): Branch | InterventionResult {
  const t = iv.step;
  const answerCommittedBefore = clean.answerCommitStep !== null && clean.answerCommitStep < t;
  const cleanAnswer = clean.spans.answerText;
  const sameAsClean = (positionCommittedBefore: boolean, token: number): InterventionResult => ({
    key: iv.key,
    answer: cleanAnswer ?? undefined,
    text: clean.message.text,
    flipped: false,
    correct: clean.message.correct,
    answerCommittedBefore,
    positionCommittedBefore,
    token,
    changedTokens: 0,
    computeSteps: 0,
    skipped: true,
    tokens: g.returnTokens ? [...clean.tokens] : [],
    stoppedEarly: false,
    textPartial: false,
    outcome: outcomeOf(cleanAnswer, cleanAnswer),
  });

  if (iv.kind === 'probe') {
    const readout = clean.readouts.get(t) ?? clean.tokens;
    const decoded = decode(g.model, readout);
    const answer = answerOf(g.model, clean.spans, readout, decoded);
    let changed = 0;
    for (let i = 0; i < readout.length; i++) if (readout[i] !== clean.tokens[i]) changed++;
    return {
      key: iv.key,
      answer: answer ?? undefined,
      text: decoded.text,
      flipped: answer !== cleanAnswer,
      correct: g.gold !== null && answer === g.gold,
      answerCommittedBefore,
      positionCommittedBefore: false,
      token: -1,
      changedTokens: changed,
      computeSteps: clean.readouts.has(t) ? 1 : 0,
      skipped: false,
      tokens: g.returnTokens ? [...readout] : [],
      stoppedEarly: false,
      textPartial: false,
      outcome: outcomeOf(answer, cleanAnswer),
    };
  }

  const p = iv.position;
  const state = stateBefore(g, clean, t);
  const positionCommittedBefore = clean.before ? state.commit[p]! >= 0 : clean.commit[p]! < t;
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
  const branch: Branch = { iv, start: t, state, token, computeSteps: 0, positionCommittedBefore };
  if (g.skipDetermined && outcomeSettled(g.model, clean.spans, state.x.subarray(g.ctx.promptLen), state.commit)) {
    return branchResult(g, clean, branch, { skipped: true, stoppedEarly: false });
  }
  return branch;
}

/** True when `b`'s outcome is settled by the card's answer rule (it may stop early). */
export function branchSettled(g: PreparedGroup, clean: CleanRun, b: Branch): boolean {
  return outcomeSettled(g.model, clean.spans, b.state.x.subarray(g.ctx.promptLen), b.state.commit);
}

/** The result of a branch that ran to the end, or stopped early once its outcome was settled. */
export function finishBranch(g: PreparedGroup, clean: CleanRun, b: Branch): InterventionResult {
  return branchResult(g, clean, b, { skipped: false, stoppedEarly: anyMasked(b.state) });
}
