import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from './spec.ts';
import { resolveArCells, resolveCells, resolveSteps } from './grid.ts';
import { FaithsweepError } from '../../common/errors.ts';

const GOOD = `name: demo
models:
  - arith-cot
  - path: models/arith-cot-decoupled
    sampler: { steps: 40, remasking: low_confidence }
dataset: { generator: arith, seed: 3, count: 10 }
seeds: [0, 1]
grid:
  positions: [cot, "0-2", {every: 2, of: answer}]
  steps: [0.5, 3, "10-11"]
  kinds: [replace, {replace: second}, {replace: end}, {replace: {token: 5}}, remask, probe]
options: { window: 8 }
`;

function problems(text: string): string[] {
  try {
    parseSpec(text, 'sweep.yaml');
  } catch (err) {
    assert.ok(err instanceof FaithsweepError);
    assert.equal(err.code, 'BAD_SPEC');
    return err.message.split('\n');
  }
  assert.fail('expected BAD_SPEC');
}

describe('sweep spec parsing', () => {
  it('reports a malformed range string as BAD_SPEC at its entry, with the spec\'s other problems (no INTERNAL crash)', () => {
    const text = GOOD.replace('steps: [0.5, 3, "10-11"]', 'steps: [0.5, "x-y", "5 - 9"]').replace('positions: [cot, "0-2"', 'positions: [cot, "abc"').replace('window: 8', 'window: 0');
    const p = problems(text);
    assert.ok(p.some((l) => /^sweep\.yaml:9:20: grid\.positions\[1\]: allowed: .*\(got "abc"\)$/.test(l)), p.join('\n'));
    assert.ok(p.some((l) => /^sweep\.yaml:10:16: grid\.steps\[1\]: allowed: .*\(got "x-y"\)$/.test(l)), p.join('\n'));
    assert.ok(p.some((l) => /^sweep\.yaml:10:23: grid\.steps\[2\]: allowed: .*\(got "5 - 9"\)$/.test(l)), p.join('\n'));
    assert.ok(p.some((l) => /options\.window/.test(l)), p.join('\n'));
  });

  it('turns a valid spec into typed selectors', () => {
    const s = parseSpec(GOOD, 'sweep.yaml');
    assert.equal(s.name, 'demo');
    assert.deepEqual(s.models.map(({ ref, sampler }) => ({ ref, sampler })), [{ ref: 'arith-cot', sampler: {} }, { ref: 'models/arith-cot-decoupled', sampler: { steps: 40, remasking: 'low_confidence' } }]);
    assert.match(s.models[1]!.where ?? '', /^sweep\.yaml:\d+:\d+: models\[1\]$/);
    assert.deepEqual(s.dataset, { kind: 'arith', seed: 3, count: 10 });
    assert.deepEqual(s.seeds, [0, 1]);
    assert.deepEqual(s.grid!.positions, [{ kind: 'span', span: 'cot' }, { kind: 'range', from: 0, to: 2 }, { kind: 'every', k: 2, of: 'answer' }]);
    assert.deepEqual(s.grid!.steps, [{ kind: 'fraction', value: 0.5 }, { kind: 'index', value: 3 }, { kind: 'range', from: 10, to: 11 }]);
    assert.equal(s.grid!.kinds.length, 6);
    assert.deepEqual(s.grid!.kinds[2], { kind: 'replace', variant: 'end' });
    assert.equal(s.options.window, 8);
  });

  it('reports every problem with file:line:col, the key and what is allowed; unknown keys included', () => {
    const text = GOOD.replace('seeds: [0, 1]', 'sedes: [0, 1]').replace('kinds: [replace,', 'kinds: [smash,').replace('window: 8', 'window: -1');
    const lines = problems(text);
    assert.deepEqual(lines, [
      "sweep.yaml:7:1: (spec).sedes: unknown key (allowed: name, models, dataset, prompting, seeds, grid, ar_grid, options)",
      'sweep.yaml:11:11: grid.kinds[0]: allowed: replace, {replace: random|second|end|{token: N}}, remask, probe (got "smash")',
      'sweep.yaml:12:20: options.window: must be an integer in [1, 1000] (got -1)',
    ]);
  });

  it("names the bad key inside a model's sampler at its file:line:col, not only the model's allowed forms", () => {
    const text = GOOD.replace('sampler: { steps: 40, remasking: low_confidence }', 'sampler: { steps: 0, remasking: bogus, temperature: -1 }');
    assert.deepEqual(problems(text), [
      'sweep.yaml:5:23: models[1].sampler.steps: must be an integer >= 1 (got 0)',
      'sweep.yaml:5:37: models[1].sampler.remasking: allowed: low_confidence, random, entropy, topk_margin, maskgit_plus (got "bogus")',
      'sweep.yaml:5:57: models[1].sampler.temperature: must be a number >= 0 (got -1)',
    ]);
    // Both name and path: the object form's own rule; a number: the allowed forms.
    assert.deepEqual(problems(GOOD.replace('  - path: models/arith-cot-decoupled', '  - name: x\n    path: models/arith-cot-decoupled')), [
      'sweep.yaml:4:5: models[1]: give exactly one of name (a model under the models folder) or path (a model directory)',
    ]);
    assert.deepEqual(problems(GOOD.replace('  - arith-cot\n', '  - 3\n')), ['sweep.yaml:3:5: models[0]: allowed: a model name, or {name: NAME | path: DIR, sampler: {...}} (got 3)']);
    // A value of the wrong type for a union of an enum and other forms: the allowed forms, not the enum's own message.
    assert.deepEqual(problems(GOOD.replace('positions: [cot,', 'positions: [2.5,')), [
      'sweep.yaml:9:15: grid.positions[0]: allowed: a position (integer), a range "a-b", cot, answer, all, or {every: k, of: cot|answer|all} (got 2.5)',
    ]);
  });

  it('cuts what it echoes of a bad value at 120 characters (a garbage file is not printed whole)', () => {
    const [line] = problems('x'.repeat(5000));
    assert.equal(line, `sweep.yaml:1:1: (spec): the spec must be a mapping (got "${'x'.repeat(119)}… (5002 characters))`);
  });

  it('rejects a repeated seed (the same work units twice), naming it', () => {
    assert.deepEqual(problems(GOOD.replace('seeds: [0, 1]', 'seeds: [0, 1, 0]')), ['sweep.yaml:7:15: seeds[2]: repeats seeds[0] (0): list each seed once']);
  });

  it('rejects a YAML syntax error with its line', () => {
    assert.match(problems('name: x\nmodels: [a\n')[0]!, /^sweep\.yaml:\d+:\d+: YAML: /);
  });
});

describe('JSONL datasets and prompting in the spec', () => {
  const base = (dataset: string, extra = '') => `name: words
models: [word-problems]
${dataset}
${extra}grid: {positions: [cot], steps: [0.5], kinds: [replace]}
`;

  it('reads the field mapping, answer_regex, count, few-shot and the system message', () => {
    const s = parseSpec(base(`dataset:
  jsonl: data/test.jsonl
  prompt: question
  answer: answer
  answer_regex: '#### (?<answer>.+)'
  count: 50
  fewshot: {jsonl: data/train.jsonl, count: 3}`, 'prompting: {system: "Solve it."}\n'), 'sweep.yaml');
    const { where, fewshot, ...ds } = s.dataset as Extract<typeof s.dataset, { kind: 'jsonl' }>;
    assert.deepEqual(ds, { kind: 'jsonl', path: 'data/test.jsonl', fields: { prompt: 'question', answer: 'answer' }, answerRegex: '#### (?<answer>.+)', count: 50 });
    assert.equal(where, 'sweep.yaml:4:10: dataset.jsonl');
    assert.deepEqual({ ...fewshot, where: undefined }, { path: 'data/train.jsonl', count: 3, where: undefined });
    assert.match(fewshot!.where!, /^sweep\.yaml:9:12: dataset\.fewshot$/);
    assert.equal(s.prompting?.system, 'Solve it.');
    assert.equal(s.prompting?.where, 'sweep.yaml:10:12: prompting');
  });

  it('keeps a plain jsonl spec as it was (no new keys, so its hash is unchanged)', () => {
    const s = parseSpec(base('dataset: {jsonl: data/test.jsonl}'), 'sweep.yaml');
    assert.deepEqual(Object.keys(s.dataset).sort(), ['kind', 'path', 'where']);
    assert.equal(s.prompting, undefined);
    assert.equal('prompting' in s, false);
  });

  it('reports an answer_regex that does not compile, or has no group answer, at its file:line:col', () => {
    assert.deepEqual(problems(base("dataset: {jsonl: t.jsonl, answer_regex: '#### (?<answer>.+'}")), [
      'sweep.yaml:3:41: dataset.answer_regex: is not a valid JavaScript regular expression: Invalid regular expression: /(?:#### (?<answer>.+)|/: Unterminated group',
    ]);
    assert.deepEqual(problems(base("dataset: {jsonl: t.jsonl, answer_regex: '#### (?<gold>.+)'}")), [
      "sweep.yaml:3:41: dataset.answer_regex: must have a named group answer, e.g. '#### (?<answer>.+)'",
    ]);
    assert.deepEqual(problems(base("dataset: {jsonl: t.jsonl, answer_regex: '#### (.+)'}")), [
      "sweep.yaml:3:41: dataset.answer_regex: must have a named group answer, e.g. '#### (?<answer>.+)'",
    ]);
  });

  it('reports every problem of the dataset, few-shot and prompting keys together, in file order', () => {
    const lines = problems(base(`dataset:
  jsonl: t.jsonl
  prompt: 7
  fewshot: {jsonl: s.jsonl, count: 0, shots: 2}`, 'prompting: {system: "", temperature: 1}\n'));
    assert.deepEqual(lines, [
      'sweep.yaml:5:11: dataset.prompt: must be a field name (got 7)',
      'sweep.yaml:6:36: dataset.fewshot.count: must be an integer >= 1 (got 0)',
      'sweep.yaml:6:39: dataset.fewshot.shots: unknown key (allowed: jsonl, count, prompt, answer)',
      'sweep.yaml:7:21: prompting.system: must be a non-empty string (got "")',
      'sweep.yaml:7:25: prompting.temperature: unknown key (allowed: system)',
    ]);
  });

  it('rejects JSONL-only keys on a generator dataset, and few-shot without its count', () => {
    assert.deepEqual(problems(base('dataset: {generator: arith, count: 3, answer_regex: x, fewshot: {jsonl: f.jsonl}}')), [
      'sweep.yaml:3:39: dataset.answer_regex: only applies to a jsonl dataset (give jsonl: PATH)',
      "sweep.yaml:3:53: dataset.answer_regex: must have a named group answer, e.g. '#### (?<answer>.+)'",
      'sweep.yaml:3:56: dataset.fewshot: only applies to a jsonl dataset (give jsonl: PATH)',
      'sweep.yaml:3:65: dataset.fewshot.count: is required: how many examples (the first N records of the file)',
    ]);
    assert.deepEqual(problems(base('dataset: {jsonl: t.jsonl, fewshot: {jsonl: f.jsonl}}')), [
      'sweep.yaml:3:36: dataset.fewshot.count: is required: how many examples (the first N records of the file)',
    ]);
  });
});

describe('grid resolution', () => {
  const shape = { steps: 40, genLength: 40, cot: { start: 0, end: 4 }, answer: { start: 5, end: 9 } };

  it('resolves spans, ranges and every-k against the trajectory, and fractions against T', () => {
    const s = parseSpec(GOOD, 'sweep.yaml');
    assert.deepEqual(resolveSteps(s.grid!.steps, 40), [3, 10, 11, 20]);
    const cells = resolveCells(s.grid!, shape);
    const positions = [...new Set(cells.filter((c) => c.position >= 0).map((c) => c.position))];
    assert.deepEqual(positions, [0, 1, 2, 3, 5, 7]);
    // 4 steps x (5 kinds x 6 positions + 1 probe)
    assert.equal(cells.length, 4 * (5 * 6 + 1));
    assert.equal(new Set(cells.map((c) => c.key)).size, cells.length);
    assert.ok(cells.some((c) => c.key === 't20.p7.replace.token5') && cells.some((c) => c.key === 't3.probe'));
    assert.ok(cells.some((c) => c.key === 't20.p7.replace.end'));
  });

  it('rejects an explicit step beyond the model T', () => {
    assert.throws(() => resolveSteps([{ kind: 'index', value: 40 }], 40), { code: 'BAD_SPEC' });
  });
});

describe('the bundled example specs', () => {
  it('examples/demo.yaml is valid', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { REPO_ROOT } = await import('../../common/config/paths.ts');
    const s = parseSpec(readFileSync(join(REPO_ROOT, 'examples', 'demo.yaml'), 'utf8'), 'examples/demo.yaml');
    assert.deepEqual(s.models.map((m) => m.ref), ['arith-cot', 'arith-cot-decoupled']);
  });

  it('examples/word-problems.yaml is valid: the held-out JSONL of models/word-problems, gold after ####', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { REPO_ROOT } = await import('../../common/config/paths.ts');
    const s = parseSpec(readFileSync(join(REPO_ROOT, 'examples', 'word-problems.yaml'), 'utf8'), 'examples/word-problems.yaml');
    assert.deepEqual(s.models.map((m) => m.ref), ['word-problems']);
    const { where: _, ...ds } = s.dataset as Extract<typeof s.dataset, { kind: 'jsonl' }>;
    assert.deepEqual(ds, { kind: 'jsonl', path: '../models/word-problems/heldout.jsonl', fields: { prompt: 'question', answer: 'answer' }, answerRegex: '#### (?<answer>.+)', count: 12 });
  });
});

describe('spec values the database, the RNG and the workflow cannot take (issue: bad input stopped at plan)', () => {
  it('rejects seeds outside [0, 2^31 - 1], repeated seeds and a window above its maximum, every one with file:line:col', () => {
    const text = GOOD.replace('seeds: [0, 1]', 'seeds: [7000000000, -1, 0, 0]').replace('window: 8', 'window: 1000000000');
    assert.deepEqual(problems(text), [
      'sweep.yaml:7:9: seeds[0]: must be an integer in [0, 2147483647] (got 7000000000)',
      'sweep.yaml:7:21: seeds[1]: must be an integer in [0, 2147483647] (got -1)',
      'sweep.yaml:7:28: seeds[3]: repeats seeds[2] (0): list each seed once',
      'sweep.yaml:12:20: options.window: must be an integer in [1, 1000] (got 1000000000)',
    ]);
    assert.deepEqual(problems(GOOD.replace('seeds: [0, 1]', 'seeds: [0, 0]')), ['sweep.yaml:7:12: seeds[1]: repeats seeds[0] (0): list each seed once']);
    assert.deepEqual(problems(GOOD.replace('seed: 3', 'seed: 4294967296')), ['sweep.yaml:6:36: dataset.seed: must be an integer in [0, 4294967295] (got 4294967296)']);
  });

  it('accepts the largest seed and window', () => {
    const s = parseSpec(GOOD.replace('seeds: [0, 1]', 'seeds: [2147483647]').replace('window: 8', 'window: 1000'), 'sweep.yaml');
    assert.deepEqual(s.seeds, [2147483647]);
    assert.equal(s.options.window, 1000);
  });

  it('records the file position of every entry for the checks plan makes against the models', () => {
    const s = parseSpec(GOOD, 'sweep.yaml');
    assert.equal(s.where?.['grid.steps[1]'], 'sweep.yaml:10:16');
    assert.equal(s.where?.['grid.kinds[3].replace.token'], 'sweep.yaml:11:73');
  });
});

describe('autoregressive grids (ar_grid)', () => {
  const AR_SPEC = `name: mixed
models: [arith-cot, arith-cot-ar]
dataset: {generator: arith, count: 4}
grid:
  positions: [cot]
  steps: [0.5]
  kinds: [probe, truncate]
ar_grid:
  positions: [3]
  fractions: [0, 0.5, 1]
  kinds: [truncate, replace, paraphrase, filler, remask]
`;

  it('refuses autoregressive kinds in grid and diffusion kinds in ar_grid, each at its file:line:col', () => {
    assert.throws(() => parseSpec(AR_SPEC, 'sweep.yaml'), (err: Error) => {
      assert.match(err.message, /sweep\.yaml:7:\d+: grid\.kinds\[1\]: truncate is an autoregressive intervention: list it under ar_grid\.kinds/);
      assert.match(err.message, /sweep\.yaml:11:\d+: ar_grid\.kinds\[4\]: remask is a diffusion intervention: list it under grid\.kinds/);
      return true;
    });
  });

  it('resolves an autoregressive grid to deterministic keys: fractions for truncate, positions for replace, one paraphrase and one filler cell', () => {
    const s = parseSpec(AR_SPEC.replace('probe, truncate', 'probe').replace(', remask', ''), 'sweep.yaml');
    const cells = resolveArCells(s.arGrid!, { steps: 40, genLength: 40, cot: { start: 0, end: 27 }, answer: { start: 28, end: 33 } });
    assert.deepEqual(cells.map((c) => c.key), ['f0.truncate', 'f0.5.truncate', 'f1.truncate', 'p3.replace.random', 'paraphrase', 'filler']);
    assert.deepEqual(cells.map((c) => c.key), resolveArCells(s.arGrid!, { steps: 40, genLength: 40, cot: { start: 0, end: 27 }, answer: { start: 28, end: 33 } }).map((c) => c.key));
    assert.equal(cells[1]!.fraction, 0.5);
  });
});
