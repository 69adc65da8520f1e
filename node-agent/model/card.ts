/**
 * The model card (`model.json`) the agent reads: format `faithsweep.model-card/v1`, written
 * by models/export. Validated once at load; inner code gets the typed, frozen object.
 */
import { AgentError, AgentErrorCode } from '../errors.ts';

/** Sampler defaults of a model. */
export interface CardDefaults {
  readonly gen_length: number;
  readonly steps: number;
  readonly block_length: number;
  readonly remasking: string;
  readonly temperature: number;
}

/** The fields of a model card the agent uses (the card may hold more). */
export interface ModelCard {
  readonly format: 'faithsweep.model-card/v1';
  readonly name: string;
  readonly onnx: string;
  readonly sha256: string;
  readonly tokenizer: string;
  readonly vocab_size: number;
  readonly mask_token_id: number;
  readonly pad_token_id: number;
  readonly end_token_id: number;
  readonly special_tokens: Readonly<Record<string, string>>;
  readonly max_seq_len: number;
  /** Dream-style models predict token i+1 at position i. */
  readonly logits_shifted: boolean;
  readonly defaults: CardDefaults;
  /** A JavaScript regular expression with named groups `cot` and `answer`, matched at the start of the response text. */
  readonly spans: { readonly regex: string; readonly applies_to: 'response' };
  /** How answers are compared: `strip-leading-zeros` or `exact`. */
  readonly answer: { readonly normalize: string };
}

/** Parses and checks a model card; throws MODEL_INVALID naming the bad field. */
export function parseCard(json: unknown, where: string): ModelCard {
  const bad = (field: string, why: string) => new AgentError(AgentErrorCode.MODEL_INVALID, `${where}: model card field '${field}' ${why}`);
  if (typeof json !== 'object' || json === null) throw bad('(root)', 'is not an object');
  const c = json as Record<string, unknown>;
  if (c['format'] !== 'faithsweep.model-card/v1') throw bad('format', `must be 'faithsweep.model-card/v1' (got ${JSON.stringify(c['format'])})`);
  for (const f of ['name', 'onnx', 'sha256', 'tokenizer']) if (typeof c[f] !== 'string' || !c[f]) throw bad(f, 'must be a non-empty string');
  for (const f of ['vocab_size', 'mask_token_id', 'pad_token_id', 'end_token_id', 'max_seq_len']) {
    if (!Number.isInteger(c[f]) || (c[f] as number) < 0) throw bad(f, 'must be a non-negative integer');
  }
  const d = c['defaults'] as Record<string, unknown> | undefined;
  if (!d || !['gen_length', 'steps', 'block_length'].every((k) => Number.isInteger(d[k]) && (d[k] as number) > 0)) {
    throw bad('defaults', 'must hold positive integers gen_length, steps and block_length');
  }
  const spans = c['spans'] as Record<string, unknown> | undefined;
  if (!spans || typeof spans['regex'] !== 'string') throw bad('spans.regex', 'must be a string');
  try {
    const re = new RegExp(spans['regex']);
    if (!re.source.includes('?<cot>') || !re.source.includes('?<answer>')) throw bad('spans.regex', 'must have named groups cot and answer');
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw bad('spans.regex', `is not a valid JavaScript regular expression: ${(err as Error).message}`);
  }
  const answer = (c['answer'] as Record<string, unknown> | undefined) ?? { normalize: 'exact' };
  if (!['exact', 'strip-leading-zeros'].includes(String(answer['normalize'] ?? 'exact'))) throw bad('answer.normalize', "must be 'exact' or 'strip-leading-zeros'");
  return Object.freeze({
    ...(c as unknown as ModelCard),
    logits_shifted: Boolean(c['logits_shifted']),
    defaults: Object.freeze({
      gen_length: d['gen_length'] as number,
      steps: d['steps'] as number,
      block_length: d['block_length'] as number,
      remasking: typeof d['remasking'] === 'string' ? d['remasking'] : 'low_confidence',
      temperature: typeof d['temperature'] === 'number' ? d['temperature'] : 0,
    }),
    answer: Object.freeze({ normalize: String(answer['normalize'] ?? 'exact') }),
  });
}

/** Normalises an answer for comparison as the card says. */
export function normalizeAnswer(card: ModelCard, answer: string): string {
  if (card.answer.normalize === 'strip-leading-zeros') return answer.replace(/^0+(?=.)/, '');
  return answer;
}
