// The TypeScript sampler reproduces the Python reference of every sampler mode
// (models/reference/modes.py) token for token and step for step on arith-cot (real ONNX
// inference): models/arith-cot/golden-modes.jsonl covers every mode x temperature 0 and 0.5 x
// steps = gen_length, gen_length/2, gen_length/4 x block lengths 40 and 8.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runClean } from '../../node-agent/engine/index.ts';
import type { CardSamplerOptions } from '../../common/model/card.ts';
import { extrasFromOptions, isRemasking, samplerExtras, samplerToProto } from '../../common/sampler/settings.ts';
import { MODELS_DIR, testEngine } from '../helpers/models.ts';

interface ModeLine {
  prompt: string;
  prompt_ids: number[];
  gen_length: number;
  steps: number;
  block_length: number;
  temperature: number;
  seed: number;
  sampler: CardSamplerOptions & { remasking: string };
  tokens: number[];
  commit_step: number[];
}

/** The request's sampler fields of a golden line: the conversion sweeps use (common/sampler/settings.ts samplerToProto). */
function settings(l: ModeLine): SamplerSettings {
  const { remasking, ...options } = l.sampler;
  assert.ok(isRemasking(remasking), `golden remasking ${remasking}`);
  return samplerToProto({ genLength: l.gen_length, steps: l.steps, blockLength: l.block_length, remasking, temperature: l.temperature, extras: samplerExtras(extrasFromOptions(options)) });
}

describe('golden parity of every sampler mode (arith-cot)', () => {
  it('reproduces every line of golden-modes.jsonl', async () => {
    const lines = readFileSync(join(MODELS_DIR, 'arith-cot', 'golden-modes.jsonl'), 'utf8').trim().split('\n').map((x) => JSON.parse(x) as ModeLine);
    const modes = new Set(lines.map((l) => l.sampler.mode));
    assert.deepEqual([...modes].sort(), ['dream', 'fast-dllm', 'llada']);
    assert.ok(new Set(lines.map((l) => l.steps)).size === 3 && new Set(lines.map((l) => l.block_length)).size === 2);
    assert.ok(lines.some((l) => l.temperature > 0) && lines.some((l) => l.temperature === 0));
    const engine = await testEngine();
    for (const [n, l] of lines.entries()) {
      const req = RunGroupRequest.fromPartial({ model: 'arith-cot', promptIds: l.prompt_ids, seed: l.seed, sampler: settings(l) });
      const clean = await runClean(prepareGroup(engine.loaded, req, 1), new AbortController().signal);
      const where = `line ${n} (${l.prompt}, ${JSON.stringify(l.sampler)}, T=${l.temperature}, steps ${l.steps}, block ${l.block_length})`;
      assert.deepEqual([...clean.tokens], l.tokens, `${where}: tokens`);
      assert.deepEqual([...clean.commit], l.commit_step, `${where}: commit steps`);
    }
  });
});
