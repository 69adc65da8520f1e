/**
 * Presenting prompts to a model as its card says (`prompt.template`, docs/spec.md):
 * `raw` models get the prompt text as it is (the agent tokenizes it: the character-level
 * organisms); `chat` models get it rendered with the chat template of their
 * `tokenizer_config.json` (as transformers' `apply_chat_template(..., add_generation_prompt=True)`
 * renders it), with the spec's system message and few-shot turns, and tokenized here by the
 * model's own tokenizer, so the orchestrator stores and sends exactly the ids the model sees.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../../common/text/tokenizer.ts';
import type { TextTokenizer } from '../../common/text/tokenizer.ts';
import { loadTokenizerConfig, renderChat } from '../../common/text/chat-template.ts';
import type { ChatMessage, TokenizerConfig } from '../../common/text/chat-template.ts';
import { ErrorCode, FaithsweepError, isFaithsweepError } from '../../common/errors.ts';

/** How a model is given its prompts (model card `prompt.template`; absent: `raw`). */
export type PromptTemplate = 'raw' | 'chat';

/** Reads and checks a card's `prompt.template`; throws MODEL_INVALID naming `where` (the card) otherwise. */
export function promptTemplate(cardJson: unknown, where: string): PromptTemplate {
  const prompt = (cardJson as { prompt?: unknown }).prompt;
  if (prompt === undefined) return 'raw';
  const t = typeof prompt === 'object' && prompt !== null ? (prompt as { template?: unknown }).template ?? 'raw' : undefined;
  if (t === 'raw' || t === 'chat') return t;
  throw new FaithsweepError(ErrorCode.MODEL_INVALID, `${where}: model card field 'prompt' must be {"template": "raw" | "chat"} (got ${JSON.stringify(prompt)})`, { hint: 'fix or re-export the model card' });
}

/** One few-shot example: a user turn and the assistant's answer. */
export interface FewshotTurn {
  readonly prompt: string;
  readonly answer: string;
}

/** What one prompt is rendered from. */
export interface ChatInput {
  readonly system?: string | undefined;
  readonly fewshot: readonly FewshotTurn[];
  readonly prompt: string;
}

/** A model's chat template and tokenizer, ready to render prompts. */
export interface ChatRenderer {
  /** sha256 (hex) of the tokenizer files and the template: models with the same key render and tokenize alike. */
  readonly key: string;
  /**
   * Renders and tokenizes one prompt (ids as transformers' `apply_chat_template(tokenize=True)`:
   * the rendered text encoded without added special tokens, since the template writes them).
   * Throws a coded error naming `where` and the template file when the template fails, and
   * BAD_SPEC when the tokenizer loses a character of the rendered text.
   */
  render(input: ChatInput, where: string): { text: string; ids: number[] };
}

/** Text compared after a tokenizer round trip: NFKC, without whitespace (normalisers and Metaspace may change those legitimately). */
const comparable = (s: string): string => s.normalize('NFKC').replace(/\s+/g, '');

/** The chat messages of one prompt: system, few-shot user/assistant pairs, the prompt. */
export function chatMessages(input: ChatInput): ChatMessage[] {
  return [
    ...(input.system !== undefined ? [{ role: 'system' as const, content: input.system }] : []),
    ...input.fewshot.flatMap((t) => [{ role: 'user' as const, content: t.prompt }, { role: 'assistant' as const, content: t.answer }]),
    { role: 'user', content: input.prompt },
  ];
}

/**
 * Loads a chat model's tokenizer (card `tokenizer`) and template (card `tokenizer_config`,
 * its `chat_template`), both relative to the model directory. Throws MODEL_INVALID naming
 * `where` (the spec's `file:line:col: models[i]`) when either is missing or unreadable.
 */
export async function chatRenderer(model: { readonly name: string; readonly dir: string; readonly cardJson: unknown }, where: string): Promise<ChatRenderer> {
  const card = model.cardJson as { tokenizer?: unknown; tokenizer_config?: unknown };
  const bad = (why: string) => new FaithsweepError(ErrorCode.MODEL_INVALID, `${where}: model ${model.name} (prompt.template chat): ${why}`, { hint: 'a chat model needs tokenizer.json and tokenizer_config.json with a chat_template; fix or re-export the model' });
  if (typeof card.tokenizer_config !== 'string' || !card.tokenizer_config) throw bad("its card has no 'tokenizer_config' (the file holding chat_template)");
  const tokPath = join(model.dir, String(card.tokenizer));
  const cfgPath = join(model.dir, card.tokenizer_config);
  for (const p of [tokPath, cfgPath]) if (!existsSync(p)) throw bad(`${p} does not exist`);
  let config: TokenizerConfig;
  let tokenizer: TextTokenizer;
  try {
    config = await loadTokenizerConfig(cfgPath);
    tokenizer = await loadTokenizer(tokPath, cfgPath);
  } catch (err) {
    throw bad(`cannot load its tokenizer: ${(err as Error).message}`);
  }
  if (config.chat_template === undefined) throw bad(`${cfgPath} has no chat_template`);
  // The template may come from a chat_template.jinja beside the config: hash its text too.
  const key = createHash('sha256').update(readFileSync(tokPath)).update('\0').update(readFileSync(cfgPath)).update('\0').update(config.chat_template).digest('hex');
  return {
    key,
    render(input, at) {
      let text: string;
      try {
        text = renderChat(config, chatMessages(input), { addGenerationPrompt: true });
      } catch (err) {
        // renderChat's coded error names the template's file; this adds the spec's place.
        const why = isFaithsweepError(err) ? err.message : `chat template of ${cfgPath}: ${(err as Error).message}`;
        throw new FaithsweepError(isFaithsweepError(err) ? err.code : ErrorCode.BAD_SPEC, `${at}: ${why}`, {
          hint: 'check prompting.system and dataset.fewshot against what this template accepts (some templates refuse a system message)',
          cause: err,
        });
      }
      const ids = tokenizer.encode(text, { addSpecialTokens: false });
      // A vocabulary without the prompt's characters (and no unk/byte fallback) drops them
      // silently: the model would see another text than the one stored.
      const back = tokenizer.decode(ids);
      if (comparable(back) !== comparable(text)) {
        const a = [...comparable(text)];
        const b = [...comparable(back)];
        let i = 0;
        while (i < a.length && a[i] === b[i]) i++;
        throw new FaithsweepError(ErrorCode.BAD_SPEC, `${at}: the rendered prompt does not survive ${tokPath}: ${JSON.stringify(a[i] ?? '')} (character ${i + 1}, spaces aside) is lost or changed`, {
          hint: "use prompts (and system/few-shot text) within the model's vocabulary",
        });
      }
      return { text, ids };
    },
  };
}
