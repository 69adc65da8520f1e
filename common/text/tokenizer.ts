/**
 * Tokenizers of Hugging Face `tokenizer.json` files (any model type: BPE with or without
 * merges, WordPiece, Unigram, WordLevel), shared by the node agent and the orchestrator.
 *
 * Encoding is done by `@huggingface/tokenizers` (a JavaScript port of the Rust `tokenizers`
 * crate; ids are tested equal to Python `tokenizers` in test/text). Decoding is done here,
 * following the Rust decoders component by component (see decoder.ts), so that every
 * character of the decoded text knows which token produced it.
 *
 * **Spans.** For ids t_0…t_{n-1} with decoded text T (UTF-16), token i's span is
 * [s_i, s_{i+1}), where s_i is the length of the longest prefix of T made of characters all
 * of whose source bytes come from tokens before i, and s_n = |T|. Equivalently a character
 * belongs to the token that supplied its last byte. Spans tile T in order; a token whose
 * bytes end mid-character (byte-level BPE, `<0xNN>` byte fallback) gets an empty span and
 * the token completing the character gets it; a token that decodes to nothing (a dropped
 * Metaspace ▁, an unknown id) gets an empty span. For text without U+FFFD this equals
 * s_i = the longest common prefix of T and decode(t_0…t_{j-1}) over all j ≤ i (the maximum
 * matters only for byte fallback, which decodes a truncated `<0xNN>` run to U+FFFD as a
 * whole), which is how the parity test computes it on the Python side.
 *
 * Decoding follows Python `tokenizers`' `Tokenizer.decode`, not transformers': no
 * `clean_up_tokenization_spaces` (it would move characters between tokens); unknown ids
 * are skipped.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { DecoderJson } from './decoder.ts';
import { compileDecoder } from './decoder.ts';
import { tokenizerError } from './errors.ts';
import type { Owned } from './utf8.ts';

/** A [start, end) range of UTF-16 code units in a decoded text. */
export type CharSpan = [number, number];

/** Text ↔ token ids for one model. */
export interface TextTokenizer {
  /** 1 + the largest id of the vocabulary and the added tokens (rows an embedding needs). */
  readonly vocabSize: number;
  /** Ids of the special added tokens (`added_tokens[].special`). */
  readonly specialIds: ReadonlySet<number>;
  /**
   * Text → ids. Added tokens written in the text (`<|im_end|>`) are recognised. With
   * `addSpecialTokens` (default false) BOS/EOS are added as tokenizer_config.json's
   * `add_bos_token`/`add_eos_token` say when it sets them, else as tokenizer.json's
   * post-processor does. Characters the vocabulary cannot represent (no byte fallback, no
   * unk token) are dropped, as Hugging Face tokenizers do.
   */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Ids → text as Python `tokenizers` decodes (byte-level bytes → UTF-8, Metaspace ▁ → space…). */
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** {@link decode} (special tokens kept) plus each token's character span (see the module doc). */
  decodeWithSpans(ids: readonly number[]): { text: string; spans: CharSpan[] };
  /** Id of an exact token string (added or vocabulary), or undefined. */
  tokenToId(token: string): number | undefined;
  /** Raw vocabulary piece of an id (`Ġthe`, `▁the`, `<0xE2>`), '' if unknown. */
  piece(id: number): string;
}

/** The parts of tokenizer.json read here. */
interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | Array<[string, number]>; merges?: unknown[] };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  decoder?: DecoderJson | null;
  post_processor?: unknown;
}

/** The special-token fields of tokenizer_config.json that encoding uses. */
export interface SpecialTokenSettings {
  readonly bos_token?: string | null;
  readonly eos_token?: string | null;
  readonly add_bos_token?: boolean;
  readonly add_eos_token?: boolean;
}

/** Spans from an owner array (owner of each UTF-16 unit) for n tokens. */
function spansFromOwners(owned: Owned, n: number): CharSpan[] {
  const starts = new Array<number>(n + 1).fill(owned.text.length);
  // s_i = first unit whose running max owner is >= i.
  let maxOwner = -1;
  let next = 0;
  for (let k = 0; k < owned.own.length && next <= n; k++) {
    maxOwner = Math.max(maxOwner, owned.own[k]!);
    while (next <= maxOwner && next <= n) starts[next++] = k;
  }
  return Array.from({ length: n }, (_, i) => [starts[i]!, starts[i + 1]!] as CharSpan);
}

/** Length of the common prefix of two strings. */
function commonPrefix(a: string, b: string): number {
  let k = 0;
  while (k < a.length && k < b.length && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  return k;
}

/** Builds a tokenizer from parsed tokenizer.json (and tokenizer_config.json); `where` names the file for errors. */
export function createTokenizer(json: unknown, config: Record<string, unknown> | undefined, where: string): TextTokenizer {
  const t = json as TokenizerJson;
  if (typeof json !== 'object' || json === null || !t.model || typeof t.model !== 'object') throw tokenizerError('invalid', where, 'is not a Hugging Face tokenizer.json (no model)');
  const pieces: string[] = [];
  const byPiece = new Map<string, number>();
  const vocab = t.model.vocab;
  const entries: Array<[string, number]> | null = Array.isArray(vocab) ? vocab.map(([p], id) => [p, id]) : vocab && typeof vocab === 'object' ? Object.entries(vocab) : null;
  if (!entries) throw tokenizerError('invalid', where, 'has no model.vocab');
  for (const [p, id] of entries) {
    pieces[id] = p;
    byPiece.set(p, id);
  }
  const special = new Set<number>();
  for (const a of t.added_tokens ?? []) {
    pieces[a.id] = a.content;
    byPiece.set(a.content, a.id);
    if (a.special) special.add(a.id);
  }
  // @huggingface/tokenizers wants merges present (BPE without merges: the char-level organisms).
  const forHf = t.model.type === 'BPE' && !Array.isArray(t.model.merges) ? { ...t, model: { ...t.model, merges: [] } } : t;
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(forHf, { ...(config ?? {}) });
  } catch (err) {
    throw tokenizerError('invalid', where, `cannot be loaded: ${(err as Error).message}`);
  }
  const decodeOwned = compileDecoder(t.decoder);

  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
  const cfg = config ?? {};
  const override = typeof cfg['add_bos_token'] === 'boolean' || typeof cfg['add_eos_token'] === 'boolean';
  const specialId = (field: 'bos_token' | 'eos_token'): number | undefined => {
    const tok = str(cfg[field]);
    if (tok === undefined) return undefined;
    const id = byPiece.get(tok);
    if (id === undefined) throw tokenizerError('invalid', where, `tokenizer_config.json ${field} ${JSON.stringify(tok)} is not a token of tokenizer.json`);
    return id;
  };
  const bos = cfg['add_bos_token'] === true ? specialId('bos_token') : undefined;
  const eos = cfg['add_eos_token'] === true ? specialId('eos_token') : undefined;

  const tokensOf = (ids: readonly number[]) => {
    const known = ids.filter((id) => pieces[id] !== undefined);
    return known.map((id) => pieces[id]!);
  };
  const hfDecode = (ids: readonly number[]) => {
    const known = ids.filter((id) => pieces[id] !== undefined);
    return known.length === 0 ? '' : hf.decode([...known], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  };

  const tok: TextTokenizer = {
    vocabSize: pieces.length,
    specialIds: special,
    encode(text, opts) {
      const add = opts?.addSpecialTokens ?? false;
      const ids = hf.encode(text, { add_special_tokens: add && !override }).ids.filter((id: number) => Number.isInteger(id)) as number[];
      if (!add || !override) return ids;
      return [...(bos !== undefined ? [bos] : []), ...ids, ...(eos !== undefined ? [eos] : [])];
    },
    decode(ids, opts) {
      const kept = opts?.skipSpecialTokens ? ids.filter((id) => !special.has(id)) : ids;
      return decodeOwned ? decodeOwned(tokensOf(kept)).text : hfDecode(kept);
    },
    decodeWithSpans(ids) {
      // Unknown ids decode to nothing: they get an empty span at their place.
      const known: number[] = [];
      const index: number[] = [];
      ids.forEach((id, i) => {
        if (pieces[id] === undefined) return;
        known.push(id);
        index.push(i);
      });
      let text: string;
      let knownSpans: CharSpan[];
      if (decodeOwned) {
        const owned = decodeOwned(known.map((id) => pieces[id]!));
        text = owned.text;
        knownSpans = spansFromOwners(owned, known.length);
      } else {
        // Decoders not modelled (WordPiece, CTC): the definition computed from prefix decodes.
        text = hfDecode(known);
        const starts = known.map((_, i) => commonPrefix(hfDecode(known.slice(0, i)), text));
        for (let i = 1; i < starts.length; i++) starts[i] = Math.max(starts[i]!, starts[i - 1]!);
        starts.push(text.length);
        knownSpans = known.map((_, i) => [starts[i]!, starts[i + 1]!] as CharSpan);
      }
      const spans: CharSpan[] = [];
      let k = 0;
      let at = 0;
      for (let i = 0; i < ids.length; i++) {
        if (index[k] === i) {
          spans.push(knownSpans[k]!);
          at = knownSpans[k]![1];
          k++;
        } else spans.push([at, at]);
      }
      return { text, spans };
    },
    tokenToId: (token) => byPiece.get(token),
    piece: (id) => pieces[id] ?? '',
  };
  return tok;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) throw tokenizerError('missing', path, `${what} does not exist`, 'check the path (a model directory holds tokenizer.json and optionally tokenizer_config.json)');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw tokenizerError('invalid', path, `cannot be read: ${(err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw tokenizerError('invalid', path, `is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Loads `tokenizerJsonPath` (Hugging Face tokenizer.json) and, when given, the
 * tokenizer_config.json at `tokenizerConfigPath` (its `add_bos_token`, `bos_token`… apply to
 * {@link TextTokenizer.encode} with addSpecialTokens). Throws MODEL_NOT_FOUND for a missing
 * file and MODEL_INVALID for one that does not parse or load, naming the file.
 */
export async function loadTokenizer(tokenizerJsonPath: string, tokenizerConfigPath?: string): Promise<TextTokenizer> {
  const json = await readJson(tokenizerJsonPath, 'tokenizer.json');
  const config = tokenizerConfigPath === undefined ? undefined : await readJson(tokenizerConfigPath, 'tokenizer_config.json');
  return createTokenizer(json, config, tokenizerJsonPath);
}
