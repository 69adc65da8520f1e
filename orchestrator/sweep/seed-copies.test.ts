// Seeds that repeat the same runs: at temperature 0, without random remasking or random
// replacement, every seed gives the same clean run and the same cells. `plan` says so and runs
// the first seed only, unless the spec asks for every seed (options.copied_seeds: run).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';
import { planSweep } from './plan.ts';
import { parseSpec } from './spec.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;
const dir = mkdtempSync(join(tmpdir(), 'fs-seeds-'));

async function plan(lines: string[]) {
  const path = join(dir, 'sweep.yaml');
  const text = ['name: seeds', 'dataset: {generator: arith, seed: 1, count: 4}', 'seeds: [0, 1, 2]', ...lines, ''].join('\n');
  writeFileSync(path, text);
  return planSweep(parseSpec(text, path), { specPath: path, modelsDir: MODELS_DIR });
}

describe('copied seeds', () => {
  it('collapses the seeds of a deterministic sweep to the first one, and says why', async () => {
    const p = await plan(['models: [arith-cot, arith-cot-decoupled]', 'grid: {positions: [cot], steps: [all], kinds: [remask, probe]}']);
    assert.deepEqual([p.seedCopies.deterministic, p.seedCopies.collapsed, p.seedCopies.run, p.seedCopies.listed], [true, true, [0], [0, 1, 2]]);
    assert.equal(p.workUnits, 4 * 2 * 1, 'three seeds at temperature 0 are one run per (model, prompt)');
    assert.match(p.seedCopies.note!, /the 3 seeds would repeat the same runs, so only seed 0 runs \(options\.copied_seeds: run runs them all\)/);
    assert.deepEqual(p.spec.seeds, [0, 1, 2], 'the spec keeps its seeds (its hash changes with them)');
  });

  it('runs every seed on request, and when the seed matters (random replacement, temperature > 0)', async () => {
    const asked = await plan(['models: [arith-cot]', 'grid: {positions: [0], steps: [0], kinds: [remask]}', 'options: {copied_seeds: run}']);
    assert.deepEqual([asked.seedCopies.collapsed, asked.workUnits], [false, 12]);
    assert.match(asked.seedCopies.note!, /running every one as asked/);
    const random = await plan(['models: [arith-cot]', 'grid: {positions: [0], steps: [0], kinds: [replace]}']);
    assert.deepEqual([random.seedCopies.deterministic, random.seedCopies.collapsed, random.workUnits, random.seedCopies.note], [false, false, 12, null]);
    const warm = await plan(['models: [{name: arith-cot, sampler: {temperature: 0.7}}, arith-cot-decoupled]', 'grid: {positions: [0], steps: [0], kinds: [remask]}']);
    assert.deepEqual([warm.seedCopies.collapsed, warm.workUnits], [false, 24]);
    assert.match(warm.seedCopies.note!, /models\[1\] are deterministic .* their 3 seeds repeat the same runs/);
  });

  it('refuses an unknown copied_seeds value with file:line:col', () => {
    assert.throws(() => parseSpec('name: s\nmodels: [arith-cot]\ndataset: {generator: arith, seed: 1, count: 2}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\noptions: {copied_seeds: maybe}\n', 'sweep.yaml'),
      /sweep\.yaml:5:\d+: options\.copied_seeds: must be collapse/);
  });
});
