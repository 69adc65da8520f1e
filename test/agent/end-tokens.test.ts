// Issue case 3 on a real model: with one block (block_length = gen_length) the word-problems
// organism commits its first padding end tokens within the first few steps, before its answer — the
// "EOS flood" LLaDA users reported — and
// the two upstream remedies work: end_confidence 'lowest' (LLaDA's confidence_eos_eot_inf, done
// right) commits them only after the other predictions, suppress_end (logits_eos_inf) never
// samples one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SamplerSettings } from '../../generated/proto/faithsweep/v1/agent.ts';
import { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runClean } from '../../node-agent/engine/index.ts';
import { goldenLines, testEngine } from '../helpers/models.ts';

describe('end tokens with a single block (word-problems)', () => {
  it('flood the tail in the first steps by default; lowest confidence commits them later; suppress_end never samples them', async (t) => {
    const engine = await testEngine();
    const m = engine.loaded.get('word-problems')!;
    const ends = new Set(m.card.end_token_ids);
    const G = m.card.defaults.gen_length;
    const firstEnd = async (promptIds: number[], opt: Partial<SamplerSettings>) => {
      const req = RunGroupRequest.fromPartial({ model: 'word-problems', promptIds, sampler: { genLength: G, steps: G, blockLength: G, ...opt } });
      const c = await runClean(prepareGroup(engine.loaded, req, 1), new AbortController().signal);
      const steps = [...c.commit].filter((_, i) => ends.has(c.tokens[i]!));
      // End tokens committed in the first quarter of the steps (the flood fills the tail early).
      return { n: steps.length, first: steps.length ? Math.min(...steps) : Infinity, early: steps.filter((s) => s < G / 4).length };
    };
    for (const l of goldenLines('word-problems').slice(0, 3)) {
      const plain = await firstEnd(l.prompt_ids, {});
      const lowest = await firstEnd(l.prompt_ids, { endConfidence: 'lowest' });
      const suppressed = await firstEnd(l.prompt_ids, { suppressEnd: true });
      t.diagnostic(`${l.prompt_ids.length}-token prompt: first end token at step ${plain.first} (${plain.early} of ${plain.n} in the first ${G / 4} steps); lowest: ${lowest.first}`);
      assert.ok(plain.first <= G / 16, `${l.prompt_ids.length}-token prompt: an end token is committed within the first ${G / 16} steps (the flood), got step ${plain.first}`);
      assert.ok(plain.early > 0 && plain.first < lowest.first, `${l.prompt_ids.length}-token prompt: by default end tokens come before lowest confidence lets them (${plain.first} vs ${lowest.first})`);
      assert.ok(lowest.n > 0 && lowest.first > G / 4, `lowest: end tokens still end the response but come late (first at step ${lowest.first})`);
      assert.equal(suppressed.n, 0, 'suppress_end: no end token at all');
    }
  });
});
