/**
 * The agent's tokenizer: reads a Hugging Face `tokenizer.json` whose vocabulary is one
 * token per character (WordLevel, or BPE without merges), as the bundled organisms use,
 * plus the added special tokens. Sub-word tokenizers (real LLaDA/Dream) are not supported
 * here: the orchestrator then sends `prompt_ids` instead of text.
 */
import { AgentError, AgentErrorCode } from '../errors.ts';

/** Encodes text and renders token ids. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** Ids of the special (added) tokens. */
  readonly specialIds: ReadonlySet<number>;
  /** Text → ids; throws BAD_REQUEST naming a character not in the vocabulary. */
  encode(text: string): number[];
  /** The string of one token id ('' for an unknown id). */
  piece(id: number): string;
}

/** Builds a tokenizer from parsed tokenizer.json. Throws MODEL_INVALID when it is not character-level. */
export function loadCharTokenizer(json: unknown, where: string): Tokenizer {
  const t = json as { model?: { type?: string; vocab?: Record<string, number>; merges?: unknown[] }; added_tokens?: { id: number; content: string; special?: boolean }[] };
  const vocab = t.model?.vocab;
  if (!vocab || typeof vocab !== 'object') throw new AgentError(AgentErrorCode.MODEL_INVALID, `${where}: tokenizer.json has no model.vocab`);
  if ((t.model?.merges?.length ?? 0) > 0) {
    throw new AgentError(AgentErrorCode.MODEL_INVALID, `${where}: sub-word tokenizers (BPE with merges) are not supported by the agent; send prompt_ids instead`);
  }
  const special = new Set((t.added_tokens ?? []).filter((a) => a.special !== false).map((a) => a.id));
  const byId = new Map<number, string>();
  const byChar = new Map<string, number>();
  for (const [piece, id] of Object.entries(vocab)) {
    byId.set(id, piece);
    if (!special.has(id)) {
      if ([...piece].length !== 1) throw new AgentError(AgentErrorCode.MODEL_INVALID, `${where}: token '${piece}' is not a single character`);
      byChar.set(piece, id);
    }
  }
  for (const a of t.added_tokens ?? []) byId.set(a.id, a.content);
  return {
    vocabSize: byId.size,
    specialIds: special,
    encode(text) {
      return [...text].map((ch, i) => {
        const id = byChar.get(ch);
        if (id === undefined) throw new AgentError(AgentErrorCode.BAD_REQUEST, `prompt character ${JSON.stringify(ch)} at offset ${i} is not in the model's vocabulary`);
        return id;
      });
    },
    piece: (id) => byId.get(id) ?? '',
  };
}
