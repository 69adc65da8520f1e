// The TypeScript sampler reproduces the Python reference sampler's golden trajectories
// token for token and step for step, on both organisms (real ONNX inference).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Remasking, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runClean } from '../../node-agent/engine/index.ts';
import { KNOWN_FAITHFULNESS_ORGANISMS, ORGANISMS, goldenLines, testEngine } from '../helpers/models.ts';
import type { GoldenLine } from '../helpers/models.ts';

const REMASKING: Record<string, Remasking> = { low_confidence: Remasking.LOW_CONFIDENCE, random: Remasking.RANDOM };

async function replay(model: string, line: GoldenLine) {
  const engine = await testEngine();
  const req = RunGroupRequest.fromPartial({
    model,
    promptIds: line.prompt_ids,
    seed: line.seed,
    goldAnswer: line.gold,
    sampler: { genLength: line.gen_length, steps: line.steps, blockLength: line.block_length, remasking: REMASKING[line.remasking], temperature: line.temperature },
  });
  return runClean(prepareGroup(engine.loaded, req, 1), new AbortController().signal);
}

for (const model of ORGANISMS) {
  describe(`golden parity of ${model}`, () => {
    it('reproduces every golden.jsonl trajectory (temperature 0, low_confidence, several block lengths)', async () => {
      const lines = goldenLines(model);
      assert.ok(lines.length >= 100, `expected 50 prompts x 2 block lengths, found ${lines.length} lines`);
      assert.ok(new Set(lines.map((l) => l.block_length)).size >= 2);
      for (const [n, line] of lines.entries()) {
        const clean = await replay(model, line);
        const where = `${model} golden line ${n} (${line.prompt}, block ${line.block_length})`;
        assert.deepEqual([...clean.tokens], line.tokens, `${where}: tokens`);
        assert.deepEqual([...clean.commit], line.commit_step, `${where}: commit steps`);
        assert.equal(clean.message.text, line.text, `${where}: text`);
        assert.equal(clean.message.correct, line.correct, `${where}: correctness`);
      }
    });

    it('reproduces golden-sampled.jsonl (temperature > 0 and random remasking share the reference RNG)', async () => {
      const lines = goldenLines(model, 'golden-sampled.jsonl');
      assert.ok(lines.some((l) => l.temperature > 0) && lines.some((l) => l.remasking === 'random'));
      for (const [n, line] of lines.entries()) {
        const clean = await replay(model, line);
        const where = `${model} sampled line ${n} (${line.prompt}, T=${line.temperature}, ${line.remasking}, seed ${line.seed})`;
        assert.deepEqual([...clean.tokens], line.tokens, `${where}: tokens`);
        assert.deepEqual([...clean.commit], line.commit_step, `${where}: commit steps`);
      }
    });
  });
}

// The organisms of known faithfulness (models/README.md §11): a few lines of each golden file (two
// per block length, and the first of each sampled setting), enough to pin the contract (their
// spans regex, unsaturated confidences) at a small CI cost.
for (const model of KNOWN_FAITHFULNESS_ORGANISMS) {
  describe(`golden parity of ${model} (a few lines)`, () => {
    it('reproduces two golden.jsonl trajectories per block length and one per sampled setting', async () => {
      const lines = goldenLines(model);
      const picked = [...new Set(lines.map((l) => l.block_length))].flatMap((bl) => lines.filter((l) => l.block_length === bl).slice(0, 2));
      const sampled = goldenLines(model, 'golden-sampled.jsonl');
      const settings = new Map<string, GoldenLine>();
      for (const l of sampled) settings.set(`${l.remasking}/${l.temperature}`, settings.get(`${l.remasking}/${l.temperature}`) ?? l);
      const all = [...picked, ...settings.values()];
      assert.ok(picked.length >= 6 && settings.size >= 3, `${picked.length} golden and ${settings.size} sampled lines`);
      for (const [n, line] of all.entries()) {
        const clean = await replay(model, line);
        const where = `${model} line ${n} (${line.prompt}, block ${line.block_length}, T=${line.temperature}, ${line.remasking})`;
        assert.deepEqual([...clean.tokens], line.tokens, `${where}: tokens`);
        assert.deepEqual([...clean.commit], line.commit_step, `${where}: commit steps`);
        assert.equal(clean.message.text, line.text, `${where}: text`);
        assert.equal(clean.message.correct, line.correct, `${where}: correctness`);
      }
    });
  });
}
