/**
 * The clean (uncorrupted) trajectory of a work unit, run once. Besides the trajectory it
 * keeps what the interventions need from the clean forward passes: the greedy read-out at
 * every probed step and the model's best alternative token at every (step, position) that
 * a `replace: second` intervention names. Every other intermediate state is recovered
 * exactly from the per-position commit steps.
 */
import type { CleanTrajectory, FilmFrame, ParaphraseEvent } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { Scores } from '../model/onnx-model.ts';
import type { BranchState } from '../sampler/step.ts';
import { applyStep, argmaxAt, bestOtherAt, candidates, quota, scoreOffset } from '../sampler/step.ts';
import type { PreparedGroup } from './prepare.ts';
import type { Spans } from './text.ts';
import { decode, findSpans, spanCommitStep } from './text.ts';
import { stepBoundary } from './abort.ts';
import { forwardStep } from './guided.ts';
import type { EventGroup } from '../paraphrase/remask.ts';
import { applyParaphraseEvent, isEventStep, lastEventStep } from '../paraphrase/remask.ts';

/** The clean run and what the interventions need from it. */
export interface CleanRun {
  readonly tokens: Int32Array;
  readonly commit: Int32Array;
  readonly spans: Spans;
  readonly answerCommitStep: number | null;
  /** Greedy read-out of the generated region just before step t (probes). */
  readonly readouts: ReadonlyMap<number, Int32Array>;
  /** Best alternative token at `${t}:${p}` (second-choice replacements). */
  readonly secondChoice: ReadonlyMap<string, number>;
  readonly message: CleanTrajectory;
  readonly forwardPasses: number;
  /**
   * Paraphrase-remask sampling only: the state just before each step t (index t), since events
   * rewrite committed tokens and the final commit steps no longer give the intermediate states.
   * Steps past the end of the run are the final state.
   */
  readonly before: readonly BranchState[] | null;
}

/** The paraphrase-remask view of a prepared group (null when paraphrase is off). */
export function eventGroup(g: PreparedGroup): EventGroup | null {
  if (!g.cfg.paraphrase || !g.paraphraser) return null;
  return { model: g.model, ctx: g.ctx, paraphrase: g.cfg.paraphrase, paraphraser: g.paraphraser, rewrites: g.rewrites, forward: (x) => forwardStep(g.model, g.ctx, x, 1) };
}

/** True when some generated position is still masked. */
export function anyMasked(b: BranchState): boolean {
  return b.commit.some((c) => c < 0);
}

/** A fresh all-masked state for `g`. */
export function initialState(g: PreparedGroup): BranchState {
  const x = new Int32Array(g.ctx.seqLen).fill(g.ctx.maskId);
  x.set(g.promptIds);
  return { x, commit: new Int32Array(g.cfg.genLength).fill(-1) };
}

/** Runs the clean trajectory of `g` from the all-masked state. */
async function runFresh(g: PreparedGroup, signal: AbortSignal): Promise<CleanRun> {
  const { ctx, cfg, model } = g;
  const P = ctx.promptLen;
  const { probeSteps, secondAt } = neededPasses(g);
  const state = { ...initialState(g), margins: new Float64Array(cfg.steps).fill(NaN) };
  const readouts = new Map<number, Int32Array>();
  const secondScores = new Map<string, Scores>();
  const frames: FilmFrame[] = [];
  let passes = 0;
  const eg = eventGroup(g);
  const events: ParaphraseEvent[] = [];
  const before: BranchState[] | null = eg ? [] : null;
  const lastEvent = lastEventStep(cfg.paraphrase, cfg.steps);

  // Past the last commit only second-choice replacements still need a pass (probes then read the
  // final state), and paraphrase events (which may remask) still follow their steps.
  const lastSecond = Math.max(-1, ...secondAt.keys());
  for (let s = 0; s < cfg.steps && (anyMasked(state) || s <= lastSecond || s <= lastEvent); s++) {
    await stepBoundary(signal);
    before?.push({ x: state.x.slice(), commit: state.commit.slice() });
    // A step with nothing to commit (Fast-dLLM's block filled early, steps > gen_length) needs
    // no pass unless a probe or a second-choice replacement reads it.
    if (quota(ctx, s, candidates(state, ctx, s).length) > 0 || probeSteps.has(s) || secondAt.has(s) || g.filmStrip) {
      const scores = await forwardStep(model, ctx, state.x, 1);
      passes++;
      if (probeSteps.has(s) || g.filmStrip) {
        const guess = new Int32Array(cfg.genLength);
        for (let i = 0; i < cfg.genLength; i++) guess[i] = state.commit[i]! >= 0 ? state.x[P + i]! : argmaxAt(scores, scoreOffset(scores, ctx, 0, P + i));
        if (probeSteps.has(s)) readouts.set(s, guess);
        if (g.filmStrip) frames.push({ step: s, guess: [...guess] });
      }
      keepSecondScores(g, scores, s, secondAt, secondScores);
      applyStep(state, ctx, s, scores, 0);
    }
    if (eg && isEventStep(cfg.paraphrase, cfg.steps, s)) {
      const r = await applyParaphraseEvent(eg, state, s, signal);
      events.push(r.event);
      passes += r.passes;
    }
  }
  return finish(g, state.x.slice(P), state.commit, readouts, secondScores, frames, passes, state.margins, events, before);
}

/** The steps at which a clean pass is needed for probes, and the positions of second-choice replacements by step. */
function neededPasses(g: PreparedGroup): { probeSteps: Set<number>; secondAt: Map<number, number[]> } {
  const probeSteps = new Set(g.interventions.filter((iv) => iv.kind === 'probe').map((iv) => iv.step));
  const secondAt = new Map<number, number[]>();
  for (const iv of g.interventions) {
    if (iv.kind === 'replace' && iv.variant === 'second') secondAt.set(iv.step, [...(secondAt.get(iv.step) ?? []), iv.position]);
  }
  return { probeSteps, secondAt };
}

/**
 * Keeps the scores of every second-choice position of step `s`: the alternative is ranked
 * once the final clean token (which it must differ from) is known.
 */
function keepSecondScores(g: PreparedGroup, scores: Scores, s: number, secondAt: ReadonlyMap<number, number[]>, out: Map<string, Scores>): void {
  for (const p of secondAt.get(s) ?? []) {
    const off = scoreOffset(scores, g.ctx, 0, g.ctx.promptLen + p);
    out.set(`${s}:${p}`, { values: scores.values.slice(off, off + scores.width), ids: scores.ids?.slice(off, off + scores.width) ?? null, width: scores.width, normalized: scores.normalized });
  }
}

/**
 * Rebuilds the clean run from a stored one (`g.resume`) instead of running it: the state just
 * before step s holds exactly the positions committed before s, so only the steps that probes
 * and second-choice replacements read cost a forward pass each (the same passes, on the same
 * states, as the fresh run's). No film strip. Equal to {@link runFresh}'s result for the
 * interventions of `g` when the stored run is the one this agent would compute.
 */
async function runResumed(g: PreparedGroup, resume: NonNullable<PreparedGroup['resume']>, signal: AbortSignal): Promise<CleanRun> {
  const { ctx, cfg, model } = g;
  const P = ctx.promptLen;
  const { probeSteps, secondAt } = neededPasses(g);
  const lastCommit = Math.max(-1, ...resume.commit);
  const readouts = new Map<number, Int32Array>();
  const secondScores = new Map<string, Scores>();
  let passes = 0;
  // The fresh run makes a pass at s while a position is masked (s <= last commit step) or a
  // second choice at s needs one; probes past the last commit read the final state.
  const steps = [...new Set([...[...probeSteps].filter((s) => s <= lastCommit), ...secondAt.keys()])].sort((a, b) => a - b);
  for (const s of steps) {
    await stepBoundary(signal);
    const x = new Int32Array(ctx.seqLen).fill(ctx.maskId);
    x.set(g.promptIds);
    for (let i = 0; i < cfg.genLength; i++) if (resume.commit[i]! < s) x[P + i] = resume.tokens[i]!;
    const scores = await forwardStep(model, ctx, x, 1);
    passes++;
    if (probeSteps.has(s)) {
      const guess = new Int32Array(cfg.genLength);
      for (let i = 0; i < cfg.genLength; i++) guess[i] = resume.commit[i]! < s ? x[P + i]! : argmaxAt(scores, scoreOffset(scores, ctx, 0, P + i));
      readouts.set(s, guess);
    }
    keepSecondScores(g, scores, s, secondAt, secondScores);
  }
  // The commit margins are the stored run's (not recomputed): NaN here, as for a step that committed nothing.
  return finish(g, resume.tokens.slice(), resume.commit.slice(), readouts, secondScores, [], passes, new Float64Array(cfg.steps).fill(NaN));
}

/**
 * The clean run of `g`: run from the all-masked state, or rebuilt from `g.resume` (a stored
 * clean run sent with the request) so that a work unit split across calls computes it once.
 */
export function runClean(g: PreparedGroup, signal: AbortSignal): Promise<CleanRun> {
  return g.resume ? runResumed(g, g.resume, signal) : runFresh(g, signal);
}

/** The clean run's spans, answer, second choices and message, from its final tokens and commit steps. */
function finish(g: PreparedGroup, tokens: Int32Array, commit: Int32Array, readouts: Map<number, Int32Array>, secondScores: ReadonlyMap<string, Scores>, frames: FilmFrame[], passes: number, margins: Float64Array, events: ParaphraseEvent[] = [], before: BranchState[] | null = null): CleanRun {
  const { model } = g;
  const special = model.tokenizer.specialIds;

  const decoded = decode(model, tokens);
  const spans = findSpans(model, decoded);
  const secondChoice = new Map<string, number>();
  for (const [k, sc] of secondScores) secondChoice.set(k, bestOtherAt(sc, 0, tokens[Number(k.split(':')[1])]!, special));
  const answerCommitStep = spanCommitStep(commit, spans.answer);
  const cotCommitStep = spanCommitStep(commit, spans.cot);
  const message: CleanTrajectory = {
    promptIds: [...g.promptIds],
    tokens: [...tokens],
    commitStep: [...commit],
    text: decoded.text,
    answer: spans.answerText ?? undefined,
    cotSpan: spans.cot ?? undefined,
    answerSpan: spans.answer ?? undefined,
    answerCommitStep: answerCommitStep ?? undefined,
    cotCommitStep: cotCommitStep ?? undefined,
    correct: g.gold !== null && spans.answerText === g.gold,
    filmStrip: frames,
    computeSteps: passes,
    commitMargin: [...margins],
    paraphraseEvents: events,
  };
  return { tokens, commit, spans, answerCommitStep, readouts, secondChoice, message, forwardPasses: passes, before };
}
