import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Scores } from '../model/onnx-model.ts';
import { resolveSampler } from './settings.ts';
import type { ModelCard } from '../model/card.ts';
import type { StepContext } from './step.ts';
import { applyStep, quota } from './step.ts';

const card = {
  defaults: { gen_length: 8, steps: 8, block_length: 8, remasking: 'low_confidence', temperature: 0 },
} as unknown as ModelCard;

function context(genLength: number, steps: number, blockLength: number): StepContext {
  const cfg = resolveSampler(card, { genLength, steps, blockLength });
  return { cfg, seed: 0, promptLen: 2, seqLen: 2 + genLength, maskId: 1, shifted: false };
}

describe('the per-step quota', () => {
  it("recomputed as ceil(masked / steps left) equals LLaDA's precomputed schedule on clean runs", () => {
    for (let n = 1; n <= 40; n++) {
      for (let S = 1; S <= n; S++) {
        const ctx = context(n, S, n);
        let masked = n;
        for (let k = 0; k < S; k++) {
          const llada = Math.floor(n / S) + (k < n % S ? 1 : 0);
          const q = quota(ctx, k, masked);
          assert.equal(q, llada, `n=${n} S=${S} k=${k}`);
          masked -= q;
        }
        assert.equal(masked, 0);
      }
    }
  });
});

describe('one sampler step', () => {
  it('commits the most confident masked positions of the current block, ties to the lower position', () => {
    const ctx = context(4, 4, 2); // two blocks of 2 positions, 2 steps each
    const V = 3;
    const x = Int32Array.from([0, 0, 1, 1, 1, 1]);
    const commit = new Int32Array(4).fill(-1);
    // Positions 2 and 3 (block 0) are equally confident; 4 is more confident but in block 1.
    const logits = new Float32Array(6 * V);
    logits.set([0, 0, 5], 2 * V);
    logits.set([0, 0, 5], 3 * V);
    logits.set([9, 0, 0], 4 * V);
    const scores: Scores = { values: logits, ids: null, width: V, normalized: false };
    assert.equal(applyStep({ x, commit }, ctx, 0, scores, 0), 1);
    assert.deepEqual([...commit], [0, -1, -1, -1]);
    assert.deepEqual([...x], [0, 0, 2, 1, 1, 1]);
  });
});
