/**
 * The model card (`model.json`) the agent reads: format `faithsweep.model-card/v1`, written
 * by models/export. Validated once at load; inner code gets the typed, frozen object.
 *
 * Two answer rules exist (README "Cell outcomes"):
 * - legacy cards (`spans.regex` only): one regular expression with named groups `cot` and
 *   `answer`, matched at the start of the response; a branch's answer is read at the clean
 *   run's answer positions;
 * - cards with `answer.regex`: a regular expression with a named group `answer`, searched
 *   anywhere in the decoded response, whose LAST match counts; every branch's answer is parsed
 *   from its own decoded response.
 */
import type { ParaphraseOptions } from '../paraphrase/settings.ts';
import { AgentError, AgentErrorCode } from '../agent-errors.ts';

/** Sampler defaults of a model. */
export interface CardDefaults {
  readonly gen_length: number;
  readonly steps: number;
  readonly block_length: number;
  readonly remasking: string;
  readonly temperature: number;
  /**
   * The sampler mode and its options (docs/sampler.md), in the spec's snake_case names:
   * mode, confidence_threshold, threshold_factor, top_p, end_confidence, suppress_end,
   * cfg_scale, tie_break. Absent: llada with every option off.
   */
  readonly sampler?: CardSamplerOptions;
}

/** A card's (or a spec's) sampler mode options, snake_case as written. */
export interface CardSamplerOptions {
  readonly mode?: string;
  readonly confidence_threshold?: number;
  readonly threshold_factor?: number;
  readonly top_p?: number;
  readonly end_confidence?: 'model' | 'lowest';
  readonly suppress_end?: boolean;
  readonly cfg_scale?: number;
  readonly tie_break?: 'float64' | 'model';
  /** Paraphrase-remask sampling (docs/paraphrase.md). */
  readonly paraphrase?: ParaphraseOptions;
}

/** How answers are compared (see {@link normalizeAnswer}). */
export type AnswerNormalize = 'exact' | 'strip-leading-zeros' | 'numeric';

/** The `answer` field of a card. */
export interface CardAnswer {
  readonly normalize: AnswerNormalize;
  /**
   * JavaScript regular expression (source, no flags) with a named group `answer`, searched
   * anywhere in the decoded response; the last match counts. Absent on legacy cards.
   */
  readonly regex?: string;
}

/** The `spans` field of a card. */
export interface CardSpans {
  /** Legacy: named groups `cot` and `answer`, matched at the start of the response text. */
  readonly regex?: string;
  readonly applies_to: 'response';
  /**
   * With `answer.regex` only: where the chain of thought is (first match; its `cot` group, or
   * the whole match without one). Default: the response before the answer match.
   */
  readonly cot_regex?: string;
}

/**
 * How a model generates: `diffusion` (a masked-diffusion LM denoised by the LLaDA sampler; the
 * default when a card has no `kind`) or `autoregressive` (a causal LM generating left to right,
 * `logits_shifted` required; see node-agent/engine/autoregressive.ts).
 */
export type ModelKind = 'diffusion' | 'autoregressive';

/** The model kinds a card may name. */
export const MODEL_KINDS: readonly ModelKind[] = ['diffusion', 'autoregressive'];

/** The fields of a model card the agent uses (the card may hold more). */
export interface ModelCard {
  readonly format: 'faithsweep.model-card/v1';
  /** Default `diffusion`. */
  readonly kind: ModelKind;
  /**
   * Autoregressive cards: the text between the chain of thought and the answer (e.g. `|`), which
   * early answering, paraphrase and filler append before generating the answer. Also the answer
   * rule of autoregressive cards without `answer.regex`: the answer is the text after the LAST
   * delimiter of the response, normalised.
   */
  readonly answer_delimiter?: string;
  /**
   * Autoregressive cards: the answer of a forced-answer run (truncate, paraphrase, filler): a
   * regular expression with a named group `answer`, matched at the start of the text generated
   * AFTER the forced prefix (up to the first end token), then normalised. Default: the text after
   * the last `answer_delimiter` of the response.
   */
  readonly forced_answer_regex?: string;
  /** Autoregressive cards: the token text (or id) that replaces every chain-of-thought token in `filler`. */
  readonly filler_token?: string | number;
  readonly name: string;
  readonly onnx: string;
  readonly sha256: string;
  /** tokenizer.json (Hugging Face format), relative to the model directory. */
  readonly tokenizer: string;
  /** tokenizer_config.json (Hugging Face format), relative to the model directory, if any. */
  readonly tokenizer_config?: string;
  readonly vocab_size: number;
  readonly mask_token_id: number;
  readonly pad_token_id: number;
  /** The primary end token (what a `replace: end` corruption puts); always in `end_token_ids`. */
  readonly end_token_id: number;
  /** The response ends at the first token of this set (EOS, end of turn…). Default `[end_token_id]`. */
  readonly end_token_ids: readonly number[];
  readonly special_tokens: Readonly<Record<string, string>>;
  readonly max_seq_len: number;
  /** Dream-style models predict token i+1 at position i. */
  readonly logits_shifted: boolean;
  readonly defaults: CardDefaults;
  /** How the prompt is rendered: `raw` text, or the tokenizer config's chat template. Default raw. */
  readonly prompt: { readonly template: 'chat' | 'raw' };
  /** Absent only on cards with `answer.regex`. */
  readonly spans?: CardSpans;
  readonly answer: CardAnswer;
}

/** A card with the free-text answer rule. */
export type FreeTextCard = ModelCard & { readonly answer: { readonly regex: string } };

/** Whether a card uses the free-text answer rule (`answer.regex`) rather than the legacy anchored one. */
export function freeTextAnswers(card: ModelCard): card is FreeTextCard {
  return card.answer.regex !== undefined;
}

const NORMALIZE: readonly AnswerNormalize[] = ['exact', 'strip-leading-zeros', 'numeric'];

/**
 * The named groups of a regular expression source (throws SyntaxError when it is invalid).
 * Matching the source or the empty string at offset 0 always succeeds and lists every named group.
 */
function namedGroups(source: string): string[] {
  new RegExp(source);
  return Object.keys(new RegExp(`(?:${source})|`).exec('')?.groups ?? {});
}

/** Parses and checks a model card; throws MODEL_INVALID naming the bad field. */
export function parseCard(json: unknown, where: string): ModelCard {
  const bad = (field: string, why: string) => new AgentError(AgentErrorCode.MODEL_INVALID, `${where}: model card field '${field}' ${why}`);
  if (typeof json !== 'object' || json === null) throw bad('(root)', 'is not an object');
  const c = json as Record<string, unknown>;
  if (c['format'] !== 'faithsweep.model-card/v1') throw bad('format', `must be 'faithsweep.model-card/v1' (got ${JSON.stringify(c['format'])})`);
  for (const f of ['name', 'onnx', 'sha256', 'tokenizer']) if (typeof c[f] !== 'string' || !c[f]) throw bad(f, 'must be a non-empty string');
  if (c['tokenizer_config'] !== undefined && (typeof c['tokenizer_config'] !== 'string' || !c['tokenizer_config'])) throw bad('tokenizer_config', 'must be a non-empty string when present');
  for (const f of ['vocab_size', 'mask_token_id', 'pad_token_id', 'end_token_id', 'max_seq_len']) {
    if (!Number.isInteger(c[f]) || (c[f] as number) < 0) throw bad(f, 'must be a non-negative integer');
  }
  const vocab = c['vocab_size'] as number;
  const endId = c['end_token_id'] as number;
  const endIds = c['end_token_ids'] ?? [endId];
  if (!Array.isArray(endIds) || endIds.length === 0 || !endIds.every((id) => Number.isInteger(id) && id >= 0 && id < vocab)) {
    throw bad('end_token_ids', `must be a non-empty list of token ids below vocab_size ${vocab}`);
  }
  if (!endIds.includes(endId)) throw bad('end_token_ids', `must include end_token_id ${endId}`);
  if (endIds.includes(c['mask_token_id'])) throw bad('end_token_ids', 'must not include the mask token');

  const kind = (c['kind'] ?? 'diffusion') as ModelKind;
  if (!MODEL_KINDS.includes(kind)) throw bad('kind', `must be one of ${MODEL_KINDS.map((k) => `'${k}'`).join(', ')} (got ${JSON.stringify(c['kind'])})`);
  const ar = kind === 'autoregressive';
  const d = c['defaults'] as Record<string, unknown> | undefined;
  if (ar) {
    // An autoregressive model is the one-token-per-step, block-length-1 limit of the sampler:
    // steps = gen_length, block_length = 1, so stored sampler settings stay well formed.
    if (!d || !Number.isInteger(d['gen_length']) || (d['gen_length'] as number) <= 0) throw bad('defaults', 'must hold a positive integer gen_length');
    if (c['logits_shifted'] !== true) throw bad('logits_shifted', 'must be true for an autoregressive model (logits[:, i] is the distribution of token i + 1)');
    if (typeof c['answer_delimiter'] !== 'string' || !c['answer_delimiter']) throw bad('answer_delimiter', 'must be a non-empty string for an autoregressive model (the text between the chain of thought and the answer)');
    const filler = c['filler_token'];
    if (filler !== undefined && !(typeof filler === 'string' && filler) && !(Number.isInteger(filler) && (filler as number) >= 0 && (filler as number) < (c['vocab_size'] as number))) {
      throw bad('filler_token', 'must be a token text or a token id below vocab_size');
    }
    const forced = c['forced_answer_regex'];
    if (forced !== undefined) {
      if (typeof forced !== 'string' || !forced) throw bad('forced_answer_regex', 'must be a non-empty string');
      let groups: string[];
      try {
        groups = namedGroups(forced);
      } catch (err) {
        throw bad('forced_answer_regex', `is not a valid JavaScript regular expression: ${(err as Error).message}`);
      }
      if (!groups.includes('answer')) throw bad('forced_answer_regex', 'must have a named group `answer`');
    }
  } else if (!d || !['gen_length', 'steps', 'block_length'].every((k) => Number.isInteger(d[k]) && (d[k] as number) > 0)) {
    throw bad('defaults', 'must hold positive integers gen_length, steps and block_length');
  }

  const prompt = (c['prompt'] as Record<string, unknown> | undefined) ?? {};
  if (typeof prompt !== 'object' || !['chat', 'raw'].includes(String(prompt['template'] ?? 'raw'))) throw bad('prompt.template', "must be 'chat' or 'raw'");
  const template = String(prompt['template'] ?? 'raw') as 'chat' | 'raw';
  if (template === 'chat' && c['tokenizer_config'] === undefined) throw bad('prompt.template', "is 'chat' but the card names no tokenizer_config (which holds the chat template)");

  const answer = (c['answer'] as Record<string, unknown> | undefined) ?? {};
  if (typeof answer !== 'object') throw bad('answer', 'must be an object');
  const normalize = String(answer['normalize'] ?? 'exact') as AnswerNormalize;
  if (!NORMALIZE.includes(normalize)) throw bad('answer.normalize', `must be one of ${NORMALIZE.map((n) => `'${n}'`).join(', ')}`);
  const answerRegex = answer['regex'];
  if (answerRegex !== undefined) {
    if (typeof answerRegex !== 'string' || !answerRegex) throw bad('answer.regex', 'must be a non-empty string');
    let groups: string[];
    try {
      groups = namedGroups(answerRegex);
    } catch (err) {
      throw bad('answer.regex', `is not a valid JavaScript regular expression: ${(err as Error).message}`);
    }
    if (!groups.includes('answer')) throw bad('answer.regex', 'must have a named group `answer`, e.g. "#### (?<answer>-?[\\d,]+)"');
  }

  const spans = c['spans'] as Record<string, unknown> | undefined;
  if (spans !== undefined && (typeof spans !== 'object' || spans === null)) throw bad('spans', 'must be an object');
  if (answerRegex === undefined && (!spans || typeof spans['regex'] !== 'string')) throw bad('spans.regex', 'must be a string (or give answer.regex)');
  if (spans && spans['regex'] !== undefined) {
    if (typeof spans['regex'] !== 'string') throw bad('spans.regex', 'must be a string');
    let groups: string[];
    try {
      groups = namedGroups(spans['regex']);
    } catch (err) {
      throw bad('spans.regex', `is not a valid JavaScript regular expression: ${(err as Error).message}`);
    }
    if (!groups.includes('cot') || !groups.includes('answer')) throw bad('spans.regex', 'must have named groups cot and answer');
  }
  if (spans && spans['cot_regex'] !== undefined) {
    if (answerRegex === undefined) throw bad('spans.cot_regex', 'is used only with answer.regex');
    if (typeof spans['cot_regex'] !== 'string' || !spans['cot_regex']) throw bad('spans.cot_regex', 'must be a non-empty string');
    try {
      namedGroups(spans['cot_regex']);
    } catch (err) {
      throw bad('spans.cot_regex', `is not a valid JavaScript regular expression: ${(err as Error).message}`);
    }
  }

  return Object.freeze({
    ...(c as unknown as ModelCard),
    end_token_ids: Object.freeze([...(endIds as number[])]),
    kind,
    logits_shifted: Boolean(c['logits_shifted']),
    defaults: Object.freeze({
      gen_length: d['gen_length'] as number,
      steps: ar ? (d['gen_length'] as number) : (d['steps'] as number),
      block_length: ar ? 1 : (d['block_length'] as number),
      remasking: typeof d['remasking'] === 'string' && !ar ? d['remasking'] : 'low_confidence',
      temperature: typeof d['temperature'] === 'number' ? d['temperature'] : 0,
      ...(typeof d['sampler'] === 'object' && d['sampler'] !== null ? { sampler: Object.freeze({ ...(d['sampler'] as CardSamplerOptions) }) } : {}),
    }),
    prompt: Object.freeze({ template }),
    ...(spans ? { spans: Object.freeze({ ...(spans as unknown as CardSpans), applies_to: 'response' as const }) } : {}),
    answer: Object.freeze({ normalize, ...(answerRegex !== undefined ? { regex: answerRegex as string } : {}) }),
  });
}

/**
 * The canonical decimal string of a number written in `text`, or null when it is not one:
 * `$`, `,` (thousands separators) and spaces are dropped; what is left must be a decimal
 * (`[+-]?(\d+(\.\d*)?|\.\d+)`); leading zeros of the integer part, trailing zeros of the
 * fraction, a trailing `.` and a `+` sign are dropped, and −0 is `0`. Equal numbers get equal
 * strings ("$1,234.50" → "1234.5", "-05" → "-5", ".5" → "0.5", "3.0" → "3"), with no loss of
 * precision (no conversion to a float). Exponents, other signs and other white space are not
 * numbers here. The same rule as the word-problems reference (models/word_problems.py
 * `normalize_numeric`), so the agent and the golden files agree.
 */
export function canonicalNumber(text: string): string | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.replace(/[$, ]/g, ''));
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const int = m[2]!.replace(/^0+/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const negative = m[1] === '-' && (int !== '0' || frac !== '');
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/**
 * Normalises an answer for comparison as the card says: `exact` keeps it, `strip-leading-zeros`
 * drops leading zeros (keeping one digit), `numeric` gives {@link canonicalNumber}'s string —
 * null (no answer) for text that is not a number.
 */
export function normalizeAnswer(card: ModelCard, answer: string): string | null {
  switch (card.answer.normalize) {
    case 'strip-leading-zeros':
      return answer.replace(/^0+(?=.)/, '');
    case 'numeric':
      return canonicalNumber(answer);
    default:
      return answer;
  }
}
