/**
 * Token id → display text for the report's trajectory viewer. Reads the model's
 * `tokenizer.json` (Hugging Face format: model.vocab plus added_tokens) from the model's
 * folder when it is there; otherwise learns the map from the sweep's own clean runs, which
 * for the character-level organisms pair token i with character i of the decoded text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

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
      const t = JSON.parse(readFileSync(file, 'utf8')) as { model?: { vocab?: Record<string, number> }; added_tokens?: { id: number; content: string }[] };
      const pieces: Record<number, string> = {};
      for (const [piece, id] of Object.entries(t.model?.vocab ?? {})) pieces[id] = piece;
      for (const a of t.added_tokens ?? []) pieces[a.id] = a.content;
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
