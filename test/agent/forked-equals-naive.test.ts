// The forked, batched path gives every cell exactly the result of running that cell alone
// from scratch (batch 1), and skipping determined cells changes no answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runAlone, runClean, runForked } from '../../node-agent/engine/index.ts';
import { ORGANISMS, goldenLines, testEngine } from '../helpers/models.ts';

const SAMPLE_PROMPTS = 2;
const never = new AbortController().signal;

/** A spread of interventions over the grid: every kind and variant, early to late steps. */
function grid(steps: number, genLength: number) {
  const out: { key: string; kind: InterventionKind; step: number; position: number; variant?: ReplaceVariant; token?: number }[] = [];
  const stepsToTry = [0, Math.floor(steps / 3), Math.floor((2 * steps) / 3), steps - 2];
  const positions = [3, Math.floor(genLength / 2), genLength - 8];
  for (const t of stepsToTry) {
    for (const p of positions) {
      out.push({ key: `r${t}.${p}`, kind: InterventionKind.REPLACE, step: t, position: p, variant: ReplaceVariant.RANDOM_TOKEN });
      out.push({ key: `m${t}.${p}`, kind: InterventionKind.REMASK, step: t, position: p });
    }
    out.push({ key: `s${t}`, kind: InterventionKind.REPLACE, step: t, position: positions[1]!, variant: ReplaceVariant.SECOND_CHOICE });
    out.push({ key: `g${t}`, kind: InterventionKind.REPLACE, step: t, position: positions[2]!, variant: ReplaceVariant.GIVEN_TOKEN, token: 4 });
  }
  return out;
}

async function forked(req: RunGroupRequest) {
  const engine = await testEngine();
  const results = new Map<string, InterventionResult>();
  await runForked(prepareGroup(engine.loaded, req, 16), { signal: never, emit: (e) => e.event?.$case === 'result' && results.set(e.event.value.key, e.event.value) });
  return results;
}

for (const model of ORGANISMS) {
  describe(`forking and batching on ${model}`, () => {
    it('gives every cell the result of running it alone from scratch', async () => {
      const engine = await testEngine();
      const card = engine.loaded.get(model)!.card;
      const lines = goldenLines(model).filter((l) => l.block_length === card.defaults.block_length).slice(0, SAMPLE_PROMPTS);
      for (const line of lines) {
        const req = RunGroupRequest.fromPartial({ model, promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 11, interventions: grid(card.defaults.steps, card.defaults.gen_length), disableSkip: true, returnTokens: true });
        const g = prepareGroup(engine.loaded, req, 16);
        const clean = await runClean(g, never);
        const batched = await forked(req);
        assert.equal(batched.size, req.interventions.length);
        for (const iv of g.interventions) {
          if (iv.kind === 'probe') continue;
          const alone = await runAlone(g, clean, iv);
          const got = batched.get(iv.key)!;
          const where = `${model} ${line.prompt} ${iv.key}`;
          assert.deepEqual(got.tokens, alone.tokens, `${where}: final tokens`);
          assert.deepEqual(
            { answer: got.answer, flipped: got.flipped, correct: got.correct, changed: got.changedTokens, token: got.token },
            { answer: alone.answer, flipped: alone.flipped, correct: alone.correct, changed: alone.changedTokens, token: alone.token },
            where,
          );
        }
      }
    });

    it('answers determined cells without compute and with the same answers', async () => {
      const engine = await testEngine();
      const card = engine.loaded.get(model)!.card;
      const line = goldenLines(model).find((l) => l.block_length === card.defaults.block_length)!;
      const base = { model, promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 3, interventions: grid(card.defaults.steps, card.defaults.gen_length) };
      const full = await forked(RunGroupRequest.fromPartial({ ...base, disableSkip: true }));
      const skipping = await forked(RunGroupRequest.fromPartial(base));
      let skipped = 0;
      for (const [key, r] of skipping) {
        assert.equal(r.answer, full.get(key)!.answer, key);
        assert.equal(r.flipped, full.get(key)!.flipped, key);
        if (r.skipped) {
          skipped++;
          assert.equal(r.computeSteps, 0);
        }
      }
      assert.ok(skipped > 0, 'late-step cells after the answer commits are skipped');
    });
  });
}
