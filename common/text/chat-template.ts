/**
 * Chat templates: tokenizer_config.json's `chat_template` (Jinja) rendered with
 * `@huggingface/jinja` as transformers' `apply_chat_template(messages, tokenize=False)` renders
 * it: Jinja with `trim_blocks` and `lstrip_blocks`, the variables `messages`, `tools` and
 * `documents` (None), `add_generation_prompt`, the special tokens (`bos_token`, `eos_token`, `pad_token`,
 * `unk_token`, `additional_special_tokens`) as strings, and the functions `raise_exception`
 * and `strftime_now`. Parity with Python jinja2 in that environment is tested in test/text.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { templateError, tokenizerError } from './errors.ts';

/** One chat turn. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** tokenizer_config.json, with the fields used here normalised and the rest kept in `raw`. */
export interface TokenizerConfig {
  /** The file it was read from (named in errors), or a label for an in-memory config. */
  readonly source: string;
  /** The Jinja chat template (the `default` one when the file holds several), or undefined. */
  readonly chat_template?: string;
  /** Where the template came from: `source`, or a `chat_template.jinja` next to it. */
  readonly chat_template_source?: string;
  /** Special-token strings (AddedToken objects reduced to their content); null when unset. */
  readonly bos_token: string | null;
  readonly eos_token: string | null;
  readonly pad_token: string | null;
  readonly unk_token: string | null;
  readonly additional_special_tokens: readonly string[];
  readonly add_bos_token?: boolean;
  readonly add_eos_token?: boolean;
  /** The whole parsed file. */
  readonly raw: Readonly<Record<string, unknown>>;
}

const tokenString = (v: unknown): string | null =>
  typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : null;

/**
 * Normalises a parsed tokenizer_config.json. `chat_template` may be a string or a list of
 * `{name, template}` (the one named `default` is used); `template` (e.g. the contents of a
 * separate chat_template.jinja) is used when the file has none. Throws MODEL_INVALID for a
 * wrong shape.
 */
export function parseTokenizerConfig(raw: unknown, source: string, template?: { text: string; source: string }): TokenizerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw tokenizerError('invalid', source, 'tokenizer_config.json is not a JSON object');
  const c = raw as Record<string, unknown>;
  let chat: string | undefined;
  let chatSource: string | undefined;
  const ct = c['chat_template'];
  if (typeof ct === 'string') [chat, chatSource] = [ct, source];
  else if (Array.isArray(ct)) {
    const named = ct as Array<{ name?: unknown; template?: unknown }>;
    const d = named.find((x) => x.name === 'default');
    if (!d || typeof d.template !== 'string') throw tokenizerError('invalid', source, `chat_template is a list without a 'default' template (names: ${named.map((x) => String(x.name)).join(', ')})`);
    [chat, chatSource] = [d.template, `${source} (chat_template 'default')`];
  } else if (ct !== undefined && ct !== null) throw tokenizerError('invalid', source, 'chat_template must be a string or a list of {name, template}');
  else if (template) [chat, chatSource] = [template.text, template.source];
  const bool = (k: string) => (typeof c[k] === 'boolean' ? { [k]: c[k] as boolean } : {});
  const extra = Array.isArray(c['additional_special_tokens']) ? (c['additional_special_tokens'] as unknown[]).map(tokenString).filter((s): s is string => s !== null) : [];
  return Object.freeze({
    source,
    ...(chat !== undefined ? { chat_template: chat, chat_template_source: chatSource } : {}),
    bos_token: tokenString(c['bos_token']),
    eos_token: tokenString(c['eos_token']),
    pad_token: tokenString(c['pad_token']),
    unk_token: tokenString(c['unk_token']),
    additional_special_tokens: extra,
    ...bool('add_bos_token'),
    ...bool('add_eos_token'),
    raw: c,
  });
}

/**
 * Reads tokenizer_config.json at `path` (and, when it has no chat_template, a
 * `chat_template.jinja` in the same folder, as newer Hugging Face repositories ship it).
 * Throws MODEL_NOT_FOUND when the file is missing and MODEL_INVALID when it does not parse.
 */
export async function loadTokenizerConfig(path: string): Promise<TokenizerConfig> {
  if (!existsSync(path)) throw tokenizerError('missing', path, 'tokenizer_config.json does not exist');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw tokenizerError('invalid', path, `is not valid JSON: ${(err as Error).message}`);
  }
  const jinja = join(dirname(path), 'chat_template.jinja');
  const template = existsSync(jinja) ? { text: await readFile(jinja, 'utf8'), source: jinja } : undefined;
  return parseTokenizerConfig(raw, path, template);
}

const compiled = new Map<string, Template>();

/**
 * Renders `messages` with the config's chat template, as transformers'
 * `apply_chat_template(messages, tokenize=False, add_generation_prompt=…)` does. Throws
 * CHAT_TEMPLATE_FAILED naming the template's file when there is no template, it does not
 * parse, or it raises (e.g. `raise_exception('System role not supported')`).
 */
export function renderChat(config: TokenizerConfig, messages: ChatMessage[], opts: { addGenerationPrompt: boolean }): string {
  const source = config.chat_template_source ?? config.source;
  if (config.chat_template === undefined) throw templateError(source, 'the file has no chat_template (use the raw prompt format for this model)');
  let template = compiled.get(config.chat_template);
  if (!template) {
    try {
      template = new Template(config.chat_template);
    } catch (err) {
      throw templateError(source, `does not parse: ${(err as Error).message}`, err);
    }
    compiled.set(config.chat_template, template);
  }
  try {
    return template.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      tools: null,
      documents: null,
      add_generation_prompt: opts.addGenerationPrompt,
      // transformers passes only the special tokens that are set (an unset one is undefined, not None).
      ...Object.fromEntries((['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const).filter((k) => config[k] !== null).map((k) => [k, config[k]])),
      ...(config.additional_special_tokens.length ? { additional_special_tokens: [...config.additional_special_tokens] } : {}),
    });
  } catch (err) {
    throw templateError(source, `failed to render: ${(err as Error).message}`, err);
  }
}

/** A user prompt with an optional system message and few-shot (user, assistant) turns before it. */
export interface ChatPrompt {
  readonly system?: string;
  readonly fewShot?: ReadonlyArray<{ readonly user: string; readonly assistant: string }>;
  readonly user: string;
}

/** The messages of a {@link ChatPrompt}: system, then the few-shot turns, then the user turn. */
export function chatMessages(p: ChatPrompt): ChatMessage[] {
  return [
    ...(p.system !== undefined ? [{ role: 'system' as const, content: p.system }] : []),
    ...(p.fewShot ?? []).flatMap((s) => [
      { role: 'user' as const, content: s.user },
      { role: 'assistant' as const, content: s.assistant },
    ]),
    { role: 'user', content: p.user },
  ];
}
