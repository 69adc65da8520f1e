/**
 * One paraphrase-remask event (docs/paraphrase.md): after step e's commits, the response part of
 * the generated region is written as text (masked positions as the card's mask token string),
 * paraphrased, re-tokenised and re-laid into the region, and a share of the committed positions
 * is remasked; decoding then goes on from step e + 1 with the sampler's own quota rule, which
 * counts the masked candidates afresh at every step (LLaDA's ceil(m / R), Dream's grid count).
 *
 * The proposal comes from the discussion faithsweep answers (docs/paraphrase.md): a diffusion LM keeps no
 * activations between steps, so if it still answers correctly after its visible reasoning was
 * reworded and partly erased, that reasoning is carried by its meaning, not its exact form.
 *
 * Re-lay rule: let E be the first committed end token of the region (gen_length when none). The
 * paraphrase of the text of [0, E) is tokenised piece by piece between markers (each marker one
 * masked position) and written from position 0; the tail [E, gen_length) follows it unchanged;
 * the result is cut at gen_length (`truncated`) or padded with masks. A position keeps its commit
 * step when it holds the same committed token as before, else a new committed token gets step e.
 *
 * Determinism: the paraphraser's seed and the remask draws depend only on (seed, e), never on the
 * branch: a branch whose state equals the clean run's at an event gets exactly the clean run's
 * event, as the counter-based noise of node-agent/sampler/rng.ts already guarantees for steps.
 */
import type { ParaphraseEvent } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode, isAgentError } from '../../common/agent-errors.ts';
import type { OnnxModel, Scores } from '../model/onnx-model.ts';
import { h32, rowKey, uniform } from '../sampler/rng.ts';
import type { BranchState, StepContext } from '../sampler/step.ts';
import { scoreOffset } from '../sampler/step.ts';
import type { ExternalParaphraser } from './external.ts';
import { PARAPHRASE_STREAM } from './paraphrase.ts';
import type { RuleParaphraser } from './rules.ts';
import { RULE_PARAPHRASERS } from './rules.ts';
import type { ParaphraseRemask } from '../../common/paraphrase/settings.ts';

/** Stream id of the draws that order positions for `random` and `span` remasking after a re-lay. */
export const PARAPHRASE_REMASK_STREAM = 0xfffffffc;

/** The paraphraser of a work unit: a rule (or the first rule that accepts, when `rule` is null and `external` too) or an external one. */
export interface ResolvedParaphraser {
  readonly rule: RuleParaphraser | null;
  readonly external: ExternalParaphraser | null;
}

/** What an event needs of its work unit. */
export interface EventGroup {
  readonly model: OnnxModel;
  readonly ctx: StepContext;
  readonly paraphrase: ParaphraseRemask;
  readonly paraphraser: ResolvedParaphraser;
  /** Rewrites already made in this work unit, by seed and text: every branch reuses them (one call per distinct text). */
  readonly rewrites: Map<string, { name: string; text: string }>;
  /** The forward pass (with guidance when configured), for `low_confidence` remasking. */
  readonly forward: (x: Int32Array) => Promise<Scores>;
}

/** True when an event follows step `e` (a step at which it could still be refilled). */
export function isEventStep(p: ParaphraseRemask | null, steps: number, e: number): boolean {
  return p !== null && (e + 1) % p.every === 0 && e < steps - 1;
}

/** The last step an event follows, or -1 when none. */
export function lastEventStep(p: ParaphraseRemask | null, steps: number): number {
  if (!p) return -1;
  for (let e = steps - 2; e >= 0; e--) if (isEventStep(p, steps, e)) return e;
  return -1;
}

/** The paraphraser's seed at the event after step `e` of a run seeded `seed`. */
export function eventSeed(seed: number, e: number): number {
  return h32((rowKey(seed, e, 0) ^ PARAPHRASE_STREAM) >>> 0);
}

/** The mask token's string (what masked positions are written as). */
export function maskMarker(model: OnnxModel): string {
  return model.tokenizer.piece(model.card.mask_token_id);
}

/** Text of response positions [0, end): committed runs decoded, each masked position one marker. */
function holeText(model: OnnxModel, gen: Int32Array, commit: Int32Array, end: number, marker: string): string {
  let out = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length) out += model.tokenizer.decode(run);
    run = [];
  };
  for (let i = 0; i < end; i++) {
    if (commit[i]! >= 0) run.push(gen[i]!);
    else {
      flush();
      out += marker;
    }
  }
  flush();
  return out;
}

/** Tokens of a rewrite: each piece between markers encoded on its own, each marker one mask (-1). */
function relayTokens(model: OnnxModel, text: string, marker: string, who: string): number[] {
  const out: number[] = [];
  const pieces = text.split(marker);
  for (let k = 0; k < pieces.length; k++) {
    if (k > 0) out.push(-1);
    if (!pieces[k]) continue;
    let ids: number[];
    try {
      ids = model.tokenizer.encode(pieces[k]!);
    } catch (err) {
      const why = isAgentError(err) ? err.message : String(err);
      throw new AgentError(AgentErrorCode.PARAPHRASE_FAILED, `paraphraser ${who} returned text the model's tokenizer cannot represent (${why})`, { cause: err });
    }
    for (const id of ids) out.push(id === model.card.mask_token_id ? -1 : id);
  }
  return out;
}

/** Float64 probability of `token` in one row of scores (-Infinity when a top-k row lacks it). */
function probabilityOf(scores: Scores, off: number, token: number): number {
  let k = -1;
  for (let j = 0; j < scores.width; j++) if ((scores.ids ? scores.ids[off + j]! : j) === token) k = j;
  if (k < 0) return -Infinity;
  if (scores.normalized) return Math.exp(scores.values[off + k]!);
  let max = -Infinity;
  for (let j = 0; j < scores.width; j++) max = Math.max(max, scores.values[off + j]!);
  let sum = 0;
  for (let j = 0; j < scores.width; j++) sum += Math.exp(scores.values[off + j]! - max);
  return Math.exp(scores.values[off + k]! - max) / sum;
}

/** Runs the paraphraser on `text` (cached per work unit by seed and text). */
async function rewrite(g: EventGroup, text: string, seed: number, marker: string, signal: AbortSignal): Promise<{ name: string; text: string }> {
  const key = `${seed}\u0000${text}`;
  const hit = g.rewrites.get(key);
  if (hit) return hit;
  const { rule, external } = g.paraphraser;
  let out: { name: string; text: string };
  if (external) {
    out = { name: external.name, text: await external.paraphrase({ text, seed, mask: marker, timeoutMs: g.paraphrase.timeoutMs, signal }) };
  } else {
    const p = rule ?? RULE_PARAPHRASERS.find((r) => r.accepts(text, marker));
    if (!p) {
      throw new AgentError(AgentErrorCode.PARAPHRASE_FAILED, `no rule-based paraphraser accepts the response ${JSON.stringify(text.slice(0, 60))} (rules: ${RULE_PARAPHRASERS.map((r) => r.name).join(', ')}); name one, or an external paraphraser, in the sampler's paraphrase settings`);
    }
    if (rule && !rule.accepts(text, marker)) {
      throw new AgentError(AgentErrorCode.PARAPHRASE_FAILED, `paraphraser ${rule.name} does not accept the response ${JSON.stringify(text.slice(0, 60))} (not its format: ${rule.summary})`);
    }
    out = { name: p.name, text: p.paraphrase(text, seed, marker) };
  }
  g.rewrites.set(key, out);
  return out;
}

/**
 * Applies the event after step `e` to `b` in place (tokens and commit steps; margins untouched)
 * and returns its record and the forward passes it made (1 for `low_confidence`, else 0).
 * Throws PARAPHRASE_FAILED (the paraphraser failed or returned text the tokenizer cannot
 * represent) or CANCELLED; `b` is unchanged when it throws.
 */
export async function applyParaphraseEvent(g: EventGroup, b: BranchState, e: number, signal: AbortSignal): Promise<{ event: ParaphraseEvent; passes: number }> {
  const { model, ctx, paraphrase: p } = g;
  const P = ctx.promptLen;
  const G = b.commit.length;
  const gen = b.x.slice(P, P + G);
  const commit = b.commit.slice();
  const ends = ctx.endIds ?? new Set<number>();
  let end = 0;
  while (end < G && !(commit[end]! >= 0 && ends.has(gen[end]!))) end++;
  const marker = maskMarker(model);
  const before = holeText(model, gen, commit, end, marker);
  const seed = eventSeed(ctx.seed, e);
  const rw = await rewrite(g, before, seed, marker, signal);
  const laid = relayTokens(model, rw.text, marker, rw.name);
  const tail: { id: number; c: number }[] = [];
  for (let i = end; i < G; i++) tail.push({ id: commit[i]! >= 0 ? gen[i]! : -1, c: commit[i]! });
  const region = [...laid.map((id) => ({ id, c: -2 })), ...tail];
  const truncated = region.length > G;
  const x = new Int32Array(G).fill(ctx.maskId);
  const c = new Int32Array(G).fill(-1);
  for (let i = 0; i < Math.min(G, region.length); i++) {
    const r = region[i]!;
    if (r.id < 0) continue;
    x[i] = r.id;
    c[i] = commit[i]! >= 0 && gen[i] === r.id ? commit[i]! : e;
  }
  // Remasking: a share of the committed positions (of the span, for `span`), in seeded random
  // order or lowest model probability first (ties to the lower position).
  let passes = 0;
  const pool: number[] = [];
  for (let i = 0; i < G; i++) if (c[i]! >= 0 && (p.remaskBy !== 'span' || (i >= p.spanStart && i <= p.spanEnd))) pool.push(i);
  const n = Math.round(p.remask * pool.length);
  let order: number[];
  if (p.remaskBy === 'low_confidence' && n > 0) {
    const full = b.x.slice();
    full.set(x, P);
    const scores = await g.forward(full);
    passes++;
    const conf = new Map(pool.map((i) => [i, probabilityOf(scores, scoreOffset(scores, ctx, 0, P + i), x[i]!)]));
    order = [...pool].sort((i, j) => conf.get(i)! - conf.get(j)! || i - j);
  } else {
    const u = new Map(pool.map((i) => [i, uniform(ctx.seed, e, P + i, PARAPHRASE_REMASK_STREAM)]));
    order = [...pool].sort((i, j) => u.get(i)! - u.get(j)! || i - j);
  }
  const remasked = order.slice(0, n).sort((i, j) => i - j);
  for (const i of remasked) {
    x[i] = ctx.maskId;
    c[i] = -1;
  }
  b.x.set(x, P);
  b.commit.set(c);
  return {
    event: {
      step: e,
      paraphraser: rw.name,
      before,
      after: rw.text,
      tokensBefore: [...gen],
      commitBefore: [...commit],
      tokensAfter: [...x],
      commitAfter: [...c],
      remasked,
      truncated,
    },
    passes,
  };
}
