/**
 * The agent's tokenizer: the shared {@link TextTokenizer} of common/text (any Hugging Face
 * tokenizer.json: the character-level organisms' BPE without merges, real byte-level BPE,
 * SentencePiece-style), loaded from the paths a model card names, with the agent's error codes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TextTokenizer } from '../text/tokenizer.ts';
import { loadTokenizer } from '../text/tokenizer.ts';
import { isFaithsweepError } from '../errors.ts';
import { AgentError, AgentErrorCode } from '../agent-errors.ts';

/** The agent's tokenizer (the shared interface). */
export type Tokenizer = TextTokenizer;

/**
 * True when encoding can silently drop characters: no unk token, no byte fallback and not
 * byte-level (every string is representable in byte-level BPE), as in the character-level
 * organisms, whose vocabulary is a fixed set of characters; and no normaliser, so the text
 * decodes back unchanged unless a character was dropped.
 */
function canDropCharacters(json: unknown): boolean {
  const t = json as { normalizer?: unknown; model?: { unk_token?: unknown; byte_fallback?: unknown }; decoder?: { type?: string; decoders?: { type?: string }[] } | null; pre_tokenizer?: unknown };
  const types = [t.decoder?.type, ...(t.decoder?.decoders ?? []).map((d) => d.type)];
  const byteLevel = types.includes('ByteLevel') || JSON.stringify(t.pre_tokenizer ?? null).includes('"ByteLevel"');
  return !t.normalizer && !t.model?.unk_token && t.model?.byte_fallback !== true && !byteLevel;
}

/**
 * Loads the tokenizer of model directory `dir`: `tokenizerFile` (the card's `tokenizer`)
 * and, when given, `configFile` (the card's `tokenizer_config`). Throws MODEL_INVALID
 * naming the file. Where the vocabulary cannot represent every character, `encode` throws
 * BAD_REQUEST naming the first character it would drop, instead of dropping it.
 */
export async function loadAgentTokenizer(dir: string, tokenizerFile: string, configFile?: string): Promise<Tokenizer> {
  const path = join(dir, tokenizerFile);
  let tok: TextTokenizer;
  try {
    tok = await loadTokenizer(path, configFile === undefined ? undefined : join(dir, configFile));
  } catch (err) {
    if (isFaithsweepError(err)) throw new AgentError(AgentErrorCode.MODEL_INVALID, err.message, { cause: err });
    throw err;
  }
  if (!canDropCharacters(JSON.parse(readFileSync(path, 'utf8')))) return tok;
  return {
    ...tok,
    encode(text, opts) {
      const ids = tok.encode(text, opts);
      // Only dropped characters make the round trip differ here (no normaliser changes them).
      const back = tok.decode(opts?.addSpecialTokens ? ids.filter((id) => !tok.specialIds.has(id)) : ids);
      if (back !== text) {
        const chars = [...text];
        const got = [...back];
        let i = 0;
        while (i < chars.length && chars[i] === got[i]) i++;
        const offset = chars.slice(0, i).join('').length;
        throw new AgentError(AgentErrorCode.BAD_REQUEST, `prompt character ${JSON.stringify(chars[i] ?? '')} at offset ${offset} is not in the model's vocabulary`);
      }
      return ids;
    },
  };
}
