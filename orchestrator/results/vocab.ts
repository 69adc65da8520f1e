/**
 * Token id → display text for the report's trajectory viewer. Reads the model's
 * `tokenizer.json` (any Hugging Face tokenizer, through common/text) from the model's folder
 * when it is there and shows each token as it decodes; otherwise learns the map from the sweep's own clean runs, which
 * for the character-level organisms pair token i with character i of the decoded text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenizer } from '../../common/text/tokenizer.ts';

/** Line breaks and tabs drawn visibly inside a one-line token strip. */
function displayPiece(text: string): string {
  return text.replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** How the viewer draws token ids. */
export interface Vocab {
  /** id → text ('' for ids never seen). */
  readonly pieces: Record<number, string>;
  readonly maskId: number | null;
  readonly endId: number | null;
  /** Where the map came from. */
  readonly source: 'tokenizer.json' | 'trajectories';
}

interface CardLike {
  tokenizer?: unknown;
  tokenizer_config?: unknown;
  mask_token_id?: unknown;
  end_token_id?: unknown;
}

/** Builds the vocabulary of a model from its folder, else from (tokens, finalText) pairs of its clean runs. */
export function modelVocab(path: string, card: unknown, samples: readonly { tokens: readonly number[]; text: string }[]): Vocab {
  const c = (card ?? {}) as CardLike;
  const maskId = typeof c.mask_token_id === 'number' ? c.mask_token_id : null;
  const endId = typeof c.end_token_id === 'number' ? c.end_token_id : null;
  const file = join(path, typeof c.tokenizer === 'string' ? c.tokenizer : 'tokenizer.json');
  if (existsSync(file)) {
    try {
      const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      const configFile = typeof c.tokenizer_config === 'string' ? join(path, c.tokenizer_config) : null;
      const config = configFile && existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown> : undefined;
      const tok = createTokenizer(json, config, file);
      const pieces: Record<number, string> = {};
      // Each id as the tokenizer decodes it on its own (byte-level BPE 'Ġ=' → ' =', Metaspace
      // '▁x' → ' x'), never the raw vocabulary piece; specials keep their written form.
      for (let id = 0; id < tok.vocabSize; id++) {
        const raw = tok.piece(id);
        if (!raw) continue;
        pieces[id] = tok.specialIds.has(id) ? raw : displayPiece(tok.decode([id]));
      }
      if (Object.keys(pieces).length > 0) return { pieces, maskId, endId, source: 'tokenizer.json' };
    } catch {
      // An unreadable tokenizer falls through to the learned map.
    }
  }
  const pieces: Record<number, string> = {};
  for (const s of samples) {
    const chars = [...s.text];
    chars.forEach((ch, i) => {
      const id = s.tokens[i];
      if (id !== undefined && pieces[id] === undefined) pieces[id] = ch;
    });
  }
  return { pieces, maskId, endId, source: 'trajectories' };
}
