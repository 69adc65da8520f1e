// A group resumed from a stored clean run (RunGroupRequest.clean) gives every cell exactly the
// result of the fresh run, with only the forward passes its probes and second-choice
// replacements need: a work unit split across several bounded calls computes its clean run once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupDone, InterventionResult, RunGroupEvent } from '../../generated/proto/faithsweep/v1/agent.ts';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { AgentError } from '../../common/agent-errors.ts';
import { prepareGroup, runForked } from '../../node-agent/engine/index.ts';
import type { OnnxModel } from '../../node-agent/model/onnx-model.ts';
import { goldenLines, testEngine } from '../helpers/models.ts';

const never = new AbortController().signal;

async function run(loaded: ReadonlyMap<string, OnnxModel>, req: RunGroupRequest): Promise<{ done: GroupDone; results: Map<string, InterventionResult>; trajectory: RunGroupEvent['event'] }> {
  const results = new Map<string, InterventionResult>();
  let trajectory: RunGroupEvent['event'];
  const done = await runForked(prepareGroup(loaded, req, 16), {
    signal: never,
    emit: (e) => {
      if (e.event?.$case === 'result') results.set(e.event.value.key, e.event.value);
      if (e.event?.$case === 'trajectory') trajectory = e.event;
    },
  });
  return { done, results, trajectory };
}

for (const name of ['arith-cot', 'arith-cot-decoupled']) {
  describe(`resuming from a stored clean run on ${name}`, () => {
    it('gives every cell the fresh run\'s result with fewer forward passes', async () => {
      const engine = await testEngine();
      const m = engine.loaded.get(name)!;
      const { steps, gen_length: genLength } = m.card.defaults;
      const line = goldenLines(name).find((l) => l.block_length === m.card.defaults.block_length)!;
      const interventions: RunGroupRequest['interventions'] = [];
      for (const t of [0, 5, Math.floor(steps / 2), steps - 3]) {
        interventions.push({ key: `p${t}`, kind: InterventionKind.PROBE, step: t, position: 0, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 });
        for (const p of [2, Math.floor(genLength / 2), genLength - 6]) {
          interventions.push({ key: `r${t}.${p}`, kind: InterventionKind.REPLACE, step: t, position: p, variant: ReplaceVariant.RANDOM_TOKEN, token: 0 });
          interventions.push({ key: `s${t}.${p}`, kind: InterventionKind.REPLACE, step: t, position: p, variant: ReplaceVariant.SECOND_CHOICE, token: 0 });
          interventions.push({ key: `m${t}.${p}`, kind: InterventionKind.REMASK, step: t, position: p, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 });
        }
      }
      const base = RunGroupRequest.fromPartial({ model: name, promptIds: line.prompt_ids, goldAnswer: line.gold, seed: 3, interventions });
      const fresh = await run(engine.loaded, base);
      assert.equal(fresh.trajectory?.$case, 'trajectory');
      const clean = fresh.trajectory.$case === 'trajectory' ? fresh.trajectory.value : undefined;
      assert.ok(clean);
      const resumed = await run(engine.loaded, { ...base, clean: { tokens: clean.tokens, commitStep: clean.commitStep } });
      assert.equal(resumed.results.size, interventions.length);
      for (const [key, r] of fresh.results) assert.deepEqual(resumed.results.get(key), r, `cell ${key}`);
      const rc = resumed.trajectory?.$case === 'trajectory' ? resumed.trajectory.value : undefined;
      assert.deepEqual(rc?.tokens, clean.tokens);
      assert.deepEqual(rc?.commitStep, clean.commitStep);
      assert.equal(rc?.answer, clean.answer);
      assert.deepEqual(rc?.answerSpan, clean.answerSpan);
      // The fresh clean run makes one pass per step that commits; the resumed one only the
      // passes at the 4 steps probes and second choices read (fewer when a probe's step is past the last commit).
      assert.ok(clean.computeSteps > 4, `fresh clean run took ${clean.computeSteps} passes`);
      assert.ok((rc?.computeSteps ?? 99) <= 4, `resumed clean run took ${rc?.computeSteps} passes`);
      assert.equal(resumed.done.forwardPasses, fresh.done.forwardPasses - clean.computeSteps + (rc?.computeSteps ?? 0));
    });

    it('refuses a stored clean run of the wrong length or with a commit step out of range (BAD_REQUEST)', async () => {
      const engine = await testEngine();
      const m = engine.loaded.get(name)!;
      const { steps, gen_length: genLength } = m.card.defaults;
      const line = goldenLines(name)[0]!;
      const req = (tokens: number[], commitStep: number[]) => RunGroupRequest.fromPartial({ model: name, promptIds: line.prompt_ids, clean: { tokens, commitStep } });
      const zeros = new Array<number>(genLength).fill(0);
      assert.throws(() => prepareGroup(engine.loaded, req(zeros.slice(1), zeros), 16), (e: unknown) => e instanceof AgentError && e.code === 'BAD_REQUEST' && /gen_length/.test(e.message));
      assert.throws(() => prepareGroup(engine.loaded, req(zeros, zeros.map((_, i) => (i === 3 ? steps : 0))), 16), (e: unknown) => e instanceof AgentError && e.code === 'BAD_REQUEST' && /position 3/.test(e.message));
      assert.throws(() => prepareGroup(engine.loaded, req(zeros.map(() => m.card.mask_token_id), zeros), 16), (e: unknown) => e instanceof AgentError && e.code === 'BAD_REQUEST' && /mask/.test(e.message));
    });
  });
}
