// The plan and the agent resolve a sampler the same way: the settings `faithsweep plan` stores
// for a model, sent as the sweep sends them (samplerToProto), come back from the agent's
// resolveSampler as exactly the SamplerConfig the plan resolved, and the plan's stored settings
// are that config's. Real model cards (arith-cot), every sampler mode, defaults and overrides.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolvePaths } from '../../common/config/paths.ts';
import { extrasFromOptions, plannedSampler, resolveSampler, resolveSamplerSettings, samplerToProto } from '../../common/sampler/settings.ts';
import { resolveModel, resolveSampler as planSampler } from './plan.ts';
import { parseSpec } from './spec.ts';

const MODELS_DIR = resolvePaths(process.env).modelsDir;

/** The models[0] entry of a spec whose sampler line is `sampler`. */
function modelRef(sampler: string) {
  const yaml = `name: agree\nmodels:\n  - {name: arith-cot${sampler ? `, sampler: {${sampler}}` : ''}}\ndataset: {generator: arith, seed: 1, count: 1}\ngrid: {positions: [0], steps: [1], kinds: [probe]}\n`;
  return parseSpec(yaml, join(MODELS_DIR, 'agree.yaml')).models[0]!;
}

const CASES = [
  '',
  'gen_length: 20, steps: 10',
  'gen_length: 32, block_length: 8, steps: 16',
  'remasking: random, temperature: 0.5',
  'remasking: topk_margin, end_confidence: lowest, suppress_end: true, tie_break: model',
  'cfg_scale: 1.5',
  'mode: dream, remasking: maskgit_plus, temperature: 0.1, top_p: 0.9',
  'mode: dream, remasking: entropy',
  'mode: fast-dllm, confidence_threshold: 0.9',
  'threshold_factor: 1, steps: 10, gen_length: 20, block_length: 10',
  'paraphrase: {every: 4, remask: 0.25}',
];

describe('plan and agent resolve sampler settings identically', () => {
  const m = resolveModel(modelRef(''), { modelsDir: MODELS_DIR, specDir: MODELS_DIR });

  for (const sampler of CASES) {
    it(`{${sampler}}`, () => {
      const ref = modelRef(sampler);
      const planned = planSampler(m, ref);
      assert.deepEqual(planned.problems, [], 'a valid sampler');
      const o = ref.sampler;
      const common = resolveSamplerSettings(m.card, { genLength: o.genLength, steps: o.steps, blockLength: o.blockLength, remasking: o.remasking, temperature: o.temperature, extras: extrasFromOptions(o.options) });
      assert.deepEqual(common.problems, []);
      // What the agent runs for the request the sweep sends...
      const agent = resolveSampler(m.card, samplerToProto(planned.sampler));
      // ...is what the plan resolved, field for field (fast-dllm's step grid included).
      assert.deepEqual(agent, common.config);
      assert.deepEqual(planned.sampler, plannedSampler(agent));
    });
  }

  it('fast-dllm plans its step grid (gen_length steps), as the agent runs it', () => {
    const planned = planSampler(m, modelRef('mode: fast-dllm, threshold_factor: 1, gen_length: 20, steps: 5'));
    assert.equal(planned.sampler.steps, 20);
  });

  it('refuses in plan what the agent refuses, with the same words', () => {
    const ref = modelRef('mode: dream, gen_length: 30, block_length: 7');
    const planned = planSampler(m, ref);
    const why = (s: string) => s.replace(/^.*models\[0\]\.sampler: /, '');
    assert.throws(() => resolveSampler(m.card, samplerToProto(planned.sampler)), (err: Error) => {
      assert.equal(err.message, planned.problems.map(why).join('; '));
      return true;
    });
    assert.equal(planned.problems.length, 2, planned.problems.join('\n'));
  });
});
