// Planning a sweep that lists diffusion and autoregressive models: each model's grid by its
// kind, and every misuse refused at its file:line:col before anything is written. The
// autoregressive model here is a card with `kind: autoregressive` over arith-cot's ONNX file
// (planning reads cards, tokenizers and hashes; it runs no inference).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';
import type { FaithsweepError } from '../../common/errors.ts';
import { planSweep } from './plan.ts';
import { parseSpec } from './spec.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;
let home: string;

before(() => {
  home = mkdtempSync(join(tmpdir(), 'fs-plan-ar-'));
  const dir = join(home, 'ar');
  mkdirSync(dir);
  const card = JSON.parse(readFileSync(join(MODELS_DIR, 'arith-cot', 'model.json'), 'utf8')) as Record<string, unknown>;
  for (const f of ['model.onnx', 'tokenizer.json']) copyFileSync(join(MODELS_DIR, 'arith-cot', f), join(dir, f));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...card, name: 'toy-ar', kind: 'autoregressive', logits_shifted: true, answer_delimiter: '|', filler_token: ';', defaults: { gen_length: 40, temperature: 0 } }));
});
after(() => rmSync(home, { recursive: true, force: true }));

async function plan(yaml: string) {
  const path = join(home, 'sweep.yaml');
  writeFileSync(path, yaml);
  return planSweep(parseSpec(yaml, path), { specPath: path, modelsDir: MODELS_DIR });
}

const GRID = 'grid: {positions: [cot], steps: [0.5], kinds: [probe, replace]}';
const AR_GRID = 'ar_grid: {positions: [0, 1], fractions: [0, 0.5, 1], kinds: [truncate, replace, paraphrase, filler]}';

describe('planning diffusion and autoregressive models together', () => {
  it('resolves each model by its own grid: steps x positions x kinds for diffusion, fractions and positions x kinds for autoregressive', async () => {
    const p = await plan(`name: mixed\nmodels: [arith-cot, {path: ./ar}]\ndataset: {generator: arith, count: 3}\n${GRID}\n${AR_GRID}\n`);
    const ar = p.cellsPerModel.find((c) => c.model === 'toy-ar')!;
    assert.equal(ar.cellsPerUnit, 3 + 2 + 1 + 1, 'three truncations, two mistakes, one paraphrase, one filler');
    assert.equal(p.models[1]!.sampler.steps, 40, 'an autoregressive model is stored as steps = gen_length');
    assert.equal(p.models[1]!.sampler.blockLength, 1);
  });

  it('refuses a model without the grid of its kind, and diffusion-only sampler fields on an autoregressive model, each at its line', async () => {
    await assert.rejects(plan(`name: mixed\nmodels:\n  - arith-cot\n  - {path: ./ar, sampler: {steps: 20}}\ndataset: {generator: arith, count: 3}\n${GRID}\n`), (err: FaithsweepError) => {
      assert.equal(err.code, 'BAD_SPEC');
      assert.match(err.message, /sweep\.yaml:4:\d+: models\[1\]\.sampler: steps applies to diffusion models only/);
      return true;
    });
    await assert.rejects(plan(`name: mixed\nmodels:\n  - arith-cot\n  - {path: ./ar}\ndataset: {generator: arith, count: 3}\n${GRID}\n`), /sweep\.yaml:4:\d+: models\[1\]: toy-ar is an autoregressive model: give ar_grid/);
    await assert.rejects(plan(`name: mixed\nmodels:\n  - arith-cot\n  - {path: ./ar}\ndataset: {generator: arith, count: 3}\n${AR_GRID}\n`), /sweep\.yaml:3:\d+: models\[0\]: arith-cot is a diffusion model: give grid/);
  });
});
