// The TypeScript autoregressive engine reproduces the Python reference's golden generations
// (models/reference/ar_golden.py) token for token: greedy and seeded temperature sampling, and the
// four sequence-dimension interventions of Lanham et al. 2023 (real ONNX inference).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import type { CleanTrajectory, InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { normalizeAnswer } from '../../common/model/card.ts';
import { AR_ORGANISMS, goldenLines, testEngine } from '../helpers/models.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';

interface ArGoldenLine {
  readonly kind: 'clean' | 'truncate' | 'mistake' | 'paraphrase' | 'filler';
  readonly params: { f?: number; kept?: number; k?: number; token?: number };
  readonly prompt: string;
  readonly prompt_ids: number[];
  readonly gold: string;
  readonly gen_length: number;
  readonly temperature: number;
  readonly seed: number;
  readonly tokens: number[];
  readonly text: string;
  readonly answer: string | null;
  readonly correct: boolean;
}

/** Runs one group and collects its trajectory and results. */
async function run(model: string, line: ArGoldenLine, interventions: RunGroupRequest['interventions'] = []) {
  const engine = await testEngine();
  const req = RunGroupRequest.fromPartial({
    model, promptIds: line.prompt_ids, seed: line.seed, goldAnswer: line.gold, returnTokens: true, interventions,
    sampler: { genLength: line.gen_length, temperature: line.temperature },
  });
  let trajectory: CleanTrajectory | undefined;
  const results = new Map<string, InterventionResult>();
  await engine.runGroup(req, {
    signal: new AbortController().signal,
    emit: (e) => {
      if (e.event?.$case === 'trajectory') trajectory = e.event.value;
      else if (e.event?.$case === 'result') results.set(e.event.value.key, e.event.value);
    },
  });
  return { trajectory: trajectory!, results };
}

/** The golden response (up to and including its end token) is the engine's, which fills the rest with end tokens. */
function sameResponse(got: readonly number[], want: readonly number[], endId: number, where: string): void {
  assert.deepEqual(got.slice(0, want.length), want, `${where}: tokens`);
  assert.ok(got.slice(want.length).every((t) => t === endId), `${where}: positions after the end are end tokens`);
}

for (const model of AR_ORGANISMS) {
  describe(`autoregressive golden parity of ${model}`, () => {
    before(() => requirePrerequisites(`autoregressive golden parity of ${model}`, [model]));

    it('reproduces every golden.jsonl generation: greedy, and temperature sampling with the seeded Gumbel draws', async () => {
      const engine = await testEngine();
      const card = engine.loaded.get(model)!.card;
      const lines = goldenLines(model) as unknown as ArGoldenLine[];
      assert.ok(lines.some((l) => l.temperature === 0) && lines.some((l) => l.temperature > 0), 'golden.jsonl has greedy and sampled lines');
      for (const [n, line] of lines.entries()) {
        const { trajectory } = await run(model, line);
        const where = `${model} golden line ${n} (${line.prompt}, T=${line.temperature}, seed ${line.seed})`;
        sameResponse(trajectory.tokens, line.tokens, card.end_token_id, where);
        assert.equal(trajectory.text, line.text, `${where}: text`);
        assert.equal(trajectory.answer ?? null, line.answer === null ? null : normalizeAnswer(card, line.answer), `${where}: answer`);
        assert.equal(trajectory.correct, line.correct, `${where}: correctness`);
      }
    });

    it('reproduces golden-interventions.jsonl: early answering, adding mistakes (the seeded digit draw), paraphrase, filler', async () => {
      const engine = await testEngine();
      const card = engine.loaded.get(model)!.card;
      const lines = goldenLines(model, 'golden-interventions.jsonl') as unknown as ArGoldenLine[];
      const kinds = new Set(lines.map((l) => l.kind));
      for (const k of ['truncate', 'mistake', 'paraphrase', 'filler']) assert.ok(kinds.has(k as ArGoldenLine['kind']), `golden-interventions.jsonl has ${k} lines`);
      for (const [n, line] of lines.entries()) {
        if (line.kind === 'clean') continue;
        const base = { key: 'x', step: 0, position: 0, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED, token: 0 };
        const iv = line.kind === 'truncate' ? { ...base, kind: InterventionKind.TRUNCATE, fraction: line.params.f! }
          : line.kind === 'mistake' ? { ...base, kind: InterventionKind.REPLACE, position: line.params.k!, variant: ReplaceVariant.RANDOM_TOKEN }
            : { ...base, kind: line.kind === 'paraphrase' ? InterventionKind.PARAPHRASE : InterventionKind.FILLER };
        const { results } = await run(model, line, [iv]);
        const r = results.get('x')!;
        const where = `${model} intervention line ${n} (${line.kind} ${JSON.stringify(line.params)}, ${line.prompt})`;
        if (line.kind === 'mistake') assert.equal(r.token, line.params.token, `${where}: the replacement digit`);
        sameResponse(r.tokens, line.tokens, card.end_token_id, where);
        assert.equal(r.answer ?? null, line.answer === null ? null : normalizeAnswer(card, line.answer), `${where}: answer`);
        assert.equal(r.correct, line.correct, `${where}: correctness`);
      }
    });
  });
}

describe('autoregressive interventions that cannot change anything', () => {
  before(() => requirePrerequisites('autoregressive no-ops', ['arith-cot-ar']));

  it('reports a replacement by the clean token, and a position after the response ended, as no-ops that keep the clean answer; filler writes the filler token over the whole chain of thought', async () => {
    const line = (goldenLines('arith-cot-ar') as unknown as ArGoldenLine[]).find((l) => l.temperature === 0 && l.answer !== null)!;
    const engine = await testEngine();
    const card = engine.loaded.get('arith-cot-ar')!.card;
    const base = { step: 0, variant: ReplaceVariant.GIVEN_TOKEN, token: 0 };
    const { trajectory, results } = await run('arith-cot-ar', line, [
      { ...base, key: 'same', kind: InterventionKind.REPLACE, position: 3, token: line.tokens[3]! },
      { ...base, key: 'after', kind: InterventionKind.REPLACE, position: line.gen_length - 1, token: line.tokens[0] === 3 ? 4 : 3 },
      { ...base, key: 'filler', kind: InterventionKind.FILLER, position: 0, variant: ReplaceVariant.REPLACE_VARIANT_UNSPECIFIED },
    ]);
    for (const key of ['same', 'after']) {
      const r = results.get(key)!;
      assert.equal(r.noop, true, key);
      assert.equal(r.flipped, false, key);
      assert.equal(r.answer, trajectory.answer, key);
      assert.equal(r.computeSteps, 0, key);
    }
    const filler = results.get('filler')!;
    assert.equal(filler.noop, false);
    const cot = trajectory.cotSpan!;
    const fillerId = engine.loaded.get('arith-cot-ar')!.tokenizer.encode(String(card.filler_token))[0];
    assert.ok(filler.tokens.slice(cot.start, cot.end).every((t) => t === fillerId), 'the chain of thought is filler tokens');
    assert.equal(filler.tokens[cot.end], engine.loaded.get('arith-cot-ar')!.tokenizer.encode('|')[0], 'then the delimiter');
  });
});
