// `faithsweep plan` and `launch` of specs with bad input (docs/spec.md "What plan checks"):
// a non-zero exit, every problem as file:line:col, and nothing written to a real PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, resolvePaths } from '../../common/config/paths.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;
let dir: string;
let db: TestDatabase;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], {
    encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, FAITHSWEEP_MODELS: MODELS_DIR, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function spec(name: string, text: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

const structural = `name: bad-structure
models: [arith-cot]
dataset: {generator: arith, seed: 1, count: 2}
seeds: [7000000000, -1, 0, 0]
grid: {positions: [0], steps: [0], kinds: [probe]}
options: {window: 1000000000}
`;

const againstModel = `name: bad-model
models: [arith-cot]
dataset: {generator: arith, seed: 1, count: 2}
grid: {positions: [0], steps: [40, 41, "10-50"], kinds: [{replace: {token: 99999}}]}
`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'faithsweep-bad-spec-'));
  db = await freshDatabase('bad-spec');
});
after(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('plan and launch of a spec with bad input', () => {
  it('plan: a non-zero exit and every structural problem with file:line:col', () => {
    const p = spec('structural', structural);
    const r = cli(['plan', p]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BAD_SPEC/);
    for (const line of [
      `${p}:4:9: seeds[0]: must be an integer in [0, 2147483647] (got 7000000000)`,
      `${p}:4:21: seeds[1]: must be an integer in [0, 2147483647] (got -1)`,
      `${p}:4:28: seeds[3]: repeats seeds[2] (0): list each seed once`,
      `${p}:6:19: options.window: must be an integer in [1, 1000] (got 1000000000)`,
    ]) assert.ok(r.stderr.includes(line), `${line}\nin\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('plan: a prompt count the database cannot number is refused at dataset.count naming the maximum', () => {
    const huge = spec('huge', 'name: huge\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 1e20}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n');
    const r = cli(['plan', huge]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.startsWith(`error[BAD_SPEC]: ${huge}:3:45: dataset.count: must be an integer in [1, 2147483647] (got 100000000000000000000)\n`), r.stderr);
    // Within the count's maximum, but with two models over 2^31 work units.
    const units = spec('units', 'name: units\nmodels: [arith-cot, arith-cot-decoupled]\ndataset: {generator: arith, seed: 1, count: 2000000000}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n');
    const u = cli(['plan', units]);
    assert.equal(u.code, 1, u.stderr);
    assert.match(u.stderr, new RegExp(`^error\\[BAD_SPEC\\]: ${units}:3:45: dataset\\.count: 2000000000 prompts × 2 \\(models × seeds\\) = 4000000000 work units, more than the 2147483648 a sweep can have`));
    assert.match(u.stderr, /hint: use at most 1073741824 prompts with 2 model\(s\) × seed\(s\)/);
    assert.doesNotMatch(r.stderr + u.stderr, /\n\s+at /, 'no stack trace');
  });

  it('plan: a very large but valid prompt count plans, with one LARGE_PROMPT_COUNT warning line giving the count', () => {
    const big = spec('big', 'name: big\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 100000000}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n');
    const r = cli(['plan', big]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `warning[LARGE_PROMPT_COUNT]: ${big}:3:45: dataset.count: 100000000 prompts (100000000 work units): a very large sweep; lower the count if you did not mean it\n`);
    assert.match(r.stdout, /prompts 100000000 /);
    const j = JSON.parse(cli(['plan', big, '--json']).stdout) as { warnings: { code: string }[] };
    assert.deepEqual(j.warnings.map((w) => w.code), ['LARGE_PROMPT_COUNT']);
    const small = cli(['plan', spec('small', 'name: small\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 999999}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n')]);
    assert.equal([small.code, small.stderr].join('|'), '0|', 'no warning below 10^6 prompts');
  });

  it("plan: a non-zero exit and every problem the agent would find, against the model's T and vocabulary", () => {
    const p = spec('model', againstModel);
    const r = cli(['plan', p]);
    assert.notEqual(r.code, 0);
    const of = 'for model arith-cot (models[0]: steps 40, gen_length 40)';
    for (const line of [
      `${p}:4:32: grid.steps[0]: step 40 is outside [0, 40) ${of}`,
      `${p}:4:36: grid.steps[1]: step 41 is outside [0, 40) ${of}`,
      `${p}:4:40: grid.steps[2]: step 50 is outside [0, 40) ${of}`,
      `${p}:4:76: grid.kinds[0].replace.token: token 99999 is not a non-special token of the vocabulary (vocab_size 18) nor one of the end tokens [2] ${of}`,
    ]) assert.ok(r.stderr.includes(line), `${line}\nin\n${r.stderr}`);
  });

  it('launch writes nothing to PostgreSQL for either spec', async () => {
    const env = { DATABASE_URL: db.url, NATS_URL: 'nats://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1' };
    for (const [name, text] of [['structural', structural], ['model', againstModel]] as const) {
      const r = cli(['launch', spec(name, text)], env);
      assert.notEqual(r.code, 0, name);
      assert.match(r.stderr, /BAD_SPEC/, name);
    }
    for (const table of ['Sweep', 'Model', 'Prompt', 'WorkUnit', 'Cell']) {
      const n = await db.sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${table}"`);
      assert.equal(n.rows[0]!.n, '0', `${table} is empty`);
    }
  });
});
