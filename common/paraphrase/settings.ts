/**
 * Settings of paraphrase-remask sampling (docs/paraphrase.md): how often the committed text is
 * paraphrased, how large a share of it is remasked afterwards and how that share is chosen, and
 * which paraphraser rewrites it. One validated, frozen {@link ParaphraseRemask}; its problems are
 * sentences shared by the agent (BAD_SAMPLER), `faithsweep plan` and `faithsweep sample`.
 */
import type { ParaphraseRemask as ProtoParaphraseRemask } from '../../generated/proto/faithsweep/v1/agent.ts';

/** How the positions to remask after a re-lay are chosen. */
export const REMASK_BY = ['random', 'low_confidence', 'span'] as const;

/** One of {@link REMASK_BY}. */
export type RemaskBy = (typeof REMASK_BY)[number];

/**
 * Default wall-clock limit of one call to an external paraphraser: an LLM on a cluster answers a
 * short rewrite in seconds; past 30 s it is down or overloaded, and the work unit fails with
 * PARAPHRASE_FAILED rather than hanging its activity's heartbeat.
 */
export const DEFAULT_PARAPHRASE_TIMEOUT_MS = 30_000;

/** Validated paraphrase-remask settings. */
export interface ParaphraseRemask {
  /** Steps between events (>= 1): an event follows step e when (e + 1) % every === 0 and e < steps − 1. */
  readonly every: number;
  /** Share of the committed positions remasked after each re-lay, in [0, 1]. */
  readonly remask: number;
  /** How the remasked positions are chosen. @default 'random' */
  readonly remaskBy: RemaskBy;
  /** remaskBy 'span': first and last generated position (inclusive); else 0, 0. */
  readonly spanStart: number;
  readonly spanEnd: number;
  /**
   * A rule-based paraphraser's name ('' = the first that accepts the text, docs/paraphrase.md), an
   * `http://` / `https://` endpoint, or `cmd:NAME` (a command configured on the agent). @default ''
   */
  readonly paraphraser: string;
  /** Per call to an external paraphraser, milliseconds. @default {@link DEFAULT_PARAPHRASE_TIMEOUT_MS} */
  readonly timeoutMs: number;
}

/** The settings as written in a spec or a card (`sampler.paraphrase`, snake_case). */
export interface ParaphraseOptions {
  readonly every: number;
  readonly remask: number;
  readonly remask_by?: string;
  readonly span?: readonly [number, number];
  readonly paraphraser?: string;
  readonly timeout_ms?: number;
}

/** Every problem of `p` (empty when valid), one sentence each; `genLength`/`steps`/`mode` of the sampler it runs in. */
export function paraphraseProblems(p: ParaphraseRemask, genLength: number, mode: string): string[] {
  const out: string[] = [];
  if (!Number.isInteger(p.every) || p.every < 1) out.push(`paraphrase.every must be a positive integer (got ${p.every})`);
  if (!(p.remask >= 0 && p.remask <= 1)) out.push(`paraphrase.remask must be a share in [0, 1] (got ${p.remask})`);
  if (!(REMASK_BY as readonly string[]).includes(p.remaskBy)) out.push(`paraphrase.remask_by must be one of ${REMASK_BY.join(', ')} (got ${p.remaskBy})`);
  if (p.remaskBy === 'span') {
    const ok = Number.isInteger(p.spanStart) && Number.isInteger(p.spanEnd) && p.spanStart >= 0 && p.spanStart <= p.spanEnd && p.spanEnd < genLength;
    if (!ok) out.push(`paraphrase span ${p.spanStart}-${p.spanEnd} must be generated positions A-B with 0 <= A <= B < gen_length ${genLength}`);
  }
  if (!Number.isInteger(p.timeoutMs) || p.timeoutMs < 1) out.push(`paraphrase.timeout_ms must be a positive integer (got ${p.timeoutMs})`);
  if (p.paraphraser.startsWith('http:') || p.paraphraser.startsWith('https:')) {
    try {
      new URL(p.paraphraser);
    } catch {
      out.push(`paraphrase.paraphraser '${p.paraphraser}' is not a valid URL`);
    }
  }
  // Fast-dLLM commits by threshold and does not bound its steps: after a remask its last block
  // step need not fill the region, so its output could keep masks. Refused rather than half-done.
  if (mode === 'fast-dllm') out.push('paraphrase-remask needs mode llada or dream (fast-dllm does not guarantee to refill remasked positions)');
  return out;
}

/** {@link ParaphraseRemask} from snake_case options, defaults filled (not validated). */
export function paraphraseFromOptions(o: ParaphraseOptions): ParaphraseRemask {
  return Object.freeze({
    every: o.every,
    remask: o.remask,
    remaskBy: (o.remask_by ?? (o.span ? 'span' : 'random')) as RemaskBy,
    // remask_by 'span' without a span is refused by paraphraseProblems (-1 is no position).
    spanStart: o.span?.[0] ?? (o.remask_by === 'span' ? -1 : 0),
    spanEnd: o.span?.[1] ?? 0,
    paraphraser: o.paraphraser ?? '',
    timeoutMs: o.timeout_ms ?? DEFAULT_PARAPHRASE_TIMEOUT_MS,
  });
}

/** The snake_case options of `p` (what a plan stores and a spec writes). */
export function paraphraseToOptions(p: ParaphraseRemask): ParaphraseOptions {
  return {
    every: p.every,
    remask: p.remask,
    remask_by: p.remaskBy,
    ...(p.remaskBy === 'span' ? { span: [p.spanStart, p.spanEnd] as const } : {}),
    ...(p.paraphraser ? { paraphraser: p.paraphraser } : {}),
    timeout_ms: p.timeoutMs,
  };
}

/** {@link ParaphraseRemask} from the request's message (not validated). */
export function paraphraseFromProto(m: ProtoParaphraseRemask): ParaphraseRemask {
  return Object.freeze({
    every: m.every,
    remask: m.remask,
    remaskBy: (m.remaskBy || 'random') as RemaskBy,
    spanStart: m.spanStart,
    spanEnd: m.spanEnd,
    paraphraser: m.paraphraser,
    timeoutMs: m.timeoutMs || DEFAULT_PARAPHRASE_TIMEOUT_MS,
  });
}

/** The request's message of `p`. */
export function paraphraseToProto(p: ParaphraseRemask): ProtoParaphraseRemask {
  return { every: p.every, remask: p.remask, remaskBy: p.remaskBy, spanStart: p.spanStart, spanEnd: p.spanEnd, paraphraser: p.paraphraser, timeoutMs: p.timeoutMs };
}

/**
 * Parses the `sample` flag `every=K,remask=R[,remask_by=random|low_confidence|span:A-B][,paraphraser=NAME][,timeout_ms=N]`.
 * Throws a plain Error whose message names the bad part (the CLI turns it into BAD_ARGS).
 */
export function parseParaphraseFlag(text: string): ParaphraseRemask {
  const kv = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`'${part}' is not KEY=VALUE`);
    const k = part.slice(0, eq).trim();
    if (!['every', 'remask', 'remask_by', 'paraphraser', 'timeout_ms'].includes(k)) throw new Error(`unknown key '${k}' (keys: every, remask, remask_by, paraphraser, timeout_ms)`);
    if (kv.has(k)) throw new Error(`'${k}' given twice`);
    kv.set(k, part.slice(eq + 1).trim());
  }
  const num = (k: string): number => {
    const v = kv.get(k);
    if (v === undefined) throw new Error(`${k} is required (e.g. --paraphrase every=2,remask=0.3)`);
    if (v === '' || !Number.isFinite(Number(v))) throw new Error(`${k} must be a number (got '${v ?? ''}')`);
    return Number(v);
  };
  const by = kv.get('remask_by') ?? 'random';
  const span = /^span:(\d+)-(\d+)$/.exec(by);
  if (!span && !['random', 'low_confidence'].includes(by)) throw new Error(`remask_by must be random, low_confidence or span:A-B (got '${by}')`);
  return paraphraseFromOptions({
    every: num('every'),
    remask: num('remask'),
    remask_by: span ? 'span' : by,
    ...(span ? { span: [Number(span[1]), Number(span[2])] as const } : {}),
    ...(kv.has('paraphraser') ? { paraphraser: kv.get('paraphraser')! } : {}),
    ...(kv.has('timeout_ms') ? { timeout_ms: num('timeout_ms') } : {}),
  });
}

/**
 * The rule-based paraphrasers' names (node-agent/paraphrase/rules.ts defines them; a test keeps
 * the two lists equal), so that `plan` can check a name without the agent's code.
 */
export const RULE_PARAPHRASER_NAMES: readonly string[] = ['arith-swap', 'arith-canonical', 'word-problems'];

/**
 * The problem with paraphraser name `name` that can be seen without an agent (a rule name that
 * does not exist, a malformed cmd:NAME), or null; `faithsweep plan` checks it.
 */
export function paraphraserNameProblem(name: string): string | null {
  if (name === '' || /^https?:\/\//.test(name) || /^cmd:[\w.-]+$/.test(name) || RULE_PARAPHRASER_NAMES.includes(name)) return null;
  return `paraphrase.paraphraser '${name}' is not a rule-based paraphraser (${RULE_PARAPHRASER_NAMES.join(', ')}), an http(s):// endpoint or cmd:NAME`;
}
