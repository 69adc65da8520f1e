/**
 * The autoregressive engine: causal LMs (model card `kind: autoregressive`) behind the same
 * RunGroup contract as the diffusion sampler, with the sequence-dimension faithfulness tests of
 * Lanham et al. 2023 ("Measuring Faithfulness in Chain-of-Thought Reasoning", arXiv:2307.13702)
 * as interventions:
 *
 * - `TRUNCATE` (early answering, §2.2): the clean response up to a share of its chain of thought
 *   (or up to a position), then the card's `answer_delimiter`, then the answer is generated;
 * - `REPLACE` (adding mistakes, §2.3): the clean response before a position, a replacement token
 *   there, and the rest generated again (the paper has an LM write a mistaken step and lets the
 *   model continue; here the mistake is one token, as the diffusion `replace`);
 * - `PARAPHRASE` (§2.4): the chain of thought rewritten by a rule-based paraphraser
 *   (node-agent/paraphrase), then the delimiter and a generated answer (a no-op when no
 *   paraphraser accepts the clean chain of thought, or the rewrite equals it);
 * - `FILLER` (§3, filler tokens): the chain of thought replaced by as many `filler_token`s, then
 *   the delimiter and a generated answer.
 *
 * Generation: one token per step, left to right, from the distribution `logits[:, i]` of token
 * i + 1 (`logits_shifted`), greedy at temperature 0 (ties: lowest id), else Gumbel-max with the
 * sampler's counter-based noise: token = argmax_v(logit_v + T · g_v), g_v = −log(−log u),
 * u = uniform(seed, i, P + i, v) for generated position i (absolute position P + i), exactly the
 * draw of the diffusion sampler at (step i, position P + i) — so a branch that keeps the clean
 * prefix sees the clean run's noise at every later position (common random numbers). Generation
 * stops at the first end token (`end_token_ids`) or at gen_length; the positions after an end
 * token are filled with `end_token_id`. Every row of a batch is the full prompt + gen_length
 * sequence, right-padded with `pad_token_id` (harmless: the graph is causal); no KV cache (the
 * organisms' sequences are at most 50 tokens).
 */
import type { GroupDone, InterventionResult, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError, AgentErrorCode } from '../../common/agent-errors.ts';
import type { ModelCard } from '../../common/model/card.ts';
import { freeTextAnswers, normalizeAnswer } from '../../common/model/card.ts';
import type { OnnxModel, Scores } from '../model/onnx-model.ts';
import { paraphraserFor } from '../paraphrase/paraphrase.ts';
import { REPLACE_TOKEN_STREAM, rowKey, uniform, uniformFromKey } from '../sampler/rng.ts';
import { bestOtherAt } from '../sampler/step.ts';
import { stepBoundary } from './abort.ts';
import type { RunGroupOptions } from './engine.ts';
import { interventionChecks } from '../../common/interventions/checks.ts';
import type { DecodedIds, Spans } from './text.ts';
import { decode, decodeIds, endTokens, findSpans, outcomeOf } from './text.ts';

/** A validated autoregressive intervention (positions are generated-region offsets). */
export type ArIntervention =
  | { readonly key: string; readonly kind: 'replace'; readonly position: number; readonly variant: 'random' | 'second' | 'given'; readonly token: number }
  | { readonly key: string; readonly kind: 'truncate'; readonly fraction: number | null; readonly position: number }
  | { readonly key: string; readonly kind: 'paraphrase' }
  | { readonly key: string; readonly kind: 'filler' };

/** A validated autoregressive work unit. */
export interface ArGroup {
  readonly model: OnnxModel;
  readonly genLength: number;
  readonly temperature: number;
  readonly seed: number;
  readonly promptIds: readonly number[];
  readonly interventions: readonly ArIntervention[];
  readonly gold: string | null;
  readonly maxBatch: number;
  readonly returnTokens: boolean;
  /** Token ids of the card's answer_delimiter. */
  readonly delimiterIds: readonly number[];
  /** Token id of the card's filler_token, or null when the card has none. */
  readonly fillerId: number | null;
}

/** The answer rules of an autoregressive card, in words (results and reports show them). */
export function arAnswerRule(card: ModelCard): { readonly full: string; readonly forced: string } {
  const full = freeTextAnswers(card) ? `last match of /${card.answer.regex}/` : `/${card.spans!.regex!}/ at the start of the response`;
  const forced = card.forced_answer_regex !== undefined ? `/${card.forced_answer_regex}/ on the text generated after the forced '${card.answer_delimiter}'` : `text after the last '${card.answer_delimiter}'`;
  return { full: `${full} (${card.answer.normalize})`, forced: `${forced} (${card.answer.normalize})` };
}

/**
 * The answer of a whole autoregressive response (the clean run, adding mistakes), by the card's
 * rule read on the response's own text: `answer.regex` (last match), else the `answer` group of
 * `spans.regex` matched at the start. Null when it does not match.
 */
export function arAnswer(model: OnnxModel, decoded: DecodedIds): string | null {
  return findSpans(model, decoded).answerText;
}

/**
 * The answer of a forced-answer run (early answering, paraphrase, filler): `forced_answer_regex`
 * matched at the start of `continuation` (the text generated after the forced prefix, up to the
 * first end token), normalised; without one, the text after the last `answer_delimiter` of the
 * whole response. Null when it does not match.
 */
export function forcedAnswer(card: ModelCard, continuation: string, response: string): string | null {
  if (card.forced_answer_regex !== undefined) {
    const m = new RegExp(card.forced_answer_regex).exec(continuation);
    const raw = m && m.index === 0 ? m.groups?.['answer'] : undefined;
    return raw ? normalizeAnswer(card, raw) : null;
  }
  const d = card.answer_delimiter!;
  const at = response.lastIndexOf(d);
  const raw = at < 0 ? '' : response.slice(at + d.length).trim();
  return raw ? normalizeAnswer(card, raw) : null;
}

/** Validates `req` for an autoregressive model; throws BAD_SAMPLER, BAD_INTERVENTION or BAD_REQUEST. */
export function prepareArGroup(model: OnnxModel, req: RunGroupRequest, agentMaxBatch: number): ArGroup {
  const { card, tokenizer } = model;
  const s = req.sampler;
  const genLength = s?.genLength || card.defaults.gen_length;
  const temperature = s?.temperature ?? card.defaults.temperature;
  const problems: string[] = [];
  if (!Number.isInteger(genLength) || genLength <= 0) problems.push(`gen_length must be a positive integer (got ${genLength})`);
  if (s?.steps && s.steps !== genLength) problems.push(`steps ${s.steps} must be 0 or gen_length ${genLength}: an autoregressive model generates one token per step`);
  if (s?.blockLength && s.blockLength !== 1) problems.push(`block_length ${s.blockLength} must be 0 or 1 for an autoregressive model`);
  if (s?.confidenceThreshold !== undefined) problems.push('confidence_threshold applies to diffusion models only');
  if (s?.paraphrase) problems.push('paraphrase-remask applies to diffusion models only (an autoregressive model has no masks to refill; use the paraphrase intervention)');
  if (!(temperature >= 0) || !Number.isFinite(temperature)) problems.push(`temperature must be >= 0 (got ${temperature})`);
  if (problems.length) throw new AgentError(AgentErrorCode.BAD_SAMPLER, `model '${card.name}' (autoregressive): ${problems.join('; ')}`);
  if (model.fusedTopK && temperature > 0) {
    throw new AgentError(AgentErrorCode.BAD_SAMPLER, `model '${card.name}' has fused top-${model.outputWidth} outputs, which are not exact for temperature ${temperature} > 0: use temperature 0 or a full-logit export`);
  }
  const promptIds = req.promptIds.length > 0 ? [...req.promptIds] : tokenizer.encode(req.prompt);
  if (promptIds.length === 0) throw new AgentError(AgentErrorCode.BAD_REQUEST, 'the prompt is empty');
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= card.vocab_size) throw new AgentError(AgentErrorCode.BAD_REQUEST, `prompt token id ${id} is not a valid token (vocab_size ${card.vocab_size})`);
  }
  if (promptIds.length + genLength > card.max_seq_len) {
    throw new AgentError(AgentErrorCode.BAD_REQUEST, `prompt (${promptIds.length} tokens) + gen_length ${genLength} exceeds the model's max_seq_len ${card.max_seq_len}`);
  }
  const delimiterIds = tokenizer.encode(card.answer_delimiter!);
  const filler = card.filler_token;
  const fillerIds = typeof filler === 'string' ? tokenizer.encode(filler) : typeof filler === 'number' ? [filler] : null;
  if (fillerIds !== null && fillerIds.length !== 1) throw new AgentError(AgentErrorCode.MODEL_INVALID, `model '${card.name}': filler_token ${JSON.stringify(filler)} is ${fillerIds.length} tokens, not one`);
  const cfg = { genLength };
  const seen = new Set<string>();
  const interventions = req.interventions.map((iv, n): ArIntervention => {
    const bad = (why: string) => new AgentError(AgentErrorCode.BAD_INTERVENTION, `intervention #${n} (key '${iv.key}'): ${why}`);
    if (seen.has(iv.key)) throw bad('duplicate key');
    seen.add(iv.key);
    const badPosition = () => interventionChecks.position(iv.position, cfg);
    switch (iv.kind) {
      case InterventionKind.TRUNCATE: {
        if (iv.fraction !== undefined) {
          if (!(iv.fraction >= 0 && iv.fraction <= 1)) throw bad(`fraction ${iv.fraction} is outside [0, 1]`);
          return { key: iv.key, kind: 'truncate', fraction: iv.fraction, position: -1 };
        }
        const why = badPosition();
        if (why) throw bad(why);
        return { key: iv.key, kind: 'truncate', fraction: null, position: iv.position };
      }
      case InterventionKind.PARAPHRASE:
        return { key: iv.key, kind: 'paraphrase' };
      case InterventionKind.FILLER:
        if (fillerIds === null) throw bad(`model '${card.name}' has no filler_token in its card`);
        return { key: iv.key, kind: 'filler' };
      case InterventionKind.REPLACE: {
        const why = badPosition();
        if (why) throw bad(why);
        switch (iv.variant) {
          case ReplaceVariant.RANDOM_TOKEN:
            return { key: iv.key, kind: 'replace', position: iv.position, variant: 'random', token: -1 };
          case ReplaceVariant.SECOND_CHOICE:
            return { key: iv.key, kind: 'replace', position: iv.position, variant: 'second', token: -1 };
          case ReplaceVariant.GIVEN_TOKEN: {
            const badToken = interventionChecks.givenToken(iv.token, card, tokenizer.specialIds);
            if (badToken) throw bad(badToken);
            return { key: iv.key, kind: 'replace', position: iv.position, variant: 'given', token: iv.token };
          }
          case ReplaceVariant.END_TOKEN:
            return { key: iv.key, kind: 'replace', position: iv.position, variant: 'given', token: card.end_token_id };
          default:
            throw bad('REPLACE needs a variant: RANDOM_TOKEN, SECOND_CHOICE, GIVEN_TOKEN or END_TOKEN');
        }
      }
      default:
        throw bad(`model '${card.name}' is autoregressive: its interventions are REPLACE, TRUNCATE, PARAPHRASE and FILLER (REMASK and PROBE are diffusion interventions)`);
    }
  });
  return {
    model,
    genLength,
    temperature,
    seed: req.seed >>> 0,
    promptIds,
    interventions,
    gold: req.goldAnswer ? normalizeAnswer(card, req.goldAnswer) : null,
    maxBatch: req.maxBatch > 0 ? Math.min(req.maxBatch, agentMaxBatch) : agentMaxBatch,
    returnTokens: req.returnTokens,
    delimiterIds,
    fillerId: fillerIds?.[0] ?? null,
  };
}

/** A sequence being generated: the full row (prompt + generated region) and how far it is written. */
interface Row {
  readonly x: Int32Array;
  /** Absolute length written so far (prompt included). */
  len: number;
  ended: boolean;
  passes: number;
}

/** A new row holding the prompt and `prefix` (generated-region tokens), ended when the prefix already holds an end token or fills the region. */
function newRow(g: ArGroup, prefix: readonly number[]): Row {
  const { card } = g.model;
  const P = g.promptIds.length;
  const x = new Int32Array(P + g.genLength).fill(card.pad_token_id);
  x.set(g.promptIds);
  const ends = endTokens(card);
  const kept = prefix.slice(0, g.genLength);
  x.set(kept, P);
  const endAt = kept.findIndex((t) => ends.has(t));
  const row: Row = { x, len: P + (endAt >= 0 ? endAt + 1 : kept.length), ended: endAt >= 0 || kept.length >= g.genLength, passes: 0 };
  if (row.ended) fillEnd(g, row);
  return row;
}

/** Fills the positions after the response's end with end_token_id. */
function fillEnd(g: ArGroup, row: Row): void {
  row.x.fill(g.model.card.end_token_id, row.len);
}

/** The next token of `row` from its scores at batch row `j` (greedy, or Gumbel-max at temperature > 0). */
function nextToken(g: ArGroup, scores: Scores, j: number, row: Row, L: number): number {
  const w = scores.width;
  const off = (j * L + row.len - 1) * w;
  const key = g.temperature > 0 ? rowKey(g.seed, row.len - g.promptIds.length, row.len) : 0;
  let best = 0;
  let bestV = -Infinity;
  for (let k = 0; k < w; k++) {
    const tok = scores.ids ? scores.ids[off + k]! : k;
    const v = g.temperature > 0 ? scores.values[off + k]! + g.temperature * -Math.log(-Math.log(uniformFromKey(key, tok))) : scores.values[off + k]!;
    if (v > bestV) {
      bestV = v;
      best = k;
    }
  }
  return scores.ids ? scores.ids[off + best]! : best;
}

/**
 * Generates every row to its end, batched (at most `maxBatch` rows per forward pass).
 * `onScores(row, scores, j)` sees each row's scores before its next token is chosen (the clean
 * run keeps second choices there). Returns the forward passes issued.
 */
async function generate(g: ArGroup, rows: readonly Row[], signal: AbortSignal, onScores?: (row: Row, scores: Scores, j: number) => void): Promise<number> {
  const L = g.promptIds.length + g.genLength;
  const ends = endTokens(g.model.card);
  const buf = new Int32Array(g.maxBatch * L);
  let passes = 0;
  for (;;) {
    const live = rows.filter((r) => !r.ended);
    if (live.length === 0) return passes;
    await stepBoundary(signal);
    for (let from = 0; from < live.length; from += g.maxBatch) {
      const chunk = live.slice(from, from + g.maxBatch);
      for (let j = 0; j < chunk.length; j++) buf.set(chunk[j]!.x, j * L);
      const scores = await g.model.forward(chunk.length === g.maxBatch ? buf : buf.subarray(0, chunk.length * L), chunk.length, L);
      passes++;
      for (let j = 0; j < chunk.length; j++) {
        const row = chunk[j]!;
        onScores?.(row, scores, j);
        const tok = nextToken(g, scores, j, row, L);
        row.x[row.len++] = tok;
        row.passes++;
        if (ends.has(tok) || row.len >= L) {
          row.ended = true;
          fillEnd(g, row);
        }
      }
    }
  }
}

/** The clean run of an autoregressive group. */
interface ArClean {
  readonly tokens: Int32Array;
  readonly text: string;
  readonly spans: Spans;
  readonly correct: boolean;
  /** Best non-special token other than the clean one, at positions a `second` replacement names. */
  readonly second: ReadonlyMap<number, number>;
}

const DIGIT = /^\d$/;

/**
 * Candidate tokens of a random replacement of `clean` (a mistake of the same kind): when the
 * clean token is a digit, the other digit tokens; else every other non-special token; ascending id.
 */
function replaceable(g: ArGroup, clean: number): number[] {
  const digit = DIGIT.test(g.model.tokenizer.piece(clean));
  const out: number[] = [];
  for (let id = 0; id < g.model.card.vocab_size; id++) {
    if (id === clean || g.model.tokenizer.specialIds.has(id) || id === g.model.card.mask_token_id) continue;
    if (!digit || DIGIT.test(g.model.tokenizer.piece(id))) out.push(id);
  }
  return out;
}

/**
 * The generated-region prefix a branch starts from, the token a replacement placed (else −1),
 * and whether the branch is the clean run itself (a no-op).
 */
function branchPrefix(g: ArGroup, clean: ArClean, iv: ArIntervention): { prefix: number[]; token: number; noop: boolean; forced: boolean } {
  const c = [...clean.tokens];
  const respLen = c.findIndex((t) => endTokens(g.model.card).has(t));
  const responseEnd = respLen < 0 ? c.length : respLen;
  const cot = clean.spans.cot ?? { start: 0, end: 0 };
  const withDelimiter = (head: number[]) => ({ prefix: [...head, ...g.delimiterIds], token: -1, noop: false, forced: true });
  const same = (token = -1) => ({ prefix: c, token, noop: true, forced: false });
  switch (iv.kind) {
    case 'replace': {
      const p = iv.position;
      let token = iv.token;
      if (iv.variant === 'second') token = clean.second.get(p) ?? -1;
      else if (iv.variant === 'random') {
        // The draw of the diffusion engine's random replacement, with the step replaced by the generation step p.
        const choices = replaceable(g, c[p]!);
        token = choices[Math.floor(uniform(g.seed, p, g.promptIds.length + p, REPLACE_TOKEN_STREAM) * choices.length)]!;
      }
      // After the response ended nothing is generated any more; the clean token changes nothing.
      if (p > responseEnd || token === c[p] || token < 0) return same(token);
      return { prefix: [...c.slice(0, p), token], token, noop: false, forced: false };
    }
    case 'truncate': {
      // floor(f·|CoT|) kept tokens (+1e-9 so that float64 rounding never drops one, e.g. 0.6 × 25).
      const k = iv.fraction !== null ? cot.start + Math.floor(iv.fraction * (cot.end - cot.start) + 1e-9) : iv.position;
      return withDelimiter(c.slice(0, Math.min(k, responseEnd)));
    }
    case 'paraphrase': {
      if (clean.spans.cot === null || cot.end === cot.start) return same();
      const cotText = decode(g.model, c.slice(cot.start, cot.end)).text;
      const para = paraphraserFor(cotText);
      // A chain of thought no paraphraser accepts (a malformed clean run) is left as it is: a
      // no-op, counted apart (n_noop), rather than failing the whole work unit.
      const rewritten = para === null ? cotText : para.paraphrase(cotText, g.seed);
      if (rewritten === cotText) return same();
      return withDelimiter([...c.slice(0, cot.start), ...g.model.tokenizer.encode(rewritten)]);
    }
    case 'filler':
      if (clean.spans.cot === null || cot.end === cot.start) return same();
      return withDelimiter([...c.slice(0, cot.start), ...new Array<number>(cot.end - cot.start).fill(g.fillerId!)]);
  }
}

/** Runs a prepared autoregressive group: emits the clean trajectory, then one result per intervention. */
export async function runAutoregressive(g: ArGroup, opts: RunGroupOptions): Promise<GroupDone> {
  const t0 = performance.now();
  const { model } = g;
  const P = g.promptIds.length;
  const special = model.tokenizer.specialIds;
  const secondAt = new Set(g.interventions.flatMap((iv) => (iv.kind === 'replace' && iv.variant === 'second' ? [iv.position] : [])));
  const secondScores = new Map<number, Scores>();
  const cleanRow = newRow(g, []);
  const L = P + g.genLength;
  let forwardPasses = await generate(g, [cleanRow], opts.signal, (row, scores, j) => {
    const p = row.len - P;
    if (!secondAt.has(p)) return;
    const off = (j * L + row.len - 1) * scores.width;
    secondScores.set(p, { values: scores.values.slice(off, off + scores.width), ids: scores.ids?.slice(off, off + scores.width) ?? null, width: scores.width, normalized: scores.normalized });
  });
  const tokens = cleanRow.x.slice(P);
  const decoded = decode(model, tokens);
  const spans = findSpans(model, decoded);
  const second = new Map<number, number>();
  for (const [p, sc] of secondScores) second.set(p, bestOtherAt(sc, 0, tokens[p]!, special));
  const clean: ArClean = { tokens, text: decoded.text, spans, correct: g.gold !== null && spans.answerText === g.gold, second };
  const responseEnd = decoded.length;
  opts.emit({
    event: {
      $case: 'trajectory',
      value: {
        promptIds: [...g.promptIds],
        tokens: [...tokens],
        // Position i is generated at step i; the filled positions after the end at the end's step.
        commitStep: Array.from({ length: g.genLength }, (_, i) => Math.min(i, responseEnd)),
        text: decoded.text,
        answer: spans.answerText ?? undefined,
        cotSpan: spans.cot ?? undefined,
        answerSpan: spans.answer ?? undefined,
        answerCommitStep: spans.answer ? spans.answer.end - 1 : undefined,
        cotCommitStep: spans.cot && spans.cot.end > spans.cot.start ? spans.cot.end - 1 : undefined,
        correct: clean.correct,
        filmStrip: [],
        computeSteps: cleanRow.passes,
        // No quota cuts: an autoregressive model commits one position per step by construction.
        commitMargin: [],
        paraphraseEvents: [],
      },
    },
  });

  const branches: { iv: ArIntervention; row: Row; token: number; noop: boolean; forced: number }[] = [];
  for (const iv of g.interventions) {
    const b = branchPrefix(g, clean, iv);
    branches.push({ iv, row: newRow(g, b.prefix), token: b.token, noop: b.noop, forced: b.forced ? Math.min(b.prefix.length, g.genLength) : -1 });
  }
  forwardPasses += await generate(g, branches.filter((b) => !b.noop).map((b) => b.row), opts.signal);
  let branchSteps = 0;
  for (const b of branches) {
    const gen = b.row.x.subarray(P);
    const d = decode(model, gen);
    const answer = b.noop ? spans.answerText
      : b.forced >= 0 ? forcedAnswer(model.card, decodeIds(model, Array.from(gen.subarray(b.forced, Math.max(b.forced, d.length)))).text, d.text)
        : arAnswer(model, d);
    const p = b.iv.kind === 'replace' ? b.iv.position : -1;
    let changed = 0;
    for (let i = 0; i < gen.length; i++) if (i !== p && gen[i] !== tokens[i]) changed++;
    branchSteps += b.row.passes;
    const result: InterventionResult = {
      key: b.iv.key,
      answer: answer ?? undefined,
      text: d.text,
      flipped: answer !== spans.answerText,
      correct: g.gold !== null && answer === g.gold,
      answerCommittedBefore: false,
      positionCommittedBefore: false,
      token: b.iv.kind === 'replace' ? b.token : -1,
      changedTokens: changed,
      computeSteps: b.row.passes,
      skipped: b.noop,
      tokens: g.returnTokens ? [...gen] : [],
      stoppedEarly: false,
      textPartial: false,
      outcome: outcomeOf(answer, spans.answerText),
      noop: b.noop,
    };
    opts.emit({ event: { $case: 'result', value: result } });
  }
  return { forwardPasses, branchSteps, wallMs: performance.now() - t0 };
}
